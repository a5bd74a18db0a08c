"""Pure: what an SNMP answer is, and the text shapes every vendor's parser reads (no I/O here, ever).

The client hands over `{oid: text}` with only the OIDs the agent actually had (noSuchObject and
friends are dropped there), OIDs written without a leading dot. Each vendor package
(provisioner/vendors/<vendor>/snmp.py) says which OIDs to ask and what the answers mean, with
these helpers; provisioner.snmp.parse picks the vendor.

Shared facts (shared/reference/phones.md §7): net-snmp on Linux answers sysDescr as
`Linux <host> <kernel> #<build> ...` [FI-854]: the dotted number there is the kernel, never
the firmware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"

NET_SNMP_LINUX_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"  # netSnmpAgentOIDs.10, seen on Grandstream [FI-854]


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


FOUR_PART_VERSION = re.compile(r"(?<![\d.])(\d+\.\d+\.\d+\.\d+)(?![\d.])")
VERSION = re.compile(r"(?<![\d.])(\d+(?:\.\d+){2,3})(?![\d.])")
_LINUX = re.compile(r"^Linux\s+(\S+)\s+\S+")  # net-snmp default: "Linux <host> <kernel> #<build> ..."
_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX12 = re.compile(r"[0-9a-f]{12}")


def flat(text: str) -> str:
    """Whitespace (sysDescr may span lines) collapsed to single spaces."""
    return " ".join(text.split())


def linux_host(descr: str) -> str | None:
    """The host name of a net-snmp Linux sysDescr, or None when the text has another shape."""
    match = _LINUX.match(descr)
    return match.group(1) if match else None


def firmware_in(descr: str) -> str | None:
    """A four-part version in sysDescr, unless the text is net-snmp's Linux line (kernel version)."""
    if linux_host(descr) is not None:
        return None
    match = FOUR_PART_VERSION.search(descr)
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
