"""Generated secrets and account names (pure apart from the OS random source)."""

from __future__ import annotations

import secrets
import string

_PASSWORD_ALPHABET = string.ascii_letters + string.digits  # no symbols: every phone UI and format takes these


def provisioning_key() -> str:
    """An unguessable tenant key for provisioning URLs: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def sip_password(length: int = 20) -> str:
    """A strong SIP password (20 chars of 62 symbols, about 119 bits)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def admin_password(length: int = 12) -> str:
    """A phone web-admin password; digits and letters so it can be typed on a keypad menu too."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def snmp_community() -> str:
    return "ro-" + secrets.token_hex(6)


def sip_auth_user(tenant_slug: str, extension: str) -> str:
    """The SIP auth user of an extension: unique across tenants on a shared PBX."""
    return f"{tenant_slug}-{extension}"
