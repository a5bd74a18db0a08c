"""`provisioner serve --workers 2`: two processes share the HTTP port (SO_REUSEPORT), and a
clean shutdown stops both and loses no sighting."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Sighting
from tests.conftest import cli_json, run_cli, start_server, stop_server
from tests.test_boot_e2e import wait_for


async def fetch_many(url: str, count: int) -> list[int]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20, force_close=True)) as session:
        async def one() -> int:
            async with session.get(url, headers={"User-Agent": "Yealink SIP-T21P 34.72.0.75 00:15:65:77:00:01"}) as r:
                await r.read()
                return r.status
        return await asyncio.gather(*(one() for _ in range(count)))


def test_two_workers_share_the_port_and_flush_on_shutdown(database_url: str, tmp_path: Path) -> None:
    tenant = cli_json(database_url, "tenant", "create", "Workers S.A.S.", "--sip-server", "pbx.example.net")
    run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "701", "--name", "Ana",
            "--mac", "001565770001", "--model", "T21P")
    server = start_server(database_url, tmp_path, args=("--workers", "2"))
    try:
        assert wait_for(lambda: len(re.findall(r"HTTP listening on .* \(pid (\d+)\)", server.log())) == 2, timeout=30)
        pids = set(re.findall(r"HTTP listening on .* \(pid (\d+)\)", server.log()))
        assert len(pids) == 2
        statuses = asyncio.run(fetch_many(f"{server.base}/prov/{tenant['key']}/001565770001.cfg", 300))
        assert statuses == [200] * 300
    finally:
        stop_server(server)
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        recorded = session.scalar(select(func.count()).select_from(Sighting))
    assert recorded == 300, [line for line in server.log().splitlines() if "provisioner.server req=" not in line][-40:]
    assert len(re.findall(r"sighting writer stopped: \d+ written", server.log())) == 2  # both workers flushed
    engine.dispose()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def test_each_worker_writes_its_tickets_from_a_niced_child_that_stops_with_it(database_url: str, tmp_path: Path) -> None:
    """The ticket writer of every server process is a child of that process, niced below it,
    and a clean shutdown leaves none of them behind (the last findings are written first)."""
    import os

    tenant = cli_json(database_url, "tenant", "create", "Tickets S.A.S.", "--sip-server", "pbx.example.net")
    for index in range(2):
        run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", f"70{index}", "--name", "Ana",
                "--mac", f"00156577000{index}", "--model", "T21P")
    server = start_server(database_url, tmp_path, args=("--workers", "2"))
    try:
        assert wait_for(lambda: len(re.findall(r"HTTP listening on .* \(pid (\d+)\)", server.log())) == 2, timeout=30)
        workers = {int(pid) for pid in re.findall(r"HTTP listening on .* \(pid (\d+)\)", server.log())}

        def writers() -> list[int]:
            niced = os.getpriority(os.PRIO_PROCESS, server.process.pid) + 10
            return [pid for pid in descendants(server.process.pid)
                    if pid not in workers and "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
                    and os.getpriority(os.PRIO_PROCESS, pid) == niced]

        assert wait_for(lambda: len(writers()) == 2, timeout=30), descendants(server.process.pid)
        below = writers()
        outdated = asyncio.run(fetch_phones(server.base, tenant["key"], ["001565770000", "001565770001"], "34.72.0.60"))
        assert outdated == [200, 200]
    finally:
        stop_server(server)
    tickets = cli_json(database_url, "tickets", "list")
    assert len(tickets) == 1 and sorted(tickets[0]["devices"]) == ["001565770000", "001565770001"], tickets
    for pid in below:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


async def fetch_phones(base: str, key: str, macs: list[str], firmware: str) -> list[int]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async def one(mac: str) -> int:
            colon = ":".join(mac[i : i + 2] for i in range(0, 12, 2))
            async with session.get(f"{base}/prov/{key}/{mac}.cfg", headers={"User-Agent": f"Yealink SIP-T21P {firmware} {colon}"}) as r:
                await r.read()
                return r.status
        return [await one(mac) for mac in macs]
