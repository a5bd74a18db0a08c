"""A tenant's SIP accounts written for the PBX (pure: accounts in, text out).

The accounts are the ones the phones get (provisioner.sip_accounts.sip_account), so the PBX
and the configs agree on every user, domain and password. Three formats:

    kamailio        SQL for auth_db's `subscriber` table (username, domain, password, ha1,
                    ha1b). Per Kamailio's auth_db docs, ha1 = MD5(username:realm:password)
                    and ha1b = MD5(username@domain:realm:password), read when
                    calculate_ha1 = 0 (password_column "ha1"); the realm is the domain (the
                    usual auth_check("$fd", ...)/ www_challenge("$td", ...) setup). The
                    plaintext `password` column is written only when asked (calculate_ha1 = 1
                    setups). Rows of the same (username, domain) are deleted first, so the
                    file loads again after a change; standard SQL (SQLite, PostgreSQL,
                    MySQL with its default quoting).
    asterisk-pjsip  pjsip.conf sections: for each account an endpoint, an auth (userpass)
                    and an aor of the same name (the documented pattern: one name, three
                    types), ';' escaped as '\\;' (Asterisk's comment character).
    freeswitch      a directory include: <domain name><groups><group><users><user id>
                    with a `password` param and caller-id variables (XML-escaped).

Every format carries secrets: the CLI writes them owner-only (0600).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from provisioner.errors import InputError
from provisioner.rendering import xml_text
from provisioner.sip_accounts import SipAccount

FORMATS = ("kamailio", "asterisk-pjsip", "freeswitch")


def export(fmt: str, tenant_slug: str, accounts: Sequence[SipAccount], *, plaintext: bool = False) -> str:
    if fmt == "kamailio":
        return kamailio_sql(tenant_slug, accounts, plaintext=plaintext)
    if fmt == "asterisk-pjsip":
        return asterisk_pjsip(tenant_slug, accounts)
    if fmt == "freeswitch":
        return freeswitch_directory(tenant_slug, accounts)
    raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


# -- Kamailio ------------------------------------------------------------------------------------
def ha1(username: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def ha1b(username: str, domain: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{username}@{domain}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def sql_text(value: str) -> str:
    """A standard SQL string literal. A backslash would mean something else to MySQL's default
    mode than to SQLite and PostgreSQL, so a value with one is refused (never echoed)."""
    if "\\" in value or not value.isprintable():
        raise InputError("a SIP user, domain or password with a backslash or control character cannot be "
                         "exported as SQL exactly; change it or export with hashes only")
    return "'" + value.replace("'", "''") + "'"


def kamailio_sql(tenant_slug: str, accounts: Sequence[SipAccount], *, plaintext: bool = False) -> str:
    lines = [
        f"-- Kamailio auth_db subscriber rows for tenant {tenant_slug} ({len(accounts)} accounts).",
        "-- ha1 = MD5(username:realm:password), ha1b = MD5(username@domain:realm:password), realm = domain.",
        "-- " + ("password column filled (calculate_ha1 = 1)." if plaintext
                 else "password column left empty: set auth_db calculate_ha1 = 0 and password_column \"ha1\"."),
        "BEGIN;",
    ]
    for account in accounts:
        user, domain = sql_text(account.auth_user), sql_text(account.domain)
        password = sql_text(account.password) if plaintext else "''"
        # A file for the PBX's operator to load: every value quoted by sql_text, or hex digests.
        hashes = (ha1(account.auth_user, account.domain, account.password),
                  ha1b(account.auth_user, account.domain, account.domain, account.password))
        values = f"{user}, {domain}, {password}, '{hashes[0]}', '{hashes[1]}'"
        lines.append(f"DELETE FROM subscriber WHERE username = {user} AND domain = {domain};")  # nosec B608
        lines.append(f"INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ({values});")  # nosec B608
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


# -- Asterisk ------------------------------------------------------------------------------------
def pjsip_value(value: str) -> str:
    """Asterisk config values: ';' starts a comment unless escaped; line breaks cannot be written."""
    if not value.isprintable():
        raise InputError("a value with a line break or control character cannot be written to pjsip.conf")
    return value.replace(";", "\\;").strip()


def asterisk_pjsip(tenant_slug: str, accounts: Sequence[SipAccount]) -> str:
    out = [
        f"; Asterisk PJSIP accounts for tenant {tenant_slug}: one endpoint, auth and aor per account,",
        "; each named after the SIP user. Include it from pjsip.conf (#include pjsip_<tenant>.conf).",
        f"; Endpoints land in context \"{tenant_slug}\"; adjust codecs and context to the PBX's dial plan.",
        "",
    ]
    for account in accounts:
        name = pjsip_value(account.user)
        caller_id = pjsip_value(f'"{account.display_name.replace(chr(34), "")}" <{account.extension}>')
        out += [
            f"[{name}]", "type=endpoint", f"context={pjsip_value(tenant_slug)}", "disallow=all", "allow=ulaw,alaw",
            f"auth={name}", f"aors={name}", f"callerid={caller_id}", f"transport=transport-{account.transport}", "",
            f"[{name}]", "type=auth", "auth_type=userpass", f"username={pjsip_value(account.auth_user)}",
            f"password={pjsip_value(account.password)}", f"realm={pjsip_value(account.domain)}", "",
            f"[{name}]", "type=aor", "max_contacts=1", "remove_existing=yes", "",
        ]
    return "\n".join(out)


# -- FreeSWITCH ----------------------------------------------------------------------------------
def freeswitch_directory(tenant_slug: str, accounts: Sequence[SipAccount]) -> str:
    by_domain: dict[str, list[SipAccount]] = {}
    for account in accounts:
        by_domain.setdefault(account.domain, []).append(account)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f"<!-- FreeSWITCH directory for tenant {_comment(tenant_slug)}: the accounts its phones register -->",
           "<include>"]
    for domain, members in by_domain.items():
        out += [f"  <domain name={quoteattr(domain)}>", "    <groups>",
                f"      <group name={quoteattr(tenant_slug)}>", "        <users>"]
        for account in members:
            out += [
                f"          <user id={quoteattr(account.auth_user)}>",
                "            <params>",
                f"              <param name=\"password\" value={quoteattr(account.password)}/>",
                "            </params>",
                "            <variables>",
                f"              <variable name=\"user_context\" value={quoteattr(tenant_slug)}/>",
                f"              <variable name=\"effective_caller_id_name\" value={quoteattr(account.display_name)}/>",
                f"              <variable name=\"effective_caller_id_number\" value={quoteattr(account.extension)}/>",
                "            </variables>",
                "          </user>",
            ]
        out += ["        </users>", "      </group>", "    </groups>", "  </domain>"]
    out.append("</include>")
    return "\n".join(out) + "\n"


def quoteattr(value: str) -> str:
    """An XML attribute value in double quotes (provisioner.rendering.xml_text: the phones' escaping)."""
    return f'"{xml_text(value)}"'


def _comment(text: str) -> str:
    return text.replace("--", "- -")
