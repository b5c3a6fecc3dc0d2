"""Every change to the shared registers: one function per use case, keyword-only, in one
transaction, with the permission check and the audit record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.audit import actor_label, audit_record, scope_values, snapshot
from tinhso.core.errors import NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AuditRecord,
    CalendarOverride,
    Department,
    OverrideKind,
    ProvinceCalendar,
    Role,
    RoleAssignment,
    UnitLevel,
    User,
    UserKind,
)
from tinhso.core.scoping import can_see
from tinhso.core.selectors import invalidate_calendar_cache
from tinhso.core.working_calendar import OfficeHours

#: The date the two-level local government (34 provinces) took effect.
TWO_LEVEL_SINCE = date(2025, 7, 1)

UNIT_FIELDS = ("code", "name", "division_type", "level", "parent", "valid_from", "valid_until")
AGENCY_FIELDS = ("code", "name", "short_name", "kind", "unit", "parent", "address", "phone")
DEPARTMENT_FIELDS = ("agency", "code", "name", "is_one_stop_desk")
OFFICIAL_FIELDS = ("username", "full_name", "position", "email", "phone", "agency", "department")


def require_admin(actor: User | None, obj: object | None = None) -> None:
    """Reference data changes need an administrator whose scope reaches the object.
    `actor=None` is the system itself (console commands, data loads)."""
    if actor is None or actor.is_superuser:
        return
    if not actor.has_role(Role.ADMINISTRATOR):
        raise OutOfScope(_("Only an administrator may change reference data."))
    if obj is not None and getattr(obj, "pk", None) and not can_see(actor, obj):  # type: ignore[arg-type]
        raise OutOfScope()


# --- administrative units -------------------------------------------------------------------


@dataclass(frozen=True)
class UnitLoadResult:
    provinces: int
    created: int
    updated: int
    retired: int


def _package_divisions() -> list[dict]:
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    return json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))


def _province_code(raw: int | str) -> str:
    return f"{int(raw):02d}"


def _commune_code(raw: int | str) -> str:
    return f"{int(raw):05d}"


@transaction.atomic
def units_load(
    *, actor: User | None, province_code: str | None = None, source: str = "cli"
) -> UnitLoadResult:
    """Load (or bring up to date) the current two-level units from `vietnam-provinces`.

    Running it again changes nothing; a commune that left the package's data is retired
    (`valid_until` set), never deleted, so historic dossiers still point at it."""
    require_admin(actor)
    divisions = _package_divisions()
    if province_code is not None:
        wanted = _province_code(province_code)
        divisions = [p for p in divisions if _province_code(p["code"]) == wanted]
        if not divisions:
            raise NotFound(_("No province with code %(code)s.") % {"code": province_code})
    created = updated = retired = 0
    today = timezone.localdate()
    audit_rows: list[AuditRecord] = []
    unit_type = ContentType.objects.get_for_model(AdministrativeUnit)
    label = actor_label(actor)

    def audit(unit: AdministrativeUnit, action: str, before: dict | None) -> None:
        audit_rows.append(
            AuditRecord(
                actor=actor,
                actor_label=label,
                action=action,
                object_type=unit_type,
                object_id=str(unit.pk),
                object_repr=str(unit)[:255],
                before=before,
                after=snapshot(unit, UNIT_FIELDS),
                unit_path=unit.path,
                source=source,
            )
        )

    for item in divisions:
        code = _province_code(item["code"])
        province = AdministrativeUnit.objects.filter(
            level=UnitLevel.PROVINCE, code=code, valid_until__isnull=True
        ).first()
        if province is None:
            province = AdministrativeUnit.objects.create(
                code=code,
                name=item["name"],
                division_type=item["division_type"],
                level=UnitLevel.PROVINCE,
                path=f"/pending/{code}/",
                valid_from=TWO_LEVEL_SINCE,
            )
            province.path = f"/{province.pk}/"
            province.save(update_fields=["path"])
            created += 1
            audit(province, "unit.create", None)
        elif (province.name, province.division_type) != (item["name"], item["division_type"]):
            before = snapshot(province, UNIT_FIELDS)
            province.name, province.division_type = item["name"], item["division_type"]
            province.save(update_fields=["name", "division_type"])
            updated += 1
            audit(province, "unit.update", before)

        existing = {
            u.code: u
            for u in AdministrativeUnit.objects.filter(
                parent=province, level=UnitLevel.COMMUNE, valid_until__isnull=True
            )
        }
        seen: set[str] = set()
        new_units: list[AdministrativeUnit] = []
        changed: list[tuple[AdministrativeUnit, dict]] = []
        for ward in item.get("wards", []):
            ward_code = _commune_code(ward["code"])
            seen.add(ward_code)
            unit = existing.get(ward_code)
            if unit is None:
                new_units.append(
                    AdministrativeUnit(
                        code=ward_code,
                        name=ward["name"],
                        division_type=ward["division_type"],
                        level=UnitLevel.COMMUNE,
                        parent=province,
                        path=f"/pending/{code}/{ward_code}/",
                        valid_from=TWO_LEVEL_SINCE,
                    )
                )
            elif (unit.name, unit.division_type) != (ward["name"], ward["division_type"]):
                before = snapshot(unit, UNIT_FIELDS)
                unit.name, unit.division_type = ward["name"], ward["division_type"]
                changed.append((unit, before))
        if new_units:
            AdministrativeUnit.objects.bulk_create(new_units)
            if any(u.pk is None for u in new_units):  # backends without RETURNING
                by_code = {
                    u.code: u
                    for u in AdministrativeUnit.objects.filter(path__startswith=f"/pending/{code}/")
                }
                new_units = [by_code[u.code] for u in new_units]
            for unit in new_units:
                unit.path = f"{province.path}{unit.pk}/"
                audit(unit, "unit.create", None)
            AdministrativeUnit.objects.bulk_update(new_units, ["path"])
            created += len(new_units)
        if changed:
            AdministrativeUnit.objects.bulk_update(
                [u for u, _b in changed], ["name", "division_type"]
            )
            for unit, before in changed:
                audit(unit, "unit.update", before)
            updated += len(changed)
        for ward_code, unit in existing.items():
            if ward_code not in seen:
                before = snapshot(unit, UNIT_FIELDS)
                unit.valid_until = today
                unit.save(update_fields=["valid_until"])
                audit(unit, "unit.retire", before)
                retired += 1
    AuditRecord.objects.bulk_create(audit_rows)
    return UnitLoadResult(len(divisions), created, updated, retired)


@transaction.atomic
def unit_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    level: str,
    parent: AdministrativeUnit | None = None,
    division_type: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    source: str = "web",
) -> AdministrativeUnit:
    """Add one unit anywhere in the tree (used for history: districts and old communes)."""
    require_admin(actor, parent)
    if level not in UnitLevel.values:
        raise ValidationFailed(_("Unknown unit level %(level)s.") % {"level": level})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationFailed(_("A unit cannot end before it starts."))
    unit = AdministrativeUnit.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        division_type=division_type,
        valid_from=valid_from,
        valid_until=valid_until,
        path=f"/pending/{code}/{level}/{timezone.now().timestamp()}/",
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    audit_record(
        actor=actor,
        action="unit.create",
        obj=unit,
        after=snapshot(unit, UNIT_FIELDS),
        source=source,
    )
    return unit


@transaction.atomic
def unit_set_successors(
    *,
    actor: User | None,
    unit: AdministrativeUnit,
    successors: Iterable[AdministrativeUnit],
    source: str = "web",
) -> None:
    """Record which current units took over a merged or dissolved one."""
    require_admin(actor, unit)
    before = sorted(unit.successors.values_list("pk", flat=True))
    unit.successors.set(list(successors))
    after = sorted(unit.successors.values_list("pk", flat=True))
    audit_record(
        actor=actor,
        action="unit.successors",
        obj=unit,
        before={"successors": before},
        after={"successors": after},
        source=source,
    )


# --- agencies, departments, officials -------------------------------------------------------


def _save_with_audit(
    *,
    actor: User | None,
    model: type,
    lookup: dict,
    values: dict,
    fields: tuple[str, ...],
    action_prefix: str,
    source: str,
    create_values: dict | None = None,
):
    instance = model.objects.select_for_update().filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values, **(create_values or {}))
        instance.full_clean(validate_unique=False, validate_constraints=False)
        instance.save()
        audit_record(
            actor=actor,
            action=f"{action_prefix}.create",
            obj=instance,
            after=snapshot(instance, fields),
            source=source,
        )
        return instance, True
    require_admin(actor, instance)
    before = snapshot(instance, fields)
    for key, value in values.items():
        setattr(instance, key, value)
    after = snapshot(instance, fields)
    if after != before:
        instance.full_clean(validate_unique=False, validate_constraints=False)
        instance.save()
        audit_record(
            actor=actor,
            action=f"{action_prefix}.update",
            obj=instance,
            before=before,
            after=after,
            source=source,
        )
    return instance, False


@transaction.atomic
def agency_save(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    unit: AdministrativeUnit,
    short_name: str = "",
    parent: Agency | None = None,
    address: str = "",
    phone: str = "",
    source: str = "web",
) -> Agency:
    """Create the agency with this electronic identifier code, or bring it up to date."""
    require_admin(actor, unit)
    agency, _created = _save_with_audit(
        actor=actor,
        model=Agency,
        lookup={"code": code},
        values={
            "name": name,
            "kind": kind,
            "unit": unit,
            "short_name": short_name,
            "parent": parent,
            "address": address,
            "phone": phone,
        },
        fields=AGENCY_FIELDS,
        action_prefix="agency",
        source=source,
    )
    return agency


@transaction.atomic
def department_save(
    *,
    actor: User | None,
    agency: Agency,
    code: str,
    name: str,
    is_one_stop_desk: bool = False,
    source: str = "web",
) -> Department:
    require_admin(actor, agency)
    department, _created = _save_with_audit(
        actor=actor,
        model=Department,
        lookup={"agency": agency, "code": code},
        values={"name": name, "is_one_stop_desk": is_one_stop_desk},
        fields=DEPARTMENT_FIELDS,
        action_prefix="department",
        source=source,
    )
    return department


@transaction.atomic
def official_save(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    agency: Agency,
    roles: Iterable[str],
    department: Department | None = None,
    position: str = "",
    email: str = "",
    phone: str = "",
    password_hash: str | None = None,
    source: str = "web",
) -> User:
    """Create an official (or update one with this username) and set their roles."""
    require_admin(actor, agency)
    role_list = sorted(set(roles))
    unknown = [r for r in role_list if r not in Role.values]
    if unknown:
        raise ValidationFailed(_("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)})
    if department is not None and department.agency_id != agency.pk:
        raise ValidationFailed(_("The department does not belong to the agency."))
    official, _created = _save_with_audit(
        actor=actor,
        model=User,
        lookup={"username": username},
        values={
            "full_name": full_name,
            "agency": agency,
            "department": department,
            "position": position,
            "email": email,
            "phone": phone,
            "kind": UserKind.OFFICIAL,
        },
        fields=OFFICIAL_FIELDS,
        action_prefix="official",
        source=source,
        create_values={"password": password_hash or make_password(None)},
    )
    official_set_roles(actor=actor, official=official, roles=role_list, source=source)
    return official


@transaction.atomic
def official_set_roles(
    *, actor: User | None, official: User, roles: Iterable[str], source: str = "web"
) -> None:
    require_admin(actor, official)
    wanted = set(roles)
    current = set(official.roles.values_list("role", flat=True))
    if wanted == current:
        return
    RoleAssignment.objects.filter(user=official, role__in=current - wanted).delete()
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=official, role=r) for r in sorted(wanted - current)]
    )
    official._role_cache = None
    official._scope_cache = None
    audit_record(
        actor=actor,
        action="official.roles",
        obj=official,
        before={"roles": sorted(current)},
        after={"roles": sorted(wanted)},
        source=source,
    )


@transaction.atomic
def official_set_active(
    *, actor: User | None, official: User, active: bool, source: str = "web"
) -> None:
    """Officials are deactivated, never deleted: their audit trail points at them."""
    require_admin(actor, official)
    if official.is_active == active:
        return
    official.is_active = active
    official.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="official.activate" if active else "official.deactivate",
        obj=official,
        before={"is_active": not active},
        after={"is_active": active},
        source=source,
    )


# --- working calendar -----------------------------------------------------------------------


@transaction.atomic
def province_calendar_set_office_hours(
    *, actor: User | None, province: AdministrativeUnit, office_hours: str, source: str = "web"
) -> ProvinceCalendar:
    require_admin(actor, province)
    try:
        normalised = OfficeHours.parse(office_hours).format()
    except ValueError as exc:
        raise ValidationFailed(
            _("Office hours must look like 07:30-11:30,13:00-17:00 (%(error)s).") % {"error": exc}
        ) from exc
    calendar, _created = ProvinceCalendar.objects.select_for_update().get_or_create(
        province=province
    )
    before = {"office_hours": calendar.office_hours}
    calendar.office_hours = normalised
    calendar.save(update_fields=["office_hours"])
    audit_record(
        actor=actor,
        action="calendar.office_hours",
        obj=province,
        before=before,
        after={"office_hours": normalised},
        source=source,
    )
    _calendar_changed(province)
    return calendar


def _calendar_changed(province: AdministrativeUnit) -> None:
    invalidate_calendar_cache(province.pk)
    transaction.on_commit(lambda: invalidate_calendar_cache(province.pk))


@transaction.atomic
def calendar_override_add(
    *,
    actor: User | None,
    province: AdministrativeUnit,
    day: date,
    kind: str,
    reason: str,
    source: str = "web",
) -> CalendarOverride:
    """Make `day` a working day or a day off for the province (replacing an earlier one)."""
    require_admin(actor, province)
    if kind not in OverrideKind.values:
        raise ValidationFailed(_("The kind must be 'workday' or 'dayoff'."))
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for the override."))
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_("Calendar overrides belong to a province."))
    existing = CalendarOverride.objects.select_for_update().filter(province=province, date=day)
    override = existing.first()
    before = snapshot(override, ("date", "kind", "reason")) if override else None
    if override is None:
        override = CalendarOverride(province=province, date=day)
    override.kind = kind
    override.reason = reason.strip()
    override.save()
    audit_record(
        actor=actor,
        action="calendar.override_add",
        obj=province,
        before=before,
        after=snapshot(override, ("date", "kind", "reason")),
        source=source,
    )
    _calendar_changed(province)
    return override


@transaction.atomic
def calendar_override_remove(
    *, actor: User | None, province: AdministrativeUnit, day: date, source: str = "web"
) -> None:
    require_admin(actor, province)
    override = CalendarOverride.objects.select_for_update().filter(province=province, date=day)
    found = override.first()
    if found is None:
        raise NotFound(_("No override on %(day)s.") % {"day": day.isoformat()})
    before = snapshot(found, ("date", "kind", "reason"))
    found.delete()
    audit_record(
        actor=actor,
        action="calendar.override_remove",
        obj=province,
        before=before,
        source=source,
    )
    _calendar_changed(province)


__all__ = [
    "TWO_LEVEL_SINCE",
    "UnitLoadResult",
    "agency_save",
    "calendar_override_add",
    "calendar_override_remove",
    "department_save",
    "official_save",
    "official_set_active",
    "official_set_roles",
    "province_calendar_set_office_hours",
    "require_admin",
    "scope_values",
    "unit_create",
    "unit_set_successors",
    "units_load",
]
