"""Tickets as JSON: the one shape the CLI (`tickets list/show --json`) and the web API answer with.

Plain functions from support_link.store's values to JSON-ready dicts (ISO 8601 datetimes
with the Bogota offset, enums as their strings). Here, not in provisioner.web, so the CLI
never imports the web package; not in support_link, whose store speaks of rows, not of
the provisioner's outputs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from support_link.calendar import BOGOTA
from support_link.lifecycle import Ticket, resolution_date_state
from support_link.sla import SlaState
from support_link.store.values import AffectedDevice, StoredEvent, StoredTicket, TicketRow


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(BOGOTA).isoformat()


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _ticket_json(ticket: Ticket, account: str, finding: str | None, state: SlaState | None, now: datetime | None) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "type": str(ticket.type),
        "status": str(ticket.status),
        "urgency": str(ticket.urgency),
        "impact": str(ticket.impact),
        "priority": str(ticket.priority),
        "subject": ticket.subject,
        "channel": str(ticket.channel),
        "created_at": _iso(ticket.created_at),
        "first_response_due": _iso(ticket.first_response_due),
        "first_response_at": _iso(ticket.first_response_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "sla_state": None if state is None else str(state),
        "finding": finding,
        "account": account,
        "detail": ticket.detail,
        "requester_name": ticket.requester_name,
        "requester_contact": ticket.requester_contact,
        "tier": ticket.tier,
        "escalated": ticket.escalated,
        "dedup_key": ticket.dedup_key,
        "problem_id": ticket.problem_id,
        "linked_incidents": list(ticket.linked_incidents),
        "requester_email": ticket.requester_email,
        "proposed_resolution_on": _day(ticket.proposed_resolution_on),
        "proposed_by": ticket.proposed_by,
        "agreed_resolution_on": _day(ticket.agreed_resolution_on),
        "resolution_date_state": resolution_date_state(ticket, now or datetime.now(UTC)),
    }


def event_to_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": str(event.actor),
        "actor_kind": str(event.actor.kind),
        "actor_name": event.actor.name,
        "kind": event.kind,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }


def device_to_json(device: AffectedDevice) -> dict[str, Any]:
    return {
        "device": device.device,
        "department": device.department,
        "evidence": device.evidence,
        "joined_at": _iso(device.joined_at),
        "recovered_at": _iso(device.recovered_at),
    }


def to_json(stored: StoredTicket, now: datetime | None = None) -> dict[str, Any]:
    """A stored ticket as JSON-ready values (ISO 8601 datetimes with the Bogota offset); `now`
    judges the agreed resolution date (default: the clock)."""
    return {
        **_ticket_json(stored.ticket, stored.account, stored.finding, stored.sla_state, now),
        "assignee": stored.assignee,
        "devices": [device.device for device in stored.devices],
        "affected_devices": [device_to_json(device) for device in stored.devices],
        "events": [event_to_json(event) for event in stored.events],
        "work_logs": [
            {"id": log.id, "agent": log.agent, "started_at": _iso(log.started_at), "ended_at": _iso(log.ended_at), "note": log.note}
            for log in stored.work_logs
        ],
    }


def row_to_json(row: TicketRow, now: datetime | None = None) -> dict[str, Any]:
    """A queue line as JSON: the same ticket fields as to_json, without timeline and logs."""
    return {**_ticket_json(row.ticket, row.account, row.finding, row.sla_state, now), "assignee": row.assignee,
            "devices": list(row.devices)}
