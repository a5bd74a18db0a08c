"""People's accounts: roles, passwords, tokens and CSRF secrets (pure apart from the OS
random source). Used by the CLI and admin (creating users) and the web app (logging in).

Passwords are hashed with scrypt (stdlib) and a per-user salt. API tokens and session ids
are random; only their SHA-256 digests are stored, so a database dump reveals none.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

ROLES = ("agent", "specialist", "installer", "admin")  # labels.ROLES says them in Spanish
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


def check_password(password: str, stored: str | None) -> bool:
    """verify_password, as slow when there is no such user (stored is None): the time of
    the answer must not tell an existing user name from an unknown one."""
    if stored is None:
        verify_password(password, _stand_in_hash())
        return False
    return verify_password(password, stored)


@functools.cache
def _stand_in_hash() -> str:
    """A hash of a password nobody knows, with today's scrypt cost, made once per process."""
    return hash_password(new_token())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
