"""Bans and declared networks in the database (adapter for provisioner.bans).

Bans are shared by every server process through the security_ban table: a process stores
the bans it makes and reads everyone's every few seconds; `provisioner security unban`
deletes a row and each process drops the ban at its next read. Times are wall-clock
epoch seconds in the ledger and aware datetimes in the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.bans import Ban, Network, parse_networks
from provisioner.db.models import SecurityBan, Tenant


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def store(session: Session, bans: Iterable[Ban]) -> None:
    """Write new bans (a later ban of the same address replaces the earlier one)."""
    for ban in bans:
        session.merge(SecurityBan(ip=ban.ip, tenant_slug=ban.tenant, misses=ban.misses,
                                  banned_at=_moment(ban.since), until=_moment(ban.until)))


def active(session: Session, now: float) -> list[Ban]:
    rows = session.scalars(select(SecurityBan).where(SecurityBan.until > _moment(now)).order_by(SecurityBan.banned_at))
    return [Ban(row.ip, row.tenant_slug, row.misses, _seconds(row.banned_at), _seconds(row.until)) for row in rows]


def lift(session: Session, ip: str) -> bool:
    """Remove the ban on `ip`; False when there was none."""
    return bool(session.execute(delete(SecurityBan).where(SecurityBan.ip == ip)).rowcount)


def forget_expired(session: Session, now: float) -> None:
    session.execute(delete(SecurityBan).where(SecurityBan.until <= _moment(now)))


def declared_networks(session: Session) -> tuple[Network, ...]:
    """Every tenant's declared networks (a bad stored value is skipped, never fatal)."""
    networks: list[Network] = []
    for text in session.scalars(select(Tenant.networks).where(Tenant.networks != "")):
        try:
            networks.extend(parse_networks(text))
        except ValueError:
            continue
    return tuple(networks)
