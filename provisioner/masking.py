"""Hiding secrets in a rendered config for a person to read (`provisioner render`) (pure).

Two passes, so that neither a new template parameter nor a secret in an unexpected place shows:

    by parameter   each vendor package names the parameters whose value is a secret
                   (Vendor.secret_parameters: SIP and admin passwords, SNMP communities,
                   provisioning paths); their whole value becomes MASK
    by value       every secret the tenant and the device hold (tenant key, SNMP community,
                   admin and SIP passwords, device token) is replaced wherever it still appears,
                   e.g. the tenant key inside a firmware URL

`--show-secrets` skips both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"


def mask_secrets(text: str, parameters: re.Pattern[str] | None, secrets: Iterable[str]) -> str:
    if parameters is not None:
        text = parameters.sub(_masked_value, text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):  # longest first: none hides part of another
        text = text.replace(secret, MASK)
    return text


def _masked_value(found: re.Match[str]) -> str:
    whole, offset = found.group(0), found.start()
    start, end = found.span("value")
    if start == end:
        return whole  # an empty value (a cleared slot) hides nothing
    return whole[: start - offset] + MASK + whole[end - offset :]
