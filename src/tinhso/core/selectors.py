"""Read queries for the shared registers. Every list and detail goes through `scope`."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from tinhso.core.errors import NotFound
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AuditRecord,
    CalendarOverride,
    ProvinceCalendar,
    UnitLevel,
    User,
    UserKind,
)
from tinhso.core.scoping import scope
from tinhso.core.working_calendar import OfficeHours, WorkingCalendar

M = TypeVar("M", bound=models.Model)


def get_in_scope(queryset: QuerySet[M], user: Any, pk: Any) -> M:
    """One row of `queryset` that `user` may see; NotFound otherwise (also when it exists
    outside the user's scope, so the answer does not reveal what lies beyond it)."""
    try:
        return scope(queryset, user).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def province_by_code(code: str | None = None) -> AdministrativeUnit:
    """The current province with `code` (default: the deployment's own province)."""
    wanted = code or settings.TINHSO_PROVINCE_CODE
    province = AdministrativeUnit.objects.filter(
        level=UnitLevel.PROVINCE,
        code=f"{int(wanted):02d}" if wanted.isdigit() else wanted,
        valid_until__isnull=True,
    ).first()
    if province is None:
        raise NotFound(_("No province with code %(code)s.") % {"code": wanted})
    return province


# Every deadline needs the province's calendar; building it costs two queries and the
# holiday tables, so each process keeps it for a short while. A change made through the
# services clears this process's copy at once; other processes see it within the TTL.
_calendar_cache: dict[int, tuple[float, WorkingCalendar]] = {}


def invalidate_calendar_cache(province_id: int | None = None) -> None:
    if province_id is None:
        _calendar_cache.clear()
    else:
        _calendar_cache.pop(province_id, None)


def working_calendar_for_id(province_id: int) -> WorkingCalendar:
    """The calendar of the province with primary key `province_id` (cached)."""
    now = time.monotonic()
    cached = _calendar_cache.get(province_id)
    if cached is not None and now - cached[0] < settings.TINHSO_CALENDAR_CACHE_SECONDS:
        return cached[1]
    office = ProvinceCalendar.objects.filter(province_id=province_id).first()
    hours = OfficeHours.parse(office.office_hours) if office else OfficeHours()
    overrides = {
        o.date: o.kind == "workday"
        for o in CalendarOverride.objects.filter(province_id=province_id).only("date", "kind")
    }
    calendar = WorkingCalendar(office_hours=hours, overrides=overrides)
    _calendar_cache[province_id] = (now, calendar)
    return calendar


def working_calendar_for(province: AdministrativeUnit) -> WorkingCalendar:
    """The province's calendar: its office hours and its overrides over the national one."""
    return working_calendar_for_id(province.pk)


def province_id_of_path(path: str) -> int:
    """The primary key of the province at the root of a unit path (`/3/17/` → 3)."""
    return int(path.strip("/").split("/")[0])


def province_id_of(unit: AdministrativeUnit) -> int:
    """The primary key of the province a unit belongs to (the root of its path; no query)."""
    return province_id_of_path(unit.path)


def units_list(user: Any, *, query: str = "", include_retired: bool = False) -> QuerySet:
    qs = AdministrativeUnit.objects.select_related("parent")
    if not include_retired:
        qs = qs.filter(valid_until__isnull=True)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__startswith=query))
    return scope(qs, user)


def agencies_list(user: Any, *, query: str = "", kind: str = "") -> QuerySet[Agency]:
    qs = (
        Agency.objects.select_related("unit")
        .annotate(official_count=Count("officials", distinct=True))
        .order_by("name")
    )
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query))
    if kind:
        qs = qs.filter(kind=kind)
    return scope(qs, user)


def officials_list(
    user: Any, *, query: str = "", agency_id: int | None = None, role: str = ""
) -> QuerySet[User]:
    qs = (
        User.objects.filter(kind=UserKind.OFFICIAL)
        .select_related("agency", "department")
        .prefetch_related("roles")
    )
    if query:
        qs = qs.filter(
            Q(full_name__icontains=query) | Q(username__icontains=query) | Q(email__icontains=query)
        )
    if agency_id:
        qs = qs.filter(agency_id=agency_id)
    if role:
        qs = qs.filter(roles__role=role)
    return scope(qs, user)


def audit_for_object(obj: models.Model) -> QuerySet[AuditRecord]:
    """The trail of one object. Callers have already checked the object is in scope."""
    return AuditRecord.objects.filter(
        object_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
    ).select_related("object_type")


def audit_list(user: Any, *, action: str = "", actor: str = "") -> QuerySet[AuditRecord]:
    qs = AuditRecord.objects.select_related("object_type")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    return scope(qs, user)
