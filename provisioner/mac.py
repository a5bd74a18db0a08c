"""MAC addresses: one canonical form, 12 lower-case hex digits (pure).

Which vendor an OUI hints at is the vendors' to say: provisioner.vendors.vendor_from_oui.
"""

from __future__ import annotations

import re

_NOTATIONS = (
    re.compile(r"[0-9a-f]{12}"),  # 001565aabbcc
    re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"),  # 00:15:65:aa:bb:cc
    re.compile(r"[0-9a-f]{2}(?:-[0-9a-f]{2}){5}"),  # 00-15-65-aa-bb-cc
    re.compile(r"[0-9a-f]{4}(?:\.[0-9a-f]{4}){2}"),  # 0015.65aa.bbcc (Cisco)
)



def normalize_mac(text: str | None) -> str | None:
    """"00:15:65:AA:BB:CC", "00-15-65-aa-bb-cc", "001565aabbcc", "0015.65aa.bbcc" -> "001565aabbcc".

    One notation per address (separators are not mixed); anything else gives None.
    """
    if not text:
        return None
    candidate = text.strip().lower()
    if len(candidate) == 12 and _NOTATIONS[0].fullmatch(candidate):
        return candidate  # the common case: already canonical (file names carry it so)
    if not any(notation.fullmatch(candidate) for notation in _NOTATIONS):
        return None
    return re.sub(r"[:.\-]", "", candidate)


def colon_mac(mac: str) -> str:
    """"001565aabbcc" -> "00:15:65:aa:bb:cc"."""
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))
