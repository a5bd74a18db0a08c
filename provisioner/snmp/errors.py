"""The SNMP package's exceptions (tree drawn in provisioner/snmp/__init__.py), a branch of
the provisioner's one tree (provisioner/errors.py)."""

from __future__ import annotations

from provisioner.errors import ProvisionerError


class SnmpError(ProvisionerError):
    """Base of every error raised by provisioner.snmp."""


class UnsupportedVendor(SnmpError):
    """The vendor has no SNMP agent we know how to read."""

    def __init__(self, vendor: str) -> None:
        super().__init__(f"no SNMP reading is defined for vendor {vendor!r}")
        self.vendor = vendor


class AgentError(SnmpError):
    """The agent answered with an SNMP error-status: it is reachable, but gave no values.

    `oid` is the request OID that errorIndex points at (None when the index is 0 or out of range).
    """

    def __init__(self, status: str, index: int, oid: str | None) -> None:
        where = f" at {oid}" if oid else ""
        super().__init__(f"agent answered {status}{where}")
        self.status = status
        self.index = index
        self.oid = oid


class RequestFailed(SnmpError):
    """The request was not made, or the engine reported an error other than a timeout."""
