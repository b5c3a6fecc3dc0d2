"""Working-time calendar for administrative processing deadlines.

Vietnamese agencies count statutory processing times ("N ngày làm việc") in working days:
Monday–Friday, during office hours, minus public holidays, plus the Saturdays worked in
exchange for bridge days. This module turns "received at instant X, N working days" into an
exact deadline instant, and measures the working time elapsed between two instants.

Design choices (why, not what):

* Public holidays, substituted days off and make-up Saturdays come from the ``holidays``
  package (``VN``), whose ``is_working_day`` already encodes the government's yearly
  exchange decisions. Building those objects is slow, so they are cached per year and folded
  into a per-year lookup table.
* A province may override any date (``True`` = work that day, ``False`` = day off). Overrides
  win over the package because provincial decisions (e.g. a Tết bridge) are published after
  the package's data and are the authority for that province.
* Everything is computed in integer seconds of wall-clock time in the calendar's zone
  (Asia/Ho_Chi_Minh has no DST), so results are exact and reproducible. Sub-second parts of
  input instants are truncated: legal deadlines are never expressed below the second, and
  truncation keeps every sum an integer.
* A budget that runs out exactly at the end of a working period ends AT that instant (e.g.
  17:00), never at the next morning's opening: the deadline is the end of the last working
  period actually consumed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DEFAULT_PERIODS",
    "VIETNAM_TZ",
    "OfficeHours",
    "WorkingCalendar",
]

VIETNAM_TZ: ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(11, 30)),
    (time(13, 0), time(17, 0)),
)

#: How many consecutive calendar days without a single working period may be scanned before
#: giving up. A real calendar never has such a gap; a misconfigured one (every day overridden
#: to a day off) would otherwise loop forever.
MAX_IDLE_DAYS: int = 20 * 366

_SECONDS_PER_DAY = 24 * 3600
#: Where `WorkingCalendar.working_seconds_before` counts from.
EPOCH_YEAR = 2024
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


# ---------------------------------------------------------------------------
# Office hours
# ---------------------------------------------------------------------------


def _time_to_seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _seconds_to_time(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _parse_time(text: str, spec: str) -> time:
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ValueError(f"Invalid time {text.strip()!r} in office hours {spec!r} (want HH:MM).")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    try:
        return time(hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"Invalid time {text.strip()!r} in office hours {spec!r}.") from exc


def _format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


@dataclass(frozen=True)
class OfficeHours:
    """The working periods of one working day, in local wall-clock time.

    Periods are half-open ``[start, end)``: an instant equal to ``end`` is outside the period,
    but a deadline may still land exactly on it (see :meth:`WorkingCalendar.add_working_seconds`).
    """

    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS

    def __post_init__(self) -> None:
        # Accept lists from callers/config but store tuples so instances stay hashable.
        try:
            periods = tuple((start, end) for start, end in self.periods)
        except (TypeError, ValueError) as exc:
            raise ValueError("Office hours must be a sequence of (start, end) pairs.") from exc
        if not periods:
            raise ValueError("Office hours need at least one working period.")
        previous_end: time | None = None
        for start, end in periods:
            for value in (start, end):
                if not isinstance(value, time):
                    raise ValueError(f"Office hours must use datetime.time values, got {value!r}.")
                if value.tzinfo is not None:
                    raise ValueError("Office hours are wall-clock times and must be naive.")
                if value.microsecond:
                    raise ValueError("Office hours are counted in whole seconds.")
            if not start < end:
                raise ValueError(f"Working period {start}-{end} must start before it ends.")
            if previous_end is not None and start < previous_end:
                raise ValueError(
                    "Working periods must be sorted and non-overlapping "
                    f"({start} starts before {previous_end})."
                )
            previous_end = end
        object.__setattr__(self, "periods", periods)

    @cached_property
    def period_seconds(self) -> tuple[tuple[int, int], ...]:
        """Periods as ``(start, end)`` seconds since local midnight."""
        return tuple((_time_to_seconds(s), _time_to_seconds(e)) for s, e in self.periods)

    @cached_property
    def day_seconds(self) -> int:
        """Length of one working day: the sum of the periods (8 h = 28 800 s by default)."""
        return sum(end - start for start, end in self.period_seconds)

    @classmethod
    def parse(cls, spec: str) -> OfficeHours:
        """Parse ``"07:30-11:30,13:00-17:00"`` (spaces allowed, ``HH:MM`` or ``HH:MM:SS``)."""
        if not isinstance(spec, str) or not spec.strip():
            raise ValueError("Office hours specification is empty.")
        periods: list[tuple[time, time]] = []
        for chunk in spec.split(","):
            bounds = chunk.split("-")
            if len(bounds) != 2:
                raise ValueError(
                    f"Invalid working period {chunk.strip()!r} in {spec!r} (want HH:MM-HH:MM)."
                )
            periods.append((_parse_time(bounds[0], spec), _parse_time(bounds[1], spec)))
        return cls(tuple(periods))

    def format(self) -> str:
        """Inverse of :meth:`parse`: ``"07:30-11:30,13:00-17:00"``."""
        return ",".join(f"{_format_time(s)}-{_format_time(e)}" for s, e in self.periods)

    def __str__(self) -> str:
        return self.format()


# ---------------------------------------------------------------------------
# Vietnamese public holidays (cached per year)
# ---------------------------------------------------------------------------


@cache
def _vietnam_holidays(year: int) -> holidays.HolidayBase:
    """The ``holidays`` object for one year; building it is costly, so it is built once."""
    return holidays.country_holidays("VN", years=year)


@cache
def _vietnam_working_table(year: int) -> tuple[bool, ...]:
    """``table[day_of_year - 1]`` is the package's verdict for that day.

    Precomputing the year turns every later lookup into a tuple index, which is what keeps a
    1 000-working-day deadline computation in the low milliseconds.
    """
    calendar = _vietnam_holidays(year)
    first = date(year, 1, 1)
    length = (date(year + 1, 1, 1) - first).days
    return tuple(calendar.is_working_day(first + timedelta(days=i)) for i in range(length))


def _is_vietnam_working_day(day: date) -> bool:
    return _vietnam_working_table(day.year)[day.timetuple().tm_yday - 1]


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


def _to_decimal(value: int | Decimal | float, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise TypeError(f"{what} must be a number, got {value!r}.")
    # str() of a float is its shortest round-trip repr, so 0.1 becomes Decimal("0.1") rather
    # than the binary expansion 0.1000000000000000055...
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}.")
    if number < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}.")
    return number


class WorkingCalendar:
    """Working days and office hours of one province.

    ``overrides`` maps a date to ``True`` ("workday": make a weekend day or holiday a working
    day) or ``False`` ("dayoff": remove a working day). Overrides win over the national
    calendar from the ``holidays`` package.
    """

    def __init__(
        self,
        office_hours: OfficeHours | None = None,
        overrides: Mapping[date, bool] | None = None,
        tz: ZoneInfo = VIETNAM_TZ,
    ) -> None:
        self.office_hours: OfficeHours = office_hours if office_hours is not None else OfficeHours()
        self.tz: ZoneInfo = tz
        checked: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            # datetime is a subclass of date but never equal to one, so a datetime key would
            # silently never match: reject it.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"Override keys must be dates, got {day!r}.")
            if not isinstance(working, bool):
                raise TypeError(f"Override for {day} must be True (workday) or False (dayoff).")
            checked[day] = working
        self.overrides: Mapping[date, bool] = checked
        self._periods: tuple[tuple[int, int], ...] = self.office_hours.period_seconds
        self._day_seconds: int = self.office_hours.day_seconds
        self._opening: int = self._periods[0][0]
        #: year → working days counted from 1 January up to each day of the year (exclusive),
        #: built on first use: counting the working days of a long span is then two look-ups.
        self._days_before: dict[int, list[int]] = {}
        #: The last end given to `working_seconds_between` and its `working_seconds_before`:
        #: a scan that measures many clocks up to the same "now" computes that end once.
        self._last_end: tuple[datetime | None, int] = (None, 0)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(office_hours={self.office_hours.format()!r}, "
            f"overrides={len(self.overrides)}, tz={self.tz.key!r})"
        )

    # -- days ---------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day: override first, then the national calendar."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day() takes a date; convert the datetime explicitly.")
        override = self.overrides.get(day)
        if override is not None:
            return override
        return _is_vietnam_working_day(day)

    def _year_table(self, year: int) -> list[int]:
        """``table[i]``: working days of ``year`` before its day number ``i + 1``; the last
        entry is the year's total."""
        table = self._days_before.get(year)
        if table is None:
            first = date(year, 1, 1)
            length = (date(year + 1, 1, 1) - first).days
            table = [0] * (length + 1)
            for offset in range(length):
                working = self.is_working_day(first + timedelta(days=offset))
                table[offset + 1] = table[offset] + working
            self._days_before[year] = table
        return table

    def _working_days_before(self, day: date) -> int:
        """Working days from 1 January of ``day``'s year up to ``day`` (exclusive)."""
        return self._year_table(day.year)[day.timetuple().tm_yday - 1]

    def working_days_in(self, first: date, last: date) -> int:
        """Working days in ``[first, last)`` (0 when ``last`` is not after ``first``)."""
        if last <= first:
            return 0
        if first.year == last.year:
            return self._working_days_before(last) - self._working_days_before(first)
        total = self._year_table(first.year)[-1] - self._working_days_before(first)
        for year in range(first.year + 1, last.year):
            total += self._year_table(year)[-1]
        return total + self._working_days_before(last)

    # -- helpers ------------------------------------------------------------

    def _localize(self, at: datetime) -> datetime:
        if not isinstance(at, datetime):
            raise TypeError(f"Expected a datetime, got {at!r}.")
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"Naive datetime {at.isoformat()} rejected: give a timezone.")
        return at.astimezone(self.tz)

    def _position(self, at: datetime) -> tuple[date, int]:
        """Local day and whole seconds since local midnight (sub-second part truncated)."""
        local = self._localize(at)
        return local.date(), local.hour * 3600 + local.minute * 60 + local.second

    def _instant(self, day: date, seconds: int) -> datetime:
        return datetime.combine(day, _seconds_to_time(seconds), tzinfo=self.tz)

    # -- instants -----------------------------------------------------------

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself if it lies inside a working period, else the next period start.

        Periods are half-open, so 17:00 sharp is outside and rolls to the next opening.
        """
        local = self._localize(at)
        day, pos = self._position(local)
        if self.is_working_day(day):
            for start, end in self._periods:
                if start <= pos < end:
                    return local
        idle = 0
        while True:
            if self.is_working_day(day):
                for start, _end in self._periods:
                    if pos <= start:
                        return self._instant(day, start)
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError("No working day found within 20 years: check the overrides.")
            day += timedelta(days=1)
            pos = 0

    def add_working_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant at which ``seconds`` of working time received at ``start`` are used up.

        ``seconds == 0`` returns ``start`` itself (in the calendar zone): nothing is consumed,
        so there is no reason to move to the next opening. Otherwise consumption starts at
        ``start`` or, outside office hours, at the next opening, and proceeds period by
        period. When the budget is exhausted exactly at a period's end, that end is returned.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise TypeError(f"seconds must be an int, got {seconds!r}.")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}.")
        local = self._localize(start)
        if seconds == 0:
            return local
        day, pos = self._position(local)
        remaining = seconds
        periods = self._periods
        day_seconds = self._day_seconds
        opening = self._opening
        one_day = timedelta(days=1)
        idle = 0
        while True:
            if self.is_working_day(day):
                if pos <= opening and remaining > day_seconds:
                    # Whole day consumed; strictly greater so that a budget ending exactly at
                    # the day's close is resolved below and returns that close.
                    remaining -= day_seconds
                    idle = 0
                else:
                    for period_start, period_end in periods:
                        if pos >= period_end:
                            continue
                        pos = max(pos, period_start)
                        available = period_end - pos
                        if remaining <= available:
                            return self._instant(day, pos + remaining)
                        remaining -= available
                        pos = period_end
                        idle = 0
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError("No working day found within 20 years: check the overrides.")
            day += one_day
            pos = 0

    def due(self, start: datetime, working_days: int | Decimal | float) -> datetime:
        """Deadline for ``working_days`` working days received at ``start``.

        One working day is :attr:`OfficeHours.day_seconds` of working time, so fractions are
        allowed (0.5 day = 4 h with default hours). The budget is rounded to the nearest whole
        second (halves up); exact for every fraction a statute actually uses.
        """
        days = _to_decimal(working_days, "working_days")
        seconds = (days * self._day_seconds).to_integral_value(rounding=ROUND_HALF_UP)
        return self.add_working_seconds(start, int(seconds))

    def add_working_hours(self, start: datetime, hours: int | Decimal | float) -> datetime:
        """Like :meth:`due` but the budget is in working hours (rounded to the second)."""
        amount = _to_decimal(hours, "hours")
        seconds = (amount * 3600).to_integral_value(rounding=ROUND_HALF_UP)
        return self.add_working_seconds(start, int(seconds))

    # -- measuring ----------------------------------------------------------

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        """Working seconds in ``[start, end]``; negative when ``end`` precedes ``start``.

        Inverse of :meth:`add_working_seconds`:
        ``working_seconds_between(s, add_working_seconds(s, n)) == n``.
        """
        last = self._last_end
        if last[0] is end:
            until_end = last[1]
        else:
            until_end = self.working_seconds_before(end)
            self._last_end = (end, until_end)
        return until_end - self.working_seconds_before(start)

    def working_seconds_before(self, at: datetime) -> int:
        """Working seconds from 1 January ``EPOCH_YEAR`` (local) up to ``at`` (negative
        before it): the difference of two of these is the working time between them."""
        day, position = self._position(at)
        epoch = date(EPOCH_YEAR, 1, 1)
        if day >= epoch:
            days = self.working_days_in(epoch, day)
        else:
            days = -self.working_days_in(day, epoch)
        total = days * self._day_seconds
        if self.is_working_day(day):
            total += self._seconds_within(0, position)
        return total

    def _seconds_within(self, low: int, high: int) -> int:
        """Office seconds between two positions (seconds after midnight) of one working day."""
        if low == 0 and high == _SECONDS_PER_DAY:
            return self._day_seconds
        total = 0
        for period_start, period_end in self._periods:
            overlap = min(high, period_end) - max(low, period_start)
            if overlap > 0:
                total += overlap
        return total

    def working_hours_between(self, start: datetime, end: datetime) -> Decimal:
        """:meth:`working_seconds_between` in hours, exact (``Decimal``, e.g. ``Decimal('8')``)."""
        seconds = self.working_seconds_between(start, end)
        return Decimal(seconds) / Decimal(3600)
