"""Size limits of what people send (pure: no I/O).

One body limit for every request of the app and the API (forms, uploads, JSON), and the
longest text each ticket field takes: a 900 KB subject once showed in every queue view.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_BODY = 25 * 1024 * 1024  # bytes: aiohttp's client_max_size, the import page and the API
# The portal's new request and reply: MAX_ATTACHMENTS files of MAX_ATTACHMENT_BYTES each, plus the
# form's text and multipart framing (support_link.attachments: 5 x 5 MB). Those two routes only.
PORTAL_UPLOAD_BODY = 5 * 5 * 1024 * 1024 + 1024 * 1024

# field -> (longest text in characters, its name in a Spanish message)
TEXT_LIMITS: Mapping[str, tuple[int, str]] = {
    "subject": (200, "El asunto"),
    "requester_name": (200, "El nombre del solicitante"),
    "requester_contact": (200, "El contacto del solicitante"),
    "detail": (20_000, "El detalle"),
    "note": (20_000, "La nota"),
}


def unstorable(fields: Mapping[str, object]) -> str | None:
    """A Spanish message for the first field holding a NUL character (PostgreSQL's text
    cannot store one: it was a 500), else None."""
    for name, (_limit, label) in TEXT_LIMITS.items():
        value = fields.get(name)
        if value is not None and "\x00" in str(value):
            return f"{label} contiene un carácter nulo (NUL), que no se puede guardar."
    return None


def too_long(fields: Mapping[str, object]) -> str | None:
    """A Spanish message for the first field past its limit, else None."""
    for name, (limit, label) in TEXT_LIMITS.items():
        value = fields.get(name)
        if value is not None and len(str(value)) > limit:
            return f"{label} tiene {len(str(value))} caracteres; el máximo es {limit}."
    return None
