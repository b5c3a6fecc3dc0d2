from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema


class UnitOut(Schema):
    id: int
    code: str
    name: str
    level: str
    division_type: str
    parent_id: int | None
    valid_from: date | None
    valid_until: date | None


class AgencyOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    unit_id: int
    parent_id: int | None


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    is_one_stop_desk: bool


class AgencyDetailOut(AgencyOut):
    departments: list[DepartmentOut]


class OfficialOut(Schema):
    id: int
    username: str
    full_name: str
    position: str
    agency_id: int | None
    department_id: int | None
    roles: list[str]
    is_active: bool

    @staticmethod
    def resolve_roles(obj: object) -> list[str]:
        return sorted(r.role for r in obj.roles.all())  # type: ignore[attr-defined]


class AuditOut(Schema):
    id: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict | None
    after: dict | None
    source: str

    @staticmethod
    def resolve_object_type(obj: object) -> str:
        ct = obj.object_type  # type: ignore[attr-defined]
        return f"{ct.app_label}.{ct.model}"


class DueOut(Schema):
    start: datetime
    working_days: Decimal
    due: datetime


class HoursOut(Schema):
    start: datetime
    end: datetime
    working_hours: Decimal
