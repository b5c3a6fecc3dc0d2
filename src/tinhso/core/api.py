"""JSON API of the shared registers; every list and detail is scoped to the caller."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from tinhso.core import selectors
from tinhso.core.errors import ValidationFailed
from tinhso.core.models import AdministrativeUnit, Agency, AuditRecord, User
from tinhso.core.schemas import (
    AgencyDetailOut,
    AgencyOut,
    AuditOut,
    DueOut,
    HoursOut,
    OfficialOut,
    UnitOut,
)
from tinhso.core.scoping import scope

router = Router(tags=["core"])


@router.get("/units", response=list[UnitOut])
@paginate(LimitOffsetPagination)
def list_units(request: HttpRequest, q: str = ""):
    return selectors.units_list(request.user, query=q)


@router.get("/units/{unit_id}", response=UnitOut)
def get_unit(request: HttpRequest, unit_id: int):
    return selectors.get_in_scope(AdministrativeUnit.objects.all(), request.user, unit_id)


@router.get("/agencies", response=list[AgencyOut])
@paginate(LimitOffsetPagination)
def list_agencies(request: HttpRequest, q: str = "", kind: str = ""):
    return selectors.agencies_list(request.user, query=q, kind=kind)


@router.get("/agencies/{agency_id}", response=AgencyDetailOut)
def get_agency(request: HttpRequest, agency_id: int):
    return selectors.get_in_scope(
        Agency.objects.prefetch_related("departments"), request.user, agency_id
    )


@router.get("/officials", response=list[OfficialOut])
@paginate(LimitOffsetPagination)
def list_officials(request: HttpRequest, q: str = "", agency_id: int | None = None):
    return selectors.officials_list(request.user, query=q, agency_id=agency_id)


@router.get("/officials/{official_id}", response=OfficialOut)
def get_official(request: HttpRequest, official_id: int):
    return selectors.get_in_scope(User.objects.prefetch_related("roles"), request.user, official_id)


@router.get("/audit", response=list[AuditOut])
@paginate(LimitOffsetPagination)
def list_audit(request: HttpRequest, action: str = ""):
    return scope(AuditRecord.objects.select_related("object_type"), request.user).filter(
        action__startswith=action
    )


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed(f"'{name}' needs a UTC offset, e.g. 2027-02-03T16:30:00+07:00")
    return value


@router.get("/calendar/due", response=DueOut)
def calendar_due(
    request: HttpRequest,
    start: datetime = Query(..., alias="from"),
    working_days: Decimal = Query(..., ge=0, le=3650),
    province: str | None = None,
):
    """The deadline of a processing time of `working_days` counted from `from`."""
    calendar = selectors.working_calendar_for(selectors.province_by_code(province))
    due = calendar.due(_aware(start, "from"), working_days)
    return {"start": start, "working_days": working_days, "due": due}


@router.get("/calendar/hours", response=HoursOut)
def calendar_hours(
    request: HttpRequest,
    start: datetime = Query(..., alias="from"),
    end: datetime = Query(..., alias="to"),
    province: str | None = None,
):
    """Working hours between two instants."""
    calendar = selectors.working_calendar_for(selectors.province_by_code(province))
    hours = calendar.working_hours_between(_aware(start, "from"), _aware(end, "to"))
    return {"start": start, "end": end, "working_hours": hours}
