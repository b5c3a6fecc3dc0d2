"""Periodic jobs (a daily reconciliation, alert evaluation every few minutes): a registry of
django-tasks tasks with their period, run by the worker loop (`tinhso outbox work`).

Each run claims its slot — the job's name and the start of its period — by inserting a
`ScheduledRun` row under a unique constraint, so with several workers a slot runs once. A
slot missed while no worker ran is run at the next loop (only the latest slot, not every
missed one). The task runs in the worker's process (`Task.call`); deployments with a
django-tasks worker can enqueue from the task itself.

Each claim also drops the job's own runs older than `Job.keep` (a day, or ten periods if that
is longer); failed runs stay `KEEP_FAILED` so a failure can still be looked into."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tinhso.core.models import ScheduledRun

logger = logging.getLogger(__name__)

#: How long the runs of a job are kept: at least this, and at least ten of its periods.
KEEP_AT_LEAST = timedelta(days=1)
KEEP_FAILED = timedelta(days=30)


@dataclass(frozen=True)
class Job:
    name: str
    task: object  # a django_tasks Task
    every: timedelta | None = None
    daily_at: time | None = None

    def slot(self, now: datetime) -> datetime | None:
        """The start of the period `now` falls in (local time for daily jobs), or None
        before today's `daily_at`."""
        if self.daily_at is not None:
            local = timezone.localtime(now)
            start = local.replace(
                hour=self.daily_at.hour,
                minute=self.daily_at.minute,
                second=0,
                microsecond=0,
            )
            return start if local >= start else None
        assert self.every is not None
        seconds = int(self.every.total_seconds())
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo or timezone.utc)

    @property
    def keep(self) -> timedelta:
        """How long this job's successful runs are kept."""
        period = self.every if self.every is not None else timedelta(days=1)
        return max(KEEP_AT_LEAST, 10 * period)


_jobs: dict[str, Job] = {}


def register(
    name: str, task: object, *, every: timedelta | None = None, daily_at: time | None = None
) -> Job:
    if (every is None) == (daily_at is None):
        raise ValueError("give exactly one of every= or daily_at=")
    job = Job(name=name, task=task, every=every, daily_at=daily_at)
    _jobs[name] = job
    return job


def jobs() -> list[Job]:
    return list(_jobs.values())


def claim(job: Job, now: datetime) -> bool:
    """Take the job's current slot; False when it is not due or another worker has it."""
    slot = job.slot(now)
    if slot is None:
        return False
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job=job.name, slot=slot, started_at=now)
    except IntegrityError:
        return False
    runs = ScheduledRun.objects.filter(job=job.name)
    runs.filter(slot__lt=slot - job.keep, failed=False).delete()
    runs.filter(slot__lt=slot - KEEP_FAILED).delete()
    return True


def run_due(now: datetime | None = None) -> list[str]:
    """Run every job whose slot is due and unclaimed; returns the names run. A failing job
    is logged and does not stop the others (its slot stays claimed: it runs next period)."""
    moment = now if now is not None else timezone.now()
    ran: list[str] = []
    for job in jobs():
        if not claim(job, moment):
            continue
        try:
            job.task.call()  # type: ignore[attr-defined]
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
            ScheduledRun.objects.filter(job=job.name, slot=job.slot(moment)).update(failed=True)
        else:
            ran.append(job.name)
    return ran
