"""Alert evaluation (design §3.5, §3.6): each active rule is evaluated for every scope it
covers; a breach raises one alert (the database's "one unresolved alert per rule and scope"
constraint makes sure of it, even with two evaluators racing), a breach that lasts only
updates the alert's last value, and a value back on the right side of the threshold resolves
the alert as "recovered" by the system. A breach after that raises a new alert.

Evaluated every 5 minutes by the scheduled task (`tinhso.ioc.tasks`) and, throttled, after
each dossier event for the rules whose scope covers the dossier's agency. The system acts
here: scopes are resolved with `resolve_for_system` (never from a request). What the system
does is written in the alert's trail (`AlertEvent`), not in the audit log, which records
what people do (rules, acknowledgements, resolutions: `alert_services`).

`is_breached` is plain Python; the rest reads the indicators through the selectors."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tinhso.core.errors import DomainError
from tinhso.core.models import AdministrativeUnit, Agency, UnitLevel, User
from tinhso.integration import outbox
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
    Target,
)
from tinhso.ioc.periods import Period, local_day
from tinhso.ioc.scopes import ResolvedScope, Scope, ScopeKind, resolve_for_system

logger = logging.getLogger(__name__)

#: A rule and scope is re-evaluated after a dossier event at most this often per process.
EVENT_THROTTLE_SECONDS = 60.0

UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


def is_breached(value: Decimal, comparison: str, threshold: Decimal) -> bool:
    """Whether `value` is on the alerting side of `threshold` ("below 95": `lt`)."""
    if comparison == AlertComparison.LT:
        return value < threshold
    if comparison == AlertComparison.LE:
        return value <= threshold
    if comparison == AlertComparison.GT:
        return value > threshold
    if comparison == AlertComparison.GE:
        return value >= threshold
    raise ValueError(f"unknown comparison {comparison!r}")


class Result(StrEnum):
    RAISED = "raised"
    STILL_BREACHED = "still_breached"
    RECOVERED = "recovered"
    OK = "ok"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"
    NO_SCOPE = "no_scope"


@dataclass(frozen=True)
class Outcome:
    """What one evaluation of a rule at one scope did."""

    rule_id: int
    scope: Scope
    result: Result
    value: Decimal | None = None
    threshold: Decimal | None = None
    alert_id: int | None = None


# --- which scopes a rule covers -----------------------------------------------------------------


def default_province() -> AdministrativeUnit | None:
    province = AdministrativeUnit.objects.filter(
        level=UnitLevel.PROVINCE, code=settings.TINHSO_PROVINCE_CODE, valid_until__isnull=True
    ).first()
    return province or AdministrativeUnit.objects.filter(level=UnitLevel.PROVINCE).first()


def _agencies(province: AdministrativeUnit) -> Iterable[Agency]:
    return Agency.objects.filter(is_active=True, unit__path__startswith=province.path).order_by(
        "pk"
    )


def _communes(province: AdministrativeUnit) -> Iterable[AdministrativeUnit]:
    return AdministrativeUnit.objects.filter(
        level=UnitLevel.COMMUNE, path__startswith=province.path, valid_until__isnull=True
    ).order_by("pk")


def rule_scopes(rule: AlertRule) -> list[Scope]:
    """The scopes `rule` is evaluated at: its one scope, or each agency (each commune) of
    the province when it names none."""
    kind = ScopeKind(rule.scope_kind)
    if not rule.fans_out:
        return [Scope(kind, rule.scope_id)]
    province = default_province()
    if province is None:
        return []
    if kind == ScopeKind.AGENCY:
        return [Scope(kind, a.pk) for a in _agencies(province)]
    return [Scope(kind, u.pk) for u in _communes(province)]


def _scopes_covering(rule: AlertRule, agency: Agency, dossier: Any) -> list[Scope]:
    """The scopes of `rule` whose figures a dossier event at `agency` can move."""
    kind = ScopeKind(rule.scope_kind)
    path = agency.unit.path
    if kind == ScopeKind.PROVINCE:
        return [Scope(kind, rule.scope_id)]
    if kind == ScopeKind.AGENCY:
        return [Scope(kind, agency.pk)] if rule.scope_id in (None, agency.pk) else []
    if kind == ScopeKind.UNIT:
        if rule.scope_id is None:
            commune = agency.unit if agency.unit.level == UnitLevel.COMMUNE else None
            return [Scope(kind, commune.pk)] if commune is not None else []
        unit = AdministrativeUnit.objects.filter(pk=rule.scope_id).first()
        return [Scope(kind, unit.pk)] if unit and path.startswith(unit.path) else []
    if kind == ScopeKind.DEPARTMENT:
        covered = dossier is not None and dossier.department_id == rule.scope_id
        return [Scope(kind, rule.scope_id)] if covered else []
    if kind == ScopeKind.OFFICIAL:
        covered = dossier is not None and dossier.assignee_id == rule.scope_id
        return [Scope(kind, rule.scope_id)] if covered else []
    if kind == ScopeKind.PROCEDURE:
        covered = dossier is not None and dossier.procedure_id == rule.scope_id
        return [Scope(kind, rule.scope_id)] if covered else []
    covered = dossier is not None and dossier.procedure.field_id == rule.scope_id
    return [Scope(kind, rule.scope_id)] if covered else []


# --- evaluating ---------------------------------------------------------------------------------


def rule_period(rule: AlertRule, now: datetime) -> Period:
    today = local_day(now)
    return Period.day(today) if rule.window_days == 0 else Period.last_days(rule.window_days, today)


def rule_threshold(rule: AlertRule, resolved: ResolvedScope, now: datetime) -> Decimal | None:
    """The rule's threshold, or the province's target for the indicator this year."""
    if not rule.use_target:
        return rule.threshold
    if resolved.province_id is None:
        return None
    target = Target.objects.filter(
        province_id=resolved.province_id, indicator=rule.indicator, year=local_day(now).year
    ).first()
    return target.value if target is not None else None


def _unit_path(resolved: ResolvedScope) -> str:
    if resolved.unit_path:
        return resolved.unit_path
    if resolved.agency_id:
        agency = Agency.objects.select_related("unit").get(pk=resolved.agency_id)
        return agency.unit.path
    if resolved.province_id:
        return f"/{resolved.province_id}/"
    province = default_province()
    return province.path if province is not None else ""


def _unresolved(rule: AlertRule, scope: Scope) -> Alert | None:
    return Alert.objects.filter(
        rule=rule, scope_kind=scope.kind.value, scope_id=scope.id, state__in=UNRESOLVED
    ).first()


def evaluate_scope(rule: AlertRule, scope: Scope, *, now: datetime) -> Outcome:
    """Evaluate `rule` at one scope and raise, update or recover its alert."""
    try:
        resolved = resolve_for_system(scope)
    except DomainError:  # the agency or unit no longer exists
        return Outcome(rule.pk, scope, Result.NO_SCOPE)
    scope = resolved.scope
    threshold = rule_threshold(rule, resolved, now)
    if threshold is None:
        return Outcome(rule.pk, scope, Result.NO_TARGET)
    from tinhso.ioc.selectors import compute

    value = compute(rule.indicator, resolved, rule_period(rule, now), at=now).value.value
    if value is None:
        return Outcome(rule.pk, scope, Result.NO_DATA, threshold=threshold)
    current = _unresolved(rule, scope)
    if is_breached(value, rule.comparison, threshold):
        if current is not None:
            Alert.objects.filter(pk=current.pk).update(last_value=value, last_evaluated_at=now)
            return Outcome(rule.pk, scope, Result.STILL_BREACHED, value, threshold, current.pk)
        return _raise(rule, resolved, value, threshold, now)
    if current is not None:
        _recover(current, value, now)
        return Outcome(rule.pk, scope, Result.RECOVERED, value, threshold, current.pk)
    return Outcome(rule.pk, scope, Result.OK, value, threshold)


def evaluate_rule(rule: AlertRule, *, now: datetime) -> list[Outcome]:
    return [evaluate_scope(rule, scope, now=now) for scope in rule_scopes(rule)]


def evaluate_all(*, now: datetime | None = None) -> list[Outcome]:
    """Every active rule at every scope it covers (the scheduled job). A rule that fails is
    logged and does not stop the others."""
    moment = now or timezone.now()
    outcomes: list[Outcome] = []
    for rule in AlertRule.objects.filter(is_active=True).order_by("pk"):
        try:
            outcomes.extend(evaluate_rule(rule, now=moment))
        except Exception:
            logger.exception("alert rule %s failed to evaluate", rule.pk)
    return outcomes


def _raise(
    rule: AlertRule, resolved: ResolvedScope, value: Decimal, threshold: Decimal, now: datetime
) -> Outcome:
    scope = resolved.scope
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                scope_kind=scope.kind.value,
                scope_id=scope.id,
                scope_label=resolved.label[:255],
                agency_id=resolved.agency_id,
                unit_path=_unit_path(resolved),
                state=AlertState.OPEN,
                value=value,
                threshold=threshold,
                raised_at=now,
                last_value=value,
                last_evaluated_at=now,
            )
            AlertEvent.objects.create(
                alert=alert,
                at=now,
                actor_label="system",
                action=AlertAction.RAISED,
                to_state=AlertState.OPEN,
                value=value,
            )
            notify(alert)
    except IntegrityError:
        # Another evaluator raised it between our read and our insert: theirs stands.
        current = _unresolved(rule, scope)
        return Outcome(
            rule.pk,
            scope,
            Result.STILL_BREACHED,
            value,
            threshold,
            current.pk if current is not None else None,
        )
    return Outcome(rule.pk, scope, Result.RAISED, value, threshold, alert.pk)


def _recover(alert: Alert, value: Decimal, now: datetime) -> None:
    with transaction.atomic():
        locked = Alert.objects.select_for_update().filter(pk=alert.pk).first()
        if locked is None or locked.state == AlertState.RESOLVED:
            return
        before = locked.state
        locked.state = AlertState.RESOLVED
        locked.resolved_at = now
        locked.resolved_by = None
        locked.last_value = value
        locked.last_evaluated_at = now
        locked.save(
            update_fields=[
                "state",
                "resolved_at",
                "resolved_by",
                "last_value",
                "last_evaluated_at",
            ]
        )
        AlertEvent.objects.create(
            alert=locked,
            at=now,
            actor_label="system",
            action=AlertAction.RECOVERED,
            from_state=before,
            to_state=AlertState.RESOLVED,
            value=value,
        )


# --- notifying ----------------------------------------------------------------------------------

SEVERITY_VI = {
    AlertSeverity.INFO: "Thông tin",
    AlertSeverity.WARNING: "Cảnh báo",
    AlertSeverity.CRITICAL: "Khẩn cấp",
}
COMPARISON_VI = {
    AlertComparison.LT: "dưới",
    AlertComparison.LE: "không quá",
    AlertComparison.GT: "trên",
    AlertComparison.GE: "từ",
}


def format_value(value: Decimal | None, unit: str) -> str:
    """`93,50 %`, `3`, `12,5 giờ` (Vietnamese decimal comma)."""
    if value is None:
        return "—"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"
    text = text.replace(".", ",")
    if unit == Unit.PERCENT:
        return f"{text} %"
    if unit == Unit.HOURS:
        return f"{text} giờ"
    return text


def recipients(rule: AlertRule) -> list[str]:
    """The addresses to notify: the chosen officials' (active, with an address) and the
    rule's other addresses, each once."""
    addresses: list[str] = []
    officials = rule.recipients.filter(is_active=True).exclude(email="").order_by("pk")
    typed = rule.emails.replace(",", "\n").replace(";", "\n").splitlines()
    for address in [u.email for u in officials] + typed:
        address = address.strip()
        if address and address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return addresses


def notify(alert: Alert) -> None:
    """One e-mail per recipient through the outbox, in the raising transaction (Vietnamese:
    officials read it)."""
    rule = alert.rule
    indicator = indicators.get(rule.indicator)
    unit = indicator.unit.value if indicator is not None else ""
    severity = SEVERITY_VI.get(AlertSeverity(rule.severity), rule.severity)
    window = (
        "tại thời điểm kiểm tra"
        if rule.window_days == 0
        else f"trong {rule.window_days} ngày gần nhất"
    )
    link = f"{settings.TINHSO_PUBLIC_BASE_URL}/ioc/alerts/{alert.pk}/"
    comparison = COMPARISON_VI.get(AlertComparison(rule.comparison), rule.comparison)
    body = (
        f"{severity}: {rule.name}\n\n"
        f"Phạm vi: {alert.scope_label}\n"
        f"Chỉ số: {indicator.name if indicator is not None else rule.indicator} ({window})\n"
        f"Giá trị: {format_value(alert.value, unit)} — ngưỡng cảnh báo: {comparison} "
        f"{format_value(alert.threshold, unit)}"
        f"{' (chỉ tiêu năm của tỉnh)' if rule.use_target else ''}\n"
        f"Thời điểm: {timezone.localtime(alert.raised_at):%H:%M %d/%m/%Y}\n\n"
        f"Xem và xử lý cảnh báo: {link}\n"
    )
    subject = f"[Tỉnh Số] {severity}: {rule.name} — {alert.scope_label}"
    for address in recipients(rule):
        outbox.enqueue(
            adapter="email",
            topic="ioc.alert",
            payload={"to": address, "subject": subject[:250], "body": body},
            idempotency_key=idempotency_key(alert, address),
        )


def idempotency_key(alert: Alert, address: str) -> str:
    """`alert:<id>:<address>`; a digest of the address when that would not fit the column."""
    key = f"alert:{alert.pk}:{address}"
    if len(key) <= 100:
        return key
    return f"alert:{alert.pk}:{hashlib.sha256(address.lower().encode()).hexdigest()[:40]}"


# --- after a dossier event ----------------------------------------------------------------------

#: (rule id, scope text) → monotonic time of the last evaluation after an event, per process.
_last_run: dict[tuple[int, str], float] = {}


def reset_throttle() -> None:
    """Forget the throttle and the caches (tests; a process that must see a change now)."""
    global _rules_cache
    _last_run.clear()
    _rules_cache = None
    _agency_cache.clear()


def _due(rule: AlertRule, scope: Scope) -> bool:
    key = (rule.pk, str(scope))
    moment = time.monotonic()
    last = _last_run.get(key)
    if last is not None and moment - last < EVENT_THROTTLE_SECONDS:
        return False
    _last_run[key] = moment
    return True


#: The active rules and the agencies, as one process last read them (monotonic time, value):
#: read again after `CACHE_SECONDS`, so a desk's stream of events costs no rule or agency
#: query. A rule changed in the UI is picked up within that time here, at once by the job.
CACHE_SECONDS = 30.0
_rules_cache: tuple[float, list[AlertRule]] | None = None
_agency_cache: dict[int, tuple[float, Agency]] = {}


def _active_rules() -> list[AlertRule]:
    global _rules_cache
    moment = time.monotonic()
    if _rules_cache is None or moment - _rules_cache[0] > CACHE_SECONDS:
        _rules_cache = (moment, list(AlertRule.objects.filter(is_active=True).order_by("pk")))
    return _rules_cache[1]


def _agency(agency_id: int) -> Agency:
    moment = time.monotonic()
    cached = _agency_cache.get(agency_id)
    if cached is None or moment - cached[0] > CACHE_SECONDS:
        cached = (moment, Agency.objects.select_related("unit").get(pk=agency_id))
        _agency_cache[agency_id] = cached
    return cached[1]


def evaluate_for_event(event: Any, *, now: datetime | None = None) -> list[Outcome]:
    """Re-evaluate the active rules whose scope covers the event's agency (and dossier),
    each rule and scope at most once a minute per process."""
    moment = now or timezone.now()
    agency = _agency(event.agency_id)
    dossier = event.dossier
    outcomes: list[Outcome] = []
    for rule in _active_rules():
        for scope in _scopes_covering(rule, agency, dossier):
            if _due(rule, scope):
                outcomes.append(evaluate_scope(rule, scope, now=moment))
    return outcomes


def on_dossier_event(event: Any, *, now: datetime | None = None) -> None:
    """The after-commit dossier hook, with the committed event (or its id): never raises (the
    official's work is done already)."""
    event_id = event if isinstance(event, int) else event.pk
    try:
        from tinhso.dossiers.models import DossierEvent

        if isinstance(event, int):
            event = DossierEvent.objects.select_related("dossier__procedure").get(pk=event_id)
        evaluate_for_event(event, now=now)
    except Exception:
        logger.exception("alert evaluation after dossier event %s failed", event_id)


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return actor.full_name or actor.get_username()


__all__ = [
    "EVENT_THROTTLE_SECONDS",
    "Outcome",
    "Result",
    "default_province",
    "evaluate_all",
    "evaluate_for_event",
    "evaluate_rule",
    "evaluate_scope",
    "format_value",
    "is_breached",
    "notify",
    "on_dossier_event",
    "recipients",
    "reset_throttle",
    "rule_period",
    "rule_scopes",
    "rule_threshold",
]
