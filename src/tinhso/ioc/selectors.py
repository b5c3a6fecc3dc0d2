"""Reads of the operations centre, always for a user and inside their scope (`scopes.resolve`
refuses what lies beyond it with `OutOfScope`).

Dashboards and the API call the `*_for` functions with a user; scheduled jobs that act as the
system (alert evaluation) resolve the scope with `scopes.resolve_for_system` and call
`compute`, `compute_index` and `dossiers_behind` on the resolved scope directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog.models import Field, Procedure
from tinhso.core.errors import NotFound, ValidationFailed
from tinhso.core.models import AdministrativeUnit, Agency, Department, User, UserKind
from tinhso.core.scoping import scope as restrict
from tinhso.dossiers.models import Dossier
from tinhso.ioc import formulas, indicators
from tinhso.ioc.drilldown import Drilldown, drilldown
from tinhso.ioc.facts import Facts, late_rules_q, overdue_q
from tinhso.ioc.flows import MONTH, sum_flows, sum_of
from tinhso.ioc.formulas import Flow, OpenAtEnd, OpenNow, Ratings, Value
from tinhso.ioc.index766 import (
    NATIONAL_INDEX,
    IndexResult,
    compute_index,
    compute_value,
    find_row,
    service_index,
)
from tinhso.ioc.indicators import Better, Family, Indicator, Input
from tinhso.ioc.models import Target
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import ResolvedScope, Scope, ScopeKind, require_official, resolve


@dataclass(frozen=True)
class IndicatorResult:
    indicator: Indicator
    scope: ResolvedScope
    period: Period
    at: datetime
    value: Value


def indicator_definitions(*, family: str | None = None) -> list[Indicator]:
    """Every registered indicator (or one family's), in registration order."""
    found = list(indicators.REGISTRY.values())
    if family:
        found = [i for i in found if i.family == family]
    return found


def indicator_get(code: str) -> Indicator:
    indicator = indicators.get(code)
    if indicator is None:
        raise NotFound(_("No indicator %(code)s.") % {"code": code})
    return indicator


# --- on a resolved scope (no user check: the caller resolved it) --------------------------------


def compute(
    code: str, scope: ResolvedScope, period: Period, *, at: datetime | None = None
) -> IndicatorResult:
    """One indicator for a resolved scope and period; point-in-time indicators are taken at
    `at` (default now)."""
    indicator = indicator_get(code)
    facts = Facts(scope, period, now=at)
    return IndicatorResult(indicator, scope, period, facts.now, compute_value(indicator, facts))


def compute_many(
    codes: list[str], scope: ResolvedScope, period: Period, *, at: datetime | None = None
) -> list[IndicatorResult]:
    """Several indicators sharing one load of their inputs (a dashboard's tiles)."""
    facts = Facts(scope, period, now=at)
    return [
        IndicatorResult(i, scope, period, facts.now, compute_value(i, facts))
        for i in (indicator_get(code) for code in codes)
    ]


def dossiers_behind(
    code: str, scope: ResolvedScope, period: Period, *, at: datetime | None = None
) -> Drilldown:
    """The dossiers (or procedures) that pulled indicator `code` down in the scope and
    period, unrestricted by user: `dossiers_behind_for` is the user-facing one."""
    indicator = indicator_get(code)
    facts = Facts(scope, period, now=at)
    if scope.kind not in indicator.levels or not indicator.held:
        return Drilldown("none")
    return drilldown(code, facts)


#: At most this many children in a breakdown (a province's communes fit).
MAX_CHILDREN = 500


def children(parent: ResolvedScope, by: ScopeKind) -> list[ResolvedScope]:
    """The parts of `parent` one level down, each as the parent's filters plus its own (so a
    procedure inside a commune stays inside that commune): the units under a unit, the
    agencies, departments or officials inside, or the fields and procedures handled."""
    found: list[ResolvedScope] = []

    def child(obj: Any, **filters: Any) -> ResolvedScope:
        return replace(parent, scope=Scope(by, obj.pk), label=str(obj), **filters)

    agencies = Agency.objects.all()
    if parent.unit_path:
        agencies = agencies.filter(unit__path__startswith=parent.unit_path)
    if parent.agency_id:
        agencies = agencies.filter(pk=parent.agency_id)
    if by == ScopeKind.UNIT:
        if not parent.unit_path or parent.agency_id:
            raise ValidationFailed(_("Only a province or a unit splits into units."), field="by")
        units = AdministrativeUnit.objects.filter(
            parent__path=parent.unit_path, valid_until__isnull=True
        )
        found = [child(u, unit_path=u.path) for u in units.order_by("name")[:MAX_CHILDREN]]
    elif by == ScopeKind.AGENCY:
        found = [child(a, agency_id=a.pk) for a in agencies.order_by("name")[:MAX_CHILDREN]]
    elif by == ScopeKind.DEPARTMENT:
        departments = Department.objects.filter(agency__in=agencies)
        if parent.department_id:
            departments = departments.filter(pk=parent.department_id)
        found = [
            child(d, agency_id=d.agency_id, department_id=d.pk)
            for d in departments.order_by("agency__name", "name")[:MAX_CHILDREN]
        ]
    elif by == ScopeKind.OFFICIAL:
        officials = User.objects.filter(kind=UserKind.OFFICIAL, agency__in=agencies)
        if parent.department_id:
            officials = officials.filter(department_id=parent.department_id)
        found = [
            child(o, agency_id=o.agency_id, official_id=o.pk)
            for o in officials.order_by("full_name", "username")[:MAX_CHILDREN]
        ]
    elif by == ScopeKind.PROCEDURE:
        procedures = parent.procedures().order_by("code")[:MAX_CHILDREN]
        found = [child(p, procedure_id=p.pk) for p in procedures]
    elif by == ScopeKind.FIELD:
        fields = Field.objects.filter(pk__in=parent.procedures().values("field_id"))
        found = [child(f, field_id=f.pk) for f in fields.order_by("name")[:MAX_CHILDREN]]
    else:
        raise ValidationFailed(_("A scope cannot be split by province."), field="by")
    return found


def breakdown(
    code: str,
    parent: ResolvedScope,
    period: Period,
    by: ScopeKind,
    *,
    at: datetime | None = None,
) -> list[IndicatorResult]:
    """The indicator for each part of `parent` (drill-down: province → units → agencies →
    departments → officials). One computation per part."""
    return [compute(code, part, period, at=at) for part in children(parent, by)]


# --- grouped: every part of a scope in one query per input -------------------------------------

#: The column each kind of part is grouped by, on the rollups and on the dossier table. Units
#: are grouped by agency and summed up to the unit the agency lies in.
GROUP_KEYS: dict[ScopeKind, tuple[str, str]] = {
    ScopeKind.UNIT: ("agency_id", "agency_id"),
    ScopeKind.AGENCY: ("agency_id", "agency_id"),
    ScopeKind.DEPARTMENT: ("department_ref", "department_id"),
    ScopeKind.OFFICIAL: ("official_ref", "assignee_id"),
    ScopeKind.PROCEDURE: ("procedure_id", "procedure_id"),
    ScopeKind.FIELD: ("procedure__field_id", "procedure__field_id"),
}
#: The inputs `grouped_facts` loads for all parts at once; any other input is loaded per part
#: when a formula asks for it (correct, one query or a few per part).
GROUPED_INPUTS = frozenset({Input.FLOW, Input.OPEN_NOW, Input.OPEN_AT_END, Input.RATINGS})
#: The formulas that read the flow's sums of the fully online procedures
#: (`flows.PROCEDURE_FLOW_FIELDS`); a breakdown without them skips those sums.
PROCEDURE_SUM_FORMULAS = frozenset({formulas.full_online_dossiers})


def _add_flows(a: Flow, b: Flow) -> Flow:
    return Flow(**{k: getattr(a, k) + getattr(b, k) for k in Flow.__dataclass_fields__})


def _bucket(parts: list[ResolvedScope], by: ScopeKind) -> Callable[[Any], Any]:
    """Maps a grouped key to the part's id (for units, an agency id to its unit's id)."""
    if by != ScopeKind.UNIT:
        return lambda key: key
    paths = sorted(((p.unit_path or "", p.scope.id) for p in parts), key=lambda x: -len(x[0]))
    agency_unit: dict[int, Any] = {}
    for agency_id, path in Agency.objects.values_list("pk", "unit__path"):
        agency_unit[agency_id] = next((pk for prefix, pk in paths if path.startswith(prefix)), None)
    return lambda key: agency_unit.get(key)


def _memo(whole: Facts, key: tuple[str, str], rows: Any) -> list[Any]:
    """The rows of a grouped query (a queryset, or a function returning one), read once per
    `whole` (a province's breakdowns by unit and by agency both group by agency)."""
    if key not in whole.grouped_rows:
        whole.grouped_rows[key] = list(rows() if callable(rows) else rows)
    return whole.grouped_rows[key]


def grouped_facts(
    parent: ResolvedScope,
    period: Period,
    by: ScopeKind,
    *,
    at: datetime | None = None,
    inputs: frozenset[Input] = GROUPED_INPUTS,
    procedure_sums: bool = True,
    whole: Facts | None = None,
) -> list[Facts]:
    """A `Facts` for each part of `parent` (see `children`) whose flow, open dossiers (now and
    at the period's end) and ratings were loaded for all parts together: a handful of
    queries instead of a handful per part. Other inputs load per part on demand.

    `procedure_sums=False` leaves the flows' sums of the fully online procedures 0 (for
    indicators that read none, see `sum_flows`); `whole` is the parent's `Facts` if the
    caller has one (same scope, period and moment), so that what it loaded is not loaded
    again."""
    parts = children(parent, by)
    if whole is None or whole.scope != parent or whole.period != period:
        whole = Facts(parent, period, now=at)
    if by not in GROUP_KEYS or not parts:
        return [Facts(p, period, now=whole.now) for p in parts]
    rollup_key, dossier_key = GROUP_KEYS[by]
    bucket = _bucket(parts, by)

    flows: dict[Any, Flow] = {}
    grouped = (
        sum_flows(parent, period.first, period.last, rollup_key, procedure_sums=procedure_sums)
        if Input.FLOW in inputs
        else {}
    )
    for key, flow in grouped.items():
        part = bucket(key)
        flows[part] = _add_flows(flows[part], flow) if part in flows else flow

    now = whole.now
    open_counts: dict[Any, dict[str, int]] = {}
    due_soon: dict[Any, int] = {}
    at_end_open: dict[Any, int] = {}
    at_end_late: dict[Any, list[int]] = {}
    ratings: dict[Any, Ratings] = {}
    at_end_late_count: dict[Any, int] = {}
    running = whole.end > whole.now
    # The worker's snapshots hold the point-in-time counts by agency (`ioc.snapshots`).
    taken = whole.snapshots() if dossier_key == "agency_id" else None
    for agency_id, snapshot in (taken or {}).items():
        part = bucket(agency_id)
        if Input.OPEN_NOW in inputs:
            counts = open_counts.setdefault(
                part, {"open": 0, "not_received": 0, "overdue": 0, "paused": 0}
            )
            for name in counts:
                counts[name] += getattr(snapshot, name)
            due_soon[part] = due_soon.get(part, 0) + snapshot.due_soon
        if Input.OPEN_AT_END in inputs and running:
            at_end_open[part] = at_end_open.get(part, 0) + snapshot.unprocessed
            at_end_late_count[part] = at_end_late_count.get(part, 0) + snapshot.unprocessed_late
    live_open_now = Input.OPEN_NOW in inputs and taken is None
    due_soon_ids = whole.due_soon_ids() if live_open_now else []
    if due_soon_ids:
        due_soon_keys = (
            [whole.due_soon_agencies[pk] for pk in due_soon_ids]
            if dossier_key == "agency_id"
            else _memo(
                whole,
                ("due_soon", dossier_key),
                lambda: Dossier.objects.filter(pk__in=due_soon_ids).values_list(
                    dossier_key, flat=True
                ),
            )
        )
        for key in due_soon_keys:
            due_soon[bucket(key)] = due_soon.get(bucket(key), 0) + 1
    for row in whole.open_now_counts(dossier_key) if live_open_now else []:
        counts = open_counts.setdefault(
            bucket(row[dossier_key]), {"open": 0, "not_received": 0, "overdue": 0, "paused": 0}
        )
        for name in counts:
            counts[name] += row[name]

    if Input.OPEN_AT_END in inputs and running and taken is None:
        # A running period: each part's open and late dossiers counted in SQL (the late
        # ones' ids are read on demand, `Facts.open_at_end_late_ids`).
        late_q = late_rules_q() | overdue_q(now)

        def at_end_counts() -> list[tuple[Any, int, int]]:
            return [
                row
                for part in whole.open_at_end_parts()
                for row in part.values(dossier_key)
                .annotate(opened=Count("pk"), late=Count("pk", filter=late_q))
                .values_list(dossier_key, "opened", "late")
            ]

        for key, opened, late in _memo(whole, ("at_end_counts", dossier_key), at_end_counts):
            part = bucket(key)
            at_end_open[part] = at_end_open.get(part, 0) + opened
            at_end_late_count[part] = at_end_late_count.get(part, 0) + late
    elif Input.OPEN_AT_END in inputs and not running:
        # A past period: the late ones are judged from their events (`Facts`), by id.
        late_ids = set(_memo(whole, ("late_ids", ""), whole.open_at_end_late_ids))

        def at_end() -> list[tuple[int, Any]]:
            return [
                row
                for part in whole.open_at_end_parts()
                for row in part.values_list("pk", dossier_key)
            ]

        for pk, key in _memo(whole, ("at_end", dossier_key), at_end):
            part = bucket(key)
            at_end_open[part] = at_end_open.get(part, 0) + 1
            if pk in late_ids:
                at_end_late.setdefault(part, []).append(pk)
                at_end_late_count[part] = at_end_late_count.get(part, 0) + 1

    from tinhso.portal.models import SatisfactionRating

    rating_rows = (
        SatisfactionRating.objects.filter(
            parent.dossier_q("dossier__"), created_at__gte=whole.start, created_at__lt=whole.end
        )
        .order_by()
        .values(f"dossier__{dossier_key}")
        .annotate(
            count=Count("pk"),
            total=sum_of("overall"),
            satisfied=Count("pk", filter=Q(overall__gte=4)),
            negative=Count("pk", filter=Q(overall__lte=2)),
        )
    )
    for row in (
        _memo(whole, ("ratings", dossier_key), rating_rows) if Input.RATINGS in inputs else []
    ):
        part = bucket(row[f"dossier__{dossier_key}"])
        old = ratings.get(part, Ratings())
        ratings[part] = Ratings(
            count=old.count + row["count"],
            sum_overall=old.sum_overall + int(row["total"]),
            satisfied=old.satisfied + row["satisfied"],
            negative=old.negative + row["negative"],
        )

    found = []
    for part in parts:
        pk = part.scope.id
        facts = Facts(part, period, now=now)
        counts = open_counts.get(pk, {"open": 0, "not_received": 0, "overdue": 0, "paused": 0})
        soon = due_soon.get(pk, 0)
        late = at_end_late.get(pk, [])
        opened = at_end_open.get(pk, 0)
        preloaded: dict[Input, Any] = {}
        preloaded[Input.FLOW] = flows.get(pk, Flow())
        preloaded[Input.OPEN_NOW] = OpenNow.from_counts(**counts, due_soon=soon)
        preloaded[Input.OPEN_AT_END] = OpenAtEnd(
            open=opened,
            within=opened - at_end_late_count.get(pk, 0),
            late_ids=tuple(sorted(late)),
        )
        preloaded[Input.RATINGS] = ratings.get(pk, Ratings())
        facts._cache.update({k: v for k, v in preloaded.items() if k in inputs})
        found.append(facts)
    return found


def breakdown_grouped(
    codes: list[str],
    parent: ResolvedScope,
    period: Period,
    by: ScopeKind,
    *,
    at: datetime | None = None,
    whole: Facts | None = None,
) -> list[tuple[ResolvedScope, dict[str, IndicatorResult]]]:
    """Several indicators for each part of `parent`, read together (`grouped_facts`): the
    same values as `breakdown`, part by part."""
    wanted = [indicator_get(code) for code in codes]
    needs = frozenset(n for i in wanted for n in i.needs) & GROUPED_INPUTS
    procedure_sums = any(i.formula in PROCEDURE_SUM_FORMULAS for i in wanted)
    rows = []
    for facts in grouped_facts(
        parent, period, by, at=at, inputs=needs, procedure_sums=procedure_sums, whole=whole
    ):
        rows.append(
            (
                facts.scope,
                {
                    i.code: IndicatorResult(
                        i, facts.scope, period, facts.now, compute_value(i, facts)
                    )
                    for i in wanted
                },
            )
        )
    return rows


def index_breakdown(
    parent: ResolvedScope,
    period: Period,
    by: ScopeKind,
    *,
    index_code: str = NATIONAL_INDEX,
    at: datetime | None = None,
) -> list[tuple[ResolvedScope, IndexResult]]:
    """The service index for each part of `parent` (inputs grouped where `grouped_facts`
    can; the catalog, payments, synchronisation and identity load per part)."""
    index = service_index(index_code)
    return [(f.scope, compute_index(index, f)) for f in grouped_facts(parent, period, by, at=at)]


def monthly_flows(
    scope: ResolvedScope, last: Period, months: int = 12, *, procedure_sums: bool = True
) -> list[tuple[Period, Flow]]:
    """The flow of each of the `months` calendar months ending with the one `last` ends in
    (one GROUP BY query, on the agency rollups for a province, unit or agency; one more for
    the fully online procedures' sums unless `procedure_sums` is False — see `sum_flows`)."""
    periods = []
    year, month = last.last.year, last.last.month
    for _i in range(months):
        periods.append(Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    periods.reverse()
    flows = sum_flows(
        scope, periods[0].first, periods[-1].last, MONTH, procedure_sums=procedure_sums
    )
    by_month = {(key.year, key.month): flow for key, flow in flows.items()}
    return [(p, by_month.get((p.first.year, p.first.month), Flow())) for p in periods]


def top_procedures(
    scope: ResolvedScope,
    period: Period,
    *,
    counter: str = "done_late",
    limit: int = 10,
    procedure_sums: bool = True,
) -> list[tuple[Procedure, Flow]]:
    """The procedures with the most `counter` (late dossiers by default) in the period
    (`procedure_sums`: see `sum_flows`)."""
    flows = sum_flows(
        scope, period.first, period.last, "procedure_id", procedure_sums=procedure_sums
    )
    ranked = sorted(
        ((pk, flow) for pk, flow in flows.items() if getattr(flow, counter) > 0),
        key=lambda item: -getattr(item[1], counter),
    )[:limit]
    procedures = Procedure.objects.in_bulk([pk for pk, _flow in ranked])
    return [(procedures[pk], flow) for pk, flow in ranked if pk in procedures]


# --- for a user ---------------------------------------------------------------------------------


def breakdown_for(
    user: Any,
    *,
    code: str,
    scope: Scope,
    period: Period,
    by: ScopeKind,
    at: datetime | None = None,
) -> list[IndicatorResult]:
    """`breakdown` inside what the user may see (the parts of a scope they may see are
    theirs too)."""
    return breakdown(code, resolve(user, scope), period, by, at=at)


def resolve_province(user: Any, province_id: int | None = None) -> ResolvedScope:
    """The user's province (or the province `province_id`), if they may see it whole."""
    return resolve(user, Scope(ScopeKind.PROVINCE, province_id))


def indicator_for(
    user: Any, *, code: str, scope: Scope, period: Period, at: datetime | None = None
) -> IndicatorResult:
    return compute(code, resolve(user, scope), period, at=at)


def indicators_for(
    user: Any,
    *,
    codes: list[str],
    scope: Scope,
    period: Period,
    at: datetime | None = None,
) -> list[IndicatorResult]:
    return compute_many(codes, resolve(user, scope), period, at=at)


def _restricted(user: Any, result: Drilldown) -> Drilldown:
    if result.kind != "dossiers" or result.queryset is None:
        return result
    queryset = restrict(result.queryset, user).select_related(
        "procedure", "agency", "department", "assignee"
    )
    return Drilldown("dossiers", queryset)


def dossiers_behind_for(
    user: Any, *, code: str, scope: Scope, period: Period, at: datetime | None = None
) -> Drilldown:
    """The dossiers that pulled the indicator down, as the user may list them."""
    return _restricted(user, dossiers_behind(code, resolve(user, scope), period, at=at))


def index_for(
    user: Any,
    *,
    scope: Scope,
    period: Period,
    index_code: str = NATIONAL_INDEX,
    at: datetime | None = None,
) -> tuple[ResolvedScope, IndexResult]:
    resolved = resolve(user, scope)
    return resolved, compute_index(service_index(index_code), Facts(resolved, period, now=at))


def index_dossiers_for(
    user: Any,
    *,
    row_code: str,
    scope: Scope,
    period: Period,
    index_code: str = NATIONAL_INDEX,
    at: datetime | None = None,
) -> Drilldown:
    """The dossiers that pulled one row of the index down (e.g. the late ones for 2.1)."""
    row = find_row(service_index(index_code), row_code)
    return dossiers_behind_for(user, code=row.formula, scope=scope, period=period, at=at)


# --- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetProgress:
    target: Target
    indicator: Indicator | None
    value: Value | None

    @property
    def met(self) -> bool | None:
        """Whether the value reaches the target (None: no value yet)."""
        if self.indicator is None or self.value is None or self.value.value is None:
            return None
        if self.indicator.better == Better.LOWER:
            return self.value.value <= self.target.value
        return self.value.value >= self.target.value

    @property
    def gap(self) -> Decimal | None:
        """How far the value is from the target, positive when it is better."""
        if self.indicator is None or self.value is None or self.value.value is None:
            return None
        difference = self.value.value - self.target.value
        return -difference if self.indicator.better == Better.LOWER else difference


def targets_list(user: Any, *, year: int | None = None) -> QuerySet[Target]:
    qs = restrict(Target.objects.select_related("province"), user)
    return qs.filter(year=year) if year is not None else qs


def targets_progress_for(
    user: Any, *, year: int, at: datetime | None = None, province_id: int | None = None
) -> tuple[ResolvedScope, list[TargetProgress]]:
    """The province's targets for `year` with the value each indicator has over that year
    (so far, for the current year), computed together."""
    if year < 2000 or year > 2100:
        raise ValidationFailed(_("Give a year between 2000 and 2100."), field="year")
    resolved = resolve_province(user, province_id)
    targets = list(
        targets_list(user, year=year).filter(province_id=resolved.scope.id).order_by("indicator")
    )
    facts = Facts(resolved, Period.year(year), now=at or timezone.now())
    progress = []
    for target in targets:
        indicator = indicators.get(target.indicator)
        value = compute_value(indicator, facts) if indicator is not None else None
        progress.append(TargetProgress(target, indicator, value))
    return resolved, progress


__all__ = [
    "MAX_CHILDREN",
    "Family",
    "IndicatorResult",
    "TargetProgress",
    "breakdown",
    "breakdown_for",
    "breakdown_grouped",
    "children",
    "compute",
    "compute_many",
    "dossiers_behind",
    "dossiers_behind_for",
    "grouped_facts",
    "index_breakdown",
    "index_dossiers_for",
    "index_for",
    "indicator_definitions",
    "indicator_for",
    "indicator_get",
    "indicators_for",
    "monthly_flows",
    "require_official",
    "resolve_province",
    "targets_list",
    "targets_progress_for",
    "top_procedures",
]
