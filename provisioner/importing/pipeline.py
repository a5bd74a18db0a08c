"""One import, in the order the data flows:

    load the tenant's snapshot -> validate every row (streamed) and classify it
    -> look up MACs owned by other tenants -> whole-file checks
    -> stop here on any problem or --dry-run -> write the plan in bulk

The caller owns the session and its transaction: it commits when `applied` is true and
rolls back otherwise, so nothing is ever half written.

Memory stays flat in the number of rows: the rows are read in chunks of CHUNK; the tenant's
snapshot and the indexes across rows (duplicate numbers, MAC models, taken lines) live in a
temporary on-disk SQLite database (scratch.DiskIndex) of which only the current chunk's keys
are in memory; rows that change something are spooled to an anonymous temporary file between
the two phases (the spreadsheet is read only once); every list the writer needs (removals,
movers, new phones) is streamed from the scratch database.
"""

from __future__ import annotations

import pickle  # nosec B403 - reads back only the spool file this import wrote itself
from itertools import islice
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from provisioner.importing import apply, plan
from provisioner.importing.reader import Table
from provisioner.importing.scratch import DiskIndex
from provisioner.importing.validate import CatalogLike, Validator
from provisioner.importing.values import SIP_PASSWORD, Problem, RawRow, ValidRow

Progress = Callable[[str, int, int | None], None]  # (phase, rows done since last call, phase total)
_SPOOL_BATCH = 2000
CHUNK = 2000  # rows validated per window of the on-disk index
SAMPLE = 200  # changes listed one by one in a report (the counts cover all)


@dataclass
class Report:
    tenant: str
    file: str
    dry_run: bool
    replace: bool
    applied: bool
    summary: plan.Summary
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    changes: list[dict[str, object]] = field(default_factory=list)  # the first SAMPLE created/updated/removed

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "tenant": self.tenant, "file": self.file, "dry_run": self.dry_run, "replace": self.replace,
            "applied": self.applied, "ok": self.ok, "summary": self.summary.as_dict(),
            "problems": [p.as_dict() for p in self.problems], "warnings": [w.as_dict() for w in self.warnings],
            "changes": self.changes,
        }


class _Spool:
    """Changed rows, written to an unnamed temporary file in pickled batches and read back once."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()
        self._batch: list[tuple[object, ...]] = []
        self.count = 0

    def add(self, change: str, existing_id: int | None, row: ValidRow) -> None:
        self._batch.append((change, existing_id, *row.as_tuple()))
        self.count += 1
        if len(self._batch) >= _SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def __iter__(self) -> Iterator[tuple[str, int | None, ValidRow]]:
        self._flush()
        self._file.seek(0)
        while True:
            try:
                batch = pickle.load(self._file)  # nosec B301 - our own spool file, unlinked and private to this process
            except EOFError:
                return
            for change, existing_id, *fields in batch:
                yield change, existing_id, ValidRow(*fields)

    def close(self) -> None:
        self._file.close()


def import_extensions(
    session: Session,
    table: Table,
    tenant_slug: str,
    catalog: CatalogLike,
    suspicious_keys: Collection[str],
    *,
    file_label: str = "",
    dry_run: bool = False,
    replace: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Validate the whole table and, when it is clean and not a dry run, write it. Never commits."""
    with DiskIndex() as index:
        tenant_id = apply.load_snapshot(session, tenant_slug, index,
                                        with_passwords=table.header.column(SIP_PASSWORD) is not None)
        validator = Validator(table.header, catalog, suspicious_keys, index, replace=replace,
                              new_user=apply.new_user_maker(session, tenant_id, tenant_slug))
        spool = _Spool()
        try:
            changes: list[dict[str, object]] = []
            counts = _validate(table, validator, index, spool, progress, changes)
            validator.finish(_foreign_macs(session, tenant_id, index))
            removed = index.removed_count()
            summary = plan.Summary(
                rows=validator.rows_seen, created=counts[plan.CREATED], updated=counts[plan.UPDATED],
                unchanged=counts[plan.UNCHANGED], removed=removed if replace else 0,
                absent=0 if replace else removed, devices_created=index.new_devices_count(),
                devices_left_empty=index.devices_left_empty(replace), warnings=len(validator.warnings),
            )
            if replace and len(changes) < SAMPLE:
                changes.extend({"row": None, "extension": number, "change": "removed"}
                               for _id, number in index.removed(SAMPLE - len(changes)))
            applied = validator.ok and not dry_run
            if applied and (spool.count or (replace and removed)):  # an idempotent re-import writes nothing at all
                apply.apply_changes(
                    session, tenant_id, tenant_slug, index,
                    removed_ids=(id_ for id_, _number in index.removed()) if replace else (),
                    mover_ids=index.movers(), new_devices=index.new_devices(), changes=spool,
                    progress=(lambda n: progress("write", n, spool.count)) if progress else None,
                )
        finally:
            spool.close()
    return Report(tenant_slug, file_label, dry_run, replace, applied, summary, validator.problems, validator.warnings,
                  changes if validator.ok else [])


def _foreign_macs(session: Session, tenant_id: int, index: DiskIndex) -> set[str]:
    """The file's MACs that are another tenant's phones, looked up in batches."""
    found: set[str] = set()
    for batch in apply.chunks(index.macs(), apply.IN_CHUNK):
        found |= apply.foreign_macs(session, tenant_id, batch)
    return found


def _validate(
    table: Table, validator: Validator, index: DiskIndex, spool: _Spool, progress: Progress | None,
    changes: list[dict[str, object]],
) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not table.header.usable:
        return counts
    rows = table.rows()
    while chunk := list(islice(rows, CHUNK)):
        validator.prefetch(chunk)
        for raw in chunk:
            _one_row(raw, validator, index, spool, counts, changes)
        validator.flush()
        if progress is not None:
            progress("validate", len(chunk), table.estimated_rows)
    return counts


def _one_row(raw: RawRow, validator: Validator, index: DiskIndex, spool: _Spool, counts: Counter[str],
             changes: list[dict[str, object]]) -> None:
    row = validator.check(raw)
    if row is None:
        return
    existing = index.existing(row.number)
    change = plan.classify(row, existing)
    counts[change] += 1
    if change == plan.UNCHANGED or not validator.ok:
        return  # once a problem is known nothing will be written: stop spooling
    if existing is not None and plan.moves(row, existing):
        index.add_mover(existing.id)
    spool.add(change, existing.id if existing is not None else None, row)
    if len(changes) < SAMPLE:
        changes.append({"row": row.row, "extension": row.number, "change": change})
