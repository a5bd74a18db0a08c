"""The server's TLS context from its certificate and key files (adapter: reads files).

Every way the files can be wrong is a SettingsError that names the file and what is wrong
with it, so `provisioner serve` stops with one line instead of a traceback.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from provisioner.errors import SettingsError
from provisioner.settings import Settings


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A server context for `settings.tls_cert` and `tls_key`, or None when neither is set."""
    cert, key = settings.tls_cert, settings.tls_key
    if not cert and not key:
        return None
    if not cert or not key:
        raise SettingsError("TLS needs both a certificate and its key: --tls-cert and --tls-key "
                            "(PROVISIONER_TLS_CERT, PROVISIONER_TLS_KEY)")
    for what, path in (("certificate", cert), ("key", key)):
        try:
            Path(path).read_bytes()
        except OSError as error:
            raise SettingsError(f"TLS {what} {path}: {error.strerror or error}") from None
    try:
        ssl.create_default_context().load_verify_locations(cafile=cert)  # the certificate alone
    except ssl.SSLError:
        raise SettingsError(f"TLS certificate {cert}: no PEM certificate in it") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key, password=_no_password(key))
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise SettingsError(f"TLS key {key} is not the key of the certificate {cert}") from None
        raise SettingsError(f"TLS key {key}: no PEM private key in it") from None
    return context


def _no_password(key: str) -> Callable[[], bytes]:
    """OpenSSL would ask for an encrypted key's password on the terminal: refuse instead."""

    def refuse() -> bytes:
        raise SettingsError(f"TLS key {key} is encrypted: give the server an unencrypted key (readable by it only)")

    return refuse
