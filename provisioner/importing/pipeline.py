"""One import, in the order the data flows:

    load the tenant's snapshot -> validate every row (streamed) and classify it
    -> look up MACs owned by other tenants -> whole-file checks
    -> stop here on any problem or --dry-run -> write the plan in bulk

The caller owns the session and its transaction: it commits when `applied` is true and
rolls back otherwise, so nothing is ever half written.

Rows that change something are spooled to an anonymous temporary file between the two
phases (not kept in memory, and the spreadsheet is read only once), so memory does not
grow with the rows' contents.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from provisioner.importing import apply, plan
from provisioner.importing.reader import Table
from provisioner.importing.validate import CatalogLike, Validator
from provisioner.importing.values import SIP_PASSWORD, Problem, TenantState, ValidRow

Progress = Callable[[str, int, int | None], None]  # (phase, rows done since last call, phase total)
_SPOOL_BATCH = 2000
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

    def add(self, change: str, row: ValidRow) -> None:
        self._batch.append((change, *row.as_tuple()))
        self.count += 1
        if len(self._batch) >= _SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def __iter__(self) -> Iterator[tuple[str, ValidRow]]:
        self._flush()
        self._file.seek(0)
        while True:
            try:
                batch = pickle.load(self._file)
            except EOFError:
                return
            for change, *fields in batch:
                yield change, ValidRow(*fields)

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
    state = apply.load_state(session, tenant_slug, with_passwords=table.header.column(SIP_PASSWORD) is not None)
    validator = Validator(table.header, catalog, suspicious_keys, state, replace=replace)
    spool = _Spool()
    try:
        changes: list[dict[str, object]] = []
        counts, movers = _validate(table, validator, state, spool, progress, changes)
        validator.finish(apply.foreign_macs(session, state.tenant_id, validator.macs()))
        gone = plan.removed(state, validator.numbers)
        new_devices = plan.new_devices(state, {mac: model for mac, (model, _row) in validator.mac_models.items()})
        summary = plan.Summary(
            rows=validator.rows_seen, created=counts[plan.CREATED], updated=counts[plan.UPDATED],
            unchanged=counts[plan.UNCHANGED], removed=len(gone) if replace else 0,
            absent=0 if replace else len(gone), devices_created=len(new_devices),
            devices_left_empty=plan.devices_left_empty(state, {m for m, _ in validator.slots}, validator.numbers, replace),
            warnings=len(validator.warnings),
        )
        if replace:
            changes.extend({"row": None, "extension": e.number, "change": "removed"} for e in gone[: max(SAMPLE - len(changes), 0)])
        applied = validator.ok and not dry_run
        if applied and (spool.count or (replace and gone)):  # an idempotent re-import writes nothing at all
            apply.apply_changes(
                session, state, removed_ids=[e.id for e in gone] if replace else [], mover_ids=movers,
                new_devices=new_devices, changes=spool,
                progress=(lambda n: progress("write", n, spool.count)) if progress else None,
            )
    finally:
        spool.close()
    return Report(tenant_slug, file_label, dry_run, replace, applied, summary, validator.problems, validator.warnings,
                  changes if validator.ok else [])


def _validate(
    table: Table, validator: Validator, state: TenantState, spool: _Spool, progress: Progress | None,
    changes: list[dict[str, object]],
) -> tuple[Counter[str], list[int]]:
    counts: Counter[str] = Counter()
    movers: list[int] = []
    done = 0
    if not table.header.usable:
        return counts, movers
    for raw in table.rows():
        row = validator.check(raw)
        done += 1
        if progress is not None and done % 500 == 0:
            progress("validate", 500, table.estimated_rows)
        if row is None:
            continue
        existing = state.extensions.get(row.number)
        change = plan.classify(row, existing)
        counts[change] += 1
        if change == plan.UNCHANGED or not validator.ok:
            continue  # once a problem is known nothing will be written: stop spooling
        if existing is not None and plan.moves(row, existing):
            movers.append(existing.id)
        spool.add(change, row)
        if len(changes) < SAMPLE:
            changes.append({"row": row.row, "extension": row.number, "change": change})
    if progress is not None:
        progress("validate", done % 500, table.estimated_rows)
    return counts, movers
