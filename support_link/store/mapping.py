"""Records <-> values: sl_* rows (support_link.store.models) to and from lifecycle and store values.

Stored datetimes are UTC; values come out in America/Bogota. Enums are stored as their
plain string. Nothing here touches a session.
"""

from __future__ import annotations

from datetime import datetime

from support_link.calendar import BOGOTA
from support_link.lifecycle import Actor, ActorKind, Channel, Status, Ticket
from support_link.priority import Impact, Priority, Urgency
from support_link.sla import TicketType
from support_link.store.models import AffectedDeviceRecord, EventRecord, TicketRecord, WorkLogRecord
from support_link.store.values import AffectedDevice, StoredEvent, StoredWorkLog


def _bogota(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(BOGOTA)


def ticket_of(record: TicketRecord) -> Ticket:
    return Ticket(
        id=record.id,
        type=TicketType(record.type),
        status=Status(record.status),
        urgency=Urgency(record.urgency),
        impact=Impact(record.impact),
        priority=Priority(record.priority),
        subject=record.subject,
        detail=record.detail,
        requester_name=record.requester_name,
        requester_contact=record.requester_contact,
        channel=Channel(record.channel),
        created_at=record.created_at.astimezone(BOGOTA),
        sla_start=record.sla_start.astimezone(BOGOTA),
        first_response_due=_bogota(record.first_response_due),
        first_response_at=_bogota(record.first_response_at),
        resolved_at=_bogota(record.resolved_at),
        closed_at=_bogota(record.closed_at),
        escalated=record.escalated,
        tier=record.tier,
        dedup_key=record.dedup_key,
        problem_id=record.problem_id,
        linked_incidents=tuple(int(item) for item in record.linked_incidents or ()),
        requester_email=record.requester_email,
        proposed_resolution_on=record.proposed_resolution_on,
        proposed_by=record.proposed_by,
        agreed_resolution_on=record.agreed_resolution_on,
    )


def write_ticket(record: TicketRecord, ticket: Ticket) -> None:
    """Copy every Ticket field but the id onto the record (StrEnums stored as plain str)."""
    record.type = str(ticket.type)
    record.status = str(ticket.status)
    record.urgency = str(ticket.urgency)
    record.impact = str(ticket.impact)
    record.priority = str(ticket.priority)
    record.subject = ticket.subject
    record.detail = ticket.detail
    record.requester_name = ticket.requester_name
    record.requester_contact = ticket.requester_contact
    record.channel = str(ticket.channel)
    record.created_at = ticket.created_at
    record.sla_start = ticket.sla_start
    record.first_response_due = ticket.first_response_due
    record.first_response_at = ticket.first_response_at
    record.resolved_at = ticket.resolved_at
    record.closed_at = ticket.closed_at
    record.escalated = ticket.escalated
    record.tier = ticket.tier
    record.dedup_key = ticket.dedup_key
    record.problem_id = ticket.problem_id
    record.linked_incidents = list(ticket.linked_incidents)
    record.requester_email = ticket.requester_email
    record.proposed_resolution_on = ticket.proposed_resolution_on
    record.proposed_by = ticket.proposed_by
    record.agreed_resolution_on = ticket.agreed_resolution_on


def _actor_of(record: EventRecord) -> Actor:
    return Actor(ActorKind(record.actor_kind), record.actor)


def event_of(record: EventRecord) -> StoredEvent:
    return StoredEvent(
        record.id, record.at.astimezone(BOGOTA), _actor_of(record), record.kind,
        dict(record.before or {}), dict(record.after or {}), record.note,
    )


def device_of(record: AffectedDeviceRecord) -> AffectedDevice:
    return AffectedDevice(
        record.device, record.department, dict(record.evidence or {}),
        record.joined_at.astimezone(BOGOTA), _bogota(record.recovered_at),
    )


def work_log_of(record: WorkLogRecord) -> StoredWorkLog:
    return StoredWorkLog(
        record.id, record.agent, record.started_at.astimezone(BOGOTA), record.ended_at.astimezone(BOGOTA), record.note
    )
