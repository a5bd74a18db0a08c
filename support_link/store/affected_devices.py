"""The devices affected by a ticket (device incidents): join, recover, count, and look-ups by device.

One row per device and ticket (the database enforces it); each join and recovery is an
event on the ticket's timeline. A boot storm puts thousands of phones on one incident at
once, so the many-device functions use one query per 500 devices and write their rows
and events in pages (dbkit.bulk). The look-ups by device serve the provisioning side's
ticket intake and device list. The caller opens the session and commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbkit.bulk import insert_rows
from support_link.calendar import as_bogota
from support_link.lifecycle import SYSTEM, Actor, Status
from support_link.sla import TicketType
from support_link.store import mapping, tickets
from support_link.store.models import AffectedDeviceRecord, EventRecord, TicketRecord
from support_link.store.values import AffectedDevice

# Declarative classes' __table__ is a Table (typed as the wider FromClause).
_INSERT_EVENT = insert(cast(Table, EventRecord.__table__))
_EVENT_COLUMNS = ("ticket_id", "at", "actor_kind", "actor", "kind", "before", "after")
_INSERT_DEVICE = insert(cast(Table, AffectedDeviceRecord.__table__))
_DEVICE_COLUMNS = ("ticket_id", "device", "department", "evidence", "joined_at")


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """The distinct values, sorted, in lists of `size` (one IN (...) query each)."""
    names = sorted(set(values))
    for first in range(0, len(names), size):
        yield names[first : first + size]


def _device_record(session: Session, ticket_id: int, device: str) -> AffectedDeviceRecord | None:
    query = select(AffectedDeviceRecord).where(
        AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device == device
    )
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def _device_events(
    session: Session, ticket_id: int, kind: str, actor: Actor, now: datetime, devices: Sequence[tuple[str, str]]
) -> None:
    """One `kind` event per (device, department), in one INSERT (a storm writes thousands)."""
    if not devices:
        return
    at = as_bogota(now, "now")
    actor_kind = str(actor.kind)
    insert_rows(session.connection(), _INSERT_EVENT, [
        (ticket_id, at, actor_kind, actor.name, kind, {}, {"device": device, "department": department})
        for device, department in devices
    ], _EVENT_COLUMNS)
    tickets.touch(session, ticket_id, at)


def add_device(
    session: Session, ticket_id: int, device: str, department: str, evidence: Mapping[str, Any], now: datetime,
    *, actor: Actor = SYSTEM,
) -> bool:
    """Put `device` on the ticket (True), or refresh its evidence when it is already on (False).

    A device that had recovered and shows the problem again rejoins (True). Each join is a
    "device_joined" event on the timeline.
    """
    tickets.load_record(session, ticket_id)
    tickets.write_lock(session)
    existing = _device_record(session, ticket_id, device)
    if existing is None:
        try:
            with session.begin_nested():
                session.add(AffectedDeviceRecord(
                    ticket_id=ticket_id, device=device, department=department, evidence=dict(evidence), joined_at=now
                ))
        except IntegrityError:
            existing = _device_record(session, ticket_id, device)  # another process added it first
            if existing is None:
                raise
        else:
            _device_events(session, ticket_id, "device_joined", actor, now, [(device, department)])
            return True
    rejoined = existing.recovered_at is not None
    existing.evidence, existing.department, existing.recovered_at = dict(evidence), department, None
    if rejoined:
        _device_events(session, ticket_id, "device_joined", actor, now, [(device, department)])
    session.flush()
    return rejoined


def add_devices(
    session: Session, ticket_id: int, devices: Sequence[tuple[str, str, Mapping[str, Any]]], now: datetime,
    *, actor: Actor = SYSTEM,
) -> int:
    """add_device for many (device, department, evidence) at once; returns how many joined.

    A boot storm puts thousands of phones on one incident in one pass: one query per 500
    devices and one flush, instead of five statements per device.
    """
    tickets.load_record(session, ticket_id)
    tickets.write_lock(session)
    wanted = {device: (department, evidence) for device, department, evidence in devices}
    names = sorted(wanted)
    existing: dict[str, AffectedDeviceRecord] = {}
    for chunk in _chunks(names):
        query = select(AffectedDeviceRecord).where(
            AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device.in_(chunk)
        )
        existing.update((r.device, r) for r in session.scalars(query.execution_options(populate_existing=True)))
    new = [name for name in names if name not in existing]
    try:
        with session.begin_nested():
            # Pages of rows per statement, not one ORM object (or one executemany row) per
            # device: a storm adds thousands.
            insert_rows(session.connection(), _INSERT_DEVICE, [
                (ticket_id, name, wanted[name][0], dict(wanted[name][1]), now) for name in new
            ], _DEVICE_COLUMNS)
    except IntegrityError:  # another process added some of them first: the careful way
        return sum(add_device(session, ticket_id, name, *wanted[name], now, actor=actor) for name in names)
    joined = list(new)
    for name, record in existing.items():
        department, evidence = wanted[name]
        if record.recovered_at is not None:
            joined.append(name)  # recovered, and shows the problem again: rejoins
        record.evidence, record.department, record.recovered_at = dict(evidence), department, None
    _device_events(session, ticket_id, "device_joined", actor, now, [(name, wanted[name][0]) for name in joined])
    session.flush()
    return len(joined)


def mark_device_recovered(
    session: Session, ticket_id: int, device: str, now: datetime, *, actor: Actor = SYSTEM
) -> bool:
    """Mark the device recovered (True); False when it is not on the ticket or already recovered."""
    return bool(mark_devices_recovered(session, ticket_id, [device], now, actor=actor))


def mark_devices_recovered(
    session: Session, ticket_id: int, devices: Collection[str], now: datetime, *, actor: Actor = SYSTEM
) -> list[str]:
    """mark_device_recovered for many: the devices that were affected and now have recovered
    (each a "device_recovered" event). A firmware campaign fixes thousands of phones of one
    incident at once: one query and one UPDATE per 500 devices, one INSERT of the events."""
    recovered: list[tuple[str, str]] = []
    for chunk in _chunks(devices):
        affected = session.execute(
            select(AffectedDeviceRecord.device, AffectedDeviceRecord.department).where(
                AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device.in_(chunk),
                AffectedDeviceRecord.recovered_at.is_(None),
            )
        ).all()
        if affected:
            session.execute(
                update(AffectedDeviceRecord)
                .where(AffectedDeviceRecord.ticket_id == ticket_id,
                       AffectedDeviceRecord.device.in_([row.device for row in affected]))
                .values(recovered_at=now)
            )
            recovered.extend((row.device, row.department) for row in affected)
    recovered.sort()
    _device_events(session, ticket_id, "device_recovered", actor, now, recovered)
    session.flush()
    return [device for device, _department in recovered]


def active_departments(session: Session, ticket_id: int) -> list[str]:
    """The department of each device still affected on the ticket (what its impact follows),
    without loading the devices and the timeline."""
    query = select(AffectedDeviceRecord.department).where(
        AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.recovered_at.is_(None)
    )
    return list(session.scalars(query))


def device_counts(session: Session, ticket_id: int) -> tuple[int, int]:
    """(devices on the ticket, of which still affected)."""
    total, active = session.execute(
        select(func.count(AffectedDeviceRecord.id),
               func.count(AffectedDeviceRecord.id).filter(AffectedDeviceRecord.recovered_at.is_(None)))
        .where(AffectedDeviceRecord.ticket_id == ticket_id)
    ).one()
    return total, active


def list_devices(session: Session, ticket_id: int) -> list[AffectedDevice]:
    query = (
        select(AffectedDeviceRecord)
        .where(AffectedDeviceRecord.ticket_id == ticket_id)
        .order_by(AffectedDeviceRecord.joined_at, AffectedDeviceRecord.id)
    )
    return [mapping.device_of(record) for record in session.scalars(query)]


def open_tickets_for_device(session: Session, account: str, device: str) -> list[tuple[int, str | None, str | None]]:
    """(ticket id, finding, dedup key) of every open ticket on which `device` is still affected."""
    return open_tickets_for_devices(session, account, [device]).get(device, [])


def open_tickets_for_devices(
    session: Session, account: str, devices: Collection[str]
) -> dict[str, list[tuple[int, str | None, str | None]]]:
    """open_tickets_for_device for many devices: one query per 500 (the ticket intake asks it
    for every phone of a batch). Devices on no open ticket are left out."""
    found: dict[str, list[tuple[int, str | None, str | None]]] = {}
    for chunk in _chunks(devices):
        query = (
            select(AffectedDeviceRecord.device, TicketRecord.id, TicketRecord.finding, TicketRecord.dedup_key)
            .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
            .where(
                TicketRecord.account == account,
                TicketRecord.status.in_([str(status) for status in tickets.OPEN]),
                AffectedDeviceRecord.device.in_(chunk),
                AffectedDeviceRecord.recovered_at.is_(None),
            )
            .order_by(TicketRecord.id)
        )
        for row in session.execute(query):
            found.setdefault(row.device, []).append((row.id, row.finding, row.dedup_key))
    return found


def past_incidents_for_device(session: Session, account: str, device: str, finding: str, since: datetime) -> list[int]:
    """Incidents (resolved or closed since `since`) that had `device` with this finding, oldest first."""
    return past_incidents_for_devices(session, account, [device], finding, since).get(device, [])


def past_incidents_for_devices(
    session: Session, account: str, devices: Sequence[str], finding: str, since: datetime,
) -> dict[str, list[int]]:
    """past_incidents_for_device for many devices: one query per 500 (a storm's new incident
    asks it for every phone it opened with). Devices without any are left out."""
    found: dict[str, list[int]] = {}
    for chunk in _chunks(devices):
        query = (
            select(AffectedDeviceRecord.device, TicketRecord.id)
            .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
            .where(
                TicketRecord.account == account,
                TicketRecord.finding == finding,
                TicketRecord.type == str(TicketType.INCIDENT),
                TicketRecord.status.in_([str(Status.RESOLVED), str(Status.CLOSED)]),
                TicketRecord.resolved_at >= since,
                AffectedDeviceRecord.device.in_(chunk),
            )
            .order_by(TicketRecord.id)
        )
        for device, ticket_id in session.execute(query):
            found.setdefault(device, []).append(ticket_id)
    return found


def open_tickets_by_device(session: Session, account: str | None = None) -> dict[tuple[str, str], list[int]]:
    """(account, device) -> ids of the open tickets on which the device is still affected."""
    query = (
        select(TicketRecord.account, AffectedDeviceRecord.device, TicketRecord.id)
        .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
        .where(TicketRecord.status.in_([str(status) for status in tickets.OPEN]), AffectedDeviceRecord.recovered_at.is_(None))
        .order_by(TicketRecord.id)
    )
    if account is not None:
        query = query.where(TicketRecord.account == account)
    found: dict[tuple[str, str], list[int]] = {}
    for row in session.execute(query):
        found.setdefault((row.account, row.device), []).append(row.id)
    return found
