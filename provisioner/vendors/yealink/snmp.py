"""Yealink phones over SNMP (pure): what to GET and what the answer means.

A GET-only v1/v2c agent with a private table 1.3.6.1.2.1.37459.2.1.x: .5.0 firmware, .7.0
model, .8.0 MAC [SNMP-YL] (phones.md §7, UNVERIFIED per homologated model). These are trusted
first; sysDescr is a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from provisioner.snmp.reading import SYS_DESCR, VERSION, SnmpReading, firmware_in, flat, normalise_mac

YEALINK_FIRMWARE = "1.3.6.1.2.1.37459.2.1.5.0"
YEALINK_MODEL = "1.3.6.1.2.1.37459.2.1.7.0"
YEALINK_MAC = "1.3.6.1.2.1.37459.2.1.8.0"

OIDS = (SYS_DESCR, YEALINK_FIRMWARE, YEALINK_MODEL, YEALINK_MAC)

_MODEL_IN_TEXT = re.compile(r"(?<![\w-])(SIP-[A-Z0-9_]+|T\d{2}[A-Z]{0,2}(?:_E2)?)(?![\w-])", re.IGNORECASE)


def parse(values: Mapping[str, str]) -> SnmpReading:
    descr = flat(values.get(SYS_DESCR, ""))
    return SnmpReading(
        model=_model_value(values.get(YEALINK_MODEL, "")) or _model_in(descr),
        firmware=_firmware_value(values.get(YEALINK_FIRMWARE, "")) or firmware_in(descr),
        mac=normalise_mac(values.get(YEALINK_MAC, "")),
        sys_descr=descr,
    )


def _model_value(value: str) -> str | None:
    """The private model OID's value, without a leading vendor word ("Yealink SIP-T21P" -> "SIP-T21P")."""
    words = flat(value).split(" ")
    if words and words[0].lower() == "yealink":
        words = words[1:]
    return words[0] if words and words[0] else None


def _model_in(descr: str) -> str | None:
    match = _MODEL_IN_TEXT.search(descr)
    return match.group(1) if match else None


def _firmware_value(value: str) -> str | None:
    match = VERSION.search(flat(value))
    return match.group(1) if match else None
