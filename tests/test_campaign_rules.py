"""Firmware campaign rules (provisioner.campaigns), as tables: the window, the notice period,
the target and direction, the waves, the one instruction function, and the worker's step."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from provisioner.campaigns import (
    BOGOTA,
    Campaign,
    CampaignPlan,
    CampaignRefused,
    CampaignState,
    Direction,
    Notice,
    Phone,
    PhoneOrder,
    PhoneState,
    advance,
    canary_size,
    check_date,
    direction,
    firmware_instruction,
    in_window,
    maintenance_window,
    plan_campaign,
)

DAY = date(2027, 1, 15)


def bogota(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BOGOTA)


NEXT = DAY + timedelta(days=1)


@pytest.mark.parametrize(("moment", "inside"), [
    (bogota(DAY, 18, 59), False),
    (bogota(DAY, 19, 0), True),  # opens at 19:00
    (bogota(DAY, 23, 59), True),
    (bogota(NEXT, 0, 0), True),  # crosses midnight
    (bogota(NEXT, 4, 59), True),
    (bogota(NEXT, 5, 0), False),  # closed at 05:00
    (bogota(DAY, 3, 0), False),  # the morning of the day is the previous night's window
    (datetime.fromisoformat("2027-01-16T00:30:00+00:00"), True),  # 19:30 Bogota (UTC-5)
    (datetime.fromisoformat("2027-01-16T10:00:00+00:00"), False),  # 05:00 Bogota
])
def test_the_window_is_19_to_05_bogota_across_midnight(moment: datetime, inside: bool) -> None:
    assert in_window(DAY, moment) is inside


def test_window_bounds() -> None:
    opens, closes = maintenance_window(DAY)
    assert (opens.isoformat(), closes.isoformat()) == ("2027-01-15T19:00:00-05:00", "2027-01-16T05:00:00-05:00")


@pytest.mark.parametrize(("now", "critical", "refused"), [
    (bogota(DAY - timedelta(days=10), 9), False, None),  # exactly 10 days ahead
    (bogota(DAY - timedelta(days=15), 9), False, None),
    (bogota(DAY - timedelta(days=9), 9), False, "al menos 10 días"),
    (bogota(DAY - timedelta(days=16), 9), False, "10 a 15 días"),
    (bogota(DAY - timedelta(days=2), 9), True, None),  # critical: short notice
    (bogota(DAY, 9), True, None),  # critical: the same day
    (bogota(NEXT, 2), True, None),  # still inside that night's window
    (bogota(DAY, 9), False, "al menos 10 días"),
    (bogota(NEXT, 6), True, "ya pasó"),  # the window has closed
    (bogota(NEXT + timedelta(days=1), 9), True, "ya pasó"),
])
def test_notice_period(now: datetime, critical: bool, refused: str | None) -> None:
    if refused is None:
        check_date(DAY, now, critical)
    else:
        with pytest.raises(CampaignRefused, match=refused):
            check_date(DAY, now, critical)


@pytest.mark.parametrize(("current", "target", "expected"), [
    ("34.72.0.1", "34.72.0.75", Direction.UPGRADE),
    ("34.72.0.75", "34.72.0.75", Direction.NONE),
    ("34.73.0.5", "34.72.0.75", Direction.DOWNGRADE),  # newer than homologated: back to it
    (None, "34.72.0.75", Direction.UPGRADE),
    ("garbage", "34.72.0.75", Direction.UPGRADE),
    ("1.0.4.106", "1.0.4.106.0", Direction.NONE),
])
def test_direction(current: str | None, target: str, expected: Direction) -> None:
    assert direction(current, target) is expected


@pytest.mark.parametrize(("phones", "canary"), [(0, 0), (1, 1), (10, 1), (20, 1), (21, 2), (200, 10), (201, 11)])
def test_canary_is_five_percent_at_least_one(phones: int, canary: int) -> None:
    assert canary_size(phones) == canary


NOW = bogota(DAY - timedelta(days=12), 10)


def plan(phones: dict[str, str | None], to: str | None = None, image: str | None = "34.72.0.75",
         now: datetime = NOW, critical: bool = False) -> CampaignPlan:
    return plan_campaign(phones, "34.72.0.75", to, DAY, now, critical, image)


def test_default_target_is_homologated_and_waves_split() -> None:
    phones = {f"00156500{i:04x}": "34.72.0.1" for i in range(40)} | {"001565ffffff": "34.72.0.75"}
    result = plan(phones)
    assert result.target == "34.72.0.75" and result.direction is Direction.UPGRADE
    assert len(result.canary) == 2 and len(result.rest) == 38 and result.already == ("001565ffffff",)
    assert not set(result.canary) & set(result.rest)


def test_newer_than_homologated_is_a_downgrade_campaign() -> None:
    assert plan({"001565000001": "34.73.0.5"}).direction is Direction.DOWNGRADE
    assert plan({"001565000001": "34.73.0.5", "001565000002": "34.72.0.1"}).direction is Direction.MIXED


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"image": None}, "no está en el almacén"),
    ({"image": "34.72.0.1"}, "no 34.72.0.75"),
    ({"to": "latest"}, "no es una versión"),
    ({"now": bogota(DAY - timedelta(days=3), 10)}, "al menos 10 días"),
])
def test_refusals(kwargs: dict, reason: str) -> None:
    with pytest.raises(CampaignRefused, match=reason):
        plan({"001565000001": "34.72.0.1"}, **kwargs)


def test_nothing_to_do_and_no_phones_are_refused() -> None:
    with pytest.raises(CampaignRefused, match="ya tienen"):
        plan({"001565000001": "34.72.0.75"})
    with pytest.raises(CampaignRefused, match="no tiene teléfonos"):
        plan({})


def test_explicit_target_needs_that_image() -> None:
    assert plan({"001565000001": "34.72.0.75"}, to="34.72.0.80", image="34.72.0.80").target == "34.72.0.80"


ORDER = PhoneOrder(7, DAY, CampaignState.IN_WINDOW, PhoneState.INSTRUCTED, "34.72.0.75.rom")


@pytest.mark.parametrize(("order", "now", "image"), [
    (ORDER, bogota(DAY, 20), "34.72.0.75.rom"),
    (ORDER, bogota(DAY, 18, 59), None),  # before the window: nothing, whatever the worker did
    (ORDER, bogota(NEXT, 5, 0), None),  # after it
    (replace(ORDER, phone_state=PhoneState.PENDING), bogota(DAY, 20), None),
    (replace(ORDER, phone_state=PhoneState.DONE), bogota(DAY, 20), None),
    (replace(ORDER, campaign_state=CampaignState.HALTED), bogota(DAY, 20), None),
    (replace(ORDER, campaign_state=CampaignState.CANCELLED), bogota(DAY, 20), None),
    (None, bogota(DAY, 20), None),
])
def test_firmware_instruction_only_inside_the_window(order: PhoneOrder | None, now: datetime, image: str | None) -> None:
    assert firmware_instruction(order, now) == image


CAMPAIGN = Campaign(state=CampaignState.PLANNED, day=DAY, target="34.72.0.75", critical=False, announced=False,
                    reminded=False, max_failure_share=0.2, phone_timeout=timedelta(minutes=30))


def phones(n: int, canary: int) -> list[Phone]:
    return [Phone(f"0015650{i:05x}", 1 if i < canary else 2, PhoneState.PENDING, version="34.72.0.1") for i in range(n)]


def back(phone: Phone, at: datetime, version: str = "34.72.0.75") -> Phone:
    return replace(phone, version=version, reported_at=at)


def test_announcement_then_reminder_then_nothing_before_19() -> None:
    step = advance(CAMPAIGN, phones(20, 1), NOW)
    assert step.notices == (Notice.ANNOUNCEMENT,) and step.state is CampaignState.PLANNED  # until the mail is out
    announced = replace(CAMPAIGN, state=CampaignState.ANNOUNCED, announced=True)
    assert advance(announced, phones(20, 1), NOW).notices == ()
    day_before = bogota(DAY - timedelta(days=1), 19, 30)
    assert advance(announced, phones(20, 1), day_before).notices == (Notice.REMINDER,)
    late = advance(replace(announced, reminded=True), phones(20, 1), bogota(DAY, 18, 59))
    assert late.notices == () and all(p.state is PhoneState.PENDING for p in late.phones)


def test_canary_first_then_the_rest_then_done() -> None:
    running = replace(CAMPAIGN, state=CampaignState.ANNOUNCED, announced=True, reminded=True)
    t0 = bogota(DAY, 19, 0)
    step = advance(running, phones(40, 2), t0)
    assert step.state is CampaignState.IN_WINDOW
    assert [p.state for p in step.phones[:3]] == [PhoneState.INSTRUCTED, PhoneState.INSTRUCTED, PhoneState.PENDING]
    assert step.phones[0].deadline == t0 + timedelta(minutes=30)
    # A report from before the instruction does not count; the canary's report after it does.
    t1 = t0 + timedelta(minutes=5)
    stale = [back(p, t0 - timedelta(minutes=1)) if p.wave == 1 else p for p in step.phones]
    assert advance(replace(running, state=step.state), stale, t1).phones[0].state is PhoneState.INSTRUCTED
    returned = [back(p, t1) if p.wave == 1 else p for p in step.phones]
    step = advance(replace(running, state=step.state), returned, t1)
    assert {p.state for p in step.phones if p.wave == 1} == {PhoneState.DONE}
    assert {p.state for p in step.phones if p.wave == 2} == {PhoneState.INSTRUCTED}
    t2 = t1 + timedelta(minutes=10)
    step = advance(replace(running, state=step.state), [back(p, t2) if p.wave == 2 else p for p in step.phones], t2)
    assert step.state is CampaignState.DONE


def test_one_failure_below_the_share_goes_on_and_the_window_close_fails_stragglers() -> None:
    running = replace(CAMPAIGN, state=CampaignState.IN_WINDOW, announced=True, reminded=True)
    t0 = bogota(DAY, 19, 0)
    step = advance(running, phones(40, 2), t0)
    # one canary phone never comes back: 1 of 2 = 50 % > 20 % -> halt
    late = t0 + timedelta(minutes=31)
    halted = advance(running, [back(step.phones[0], t0 + timedelta(minutes=3)), *step.phones[1:]], late)
    assert halted.state is CampaignState.HALTED and "1 de 2" in (halted.halted_because or "")
    assert {p.state for p in halted.phones[2:]} == {PhoneState.SKIPPED}
    # with a generous limit it goes on to the rest
    generous = replace(running, max_failure_share=0.6)
    going = advance(generous, [back(step.phones[0], t0 + timedelta(minutes=3)), *step.phones[1:]], late)
    assert going.state is CampaignState.IN_WINDOW and going.phones[1].state is PhoneState.FAILED
    assert {p.state for p in going.phones[2:]} == {PhoneState.INSTRUCTED}
    # the window closes: phones still out fail, the campaign ends
    closed = advance(generous, list(going.phones), bogota(NEXT, 5, 0))
    assert closed.state is CampaignState.HALTED  # 38 of 38 failed in wave 2
    assert {p.state for p in closed.phones[2:]} == {PhoneState.FAILED}


def test_a_changed_image_halts_before_any_phone_is_told() -> None:
    step = advance(replace(CAMPAIGN, announced=True, image_ok=False), phones(5, 1), bogota(DAY, 19, 1))
    assert step.state is CampaignState.HALTED and "SHA-256" in (step.halted_because or "")
    assert all(p.state is PhoneState.SKIPPED for p in step.phones)


def test_never_announced_never_touches_a_phone() -> None:
    step = advance(CAMPAIGN, phones(5, 1), bogota(DAY, 19, 0))
    assert step.state is CampaignState.HALTED and "anuncio" in (step.halted_because or "")
    assert all(p.state is PhoneState.SKIPPED for p in step.phones)


def test_finished_campaigns_do_not_move() -> None:
    for state in (CampaignState.DONE, CampaignState.HALTED, CampaignState.CANCELLED):
        step = advance(replace(CAMPAIGN, state=state, announced=True), phones(3, 1), bogota(DAY, 20))
        assert step.state is state and step.notices == ()
