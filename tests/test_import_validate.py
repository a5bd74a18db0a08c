"""Every validation rule, each with a file that breaks it and the exact message (pure: no database).

Files are CSV text run through the real reader; the catalog is the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import islice

import pytest

from firmware_catalog import load_catalog
from provisioner.importing.reader import open_table
from provisioner.importing.scratch import DiskIndex
from provisioner.importing.validate import Validator
from provisioner.importing.values import ExistingDevice, ExistingExtension, TenantState, ValidRow
from tests.test_import_support import csv_text

HEADER = ["extension", "name", "email", "department", "permissions", "mac", "model", "line", "sip_password"]
CATALOG = load_catalog()


def _key(token: str) -> str:
    entry = CATALOG.find(token)
    assert entry is not None, token
    return entry.key


def _state(extensions: Sequence[ExistingExtension] = (), devices: Sequence[ExistingDevice] = ()) -> TenantState:
    return TenantState(1, "acme", {e.number: e for e in extensions}, {d.mac: d for d in devices})


def validate(
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] = HEADER,
    state: TenantState | None = None,
    foreign: Sequence[str] = (),
    suspicious: frozenset[str] = frozenset(),
    replace: bool = False,
    new_user: Callable[[str], str] | None = None,
) -> tuple[list[str], list[str], list[ValidRow]]:
    """(problems, warnings, valid rows) for a CSV made of header + rows.

    Run twice: with the in-memory index, and with the on-disk one the import uses, in windows
    of 2 rows (so lookups cross windows); both must find exactly the same."""
    data = csv_text([list(header), *[list(r) for r in rows]]).encode()
    memory = _run(data, state or _state(), None, foreign, suspicious, replace, new_user)
    with _disk(state or _state()) as index:
        disk = _run(data, index, 2, foreign, suspicious, replace, new_user)
    assert disk == memory
    return memory


def _run(data: bytes, index: TenantState | DiskIndex, window: int | None, foreign: Sequence[str],
         suspicious: frozenset[str], replace: bool,
         new_user: Callable[[str], str] | None = None) -> tuple[list[str], list[str], list[ValidRow]]:
    with open_table(data, "lista.csv") as table:
        validator = Validator(table.header, CATALOG, suspicious, index, replace=replace, new_user=new_user)
        valid: list[ValidRow] = []
        rows = table.rows()
        while chunk := list(islice(rows, window or 10_000)):
            validator.prefetch(chunk)
            valid.extend(row for raw in chunk if (row := validator.check(raw)) is not None)
            validator.flush()
        validator.finish(set(foreign) & validator.macs())
    return [str(p) for p in validator.problems], [str(w) for w in validator.warnings], valid


def _disk(state: TenantState) -> DiskIndex:
    index = DiskIndex()
    index.add_devices((d.id, d.mac, d.model_key) for d in state.devices.values())
    index.add_extensions(state.extensions.values())
    index.snapshot_loaded()
    return index


def problems(*rows: Sequence[object], **options: object) -> list[str]:
    return validate(rows, **options)[0]  # type: ignore[arg-type]


GOOD = ["101", "Ana Gómez", "ana@empresa.com.co", "Ventas", "interno", "00:15:65:AA:BB:01", "T21P", "1", ""]


def row(**changes: str) -> list[str]:
    values = dict(zip(HEADER, GOOD, strict=True))
    values.update(changes)
    return [values[h] for h in HEADER]


def test_a_good_row_is_stored_in_canonical_form() -> None:
    found, warnings, valid = validate([row(permissions="Nacional; celular|INTERNO")])
    assert (found, warnings) == ([], [])
    assert valid == [ValidRow(2, "101", "Ana Gómez", "ana@empresa.com.co", "Ventas", "internal,national,mobile",
                              "001565aabb01", _key("T21P"), 1, None)]


# -- each rule, one file that breaks it, the exact message -----------------------------------
@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (row(extension=""), "row 2, column extension (A2): extension is empty"),
        (row(extension="10a"), "row 2, column extension (A2): '10a' is not an extension number: use 2 to 6 digits"),
        (row(extension="7"), "row 2, column extension (A2): '7' is not an extension number: use 2 to 6 digits"),
        (row(extension="1234567"), "row 2, column extension (A2): '1234567' is not an extension number: use 2 to 6 digits"),
        (row(extension="１０１"), "row 2, column extension (A2): '１０１' is not an extension number: use 2 to 6 digits"),
        (row(name=""), "row 2, column name (B2): name is empty"),
        (row(name="Ana\nGómez"), "row 2, column name (B2): name contains a control character (tab, line break...)"),
        (row(name="Ana\tGómez"), "row 2, column name (B2): name contains a control character (tab, line break...)"),
        (row(name="A" * 201), "row 2, column name (B2): name is longer than 200 characters"),
        (row(email="ana@"), "row 2, column email (C2): 'ana@' is not a valid e-mail address"),
        (row(email="ana gomez@empresa.co"), "row 2, column email (C2): 'ana gomez@empresa.co' is not a valid e-mail address"),
        (row(email="ana@empresa"), "row 2, column email (C2): 'ana@empresa' is not a valid e-mail address"),
        (row(email="ana..g@empresa.co"), "row 2, column email (C2): 'ana..g@empresa.co' is not a valid e-mail address"),
        (row(department="Ventas\x07"), "row 2, column department (D2): department contains a control character (tab, line break...)"),
        (row(permissions="nacional;satelital"),
         "row 2, column permissions (E2): unknown permission 'satelital' (allowed: internal, local, national, mobile, international)"),
        (row(mac="00:15:65"), "row 2, column mac (F2): '00:15:65' is not a MAC address (12 hex digits, e.g. 00:15:65:AA:BB:CC)"),
        (row(mac="00:15:65:AA:BB:GG"), "row 2, column mac (F2): '00:15:65:AA:BB:GG' is not a MAC address (12 hex digits, e.g. 00:15:65:AA:BB:CC)"),
        (row(mac="00:00:00:00:00:00"), "row 2, column mac (F2): '00:00:00:00:00:00' is all zeros, not a phone's MAC"),
        (row(mac="FF-FF-FF-FF-FF-FF"), "row 2, column mac (F2): 'FF-FF-FF-FF-FF-FF' is the broadcast address, not a phone's MAC"),
        (row(model="T46S"), "row 2, column model (G2): 'T46S' is not a homologated model (see `provisioner catalog list`)"),
        (row(model="Wave Android"), "row 2, column model (G2): Grandstream Wave Android is a mobile app, not provisioned by MAC: "
                                    "give its model without a MAC and without a line"),
        (row(model="Jitsi Windows"), "row 2, column model (G2): Jitsi Windows is a softphone app, not provisioned by MAC: "
                                     "give its model without a MAC and without a line"),
        (row(model=""), "row 2, column model (G2): model is empty: a phone's MAC needs its model (e.g. T21P, GXP1620, VVX600)"),
        (row(line="0"), "row 2, column line (H2): '0' is not a line number: the T21P may hold line 1 only (homologated for 1 line)"),
        (row(line="uno"), "row 2, column line (H2): 'uno' is not a line number: the T21P may hold line 1 only (homologated for 1 line)"),
        (row(line="2"), "row 2, column line (H2): line 2 is not available: the T21P may hold line 1 only (homologated for 1 line)"),
        (row(mac="000b82aabb02", model="GXP1620", line="3"),
         "row 2, column line (H2): line 3 is not available: the GXP1620 may hold lines 1 to 2 (homologated for 2 lines)"),
        (row(mac="000b82aabb02", model="GXP1610", line="2"),  # the device has 1 account (issue 15 item 1)
         "row 2, column line (H2): line 2 is not available: the GXP1610 may hold line 1 only "
         "(homologated for 2 lines, but the device has 1 SIP account)"),
        (row(sip_password="corta"), "row 2, column sip_password (I2): sip_password must be 8 to 128 printable characters without spaces"),
        (row(sip_password="con espacio 123"), "row 2, column sip_password (I2): sip_password must be 8 to 128 printable characters without spaces"),
    ],
)
def test_each_broken_rule_has_its_message(bad_row: list[str], message: str) -> None:
    assert problems(bad_row) == [message]


def test_a_password_is_never_echoed() -> None:
    found = problems(row(sip_password="mi clave secreta"))
    assert found and all("mi clave" not in p for p in found)


def test_an_extension_repeated_in_the_file() -> None:
    assert problems(row(), row(mac="000b82aabb02", model="GXP1620"), row(extension="102", mac="")) == [
        "row 3, column extension (A3): extension 101 is repeated: it is already on row 2",
    ]


def test_a_repeated_extension_is_reported_even_when_that_row_has_other_problems() -> None:
    assert problems(row(mac=""), row(mac="", email="x@")) == [
        "row 3, column extension (A3): extension 101 is repeated: it is already on row 2",
        "row 3, column email (C3): 'x@' is not a valid e-mail address",
    ]


def test_two_extensions_on_the_same_mac_and_line() -> None:
    assert problems(
        row(mac="000b82aabb02", model="GXP1620", line="1"),
        row(extension="102", mac="00-0b-82-aa-bb-02", model="GXP1620", line="1"),
    ) == ["row 3, column line (H3): line 1 of MAC 00:0B:82:AA:BB:02 is already taken by extension 101 on row 2"]


def test_a_mac_always_with_the_same_model_in_the_file() -> None:
    assert problems(
        row(mac="000b82aabb02", model="GXP1620", line="1"),
        row(extension="102", mac="000b82aabb02", model="GXP1630", line="2"),
    ) == ["row 3, column model (G3): MAC 00:0B:82:AA:BB:02 is a GXP1620 on row 2: one phone cannot also be a GXP1630"]


def test_a_mac_keeps_the_model_it_is_registered_with() -> None:
    state = _state(devices=[ExistingDevice(7, "001565aabb01", _key("GXP1620"))])
    assert problems(row(), state=state) == [
        "row 2, column model (G2): MAC 00:15:65:AA:BB:01 is registered as a GXP1620, not a T21P",
    ]


def test_an_empty_model_is_taken_from_the_registered_phone() -> None:
    state = _state(devices=[ExistingDevice(7, "001565aabb01", _key("T21P"))])
    found, _, valid = validate([row(model="")], state=state)
    assert found == [] and valid[0].model_key == _key("T21P")


def test_a_mac_of_another_customer() -> None:
    assert problems(row(), row(extension="102", mac="001565aabb03"), foreign=["001565aabb01"]) == [
        "row 2, column mac (F2): MAC 00:15:65:AA:BB:01 belongs to another customer's phone",
    ]


def test_a_line_held_by_an_extension_that_is_not_in_the_file() -> None:
    state = _state(
        [ExistingExtension.of(5, "150", "Luis", "", "", "internal", "s" * 20, "001565aabb01", 1)],
        [ExistingDevice(7, "001565aabb01", _key("T21P"))],
    )
    assert problems(row(), state=state) == [
        "row 2, column line (H2): line 1 of MAC 00:15:65:AA:BB:01 carries extension 150, which is not in this file "
        "(add that extension with its new place, or import with --replace to remove it)",
    ]
    assert problems(row(), state=state, replace=True) == []
    assert problems(row(), row(extension="150", mac=""), state=state) == []  # 150 moves off the phone


@pytest.mark.parametrize("notation", ["00:15:65:AA:BB:01", "00-15-65-aa-bb-01", "001565aabb01", "0015.65aa.bb01"])
def test_every_common_mac_notation_is_normalized(notation: str) -> None:
    assert validate([row(mac=notation)])[2][0].mac == "001565aabb01"


@pytest.mark.parametrize("alias", ["T21P", "SIP-T21P", "Yealink T21P"])
def test_model_aliases_name_the_same_catalog_row(alias: str) -> None:
    assert validate([row(model=alias)])[2][0].model_key == _key("T21P")


def test_first_and_last_name_columns_make_the_name() -> None:
    header = ["extensión", "nombres", "apellidos"]
    assert validate([["101", "José", "Muñoz Peña"]], header=header)[2][0].name == "José Muñoz Peña"
    assert problems(["101", "", ""], header=header) == ["row 2, column nombres (B2): name is empty"]


def test_a_suspicious_catalog_model_loads_with_one_warning() -> None:
    key = _key("GXP1620")
    found, warnings, valid = validate(
        [row(mac="000b82aabb02", model="GXP1620"), row(extension="102", mac="000b82aabb02", model="GXP1620", line="2")],
        suspicious=frozenset({key}),
    )
    assert found == [] and len(valid) == 2
    assert warnings == [
        "row 2, column model (G2): GXP1620: the catalog's data for this model looks wrong (`provisioner catalog check`); "
        "loaded anyway (2 rows, first here)",
    ]


def test_model_and_line_without_a_mac_are_ignored_with_one_warning_each() -> None:
    found, warnings, valid = validate([row(mac="", line="1"), row(extension="102", mac="", line="")])
    assert found == [] and [v.mac for v in valid] == [None, None]
    assert warnings == [
        "row 2, column model (G2): model given without a MAC on 2 rows (first here): ignored, those extensions get no phone yet",
        "row 2, column line (H2): line given without a MAC on 1 row (first here): ignored, those extensions get no phone yet",
    ]


def test_every_problem_of_every_row_at_once_in_sheet_order() -> None:
    found = problems(
        row(extension="1", email="nope", permissions="todo"),
        row(extension="102", mac="001565aabb09", model="T99", line="4"),
        row(extension="103", name="", mac="0"),
    )
    assert found == [
        "row 2, column extension (A2): '1' is not an extension number: use 2 to 6 digits",
        "row 2, column email (C2): 'nope' is not a valid e-mail address",
        "row 2, column permissions (E2): unknown permission 'todo' (allowed: internal, local, national, mobile, international)",
        "row 3, column model (G3): 'T99' is not a homologated model (see `provisioner catalog list`)",
        "row 4, column name (B4): name is empty",
        "row 4, column mac (F4): '0' is not a MAC address (12 hex digits, e.g. 00:15:65:AA:BB:CC)",
    ]


def test_header_problems_come_first_and_stop_nothing_else() -> None:
    found, warnings, _ = validate([["101", "Ana", "x"]], header=["extension", "name", "Cargo"])
    assert found == []
    assert warnings == ["row 1, column Cargo (C1): column 'Cargo' is not used and was ignored"]


USER_HEADER = ["extension", "name", "sip_user"]
STORED_101 = ExistingExtension.of(1, "101", "Ana", "", "", "internal", None, None, None, None, "ana-pbx")


def test_sip_users_across_rows_windows_and_the_stored_ones() -> None:
    """Windows of 2 rows on disk: a user claimed on row 2 is still seen on row 6."""
    found, _, valid = validate(
        [["101", "Ana", "ana-pbx"], ["102", "Luis", "luis"], ["103", "Eva", ""], ["104", "Leo", "x"], ["105", "Rosa", "luis"],
         ["106", "Tom", "ana-pbx"], ["101", "Ana", "otra"], ["107", "Sol", "acme-103"], ["108", "Mar", "sin espacios no"]],
        header=USER_HEADER, state=_state([STORED_101]), new_user=lambda n: f"acme-{n}",
    )
    assert found == [
        "row 6, column sip_user (C6): SIP user 'luis' belongs to extension 102 (on row 3)",
        "row 7, column sip_user (C7): SIP user 'ana-pbx' belongs to extension 101 (on row 2)",
        "row 8, column extension (A8): extension 101 is repeated: it is already on row 2",
        "row 9, column sip_user (C9): SIP user 'acme-103' belongs to extension 103 (on row 4)",
        "row 10, column sip_user (C10): SIP user 'sin espacios no' must be 1-64 characters: "
        "letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /",
    ]
    assert [(r.number, r.sip_user) for r in valid[:3]] == [("101", "ana-pbx"), ("102", "luis"), ("103", None)]


def test_a_stored_sip_user_is_never_renamed() -> None:
    assert problems(["101", "Ana", "101"], header=USER_HEADER, state=_state([STORED_101])) == [
        "row 2, column sip_user (C2): extension 101 already has SIP user 'ana-pbx', not '101': an import never renames "
        "an account (put the stored user in the file, or delete and re-create the extension once the PBX has the new one)"
    ]
    assert problems(["101", "Ana", "ana-pbx"], header=USER_HEADER, state=_state([STORED_101])) == []
    assert problems(["101", "Ana", ""], header=USER_HEADER, state=_state([STORED_101])) == []  # empty: keep it


def test_spanish_headers_name_the_sip_user() -> None:
    for name in ("Usuario SIP", "usuario_sip", "SIP user", "sip_username"):
        [row] = validate([["101", "Ana", "101"]], header=["Extensión", "Nombre", name])[2]
        assert row.sip_user == "101", name


def test_the_sample_list_with_pbx_users_validates() -> None:
    import io

    from provisioner.importing.sample import write_sample_csv

    out = io.StringIO()
    write_sample_csv(out, 60, sip_users=True)
    with open_table(out.getvalue().encode("utf-8-sig"), "muestra.csv") as table:
        validator = Validator(table.header, CATALOG, frozenset(), _state(), new_user=lambda n: f"acme-{n}")
        valid = [row for raw in table.rows() if (row := validator.check(raw)) is not None]
        validator.finish(set())
    assert validator.problems == [] and len(valid) == 60
    assert all(row.sip_user == row.number for row in valid)  # "Usuario SIP" read as sip_user
