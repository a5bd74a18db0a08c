"""A server keeps its directory current from a worker thread: after a config change no
fetch reads the database on the event loop. Re-reading a 5,200-phone tenant there took
~100 ms of the loop, inside the first fetch after every change (bench/README.md)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import event, update

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.changes import bump_config_version
from provisioner.db.models import Extension
from provisioner.directory import Directory
from provisioner.server import build_core, create_app
from provisioner.settings import Settings

MAC = "001565aabbcc"
UA = "Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc"


def acme_with_one_phone(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        tenant = admin.create_tenant(session, "Acme", "pbx.example.net", slug="acme")
        admin.add_extension(session, load_catalog(), tenant, "201", "Ana", assignment=admin.Assignment(MAC, "T21P", 1))
        return tenant.provisioning_key


def rename_extension(sessions) -> None:  # type: ignore[no-untyped-def]
    """Extension 201 now belongs to Beto, as an import or an edit would change it."""
    with sessions.begin() as session:
        session.execute(update(Extension).where(Extension.number == "201").values(name="Beto"))
        bump_config_version(session)


def test_a_reload_is_read_aside_and_installed_in_one_step(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    key = acme_with_one_phone(sessions)
    directory = Directory(sessions, Settings())
    first = directory.prepare_reload()
    assert first is not None
    directory.install(first)
    assert directory.prepare_reload() is None  # nothing moved
    tenant = directory.tenant_by_key(key)
    assert tenant is not None
    assert [line.display_name for line in directory.device(tenant.id, MAC).lines] == ["Ana"]

    rename_extension(sessions)
    generation = directory.generation
    snapshot = directory.prepare_reload()
    assert snapshot is not None
    assert [line.display_name for line in directory.device(tenant.id, MAC).lines] == ["Ana"]  # until installed
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    directory.install(snapshot)
    assert directory.generation == generation + 1  # the render caches follow
    assert directory.tenant_by_key(key) == tenant
    assert [line.display_name for line in directory.device(tenant.id, MAC).lines] == ["Beto"]
    assert statements == []  # installed from the snapshot: no lookup reads the database
    engine.dispose()


def test_a_running_server_serves_a_change_without_reading_the_database_on_its_loop(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, tftp_port=-1, snmp_enabled=False, cache_check_seconds=0.05,
                        firmware_dir=str(tmp_path / "firmware"))
    core = build_core(settings, migrate=False)
    sessions = core.sessions
    key = acme_with_one_phone(sessions)
    loop_thread = threading.get_ident()
    on_loop: list[str] = []
    engine = make_engine(database_url)  # the editor's own: only the server's engine is watched below
    event.listen(sessions.kw["bind"], "before_cursor_execute",
                 lambda *args: on_loop.append(args[2]) if threading.get_ident() == loop_thread else None)

    async def scenario() -> list[str]:
        server = TestServer(create_app(settings, core))
        await server.start_server()
        try:
            async with aiohttp.ClientSession(headers={"User-Agent": UA}) as http:
                async def config() -> str:
                    async with http.get(server.make_url(f"/prov/{key}/{MAC}.cfg")) as response:
                        assert response.status == 200
                        return await response.text()

                assert "Beto" not in await config()  # the first fetch loads the tenant (cold)
                await asyncio.sleep(0.3)  # the watcher's first pass
                on_loop.clear()
                await asyncio.to_thread(rename_extension, session_factory(engine))
                bodies = []
                for _ in range(250):
                    bodies.append(await config())
                    if "Beto" in bodies[-1]:
                        break
                    await asyncio.sleep(0.02)
                assert "Beto" in bodies[-1]
                return list(on_loop)
        finally:
            await server.close()

    assert asyncio.run(scenario()) == []
    engine.dispose()
