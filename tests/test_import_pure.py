"""The pure core stays pure; the plan and the export helpers on tables of cases."""

from __future__ import annotations

import subprocess
import sys
from itertools import islice

import pytest

from provisioner import credentials
from provisioner.importing import plan
from provisioner.importing.apply import new_passwords
from provisioner.importing.export import csv_rows, neutralize
from provisioner.importing.reader import clean
from provisioner.importing.scratch import DiskIndex
from provisioner.importing.sample import sample_rows
from provisioner.importing.values import ExistingExtension, TenantState, ValidRow, column_letter
from tests.test_import_support import ROOT

PURE = ["provisioner.importing.validate", "provisioner.importing.plan", "provisioner.importing.values",
        "provisioner.importing.sample", "provisioner.importing.crossrows", "provisioner.importing.words"]
FRAMEWORKS = ["sqlalchemy", "click", "openpyxl", "aiohttp", "tftpy", "pysnmp", "psycopg"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_framework(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


EXISTING = ExistingExtension.of(1, "101", "Ana", "ana@x.co", "Ventas", "internal", "S3cret-password-1234", "001565aabb01", 1)


def _row(**changes: object) -> ValidRow:
    values: dict[str, object] = dict(row=2, number="101", name="Ana", email="ana@x.co", department="Ventas",
                                     permissions="internal", mac="001565aabb01", model_key="yealink-t21p", line=1, sip_password=None)
    values.update(changes)
    return ValidRow(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "existing", "change", "moves"),
    [
        (_row(), None, plan.CREATED, False),
        (_row(), EXISTING, plan.UNCHANGED, False),
        (_row(sip_password="S3cret-password-1234"), EXISTING, plan.UNCHANGED, False),
        (_row(sip_password="Another-password-99"), EXISTING, plan.UPDATED, False),
        (_row(name="Ana María"), EXISTING, plan.UPDATED, False),
        (_row(permissions="internal,local"), EXISTING, plan.UPDATED, False),
        (_row(line=2), EXISTING, plan.UPDATED, True),
        (_row(mac=None, model_key=None, line=None), EXISTING, plan.UPDATED, True),
        (_row(mac="001565aabb02"), EXISTING, plan.UPDATED, True),
    ],
)
def test_classify_and_moves(row: ValidRow, existing: ExistingExtension | None, change: str, moves: bool) -> None:
    assert plan.classify(row, existing) == change
    assert plan.moves(row, existing) is moves


def _state() -> TenantState:
    placed = [
        ExistingExtension.of(1, "101", "A", "", "", "internal", "p", "aaaaaaaaaaaa", 1),
        ExistingExtension.of(2, "102", "B", "", "", "internal", "p", "aaaaaaaaaaaa", 2),
        ExistingExtension.of(3, "103", "C", "", "", "internal", "p", "bbbbbbbbbbbb", 1),
        ExistingExtension.of(4, "104", "D", "", "", "internal", "p", None, None),
    ]
    return TenantState(1, "acme", {e.number: e for e in placed})


@pytest.mark.parametrize(
    ("slot_macs", "numbers", "replace", "empty"),
    [
        ({"aaaaaaaaaaaa", "bbbbbbbbbbbb"}, {"101", "102", "103", "104"}, False, 0),
        ({"aaaaaaaaaaaa"}, {"101", "102", "103"}, False, 1),  # 103 left its phone
        ({"aaaaaaaaaaaa"}, {"101", "102"}, False, 0),  # 103 not in the file: it stays where it is
        ({"aaaaaaaaaaaa"}, {"101", "102"}, True, 1),  # ...unless --replace removes it
        (set(), set(), True, 2),
    ],
)
def test_devices_left_empty(slot_macs: set[str], numbers: set[str], replace: bool, empty: int) -> None:
    assert plan.devices_left_empty(_state(), slot_macs, numbers, replace) == empty


def test_removed_are_the_tenants_extensions_missing_from_the_file() -> None:
    assert [e.number for e in plan.removed(_state(), {"101", "104"})] == ["102", "103"]


def _disk(slot_macs: set[str], numbers: set[str]) -> DiskIndex:
    """The on-disk index holding _state() and a file with `numbers`, placing a phone on each of `slot_macs`."""
    index = DiskIndex()
    index.add_extensions(_state().extensions.values())
    index.add_devices([(1, "aaaaaaaaaaaa", "yealink-t21p"), (2, "bbbbbbbbbbbb", "yealink-t21p")])
    index.snapshot_loaded()
    index.prefetch(numbers, slot_macs | {"cccccccccccc"})
    for row, number in enumerate(sorted(numbers), start=2):
        index.first_row(number, row)
    for line, mac in enumerate(sorted(slot_macs), start=1):
        index.mac_model(mac, "yealink-t21p", 2)
        index.claim_slot(mac, line, sorted(numbers)[0])
    index.mac_model("cccccccccccc", "yealink-t21p", 2)  # a phone the tenant does not have yet
    index.flush()
    return index


@pytest.mark.parametrize(
    ("slot_macs", "numbers"),
    [({"aaaaaaaaaaaa", "bbbbbbbbbbbb"}, {"101", "102", "103", "104"}), ({"aaaaaaaaaaaa"}, {"101", "102", "103"}),
     ({"aaaaaaaaaaaa"}, {"101", "102"}), (set(), {"105"}), ({"bbbbbbbbbbbb"}, {"104"})],
)
@pytest.mark.parametrize("replace", [False, True])
def test_the_disk_index_plans_what_the_pure_plan_does(slot_macs: set[str], numbers: set[str], replace: bool) -> None:
    with _disk(slot_macs, numbers) as index:
        assert index.devices_left_empty(replace) == plan.devices_left_empty(_state(), slot_macs, numbers, replace)
        gone = [e.number for e in plan.removed(_state(), numbers)]
        assert [number for _id, number in index.removed()] == gone
        assert index.removed_count() == len(gone)
        assert list(index.removed(1)) == [(_state().extensions[n].id, n) for n in gone[:1]]
        assert list(index.new_devices()) == [("cccccccccccc", "yealink-t21p")] and index.new_devices_count() == 1


def test_bulk_passwords_have_the_shape_of_credentials_passwords() -> None:
    reference = credentials.sip_password()
    made = list(islice(new_passwords(), 5000))
    assert all(len(p) == len(reference) and p.isascii() and p.isalnum() for p in made)
    assert len(set(made)) == len(made)
    symbols = set("".join(made))
    assert len(symbols) == 62  # every letter and digit appears: no part of the alphabet is lost


@pytest.mark.parametrize("text", ["=1+1", "+57", "-x", "@a", "'=x", "''+x", "'", "Ana", "", "O'Brien", "a=b"])
def test_neutralize_then_clean_round_trips(text: str) -> None:
    assert clean(neutralize(text)) == text.strip()


def test_csv_rows_leave_passwords_out_unless_asked() -> None:
    record = ("101", "Ana", "", "", "internal", "001565aabb01", "yealink-t21p", 1, "acme-101", "secret-password")
    assert list(csv_rows([record], {"yealink-t21p": "T21P"}, False)) == [
        ["extension", "name", "email", "department", "permissions", "mac", "model", "line", "sip_user"],
        ["101", "Ana", "", "", "internal", "00:15:65:AA:BB:01", "T21P", "1", "acme-101"],
    ]
    assert list(csv_rows([record], {}, True))[1][-1] == "secret-password"


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index: int, letter: str) -> None:
    assert column_letter(index) == letter


def test_sample_rows_are_unique_and_fill_multi_line_phones() -> None:
    rows = list(sample_rows(2000, phones=(("GXP1630", "000b82", 3),)))
    assert len({r[0] for r in rows}) == 2000
    lines_per_mac: dict[str, list[str]] = {}
    for r in rows:
        if r[6]:
            lines_per_mac.setdefault(r[6].replace(":", "").replace("-", "").replace(".", "").lower(), []).append(r[8])
    assert all(sorted(lines) == ["1", "2", "3"][: len(lines)] for lines in lines_per_mac.values())
