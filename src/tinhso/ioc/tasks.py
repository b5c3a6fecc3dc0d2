"""Background jobs of the operations centre (django-tasks), run on schedule by the worker
loop (`tinhso.core.schedule`). They orchestrate; the work is in `alerts`."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from tinhso.core import schedule
from tinhso.ioc import alerts, snapshots


@task()
def evaluate_alerts() -> int:
    """Evaluate every active alert rule; returns the number of alerts raised."""
    return sum(1 for o in alerts.evaluate_all() if o.result == alerts.Result.RAISED)


@task()
def snapshot_open_dossiers() -> int:
    """Count the open dossiers of every agency for the dashboards (`ioc.snapshots`)."""
    return snapshots.take()


schedule.register("ioc.alerts", evaluate_alerts, every=timedelta(minutes=5))
schedule.register(snapshots.JOB, snapshot_open_dossiers, every=timedelta(seconds=30))
