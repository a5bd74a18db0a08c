"""Firmware version parsing and ordering, as a table of real version strings."""

from __future__ import annotations

import pytest

from firmware_catalog import VersionError, compare_versions, parse_version


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("5.0.13.0881", (5, 0, 13, 881)),  # the rulebook's IP 550 cell: leading zeros allowed
        ("4.0.13.1445", (4, 0, 13, 1445)),
        ("5.8.1.7278", (5, 8, 1, 7278)),
        ("34.72.0.75", (34, 72, 0, 75)),
        ("9.73.0.50", (9, 73, 0, 50)),
        ("1.0.4.106", (1, 0, 4, 106)),
        ("2.11.5608", (2, 11, 5608)),
        ("5.2.27", (5, 2, 27)),
        ("5", (5,)),
        (" 1.0.4.2 ", (1, 0, 4, 2)),
    ],
)
def test_parse_version(text: str, parsed: tuple[int, ...]) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize(
    "text",
    ["", " ", "34.72.0.75-beta", "v1.2", "1..2", ".1.2", "1.2.", "1.2.x", "1,2", "1 .2", "١.٢", "1.0.4.106b", "34.72.0.75.rom"],
)
def test_what_is_not_a_version_raises_a_clear_error(text: str) -> None:
    with pytest.raises(VersionError, match="is not a firmware version"):
        parse_version(text)
    with pytest.raises(ValueError):  # VersionError is also a ValueError
        compare_versions(text, "1.0")


def test_a_non_text_version_raises_version_error() -> None:
    with pytest.raises(VersionError, match="must be text"):
        parse_version(34.72)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("5.8.1.7278", "5.8.1.800", 1),  # numeric per component, not text
        ("5.8.1.800", "5.8.1.7278", -1),
        ("34.72.0.60", "34.72.0.75", -1),
        ("34.72.0.75", "34.72.0.75", 0),
        ("5.0.13.0881", "5.0.13.881", 0),
        ("1.0", "1.0.0", 0),  # shorter is padded with zeros
        ("1.0.0.1", "1.0", 1),
        ("1.0", "1.0.0.1", -1),
        ("9.73.0.50", "34.72.0.75", -1),
        ("1.0.4.138", "1.0.4.106", 1),
        ("4.0.15.1009", "5", -1),
        ("5.9.7.4477", "5.9.7.47435", -1),
        ("10.0", "9.99", 1),
    ],
)
def test_compare_versions(a: str, b: str, order: int) -> None:
    assert compare_versions(a, b) == order
    assert compare_versions(b, a) == -order
