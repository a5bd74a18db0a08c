"""Requesters' rules and the portal's plain questions, as tables (provisioner.requesters, provisioner.portal_rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provisioner.errors import InputError
from provisioner.portal_rules import (
    PUBLIC_EVENT_KINDS, REACH_CHOICES, STOPPED_CHOICES, classify, device_summary, public_events, ticket_type,
)
from provisioner.requesters import (
    domain_allowed, link_expiry, normalise_email, parse_domains, password_problem,
)
from support_link.priority import priority_for

EMAILS = [
    ("Ana.Perez@Acme.CO", "ana.perez@acme.co"),
    ("  luis+soporte@ventas.acme.com.co ", "luis+soporte@ventas.acme.com.co"),
    ("o'brien@tornillo.co", "o'brien@tornillo.co"),
]
BAD_EMAILS = ["", "ana", "ana@", "@acme.co", "ana@@acme.co", "ana@acme@co", "ana perez@acme.co", "ana@acme",
              "ana@acme..co", ".ana@acme.co", "ana.@acme.co", "ana@-acme.co", "ana@acme.123", "a" * 250 + "@acme.co"]


@pytest.mark.parametrize(("given", "stored"), EMAILS)
def test_an_address_has_one_spelling(given: str, stored: str) -> None:
    assert normalise_email(given) == stored


@pytest.mark.parametrize("given", BAD_EMAILS)
def test_a_bad_address_is_refused_in_spanish(given: str) -> None:
    with pytest.raises(InputError, match="correo"):
        normalise_email(given)


DOMAINS = [
    ("acme.co", ("acme.co",)),
    ("Acme.co, acme.com.co  @ventas.acme.co", ("acme.co", "acme.com.co", "ventas.acme.co")),
    ("acme.co,acme.co", ("acme.co",)),
    ("", ()),
    (" , ", ()),
]


@pytest.mark.parametrize(("text", "domains"), DOMAINS)
def test_declared_domains_are_parsed(text: str, domains: tuple[str, ...]) -> None:
    assert parse_domains(text) == domains


@pytest.mark.parametrize("text", ["acme", "acme..co", "ac me.co,", "-acme.co", "acme.co/x", "*.acme.co"])
def test_a_bad_domain_is_named(text: str) -> None:
    with pytest.raises(InputError, match="dominio"):
        parse_domains(text)


ALLOWED = [
    ("ana@acme.co", "acme.co,acme.com.co", True),
    ("ANA@ACME.CO", "acme.co", True),
    ("ana@acme.com.co", "acme.co,acme.com.co", True),
    ("ana@ventas.acme.co", "acme.co", False),  # no subdomains unless declared
    ("ana@acme.co.evil.example", "acme.co", False),
    ("ana@evilacme.co", "acme.co", False),
    ("ana@acme.co", "", False),
    ("not an address", "acme.co", False),
]


@pytest.mark.parametrize(("email", "declared", "allowed"), ALLOWED)
def test_only_declared_domains_may_register(email: str, declared: str, allowed: bool) -> None:
    assert domain_allowed(email, declared) is allowed


PASSWORDS = [
    ("corta", "al menos 10"),
    ("x" * 201, "como máximo"),
    (" espacio al inicio", "espacios"),
    ("aaaaaaaaaaaa", "distintos"),
    ("ana.perez1", "su correo"),
    ("Caballo-Bateria-42", None),
]


@pytest.mark.parametrize(("password", "problem"), PASSWORDS)
def test_password_rules(password: str, problem: str | None) -> None:
    found = password_problem(password, "ana.perez1@acme.co")
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_links_last_by_purpose() -> None:
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert link_expiry("invite", now) == now + timedelta(days=7)
    assert link_expiry("register", now) == now + timedelta(days=1)
    with pytest.raises(InputError):
        link_expiry("forever", now)


# The two plain questions -> (urgency, impact) -> the rulebook's priority (service-model.md §4).
QUESTIONS = [
    ("si", "empresa", "high", "organization", "urgent"),
    ("si", "area", "high", "department", "high"),
    ("si", "persona", "high", "individual", "normal"),
    ("fallas", "empresa", "medium", "organization", "high"),
    ("fallas", "area", "medium", "department", "normal"),
    ("fallas", "persona", "medium", "individual", "low"),
    ("consulta", "empresa", "low", "organization", "normal"),
    ("consulta", "area", "low", "department", "low"),
    ("consulta", "persona", "low", "individual", "low"),
]


@pytest.mark.parametrize(("stopped", "reach", "urgency", "impact", "priority"), QUESTIONS)
def test_plain_questions_map_to_the_matrix(stopped: str, reach: str, urgency: str, impact: str, priority: str) -> None:
    assert classify(stopped, reach) == (urgency, impact)
    assert priority_for(*classify(stopped, reach)) == priority


def test_every_answer_is_in_the_table_and_the_words_are_plain() -> None:
    assert {(s, r) for s, r, *_ in QUESTIONS} == {(s, r) for s in STOPPED_CHOICES for r in REACH_CHOICES}
    assert "detenido" in STOPPED_CHOICES["si"][0] and "fallas" in STOPPED_CHOICES["fallas"][0]
    assert "consulta" in STOPPED_CHOICES["consulta"][0] and "empresa" in REACH_CHOICES["empresa"][0]


@pytest.mark.parametrize(("stopped", "reach", "message"), [
    ("", "empresa", "detenido"), ("high", "empresa", "detenido"), ("si", "", "cuántas"), ("si", "organization", "cuántas"),
])
def test_a_missing_answer_asks_the_question_again(stopped: str, reach: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        classify(stopped, reach)


def test_the_type_is_one_of_two() -> None:
    assert ticket_type("incident") == "incident" and ticket_type("requirement") == "requirement"
    with pytest.raises(InputError):
        ticket_type("problem")  # problems are the staff's


class _Event:
    def __init__(self, kind: str) -> None:
        self.kind = kind


def test_a_requester_reads_only_public_events() -> None:
    kinds = ["created", "internal_note", "device_joined", "public_response", "system_message", "work_logged",
             "assigned", "linked_problem", "requester_reply", "resolution_date_proposed", "survey_closed"]
    shown = [event.kind for event in public_events([_Event(kind) for kind in kinds])]
    assert shown == ["created", "public_response", "requester_reply", "resolution_date_proposed", "survey_closed"]
    assert "internal_note" not in PUBLIC_EVENT_KINDS


@pytest.mark.parametrize(("count", "text"), [(0, ""), (1, "1 equipo afectado"), (3, "3 equipos afectados")])
def test_devices_are_summarised(count: int, text: str) -> None:
    assert device_summary(count) == text
