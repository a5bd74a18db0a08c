"""The support desk's business calendar (service model §2). Pure: no clock reads, no I/O.

Open: Monday to Friday, [07:30, 12:30) and [14:00, 18:00), America/Bogota (UTC-5, no
daylight saving since 1993, so wall-clock arithmetic in the zone is exact).
Closed: Saturdays, Sundays and Colombian national holidays as the `holidays` package
lists them for country CO (only the observed day: Epiphany 2026 is Monday 12 January, not
Tuesday the 6th). Law 2578 of 2026 (9 July moved to Monday, e.g. 2026-07-13) needs
holidays >= 0.99. December 24 and 31 are normal working days.

A BusinessCalendar adds configurable exceptions: extra closed dates (a company shutdown)
and extra working dates (a Saturday made working); a date may not be in both.

Every function accepts any aware datetime, converts it to America/Bogota first and returns
Bogota datetimes; naive datetimes are refused with NaiveDatetimeError. Window ends are not
open moments (12:30:00 and 18:00:00 are closed), but a budget may run out exactly there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from support_link.errors import CalendarConfigError, CalendarError, NaiveDatetimeError

BOGOTA = ZoneInfo("America/Bogota")
DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(12, 30)),
    (time(14, 0), time(18, 0)),
)
_SATURDAY = 5
_ZERO = timedelta(0)

Window = tuple[datetime, datetime]


@lru_cache(maxsize=512)
def national_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of `country` in `year`, from the `holidays` package (cached)."""
    return frozenset(holidays.country_holidays(country, years=year))


def _check_windows(windows: tuple[tuple[time, time], ...]) -> None:
    if not windows:
        raise CalendarConfigError("a business calendar needs at least one daily window")
    previous_end: time | None = None
    for start, end in windows:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise CalendarConfigError(f"window times are Bogota wall-clock times, without tzinfo: {start}-{end}")
        if start >= end:
            raise CalendarConfigError(f"window {start}-{end} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise CalendarConfigError(f"windows must be sorted and must not overlap: {start} < {previous_end}")
        previous_end = end


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and daily windows; the default is the operator's (§2)."""

    extra_closed: AbstractSet[date] = frozenset()  # any set is accepted; stored as a frozenset
    extra_open: AbstractSet[date] = frozenset()
    windows: tuple[tuple[time, time], ...] = DEFAULT_WINDOWS
    country: str = "CO"

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_closed", frozenset(self.extra_closed))
        object.__setattr__(self, "extra_open", frozenset(self.extra_open))
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        both = sorted(self.extra_closed & self.extra_open)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise CalendarConfigError(f"dates both extra closed and extra open: {listed}")
        _check_windows(self.windows)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_open:
            return True
        if day in self.extra_closed:
            return False
        return day.weekday() < _SATURDAY and day not in national_holidays(self.country, day.year)

    def prime(self, years: Iterable[int]) -> None:
        """Build the holiday tables of `years` now: each costs tens of milliseconds of Python,
        which a server would otherwise pay in the middle of its first ticket's work."""
        for year in years:
            national_holidays(self.country, year)

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The open windows of `day` as Bogota datetimes; () on a closed day."""
        if not self.is_working_day(day):
            return ()
        return tuple(
            (datetime.combine(day, start, BOGOTA), datetime.combine(day, end, BOGOTA))
            for start, end in self.windows
        )

    def daily_hours(self) -> timedelta:
        """Business time in one working day (9 h for the default calendar)."""
        return sum((_length(start, end) for start, end in self.windows), _ZERO)


def _length(start: time, end: time) -> timedelta:
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


DEFAULT_CALENDAR = BusinessCalendar()


def as_bogota(moment: datetime, name: str = "moment") -> datetime:
    """`moment` as America/Bogota wall-clock time; refuses naive datetimes."""
    if not isinstance(moment, datetime):
        raise CalendarError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} is a naive datetime ({moment.isoformat()}); pass an aware datetime, "
            "e.g. datetime(..., tzinfo=ZoneInfo('America/Bogota')) or one in UTC"
        )
    return moment.astimezone(BOGOTA)


def windows_from(moment: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> Iterator[Window]:
    """Every open window that ends after `moment`, in order, without end.

    Whole windows are the unit of every computation here: budgets are spent window by
    window, never minute by minute. Closed days cost one set lookup each.
    """
    current = as_bogota(moment)
    day = current.date()
    while True:
        for start, end in calendar.windows_on(day):
            if end > current:
                yield start, end
        day += timedelta(days=1)


def is_open(moment: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> bool:
    """True when `moment` lies inside an open window (window ends are closed)."""
    current = as_bogota(moment)
    return any(start <= current < end for start, end in calendar.windows_on(current.date()))


def next_open(moment: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> datetime:
    """The first open moment at or after `moment` (itself when already open)."""
    current = as_bogota(moment)
    start, _ = next(windows_from(current, calendar))
    return max(current, start)


def add_business_time(
    start: datetime, delta: timedelta, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> datetime:
    """The exact moment a business-time budget `delta` started at `start` is used up.

    The result may be a window end (12:30 or 18:00) when the budget runs out exactly
    there; it is never any other closed moment. A zero budget gives next_open(start).
    """
    if delta < _ZERO:
        raise CalendarError(f"a business-time budget cannot be negative: {delta}")
    cursor = as_bogota(start, "start")
    remaining = delta
    for window_start, window_end in windows_from(cursor, calendar):
        begin = max(cursor, window_start)
        available = window_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("windows_from never ends")  # pragma: no cover


def business_time_between(
    a: datetime, b: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> timedelta:
    """Business time inside [a, b); negative when b is before a (antisymmetric)."""
    first, last = as_bogota(a, "a"), as_bogota(b, "b")
    if last < first:
        return -business_time_between(last, first, calendar)
    total = _ZERO
    for window_start, window_end in windows_from(first, calendar):
        if window_start >= last:
            break
        total += min(window_end, last) - max(window_start, first)
    return total

