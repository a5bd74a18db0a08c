"""Pure: what a phone's SNMP agent said -> model, firmware and MAC (no I/O here, ever).

What to ask each vendor is data (`oids_for`); what the answers mean is `parse_reading`.
The client hands us `{oid: text}` with only the OIDs the agent actually had (noSuchObject and
friends are dropped there), OIDs written without a leading dot.

Facts used (shared/reference/phones.md §7, all UNVERIFIED per homologated model):
- Yealink: a GET-only v1/v2c agent with a private table 1.3.6.1.2.1.37459.2.1.x:
  .5.0 firmware, .7.0 model, .8.0 MAC [SNMP-YL]. These are trusted first; sysDescr is a fallback.
- Grandstream: net-snmp on Linux. The one public sample (a GXW4216 gateway) reads
  `Linux GXW4200 2.6.28.8 #183 Fri Dec 20 20:34:02 CST 2019 mips` [FI-854]: the host name is a
  FAMILY name (GXW4200 for a GXW4216) and the dotted number is the Linux kernel, never the
  firmware. Firmware lives in the vendor MIB, which is not public: we report none.
- Polycom: sysObjectID 1.3.6.1.4.1.2684.1.1, sysDescr used as the model string [OA-2684].

So a model read here may be a family name that no catalog row knows: callers must treat an
SNMP model missing from the catalog as "unknown", not as "not homologated".
The sysDescr samples in provisioner/snmp/samples.py say which shapes are real and which are guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from provisioner.snmp.errors import UnsupportedVendor

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
YEALINK_FIRMWARE = "1.3.6.1.2.1.37459.2.1.5.0"
YEALINK_MODEL = "1.3.6.1.2.1.37459.2.1.7.0"
YEALINK_MAC = "1.3.6.1.2.1.37459.2.1.8.0"

POLYCOM_PHONE_OBJECT_ID = "1.3.6.1.4.1.2684.1.1"  # Open-AudIT: "ip phone" [OA-2684]
NET_SNMP_LINUX_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"  # netSnmpAgentOIDs.10, seen on Grandstream [FI-854]

# What to GET from each vendor's phones, in request order. Vendors absent here (jitsi, wekall,
# Grandstream Wave) have no documented agent.
_OIDS: dict[str, tuple[str, ...]] = {
    "yealink": (SYS_DESCR, YEALINK_FIRMWARE, YEALINK_MODEL, YEALINK_MAC),
    "grandstream": (SYS_DESCR, SYS_OBJECT_ID, SYS_NAME),
    "polycom": (SYS_DESCR, SYS_OBJECT_ID),
}


@dataclass(frozen=True)
class SnmpReading:
    """What one answered GET says about the phone.

    `mac` is 12 lower-case hex digits; `sys_descr` is the agent's sysDescr with whitespace
    collapsed ("" when it gave none), kept as evidence.
    """

    model: str | None
    firmware: str | None
    mac: str | None
    sys_descr: str


def snmp_vendors() -> frozenset[str]:
    """Vendors whose phones we know how to read over SNMP."""
    return frozenset(_OIDS)


def oids_for(vendor: str) -> tuple[str, ...]:
    """The OIDs to GET from a phone of `vendor`; UnsupportedVendor when it has no known agent."""
    try:
        return _OIDS[vendor]
    except KeyError:
        raise UnsupportedVendor(vendor) from None


def parse_reading(vendor: str, varbinds: Mapping[str, str]) -> SnmpReading:
    """Model, firmware and MAC from a vendor's answer; fields the answer does not give are None."""
    try:
        parser = _PARSERS[vendor]
    except KeyError:
        raise UnsupportedVendor(vendor) from None
    return parser({oid.lstrip("."): text for oid, text in varbinds.items()})


# ------------------------------------------------------------------------------ shared shapes

_FOUR_PART_VERSION = re.compile(r"(?<![\d.])(\d+\.\d+\.\d+\.\d+)(?![\d.])")
_VERSION = re.compile(r"(?<![\d.])(\d+(?:\.\d+){2,3})(?![\d.])")
_LINUX = re.compile(r"^Linux\s+(\S+)\s+\S+")  # net-snmp default: "Linux <host> <kernel> #<build> ..."
_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX12 = re.compile(r"[0-9a-f]{12}")


def _flat(text: str) -> str:
    """Whitespace (sysDescr may span lines) collapsed to single spaces."""
    return " ".join(text.split())


def _linux_host(descr: str) -> str | None:
    """The host name of a net-snmp Linux sysDescr, or None when the text has another shape."""
    match = _LINUX.match(descr)
    return match.group(1) if match else None


def _firmware_in(descr: str) -> str | None:
    """A four-part version in sysDescr, unless the text is net-snmp's Linux line (kernel version)."""
    if _linux_host(descr) is not None:
        return None
    match = _FOUR_PART_VERSION.search(descr)
    return match.group(1) if match else None


def normalise_mac(value: str) -> str | None:
    """`00:15:65:4C:4C:26`, `00-15-65-4c-4c-26`, `001565.4c4c.26`, `0x0015654c4c26` -> `0015654c4c26`."""
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    digits = _MAC_SEPARATORS.sub("", text)
    if not _HEX12.fullmatch(digits) or digits == "0" * 12:
        return None
    return digits


# ---------------------------------------------------------------------------------- Yealink

_YEALINK_MODEL_IN_TEXT = re.compile(r"(?<![\w-])(SIP-[A-Z0-9_]+|T\d{2}[A-Z]{0,2}(?:_E2)?)(?![\w-])", re.IGNORECASE)


def _yealink_model_value(value: str) -> str | None:
    """The private model OID's value, without a leading vendor word ("Yealink SIP-T21P" -> "SIP-T21P")."""
    words = _flat(value).split(" ")
    if words and words[0].lower() == "yealink":
        words = words[1:]
    return words[0] if words and words[0] else None


def _yealink_model_in(descr: str) -> str | None:
    match = _YEALINK_MODEL_IN_TEXT.search(descr)
    return match.group(1) if match else None


def _yealink_firmware_value(value: str) -> str | None:
    match = _VERSION.search(_flat(value))
    return match.group(1) if match else None


def _yealink(values: Mapping[str, str]) -> SnmpReading:
    descr = _flat(values.get(SYS_DESCR, ""))
    return SnmpReading(
        model=_yealink_model_value(values.get(YEALINK_MODEL, "")) or _yealink_model_in(descr),
        firmware=_yealink_firmware_value(values.get(YEALINK_FIRMWARE, "")) or _firmware_in(descr),
        mac=normalise_mac(values.get(YEALINK_MAC, "")),
        sys_descr=descr,
    )


# ------------------------------------------------------------------------------ Grandstream

_GRANDSTREAM_MODEL = re.compile(r"(?<![\w-])((?:GXP|GXV|GRP|GXW|DP|HT|WP)\d{3,4}[A-Z]{0,2})(?![\w-])", re.IGNORECASE)
_GRANDSTREAM_SW = re.compile(r"\bSW\s+(\d+\.\d+\.\d+\.\d+)\b")  # the HTTP UA's "HW <model> SW <fw>" order


def _grandstream_model(*texts: str) -> str | None:
    for text in texts:
        match = _GRANDSTREAM_MODEL.search(text)
        if match:
            return match.group(1)
    return None


def _grandstream(values: Mapping[str, str]) -> SnmpReading:
    descr = _flat(values.get(SYS_DESCR, ""))
    host = _linux_host(descr) or ""
    sw = _GRANDSTREAM_SW.search(descr)
    return SnmpReading(
        model=_grandstream_model(host, _flat(values.get(SYS_NAME, "")), descr),
        firmware=sw.group(1) if sw else None,  # never the kernel version of a Linux sysDescr
        mac=None,
        sys_descr=descr,
    )


# ---------------------------------------------------------------------------------- Polycom

_POLYCOM_MODEL = re.compile(
    r"(SoundPoint\s+IP\s*\d{3}|SPIP_?\d{3}|VVX[ _]?\d{3}|(?<![\w-])IP[ _]\d{3})(?!\d)", re.IGNORECASE
)


def _polycom(values: Mapping[str, str]) -> SnmpReading:
    descr = _flat(values.get(SYS_DESCR, ""))
    model = _POLYCOM_MODEL.search(descr)
    return SnmpReading(
        model=model.group(1) if model else None,
        firmware=_firmware_in(descr),
        mac=None,
        sys_descr=descr,
    )


_PARSERS: dict[str, Callable[[Mapping[str, str]], SnmpReading]] = {
    "yealink": _yealink,
    "grandstream": _grandstream,
    "polycom": _polycom,
}
