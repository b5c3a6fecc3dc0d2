"""The deadline clock and the on-time classification (design §3.2–3.3, index 766 rule 2.1).

Plain functions over a `WorkingCalendar`: the clock holds a budget of working seconds that is
consumed only while it runs; it stops while the dossier waits for the applicant or is
suspended, and resumes with what was left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tinhso.core.working_calendar import WorkingCalendar
from tinhso.dossiers.states import OpenTimeliness, Timeliness


@dataclass
class Clock:
    budget_seconds: int
    consumed_seconds: int
    running: bool
    resumed_at: datetime | None
    due_at: datetime | None

    def consumed_at(self, calendar: WorkingCalendar, at: datetime) -> int:
        """Working seconds consumed up to `at`."""
        if not self.running or self.resumed_at is None:
            return self.consumed_seconds
        return self.consumed_seconds + max(0, calendar.working_seconds_between(self.resumed_at, at))

    def remaining_at(self, calendar: WorkingCalendar, at: datetime) -> int:
        """Working seconds left before the deadline (negative once it has passed)."""
        return self.budget_seconds - self.consumed_at(calendar, at)


def budget_for(calendar: WorkingCalendar, working_days: Decimal | int) -> int:
    return int(Decimal(working_days) * calendar.office_hours.day_seconds)


def clock_start(calendar: WorkingCalendar, at: datetime, working_days: Decimal | int) -> Clock:
    budget = budget_for(calendar, working_days)
    return Clock(budget, 0, True, at, calendar.add_working_seconds(at, budget))


def clock_stop(clock: Clock, calendar: WorkingCalendar, at: datetime) -> Clock:
    if not clock.running:
        return clock
    return Clock(clock.budget_seconds, clock.consumed_at(calendar, at), False, None, clock.due_at)


def clock_resume(clock: Clock, calendar: WorkingCalendar, at: datetime) -> Clock:
    """Run again with the budget left; a deadline that had already passed stays where it was."""
    if clock.running:
        return clock
    remaining = clock.budget_seconds - clock.consumed_seconds
    due = calendar.add_working_seconds(at, remaining) if remaining > 0 else clock.due_at
    return Clock(clock.budget_seconds, clock.consumed_seconds, True, at, due)


def clock_extend_to(clock: Clock, calendar: WorkingCalendar, new_due_at: datetime) -> Clock:
    """A new appointment (apology): the budget grows by the working time between the old
    deadline and the new one."""
    assert clock.due_at is not None
    extra = max(0, calendar.working_seconds_between(clock.due_at, new_due_at))
    return Clock(
        clock.budget_seconds + extra,
        clock.consumed_seconds,
        clock.running,
        clock.resumed_at,
        new_due_at if clock.running else clock.due_at,
    )


def classify_done(
    *,
    ended_at: datetime,
    due_at: datetime | None,
    apology_count: int,
    supplement_count: int,
    late_after_second_supplement: bool = True,
) -> str:
    """Early / on time / late of a dossier whose processing ended at `ended_at`.

    Late when it ended after the deadline, when an apology moved the appointment (it still
    counts late), or, by default, after more than one supplement request. Early when it
    ended on a calendar day before the deadline's day; on time otherwise."""
    if due_at is None:
        return Timeliness.ON_TIME
    if apology_count > 0 or ended_at > due_at:
        return Timeliness.LATE
    if late_after_second_supplement and supplement_count > 1:
        return Timeliness.LATE
    tz = due_at.tzinfo
    if ended_at.astimezone(tz).date() < due_at.date():
        return Timeliness.EARLY
    return Timeliness.ON_TIME


def classify_open(
    *,
    clock: Clock,
    calendar: WorkingCalendar,
    at: datetime,
    due_soon_seconds: int,
    received: bool,
) -> str:
    """Within deadline / due soon / overdue for an open dossier at `at`."""
    if not received:
        return OpenTimeliness.NOT_STARTED
    if not clock.running:
        if clock.consumed_seconds >= clock.budget_seconds and clock.budget_seconds > 0:
            return OpenTimeliness.OVERDUE
        return OpenTimeliness.PAUSED
    if clock.due_at is not None and at > clock.due_at:
        return OpenTimeliness.OVERDUE
    remaining = clock.remaining_at(calendar, at)
    if remaining <= due_soon_seconds:
        return OpenTimeliness.DUE_SOON
    return OpenTimeliness.WITHIN_DEADLINE
