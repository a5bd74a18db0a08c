"""Softphone extensions in the database (adapter): accounts, one-time links, Jitsi logins, reports.

Each function takes the caller's session; the caller commits. Secrets are stored as SHA-256
digests only (link tokens, Jitsi provisioning passwords); the SIP password is the
extension's own, shown once through a link and written only into the app's answer.

The account an app gets comes from `account_for`: sip_accounts.sip_account over the same
TenantView and LineView as every desk phone's line and the PBX export (the tenant's SIP user
format or the PBX's own user, its SIP domain/realm, its outbound proxy), so a softphone
registers exactly as a desk phone's line does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from firmware_catalog import Catalog, CatalogEntry
from provisioner import credentials
from provisioner.accounts import same_secret
from provisioner.db.models import Extension, SoftphoneLink, Tenant
from provisioner.directory import line_view, tenant_view
from provisioner.errors import InputError, NotFoundError
from provisioner.settings import Settings
from provisioner.sip_accounts import sip_account
from provisioner.softphones import AppReport, Delivery, SoftphoneAccount, full_model, how_delivered

MAX_LINK_HOURS = 7 * 24
DEFAULT_LINK_HOURS = 72
JITSI_QUERY = "uuid=${uuid}&osname=${osname}&build=${build}&username=${username}&password=${password}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def softphone_extension(session: Session, tenant: Tenant, number: str) -> Extension:
    found = session.scalar(select(Extension).where(Extension.tenant_id == tenant.id, Extension.number == number))
    if found is None:
        raise NotFoundError(f"no extension {number} in tenant {tenant.slug}")
    if found.softphone is None:
        raise InputError(f"extension {number} is on a desk phone, not a softphone")
    return found


def account_for(session: Session, settings: Settings, extension: Extension) -> SoftphoneAccount:
    """The SIP account of a softphone extension: what a desk phone's line 1 would hold."""
    tenant = session.get(Tenant, extension.tenant_id)
    assert tenant is not None
    return SoftphoneAccount.of(sip_account(tenant_view(tenant, settings), line_view(extension, number=1)))


APP_PATH = "/prov/app/"  # Jitsi's provisioning URL: no tenant key (end users never see one)


def jitsi_url(settings: Settings) -> str:
    """The provisioning URL typed into Jitsi (Options > Advanced > Provisioning > custom URI).
    It names no tenant: the login does ("<extension>@<tenant slug>"), so a user who reads it
    learns no tenant key (a key would open the tenant's phone configs)."""
    return f"{settings.base_url}{APP_PATH}?{JITSI_QUERY}"


def jitsi_username(tenant: Tenant, extension: Extension) -> str:
    return f"{extension.number}@{tenant.slug}"


# -- one-time links ----------------------------------------------------------------------------
def create_link(session: Session, extension: Extension, now: datetime, hours: int = DEFAULT_LINK_HOURS) -> str:
    """A new one-time link token for the extension (returned once; only its digest is kept)."""
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise InputError(f"--hours must be 1..{MAX_LINK_HOURS} (one week), not {hours}")
    token = credentials.device_token()
    session.add(SoftphoneLink(extension_id=extension.id, token_digest=digest(token), created_at=now,
                              expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/softphone/{token}"


def _usable(session: Session, token: str, now: datetime) -> SoftphoneLink | None:
    if not token or len(token) > 64:
        return None
    link = session.scalar(select(SoftphoneLink).where(SoftphoneLink.token_digest == digest(token)))
    if link is None or link.used_at is not None or _aware(link.expires_at) <= now:
        return None
    return link


def link_is_usable(session: Session, token: str, now: datetime) -> bool:
    return _usable(session, token, now) is not None


@dataclass(frozen=True)
class Revealed:
    """What the link's page shows, once."""

    model: str  # "Jitsi Windows", "Grandstream Wave Android", ...
    delivery: Delivery
    account: SoftphoneAccount
    jitsi_url: str = ""
    jitsi_username: str = ""
    jitsi_password: str = ""  # a fresh provisioning password (the previous one stops working)


def open_link(session: Session, catalog: Catalog, settings: Settings, token: str, now: datetime) -> Revealed | None:
    """Use the link (once: a second open, or one after it expired, gets None) and say what to show."""
    link = _usable(session, token, now)
    if link is None:
        return None
    used = session.execute(
        update(SoftphoneLink).where(SoftphoneLink.id == link.id, SoftphoneLink.used_at.is_(None)).values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another request used it first
    extension = session.get(Extension, link.extension_id)
    if extension is None or extension.softphone is None:
        return None
    entry = catalog.get(extension.softphone)
    revealed = Revealed(full_model(entry), how_delivered(entry), account_for(session, settings, extension))
    if revealed.delivery is Delivery.JITSI:
        secret = credentials.softphone_secret()
        extension.softphone_secret_digest = digest(secret)
        tenant = session.get(Tenant, extension.tenant_id)
        assert tenant is not None
        revealed = Revealed(revealed.model, revealed.delivery, revealed.account, jitsi_url(settings),
                            jitsi_username(tenant, extension), secret)
    return revealed


# -- Jitsi logins and what the apps report ------------------------------------------------------
def jitsi_login(session: Session, catalog: Catalog, tenant_key: str | None, username: str, password: str) -> tuple[Tenant, Extension] | None:
    """The Jitsi extension whose provisioning login this is (None: no such tenant, extension,
    app or password). The login is "<extension>@<tenant slug>"; below a tenant key (`tenant_key`)
    the bare extension number does too. The password's digest is compared in constant time."""
    number, _, slug = username.strip().partition("@")
    if not number.isdigit() or len(number) > 6 or not password or len(password) > 128 or len(slug) > 64:
        return None
    if tenant_key:
        tenant = session.scalar(select(Tenant).where(Tenant.provisioning_key == tenant_key))
        if tenant is not None and slug and slug != tenant.slug:
            return None
    else:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug)) if slug else None
    if tenant is None:
        return None
    username = number
    extension = session.scalar(select(Extension).where(Extension.tenant_id == tenant.id, Extension.number == username))
    if extension is None or extension.softphone is None or extension.softphone_secret_digest is None:
        same_secret(digest(password), digest(""))  # as long as a real comparison
        return None
    entry = catalog.get(extension.softphone)
    if entry.vendor != "jitsi" or not same_secret(digest(password), extension.softphone_secret_digest):
        return None
    return tenant, extension


def record_report(extension: Extension, report: AppReport, now: datetime) -> None:
    """Keep what the app said of itself (what `devices` shows); a field it did not say is kept."""
    if report.version is not None:
        extension.softphone_version = report.version
    if report.model is not None:
        extension.softphone_reported_model = report.model[:64]
    extension.softphone_seen_at = now


def found_entry(catalog: Catalog, report: AppReport) -> CatalogEntry | None:
    return catalog.find(report.model) if report.model else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
