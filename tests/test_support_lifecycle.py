"""Ticket lifecycle: creation rules, transitions, the first-response clock, auto-close, events."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support_link.calendar import BOGOTA
from support_link.errors import (
    ActorError,
    ClassificationError,
    ClockError,
    MissingFieldsError,
    NaiveDatetimeError,
    TicketError,
    TransitionError,
)
from support_link.lifecycle import (
    Action,
    Actor,
    ActorKind,
    ChangeClassification,
    CloseIfDue,
    Escalate,
    LinkIncident,
    Reopen,
    RequesterReply,
    Resolve,
    Respond,
    Status,
    Ticket,
    apply,
    close_if_due,
    link,
    new_ticket,
)
from support_link.sla import SlaState


def bog(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BOGOTA)


AGENT = Actor(ActorKind.AGENT, "ana.gomez")
TIER2 = Actor(ActorKind.AGENT, "soporte.especializado")
REQUESTER = Actor(ActorKind.REQUESTER, "carlos@acme.example")
ROBOT = Actor(ActorKind.SYSTEM, "intake")
CREATED = bog(2026, 3, 18, 10, 0)  # Wednesday


def make(
    ticket_type: str = "incident",
    urgency: str = "high",
    impact: str = "organization",
    created_at: datetime = CREATED,
    ticket_id: int | None = None,
) -> Ticket:
    ticket, _ = new_ticket(
        ticket_type=ticket_type,
        urgency=urgency,
        impact=impact,
        subject="Teléfonos de recepción sin registro",
        detail="Las extensiones 101-104 no registran desde las 9:40",
        requester_name="Carlos Pérez",
        requester_contact="carlos@acme.example, +57 601 555 0101",
        channel="email",
        created_at=created_at,
        actor=ROBOT,
        ticket_id=ticket_id,
    )
    return ticket


RESOLVED_AT = bog(2026, 3, 18, 11, 0)


def resolved_ticket(at: datetime = RESOLVED_AT) -> Ticket:
    ticket, _ = apply(make(), Respond(public=True), bog(2026, 3, 18, 10, 20), AGENT)
    ticket, _ = apply(ticket, Resolve(), at, AGENT)
    return ticket


# --- creation -----------------------------------------------------------------------------


def test_new_ticket_classifies_and_sets_the_due_time() -> None:
    ticket, event = new_ticket(
        ticket_type="incident",
        urgency="high",
        impact="organization",
        subject=" Sin tono ",
        detail="Toda la sede sin tono",
        requester_name="Carlos Pérez",
        requester_contact="+57 601 555 0101",
        channel="phone",
        created_at=datetime(2026, 3, 18, 15, 0, tzinfo=UTC),  # 10:00 Bogota
        actor=AGENT,
    )
    assert (ticket.status, ticket.priority, ticket.tier, ticket.escalated) == ("new", "urgent", 1, False)
    assert ticket.created_at == ticket.sla_start == CREATED
    assert ticket.created_at.tzinfo is BOGOTA
    assert ticket.first_response_due == bog(2026, 3, 18, 11, 0)
    assert ticket.subject == "Sin tono"
    assert (event.kind, event.actor, event.at, event.before) == ("created", AGENT, CREATED, {})
    assert event.after["priority"] == "urgent"
    assert event.after["first_response_due"] == "2026-03-18T11:00:00-05:00"
    assert event.after["status"] == "new"
    json.dumps(event.after)  # the storage layer writes it as JSON as is


def test_every_missing_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as caught:
        new_ticket(
            ticket_type="incident", urgency="low", impact="individual", subject="  ", detail=None,
            requester_name="", requester_contact=None, channel="portal", created_at=CREATED, actor=REQUESTER,
        )
    assert caught.value.missing == ("requester_name", "requester_contact", "detail", "subject")
    assert str(caught.value) == "missing required ticket fields: requester_name, requester_contact, detail, subject"
    assert isinstance(caught.value, ValueError)


def test_one_missing_field() -> None:
    with pytest.raises(MissingFieldsError, match=r"fields: subject$"):
        new_ticket(
            ticket_type="requirement", urgency="low", impact="individual", subject="", detail="Cambiar nombre ext 101",
            requester_name="Carlos", requester_contact="carlos@acme.example", channel="whatsapp",
            created_at=CREATED, actor=REQUESTER,
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("channel", "fax", "unknown channel 'fax'; expected one of portal|email|phone|whatsapp|device"),
        ("ticket_type", "question", "unknown ticket type 'question'"),
        ("urgency", "urgent", "unknown urgency 'urgent'"),
    ],
)
def test_unknown_classification_values(field: str, value: str, message: str) -> None:
    arguments: dict[str, object] = {
        "ticket_type": "incident", "urgency": "high", "impact": "department", "subject": "s", "detail": "d",
        "requester_name": "n", "requester_contact": "c", "channel": "portal", "created_at": CREATED, "actor": REQUESTER,
    }
    arguments[field] = value
    with pytest.raises(ClassificationError, match=message.replace("|", r"\|")):
        new_ticket(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("channel", ["portal", "email", "phone", "whatsapp", "device"])
def test_all_channels_are_accepted(channel: str) -> None:
    ticket, _ = new_ticket(
        ticket_type="incident", urgency="low", impact="individual", subject="s", detail="d",
        requester_name="n", requester_contact="c", channel=channel, created_at=CREATED, actor=ROBOT,
    )
    assert ticket.channel == channel


def test_problems_have_no_first_response_clock() -> None:
    problem = make("problem")
    assert problem.first_response_due is None
    assert problem.first_response_state(bog(2026, 3, 30)) is None


def test_requirement_due_time() -> None:
    requirement = make("requirement", "medium", "department")  # normal: 24 h
    assert requirement.priority == "normal"
    assert requirement.first_response_due == bog(2026, 3, 20, 17, 30)  # Wed 6.5 + Thu 9 + Fri 8.5


# --- the first-response clock --------------------------------------------------------------


def test_first_public_response_by_an_agent_stops_the_clock() -> None:
    ticket = make()
    answered, events = apply(ticket, Respond(public=True), bog(2026, 3, 18, 10, 40), AGENT)
    assert answered.status is Status.IN_PROGRESS
    assert answered.first_response_at == bog(2026, 3, 18, 10, 40)
    assert [e.kind for e in events] == ["public_response"]
    assert events[0].before == {"status": "new", "first_response_at": None}
    assert events[0].after == {"status": "in_progress", "first_response_at": "2026-03-18T10:40:00-05:00"}
    assert answered.first_response_state(bog(2026, 3, 25)) == SlaState.ON_TIME  # frozen at 40 of 60 min
    again, events = apply(answered, Respond(public=True), bog(2026, 3, 18, 15, 0), AGENT)
    assert again.first_response_at == bog(2026, 3, 18, 10, 40)
    assert events[0].kind == "public_response" and events[0].before == events[0].after == {}


@pytest.mark.parametrize(
    ("action", "actor", "kind"),
    [(Respond(public=False), AGENT, "internal_note"), (Respond(public=True), ROBOT, "system_message")],
)
def test_notes_and_system_messages_do_not_stop_the_clock(action: Respond, actor: Actor, kind: str) -> None:
    ticket, events = apply(make(), action, bog(2026, 3, 18, 10, 5), actor)
    assert ticket.status is Status.NEW and ticket.first_response_at is None
    assert [e.kind for e in events] == [kind]
    assert ticket.first_response_state(bog(2026, 3, 18, 11, 1)) == SlaState.BREACHED


def test_a_requester_cannot_respond() -> None:
    with pytest.raises(ActorError, match="a requester cannot respond"):
        apply(make(), Respond(public=True), bog(2026, 3, 18, 10, 5), REQUESTER)


def test_escalation_keeps_the_clock_running() -> None:
    ticket = make()
    escalated, events = apply(ticket, Escalate(), bog(2026, 3, 18, 10, 10), AGENT)
    assert (escalated.status, escalated.tier, escalated.escalated) == ("escalated", 2, True)
    assert escalated.sla_start == ticket.sla_start and escalated.first_response_due == ticket.first_response_due
    assert escalated.first_response_at is None
    assert events[0].kind == "escalated" and events[0].after == {"status": "escalated", "escalated": True, "tier": 2}
    assert escalated.first_response_state(bog(2026, 3, 18, 10, 50)) == SlaState.AT_RISK
    answered, _ = apply(escalated, Respond(public=True), bog(2026, 3, 18, 10, 55), TIER2)
    assert answered.status is Status.ESCALATED and answered.first_response_at == bog(2026, 3, 18, 10, 55)


def test_resolving_an_unanswered_ticket_answers_it() -> None:
    resolved, _ = apply(make(), Resolve(), bog(2026, 3, 18, 10, 30), AGENT)
    assert resolved.first_response_at == bog(2026, 3, 18, 10, 30)
    by_system, _ = apply(make(), Resolve(), bog(2026, 3, 18, 10, 30), ROBOT)
    assert by_system.first_response_at is None


# --- resolution and closure ----------------------------------------------------------------


def test_auto_close_exactly_48_hours_after_resolution() -> None:
    resolved_at = bog(2026, 3, 20, 17, 0)  # Friday: wall-clock hours, weekends count
    ticket = resolved_ticket(resolved_at)
    assert ticket.auto_close_at == bog(2026, 3, 22, 17, 0)
    same, events = close_if_due(ticket, bog(2026, 3, 22, 16, 59, 59))
    assert same is ticket and events == []
    closed, events = close_if_due(ticket, bog(2026, 3, 22, 17, 0))
    assert closed.status is Status.CLOSED and closed.closed_at == bog(2026, 3, 22, 17, 0)
    assert [(e.kind, e.at, e.before, e.after) for e in events] == [
        ("closed", bog(2026, 3, 22, 17, 0), {"status": "resolved", "closed_at": None},
         {"status": "closed", "closed_at": "2026-03-22T17:00:00-05:00"})
    ]


def test_a_late_worker_closes_at_the_rule_time() -> None:
    closed, events = close_if_due(resolved_ticket(bog(2026, 3, 18, 11, 0)), bog(2026, 3, 23, 9, 0))
    assert closed.closed_at == bog(2026, 3, 20, 11, 0) and events[0].at == bog(2026, 3, 20, 11, 0)


@pytest.mark.parametrize("status", [Status.NEW, Status.IN_PROGRESS, Status.ESCALATED, Status.CLOSED])
def test_close_if_due_leaves_other_statuses_alone(status: Status) -> None:
    ticket = replace(make(), status=status)
    assert close_if_due(ticket, bog(2027, 1, 1)) == (ticket, [])


def test_requester_reply_before_close_reopens() -> None:
    ticket = resolved_ticket(bog(2026, 3, 18, 11, 0))
    reopened, events = apply(ticket, RequesterReply(), bog(2026, 3, 20, 10, 59, 59), REQUESTER)
    assert reopened.status is Status.IN_PROGRESS and reopened.resolved_at is None
    assert events[0].kind == "requester_reply"
    assert events[0].before == {"status": "resolved", "resolved_at": "2026-03-18T11:00:00-05:00"}
    assert reopened.auto_close_at is None
    assert close_if_due(reopened, bog(2026, 3, 30)) == (reopened, [])


def test_auto_close_counts_from_the_latest_resolution() -> None:
    ticket = resolved_ticket(bog(2026, 3, 18, 11, 0))
    ticket, _ = apply(ticket, RequesterReply(), bog(2026, 3, 19, 9, 0), REQUESTER)
    ticket, _ = apply(ticket, Resolve(), bog(2026, 3, 19, 16, 0), AGENT)
    still, events = close_if_due(ticket, bog(2026, 3, 20, 11, 0))  # 48 h after the first one
    assert still.status is Status.RESOLVED and events == []
    closed, _ = close_if_due(ticket, bog(2026, 3, 21, 16, 0))
    assert closed.closed_at == bog(2026, 3, 21, 16, 0)


def test_reply_at_the_close_moment_is_refused() -> None:
    ticket = resolved_ticket(bog(2026, 3, 18, 11, 0))
    with pytest.raises(TransitionError, match="closed automatically at 2026-03-20T11:00:00-05:00"):
        apply(ticket, RequesterReply(), bog(2026, 3, 20, 11, 0), REQUESTER)


def test_agent_reopen_and_who_may_reopen() -> None:
    ticket = resolved_ticket()
    reopened, events = apply(ticket, Reopen(), bog(2026, 3, 19, 9, 0), AGENT)
    assert reopened.status is Status.IN_PROGRESS and events[0].kind == "reopened"
    with pytest.raises(ActorError):
        apply(ticket, Reopen(), bog(2026, 3, 19, 9, 0), REQUESTER)


def test_requester_reply_on_an_open_ticket_is_only_recorded() -> None:
    ticket, _ = apply(make(), Respond(public=True), bog(2026, 3, 18, 10, 20), AGENT)
    same, events = apply(ticket, RequesterReply(), bog(2026, 3, 18, 10, 30), REQUESTER)
    assert same == ticket
    assert [(e.kind, e.before, e.after) for e in events] == [("requester_reply", {}, {})]


# --- reclassification -----------------------------------------------------------------------


def test_reclassification_recomputes_from_the_original_start_and_may_breach_at_once() -> None:
    ticket = make(urgency="low", impact="individual", created_at=bog(2026, 3, 18, 8, 0))  # low: 16 h
    assert ticket.first_response_due == bog(2026, 3, 19, 16, 30)
    now = bog(2026, 3, 19, 10, 0)
    assert ticket.first_response_state(now) == SlaState.ON_TIME
    urgent, events = apply(ticket, ChangeClassification(urgency="high", impact="organization"), now, AGENT)
    assert urgent.priority == "urgent"
    assert urgent.first_response_due == bog(2026, 3, 18, 9, 0)  # 1 h from Wednesday 08:00
    assert urgent.first_response_state(now) == SlaState.BREACHED
    assert [e.kind for e in events] == ["reclassified"]
    assert events[0].before == {
        "urgency": "low", "impact": "individual", "priority": "low", "first_response_due": "2026-03-19T16:30:00-05:00",
    }
    assert events[0].after == {
        "urgency": "high", "impact": "organization", "priority": "urgent", "first_response_due": "2026-03-18T09:00:00-05:00",
    }


def test_reclassification_to_the_same_values_writes_nothing() -> None:
    ticket = make()
    assert apply(ticket, ChangeClassification("high", "organization"), bog(2026, 3, 18, 10, 5), AGENT) == (ticket, [])


def test_reclassification_refuses_unknown_values() -> None:
    with pytest.raises(ClassificationError, match="unknown impact 'everyone'"):
        apply(make(), ChangeClassification("high", "everyone"), bog(2026, 3, 18, 10, 5), AGENT)


def test_problem_reclassification_keeps_no_due_time() -> None:
    problem, events = apply(make("problem"), ChangeClassification("low", "individual"), bog(2026, 3, 18, 11), AGENT)
    assert problem.priority == "low" and problem.first_response_due is None and len(events) == 1


# --- problems ---------------------------------------------------------------------------------


def test_a_problem_links_the_incidents_it_explains() -> None:
    problem, incident = make("problem", ticket_id=10), make(ticket_id=3)
    (problem2, p_events), (incident2, i_events) = link(problem, incident, bog(2026, 3, 19, 9, 0), TIER2)
    assert problem2.linked_incidents == (3,) and incident2.problem_id == 10
    assert p_events[0].kind == "linked_incident" and p_events[0].after == {"linked_incidents": [3]}
    assert i_events[0].kind == "linked_problem" and i_events[0].after == {"problem_id": 10}
    (problem3, again), _ = link(problem2, incident2, bog(2026, 3, 19, 9, 5), TIER2)
    assert problem3 == problem2 and again == []


def test_only_problems_link_incidents() -> None:
    with pytest.raises(TransitionError, match=r"only problem tickets allow it \(this ticket's type is incident\)"):
        apply(make(ticket_id=1), LinkIncident(2), bog(2026, 3, 19), AGENT)
    with pytest.raises(TransitionError, match=r"only incident tickets allow it \(this ticket's type is requirement\)"):
        link(make("problem", ticket_id=1), make("requirement", ticket_id=2), bog(2026, 3, 19), AGENT)
    with pytest.raises(TicketError, match="stored tickets"):
        link(make("problem"), make(ticket_id=2), bog(2026, 3, 19), AGENT)


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.CLOSED, Respond(public=True)),
        (Status.CLOSED, Escalate()),
        (Status.CLOSED, Resolve()),
        (Status.CLOSED, Reopen()),
        (Status.CLOSED, ChangeClassification("low", "individual")),
        (Status.RESOLVED, Escalate()),
        (Status.RESOLVED, Resolve()),
        (Status.RESOLVED, Respond(public=True)),
        (Status.RESOLVED, ChangeClassification("low", "individual")),
        (Status.ESCALATED, Escalate()),
        (Status.NEW, Reopen()),
        (Status.IN_PROGRESS, Reopen()),
    ],
)
def test_illegal_transitions_name_status_and_action(status: Status, action: Action) -> None:
    ticket = replace(make(), status=status, resolved_at=bog(2026, 3, 18, 11) if status is Status.RESOLVED else None)
    with pytest.raises(TransitionError, match=f"^cannot {action.name} a ticket whose status is {status}$") as caught:
        apply(ticket, action, bog(2026, 3, 18, 12), AGENT)
    assert (caught.value.status, caught.value.action) == (status, action.name)


def test_requester_reply_on_a_closed_ticket_is_refused() -> None:
    closed, _ = close_if_due(resolved_ticket(), bog(2026, 3, 25))
    with pytest.raises(TransitionError, match="cannot requester_reply a ticket whose status is closed"):
        apply(closed, RequesterReply(), bog(2026, 3, 25), REQUESTER)


def test_actions_before_creation_or_with_naive_times_are_refused() -> None:
    with pytest.raises(ClockError, match="before the ticket was created"):
        apply(make(), Respond(public=True), bog(2026, 3, 18, 9, 59), AGENT)
    with pytest.raises(NaiveDatetimeError):
        apply(make(), Respond(public=True), datetime(2026, 3, 18, 10, 30), AGENT)


# --- property: invariants over random histories ------------------------------------------------

ACTIONS: list[tuple[Action, Actor]] = [
    (Respond(public=True), AGENT), (Respond(public=False), AGENT), (Respond(public=True), ROBOT),
    (Escalate(), AGENT), (Resolve(), AGENT), (Reopen(), AGENT), (RequesterReply(), REQUESTER),
    (ChangeClassification("low", "individual"), AGENT), (ChangeClassification("high", "organization"), AGENT),
    (CloseIfDue(), ROBOT),
]


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30))),
        max_size=25,
    )
)
def test_random_histories_keep_the_invariants(steps: list[tuple[tuple[Action, Actor], timedelta]]) -> None:
    ticket, now = make(), CREATED
    first_answer: datetime | None = None
    for (action, actor), gap in steps:
        now += gap
        try:
            ticket, events = apply(ticket, action, now, actor)
        except TicketError:
            continue
        assert ticket.sla_start == CREATED
        if first_answer is not None:
            assert ticket.first_response_at == first_answer  # the clock stops once
        first_answer = ticket.first_response_at
        assert (ticket.status is Status.CLOSED) == (ticket.closed_at is not None)
        assert (ticket.status is Status.RESOLVED) == (ticket.resolved_at is not None) or ticket.status is Status.CLOSED
        assert ticket.escalated == (ticket.tier == 2)
        for event in events:
            json.dumps([event.before, event.after])
            assert set(event.before) == set(event.after)
