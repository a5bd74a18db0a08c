"""Business calendar: windows, Colombian holidays, budgets spent window by window."""

from __future__ import annotations

import time as wallclock
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support_link.calendar import (
    BOGOTA,
    DEFAULT_CALENDAR,
    BusinessCalendar,
    add_business_time,
    as_bogota,
    business_time_between,
    is_open,
    national_holidays,
    next_open,
)
from support_link.errors import CalendarConfigError, CalendarError, NaiveDatetimeError


def bog(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BOGOTA)


H = timedelta(hours=1)

# Colombia's 2026 national holidays, transcribed from the official 2026 calendar
# (Law 51 of 1983 moves most to Monday; Law 2578 of 2026 adds 9 July -> Monday 13 July).
CO_HOLIDAYS_2026 = {
    date(2026, 1, 1),  # Año Nuevo (Thu)
    date(2026, 1, 12),  # Reyes Magos, 6 Jan moved to Monday
    date(2026, 3, 23),  # San José, 19 Mar moved
    date(2026, 4, 2),  # Jueves Santo
    date(2026, 4, 3),  # Viernes Santo
    date(2026, 5, 1),  # Día del Trabajo
    date(2026, 5, 18),  # Ascensión
    date(2026, 6, 8),  # Corpus Christi
    date(2026, 6, 15),  # Sagrado Corazón
    date(2026, 6, 29),  # San Pedro y San Pablo (a Monday)
    date(2026, 7, 13),  # Virgen de Chiquinquirá, 9 Jul moved (Law 2578 of 2026)
    date(2026, 7, 20),  # Independencia
    date(2026, 8, 7),  # Batalla de Boyacá
    date(2026, 8, 17),  # Asunción, 15 Aug moved
    date(2026, 10, 12),  # Día de la Raza (a Monday)
    date(2026, 11, 2),  # Todos los Santos, 1 Nov moved
    date(2026, 11, 16),  # Independencia de Cartagena, 11 Nov moved
    date(2026, 12, 8),  # Inmaculada Concepción
    date(2026, 12, 25),  # Navidad
}


def test_weekday_closures_of_2026_are_exactly_the_national_holidays() -> None:
    day, closed = date(2026, 1, 1), set()
    while day.year == 2026:
        if day.weekday() < 5 and not DEFAULT_CALENDAR.is_working_day(day):
            closed.add(day)
        day += timedelta(days=1)
    assert closed == CO_HOLIDAYS_2026


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (bog(2026, 3, 18, 7, 29, 59), False),  # Wednesday, before opening
        (bog(2026, 3, 18, 7, 30), True),
        (bog(2026, 3, 18, 12, 29, 59), True),
        (bog(2026, 3, 18, 12, 30), False),  # lunch starts at 12:30 sharp
        (bog(2026, 3, 18, 13, 59, 59), False),
        (bog(2026, 3, 18, 14, 0), True),
        (bog(2026, 3, 18, 17, 59, 59), True),
        (bog(2026, 3, 18, 18, 0), False),
        (bog(2026, 3, 21, 10, 0), False),  # Saturday
        (bog(2026, 3, 22, 10, 0), False),  # Sunday
        (bog(2026, 3, 23, 10, 0), False),  # San José (observed)
        (bog(2026, 1, 6, 10, 0), True),  # Epiphany's calendar day is a working Tuesday
        (bog(2026, 1, 12, 10, 0), False),  # ... observed on Monday 12 January
        (bog(2026, 7, 9, 10, 0), True),  # Chiquinquirá's calendar day: working Thursday
        (bog(2026, 7, 13, 10, 0), False),  # ... observed Monday 13 July
        (bog(2026, 12, 24, 10, 0), True),  # Christmas Eve is a normal day
        (bog(2026, 12, 25, 10, 0), False),
        (bog(2026, 12, 31, 17, 0), True),  # New Year's Eve is a normal day
        (bog(2027, 1, 1, 10, 0), False),
        (datetime(2026, 3, 18, 15, 0, tzinfo=UTC), True),  # 10:00 in Bogota
        (datetime(2026, 3, 18, 12, 0, tzinfo=UTC), False),  # 07:00 in Bogota
        (datetime(2026, 3, 18, 23, 0, tzinfo=UTC), False),  # 18:00 in Bogota
    ],
)
def test_is_open(moment: datetime, expected: bool) -> None:
    assert is_open(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (bog(2026, 3, 18, 10, 0), bog(2026, 3, 18, 10, 0)),  # already open: itself
        (bog(2026, 3, 18, 6, 0), bog(2026, 3, 18, 7, 30)),
        (bog(2026, 3, 18, 12, 30), bog(2026, 3, 18, 14, 0)),
        (bog(2026, 3, 18, 18, 0), bog(2026, 3, 19, 7, 30)),
        (bog(2026, 3, 20, 18, 0), bog(2026, 3, 24, 7, 30)),  # Friday -> Tuesday (Mon holiday)
        (bog(2026, 4, 1, 18, 0), bog(2026, 4, 6, 7, 30)),  # Holy Week: Thu and Fri closed
        (bog(2026, 12, 31, 18, 0), bog(2027, 1, 4, 7, 30)),  # year end: Jan 1 Fri closed
        (datetime(2026, 3, 21, 15, 0, tzinfo=UTC), bog(2026, 3, 24, 7, 30)),
    ],
)
def test_next_open(moment: datetime, expected: datetime) -> None:
    result = next_open(moment)
    assert result == expected
    assert result.tzinfo is BOGOTA


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (bog(2026, 3, 18, 11, 30), H, bog(2026, 3, 18, 12, 30)),  # ends exactly at lunch
        (bog(2026, 3, 18, 12, 0), H, bog(2026, 3, 18, 14, 30)),  # lunch skipped
        (bog(2026, 3, 18, 12, 30), H, bog(2026, 3, 18, 15, 0)),  # starts at the closed 12:30
        (bog(2026, 3, 18, 6, 0), H, bog(2026, 3, 18, 8, 30)),  # before opening
        (bog(2026, 3, 18, 17, 0), H, bog(2026, 3, 18, 18, 0)),  # ends exactly at closing
        (bog(2026, 3, 18, 18, 0), H, bog(2026, 3, 19, 8, 30)),
        (bog(2026, 3, 20, 17, 30), H, bog(2026, 3, 24, 8, 0)),  # Fri -> Tue (Mon 23 holiday)
        (bog(2026, 4, 1, 17, 0), 6 * H, bog(2026, 4, 6, 12, 30)),  # Holy Week
        (bog(2026, 3, 2, 7, 30), 45 * H, bog(2026, 3, 6, 18, 0)),  # one full week
        (bog(2026, 3, 18, 11, 59, 59), timedelta(minutes=30, seconds=1), bog(2026, 3, 18, 12, 30)),
        (bog(2026, 3, 18, 12, 0), timedelta(minutes=30, seconds=1), bog(2026, 3, 18, 14, 0, 1)),
        (bog(2026, 3, 18, 12, 30), timedelta(0), bog(2026, 3, 18, 14, 0)),  # zero: next open
        (bog(2026, 3, 18, 10, 0), timedelta(0), bog(2026, 3, 18, 10, 0)),
        (datetime(2026, 3, 18, 16, 30, tzinfo=UTC), H, bog(2026, 3, 18, 12, 30)),  # 11:30 Bogota
    ],
)
def test_add_business_time(start: datetime, delta: timedelta, expected: datetime) -> None:
    result = add_business_time(start, delta)
    assert result == expected
    assert result.tzinfo is BOGOTA
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)  # wall clock too


def test_add_business_time_keeps_sub_second_precision() -> None:
    start = bog(2026, 3, 18, 12, 29, 59).replace(microsecond=500_000)
    assert add_business_time(start, timedelta(seconds=1)) == bog(2026, 3, 18, 14, 0).replace(microsecond=500_000)


def test_long_budget_is_fast_and_exact() -> None:
    start = bog(2026, 1, 2, 9, 0)
    began = wallclock.perf_counter()
    due = add_business_time(start, 10_000 * H)  # about four and a half years of business time
    elapsed = wallclock.perf_counter() - began
    assert business_time_between(start, due) == 10_000 * H
    assert elapsed < 2.0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (bog(2026, 3, 18, 0, 0), bog(2026, 3, 19, 0, 0), 9 * H),  # one working day
        (bog(2026, 3, 18, 11, 30), bog(2026, 3, 18, 14, 30), 90 * timedelta(minutes=1)),
        (bog(2026, 3, 16, 0, 0), bog(2026, 3, 23, 0, 0), 45 * H),  # Mon-Fri week
        (bog(2026, 3, 20, 17, 0), bog(2026, 3, 24, 8, 0), 90 * timedelta(minutes=1)),
        (bog(2026, 3, 18, 12, 30), bog(2026, 3, 18, 14, 0), timedelta(0)),  # lunch only
        (bog(2026, 3, 18, 10, 0), bog(2026, 3, 18, 10, 0), timedelta(0)),
        (bog(2026, 3, 18, 14, 30), bog(2026, 3, 18, 11, 30), -90 * timedelta(minutes=1)),
        (datetime(2026, 3, 18, 12, 0, tzinfo=UTC), datetime(2026, 3, 18, 23, 0, tzinfo=UTC), 9 * H),
        (bog(2026, 12, 24, 0, 0), bog(2027, 1, 1, 0, 0), 5 * 9 * H),  # 24, 28, 29, 30, 31 Dec
    ],
)
def test_business_time_between(a: datetime, b: datetime, expected: timedelta) -> None:
    assert business_time_between(a, b) == expected


def test_other_timezones_are_converted_first() -> None:
    madrid_winter = timezone(timedelta(hours=1))
    start = datetime(2026, 3, 18, 17, 30, tzinfo=madrid_winter)  # 11:30 in Bogota
    assert as_bogota(start) == bog(2026, 3, 18, 11, 30)
    assert add_business_time(start, H) == bog(2026, 3, 18, 12, 30)


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: is_open(naive),
        lambda naive: next_open(naive),
        lambda naive: add_business_time(naive, H),
        lambda naive: business_time_between(naive, bog(2026, 3, 19)),
        lambda naive: business_time_between(bog(2026, 3, 17), naive),
    ],
)
def test_naive_datetimes_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NaiveDatetimeError, match="naive datetime"):
        call(datetime(2026, 3, 18, 11, 30))


def test_negative_budget_is_refused() -> None:
    with pytest.raises(CalendarError, match="negative"):
        add_business_time(bog(2026, 3, 18, 10), -H)


def test_extra_closed_and_extra_open_dates() -> None:
    shutdown = BusinessCalendar(extra_closed=frozenset({date(2026, 3, 19)}))
    assert add_business_time(bog(2026, 3, 18, 17, 30), H, shutdown) == bog(2026, 3, 20, 8, 0)
    saturday = BusinessCalendar(extra_open={date(2026, 3, 21)})  # plain sets are accepted
    assert is_open(bog(2026, 3, 21, 10, 0), saturday)
    assert add_business_time(bog(2026, 3, 20, 17, 30), H, saturday) == bog(2026, 3, 21, 8, 0)
    holiday_worked = BusinessCalendar(extra_open=frozenset({date(2026, 3, 23)}))
    assert add_business_time(bog(2026, 3, 20, 17, 30), H, holiday_worked) == bog(2026, 3, 23, 8, 0)


def test_contradictory_calendars_are_refused() -> None:
    with pytest.raises(CalendarConfigError, match="2026-03-19"):
        BusinessCalendar(extra_closed={date(2026, 3, 19)}, extra_open={date(2026, 3, 19)})
    with pytest.raises(CalendarConfigError, match="overlap"):
        BusinessCalendar(windows=((time(8), time(13)), (time(12), time(18))))
    with pytest.raises(CalendarConfigError, match="ends before"):
        BusinessCalendar(windows=((time(13), time(8)),))
    with pytest.raises(CalendarConfigError, match="at least one"):
        BusinessCalendar(windows=())


def test_default_day_has_nine_business_hours() -> None:
    assert DEFAULT_CALENDAR.daily_hours() == 9 * H


# --- properties -------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(BOGOTA)
)
budgets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200)).map(
    lambda d: timedelta(seconds=int(d.total_seconds()))
)


def _is_window_end(moment: datetime) -> bool:
    return any(end == moment for _, end in DEFAULT_CALENDAR.windows_on(moment.date()))


@settings(max_examples=300, deadline=None)
@given(start=moments, delta=budgets)
def test_budget_round_trips_and_ends_open_or_at_a_window_end(start: datetime, delta: timedelta) -> None:
    due = add_business_time(start, delta)
    assert is_open(due) or _is_window_end(due)
    assert business_time_between(start, due) == delta
    assert due >= start


@settings(max_examples=200, deadline=None)
@given(start=moments, small=budgets, extra=budgets)
def test_larger_budget_never_ends_earlier(start: datetime, small: timedelta, extra: timedelta) -> None:
    assert add_business_time(start, small + extra) >= add_business_time(start, small)


@settings(max_examples=200, deadline=None)
@given(start=moments, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)), delta=budgets)
def test_later_start_never_ends_earlier(start: datetime, later: timedelta, delta: timedelta) -> None:
    assert add_business_time(start + later, delta) >= add_business_time(start, delta)


def test_prime_builds_the_holiday_tables_ahead() -> None:
    national_holidays.cache_clear()
    BusinessCalendar().prime((2031, 2032))
    assert national_holidays.cache_info().currsize == 2
    DEFAULT_CALENDAR.is_working_day(date(2031, 12, 8))  # Inmaculada Concepción, a Monday
    assert national_holidays.cache_info().misses == 2  # answered from the primed table
    assert not DEFAULT_CALENDAR.is_working_day(date(2031, 12, 8))
