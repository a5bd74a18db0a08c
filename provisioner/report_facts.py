"""Reads the facts the dashboard and the survey report are computed from (adapter: the caller
opens the session).

Bounded: tickets still open or opened in the last REPORT_DAYS days; phones through the
paged device list; boots (served per-MAC configs) of the last 24 hours only; surveys of
resolutions in the last REPORT_DAYS days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from firmware_catalog import Catalog
from provisioner import admin, reports, survey_report
from provisioner.db.models import AppUser, Sighting, Tenant
from support_link.sla import sla_state
from support_link.store.models import SurveyRecord, TicketRecord

REPORT_DAYS = 400  # a year of months, and the one before it started


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def ticket_facts(session: Session, now: datetime) -> list[reports.TicketFacts]:
    columns = (TicketRecord.priority, TicketRecord.status, TicketRecord.sla_state, TicketRecord.account,
               TicketRecord.finding, TicketRecord.created_at, TicketRecord.sla_start, TicketRecord.first_response_due,
               TicketRecord.first_response_at)
    query = select(*columns).where(or_(TicketRecord.status.in_(reports.OPEN_STATUSES),
                                       TicketRecord.created_at >= now - timedelta(days=REPORT_DAYS)))
    facts = []
    for priority, status, cached, account, finding, created, start, due, answered in session.execute(query):
        state = cached
        if due is not None and answered is None and status in reports.OPEN_STATUSES:
            state = str(sla_state(start, due, now))  # the live state: the cache may be a minute old
        facts.append(reports.TicketFacts(priority, status, state, account, finding, created, due, answered))
    return facts


def phone_facts(session: Session, catalog: Catalog) -> list[reports.PhoneFacts]:
    return [reports.PhoneFacts(row.model, admin.compliance_of(row)) for row in admin.list_devices(session, catalog)]


def boot_moments(session: Session, now: datetime) -> list[datetime]:
    query = select(Sighting.seen_at).where(
        Sighting.seen_at >= now - timedelta(hours=reports.HOURS), Sighting.served.is_(True), Sighting.role == "device")
    return [_aware(moment) for moment in session.scalars(query)]


def customer_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Tenant.slug, Tenant.name)).all())


def dashboard(session: Session, catalog: Catalog, now: datetime) -> dict[str, object]:
    """The dashboard's figures at `now` (reports.dashboard on this database's facts)."""
    return reports.dashboard(ticket_facts(session, now), phone_facts(session, catalog), boot_moments(session, now), now)


def people_names(session: Session) -> dict[str, str]:
    """Username -> the person's display name (surveys name the agent by username)."""
    return {user: name or user for user, name in session.execute(select(AppUser.username, AppUser.display_name))}


def survey_facts(session: Session, now: datetime) -> list[survey_report.SurveyFacts]:
    """Every survey sent (answered or not) for a resolution of the last REPORT_DAYS days."""
    columns = (SurveyRecord.account, SurveyRecord.agent, SurveyRecord.resolved_at, SurveyRecord.rating,
               SurveyRecord.solved, SurveyRecord.answered_at)
    query = select(*columns).where(SurveyRecord.resolved_at >= now - timedelta(days=REPORT_DAYS)).order_by(SurveyRecord.id)
    return [survey_report.SurveyFacts(account, agent, _aware(resolved), rating, solved, None if answered is None else _aware(answered))
            for account, agent, resolved, rating, solved, answered in session.execute(query)]


def survey(session: Session, now: datetime, month: str | None = None) -> dict[str, object]:
    """The survey report's figures at `now` (survey_report on this database's surveys)."""
    return survey_report.survey_report(survey_facts(session, now), now, month)
