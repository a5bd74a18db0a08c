"""provisioner.ticket_json: the ticket JSON that the CLI and the web API answer with, read
back from a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from provisioner import ticket_json
from support_link.store import affected_devices, tickets
from tests.test_support_store import Db, bog, db_fixture, store, template_fixture  # noqa: F401 - fixtures `db`, `sl_pg_template`


def test_to_json_has_the_api_fields(db: Db) -> None:
    ticket_id = store(db, finding="firmware_older", channel="device", dedup_key="k")
    with db.sessions.begin() as session:
        affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {"seen": "5.9.1"}, bog(2026, 3, 18, 10, 5))
    with db.sessions() as session:
        document = ticket_json.to_json(tickets.get(session, ticket_id, now=bog(2026, 3, 18, 10, 50)))
    json.dumps(document)
    expected = {
        "id": ticket_id, "type": "incident", "status": "new", "urgency": "high", "impact": "organization",
        "priority": "urgent", "subject": "Recepción sin tono", "channel": "device",
        "created_at": "2026-03-18T10:00:00-05:00", "first_response_due": "2026-03-18T11:00:00-05:00",
        "sla_state": "at_risk", "devices": ["0004f2a1b2c3"], "finding": "firmware_older", "account": "acme",
        "requester_name": "Carlos Pérez", "requester_contact": "carlos@acme.example, +57 601 555 0101",
    }
    assert {key: document[key] for key in expected} == expected
    assert document["detail"].startswith("Las extensiones")
    assert [event["kind"] for event in document["events"]] == ["created", "device_joined"]
    assert document["affected_devices"][0]["evidence"] == {"seen": "5.9.1"}


def test_a_problem_has_no_due_and_no_sla_state_in_json(db: Db) -> None:
    ticket_id = store(db, ticket_type="problem")
    with db.sessions() as session:
        document = ticket_json.to_json(tickets.get(session, ticket_id, now=bog(2026, 4, 1)))
    assert (document["type"], document["first_response_due"], document["sla_state"]) == ("problem", None, None)
    assert (document["devices"], document["finding"]) == ([], None)


def test_a_queue_line_has_the_ticket_fields_of_the_full_ticket(db: Db) -> None:
    """`tickets list --json` and GET /api/v1/tickets carry the same ticket fields as `show`."""
    ticket_id = store(db, finding="firmware_older", channel="device", dedup_key="k")
    with db.sessions.begin() as session:
        affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {}, bog(2026, 3, 18, 10, 5))
    moment = bog(2026, 3, 18, 10, 50)
    with db.sessions() as session:
        full = ticket_json.to_json(tickets.get(session, ticket_id, now=moment))
        (line,) = [ticket_json.row_to_json(row) for row in tickets.list_tickets(session, moment)]
    json.dumps(line)
    assert set(full) - set(line) == {"affected_devices", "events", "work_logs"}
    assert line == {key: full[key] for key in line}


def test_a_requirements_dates_are_in_json_with_their_state(db: Db) -> None:
    from datetime import date

    from support_link import lifecycle
    from support_link.lifecycle import Actor, ActorKind

    ticket_id = store(db, ticket_type="requirement")
    agent, requester = Actor(ActorKind.AGENT, "laura"), Actor(ActorKind.REQUESTER, "carlos@acme.example")
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, lifecycle.ProposeResolutionDate(date(2026, 3, 25)), agent, bog(2026, 3, 18, 11))
    with db.sessions() as session:
        proposed = ticket_json.to_json(tickets.get(session, ticket_id, now=bog(2026, 3, 18, 12)), bog(2026, 3, 18, 12))
    assert (proposed["proposed_resolution_on"], proposed["proposed_by"], proposed["agreed_resolution_on"],
            proposed["resolution_date_state"]) == ("2026-03-25", "agent", None, None)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, lifecycle.AcceptResolutionDate(), requester, bog(2026, 3, 18, 13))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id, now=bog(2026, 3, 26, 9))
        row = next(r for r in tickets.list_tickets(session, bog(2026, 3, 26, 9)) if r.id == ticket_id)
    agreed = ticket_json.to_json(stored, bog(2026, 3, 25, 23))
    assert (agreed["proposed_resolution_on"], agreed["agreed_resolution_on"], agreed["resolution_date_state"]) == (
        None, "2026-03-25", "pending")
    assert ticket_json.to_json(stored, bog(2026, 3, 26, 9))["resolution_date_state"] == "missed"
    assert ticket_json.row_to_json(row, bog(2026, 3, 26, 9))["resolution_date_state"] == "missed"
    json.dumps(agreed)
