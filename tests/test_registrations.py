"""The registration judgements (provisioner.registrations), as tables of plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provisioner.findings import FindingKind
from provisioner.registrations import (
    FetchedPhone, PlacedAccount, Registration, account_registrations, current, never_registered,
)
from provisioner.sip_accounts import SipAccount

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ACCOUNT = SipAccount(1, "101", "101", "101", "pw-123456789", "Acme.SIP.test", 5060, "udp", None, "Ana", "101 Ana")


def binding(user: str = "101", domain: str = "acme.sip.test", minutes: int = 30, ua: str = "") -> Registration:
    return Registration(user, domain, f"sip:{user}@10.0.0.{minutes}:5060", ua, NOW + timedelta(minutes=minutes))


@pytest.mark.parametrize(("bindings", "registered", "contact"), [
    ([], False, None),
    ([binding(minutes=-1)], False, None),  # expired
    ([binding(domain="other.test")], False, None),  # another domain is another account
    ([binding(user="1010")], False, None),
    ([binding(minutes=10), binding(minutes=50)], True, "sip:101@10.0.0.50:5060"),  # the latest binding
])
def test_which_accounts_are_registered(bindings: list[Registration], registered: bool, contact: str | None) -> None:
    [status] = account_registrations([PlacedAccount(ACCOUNT, "001565aabbcc", 1)], bindings, NOW)
    assert (status.registered, status.contact) == (registered, contact)


def test_the_user_agent_names_app_and_version() -> None:
    [status] = account_registrations([PlacedAccount(ACCOUNT, None, None)],
                                     [binding(ua="Yealink SIP-T21P 34.72.0.75")], NOW)
    assert (status.app, status.version, status.mac) == ("yealink T21P", "34.72.0.75", None)
    assert current([binding(minutes=-5)], NOW) == {}


PHONE = FetchedPhone("acme", "001565aabbcc", "yealink-t21p", "Ventas", NOW - timedelta(minutes=20), "10.0.0.9", "http")


@pytest.mark.parametrize(("registered", "fetched_minutes_ago", "kinds"), [
    (True, 20, ()),  # registered: recovers any open incident
    (False, 5, None),  # within the limit: no judgement yet
    (False, 15, (FindingKind.NEVER_REGISTERED,)),
    (False, 20, (FindingKind.NEVER_REGISTERED,)),
])
def test_never_registered(registered: bool, fetched_minutes_ago: int, kinds: tuple[FindingKind, ...] | None) -> None:
    phone = FetchedPhone(PHONE.tenant, PHONE.mac, PHONE.model, PHONE.department,
                         NOW - timedelta(minutes=fetched_minutes_ago), PHONE.source_ip, PHONE.protocol)
    found = never_registered(phone, registered, NOW, timedelta(minutes=15))
    assert (None if found is None else tuple(f.kind for f in found)) == kinds
    if found:
        assert found[0].observed is None  # part of the dedup key: one incident whatever the wait
