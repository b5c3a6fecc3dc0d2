"""Loading the formulas' inputs for one scope and period, each at most once per computation
(the index reads the same sums for a dozen rows).

Where they come from:
- flow: the daily rollups (a handful of aggregate sums, `flows.sum_flows`);
- open now: the dossier table through its partial index of open dossiers
  (`dossier_open_by_agency`) — a point-in-time figure that no rollup can hold;
- open at the period's end: for a period still running, the dossier table as now; for a past
  period, the candidate dossiers' events up to the end (their status, appointment, apologies
  and supplement requests then); the candidates come from the unprocessed dossiers' partial
  index and those processed or ended since the end;
- catalog: the procedures and their fee cases as they are today (the catalog keeps no
  history);
- payments, ratings: their own tables, joined to the dossiers received (or rated) in the
  period — no dossier event marks a payment or a rating;
- sync, identity: the dossiers received in the period and their `portal_synced_at` and
  `identity_verified` columns, kept by the national-portal delivery, the e-ID sign-in and the
  population look-up (`dossier_received_by_agency` covers the count)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from tinhso.catalog.models import FeeCase, OnlineAvailability
from tinhso.core.models import Agency
from tinhso.core.selectors import working_calendar_for_id
from tinhso.core.working_calendar import WorkingCalendar
from tinhso.dossiers import deadlines
from tinhso.dossiers.models import Dossier, DossierEvent
from tinhso.dossiers.services import calendar_for_agency
from tinhso.dossiers.states import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    Action,
    Channel,
    OpenTimeliness,
    Status,
)
from tinhso.ioc import closed_days
from tinhso.ioc import formulas as f
from tinhso.ioc.flows import sum_flows, sum_of
from tinhso.ioc.indicators import Input
from tinhso.ioc.models import DailyRollup
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import ResolvedScope

STOPPED_STATUSES = frozenset({Status.SUPPLEMENT_REQUESTED, Status.SUSPENDED})
CHUNK = 1000


def overdue_q(at: datetime) -> Q:
    """Open dossiers past their deadline at `at`, as `deadlines.classify_open` says: the
    clock runs and the appointment has passed, or it stopped with the whole budget used."""
    return Q(received_at__isnull=False) & (
        Q(clock_running=True, due_at__lt=at)
        | Q(clock_running=False, budget_seconds__gt=0, consumed_seconds__gte=F("budget_seconds"))
    )


def late_rules_q() -> Q:
    """Dossiers that count late whatever their clock says: an apology, or (the setting, on
    by default) more than one supplement request."""
    q = Q(apology_count__gt=0)
    if settings.TINHSO_LATE_AFTER_SECOND_SUPPLEMENT:
        q |= Q(supplement_count__gt=1)
    return q


def _parse_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


class Facts:
    """The inputs of the formulas for one resolved scope and period; `now` is the moment
    point-in-time figures are taken at (and whether the period has ended)."""

    def __init__(self, scope: ResolvedScope, period: Period, *, now: datetime | None = None):
        self.scope = scope
        self.period = period
        self.now = now or timezone.now()
        #: Figures "as of now" may come from the worker's snapshots (`ioc.snapshots`) only
        #: when nobody asked for a particular moment.
        self.live = now is None
        self._snapshots: dict[int, Any] | bool | None = False
        self._cache: dict[Input, Any] = {}
        self._fee_bearing_ids: set[int] = set()
        self._due_soon_ids: list[int] | None = None
        self._received: dict[str, int] | None = None
        #: The receiving agency of each due-soon dossier (read with the candidates).
        self.due_soon_agencies: dict[int, int] = {}
        #: Rows of the grouped queries of `selectors.grouped_facts` with this as the whole.
        self.grouped_rows: dict[tuple[str, str], list[Any]] = {}

    def get(self, name: Input) -> Any:
        if name not in self._cache:
            self._cache[name] = getattr(self, f"_load_{name.value}")()
        return self._cache[name]

    def inputs(self, names: Iterable[Input]) -> dict[str, Any]:
        return {name.value: self.get(name) for name in names}

    # --- shared querysets -------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        return self.period.start()

    @property
    def end(self) -> datetime:
        return self.period.end()

    def rollups(self) -> QuerySet[DailyRollup]:
        return DailyRollup.objects.filter(
            self.scope.rollup_q(), day__gte=self.period.first, day__lte=self.period.last
        )

    def dossiers(self) -> QuerySet[Dossier]:
        return Dossier.objects.filter(self.scope.dossier_q())

    def received_in_period(self) -> QuerySet[Dossier]:
        return self.dossiers().filter(received_at__gte=self.start, received_at__lt=self.end)

    def calendar(self) -> WorkingCalendar | None:
        if self.scope.province_id is None:
            return None
        return working_calendar_for_id(self.scope.province_id)

    # --- loaders ----------------------------------------------------------------------------

    def _load_flow(self) -> f.Flow:
        flows = sum_flows(self.scope, self.period.first, self.period.last)
        return flows.get(None, f.Flow())

    def _load_catalog(self) -> f.Catalog:
        procedures = dict(self.scope.procedures().values_list("pk", "online"))
        fee_bearing = set(
            FeeCase.objects.filter(procedure_id__in=list(procedures), amount__gt=0)
            .values_list("procedure_id", flat=True)
            .distinct()
        )
        used = self.procedures_submitted_online()
        online_levels = {OnlineAvailability.FULL, OnlineAvailability.PARTIAL}
        online = {pk for pk, level in procedures.items() if level in online_levels}
        self._fee_bearing_ids = fee_bearing
        return f.Catalog(
            procedures=len(procedures),
            full_online=sum(1 for level in procedures.values() if level == OnlineAvailability.FULL),
            partial_online=sum(
                1 for level in procedures.values() if level == OnlineAvailability.PARTIAL
            ),
            online_capable_used=len(online & used),
            fee_bearing=len(fee_bearing),
            fee_bearing_online=len(fee_bearing & online),
        )

    def procedures_submitted_online(self) -> set[int]:
        """The procedures that received an online submission in the period (the closed
        days' answer is kept, see `closed_days`)."""

        def used(first: date, last: date) -> set[int]:
            return set(
                DailyRollup.objects.filter(
                    self.scope.rollup_q(),
                    day__gte=first,
                    day__lte=last,
                    channel=Channel.ONLINE,
                    submitted__gt=0,
                )
                .order_by()  # the model's ordering would join and DISTINCT the agency's name
                .values_list("procedure_id", flat=True)
                .distinct()
            )

        first, last = self.period.first, self.period.last
        today = closed_days.today()
        if first >= today:
            return used(first, last)
        closed_last = min(last, today - timedelta(days=1))
        found = closed_days.cached(
            ("online procedures", self.scope, first, closed_last),
            lambda: used(first, closed_last),
        )
        return found | used(today, last) if last >= today else set(found)

    def fee_bearing_ids(self) -> set[int]:
        self.get(Input.CATALOG)
        return self._fee_bearing_ids

    def _load_payments(self) -> f.Payments:
        from tinhso.payments.models import Bill, BillStatus, Payment, PaymentMethod

        fee_bill = Bill.objects.filter(dossier=OuterRef("pk"), amount__gt=0).exclude(
            status__in=[BillStatus.CANCELLED, BillStatus.EXEMPTED]
        )
        paid_online = Payment.objects.filter(
            bill__dossier=OuterRef("pk"), method=PaymentMethod.ONLINE
        )
        counts = (
            self.received_in_period()
            .filter(Exists(fee_bill))
            .aggregate(with_fees=Count("pk"), paid=Count("pk", filter=Q(Exists(paid_online))))
        )
        procedures_paid = (
            Payment.objects.filter(
                self.scope.dossier_q("bill__dossier__"),
                method=PaymentMethod.ONLINE,
                paid_at__gte=self.start,
                paid_at__lt=self.end,
                bill__dossier__procedure_id__in=list(self.fee_bearing_ids()),
            )
            .values("bill__dossier__procedure_id")
            .distinct()
            .count()
        )
        return f.Payments(
            dossiers_with_fees=counts["with_fees"],
            dossiers_paid_online=counts["paid"],
            fee_procedures_paid_online=procedures_paid,
        )

    def open_now_counts(self, key: str | None = None) -> Any:
        """The open dossiers' counts now (open, not received, overdue, paused): in total, or
        a row per value of the dossier column `key` (kept in `grouped_rows`, where the
        breakdowns look for them)."""
        now = self.now
        received = Q(received_at__isnull=False)
        counts = {
            "open": Count("pk"),
            "not_received": Count("pk", filter=~received),
            "overdue": Count("pk", filter=overdue_q(now)),
            "paused": Count("pk", filter=received & Q(clock_running=False) & ~overdue_q(now)),
        }
        open_ = self.dossiers().filter(status__in=OPEN_STATUSES).order_by()
        if key is None:
            return open_.aggregate(**counts)
        memo = ("open", key)
        if memo not in self.grouped_rows:
            self.grouped_rows[memo] = list(open_.values(key).annotate(**counts))
        return self.grouped_rows[memo]

    def snapshots(self) -> dict[int, Any] | None:
        """The worker's fresh snapshots of every agency of the scope, or None (count live):
        only for a live `Facts` whose scope is a province, unit or agency."""
        if self._snapshots is False:
            self._snapshots = None
            if self.live and self.scope.agency_grain:
                from tinhso.ioc import snapshots

                self._snapshots = snapshots.fresh(self.scope.agency_ids(), self.now)
        return self._snapshots  # type: ignore[return-value]

    def _load_open_now(self) -> f.OpenNow:
        taken = self.snapshots()
        if taken is not None:
            names = ("open", "not_received", "overdue", "paused", "due_soon")
            return f.OpenNow.from_counts(
                **{name: sum(getattr(s, name) for s in taken.values()) for name in names}
            )
        if self.scope.unit_path and self.scope.agency_grain:
            # A province or unit: its breakdowns by unit and agency need the rows by agency
            # anyway, and the total is their sum (one pass over the open dossiers).
            rows = self.open_now_counts("agency_id")
            names = ("open", "not_received", "overdue", "paused")
            counts = {name: sum(row[name] for row in rows) for name in names}
        else:
            counts = self.open_now_counts()
        return f.OpenNow.from_counts(
            open=counts["open"],
            not_received=counts["not_received"],
            overdue=counts["overdue"],
            paused=counts["paused"],
            due_soon=len(self.due_soon_ids()),
        )

    def due_soon_ids(self) -> list[int]:
        """Open dossiers whose clock runs with at most TINHSO_DUE_SOON_WORKING_DAYS working
        days left now. The calendar narrows the candidates in SQL: a running clock's
        appointment lies as many working seconds after now as it has left, so a dossier with
        at most that many left is due before the instant one working second later (the
        bound holds at an opening or closing hour, and is exact when the calendar has not
        changed since the appointment was set); `classify_open` decides, as the desk does.
        Computed once per `Facts`."""
        if self._due_soon_ids is not None:
            return self._due_soon_ids
        now = self.now
        calendar = self.calendar()
        days = settings.TINHSO_DUE_SOON_WORKING_DAYS
        if calendar is not None:
            horizon = calendar.add_working_seconds(
                now, days * calendar.office_hours.day_seconds + 1
            )
        else:
            horizon = now + timedelta(days=3 * days + 14)
        candidates = (
            self.dossiers()
            .filter(
                status__in=OPEN_STATUSES,
                received_at__isnull=False,
                clock_running=True,
                due_at__gte=now,
                due_at__lte=horizon,
            )
            .order_by()
            .values_list(
                "pk",
                "agency_id",
                "budget_seconds",
                "consumed_seconds",
                "clock_running",
                "clock_resumed_at",
                "due_at",
            )
        )
        rows = list(candidates)
        agencies = Agency.objects.select_related("unit").in_bulk({row[1] for row in rows})
        calendars = {pk: calendar_for_agency(agency) for pk, agency in agencies.items()}
        found = []
        for pk, agency_id, budget, consumed, running, resumed_at, due_at in rows:
            dossier_calendar = calendars[agency_id]
            state = deadlines.classify_open(
                clock=deadlines.Clock(budget, consumed, running, resumed_at, due_at),
                calendar=dossier_calendar,
                at=now,
                due_soon_seconds=days * dossier_calendar.office_hours.day_seconds,
                received=True,
            )
            if state == OpenTimeliness.DUE_SOON:
                found.append(pk)
                self.due_soon_agencies[pk] = agency_id
        self._due_soon_ids = found
        return found

    # --- open at the period's end -------------------------------------------------------------

    def _load_open_at_end(self) -> f.OpenAtEnd:
        taken = self.snapshots() if self.end > self.now else None
        if taken is not None:
            opened = sum(s.unprocessed for s in taken.values())
            late = sum(s.unprocessed_late for s in taken.values())
            return f.OpenAtEnd(open=opened, within=opened - late)
        if self.end > self.now:
            late = late_rules_q() | overdue_q(self.now)
            opened = late_count = 0
            for part in self.open_at_end_parts():
                counts = part.aggregate(open=Count("pk"), late=Count("pk", filter=late))
                opened += counts["open"]
                late_count += counts["late"]
            return f.OpenAtEnd(open=opened, within=opened - late_count)
        return self._open_at_past_end()

    def open_at_end_parts(self) -> tuple[QuerySet[Dossier], QuerySet[Dossier]]:
        """`open_at_end_queryset` as two disjoint parts, each read through its own index: the
        dossiers neither processed nor ended yet (the partial index
        `dossier_unprocessed_by_agency`, which holds every column the counts need), and those
        processed or ended since the cutoff (a range of `processed_at` / `ended_at`; none
        when the cutoff is now)."""
        cutoff = min(self.end, self.now)
        unprocessed = self.dossiers().filter(
            received_at__lt=cutoff, processed_at__isnull=True, ended_at__isnull=True
        )
        since = (
            self.dossiers()
            .filter(received_at__lt=cutoff)
            .filter(Q(processed_at__gte=cutoff) | Q(ended_at__gte=cutoff))
            .filter(Q(processed_at__isnull=True) | Q(processed_at__gte=cutoff))
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=cutoff))
        )
        return unprocessed.order_by(), since.order_by()  # counts and ids: no sort

    def open_at_end_queryset(self) -> QuerySet[Dossier]:
        """Received dossiers whose processing had not ended by the period's end (or by now,
        for a period still running)."""
        cutoff = min(self.end, self.now)
        return (
            self.dossiers()
            .filter(received_at__lt=cutoff)
            .filter(Q(processed_at__isnull=True) | Q(processed_at__gte=cutoff))
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=cutoff))
            # Implied by the two conditions above; spelled out so that the planner can
            # combine three small index reads (see `open_at_end_parts`) instead of the
            # scope's whole history.
            .filter(
                Q(processed_at__isnull=True, ended_at__isnull=True)
                | Q(processed_at__gte=cutoff)
                | Q(ended_at__gte=cutoff)
            )
        )

    def open_at_end_late_ids(self) -> list[int]:
        if self.end > self.now:
            late = late_rules_q() | overdue_q(self.now)
            return [
                pk
                for part in self.open_at_end_parts()
                for pk in part.filter(late).values_list("pk", flat=True)
            ]
        return list(self.get(Input.OPEN_AT_END).late_ids)

    def _open_at_past_end(self) -> f.OpenAtEnd:
        """Each candidate judged by its events up to the end: the status it was in, the
        appointment then in force, and the apologies and supplement requests so far."""
        end = self.end
        ids = [pk for part in self.open_at_end_parts() for pk in part.values_list("pk", flat=True)]
        late_after_second = settings.TINHSO_LATE_AFTER_SECOND_SUPPLEMENT
        late_ids: list[int] = []
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first : first + CHUNK]
            events = (
                DossierEvent.objects.filter(dossier_id__in=chunk, at__lt=end)
                .order_by("dossier_id", "seq")
                .values_list("dossier_id", "action", "to_status", "at", "data")
            )
            states: dict[int, dict[str, Any]] = {}
            for dossier_id, action, to_status, at, data in events:
                state = states.setdefault(
                    dossier_id,
                    {"status": "", "due_at": None, "apologies": 0, "requests": 0, "stopped": None},
                )
                due = _parse_instant((data or {}).get("due_at"))
                if due is not None:
                    state["due_at"] = due
                if action == Action.APOLOGIZE:
                    state["apologies"] += 1
                elif action == Action.REQUEST_SUPPLEMENT:
                    state["requests"] += 1
                if to_status in STOPPED_STATUSES and state["status"] != to_status:
                    state["stopped"] = at
                state["status"] = to_status
            for dossier_id, state in states.items():
                if _late_at(state, end, late_after_second):
                    late_ids.append(dossier_id)
        return f.OpenAtEnd(
            open=len(ids), within=len(ids) - len(late_ids), late_ids=tuple(sorted(late_ids))
        )

    # --- ratings, synchronisation, identity ---------------------------------------------------

    def _load_ratings(self) -> f.Ratings:
        from tinhso.portal.models import SatisfactionRating

        counts = SatisfactionRating.objects.filter(
            self.scope.dossier_q("dossier__"), created_at__gte=self.start, created_at__lt=self.end
        ).aggregate(
            count=Count("pk"),
            total=sum_of("overall"),
            satisfied=Count("pk", filter=Q(overall__gte=4)),
            negative=Count("pk", filter=Q(overall__lte=2)),
        )
        return f.Ratings(
            count=counts["count"],
            sum_overall=int(counts["total"]),
            satisfied=counts["satisfied"],
            negative=counts["negative"],
        )

    def synchronised_q(self) -> Q:
        """Dossiers the national portal has accepted (`Dossier.portal_synced_at`, set when its
        "dossier.created" message is delivered)."""
        return Q(portal_synced_at__isnull=False)

    def _received_counts(self) -> dict[str, int]:
        """The dossiers received in the period, synchronised and identity-verified: one
        count (from the `dossier_received_by_agency` index) for both inputs."""
        if self._received is None:
            self._received = self.received_in_period().aggregate(
                received=Count("pk"),
                synchronised=Count("pk", filter=self.synchronised_q()),
                verified=Count("pk", filter=self.identity_q()),
            )
        return self._received

    def _load_sync(self) -> f.Sync:
        counts = self._received_counts()
        return f.Sync(received=counts["received"], synchronised=counts["synchronised"])

    def identity_q(self) -> Q:
        """Dossiers whose applicant's identity was checked against the population database
        (`Dossier.identity_verified`: the owner signed in with e-ID, or a look-up for the
        dossier found the person)."""
        return Q(identity_verified=True)

    def _load_identity(self) -> f.Identity:
        counts = self._received_counts()
        return f.Identity(received=counts["received"], verified=counts["verified"])


def _late_at(state: dict[str, Any], end: datetime, late_after_second: bool) -> bool:
    """Whether an open dossier in `state` at `end` counts late (see `Facts._open_at_past_end`)."""
    if state["apologies"] > 0 or (late_after_second and state["requests"] > 1):
        return True
    due = state["due_at"]
    if due is None:
        return False
    if state["status"] in CLOCK_RUNNING_STATUSES:
        return due < end
    if state["status"] in STOPPED_STATUSES:
        return state["stopped"] is not None and state["stopped"] >= due
    return False


__all__ = [
    "Facts",
    "late_rules_q",
    "overdue_q",
]
