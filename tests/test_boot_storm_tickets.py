"""5,000 phones of one model on the same unsupported firmware boot at once against two server
processes sharing PostgreSQL: exactly one open ticket, every phone on it, impact organization
(they span departments), priority and due time per the matrix."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from support_link.sla import first_response_due
from tests.conftest import cli_json, fresh_database, run_cli, start_server, stop_server

PHONES = 5000
DEPARTMENTS = ["Ventas", "Gerencia", "Bodega", "Contabilidad", "Soporte"]


def mac_of(index: int) -> str:
    return f"00156a{index:06x}"


async def boot_all(bases: list[str], key: str) -> list[int]:
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def boot(index: int) -> int:
            mac = mac_of(index)
            colon = ":".join(mac[i : i + 2] for i in range(0, 12, 2))
            url = f"{bases[index % len(bases)]}/prov/{key}/{mac}.cfg"
            async with session.get(url, headers={"User-Agent": f"Yealink SIP-T21P 34.72.0.60 {colon}"}) as response:
                await response.read()
                return response.status

        return await asyncio.gather(*(boot(i) for i in range(PHONES)))


@pytest.mark.slow
def test_boot_storm_on_two_processes_opens_exactly_one_ticket(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as database_url:
        tenant = cli_json(database_url, "tenant", "create", "Tormenta S.A.S.", "--sip-server", "pbx.example.net")
        listing = tmp_path / "extensiones.csv"
        with listing.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["extension", "name", "department", "mac", "model", "line"])
            for index in range(PHONES):
                writer.writerow([str(20000 + index), f"Persona {index}", DEPARTMENTS[index % 5], mac_of(index), "T21P", "1"])
        run_cli(database_url, "import", "extensions", str(listing), "--tenant", tenant["slug"])
        servers = [start_server(database_url, tmp_path / f"s{n}") for n in range(2) if (tmp_path / f"s{n}").mkdir() is None]
        try:
            statuses = asyncio.run(boot_all([s.base for s in servers], tenant["key"]))
            assert statuses.count(200) == PHONES

            def settled() -> list[dict]:
                rows = cli_json(database_url, "tickets", "list")
                return rows if rows and len(rows[0]["devices"]) == PHONES else []

            from tests.test_boot_e2e import wait_for

            rows = wait_for(settled, timeout=240)
            assert rows, (cli_json(database_url, "tickets", "list"), servers[0].log()[-2000:])
            assert len(rows) == 1
            ticket = rows[0]
            assert ticket["finding"] == "firmware_older" and ticket["type"] == "incident"
            assert sorted(ticket["devices"]) == sorted(mac_of(i) for i in range(PHONES))
            assert (ticket["urgency"], ticket["impact"], ticket["priority"]) == ("medium", "organization", "high")
            created = datetime.fromisoformat(ticket["created_at"])
            assert datetime.fromisoformat(ticket["first_response_due"]) == first_response_due(created, "incident", "high")
            assert all(server.alive() for server in servers)
        finally:
            for server in servers:
                stop_server(server)
