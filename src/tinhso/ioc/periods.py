"""Reporting periods: a day, a month, a quarter, a year or any range of days, always whole
local days (Asia/Ho_Chi_Minh), because the index and the rollups count by the calendar day
an event happened on in the province, not by UTC.

Plain Python. A period has a short text form that the API, targets and alert rules store:
`2026-03-15` (day), `2026-03` (month), `2026-Q1` (quarter), `2026` (year),
`2026-03-01..2026-04-15` (custom, both ends included)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

#: The longest custom range accepted (a bit more than a year): longer ranges are years.
MAX_CUSTOM_DAYS = 400


class PeriodKind(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def local_tz() -> ZoneInfo:
    """The province's zone (settings.TIME_ZONE): days are counted in it, whatever zone a
    request may have activated."""
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: datetime) -> date:
    return at.astimezone(local_tz()).date()


class PeriodError(ValueError):
    """A period text that cannot be read."""


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """The days `first`..`last` (both included)."""

    kind: PeriodKind
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(_("A period cannot end before it starts."))

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(PeriodKind.DAY, day, day)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(PeriodKind.MONTH, date(year, month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError(_("A quarter is 1 to 4."))
        first_month = 3 * (quarter - 1) + 1
        return cls(
            PeriodKind.QUARTER, date(year, first_month, 1), _month_end(year, first_month + 2)
        )

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(
                _("A custom period is at most %(days)s days.") % {"days": MAX_CUSTOM_DAYS}
            )
        return cls(PeriodKind.CUSTOM, first, last)

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        """The day, month, quarter or year that `day` falls in."""
        if kind == PeriodKind.DAY:
            return cls.day(day)
        if kind == PeriodKind.MONTH:
            return cls.month(day.year, day.month)
        if kind == PeriodKind.QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        if kind == PeriodKind.YEAR:
            return cls.year(day.year)
        raise PeriodError(_("Unknown period kind %(kind)s.") % {"kind": kind})

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        """The `days` days ending with `today` (an alert's window: "over 30 days")."""
        if days < 1:
            raise PeriodError(_("A window has at least one day."))
        return cls.custom(today - timedelta(days=days - 1), today)

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        try:
            if ".." in text:
                start, _sep, end = text.partition("..")
                return cls.custom(
                    date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
                )
            if m := _DAY.match(text):
                return cls.day(date(int(m[1]), int(m[2]), int(m[3])))
            if m := _MONTH.match(text):
                return cls.month(int(m[1]), int(m[2]))
            if m := _QUARTER.match(text):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := _YEAR.match(text):
                return cls.year(int(m[1]))
        except PeriodError:
            raise
        except ValueError as exc:  # a 13th month, 30 February, …
            raise PeriodError(_("%(text)s is not a date that exists.") % {"text": text}) from exc
        raise PeriodError(
            _("Give a period as 2026-03-15, 2026-03, 2026-Q1, 2026 or 2026-03-01..2026-04-15.")
        )

    # --- reading ----------------------------------------------------------------------------

    def __str__(self) -> str:
        if self.kind == PeriodKind.DAY:
            return self.first.isoformat()
        if self.kind == PeriodKind.MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == PeriodKind.YEAR:
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def start(self, tz: ZoneInfo | None = None) -> datetime:
        """The first instant of the period (local midnight of its first day)."""
        return datetime.combine(self.first, time(), tzinfo=tz or local_tz())

    def end(self, tz: ZoneInfo | None = None) -> datetime:
        """The first instant after the period (exclusive end)."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=tz or local_tz())

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range of the same length)."""
        if self.kind == PeriodKind.CUSTOM:
            return Period.custom(
                self.first - timedelta(days=self.days), self.first - timedelta(days=1)
            )
        return Period.containing(self.kind, self.first - timedelta(days=1))


__all__ = ["MAX_CUSTOM_DAYS", "Period", "PeriodError", "PeriodKind", "local_day", "local_tz"]
