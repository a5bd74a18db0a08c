"""Where the files phones write back are kept: the phone_upload table (an adapter).

Every server process stores and reads here, so a file one process took is served by any
other. The caller opens the session (`with sessions.begin()`); writes keep each phone's files
bounded in the same transaction: the newest `keep` of each log kind, the newest override file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.db.models import Device, PhoneUpload
from provisioner.values import UploadKind


@dataclass(frozen=True)
class StoredUpload:
    kind: UploadKind
    body: bytes
    size: int
    source_ip: str
    received_at: datetime


def store_upload(
    session: Session, device_id: int, kind: UploadKind, body: bytes, *, source_ip: str, user_agent: str | None,
    received_at: datetime, keep: int,
) -> bool:
    """Keep this file; True when the phone had none of this kind yet (HTTP 201, else 204)."""
    had = session.scalar(select(PhoneUpload.id).where(PhoneUpload.device_id == device_id,
                                                       PhoneUpload.kind == kind.value).limit(1))
    upload = PhoneUpload(device_id=device_id, kind=kind.value, body=body, size=len(body), source_ip=source_ip,
                         user_agent=user_agent, received_at=received_at)
    session.add(upload)
    session.flush()
    kept = 1 if kind is UploadKind.OVERRIDE else max(1, keep)
    newest = (select(PhoneUpload.id).where(PhoneUpload.device_id == device_id, PhoneUpload.kind == kind.value)
              .order_by(PhoneUpload.id.desc()).limit(kept))
    session.execute(delete(PhoneUpload).where(PhoneUpload.device_id == device_id, PhoneUpload.kind == kind.value,
                                              PhoneUpload.id.not_in(newest.scalar_subquery())))
    return had is None


def override_file(session: Session, device_id: int) -> bytes | None:
    """The phone's override file as it wrote it last, or None."""
    return session.scalar(select(PhoneUpload.body).where(PhoneUpload.device_id == device_id,
                                                          PhoneUpload.kind == UploadKind.OVERRIDE.value)
                          .order_by(PhoneUpload.id.desc()).limit(1))


def device_uploads(session: Session, mac: str) -> list[StoredUpload]:
    """Every file the phone with this MAC has stored, newest first."""
    rows = session.scalars(select(PhoneUpload).join(Device, Device.id == PhoneUpload.device_id)
                           .where(Device.mac == mac).order_by(PhoneUpload.id.desc()))
    return [StoredUpload(UploadKind(r.kind), r.body, r.size, r.source_ip, r.received_at) for r in rows]
