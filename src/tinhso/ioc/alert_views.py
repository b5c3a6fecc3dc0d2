"""The alerts' pages (mounted at /ioc/alerts/): the alerts the official may see, open ones
first, with acknowledge and resolve; one alert with its trail; the rules and their form for
provincial leaders and administrators.

Views parse input, call `alert_services` and render or redirect. An alert outside the
user's scope is a 404, a citizen or an official without a role gets a 403, and a
`DomainError` becomes a message (on the rule form: next to its field, the form kept)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tinhso.core.errors import Conflict, DomainError, NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import AdministrativeUnit, Agency, UnitLevel
from tinhso.ioc import alert_services, alerts, indicators
from tinhso.ioc.formulas import Unit
from tinhso.ioc.models import (
    Alert,
    AlertComparison,
    AlertRule,
    AlertSeverity,
    AlertState,
)
from tinhso.ioc.scopes import require_official

PAGE_SIZE = 50


def _officials_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            require_official(request.user)
        except OutOfScope as exc:
            raise PermissionDenied(exc.message) from exc
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _number(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    places = 0 if value == value.to_integral() else 2
    text = formats.number_format(value, decimal_pos=places, use_l10n=True)
    if unit == Unit.PERCENT:
        return f"{text} %"
    if unit == Unit.HOURS:
        return _("%(hours)s h") % {"hours": text}
    return text


def _scope_url(kind: str, pk: int) -> str:
    try:
        return reverse("ioc:scope", args=[kind, pk])
    except NoReverseMatch:  # the dashboards' page is not mounted
        return f"/ioc/{kind}/{pk}/"


def _row(alert: Alert, user: Any) -> dict[str, Any]:
    rule = alert.rule
    indicator = indicators.get(rule.indicator)
    unit = indicator.unit.value if indicator is not None else ""
    return {
        "alert": alert,
        "rule": rule,
        "indicator": indicator.name if indicator is not None else rule.indicator,
        "comparison": AlertComparison(rule.comparison).label,
        "value": _number(alert.value, unit),
        "last_value": _number(alert.last_value, unit),
        "threshold": _number(alert.threshold, unit),
        "scope_url": _scope_url(alert.scope_kind, alert.scope_id),
        "can_handle": alert.state != AlertState.RESOLVED and alert_services.can_handle(user, alert),
        "recovered": alert.state == AlertState.RESOLVED and alert.resolved_by_id is None,
    }


def _back(request: HttpRequest, alert: Alert) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("ioc_alerts:detail", pk=alert.pk)


def _alert_or_404(user: Any, pk: int) -> Alert:
    try:
        return alert_services.alert_get(user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# --- alerts -------------------------------------------------------------------------------------


@_officials_only
def alert_list(request: HttpRequest) -> HttpResponse:
    """The alerts the official may see, open first; filter by state and severity."""
    state = request.GET.get("state", "")
    severity = request.GET.get("severity", "")
    state = state if state in AlertState.values else ""
    severity = severity if severity in AlertSeverity.values else ""
    queryset = alert_services.alerts_list(request.user, state=state, severity=severity)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "ioc/alerts/alert_list.html",
        {
            "page": page,
            "rows": [_row(a, request.user) for a in page],
            "state": state,
            "severity": severity,
            "states": AlertState.choices,
            "severities": AlertSeverity.choices,
            "can_manage": alert_services.can_manage_rules(request.user),
        },
    )


@_officials_only
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request.user, pk)
    return render(
        request,
        "ioc/alerts/alert_detail.html",
        {
            "row": _row(alert, request.user),
            "alert": alert,
            "events": alert_services.alert_events(alert),
            "window": alert.rule.window_days,
        },
    )


def _handle(request: HttpRequest, pk: int, action: Callable[..., Alert], done: str) -> HttpResponse:
    alert = _alert_or_404(request.user, pk)
    try:
        action(actor=request.user, alert=alert, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(request, alert)


@require_POST
@_officials_only
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, alert_services.alert_acknowledge, _("The alert is acknowledged."))


@require_POST
@_officials_only
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, alert_services.alert_resolve, _("The alert is resolved."))


# --- rules --------------------------------------------------------------------------------------


def _rules_or_403(user: Any) -> Any:
    try:
        return alert_services.rules_list(user)
    except OutOfScope as exc:
        raise PermissionDenied(exc.message) from exc


@_officials_only
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = _rules_or_403(request.user)
    rows = []
    for rule in rules:
        indicator = indicators.get(rule.indicator)
        unit = indicator.unit.value if indicator is not None else ""
        rows.append(
            {
                "rule": rule,
                "indicator": indicator.name if indicator is not None else rule.indicator,
                "scope": _scope_label(rule.scope_kind, rule.scope_id),
                "comparison": AlertComparison(rule.comparison).label,
                "threshold": _("the province's target")
                if rule.use_target
                else _number(rule.threshold, unit),
                "recipients": len(rule.recipients.all()) + len(rule.emails.split()),
            }
        )
    return render(request, "ioc/alerts/rule_list.html", {"rows": rows})


def _scope_label(kind: str, pk: int | None) -> str:
    if pk is None:
        return {
            "agency": _("Each agency"),
            "unit": _("Each commune"),
            "province": _("The province"),
        }.get(kind, kind)
    for value, label in _scope_options():
        if value == f"{kind}:{pk}":
            return label
    return f"{kind}:{pk}"


def _scope_options(current: str = "") -> list[tuple[str, str]]:
    """The scopes a rule may watch: the province, each agency or commune, or one of them
    (and the rule's own scope, when it was set through the API to another kind)."""
    province = alerts.default_province()
    options = [
        ("province", _("The province")),
        ("agency:*", _("Each agency (one alert per agency)")),
        ("unit:*", _("Each commune (one alert per commune)")),
    ]
    if province is None:
        return options
    for agency in Agency.objects.filter(
        is_active=True, unit__path__startswith=province.path
    ).order_by("name"):
        options.append((f"agency:{agency.pk}", _("Agency: %(name)s") % {"name": agency.name}))
    for unit in AdministrativeUnit.objects.filter(
        level=UnitLevel.COMMUNE, path__startswith=province.path, valid_until__isnull=True
    ).order_by("name"):
        options.append((f"unit:{unit.pk}", _("Commune: %(name)s") % {"name": unit.name}))
    if current and current not in {value for value, _label in options}:
        options.append((current, current))
    return options


def _parse_scope(text: str) -> tuple[str, int | None]:
    kind, _sep, raw = (text or "province").partition(":")
    if raw in ("", "*"):
        return kind, None
    try:
        return kind, int(raw)
    except ValueError as exc:
        raise ValidationFailed(_("Choose a scope from the list."), field="scope") from exc


def _form_of(rule: AlertRule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "indicator": "on_time_rate",
            "scope": "province",
            "comparison": AlertComparison.LT,
            "threshold": "",
            "use_target": False,
            "window_days": "30",
            "severity": AlertSeverity.WARNING,
            "recipients": [],
            "emails": "",
            "is_active": True,
            "version": "",
        }
    scope = rule.scope_kind if rule.scope_id is None else f"{rule.scope_kind}:{rule.scope_id}"
    if rule.fans_out:
        scope = f"{rule.scope_kind}:*"
    return {
        "name": rule.name,
        "indicator": rule.indicator,
        "scope": scope,
        "comparison": rule.comparison,
        "threshold": "" if rule.threshold is None else str(rule.threshold),
        "use_target": rule.use_target,
        "window_days": str(rule.window_days),
        "severity": rule.severity,
        "recipients": [str(pk) for pk in rule.recipients.values_list("pk", flat=True)],
        "emails": rule.emails,
        "is_active": rule.is_active,
        "version": str(rule.version),
    }


def _form_from_post(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "name": post.get("name", ""),
        "indicator": post.get("indicator", ""),
        "scope": post.get("scope", "province"),
        "comparison": post.get("comparison", ""),
        "threshold": post.get("threshold", ""),
        "use_target": post.get("use_target") == "on",
        "window_days": post.get("window_days", ""),
        "severity": post.get("severity", ""),
        "recipients": post.getlist("recipients"),
        "emails": post.get("emails", ""),
        "is_active": post.get("is_active") == "on",
        "version": post.get("version", ""),
    }


def _save(request: HttpRequest, rule: AlertRule | None, form: dict[str, Any]) -> AlertRule:
    kind, scope_id = _parse_scope(form["scope"])
    try:
        recipient_ids = [int(pk) for pk in form["recipients"]]
        version = int(form["version"]) if form["version"] else None
    except ValueError as exc:
        raise ValidationFailed(_("The form is out of date: reload the page.")) from exc
    return alert_services.alert_rule_save(
        actor=request.user,  # type: ignore[arg-type]
        rule=rule,
        name=form["name"],
        indicator=form["indicator"],
        scope_kind=kind,
        scope_id=scope_id,
        comparison=form["comparison"],
        threshold=form["threshold"],
        use_target=form["use_target"],
        window_days=form["window_days"],
        severity=form["severity"],
        recipient_ids=recipient_ids,
        emails=form["emails"],
        is_active=form["is_active"],
        expected_version=version,
    )


def _rule_form(request: HttpRequest, rule: AlertRule | None) -> HttpResponse:
    _rules_or_403(request.user)
    form = _form_of(rule)
    errors: dict[str, str] = {}
    form_error = ""
    status = 200
    if request.method == "POST":
        form = _form_from_post(request)
        try:
            saved = _save(request, rule, form)
        except Conflict as exc:
            form_error, status = exc.message, 409
        except ValidationFailed as exc:
            field = str(exc.details.get("field", ""))
            if field:
                errors[field] = exc.message
            else:
                form_error = exc.message
            status = 422
        except DomainError as exc:
            form_error, status = exc.message, 400
        else:
            messages.success(request, _("The alert rule is saved."))
            return (
                redirect("ioc_alerts:rule_list")
                if rule is None
                else redirect("ioc_alerts:rule_edit", pk=saved.pk)
            )
    held = [i for i in indicators.REGISTRY.values() if i.held]
    return render(
        request,
        "ioc/alerts/rule_form.html",
        {
            "rule": rule,
            "form": form,
            "errors": errors,
            "form_error": form_error,
            "indicators": held,
            "scopes": _scope_options(form["scope"]),
            "comparisons": AlertComparison.choices,
            "severities": AlertSeverity.choices,
            "officials": alert_services.recipient_choices(request.user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@_officials_only
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@require_http_methods(["GET", "POST"])
@_officials_only
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rules = _rules_or_403(request.user)
    rule = rules.filter(pk=pk).first()
    if rule is None:
        raise Http404(_("No such alert rule."))
    return _rule_form(request, rule)


@require_POST
@_officials_only
def rule_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rules_or_403(request.user).filter(pk=pk).first()
    if rule is None:
        raise Http404(_("No such alert rule."))
    try:
        alert_services.alert_rule_deactivate(actor=request.user, rule=rule)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The alert rule is no longer evaluated."))
    return redirect("ioc_alerts:rule_list")


__all__ = [
    "alert_acknowledge",
    "alert_detail",
    "alert_list",
    "alert_resolve",
    "rule_create",
    "rule_deactivate",
    "rule_edit",
    "rule_list",
]
