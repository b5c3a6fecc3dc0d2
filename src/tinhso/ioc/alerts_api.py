"""JSON API of the alerts (tag "ioc", under /api/v1): the alerts the caller may see, one
alert with its trail, acknowledge and resolve; the alert rules for provincial leaders and
administrators. Reads are scoped (an alert outside the caller's scope is 404, anyone who is
not an official 403); refusals are `DomainError`s turned into `{"code","message"}` by the
API's handler."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tinhso.ioc import alert_services, indicators
from tinhso.ioc.models import Alert, AlertEvent, AlertRule

router = Router(tags=["ioc"])

MAX_ITEMS = 500


class AlertEventOut(Schema):
    at: datetime
    action: str
    actor: str
    from_state: str
    to_state: str
    value: float | None
    note: str


class AlertOut(Schema):
    id: int
    rule_id: int
    rule_name: str
    indicator: str
    indicator_name: str
    unit: str
    severity: str
    scope_kind: str
    scope_id: int
    scope_label: str
    state: str
    comparison: str
    value: float
    threshold: float
    last_value: float
    raised_at: datetime
    last_evaluated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    recovered: bool
    can_handle: bool


class AlertDetailOut(AlertOut):
    events: list[AlertEventOut]


class AlertListOut(Schema):
    count: int
    items: list[AlertOut]


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class AlertRuleIn(Schema):
    name: str = Field(..., max_length=200)
    indicator: str = Field(..., max_length=60)
    scope_kind: str = Field("province", max_length=12)
    scope_id: int | None = None
    comparison: str = Field(..., max_length=2)
    threshold: Decimal | None = None
    use_target: bool = False
    window_days: int = Field(30, ge=0)
    severity: str = "warning"
    recipient_ids: list[int] = []
    emails: list[str] = []
    is_active: bool = True
    expected_version: int | None = None


class AlertRuleOut(Schema):
    id: int
    name: str
    indicator: str
    indicator_name: str
    scope_kind: str
    scope_id: int | None
    comparison: str
    threshold: float | None
    use_target: bool
    window_days: int
    severity: str
    recipient_ids: list[int]
    emails: list[str]
    is_active: bool
    version: int
    updated_at: datetime


def _name(user: Any) -> str | None:
    return (user.full_name or user.get_username()) if user is not None else None


def _alert(alert: Alert, user: Any) -> dict[str, Any]:
    rule = alert.rule
    indicator = indicators.get(rule.indicator)
    return {
        "id": alert.pk,
        "rule_id": rule.pk,
        "rule_name": rule.name,
        "indicator": rule.indicator,
        "indicator_name": str(indicator.name) if indicator else rule.indicator,
        "unit": indicator.unit.value if indicator else "",
        "severity": rule.severity,
        "scope_kind": alert.scope_kind,
        "scope_id": alert.scope_id,
        "scope_label": alert.scope_label,
        "state": alert.state,
        "comparison": rule.comparison,
        "value": float(alert.value),
        "threshold": float(alert.threshold),
        "last_value": float(alert.last_value),
        "raised_at": alert.raised_at,
        "last_evaluated_at": alert.last_evaluated_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": _name(alert.acknowledged_by),
        "resolved_at": alert.resolved_at,
        "resolved_by": _name(alert.resolved_by),
        "recovered": alert.resolved_at is not None and alert.resolved_by_id is None,
        "can_handle": alert.state != "resolved" and alert_services.can_handle(user, alert),
    }


def _event(event: AlertEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "action": event.action,
        "actor": event.actor_label,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "value": float(event.value) if event.value is not None else None,
        "note": event.note,
    }


def _detail(alert: Alert, user: Any) -> dict[str, Any]:
    return {
        **_alert(alert, user),
        "events": [_event(e) for e in alert_services.alert_events(alert)],
    }


def _rule(rule: AlertRule) -> dict[str, Any]:
    indicator = indicators.get(rule.indicator)
    return {
        "id": rule.pk,
        "name": rule.name,
        "indicator": rule.indicator,
        "indicator_name": str(indicator.name) if indicator else rule.indicator,
        "scope_kind": rule.scope_kind,
        "scope_id": rule.scope_id,
        "comparison": rule.comparison,
        "threshold": float(rule.threshold) if rule.threshold is not None else None,
        "use_target": rule.use_target,
        "window_days": rule.window_days,
        "severity": rule.severity,
        "recipient_ids": sorted(u.pk for u in rule.recipients.all()),
        "emails": [e for e in rule.emails.splitlines() if e],
        "is_active": rule.is_active,
        "version": rule.version,
        "updated_at": rule.updated_at,
    }


@router.get("/ioc/alerts", response=AlertListOut)
def list_alerts(
    request: HttpRequest,
    state: str = "",
    severity: str = "",
    limit: int = Query(100, ge=1, le=MAX_ITEMS),
    offset: int = Query(0, ge=0),
):
    """The alerts the caller may see (their agency's, or their province's), open ones first;
    `state`: open, acknowledged, resolved; `severity`: info, warning, critical."""
    qs = alert_services.alerts_list(request.user, state=state, severity=severity)
    return {
        "count": qs.count(),
        "items": [_alert(a, request.user) for a in qs[offset : offset + limit]],
    }


@router.get("/ioc/alerts/{alert_id}", response=AlertDetailOut)
def get_alert(request: HttpRequest, alert_id: int):
    """One alert with its trail."""
    return _detail(alert_services.alert_get(request.user, pk=alert_id), request.user)


@router.post("/ioc/alerts/{alert_id}/acknowledge", response=AlertDetailOut)
def acknowledge_alert(request: HttpRequest, alert_id: int, payload: NoteIn):
    """Acknowledge an open alert (its agency's leader, or a provincial role)."""
    alert = alert_services.alert_get(request.user, pk=alert_id)
    alert = alert_services.alert_acknowledge(
        actor=request.user,  # type: ignore[arg-type]
        alert=alert,
        note=payload.note,
        source="api",
    )
    return _detail(alert, request.user)


@router.post("/ioc/alerts/{alert_id}/resolve", response=AlertDetailOut)
def resolve_alert(request: HttpRequest, alert_id: int, payload: NoteIn):
    """Resolve an open or acknowledged alert. Still breached, it is raised again at the next
    evaluation."""
    alert = alert_services.alert_get(request.user, pk=alert_id)
    alert = alert_services.alert_resolve(
        actor=request.user,  # type: ignore[arg-type]
        alert=alert,
        note=payload.note,
        source="api",
    )
    return _detail(alert, request.user)


@router.get("/ioc/alert-rules", response=list[AlertRuleOut])
def list_alert_rules(request: HttpRequest):
    """The alert rules (provincial leaders and administrators)."""
    return [_rule(r) for r in alert_services.rules_list(request.user)]


def _save(request: HttpRequest, payload: AlertRuleIn, rule: AlertRule | None) -> AlertRule:
    return alert_services.alert_rule_save(
        actor=request.user,  # type: ignore[arg-type]
        rule=rule,
        name=payload.name,
        indicator=payload.indicator,
        scope_kind=payload.scope_kind,
        scope_id=payload.scope_id,
        comparison=payload.comparison,
        threshold=payload.threshold,
        use_target=payload.use_target,
        window_days=payload.window_days,
        severity=payload.severity,
        recipient_ids=payload.recipient_ids,
        emails="\n".join(payload.emails),
        is_active=payload.is_active,
        expected_version=payload.expected_version,
        source="api",
    )


@router.post("/ioc/alert-rules", response={201: AlertRuleOut})
def create_alert_rule(request: HttpRequest, payload: AlertRuleIn):
    """Create a rule: `scope_id` null on an agency or a unit means each agency or commune;
    `threshold` may be null with `use_target` (the province's target this year)."""
    alert_services.rules_list(request.user)  # refuses callers who may not manage rules
    return Status(201, _rule(_save(request, payload, None)))


@router.put("/ioc/alert-rules/{rule_id}", response=AlertRuleOut)
def update_alert_rule(request: HttpRequest, rule_id: int, payload: AlertRuleIn):
    """Change a rule (`expected_version`: refuse if someone changed it in between)."""
    rule = alert_services.rule_get(request.user, pk=rule_id)
    return _rule(_save(request, payload, rule))
