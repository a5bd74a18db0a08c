"""Grandstream configs: GXP1610/1620/1628/1630, GXV3275, DP750 (pure: no I/O but packaged templates).

Names this vendor serves (already normalised: no leading "/", no "Grandstream/" folder, MAC
lower case; every name its phones ask for is in files.py) and what each carries:

    cfg<mac>.xml      DEVICE  the phone's SIP accounts, admin password, SNMP,
                              its own provisioning path (per-device URLs)      -> sensitive
    cfg<model>.xml    COMMON  tenant-wide settings only (e.g. cfggxp1620.xml)  -> no secrets
    cfg.xml           COMMON  tenant-wide settings only                        -> no secrets

A tenant with per-device URLs: the device file points P237 at the phone's own path and sets
P145 0 (DHCP option 66 may no longer override it); the common files then write no P237 at all,
since a phone reading cfg.xml after its own file would be moved back to the tenant's folder.
    cfg<mac>, cfg<mac>.bin   legacy binary names: None, the phone then asks for the XML
    anything else (firmware images included: the server serves those from disk): None

Templates: grandstream/base.j2 holds the gs_provision shape and the account layout shared by
GXP16xx and GXV (accounts 1-3); a model template extends it with only its differences
(gxv3275.j2: accounts 4-6; dp750.j2: SIP profile + account arrays + handsets). The chain is
provisioner.rendering.template_chain: the catalog's template, then grandstream/<model>.j2, then
the base.

Errors: provisioner.errors.UnsupportedSetting (a ValueError) when a tenant value has no
Grandstream encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from firmware_catalog import CatalogEntry
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import select_template, template_chain, xml_element
from provisioner.sip_accounts import SipAccount, outbound_proxy, sip_account, sip_domain
from provisioner.values import LineView, RenderContext, RenderedFile, Role

TEMPLATES = "grandstream"  # templates/phones/grandstream/
CONTENT_TYPE = "application/xml"
BASE = "base.j2"

# What `provisioner render` hides: the web-admin password P2, every SIP password (accounts 1-3
# P34/P406/P506, GXV3275 4-6 P606/P1706/P1806, DP750 P4120-P4129), the SNMP community P21902
# and the config path P237 (it holds the tenant key or the phone's token).
SECRET_PARAMETERS = re.compile(
    r"<(?P<key>P(?:2|34|406|506|606|1706|1806|412[0-9]|21902|237))>(?P<value>[^<]*)</(?P=key)>"
)

_DEVICE_XML = re.compile(r"cfg(?P<mac>[0-9a-f]{12})\.xml")
_LEGACY_BINARY = re.compile(r"cfg[0-9a-f]{12}(\.bin)?")
_MODEL_XML = re.compile(r"cfg(?P<model>[a-z]{2,4}[0-9]{3,4}[a-z]?)\.xml")

# P130/P448/...: SIP transport per account (FusionPBX gxp16xx and gxv3275 templates).
_TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}
# P212 (config) and P6767 (firmware) "upgrade via": 0 TFTP, 1 HTTP, 2 HTTPS.
_METHODS = {"tftp": 0, "http": 1, "https": 2}
# P193 "check every () minutes" accepts 60..86400 on GXP16xx.
_RESYNC_MINUTES = (60, 86400)


@dataclass(frozen=True)
class Wanted:
    """What a requested name asks for: the DEVICE file of `mac`, or a COMMON file."""

    role: Role
    mac: str | None = None


def render(filename: str, ctx: RenderContext) -> RenderedFile | None:
    wanted = wanted_file(filename)
    if wanted is None:
        return None
    if wanted.role is Role.DEVICE and (ctx.mac is None or ctx.mac.lower() != wanted.mac):
        return None  # never hand one phone's credentials to a name that is not its own
    device = wanted.role is Role.DEVICE
    if filename == "cfg.xml":
        # The family's generic file names no model, and over TFTP nothing else does (no
        # User-Agent): it must be the same bytes whoever asks and however, so it is written
        # for no model in particular, with values every model accepts.
        ctx = replace(ctx, entry=None)
    text = render_config(ctx, device=device)
    return RenderedFile(text.encode("utf-8"), CONTENT_TYPE, sensitive=device)


def wanted_file(filename: str) -> Wanted | None:
    """Classify a normalised file name; None for names this vendor does not serve."""
    if match := _DEVICE_XML.fullmatch(filename):
        return Wanted(Role.DEVICE, match["mac"])
    if _LEGACY_BINARY.fullmatch(filename):
        return None
    if filename == "cfg.xml" or _MODEL_XML.fullmatch(filename):
        return Wanted(Role.COMMON)
    return None


def render_config(ctx: RenderContext, *, device: bool) -> str:
    template = select_template(template_chain(TEMPLATES, BASE, ctx.entry))
    return template.render(p=xml_element, **template_values(ctx, device=device))


def template_values(ctx: RenderContext, *, device: bool) -> dict[str, object]:
    tenant = ctx.tenant
    own_url = ctx.provisioning_url if device else None
    config_method, config_path = method_and_path(own_url or tenant.base_url)
    values: dict[str, object] = {
        "device": device,
        "generic": ctx.entry is None,  # no model known: only values every model accepts
        "tenant": tenant,
        "admin_password": ctx.admin_password if device else "",
        "own_url": own_url is not None,
        # Tenant-wide (common files, DP750's profile): the same domain and proxy every account has.
        "sip_server": server_address(sip_domain(tenant), tenant.sip_port),
        "outbound_proxy": str(proxy) if (proxy := outbound_proxy(tenant)) else "",
        "transport": transport_code(tenant.sip_transport),
        "config_method": config_method,
        "config_path": None if tenant.device_urls and own_url is None else config_path,
        "resync_minutes": resync_minutes(tenant.resync_seconds),
        "mac": None,
        "lines": {},
        "sip_accounts": {},
        "slots": 0,
        "firmware": None,
    }
    if device:
        values.update(device_values(ctx))
    return values


def device_values(ctx: RenderContext) -> dict[str, object]:
    """What only the per-MAC file carries: accounts, and where to get firmware."""
    lines = {line.number: line for line in ctx.lines}
    return {
        "mac": ctx.mac,
        "lines": lines,
        "sip_accounts": {line.number: grandstream_account(sip_account(ctx.tenant, line)) for line in ctx.lines},
        "slots": account_slots(ctx.entry, ctx.lines),
        "firmware": firmware_location(ctx.firmware_url) if ctx.firmware_url else None,
    }


@dataclass(frozen=True)
class GrandstreamAccount:
    """One account as P-values take it: the domain as "host:port" (P47), the proxy as
    "host:port" or "" (P48)."""

    sip: SipAccount
    server: str
    proxy: str


def grandstream_account(sip: SipAccount) -> GrandstreamAccount:
    proxy = server_address(sip.proxy.host, sip.proxy.port) if sip.proxy else ""
    return GrandstreamAccount(sip, server_address(sip.domain, sip.port), proxy)


def account_slots(entry: CatalogEntry | None, lines: tuple[LineView, ...]) -> int:
    """Account slots to write: every slot the device has (unused ones written disabled, so an
    extension that moved away does not linger), and never one it does not have: a GXP1610 gets
    account 1 only (its P401.. block would be an account it lacks). The caller gives only the
    lines firmware_catalog.lines allows; the model template caps this at the accounts it knows."""
    used = max((line.number for line in lines), default=0)
    if entry is None:
        return used
    if entry.device_max_lines is not None:
        return entry.device_max_lines
    return max(used, entry.lines)


def server_address(host: str, port: int) -> str:
    """P47-style "host:port" (an IPv6 literal gets brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def transport_code(transport: str) -> int:
    try:
        return _TRANSPORTS[transport.lower()]
    except KeyError:
        raise UnsupportedSetting(f"SIP transport {transport!r} is not one of {sorted(_TRANSPORTS)}") from None


def method_and_path(url: str) -> tuple[int, str]:
    """A URL as Grandstream wants it: (P212/P6767 method, server path without scheme or final "/")."""
    parts = urlsplit(url)
    try:
        method = _METHODS[parts.scheme.lower()]
    except KeyError:
        raise UnsupportedSetting(f"URL scheme of {url!r} is not one of {sorted(_METHODS)}") from None
    return method, (parts.netloc + parts.path).rstrip("/")


def firmware_location(firmware_url: str) -> tuple[int, str]:
    """P6767 method and P192 folder: the phone appends its own image name (gxp1600fw.bin)."""
    folder = firmware_url.rsplit("/", 1)[0]
    return method_and_path(folder)


def resync_minutes(seconds: int) -> int:
    low, high = _RESYNC_MINUTES
    return min(max(seconds // 60, low), high)


__all__ = [
    "TEMPLATES",
    "Wanted",
    "render",
    "wanted_file",
]
