"""Periods and the formulas as plain Python: no database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from tinhso.ioc import formulas as f
from tinhso.ioc.formulas import Missing, Unit
from tinhso.ioc.models import COUNTERS
from tinhso.ioc.periods import Period, PeriodError, PeriodKind
from tinhso.ioc.scopes import Scope, ScopeKind


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-03-15", PeriodKind.DAY, date(2026, 3, 15), date(2026, 3, 15)),
        ("2026-02", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-03-01..2026-04-15", PeriodKind.CUSTOM, date(2026, 3, 1), date(2026, 4, 15)),
    ],
)
def test_periods_read_and_write_their_text_form(text, kind, first, last):
    period = Period.parse(text)
    assert (period.kind, period.first, period.last) == (kind, first, last)
    assert str(period) == text


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-02-30", "2026-Q5", "soon", "2026-04-01..2026-03-01"]
)
def test_bad_periods_are_refused(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_a_period_runs_from_local_midnight_to_the_next(settings):
    march = Period.month(2026, 3)
    assert march.start().isoformat() == "2026-03-01T00:00:00+07:00"
    assert march.end().isoformat() == "2026-04-01T00:00:00+07:00"
    assert march.previous() == Period.month(2026, 2)
    assert Period.quarter(2026, 1).previous() == Period.quarter(2025, 4)
    assert Period.last_days(30, date(2026, 3, 30)).first == date(2026, 3, 1)
    assert Period.containing("quarter", date(2026, 5, 9)) == Period.quarter(2026, 2)
    with pytest.raises(PeriodError):
        Period.custom(date(2025, 1, 1), date(2026, 6, 1))  # longer than a year: ask for years


def test_scopes_have_a_text_form():
    assert Scope.parse("agency:12") == Scope(ScopeKind.AGENCY, 12)
    assert Scope.parse("province") == Scope(ScopeKind.PROVINCE)
    assert str(Scope(ScopeKind.UNIT, 3)) == "unit:3"


def test_rates_round_half_up_and_say_why_they_are_missing():
    assert f.rate(2, 3).value == Decimal("66.67")
    assert f.rate(1, 8).value == Decimal("12.50")
    assert f.rate(1, 800).value == Decimal("0.13")  # 0.125 rounds up
    empty = f.rate(0, 0)
    assert empty.value is None and empty.missing == Missing.NO_DOSSIERS
    assert f.hours(37_800, 1).value == Decimal("10.50")
    assert f.not_held(Unit.PERCENT, "why").missing == Missing.NOT_HELD


def test_flow_holds_every_rollup_counter():
    assert set(COUNTERS) <= set(f.Flow.__dataclass_fields__)


def test_index_on_time_adds_withdrawn_and_open_dossiers():
    flow = f.Flow(done=5, done_early=2, done_on_time=2, withdrawn_received=1, withdrawn_on_time=1)
    value = f.on_time_766(flow=flow, open_at_end=f.OpenAtEnd(open=4, within=2))
    assert (value.numerator, value.denominator) == (7, 10)


def test_satisfaction_with_dossier_handling_subtracts_overdue_and_negative_shares():
    flow = f.Flow(done=10, done_early=9, done_late=1)
    ratings = f.Ratings(count=4, sum_overall=14, satisfied=3, negative=1)
    value = f.dossier_handling_satisfaction(flow=flow, open_at_end=f.OpenAtEnd(), ratings=ratings)
    # 100 − 10 (1 late of 10) − 10 (1 negative rating over 10 done) = 80, partial.
    assert value.exact == Fraction(80) and value.partial and value.note
    worst = f.dossier_handling_satisfaction(
        flow=f.Flow(done=1, done_late=1), open_at_end=f.OpenAtEnd(), ratings=f.Ratings(negative=1)
    )
    assert worst.exact == 0  # never below 0


def test_datetimes_in_event_data_are_read_back():
    from tinhso.ioc.facts import _parse_instant

    assert _parse_instant("2026-03-04T17:00:00+07:00") == datetime.fromisoformat(
        "2026-03-04T17:00:00+07:00"
    )
    assert _parse_instant("2026-03-04T10:00:00Z").utcoffset().total_seconds() == 0
    assert _parse_instant(None) is None and _parse_instant("garbage") is None
