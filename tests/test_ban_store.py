"""Stored bans and declared networks on SQLite and PostgreSQL (provisioner.ban_store)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from provisioner import ban_store
from provisioner.bans import Ban
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Tenant

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC).timestamp()


def _tenant(session: Session, slug: str, networks: str) -> None:
    session.add(Tenant(name=slug, slug=slug, provisioning_key=f"key-{slug}", sip_server="pbx.example.net",
                       snmp_community="c", admin_password="p", networks=networks,
                       created_at=datetime.now(UTC)))


def test_bans_round_trip_expire_and_lift(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        ban_store.store(session, [Ban("203.0.113.9", "acme", 51, NOW - 10, NOW + 890),
                                  Ban("2001:db8::9", None, 60, NOW - 2000, NOW - 1100)])
    with sessions() as session:
        assert ban_store.active(session, NOW) == [Ban("203.0.113.9", "acme", 51, NOW - 10, NOW + 890)]
    with sessions.begin() as session:
        ban_store.store(session, [Ban("203.0.113.9", "acme", 70, NOW, NOW + 900)])  # banned again later
        ban_store.forget_expired(session, NOW)
    with sessions.begin() as session:
        assert [ban.misses for ban in ban_store.active(session, NOW)] == [70]
        assert ban_store.lift(session, "203.0.113.9")
        assert not ban_store.lift(session, "203.0.113.9")
    with sessions() as session:
        assert ban_store.active(session, NOW) == []


def test_declared_networks_of_every_tenant_and_a_bad_value_skipped(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        _tenant(session, "acme", "190.24.10.0/24,2001:db8::/32")
        _tenant(session, "tornillo", "")
        _tenant(session, "roto", "not a network")
    with sessions() as session:
        assert ban_store.declared_networks(session) == (
            ipaddress.ip_network("190.24.10.0/24"), ipaddress.ip_network("2001:db8::/32"))
