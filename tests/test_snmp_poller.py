"""The SNMP client and poller against a real net-snmp agent (snmpd) on loopback.

Each test runs its own snmpd on 127.0.0.1 and a free UDP port with a config written to tmp_path
(`-C`: no system config). The agent plays a Yealink: custom sysDescr and sysObjectID, and the
private firmware/model/MAC OIDs through `override`. Timeouts are 0.3 s. An agent that answers
with an SNMP error-status cannot be made from snmpd with GETs, so those two tests use a small
fake agent built from pysnmp's own message codec.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from provisioner.snmp.client import close_engine, snmp_get
from provisioner.snmp.errors import AgentError, UnsupportedVendor
from provisioner.snmp.parse import SYS_DESCR, SYS_OBJECT_ID, oids_for
from provisioner.snmp.poller import PollResult, PollTarget, SnmpPoller
from provisioner.snmp.reachability import Reachability, advance
from provisioner.vendors.yealink.snmp import YEALINK_FIRMWARE, YEALINK_MAC, YEALINK_MODEL

SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
SNMPGET = shutil.which("snmpget") or "/usr/bin/snmpget"
COMMUNITY = "tenant-7-ro"
MAC = "0015654c4c26"
TIMEOUT = 0.3
YEALINK_HARDWARE = "1.3.6.1.2.1.37459.2.1.6.0"  # not served by our agent


def _require(binary: str) -> None:
    if not os.path.exists(binary):
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is missing: install Debian's snmpd and snmp packages")
        pytest.skip(f"{binary} not installed")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ real agent


@dataclass
class Agent:
    """One snmpd process playing a Yealink phone."""

    workdir: Path
    port: int = field(default_factory=_free_udp_port)
    firmware: str = "34.72.0.75"
    community: str = COMMUNITY
    mac: str = "00:15:65:4c:4c:26"
    process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        return "\n".join([
            f"agentAddress udp:127.0.0.1:{self.port}",
            f"rocommunity {self.community} 127.0.0.1",
            f"sysDescr Yealink SIP-T21P {self.firmware}",
            "sysObjectID .1.3.6.1.4.1.37459.1",
            f'override .{YEALINK_FIRMWARE} octet_str "{self.firmware}"',
            f'override .{YEALINK_MODEL} octet_str "SIP-T21P"',
            f'override .{YEALINK_MAC} octet_str "{self.mac}"',
            "",
        ])

    def start(self) -> None:
        conf = self.workdir / "snmpd.conf"
        conf.write_text(self.config())
        log_path = self.workdir / "snmpd.log"
        env = {**os.environ, "MIBS": "", "MIBDIRS": str(self.workdir), "SNMP_PERSISTENT_DIR": str(self.workdir)}
        with open(log_path, "wb") as log_file:
            # -f foreground, -Lo log to stdout, -C no system config, -I -smux: no TCP 199 listener
            self.process = subprocess.Popen(
                [SNMPD, "-f", "-Lo", "-C", "-I", "-smux", "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + 10
        while b"NET-SNMP version" not in log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"snmpd did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, firmware: str) -> None:
        self.stop()
        self.firmware = firmware
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    _require(SNMPD)
    running = Agent(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A UDP port that is bound but never read: every request to it times out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


# ------------------------------------------------------------------------------ fake agent


class ErrorAgent(asyncio.DatagramProtocol):
    """Answers v2c GETs from `values`; a request naming `reject` gets `status` at its index."""

    def __init__(self, values: dict[str, str], reject: str | None, status: int) -> None:
        self.values = values
        self.reject = reject
        self.status = status
        self.requests: list[list[str]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a selector transport, not a DatagramTransport subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        request, _ = decoder.decode(data, asn1Spec=v2c.Message())
        oids = [str(oid) for oid, _ in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(request))]
        self.requests.append(oids)
        response = v2c.apiMessage.get_response(request)
        pdu = v2c.apiMessage.get_pdu(response)
        if self.reject in oids or self.reject == "*":
            index = oids.index(self.reject) + 1 if self.reject in oids else 0
            v2c.apiPDU.set_error_status(pdu, self.status)
            v2c.apiPDU.set_error_index(pdu, index)
            v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.Null("")) for oid in oids])
        else:
            v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.OctetString(self.values.get(oid, ""))) for oid in oids])
        assert self.transport is not None
        self.transport.sendto(encoder.encode(response), addr)


@pytest.fixture
async def error_agent_factory() -> AsyncIterator[Callable[..., asyncio.Future[tuple[ErrorAgent, int]]]]:
    transports: list[asyncio.DatagramTransport] = []

    async def make(values: dict[str, str], reject: str | None, status: int) -> tuple[ErrorAgent, int]:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: ErrorAgent(values, reject, status), local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        return protocol, transport.get_extra_info("sockname")[1]

    yield make  # type: ignore[misc]
    for transport in transports:
        transport.close()
    close_engine()


# ------------------------------------------------------------------------------- helpers


def target(port: int, *, mac: str = MAC, community: str = COMMUNITY, tenant_id: int = 7) -> PollTarget:
    return PollTarget(tenant_id, mac, "127.0.0.1", port=port, community=community, vendor="yealink")


class Collector:
    """on_result that queues every result for the test to read."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[PollResult] = asyncio.Queue()
        self.seen: list[PollResult] = []

    async def __call__(self, result: PollResult) -> None:
        self.seen.append(result)
        await self.queue.put(result)

    async def next(self, timeout: float = 5.0) -> PollResult:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def until(self, predicate: Callable[[PollResult], bool], timeout: float = 8.0) -> PollResult:
        async def wait() -> PollResult:
            while not predicate(result := await self.queue.get()):
                pass
            return result

        return await asyncio.wait_for(wait(), timeout)


class CountingGet:
    """The real snmp_get, counted at the seam: calls, and the most ever in flight at once."""

    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.per_key_in_flight: dict[tuple[str, int], int] = {}
        self.max_per_key = 0

    async def __call__(self, ip: str, port: int, community: str, oids: tuple[str, ...], timeout: float, retries: int) -> dict[str, str] | None:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await snmp_get(ip, port, community, oids, timeout, retries)
        finally:
            self.in_flight -= 1


def make_poller(collector: Collector, **settings: object) -> SnmpPoller:
    options: dict[str, object] = {"interval": 0.3, "timeout": TIMEOUT, "retries": 0, "unreachable_after": 3}
    options.update(settings)
    return SnmpPoller(collector, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ reachability (pure)


@pytest.mark.parametrize(
    ("answers", "threshold", "expected"),
    [
        # answers: True = answered, False = timeout; expected per poll: (timeouts, unreachable, became, recovered)
        ("TFT", 2, [(0, False, False, False), (1, False, False, False), (0, False, False, False)]),
        ("FFFF", 3, [(1, False, False, False), (2, False, False, False), (3, True, True, False), (4, True, False, False)]),
        ("FFTF", 2, [(1, False, False, False), (2, True, True, False), (0, False, False, True), (1, False, False, False)]),
        ("FTT", 1, [(1, True, True, False), (0, False, False, True), (0, False, False, False)]),
    ],
)
def test_reachability_steps(answers: str, threshold: int, expected: list[tuple[int, bool, bool, bool]]) -> None:
    state = Reachability()
    seen = []
    for answer in answers:
        step = advance(state, answer == "T", threshold)
        state = step.state
        seen.append((state.consecutive_timeouts, state.unreachable, step.became_unreachable, step.recovered))
    assert seen == expected


# ----------------------------------------------------------------------------------- agent


def test_snmpget_reads_the_agent_config(agent: Agent) -> None:
    """The agent itself is right: net-snmp's own client sees what the poller will parse."""
    _require(SNMPGET)
    result = subprocess.run(
        [SNMPGET, "-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-r", "0", f"127.0.0.1:{agent.port}",
         SYS_DESCR, SYS_OBJECT_ID, YEALINK_FIRMWARE, YEALINK_MODEL, YEALINK_MAC],
        capture_output=True, text=True, timeout=10, env={**os.environ, "MIBS": "", "MIBDIRS": str(agent.workdir)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '.1.3.6.1.2.1.1.1.0 = STRING: "Yealink SIP-T21P 34.72.0.75"',
        ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.37459.1",
        '.1.3.6.1.2.1.37459.2.1.5.0 = STRING: "34.72.0.75"',
        '.1.3.6.1.2.1.37459.2.1.7.0 = STRING: "SIP-T21P"',
        '.1.3.6.1.2.1.37459.2.1.8.0 = STRING: "00:15:65:4c:4c:26"',
    ]


# ---------------------------------------------------------------------------------- client


async def test_client_reads_values_and_leaves_out_missing_objects(agent: Agent) -> None:
    try:
        answer = await snmp_get("127.0.0.1", agent.port, COMMUNITY, (*oids_for("yealink"), SYS_OBJECT_ID, YEALINK_HARDWARE), TIMEOUT, 0)
    finally:
        close_engine()
    assert answer == {
        SYS_DESCR: "Yealink SIP-T21P 34.72.0.75",
        YEALINK_FIRMWARE: "34.72.0.75",
        YEALINK_MODEL: "SIP-T21P",
        YEALINK_MAC: "00:15:65:4c:4c:26",
        SYS_OBJECT_ID: "1.3.6.1.4.1.37459.1",
    }


async def test_client_wrong_community_is_no_answer(agent: Agent) -> None:
    started = time.monotonic()
    try:
        answer = await snmp_get("127.0.0.1", agent.port, "not-the-community", oids_for("yealink"), TIMEOUT, 1)
    finally:
        close_engine()
    elapsed = time.monotonic() - started
    assert answer is None
    assert 2 * TIMEOUT <= elapsed < 2 * TIMEOUT + 1.0  # one retry: two waits


async def test_client_reports_an_error_status_as_agent_error(error_agent_factory) -> None:  # type: ignore[no-untyped-def]
    fake, port = await error_agent_factory({}, YEALINK_MODEL, 5)  # genErr at the model OID
    with pytest.raises(AgentError) as caught:
        await snmp_get("127.0.0.1", port, COMMUNITY, oids_for("yealink"), TIMEOUT, 0)
    assert (caught.value.status, caught.value.index, caught.value.oid) == ("genErr", 3, YEALINK_MODEL)
    assert COMMUNITY not in str(caught.value)
    assert len(fake.requests) == 1


# ---------------------------------------------------------------------------------- poller


async def test_poller_reads_firmware_then_sees_a_changed_firmware(agent: Agent) -> None:
    collector = Collector()
    stamp = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    poller = make_poller(collector, clock=lambda: stamp)
    await poller.start()
    try:
        poller.schedule(target(agent.port), delay=0)
        first = await collector.next()
        assert first.reading is not None
        assert (first.reading.model, first.reading.firmware, first.reading.mac) == ("SIP-T21P", "34.72.0.75", MAC)
        assert (first.reachable, first.consecutive_timeouts, first.became_unreachable, first.recovered) == (True, 0, False, False)
        assert first.at == stamp and first.error is None and not first.mac_mismatch

        await asyncio.to_thread(agent.restart, "34.73.0.10")
        changed = await collector.until(lambda r: r.reading is not None and r.reading.firmware == "34.73.0.10")
        assert changed.reading is not None and changed.reading.sys_descr == "Yealink SIP-T21P 34.73.0.10"
    finally:
        await poller.stop()


async def test_wrong_community_times_out_until_unreachable(agent: Agent) -> None:
    collector = Collector()
    poller = make_poller(collector, unreachable_after=2, interval=0.1)
    await poller.start()
    try:
        poller.schedule(target(agent.port, community="guessed-wrong"), delay=0)
        results = [await collector.next() for _ in range(3)]
    finally:
        await poller.stop()
    assert [(r.reading, r.reachable, r.consecutive_timeouts, r.became_unreachable) for r in results] == [
        (None, True, 1, False), (None, False, 2, True), (None, False, 3, False),
    ]


async def test_stopped_agent_is_unreachable_once_then_recovers(agent: Agent) -> None:
    collector = Collector()
    poller = make_poller(collector, unreachable_after=3, interval=0.1)
    await poller.start()
    try:
        poller.schedule(target(agent.port), delay=0)
        assert (await collector.next()).reading is not None
        agent.pause()  # SIGSTOP: the socket stays open, nothing answers
        await collector.until(lambda r: r.consecutive_timeouts >= 5)
        agent.resume()
        back = await collector.until(lambda r: r.reading is not None)
    finally:
        await poller.stop()
    timeouts = [r for r in collector.seen if r.reading is None]
    assert [r.consecutive_timeouts for r in timeouts[:5]] == [1, 2, 3, 4, 5]
    assert [r.became_unreachable for r in timeouts] == [False, False, True] + [False] * (len(timeouts) - 3)
    assert [r.reachable for r in timeouts[:4]] == [True, True, False, False]
    assert sum(r.recovered for r in collector.seen) == 1
    assert back.recovered and back.reachable and back.consecutive_timeouts == 0
    assert back.reading is not None and back.reading.firmware == "34.72.0.75"


async def test_concurrency_is_bounded(agent: Agent, black_hole: int) -> None:
    """50 phones, 45 of them silent, at most 10 GETs at once: the silent ones take 5 waves of 0.3 s."""
    collector = Collector()
    counting = CountingGet()
    poller = make_poller(collector, interval=60, max_concurrency=10, get=counting)
    await poller.start()
    started = time.monotonic()
    try:
        for n in range(50):
            port = agent.port if n < 5 else black_hole
            poller.schedule(target(port, mac=f"001565{n:06x}"), delay=0)
        results = [await collector.next(timeout=10) for _ in range(50)]
    finally:
        await poller.stop()
    elapsed = time.monotonic() - started
    assert counting.calls == 50
    assert counting.max_in_flight == 10
    assert sum(r.reading is not None for r in results) == 5
    assert elapsed >= 4 * TIMEOUT  # unbounded, all 45 would time out together in ~0.3-0.4 s
    assert elapsed < 10


async def test_scheduling_again_updates_the_target_without_a_second_loop(agent: Agent) -> None:
    collector = Collector()
    counting = CountingGet()
    poller = make_poller(collector, interval=0.2, get=counting)
    await poller.start()
    try:
        poller.schedule(target(agent.port, community="old-community"), delay=30)
        for _ in range(5):  # a phone asks for several files per boot
            poller.schedule(target(agent.port), delay=0)
        first = await collector.next()
        await asyncio.sleep(1.0)
    finally:
        await poller.stop()
    assert first.reading is not None  # the newest community was used
    assert counting.max_in_flight == 1  # one loop for the phone: never two GETs at once
    # ~1.0 s / 0.2 s after the first, not 5x that; stop() may cancel one GET in flight
    assert len(collector.seen) <= counting.calls <= len(collector.seen) + 1 <= 8


async def test_a_failing_or_slow_callback_does_not_stop_polling(agent: Agent, caplog: pytest.LogCaptureFixture) -> None:
    counting = CountingGet()
    delivered: list[PollResult] = []

    async def on_result(result: PollResult) -> None:
        delivered.append(result)
        if len(delivered) == 1:
            raise RuntimeError("ticket queue down")
        if len(delivered) == 2:
            await asyncio.sleep(1.5)  # a slow consumer

    poller = SnmpPoller(on_result, interval=0.1, timeout=TIMEOUT, retries=0, get=counting)
    await poller.start()
    try:
        with caplog.at_level(logging.ERROR, logger="provisioner.snmp.poller"):
            poller.schedule(target(agent.port), delay=0)
            await asyncio.sleep(1.0)
            polls_during_slow_callback = counting.calls
            assert len(delivered) == 2  # the second result is still being handled
            assert polls_during_slow_callback >= 5
            await asyncio.sleep(1.0)
    finally:
        await poller.stop()
    assert len(delivered) > 2  # delivery went on after the exception and the slow call
    assert "SNMP result handler failed for tenant 7 mac 0015654c4c26" in caplog.text
    assert "ticket queue down" in caplog.text
    assert COMMUNITY not in caplog.text


async def test_an_oid_rejected_by_the_agent_is_dropped_and_the_rest_read(error_agent_factory) -> None:  # type: ignore[no-untyped-def]
    values = {SYS_DESCR: "Yealink SIP-T21P", YEALINK_FIRMWARE: "34.72.0.75", YEALINK_MODEL: "SIP-T21P"}
    fake, port = await error_agent_factory(values, YEALINK_MAC, 2)  # noSuchName, as v1-style agents do
    collector = Collector()
    poller = make_poller(collector, interval=60)
    await poller.start()
    try:
        poller.schedule(target(port), delay=0)
        result = await collector.next()
    finally:
        await poller.stop()
    assert result.reading is not None
    assert (result.reading.model, result.reading.firmware, result.reading.mac) == ("SIP-T21P", "34.72.0.75", None)
    assert fake.requests == [list(oids_for("yealink")), list(oids_for("yealink")[:3])]


async def test_an_error_status_is_an_answer_not_a_timeout(error_agent_factory) -> None:  # type: ignore[no-untyped-def]
    _, port = await error_agent_factory({}, "*", 5)  # genErr for everything, no index
    collector = Collector()
    poller = make_poller(collector, interval=0.05, unreachable_after=1)
    await poller.start()
    try:
        poller.schedule(target(port), delay=0)
        results = [await collector.next() for _ in range(3)]
    finally:
        await poller.stop()
    assert all(r.reading is None and r.reachable and r.consecutive_timeouts == 0 for r in results)
    assert not any(r.became_unreachable for r in results)
    assert results[0].error == "agent answered genErr"


async def test_another_mac_at_the_ip_is_flagged(agent: Agent) -> None:
    collector = Collector()
    poller = make_poller(collector, interval=60)
    await poller.start()
    try:
        poller.schedule(target(agent.port, mac="001565ffffff"), delay=0)
        result = await collector.next()
    finally:
        await poller.stop()
    assert result.reading is not None and result.reading.mac == MAC
    assert result.mac_mismatch


async def test_unschedule_stops_polling(agent: Agent) -> None:
    collector = Collector()
    counting = CountingGet()
    poller = make_poller(collector, interval=0.1, get=counting)
    await poller.start()
    try:
        poller.schedule(target(agent.port), delay=0)
        await collector.next()
        poller.unschedule(7, MAC)
        await asyncio.sleep(0.05)
        calls = counting.calls
        await asyncio.sleep(0.5)
        assert counting.calls == calls
    finally:
        await poller.stop()


async def test_targets_scheduled_before_start_are_polled_after_start(agent: Agent) -> None:
    collector = Collector()
    poller = make_poller(collector, interval=60)
    poller.schedule(target(agent.port), delay=0)
    await poller.start()
    try:
        assert (await collector.next()).reading is not None
    finally:
        await poller.stop()


def test_vendors_without_an_agent_cannot_be_scheduled() -> None:
    poller = SnmpPoller(lambda result: None)
    with pytest.raises(UnsupportedVendor):
        poller.schedule(PollTarget(1, MAC, "127.0.0.1", community=COMMUNITY, vendor="jitsi"), delay=0)


def test_the_community_stays_out_of_reprs() -> None:
    assert COMMUNITY not in repr(target(161))
