"""The provisioner's side of mail in: who wrote to soporte@, and the IMAP job built from settings.

support_link knows no tenants, so the intake asks `who(address)`: an active requester with that
address (its tenant and name), else the one tenant that declared the address's domain in its
email_domains (no name: the From's display name is used). An address no one knows, or a domain
two tenants declare, is an unknown sender.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.models import Requester, Tenant
from provisioner.settings import Settings
from support_link.adapters.imap_intake import ImapIntakeJob, IntakeConfig, Who
from support_link.inbound import Sender


def _domains(declared: str) -> set[str]:
    return {part.strip().lower().lstrip("@") for part in declared.split(",") if part.strip()}


def find_sender(session: Session, address: str) -> Sender | None:
    address = address.strip().lower()
    found = session.execute(
        select(Tenant.slug, Requester.name).join(Tenant, Requester.tenant_id == Tenant.id)
        .where(Requester.email == address, Requester.active.is_(True))
    ).first()
    if found is not None:
        return Sender(found.slug, found.name)
    domain = address.rpartition("@")[2]
    tenants = [slug for slug, declared in session.execute(select(Tenant.slug, Tenant.email_domains).where(Tenant.email_domains != ""))
               if domain in _domains(declared)]
    return Sender(tenants[0]) if len(tenants) == 1 else None


def sender_lookup(sessions: sessionmaker[Session]) -> Who:
    def who(address: str) -> Sender | None:
        with sessions() as session:
            return find_sender(session, address)
    return who


def intake_config(settings: Settings) -> IntakeConfig:
    ours = {settings.smtp_sender, settings.smtp_recipient, settings.imap_user}
    return IntakeConfig(own_addresses=frozenset(address.strip().lower() for address in ours if "@" in address),
                        reply_from=settings.smtp_sender, portal_url=settings.portal_base())


def imap_job(settings: Settings, sessions: sessionmaker[Session]) -> ImapIntakeJob | None:
    """The polling job, or None when mail in is off. Auto-replies go through the SMTP relay
    (settings.campaign_mail: a relay is enough, no helpdesk recipient is needed)."""
    imap = settings.imap()
    if imap is None:
        return None
    return ImapIntakeJob(imap, sessions, sender_lookup(sessions), intake_config(settings),
                         lambda: datetime.now(UTC), settings.campaign_mail())
