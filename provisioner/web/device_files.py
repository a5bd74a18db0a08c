"""The device's page: the phone, and what it wrote back (its override file, its logs).

Logs and override files are whatever the phone (or whoever held its URL) sent: untrusted
text, shown escaped (the templates autoescape) with control characters replaced. An override
file may carry a password the user typed on the phone: its secret parameters are masked
the way `provisioner render` masks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import load_catalog
from provisioner import upload_store
from provisioner.db.models import Device, Tenant
from provisioner.errors import NotFoundError
from provisioner.mac import normalize_mac
from provisioner.masking import mask_secrets
from provisioner.uploads import readable_text
from provisioner.values import UploadKind
from provisioner.vendors import VENDORS
from provisioner.web.access import DEVICES
from provisioner.web.app import Route, in_thread, register
from provisioner.web.pages import render


@dataclass(frozen=True)
class ShownFile:
    kind: str
    text: str
    size: int
    source_ip: str
    received_at: datetime


@dataclass(frozen=True)
class DeviceFiles:
    mac: str
    tenant: str
    model: str
    override: ShownFile | None
    logs: list[ShownFile]


def device_files(sessions: sessionmaker[Session], mac: str) -> DeviceFiles:
    normalized = normalize_mac(mac)
    with sessions() as session:
        found = session.execute(select(Device, Tenant.name).join(Tenant, Tenant.id == Device.tenant_id)
                                .where(Device.mac == (normalized or ""))).first()
        if found is None:
            raise NotFoundError("No hay un equipo asignado con esa MAC.")
        device, tenant_name = found
        stored = upload_store.device_uploads(session, device.mac)
    entry = next((e for e in load_catalog().entries if e.key == device.model_key), None)
    vendor = VENDORS.get(entry.vendor) if entry else None
    secrets = vendor.secret_parameters if vendor else None
    shown = [
        ShownFile(upload.kind.value,
                  mask_secrets(readable_text(upload.body), secrets, ()) if upload.kind is UploadKind.OVERRIDE
                  else readable_text(upload.body),
                  upload.size, upload.source_ip, upload.received_at)
        for upload in stored
    ]
    override = next((f for f in shown if f.kind == UploadKind.OVERRIDE.value), None)
    return DeviceFiles(device.mac, tenant_name, entry.model if entry else device.model_key, override,
                       [f for f in shown if f.kind != UploadKind.OVERRIDE.value])


async def device_page(request: web.Request) -> web.Response:
    files = await in_thread(request, device_files, request.match_info["mac"])
    return render(request, "device.html", device=files)


ROUTES = (Route("GET", "/devices/{mac}", device_page, DEVICES),)


def setup_device_files(app: web.Application) -> None:
    register(app, ROUTES)
