"""Tests for the working-time calendar (pure Python, no Django needed).

Default office hours: 07:30–11:30 and 13:00–17:00, i.e. one working day = 8 h = 28 800 s.
Expected deadlines below are worked out by hand in the comments next to them.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinhso.core import working_calendar as wc
from tinhso.core.working_calendar import (
    DEFAULT_PERIODS,
    VIETNAM_TZ,
    OfficeHours,
    WorkingCalendar,
)

DAY = 8 * 3600


def vn(text: str) -> datetime:
    """A +07:00 instant from ``"YYYY-MM-DD HH:MM"``."""
    return datetime.fromisoformat(text).replace(tzinfo=VIETNAM_TZ)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# ---------------------------------------------------------------------------
# Office hours
# ---------------------------------------------------------------------------


def test_default_office_hours_are_two_periods_of_eight_hours_total() -> None:
    hours = OfficeHours()
    assert hours.periods == DEFAULT_PERIODS == ((time(7, 30), time(11, 30)), (time(13), time(17)))
    assert hours.day_seconds == DAY
    assert hours.format() == "07:30-11:30,13:00-17:00"


def test_office_hours_parse_and_format_round_trip() -> None:
    hours = OfficeHours.parse(" 08:00-12:00 , 13:30-17:30 ")
    assert hours.periods == ((time(8), time(12)), (time(13, 30), time(17, 30)))
    assert hours.format() == "08:00-12:00,13:30-17:30"
    assert OfficeHours.parse(hours.format()) == hours
    assert OfficeHours.parse("07:30-11:30,13:00-17:00") == OfficeHours()
    assert OfficeHours.parse("7:00-11:00:30").format() == "07:00-11:00:30"


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "07:30",
        "07:30-",
        "07:30-11:30-13:00",
        "07:30-11:30;13:00-17:00",
        "7h30-11h30",
        "25:00-26:00",
        "07:61-08:00",
        "11:30-07:30",
        "07:30-07:30",
        "07:30-11:30,11:00-17:00",
        "13:00-17:00,07:30-11:30",
        "07:30-11:30,",
    ],
)
def test_office_hours_parse_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        OfficeHours.parse(spec)


def test_office_hours_constructor_validates_periods() -> None:
    with pytest.raises(ValueError):
        OfficeHours(())
    with pytest.raises(ValueError):
        OfficeHours(((time(17), time(13)),))
    with pytest.raises(ValueError):
        OfficeHours(((time(13), time(17)), (time(7, 30), time(11, 30))))
    with pytest.raises(ValueError):
        OfficeHours(((time(7, 30), time(12)), (time(11, 30), time(17))))
    # Touching periods are allowed (no gap, no overlap).
    assert OfficeHours(((time(8), time(12)), (time(12), time(16)))).day_seconds == DAY


def test_office_hours_accept_lists_and_stay_hashable() -> None:
    hours = OfficeHours([[time(8), time(12)], [time(13), time(17)]])  # type: ignore[arg-type]
    assert hours.periods == ((time(8), time(12)), (time(13), time(17)))
    assert hash(hours) == hash(OfficeHours.parse("08:00-12:00,13:00-17:00"))


# ---------------------------------------------------------------------------
# Working days: holidays package and overrides
# ---------------------------------------------------------------------------


def test_tet_2026_and_2027_are_days_off(cal: WorkingCalendar) -> None:
    for day in range(16, 21):
        assert not cal.is_working_day(date(2026, 2, day))
    for day in range(4, 11):
        assert not cal.is_working_day(date(2027, 2, day))
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2027, 2, 11))


def test_make_up_saturday_from_holidays_package_is_a_working_day(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 8, 22))  # Saturday worked in exchange...
    assert not cal.is_working_day(date(2026, 8, 31))  # ...for this Monday off.
    assert not cal.is_working_day(date(2026, 8, 29))  # an ordinary Saturday


def test_overrides_win_over_holidays_package() -> None:
    cal = WorkingCalendar(
        overrides={date(2026, 9, 2): True, date(2026, 3, 11): False, date(2026, 8, 22): False}
    )
    assert cal.is_working_day(date(2026, 9, 2))  # National Day made a working day
    assert not cal.is_working_day(date(2026, 3, 11))  # ordinary Wednesday made a day off
    assert not cal.is_working_day(date(2026, 8, 22))  # package's make-up Saturday cancelled


def test_overrides_must_be_dates_and_booleans() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(overrides={datetime(2026, 3, 7, tzinfo=VIETNAM_TZ): True})
    with pytest.raises(TypeError):
        WorkingCalendar(overrides={date(2026, 3, 7): "workday"})  # type: ignore[dict-item]


def test_holiday_objects_are_built_once_per_year(
    cal: WorkingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    cal.is_working_day(date(2026, 1, 5))  # warm the cache

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("holidays object rebuilt")

    monkeypatch.setattr(wc.holidays, "country_holidays", fail)
    for offset in range(365):
        cal.is_working_day(date(2026, 1, 1) + timedelta(days=offset))
    cal.due(vn("2026-03-02 07:30"), 100)


# ---------------------------------------------------------------------------
# Deadlines across Tết
# ---------------------------------------------------------------------------


def test_three_working_days_across_tet_2026(cal: WorkingCalendar) -> None:
    # Fri 13/02 10:00 → 1.5 h + 4 h = 5.5 h; 14–15 weekend, 16–20 Tết, 21–22 weekend;
    # Mon 23/02 8 h (13.5), Tue 24/02 8 h (21.5), Wed 25/02 2.5 h from 07:30 → 10:00.
    assert cal.due(vn("2026-02-13 10:00"), 3) == vn("2026-02-25 10:00")


def test_five_working_days_across_tet_2027_without_overrides(cal: WorkingCalendar) -> None:
    # Wed 03/02 16:30 → 0.5 h; Thu 04 – Wed 10/02 off (Tết + weekend);
    # Thu 11, Fri 12, Mon 15, Tue 16 → 32.5 h; Wed 17/02 needs 7.5 h:
    # 07:30–11:30 (4 h) then 13:00 + 3.5 h → 16:30.
    assert cal.due(vn("2027-02-03 16:30"), 5) == vn("2027-02-17 16:30")


def test_five_working_days_across_tet_2027_with_bridge_day_off() -> None:
    # Same as above but Thu 11/02 is a provincial bridge day off: Fri 12, Mon 15, Tue 16,
    # Wed 17 → 32.5 h; Thu 18/02 needs 7.5 h → 16:30.
    cal = WorkingCalendar(overrides={date(2027, 2, 11): False})
    assert cal.due(vn("2027-02-03 16:30"), 5) == vn("2027-02-18 16:30")


def test_five_working_days_across_tet_2027_with_saturday_worked() -> None:
    # Sat 13/02 made a working day: Thu 11, Fri 12, Sat 13, Mon 15 → 32.5 h;
    # Tue 16/02 needs 7.5 h → 16:30.
    cal = WorkingCalendar(overrides={date(2027, 2, 13): True})
    assert cal.due(vn("2027-02-03 16:30"), 5) == vn("2027-02-16 16:30")


def test_five_working_days_across_tet_2027_with_bridge_exchanged_for_saturday() -> None:
    # Bridge Thu 11/02 off, worked back on Sat 13/02: Fri 12, Sat 13, Mon 15, Tue 16 →
    # 32.5 h; Wed 17/02 needs 7.5 h → 16:30 (the exchange cancels out).
    cal = WorkingCalendar(overrides={date(2027, 2, 11): False, date(2027, 2, 13): True})
    assert cal.due(vn("2027-02-03 16:30"), 5) == vn("2027-02-17 16:30")


def test_deadline_lands_on_make_up_saturday_from_holidays_package(cal: WorkingCalendar) -> None:
    # Fri 21/08 17:00 is closing time → start Sat 22/08 07:30 (make-up day) → 17:00.
    assert cal.due(vn("2026-08-21 17:00"), 1) == vn("2026-08-22 17:00")


def test_substituted_day_off_and_national_day_are_skipped(cal: WorkingCalendar) -> None:
    # Fri 28/08 16:00 → 1 h; 29–30 weekend, Mon 31/08 substituted off, 1–2/09 National
    # Day; Thu 03/09 needs 7 h: 4 h morning + 3 h from 13:00 → 16:00.
    assert cal.due(vn("2026-08-28 16:00"), 1) == vn("2026-09-03 16:00")


def test_deadline_lands_on_make_up_saturday_from_override() -> None:
    # Fri 06/03 13:00 → 4 h; Sat 07/03 (override) 07:30 + 4 h → 11:30.
    cal = WorkingCalendar(overrides={date(2026, 3, 7): True})
    assert cal.due(vn("2026-03-06 13:00"), 1) == vn("2026-03-07 11:30")
    # Without the override the same budget ends on Monday 09/03 at 11:30.
    assert WorkingCalendar().due(vn("2026-03-06 13:00"), 1) == vn("2026-03-09 11:30")


# ---------------------------------------------------------------------------
# Period boundaries
# ---------------------------------------------------------------------------


def test_deadline_ending_exactly_at_five_pm_is_that_instant(cal: WorkingCalendar) -> None:
    assert cal.due(vn("2026-03-10 07:30"), 1) == vn("2026-03-10 17:00")
    assert cal.due(vn("2026-03-10 13:00"), Decimal("0.5")) == vn("2026-03-10 17:00")
    # Fri 13/03 07:30, 5 days → Thu 19/03 17:00, not Fri 20/03 07:30.
    assert cal.due(vn("2026-03-13 07:30"), 5) == vn("2026-03-19 17:00")


def test_deadline_ending_exactly_at_half_past_eleven_is_that_instant(cal: WorkingCalendar) -> None:
    assert cal.due(vn("2026-03-10 07:30"), 0.5) == vn("2026-03-10 11:30")
    # Mon 09/03 13:00: 4 h Mon + 8 h Tue + 4 h Wed → Wed 11/03 11:30, not 13:00.
    assert cal.due(vn("2026-03-09 13:00"), 2) == vn("2026-03-11 11:30")


def test_start_at_closing_time_rolls_to_next_opening(cal: WorkingCalendar) -> None:
    assert cal.next_opening(vn("2026-03-10 17:00")) == vn("2026-03-11 07:30")
    assert cal.next_opening(vn("2026-03-10 11:30")) == vn("2026-03-10 13:00")
    assert cal.due(vn("2026-03-10 11:30"), 0.5) == vn("2026-03-10 17:00")


def test_next_opening_returns_instant_inside_a_period_unchanged(cal: WorkingCalendar) -> None:
    at = datetime(2026, 3, 10, 9, 15, 42, 123456, tzinfo=VIETNAM_TZ)
    assert cal.next_opening(at) == at
    assert cal.next_opening(vn("2026-03-10 07:30")) == vn("2026-03-10 07:30")


# ---------------------------------------------------------------------------
# Input outside office hours
# ---------------------------------------------------------------------------


def test_input_at_night_starts_at_next_opening(cal: WorkingCalendar) -> None:
    assert cal.next_opening(vn("2026-03-10 22:00")) == vn("2026-03-11 07:30")
    assert cal.next_opening(vn("2026-03-11 05:00")) == vn("2026-03-11 07:30")
    assert cal.due(vn("2026-03-10 22:00"), 1) == vn("2026-03-11 17:00")


def test_input_on_holiday_starts_at_next_opening(cal: WorkingCalendar) -> None:
    # Wed 02/09/2026 is National Day; Thu 03/09 is the next working day.
    assert cal.next_opening(vn("2026-09-02 09:00")) == vn("2026-09-03 07:30")
    assert cal.due(vn("2026-09-02 09:00"), 1) == vn("2026-09-03 17:00")
    # Fri night before Tết 2026 → Mon 23/02.
    assert cal.next_opening(vn("2026-02-13 20:00")) == vn("2026-02-23 07:30")


def test_input_during_lunch_break_starts_at_afternoon_opening(cal: WorkingCalendar) -> None:
    assert cal.next_opening(vn("2026-03-10 12:15")) == vn("2026-03-10 13:00")
    assert cal.due(vn("2026-03-10 12:15"), 0.5) == vn("2026-03-10 17:00")
    assert cal.due(vn("2026-03-10 12:15"), 1) == vn("2026-03-11 11:30")


def test_zero_budget_returns_start_unchanged(cal: WorkingCalendar) -> None:
    night = vn("2026-03-10 22:00")
    assert cal.due(night, 0) == night
    assert cal.add_working_seconds(night, 0) == night
    utc = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    result = cal.add_working_seconds(utc, 0)
    assert result == utc
    assert result.isoformat() == "2026-03-10T22:00:00+07:00"


# ---------------------------------------------------------------------------
# Fractions and hours
# ---------------------------------------------------------------------------


def test_fractional_days_and_hours(cal: WorkingCalendar) -> None:
    start = vn("2026-03-10 10:00")
    # 0.25 day = 2 h: 10:00–11:30 (1.5 h), then 13:00 + 0.5 h → 13:30.
    assert cal.due(start, Decimal("0.25")) == vn("2026-03-10 13:30")
    assert cal.add_working_hours(start, 1.5) == vn("2026-03-10 11:30")
    assert cal.add_working_hours(start, 2) == vn("2026-03-10 13:30")
    assert cal.add_working_hours(start, Decimal("0.1")) == vn("2026-03-10 10:06")
    assert cal.add_working_seconds(start, 1) == vn("2026-03-10 10:00") + timedelta(seconds=1)
    assert cal.due(start, 0.1) == start + timedelta(minutes=48)


@pytest.mark.parametrize("bad", [-1, -0.5, Decimal("-1"), float("nan"), float("inf")])
def test_negative_or_non_finite_budget_is_rejected(cal: WorkingCalendar, bad: object) -> None:
    with pytest.raises(ValueError):
        cal.due(vn("2026-03-10 10:00"), bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cal.add_working_hours(vn("2026-03-10 10:00"), bad)  # type: ignore[arg-type]


def test_negative_seconds_and_non_numbers_are_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_seconds(vn("2026-03-10 10:00"), -1)
    with pytest.raises(TypeError):
        cal.due(vn("2026-03-10 10:00"), "3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cal.due(vn("2026-03-10 10:00"), True)


# ---------------------------------------------------------------------------
# Measuring elapsed working time
# ---------------------------------------------------------------------------


def test_working_hours_between_across_weekend_and_holidays(cal: WorkingCalendar) -> None:
    # Wed 29/04 15:00–17:00 (2 h); 30/04 and 01/05 holidays; 02–03/05 weekend;
    # Mon 04/05 07:30–09:30 (2 h) → 4 h.
    start, end = vn("2026-04-29 15:00"), vn("2026-05-04 09:30")
    assert cal.working_hours_between(start, end) == Decimal(4)
    assert cal.working_seconds_between(start, end) == 4 * 3600
    # Fri 16:00 → Mon 08:30 across a plain weekend: 1 h + 1 h.
    assert cal.working_hours_between(vn("2026-03-13 16:00"), vn("2026-03-16 08:30")) == 2


def test_working_hours_between_reversed_is_negative(cal: WorkingCalendar) -> None:
    start, end = vn("2026-04-29 15:00"), vn("2026-05-04 09:30")
    assert cal.working_hours_between(end, start) == Decimal(-4)
    assert cal.working_seconds_between(end, start) == -4 * 3600


def test_working_time_between_same_day_excludes_lunch(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(vn("2026-03-10 11:00"), vn("2026-03-10 13:30")) == 1
    assert cal.working_seconds_between(vn("2026-03-10 12:00"), vn("2026-03-10 12:30")) == 0
    assert cal.working_hours_between(vn("2026-03-10 07:30"), vn("2026-03-10 17:00")) == 8
    assert cal.working_hours_between(vn("2026-03-10 10:00"), vn("2026-03-10 10:45")) == Decimal(
        "0.75"
    )


# ---------------------------------------------------------------------------
# Other office hours
# ---------------------------------------------------------------------------


def test_province_with_different_office_hours() -> None:
    cal = WorkingCalendar(OfficeHours.parse("08:00-12:00,13:30-17:30"))
    assert cal.next_opening(vn("2026-03-10 07:45")) == vn("2026-03-10 08:00")
    assert cal.due(vn("2026-03-10 07:45"), 1) == vn("2026-03-10 17:30")
    # 10:00–12:00 (2 h) then 13:30 + 2 h → 15:30.
    assert cal.due(vn("2026-03-10 10:00"), 0.5) == vn("2026-03-10 15:30")
    assert cal.due(vn("2026-03-10 12:45"), 0.5) == vn("2026-03-10 17:30")
    assert cal.working_hours_between(vn("2026-03-10 07:30"), vn("2026-03-10 13:00")) == 4


def test_shorter_working_day_scales_day_length() -> None:
    cal = WorkingCalendar(OfficeHours.parse("07:00-11:00,13:30-17:00"))  # 7.5 h/day
    assert cal.office_hours.day_seconds == 27_000
    assert cal.due(vn("2026-03-10 07:00"), 1) == vn("2026-03-10 17:00")
    # Tue 15:00 → 2 h; Wed needs 5.5 h: 4 h morning + 1.5 h from 13:30 → 15:00.
    assert cal.due(vn("2026-03-10 15:00"), 1) == vn("2026-03-11 15:00")


# ---------------------------------------------------------------------------
# Time zones
# ---------------------------------------------------------------------------


def test_naive_datetimes_are_rejected(cal: WorkingCalendar) -> None:
    naive = datetime(2026, 3, 10, 9, 0)
    with pytest.raises(ValueError):
        cal.due(naive, 1)
    with pytest.raises(ValueError):
        cal.add_working_seconds(naive, 0)
    with pytest.raises(ValueError):
        cal.next_opening(naive)
    with pytest.raises(ValueError):
        cal.working_seconds_between(naive, vn("2026-03-10 10:00"))
    with pytest.raises(ValueError):
        cal.working_hours_between(vn("2026-03-10 10:00"), naive)


def test_aware_datetimes_in_utc_are_converted(cal: WorkingCalendar) -> None:
    received = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội
    result = cal.due(received, 1)
    assert result == vn("2026-03-10 17:00")
    assert result.tzinfo == VIETNAM_TZ
    assert result.isoformat() == "2026-03-10T17:00:00+07:00"
    # 15:00 UTC is 22:00 local: after closing.
    assert cal.next_opening(datetime(2026, 3, 10, 15, 0, tzinfo=UTC)).isoformat() == (
        "2026-03-11T07:30:00+07:00"
    )
    assert cal.working_hours_between(received, datetime(2026, 3, 10, 4, 30, tzinfo=UTC)) == 4


# ---------------------------------------------------------------------------
# Robustness and performance
# ---------------------------------------------------------------------------


def test_thousand_working_days_compute_quickly(cal: WorkingCalendar) -> None:
    start = vn("2026-03-10 10:00")
    expected = cal.due(start, 1000)  # warms the per-year holiday cache
    began = clock.perf_counter()
    assert cal.due(start, 1000) == expected
    assert clock.perf_counter() - began < 0.05
    assert cal.working_seconds_between(start, expected) == 1000 * DAY


def test_calendar_without_any_working_day_raises_instead_of_looping() -> None:
    first = date(2026, 1, 1)
    everything_off = {first + timedelta(days=i): False for i in range(21 * 366)}
    cal = WorkingCalendar(overrides=everything_off)
    with pytest.raises(ValueError):
        cal.due(vn("2026-01-01 08:00"), 1)
    with pytest.raises(ValueError):
        cal.next_opening(vn("2026-01-01 08:00"))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_BOUNDARY_TIMES = [
    time(0, 0),
    time(7, 29),
    time(7, 30),
    time(11, 29),
    time(11, 30),
    time(12, 0),
    time(13, 0),
    time(16, 59),
    time(17, 0),
    time(22, 0),
]

_any_minute = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59),
    timezones=st.sampled_from([VIETNAM_TZ, UTC]),
).map(lambda d: d.replace(second=0, microsecond=0))

_at_boundary = st.builds(
    lambda day, t: datetime.combine(day, t, tzinfo=VIETNAM_TZ),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.sampled_from(_BOUNDARY_TIMES),
)

starts = st.one_of(_any_minute, _at_boundary)
day_counts = st.integers(min_value=0, max_value=60)
# Overrides as day offsets from the start date, so they actually fall in the window consumed.
override_offsets = st.dictionaries(
    st.integers(min_value=-1, max_value=100), st.booleans(), max_size=40
)

_DEFAULT = WorkingCalendar()


def _with_offsets(start: datetime, offsets: dict[int, bool]) -> WorkingCalendar:
    base = start.astimezone(VIETNAM_TZ).date()
    return WorkingCalendar(overrides={base + timedelta(days=k): v for k, v in offsets.items()})


def _is_period_end_or_inside(cal: WorkingCalendar, instant: datetime) -> bool:
    local = instant.astimezone(VIETNAM_TZ)
    if not cal.is_working_day(local.date()):
        return False
    return any(start < local.time() <= end for start, end in cal.office_hours.periods)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=day_counts)
def test_property_due_consumes_exactly_n_working_days(start: datetime, n: int) -> None:
    end = _DEFAULT.due(start, n)
    assert _DEFAULT.working_seconds_between(start, end) == n * DAY
    assert end.tzinfo == VIETNAM_TZ
    if n:
        assert end > start
        assert _is_period_end_or_inside(_DEFAULT, end)
    else:
        assert end == start


@settings(max_examples=60, deadline=None)
@given(start=starts, a=day_counts, b=day_counts)
def test_property_due_is_monotonic_in_n(start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert _DEFAULT.due(start, low) <= _DEFAULT.due(start, high)
    if low < high:
        assert _DEFAULT.due(start, low) < _DEFAULT.due(start, high)


@settings(max_examples=200, deadline=None)
@given(start=starts, n=day_counts, offsets=override_offsets)
def test_property_due_with_random_overrides(
    start: datetime, n: int, offsets: dict[int, bool]
) -> None:
    cal = _with_offsets(start, offsets)
    end = cal.due(start, n)
    assert cal.working_seconds_between(start, end) == n * DAY
    if n:
        assert _is_period_end_or_inside(cal, end)
        assert cal.due(start, n - 1) < end


@settings(max_examples=100, deadline=None)
@given(start=starts, seconds=st.integers(min_value=0, max_value=40 * DAY))
def test_property_add_working_seconds_inverts_working_seconds_between(
    start: datetime, seconds: int
) -> None:
    end = _DEFAULT.add_working_seconds(start, seconds)
    assert _DEFAULT.working_seconds_between(start, end) == seconds
    assert _DEFAULT.working_seconds_between(end, start) == -seconds


@settings(max_examples=100, deadline=None)
@given(a=starts, b=starts, c=starts)
def test_property_working_seconds_between_is_additive(
    a: datetime, b: datetime, c: datetime
) -> None:
    total = _DEFAULT.working_seconds_between(a, c)
    assert total == _DEFAULT.working_seconds_between(a, b) + _DEFAULT.working_seconds_between(b, c)


def _walked_seconds(cal: WorkingCalendar, start: datetime, end: datetime) -> int:
    """The reference: working seconds in [start, end] by walking every day (start <= end)."""
    s, e = start.astimezone(VIETNAM_TZ), end.astimezone(VIETNAM_TZ)
    total, day = 0, s.date()
    while day <= e.date():
        if cal.is_working_day(day):
            low = (s - datetime.combine(day, time(0), tzinfo=VIETNAM_TZ)).total_seconds()
            high = (e - datetime.combine(day, time(0), tzinfo=VIETNAM_TZ)).total_seconds()
            low, high = max(low, 0), min(high, 24 * 3600)
            for opening, closing in cal.office_hours.period_seconds:
                total += max(0, min(high, closing) - max(low, opening))
        day += timedelta(days=1)
    return int(total)


@settings(max_examples=150, deadline=None)
@given(
    a=starts,
    b=starts,
    offsets=st.dictionaries(st.integers(min_value=-5, max_value=2000), st.booleans(), max_size=60),
)
def test_property_spans_over_years_count_like_a_walk_over_the_days(
    a: datetime, b: datetime, offsets: dict[int, bool]
) -> None:
    """The year tables that replace the walk over the days count exactly what it counted,
    across years, Tết and a province's overrides."""
    start, end = sorted((a, b))
    cal = _with_offsets(start, offsets)
    assert cal.working_seconds_between(start, end) == _walked_seconds(cal, start, end)
    assert cal.working_seconds_between(end, start) == -_walked_seconds(cal, start, end)
