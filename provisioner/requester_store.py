"""Requesters' accounts in the database (adapter; the caller opens the session).

    invite / request_registration / request_reset   a one-time link (only its digest is stored)
    consume_link        once, before expiry: name and password set, the requester created or activated
    login / current / logout                         the portal's own sessions (cookie on /portal/)
    disable / listed                                 the staff's and the CLI's side

Rules (what an address, a domain or a password may be) live in provisioner.requesters.
Requesters are not app_user rows: nothing here can give a customer a staff session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from provisioner.accounts import check_password, hash_password, new_token, token_digest
from provisioner.db.models import Requester, RequesterLink, RequesterSession, Tenant
from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.requesters import (
    SESSION_LIFETIME, clean_name, domain_allowed, domains_text, link_expiry, normalise_email, password_problem,
)

LINK_GONE = "El enlace no es válido, ya se usó o venció. Pida uno nuevo."


@dataclass(frozen=True)
class IssuedLink:
    token: str  # shown or mailed once, never stored
    email: str
    name: str
    purpose: str
    tenant_slug: str
    tenant_name: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkInfo:
    email: str
    name: str
    purpose: str
    tenant_name: str


@dataclass(frozen=True)
class PortalUser:
    """A logged-in requester: what every portal page needs."""

    id: int
    email: str
    name: str
    phone: str
    tenant_slug: str
    tenant_name: str
    csrf_token: str = ""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFoundError(f"No hay un cliente «{slug[:64]}».")
    return tenant


def _by_email(session: Session, email: str) -> Requester | None:
    return session.scalar(select(Requester).where(Requester.email == email))


def _issue(session: Session, tenant: Tenant, email: str, name: str, purpose: str, now: datetime) -> IssuedLink:
    token = new_token()
    expires = link_expiry(purpose, now)
    session.add(RequesterLink(token_digest=token_digest(token), tenant_id=tenant.id, email=email, name=name,
                              purpose=purpose, created_at=now, expires_at=expires))
    session.flush()
    return IssuedLink(token, email, name, purpose, tenant.slug, tenant.name, expires)


def invite(session: Session, tenant_slug: str, email: str, name: str, invited_by: str, now: datetime) -> IssuedLink:
    """A 7-day invitation for `email` to `tenant_slug`'s portal (staff or CLI)."""
    address, person = normalise_email(email), clean_name(name)
    tenant = _tenant(session, tenant_slug)
    existing = _by_email(session, address)
    if existing is not None and existing.tenant_id != tenant.id:
        raise ConflictError(f"{address} ya es solicitante de otro cliente.")
    if existing is None:  # the account exists from now on, without a password until the link is used
        session.add(Requester(tenant_id=tenant.id, email=address, name=person, password_hash=None, active=True,
                              invited_by=invited_by, created_at=now))
    # A disabled account stays disabled (its old password refused) until this link is used.
    return _issue(session, tenant, address, person, "invite", now)


def request_registration(session: Session, email: str, now: datetime) -> IssuedLink | None:
    """A self-registration link, only for an address of a tenant's declared domain; None otherwise.

    The page answers the same either way (no account enumeration): only the mail tells. An
    address that already has an active account gets a password link instead; a disabled one, nothing.
    """
    address = normalise_email(email)
    existing = _by_email(session, address)
    if existing is not None:
        if not existing.active:
            return None
        tenant = session.get(Tenant, existing.tenant_id)
        assert tenant is not None
        return _issue(session, tenant, address, existing.name, "reset", now)
    for tenant in session.scalars(select(Tenant).where(Tenant.email_domains != "").order_by(Tenant.id)):
        if domain_allowed(address, tenant.email_domains):
            return _issue(session, tenant, address, "", "register", now)
    return None


def request_reset(session: Session, email: str, now: datetime) -> IssuedLink | None:
    """A new-password link for an active requester; None for anyone else (same answer on the page)."""
    try:
        address = normalise_email(email)
    except InputError:
        return None
    existing = _by_email(session, address)
    if existing is None or not existing.active:
        return None
    tenant = session.get(Tenant, existing.tenant_id)
    assert tenant is not None
    return _issue(session, tenant, address, existing.name, "reset", now)


def _live_link(session: Session, token: str, now: datetime) -> RequesterLink | None:
    link = session.scalar(select(RequesterLink).where(RequesterLink.token_digest == token_digest(token)))
    if link is None or link.used_at is not None or _aware(link.expires_at) <= now:
        return None
    return link


def link_info(session: Session, token: str, now: datetime) -> LinkInfo:
    link = _live_link(session, token, now)
    if link is None:
        raise NotFoundError(LINK_GONE)
    tenant = session.get(Tenant, link.tenant_id)
    assert tenant is not None
    return LinkInfo(link.email, link.name, link.purpose, tenant.name)


def consume_link(session: Session, token: str, name: str, password: str, now: datetime) -> PortalUser:
    """Use a link once: set the name and password, create or activate the requester."""
    link = _live_link(session, token, now)
    if link is None:
        raise NotFoundError(LINK_GONE)
    person = clean_name(name or link.name)
    problem = password_problem(password, link.email)
    if problem:
        raise InputError(problem)
    # Once, even when two browsers send the form together: only one UPDATE finds it unused.
    used = session.execute(
        update(RequesterLink).where(RequesterLink.id == link.id, RequesterLink.used_at.is_(None)).values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFoundError(LINK_GONE)
    requester = _by_email(session, link.email)
    if requester is None:
        requester = Requester(tenant_id=link.tenant_id, email=link.email, name=person, created_at=now,
                              invited_by=None, active=True)
        session.add(requester)
    elif requester.tenant_id != link.tenant_id or (not requester.active and link.purpose != "invite"):
        raise NotFoundError(LINK_GONE)
    else:  # a new password ends the sessions opened with the old one
        session.execute(delete(RequesterSession).where(RequesterSession.requester_id == requester.id))
    requester.name, requester.password_hash, requester.active = person, hash_password(password), True
    session.flush()
    return _user(session, requester)


def _user(session: Session, requester: Requester, csrf: str = "") -> PortalUser:
    tenant = session.get(Tenant, requester.tenant_id)
    assert tenant is not None
    return PortalUser(requester.id, requester.email, requester.name, requester.phone, tenant.slug, tenant.name, csrf)


def login(session: Session, email: str, password: str, now: datetime) -> tuple[str, PortalUser] | None:
    """Check a password; on success open a 12-hour session and return (cookie token, user)."""
    try:
        address = normalise_email(email)
    except InputError:
        address = ""
    requester = _by_email(session, address) if address else None
    usable = requester if requester is not None and requester.active else None
    # Checked even without an account (against a stand-in hash): the time tells nothing.
    if not check_password(password, usable.password_hash if usable else None) or usable is None:
        return None
    token, csrf = new_token(), new_token()
    session.execute(delete(RequesterSession).where(RequesterSession.expires_at < now))
    session.add(RequesterSession(token_digest=token_digest(token), requester_id=usable.id, csrf_token=csrf,
                                 created_at=now, expires_at=now + SESSION_LIFETIME))
    return token, _user(session, usable, csrf)


def current(session: Session, token: str, now: datetime) -> PortalUser | None:
    row = session.execute(
        select(RequesterSession, Requester)
        .join(Requester, Requester.id == RequesterSession.requester_id)
        .where(RequesterSession.token_digest == token_digest(token), Requester.active.is_(True))
    ).first()
    if row is None or _aware(row.RequesterSession.expires_at) <= now:
        return None
    return _user(session, row.Requester, row.RequesterSession.csrf_token)


def logout(session: Session, token: str) -> None:
    session.execute(delete(RequesterSession).where(RequesterSession.token_digest == token_digest(token)))


def disable(session: Session, email: str) -> PortalUser:
    """Refuse this requester's logins from now on and end its sessions."""
    requester = _by_email(session, normalise_email(email))
    if requester is None:
        raise NotFoundError(f"No hay un solicitante {email[:80]}.")
    requester.active = False
    session.execute(delete(RequesterSession).where(RequesterSession.requester_id == requester.id))
    session.flush()
    return _user(session, requester)


def listed(session: Session, tenant_slug: str | None = None) -> list[dict[str, object]]:
    """Requesters (never a hash or a token), by tenant then address."""
    query = select(Requester, Tenant.slug).join(Tenant, Tenant.id == Requester.tenant_id).order_by(Tenant.slug, Requester.email)
    if tenant_slug is not None:
        _tenant(session, tenant_slug)
        query = query.where(Tenant.slug == tenant_slug)
    return [
        {"email": r.email, "name": r.name, "tenant": slug, "active": r.active,
         "password_set": r.password_hash is not None, "invited_by": r.invited_by,
         "created_at": _aware(r.created_at).isoformat()}
        for r, slug in session.execute(query)
    ]


def set_email_domains(session: Session, tenant_slug: str, domains: tuple[str, ...]) -> tuple[str, ...]:
    """Declare a tenant's mail domains (from requesters.parse_domains): who may register by themselves."""
    _tenant(session, tenant_slug).email_domains = domains_text(domains)
    return domains
