"""Polycom phones over SNMP (pure): what to GET and what the answer means.

sysObjectID 1.3.6.1.4.1.2684.1.1, sysDescr used as the model string [OA-2684] (phones.md §7,
UNVERIFIED per homologated model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from provisioner.snmp.reading import SYS_DESCR, SYS_OBJECT_ID, SnmpReading, firmware_in, flat

POLYCOM_PHONE_OBJECT_ID = "1.3.6.1.4.1.2684.1.1"  # Open-AudIT: "ip phone" [OA-2684]

OIDS = (SYS_DESCR, SYS_OBJECT_ID)

_MODEL = re.compile(r"(SoundPoint\s+IP\s*\d{3}|SPIP_?\d{3}|VVX[ _]?\d{3}|(?<![\w-])IP[ _]\d{3})(?!\d)", re.IGNORECASE)


def parse(values: Mapping[str, str]) -> SnmpReading:
    descr = flat(values.get(SYS_DESCR, ""))
    model = _MODEL.search(descr)
    return SnmpReading(
        model=model.group(1) if model else None,
        firmware=firmware_in(descr),
        mac=None,
        sys_descr=descr,
    )
