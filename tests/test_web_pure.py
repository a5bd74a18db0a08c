"""Pure helpers of the web layer: form -> lifecycle action, queue filters, storm-sized ticket pages."""

import re
from datetime import UTC, date, datetime

import pytest

from provisioner.ticket_queue import queue_filters
from provisioner.errors import InputError
from provisioner.web.tickets import SHOWN_DEVICE_EVENTS, SHOWN_DEVICES, action_from_form, page_parts, work_minutes
from support_link import lifecycle
from support_link.lifecycle import SYSTEM
from support_link.store.values import AffectedDevice, StoredEvent, StoredTicket

T = datetime(2026, 3, 18, 15, tzinfo=UTC)


def test_form_actions() -> None:
    assert action_from_form({"action": "respond", "note": " hola "}, T) == (lifecycle.Respond(public=True), "hola")
    assert action_from_form({"action": "note", "note": ""}, T) == (lifecycle.Respond(public=False), None)
    assert action_from_form({"action": "reclassify", "urgency": "high", "impact": "department"}, T)[0] == \
        lifecycle.ChangeClassification("high", "department")
    assert action_from_form({"action": "drop_table"}, T) == (None, None)
    assert action_from_form({"action": "propose_date", "on": " 2026-03-25 "}, T)[0] == lifecycle.ProposeResolutionDate(date(2026, 3, 25))
    assert action_from_form({"action": "accept_date"}, T)[0] == lifecycle.AcceptResolutionDate()


@pytest.mark.parametrize(("on", "refusal"), [
    ("2026-03-18", "posterior a hoy en Bogotá (2026-03-18)"), ("", "AAAA-MM-DD"), ("18/03/2026", "AAAA-MM-DD"),
    ("2026-02-30", "AAAA-MM-DD"), ("２０２６-０３-２５", "AAAA-MM-DD"), ("20260325", "AAAA-MM-DD"), ("2027-03-20", "más de un año"),
])
def test_a_proposed_date_is_refused_in_spanish(on: str, refusal: str) -> None:
    with pytest.raises(InputError, match=re.escape(refusal)):
        action_from_form({"action": "propose_date", "on": on}, T)


@pytest.mark.parametrize(("value", "minutes"), [("1", 1), (" 90 ", 90), (1440, 1440), ("0", None), ("1441", None),
                                               ("-5", None), ("1.5", None), ("²", None), ("", None), ({"a": 1}, None)])
def test_logged_minutes_are_whole_and_in_range(value: object, minutes: int | None) -> None:
    if minutes is None:
        with pytest.raises(InputError, match="entre 1 y 1440"):
            work_minutes(value)
    else:
        assert work_minutes(value) == minutes


def test_default_queue_is_the_open_tickets() -> None:
    assert queue_filters({})["status"] == ("new", "in_progress", "escalated")
    assert queue_filters({"status": "all"})["status"] is None
    assert queue_filters({"status": "closed", "priority": "urgent"}) == {
        "account": None, "type": None, "priority": "urgent", "status": "closed", "sla_state": None}


def test_a_storm_ticket_page_shows_a_bounded_part() -> None:
    ticket, created = lifecycle.new_ticket(
        ticket_type="incident", urgency="medium", impact="organization", subject="s", detail="d",
        requester_name="r", requester_contact="c", channel="device", created_at=T, actor=SYSTEM, ticket_id=1)
    devices = tuple(AffectedDevice(f"{i:012x}", "Ventas", {}, T, T if i % 2 else None) for i in range(1200))
    events = (StoredEvent(1, T, SYSTEM, "created", {}, {}, None),) + tuple(
        StoredEvent(i + 2, T, SYSTEM, "device_joined", {}, {}, None) for i in range(1200))
    stored = StoredTicket(ticket, "acme", "firmware_older", None, devices, events, (), None, T)
    parts = page_parts(stored)
    assert len(parts["devices_shown"]) == SHOWN_DEVICES and parts["devices_hidden"] == 1200 - SHOWN_DEVICES
    assert parts["devices_recovered"] == 600
    assert [e.kind for e in parts["timeline"]][:1] == ["created"] and len(parts["timeline"]) == 1 + SHOWN_DEVICE_EVENTS
    assert parts["hidden_device_events"] == 1200 - SHOWN_DEVICE_EVENTS
