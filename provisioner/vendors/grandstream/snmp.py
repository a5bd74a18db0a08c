"""Grandstream phones over SNMP (pure): what to GET and what the answer means.

net-snmp on Linux. The one public sample (a GXW4216 gateway) reads
`Linux GXW4200 2.6.28.8 #183 Fri Dec 20 20:34:02 CST 2019 mips` [FI-854]: the host name is a
FAMILY name (GXW4200 for a GXW4216) and the dotted number is the Linux kernel, never the
firmware. Firmware lives in the vendor MIB, which is not public: we report none (phones.md §7).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from provisioner.snmp.reading import SYS_DESCR, SYS_NAME, SYS_OBJECT_ID, SnmpReading, flat, linux_host

OIDS = (SYS_DESCR, SYS_OBJECT_ID, SYS_NAME)

_MODEL = re.compile(r"(?<![\w-])((?:GXP|GXV|GRP|GXW|DP|HT|WP)\d{3,4}[A-Z]{0,2})(?![\w-])", re.IGNORECASE)
_SW = re.compile(r"\bSW\s+(\d+\.\d+\.\d+\.\d+)\b")  # the HTTP UA's "HW <model> SW <fw>" order


def parse(values: Mapping[str, str]) -> SnmpReading:
    descr = flat(values.get(SYS_DESCR, ""))
    host = linux_host(descr) or ""
    sw = _SW.search(descr)
    return SnmpReading(
        model=_model(host, flat(values.get(SYS_NAME, "")), descr),
        firmware=sw.group(1) if sw else None,  # never the kernel version of a Linux sysDescr
        mac=None,
        sys_descr=descr,
    )


def _model(*texts: str) -> str | None:
    for text in texts:
        match = _MODEL.search(text)
        if match:
            return match.group(1)
    return None
