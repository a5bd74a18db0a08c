"""How the running app answers a config it cannot make, and what its log lines show.

A config the vendor cannot write (RenderError) gets the same 404 as a file we do not have,
with a WARNING line; anything unexpected is a 500 with the traceback in the log only. No log
line, HTTP or TFTP, ever shows the tenant key (it is in every path a phone asks for)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from provisioner.errors import UnsupportedSetting
from provisioner.server import TFTP, build_core, create_app
from provisioner.service import ProvisioningService
from provisioner.settings import Settings
from provisioner.vendors import VENDORS
from provisioner.vendors.yealink import renderer as yealink
from tests.test_directory_watch import MAC, UA, acme_with_one_phone
from tests.test_tftp import RawClient, rrq

Render = Callable[..., object]


def unsupported_transport(name: str, context: object) -> object:
    raise UnsupportedSetting("transporte SIP 'sctp': el teléfono no lo admite")


def broken(name: str, context: object) -> object:
    raise RuntimeError("a bug in a renderer")


def run_server(database_url: str, tmp_path: Path, render: Render, scenario):  # type: ignore[no-untyped-def]
    """Serve acme's one T21P with Yealink files made by `render`; run `scenario(http, base, key, tftp_port)`."""
    settings = Settings(database_url=database_url, host="127.0.0.1", tftp_port=0, snmp_enabled=False,
                        firmware_dir=str(tmp_path / "firmware"))
    core = build_core(settings, migrate=False)
    key = acme_with_one_phone(core.sessions)
    vendors = {**VENDORS, "yealink": SimpleNamespace(render=render)}
    core = core._replace(service=ProvisioningService(core.directory, core.catalog, core.service.firmware, vendors))

    async def serve() -> None:
        app = create_app(settings, core)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession(headers={"User-Agent": UA}) as http:
                await scenario(http, str(server.make_url("/prov/")), key, app[TFTP].port)
        finally:
            await server.close()

    asyncio.run(serve())
    return key


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Our log lines (`provisioner serve` runs aiohttp without its access log; TestServer has one)."""
    return [record.getMessage() for record in caplog.records if record.name != "aiohttp.access"]


def test_a_config_the_vendor_cannot_write_is_the_same_404_as_a_missing_file(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answers = []

    async def scenario(http, base, key, _tftp):  # type: ignore[no-untyped-def]
        for name in (f"{MAC}.cfg", "no-such-file.txt"):
            async with http.get(f"{base}{key}/{name}") as response:
                answers.append((response.status, response.content_type, await response.read()))

    key = run_server(database_url, tmp_path, unsupported_transport, scenario)
    assert answers[0] == answers[1] and answers[0][0] == 404
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "provisioner.server"]
    assert "req=" in warning.getMessage() and f"{MAC}.cfg" in warning.getMessage() and "sctp" in warning.getMessage()
    assert warning.exc_info is None  # a known refusal, not a crash: no traceback
    assert not [line for line in lines(caplog) if key in line]


def test_an_unexpected_failure_is_a_logged_500_that_names_the_file_not_the_key(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answers = []

    async def scenario(http, base, key, _tftp):  # type: ignore[no-untyped-def]
        async with http.get(f"{base}{key}/{MAC}.cfg") as response:
            answers.append((response.status, await response.text()))

    key = run_server(database_url, tmp_path, broken, scenario)
    assert answers == [(500, "Internal Server Error\n")]  # no traceback to the phone
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info is not None and "req=" in error.getMessage() and f"{MAC}.cfg" in error.getMessage()
    assert not [line for line in lines(caplog) if key in line]


def test_tftp_log_lines_name_the_file_never_the_tenant_key(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    got: dict[str, bytes] = {}

    def download(port: int, key: str) -> None:
        client = RawClient(port)
        try:
            got["config"] = client.download(f"{key}/{MAC}.cfg")[0]
            client.request(rrq(f"{key}/no-such-file.cfg"))
            got["missing"] = client.receive()
        finally:
            client.close()

    async def scenario(_http, _base, key, tftp_port):  # type: ignore[no-untyped-def]
        await asyncio.to_thread(download, tftp_port, key)

    key = run_server(database_url, tmp_path, yealink.render, scenario)
    assert b"201" in got["config"] and got["missing"][:4] == b"\x00\x05\x00\x01"  # served; File not found
    logged = lines(caplog)
    assert [line for line in logged if f"{MAC}.cfg" in line and "sent" in line]
    assert [line for line in logged if "no-such-file.cfg" in line and "not found" in line]
    assert [line for line in logged if "sensitive file served" in line]
    assert not [line for line in logged if key in line]
