"""Requesters' rules (pure: no I/O, the clock is passed in): the customer's staff on the portal.

    normalise_email(text)          the one spelling of an address we store and log in with
    parse_domains(text)            a tenant's declared mail domains, "a.co, b.co" -> ("a.co", "b.co")
    domain_allowed(email, domains) may this address register itself for that tenant?
    password_problem(password)     why a new password is refused (Spanish), or None
    link_expiry(purpose, now)      when a one-time link stops working

Messages are Spanish: they are shown on the portal and the staff's pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from provisioner.errors import InputError

SESSION_LIFETIME = timedelta(hours=12)
LINK_LIFETIMES = {"invite": timedelta(days=7), "register": timedelta(days=1), "reset": timedelta(days=1)}
MIN_PASSWORD = 10
MAX_PASSWORD = 200
MAX_EMAIL = 254

# One label of a domain name: letters, digits, hyphens inside (IDNs arrive as xn--...).
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LOCAL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")


def valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (len(domain) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)
            and not labels[-1].isdigit())


def normalise_email(text: str) -> str:
    """`text` lower-cased and trimmed, if it is one plausible address; else InputError."""
    email = (text or "").strip().lower()
    if not email:
        raise InputError("Escriba un correo electrónico.")
    local, at, domain = email.partition("@")
    if (not at or "@" in domain or len(email) > MAX_EMAIL or any(c.isspace() for c in email)
            or not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local
            or not valid_domain(domain)):
        raise InputError(f"«{email[:80]}» no es un correo electrónico válido (nombre@dominio.com).")
    return email


def email_domain(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


def parse_domains(text: str) -> tuple[str, ...]:
    """A tenant's mail domains from "a.co, B.co" (comma or space separated; "" -> none); InputError names a bad one."""
    found: list[str] = []
    for item in re.split(r"[,\s]+", (text or "").strip().lower()):
        domain = item.strip().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not valid_domain(domain):
            raise InputError(f"«{item[:80]}» no es un dominio de correo válido (por ejemplo empresa.com.co).")
        if domain not in found:
            found.append(domain)
    return tuple(found)


def domains_text(domains: Iterable[str]) -> str:
    """How the domains are stored on the tenant: "a.co,b.co"."""
    return ",".join(domains)


def domain_allowed(email: str, declared: str) -> bool:
    """True when the address's domain is exactly one of the tenant's declared domains (no subdomains)."""
    try:
        return email_domain(email) in parse_domains(declared)
    except InputError:
        return False


def password_problem(password: str, email: str = "") -> str | None:
    """Why this new password is refused, in Spanish, or None."""
    if len(password) < MIN_PASSWORD:
        return f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres."
    if len(password) > MAX_PASSWORD:
        return f"La contraseña debe tener como máximo {MAX_PASSWORD} caracteres."
    if password.strip() != password or "\x00" in password:
        return "La contraseña no puede empezar ni terminar con espacios ni llevar caracteres nulos."
    if len(set(password)) < 4:
        return "La contraseña repite muy pocos caracteres distintos; elija otra."
    if email and password.lower() in (email.lower(), email.lower().partition("@")[0]):
        return "La contraseña no puede ser su correo."
    return None


def clean_name(text: str) -> str:
    """A person's name as given, one line; InputError when empty or too long."""
    name = " ".join((text or "").split())
    if not name:
        raise InputError("Escriba su nombre.")
    if len(name) > 200 or "\x00" in name:
        raise InputError("El nombre tiene más de 200 caracteres o caracteres no válidos.")
    return name


def link_expiry(purpose: str, now: datetime) -> datetime:
    if purpose not in LINK_LIFETIMES:
        raise InputError(f"Enlace de tipo desconocido: {purpose!r}.")
    return now + LINK_LIFETIMES[purpose]
