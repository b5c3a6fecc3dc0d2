"""Periodic jobs run once per period, however many workers loop."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django_tasks import task

from tinhso.core import schedule
from tinhso.core.models import ScheduledRun
from tinhso.core.working_calendar import VIETNAM_TZ

calls: list[str] = []


@task()
def record_call() -> None:
    calls.append("ran")


@task()
def broken() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def jobs(monkeypatch):
    monkeypatch.setattr(schedule, "_jobs", {})
    calls.clear()
    return schedule


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=VIETNAM_TZ)


def test_a_daily_job_runs_once_a_day_after_its_time(db, jobs):
    jobs.register("daily", record_call, daily_at=time(6, 0))
    assert jobs.run_due(at(5, 59)) == []
    assert jobs.run_due(at(6, 0)) == ["daily"]
    assert jobs.run_due(at(6, 1)) == []  # a second worker, or the next loop
    assert jobs.run_due(at(23, 0)) == []
    assert jobs.run_due(at(6, 30, day=25)) == ["daily"]
    assert calls == ["ran", "ran"]


def test_an_interval_job_runs_once_per_slot(db, jobs):
    jobs.register("often", record_call, every=timedelta(minutes=5))
    ran = [jobs.run_due(at(9, minute)) for minute in (0, 1, 4, 5, 9, 10)]
    assert ran == [["often"], [], [], ["often"], [], ["often"]]
    assert ScheduledRun.objects.filter(job="often").count() == 3


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(db, jobs):
    jobs.register("broken", broken, every=timedelta(minutes=5))
    jobs.register("fine", record_call, every=timedelta(minutes=5))
    assert jobs.run_due(at(9)) == ["fine"]
    assert ScheduledRun.objects.get(job="broken").failed


def test_old_runs_are_dropped_but_failures_are_kept_a_month(db, jobs):
    jobs.register("often", record_call, every=timedelta(hours=1))
    failing = jobs.register("broken", broken, every=timedelta(hours=6))
    start = at(0, day=1)
    moments = [start + timedelta(hours=hour) for hour in range(24 * 3)]  # a loop every hour
    for moment in moments:
        jobs.run_due(moment)
    often = ScheduledRun.objects.filter(job="often")
    # A day's worth (ten hourly periods would be less) of the hourly job, and its latest run.
    assert often.count() == 25
    assert often.order_by("slot").first().slot == start + timedelta(hours=47)
    failures = ScheduledRun.objects.filter(job="broken", failed=True).count()
    assert failures == len({failing.slot(moment) for moment in moments})  # all kept
    jobs.run_due(start + timedelta(days=40))
    assert ScheduledRun.objects.filter(job="broken").count() == 1  # the month-old ones went


def test_a_job_needs_exactly_one_period(jobs):
    with pytest.raises(ValueError):
        jobs.register("none", record_call)
    with pytest.raises(ValueError):
        jobs.register("both", record_call, every=timedelta(minutes=1), daily_at=time(1, 0))


def test_the_payments_jobs_are_registered():
    import tinhso.payments.tasks  # noqa: F401

    names = {job.name for job in schedule.jobs()}
    assert {"payments.reconcile", "payments.expire_bills", "payments.query_pending"} <= names
