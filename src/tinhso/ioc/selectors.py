"""Reads of the operations centre, always for a user and inside their scope (`scopes.resolve`
refuses what lies beyond it with `OutOfScope`).

Dashboards and the API call the `*_for` functions with a user; scheduled jobs that act as the
system (alert evaluation) resolve the scope with `scopes.resolve_for_system` and call
`compute`, `compute_index` and `dossiers_behind` on the resolved scope directly."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog.models import Field
from tinhso.core.errors import NotFound, ValidationFailed
from tinhso.core.models import AdministrativeUnit, Agency, Department, User, UserKind
from tinhso.core.scoping import scope as restrict
from tinhso.ioc import indicators
from tinhso.ioc.drilldown import Drilldown, drilldown
from tinhso.ioc.facts import Facts
from tinhso.ioc.formulas import Value
from tinhso.ioc.index766 import (
    NATIONAL_INDEX,
    IndexResult,
    compute_index,
    compute_value,
    find_row,
    service_index,
)
from tinhso.ioc.indicators import Better, Family, Indicator
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
    "children",
    "compute",
    "compute_many",
    "dossiers_behind",
    "dossiers_behind_for",
    "index_dossiers_for",
    "index_for",
    "indicator_definitions",
    "indicator_for",
    "indicator_get",
    "indicators_for",
    "require_official",
    "resolve_province",
    "targets_list",
    "targets_progress_for",
]
