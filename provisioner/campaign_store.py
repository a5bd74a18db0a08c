"""Firmware campaigns in the database, the firmware folder and the mail (adapter around
provisioner.campaigns). The caller passes the session factory or session and the clock.

    add_image(...)        copy an image into the firmware folder under the name its phones ask
                          for; record version, SHA-256 and size
    create_campaign(...)  the rules (campaigns.plan_campaign), the rows, the announcement in the
                          outbox, and a requirement on the tenant's tickets
    tick(...)             one step of every unfinished campaign (campaigns.advance): notices sent,
                          phones instructed, judged from what they last reported, halts opening
                          an incident (the existing ticket path), and each change noted on the ticket
    CampaignBoard         what the render path reads: the phones instructed now, from memory
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import Catalog, CatalogEntry
from firmware_catalog.errors import VersionError
from firmware_catalog.versions import parse_version
from provisioner import campaign_notices as words
from provisioner import campaigns as rules
from provisioner.db.models import (
    CampaignNotice,
    CampaignPhone,
    Device,
    FirmwareCampaign,
    FirmwareImage,
    PhoneState,
    Tenant,
)
from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.labels import CAMPAIGN_NOTICES, CAMPAIGN_PHONE_STATES, CAMPAIGN_STATES
from support_link import lifecycle
from support_link.adapters.mail import SmtpConnection
from support_link.adapters.mail_settings import MailSettings
from support_link.lifecycle import Actor, ActorKind, Event
from support_link.store import affected_devices, tickets

log = logging.getLogger("provisioner.campaigns")
CAMPAIGN_ACTOR = Actor(ActorKind.SYSTEM, "campañas de firmware")
_ROM_NAME = re.compile(r"([0-9]+(?:\.[0-9]+)+)\.rom")
_CHUNK = 1 << 20


# -- images ----------------------------------------------------------------------------------
def file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def add_image(
    session: Session, catalog: Catalog, folder: Path, source: Path, model: str, version: str | None, now: datetime
) -> FirmwareImage:
    """Copy `source` into the firmware folder as the image `model`'s phones ask for, and
    record its version, SHA-256 and size (hashed while copying: what is recorded is what is stored)."""
    entry = _entry(catalog, model)
    if not entry.firmware_file:
        raise InputError(f"el modelo {entry.model} no tiene imagen de firmware que servir")
    if source.is_symlink() or not source.is_file():
        raise InputError(f"{source} no es un archivo")
    if version is None:
        found = _ROM_NAME.fullmatch(source.name)
        if not found:
            raise InputError("indique la versión de la imagen con --version (el nombre del archivo no la dice)")
        version = found.group(1)
    try:
        parse_version(version)
    except VersionError:
        raise InputError(f"{version!r} no es una versión de firmware (números con puntos)") from None
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader, tempfile.NamedTemporaryFile("wb", dir=folder, delete=False, prefix=".upload-") as tmp:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            tmp.write(chunk)
    if size == 0:
        os.unlink(tmp.name)
        raise InputError(f"{source} está vacío")
    os.replace(tmp.name, folder / entry.firmware_file)  # atomic: a phone never reads half an image
    image = session.scalar(select(FirmwareImage).where(FirmwareImage.name == entry.firmware_file))
    if image is None:
        image = FirmwareImage(name=entry.firmware_file)
        session.add(image)
    image.model_key, image.version, image.sha256, image.size, image.added_at = (
        entry.key, version, digest.hexdigest(), size, now,
    )
    session.flush()
    return image


def image_intact(folder: Path, name: str, sha256: str, size: int) -> bool:
    """The image on disk is still the one recorded (a replaced or damaged file is not used)."""
    path = folder / name
    if path.is_symlink() or not path.is_file():
        return False
    try:
        return file_digest(path) == (sha256, size)
    except OSError:
        return False


def list_images(session: Session) -> list[FirmwareImage]:
    return list(session.scalars(select(FirmwareImage).order_by(FirmwareImage.name)))


# -- creating --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    max_failure_share: float = rules.DEFAULT_MAX_FAILURE_SHARE
    phone_timeout: timedelta = rules.DEFAULT_PHONE_TIMEOUT


def create_campaign(
    session: Session, catalog: Catalog, folder: Path, tenant_slug: str, model: str, to: str | None, day: date,
    critical: bool, now: datetime, limits: Limits = Limits(),
) -> FirmwareCampaign:
    now = _utc(now)
    tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise NotFoundError(f"no hay un cliente {tenant_slug!r}")
    entry = _entry(catalog, model)
    if not tenant.contact_email:
        raise InputError(f"el cliente {tenant.slug} no tiene correo de contacto: el anuncio no tendría a quién llegar")
    if not 0 <= limits.max_failure_share < 1:
        raise InputError("el límite de fallas es una fracción entre 0 y 1 (p. ej. 0.2)")
    busy = session.scalar(select(FirmwareCampaign.id).where(
        FirmwareCampaign.tenant_id == tenant.id, FirmwareCampaign.model_key == entry.key,
        FirmwareCampaign.state.not_in([str(s) for s in rules.FINISHED]),
    ))
    if busy is not None:
        raise ConflictError(f"ya hay una campaña abierta para {entry.model} de {tenant.slug} (#{busy}): cancélela primero")
    macs = list(session.scalars(select(Device.mac).where(Device.tenant_id == tenant.id, Device.model_key == entry.key)))
    reported = dict(session.execute(
        select(PhoneState.mac, PhoneState.firmware).where(PhoneState.tenant_id == tenant.id, PhoneState.mac.in_(macs))
    ).all()) if macs else {}
    image = session.scalar(select(FirmwareImage).where(FirmwareImage.name == entry.firmware_file)) if entry.firmware_file else None
    if image is not None and not image_intact(folder, image.name, image.sha256, image.size):
        raise InputError(f"la imagen {image.name} del almacén ya no coincide con su SHA-256 registrado: súbala de nuevo")
    try:
        plan = rules.plan_campaign({mac: reported.get(mac) for mac in macs}, entry.firmware, to, day, now, critical,
                                   image.version if image else None)
    except rules.CampaignRefused as refused:
        raise InputError(str(refused)) from None
    assert image is not None
    campaign = FirmwareCampaign(
        tenant_id=tenant.id, model_key=entry.key, target_version=plan.target, direction=str(plan.direction),
        image_name=image.name, image_sha256=image.sha256, image_size=image.size, day=day, critical=critical,
        state=str(rules.CampaignState.PLANNED), max_failure_share=limits.max_failure_share,
        phone_timeout_seconds=int(limits.phone_timeout.total_seconds()), created_at=now, updated_at=now,
    )
    session.add(campaign)
    session.flush()
    for wave, members in ((1, plan.canary), (2, plan.rest)):
        session.add_all(CampaignPhone(campaign_id=campaign.id, mac=mac, wave=wave, state=str(rules.PhoneState.PENDING),
                                      from_version=reported.get(mac)) for mac in members)
    session.add_all(CampaignPhone(campaign_id=campaign.id, mac=mac, wave=0, state=str(rules.PhoneState.ALREADY),
                                  from_version=reported.get(mac)) for mac in plan.already)
    movers = len(plan.canary) + len(plan.rest)
    _queue_notice(session, campaign, tenant, entry, rules.Notice.ANNOUNCEMENT, movers, now)
    campaign.ticket_id = _open_requirement(session, campaign, tenant, entry, movers, now)
    session.flush()
    return campaign


def _entry(catalog: Catalog, model: str) -> CatalogEntry:
    entry = catalog.find(model)
    if entry is None or entry.kind != "desk":
        raise InputError(f"{model!r} no es un teléfono de escritorio homologado")
    return entry


def _queue_notice(
    session: Session, campaign: FirmwareCampaign, tenant: Tenant, entry: CatalogEntry, kind: rules.Notice, phones: int,
    now: datetime,
) -> None:
    session.add(CampaignNotice(
        campaign_id=campaign.id, kind=str(kind), recipient=tenant.contact_email, created_at=now,
        subject=words.notice_subject(kind, tenant.name, entry.model, campaign.target_version, campaign.day),
        body=words.notice_body(kind, tenant.name, entry.model, campaign.target_version, campaign.direction,
                               campaign.day, phones, campaign.critical),
    ))


def _open_requirement(
    session: Session, campaign: FirmwareCampaign, tenant: Tenant, entry: CatalogEntry, phones: int, now: datetime,
) -> int:
    """The campaign on the tenant's tickets: a requirement (its solution date is the window)."""
    ticket, event = lifecycle.new_ticket(
        ticket_type="requirement", urgency="high" if campaign.critical else "medium", impact="organization",
        subject=words.ticket_subject(entry.model, campaign.target_version, campaign.day),
        detail=words.notice_body("announcement", tenant.name, entry.model, campaign.target_version, campaign.direction,
                                 campaign.day, phones, campaign.critical) + f"\nCampaña #{campaign.id}.",
        requester_name=tenant.contact_name or f"Contacto de {tenant.name}", requester_contact=tenant.contact_email,
        channel="portal", created_at=now, actor=CAMPAIGN_ACTOR, dedup_key=f"firmware-campaign:{campaign.id}",
    )
    ticket_id, _ = tickets.open_or_get_by_key(session, ticket, event, tenant.slug)
    return ticket_id


def _note(session: Session, campaign: FirmwareCampaign, text: str, now: datetime) -> None:
    if campaign.ticket_id is None:
        return
    tickets.add_events(session, campaign.ticket_id, [Event(CAMPAIGN_ACTOR, now, "internal_note", {}, {})], note=text)
    tickets.touch(session, campaign.ticket_id, now)


# -- the worker ------------------------------------------------------------------------------
Sender = Callable[[EmailMessage], None]


@dataclass
class TickReport:
    campaigns: int = 0
    instructed: int = 0
    done: int = 0
    failed: int = 0
    notices_sent: int = 0
    halted: int = 0


def tick(
    sessions: sessionmaker[Session], folder: Path, now: datetime, mail: MailSettings | None,
    send: Callable[[MailSettings, EmailMessage], None] | None = None,
) -> TickReport:
    """One step of every unfinished campaign at `now` (each campaign in its own transaction)."""
    now = _utc(now)
    report = TickReport()
    with sessions() as session:
        ids = list(session.scalars(select(FirmwareCampaign.id).where(
            FirmwareCampaign.state.not_in([str(s) for s in rules.FINISHED])).order_by(FirmwareCampaign.id)))
    for campaign_id in ids:
        with sessions.begin() as session:
            _step(session, campaign_id, folder, now, report)
        report.campaigns += 1
    report.notices_sent += send_notices(sessions, now, mail, send)
    return report


def _step(session: Session, campaign_id: int, folder: Path, now: datetime, report: TickReport) -> None:
    campaign = session.get(FirmwareCampaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.state in [str(s) for s in rules.FINISHED]:
        return
    rows = list(session.scalars(select(CampaignPhone).where(CampaignPhone.campaign_id == campaign.id)))
    seen: dict[str, tuple[str | None, datetime | None]] = {}
    if rows:
        reports = select(PhoneState.mac, PhoneState.firmware, PhoneState.last_seen).where(
            PhoneState.tenant_id == campaign.tenant_id, PhoneState.mac.in_([r.mac for r in rows]))
        seen = {mac: (firmware, last_seen) for mac, firmware, last_seen in session.execute(reports)}
    opens, _ = rules.maintenance_window(campaign.day)
    checking_image = now >= opens and campaign.state != str(rules.CampaignState.IN_WINDOW)
    pure = rules.Campaign(
        state=rules.CampaignState(campaign.state), day=campaign.day, target=campaign.target_version,
        critical=campaign.critical, announced=_sent(session, campaign.id, rules.Notice.ANNOUNCEMENT),
        reminded=_queued(session, campaign.id, rules.Notice.REMINDER) or _aware(campaign.created_at) >= opens - rules.REMINDER_BEFORE,
        max_failure_share=campaign.max_failure_share, phone_timeout=timedelta(seconds=campaign.phone_timeout_seconds),
        image_ok=not checking_image or image_intact(folder, campaign.image_name, campaign.image_sha256, campaign.image_size),
    )
    phones = [rules.Phone(
        mac=row.mac, wave=row.wave, state=rules.PhoneState(row.state), instructed_at=_aware(row.instructed_at),
        deadline=_aware(row.deadline), version=seen.get(row.mac, (None, None))[0],
        reported_at=_aware(seen.get(row.mac, (None, None))[1]),
    ) for row in rows]
    step = rules.advance(pure, phones, now)
    tenant = session.get(Tenant, campaign.tenant_id)
    assert tenant is not None
    for notice in step.notices:
        if notice is rules.Notice.REMINDER and not _queued(session, campaign.id, notice):
            movers = sum(1 for p in phones if p.wave)
            entry_model = campaign.model_key
            _queue_notice_by_key(session, campaign, tenant, entry_model, notice, movers, now)
    by_mac = {row.mac: row for row in rows}
    for before, after in zip(phones, step.phones, strict=True):
        if before == after:
            continue
        row = by_mac[after.mac]
        row.state, row.instructed_at, row.deadline = (
            str(after.state), _utc_or_none(after.instructed_at), _utc_or_none(after.deadline))
        if after.state is rules.PhoneState.INSTRUCTED:
            report.instructed += 1
        if after.state in (rules.PhoneState.DONE, rules.PhoneState.FAILED, rules.PhoneState.SKIPPED):
            row.finished_at, row.reported_version = now, after.version
            report.done += after.state is rules.PhoneState.DONE
            report.failed += after.state is rules.PhoneState.FAILED
    if step.state != rules.CampaignState(campaign.state):
        _state_changed(session, campaign, tenant, step, now, report)
    campaign.updated_at = now


def _utc(moment: datetime) -> datetime:
    """Stored in UTC: SQLite keeps no offset, so every timestamp goes in as UTC."""
    return moment.astimezone(UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored in UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _sent(session: Session, campaign_id: int, kind: rules.Notice) -> bool:
    return session.scalar(select(CampaignNotice.id).where(
        CampaignNotice.campaign_id == campaign_id, CampaignNotice.kind == str(kind), CampaignNotice.sent_at.is_not(None)
    ).limit(1)) is not None


def _queued(session: Session, campaign_id: int, kind: rules.Notice) -> bool:
    return session.scalar(select(CampaignNotice.id).where(
        CampaignNotice.campaign_id == campaign_id, CampaignNotice.kind == str(kind)).limit(1)) is not None


def _queue_notice_by_key(
    session: Session, campaign: FirmwareCampaign, tenant: Tenant, model_key: str, kind: rules.Notice, phones: int,
    now: datetime,
) -> None:
    model = model_key.split("-", 1)[-1].upper()
    session.add(CampaignNotice(
        campaign_id=campaign.id, kind=str(kind), recipient=tenant.contact_email, created_at=now,
        subject=words.notice_subject(kind, tenant.name, model, campaign.target_version, campaign.day),
        body=words.notice_body(kind, tenant.name, model, campaign.target_version, campaign.direction, campaign.day,
                               phones, campaign.critical),
    ))


def _state_changed(
    session: Session, campaign: FirmwareCampaign, tenant: Tenant, step: rules.Step, now: datetime, report: TickReport,
) -> None:
    campaign.state = str(step.state)
    counts = _counts(step.phones)
    summary = ", ".join(f"{CAMPAIGN_PHONE_STATES[k]}: {v}" for k, v in counts.items() if v)
    if step.state is rules.CampaignState.HALTED:
        campaign.halted_because = step.halted_because
        campaign.incident_id = _open_incident(session, campaign, tenant, step, now)
        report.halted += 1
        _note(session, campaign, f"Campaña detenida: {step.halted_because}. Incidente #{campaign.incident_id}. {summary}.", now)
    elif step.state is rules.CampaignState.IN_WINDOW:
        _note(session, campaign, f"Ventana de mantenimiento abierta: ola canaria en curso. {summary}.", now)
    elif step.state is rules.CampaignState.DONE:
        _note(session, campaign, f"Campaña terminada. {summary}.", now)
        if campaign.ticket_id is not None and not counts.get("failed"):
            tickets.act(session, campaign.ticket_id, lifecycle.Resolve(), CAMPAIGN_ACTOR, now,
                        note="Todos los teléfonos de la campaña tienen la versión objetivo.")


def _counts(phones: Iterable[rules.Phone]) -> dict[str, int]:
    counts = {str(state): 0 for state in rules.PhoneState}
    for phone in phones:
        counts[str(phone.state)] += 1
    return counts


def _open_incident(session: Session, campaign: FirmwareCampaign, tenant: Tenant, step: rules.Step, now: datetime) -> int:
    """Through the ticket store like every device incident: one per campaign, its failed phones affected."""
    model = campaign.model_key.split("-", 1)[-1].upper()
    reason = step.halted_because or "fallas"
    ticket, event = lifecycle.new_ticket(
        ticket_type="incident", urgency="high", impact="department", subject=words.incident_subject(model, reason),
        detail=f"La campaña de firmware #{campaign.id} ({model} a {campaign.target_version}) se detuvo: {reason}.",
        requester_name=tenant.contact_name or f"Contacto de {tenant.name}", requester_contact=tenant.contact_email,
        channel="device", created_at=now, actor=CAMPAIGN_ACTOR, dedup_key=f"firmware-campaign-halted:{campaign.id}",
    )
    ticket_id, _ = tickets.open_or_get_by_key(session, ticket, event, tenant.slug)
    failed = [p for p in step.phones if p.state is rules.PhoneState.FAILED]
    departments = _departments(session, campaign.tenant_id, [p.mac for p in failed])
    affected_devices.add_devices(session, ticket_id, [
        (p.mac, departments.get(p.mac, ""), {"seen": p.version, "expected": campaign.target_version,
                                             "seen_at": now.isoformat(), "campaign": str(campaign.id)})
        for p in failed
    ], now, actor=CAMPAIGN_ACTOR)
    return ticket_id


def _departments(session: Session, tenant_id: int, macs: list[str]) -> dict[str, str]:
    from provisioner.db.models import Extension

    if not macs:
        return {}
    rows = session.execute(select(Device.mac, Extension.department).join(Extension, Extension.device_id == Device.id)
                           .where(Device.tenant_id == tenant_id, Device.mac.in_(macs))).all()
    return {mac: department for mac, department in rows}


def smtp_send(settings: MailSettings, message: EmailMessage) -> None:
    connection = SmtpConnection(settings)
    try:
        connection.send(message)
    finally:
        connection.close()


def send_notices(
    sessions: sessionmaker[Session], now: datetime, mail: MailSettings | None,
    send: Callable[[MailSettings, EmailMessage], None] | None = None,
) -> int:
    """Deliver every unsent notice to its tenant contact (the helpdesk's SMTP relay); each one
    sent is noted on the campaign's ticket. Without mail settings they wait in the outbox."""
    if mail is None:
        return 0
    now = _utc(now)
    deliver = send or smtp_send
    sent = 0
    with sessions() as session:
        pending = list(session.scalars(select(CampaignNotice.id).where(CampaignNotice.sent_at.is_(None))
                                       .order_by(CampaignNotice.id).limit(200)))
    for notice_id in pending:
        with sessions.begin() as session:
            notice = session.get(CampaignNotice, notice_id, with_for_update=True)
            if notice is None or notice.sent_at is not None:
                continue
            message = EmailMessage()
            message["Subject"], message["From"], message["To"] = notice.subject, mail.sender, notice.recipient
            message.set_content(notice.body)
            try:
                deliver(replace(mail, recipient=notice.recipient), message)
            except OSError as error:  # smtplib's errors are OSErrors: try again next tick
                notice.error = f"{type(error).__name__}: {error}"[:500]
                log.warning("campaign notice %d not sent: %s", notice.id, notice.error)
                continue
            notice.sent_at, notice.error = now, None
            campaign = session.get(FirmwareCampaign, notice.campaign_id)
            if campaign is not None:
                if notice.kind == str(rules.Notice.ANNOUNCEMENT):
                    campaign.announced_at = now
                    if campaign.state == str(rules.CampaignState.PLANNED):
                        campaign.state = str(rules.CampaignState.ANNOUNCED)
                else:
                    campaign.reminded_at = now
                _note(session, campaign, f"{CAMPAIGN_NOTICES[notice.kind]} enviado a {notice.recipient}: "
                                         f"{notice.subject}\n\n{notice.body}", now)
            sent += 1
    return sent


# -- operator's actions and views ------------------------------------------------------------
def cancel_campaign(session: Session, campaign_id: int, now: datetime) -> FirmwareCampaign:
    now = _utc(now)
    campaign = session.get(FirmwareCampaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise NotFoundError(f"no hay una campaña #{campaign_id}")
    if campaign.state in [str(s) for s in rules.FINISHED]:
        raise ConflictError(f"la campaña #{campaign_id} ya está {CAMPAIGN_STATES[campaign.state].lower()}")
    rows = list(session.scalars(select(CampaignPhone).where(CampaignPhone.campaign_id == campaign.id)))
    step = rules.cancel([rules.Phone(row.mac, row.wave, rules.PhoneState(row.state)) for row in rows])
    for row, phone in zip(rows, step.phones, strict=True):
        row.state = str(phone.state)
    campaign.state, campaign.updated_at = str(step.state), now
    _note(session, campaign, "Campaña cancelada por el operador.", now)
    if campaign.ticket_id is not None:
        tickets.act(session, campaign.ticket_id, lifecycle.Resolve(), CAMPAIGN_ACTOR, now, note="Mantenimiento cancelado.")
    return campaign


def get_campaign(session: Session, campaign_id: int) -> FirmwareCampaign:
    campaign = session.get(FirmwareCampaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"no hay una campaña #{campaign_id}")
    return campaign


def campaign_view(session: Session, campaign_id: int, now: datetime) -> dict[str, Any]:
    """Everything `campaign show` and the page print (no secret: MACs, versions, states)."""
    campaign = get_campaign(session, campaign_id)
    tenant = session.get(Tenant, campaign.tenant_id)
    assert tenant is not None
    rows = list(session.scalars(select(CampaignPhone).where(CampaignPhone.campaign_id == campaign.id)
                                .order_by(CampaignPhone.wave, CampaignPhone.mac)))
    opens, closes = rules.maintenance_window(campaign.day)
    notices = list(session.scalars(select(CampaignNotice).where(CampaignNotice.campaign_id == campaign.id)
                                   .order_by(CampaignNotice.id)))
    counts = _counts(rules.Phone(r.mac, r.wave, rules.PhoneState(r.state)) for r in rows)
    return {
        "id": campaign.id, "tenant": tenant.slug, "model": campaign.model_key, "target": campaign.target_version,
        "direction": campaign.direction, "day": campaign.day.isoformat(), "critical": campaign.critical,
        "state": campaign.state, "state_label": CAMPAIGN_STATES[campaign.state],
        "window": {"opens": opens.isoformat(), "closes": closes.isoformat(), "open_now": opens <= now < closes},
        "image": {"name": campaign.image_name, "sha256": campaign.image_sha256, "size": campaign.image_size},
        "max_failure_share": campaign.max_failure_share, "phone_timeout_seconds": campaign.phone_timeout_seconds,
        "halted_because": campaign.halted_because, "ticket": campaign.ticket_id, "incident": campaign.incident_id,
        "counts": counts,
        "notices": [{"kind": n.kind, "to": n.recipient, "subject": n.subject,
                     "sent_at": _aware(n.sent_at).isoformat() if n.sent_at else None, "error": n.error} for n in notices],
        "phones": [{"mac": r.mac, "wave": r.wave, "state": r.state, "from": r.from_version,
                    "reported": r.reported_version,
                    "instructed_at": _aware(r.instructed_at).isoformat() if r.instructed_at else None,
                    "deadline": _aware(r.deadline).isoformat() if r.deadline else None} for r in rows],
    }


def list_campaigns(session: Session, tenant_slug: str | None = None) -> list[dict[str, Any]]:
    query = select(FirmwareCampaign, Tenant.slug).join(Tenant, Tenant.id == FirmwareCampaign.tenant_id)
    if tenant_slug:
        query = query.where(Tenant.slug == tenant_slug)
    return [{"id": c.id, "tenant": slug, "model": c.model_key, "target": c.target_version, "day": c.day.isoformat(),
             "critical": c.critical, "state": c.state, "state_label": CAMPAIGN_STATES[c.state]}
            for c, slug in session.execute(query.order_by(FirmwareCampaign.day, FirmwareCampaign.id))]


# -- the render path's view ------------------------------------------------------------------
class CampaignBoard:
    """The phones of campaigns in their window, read from the database by `refresh` (a
    background task, never a phone's request) and looked up from memory by the render path."""

    def __init__(self, sessions: sessionmaker[Session] | None) -> None:
        self._sessions = sessions
        self._orders: dict[tuple[int, str], rules.PhoneOrder] = {}

    def refresh(self) -> None:
        if self._sessions is None:
            return
        orders: dict[tuple[int, str], rules.PhoneOrder] = {}
        with self._sessions() as session:
            query = (select(FirmwareCampaign.id, FirmwareCampaign.tenant_id, FirmwareCampaign.day, FirmwareCampaign.state,
                            FirmwareCampaign.image_name, CampaignPhone.mac, CampaignPhone.state)
                     .join(CampaignPhone, CampaignPhone.campaign_id == FirmwareCampaign.id)
                     .where(FirmwareCampaign.state == str(rules.CampaignState.IN_WINDOW),
                            CampaignPhone.state == str(rules.PhoneState.INSTRUCTED)))
            for campaign_id, tenant_id, day, state, image, mac, phone_state in session.execute(query):
                orders[(tenant_id, mac)] = rules.PhoneOrder(
                    campaign_id, day, rules.CampaignState(state), rules.PhoneState(phone_state), image)
        self._orders = orders

    def order(self, tenant_id: int, mac: str) -> rules.PhoneOrder | None:
        return self._orders.get((tenant_id, mac))
