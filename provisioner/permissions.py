"""Call permissions of an extension: a fixed set, English or Spanish names (pure)."""

from __future__ import annotations

import re
import unicodedata

PERMISSIONS = ("internal", "local", "national", "mobile", "international")  # canonical order

_SYNONYMS = {
    "internal": "internal", "interno": "internal", "interna": "internal", "internas": "internal",
    "local": "local", "locales": "local",
    "national": "national", "nacional": "national", "nacionales": "national",
    "mobile": "mobile", "movil": "mobile", "celular": "mobile", "celulares": "mobile", "moviles": "mobile",
    "international": "international", "internacional": "international", "internacionales": "international",
}


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().strip().lower()


def parse_permissions(text: str) -> str:
    """'Nacional; celular' -> 'national,mobile' (canonical order). Raises ValueError naming the bad word."""
    words = [w for w in re.split(r"[;,|]", text or "") if w.strip()]
    found = set()
    for word in words:
        canonical = _SYNONYMS.get(_fold(word))
        if canonical is None:
            raise ValueError(f"permiso desconocido {word.strip()!r} (permitidos: {', '.join(PERMISSIONS)})")
        found.add(canonical)
    if not found:
        found.add("internal")
    return ",".join(p for p in PERMISSIONS if p in found)
