"""Observations -> ticket changes in the database (blocking: a worker thread of the server,
or the ticket worker process of provisioner.intake_process, runs it; never the event loop).

    Observation (one phone's findings within what its contact covers)
        -> the one open incident per dedup key: opened or joined, impact follows the blast radius
        -> phones no longer showing a covered finding recover; an incident with none left resolves
        -> 3 resolved incidents of one phone and kind within 30 days open a Problem
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.models import Device, Tenant
from provisioner.findings import FindingKind
from provisioner.incidents import (
    URGENCY_BY_FINDING,
    DeviceFinding,
    dedup_key,
    detail_for,
    impact_for,
    shows_version,
    subject_for,
    urgency_for,
)
from support_link import lifecycle
from support_link.lifecycle import Actor, ActorKind
from support_link.store import affected_devices, tickets

INTAKE_ACTOR = Actor(ActorKind.SYSTEM, "aprovisionamiento")
RECURRENCES_FOR_PROBLEM = 3
RECURRENCE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Observation:
    """What one contact showed about one phone: its current findings within `covers`."""

    tenant_id: int
    mac: str
    findings: tuple[DeviceFinding, ...]
    covers: frozenset[FindingKind]  # kinds this kind of contact can judge (absent ones have recovered)
    seen_at: datetime


@dataclass
class IntakeStats:
    processed: int = 0
    opened: int = 0
    joined: int = 0
    recovered: int = 0
    resolved: int = 0
    problems: int = 0
    failures: int = 0
    repeats: int = 0  # observations skipped: the phone showed the same within SETTLED_SECONDS

    @property
    def changes(self) -> int:
        """Ticket changes so far (what queues and the support job care about)."""
        return self.opened + self.joined + self.recovered + self.resolved + self.problems

    def add(self, other: IntakeStats) -> None:
        """Count another batch's figures in (the writer reports each batch's own)."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class IntakeRules:
    urgency: Mapping[str, str] = field(default_factory=lambda: dict(URGENCY_BY_FINDING))
    organization_share: float = 0.5


class TicketWriter:
    """Observations -> ticket changes in the database. Blocking: a worker thread or the
    ticket worker process runs it, never the event loop."""

    def __init__(self, sessions: sessionmaker[Session], rules: IntakeRules = IntakeRules()) -> None:
        self._sessions = sessions
        self._rules = rules

    def process(self, batch: list[Observation], now: datetime) -> IntakeStats:
        """Turn observations into ticket changes; returns what this batch changed."""
        stats = IntakeStats(processed=len(batch))
        by_key: dict[str, list[DeviceFinding]] = {}
        for observation in batch:
            for finding in observation.findings:
                by_key.setdefault(dedup_key(finding), []).append(finding)
        for key, findings in by_key.items():
            with self._sessions.begin() as session:
                self._raise(session, key, findings, now, stats)
        for ticket_id, macs in self._recoveries(batch).items():
            with self._sessions.begin() as session:
                self._recover(session, ticket_id, macs, now, stats)
        return stats

    def _recoveries(self, batch: list[Observation]) -> dict[int, list[str]]:
        """Open ticket -> the phones of this batch that no longer show its finding (within
        what their contact can judge). One query per tenant (and 500 phones): in a boot
        storm most phones have no ticket, or show exactly the finding of the one they are on."""
        by_tenant: dict[int, list[Observation]] = {}
        for observation in batch:
            by_tenant.setdefault(observation.tenant_id, []).append(observation)
        recoveries: dict[int, list[str]] = {}
        with self._sessions() as session:
            for tenant_id, observations in by_tenant.items():
                tenant = _tenant_slug(session, tenant_id)
                if tenant is None:
                    continue
                open_tickets = affected_devices.open_tickets_for_devices(session, tenant, [o.mac for o in observations])
                for observation in observations:
                    showing = finding_keys(observation)
                    for ticket_id, finding, key in open_tickets.get(observation.mac, ()):
                        if finding in observation.covers and key not in showing:
                            recoveries.setdefault(ticket_id, []).append(observation.mac)
        return recoveries

    def _raise(self, session: Session, key: str, findings: list[DeviceFinding], now: datetime, stats: IntakeStats) -> None:
        first = findings[0]
        contact_name, contact = _tenant_contact(session, first.tenant)
        ticket, event = lifecycle.new_ticket(
            ticket_type="incident", urgency=urgency_for(first.kind, self._rules.urgency), impact="individual",
            subject=subject_for(first, 1), detail=detail_for(first, 1), requester_name=contact_name,
            requester_contact=contact, channel="device", created_at=now, actor=INTAKE_ACTOR, dedup_key=key,
        )
        ticket_id, created = tickets.open_or_get_by_key(session, ticket, event, first.tenant, first.kind)
        if created:
            stats.opened += 1
        tickets.lock(session, ticket_id)
        stats.joined += affected_devices.add_devices(
            session, ticket_id, [(f.mac, f.department, f.evidence()) for f in findings], now, actor=INTAKE_ACTOR
        )
        self._follow_blast_radius(session, ticket_id, first, now)
        if created:
            self._maybe_open_problem(session, ticket_id, findings, now, stats)

    def _follow_blast_radius(self, session: Session, ticket_id: int, finding: DeviceFinding, now: datetime) -> None:
        affected = affected_devices.active_departments(session, ticket_id)
        impact = impact_for(affected, _tenant_device_count(session, finding.tenant), self._rules.organization_share)
        ticket = tickets.header(session, ticket_id)
        if str(ticket.impact) != impact and _wider(impact, str(ticket.impact)):
            tickets.act(session, ticket_id, lifecycle.ChangeClassification(str(ticket.urgency), impact), INTAKE_ACTOR, now)
        # Keep the subject's device count current (it is the queue's one-line summary), and
        # for phones not assigned yet, the versions they reported (one incident for all).
        versions = () if finding.assigned or not shows_version(finding.kind) else versions_seen(session, ticket_id)
        subject = subject_for(finding, len(affected), versions)
        if subject != ticket.subject:
            tickets.set_subject(session, ticket_id, subject, now)

    def _maybe_open_problem(
        self, session: Session, incident_id: int, findings: list[DeviceFinding], now: datetime, stats: IntakeStats
    ) -> None:
        first = findings[0]  # one dedup key: the same tenant and kind for all
        history = affected_devices.past_incidents_for_devices(
            session, first.tenant, [f.mac for f in findings], first.kind, now - RECURRENCE_WINDOW
        )
        for finding in findings:
            past = history.get(finding.mac, [])
            if len(past) < RECURRENCES_FOR_PROBLEM:
                continue
            key = f"problem|{finding.tenant}|{finding.kind}|{finding.mac}"
            contact_name, contact = _tenant_contact(session, finding.tenant)
            problem, event = lifecycle.new_ticket(
                ticket_type="problem", urgency=urgency_for(finding.kind, self._rules.urgency), impact="individual",
                subject=f"Problema recurrente: {subject_for(finding, 1)}",
                detail=(f"El equipo {finding.mac} volvió a presentar el hallazgo {finding.kind} "
                        f"{len(past)} veces en 30 días tras resolverse. Incidentes: "
                        + ", ".join(f"#{i}" for i in past) + f", #{incident_id}."),
                requester_name=contact_name, requester_contact=contact, channel="device", created_at=now,
                actor=INTAKE_ACTOR, dedup_key=key,
            )
            problem_id, created = tickets.open_or_get_by_key(session, problem, event, finding.tenant, finding.kind)
            if created:
                stats.problems += 1
            for incident in (*past, incident_id):
                with contextlib.suppress(Exception):  # already linked
                    tickets.link_problem(session, problem_id, incident, INTAKE_ACTOR, now)

    def _recover(self, session: Session, ticket_id: int, macs: list[str], now: datetime, stats: IntakeStats) -> None:
        """These phones no longer show the ticket's finding: they recover, and when no phone
        of the ticket is left affected, the incident is resolved."""
        # Another server process may be recovering the last other phones of this ticket
        # right now: take turns on the ticket, then judge from what is committed.
        tickets.lock(session, ticket_id)
        if tickets.header(session, ticket_id).status not in tickets.OPEN:
            return  # resolved or closed since the batch looked (an agent, another process)
        stats.recovered += len(affected_devices.mark_devices_recovered(session, ticket_id, macs, now, actor=INTAKE_ACTOR))
        total, active = affected_devices.device_counts(session, ticket_id)
        if total and not active:
            tickets.act(
                session, ticket_id, lifecycle.Resolve(), INTAKE_ACTOR, now,
                note="Todos los equipos afectados se recuperaron (reportan lo homologado).",
            )
            stats.resolved += 1


_IMPACT_ORDER = {"individual": 0, "department": 1, "organization": 2}


def _wider(new: str, old: str) -> bool:
    """Impact only grows while an incident is open (a recovered phone does not shrink it)."""
    return _IMPACT_ORDER[new] > _IMPACT_ORDER[old]


def finding_keys(observation: Observation) -> frozenset[str]:
    """The dedup keys of what the phone shows now."""
    return frozenset(dedup_key(finding) for finding in observation.findings)


def versions_seen(session: Session, ticket_id: int) -> list[str]:
    """The versions the ticket's affected phones reported (their evidence's "seen"), sorted."""
    seen = {device.evidence.get("seen") for device in affected_devices.list_devices(session, ticket_id) if device.active}
    return sorted(version for version in seen if isinstance(version, str))


def _tenant_contact(session: Session, slug: str) -> tuple[str, str]:
    row = session.execute(select(Tenant.name, Tenant.contact_name, Tenant.contact_email).where(Tenant.slug == slug)).first()
    if row is None:
        return slug, slug
    return (row.contact_name or f"Contacto de {row.name}"), (row.contact_email or f"cliente {slug}")


def _tenant_slug(session: Session, tenant_id: int) -> str | None:
    return session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))


def _tenant_device_count(session: Session, slug: str) -> int:
    return session.scalar(select(func.count(Device.id)).join(Tenant).where(Tenant.slug == slug)) or 0
