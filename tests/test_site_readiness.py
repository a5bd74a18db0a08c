"""The readiness board (provisioner.site_readiness) as tables: facts of a site -> groups,
progress and what to do next. Pure: no database, no server."""

from __future__ import annotations

import pytest

from provisioner import labels
from provisioner.site_readiness import PhoneFacts, board_json, board_text, build_board, progress_bar


def phone(mac: str, *, assigned: bool = True, booted: bool = True, firmware: bool | None = True, lines: bool | None = True,
          snmp: str = "answered", registered: bool | None = None) -> PhoneFacts:
    if not booted:
        firmware = lines = None
        snmp = "unknown"
    return PhoneFacts(mac, "T21P", ("201",) if assigned else (), assigned, booted, firmware, lines, snmp, registered)


READY = phone("001565000001")
NEVER = phone("001565000002", booted=False)
OLD_FW = phone("001565000003", firmware=False)
TOO_MANY_LINES = phone("001565000004", lines=False)
NO_SNMP = phone("001565000005", snmp="unreachable")
NOT_POLLED = phone("001565000006", snmp="unknown")
WAITING = phone("001565000007", assigned=False)
UNASSIGNED_NEVER_BOOTED = phone("001565000008", assigned=False, booted=False)  # cannot exist as a row; ignored

# phones, extensions without a phone, snmp on -> expected, ready, percent, green, {group: count}
CASES = [
    ("empty site", [], [], True, 0, 0, 0, False, {"expected": 0, "waiting": 0, "never_seen": 0}),
    ("one ready phone", [READY], [], True, 1, 1, 100, True, {"booted": 1, "firmware_ok": 1, "snmp_ok": 1, "ready": 1}),
    ("never seen", [READY, NEVER], [], True, 2, 1, 50, False, {"booted": 1, "never_seen": 1}),
    ("old firmware", [READY, OLD_FW], [], True, 2, 1, 50, False, {"firmware_ok": 1, "firmware_bad": 1}),
    ("lines over the limit", [TOO_MANY_LINES], [], True, 1, 0, 0, False, {"lines_ok": 0, "lines_bad": 1}),
    ("SNMP unreachable", [NO_SNMP], [], True, 1, 0, 0, False, {"snmp_ok": 0, "snmp_bad": 1}),
    ("not polled yet", [NOT_POLLED], [], True, 1, 0, 0, False, {"snmp_unknown": 1}),
    ("SNMP off: not judged", [NOT_POLLED, NO_SNMP], [], False, 2, 2, 100, True, {"ready": 2}),
    ("a waiting phone keeps it amber", [READY, WAITING], [], True, 1, 1, 100, False, {"expected": 1, "waiting": 1}),
    ("an extension without a phone", [READY], ["202"], True, 1, 1, 100, False, {"no_phone": 1}),
    ("three of four", [READY, phone("a1"), phone("a2"), NEVER], [], True, 4, 3, 75, False, {"ready": 3}),
    ("unassigned and never booted is nobody", [UNASSIGNED_NEVER_BOOTED], [], True, 0, 0, 0, False, {"waiting": 0}),
]


@pytest.mark.parametrize(("name", "phones", "without", "snmp", "expected", "ready", "percent", "green", "counts"), CASES,
                         ids=[c[0] for c in CASES])
def test_board(name, phones, without, snmp, expected, ready, percent, green, counts) -> None:  # type: ignore[no-untyped-def]
    board = build_board(phones, without, snmp_enabled=snmp)
    assert (board.expected, board.ready, board.percent, board.green) == (expected, ready, percent, green)
    groups = {g.key: g for g in board.groups}
    for key, count in counts.items():
        assert groups[key].count == count, key
    for group in board.groups:
        if group.key == "registered":  # no PBX data in these cases: see the tests below
            continue
        assert group.count == len(group.macs)
        # A group with work to do says what; an empty or fine group says nothing.
        assert bool(group.next_step) == (bool(group.count) and not group.good), group.key
    if not snmp:
        assert "snmp_ok" not in groups and "snmp_bad" not in groups


def test_next_steps_name_the_phones_and_are_spanish() -> None:
    board = build_board([READY, NEVER, OLD_FW, WAITING], ["305"])
    groups = {g.key: g for g in board.groups}
    assert groups["never_seen"].macs == (NEVER.mac,)
    assert "opción 66" in groups["never_seen"].next_step
    assert "firmware" in groups["firmware_bad"].next_step and "19:00" in groups["firmware_bad"].next_step
    assert "extensión" in groups["waiting"].next_step.lower()
    assert groups["no_phone"].macs == ("305",)
    text = board_text(board, "acme")
    assert "Qué hacer ahora:" in text and NEVER.mac in text and "305" in text
    assert set(labels.READINESS_GROUPS) >= {g.key for g in board.groups}


def test_no_pbx_data_never_says_registered() -> None:
    """Issue 19 brings registrations; until then the column is "sin datos del PBX", never a count."""
    board = build_board([READY, READY])
    registered = next(g for g in board.groups if g.key == "registered")
    assert registered.count is None and registered.macs == ()
    assert board.green  # registration does not block a board that has no PBX data
    assert next(g for g in board_json(board)["groups"] if g["key"] == "registered")["status"] == "sin datos del PBX"  # type: ignore[index]
    assert "sin datos del PBX" in board_text(board, "acme")
    assert "unregistered" not in {g.key for g in board.groups}


def test_with_pbx_data_registration_counts() -> None:
    on = phone("b1", registered=True)
    off = phone("b2", registered=False)
    board = build_board([on, off])
    groups = {g.key: g for g in board.groups}
    assert groups["registered"].count == 1 and groups["unregistered"].macs == ("b2",)
    assert board.ready == 1 and not board.green
    assert "SIP ALG" in groups["unregistered"].next_step


@pytest.mark.parametrize(("done", "total", "bar"), [
    (0, 0, "[" + "." * 30 + "] 0/0"),
    (0, 4, "[" + "." * 30 + "] 0/4"),
    (1, 4, "[" + "#" * 8 + "." * 22 + "] 1/4"),  # 7.5 rounds to 8
    (4, 4, "[" + "#" * 30 + "] 4/4"),
    (1, 3, "[" + "#" * 10 + "." * 20 + "] 1/3"),
])
def test_progress_bar(done: int, total: int, bar: str) -> None:
    assert progress_bar(done, total) == bar
