"""What an indicator is computed over: the province, a unit (commune), an agency, a department,
an official, a field or a procedure — and whether the asking user may see it.

`resolve(user, scope)` checks the request against the user's administrative scope (the same
tree as `tinhso.core.scoping`) and returns a `ResolvedScope`: the filters every loader
applies, on the rollups, the dossier table and the catalog alike, so the numbers and the
lists of dossiers behind them always agree. The text form of a scope (`agency:12`,
`province`) is what the API and alert rules store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tinhso.catalog.models import Field, Procedure
from tinhso.core.errors import NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import AdministrativeUnit, Agency, Department, UnitLevel, User, UserKind
from tinhso.core.scoping import UserScope, scope_of


class ScopeKind(StrEnum):
    PROVINCE = "province"
    UNIT = "unit"
    AGENCY = "agency"
    DEPARTMENT = "department"
    OFFICIAL = "official"
    FIELD = "field"
    PROCEDURE = "procedure"


ALL_KINDS = frozenset(ScopeKind)
#: Scopes where the desk's intake (submission, reception, refusal) is attributed: a
#: department or an official receives dossiers by assignment, not from the applicant.
INTAKE_KINDS = ALL_KINDS - {ScopeKind.DEPARTMENT, ScopeKind.OFFICIAL}


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: int | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        """`province`, `province:3`, `agency:12`, …"""
        kind, _sep, raw_id = (text or "province").strip().partition(":")
        try:
            scope_kind = ScopeKind(kind)
        except ValueError as exc:
            raise ValidationFailed(
                _("Unknown scope %(kind)s.") % {"kind": kind}, field="scope"
            ) from exc
        if not raw_id:
            return cls(scope_kind)
        try:
            return cls(scope_kind, int(raw_id))
        except ValueError as exc:
            raise ValidationFailed(_("The scope's id is a number."), field="id") from exc

    def __str__(self) -> str:
        return self.kind.value if self.id is None else f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class ResolvedScope:
    """A scope the user may see, as filters that are ANDed together. `unit_path` limits to
    the agencies whose unit lies in that subtree; the other ids to one object each."""

    scope: Scope
    label: str
    province_id: int | None
    unit_path: str | None = None
    agency_id: int | None = None
    department_id: int | None = None
    official_id: int | None = None
    field_id: int | None = None
    procedure_id: int | None = None

    @property
    def kind(self) -> ScopeKind:
        return self.scope.kind

    # --- filters ----------------------------------------------------------------------------

    def _agencies_in_unit(self) -> list[int]:
        """The ids of the agencies under `unit_path`, read once per scope. A list rather
        than a subquery: the planner then knows how many agencies (and rows) to expect —
        a `LIKE` on the unit path is estimated at one agency, which made it read a
        province's open dossiers row by row instead of from their partial index."""
        cached = self.__dict__.get("_agency_ids")
        if cached is None:
            cached = list(
                Agency.objects.filter(unit__path__startswith=self.unit_path)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            object.__setattr__(self, "_agency_ids", cached)
        return cached

    def agency_ids(self) -> list[int]:
        """The agencies the scope covers: its one agency, or those under its unit."""
        if self.agency_id:
            return [self.agency_id]
        if self.unit_path:
            return self._agencies_in_unit()
        return []

    @property
    def agency_grain(self) -> bool:
        """Whether the scope filters the rollups by unit and agency only, so that
        `AgencyDailyRollup` (which `rollup_q` then also filters) holds its sums."""
        return not (self.department_id or self.official_id or self.field_id or self.procedure_id)

    def rollup_q(self) -> Q:
        """The filter on `DailyRollup` (and on `AgencyDailyRollup` when `agency_grain`)."""
        q = Q()
        if self.unit_path:
            q &= Q(agency_id__in=self._agencies_in_unit())
        if self.agency_id:
            q &= Q(agency_id=self.agency_id)
        if self.department_id:
            q &= Q(department_ref=self.department_id)
        if self.official_id:
            q &= Q(official_ref=self.official_id)
        if self.field_id:
            q &= Q(procedure__field_id=self.field_id)
        if self.procedure_id:
            q &= Q(procedure_id=self.procedure_id)
        return q

    def dossier_q(self, prefix: str = "") -> Q:
        """The filter on `Dossier` (or, with `prefix="dossier__"`, on rows hanging on one):
        the receiving agency, the department and official holding the dossier now."""
        q = Q()
        if self.unit_path:
            q &= Q(**{f"{prefix}agency_id__in": self._agencies_in_unit()})
        if self.agency_id:
            q &= Q(**{f"{prefix}agency_id": self.agency_id})
        if self.department_id:
            q &= Q(**{f"{prefix}department_id": self.department_id})
        if self.official_id:
            q &= Q(**{f"{prefix}assignee_id": self.official_id})
        if self.field_id:
            q &= Q(**{f"{prefix}procedure__field_id": self.field_id})
        if self.procedure_id:
            q &= Q(**{f"{prefix}procedure_id": self.procedure_id})
        return q

    def procedures(self) -> QuerySet[Procedure]:
        """The procedures in force that the scope's agencies implement (by kind, by name, or
        every agency when the procedure names none), like the desk's procedure list."""
        qs = Procedure.objects.filter(is_active=True)
        if self.procedure_id:
            qs = qs.filter(pk=self.procedure_id)
        if self.field_id:
            qs = qs.filter(field_id=self.field_id)
        agencies: QuerySet[Agency] | None = None
        if self.agency_id:
            agencies = Agency.objects.filter(pk=self.agency_id)
        elif self.unit_path:
            agencies = Agency.objects.filter(unit__path__startswith=self.unit_path)
        if agencies is not None:
            kinds = sorted(set(agencies.values_list("kind", flat=True)))
            implements = Q(agency_kinds=[]) | Q(agencies__in=agencies)
            for kind in kinds:
                implements |= Q(agency_kinds__icontains=f'"{kind}"')
            qs = qs.filter(implements)
        return qs.distinct()


# --- resolving ----------------------------------------------------------------------------------


def _province_of_path(path: str) -> int:
    return int(path.strip("/").split("/")[0])


def _default_province() -> AdministrativeUnit:
    province = AdministrativeUnit.objects.filter(
        level=UnitLevel.PROVINCE, code=settings.TINHSO_PROVINCE_CODE, valid_until__isnull=True
    ).first()
    if province is None:
        province = AdministrativeUnit.objects.filter(level=UnitLevel.PROVINCE).first()
    if province is None:
        raise NotFound(_("No province is loaded."))
    return province


def _get(model: Any, pk: int | None, **filters: Any) -> Any:
    if pk is None:
        raise ValidationFailed(_("Give the id of the scope."), field="id")
    found = model.objects.filter(pk=pk, **filters).first()
    if found is None:
        raise NotFound()
    return found


def _target(scope: Scope, default_province: AdministrativeUnit | None) -> tuple[str, Any]:
    """The object the scope names and the unit path it hangs on ("" for fields and
    procedures, which hang on no unit)."""
    kind = scope.kind
    if kind == ScopeKind.PROVINCE:
        if scope.id is None:
            province = default_province or _default_province()
        else:
            province = _get(AdministrativeUnit, scope.id, level=UnitLevel.PROVINCE)
        return province.path, province
    if kind == ScopeKind.UNIT:
        unit = _get(AdministrativeUnit, scope.id)
        return unit.path, unit
    if kind == ScopeKind.AGENCY:
        agency = _get(Agency, scope.id)
        return agency.unit.path, agency
    if kind == ScopeKind.DEPARTMENT:
        department = _get(Department, scope.id)
        return department.agency.unit.path, department
    if kind == ScopeKind.OFFICIAL:
        official = _get(User, scope.id, kind=UserKind.OFFICIAL, agency__isnull=False)
        return official.agency.unit.path, official
    if kind == ScopeKind.FIELD:
        return "", _get(Field, scope.id)
    return "", _get(Procedure, scope.id)


def _agency_id_of(obj: Any) -> int | None:
    if isinstance(obj, Agency):
        return obj.pk
    if isinstance(obj, Department | User):
        return obj.agency_id
    return None


def _build(
    scope: Scope, obj: Any, path: str, reach_path: str | None, reach_agency: int | None
) -> ResolvedScope:
    kind = scope.kind
    province_path = path or reach_path or ""
    resolved: dict[str, Any] = {
        "scope": Scope(kind, obj.pk),
        "label": str(obj),
        "province_id": _province_of_path(province_path) if province_path else None,
    }
    if kind in (ScopeKind.PROVINCE, ScopeKind.UNIT):
        resolved["unit_path"] = path
    elif kind == ScopeKind.AGENCY:
        resolved["agency_id"] = obj.pk
    elif kind == ScopeKind.DEPARTMENT:
        resolved.update(agency_id=obj.agency_id, department_id=obj.pk)
    elif kind == ScopeKind.OFFICIAL:
        resolved.update(agency_id=obj.agency_id, official_id=obj.pk)
    else:
        # A field or a procedure cuts across agencies: it is counted inside what the
        # user's scope reaches (their agency, or their province).
        resolved["field_id" if kind == ScopeKind.FIELD else "procedure_id"] = obj.pk
        if reach_agency is not None:
            resolved["agency_id"] = reach_agency
        elif reach_path:
            resolved["unit_path"] = reach_path
    return ResolvedScope(**resolved)


def require_official(user: Any) -> UserScope:
    """The user's reach, when they are an official with a role (or a superuser);
    `OutOfScope` for citizens, businesses and anyone else."""
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or (not user.is_superuser and getattr(user, "kind", "") != UserKind.OFFICIAL)
    ):
        raise OutOfScope(_("The operations centre is for officials."))
    reach = scope_of(user)
    if reach.nothing:
        raise OutOfScope(_("Your account has no role that reaches any agency."))
    return reach


def resolve(user: Any, scope: Scope) -> ResolvedScope:
    """The scope as `user` may see it. Officials only (citizens and anyone else are refused);
    a provincial leader or administrator reaches anything in their province, any other
    official their own agency (its departments and officials) and the fields and procedures
    as handled there. Asking beyond that is `OutOfScope`; an unknown id is `NotFound`."""
    reach = require_official(user)
    if reach.everything:
        path, obj = _target(scope, None)
        return _build(scope, obj, path, None, None)
    user_province = AdministrativeUnit.objects.get(pk=_province_of_path(reach.unit_path or ""))
    path, obj = _target(scope, user_province)
    if reach.agency_id is None:  # province-wide roles
        if path and not path.startswith(reach.unit_path or "\0"):
            raise OutOfScope(_("This is outside your province."))
        return _build(scope, obj, path, reach.unit_path, None)
    if scope.kind in (ScopeKind.FIELD, ScopeKind.PROCEDURE):
        return _build(scope, obj, path, reach.unit_path, reach.agency_id)
    if scope.kind in (ScopeKind.PROVINCE, ScopeKind.UNIT) or _agency_id_of(obj) != reach.agency_id:
        raise OutOfScope(_("You can see the figures of your own agency only."))
    return _build(scope, obj, path, None, None)


def resolve_for_system(scope: Scope) -> ResolvedScope:
    """The scope without any user restriction: for scheduled jobs (alert evaluation) that
    act as the system. Never call it with a scope that came from a request."""
    path, obj = _target(scope, None)
    return _build(scope, obj, path, None, None)


__all__ = [
    "ALL_KINDS",
    "INTAKE_KINDS",
    "ResolvedScope",
    "Scope",
    "ScopeKind",
    "require_official",
    "resolve",
    "resolve_for_system",
]
