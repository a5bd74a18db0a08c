"""The one line-count rule (firmware_catalog.lines), as a table over the real catalog rows."""

from __future__ import annotations

import pytest

from firmware_catalog import allowed_lines, line_refusal, lines_beyond, load_catalog

CATALOG = load_catalog()

# key -> (homologated, device's own, allowed): every row of the built-in table.
EXPECTED = {
    "wekall-app-windows": (1, None, 1),
    "polycom-ip331": (2, 2, 2),
    "polycom-ip550": (1, 4, 1),
    "polycom-vvx600": (1, 16, 1),
    "grandstream-gxp1610": (2, 1, 1),  # issue 15 item 1: the device has one account
    "grandstream-gxp1620": (2, 2, 2),
    "grandstream-gxp1628": (2, 2, 2),
    "grandstream-gxp1630": (3, 3, 3),
    "grandstream-gxv3275": (6, 6, 6),
    "grandstream-dp750": (5, 10, 5),
    "grandstream-wave-ios": (1, 6, 1),
    "grandstream-wave-android": (1, 6, 1),
    "yealink-t19p": (1, 1, 1),
    "yealink-t20p": (1, 2, 1),
    "yealink-t21p": (1, 2, 1),
    "jitsi-windows": (1, None, 1),
    "jitsi-macos": (1, None, 1),
}


def test_every_catalog_row_is_in_the_table() -> None:
    assert {e.key for e in CATALOG.entries} == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_allowed_is_the_smaller_of_homologated_and_device(key: str) -> None:
    entry = CATALOG.get(key)
    homologated, device, allowed = EXPECTED[key]
    assert (entry.lines, entry.device_max_lines, allowed_lines(entry)) == (homologated, device, allowed)
    for line in range(1, allowed + 1):
        assert line_refusal(entry, line) is None
    for line in (0, -1, allowed + 1, 999):
        assert line_refusal(entry, line) is not None


@pytest.mark.parametrize(
    ("key", "line", "message"),
    [
        ("grandstream-gxp1610", 2, "la línea 2 no está disponible: el GXP1610 admite solo la línea 1 "
                                   "(homologado para 2 líneas, pero el equipo tiene 1 cuenta SIP)"),
        ("yealink-t21p", 3, "la línea 3 no está disponible: el T21P admite solo la línea 1 (homologado para 1 línea)"),
        ("grandstream-dp750", 6, "la línea 6 no está disponible: el DP750 DECT admite las líneas 1 a 5 (homologado para 5 líneas)"),
        ("grandstream-gxp1630", 0, "la línea 0 no está disponible: el GXP1630 admite las líneas 1 a 3 (homologado para 3 líneas)"),
    ],
)
def test_refusals_say_why(key: str, line: int, message: str) -> None:
    assert line_refusal(CATALOG.get(key), line) == message


def test_lines_beyond_lists_existing_data_the_phone_cannot_hold() -> None:
    assert lines_beyond(CATALOG.get("grandstream-gxp1610"), [1, 2, 2]) == (2,)
    assert lines_beyond(CATALOG.get("grandstream-gxp1630"), [3, 1, 4, 7]) == (4, 7)
    assert lines_beyond(CATALOG.get("yealink-t21p"), []) == ()
