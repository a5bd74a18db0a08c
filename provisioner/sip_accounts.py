"""SIP accounts as the PBX has them (pure: no I/O here).

One function, `sip_account(tenant, line)`, says what a phone (or a softphone) needs to
register one line: every renderer and every PBX export reads the account through it, so a
config and the PBX's subscriber table can never disagree on a user, domain or password.

    user / auth user   the extension's stored SIP user (the PBX's, or made here from the
                       tenant's format when the extension was created; never renamed later)
    domain (realm)     the tenant's SIP domain, else its SIP server: the host part of the
                       address of record (From/To/Request-URI of REGISTER). Registrars that
                       challenge with the domain as realm (Kamailio's auth_db with "$fd"/"$td",
                       Asterisk's default realm = the endpoint's domain when configured) then
                       agree with the phone on the digest realm.
    proxy              where the phone sends its requests: the tenant's outbound proxy, else
                       the SIP server when the domain is another name (the domain need not
                       resolve then), else none (the phone sends to the domain itself).

User formats are Python format strings over two fields, `{tenant}` (slug) and `{extension}`;
the default, `{tenant}-{extension}`, is what every tenant had before formats existed.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from provisioner.errors import InputError as AccountError  # a person's value we refuse
from provisioner.values import LineView, TenantView

DEFAULT_USER_FORMAT = "{tenant}-{extension}"
FORMAT_FIELDS = frozenset({"tenant", "extension"})
# RFC 3261 "user" unreserved characters and the common escapes-free subset every phone UI takes.
_SIP_USER = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,64}")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9\-.]{0,252}[A-Za-z0-9])?)")


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class SipAccount:
    """One line's registration, as the phone must hold it and the PBX must know it."""

    line: int  # the account slot on the phone (1-based)
    extension: str
    user: str  # the user part of the address of record
    auth_user: str  # digest username (the same as `user` on every PBX we export to)
    password: str
    domain: str  # realm / host part of the address of record
    port: int  # the registrar's port (tenant.sip_port)
    transport: str  # "udp" | "tcp" | "tls"
    proxy: HostPort | None  # outbound proxy, or None: send to the domain
    display_name: str
    label: str

    @property
    def address_of_record(self) -> str:
        return f"sip:{self.user}@{self.domain}"


def sip_account(tenant: TenantView, line: LineView) -> SipAccount:
    """The account context every renderer and export uses for one line."""
    return SipAccount(
        line=line.number,
        extension=line.extension,
        user=line.auth_user,
        auth_user=line.auth_user,
        password=line.password,
        domain=sip_domain(tenant),
        port=tenant.sip_port,
        transport=tenant.sip_transport,
        proxy=outbound_proxy(tenant),
        display_name=line.display_name,
        label=line.label,
    )


def sip_domain(tenant: TenantView) -> str:
    return tenant.sip_domain or tenant.sip_server


def outbound_proxy(tenant: TenantView) -> HostPort | None:
    """The explicit outbound proxy, else the SIP server when the domain is another name."""
    if tenant.outbound_proxy:
        return parse_host_port(tenant.outbound_proxy, tenant.sip_port)
    if tenant.sip_domain and tenant.sip_domain != tenant.sip_server:
        return HostPort(tenant.sip_server, tenant.sip_port)
    return None


def user_for(user_format: str | None, tenant_slug: str, extension: str) -> str:
    """The SIP user a new extension gets from its tenant's format (None: the default)."""
    user = (user_format or DEFAULT_USER_FORMAT).format(tenant=tenant_slug, extension=extension)
    return check_sip_user(user)


def check_user_format(user_format: str) -> str:
    """A user format, refused unless it names {extension} and only known fields."""
    try:
        parsed = list(string.Formatter().parse(user_format))
    except ValueError as exc:
        raise AccountError(f"user format {user_format!r} is not a valid format string: {exc}") from None
    if any(name is not None and (spec or conv) for _, name, spec, conv in parsed):
        raise AccountError("user format fields take no format spec or conversion: write {tenant} or {extension}")
    fields = {name for _, name, _, _ in parsed if name is not None}
    unknown = fields - FORMAT_FIELDS
    if unknown:
        raise AccountError(f"user format fields must be {{tenant}} and/or {{extension}}, not {sorted(unknown)}")
    if "extension" not in fields:
        raise AccountError("user format must contain {extension}: otherwise every extension gets the same user")
    user_for(user_format, "tenant", "101")  # the literal parts must be SIP-user characters too
    return user_format


def check_sip_user(user: str) -> str:
    if not _SIP_USER.fullmatch(user):
        raise AccountError(
            # Spanish: the import shows it to installers, and `extension add` says the same words
            f"el usuario SIP {user!r} debe tener de 1 a 64 caracteres: letras, dígitos y - _ . ! ~ * ' ( ) & = + $ , ; ? /"
        )
    return user


def check_host(host: str, what: str = "SIP domain") -> str:
    if not _HOST.fullmatch(host):
        raise AccountError(f"{what} {host!r} is not a host name or IP address")
    return host


def parse_host_port(text: str, default_port: int) -> HostPort:
    """"host", "host:port" or "[v6]:port"."""
    text = text.strip()
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?", text)
    if match is None:
        raise AccountError(f"outbound proxy {text!r} must be host or host:port")
    host = check_host(match[1], "outbound proxy").strip("[]")
    port = int(match[2]) if match[2] else default_port
    if not 1 <= port <= 65535:
        raise AccountError(f"outbound proxy port {port} must be 1..65535")
    return HostPort(host, port)
