"""The render path's firmware instruction for every vendor, through the running app (in this
process, clock set by the test): a phone a campaign instructs gets its vendor's instruction in
its own file inside the window only; shared files never; other phones never.

    Yealink      firmware.url in <mac>.cfg
    Polycom      APP_FILE_PATH (its model's child, the part-number image) in <mac>.cfg
    Grandstream  P192 (folder) + P6767 (method) in cfg<mac>.xml; the phone adds gxp1600fw.bin
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.campaigns import BOGOTA, CampaignState, PhoneOrder, PhoneState
from provisioner.server import build_core, create_app
from provisioner.service import ProvisioningService
from provisioner.settings import Settings
from provisioner.vendors import VENDORS
from tests.conftest import free_port
from tests.phones import DESK_PHONES, parse

DAY = date(2027, 1, 15)
INSIDE = datetime(2027, 1, 15, 23, 30, tzinfo=BOGOTA)
BEFORE = datetime(2027, 1, 15, 18, 59, tzinfo=BOGOTA)
AFTER = datetime(2027, 1, 16, 5, 0, tzinfo=BOGOTA)
KEYS = ("yealink-t21p", "polycom-ip331", "grandstream-gxp1620")


def instruction(vendor: str, params: dict[str, str]) -> str | None:
    if vendor == "yealink":
        return params.get("firmware.url")
    if vendor == "polycom":
        return params.get("APP_FILE_PATH_SPIP331") or params.get("APP_FILE_PATH") or None
    return params.get("P192")


def test_instruction_only_for_the_instructed_phone_inside_the_window(database_url: str, tmp_path: Path) -> None:
    catalog = load_catalog()
    port = free_port()
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    settings = Settings(database_url=database_url, host="127.0.0.1", http_port=port, tftp_port=0, snmp_enabled=False,
                        firmware_dir=str(firmware), campaign_tick_seconds=0, intake_process=0)
    core = build_core(settings, migrate=False)
    phones = [p for p in DESK_PHONES if p.catalog_key in KEYS]
    bystander = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t19p")
    with core.sessions.begin() as session:
        tenant = admin.create_tenant(session, "Acme", "pbx.acme.example", slug="acme")
        for number, phone in enumerate([*phones, bystander], start=201):
            admin.add_extension(session, catalog, tenant, str(number), "Ana", assignment=admin.Assignment(phone.mac, phone.model_arg, 1))
        key, tenant_id = tenant.provisioning_key, tenant.id
    for phone in [*phones, bystander]:
        (firmware / str(catalog.get(phone.catalog_key).firmware_file)).write_bytes(b"IMAGE")
    orders = {(tenant_id, p.mac): PhoneOrder(1, DAY, CampaignState.IN_WINDOW, PhoneState.INSTRUCTED,
                                             str(catalog.get(p.catalog_key).firmware_file)) for p in phones}
    service = ProvisioningService(core.directory, core.catalog, core.service.firmware, VENDORS,
                                  orders=lambda t, mac: orders.get((t, mac)))
    core = core._replace(service=service)
    clock = {"now": INSIDE}
    base = f"http://127.0.0.1:{port}/prov/{key}/"

    async def get(http: aiohttp.ClientSession, phone, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
        async with http.get(base + name, headers={"User-Agent": phone.user_agent()}) as response:
            assert response.status == 200, name
            return parse(phone.vendor, await response.read())

    async def own_file(http: aiohttp.ClientSession, phone) -> str:  # type: ignore[no-untyped-def]
        return phone.device_file() if phone.vendor != "polycom" else f"{phone.mac}.cfg"

    async def scenario() -> None:
        app = create_app(settings, core, clock=lambda: clock["now"].astimezone(UTC))
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                for now, expected in ((INSIDE, True), (BEFORE, False), (AFTER, False), (INSIDE, True)):
                    clock["now"] = now
                    for phone in phones:
                        own = await get(http, phone, await own_file(http, phone))
                        found = instruction(phone.vendor, own)
                        image = str(catalog.get(phone.catalog_key).firmware_file)
                        if not expected:
                            assert found is None, (phone.catalog_key, now)
                            continue
                        if phone.vendor == "grandstream":
                            assert found == f"127.0.0.1:{port}/prov/{key}" and own["P6767"] == "1" and own["P232"] == ""
                        else:
                            assert found == base + image, (phone.catalog_key, found)
                        shared = phone.common_file() if phone.vendor != "polycom" else "000000000000.cfg"
                        assert instruction(phone.vendor, await get(http, phone, shared)) is None, shared
                    bystander_file = await get(http, bystander, bystander.device_file())
                    assert "firmware.url" not in bystander_file  # its image is there, but no campaign
        finally:
            await server.close()

    asyncio.run(scenario())
    core.sessions.kw["bind"].dispose()
