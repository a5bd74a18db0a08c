"""`pbx export` formats checked against their documented syntax (issue 19).

Kamailio's SQL is loaded into the real Kamailio by tests/test_registrar_e2e.py; here it is
also run against SQLite's copy of Kamailio's own subscriber schema. Asterisk's pjsip.conf is
read the way Asterisk reads it: `[name]` sections where one name may repeat with another
`type=` (so not configparser, which merges or refuses duplicates), `;` starting a comment
unless escaped. FreeSWITCH's directory include is parsed as XML.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from provisioner import pbx_export
from provisioner.errors import InputError
from provisioner.sip_accounts import HostPort, SipAccount

SCHEMA = Path("/usr/share/kamailio/db_sqlite/auth_db-create.sql")
TRICKY = "Pbx'Cl;ve&<1>\"x"
ACCOUNTS = [
    SipAccount(1, "101", "101", "101", "Simple-Password-1", "acme.sip.test", 5060, "udp", None, "Ana Gómez", "101 Ana"),
    SipAccount(2, "102", "acme-102", "acme-102", TRICKY, "acme.sip.test", 5060, "udp",
               HostPort("10.0.0.1", 5060), 'Beto "B" <x>', "102 Beto"),
]


def pjsip_sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Asterisk's reading of a pjsip.conf: ordered (name, options); duplicates kept apart."""
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = re.split(r"(?<!\\);", raw, maxsplit=1)[0].strip()  # an unescaped ';' starts a comment
        if not line:
            continue
        if match := re.fullmatch(r"\[([^\]]+)\]", line):
            sections.append((match[1], {}))
            continue
        name, sep, value = line.partition("=")
        assert sep and sections, f"not an option inside a section: {raw!r}"
        sections[-1][1][name.strip()] = value.strip().replace("\\;", ";")
    return sections


def test_asterisk_pjsip_endpoint_auth_and_aor_per_account() -> None:
    sections = pjsip_sections(pbx_export.export("asterisk-pjsip", "acme", ACCOUNTS))
    by_type = {(name, options["type"]): options for name, options in sections}
    assert len(by_type) == len(sections) == 6
    for account in ACCOUNTS:
        endpoint, auth, aor = (by_type[(account.user, kind)] for kind in ("endpoint", "auth", "aor"))
        assert (endpoint["auth"], endpoint["aors"], endpoint["context"]) == (account.user, account.user, "acme")
        assert (auth["auth_type"], auth["username"], auth["password"], auth["realm"]) == (
            "userpass", account.auth_user, account.password, account.domain)
        assert aor["max_contacts"] == "1"


def test_freeswitch_directory_parses_and_carries_the_passwords() -> None:
    root = ET.fromstring(pbx_export.export("freeswitch", "acme", ACCOUNTS))
    [domain] = root.findall("domain")
    assert domain.get("name") == "acme.sip.test"
    users = {user.get("id"): user for user in domain.iter("user")}
    assert set(users) == {"101", "acme-102"}
    for account in ACCOUNTS:
        user = users[account.auth_user]
        params = {p.get("name"): p.get("value") for p in user.iter("param")}
        variables = {v.get("name"): v.get("value") for v in user.iter("variable")}
        assert params["password"] == account.password
        assert variables["effective_caller_id_name"] == account.display_name
        assert variables["effective_caller_id_number"] == account.extension


@pytest.mark.skipif(not SCHEMA.exists(), reason="kamailio-sqlite-modules is not installed")
@pytest.mark.parametrize("plaintext", [False, True])
def test_kamailio_sql_loads_into_its_schema_twice(plaintext: bool) -> None:
    sql = pbx_export.export("kamailio", "acme", ACCOUNTS, plaintext=plaintext)
    with sqlite3.connect(":memory:") as db:
        db.executescript("CREATE TABLE version (table_name TEXT, table_version INTEGER);" + SCHEMA.read_text())
        db.executescript(sql)
        db.executescript(sql)  # a second load replaces, never duplicates
        rows = db.execute("SELECT username, domain, password, ha1, ha1b FROM subscriber ORDER BY username").fetchall()
    assert len(rows) == 2
    for (username, domain, password, ha1, ha1b), account in zip(rows, ACCOUNTS, strict=True):
        realm = account.domain
        assert (username, domain) == (account.auth_user, account.domain)
        assert password == (account.password if plaintext else "")
        assert ha1 == hashlib.md5(f"{username}:{realm}:{account.password}".encode()).hexdigest()
        assert ha1b == hashlib.md5(f"{username}@{domain}:{realm}:{account.password}".encode()).hexdigest()
    if not plaintext:
        assert TRICKY not in sql and "Simple-Password-1" not in sql


def test_values_no_format_can_carry_are_refused_without_echo() -> None:
    bad = [SipAccount(1, "101", "101", "101", "back\\slash-pw", "d", 5060, "udp", None, "A", "A")]
    with pytest.raises(InputError) as caught:
        pbx_export.export("kamailio", "acme", bad, plaintext=True)
    assert "slash-pw" not in str(caught.value)
    with pytest.raises(InputError):
        pbx_export.export("sipx", "acme", ACCOUNTS)
