"""Read queries of the procedure catalog. The catalog is public reference data (what anyone
may ask for, and on which terms), so these queries are not scoped."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from tinhso.catalog.models import (
    Field,
    ImplementingLevel,
    OnlineAvailability,
    Procedure,
    ProcedureBundle,
)
from tinhso.core.errors import NotFound
from tinhso.core.models import Agency

#: `online=ONLINE_ANY` keeps procedures offered fully or partially online.
ONLINE_ANY = "any"


def procedures_list(
    *,
    query: str = "",
    field: str = "",
    level: str = "",
    online: str = "",
    agency: Agency | None = None,
    include_inactive: bool = False,
) -> QuerySet[Procedure]:
    """Procedures matching a name or code fragment and the filters. `level="commune"` (or
    `"province"`) includes procedures handled at both levels; `agency` keeps those the agency
    implements, named or by its kind."""
    qs = Procedure.objects.select_related("field")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query))
    if field:
        qs = qs.filter(field__code=field)
    if level in (ImplementingLevel.PROVINCE, ImplementingLevel.COMMUNE):
        qs = qs.filter(level__in=[level, ImplementingLevel.BOTH])
    elif level:
        qs = qs.filter(level=level)
    if online == ONLINE_ANY:
        qs = qs.filter(online__in=[OnlineAvailability.FULL, OnlineAvailability.PARTIAL])
    elif online:
        qs = qs.filter(online=online)
    if agency is not None:
        # JSON `contains` is missing on SQLite; the quoted kind matches the stored list.
        by_kind = Q(agency_kinds__icontains=f'"{agency.kind}"')
        qs = qs.filter(Q(pk__in=agency.procedures.values("pk")) | by_kind)
    return qs.order_by("code")


def procedure_by_code(code: str) -> Procedure:
    """One procedure with its fees, documents, workflow and agencies; NotFound otherwise."""
    procedure = (
        Procedure.objects.select_related("field")
        .prefetch_related("fee_cases", "documents", "workflow_steps", "agencies")
        .filter(code=code)
        .first()
    )
    if procedure is None:
        raise NotFound(_("No procedure with code %(code)s.") % {"code": code})
    return procedure


def fields_list() -> QuerySet[Field]:
    """Fields with the number of procedures in force in each."""
    return Field.objects.annotate(
        procedure_count=Count("procedures", filter=Q(procedures__is_active=True))
    ).order_by("name")


def bundles_with(procedure: Procedure) -> QuerySet[ProcedureBundle]:
    """The bundles (liên thông) a procedure is part of."""
    return ProcedureBundle.objects.filter(parts__procedure=procedure).distinct()
