"""Which files a requester may attach to a request, judged by their content (pure).

A portal upload or a mail attachment arrives with a name and a declared type that the sender
chose; neither is trusted. The type is read from the first bytes (the formats' magic numbers)
and the size is capped, so nothing executable or oversized is stored and every download is
served with the type found here. The name is kept only as a label: no folders, no control
characters, bounded length.

    check_attachment("captura.png", data) -> Accepted("captura.png", "image/png")
    check_attachment("virus.exe", data)   -> AttachmentRefused("«virus.exe»: ese tipo de archivo no se admite...")
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO

from support_link.errors import AttachmentRefused

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 5  # per request, reply or mail
MAX_NAME = 120

# Leading bytes -> type. Order matters only where one prefix contains another (none here).
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Office documents are zip files; what is inside tells which one.
_ZIP_KINDS = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_ODF = {
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
_TEXT_SUFFIXES = {".txt": "text/plain", ".log": "text/plain", ".csv": "text/csv", ".eml": "message/rfc822",
                  ".cfg": "text/plain", ".xml": "text/plain"}
ALLOWED_WORDS = "PDF, imágenes (PNG, JPEG, GIF, WebP), texto (TXT, CSV, LOG), Word, Excel, PowerPoint u OpenDocument"


@dataclass(frozen=True)
class Accepted:
    filename: str
    content_type: str


def clean_filename(name: str) -> str:
    """The last path part, without control characters or quotes, at most MAX_NAME characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.replace('"', "").replace("'", "").strip().lstrip(".")
    if len(base) > MAX_NAME:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: MAX_NAME - len(suffix) - 1] + "." + suffix) if dot and len(suffix) <= 10 else base[:MAX_NAME]
    return base or "adjunto"


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                return kind if kind in _ODF else None
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    for prefix, kind in _ZIP_KINDS:
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
        return controls == 0
    return False  # pragma: no cover - latin-1 decodes anything


def sniff(filename: str, data: bytes) -> str | None:
    """The content's type, or None when it is none of the allowed ones."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    suffix = "." + filename.rpartition(".")[2].lower() if "." in filename else ""
    if suffix in _TEXT_SUFFIXES and _is_text(data):
        return _TEXT_SUFFIXES[suffix]
    return None


def check_attachment(filename: str, data: bytes) -> Accepted:
    """Accepted (clean name, type read from the content), or AttachmentRefused saying why in Spanish."""
    name = clean_filename(filename)
    if not data:
        raise AttachmentRefused(f"«{name}» está vacío.")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(f"«{name}» pesa {len(data) / 1048576:.1f} MB; el máximo por archivo es "
                                f"{MAX_ATTACHMENT_BYTES // 1048576} MB.")
    kind = sniff(name, data)
    if kind is None:
        raise AttachmentRefused(f"«{name}»: ese tipo de archivo no se admite. Se admiten {ALLOWED_WORDS}.")
    return Accepted(name, kind)


def check_count(count: int) -> None:
    if count > MAX_ATTACHMENTS:
        raise AttachmentRefused(f"Se admiten hasta {MAX_ATTACHMENTS} archivos por mensaje; llegaron {count}.")
