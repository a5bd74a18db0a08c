"""Plain values that flow through a phone's request (no I/O here, ever).

    HTTP GET / TFTP RRQ --adapter--> ConfigRequest
        identify(filename, user_agent, catalog)      -> Identification
        check_compliance(entry, firmware, highest_line) -> findings
        vendor.render(filename, RenderContext)       -> RenderedFile | None

Adapters (aiohttp handler, TFTP server, CLI) build these values at the edge; nothing
below them sees a framework object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple


class Protocol(StrEnum):
    HTTP = "http"
    TFTP = "tftp"
    SNMP = "snmp"


class ConfigRequest(NamedTuple):
    """One file request from a phone, as the adapter saw it (a tuple: one per fetch)."""

    protocol: Protocol
    tenant_key: str
    filename: str  # as requested, below the tenant key (no leading slash)
    user_agent: str | None
    source_ip: str
    received_at: datetime
    request_id: int = 0  # the adapter's number for this request, on every log line about it
    # Set when the phone asked below its own URL, /prov/d/<token>/ (then tenant_key is ""):
    # a secret like the key, never logged.
    device_token: str | None = None


class Role(StrEnum):
    """What a requested file is to the phone that asked for it."""

    MASTER = "master"  # Polycom master file (000000000000.cfg or <mac>.cfg): no secrets
    COMMON = "common"  # shared by a model or family: never carries secrets
    DEVICE = "device"  # per-MAC config: carries SIP credentials
    FIRMWARE = "firmware"  # firmware image (.sip.ld, .rom, fw.bin)
    OTHER = "other"  # files phones ask for that we do not serve (logs, overrides, directories)
    UNKNOWN = "unknown"  # a name no homologated vendor uses


class UploadKind(StrEnum):
    """A file a phone writes back to its provisioning server (HTTP PUT), e.g. Polycom's."""

    APP_LOG = "app_log"  # the application's log (<mac>-app.log)
    BOOT_LOG = "boot_log"  # the boot loader's / Updater's log (<mac>-boot.log)
    OVERRIDE = "override"  # the user's local settings (<mac>-phone.cfg), read back at every boot


class Certainty(IntEnum):
    """How sure an identification is (graded like wazo's DeviceSupport)."""

    NONE = 0  # nothing learned
    IMPROBABLE = 1  # a weak hint only (e.g. MAC OUI)
    PROBABLE = 2  # from the file name (e.g. Yealink common-file code, Polycom part number)
    CERTAIN = 3  # from a User-Agent that names the model


@dataclass(frozen=True)
class Identification:
    """What a request tells us about the phone that made it.

    `firmware` is set only when the request phase makes it the application's version
    (a Polycom `Type/Updater` UA reports the boot loader's, so it is dropped).
    `mac` is 12 lower-case hex digits. `catalog_key` is the homologated catalog entry the
    model maps to, or None when the model is unknown or not homologated.
    """

    role: Role
    vendor: str | None = None
    model: str | None = None  # the model token as seen on the wire, e.g. "SPIP_331", "GXP1620", "T21P"
    catalog_key: str | None = None
    firmware: str | None = None
    mac: str | None = None
    certainty: Certainty = Certainty.NONE
    reported_firmware: str | None = None  # what the UA said, even when not trusted


@dataclass(frozen=True)
class TenantView:
    """The tenant settings a config needs."""

    name: str
    slug: str
    sip_server: str
    sip_port: int
    sip_transport: str  # "udp" | "tcp" | "tls"
    snmp_community: str
    ntp_server: str
    base_url: str  # provisioning base for this tenant, ends with "/", e.g. http://h:8080/prov/<key>/
    resync_seconds: int = 86400
    # Its phones are moved to their own URLs (RenderContext.provisioning_url): the tenant-wide
    # files then never name a provisioning path, which would move the phones back.
    device_urls: bool = False
    # The accounts' SIP domain (realm), "" = sip_server; an outbound proxy "host[:port]", "" = none.
    # provisioner.sip_accounts.sip_account turns these into what a phone must hold.
    sip_domain: str = ""
    outbound_proxy: str = ""


@dataclass(frozen=True)
class LineView:
    """One SIP account on a phone."""

    number: int  # 1-based line (account) index on the phone
    extension: str
    display_name: str
    label: str
    auth_user: str
    password: str


@dataclass(frozen=True)
class RenderContext:
    """Everything a vendor needs to render one file.

    `entry` is the catalog entry of the phone's model (None for a family-wide common file).
    `lines` are already limited to the catalog's supported line count and sorted by number.
    `firmware_url` is set only for a phone a firmware campaign instructs now, inside its maintenance
    window (provisioner.campaigns.firmware_instruction), and only when the image is in the folder.
    A DEVICE file is rendered only for an assigned MAC; COMMON and MASTER files get no lines
    and must never carry a secret (SIP or admin passwords, the device's URL).
    `admin_password` is the device's own web-admin password ("" in COMMON and MASTER files:
    the phone keeps its own). `provisioning_url` is set only in the DEVICE file of a phone whose
    tenant uses per-device URLs: http://host/prov/d/<token>/, where the phone must look from now on.
    """

    tenant: TenantView
    entry: "CatalogEntryLike | None" = None
    mac: str | None = None
    lines: tuple[LineView, ...] = field(default_factory=tuple)
    firmware_url: str | None = None
    # Family-wide files (Polycom's 000000000000.cfg) point each model at its own image:
    # (catalog entry, firmware URL) for every model of the vendor whose image is present.
    family_firmware: tuple[tuple["CatalogEntryLike", str], ...] = ()
    admin_password: str = ""
    provisioning_url: str | None = None


UNASSIGNED_DEPARTMENT = "Sin asignar"  # a phone whose lines name no department


@dataclass(frozen=True)
class TenantRecord:
    """A tenant as the request path knows it (its key is a secret: never logged)."""

    id: int
    key: str
    view: TenantView
    device_urls: bool = False  # per-device URLs: a phone's MAC file leaves the tenant key once fetched
    enroll_until: datetime | None = None  # until then the tenant key serves every MAC file again


@dataclass(frozen=True)
class DeviceRecord:
    """A phone assigned to a tenant, with its lines."""

    id: int
    mac: str
    model_key: str
    lines: tuple[LineView, ...]  # every assigned line, sorted; may exceed what the model supports
    department: str = UNASSIGNED_DEPARTMENT  # the first line's department (blast radius of incidents)
    admin_password: str = ""  # its web-admin password: its own, never its tenant's
    token: str = ""  # its URL token (/prov/d/<token>/): a secret, never logged
    provisioning_url: str = ""  # its own provisioning base URL, ends with "/"
    enrolled: bool = False  # fetched its MAC file under the tenant key already (and not re-enrolled since)


@dataclass(frozen=True)
class RenderedFile:
    body: bytes
    content_type: str
    sensitive: bool  # carries credentials: log as "sensitive file served", never its body


# Imported late to keep this module free of package cycles; only used in annotations.
from firmware_catalog import CatalogEntry as CatalogEntryLike  # noqa: E402
