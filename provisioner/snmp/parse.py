"""Pure: what a phone's SNMP agent said -> model, firmware and MAC (no I/O here, ever).

What to ask each vendor (`oids_for`) and what the answers mean (`parse_reading`) belong to the
vendor packages (provisioner/vendors/<vendor>/snmp.py, with their samples); this module only
picks the registered vendor. Vendors without an `snmp_oids` (jitsi, wekall, Grandstream Wave
are not even registered) have no documented agent.

A model read over SNMP may be a family name that no catalog row knows (a GXW4216 answers
GXW4200): callers must treat an SNMP model missing from the catalog as "unknown", not as
"not homologated".
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.snmp.errors import UnsupportedVendor
from provisioner.snmp.reading import SYS_DESCR, SYS_NAME, SYS_OBJECT_ID, SnmpReading, normalise_mac
from provisioner.vendors import REGISTERED
from provisioner.vendors.vendor import Vendor

__all__ = [
    "SYS_DESCR",
    "SYS_NAME",
    "SYS_OBJECT_ID",
    "SnmpReading",
    "normalise_mac",
    "oids_for",
    "parse_reading",
    "snmp_vendors",
]

_READABLE: dict[str, Vendor] = {v.name: v for v in REGISTERED if v.snmp_oids and v.parse_snmp is not None}


def snmp_vendors() -> frozenset[str]:
    """Vendors whose phones we know how to read over SNMP."""
    return frozenset(_READABLE)


def oids_for(vendor: str) -> tuple[str, ...]:
    """The OIDs to GET from a phone of `vendor`; UnsupportedVendor when it has no known agent."""
    return _readable(vendor).snmp_oids


def parse_reading(vendor: str, varbinds: Mapping[str, str]) -> SnmpReading:
    """Model, firmware and MAC from a vendor's answer; fields the answer does not give are None."""
    parse = _readable(vendor).parse_snmp
    assert parse is not None  # _READABLE holds only vendors with a parser
    return parse({oid.lstrip("."): text for oid, text in varbinds.items()})


def _readable(vendor: str) -> Vendor:
    try:
        return _READABLE[vendor]
    except KeyError:
        raise UnsupportedVendor(vendor) from None
