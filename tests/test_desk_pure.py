"""The desk's computed parts and the dashboard's figures, from tables of real samples (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from provisioner import reports
from provisioner.reports import PhoneFacts, TicketFacts
from provisioner.web.tickets import shown_text
from support_link import desk, lifecycle
from support_link.lifecycle import Actor, ActorKind
from support_link.sla import SlaState

BOG = ZoneInfo("America/Bogota")
AGENT = Actor(ActorKind.AGENT, "laura")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOG)


def ticket(created: str, priority_urgency: str = "high", impact: str = "department") -> lifecycle.Ticket:
    made, _ = lifecycle.new_ticket(ticket_type="incident", urgency=priority_urgency, impact=impact, subject="s", detail="d",
                                   requester_name="Ana", requester_contact="a@x.co", channel="phone", created_at=at(created),
                                   actor=AGENT, ticket_id=1)
    return made


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(0), "menos de 1 min"), (timedelta(seconds=59), "menos de 1 min"), (timedelta(minutes=45), "45 min"),
    (timedelta(hours=2, minutes=5), "2 h 05 min"), (timedelta(hours=26), "26 h 00 min"), (timedelta(minutes=-5), "menos de 1 min"),
])
def test_business_duration(delta: timedelta, text: str) -> None:
    assert desk.business_duration(delta) == text


# High incident (6 business hours) opened Wednesday 2026-12-02 08:00: due 14:00 + 1 h 30 (lunch 12:30-14:00) = 15:30.
@pytest.mark.parametrize(("now", "state", "expected"), [
    ("2026-12-02 09:00", SlaState.ON_TIME, ("on_time", "Quedan 5 h 00 min hábiles", 300)),
    ("2026-12-02 12:45", SlaState.ON_TIME, ("on_time", "Quedan 1 h 30 min hábiles", 90)),  # lunch does not count
    ("2026-12-02 15:00", SlaState.AT_RISK, ("at_risk", "Quedan 30 min hábiles", 30)),
    ("2026-12-02 15:30", SlaState.AT_RISK, ("at_risk", "Quedan menos de 1 min hábiles", 0)),
    ("2026-12-02 16:10", SlaState.BREACHED, ("breached", "Vencido hace 40 min hábiles", -40)),
    ("2026-12-03 08:00", SlaState.BREACHED, ("breached", "Vencido hace 3 h 00 min hábiles", -180)),  # 15:30-18:00 + 07:30-08:00
])
def test_the_sla_clock_counts_business_time(now: str, state: SlaState, expected: tuple[str, str, int]) -> None:
    made = ticket("2026-12-02 08:00")
    assert made.first_response_due == at("2026-12-02 15:30")
    shown = desk.clock(made, state, at(now))
    assert (shown.state, shown.text, shown.minutes) == expected


def test_the_clock_once_answered_and_without_sla() -> None:
    made = ticket("2026-12-02 08:00")
    answered, _ = lifecycle.apply(made, lifecycle.Respond(), at("2026-12-02 09:00"), AGENT)
    assert desk.clock(answered, SlaState.ON_TIME, at("2026-12-09 09:00")).text == "Respondido a tiempo"
    late, _ = lifecycle.apply(made, lifecycle.Respond(), at("2026-12-02 16:30"), AGENT)
    assert desk.clock(late, SlaState.BREACHED, at("2026-12-09 09:00")) == desk.Clock("breached", "Respondido con 1 h 00 min hábiles de retraso", None)
    problem, _ = lifecycle.new_ticket(ticket_type="problem", urgency="low", impact="individual", subject="s", detail="d",
                                      requester_name="A", requester_contact="a", channel="portal", created_at=at("2026-12-02 08:00"), actor=AGENT)
    assert desk.clock(problem, None, at("2026-12-02 09:00")).text == "Sin ANS de primera respuesta"


def test_actions_follow_the_lifecycle() -> None:
    new = ticket("2026-12-02 08:00")
    assert desk.actions(new, None, "laura") == ("take", "respond", "note", "escalate", "resolve", "reclassify", "log_work")
    assert "take" not in desk.actions(new, "laura", "laura") and "take" in desk.actions(new, "pedro", "laura")
    resolved, _ = lifecycle.apply(new, lifecycle.Resolve(), at("2026-12-02 09:00"), AGENT)
    assert desk.actions(resolved, "laura", "laura") == ("reopen", "log_work")
    escalated, _ = lifecycle.apply(new, lifecycle.Escalate(), at("2026-12-02 09:00"), AGENT)
    assert "escalate" not in desk.actions(escalated, "laura", "laura")
    closed, _ = lifecycle.close_if_due(resolved, at("2026-12-05 09:00"))
    assert desk.actions(closed, "laura", "laura") == ()
    # Every action offered is one the lifecycle accepts (the page never offers a refusal).
    for state in (new, resolved, escalated):
        for name in desk.actions(state, None, "laura"):
            action = {"respond": lifecycle.Respond(), "note": lifecycle.Respond(public=False), "escalate": lifecycle.Escalate(),
                      "resolve": lifecycle.Resolve(), "reopen": lifecycle.Reopen(),
                      "reclassify": lifecycle.ChangeClassification("low", "individual")}.get(name)
            if action is not None:
                lifecycle.apply(state, action, at("2026-12-02 10:00"), AGENT)
    assert desk.refusal("reopen", "new") == "No se puede «Reabrir» un caso en estado «Nuevo»."


@pytest.mark.parametrize(("before", "after", "lines"), [
    ({"priority": "low", "first_response_due": "2026-12-03T21:00:00+00:00"},
     {"priority": "high", "first_response_due": "2026-12-03T16:00:00+00:00"},
     ["Prioridad: Baja → Alta", "Vence la primera respuesta: 2026-12-03 16:00 → 2026-12-03 11:00"]),
    ({"resolved_at": None, "status": "in_progress"}, {"resolved_at": "2026-12-02T14:05:09.123456+00:00", "status": "resolved"},
     ["Resuelto: sin valor → 2026-12-02 09:05", "Estado: En curso → Resuelto"]),
    ({"escalated": False, "tier": 1}, {"escalated": True, "tier": 2}, ["Escalado: no → sí", "Nivel: 1 → 2"]),
    ({"assignee": None}, {"assignee": "laura"}, ["Responsable: sin valor → Laura Gómez"]),
    ({"linked_incidents": []}, {"linked_incidents": [4, 7]}, ["Incidentes vinculados: sin valor → #4, #7"]),
    ({}, {"subject": "x"}, []),  # a created event: no before, no change lines
])
def test_changes_are_spanish_lines(before: dict, after: dict, lines: list[str]) -> None:  # type: ignore[type-arg]
    assert desk.describe_changes(before, after, {"laura": "Laura Gómez"}) == lines


@pytest.mark.parametrize(("text", "devices", "shown"), [
    ("Firmware desactualizado: T21P 34.72.0.1 (2 equipos, acme)", None, "Firmware desactualizado: T21P 34.72.0.1 (2 equipos, Acme S.A.S.)"),
    ("Cliente: acme. Modelo: T21P.\nEquipos afectados: 1 (ver la lista)", 2, "Cliente: Acme S.A.S.. Modelo: T21P.\nEquipos afectados: 2 (ver la lista)"),
    ("acme-norte no es acme", None, "acme-norte no es Acme S.A.S."),  # only the whole slug
    ("Sin tono", None, "Sin tono"),
])
def test_shown_text_names_the_customer_and_counts_now(text: str, devices: int | None, shown: str) -> None:
    assert shown_text(text, "acme", {"acme": "Acme S.A.S."}, devices) == shown


NOW = at("2026-12-02 10:30")


def facts(priority: str, status: str, state: str | None, account: str = "acme", finding: str | None = None,
          created: str = "2026-12-01 08:00", due: str | None = "2026-12-01 14:00", answered: str | None = None) -> TicketFacts:
    return TicketFacts(priority, status, state, account, finding, at(created), at(due) if due else None, at(answered) if answered else None)


TICKETS = [
    facts("urgent", "new", "breached"),  # open, unanswered, past due: missed
    facts("high", "in_progress", "on_time", answered="2026-12-01 09:00"),  # met
    facts("high", "escalated", "at_risk", due="2026-12-02 11:00"),  # open, not decided yet
    facts("low", "resolved", "breached", account="beta", created="2026-11-10 08:00", due="2026-11-10 09:00", answered="2026-11-10 10:00"),
    facts("normal", "new", None, account="beta", due=None),  # a problem: no SLA
    facts("normal", "new", "on_time", finding="firmware_older", due="2026-12-03 08:00"),
    facts("normal", "closed", "on_time", finding="firmware_older", created="2026-11-20 08:00", due="2026-11-20 10:00", answered="2026-11-20 09:00"),
    facts("low", "new", "on_time", finding="unreachable", due="2026-12-03 08:00"),
]


def test_open_tickets_by_priority_and_sla() -> None:
    table = reports.open_by_priority(TICKETS)
    assert table["urgent"] == {"on_time": 0, "at_risk": 0, "breached": 1, "none": 0}
    assert table["high"] == {"on_time": 1, "at_risk": 1, "breached": 0, "none": 0}
    assert table["normal"] == {"on_time": 1, "at_risk": 0, "breached": 0, "none": 1}
    assert table["low"] == {"on_time": 1, "at_risk": 0, "breached": 0, "none": 0}  # the resolved one is not open


def test_first_response_compliance_per_month_and_customer() -> None:
    assert reports.compliance_by(TICKETS, NOW, "month") == {
        "2026-11": {"met": 1, "missed": 1, "rate": 50.0},
        "2026-12": {"met": 1, "missed": 1, "rate": 50.0},
    }
    assert reports.compliance_by(TICKETS, NOW, "account") == {
        "acme": {"met": 2, "missed": 1, "rate": 66.7},
        "beta": {"met": 0, "missed": 1, "rate": 0.0},
    }
    assert reports.compliance_by([], NOW, "month") == {}


def test_incidents_phones_and_boots() -> None:
    assert reports.incidents_by_finding(TICKETS) == {"firmware_older": {"open": 1, "total": 2}, "unreachable": {"open": 1, "total": 1}}
    phones = [PhoneFacts("T21P", "ok"), PhoneFacts("T21P", "findings"), PhoneFacts(None, "unseen"), PhoneFacts("GXP1620", "ok")]
    assert reports.phones_by_model(phones) == {
        "?": {"ok": 0, "findings": 0, "unseen": 1}, "GXP1620": {"ok": 1, "findings": 0, "unseen": 0},
        "T21P": {"ok": 1, "findings": 1, "unseen": 0}}
    boots = [at("2026-12-02 10:05"), at("2026-12-02 10:29"), at("2026-12-02 09:59"), at("2026-12-01 11:00"), at("2026-12-01 10:59"),
             at("2026-12-02 10:31")]  # the last is after now; 10:59 yesterday is before the first hour
    hours = reports.boots_per_hour(boots, NOW)
    assert len(hours) == 24 and list(hours)[0] == "2026-12-01 11:00" and list(hours)[-1] == "2026-12-02 10:00"
    assert (hours["2026-12-02 10:00"], hours["2026-12-02 09:00"], hours["2026-12-01 11:00"], sum(hours.values())) == (2, 1, 1, 4)


def test_the_dashboard_is_every_figure() -> None:
    figures = reports.dashboard(TICKETS, [PhoneFacts("T21P", "ok")], [], NOW)
    assert figures["open_tickets"] == 6 and figures["at"] == "2026-12-02T10:30:00-05:00"
    assert set(figures) == {"at", "open_tickets", "open_by_priority", "first_response_by_month", "first_response_by_customer",
                            "incidents_by_finding", "phones_by_model", "boots_per_hour"}


def test_count_axes_are_whole_numbers() -> None:
    from provisioner.web.dashboard import whole_numbers

    assert whole_numbers(0) == [0, 1] and whole_numbers(3) == [0, 1, 2, 3] and whole_numbers(12) == [0, 3, 6, 9, 12]
