"""Compliance findings for a phone: catalog row + reported firmware + assigned lines, as a table."""

from __future__ import annotations

import pytest

from firmware_catalog import Finding, FindingKind, check_compliance, load_catalog

CATALOG = load_catalog()
T21P = CATALOG.get("yealink-t21p")  # 34.72.0.75, 1 line
GXP1630 = CATALOG.get("grandstream-gxp1630")  # 1.0.4.106, 3 lines
VVX600 = CATALOG.get("polycom-vvx600")  # 5.8.1.7278, 1 line
IP550 = CATALOG.get("polycom-ip550")  # 4.0.13.1445 (the rulebook's 5.0.13.0881 never shipped), 1 line
GXP1610 = CATALOG.get("grandstream-gxp1610")  # homologated 2 lines, the device has 1
DP750 = CATALOG.get("grandstream-dp750")  # homologated 5, the base has 10

OLDER, NEWER, UNKNOWN = FindingKind.FIRMWARE_OLDER, FindingKind.FIRMWARE_NEWER, FindingKind.FIRMWARE_UNKNOWN
NOT_HOMOLOGATED, LINES = FindingKind.MODEL_NOT_HOMOLOGATED, FindingKind.LINES_EXCEEDED


@pytest.mark.parametrize(
    ("entry", "firmware", "lines", "kinds"),
    [
        (T21P, "34.72.0.75", 1, []),
        (T21P, "34.72.0.75", 0, []),  # seen but nothing assigned yet
        (T21P, "34.72.0.60", 1, [OLDER]),
        (T21P, "34.72.0.90", 1, [NEWER]),
        (T21P, "34.72.0.75", 2, [LINES]),  # the device has 2 accounts, the operator supports 1
        (T21P, "34.72.0.1", 2, [OLDER, LINES]),
        (T21P, None, 1, [UNKNOWN]),
        (T21P, "", 1, [UNKNOWN]),
        (T21P, "34.72.0.75-beta", 1, [UNKNOWN]),  # never raises on what a phone says
        (GXP1630, "1.0.4.106", 3, []),
        (GXP1610, "1.0.4.106", 1, []),
        (GXP1610, "1.0.4.106", 2, [LINES]),  # homologated for 2, but the device has 1 account
        (DP750, "1.0.4.2", 5, []),
        (DP750, "1.0.4.2", 6, [LINES]),  # the base has 10 accounts, the operator supports 5
        (GXP1630, "1.0.4.138", 4, [NEWER, LINES]),
        (VVX600, "5.8.1.7278", 1, []),
        (VVX600, "5.8.1.800", 1, [OLDER]),  # 800 < 7278 numerically
        (VVX600, "5.9.7.4477", 1, [NEWER]),
        (IP550, "4.0.13.1445", 1, []),
        (IP550, "5.0.13.0881", 1, [NEWER]),  # the rulebook's typo: no IP 550 reports it
        (None, "34.72.0.75", 1, [NOT_HOMOLOGATED]),
        (None, None, 5, [NOT_HOMOLOGATED]),  # nothing else can be judged without a row
    ],
)
def test_findings(entry: object, firmware: str | None, lines: int, kinds: list[FindingKind]) -> None:
    assert [f.kind for f in check_compliance(entry, firmware, lines)] == kinds  # type: ignore[arg-type]


def test_findings_speak_plain_english_with_expected_and_observed() -> None:
    assert check_compliance(T21P, "34.72.0.60", 3, model_seen="T21P") == (
        Finding(OLDER, "firmware 34.72.0.60 is older than the supported 34.72.0.75", "34.72.0.75", "34.72.0.60"),
        Finding(LINES, "línea 3 asignada, pero el T21P admite solo la línea 1 (homologado para 1 línea)", "1", "3"),
    )
    assert check_compliance(GXP1630, "1.0.4.138", 4) == (
        Finding(NEWER, "firmware 1.0.4.138 is newer than the supported 1.0.4.106", "1.0.4.106", "1.0.4.138"),
        Finding(LINES, "línea 4 asignada, pero el GXP1630 admite las líneas 1 a 3 (homologado para 3 líneas)", "3", "4"),
    )
    assert check_compliance(T21P, None, 1) == (
        Finding(UNKNOWN, "firmware not reported (supported: 34.72.0.75)", "34.72.0.75", None),
    )
    assert check_compliance(T21P, "34.72.0.75-beta", 1) == (
        Finding(UNKNOWN, "firmware '34.72.0.75-beta' is not a version number (supported: 34.72.0.75)", "34.72.0.75", "34.72.0.75-beta"),
    )


def test_a_model_not_homologated_names_what_was_seen() -> None:
    assert check_compliance(None, "66.85.0.5", 1, model_seen="SIP-T46S") == (
        Finding(NOT_HOMOLOGATED, "model SIP-T46S is not homologated", None, "SIP-T46S"),
    )
    assert check_compliance(None, None, 0)[0].message == "the phone's model is not homologated"


def test_finding_kinds_are_the_stored_strings() -> None:
    assert [k.value for k in FindingKind] == [
        "firmware_older", "firmware_newer", "firmware_unknown", "model_not_homologated", "lines_exceeded",
    ]
