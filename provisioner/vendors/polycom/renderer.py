"""Polycom UCS configs: SoundPoint IP 331, SoundPoint IP 550, VVX 600 (pure: no I/O but packaged templates).

Names this vendor serves (already normalised: no leading "/", MAC lower case; every name its
phones ask for is in files.py) and what each carries:

    000000000000.cfg  MASTER  family-wide master: CONFIG_FILES, and one APPLICATION_<MODEL>
                              child per Polycom model whose image is in the firmware folder
    <mac>.cfg         MASTER  the same master, with only the device's model child    -> no secrets
    common.cfg        COMMON  tenant-wide: SNTP server, Bogota time, periodic resync -> no secrets
    <mac>-user.cfg    DEVICE  the phone's registrations, admin password, SNTP/time,
                              and its own provisioning URL (per-device URLs)         -> sensitive
    anything else (images `*.sip.ld` included: the server serves those from disk): None

The master lists "[PHONE_MAC_ADDRESS]-user.cfg, common.cfg": files are read left to right and the
first occurrence of a parameter wins [POLY-AG14], so the per-device file beats the common one.
Firmware goes only in the per-model children (APP_FILE_PATH_SPIP331 ...), never in the generic
APP_FILE_PATH, so a phone that is not the model it was assigned as never fetches another model's
image. A child's CONFIG_FILES_<MODEL> repeats the generic list so it never depends on inheritance.

Templates (templates/phones/polycom/): base-master.j2 and base-common.j2 are family-wide;
base-device.j2 is the per-device base and a model template (ip331.j2, ip550.j2, vvx600.j2) extends
it with only its differences. The chain is provisioner.rendering.template_chain: the catalog's
template (when it names a .j2 file), then polycom/<model>.j2, then polycom/base-device.j2.

Errors: provisioner.errors.UnsupportedSetting (a ValueError) when a tenant value has no Polycom
encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from firmware_catalog import CatalogEntry
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import environment, select_template, template_chain
from provisioner.sip_accounts import sip_account
from provisioner.values import RenderContext, RenderedFile, Role
from provisioner.vendors.polycom.files import MASTER_CFG, NAME, USER_CFG
from provisioner.vendors.vendor import NO_MAC

TEMPLATES = "polycom"  # templates/phones/polycom/

# What `provisioner render` hides: SIP and admin passwords, and the provisioning server (it
# holds the phone's token). Parameters are XML attributes name="value" (xml_text escapes '"').
SECRET_PARAMETERS = re.compile(
    r'(?:reg\.\d+\.auth\.password|device\.auth\.localAdminPassword|device\.prov\.serverName)="(?P<value>[^"]*)"'
)

# device.prov.serverType by URL scheme: UCS takes the names (also 0-4 on older releases).
_SERVER_TYPES = {"http": "HTTP", "https": "HTTPS"}
CONTENT_TYPE = "application/xml"
MASTER_TEMPLATE = f"{TEMPLATES}/base-master.j2"
COMMON_TEMPLATE = f"{TEMPLATES}/base-common.j2"
DEVICE_BASE = "base-device.j2"

# The phone substitutes its own MAC; the per-device file first, so its values win [WZ-PM] [POLY-AG14].
CONFIG_FILES = "[PHONE_MAC_ADDRESS]-user.cfg, common.cfg"

# America/Bogota: UTC-5 all year, no daylight saving (service-model.md section 2).
# tcpIpApp.sntp.gmtOffset is in seconds east of Greenwich [POLY-AG14 p.89].
GMT_OFFSET_SECONDS = -5 * 3600

# prov.polling.period: seconds, at least 3600 in relative mode [POLY-POLL] [FPX-POLYAPP].
MIN_POLLING_SECONDS = 3600

# reg.N.server.1.transport values [WZ-PT] [FPX-POLY].
_TRANSPORTS = {"udp": "UDPOnly", "tcp": "TCPOnly", "tls": "TLS"}

# Model token of the per-model master children: the UA model without "_" [WZ-PC] [WZ-PM5].
_APPLICATION_TOKEN = re.compile(r"(?:SPIP|SSIP|VVX)[0-9]{2,4}")

@dataclass(frozen=True)
class Wanted:
    """What a requested name asks for; `mac` is set for the per-device names."""

    role: Role
    mac: str | None = None


@dataclass(frozen=True)
class ProvisioningServer:
    """device.prov.serverType and serverName (host[:port]/path, no scheme) of a URL."""

    type: str
    name: str


@dataclass(frozen=True)
class ModelImage:
    """One per-model master child: APPLICATION_<token> APP_FILE_PATH_<token>=<url>."""

    token: str
    url: str


def render(filename: str, ctx: RenderContext) -> RenderedFile | None:
    wanted = wanted_file(filename)
    if wanted is None:
        return None
    if wanted.mac is not None and wanted.mac != (ctx.mac or "").lower():
        # Never answer for another phone's name: a DEVICE file carries credentials, and an
        # unassigned phone whose <mac>.cfg is refused falls back to 000000000000.cfg [POLY-AG31].
        return None
    text = render_text(wanted, ctx)
    return RenderedFile(text.encode("utf-8"), CONTENT_TYPE, sensitive=wanted.role is Role.DEVICE)


def wanted_file(filename: str) -> Wanted | None:
    """Classify a normalised file name; None for names this vendor does not serve."""
    if filename == f"{NO_MAC}.cfg":
        return Wanted(Role.MASTER)
    if filename == "common.cfg":
        return Wanted(Role.COMMON)
    if (match := MASTER_CFG.fullmatch(filename)) and match["mac"] != NO_MAC:
        return Wanted(Role.MASTER, match["mac"])
    if (match := USER_CFG.fullmatch(filename)) and match["mac"] != NO_MAC:
        return Wanted(Role.DEVICE, match["mac"])
    return None


def render_text(wanted: Wanted, ctx: RenderContext) -> str:
    if wanted.role is Role.MASTER:
        return render_master(ctx, for_device=wanted.mac is not None)
    if wanted.role is Role.COMMON:
        return render_common(ctx)
    return render_device(ctx)


# -- master ------------------------------------------------------------------------------------
def render_master(ctx: RenderContext, *, for_device: bool) -> str:
    images = device_image(ctx) if for_device else family_images(ctx)
    template = environment().get_template(MASTER_TEMPLATE)
    return template.render(config_files=CONFIG_FILES, images=images)


def device_image(ctx: RenderContext) -> tuple[ModelImage, ...]:
    """The device's own model child, when its image is present."""
    if ctx.entry is None or not ctx.firmware_url:
        return ()
    return _images([(ctx.entry, ctx.firmware_url)])


def family_images(ctx: RenderContext) -> tuple[ModelImage, ...]:
    """One child per Polycom model with an image (family_firmware may hold other vendors' rows)."""
    pairs = list(ctx.family_firmware)
    if ctx.entry is not None and ctx.firmware_url:
        pairs.append((ctx.entry, ctx.firmware_url))
    return _images(pairs)


def _images(pairs: list[tuple[CatalogEntry, str]]) -> tuple[ModelImage, ...]:
    found: dict[str, ModelImage] = {}
    for entry, url in pairs:
        token = application_token(entry) if entry.vendor == NAME else None
        if token and url and token not in found:
            found[token] = ModelImage(token, url)
    return tuple(found.values())


def application_token(entry: CatalogEntry) -> str | None:
    """"SPIP_331" -> "SPIP331", "VVX_600" -> "VVX600": the suffix of APPLICATION_<token>."""
    for alias in entry.aliases:
        candidate = alias.replace("_", "").replace(" ", "").upper()
        if _APPLICATION_TOKEN.fullmatch(candidate):
            return candidate
    return None


# -- common and device files -------------------------------------------------------------------
def render_common(ctx: RenderContext) -> str:
    template = environment().get_template(COMMON_TEMPLATE)
    return template.render(**shared_values(ctx))


def render_device(ctx: RenderContext) -> str:
    template = select_template(template_chain(TEMPLATES, DEVICE_BASE, ctx.entry))
    values = shared_values(ctx)
    values.update(
        lines=ctx.lines,
        accounts={line.number: sip_account(ctx.tenant, line) for line in ctx.lines},
        transport=sip_transport(ctx.tenant.sip_transport),
        admin_password=ctx.admin_password,
        provisioning_server=provisioning_server(ctx.provisioning_url) if ctx.provisioning_url else None,
    )
    return template.render(**values)


def provisioning_server(url: str) -> ProvisioningServer:
    """Where the phone looks for its files from now on: its own URL (per-device URLs)."""
    parts = urlsplit(url)
    server_type = _SERVER_TYPES.get(parts.scheme.lower())
    if server_type is None:
        raise UnsupportedSetting(f"provisioning URL scheme {parts.scheme!r} is not one of {sorted(_SERVER_TYPES)}")
    return ProvisioningServer(server_type, parts.netloc + parts.path)


def shared_values(ctx: RenderContext) -> dict[str, object]:
    """What common.cfg and <mac>-user.cfg both say (the device file repeats it, read first)."""
    return {
        "tenant": ctx.tenant,
        "ntp_server": ctx.tenant.ntp_server.strip(),
        "gmt_offset": GMT_OFFSET_SECONDS,
        "polling_period": polling_period(ctx.tenant.resync_seconds),
    }


def sip_transport(transport: str) -> str:
    try:
        return _TRANSPORTS[transport.strip().lower()]
    except KeyError:
        raise UnsupportedSetting(f"SIP transport {transport!r} is not one of {sorted(_TRANSPORTS)}") from None


def polling_period(seconds: int) -> int:
    return max(int(seconds), MIN_POLLING_SECONDS)


__all__ = [
    "CONFIG_FILES",
    "GMT_OFFSET_SECONDS",
    "ModelImage",
    "TEMPLATES",
    "Wanted",
    "application_token",
    "render",
    "wanted_file",
]
