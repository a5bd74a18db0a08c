"""support_link's storage: its own tables and migrations, its queries, on SQLite and PostgreSQL.

Every database test runs twice: on a SQLite file and on a scratch PostgreSQL database
(`sl_test_*`, cloned from a migrated template and dropped afterwards).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.engine import make_engine
from provisioner.db.engine import upgrade as upgrade_provisioning
from support_link.calendar import BOGOTA
from support_link.errors import (
    AlreadyStoredError,
    BillingError,
    ClassificationError,
    DedupKeyError,
    NaiveDatetimeError,
    TicketNotFoundError,
    TransitionError,
)
from support_link.lifecycle import (
    Actor,
    ActorKind,
    ChangeClassification,
    CloseIfDue,
    Escalate,
    Event,
    RequesterReply,
    Resolve,
    Respond,
    Ticket,
    new_ticket,
)
from support_link.sla import SlaState
from support_link.store import VERSION_TABLE, include_name, upgrade
from support_link.store import affected_devices, tickets, work_logs
from support_link.store.models import Base

POSTGRES_URL = os.environ.get("PROVISIONER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AGENT = Actor(ActorKind.AGENT, "ana.gomez")
REQUESTER = Actor(ActorKind.REQUESTER, "carlos@acme.example")
INTAKE = Actor(ActorKind.SYSTEM, "intake")


def bog(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BOGOTA)


CREATED = bog(2026, 3, 18, 10, 0)  # Wednesday; incident urgent -> due 11:00


# --- scratch databases ----------------------------------------------------------------------


def _admin() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _drop(name: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", name="sl_pg_template")
def template_fixture() -> Iterator[str]:
    """A migrated PostgreSQL template database, made once per test session."""
    name = f"sl_test_template_{uuid.uuid4().hex[:8]}"
    try:
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    _drop(name)


@dataclass
class Db:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]


@pytest.fixture(params=["sqlite", "postgresql"], name="db")
def db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    """A fresh database with support_link's tables: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'support.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        yield Db("sqlite", url, engine, sessionmaker(engine, expire_on_commit=False))
        engine.dispose()
        return
    template = request.getfixturevalue("sl_pg_template")
    name = f"sl_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    engine = make_engine(_pg_url(name))
    try:
        yield Db("postgresql", _pg_url(name), engine, sessionmaker(engine, expire_on_commit=False))
    finally:
        engine.dispose()
        _drop(name)


# --- tickets to store -----------------------------------------------------------------------


def fresh(
    *, ticket_type: str = "incident", urgency: str = "high", impact: str = "organization",
    created_at: datetime = CREATED, dedup_key: str | None = None, subject: str = "Recepción sin tono",
    channel: str = "email",
) -> tuple[Ticket, Event]:
    return new_ticket(
        ticket_type=ticket_type, urgency=urgency, impact=impact, subject=subject,
        detail="Las extensiones 101-104 no registran desde las 9:40",
        requester_name="Carlos Pérez", requester_contact="carlos@acme.example, +57 601 555 0101",
        channel=channel, created_at=created_at, actor=INTAKE, dedup_key=dedup_key,
    )


def store(db: Db, account: str = "acme", finding: str | None = None, **kwargs: object) -> int:
    ticket, event = fresh(**kwargs)  # type: ignore[arg-type]
    with db.sessions.begin() as session:
        return tickets.create(session, ticket, event, account, finding)


# --- migrations -----------------------------------------------------------------------------


def test_upgrade_is_idempotent_and_uses_its_own_version_table(db: Db) -> None:
    upgrade(db.engine)
    upgrade(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {"sl_ticket", "sl_ticket_event", "sl_affected_device", "sl_work_log", VERSION_TABLE} <= tables
    assert "alembic_version" not in tables  # the provisioning migrations' table stays theirs
    with db.engine.connect() as conn:
        assert conn.execute(text(f"select version_num from {VERSION_TABLE}")).scalar_one() == "sl0003"  # the head: sl0003 added the customer side


def test_shares_a_database_with_the_provisioning_migrations(db: Db) -> None:
    upgrade_provisioning(db.engine)
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() != "sl0001"
        assert conn.execute(text(f"select version_num from {VERSION_TABLE}")).scalar_one() == "sl0003"
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), Base.metadata)
    assert diffs == []  # the migration builds exactly the models, and ignores the other tables


def test_the_migration_matches_the_models(db: Db) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []
    indexes = {index["name"]: index for index in inspect(db.engine).get_indexes("sl_ticket")}
    assert indexes["uq_open_ticket_key"]["unique"]


# --- create / get ---------------------------------------------------------------------------


def test_create_and_get_round_trip(db: Db) -> None:
    ticket, event = fresh(dedup_key="acme|firmware_older|T21P|9.73.0.50")
    with db.sessions.begin() as session:
        ticket_id = tickets.create(session, ticket, event, "acme", "firmware_older")
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert stored.ticket == replace(ticket, id=ticket_id)
    assert stored.ticket.created_at.utcoffset() == timedelta(hours=-5)
    assert (stored.account, stored.finding, stored.sla_state) == ("acme", "firmware_older", SlaState.ON_TIME)
    assert [(e.kind, e.actor, e.at) for e in stored.events] == [("created", INTAKE, CREATED)]
    assert stored.events[0].after["id"] == ticket_id
    assert stored.events[0].after["first_response_due"] == "2026-03-18T11:00:00-05:00"
    assert (stored.devices, stored.work_logs, stored.mail_message_id) == ((), (), None)


def test_datetimes_are_stored_in_utc(db: Db) -> None:
    ticket_id = store(db)
    with db.engine.connect() as conn:
        raw = conn.execute(text("select created_at from sl_ticket where id = :id"), {"id": ticket_id}).scalar_one()
    if db.backend == "sqlite":
        assert str(raw).startswith("2026-03-18 15:00:00")  # 10:00 Bogota, written as UTC wall time
    else:
        assert raw == datetime(2026, 3, 18, 15, 0, tzinfo=UTC)


def test_a_utc_input_reads_back_in_bogota(db: Db) -> None:
    ticket_id = store(db, created_at=datetime(2026, 3, 18, 15, 0, tzinfo=UTC))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert stored.ticket.created_at == CREATED
    assert stored.ticket.first_response_due is not None
    assert stored.ticket.first_response_due.isoformat() == "2026-03-18T11:00:00-05:00"


def test_a_naive_datetime_is_refused_by_the_column_type(db: Db) -> None:
    ticket, event = fresh()
    with db.sessions() as session, pytest.raises(Exception) as caught:
        tickets.create(session, replace(ticket, resolved_at=datetime(2026, 3, 18, 12, 0)), event, "acme")
    assert isinstance(caught.value, NaiveDatetimeError) or isinstance(caught.value.__cause__, NaiveDatetimeError)


def test_get_of_a_missing_ticket(db: Db) -> None:
    with db.sessions() as session, pytest.raises(TicketNotFoundError) as caught:
        tickets.get(session, 999)
    assert isinstance(caught.value, LookupError) and caught.value.ticket_id == 999


def test_create_refuses_a_ticket_that_already_has_an_id(db: Db) -> None:
    ticket, event = fresh()
    with db.sessions() as session, pytest.raises(AlreadyStoredError):
        tickets.create(session, replace(ticket, id=7), event, "acme")


# --- act ------------------------------------------------------------------------------------


def test_act_stores_state_events_and_notes(db: Db) -> None:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        answered = tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20), note="Revisamos el SBC")
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(public=False), AGENT, bog(2026, 3, 18, 10, 25), note="Posible caída del troncal")
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 30))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert answered.status == "in_progress" and answered.first_response_at == bog(2026, 3, 18, 10, 20)
    assert (stored.ticket.status, stored.ticket.tier, stored.ticket.escalated) == ("escalated", 2, True)
    assert stored.ticket.first_response_at == bog(2026, 3, 18, 10, 20)
    assert stored.sla_state is SlaState.ON_TIME  # frozen by the response
    timeline = [(e.kind, str(e.actor), e.note) for e in stored.events]
    assert timeline == [
        ("created", "system:intake", None),
        ("public_response", "agent:ana.gomez", "Revisamos el SBC"),
        ("internal_note", "agent:ana.gomez", "Posible caída del troncal"),
        ("escalated", "agent:ana.gomez", None),
    ]
    assert stored.events[1].before == {"status": "new", "first_response_at": None}
    assert stored.events[3].after == {"status": "escalated", "escalated": True, "tier": 2}
    assert stored.updated_at == bog(2026, 3, 18, 10, 30)


def test_a_refused_action_changes_nothing(db: Db) -> None:
    ticket_id = store(db)
    with db.sessions() as session, pytest.raises(TransitionError):
        tickets.act(session, ticket_id, CloseIfDue(), AGENT, CREATED)  # allowed, no-op
        tickets.act(session, ticket_id, RequesterReply(), REQUESTER, CREATED)
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 10, 10))
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 11))  # resolved: refused
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert stored.ticket.status == "new" and [e.kind for e in stored.events] == ["created"]


def test_act_on_a_missing_ticket(db: Db) -> None:
    with db.sessions() as session, pytest.raises(TicketNotFoundError):
        tickets.act(session, 41, Respond(), AGENT, CREATED)


def test_a_note_on_an_action_that_changes_nothing_is_kept(db: Db) -> None:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, ChangeClassification("high", "organization"), AGENT, CREATED, note="Sigue urgente")
    with db.sessions() as session:
        events = tickets.get(session, ticket_id).events
    assert [(e.kind, e.note) for e in events] == [("created", None), ("internal_note", "Sigue urgente")]


def test_reclassification_recomputes_the_due_time_and_may_breach_at_once(db: Db) -> None:
    ticket_id = store(db, urgency="low", impact="individual")  # incident low: 16 h
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, ChangeClassification("high", "organization"), AGENT, bog(2026, 3, 18, 11, 30))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert (stored.ticket.priority, stored.ticket.first_response_due) == ("urgent", bog(2026, 3, 18, 11, 0))
    assert stored.sla_state is SlaState.BREACHED
    assert stored.events[-1].after == {"urgency": "high", "impact": "organization", "priority": "urgent",
                                       "first_response_due": "2026-03-18T11:00:00-05:00"}


def test_acting_after_the_48_hours_closes_first_at_the_rule_time(db: Db) -> None:
    ticket_id = store(db)
    resolved_at = bog(2026, 3, 18, 11, 0)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, resolved_at)
    with db.sessions() as session, pytest.raises(TransitionError, match="closed"):
        tickets.act(session, ticket_id, RequesterReply(), REQUESTER, resolved_at + timedelta(hours=49))
    with db.sessions.begin() as session:  # a reply just before the 48 h reopens
        reopened = tickets.act(session, ticket_id, RequesterReply(), REQUESTER, resolved_at + timedelta(hours=47))
    assert reopened.status == "in_progress"
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 20, 11, 0))
        closed = tickets.act(session, ticket_id, CloseIfDue(), AGENT, bog(2026, 3, 25, 9, 0))
    assert (closed.status, closed.closed_at) == ("closed", bog(2026, 3, 22, 11, 0))
    with db.sessions() as session:
        last = tickets.get(session, ticket_id).events[-1]
    assert (last.kind, last.actor.kind, last.at) == ("closed", "system", bog(2026, 3, 22, 11, 0))


def test_link_problem_records_both_sides(db: Db) -> None:
    problem_id = store(db, ticket_type="problem")
    incident_id = store(db)
    with db.sessions.begin() as session:
        problem, incident = tickets.link_problem(session, problem_id, incident_id, AGENT, bog(2026, 3, 18, 12, 0))
    with db.sessions() as session:
        assert tickets.get(session, problem_id).ticket.linked_incidents == (incident_id,)
        assert tickets.get(session, incident_id).ticket.problem_id == problem_id
    assert problem.linked_incidents == (incident_id,) and incident.problem_id == problem_id


# --- the queue ------------------------------------------------------------------------------


def test_queue_sorted_by_due_time_with_problems_last(db: Db) -> None:
    low = store(db, urgency="low", impact="individual")  # 16 h -> due Fri 20th 08:00
    problem = store(db, ticket_type="problem")
    urgent = store(db)  # due 11:00
    high = store(db, urgency="medium", impact="organization")  # 6 h -> 17:30
    with db.sessions() as session:
        rows = tickets.list_tickets(session, bog(2026, 3, 18, 10, 5))
    assert [row.id for row in rows] == [urgent, high, low, problem]
    assert rows[0].ticket.first_response_due == bog(2026, 3, 18, 11, 0)
    assert [row.sla_state for row in rows] == [SlaState.ON_TIME] * 3 + [None]


def test_queue_filters(db: Db) -> None:
    acme = store(db, "acme")
    other = store(db, "globex", urgency="low", impact="individual")
    requirement = store(db, "acme", ticket_type="requirement")
    with db.sessions.begin() as session:
        tickets.act(session, acme, Respond(), AGENT, bog(2026, 3, 18, 10, 10))
    now = bog(2026, 3, 18, 10, 30)

    def ids(**filters: object) -> list[int]:
        with db.sessions() as session:
            return [row.id for row in tickets.list_tickets(session, now, **filters)]  # type: ignore[arg-type]

    assert ids(account="acme") == [acme, requirement]
    assert ids(account="nobody") == []
    assert ids(type="requirement") == [requirement]
    assert ids(priority="low") == [other]
    assert ids(status="new") == [requirement, other]
    assert ids(status=("in_progress", "escalated")) == [acme]
    assert ids(account="acme", status="new") == [requirement]
    assert ids(limit=1) == [acme]
    with pytest.raises(ClassificationError):
        ids(status="abierto")


def test_queue_sla_state_filter_uses_the_live_state(db: Db) -> None:
    urgent = store(db)  # created 10:00, due 11:00, cached on_time
    answered = store(db)
    calm = store(db, urgency="low", impact="individual")
    with db.sessions.begin() as session:
        tickets.act(session, answered, Respond(), AGENT, bog(2026, 3, 18, 10, 5))

    def ids(now: datetime, state: str) -> list[int]:
        with db.sessions() as session:
            return [row.id for row in tickets.list_tickets(session, now, sla_state=state)]

    assert ids(bog(2026, 3, 18, 10, 30), "on_time") == [urgent, answered, calm]
    assert ids(bog(2026, 3, 18, 10, 50), "at_risk") == [urgent]  # 50 of 60 minutes used
    assert ids(bog(2026, 3, 18, 11, 1), "breached") == [urgent]
    assert ids(bog(2026, 3, 18, 11, 1), "on_time") == [answered, calm]
    assert ids(bog(2026, 3, 18, 11, 1), "breached") == [urgent]
    with db.sessions() as session:
        assert tickets.get(session, urgent).sla_state is SlaState.ON_TIME  # the cache is the job's
        assert tickets.get(session, urgent, now=bog(2026, 3, 18, 11, 1)).sla_state is SlaState.BREACHED


def test_refresh_sla_states_moves_the_cache_forward_only_for_unanswered_open_tickets(db: Db) -> None:
    urgent = store(db)
    answered = store(db)
    with db.sessions.begin() as session:
        tickets.act(session, answered, Respond(), AGENT, bog(2026, 3, 18, 10, 5))
    with db.sessions.begin() as session:
        assert tickets.refresh_sla_states(session, bog(2026, 3, 18, 10, 50)) == [(urgent, SlaState.AT_RISK)]
    with db.sessions.begin() as session:
        assert tickets.refresh_sla_states(session, bog(2026, 3, 18, 10, 55)) == []
        assert tickets.refresh_sla_states(session, bog(2026, 3, 18, 12, 0)) == [(urgent, SlaState.BREACHED)]
    with db.sessions.begin() as session:
        assert tickets.refresh_sla_states(session, bog(2026, 3, 19, 12, 0)) == []
    with db.sessions() as session:
        assert tickets.get(session, urgent).sla_state is SlaState.BREACHED
        assert tickets.get(session, answered).sla_state is SlaState.ON_TIME


# --- one open ticket per dedup key ----------------------------------------------------------

KEY = "acme|firmware_older|T21P|9.73.0.50"


def test_open_or_get_by_key_returns_the_open_ticket(db: Db) -> None:
    ticket, event = fresh(dedup_key=KEY)
    with db.sessions.begin() as session:
        first = tickets.open_or_get_by_key(session, ticket, event, "acme", "firmware_older")
    with db.sessions.begin() as session:
        again = tickets.open_or_get_by_key(session, ticket, event, "acme", "firmware_older")
        tickets.act(session, first[0], Resolve(), AGENT, bog(2026, 3, 18, 12, 0))
    with db.sessions.begin() as session:  # resolved is not open: the finding opens a new ticket
        later = tickets.open_or_get_by_key(session, *fresh(dedup_key=KEY, created_at=bog(2026, 3, 19, 9, 0)), "acme")
    assert first[1] and again == (first[0], False)
    assert later[1] and later[0] != first[0]


def test_the_database_refuses_a_second_open_ticket_with_the_same_key(db: Db) -> None:
    store(db, dedup_key=KEY)
    ticket, event = fresh(dedup_key=KEY)
    with db.sessions() as session, pytest.raises(IntegrityError):
        tickets.create(session, ticket, event, "acme")
    store(db, dedup_key=None)  # many tickets without a key are fine
    store(db, dedup_key=None)


def test_a_rolled_back_open_or_get_leaves_nothing(db: Db) -> None:
    ticket, event = fresh(dedup_key=KEY)
    with db.sessions() as session:
        assert tickets.open_or_get_by_key(session, ticket, event, "acme")[1]
        session.rollback()
    with db.sessions() as session:
        assert tickets.find_open_by_key(session, KEY) is None  # the SAVEPOINT did not commit on its own


def test_open_or_get_needs_a_key(db: Db) -> None:
    with db.sessions() as session, pytest.raises(DedupKeyError):
        tickets.open_or_get_by_key(session, *fresh(), "acme")


def _postgres_only(db: Db) -> None:
    if db.backend != "postgresql":
        pytest.skip("row locks and concurrent writers: PostgreSQL")


def test_an_insert_that_loses_the_race_returns_the_winner(db: Db) -> None:
    """Session A inserts and holds its transaction; B's insert waits on the unique index, then
    gets the violation inside its SAVEPOINT and returns A's ticket once A commits."""
    _postgres_only(db)
    ticket, event = fresh(dedup_key=KEY)
    winner = db.sessions()
    winner_id = tickets.create(winner, ticket, event, "acme")
    result: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def loser() -> None:
        try:
            with db.sessions.begin() as session:
                result.append(tickets.open_or_get_by_key(session, ticket, event, "acme"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=loser)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the second insert should wait for the first transaction"
    winner.commit()
    winner.close()
    thread.join(10)
    assert not errors and result == [(winner_id, False)]
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sl_ticket")).scalar_one() == 1


def test_many_threads_racing_on_one_key_open_one_ticket(db: Db) -> None:
    _postgres_only(db)
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def race(index: int) -> None:
        ticket, event = fresh(dedup_key=KEY, created_at=CREATED + timedelta(seconds=index))
        with db.sessions() as session:
            session.execute(text("select 1"))  # connection checked out before the start signal
            barrier.wait()
            outcome = tickets.open_or_get_by_key(session, ticket, event, "acme")
            session.commit()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=race, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results) == workers
    assert len({ticket_id for ticket_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sl_ticket")).scalar_one() == 1


def test_two_processes_acting_at_once_serialize_on_the_row(db: Db) -> None:
    """act locks (PostgreSQL: the row; SQLite: the database): B's escalation waits for A's
    response and sees it (no lost update)."""
    ticket_id = store(db)
    first = db.sessions()
    tickets.act(first, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 10))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with db.sessions.begin() as session:
                tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 11))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the second act should wait for the row lock"
    first.commit()
    first.close()
    thread.join(10)
    assert not errors
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert (stored.ticket.status, stored.ticket.first_response_at) == ("escalated", bog(2026, 3, 18, 10, 10))
    assert [e.kind for e in stored.events] == ["created", "public_response", "escalated"]
    assert stored.events[2].before == {"status": "in_progress", "escalated": False, "tier": 1}  # saw A's change


# --- affected devices -----------------------------------------------------------------------


def test_devices_join_repeat_recover_and_rejoin(db: Db) -> None:
    ticket_id = store(db, channel="device", finding="unreachable")
    t0 = bog(2026, 3, 18, 10, 1)
    with db.sessions.begin() as session:
        assert affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {"ip": "10.0.0.7"}, t0)
        assert affected_devices.add_device(session, ticket_id, "001565aabbcc", "Ventas", {"ip": "10.0.0.8"}, t0 + timedelta(minutes=1))
    with db.sessions.begin() as session:
        assert not affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {"ip": "10.0.0.9"}, t0 + timedelta(minutes=2))
        assert affected_devices.mark_device_recovered(session, ticket_id, "001565aabbcc", t0 + timedelta(minutes=3))
        assert not affected_devices.mark_device_recovered(session, ticket_id, "001565aabbcc", t0 + timedelta(minutes=4))
        assert not affected_devices.mark_device_recovered(session, ticket_id, "ffffffffffff", t0 + timedelta(minutes=4))
    with db.sessions() as session:
        devices = affected_devices.list_devices(session, ticket_id)
    assert [(d.device, d.department, d.evidence, d.active) for d in devices] == [
        ("0004f2a1b2c3", "Recepción", {"ip": "10.0.0.9"}, True),
        ("001565aabbcc", "Ventas", {"ip": "10.0.0.8"}, False),
    ]
    assert devices[1].recovered_at == t0 + timedelta(minutes=3)
    with db.sessions.begin() as session:
        assert affected_devices.add_device(session, ticket_id, "001565aabbcc", "Ventas", {"ip": "10.0.0.8"}, t0 + timedelta(minutes=5))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
        rows = tickets.list_tickets(session, t0)
    assert all(device.active for device in stored.devices)
    assert [e.kind for e in stored.events] == ["created", "device_joined", "device_joined", "device_recovered", "device_joined"]
    assert stored.events[-1].after == {"device": "001565aabbcc", "department": "Ventas"}
    assert rows[0].devices == ("0004f2a1b2c3", "001565aabbcc")
    assert stored.updated_at == t0 + timedelta(minutes=5)


def device_history(db: Db, ticket_id: int) -> tuple[object, ...]:
    """A ticket's devices and device events in an order-free form, to compare a bulk pass
    with the one-device calls."""
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    return (
        sorted((d.device, d.department, d.evidence, d.active, d.joined_at, d.recovered_at) for d in stored.devices),
        sorted((e.kind, tuple(sorted(e.after.items()))) for e in stored.events if e.kind != "created"),
        stored.updated_at,
    )


def test_adding_many_devices_at_once_equals_adding_them_one_by_one(db: Db) -> None:
    """add_devices (a storm's pass) against add_device in a loop: new devices join, active
    ones get fresh evidence, recovered ones rejoin; the same rows, the same joins counted."""
    t0 = bog(2026, 3, 18, 10, 1)
    macs = [f"001565{i:06x}" for i in range(1203)]  # more than one 500-device query
    states = []
    for bulk in (False, True):
        ticket_id = store(db, channel="device", finding="firmware_older")
        with db.sessions.begin() as session:
            for mac in macs[:600]:
                affected_devices.add_device(session, ticket_id, mac, "Ventas", {"seen": "old"}, t0)
            for mac in macs[:100]:
                affected_devices.mark_device_recovered(session, ticket_id, mac, t0 + timedelta(minutes=1))
        batch = [(mac, "Bodega", {"seen": "34.72.0.60"}) for mac in macs[50:]]
        later = t0 + timedelta(minutes=2)
        with db.sessions.begin() as session:
            if bulk:
                joined = affected_devices.add_devices(session, ticket_id, batch, later)
            else:
                joined = sum(affected_devices.add_device(session, ticket_id, *item, later) for item in batch)
        states.append((joined, device_history(db, ticket_id)))
    assert states[0] == states[1]
    assert states[1][0] == 50 + (1203 - 600)  # 50 recovered rejoin, 603 new


def test_past_incidents_of_many_devices_at_once_equal_asking_one_by_one(db: Db) -> None:
    """The recurrence check of a storm's new incident asks for every phone in one pass: the
    same incidents per device as the one-device query, in the same order, with its filters
    (finding, account, resolved within the window, incidents only)."""
    macs = [f"001565{i:06x}" for i in range(1203)]  # more than one 500-device query
    resolved = [bog(2026, 3, 2, 10, 0), bog(2026, 3, 9, 10, 0), bog(2026, 3, 16, 10, 0)]
    for index, at in enumerate(resolved):
        for account, finding in (("acme", "firmware_older"), ("acme", "lines_exceeded"), ("other", "firmware_older")):
            opened = at - timedelta(days=1)
            ticket_id = store(db, account=account, finding=finding, channel="device", created_at=opened)
            with db.sessions.begin() as session:
                affected_devices.add_devices(session, ticket_id, [(mac, "Ventas", {}) for mac in macs[index * 300 : index * 300 + 700]], opened)
                tickets.act(session, ticket_id, Resolve(), AGENT, at)
    still_open = store(db, finding="firmware_older", channel="device")
    with db.sessions.begin() as session:
        affected_devices.add_devices(session, still_open, [(mac, "Ventas", {}) for mac in macs], CREATED)
    since = bog(2026, 3, 5, 0, 0)  # the first round was resolved before the window
    with db.sessions() as session:
        together = affected_devices.past_incidents_for_devices(session, "acme", macs, "firmware_older", since)
        one_by_one = {mac: affected_devices.past_incidents_for_device(session, "acme", mac, "firmware_older", since) for mac in macs}
    assert together == {mac: ids for mac, ids in one_by_one.items() if ids}
    assert sorted({len(ids) for ids in together.values()}) == [1, 2]  # overlapping rounds
    assert len(together) == 903  # rounds 2 and 3: macs 300-999 and 600-1,202


def test_open_tickets_of_many_devices_at_once_equal_asking_one_by_one(db: Db) -> None:
    """The ticket intake asks which open tickets each phone of a batch is on in one pass:
    the same (ticket, finding, key) per device as the one-device query, recovered devices,
    other accounts and resolved tickets left out."""
    macs = [f"001565{i:06x}" for i in range(1203)]  # more than one 500-device query
    older = store(db, finding="firmware_older", channel="device", dedup_key="acme|firmware_older|T21P|34.72.0.60")
    lines = store(db, finding="lines_exceeded", channel="device", dedup_key="acme|lines_exceeded|T21P|-")
    elsewhere = store(db, account="other", finding="firmware_older", channel="device")
    done = store(db, finding="firmware_newer", channel="device")
    with db.sessions.begin() as session:
        affected_devices.add_devices(session, older, [(mac, "Ventas", {}) for mac in macs[:800]], CREATED)
        affected_devices.add_devices(session, lines, [(mac, "Ventas", {}) for mac in macs[600:]], CREATED)
        affected_devices.add_devices(session, elsewhere, [(mac, "Ventas", {}) for mac in macs], CREATED)
        affected_devices.add_devices(session, done, [(mac, "Ventas", {}) for mac in macs], CREATED)
        tickets.act(session, done, Resolve(), AGENT, CREATED + timedelta(hours=1))
        for mac in macs[:10]:
            affected_devices.mark_device_recovered(session, older, mac, CREATED + timedelta(minutes=5))
    with db.sessions() as session:
        together = affected_devices.open_tickets_for_devices(session, "acme", macs)
        one_by_one = {mac: affected_devices.open_tickets_for_device(session, "acme", mac) for mac in macs}
    assert together == {mac: tickets for mac, tickets in one_by_one.items() if tickets}
    assert together[macs[700]] == [(older, "firmware_older", "acme|firmware_older|T21P|34.72.0.60"),
                                   (lines, "lines_exceeded", "acme|lines_exceeded|T21P|-")]
    assert macs[5] not in together and together[macs[1000]] == [(lines, "lines_exceeded", "acme|lines_exceeded|T21P|-")]
    assert len(together) == 1203 - 10


def test_recovering_many_devices_at_once_equals_recovering_them_one_by_one(db: Db) -> None:
    """mark_devices_recovered (a firmware campaign's pass) against mark_device_recovered in a
    loop: affected devices recover, recovered and unknown ones do not; same rows, same events."""
    t0 = bog(2026, 3, 18, 10, 1)
    macs = [f"001565{i:06x}" for i in range(1203)]  # more than one 500-device query
    states = []
    for bulk in (False, True):
        ticket_id = store(db, channel="device", finding="firmware_older")
        with db.sessions.begin() as session:
            affected_devices.add_devices(session, ticket_id, [(mac, ["Ventas", "Bodega"][i % 2], {}) for i, mac in enumerate(macs[:1100])], t0)
            for mac in macs[:100]:
                affected_devices.mark_device_recovered(session, ticket_id, mac, t0 + timedelta(minutes=1))
        wanted = macs[50:]  # 50 already recovered, 103 never on the ticket
        later = t0 + timedelta(minutes=2)
        with db.sessions.begin() as session:
            if bulk:
                recovered = affected_devices.mark_devices_recovered(session, ticket_id, wanted, later)
            else:
                recovered = [mac for mac in wanted if affected_devices.mark_device_recovered(session, ticket_id, mac, later)]
            counts = affected_devices.device_counts(session, ticket_id)
        states.append((sorted(recovered), counts, device_history(db, ticket_id)))
    assert states[0] == states[1]
    assert len(states[1][0]) == 1000 and states[1][1] == (1100, 0)


def test_active_departments_and_header_read_the_ticket_without_its_timeline(db: Db) -> None:
    ticket_id = store(db, channel="device", finding="unreachable")
    with db.sessions.begin() as session:
        affected_devices.add_devices(session, ticket_id, [("001565000001", "Ventas", {}), ("001565000002", "Bodega", {}),
                                              ("001565000003", "Ventas", {})], CREATED)
        affected_devices.mark_device_recovered(session, ticket_id, "001565000002", CREATED + timedelta(minutes=1))
    with db.sessions() as session:
        assert sorted(affected_devices.active_departments(session, ticket_id)) == ["Ventas", "Ventas"]
        assert tickets.header(session, ticket_id) == tickets.get(session, ticket_id).ticket


def test_the_database_keeps_one_row_per_device_and_ticket(db: Db) -> None:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {}, CREATED)
    with db.engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text("insert into sl_affected_device (ticket_id, device, department, evidence, joined_at) "
                 "values (:t, '0004f2a1b2c3', 'x', '{}', :at)"),
            {"t": ticket_id, "at": datetime(2026, 3, 18, 15, 0, tzinfo=UTC)},
        )


def test_add_device_to_a_missing_ticket(db: Db) -> None:
    with db.sessions() as session, pytest.raises(TicketNotFoundError):
        affected_devices.add_device(session, 5, "0004f2a1b2c3", "Recepción", {}, CREATED)


# --- work logs and billing ------------------------------------------------------------------


def test_work_logs_and_the_monthly_billing_report(db: Db) -> None:
    urgent = store(db, "acme")
    normal = store(db, "acme", urgency="low", impact="individual")
    elsewhere = store(db, "globex")
    with db.sessions.begin() as session:
        # Wed 18 March 19:00-19:20: out of hours, urgent -> one call-out, 1 h minimum, USD 250
        work_logs.log_work(session, urgent, "ana.gomez", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 20), "Reinicio del SBC")
        # Sat 21 March 08:00-10:10 -> 2 h 10 min, rounded up to 2 h 15 min -> USD 562.50
        work_logs.log_work(session, urgent, "ana.gomez", bog(2026, 3, 21, 8, 0), bog(2026, 3, 21, 10, 10))
        # inside business hours: not a call-out
        work_logs.log_work(session, urgent, "ana.gomez", bog(2026, 3, 18, 10, 0), bog(2026, 3, 18, 11, 0))
        work_logs.log_work(session, normal, "ana.gomez", bog(2026, 3, 18, 20, 0), bog(2026, 3, 18, 21, 0))
        work_logs.log_work(session, elsewhere, "ana.gomez", bog(2026, 3, 18, 20, 0), bog(2026, 3, 18, 21, 0))
        # April's work is April's
        work_logs.log_work(session, urgent, "ana.gomez", bog(2026, 4, 1, 20, 0), bog(2026, 4, 1, 20, 30))
    with db.sessions() as session:
        march = work_logs.billing_report(session, "acme", 2026, 3)
        april = work_logs.billing_report(session, "acme", 2026, 4)
        february = work_logs.billing_report(session, "acme", 2026, 2)
        stored = tickets.get(session, urgent)
    assert [(line.ticket_id, line.start, line.amount) for line in march.lines] == [
        (urgent, bog(2026, 3, 18, 19, 0), Decimal("250.00")),
        (urgent, bog(2026, 3, 21, 8, 0), Decimal("562.50")),
    ]
    assert (march.tenant, march.total, march.billed) == ("acme", Decimal("812.50"), timedelta(hours=3, minutes=15))
    assert april.total == Decimal("250.00") and len(april.lines) == 1
    assert (february.lines, february.total) == ((), Decimal("0.00"))
    assert [log.note for log in stored.work_logs] == ["", "Reinicio del SBC", "", ""]
    assert [e.kind for e in stored.events].count("work_logged") == 4 and stored.events[-1].kind == "work_logged"


def test_work_that_touches_across_the_month_end_is_one_call_out(db: Db) -> None:
    ticket_id = store(db, "acme", created_at=bog(2026, 3, 31, 17, 0))
    with db.sessions.begin() as session:
        work_logs.log_work(session, ticket_id, "ana.gomez", bog(2026, 3, 31, 23, 30), bog(2026, 4, 1, 0, 0))
        work_logs.log_work(session, ticket_id, "ana.gomez", bog(2026, 4, 1, 0, 0), bog(2026, 4, 1, 0, 45))
    with db.sessions() as session:
        march = work_logs.billing_report(session, "acme", 2026, 3)
        april = work_logs.billing_report(session, "acme", 2026, 4)
    assert [(line.start, line.end, line.billed) for line in march.lines] == [
        (bog(2026, 3, 31, 23, 30), bog(2026, 4, 1, 0, 45), timedelta(hours=1, minutes=15)),
    ]
    assert april.lines == ()


def test_a_work_log_must_end_after_it_starts(db: Db) -> None:
    ticket_id = store(db)
    with db.sessions() as session, pytest.raises(BillingError):
        work_logs.log_work(session, ticket_id, "ana.gomez", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 0))


# --- assignee (issue 17: "tomar", "mis casos", "sin asignar") --------------------------------


def test_an_agent_takes_a_ticket_and_the_queue_finds_it_by_assignee(db: Db) -> None:
    from support_link.store.tickets import NOBODY, take

    mine, theirs, nobodys = store(db), store(db), store(db)
    moment = CREATED + timedelta(minutes=5)
    with db.sessions.begin() as session:
        assert take(session, mine, "laura", moment) is True
        assert take(session, mine, "laura", moment) is False  # hers already: no second record
        assert take(session, theirs, "pedro", moment) is True
        assert take(session, theirs, "laura", moment) is True  # taken over
    with db.sessions() as session:
        assert [row.id for row in tickets.list_tickets(session, moment, assignee="laura")] == [mine, theirs]
        assert [row.id for row in tickets.list_tickets(session, moment, assignee=NOBODY)] == [nobodys]
        stored = tickets.get(session, theirs, moment)
    assert stored.assignee == "laura"
    assigned = [(e.actor.name, e.before, e.after) for e in stored.events if e.kind == "assigned"]
    assert assigned == [("pedro", {"assignee": None}, {"assignee": "pedro"}), ("laura", {"assignee": "pedro"}, {"assignee": "laura"})]
    with db.sessions.begin() as session:
        tickets.act(session, nobodys, Resolve(), AGENT, moment)
    with pytest.raises(TransitionError), db.sessions.begin() as session:
        take(session, nobodys, "laura", moment)  # a resolved ticket is nobody's to take
