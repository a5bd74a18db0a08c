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
        (row(extension=""), "fila 2, columna extension (A2): la extensión está vacía"),
        (row(extension="10a"), "fila 2, columna extension (A2): '10a' no es un número de extensión: use de 2 a 6 dígitos"),
        (row(extension="7"), "fila 2, columna extension (A2): '7' no es un número de extensión: use de 2 a 6 dígitos"),
        (row(extension="1234567"), "fila 2, columna extension (A2): '1234567' no es un número de extensión: use de 2 a 6 dígitos"),
        (row(extension="１０１"), "fila 2, columna extension (A2): '１０１' no es un número de extensión: use de 2 a 6 dígitos"),
        (row(name=""), "fila 2, columna name (B2): el nombre está vacío"),
        (row(name="Ana\nGómez"), "fila 2, columna name (B2): el nombre contiene un carácter de control (tabulador, salto de línea...)"),
        (row(name="Ana\tGómez"), "fila 2, columna name (B2): el nombre contiene un carácter de control (tabulador, salto de línea...)"),
        (row(name="A" * 201), "fila 2, columna name (B2): el nombre tiene más de 200 caracteres"),
        (row(email="ana@"), "fila 2, columna email (C2): 'ana@' no es un correo electrónico válido"),
        (row(email="ana gomez@empresa.co"), "fila 2, columna email (C2): 'ana gomez@empresa.co' no es un correo electrónico válido"),
        (row(email="ana@empresa"), "fila 2, columna email (C2): 'ana@empresa' no es un correo electrónico válido"),
        (row(email="ana..g@empresa.co"), "fila 2, columna email (C2): 'ana..g@empresa.co' no es un correo electrónico válido"),
        (row(department="Ventas\x07"), "fila 2, columna department (D2): el departamento contiene un carácter de control (tabulador, salto de línea...)"),
        (row(permissions="nacional;satelital"),
         "fila 2, columna permissions (E2): permiso desconocido 'satelital' (permitidos: internal, local, national, mobile, international)"),
        (row(mac="00:15:65"), "fila 2, columna mac (F2): '00:15:65' no es una dirección MAC (12 dígitos hexadecimales, p. ej. 00:15:65:AA:BB:CC)"),
        (row(mac="00:15:65:AA:BB:GG"), "fila 2, columna mac (F2): '00:15:65:AA:BB:GG' no es una dirección MAC (12 dígitos hexadecimales, p. ej. 00:15:65:AA:BB:CC)"),
        (row(mac="00:00:00:00:00:00"), "fila 2, columna mac (F2): '00:00:00:00:00:00' es todo ceros, no la MAC de un teléfono"),
        (row(mac="FF-FF-FF-FF-FF-FF"), "fila 2, columna mac (F2): 'FF-FF-FF-FF-FF-FF' es la dirección de difusión (broadcast), no la MAC de un teléfono"),
        (row(model="T46S"), "fila 2, columna model (G2): 'T46S' no es un modelo homologado (vea `provisioner catalog list`)"),
        (row(model="Wave Android"), "fila 2, columna model (G2): Grandstream Wave Android es una aplicación móvil, no se aprovisiona por MAC: "
                                    "indique su modelo sin MAC y sin línea"),
        (row(model="Jitsi Windows"), "fila 2, columna model (G2): Jitsi Windows es una aplicación de escritorio (softphone), no se aprovisiona por MAC: "
                                     "indique su modelo sin MAC y sin línea"),
        (row(model=""), "fila 2, columna model (G2): falta el modelo: la MAC de un teléfono necesita su modelo (p. ej. T21P, GXP1620, VVX600)"),
        (row(line="0"), "fila 2, columna line (H2): '0' no es un número de línea: el T21P admite solo la línea 1 (homologado para 1 línea)"),
        (row(line="uno"), "fila 2, columna line (H2): 'uno' no es un número de línea: el T21P admite solo la línea 1 (homologado para 1 línea)"),
        (row(line="2"), "fila 2, columna line (H2): la línea 2 no está disponible: el T21P admite solo la línea 1 (homologado para 1 línea)"),
        (row(mac="000b82aabb02", model="GXP1620", line="3"),
         "fila 2, columna line (H2): la línea 3 no está disponible: el GXP1620 admite las líneas 1 a 2 (homologado para 2 líneas)"),
        (row(mac="000b82aabb02", model="GXP1610", line="2"),  # the device has 1 account (issue 15 item 1)
         "fila 2, columna line (H2): la línea 2 no está disponible: el GXP1610 admite solo la línea 1 "
         "(homologado para 2 líneas, pero el equipo tiene 1 cuenta SIP)"),
        (row(sip_password="corta"), "fila 2, columna sip_password (I2): la contraseña SIP (sip_password) debe tener de 8 a 128 caracteres imprimibles, sin espacios"),
        (row(sip_password="con espacio 123"), "fila 2, columna sip_password (I2): la contraseña SIP (sip_password) debe tener de 8 a 128 caracteres imprimibles, sin espacios"),
    ],
)
def test_each_broken_rule_has_its_message(bad_row: list[str], message: str) -> None:
    assert problems(bad_row) == [message]


def test_a_password_is_never_echoed() -> None:
    found = problems(row(sip_password="mi clave secreta"))
    assert found and all("mi clave" not in p for p in found)


def test_an_extension_repeated_in_the_file() -> None:
    assert problems(row(), row(mac="000b82aabb02", model="GXP1620"), row(extension="102", mac="")) == [
        "fila 3, columna extension (A3): la extensión 101 está repetida: ya está en la fila 2",
    ]


def test_a_repeated_extension_is_reported_even_when_that_row_has_other_problems() -> None:
    assert problems(row(mac=""), row(mac="", email="x@")) == [
        "fila 3, columna extension (A3): la extensión 101 está repetida: ya está en la fila 2",
        "fila 3, columna email (C3): 'x@' no es un correo electrónico válido",
    ]


def test_two_extensions_on_the_same_mac_and_line() -> None:
    assert problems(
        row(mac="000b82aabb02", model="GXP1620", line="1"),
        row(extension="102", mac="00-0b-82-aa-bb-02", model="GXP1620", line="1"),
    ) == ["fila 3, columna line (H3): la línea 1 de la MAC 00:0B:82:AA:BB:02 ya la ocupa la extensión 101 de la fila 2"]


def test_a_mac_always_with_the_same_model_in_the_file() -> None:
    assert problems(
        row(mac="000b82aabb02", model="GXP1620", line="1"),
        row(extension="102", mac="000b82aabb02", model="GXP1630", line="2"),
    ) == ["fila 3, columna model (G3): la MAC 00:0B:82:AA:BB:02 es un GXP1620 en la fila 2: un mismo teléfono no puede ser también un GXP1630"]


def test_a_mac_keeps_the_model_it_is_registered_with() -> None:
    state = _state(devices=[ExistingDevice(7, "001565aabb01", _key("GXP1620"))])
    assert problems(row(), state=state) == [
        "fila 2, columna model (G2): la MAC 00:15:65:AA:BB:01 está registrada como GXP1620, no como T21P",
    ]


def test_an_empty_model_is_taken_from_the_registered_phone() -> None:
    state = _state(devices=[ExistingDevice(7, "001565aabb01", _key("T21P"))])
    found, _, valid = validate([row(model="")], state=state)
    assert found == [] and valid[0].model_key == _key("T21P")


def test_a_mac_of_another_customer() -> None:
    assert problems(row(), row(extension="102", mac="001565aabb03"), foreign=["001565aabb01"]) == [
        "fila 2, columna mac (F2): la MAC 00:15:65:AA:BB:01 pertenece a un teléfono de otro cliente",
    ]


def test_a_line_held_by_an_extension_that_is_not_in_the_file() -> None:
    state = _state(
        [ExistingExtension.of(5, "150", "Luis", "", "", "internal", "s" * 20, "001565aabb01", 1)],
        [ExistingDevice(7, "001565aabb01", _key("T21P"))],
    )
    assert problems(row(), state=state) == [
        "fila 2, columna line (H2): la línea 1 de la MAC 00:15:65:AA:BB:01 tiene la extensión 150, que no está en este archivo "
        "(agregue esa extensión con su nueva ubicación, o importe quitando las extensiones que no estén en el archivo, --replace, para quitarla)",
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
    assert problems(["101", "", ""], header=header) == ["fila 2, columna nombres (B2): el nombre está vacío"]


def test_a_suspicious_catalog_model_loads_with_one_warning() -> None:
    key = _key("GXP1620")
    found, warnings, valid = validate(
        [row(mac="000b82aabb02", model="GXP1620"), row(extension="102", mac="000b82aabb02", model="GXP1620", line="2")],
        suspicious=frozenset({key}),
    )
    assert found == [] and len(valid) == 2
    assert warnings == [
        "fila 2, columna model (G2): GXP1620: los datos del catálogo para este modelo parecen errados (`provisioner catalog check`); "
        "se cargó de todos modos (2 filas, la primera aquí)",
    ]


def test_model_and_line_without_a_mac_are_ignored_with_one_warning_each() -> None:
    found, warnings, valid = validate([row(mac="", line="1"), row(extension="102", mac="", line="")])
    assert found == [] and [v.mac for v in valid] == [None, None]
    assert warnings == [
        "fila 2, columna model (G2): se dio el modelo sin MAC en 2 filas (la primera aquí): se ignoró; esas extensiones aún no tienen teléfono",
        "fila 2, columna line (H2): se dio la línea sin MAC en 1 fila (la primera aquí): se ignoró; esas extensiones aún no tienen teléfono",
    ]


def test_every_problem_of_every_row_at_once_in_sheet_order() -> None:
    found = problems(
        row(extension="1", email="nope", permissions="todo"),
        row(extension="102", mac="001565aabb09", model="T99", line="4"),
        row(extension="103", name="", mac="0"),
    )
    assert found == [
        "fila 2, columna extension (A2): '1' no es un número de extensión: use de 2 a 6 dígitos",
        "fila 2, columna email (C2): 'nope' no es un correo electrónico válido",
        "fila 2, columna permissions (E2): permiso desconocido 'todo' (permitidos: internal, local, national, mobile, international)",
        "fila 3, columna model (G3): 'T99' no es un modelo homologado (vea `provisioner catalog list`)",
        "fila 4, columna name (B4): el nombre está vacío",
        "fila 4, columna mac (F4): '0' no es una dirección MAC (12 dígitos hexadecimales, p. ej. 00:15:65:AA:BB:CC)",
    ]


def test_header_problems_come_first_and_stop_nothing_else() -> None:
    found, warnings, _ = validate([["101", "Ana", "x"]], header=["extension", "name", "Cargo"])
    assert found == []
    assert warnings == ["fila 1, columna Cargo (C1): la columna 'Cargo' no se usa y se ignoró"]


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
        "fila 6, columna sip_user (C6): el usuario SIP 'luis' pertenece a la extensión 102 (en la fila 3)",
        "fila 7, columna sip_user (C7): el usuario SIP 'ana-pbx' pertenece a la extensión 101 (en la fila 2)",
        "fila 8, columna extension (A8): la extensión 101 está repetida: ya está en la fila 2",
        "fila 9, columna sip_user (C9): el usuario SIP 'acme-103' pertenece a la extensión 103 (en la fila 4)",
        "fila 10, columna sip_user (C10): el usuario SIP 'sin espacios no' debe tener de 1 a 64 caracteres: "
        "letras, dígitos y - _ . ! ~ * ' ( ) & = + $ , ; ? /",
    ]
    assert [(r.number, r.sip_user) for r in valid[:3]] == [("101", "ana-pbx"), ("102", "luis"), ("103", None)]


def test_a_stored_sip_user_is_never_renamed() -> None:
    assert problems(["101", "Ana", "101"], header=USER_HEADER, state=_state([STORED_101])) == [
        "fila 2, columna sip_user (C2): la extensión 101 ya tiene el usuario SIP 'ana-pbx', no '101': una importación "
        "nunca renombra una cuenta (ponga en el archivo el usuario guardado, o borre y vuelva a crear la extensión "
        "cuando el PBX tenga el nuevo)"
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
