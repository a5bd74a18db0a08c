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
