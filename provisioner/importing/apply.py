"""The database side of an import: read the tenant's snapshot, write the plan in bulk.

Everything runs in the caller's session and transaction: a failure or a kill -9 at any
point leaves the previous state (the caller commits once, at the end). Writes are bulk
statements in chunks (executemany / multi-row VALUES), never one ORM object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from provisioner import credentials
from provisioner.db.changes import bump_config_version
from provisioner.db.models import Device, Extension, Tenant
from provisioner.importing.errors import UnknownTenant
from provisioner.importing.plan import CREATED
from provisioner.importing.values import ExistingDevice, ExistingExtension, TenantState, ValidRow

CHUNK = 1000
_IN_CHUNK = 500  # ids / MACs per "IN (...)" list
T = TypeVar("T")

_extension = Extension.__table__
_device = Device.__table__


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def load_state(session: Session, slug: str) -> TenantState:
    """The tenant's extensions and devices, read once (one query each). Locks the tenant row on
    PostgreSQL so two imports for one tenant run one after the other."""
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug).with_for_update())
    if tenant_id is None:
        raise UnknownTenant(f"no tenant with slug {slug!r} (see `provisioner tenant list`)")
    state = TenantState(tenant_id, slug)
    macs: dict[int, str] = {}
    for device_id, mac, model_key in session.execute(
        select(Device.id, Device.mac, Device.model_key).where(Device.tenant_id == tenant_id)
    ):
        state.devices[mac] = ExistingDevice(device_id, mac, model_key)
        macs[device_id] = mac
    for row in session.execute(
        select(Extension.id, Extension.number, Extension.name, Extension.email, Extension.department,
               Extension.permissions, Extension.sip_password, Extension.device_id, Extension.line)
        .where(Extension.tenant_id == tenant_id)
    ):
        mac = macs.get(row.device_id) if row.device_id is not None else None
        state.extensions[row.number] = ExistingExtension(
            row.id, row.number, row.name, row.email, row.department, row.permissions, row.sip_password,
            mac, row.line if mac is not None else None,
        )
    return state


def foreign_macs(session: Session, tenant_id: int, macs: Collection[str]) -> set[str]:
    """Which of `macs` are devices of another tenant (indexed lookups, 500 MACs per query)."""
    found: set[str] = set()
    for batch in chunks(sorted(macs), _IN_CHUNK):
        found.update(session.scalars(select(Device.mac).where(Device.mac.in_(batch), Device.tenant_id != tenant_id)))
    return found


def apply_changes(
    session: Session,
    state: TenantState,
    *,
    removed_ids: Collection[int],
    mover_ids: Collection[int],
    new_devices: dict[str, str],
    changes: Iterable[tuple[str, ValidRow]],
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the plan: removals, new devices, detach moving extensions, then inserts/updates in chunks."""
    now = now or datetime.now(UTC)
    _delete_extensions(session, removed_ids)
    device_ids = _create_devices(session, state, new_devices, now)
    _detach(session, mover_ids)
    for batch in chunks(changes, CHUNK):
        _write_batch(session, state, device_ids, batch)
        if progress is not None:
            progress(len(batch))
    bump_config_version(session)


def _delete_extensions(session: Session, ids: Collection[int]) -> None:
    for batch in chunks(sorted(ids), _IN_CHUNK):
        session.execute(delete(_extension).where(_extension.c.id.in_(batch)))


def _create_devices(session: Session, state: TenantState, new: dict[str, str], now: datetime) -> dict[str, int]:
    rows = [{"tenant_id": state.tenant_id, "mac": mac, "model_key": model, "created_at": now} for mac, model in new.items()]
    for batch in chunks(rows, CHUNK):
        session.execute(insert(_device), batch)
    device_ids = {mac: d.id for mac, d in state.devices.items()}
    if new:
        device_ids.update(session.execute(select(Device.mac, Device.id).where(Device.tenant_id == state.tenant_id)).tuples().all())
    return device_ids


def _detach(session: Session, ids: Collection[int]) -> None:
    """Free the (device, line) of every extension that moves, so the moves can land in any order."""
    for batch in chunks(sorted(ids), _IN_CHUNK):
        session.execute(update(_extension).where(_extension.c.id.in_(batch)).values(device_id=None, line=None))


def _write_batch(session: Session, state: TenantState, device_ids: dict[str, int], batch: list[tuple[str, ValidRow]]) -> None:
    inserts, updates = [], []
    for change, row in batch:
        values = {
            "name": row.name, "email": row.email, "department": row.department, "permissions": row.permissions,
            "device_id": device_ids[row.mac] if row.mac is not None else None, "line": row.line,
        }
        if change == CREATED:
            values.update(
                tenant_id=state.tenant_id, number=row.number,
                sip_auth_user=credentials.sip_auth_user(state.slug, row.number),
                sip_password=row.sip_password or credentials.sip_password(),
            )
            inserts.append(values)
        else:
            values["_id"] = state.extensions[row.number].id
            values["sip_password"] = row.sip_password or state.extensions[row.number].sip_password
            updates.append(values)
    if inserts:
        session.execute(insert(_extension), inserts)
    if updates:
        session.execute(_UPDATE, updates)


_UPDATE = (
    update(_extension)
    .where(_extension.c.id == bindparam("_id"))
    .values(
        name=bindparam("name"), email=bindparam("email"), department=bindparam("department"),
        permissions=bindparam("permissions"), device_id=bindparam("device_id"), line=bindparam("line"),
        sip_password=bindparam("sip_password"),
    )
)
