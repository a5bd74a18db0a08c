"""Yealink T19P (V72), T20P (V73), T21P (V72) configs (pure: no I/O but packaged templates).

Names this vendor serves (already normalised: no leading "/", MAC lower case):

    y000000000XXX.cfg  COMMON  the model's common file (031 T19P, 007 T20P, 034 T21P) -> no secrets
    <mac>.cfg          DEVICE  accounts, admin password, time zone again         -> sensitive
    anything else (.rom images are served by the server from disk): None

Format: `key = value` lines under `#!version:1.0.0.1`. Every value passes the `kv` filter so
no staff name can end a line or add one. `%NULL%` is Yealink's "empty"; a staff name that
is literally %NULL% just shows blank, which is harmless.

Templates: yealink/base-device.j2 with one template per model (t20p adds the legacy V73
server keys); the chain is explicit in `template_chain`: yealink/<model>.j2, then the base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firmware_catalog import CatalogEntry
from provisioner.rendering import environment
from provisioner.values import LineView, RenderContext, RenderedFile

NAME = "yealink"
CONTENT_TYPE = "text/plain; charset=utf-8"
BASE_DEVICE = "yealink/base-device.j2"
COMMON = "yealink/base-common.j2"

_COMMON_FILE = re.compile(r"y000000000(?P<code>\d{3})\.cfg")
_DEVICE_FILE = re.compile(r"(?P<mac>[0-9a-f]{12})\.cfg")
_TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}  # account.N.transport on V72/V73


class UnsupportedSetting(ValueError):
    """A tenant value that Yealink V72/V73 phones cannot be told."""


@dataclass(frozen=True)
class Slot:
    number: int
    line: LineView | None


def render(filename: str, ctx: RenderContext) -> RenderedFile | None:
    entry = ctx.entry
    if entry is None or entry.vendor != NAME:
        return None
    if (common := _COMMON_FILE.fullmatch(filename)) is not None:
        if common.group("code") != entry.common_file_code:
            return None
        return RenderedFile(_render(COMMON, ctx, entry).encode("utf-8"), CONTENT_TYPE, sensitive=False)
    if (device := _DEVICE_FILE.fullmatch(filename)) is not None and device.group("mac") == ctx.mac:
        text = _render(template_chain(entry), ctx, entry)
        return RenderedFile(text.encode("utf-8"), CONTENT_TYPE, sensitive=True)
    return None


def template_chain(entry: CatalogEntry) -> tuple[str, ...]:
    return (f"{NAME}/{entry.key.removeprefix(NAME + '-')}.j2", BASE_DEVICE)


def slots(entry: CatalogEntry, lines: tuple[LineView, ...]) -> tuple[Slot, ...]:
    """Every account the device has: assigned lines filled, the rest explicitly cleared."""
    by_number = {line.number: line for line in lines}
    count = max(entry.device_max_lines or entry.lines, entry.lines)
    return tuple(Slot(n, by_number.get(n)) for n in range(1, count + 1))


def _render(template: str | tuple[str, ...], ctx: RenderContext, entry: CatalogEntry) -> str:
    transport = _TRANSPORTS.get(ctx.tenant.sip_transport)
    if transport is None:
        raise UnsupportedSetting(f"SIP transport {ctx.tenant.sip_transport!r}")
    return environment().select_template(template if isinstance(template, tuple) else (template,)).render(
        tenant=ctx.tenant,
        model=entry.model,
        mac=ctx.mac or "",
        slots=slots(entry, ctx.lines),
        transport=transport,
        resync_minutes=max(60, ctx.tenant.resync_seconds // 60),
        firmware_url=ctx.firmware_url,
    )
