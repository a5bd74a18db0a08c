"""Administrative operations on the database, shared by the CLI and the web API.

Each function takes the caller's session; the caller commits. Every write that changes a
phone's config bumps config_version in the same transaction. Refusals are the provisioner's
InputError (NotFoundError, ConflictError), whose message tells the operator what to correct.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from firmware_catalog import Catalog, CatalogEntry, FindingKind, check_compliance, line_allowed, line_refusal
from provisioner import ban_store, credentials, pbx_accounts
from provisioner.bans import Network, in_networks, parse_networks
from provisioner.db.changes import bump_config_version
from provisioner.db.models import AppUser, Device, Extension, PhoneState, Tenant
from provisioner.mac import normalize_mac
from provisioner.permissions import parse_permissions
from provisioner.accounts import ROLES, hash_password, new_token, token_digest
from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.labels import NOT_REPORTED
from provisioner.softphones import device_name, full_model, is_softphone, mac_refusal
from support_link.store.models import AffectedDeviceRecord, TicketRecord
from support_link.store.tickets import OPEN as OPEN_STATUSES


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SLUG.sub("-", ascii_name.lower()).strip("-")[:64] or "tenant"


def create_tenant(
    session: Session,
    name: str,
    sip_server: str,
    *,
    slug: str | None = None,
    sip_port: int = 5060,
    sip_transport: str = "udp",
    ntp_server: str = "pool.ntp.org",
    contact_name: str = "",
    contact_email: str = "",
) -> Tenant:
    slug = slug or slugify(name)
    if session.scalar(select(Tenant).where(Tenant.slug == slug)):
        raise ConflictError(f"a tenant with slug {slug!r} already exists")
    if sip_transport not in ("udp", "tcp", "tls"):
        raise InputError(f"--sip-transport must be udp, tcp or tls, not {sip_transport!r}")
    if not 1 <= sip_port <= 65535:
        raise InputError(f"--sip-port must be 1..65535, not {sip_port}")
    tenant = Tenant(
        name=name, slug=slug, provisioning_key=credentials.provisioning_key(), sip_server=sip_server,
        sip_port=sip_port, sip_transport=sip_transport, snmp_community=credentials.snmp_community(),
        admin_password=credentials.admin_password(), ntp_server=ntp_server, contact_name=contact_name,
        contact_email=contact_email, created_at=datetime.now(UTC),
    )
    session.add(tenant)
    session.flush()
    return tenant


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFoundError(f"no tenant with slug {slug!r} (see `provisioner tenant list`)")
    return tenant


@dataclass(frozen=True)
class Assignment:
    mac: str
    model: str
    line: int


def add_extension(
    session: Session,
    catalog: Catalog,
    tenant: Tenant,
    number: str,
    name: str,
    *,
    email: str = "",
    department: str = "",
    permissions: str = "internal",
    assignment: Assignment | None = None,
    softphone: str | None = None,
    sip_user: str | None = None,
    sip_password: str | None = None,
) -> tuple[Extension, list[str]]:
    """Create an extension (optionally on a phone line, or on a softphone app: `softphone`
    names its homologated model). Returns it and any warnings.
    `sip_user` / `sip_password`: the PBX's own account (default: the tenant's format, a new password)."""
    warnings: list[str] = []
    if assignment is not None and softphone is not None:
        raise InputError("an extension is on a phone line or on a softphone, not both")
    softphone_key = softphone_model(catalog, softphone).key if softphone is not None else None
    if not number.isdigit() or not 2 <= len(number) <= 6:
        raise InputError(f"extension {number!r} must be 2 to 6 digits")
    if not name.strip():
        raise InputError("--name is required")
    if session.scalar(select(Extension).where(Extension.tenant_id == tenant.id, Extension.number == number)):
        raise ConflictError(f"extension {number} already exists in tenant {tenant.slug}")
    try:
        canonical_permissions = parse_permissions(permissions)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    extension = Extension(
        tenant_id=tenant.id, number=number, name=name.strip(), email=email, department=department,
        permissions=canonical_permissions, sip_auth_user=pbx_accounts.new_sip_user(session, tenant, number, sip_user),
        sip_password=pbx_accounts.check_sip_password(sip_password) if sip_password else credentials.sip_password(),
        softphone=softphone_key,
    )
    if assignment is not None:
        device, line, warnings = _place_on_device(session, catalog, tenant, assignment)
        extension.device_id, extension.line = device.id, line
    session.add(extension)
    bump_config_version(session)
    session.flush()
    return extension, warnings


def _place_on_device(
    session: Session, catalog: Catalog, tenant: Tenant, assignment: Assignment
) -> tuple[Device, int, list[str]]:
    mac = normalize_mac(assignment.mac)
    if mac is None or mac in ("000000000000", "ffffffffffff"):
        raise InputError(f"--mac {assignment.mac!r} is not a valid MAC address")
    entry = catalog.find(assignment.model)
    if entry is None:
        raise InputError(f"--model {assignment.model!r} is not a homologated model (see `provisioner catalog list`)")
    if is_softphone(entry):
        raise InputError(mac_refusal(entry))
    # The same rule and words as the import (firmware_catalog.lines): what is accepted here
    # exports and imports back, and is a line the phone is really sent.
    if refusal := line_refusal(entry, assignment.line):
        raise InputError(refusal)
    warnings: list[str] = []
    device = session.scalar(select(Device).where(Device.mac == mac))
    if device is None:
        device = Device(
            tenant_id=tenant.id, mac=mac, model_key=entry.key, created_at=datetime.now(UTC),
            url_token=credentials.device_token(), admin_password=credentials.admin_password(),
        )
        session.add(device)
        session.flush()
    elif device.tenant_id != tenant.id:
        raise ConflictError(f"MAC {mac} is assigned to another tenant")
    elif device.model_key != entry.key:
        raise ConflictError(f"MAC {mac} is already registered as {device.model_key}, not {entry.key}")
    taken = session.scalar(select(Extension).where(Extension.device_id == device.id, Extension.line == assignment.line))
    if taken is not None:
        raise ConflictError(f"line {assignment.line} of {mac} already carries extension {taken.number}")
    return device, assignment.line, warnings


def softphone_model(catalog: Catalog, model: str) -> CatalogEntry:
    """The homologated softphone app named `model` (refused: unknown, or a desk phone)."""
    entry = catalog.find(model)
    if entry is None:
        raise InputError(f"--model {model!r} is not a homologated model (see `provisioner catalog list`)")
    if not is_softphone(entry):
        raise InputError(f"{entry.model} is a {entry.kind} phone: give its --mac (and --line)")
    return entry


@dataclass(frozen=True)
class DeviceRow:
    """One line of the device list (CLI `devices`, the web page, the API): an assigned phone,
    or one seen but not assigned yet ("waiting"), with what the homologated table says of it."""

    mac: str
    tenant: str  # tenant slug
    vendor: str | None
    model: str | None  # assigned model, else the one the phone reported
    model_key: str | None  # catalog key when assigned
    reported_model: str | None
    firmware: str | None
    compliant: bool  # seen, and no findings
    findings: tuple[str, ...]  # finding kinds, e.g. "firmware_older"
    last_seen: str | None  # ISO 8601, UTC
    last_ip: str | None
    assigned: bool
    lines: int
    open_tickets: tuple[int, ...] = ()
    tenant_id: int = 0  # for the page cursor; not shown
    softphone: bool = False  # an app on an extension: `mac` is its name, "ext-<number>"
    status: str = ""  # what a person reads: "ok", the findings, "no reportado", "never seen"
    extensions: tuple[tuple[str, str], ...] = ()  # (number, user's name) of each line, by line

    def as_json(self) -> dict[str, object]:
        """The row as the API and `devices --json` print it."""
        shown = {**asdict(self), "findings": list(self.findings), "open_tickets": list(self.open_tickets),
                 "extensions": [{"number": number, "name": name} for number, name in self.extensions]}
        del shown["tenant_id"]
        return shown


def list_devices(session: Session, catalog: Catalog, *, tenant_slug: str | None = None) -> list[DeviceRow]:
    """Every assigned device and every phone seen but not assigned yet ("waiting"), then every
    softphone extension (device_page's last page), with status."""
    rows: list[DeviceRow] = []
    cursor: str | None = None
    while True:
        page = device_page(session, catalog, tenant_slug=tenant_slug, cursor=cursor, size=1000)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def softphone_rows(session: Session, catalog: Catalog, *, tenant_slug: str | None = None) -> list[DeviceRow]:
    """Softphone extensions as device rows: judged on what the app last reported; an app that
    never reported a version is "no reportado" (Wave and WeKall never do), never compliant."""
    query = (select(Extension, Tenant.slug).join(Tenant, Tenant.id == Extension.tenant_id)
             .where(Extension.softphone.is_not(None)).order_by(Tenant.slug, func.length(Extension.number), Extension.number))
    if tenant_slug is not None:
        query = query.where(Tenant.slug == tenant_slug)
    rows = []
    for extension, slug in session.execute(query):
        assigned = catalog.get(extension.softphone or "")
        reported = extension.softphone_reported_model
        entry = catalog.find(reported) if reported else assigned
        findings: list[str] = []
        if extension.softphone_version is not None:
            findings = [f.kind.value for f in check_compliance(entry, extension.softphone_version, 1, model_seen=reported)]
        elif reported and entry is None:
            findings = ["model_not_homologated"]
        reported_version = extension.softphone_version is not None
        name = device_name(extension.number)
        status = ",".join(findings) if findings else ("ok" if reported_version else NOT_REPORTED)
        rows.append(DeviceRow(
            mac=name, tenant=slug, vendor=assigned.vendor, model=full_model(assigned), model_key=assigned.key,
            reported_model=reported, firmware=extension.softphone_version,
            compliant=reported_version and not findings, findings=tuple(findings),
            last_seen=_iso(extension.softphone_seen_at) if extension.softphone_seen_at else None, last_ip=None,
            assigned=True, lines=1, open_tickets=tuple(_open_tickets_of(session, [name]).get((slug, name), ())),
            tenant_id=extension.tenant_id, softphone=True, status=status,
        ))
    return rows


DEVICE_PAGE_SIZE = 100
_CURSOR = re.compile(r"a\.([0-9a-f]{12})|w\.([0-9a-f]{12})\.([0-9]{1,18})")


@dataclass(frozen=True)
class DevicePage:
    rows: list[DeviceRow]
    next_cursor: str | None  # where the next page starts; None on the last page


WHICH = ("assigned", "waiting")  # device_page(which=...): only assigned devices, or only phones waiting


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the wildcards in it taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def device_page(
    session: Session, catalog: Catalog, *, tenant_slug: str | None = None, cursor: str | None = None,
    size: int = DEVICE_PAGE_SIZE, search: str | None = None, which: str | None = None,
) -> DevicePage:
    """One page of the device list: assigned devices by MAC, then waiting phones by MAC.

    Every query is limited to the page (a site of 100,000 phones once took 4.7 s to list
    whole). The cursor names the last row shown: "a.<mac>" (assigned) or "w.<mac>.<tenant id>".
    `search` finds a MAC (any part, any separators), an extension number or user name, or a
    model; `which` keeps only assigned devices or only waiting phones.
    """
    if which is not None and which not in WHICH:
        raise InputError(f"El filtro de asignación «{which[:20]}» no existe: elija uno de la lista ({', '.join(WHICH)}).")
    after = _CURSOR.fullmatch(cursor) if cursor else None
    if cursor and after is None:
        raise InputError(f"el cursor {cursor[:40]!r} no es válido: use el next_cursor de la página anterior")
    tenant_id = None
    if tenant_slug is not None:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            return DevicePage([], None)
        tenant_id = tenant.id
    text = (search or "").strip()[:100]
    hexes = re.sub(r"[^0-9a-f]", "", text.lower()) if re.fullmatch(r"[0-9A-Fa-f:.\- ]{2,}", text) else ""
    assigned: Sequence[Device] = []
    if (after is None or after[1]) and which != "waiting":
        query = select(Device).order_by(Device.mac).limit(size + 1)
        if after is not None:
            query = query.where(Device.mac > after[1])
        if tenant_id is not None:
            query = query.where(Device.tenant_id == tenant_id)
        if text:
            pattern = _like(text.lower())
            line = select(Extension.id).where(
                Extension.device_id == Device.id,
                or_(Extension.number == text, func.lower(Extension.name).like(pattern, escape="\\")),
            ).exists()
            reported = select(PhoneState.id).where(
                PhoneState.mac == Device.mac, func.lower(PhoneState.model).like(pattern, escape="\\")).exists()
            matches = [line, reported, func.lower(Device.model_key).like(pattern, escape="\\")]
            if hexes:
                matches.append(Device.mac.like(_like(hexes), escape="\\"))
            query = query.where(or_(*matches))
        assigned = session.scalars(query).all()
    waiting: Sequence[PhoneState] = []
    if len(assigned) <= size and which != "assigned":
        waiting = _waiting_phones(session, tenant_id, (after[2], int(after[3])) if after and after[2] else None,
                                  size + 1 - len(assigned), text, hexes)
    rows = _rows_of(session, catalog, assigned[:size], waiting[: size - len(assigned[:size])])
    if len(assigned) + len(waiting) <= size:  # the last page also lists the softphone extensions
        return DevicePage(rows + softphone_rows(session, catalog, tenant_slug=tenant_slug), None)
    last = rows[-1]
    return DevicePage(rows, f"a.{last.mac}" if last.assigned else f"w.{last.mac}.{last.tenant_id}")


COMPLIANCE = ("ok", "findings", "unseen")  # conforme, con hallazgos, sin contacto


def compliance_of(row: DeviceRow) -> str:
    return "ok" if row.compliant else "findings" if row.findings else "unseen"


def filtered_device_page(
    session: Session, catalog: Catalog, *, compliance: str | None = None, scan_pages: int = 20,
    size: int = DEVICE_PAGE_SIZE, cursor: str | None = None, **filters: str | None,
) -> DevicePage:
    """device_page keeping only rows of one compliance (judged per row, so not in SQL): reads
    up to `scan_pages` pages to fill one, then hands back a cursor to go on from (bounded)."""
    if compliance is None:
        return device_page(session, catalog, size=size, cursor=cursor, **filters)  # type: ignore[arg-type]
    if compliance not in COMPLIANCE:
        raise InputError(f"El filtro de estado «{compliance[:20]}» no existe: elija uno de la lista ({', '.join(COMPLIANCE)}).")
    rows: list[DeviceRow] = []
    for _ in range(scan_pages):
        page = device_page(session, catalog, size=size, cursor=cursor, **filters)  # type: ignore[arg-type]
        rows += [row for row in page.rows if compliance_of(row) == compliance]
        cursor = page.next_cursor
        if cursor is None or len(rows) >= size:
            break
    return DevicePage(rows, cursor)


def _waiting_phones(
    session: Session, tenant_id: int | None, after: tuple[str, int] | None, limit: int, text: str = "", hexes: str = "",
) -> Sequence[PhoneState]:
    """Phones seen by a tenant that has no device of that MAC, by (MAC, tenant id), after `after`."""
    query = (
        select(PhoneState)
        .outerjoin(Device, and_(Device.mac == PhoneState.mac, Device.tenant_id == PhoneState.tenant_id))
        .where(Device.id.is_(None))
        .order_by(PhoneState.mac, PhoneState.tenant_id)
        .limit(limit)
    )
    if text:
        matches = [func.lower(PhoneState.model).like(_like(text.lower()), escape="\\")]
        if hexes:
            matches.append(PhoneState.mac.like(_like(hexes), escape="\\"))
        query = query.where(or_(*matches))
    if after is not None:
        mac, after_tenant = after
        query = query.where(or_(PhoneState.mac > mac, and_(PhoneState.mac == mac, PhoneState.tenant_id > after_tenant)))
    if tenant_id is not None:
        query = query.where(PhoneState.tenant_id == tenant_id)
    return session.scalars(query).all()


def _rows_of(session: Session, catalog: Catalog, assigned: Sequence[Device], waiting: Sequence[PhoneState]) -> list[DeviceRow]:
    """The rows of one page, with the states, line counts and open tickets of those phones only."""
    tenant_ids = {d.tenant_id for d in assigned} | {s.tenant_id for s in waiting}
    tenants = {t.id: t.slug for t in session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)))} if tenant_ids else {}
    macs = [d.mac for d in assigned]
    states = {(s.tenant_id, s.mac): s for s in session.scalars(select(PhoneState).where(PhoneState.mac.in_(macs)))} if macs else {}
    line_stats = {
        device_id: (count, highest)
        for device_id, count, highest in session.execute(
            select(Extension.device_id, func.count(), func.max(Extension.line))
            .where(Extension.device_id.in_([d.id for d in assigned]))
            .group_by(Extension.device_id)
        ).all()
    } if assigned else {}
    tickets = _open_tickets_of(session, macs + [s.mac for s in waiting])
    lines_of: dict[int, list[tuple[str, str]]] = {}
    if assigned:
        query = (select(Extension.device_id, Extension.number, Extension.name)
                 .where(Extension.device_id.in_([d.id for d in assigned])).order_by(Extension.line, Extension.number))
        for device_id, number, name in session.execute(query):
            if device_id is not None:
                lines_of.setdefault(device_id, []).append((number, name))
    rows = [
        replace(_device_row(catalog, tenants[d.tenant_id], d.mac, d.model_key, *line_stats.get(d.id, (0, 0)),
                            states.get((d.tenant_id, d.mac)), tickets, d.tenant_id), extensions=tuple(lines_of.get(d.id, ())))
        for d in assigned
    ]
    rows += [_device_row(catalog, tenants[s.tenant_id], s.mac, None, 0, 0, s, tickets, s.tenant_id) for s in waiting]
    return rows


def _open_tickets_of(session: Session, macs: Sequence[str]) -> dict[tuple[str, str], list[int]]:
    """(account, MAC) -> open tickets on which that phone is still affected, for these MACs only."""
    if not macs:
        return {}
    query = (
        select(TicketRecord.account, AffectedDeviceRecord.device, TicketRecord.id)
        .join(TicketRecord, TicketRecord.id == AffectedDeviceRecord.ticket_id)
        .where(AffectedDeviceRecord.device.in_(macs), AffectedDeviceRecord.recovered_at.is_(None),
               TicketRecord.status.in_([str(status) for status in OPEN_STATUSES]))
        .order_by(TicketRecord.id)
    )
    found: dict[tuple[str, str], list[int]] = {}
    for account, mac, ticket_id in session.execute(query):
        found.setdefault((account, mac), []).append(ticket_id)
    return found


def _device_row(
    catalog: Catalog, tenant: str, mac: str, model_key: str | None, lines: int, highest_line: int,
    state: PhoneState | None,
    tickets: Mapping[tuple[str, str], Sequence[int]], tenant_id: int,
) -> DeviceRow:
    assigned_entry = catalog.get(model_key) if model_key else None
    findings: list[str] = []
    if state is not None:
        # Judge what the phone said it is, else what it is assigned as, with today's lines.
        if state.model:
            entry = catalog.get(state.catalog_key) if state.catalog_key else None
        else:
            entry = assigned_entry
        if state.model or assigned_entry:
            findings = [f.kind.value for f in check_compliance(entry, state.firmware, highest_line, model_seen=state.model)]
    elif assigned_entry is not None and not line_allowed(assigned_entry, max(highest_line, 1)):
        # Not seen yet, but its lines are already wrong (data from before the rule): say so now.
        findings = [FindingKind.LINES_EXCEEDED.value]
    vendor = state.vendor if state and state.vendor else (assigned_entry.vendor if assigned_entry else None)
    model = assigned_entry.model if assigned_entry else (state.model if state else None)
    return DeviceRow(
        mac=mac,
        tenant=tenant,
        vendor=vendor,
        model=model,
        model_key=model_key,
        reported_model=state.model if state else None,
        firmware=state.firmware if state else None,
        compliant=state is not None and not findings,
        findings=tuple(findings),
        last_seen=_iso(state.last_seen) if state else None,
        last_ip=state.last_ip if state else None,
        assigned=model_key is not None,
        lines=lines,
        open_tickets=tuple(tickets.get((tenant, mac), ())),
        tenant_id=tenant_id,
    )


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite returns naive values; we always store UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def create_user(
    session: Session, username: str, role: str, password: str | None = None, display_name: str = ""
) -> tuple[AppUser, str, str]:
    """Create a web/API user. Returns (user, api token, password); the token is shown only now."""
    if role not in ROLES:
        raise InputError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if not re.fullmatch(r"[A-Za-z0-9._@-]{2,64}", username):
        raise InputError("user names are 2-64 letters, digits or . _ @ -")
    if session.scalar(select(AppUser).where(AppUser.username == username)):
        raise ConflictError(f"user {username!r} already exists")
    password = password or credentials.admin_password(16)
    token = new_token()
    user = AppUser(
        username=username, display_name=display_name or username, role=role,
        password_hash=hash_password(password), api_token_digest=token_digest(token), created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user, token, password


# -- declared networks and bans (issue 20: miss budget and bans, provisioner.bans) --------------
WIDEST_PREFIX = {4: 8, 6: 32}  # a declared network wider than this would exempt much of the internet


def set_tenant_networks(session: Session, slug: str, text: str) -> tuple[Network, ...]:
    """Declare the tenant's own networks (comma-separated CIDRs; "" declares none): their
    addresses are never banned, and bans standing on them are lifted now."""
    tenant = tenant_by_slug(session, slug)
    try:
        networks = parse_networks(text)
    except ValueError as exc:
        raise InputError(f"--networks: {exc}") from None
    for network in networks:
        if network.prefixlen < WIDEST_PREFIX[network.version]:
            raise InputError(
                f"--networks: {network} is too wide (at most /{WIDEST_PREFIX[network.version]}): "
                "declare the customer site's own public networks"
            )
    tenant.networks = ",".join(str(network) for network in networks)
    for ban in ban_store.active(session, datetime.now(UTC).timestamp()):
        if in_networks(ban.ip, networks):
            ban_store.lift(session, ban.ip)
    return networks


def lift_ban(session: Session, ip: str) -> None:
    """Lift the ban on `ip` (every server process drops it at its next read of the bans)."""
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise InputError(f"{ip!r} is not an IP address (example: 203.0.113.9)") from None
    if not ban_store.lift(session, address):
        raise NotFoundError(f"{address} is not banned (see `provisioner security bans`)")


# -- per-device provisioning URLs and admin passwords (issue 20) -------------------------------
MAX_ENROLL_MINUTES = 7 * 24 * 60


def set_device_urls(session: Session, tenant: Tenant, enabled: bool) -> None:
    """Switch the tenant's phones to (or back from) their own provisioning URLs
    (provisioner.enrollment). Every config of the tenant changes: caches reload."""
    tenant.device_urls = enabled
    bump_config_version(session)


def open_enrollment(session: Session, tenant: Tenant, minutes: int, now: datetime) -> datetime:
    """Let the tenant key serve every MAC file of the tenant again until now + minutes
    (phones replaced, reset or moved in bulk); 0 closes the window. Returns its end."""
    if not 0 <= minutes <= MAX_ENROLL_MINUTES:
        raise InputError(f"--minutes must be 0..{MAX_ENROLL_MINUTES} (one week), not {minutes}")
    tenant.enroll_until = now + timedelta(minutes=minutes)
    bump_config_version(session)
    return tenant.enroll_until


def reenroll_device(session: Session, mac: str) -> Device:
    """Let the tenant key serve this phone's MAC file once more (a phone reset to factory
    settings, or that never followed its URL); its next fetch there enrolls it again."""
    device = device_by_mac(session, mac)
    device.enrolled_at = None
    bump_config_version(session)
    return device


def device_by_mac(session: Session, mac: str) -> Device:
    normalized = normalize_mac(mac)
    if normalized is None:
        raise InputError(f"{mac!r} is not a MAC address")
    device = session.scalar(select(Device).where(Device.mac == normalized))
    if device is None:
        raise NotFoundError(f"no device with MAC {normalized} (see `provisioner devices`)")
    return device


def device_secrets(session: Session, device: Device) -> list[str]:
    """Every secret a config of this phone may carry, for provisioner.masking: the tenant key
    and SNMP community, the phone's admin password and URL token, its lines' SIP passwords."""
    owner = session.get(Tenant, device.tenant_id)
    assert owner is not None
    return [owner.provisioning_key, owner.snmp_community, owner.admin_password, device.admin_password,
            device.url_token, *(extension.sip_password for extension in device.extensions)]
