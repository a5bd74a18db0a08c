"""One settings object: every knob, its default and its help, in one table.

The environment is read once, by the CLI (`Settings.from_env`); everything below receives
a Settings value. `settings_table` is what `provisioner settings` and `serve --help` print.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from provisioner.errors import SettingsError
from provisioner.forwarded import Network, parse_networks
from support_link.adapters.mail_settings import MailSettings

DEFAULT_DATABASE_URL = "sqlite:///provisioner.sqlite3"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    http_port: int = 8080
    tftp_port: int = 6969
    public_url: str = ""  # base URL phones reach us at; default http://<host>:<http_port>
    firmware_dir: str = "firmware"
    tftp_max_sessions: int = 10000  # a site of thousands of phones after a power cut; needs ~10,256 descriptors
    tftp_max_sessions_per_source: int = 512  # a few hundred phones behind one NAT address boot at once
    tftp_max_blksize: int = 1468
    http_max_connections: int = 20000  # per server process; lowered to fit its descriptor limit
    http_max_connections_per_source: int = 256  # a NAT address with a few hundred phones booting at once
    http_head_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_keepalive_seconds: float = 15.0  # a phone's boot files come within seconds; idle sockets are descriptors
    tls_cert: str = ""  # PEM certificate (chain) file: HTTPS instead of HTTP when given with tls_key
    tls_key: str = ""
    trusted_proxies: str = ""  # comma-separated addresses or CIDR networks of reverse proxies
    cache_check_seconds: float = 0.25  # how often a process looks for changes made by others
    db_timeout_seconds: float = 2.0  # longest a phone's request or /readyz waits for the database
    db_statement_timeout_seconds: float = 30.0  # PostgreSQL statement_timeout of the server's sessions
    negative_cache_seconds: float = 5.0  # an unknown tenant key is answered from memory this long
    gil_switch_ms: float = 0.5  # CPython's GIL switch interval in a server process (default 5 ms)
    sighting_flush_seconds: float = 1.0  # a phone's boot files within it fold into one phone_state write
    support_job_seconds: float = 30.0
    intake_process: int = 1  # write tickets from a child process (not for an in-memory SQLite)
    intake_max_hold_seconds: float = 10.0  # a wave of booting phones holds back their tickets at most this long
    finding_urgency: str = ""  # overrides of the urgency table, e.g. "firmware_unknown=medium,unreachable=high"
    organization_share: float = 0.5  # share of a tenant's phones that makes an incident organization-wide
    snmp_enabled: int = 1
    snmp_port: int = 161
    snmp_delay_seconds: float = 120.0  # after a config fetch (the phone is still booting)
    snmp_interval_seconds: float = 3600.0
    snmp_timeout_seconds: float = 2.0
    snmp_retries: int = 1
    snmp_unreachable_after: int = 3
    snmp_max_concurrency: int = 20
    smtp_host: str = ""  # helpdesk mailbox forward: off unless a host is given
    smtp_port: int = 25
    smtp_sender: str = "mesa@localhost"
    smtp_recipient: str = ""
    smtp_starttls: int = 0
    smtp_user: str = ""
    smtp_password: str = ""
    portal_url: str = ""  # the public base URL of the web app in people's links (portal, surveys); "" = base_url
    cookie_secure: int = 0  # 1: the session cookie only travels over HTTPS (on by itself with TLS)
    log_level: str = "INFO"
    log_format: str = "text"  # text, or json: one JSON object per line for a log shipper
    metrics_networks: str = "127.0.0.0/8,::1"  # who may scrape /metrics without the token
    metrics_token: str = ""  # bearer token that also opens /metrics (empty: networks only)
    # Miss budget and bans (provisioner.bans), and what requests from unknown phones may record
    miss_limit: int = 50  # misses from one address within the window; the next one bans it
    miss_window_seconds: float = 600.0
    ban_seconds: float = 900.0
    ban_sync_seconds: float = 2.0  # how often a process stores its bans and reads everyone's
    waiting_phones_per_hour: int = 200  # unknown phones recorded as waiting, per tenant and process
    # Files phones write back (provisioner.uploads): Polycom logs and override files
    upload_max_bytes: int = 262144  # not a vendor figure (none found): room for a log; raise it if phones get 413
    upload_logs_kept: int = 5  # newest logs of each kind kept per phone
    uploads_per_hour: int = 30  # uploads of one kind one phone may make per hour (each process)
    # The operator's homologated table (firmware_catalog), replacing the built-in one
    catalog: str = ""
    firewall_rules_file: str = ""  # TOML of the firewall rules in the onboarding kit; empty: the packaged one
    campaign_tick_seconds: float = 30.0  # how often firmware campaigns advance (0: never, e.g. a test drives them)
    # What the registrar knows (issue 19, provisioner.registrations)
    registrar_db_url: str = ""  # the registrar's database (Kamailio usrloc db_mode), "" = not connected
    never_registered_minutes: float = 15.0  # a phone that fetched its config and has not registered by then
    registration_check_seconds: float = 60.0

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return (self.public_url or f"{scheme}://{self.host}:{self.http_port}").rstrip("/")

    def portal_base(self) -> str:
        """Where people open the portal and the staff pages (links in mails), without a trailing slash."""
        return (self.portal_url or self.base_url).rstrip("/")

    def tenant_base_url(self, key: str) -> str:
        return f"{self.base_url}/prov/{key}/"

    def option66_http(self, key: str) -> str:
        return self.tenant_base_url(key)

    @property
    def public_host_is_local(self) -> bool:
        """Whether the host phones are told to use is one no phone on the network can reach
        (loopback, "localhost", the bind-all address): option-66 strings built on it are local only."""
        host = urlsplit(self.base_url).hostname or ""
        if host in ("localhost", "") or host.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a DNS name: the installer's to vouch for
        return address.is_loopback or address.is_unspecified

    def option66_tftp(self, key: str) -> str:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        port = "" if self.tftp_port == 69 else f":{self.tftp_port}"
        return f"tftp://{host}{port}/{key}/"

    def urgency_table(self) -> dict[str, str]:
        """The reviewed finding -> urgency table with this deployment's overrides."""
        from provisioner.incidents import URGENCY_BY_FINDING

        table = dict(URGENCY_BY_FINDING)
        for item in filter(None, (part.strip() for part in self.finding_urgency.split(","))):
            kind, _, urgency = item.partition("=")
            if kind.strip() not in table or urgency.strip() not in ("high", "medium", "low"):
                raise SettingsError(f"PROVISIONER_FINDING_URGENCY: {item!r} is not <finding kind>=high|medium|low")
            table[kind.strip()] = urgency.strip()
        return table

    def mail(self) -> MailSettings | None:
        if not self.smtp_host or not self.smtp_recipient:
            return None
        return MailSettings(
            host=self.smtp_host, port=self.smtp_port, sender=self.smtp_sender, recipient=self.smtp_recipient,
            starttls=bool(self.smtp_starttls), user=self.smtp_user or None, password=self.smtp_password or None,
        )

    def campaign_mail(self) -> MailSettings | None:
        """The SMTP relay for firmware-campaign notices to tenants' contacts (no helpdesk mailbox needed)."""
        if not self.smtp_host:
            return None
        return MailSettings(
            host=self.smtp_host, port=self.smtp_port, sender=self.smtp_sender, recipient=self.smtp_recipient,
            starttls=bool(self.smtp_starttls), user=self.smtp_user or None, password=self.smtp_password or None,
        )

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        try:
            return parse_networks(self.trusted_proxies)
        except ValueError as error:
            raise SettingsError(f"{environment_name('trusted_proxies')}: {error}") from None

    def metrics_scrapers(self) -> tuple[Network, ...]:
        try:
            return parse_networks(self.metrics_networks)
        except ValueError as error:
            raise SettingsError(f"{environment_name('metrics_networks')}: {error}") from None

    def checked_log_format(self) -> str:
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"{environment_name('log_format')}: {self.log_format!r} is not text or json")
        return self.log_format

    @property
    def session_cookie_secure(self) -> bool:
        """Send the session cookie over HTTPS only: asked for, or this server itself speaks TLS."""
        return bool(self.cookie_secure) or bool(self.tls_cert)

    @property
    def firmware_path(self) -> Path:
        return Path(self.firmware_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """PROVISIONER_<FIELD> overrides each field, e.g. PROVISIONER_DATABASE_URL."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(environment_name(f.name))
            if raw is None:
                continue
            kind = type(getattr(cls(), f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise SettingsError(f"{environment_name(f.name)}: {raw!r} is not {_KIND_NAMES[kind]}") from None
        return cls(**values)  # type: ignore[arg-type]

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def environment_name(name: str) -> str:
    return f"PROVISIONER_{name.upper()}"


_KIND_NAMES = {int: "a whole number", float: "a number", str: "text"}


HELP = {
    "database_url": "SQLAlchemy URL; SQLite file by default, PostgreSQL in production",
    "host": "address the HTTP and TFTP servers bind to",
    "http_port": "HTTP port for configs (GET|HEAD /prov/<tenant key>/<file>)",
    "tftp_port": "TFTP port (69 in production; needs CAP_NET_BIND_SERVICE)",
    "public_url": "base URL written into configs and option-66 strings",
    "firmware_dir": "folder of firmware images served to phones",
    "tftp_max_sessions": "concurrent TFTP transfers before new ones get 'server busy'",
    "tftp_max_sessions_per_source": "concurrent TFTP transfers from one address (IPv6: one /64) before its new ones get 'server busy'",
    "tftp_max_blksize": "largest TFTP blksize granted (RFC 2348)",
    "http_max_connections": "most HTTP connections one server process holds (lowered to fit its descriptor limit, less TFTP's share)",
    "http_max_connections_per_source": "open HTTP connections from one address (IPv6: one /64) before its new ones are reset; trusted proxies are exempt",
    "http_head_timeout_seconds": "time a client has to send a whole request head (and finish the TLS handshake) before the connection is cut",
    "http_body_timeout_seconds": "longest a request body may stand still, or a response go unread, before the connection is cut",
    "http_keepalive_seconds": "how long an idle kept-alive HTTP connection stays open (aiohttp's default is 75)",
    "tls_cert": "PEM certificate (with its chain) for HTTPS; with tls_key, configs and the web app are served over HTTPS only",
    "tls_key": "PEM private key of tls_cert",
    "trusted_proxies": "reverse proxies (addresses or CIDR, comma separated) whose X-Forwarded-For names the client; exempt from the per-address cap",
    "cache_check_seconds": "how often a server process checks for config changes by others",
    "db_timeout_seconds": "longest a phone's request waits for the database (a tenant key not in memory yet; then 404) and /readyz for its ping; also PostgreSQL's connect timeout (at least 2 s)",
    "db_statement_timeout_seconds": "PostgreSQL statement_timeout of the server's database sessions, sent as a connection option (0: none, e.g. behind a PgBouncer that refuses startup options)",
    "negative_cache_seconds": "how long an unknown tenant key is answered 404 from memory before the database is asked again",
    "gil_switch_ms": "GIL switch interval: how long the event loop can wait for the background writers' thread",
    "sighting_flush_seconds": "how often each server process writes its batch of sightings (and phone_state)",
    "support_job_seconds": "how often tickets are auto-closed and SLA states refreshed",
    "intake_max_hold_seconds": "longest a wave of booting phones (100 or more newly reporting per second) holds back the writing of their tickets; 0 never holds",
    "intake_process": "1 to write device tickets from a process of its own (a storm's ticket work never holds the event loop), 0 for a thread",
    "finding_urgency": "overrides of the finding -> urgency table (kind=high|medium|low, comma separated)",
    "organization_share": "share of a tenant's phones on one incident that makes its impact organization",
    "snmp_enabled": "1 to verify phones over SNMP after they fetch a config, 0 to switch off",
    "snmp_port": "UDP port of the phones' SNMP agents",
    "snmp_delay_seconds": "wait after a config fetch before the first SNMP poll",
    "snmp_interval_seconds": "time between SNMP polls of one phone",
    "snmp_timeout_seconds": "SNMP request timeout",
    "snmp_retries": "SNMP retries per poll",
    "snmp_unreachable_after": "consecutive unanswered polls before a phone is 'unreachable'",
    "snmp_max_concurrency": "SNMP requests in flight at once",
    "smtp_host": "SMTP server for forwarding tickets to the helpdesk mailbox (empty: off)",
    "smtp_port": "SMTP port",
    "smtp_sender": "From address of forwarded tickets",
    "smtp_recipient": "the helpdesk mailbox that receives new tickets and their updates",
    "smtp_starttls": "1 to use STARTTLS",
    "smtp_user": "SMTP login (optional)",
    "smtp_password": "SMTP password (optional)",  # nosec B105 - the help text of the setting, not a password
    "portal_url": "public base URL of the web app used in mails' links (customer portal, surveys, ticket pages), e.g. https://soporte.operador.co; empty: the server's own address",
    "cookie_secure": "1 to mark the web app's session cookie Secure (HTTPS only); on by itself when serving TLS",
    "log_level": "DEBUG, INFO, WARNING, ERROR",
    "log_format": "text (one line per record) or json (one JSON object per line: time, level, logger, process, message)",
    "metrics_networks": "addresses or CIDR networks (comma separated) that may scrape /metrics without a token",
    "metrics_token": "bearer token that opens /metrics from anywhere (Authorization: Bearer <token>; empty: networks only)",
    "miss_limit": "misses (unknown tenant key, MAC the tenant does not have, name no vendor uses) one address may make within the miss window; the next bans it (a tenant's declared networks are never banned)",
    "miss_window_seconds": "the window misses are counted in, per address",
    "ban_seconds": "how long a banned address gets 404 for everything, its real phones included",
    "ban_sync_seconds": "how often each server process stores its new bans and reads every process's (and lifted ones, declared networks)",
    "upload_max_bytes": "largest log or override file a phone may PUT (Polycom <mac>-app.log, <mac>-boot.log, <mac>-phone.cfg); larger ones get 413",
    "upload_logs_kept": "newest logs of each kind (app, boot) kept per phone; older ones are deleted (one override file is kept)",
    "uploads_per_hour": "uploads of one kind one phone may make in an hour, per server process; more get 429",
    "catalog": "the operator's homologated table: a TOML file of [[model]] rows with the built-in table's fields "
               "(`provisioner catalog list --toml` prints it to start from), used instead of the built-in one by every "
               "command and server; checked when read: a file that does not parse, a bad row or a row that contradicts "
               "vendor facts (`provisioner catalog check`) stops the command with the file's line",
    "firewall_rules_file": "TOML file of the firewall rules handed out in every onboarding kit (ports, protocols, destination hosts); empty: the packaged provisioner/firewall_rules.toml",
    "campaign_tick_seconds": "how often firmware campaigns advance: notices mailed, phones instructed inside the maintenance window, judged, halted (0: this process never does)",
    "waiting_phones_per_hour": "phones not assigned yet recorded as waiting per tenant and hour, by each server process (only a vendor's MAC with that vendor's User-Agent)",
    "registrar_db_url": "SQLAlchemy URL of the registrar's database holding Kamailio's `location` table (usrloc db_mode 1-3), e.g. sqlite:////var/lib/kamailio/kamailio.db or postgresql://kamailio@pbx/kamailio; empty: registrations unknown",
    "never_registered_minutes": "a phone that fetched its config but has no registration after this many minutes is a `never_registered` finding",
    "registration_check_seconds": "how often the server reads the registrar's registrations (0: never; `provisioner registrations check` runs it once)",
}

SECRETS = frozenset({"smtp_password", "metrics_token"})  # shown as *** wherever settings are listed
_URL_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")


@dataclass(frozen=True)
class SettingRow:
    name: str
    variable: str  # the environment variable that sets it
    default: str
    value: str  # current value; secrets as ***
    help: str


def settings_table(settings: Settings) -> list[SettingRow]:
    """Every setting with its variable, default, current value and help (pure)."""
    defaults = Settings()
    return [
        SettingRow(f.name, environment_name(f.name), _shown(f.name, getattr(defaults, f.name)),
                   _shown(f.name, getattr(settings, f.name)), HELP[f.name])
        for f in fields(Settings)
    ]


def _shown(name: str, value: object) -> str:
    if name in SECRETS:
        return "***" if value else ""
    return _URL_PASSWORD.sub(r"\1***@", str(value))  # a database URL's password


def settings_text(rows: list[SettingRow]) -> str:
    """The table for people: one setting per entry, its help indented below."""
    lines = []
    for row in rows:
        lines.append(f"{row.name}  {row.variable}  = {row.value or '(empty)'}  (default: {row.default or '(empty)'})")
        lines.append(f"    {row.help}")
    return "\n".join(lines)
