"""Yealink T19P (V72), T20P (V73), T21P (V72) configs (pure: no I/O but packaged templates).

Names this vendor serves (already normalised: no leading "/", MAC lower case; every name its
phones ask for is in files.py):

    y000000000XXX.cfg  COMMON  the model's common file (031 T19P, 007 T20P, 034 T21P):
                               clock, resync, SNMP -> no secrets
    <mac>.cfg          DEVICE  every account slot, admin password, clock again, firmware.url while
                               the phone is in a campaign's window, and the
                               phone's own provisioning URL (per-device URLs) -> sensitive
    anything else (.rom images are served by the server from disk): None

Format: `key = value` lines under `#!version:1.0.0.1` [WZ-Y72]. The phone splits a line at
its first "=", trims both sides and treats a line starting with "#" as a comment. So:

    line breaks / control characters  would end a line or add one: `kv` makes them a space / drops
                                      them (U+2028, U+0085, VT, FF ... too: anything splitlines sees)
    "=" inside a value                harmless: only the first "=" splits (URLs carry them too)
    "#" at the start of a value       harmless: the line starts with the key, not "#"
    leading / trailing spaces         trimmed by the phone: `kv` trims them so the file says what
                                      the phone will hold
    a value that is exactly %NULL%    Yealink's "empty/default": a staff name like that would blank
                                      the label, so display text falls back to the extension; a
                                      password like that is refused (see errors)

Secrets (SIP and admin passwords) are never altered: one that `kv` would change, or that is
empty or %NULL%, cannot be carried exactly, so rendering fails loudly instead of handing the
phone a different password than the PBX has. The error message never contains the value.

Clock: Colombia is UTC-5 all year. The V72/V73 time-zone name list has no Colombia entry;
its UTC-5 names are Bahamas(Nassau), Canada(Montreal,Ottawa,Quebec), Cuba(Havana) and
United States-Eastern Time (as transcribed by public Yealink provisioners, which also map
America/Bogota to "United States-Eastern Time"). The name only selects DST rules when
summer_time = 2 (automatic); we write summer_time = 0, so the offset alone sets the clock.
The clock goes in both files: V72 firmware ignored local_time.* in the common file [FPX-768].

Templates: yealink/base.j2 is the family base (both files); a model template extends it with
only its differences (t20p.j2: V73 also gets the legacy sip_server_host/_port keys). The chain
is provisioner.rendering.template_chain: yealink/<model>.j2, then the family base.

Errors (both ValueErrors):

    provisioner.errors.UnsupportedSetting   a tenant or line value with no V72/V73 encoding
        └── UnwritableSecret            a password the key = value format cannot carry exactly
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import jinja2

from firmware_catalog import CatalogEntry
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import kv_value, select_template, template_chain
from provisioner.sip_accounts import SipAccount, sip_account
from provisioner.values import LineView, RenderContext, RenderedFile, TenantView
from provisioner.vendors.yealink.files import COMMON_CFG, DEVICE_CFG, NAME

TEMPLATES = "yealink"  # templates/phones/yealink/
CONTENT_TYPE = "text/plain; charset=utf-8"
FAMILY_BASE = "base.j2"
NULL = "%NULL%"  # Yealink's "no value / back to default"
ADMIN_USER = "admin"
SNMP_PORT = 161

# What `provisioner render` hides: SIP passwords, the admin user:password, and the provisioning
# server URL (it holds the phone's token).
SECRET_PARAMETERS = re.compile(
    r"^(?:account\.\d+\.password|security\.user_password|(?:static\.)?auto_provision\.server\.url) = (?P<value>.*)$",
    re.MULTILINE,
)

_TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}  # account.N.transport on V72/V73 (3 = DNS-NAPTR, unused)


class UnwritableSecret(UnsupportedSetting):
    """A password the key = value format cannot carry exactly (never includes the value)."""


@dataclass(frozen=True)
class Clock:
    """What local_time.* says; the same lines go in the common and the device file."""

    time_zone: str  # hours from UTC as the phone writes them: "-5", "+5:30"
    time_zone_name: str  # an entry of the phone's own list (only used when summer_time = 2)
    summer_time: int  # 0 disabled, 1 enabled, 2 automatic


BOGOTA = Clock(time_zone="-5", time_zone_name="United States-Eastern Time", summer_time=0)


@dataclass(frozen=True)
class Account:
    """One account slot of the phone: a line to register, or a slot to clear (line is None)."""

    number: int
    line: LineView | None = None
    sip: SipAccount | None = None  # what registers it (provisioner.sip_accounts), with line
    label: str = NULL
    display_name: str = NULL


def render(filename: str, ctx: RenderContext) -> RenderedFile | None:
    entry = ctx.entry
    if entry is None or entry.vendor != NAME:
        return None
    if (common := COMMON_CFG.fullmatch(filename)) is not None:
        if common.group("code") != entry.common_file_code:
            return None
        return _file(render_common(ctx, entry), sensitive=False)
    device = DEVICE_CFG.fullmatch(filename)
    if device is not None and ctx.mac is not None and device.group("mac") == ctx.mac.lower():
        return _file(render_device(ctx, entry), sensitive=True)
    return None


def render_common(ctx: RenderContext, entry: CatalogEntry) -> str:
    """The model's common file. Its context holds no secret at all, so none can leak into it."""
    return model_template(entry).render(kind="common", **_shared_values(ctx, entry))


def render_device(ctx: RenderContext, entry: CatalogEntry) -> str:
    tenant = ctx.tenant
    return model_template(entry).render(
        kind="device",
        mac=ctx.mac,
        accounts=accounts(entry, ctx.lines, tenant),
        transport=transport_code(tenant.sip_transport),
        admin_user=ADMIN_USER,
        admin_password=secret(ctx.admin_password, "admin password"),
        provisioning_url=provisioning_url(ctx.provisioning_url) if ctx.provisioning_url else None,
        **_shared_values(ctx, entry),
    )


def model_template(entry: CatalogEntry) -> jinja2.Template:
    """The model's own template, else the family base (provisioner.rendering.template_chain)."""
    return select_template(template_chain(TEMPLATES, FAMILY_BASE, entry))


def accounts(entry: CatalogEntry, lines: tuple[LineView, ...], tenant: TenantView) -> tuple[Account, ...]:
    """Every account slot the device has: assigned lines filled, the others cleared.

    Clearing up to the device's maximum (not just the catalog's count) removes an extension
    that an earlier config put on a slot the operator no longer uses.
    """
    count = max(entry.device_max_lines or entry.lines, entry.lines)
    by_number = {line.number: line for line in lines}
    beyond = sorted(n for n in by_number if not 1 <= n <= count)
    if beyond:
        raise UnsupportedSetting(f"{entry.model} has accounts 1-{count}; lines {beyond} do not fit")
    return tuple(_account(n, by_number.get(n), tenant) for n in range(1, count + 1))


def transport_code(transport: str) -> int:
    code = _TRANSPORTS.get(transport.lower())
    if code is None:
        raise UnsupportedSetting(f"SIP transport {transport!r} (V72/V73 take udp, tcp, tls)")
    return code


def resync_minutes(seconds: int) -> int:
    """auto_provision.repeat.minutes for a resync period in seconds (whole minutes, rounded up)."""
    if seconds <= 0:
        raise UnsupportedSetting(f"resync period {seconds} s (must be positive)")
    return math.ceil(seconds / 60)


def snmp_trust_ip(tenant: TenantView) -> str:
    """network.snmp.trust_ip: the address SNMP requests may come from.

    The poller runs in the provisioning server, so when the tenant's provisioning URL names
    that server by IP address, that address is the one to trust. A host name cannot be
    written there (the phone takes addresses), so the phone's default is kept (%NULL%).
    """
    host = urlsplit(tenant.base_url).hostname or ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return NULL


def provisioning_url(url: str) -> str:
    """The phone's own URL, written exactly (a URL that kv would alter is refused like a secret)."""
    if url != kv_value(url) or not url.endswith("/"):
        raise UnsupportedSetting("the provisioning URL cannot be written to a Yealink key = value file exactly")
    return url


def display_text(value: str, fallback: str) -> str:
    """A label or display name as the phone will hold it; blank or %NULL% falls back."""
    text = kv_value(value)
    return fallback if not text or text.upper() == NULL else text


def secret(value: str, what: str) -> str:
    """A password, written exactly as given or not at all."""
    if not value or value != kv_value(value) or value.upper() == NULL:
        raise UnwritableSecret(f"{what} cannot be written to a Yealink key = value file exactly")
    return value


def _account(number: int, line: LineView | None, tenant: TenantView) -> Account:
    if line is None:
        return Account(number)
    sip = sip_account(tenant, line)
    secret(sip.password, f"SIP password of line {number}")
    secret(sip.user, f"SIP user of line {number}")  # a user kv would alter registers as someone else
    fallback = kv_value(line.extension) or str(number)
    return Account(number, line, sip, display_text(line.label, fallback), display_text(line.display_name, fallback))


def _shared_values(ctx: RenderContext, entry: CatalogEntry) -> dict[str, object]:
    """What both files carry: nothing here may be a secret."""
    tenant = ctx.tenant
    return {
        "model": entry.model,
        "tenant_name": tenant.name,
        "ntp_server": tenant.ntp_server,
        "clock": BOGOTA,
        "resync_minutes": resync_minutes(tenant.resync_seconds),
        "snmp_port": SNMP_PORT,
        "snmp_trust_ip": snmp_trust_ip(tenant),
        "firmware_url": ctx.firmware_url,
    }


def _file(text: str, sensitive: bool) -> RenderedFile:
    return RenderedFile(text.encode("utf-8"), CONTENT_TYPE, sensitive=sensitive)
