"""Background jobs of the payments app (django-tasks), run on schedule by the worker loop
(`tinhso.core.schedule`). They orchestrate; the work is in `services` and `reconcile`."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone
from django_tasks import task

from tinhso.core import schedule
from tinhso.payments import reconcile, services


@task()
def reconcile_yesterday() -> str:
    """Compare yesterday's gateway report with our records; alerts on mismatches."""
    day = timezone.localdate() - timedelta(days=1)
    return reconcile.reconcile_day(day=day, ran_by="daily task").status


@task()
def expire_bills() -> int:
    return services.bills_expire_due()


@task()
def query_pending_orders() -> int:
    """Orders whose notification never came: ask the gateway."""
    return services.orders_query_pending()


schedule.register("payments.reconcile", reconcile_yesterday, daily_at=time(6, 0))
schedule.register("payments.expire_bills", expire_bills, every=timedelta(hours=1))
schedule.register("payments.query_pending", query_pending_orders, every=timedelta(minutes=5))
