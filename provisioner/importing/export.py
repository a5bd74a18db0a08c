"""A tenant's extensions as a CSV the importer reads back to the same state.

Cells that a spreadsheet would run as a formula (starting with =, +, - or @, also after
apostrophes) get one leading apostrophe; reader.clean() removes exactly one again, so
export -> import round-trips every value. SIP passwords are left out unless asked for.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioner.db.models import Device, Extension
from provisioner.importing.apply import load_state
from provisioner.importing.validate import CatalogLike
from provisioner.importing.values import display_mac
from provisioner.softphones import SOFTPHONE_KINDS, full_model

# sip_user is always written (not a secret): an export re-imported elsewhere keeps the PBX's accounts.
COLUMNS = ("extension", "name", "email", "department", "permissions", "mac", "model", "line", "sip_user")
_FORMULA = re.compile(r"'*[=+\-@]")


def neutralize(text: str) -> str:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)" (a spreadsheet shows it as text, never runs it)."""
    return "'" + text if _FORMULA.match(text) else text


def model_label(catalog: CatalogLike, key: str, candidates: Iterable[str]) -> str:
    """The first name for a catalog row that the importer maps back to that same row."""
    for candidate in candidates:
        entry = catalog.find(candidate)
        if entry is not None and entry.key == key:
            return candidate
    return key


def csv_rows(records: Iterable[tuple[object, ...]], labels: dict[str, str], with_passwords: bool) -> Iterator[list[str]]:
    """(number, name, email, department, permissions, mac, model_key, line, sip user, password) -> CSV cells (pure)."""
    yield [*COLUMNS, "sip_password"] if with_passwords else list(COLUMNS)
    for number, name, email, department, permissions, mac, model_key, line, user, password in records:
        cells = [
            str(number), str(name), str(email), str(department), str(permissions),
            display_mac(str(mac)) if mac else "", labels.get(str(model_key), str(model_key)) if model_key else "",
            str(line) if mac and line is not None else "", str(user),
        ]
        if with_passwords:
            cells.append(str(password))
        yield [neutralize(c) for c in cells]


def export_extensions(
    session: Session, slug: str, out: TextIO, catalog: CatalogLike, *, with_passwords: bool = False, separator: str = ","
) -> int:
    """Write the tenant's extensions (in numeric order) to `out`; returns how many."""
    state = load_state(session, slug)
    query = (
        select(Extension.number, Extension.name, Extension.email, Extension.department, Extension.permissions,
               Device.mac, func.coalesce(Device.model_key, Extension.softphone), Extension.line, Extension.sip_auth_user,
               Extension.sip_password)
        .outerjoin(Device, Extension.device_id == Device.id)
        .where(Extension.tenant_id == state.tenant_id)
        .order_by(func.length(Extension.number), Extension.number)
    )
    keys = {d.model_key for d in state.devices.values()} | set(  # softphone apps are named like phones
        session.scalars(select(Extension.softphone).where(Extension.tenant_id == state.tenant_id, Extension.softphone.is_not(None)).distinct()))
    labels = {key: model_label(catalog, key, _candidates(catalog, key)) for key in keys if key}
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    count = -1
    for count, cells in enumerate(csv_rows(session.execute(query.execution_options(yield_per=2000)), labels, with_passwords)):
        writer.writerow(cells)
    return count


def _candidates(catalog: CatalogLike, key: str) -> list[str]:
    entry = next((e for e in getattr(catalog, "entries", ()) if e.key == key), None)
    if entry is None:
        return [key]
    if entry.kind in SOFTPHONE_KINDS:  # "Jitsi Windows", not a bare "Windows"
        return [full_model(entry), entry.model, *entry.aliases, key]
    return [entry.model, f"{entry.vendor.title()} {entry.model}", *entry.aliases, key]
