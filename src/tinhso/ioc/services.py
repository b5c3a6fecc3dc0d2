"""Writes of the operations centre: the province's targets (audited), and the rebuild of the
rollups from the event log. The rollups themselves are written by the dossier hook
(`rollups.on_dossier_event`) inside each transition's transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.core.models import PROVINCE_WIDE_ROLES, AdministrativeUnit, UnitLevel, User
from tinhso.core.scoping import can_see
from tinhso.ioc import indicators, rollups
from tinhso.ioc.formulas import Unit
from tinhso.ioc.models import Target

TARGET_FIELDS = ("province", "indicator", "year", "value", "note")


def _require_province_role(actor: User | None, province: AdministrativeUnit) -> None:
    """Targets are the province's: set by its leaders or administrators (or the system)."""
    if actor is None or actor.is_superuser:
        return
    if not (actor.is_active and actor.role_set & PROVINCE_WIDE_ROLES):
        raise OutOfScope(_("Only a provincial leader or administrator may set targets."))
    if not can_see(actor, province):
        raise OutOfScope(_("This is outside your province."))


@transaction.atomic
def target_set(
    *,
    actor: User | None,
    province: AdministrativeUnit,
    indicator: str,
    year: int,
    value: Decimal | int | str,
    note: str = "",
    source: str = "web",
) -> Target:
    """Set (or change) the province's target for `indicator` in `year`; percentages are given
    as 0–100 (80 means 80 %)."""
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_("Targets are set for a province."), field="province")
    _require_province_role(actor, province)
    definition = indicators.get(indicator)
    if definition is None or not definition.held:
        raise ValidationFailed(_("Unknown indicator, or one without data."), field="indicator")
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed(_("Give a year between 2000 and 2100."), field="year")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(_("The target is a number."), field="value") from exc
    if amount < 0 or (definition.unit == Unit.PERCENT and amount > 100):
        raise ValidationFailed(_("A percentage target lies between 0 and 100."), field="value")
    if definition.unit == Unit.SCORE and not 1 <= amount <= 5:
        raise ValidationFailed(_("A rating target lies between 1 and 5."), field="value")
    target = (
        Target.objects.select_for_update()
        .filter(province=province, indicator=indicator, year=year)
        .first()
    )
    before = snapshot(target, TARGET_FIELDS) if target is not None else None
    if target is None:
        target = Target(province=province, indicator=indicator, year=year)
    target.value = amount
    target.note = note.strip()[:500]
    target.updated_at = timezone.now()
    target.updated_by = actor if actor is not None and actor.pk else None
    target.save()
    audit_record(
        actor=actor,
        action="ioc.target.set",
        obj=target,
        before=before,
        after=snapshot(target, TARGET_FIELDS),
        source=source,
    )
    return target


@transaction.atomic
def target_delete(*, actor: User | None, target: Target, source: str = "web") -> None:
    _require_province_role(actor, target.province)
    audit_record(
        actor=actor,
        action="ioc.target.delete",
        obj=target,
        before=snapshot(target, TARGET_FIELDS),
        source=source,
    )
    target.delete()


def rollups_rebuild(*, actor: User | None, since: date | None = None) -> rollups.RebuildResult:
    """Recompute the rollups from the dossier events (the console's `tinhso ioc rebuild`).
    Not audited: the rollups are derived data with no state of their own, and the events
    they are rebuilt from are the audit trail."""
    if actor is not None and not actor.is_superuser:
        raise OutOfScope(_("Only the system or a superuser may rebuild the rollups."))
    return rollups.rebuild(since=since)


__all__ = ["rollups_rebuild", "target_delete", "target_set"]
