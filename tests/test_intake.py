"""Device findings become deduplicated incidents (real SQLite and PostgreSQL, controllable clock):
blast-radius impact steps, recovery to Resolved, the 48 h close, and a Problem after 3 recurrences."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from provisioner.findings import FIRMWARE_KINDS, PROVISIONING_KINDS, FindingKind
from provisioner.incidents import DeviceFinding
from provisioner.intake import TicketIntake
from provisioner.ticket_writer import INTAKE_ACTOR, Observation
from support_link.adapters.jobs import run_due_work
from support_link.store import affected_devices, tickets

WED = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # 10:00 in Bogota, a working Wednesday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = admin.create_tenant(session, "Acme", "pbx.example.net", slug="acme", contact_name="Marta", contact_email="marta@acme.co")
        tenant_id = tenant.id
        for index, department in enumerate(["Ventas", "Ventas", "Ventas", "Gerencia"] + ["Bodega"] * 6):
            admin.add_extension(session, load_catalog(), tenant, f"1{index:02d}", f"Persona {index}", department=department,
                                assignment=admin.Assignment(f"0015650000{index:02d}", "T21P", 1))
    clock = Clock(WED)
    yield sessions, tenant_id, clock, TicketIntake(sessions, clock)
    engine.dispose()


def observation(tenant_id: int, mac: str, department: str, firmware: str | None, at: datetime) -> Observation:
    findings = ()
    if firmware != "34.72.0.75":
        findings = (DeviceFinding("acme", FindingKind.FIRMWARE_OLDER, mac, "T21P", firmware, "34.72.0.75", department, at,
                                  "10.0.0.7", "http", f"Yealink SIP-T21P {firmware} 00:15:65:00:00:00"),)
    return Observation(tenant_id, mac, findings, PROVISIONING_KINDS, at)


def open_tickets(sessions, clock):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return tickets.list_tickets(session, clock(), status=("new", "in_progress", "escalated"), type="incident")


@contextmanager
def one_phone_service(database_url: str, firmware_folder, mac: str, model: str, intake_class=None):  # type: ignore[no-untyped-def]
    """The server's pipeline on a real database: tenant "acme" with extension 201 on `mac`,
    firmware images from `firmware_folder`, no sighting writer; with `intake_class`, its
    outcomes fan out to that intake. Yields (pipeline, tenant key): `fetch` as the server answers."""
    from provisioner.directory import Directory
    from provisioner.fanout import Fanout
    from provisioner.firmware_store import FirmwareStore
    from provisioner.service import ProvisioningService
    from provisioner.settings import Settings
    from provisioner.vendors import VENDORS

    catalog = load_catalog()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = admin.create_tenant(session, "Acme", "pbx.example.net", slug="acme")
        key = tenant.provisioning_key
        admin.add_extension(session, catalog, tenant, "201", "Ana", department="Ventas",
                            assignment=admin.Assignment(mac, model, 1))
    firmware = FirmwareStore(firmware_folder, (e.firmware_file for e in catalog.entries if e.firmware_file))
    intake = intake_class(sessions, Clock(WED)) if intake_class else None
    service = ProvisioningService(Directory(sessions, Settings(cache_check_seconds=0)), catalog, firmware, VENDORS)
    try:
        yield FannedOut(service, Fanout(catalog, None, intake)), key
    finally:
        engine.dispose()


class FannedOut:
    """A service whose every outcome goes through the fan-out, as provisioner.server.answer does."""

    def __init__(self, service, fanout) -> None:  # type: ignore[no-untyped-def]
        self.service, self.fanout = service, fanout

    def fetch(self, request):  # type: ignore[no-untyped-def]
        outcome = self.service.fetch(request)
        self.fanout.config_fetched(request, outcome)
        return outcome


def test_one_ticket_whose_impact_and_priority_follow_the_blast_radius(world) -> None:  # type: ignore[no-untyped-def]
    sessions, tenant_id, clock, intake = world
    steps = [
        ("001565000000", "Ventas", "individual", "low"),
        ("001565000001", "Ventas", "department", "normal"),
        ("001565000003", "Gerencia", "organization", "high"),
    ]
    for mac, department, impact, priority in steps:
        intake.process([observation(tenant_id, mac, department, "34.72.0.60", clock())])
        rows = open_tickets(sessions, clock)
        assert len(rows) == 1
        ticket = rows[0].ticket
        assert (str(ticket.impact), str(ticket.priority)) == (impact, priority)
        assert str(ticket.urgency) == "medium" and str(ticket.channel) == "device" and rows[0].finding == "firmware_older"
    # Repeats of the same phone never add tickets or devices; another firmware is another ticket.
    intake.process([observation(tenant_id, "001565000000", "Ventas", "34.72.0.60", clock())] * 3)
    assert len(open_tickets(sessions, clock)) == 1
    with sessions() as session:
        stored = tickets.get(session, open_tickets(sessions, clock)[0].id)
    assert sorted(d.device for d in stored.devices) == ["001565000000", "001565000001", "001565000003"]
    assert stored.ticket.requester_name == "Marta" and "34.72.0.60" in stored.ticket.subject
    assert "3 equipos" in stored.ticket.subject
    evidence = stored.devices[0].evidence
    assert evidence["seen"] == "34.72.0.60" and evidence["expected"] == "34.72.0.75" and evidence["ip"] == "10.0.0.7"
    # The due time was recomputed from the original start: high incident = 6 business hours from 10:00.
    assert stored.ticket.first_response_due == datetime(2026, 3, 18, 17, 30, tzinfo=stored.ticket.first_response_due.tzinfo)
    intake.process([observation(tenant_id, "001565000004", "Bodega", "34.72.0.61", clock())])
    assert len(open_tickets(sessions, clock)) == 2


def test_a_large_share_of_one_department_is_organization_wide(world) -> None:  # type: ignore[no-untyped-def]
    sessions, tenant_id, clock, intake = world
    intake.process([observation(tenant_id, f"0015650000{i:02d}", "Bodega", "34.72.0.60", clock()) for i in range(4, 10)])
    assert str(open_tickets(sessions, clock)[0].ticket.impact) == "organization"  # 6 of 10 phones


def test_recovery_resolves_then_closes_after_48_hours(world) -> None:  # type: ignore[no-untyped-def]
    sessions, tenant_id, clock, intake = world
    macs = ["001565000000", "001565000001"]
    intake.process([observation(tenant_id, mac, "Ventas", "34.72.0.60", clock()) for mac in macs])
    ticket_id = open_tickets(sessions, clock)[0].id
    clock.now += timedelta(hours=1)
    intake.process([observation(tenant_id, macs[0], "Ventas", "34.72.0.75", clock())])
    with sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert str(stored.ticket.status) == "new" and [d.active for d in stored.devices] == [False, True]
    clock.now += timedelta(hours=1)
    intake.process([observation(tenant_id, macs[1], "Ventas", "34.72.0.75", clock())])
    with sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert str(stored.ticket.status) == "resolved"
    assert stored.events[-1].note and "recuperaron" in stored.events[-1].note
    resolved_at = stored.ticket.resolved_at
    run_due_work(sessions, resolved_at + timedelta(hours=47, minutes=59))
    with sessions() as session:
        assert str(tickets.get(session, ticket_id).ticket.status) == "resolved"
    run_due_work(sessions, resolved_at + timedelta(hours=48))
    with sessions() as session:
        assert str(tickets.get(session, ticket_id).ticket.status) == "closed"


def test_only_phones_that_no_longer_show_a_ticket_s_finding_get_a_recovery_pass(world) -> None:  # type: ignore[no-untyped-def]
    """In a storm every phone of a batch is on the incident it just raised: none of them
    needs the per-phone recovery transaction (5,000 of them took 10 s on PostgreSQL)."""
    sessions, tenant_id, clock, intake = world
    macs = [f"0015650000{i:02d}" for i in range(10)]
    intake.process([observation(tenant_id, mac, "Bodega", "34.72.0.60", clock()) for mac in macs[:6]])
    blind = PROVISIONING_KINDS - FIRMWARE_KINDS  # a TFTP contact
    batch = [
        observation(tenant_id, macs[0], "Ventas", "34.72.0.60", clock()),  # still shows it
        observation(tenant_id, macs[1], "Ventas", "34.72.0.75", clock()),  # upgraded: recovers
        observation(tenant_id, macs[2], "Ventas", "34.72.0.61", clock()),  # other version: recovers this one
        Observation(tenant_id, macs[3], (), blind, clock()),  # cannot judge firmware
        observation(tenant_id, macs[6], "Ventas", "34.72.0.75", clock()),  # on no ticket
    ]
    ticket_id = open_tickets(sessions, clock)[0].id
    assert intake._writer._recoveries(batch) == {ticket_id: [macs[1], macs[2]]}
    intake.process(batch)
    assert intake.stats.recovered == 2
    with sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert sorted(d.device for d in stored.devices if not d.active) == [macs[1], macs[2]]
    assert str(stored.ticket.status) == "new"


def test_third_recurrence_within_30_days_opens_a_problem(world) -> None:  # type: ignore[no-untyped-def]
    sessions, tenant_id, clock, intake = world
    mac = "001565000002"
    incidents = []
    for _ in range(4):
        intake.process([observation(tenant_id, mac, "Ventas", "34.72.0.60", clock())])
        incidents.append(open_tickets(sessions, clock)[0].id)
        clock.now += timedelta(days=2)
        intake.process([observation(tenant_id, mac, "Ventas", "34.72.0.75", clock())])  # recovers -> resolved
        clock.now += timedelta(days=3)
    with sessions() as session:
        problems = tickets.list_tickets(session, clock(), type="problem")
        assert len(problems) == 1
        problem = tickets.get(session, problems[0].id)
    assert sorted(problem.ticket.linked_incidents) == incidents
    assert str(problem.ticket.type) == "problem" and problem.ticket.first_response_due is None
    assert intake.stats.problems == 1


def test_queues_and_support_job_are_woken_only_when_tickets_changed(world) -> None:  # type: ignore[no-untyped-def]
    """A storm of compliant phones must not wake the live queues and the SLA job every drain."""
    import asyncio

    _sessions, tenant_id, clock, intake = world
    wakes: list[int] = []
    intake.on_change = lambda: wakes.append(1)

    async def drain(*observations: Observation) -> None:
        for item in observations:
            intake.observe(item)
        await intake.drain()

    compliant = [observation(tenant_id, f"0015650000{i:02d}", "Bodega", "34.72.0.75", clock()) for i in range(4, 10)]
    asyncio.run(drain(*compliant))
    assert wakes == []
    asyncio.run(drain(observation(tenant_id, "001565000004", "Bodega", "34.72.0.60", clock())))
    assert wakes == [1]  # an incident opened
    asyncio.run(drain(observation(tenant_id, "001565000004", "Bodega", "34.72.0.60", clock())))
    assert wakes == [1]  # the same finding again: nothing new
    asyncio.run(drain(observation(tenant_id, "001565000004", "Bodega", "34.72.0.75", clock())))
    assert wakes == [1, 1]  # it recovered: the incident resolved


def test_two_processes_recovering_the_same_last_phone_resolve_the_incident_once(
    database_url: str, world, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """A phone that contacts both servers recovers on both at the same moment, and it is
    the ticket's last affected phone: the ticket must end Resolved once, and the second
    intake must not fail on an incident that the first one has just resolved.

    The first transaction is held for a second right after marking the phone (a barrier
    with a timeout), so the second one reaches the ticket while the first has not committed."""
    import threading

    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers on one ticket: PostgreSQL")
    sessions, tenant_id, clock, intake = world
    marked = threading.Barrier(2, timeout=1.0)
    mark = affected_devices.mark_devices_recovered
    held: list[str] = []  # the workers that marked and waited: the race was really set up

    def mark_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = mark(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            held.append(threading.current_thread().name)
            try:
                marked.wait()
            except threading.BrokenBarrierError:
                pass
        return result

    monkeypatch.setattr(affected_devices, "mark_devices_recovered", mark_then_wait)
    last, other = "001565000004", "001565000005"
    intake.process([observation(tenant_id, mac, "Bodega", "34.72.0.60", clock()) for mac in (last, other)])
    intake.process([observation(tenant_id, other, "Bodega", "34.72.0.75", clock())])
    assert len(open_tickets(sessions, clock)) == 1
    intakes, errors = [TicketIntake(sessions, clock) for _ in range(2)], []

    def recover(index: int) -> None:
        try:
            intakes[index].process([observation(tenant_id, last, "Bodega", "34.72.0.75", clock())])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=recover, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert held  # at least one writer held its transaction open after marking
    assert open_tickets(sessions, clock) == []
    assert intakes[0].stats.resolved + intakes[1].stats.resolved == 1


def test_a_phone_repeating_itself_is_checked_again_only_after_the_settled_window(world) -> None:  # type: ignore[no-untyped-def]
    """Boot and resync repeat the same findings at every request: within SETTLED_SECONDS the
    intake skips them; after it, the phone is checked again (an agent may have resolved its
    incident meanwhile: it opens a new one)."""
    import asyncio

    from provisioner.intake import SETTLED_SECONDS
    from support_link.lifecycle import Resolve

    sessions, tenant_id, clock, _ = world
    now = [1000.0]
    intake = TicketIntake(sessions, clock, monotonic=lambda: now[0])

    def contact(firmware: str) -> None:
        intake.observe(observation(tenant_id, "001565000004", "Bodega", firmware, clock()))
        asyncio.run(intake.drain())

    contact("34.72.0.60")
    [row] = open_tickets(sessions, clock)
    for _ in range(3):
        contact("34.72.0.60")
    assert intake.stats.repeats == 3 and intake.stats.processed == 1
    with sessions.begin() as session:
        tickets.act(session, row.id, Resolve(), INTAKE_ACTOR, clock(), note="Resuelto por el agente.")
    contact("34.72.0.60")
    assert open_tickets(sessions, clock) == [] and intake.stats.repeats == 4  # still within the window
    now[0] += SETTLED_SECONDS + 1
    contact("34.72.0.60")
    assert [r.id for r in open_tickets(sessions, clock)] != [row.id] and len(open_tickets(sessions, clock)) == 1
    contact("34.72.0.75")  # different findings: processed at once
    assert open_tickets(sessions, clock) == [] and intake.stats.processed == 3


def test_a_contact_that_cannot_tell_the_firmware_does_not_judge_it(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Polycom's Updater requests (version not the application's) and TFTP (no User-Agent)
    say nothing about the firmware: no "not verifiable" finding, and no firmware incident is
    cleared by them; the application's own request then judges it."""
    from provisioner.values import ConfigRequest, Protocol

    seen: list[Observation] = []

    class Recording(TicketIntake):
        def observe(self, observation: Observation) -> None:
            seen.append(observation)

    with one_phone_service(database_url, tmp_path, "0004f2aa0001", "VVX600", Recording) as (service, key):

        def contact(protocol: Protocol, name: str, agent: str | None) -> tuple[str, ...]:
            return service.fetch(ConfigRequest(protocol, key, name, agent, "10.0.0.9", WED)).findings

        updater = "FileTransport PolycomVVX-VVX_600-UA/5.9.7.47435 Type/Updater"
        assert contact(Protocol.HTTP, "0004f2aa0001.cfg", updater) == ()
        assert contact(Protocol.TFTP, "0004f2aa0001-user.cfg", None) == ()
        assert all(o.covers.isdisjoint(FIRMWARE_KINDS) and o.findings == () for o in seen)
        application = "FileTransport PolycomVVX-VVX_600-UA/5.8.0.1234 Type/Application"
        assert contact(Protocol.HTTP, "0004f2aa0001-user.cfg", application) == ("firmware_older",)
        assert seen[-1].covers == PROVISIONING_KINDS
        # From now on the version is known: a TFTP contact judges it with the last trusted one.
        assert contact(Protocol.TFTP, "0004f2aa0001-user.cfg", None) == ("firmware_older",)


def test_a_clean_settled_phone_is_not_observed_again_but_anything_else_is(world) -> None:  # type: ignore[no-untyped-def]
    """settled_clear lets the request path skip building an observation the intake would drop:
    only for a phone processed clean within the window with nothing of it still waiting."""
    import asyncio

    from provisioner.intake import SETTLED_SECONDS

    sessions, tenant_id, clock, _ = world
    now = [1000.0]
    intake = TicketIntake(sessions, clock, monotonic=lambda: now[0])
    mac = "001565000004"
    assert not intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)  # never seen
    intake.observe(observation(tenant_id, mac, "Bodega", "34.72.0.75", clock()))
    assert not intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)  # waiting, not processed
    asyncio.run(intake.drain())
    assert intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)
    assert not intake.settled_clear(tenant_id, mac, frozenset({FindingKind.UNREACHABLE}))  # another kind of contact
    intake.observe(observation(tenant_id, mac, "Bodega", "34.72.0.60", clock()))  # now it shows a finding
    assert not intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)
    asyncio.run(intake.drain())
    assert not intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)  # settled, but not clean
    intake.observe(observation(tenant_id, mac, "Bodega", "34.72.0.75", clock()))
    asyncio.run(intake.drain())
    assert intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)
    now[0] += SETTLED_SECONDS + 1
    assert not intake.settled_clear(tenant_id, mac, PROVISIONING_KINDS)  # the window is over: check again


def test_made_up_file_names_cannot_grow_the_answer_caches_forever(database_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from provisioner import service as service_module
    from provisioner.values import ConfigRequest, Protocol

    monkeypatch.setattr(service_module, "RESPONSE_CACHE_LIMIT", 50)
    agent = "Yealink SIP-T21P 34.72.0.75 00:15:65:aa:00:01"
    with one_phone_service(database_url, tmp_path, "001565aa0001", "T21P") as (service, key):
        for index in range(500):
            assert service.fetch(ConfigRequest(Protocol.HTTP, key, f"probe{index}.cfg", agent, "10.0.0.9", WED)).file is None
            assert service.fetch(ConfigRequest(Protocol.HTTP, key, "y000000000034.cfg", f"{agent} #{index}", "10.0.0.9", WED)).file
            assert len(service.service._responses) <= 50 and len(service.service._rendered) <= 50
        own = service.fetch(ConfigRequest(Protocol.HTTP, key, "001565aa0001.cfg", agent, "10.0.0.9", WED)).file
        assert own is not None and b"201" in own.body  # and the phone is still served its own file


def test_the_ticket_worker_runs_below_the_event_loops_priority_and_finishes_its_batch_on_shutdown(world) -> None:  # type: ignore[no-untyped-def]
    """A storm's findings are processed in a thread niced below the loop serving configs; a
    batch still in that thread when the server stops is waited for, not abandoned."""
    import asyncio
    import os
    import threading

    from provisioner.intake_process import INTAKE_NICE

    sessions, tenant_id, clock, _ = world
    seen: dict[str, object] = {}

    class Slow(TicketIntake):
        def process(self, batch: list[Observation]) -> None:
            seen["priority"] = os.getpriority(os.PRIO_PROCESS, 0)  # this thread's own nice (Linux)
            seen["thread"] = threading.current_thread().name
            started.set()
            release.wait(5)
            super().process(batch)

    started, release = threading.Event(), threading.Event()
    intake = Slow(sessions, clock, interval=0.01)

    async def serve_and_stop() -> None:
        context = intake.context(None)
        await anext(context)
        intake.observe(observation(tenant_id, "001565000004", "Bodega", "34.72.0.60", clock()))
        await asyncio.to_thread(started.wait, 5)  # the batch is in the worker's thread now
        asyncio.get_running_loop().call_later(0.3, release.set)
        with pytest.raises(StopAsyncIteration):
            await anext(context)  # shutdown: must wait for the batch in flight

    asyncio.run(serve_and_stop())
    assert seen["priority"] == os.getpriority(os.PRIO_PROCESS, 0) + INTAKE_NICE
    assert str(seen["thread"]).startswith("ticket-intake")
    assert intake.stats.processed == 1 and len(open_tickets(sessions, clock)) == 1


def test_a_firmware_image_replaced_under_the_same_name_is_served_new(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Answers are cached until a generation moves, but an image swapped in place (same name,
    new bytes) moves none: firmware answers come from the store, which checks the file."""
    import os

    from provisioner.values import ConfigRequest, Protocol

    image = tmp_path / "34.72.0.75.rom"
    image.write_bytes(b"first build")
    agent = "Yealink SIP-T21P 34.72.0.60 00:15:65:aa:00:01"
    with one_phone_service(database_url, tmp_path, "001565aa0001", "T21P") as (service, key):

        def fetch() -> bytes | None:
            file = service.fetch(ConfigRequest(Protocol.HTTP, key, "34.72.0.75.rom", agent, "10.0.0.9", WED)).file
            return file.body if file else None

        assert fetch() == b"first build"
        image.write_bytes(b"second build, longer")
        os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 1_000_000))
        assert fetch() == b"second build, longer"


def test_the_ticket_worker_process_writes_survives_a_kill_ignores_group_signals_and_drains_on_shutdown(  # type: ignore[no-untyped-def]
    world, database_url: str
) -> None:
    """With a shareable database the tickets are written from a child process, niced below
    the server; its stats come back to the intake. A killed child fails one attempt and the
    retry runs in a new one; Ctrl-C or a SIGTERM to the process group is the server's to
    handle, not the child's; on shutdown the queue is drained through it and it exits."""
    import asyncio
    import os
    import signal
    import time
    from pathlib import Path

    from provisioner.intake_process import INTAKE_NICE

    sessions, tenant_id, clock, _ = world
    intake = TicketIntake(sessions, clock, interval=3600, process_database_url=database_url)

    def devices_on_ticket() -> list[str]:
        found = open_tickets(sessions, clock)
        assert len(found) <= 1
        if not found:
            return []
        with sessions() as session:
            return sorted(d.device for d in tickets.get(session, found[0].id).devices)

    async def scenario() -> tuple[int, int]:
        context = intake.context(None)
        await anext(context)
        first = await intake.worker_pid()
        assert first != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, first) == os.getpriority(os.PRIO_PROCESS, 0) + INTAKE_NICE

        intake.observe(observation(tenant_id, "001565000004", "Bodega", "34.72.0.60", clock()))
        await intake.drain()
        assert devices_on_ticket() == ["001565000004"]
        assert (intake.stats.processed, intake.stats.opened, intake.stats.joined) == (1, 1, 1)  # the child's figures

        os.kill(first, signal.SIGKILL)
        while Path(f"/proc/{first}").exists() and "zombie" not in Path(f"/proc/{first}/status").read_text():
            await asyncio.sleep(0.01)
        intake.observe(observation(tenant_id, "001565000005", "Bodega", "34.72.0.60", clock()))
        await intake.drain()
        assert intake.stats.failures == 1  # the dead child's attempt; the retry got a new one
        assert devices_on_ticket() == ["001565000004", "001565000005"]
        second = await intake.worker_pid()
        assert second != first

        os.kill(second, signal.SIGINT)
        os.kill(second, signal.SIGTERM)
        await asyncio.sleep(0.2)
        assert await intake.worker_pid() == second  # still there, still answering

        intake.observe(observation(tenant_id, "001565000006", "Bodega", "34.72.0.60", clock()))
        with pytest.raises(StopAsyncIteration):
            await anext(context)  # shutdown drains the queue through the child, then stops it
        return first, second

    _, second = asyncio.run(scenario())
    assert devices_on_ticket() == ["001565000004", "001565000005", "001565000006"]
    assert intake.stats.processed == 3 and intake.stats.joined == 3
    deadline = time.monotonic() + 10
    while Path(f"/proc/{second}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{second}").exists()


@pytest.mark.parametrize(
    ("url", "shareable"),
    [
        ("sqlite:///provisioner.sqlite3", True),
        ("sqlite:////var/lib/provisioner/db.sqlite3", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("postgresql+psycopg://provisioner@db.example.net/provisioner", True),
        ("postgresql://postgres@127.0.0.1:5432/test", True),
    ],
)
def test_only_a_database_another_process_can_open_gets_a_ticket_worker_process(url: str, shareable: bool) -> None:
    from provisioner.db.engine import can_share

    assert can_share(url) is shareable
    intake = TicketIntake(session_factory(make_engine("sqlite://")), lambda: WED, process_database_url=url)
    assert (intake._process is not None) is shareable


@pytest.mark.parametrize(
    ("phones_per_second", "held_seconds", "max_hold", "holds"),
    [
        (0.0, 0.0, 10.0, False),  # nothing arriving
        (3.0, 0.0, 10.0, False),  # the trickle of periodic resyncs and SNMP polls
        (99.0, 0.0, 10.0, False),
        (100.0, 0.0, 10.0, True),  # a site booting at once
        (2000.0, 9.5, 10.0, True),
        (2000.0, 10.0, 10.0, False),  # a wave that does not calm down still gets its tickets
        (2000.0, 0.0, 0.0, False),  # holding switched off
    ],
)
def test_a_wave_of_phones_holds_the_ticket_writing_back_for_a_while(
    phones_per_second: float, held_seconds: float, max_hold: float, holds: bool
) -> None:
    from provisioner.intake import hold_for_wave

    assert hold_for_wave(phones_per_second, held_seconds, max_hold) is holds


def wave_scenario(world, max_hold: float, steps: int):  # type: ignore[no-untyped-def]
    """50 new phones with a finding every 25 ms (2,000 a second) for `steps` steps, against
    an intake ticking every 50 ms; returns the batch sizes written during and after the wave."""
    import asyncio

    sessions, tenant_id, clock, _ = world
    batches: list[int] = []

    class Counting(TicketIntake):
        def process(self, batch: list[Observation]) -> None:
            batches.append(len(batch))
            super().process(batch)

    intake = Counting(sessions, clock, interval=0.05, max_hold=max_hold)

    async def scenario() -> tuple[list[int], list[int]]:
        context = intake.context(None)
        await anext(context)
        for step in range(steps):
            for index in range(50):
                intake.observe(observation(tenant_id, f"0015651{step * 50 + index:05d}", "Bodega", "34.72.0.60", clock()))
            await asyncio.sleep(0.025)
        during = list(batches)
        for _ in range(200):
            if sum(batches) == steps * 50:
                break
            await asyncio.sleep(0.025)
        with pytest.raises(StopAsyncIteration):
            await anext(context)
        return during, batches[len(during):]

    return asyncio.run(scenario())


def test_a_passing_wave_is_written_as_one_batch_once_it_is_over(world) -> None:  # type: ignore[no-untyped-def]
    during, after = wave_scenario(world, max_hold=30.0, steps=20)
    assert during == [] and after == [1000]
    sessions, _, clock, _ = world
    found = open_tickets(sessions, clock)
    assert len(found) == 1
    with sessions() as session:
        assert len(tickets.get(session, found[0].id).devices) == 1000


def test_a_wave_that_does_not_pass_is_written_after_the_longest_hold(world) -> None:  # type: ignore[no-untyped-def]
    during, after = wave_scenario(world, max_hold=0.3, steps=40)  # a 1 s wave
    assert during and sum(during) + sum(after) == 2000


def test_a_storm_s_batch_is_handled_a_slice_per_turn_of_the_event_loop(world) -> None:  # type: ignore[no-untyped-def]
    """Sorting out, settling and pickling 5,000 observations in one go held the event loop
    for tens of milliseconds while a storm's tickets were written (bench/intake_latency.py):
    every fetch waiting meanwhile paid for it. The loop now gets a turn between slices."""
    import asyncio

    from provisioner.intake_process import LOOP_SLICE, in_slices

    sessions, tenant_id, clock, intake = world
    batch = [observation(tenant_id, f"0015652{i:05d}", "Bodega", "34.72.0.60", clock()) for i in range(4 * LOOP_SLICE + 1)]

    async def turns_during(work) -> int:  # type: ignore[no-untyped-def]
        turns = 0

        async def ticker() -> None:
            nonlocal turns
            while True:
                await asyncio.sleep(0)
                turns += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = turns
        await work
        task.cancel()
        return turns - before

    async def scenario() -> None:
        slices = [len(part) async for part in in_slices(batch)]
        assert slices == [LOOP_SLICE] * 4 + [1]
        assert await turns_during(intake._unsettled(batch)) >= 4
        assert await turns_during(intake._settle(batch)) >= 4
        assert await intake._unsettled(batch) == []  # settled: a repeat within the window is dropped

    asyncio.run(scenario())
