"""The operations centre's pages: the province overview, one page per scope (unit, agency,
department, official, field, procedure) with its cards, trends and breakdown one level down,
the charts' numbers as tables and Excel files, and the province's targets.

Every number is read through `selectors` (the same functions the API uses) on a scope
resolved for the user: `OutOfScope` becomes the 403 page, an unknown id a 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tinhso.core.errors import DomainError, NotFound, OutOfScope
from tinhso.core.models import PROVINCE_WIDE_ROLES, AdministrativeUnit, Agency, User
from tinhso.core.scoping import scope_of
from tinhso.dossiers import selectors as dossier_selectors
from tinhso.dossiers.states import OpenTimeliness, Timeliness
from tinhso.ioc import charts, exports, selectors, services
from tinhso.ioc.facts import Facts
from tinhso.ioc.formulas import Missing, Unit, Value
from tinhso.ioc.index766 import IndexResult, compute_index, compute_value, service_index
from tinhso.ioc.indicators import Indicator
from tinhso.ioc.models import Target
from tinhso.ioc.periods import Period, PeriodError, PeriodKind, local_day
from tinhso.ioc.scopes import ResolvedScope, Scope, ScopeKind, require_official, resolve

#: The cards of a scope page, in order (the service index score comes after them).
CARD_CODES = [
    "dossiers_received",
    "dossiers_done",
    "on_time_rate",
    "overdue_open",
    "due_soon",
    "online_share",
    "online_payment_share",
    "inputs_digitised_share",
    "results_digitised_share",
    "satisfaction_average",
]
MISSING_LABELS = {
    Missing.NOT_HELD: gettext_lazy("The platform does not hold this data yet."),
    Missing.NO_DOSSIERS: gettext_lazy("Nothing to count in the period."),
    Missing.NOT_APPLICABLE: gettext_lazy("Not measured at this level."),
}
PERIOD_KINDS = [
    (PeriodKind.MONTH, gettext_lazy("Month")),
    (PeriodKind.QUARTER, gettext_lazy("Quarter")),
    (PeriodKind.YEAR, gettext_lazy("Year")),
    (PeriodKind.CUSTOM, gettext_lazy("Custom range")),
]
DOSSIER_LIMIT = 100


# --- helpers ---------------------------------------------------------------------------------


def _officials_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in officials with a role; `OutOfScope` → 403, `NotFound` → 404."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            require_official(request.user)
            return view(request, *args, **kwargs)
        except OutOfScope as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _this_month() -> Period:
    today = local_day(timezone.now())
    return Period.month(today.year, today.month)


def _picked_period(params: Any) -> str | None:
    """The period text from the picker's fields (`pkind`, `pmonth`, …), or None."""
    kind = params.get("pkind")
    try:
        if kind == PeriodKind.MONTH and params.get("pmonth"):
            return str(Period.parse(params["pmonth"]))
        if kind == PeriodKind.QUARTER:
            return str(Period.quarter(int(params.get("pyear")), int(params.get("pquarter"))))
        if kind == PeriodKind.YEAR:
            return str(Period.year(int(params.get("pyear"))))
        if kind == PeriodKind.CUSTOM:
            first = date.fromisoformat(params.get("pfrom", ""))
            last = date.fromisoformat(params.get("pto", ""))
            return str(Period.custom(first, last))
    except (PeriodError, ValueError, TypeError):
        return None
    return None


def _period(request: HttpRequest) -> Period:
    text = request.GET.get("period", "")
    if not text:
        return _this_month()
    try:
        return Period.parse(text)
    except PeriodError as exc:
        messages.error(request, str(exc))
        return _this_month()


def _picker_redirect(request: HttpRequest) -> HttpResponse | None:
    """The picker submits its fields: answer with the page at `?period=…`."""
    if "pkind" not in request.GET:
        return None
    picked = _picked_period(request.GET)
    if picked is None:
        messages.error(request, _("Choose a valid period."))
        return redirect(request.path)
    return redirect(f"{request.path}?period={picked}")


def _display(value: Value) -> str:
    if not value.has_data:
        return "—"
    amount = value.value
    if value.unit == Unit.COUNT:
        return formats.number_format(int(value.exact), 0, force_grouping=True)  # type: ignore[arg-type]
    if value.unit == Unit.PERCENT:
        return f"{formats.number_format(amount, 1)} %"
    if value.unit == Unit.HOURS:
        return _("%(n)s h") % {"n": formats.number_format(amount, 1)}
    return f"{formats.number_format(amount, 2)} / 5"


@dataclass
class Card:
    indicator: Indicator
    value: Value
    display: str
    missing: str
    target: Target | None = None
    progress: selectors.TargetProgress | None = None
    behind_url: str = ""

    @property
    def target_display(self) -> str:
        if self.target is None:
            return ""
        return _display(_value_of(self.indicator, self.target.value))

    @property
    def gap_display(self) -> str:
        gap = self.progress.gap if self.progress else None
        if gap is None:
            return ""
        sign = "+" if gap >= 0 else "−"
        text = _display(_value_of(self.indicator, abs(gap)))
        return f"{sign}{text}"


def _value_of(indicator: Indicator, amount: Decimal) -> Value:
    return Value(indicator.unit, Fraction(amount))


def _cards(
    user: Any, resolved: ResolvedScope, period: Period, facts: Facts
) -> tuple[list[Card], IndexResult | None]:
    """The scope's cards and service index from one `Facts` (each input loaded once)."""
    targets: dict[str, Target] = {}
    if resolved.province_id is not None:
        targets = {
            t.indicator: t
            for t in selectors.targets_list(user, year=period.last.year).filter(
                province_id=resolved.province_id
            )
        }
    cards = []
    for code in CARD_CODES:
        indicator = selectors.indicator_get(code)
        if resolved.kind not in indicator.levels:
            continue  # e.g. intake counts for an official: not measured there
        value = compute_value(indicator, facts)
        target = targets.get(code)
        # A count target is the province's: it says nothing about a part of it.
        if target is not None and indicator.unit == Unit.COUNT and resolved.kind != "province":
            target = None
        cards.append(
            Card(
                indicator=indicator,
                value=value,
                display=_display(value),
                missing=str(MISSING_LABELS.get(value.missing, "")),  # type: ignore[call-overload]
                target=target,
                progress=selectors.TargetProgress(target, indicator, value) if target else None,
            )
        )
    try:
        index = compute_index(service_index(), facts)
    except NotFound:
        index = None
    return cards, index


def _crumbs(user: Any, resolved: ResolvedScope, period: Period) -> list[tuple[str, str]]:
    """Province → unit → agency → department → official, linked where the user may go."""
    reach = scope_of(user)
    wide = reach.everything or reach.agency_id is None

    def url(kind: ScopeKind, pk: int) -> str:
        return f"{reverse('ioc:scope', args=[kind.value, pk])}?period={period}"

    crumbs: list[tuple[str, str]] = []
    agency = None
    if resolved.agency_id:
        agency = Agency.objects.select_related("unit").get(pk=resolved.agency_id)
    unit = None
    if resolved.kind == ScopeKind.UNIT:
        unit = AdministrativeUnit.objects.get(pk=resolved.scope.id)
    elif agency is not None:
        unit = agency.unit
    if resolved.province_id:
        province = AdministrativeUnit.objects.filter(pk=resolved.province_id).first()
        if province is not None:
            crumbs.append((province.name, url(ScopeKind.PROVINCE, province.pk) if wide else ""))
    if unit is not None and unit.pk != resolved.province_id:
        crumbs.append((unit.name, url(ScopeKind.UNIT, unit.pk) if wide else ""))
    if agency is not None:
        crumbs.append((agency.name, url(ScopeKind.AGENCY, agency.pk)))
    if resolved.kind == ScopeKind.OFFICIAL:
        official = User.objects.select_related("department").get(pk=resolved.official_id)
        if official.department_id:
            crumbs.append(
                (official.department.name, url(ScopeKind.DEPARTMENT, official.department_id))
            )
    # The last crumb is the page itself.
    if crumbs and crumbs[-1][0] == resolved.label:
        crumbs.pop()
    crumbs.append((resolved.label, ""))
    return crumbs


def _official_dossiers(user: Any, scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The official's dossiers that matter: open and overdue now, then done late in the
    period, then the rest of their open dossiers."""
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()

    def add(code: str, reason: str) -> None:
        behind = selectors.dossiers_behind_for(user, code=code, scope=scope, period=period)
        if behind.queryset is None:
            return
        for dossier in behind.queryset.select_related("procedure")[:DOSSIER_LIMIT]:
            if dossier.pk in seen:
                continue
            seen.add(dossier.pk)
            if dossier.is_open:
                state = dossier_selectors.open_timeliness(dossier)
                badge = (state, str(OpenTimeliness(state).label))
            elif dossier.timeliness:
                badge = (dossier.timeliness, str(Timeliness(dossier.timeliness).label))
            else:
                badge = ("", "")
            rows.append({"dossier": dossier, "reason": reason, "badge": badge})

    add("overdue_open", _("Overdue"))
    add("on_time_rate", _("Done late"))
    add("dossiers_open", _("Open"))
    return rows


# --- pages -----------------------------------------------------------------------------------


@_officials_only
def overview(request: HttpRequest) -> HttpResponse:
    """The province for provincial leaders and administrators; anyone else lands on their
    own agency."""
    reach = require_official(request.user)
    if not reach.everything and reach.agency_id is not None:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("ioc:scope", args=["agency", reach.agency_id]) + query)
    if (response := _picker_redirect(request)) is not None:
        return response
    return _scope_page(request, Scope(ScopeKind.PROVINCE), overview=True)


@_officials_only
def scope_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    try:
        scope_kind = ScopeKind(kind)
    except ValueError as exc:
        raise Http404 from exc
    if (response := _picker_redirect(request)) is not None:
        return response
    return _scope_page(request, Scope(scope_kind, pk))


def _scope_page(request: HttpRequest, scope: Scope, *, overview: bool = False) -> HttpResponse:
    user = request.user
    period = _period(request)
    resolved = resolve(user, scope)
    facts = Facts(resolved, period)
    cards, index = _cards(user, resolved, period, facts)
    trend = charts.trend(resolved, period)
    breakdowns = []
    for by in charts.NEXT_LEVELS.get(resolved.kind, ()):
        data = charts.breakdown(resolved, period, by, at=facts.now, whole=facts)
        breakdowns.append({"data": data, "svg": charts.bar_svg(data) if data.rows else ""})
    index_charts = []
    if resolved.kind in (ScopeKind.PROVINCE, ScopeKind.UNIT):
        kinds = [ScopeKind.UNIT, ScopeKind.AGENCY]
        if resolved.kind == ScopeKind.UNIT:
            kinds = [ScopeKind.AGENCY]
        index_charts = [f"index-{k.value}" for k in kinds]
    late = None
    if resolved.kind in (ScopeKind.PROVINCE, ScopeKind.UNIT, ScopeKind.AGENCY):
        late = charts.late_procedures(resolved, period)
    context = {
        "overview": overview,
        "resolved": resolved,
        "kind_label": charts.KIND_LABELS[resolved.kind],
        "period": period,
        "period_kinds": PERIOD_KINDS,
        "period_kind": period.kind.value,
        "quarters": [1, 2, 3, 4],
        "crumbs": _crumbs(user, resolved, period),
        "cards": cards,
        "index": index,
        "index_normalised": (
            formats.number_format(round(float(index.normalised), 1), 1)
            if index is not None and index.normalised is not None
            else None
        ),
        "trend": trend,
        "trend_counts_svg": charts.line_svg(trend, [0, 1]),
        "trend_rates_svg": charts.line_svg(trend, [2, 3], percent=True),
        "breakdowns": breakdowns,
        "index_charts": index_charts,
        "late": late,
        "dossier_rows": (
            _official_dossiers(user, resolved.scope, period)
            if resolved.kind == ScopeKind.OFFICIAL
            else None
        ),
        "query": f"scope={resolved.scope}&period={period}",
        "at": facts.now,
    }
    return render(request, "ioc/scope.html", context)


def _chart_request(request: HttpRequest, chart: str) -> charts.ChartData:
    try:
        scope = Scope.parse(request.GET.get("scope", "province"))
    except DomainError as exc:
        raise Http404(exc.message) from exc
    resolved = resolve(request.user, scope)
    try:
        return charts.build(chart, resolved, _period(request))
    except charts.UnknownChart as exc:
        raise Http404 from exc


@_officials_only
def chart_data(request: HttpRequest, chart: str) -> HttpResponse:
    """A chart's numbers as a table (an htmx fragment: the service index rankings load
    after the page), or as Excel with `?format=xlsx`."""
    data = _chart_request(request, chart)
    if request.GET.get("format") == "xlsx":
        return _xlsx(data)
    svg = charts.bar_svg(data) if data.rows else ""
    return render(request, "ioc/_chart.html", {"data": data, "svg": svg, "period": data.period})


@_officials_only
def export(request: HttpRequest, chart: str) -> HttpResponse:
    return _xlsx(_chart_request(request, chart))


def _xlsx(data: charts.ChartData) -> HttpResponse:
    response = HttpResponse(exports.workbook(data), content_type=exports.XLSX)
    name = f"ioc-{data.slug}-{data.scope.scope}-{data.period}.xlsx".replace(":", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- targets ---------------------------------------------------------------------------------


def _targets_progress(user: Any, year: int) -> tuple[str, list[selectors.TargetProgress]]:
    resolved, progress = selectors.targets_progress_for(user, year=year)
    return resolved.label, progress


def _targets_only(user: Any, year: int) -> tuple[str, list[selectors.TargetProgress]]:
    reach = scope_of(user)
    province_id = int((reach.unit_path or "0").strip("/").split("/")[0])
    province = AdministrativeUnit.objects.filter(pk=province_id).first()
    if province is None:
        raise PermissionDenied
    found = Target.objects.filter(province=province, year=year).select_related("updated_by")
    return province.name, [
        selectors.TargetProgress(t, selectors.indicators.get(t.indicator), None)
        for t in found.order_by("indicator")
    ]


def _can_set_targets(user: Any) -> bool:
    return bool(user.is_superuser or user.role_set & PROVINCE_WIDE_ROLES)


@_officials_only
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or 0)
    except ValueError:
        year = 0
    year = year or local_day(timezone.now()).year
    can_edit = _can_set_targets(user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only a provincial leader or administrator may set targets."))
        resolved = selectors.resolve_province(user)
        province = AdministrativeUnit.objects.get(pk=resolved.scope.id)
        try:
            services.target_set(
                actor=user,
                province=province,
                indicator=request.POST.get("indicator", ""),
                year=year,
                value=request.POST.get("value", ""),
                note=request.POST.get("note", ""),
            )
        except OutOfScope as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            errors[exc.details.get("field", "value")] = exc.message  # type: ignore[index]
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Target saved."))
            return redirect(f"{reverse('ioc:targets')}?year={year}")
    try:
        province_label, progress = _targets_progress(user, year)
    except OutOfScope:
        # An agency's official reads the province's targets, not the province's figures.
        province_label, progress = _targets_only(user, year)
    rows = []
    for item in progress:
        value = item.value or Value(Unit.PERCENT, missing=Missing.NOT_HELD)
        indicator = item.indicator
        rows.append(
            {
                "item": item,
                "value": _display(value),
                "target": _display(_value_of(indicator, item.target.value))
                if indicator
                else str(item.target.value),
                "gap": (
                    ("+" if item.gap >= 0 else "−") + _display(_value_of(indicator, abs(item.gap)))
                    if item.gap is not None and indicator
                    else ""
                ),
            }
        )
    choices = [i for i in selectors.indicator_definitions() if i.held]
    editing = request.GET.get("edit", "")
    editing_target = next((p.target for p in progress if p.target.indicator == editing), None)
    context = {
        "province_label": province_label,
        "year": year,
        "years": [year - 1, year, year + 1],
        "rows": rows,
        "can_edit": can_edit,
        "choices": choices,
        "errors": errors,
        "form": request.POST if request.method == "POST" else {},
        "editing": editing_target,
    }
    return render(request, "ioc/targets.html", context)


__all__ = ["chart_data", "export", "overview", "scope_page", "targets"]
