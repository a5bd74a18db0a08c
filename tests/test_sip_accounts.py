"""Accounts as the PBX has them (issue 19): the one account function, user formats, and the
CLI that sets them (never renaming an existing account unless asked)."""

from __future__ import annotations

import pytest

from provisioner import sip_accounts
from provisioner.errors import InputError
from provisioner.sip_accounts import HostPort, sip_account
from provisioner.values import LineView, TenantView
from tests.conftest import cli_json, run_cli

LINE = LineView(1, "101", "Ana", "101 Ana", "101", "Secreto-123456")


def tenant(**changes: object) -> TenantView:
    values: dict[str, object] = dict(name="Acme", slug="acme", sip_server="pbx.acme.co", sip_port=5070,
                                     sip_transport="udp", snmp_community="c", ntp_server="ntp", base_url="http://p/")
    values.update(changes)
    return TenantView(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "domain", "proxy"), [
    ({}, "pbx.acme.co", None),  # no domain: the server is the domain, no proxy
    ({"sip_domain": "acme.voip.co"}, "acme.voip.co", HostPort("pbx.acme.co", 5070)),  # the server becomes the proxy
    ({"sip_domain": "pbx.acme.co"}, "pbx.acme.co", None),
    ({"sip_domain": "acme.voip.co", "outbound_proxy": "sbc.co:5080"}, "acme.voip.co", HostPort("sbc.co", 5080)),
    ({"outbound_proxy": "sbc.co"}, "pbx.acme.co", HostPort("sbc.co", 5070)),
    ({"outbound_proxy": "[2001:db8::1]:5060"}, "pbx.acme.co", HostPort("2001:db8::1", 5060)),
])
def test_account_domain_and_proxy(changes: dict[str, object], domain: str, proxy: HostPort | None) -> None:
    account = sip_account(tenant(**changes), LINE)
    assert (account.user, account.auth_user, account.password) == ("101", "101", "Secreto-123456")
    assert (account.domain, account.port, account.proxy) == (domain, 5070, proxy)
    assert account.address_of_record == f"sip:101@{domain}"


@pytest.mark.parametrize(("fmt", "user"), [
    ("{tenant}-{extension}", "acme-101"), ("{extension}", "101"), ("ac{extension}", "ac101"),
    ("{extension}.{tenant}", "101.acme"),
])
def test_user_formats(fmt: str, user: str) -> None:
    assert sip_accounts.user_for(sip_accounts.check_user_format(fmt), "acme", "101") == user


@pytest.mark.parametrize("fmt", ["{tenant}", "static", "{ext}", "{extension!r}", "{extension:>5}", "{extension",
                                 "{extension} x", "{extension}@x", "{0}{extension}"])
def test_bad_user_formats_are_refused(fmt: str) -> None:
    with pytest.raises(InputError):
        sip_accounts.check_user_format(fmt)


def test_default_format_is_the_old_one() -> None:
    assert sip_accounts.user_for(None, "acme", "101") == "acme-101"


def test_cli_formats_domains_and_pbx_accounts(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.co", "--slug", "acme")
    old = cli_json(database_url, "extension", "add", "--tenant", "acme", "--extension", "101", "--name", "Ana")
    assert old["sip_auth_user"] == "acme-101"  # type: ignore[index]
    changed = cli_json(database_url, "tenant", "set", "acme", "--sip-user-format", "{extension}",
                       "--sip-domain", "acme.voip.co", "--outbound-proxy", "sbc.acme.co:5080")
    assert changed["sip_accounts"] == {"user_format": "{extension}", "sip_domain": "acme.voip.co",  # type: ignore[index]
                                       "outbound_proxy": "sbc.acme.co:5080", "renamed": 0, "kept": 1}
    text = run_cli(database_url, "tenant", "set", "acme", "--sip-user-format", "{extension}").stdout
    assert "1 existing extension(s) keep their SIP user" in text
    new = cli_json(database_url, "extension", "add", "--tenant", "acme", "--extension", "102", "--name", "Beto")
    assert new["sip_auth_user"] == "102"  # type: ignore[index]
    pbx = cli_json(database_url, "extension", "add", "--tenant", "acme", "--extension", "103", "--name", "Caro",
                   "--sip-user", "caro103", "--sip-password", "Clave-De-La-PBX-1")
    assert pbx["sip_auth_user"] == "caro103"  # type: ignore[index]
    refused = [
        (("extension", "add", "--tenant", "acme", "--extension", "104", "--name", "D", "--sip-user", "102"),
         "SIP user '102' already belongs to extension 102"),
        (("extension", "add", "--tenant", "acme", "--extension", "105", "--name", "E", "--sip-password", "corta"),
         "the SIP password must be 8 to 128"),
        (("tenant", "set", "acme", "--sip-user-format", "{tenant}"), "must contain {extension}"),
        (("tenant", "set", "acme", "--sip-domain", "bad domain"), "is not a host name"),
        (("tenant", "set", "acme", "--outbound-proxy", "sbc:99999"), "port 99999"),
    ]
    for args, message in refused:
        result = run_cli(database_url, *args, check=False)
        assert (result.returncode, "Traceback" in result.stderr) == (1, False), result.stderr
        assert message in result.stderr and "corta" not in result.stderr
    renamed = cli_json(database_url, "tenant", "set", "acme", "--rename-existing")
    assert renamed["sip_accounts"]["renamed"] == 2  # type: ignore[index]  # acme-101 -> 101, caro103 -> 103
