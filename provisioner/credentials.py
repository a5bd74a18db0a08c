"""Generated secrets and account names (pure apart from the OS random source)."""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterator

_PASSWORD_ALPHABET = string.ascii_letters + string.digits  # no symbols: every phone UI and format takes these


def softphone_secret() -> str:
    """A softphone's provisioning password (Jitsi's login, never its SIP password): 144 random bits."""
    return secrets.token_urlsafe(18)


def provisioning_key() -> str:
    """An unguessable tenant key for provisioning URLs: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def device_token() -> str:
    """A phone's own provisioning path segment (/prov/d/<token>/): 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def sip_password(length: int = 20) -> str:
    """A strong SIP password (20 chars of 62 symbols, about 119 bits)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


# Bulk SIP passwords (imports of 100k rows): same alphabet and length, made from one urandom
# read per ~1000 passwords instead of 20 calls per password.
_ALPHABET = _PASSWORD_ALPHABET.encode()
_UNIFORM_BELOW = 4 * len(_ALPHABET)  # 248: bytes below it map evenly onto the alphabet; the rest are dropped
_TO_SYMBOL = bytes(_ALPHABET[b % len(_ALPHABET)] if b < _UNIFORM_BELOW else 0 for b in range(256))
_DROPPED = bytes(range(_UNIFORM_BELOW, 256))


def sip_passwords(length: int = 20) -> Iterator[str]:
    """An endless stream of strong random SIP passwords (uniform over the alphabet: rejection sampling)."""
    while True:
        pool = os.urandom(length * 1100).translate(_TO_SYMBOL, _DROPPED).decode("ascii")
        for start in range(0, len(pool) - length + 1, length):
            yield pool[start : start + length]


def admin_password(length: int = 12) -> str:
    """A phone web-admin password; digits and letters so it can be typed on a keypad menu too."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def snmp_community() -> str:
    return "ro-" + secrets.token_hex(6)


def sip_auth_user(tenant_slug: str, extension: str) -> str:
    """The SIP auth user of an extension: unique across tenants on a shared PBX."""
    return f"{tenant_slug}-{extension}"
