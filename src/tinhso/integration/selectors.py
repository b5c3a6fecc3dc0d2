"""Read queries of the exchange monitor: the outbox by adapter and state, delivery latency and
failure rate over the last day, the dead letters, and the personal-data access log.

The outbox is the province's own plumbing (no agency or unit owns a message), so only
province-wide roles read it — the views check that; the access log is scoped like any other
table through `scope`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tinhso.core.models import PROVINCE_WIDE_ROLES
from tinhso.core.scoping import scope
from tinhso.integration.models import MessageState, OutboxMessage, PersonalDataAccess

WINDOW = timedelta(hours=24)
#: The latency statistics read at most this many delivered messages (the newest ones).
LATENCY_SAMPLE = 10_000
#: An export holds at most this many rows.
EXPORT_LIMIT = 50_000

STATES = [state for state, _label in MessageState.choices]


def may_monitor(user: Any) -> bool:
    """Administrators and provincial leaders (and superusers) watch the exchanges."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.agency_id is not None and bool(user.role_set & PROVINCE_WIDE_ROLES)


@dataclass(frozen=True)
class AdapterCounts:
    adapter: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def in_order(self) -> list[int]:
        return [self.counts.get(state, 0) for state in STATES]


def outbox_counts() -> list[AdapterCounts]:
    """Messages per adapter and state (one grouped query)."""
    rows = OutboxMessage.objects.order_by().values("adapter", "state").annotate(n=Count("id"))
    by_adapter: dict[str, dict[str, int]] = {}
    for row in rows:
        by_adapter.setdefault(row["adapter"], {})[row["state"]] = row["n"]
    return [AdapterCounts(adapter=a, counts=c) for a, c in sorted(by_adapter.items())]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Latency:
    count: int
    median_seconds: float
    p95_seconds: float


def delivery_latency(*, now: datetime | None = None, sample: int = LATENCY_SAMPLE) -> Latency:
    """Median and 95th percentile of `delivered_at - created_at` for messages delivered in
    the last 24 hours (the newest `sample` of them)."""
    now = now or timezone.now()
    pairs = (
        OutboxMessage.objects.filter(
            state=MessageState.DELIVERED, delivered_at__gte=now - WINDOW, delivered_at__lte=now
        )
        .order_by("-delivered_at")
        .values_list("created_at", "delivered_at")[:sample]
    )
    seconds = sorted(max(0.0, (done - created).total_seconds()) for created, done in pairs)
    return Latency(
        count=len(seconds),
        median_seconds=percentile(seconds, 0.5),
        p95_seconds=percentile(seconds, 0.95),
    )


@dataclass(frozen=True)
class FailureRate:
    total: int
    failed: int

    @property
    def percent(self) -> float:
        return 100.0 * self.failed / self.total if self.total else 0.0


def failure_rate(*, now: datetime | None = None) -> FailureRate:
    """Of the messages created in the last 24 hours, those that needed more than one attempt
    or died."""
    now = now or timezone.now()
    result = OutboxMessage.objects.filter(created_at__gte=now - WINDOW).aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(attempts__gt=1) | Q(state=MessageState.DEAD)),
    )
    return FailureRate(total=result["total"] or 0, failed=result["failed"] or 0)


def dead_letters(limit: int = 100) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(state=MessageState.DEAD).order_by(
        "-last_attempt_at", "-id"
    )[:limit]


def dead_letter_get(pk: int) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=pk)


# --- the personal-data access log -----------------------------------------------------------


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class AccessFilter:
    """The filters of the access log, read from a query string (bad dates are ignored)."""

    date_from: date | None = None
    date_to: date | None = None
    official: str = ""
    id_number: str = ""
    purpose: str = ""
    source: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AccessFilter:
        return cls(
            date_from=_date(query.get("date_from")),
            date_to=_date(query.get("date_to")),
            official=(query.get("official") or "").strip(),
            id_number=(query.get("id_number") or "").strip(),
            purpose=(query.get("purpose") or "").strip(),
            source=(query.get("source") or "").strip(),
        )

    def as_query(self) -> dict[str, str]:
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "official": self.official,
            "id_number": self.id_number,
            "purpose": self.purpose,
            "source": self.source,
        }
        return {k: v for k, v in values.items() if v}


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_log(user: Any, filters: AccessFilter | None = None) -> QuerySet[PersonalDataAccess]:
    """The reads of personal data `user` may see, newest first, narrowed by `filters`."""
    filters = filters or AccessFilter()
    qs = PersonalDataAccess.objects.select_related("agency")
    if filters.date_from:
        qs = qs.filter(at__gte=_local_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_local_start(filters.date_to + timedelta(days=1)))
    if filters.official:
        qs = qs.filter(actor_label__icontains=filters.official)
    if filters.id_number:
        qs = qs.filter(subject_id_number=filters.id_number)
    if filters.purpose:
        qs = qs.filter(purpose__icontains=filters.purpose)
    if filters.source:
        qs = qs.filter(source=filters.source)
    return scope(qs, user).order_by("-at", "-pk")


def access_sources(user: Any) -> list[str]:
    """The sources seen in the log the user may read (for the filter's choices)."""
    return list(
        scope(PersonalDataAccess.objects.all(), user)
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()
    )
