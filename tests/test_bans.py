"""The miss budget and bans as a pure state machine (provisioner.bans), with a fake clock."""

from __future__ import annotations

import ipaddress

import pytest

from provisioner import bans
from provisioner.bans import Ban, BanRules, MissLedger, ban_log_line, in_networks, miss_reason, parse_networks
from provisioner.values import Role

RULES = BanRules(limit=50, window=600, ban=900)


def test_the_miss_past_the_limit_bans_for_the_ban_time() -> None:
    ledger = MissLedger(RULES)
    for second in range(50):
        assert ledger.miss("203.0.113.9", "acme", float(second)) is None
    assert not ledger.banned("203.0.113.9", 50.0)
    ban = ledger.miss("203.0.113.9", "acme", 50.0)
    assert ban == Ban("203.0.113.9", "acme", 51, 50.0, 950.0)
    assert ledger.banned("203.0.113.9", 949.0)
    assert not ledger.banned("203.0.113.9", 950.0)
    assert not ledger.banned("203.0.113.10", 100.0)  # another address is untouched


def test_misses_older_than_the_window_do_not_count() -> None:
    ledger = MissLedger(RULES)
    for minute in range(200):  # one miss every 15 s: 40 per window, never 51
        assert ledger.miss("198.51.100.7", None, minute * 15.0) is None
    assert not ledger.banned("198.51.100.7", 3000.0)


@pytest.mark.parametrize(
    ("ip", "networks", "exempt"),
    [
        ("190.24.10.77", "190.24.10.0/24", True),
        ("190.24.11.77", "190.24.10.0/24", False),
        ("2001:db8::5", "2001:db8::/32", True),
        ("not-an-ip", "0.0.0.0/0", False),
    ],
)
def test_declared_networks_are_never_banned(ip: str, networks: str, exempt: bool) -> None:
    ledger = MissLedger(BanRules(limit=1), exempt=parse_networks(networks))
    ledger.miss(ip, "acme", 0.0)
    assert (ledger.miss(ip, "acme", 1.0) is None) == exempt
    assert in_networks(ip, parse_networks(networks)) == exempt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("190.24.10.0/24", (ipaddress.ip_network("190.24.10.0/24"),)),
        (" 190.24.10.9/24 , 2001:db8::/32 ", (ipaddress.ip_network("190.24.10.0/24"), ipaddress.ip_network("2001:db8::/32"))),
        ("", ()),
    ],
)
def test_parse_networks(text: str, expected: tuple[object, ...]) -> None:
    assert parse_networks(text) == expected


def test_parse_networks_names_the_bad_item() -> None:
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not a network"):
        parse_networks("190.24.10.0/24,10.0.0.0/33")


def test_stored_bans_replace_the_known_set_but_keep_unstored_ones() -> None:
    ledger = MissLedger(BanRules(limit=0))
    own = ledger.miss("192.0.2.1", None, 0.0)
    other = Ban("192.0.2.2", "acme", 60, 0.0, 900.0)
    ledger.install([other])  # a read that raced this process's own ban
    assert ledger.banned("192.0.2.1", 1.0) and ledger.banned("192.0.2.2", 1.0)
    assert ledger.take_pending() == [own]
    ledger.install([other])  # the admin lifted 192.0.2.1: the stored set no longer has it
    assert not ledger.banned("192.0.2.1", 1.0)
    ledger.install([])  # and 192.0.2.2
    assert not ledger.banned("192.0.2.2", 1.0)


def test_memory_stays_bounded_under_spoofed_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bans, "MAX_ADDRESSES", 1000)
    ledger = MissLedger(RULES)
    for index in range(5000):
        ledger.miss(f"10.{index // 65536}.{index // 256 % 256}.{index % 256}", None, float(index))
    assert len(ledger._misses) == 1000


def test_the_ban_line_is_fail2ban_ready_and_says_how_to_declare_a_site() -> None:
    line = ban_log_line(Ban("203.0.113.9", None, 51, 10.0, 910.0))
    assert line.startswith("security ban ip=203.0.113.9 tenant=- misses=51 seconds=900 ")
    assert "provisioner tenant set SLUG --networks 203.0.113.9/32" in line


@pytest.mark.parametrize(
    ("tenant_known", "device_known", "mac", "role", "reason"),
    [
        (False, False, None, Role.COMMON, "unknown key"),  # any name under a key nobody has
        (True, True, "000b82001620", Role.DEVICE, None),  # a known phone's device file
        (True, True, "000b82001620", Role.DEVICE, None),  # ... and Grandstream's cfg<mac>, answered 404
        (True, True, "0004f2000331", Role.OTHER, None),  # Polycom <mac>-phone.cfg, answered 404
        (True, False, "001565abcdef", Role.DEVICE, "unknown MAC"),  # a MAC the tenant does not have
        (True, False, "0004f2abcdef", Role.MASTER, "unknown MAC"),  # Polycom's <mac>.cfg of an unknown phone
        (True, False, None, Role.UNKNOWN, "unknown name"),  # a name no vendor uses
        (True, False, None, Role.COMMON, None),  # y000000000034.cfg, common.cfg, cfg.xml
        (True, False, None, Role.FIRMWARE, None),  # an image not in the firmware folder
        (True, False, None, Role.OTHER, None),  # Polycom's sip.cfg
    ],
)
def test_what_is_a_miss(tenant_known: bool, device_known: bool, mac: str | None, role: Role, reason: str | None) -> None:
    assert miss_reason(tenant_known, device_known, mac, role) == reason


def test_the_request_path_check_is_a_lookup_of_held_bans() -> None:
    ledger = MissLedger(BanRules(limit=0, ban=10))
    assert not ledger.holds_ban("192.0.2.1")
    ledger.miss("192.0.2.1", None, 0.0)
    assert ledger.holds_ban("192.0.2.1") and ledger.banned("192.0.2.1", 5.0)
    assert not ledger.banned("192.0.2.1", 10.0)  # run out: forgotten
    assert not ledger.holds_ban("192.0.2.1")


def test_a_network_declared_later_drops_its_bans_and_a_failed_store_keeps_them_pending() -> None:
    ledger = MissLedger(BanRules(limit=0))
    own = ledger.miss("190.24.10.77", "acme", 0.0)
    assert own is not None
    taken = ledger.take_pending()
    ledger.return_pending(taken)  # the database refused them: stored at the next sync
    assert ledger.take_pending() == [own]
    ledger.install([own], parse_networks("190.24.10.0/24"))
    assert not ledger.banned("190.24.10.77", 1.0)
    assert ledger.miss("190.24.10.77", "acme", 2.0) is None  # and never banned again
