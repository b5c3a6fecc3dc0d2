"""Writes (and the scoped reads) of the alerts: rules are managed by provincial leaders and
administrators; an alert is acknowledged or resolved by those whose scope covers it (the
agency leader for their agency's alerts, the provincial roles for all). Every write is
audited and writes the alert's trail in the same transaction.

A person who resolves an alert that is still breached closes it for now: the next evaluation
sees the breach and raises a new alert (resolving is "we dealt with it", not "silence it";
to silence a rule, deactivate it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.errors import Conflict, IllegalTransition, NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import PROVINCE_WIDE_ROLES, Role, User, UserKind
from tinhso.core.scoping import scope_of
from tinhso.ioc import indicators
from tinhso.ioc.formulas import Unit
from tinhso.ioc.models import (
    Alert,
    AlertAction,
    AlertComparison,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    AlertState,
)
from tinhso.ioc.scopes import Scope, ScopeKind, require_official, resolve, resolve_for_system

RULE_FIELDS = (
    "name",
    "indicator",
    "scope_kind",
    "scope_id",
    "comparison",
    "threshold",
    "use_target",
    "window_days",
    "severity",
    "emails",
    "is_active",
    "version",
)
ALERT_FIELDS = ("state", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by")
#: Scope kinds whose rule may name no id: each agency, each commune, the platform's province.
OPEN_KINDS = (ScopeKind.PROVINCE, ScopeKind.AGENCY, ScopeKind.UNIT)
MAX_WINDOW_DAYS = 366


# --- permissions --------------------------------------------------------------------------------


def can_manage_rules(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.kind == UserKind.OFFICIAL and bool(user.role_set & PROVINCE_WIDE_ROLES)


def _require_rule_manager(actor: User | None) -> None:
    if actor is not None and not can_manage_rules(actor):
        raise OutOfScope(_("Only a provincial leader or administrator may manage alert rules."))


def can_handle(user: Any, alert: Alert) -> bool:
    """Whether `user` may acknowledge or resolve `alert`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if user.kind != UserKind.OFFICIAL:
        return False
    if user.role_set & PROVINCE_WIDE_ROLES:
        # The alert's unit path is what `restrict` filters on: no query per alert.
        reach = scope_of(user).unit_path
        return bool(reach) and alert.unit_path.startswith(reach)
    return (
        user.has_role(Role.AGENCY_LEADER)
        and alert.agency_id is not None
        and alert.agency_id == user.agency_id
    )


# --- reads (always scoped) ----------------------------------------------------------------------


def alerts_list(user: Any, *, state: str = "", severity: str = "") -> QuerySet[Alert]:
    """The alerts `user` may see, open ones first, then acknowledged, then resolved; newest
    first within each."""
    require_official(user)
    qs = Alert.objects.restrict(user).select_related("rule", "acknowledged_by", "resolved_by")
    if state:
        if state not in AlertState.values:
            raise ValidationFailed(_("Unknown alert state."), field="state")
        qs = qs.filter(state=state)
    if severity:
        if severity not in AlertSeverity.values:
            raise ValidationFailed(_("Unknown severity."), field="severity")
        qs = qs.filter(rule__severity=severity)
    order = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(state_order=order).order_by("state_order", "-raised_at", "-pk")


def alert_get(user: Any, *, pk: int) -> Alert:
    alert = alerts_list(user).filter(pk=pk).first()
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def alert_events(alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("at", "pk")


def rules_list(user: Any) -> QuerySet[AlertRule]:
    require_official(user)
    _require_rule_manager(user)
    return AlertRule.objects.prefetch_related("recipients").order_by("-is_active", "name", "pk")


def rule_get(user: Any, *, pk: int) -> AlertRule:
    rule = rules_list(user).filter(pk=pk).first()
    if rule is None:
        raise NotFound(_("No such alert rule."))
    return rule


def recipient_choices(user: Any) -> QuerySet[User]:
    """The officials a rule may notify: active officials within the manager's scope."""
    return (
        User.objects.restrict(user)
        .filter(kind=UserKind.OFFICIAL, is_active=True)
        .select_related("agency")
        .order_by("agency__name", "full_name", "username")
    )


# --- rules --------------------------------------------------------------------------------------


def _threshold(raw: Decimal | int | float | str | None, unit: str) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip().replace(" ", "").replace("%", "").replace(",", ".")
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(_("The threshold is a number."), field="threshold") from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(_("The threshold is a number of 0 or more."), field="threshold")
    if unit == Unit.PERCENT and amount > 100:
        raise ValidationFailed(_("A percentage lies between 0 and 100."), field="threshold")
    return amount


def _emails(raw: str) -> str:
    addresses: list[str] = []
    for part in raw.replace(",", "\n").replace(";", "\n").splitlines():
        address = part.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationFailed(
                _("%(address)s is not an e-mail address.") % {"address": address},
                field="emails",
            ) from exc
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return "\n".join(addresses)


def _recipients(actor: User | None, ids: Iterable[int]) -> list[User]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    pool = (
        recipient_choices(actor)
        if actor is not None
        else User.objects.filter(kind=UserKind.OFFICIAL, is_active=True)
    )
    found = list(pool.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationFailed(
            _("Choose active officials within your scope as recipients."), field="recipients"
        )
    return found


def _check_scope(actor: User | None, kind_text: str, scope_id: int | None) -> ScopeKind:
    try:
        kind = ScopeKind(kind_text)
    except ValueError as exc:
        raise ValidationFailed(
            _("Unknown scope %(kind)s.") % {"kind": kind_text}, field="scope"
        ) from exc
    if scope_id is None:
        if kind not in OPEN_KINDS:
            raise ValidationFailed(_("Choose which one."), field="scope")
        return kind
    scope = Scope(kind, scope_id)
    try:
        if actor is None:
            resolve_for_system(scope)
        else:
            resolve(actor, scope)
    except (NotFound, ValidationFailed) as exc:
        raise ValidationFailed(_("The scope does not exist."), field="scope") from exc
    except OutOfScope as exc:
        raise ValidationFailed(_("The scope is outside your province."), field="scope") from exc
    return kind


@transaction.atomic
def alert_rule_save(
    *,
    actor: User | None,
    rule: AlertRule | None = None,
    name: str,
    indicator: str,
    scope_kind: str,
    scope_id: int | None,
    comparison: str,
    threshold: Decimal | int | float | str | None,
    use_target: bool = False,
    window_days: int | str = 30,
    severity: str = AlertSeverity.WARNING,
    recipient_ids: Iterable[int] = (),
    emails: str = "",
    is_active: bool = True,
    expected_version: int | None = None,
    at: datetime | None = None,
    source: str = "web",
) -> AlertRule:
    """Create `rule` (None) or change it. `threshold` may be left empty when `use_target`;
    percentages are 0–100. `expected_version` refuses a change made over someone else's."""
    _require_rule_manager(actor)
    moment = at or timezone.now()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the rule a name."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_("The name is at most 200 characters."), field="name")
    definition = indicators.get(indicator or "")
    if definition is None or not definition.held:
        raise ValidationFailed(_("Unknown indicator, or one without data."), field="indicator")
    kind = _check_scope(actor, scope_kind, scope_id)
    if kind not in definition.levels:
        raise ValidationFailed(
            _("This indicator is not computed for this kind of scope."), field="scope"
        )
    if comparison not in AlertComparison.values:
        raise ValidationFailed(_("Unknown comparison."), field="comparison")
    amount = _threshold(threshold, definition.unit.value)
    if amount is None and not use_target:
        raise ValidationFailed(
            _("Give a threshold, or compare with the province's target."), field="threshold"
        )
    try:
        window = int(str(window_days).strip())
    except ValueError as exc:
        raise ValidationFailed(_("The window is a number of days."), field="window_days") from exc
    if not 0 <= window <= MAX_WINDOW_DAYS:
        raise ValidationFailed(
            _("The window is 0 to %(days)s days.") % {"days": MAX_WINDOW_DAYS},
            field="window_days",
        )
    if severity not in AlertSeverity.values:
        raise ValidationFailed(_("Unknown severity."), field="severity")
    chosen = _recipients(actor, recipient_ids)
    addresses = _emails(emails or "")

    before: dict[str, Any] | None = None
    if rule is None:
        rule = AlertRule(created_at=moment, created_by=actor if actor and actor.pk else None)
    else:
        rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
        if expected_version is not None and rule.version != expected_version:
            raise Conflict()
        before = {
            **snapshot(rule, RULE_FIELDS),
            "recipients": sorted(rule.recipients.values_list("pk", flat=True)),
        }
        rule.version += 1
    rule.name = name
    rule.indicator = definition.code
    rule.scope_kind = kind.value
    rule.scope_id = scope_id
    rule.comparison = comparison
    rule.threshold = amount
    rule.use_target = bool(use_target)
    rule.window_days = window
    rule.severity = severity
    rule.emails = addresses
    rule.is_active = bool(is_active)
    rule.updated_at = moment
    rule.updated_by = actor if actor and actor.pk else None
    rule.save()
    rule.recipients.set(chosen)
    audit_record(
        actor=actor,
        action="ioc.alert_rule.create" if before is None else "ioc.alert_rule.update",
        obj=rule,
        before=before,
        after={**snapshot(rule, RULE_FIELDS), "recipients": sorted(u.pk for u in chosen)},
        source=source,
    )
    return rule


@transaction.atomic
def alert_rule_deactivate(
    *, actor: User | None, rule: AlertRule, at: datetime | None = None, source: str = "web"
) -> AlertRule:
    """Stop evaluating `rule`. Its unresolved alerts stay as they are (someone resolves
    them); no new ones are raised."""
    _require_rule_manager(actor)
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    if not rule.is_active:
        return rule
    before = snapshot(rule, RULE_FIELDS)
    rule.is_active = False
    rule.version += 1
    rule.updated_at = at or timezone.now()
    rule.updated_by = actor if actor and actor.pk else None
    rule.save(update_fields=["is_active", "version", "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        action="ioc.alert_rule.deactivate",
        obj=rule,
        before=before,
        after=snapshot(rule, RULE_FIELDS),
        source=source,
    )
    return rule


# --- alerts -------------------------------------------------------------------------------------


def _transition(
    *,
    actor: User,
    alert: Alert,
    allowed_from: tuple[str, ...],
    to_state: str,
    action: str,
    note: str,
    at: datetime | None,
    source: str,
) -> Alert:
    locked = Alert.objects.select_for_update().select_related("rule").get(pk=alert.pk)
    if not can_handle(actor, locked):
        raise OutOfScope(_("You may not handle this alert."))
    if locked.state not in allowed_from:
        raise IllegalTransition(
            _("The alert is %(state)s.") % {"state": locked.get_state_display().lower()}
        )
    moment = at or timezone.now()
    before = snapshot(locked, ALERT_FIELDS)
    from_state = locked.state
    locked.state = to_state
    if action == AlertAction.ACKNOWLEDGED:
        locked.acknowledged_at, locked.acknowledged_by = moment, actor
    else:
        locked.resolved_at, locked.resolved_by = moment, actor
    locked.save(update_fields=["state", *ALERT_FIELDS[1:]])
    from tinhso.ioc.alerts import actor_label

    AlertEvent.objects.create(
        alert=locked,
        at=moment,
        actor=actor if actor.pk else None,
        actor_label=actor_label(actor),
        action=action,
        from_state=from_state,
        to_state=to_state,
        value=locked.last_value,
        note=(note or "").strip()[:2000],
    )
    audit_record(
        actor=actor,
        action=f"ioc.alert.{'acknowledge' if action == AlertAction.ACKNOWLEDGED else 'resolve'}",
        obj=locked,
        before=before,
        after={**snapshot(locked, ALERT_FIELDS), "note": (note or "").strip()[:500]},
        source=source,
    )
    return locked


@transaction.atomic
def alert_acknowledge(
    *, actor: User, alert: Alert, note: str = "", at: datetime | None = None, source: str = "web"
) -> Alert:
    """Someone has seen the alert and is on it; it stays until it recovers or is resolved."""
    return _transition(
        actor=actor,
        alert=alert,
        allowed_from=(AlertState.OPEN,),
        to_state=AlertState.ACKNOWLEDGED,
        action=AlertAction.ACKNOWLEDGED,
        note=note,
        at=at,
        source=source,
    )


@transaction.atomic
def alert_resolve(
    *, actor: User, alert: Alert, note: str = "", at: datetime | None = None, source: str = "web"
) -> Alert:
    """Close the alert by hand. If the indicator is still on the wrong side of the
    threshold, the next evaluation raises a new alert."""
    return _transition(
        actor=actor,
        alert=alert,
        allowed_from=(AlertState.OPEN, AlertState.ACKNOWLEDGED),
        to_state=AlertState.RESOLVED,
        action=AlertAction.RESOLVED,
        note=note,
        at=at,
        source=source,
    )


__all__ = [
    "alert_acknowledge",
    "alert_events",
    "alert_get",
    "alert_resolve",
    "alert_rule_deactivate",
    "alert_rule_save",
    "alerts_list",
    "can_handle",
    "can_manage_rules",
    "recipient_choices",
    "rule_get",
    "rules_list",
]
