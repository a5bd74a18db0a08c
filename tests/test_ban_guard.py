"""Which unknown keys count toward a ban (provisioner.ban_sync.BanGuard): only those the
database said are nobody's. A key it could not be asked about in time (an outage) is a 404
too, but no miss: a site's phones must not be banned for the database's silence."""

from __future__ import annotations

from datetime import UTC, datetime

from firmware_catalog import load_catalog
from provisioner.ban_sync import BanGuard
from provisioner.bans import BanRules
from provisioner.findings import NOT_JUDGED
from provisioner.identification import identify
from provisioner.service import Outcome
from provisioner.values import ConfigRequest, Protocol

NAME = "001565a1b203.cfg"
IDENT = identify(NAME, "Yealink SIP-T21P 34.72.0.75 00:15:65:a1:b2:03", load_catalog())


def unknown_key_outcome() -> Outcome:
    return Outcome(None, "unknown tenant key", IDENT, None, None, None, NOT_JUDGED)


def request(key: str) -> ConfigRequest:
    return ConfigRequest(Protocol.HTTP, key, NAME, None, "203.0.113.9", datetime.now(UTC))


def test_keys_the_database_did_not_answer_for_are_no_misses() -> None:
    guard = BanGuard(None, BanRules(limit=3), said_unknown=lambda _request: False)
    assert not any(guard.missed(request(f"k{n}"), unknown_key_outcome()) for n in range(20))
    assert not guard.banned("203.0.113.9")


def test_keys_the_database_said_are_nobodys_are_misses_and_ban() -> None:
    guard = BanGuard(None, BanRules(limit=3), said_unknown=lambda _request: True)
    assert all(guard.missed(request(f"k{n}"), unknown_key_outcome()) for n in range(4))
    assert guard.banned("203.0.113.9")
