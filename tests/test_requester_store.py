"""Requesters' accounts on SQLite and PostgreSQL (provisioner.requester_store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from provisioner import requester_store as store
from provisioner.accounts import token_digest
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Requester, RequesterLink, RequesterSession, Tenant
from provisioner.errors import ConflictError, InputError, NotFoundError

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
PASSWORD = "Caballo-Bateria-42"


def _tenant(session: Session, slug: str, domains: str = "") -> None:
    session.add(Tenant(name=slug.title(), slug=slug, provisioning_key=f"key-{slug}", sip_server="pbx.example.net",
                       snmp_community="c", admin_password="p", email_domains=domains, created_at=NOW))


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    made = session_factory(make_engine(database_url))
    with made.begin() as session:
        _tenant(session, "acme", "acme.co,acme.com.co")
        _tenant(session, "tornillo", "tornillo.co")
    return made


def test_an_invitation_works_once_and_logs_in(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link = store.invite(session, "acme", " Ana@Acme.co ", "Ana Pérez", "agent1", NOW)
    assert link.email == "ana@acme.co" and link.expires_at == NOW + timedelta(days=7) and link.purpose == "invite"
    with sessions() as session:
        stored = session.scalars(select(RequesterLink)).one()
        assert stored.token_digest == token_digest(link.token) and link.token not in stored.token_digest
        assert store.link_info(session, link.token, NOW).tenant_name == "Acme"
    with sessions.begin() as session:
        user = store.consume_link(session, link.token, "Ana María Pérez", PASSWORD, NOW)
    assert (user.email, user.name, user.tenant_slug) == ("ana@acme.co", "Ana María Pérez", "acme")
    with sessions.begin() as session, pytest.raises(NotFoundError, match="ya se usó"):
        store.consume_link(session, link.token, "Otra", PASSWORD, NOW)
    with sessions.begin() as session:
        assert store.login(session, "ana@acme.co", "wrong-password-1", NOW) is None
        assert store.login(session, "nadie@acme.co", PASSWORD, NOW) is None
        token, logged = store.login(session, "ANA@acme.co", PASSWORD, NOW)  # type: ignore[misc]
    assert logged.csrf_token
    with sessions() as session:
        assert store.current(session, token, NOW + timedelta(hours=11)) == logged
        assert store.current(session, token, NOW + timedelta(hours=12, seconds=1)) is None
        assert session.scalars(select(RequesterSession.token_digest)).one() == token_digest(token)
        assert session.scalars(select(Requester.password_hash)).one().startswith("scrypt$")


def test_a_link_expires_and_a_weak_password_leaves_it_unused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link = store.invite(session, "acme", "ana@acme.co", "Ana", "agent1", NOW)
    with sessions.begin() as session, pytest.raises(InputError, match="al menos"):
        store.consume_link(session, link.token, "Ana", "corta", NOW)
    with sessions.begin() as session, pytest.raises(NotFoundError):
        store.consume_link(session, link.token, "Ana", PASSWORD, NOW + timedelta(days=7, seconds=1))
    with sessions.begin() as session:
        store.consume_link(session, link.token, "Ana", PASSWORD, NOW + timedelta(days=6))
    with sessions.begin() as session, pytest.raises(NotFoundError):
        store.consume_link(session, "made-up-" + "x" * 30, "Ana", PASSWORD, NOW)


def test_self_registration_only_for_declared_domains(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert store.request_registration(session, "luis@gmail.com", NOW) is None
        assert store.request_registration(session, "luis@ventas.acme.co", NOW) is None
        link = store.request_registration(session, "Luis@Acme.com.co", NOW)
    assert link is not None and (link.tenant_slug, link.purpose) == ("acme", "register")
    with sessions.begin() as session:
        user = store.consume_link(session, link.token, "Luis", PASSWORD, NOW)
    assert user.tenant_slug == "acme"
    with sessions.begin() as session:  # registering again: a password link, never a second account
        again = store.request_registration(session, "luis@acme.com.co", NOW)
        assert again is not None and again.purpose == "reset"
        assert session.scalars(select(Requester)).one().invited_by is None


def test_an_address_belongs_to_one_tenant(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link = store.invite(session, "acme", "ana@acme.co", "Ana", "agent1", NOW)
        store.consume_link(session, link.token, "Ana", PASSWORD, NOW)
    with sessions.begin() as session, pytest.raises(ConflictError, match="otro cliente"):
        store.invite(session, "tornillo", "ana@acme.co", "Ana", "agent1", NOW)


def test_disable_ends_sessions_and_logins(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link = store.invite(session, "tornillo", "eva@tornillo.co", "Eva", "admin1", NOW)
        store.consume_link(session, link.token, "Eva", PASSWORD, NOW)
        token, _ = store.login(session, "eva@tornillo.co", PASSWORD, NOW)  # type: ignore[misc]
    with sessions.begin() as session:
        store.disable(session, "EVA@tornillo.co")
    with sessions.begin() as session:
        assert store.current(session, token, NOW) is None
        assert store.login(session, "eva@tornillo.co", PASSWORD, NOW) is None
        assert store.request_registration(session, "eva@tornillo.co", NOW) is None  # no way back by itself
        assert store.request_reset(session, "eva@tornillo.co", NOW) is None
        rows = store.listed(session, "tornillo")
        again = store.invite(session, "tornillo", "eva@tornillo.co", "Eva", "admin1", NOW)
    with sessions.begin() as session:  # invited again: still refused until the new link is used
        assert store.login(session, "eva@tornillo.co", PASSWORD, NOW) is None
        store.consume_link(session, again.token, "Eva", "Otra-Clave-Segura-9", NOW)
    with sessions.begin() as session:
        assert store.login(session, "eva@tornillo.co", "Otra-Clave-Segura-9", NOW) is not None
    assert rows == [{"email": "eva@tornillo.co", "name": "Eva", "tenant": "tornillo", "active": False,
                     "password_set": True, "invited_by": "admin1", "created_at": NOW.isoformat()}]
    assert "scrypt" not in repr(rows)


def test_a_reset_link_sets_a_new_password_and_ends_old_sessions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link = store.invite(session, "acme", "ana@acme.co", "Ana", "agent1", NOW)
        store.consume_link(session, link.token, "Ana", PASSWORD, NOW)
        token, _ = store.login(session, "ana@acme.co", PASSWORD, NOW)  # type: ignore[misc]
        reset = store.request_reset(session, "ana@acme.co", NOW)
    assert reset is not None and reset.purpose == "reset"
    with sessions.begin() as session:
        store.consume_link(session, reset.token, "", "Otra-Clave-Segura-9", NOW)
    with sessions.begin() as session:
        assert store.current(session, token, NOW) is None
        assert store.login(session, "ana@acme.co", PASSWORD, NOW) is None
        assert store.login(session, "ana@acme.co", "Otra-Clave-Segura-9", NOW) is not None


def test_the_link_mail_is_spanish_and_marked_automatic(sessions: sessionmaker[Session]) -> None:
    from provisioner.requester_mail import compose_link_mail, link_url

    with sessions.begin() as session:
        link = store.invite(session, "acme", "ana@acme.co", "Ana", "agent1", NOW)
    url = link_url("https://soporte.operador.co/", link.token)
    assert url == f"https://soporte.operador.co/portal/enlace/{link.token}"
    message = compose_link_mail(link, url, "soporte@operador.co", NOW)
    assert (message["From"], message["To"], message["Auto-Submitted"]) == ("soporte@operador.co", "ana@acme.co", "auto-generated")
    assert message["Subject"] == "Invitación al portal de soporte de Acme"
    text = message.get_content()
    assert "Hola Ana," in text and url in text and "2026-12-09 12:00" in text  # 7 days, Bogota time
