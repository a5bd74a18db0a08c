"""Adapter: one SNMPv2c GET with pysnmp 7's asyncio API, answers turned into plain text.

One SnmpEngine per event loop (in the server: exactly one), made on first use and reused by
every request: an engine is costly to build (MIB tables) and is bound to the loop it first
ran on. `close_engine()` releases its UDP socket and timer; the poller calls it on stop.

    None                  no answer before timeout x (retries + 1): a wrong community looks
                          the same, because a v2c agent silently drops it
    {oid: text}           the agent answered; OIDs it does not have (noSuchObject,
                          noSuchInstance, endOfMibView) are left out
    AgentError            the agent answered with an error-status (it IS reachable)
    RequestFailed         bad target address, or an engine error other than a timeout

Values become text: printable OCTET STRINGs decoded (UTF-8, trailing NULs dropped), other
OCTET STRINGs as `0x<hex>`, OIDs dotted, numbers in decimal. The community is never logged
nor put in an exception.

The engine keeps one small target row per (community, ip, port, timeout, retries) it has
seen, for its lifetime: bounded by the phones polled, plus one per IP change.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable

from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    get_cmd,
)
from pysnmp.proto import errind, rfc1902, rfc1905

from provisioner.snmp.errors import AgentError, RequestFailed

_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SnmpEngine] = weakref.WeakKeyDictionary()
_SNMP_V2C = 1  # CommunityData mpModel


def _engine() -> SnmpEngine:
    loop = asyncio.get_running_loop()
    engine = _ENGINES.get(loop)
    if engine is None:
        engine = _ENGINES[loop] = SnmpEngine()
    return engine


def close_engine() -> None:
    """Close this loop's engine (socket and timer); a later GET opens a new one."""
    engine = _ENGINES.pop(asyncio.get_running_loop(), None)
    if engine is not None:
        engine.close_dispatcher()


async def snmp_get(
    ip: str, port: int, community: str, oids: Iterable[str], timeout: float, retries: int
) -> dict[str, str] | None:
    """GET `oids` from the agent at ip:port with a v2c community; None when it did not answer."""
    requested = tuple(oid.lstrip(".") for oid in oids)
    try:
        target = await UdpTransportTarget.create((ip, port), timeout=timeout, retries=retries)
        indication, status, index, var_binds = await get_cmd(
            _engine(),
            CommunityData(community, mpModel=_SNMP_V2C),
            target,
            ContextData(),
            *(ObjectType(ObjectIdentity(oid)) for oid in requested),
            lookupMib=False,
        )
    except PySnmpError as exc:
        raise RequestFailed(f"SNMP GET to {ip}:{port} not made: {exc}") from exc
    if indication is not None:
        if isinstance(indication, errind.RequestTimedOut):
            return None
        raise RequestFailed(f"SNMP GET to {ip}:{port} failed: {indication}")
    if int(status):
        raise _agent_error(int(status), int(index), requested)
    return _answers(var_binds)


def _agent_error(status: int, index: int, requested: tuple[str, ...]) -> AgentError:
    name = rfc1905.errorStatus.clone(status).prettyPrint()
    oid = requested[index - 1] if 0 < index <= len(requested) else None
    return AgentError(name, index, oid)


def _answers(var_binds: Iterable[ObjectType]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for var_bind in var_binds:
        text = render_value(var_bind[1])
        if text is not None:
            answers[str(var_bind[0])] = text
    return answers


def render_value(value: object) -> str | None:
    """An SNMP value as text; None for 'the agent has no such object'."""
    if isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView, univ.Null)):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return value.prettyPrint()
    if isinstance(value, univ.OctetString):
        return _octets(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(str(arc) for arc in value)
    if isinstance(value, univ.Integer):
        return str(int(value))
    return str(value)


def _octets(raw: bytes) -> str:
    trimmed = raw.rstrip(b"\x00")
    try:
        text = trimmed.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + raw.hex()
    if all(char.isprintable() or char.isspace() for char in text):
        return text
    return "0x" + raw.hex()
