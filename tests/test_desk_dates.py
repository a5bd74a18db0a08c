"""A requirement's agreed resolution date on the agents' desk (pure): which buttons are offered,
which dates an agent may propose (Bogota's days), and how the page says the date and a proposal."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from support_link import desk, lifecycle
from support_link.lifecycle import Actor, ActorKind

BOG = ZoneInfo("America/Bogota")
UTC = ZoneInfo("UTC")
AGENT = Actor(ActorKind.AGENT, "laura")
REQUESTER = Actor(ActorKind.REQUESTER, "marta@clinica.example")


def at(text: str, zone: ZoneInfo = BOG) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def requirement(kind: str = "requirement") -> lifecycle.Ticket:
    made, _ = lifecycle.new_ticket(ticket_type=kind, urgency="medium", impact="individual", subject="Nueva extensión",
                                   detail="Crear la extensión 215 para la recepción.", requester_name="Marta Ríos",
                                   requester_contact="marta@clinica.example", channel="portal",
                                   created_at=at("2026-12-02 08:00"), actor=REQUESTER, ticket_id=7)
    return made


def test_a_requirement_offers_a_date_and_an_incident_does_not() -> None:
    assert "propose_date" in desk.actions(requirement(), "laura", "laura")
    assert "propose_date" not in desk.actions(requirement("incident"), "laura", "laura")
    assert "propose_date" not in desk.actions(requirement("problem"), "laura", "laura")


def test_accepting_is_offered_only_for_the_requesters_proposal() -> None:
    ticket = requirement()
    assert "accept_date" not in desk.actions(ticket, "laura", "laura")  # nothing proposed
    proposed, _ = lifecycle.apply(ticket, lifecycle.ProposeResolutionDate(date(2026, 12, 10)), at("2026-12-02 09:00"), AGENT)
    assert "accept_date" not in desk.actions(proposed, "laura", "laura")  # the agent's own proposal
    countered, _ = lifecycle.apply(proposed, lifecycle.ProposeResolutionDate(date(2026, 12, 14)), at("2026-12-02 10:00"), REQUESTER)
    offered = desk.actions(countered, "laura", "laura")
    assert "accept_date" in offered and "propose_date" in offered
    agreed, _ = lifecycle.apply(countered, lifecycle.AcceptResolutionDate(), at("2026-12-02 11:00"), AGENT)  # accepted as offered
    assert agreed.agreed_resolution_on == date(2026, 12, 14) and "accept_date" not in desk.actions(agreed, "laura", "laura")
    resolved, _ = lifecycle.apply(agreed, lifecycle.Resolve(), at("2026-12-03 09:00"), AGENT)
    assert "propose_date" not in desk.actions(resolved, "laura", "laura")


@pytest.mark.parametrize(("on", "now", "problem"), [
    ("2026-12-03", at("2026-12-02 10:00"), None),
    ("2027-12-03", at("2026-12-02 10:00"), None),  # a year and a day (366 days): still allowed
    ("2026-12-02", at("2026-12-02 10:00"),
     "La fecha de solución debe ser posterior a hoy en Bogotá (2026-12-02): elija el 2026-12-03 o una fecha más adelante."),
    ("2026-11-30", at("2026-12-02 10:00"),
     "La fecha de solución debe ser posterior a hoy en Bogotá (2026-12-02): elija el 2026-12-03 o una fecha más adelante."),
    # 02:00 UTC on Dec 3 is 21:00 on Dec 2 in Bogota: Dec 3 is tomorrow here, though today in UTC.
    ("2026-12-03", at("2026-12-03 02:00", UTC), None),
    ("2026-12-02", at("2026-12-03 02:00", UTC),
     "La fecha de solución debe ser posterior a hoy en Bogotá (2026-12-02): elija el 2026-12-03 o una fecha más adelante."),
    ("2027-12-04", at("2026-12-02 10:00"), "La fecha de solución no puede estar a más de un año: elija una fecha hasta el 2027-12-03."),
])
def test_which_dates_an_agent_may_propose(on: str, now: datetime, problem: str | None) -> None:
    assert desk.resolution_date_problem(date.fromisoformat(on), now) == problem


def test_the_page_says_the_agreed_date_and_whether_it_was_met() -> None:
    ticket = requirement()
    assert desk.agreed_date_text(ticket, at("2026-12-02 12:00")) is None and desk.proposal_text(ticket) is None
    proposed, _ = lifecycle.apply(ticket, lifecycle.ProposeResolutionDate(date(2026, 12, 10)), at("2026-12-02 09:00"), AGENT)
    assert desk.proposal_text(proposed) == "2026-12-10, propuesta por la mesa de ayuda"
    countered, _ = lifecycle.apply(proposed, lifecycle.ProposeResolutionDate(date(2026, 12, 14)), at("2026-12-02 10:00"), REQUESTER)
    assert desk.proposal_text(countered) == "2026-12-14, propuesta por el solicitante"
    agreed, _ = lifecycle.apply(countered, lifecycle.AcceptResolutionDate(), at("2026-12-02 11:00"), AGENT)
    assert desk.proposal_text(agreed) is None
    assert desk.agreed_date_text(agreed, at("2026-12-14 23:00")) == "2026-12-14 (pendiente)"
    assert desk.agreed_date_text(agreed, at("2026-12-15 08:00")) == "2026-12-14 (incumplida)"
    on_time, _ = lifecycle.apply(agreed, lifecycle.Resolve(), at("2026-12-14 18:00"), AGENT)
    assert desk.agreed_date_text(on_time, at("2026-12-20 08:00")) == "2026-12-14 (cumplida)"
    late, _ = lifecycle.apply(agreed, lifecycle.Resolve(), at("2026-12-15 08:00"), AGENT)
    assert desk.agreed_date_text(late, at("2026-12-15 09:00")) == "2026-12-14 (incumplida)"


def test_the_timeline_says_the_date_changes_in_spanish() -> None:
    lines = desk.describe_changes({"proposed_resolution_on": None, "proposed_by": None},
                                  {"proposed_resolution_on": "2026-12-14", "proposed_by": "requester"})
    assert lines == ["Fecha de solución propuesta: sin valor → 2026-12-14", "Propuesta por: sin valor → el solicitante"]


def test_a_refused_date_action_says_the_rule_it_broke() -> None:
    assert desk.refusal_for("propose_date", requirement("incident")) == "Solo los requerimientos tienen una fecha de solución acordada con el cliente."
    assert desk.refusal_for("accept_date", requirement()) == "Solo se acepta una fecha que propuso el solicitante."
    resolved, _ = lifecycle.apply(requirement(), lifecycle.Resolve(), at("2026-12-02 09:00"), AGENT)
    assert desk.refusal_for("propose_date", resolved) == "No se puede «Proponer fecha de solución» un caso en estado «Resuelto»."


@pytest.mark.parametrize(("proposed", "now", "problem"), [
    (None, at("2026-12-10 09:00"), None),
    ("2026-12-10", at("2026-12-10 23:59"), None),  # its own day: still ahead
    ("2026-12-10", at("2026-12-11 04:30", UTC), None),  # 23:30 on Dec 10 in Bogota
    ("2026-12-10", at("2026-12-11 00:01"), "La fecha propuesta (2026-12-10) ya pasó en Bogotá: proponga otra en lugar de aceptarla."),
])
def test_a_proposal_whose_day_is_gone_is_not_accepted(proposed: str | None, now: datetime, problem: str | None) -> None:
    ticket = requirement()
    if proposed is not None:
        ticket, _ = lifecycle.apply(ticket, lifecycle.ProposeResolutionDate(date.fromisoformat(proposed)), at("2026-12-02 09:00"), REQUESTER)
    assert desk.acceptance_problem(ticket, now) == problem
