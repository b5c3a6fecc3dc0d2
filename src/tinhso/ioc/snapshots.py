"""Snapshots of the open dossiers per agency, taken by the worker every 30 seconds.

The dashboards' point-in-time figures (open now, not received, overdue, paused, due soon; and
for a running period, the dossiers open at its end and how many of them are late) are counts
over the open dossiers and a classification of each running clock: about 100 ms for a
province of 2 million dossiers on every page view. `take` counts them once for every agency
of every province with the same code the pages use (`Facts`); `Facts` reads the rows instead
when every agency of its scope has one younger than `TINHSO_IOC_SNAPSHOT_MAX_AGE_SECONDS`
(default 90), and counts live otherwise (no worker, a stale snapshot, a scope below the
agency, an explicit moment). The lists of dossiers behind a figure are always read live, so a
list may differ from its count by what happened in the last seconds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tinhso.core.models import AdministrativeUnit, UnitLevel
from tinhso.ioc.models import OpenSnapshot
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system

JOB = "ioc.snapshots"
FIELDS = (
    "open",
    "not_received",
    "overdue",
    "paused",
    "due_soon",
    "unprocessed",
    "unprocessed_late",
)


def take(*, now: datetime | None = None) -> int:
    """Count the open dossiers of every agency now and replace the snapshots; returns the
    number of agencies written."""
    from tinhso.ioc.facts import Facts, late_rules_q, overdue_q

    moment = now or timezone.now()
    rows: dict[int, OpenSnapshot] = {}
    provinces = AdministrativeUnit.objects.filter(level=UnitLevel.PROVINCE)
    for province in provinces:
        scope = resolve_for_system(Scope(ScopeKind.PROVINCE, province.pk))
        facts = Facts(scope, Period.day(timezone.localdate(moment)), now=moment)
        for agency_id in scope.agency_ids():
            rows[agency_id] = OpenSnapshot(agency_id=agency_id, taken_at=moment)
        for row in facts.open_now_counts("agency_id"):
            snapshot = rows.get(row["agency_id"])
            if snapshot is not None:
                for name in ("open", "not_received", "overdue", "paused"):
                    setattr(snapshot, name, row[name])
        for dossier_id in facts.due_soon_ids():
            snapshot = rows.get(facts.due_soon_agencies[dossier_id])
            if snapshot is not None:
                snapshot.due_soon += 1
        unprocessed, _since = facts.open_at_end_parts()  # cut off now: nothing ended since
        late = late_rules_q() | overdue_q(moment)
        counted = unprocessed.values("agency_id").annotate(
            n=Count("pk"), late=Count("pk", filter=late)
        )
        for row in counted:
            snapshot = rows.get(row["agency_id"])
            if snapshot is not None:
                snapshot.unprocessed, snapshot.unprocessed_late = row["n"], row["late"]
    with transaction.atomic():
        OpenSnapshot.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["agency"],
            update_fields=["taken_at", *FIELDS],
        )
        OpenSnapshot.objects.exclude(agency_id__in=list(rows)).delete()
    return len(rows)


def fresh(agency_ids: Iterable[int], now: datetime) -> dict[int, OpenSnapshot] | None:
    """The snapshots of `agency_ids` if every one of them is younger than the allowed age at
    `now`; None otherwise (count live)."""
    max_age = settings.TINHSO_IOC_SNAPSHOT_MAX_AGE_SECONDS
    wanted = set(agency_ids)
    if max_age <= 0 or not wanted:
        return None
    found = {
        s.agency_id: s
        for s in OpenSnapshot.objects.filter(
            agency_id__in=sorted(wanted),
            taken_at__gte=now - timedelta(seconds=max_age),
            taken_at__lte=now,
        )
    }
    return found if found.keys() == wanted else None


__all__ = ["FIELDS", "JOB", "fresh", "take"]
