"""Realistic extension lists of any size (for the benchmark, tests and demos; pure).

Rows look like what installers receive: Spanish names with accents, departments,
permissions written in Spanish or English, MACs in mixed notations, multi-line phones
sharing a MAC on consecutive rows, and about one user in ten on a softphone (no MAC).
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TextIO

HEADER = ("Extensión", "Nombres", "Apellidos", "Correo", "Área", "Permisos", "MAC", "Modelo", "Línea")
SIP_USER_HEADER = "Usuario SIP"  # optional: the PBX's own user per extension (here "{extension}", as many PBXs name them)
FIRST = ("José", "María", "Ana", "Luis", "Carlos", "Lucía", "Andrés", "Camila", "Juan", "Sofía", "Diego",
         "Valentina", "Jorge", "Daniela", "Miguel", "Paula", "Óscar", "Natalia", "Julián", "Ángela")
LAST = ("Gómez", "Rodríguez", "Muñoz", "Peña", "Pérez", "García", "Martínez", "López", "Hernández", "Díaz",
        "Torres", "Ramírez", "Castaño", "Ospina", "Zuluaga", "Cárdenas", "Quintero", "Londoño", "Restrepo", "Vélez")
DEPARTMENTS = ("Ventas", "Soporte", "Gerencia", "Contabilidad", "Logística", "Recursos Humanos", "Tecnología",
               "Cartera", "Compras", "Mesa de ayuda")
PERMISSIONS = ("interno", "interno;local", "interno; local; nacional", "interno;local;nacional;celular",
               "internal,local,national,mobile,international", "")
# (model as installers write it, vendor OUI, homologated lines)
PHONES: tuple[tuple[str, str, int], ...] = (
    ("T21P", "001565", 1), ("SIP-T21P", "001565", 1), ("GXP1620", "000b82", 2), ("GXP1630", "000b82", 3),
    ("VVX600", "0004f2", 1), ("GXP1628", "000b82", 2),
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _notation(mac: str, style: int) -> str:
    pairs = [mac[i : i + 2] for i in range(0, 12, 2)]
    if style == 0:
        return ":".join(pairs).upper()
    if style == 1:
        return "-".join(pairs)
    if style == 2:
        return f"{mac[0:4]}.{mac[4:8]}.{mac[8:12]}"
    return mac.upper()


def sample_rows(n: int, *, seed: int = 1, mac_start: int = 0, phones: Sequence[tuple[str, str, int]] = PHONES,
                sip_users: bool = False) -> Iterator[tuple[str, ...]]:
    """n data rows (no header), in HEADER's column order (then SIP_USER_HEADER's with `sip_users`)."""
    rng = random.Random(seed)  # nosec B311 - sample data for benchmarks, not secrets
    digits = min(6, max(3, len(str(n)) + 1))
    first_number = 10 ** (digits - 1)
    device, free_lines, current = mac_start, 0, ("", "", 0)
    for i in range(n):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)} {rng.choice(LAST)}"
        email = f"{_ascii(first)}.{_ascii(last.split()[0])}{i}@empresa.com.co"
        mac_text = model = line = ""
        if rng.random() >= 0.1:
            if free_lines == 0:
                current = rng.choice(phones)
                device += 1
                free_lines = current[2]
            model_token, oui, lines = current
            mac = f"{oui}{device:06x}"
            line = str(lines - free_lines + 1)
            free_lines -= 1
            mac_text, model = _notation(mac, device % 4), model_token
        row = (str(first_number + i), first, last, email, rng.choice(DEPARTMENTS), rng.choice(PERMISSIONS), mac_text, model, line)
        yield (*row, row[0]) if sip_users else row


def write_sample_csv(out: TextIO, n: int, *, seed: int = 1, mac_start: int = 0, separator: str = ";",
                     phones: Sequence[tuple[str, str, int]] = PHONES, sip_users: bool = False) -> None:
    """A CSV as Excel in a Spanish locale saves it (';' separated); open `out` with encoding utf-8-sig.
    `sip_users`: with the PBX's user of each extension (a "Usuario SIP" column)."""
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow((*HEADER, SIP_USER_HEADER) if sip_users else HEADER)
    writer.writerows(sample_rows(n, seed=seed, mac_start=mac_start, phones=phones, sip_users=sip_users))
