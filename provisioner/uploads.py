"""Files phones write back (pure: no I/O): which names, how much, how often, and what an
override file may say.

Polycom phones PUT their boot and application logs and the user's override file
(`<mac>-phone.cfg`: speed dials, ring tones, settings changed on the phone) to the directory
they provision from, and read the override file back at every boot. The vendor packages say
which names their phones write (Vendor.uploads); the pipeline (provisioner.service) decides
whose file it is; the HTTP adapter (provisioner.server) reads the body within the size cap and
stores it (provisioner.upload_store).

What is refused, and why:

    a name no vendor uploads, a folder, the all-zero MAC     404, like any name we do not know
    a MAC the tenant (or the device URL) does not own        404, counted as a miss (bans)
    a body over PROVISIONER_UPLOAD_MAX_BYTES                 413, the body is not read past the cap
    more than PROVISIONER_UPLOADS_PER_HOUR of one kind       429, per phone and process
    an override file that moves the phone elsewhere          403: whoever holds the tenant key
                                                             could otherwise point a phone at
                                                             another provisioning or SIP server
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from provisioner.identification import clean_filename
from provisioner.values import UploadKind
from provisioner.vendors.vendor import NO_MAC, Vendor

HOUR = 3600.0
MAX_TRACKED = 100_000  # (phone, kind) windows kept per process; only assigned phones get one

# Parameters an override file may not set: where the phone provisions, upgrades and registers
# (Polycom names, phones.md §2.4). Everything else a user changes on the phone is kept.
REDIRECTING_PARAMETERS = re.compile(
    r"""(?ix)
    (?:^|[\s<"'])(
        device\.prov\.[\w.]* | device\.dhcp\.[\w.]* | prov\.[\w.]*
      | reg\.\d+\.(?:server|outboundproxy)[\w.]* | voipprot\.(?:server|sip\.outboundproxy)[\w.]*
      | app_file_path[\w]* | config_files[\w]* | upgrade\.[\w.]*
    )\s*=""",
)


@dataclass(frozen=True)
class UploadName:
    """A name a vendor's phones write back: whose (mac), what (kind), which vendor's."""

    vendor: str
    kind: UploadKind
    mac: str


def upload_name(filename: str, vendors: Iterable[Vendor]) -> UploadName | None:
    """The upload this name is, or None (folders, hostile names, the all-zero MAC included)."""
    cleaned = clean_filename(filename)
    if cleaned is None or cleaned[0]:
        return None
    name = cleaned[1]
    for vendor in vendors:
        for pattern, kind in vendor.uploads:
            found = pattern.fullmatch(name)
            if found is not None and found["mac"] != NO_MAC:
                return UploadName(vendor.name, kind, found["mac"])
    return None


def redirecting_parameter(body: bytes) -> str | None:
    """The first parameter of an override file that would move the phone elsewhere, or None."""
    found = REDIRECTING_PARAMETERS.search(body.decode("utf-8", errors="replace"))
    return found.group(1) if found else None


def readable_text(body: bytes) -> str:
    """An uploaded file as text for a person: undecodable bytes and control characters shown
    as U+FFFD (the web page escapes the rest)."""
    text = body.decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text.replace("\r\n", "\n"))


class UploadBudget:
    """At most `per_hour` uploads of one kind per phone in any hour (sliding window).

    Per process: with several server processes a phone may reach `per_hour` in each; the
    stored files stay bounded anyway (the last N logs, one override file per phone)."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._seen: dict[tuple[int, UploadKind], deque[float]] = {}

    def allow(self, device_id: int, kind: UploadKind, now: float) -> bool:
        if self.per_hour <= 0:
            return False
        key = (device_id, kind)
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= MAX_TRACKED:
                self._forget_idle(now)
            times = self._seen[key] = deque()
        while times and now - times[0] >= HOUR:
            times.popleft()
        if len(times) >= self.per_hour:
            return False
        times.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= HOUR]:
            del self._seen[key]
        if len(self._seen) >= MAX_TRACKED:  # every window busy: start over rather than grow
            self._seen.clear()
