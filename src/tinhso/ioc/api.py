"""JSON API of the operations centre (tag "ioc"): indicator definitions, an indicator for a
scope and period, the dossiers behind it, the national service index, and the province's
targets. Every read goes through the selectors, which refuse a scope beyond the caller's
(403 `out_of_scope`) and anyone who is not an official.

Scope and period are query parameters: `scope` (province, unit, agency, department, official,
field, procedure; default province), `id` (the object's id; none: your province), `period`
(`2026-03-15`, `2026-03`, `2026-Q1`, `2026` or `2026-03-01..2026-04-15`; default this month)
and `at` (the instant of point-in-time figures; default now)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from tinhso.core.errors import NotFound, ValidationFailed
from tinhso.core.models import AdministrativeUnit
from tinhso.dossiers.models import Dossier
from tinhso.ioc import selectors, services
from tinhso.ioc.formulas import Value, to_decimal
from tinhso.ioc.index766 import NATIONAL_INDEX
from tinhso.ioc.indicators import Indicator
from tinhso.ioc.periods import Period, PeriodError, local_day
from tinhso.ioc.schemas import (
    BreakdownOut,
    DrilldownOut,
    IndexOut,
    IndicatorOut,
    IndicatorValueOut,
    TargetIn,
    TargetProgressOut,
    TargetsOut,
)
from tinhso.ioc.scopes import ResolvedScope, Scope, ScopeKind, resolve

router = Router(tags=["ioc"])

MAX_ITEMS = 500


def _scope(kind: str, id_: int | None) -> Scope:
    return Scope.parse(kind if id_ is None else f"{kind}:{id_}")


def _period(text: str | None) -> Period:
    if not text:
        today = local_day(timezone.now())
        return Period.month(today.year, today.month)
    try:
        return Period.parse(text)
    except PeriodError as exc:
        raise ValidationFailed(str(exc), field="period") from exc


def _at(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        raise ValidationFailed(_("'at' needs a UTC offset, e.g. 2026-03-31T17:00:00+07:00"))
    return value


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _definition(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "family": indicator.family.value,
        "name": str(indicator.name),
        "definition": str(indicator.definition),
        "numerator": str(indicator.numerator),
        "denominator": str(indicator.denominator),
        "unit": indicator.unit.value,
        "better": indicator.better.value,
        "levels": sorted(k.value for k in indicator.levels),
        "point_in_time": indicator.point_in_time,
        "held": indicator.held,
        "source": str(indicator.source),
    }


def _value(value: Value) -> dict[str, Any]:
    return {
        "value": _number(value.value),
        "unit": value.unit.value,
        "numerator": value.numerator,
        "denominator": value.denominator,
        "missing": value.missing,
        "partial": value.partial,
        "note": value.note,
    }


def _scope_out(scope: ResolvedScope) -> dict[str, Any]:
    return {"kind": scope.kind.value, "id": scope.scope.id, "label": scope.label}


def _period_out(period: Period) -> dict[str, Any]:
    return {
        "text": str(period),
        "kind": period.kind.value,
        "first": period.first,
        "last": period.last,
    }


@router.get("/ioc/indicators", response=list[IndicatorOut])
def list_indicators(request: HttpRequest, family: str = ""):
    """Every indicator with its written definition (`family`: operations or index766)."""
    selectors.require_official(request.user)
    return [_definition(i) for i in selectors.indicator_definitions(family=family or None)]


@router.get("/ioc/indicators/{code}", response=IndicatorValueOut)
def get_indicator(
    request: HttpRequest,
    code: str,
    scope: str = "province",
    id: int | None = None,
    period: str | None = None,
    at: datetime | None = None,
):
    """One indicator for a scope and period."""
    result = selectors.indicator_for(
        request.user, code=code, scope=_scope(scope, id), period=_period(period), at=_at(at)
    )
    return {
        **_value(result.value),
        "code": result.indicator.code,
        "name": str(result.indicator.name),
        "better": result.indicator.better.value,
        "scope": _scope_out(result.scope),
        "period": _period_out(result.period),
        "at": result.at,
    }


@router.get("/ioc/indicators/{code}/breakdown", response=BreakdownOut)
def indicator_breakdown(
    request: HttpRequest,
    code: str,
    by: str,
    scope: str = "province",
    id: int | None = None,
    period: str | None = None,
    at: datetime | None = None,
):
    """The indicator for each part of the scope one level down (`by`: unit, agency,
    department, official, field or procedure) — the drill-down from the province to a
    unit, an agency, a department and an official."""
    try:
        kind = ScopeKind(by)
    except ValueError as exc:
        raise ValidationFailed(_("Unknown breakdown."), field="by") from exc
    chosen = _period(period)
    parent = resolve(request.user, _scope(scope, id))
    indicator = selectors.indicator_get(code)
    results = selectors.breakdown(code, parent, chosen, kind, at=_at(at))
    return {
        "code": indicator.code,
        "name": str(indicator.name),
        "by": kind.value,
        "scope": _scope_out(parent),
        "period": _period_out(chosen),
        "at": results[0].at if results else (_at(at) or timezone.now()),
        "items": [{**_value(r.value), "scope": _scope_out(r.scope)} for r in results],
    }


def _drill_items(kind: str, queryset: Any, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = list(queryset[offset : offset + limit])
    if kind == "procedures":
        return [
            {
                "kind": "procedure",
                "code": p.code,
                "name": p.name,
                "procedure_code": p.code,
                "agency_code": "",
                "status": p.online,
                "channel": "",
                "received_at": None,
                "due_at": None,
                "returned_at": None,
                "timeliness": "",
            }
            for p in rows
        ]
    items = []
    for d in rows:
        assert isinstance(d, Dossier)
        items.append(
            {
                "kind": "dossier",
                "code": d.code,
                "name": d.applicant_name,
                "procedure_code": d.procedure.code,
                "agency_code": d.agency.code,
                "status": d.status,
                "channel": d.channel,
                "received_at": d.received_at,
                "due_at": d.due_at,
                "returned_at": d.returned_at,
                "timeliness": d.timeliness,
            }
        )
    return items


def _drilldown(result: Any, limit: int, offset: int) -> dict[str, Any]:
    if result.queryset is None:
        return {"kind": result.kind, "count": 0, "items": []}
    return {
        "kind": result.kind,
        "count": result.queryset.count(),
        "items": _drill_items(result.kind, result.queryset, limit, offset),
    }


@router.get("/ioc/indicators/{code}/dossiers", response=DrilldownOut)
def indicator_dossiers(
    request: HttpRequest,
    code: str,
    scope: str = "province",
    id: int | None = None,
    period: str | None = None,
    at: datetime | None = None,
    limit: int = Query(100, ge=1, le=MAX_ITEMS),
    offset: int = Query(0, ge=0),
):
    """The dossiers (or procedures) that pulled the indicator down: in its denominator, not in
    its numerator (for a count, the dossiers counted)."""
    result = selectors.dossiers_behind_for(
        request.user, code=code, scope=_scope(scope, id), period=_period(period), at=_at(at)
    )
    return _drilldown(result, limit, offset)


@router.get("/ioc/indexes/{index_code}", response=IndexOut)
def get_index(
    request: HttpRequest,
    index_code: str,
    scope: str = "province",
    id: int | None = None,
    period: str | None = None,
    at: datetime | None = None,
):
    """The service index (`766`: Quyết định 766/QĐ-TTg) for a scope and period: each row's
    rate, points and status; rows without data are left out of the maximum."""
    chosen = _period(period)
    resolved, result = selectors.index_for(
        request.user, scope=_scope(scope, id), period=chosen, index_code=index_code, at=_at(at)
    )
    normalised = result.normalised
    return {
        "code": result.index.code,
        "name": result.index.name,
        "scope": _scope_out(resolved),
        "period": _period_out(chosen),
        "at": _at(at) or timezone.now(),
        "score": float(to_decimal(result.score)),
        "available_points": float(result.available_points),
        "max_points": float(result.max_points),
        "normalised": float(to_decimal(normalised)) if normalised is not None else None,
        "groups": [
            {
                "code": g.group.code,
                "name": g.group.name,
                "max_points": float(g.max_points),
                "available_points": float(g.available_points),
                "score": float(to_decimal(g.score)),
                "rows": [
                    {
                        **_value(r.value),
                        "code": r.row.code,
                        "name": r.row.name,
                        "formula": r.row.formula,
                        "points": float(r.row.points),
                        "threshold": _number(r.row.threshold),
                        "status": r.status.value,
                        "score": _number(r.score_decimal),
                        "rule": r.row.rule,
                    }
                    for r in g.rows
                ],
            }
            for g in result.groups
        ],
    }


@router.get("/ioc/indexes/{index_code}/rows/{row_code}/dossiers", response=DrilldownOut)
def index_row_dossiers(
    request: HttpRequest,
    index_code: str,
    row_code: str,
    scope: str = "province",
    id: int | None = None,
    period: str | None = None,
    at: datetime | None = None,
    limit: int = Query(100, ge=1, le=MAX_ITEMS),
    offset: int = Query(0, ge=0),
):
    """The dossiers that pulled one row of the index down (e.g. the late ones for 2.1)."""
    result = selectors.index_dossiers_for(
        request.user,
        row_code=row_code,
        scope=_scope(scope, id),
        period=_period(period),
        index_code=index_code or NATIONAL_INDEX,
        at=_at(at),
    )
    return _drilldown(result, limit, offset)


def _progress(progress: selectors.TargetProgress) -> dict[str, Any]:
    indicator = progress.indicator
    value = progress.value.value if progress.value is not None else None
    return {
        "indicator": progress.target.indicator,
        "name": str(indicator.name) if indicator else progress.target.indicator,
        "year": progress.target.year,
        "target": float(progress.target.value),
        "unit": indicator.unit.value if indicator else "",
        "better": indicator.better.value if indicator else "",
        "note": progress.target.note,
        "value": _number(value),
        "met": progress.met,
        "gap": _number(progress.gap),
    }


@router.get("/ioc/targets", response=TargetsOut)
def list_targets(
    request: HttpRequest,
    year: int | None = None,
    province_id: int | None = None,
    at: datetime | None = None,
):
    """The province's targets for a year (default this year) with each indicator's value
    over that year so far."""
    chosen = year or local_day(timezone.now()).year
    resolved, progress = selectors.targets_progress_for(
        request.user, year=chosen, at=_at(at), province_id=province_id
    )
    return {
        "scope": _scope_out(resolved),
        "year": chosen,
        "targets": [_progress(p) for p in progress],
    }


@router.put("/ioc/targets", response=TargetProgressOut)
def set_target(request: HttpRequest, payload: TargetIn):
    """Set the province's target for an indicator and year (provincial leaders and
    administrators); percentages as 0–100."""
    resolved = selectors.resolve_province(request.user, payload.province_id)
    province = AdministrativeUnit.objects.filter(pk=resolved.scope.id).first()
    if province is None:
        raise NotFound()
    target = services.target_set(
        actor=request.user,  # type: ignore[arg-type]
        province=province,
        indicator=payload.indicator,
        year=payload.year,
        value=Decimal(str(payload.value)),
        note=payload.note,
        source="api",
    )
    _resolved, progress = selectors.targets_progress_for(
        request.user, year=target.year, province_id=province.pk
    )
    return _progress(next(p for p in progress if p.target.pk == target.pk))
