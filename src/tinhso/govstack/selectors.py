"""Reads for the GovStack API, always through the same scoped selectors as the desk: a
caller sees the dossiers (application files) and step visits (tasks) its official may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog.models import Procedure
from tinhso.core.errors import NotFound
from tinhso.core.models import Role, User
from tinhso.dossiers.models import Dossier, DossierEvent, StepVisit
from tinhso.dossiers.selectors import dossiers_visible
from tinhso.dossiers.states import Action, Status
from tinhso.govstack import mapping
from tinhso.govstack.errors import UnknownClient
from tinhso.govstack.models import GovStackId, Kind
from tinhso.integration.models import ApiClient

TASK_STATUSES = (Status.RECEIVED, Status.IN_PROCESSING)


def client_for_header(value: str) -> ApiClient:
    """The registered, active API client named by an Information-Mediator-Client header and
    holding the `govstack` scope."""
    client = ApiClient.objects.filter(name=value, is_active=True).first()
    if client is None or "govstack" not in (client.scopes or []):
        raise UnknownClient()
    return client


# --- services and eForms --------------------------------------------------------------------


def _binding(kind: str, value: str) -> GovStackId | None:
    return GovStackId.objects.filter(kind=kind, value=value).select_related("procedure").first()


def service_id_of(procedure: Procedure) -> str:
    bound = GovStackId.objects.filter(kind=Kind.SERVICE, procedure=procedure).first()
    return bound.value if bound else procedure.code


def service_bindings(procedures: list[Procedure]) -> dict[int, GovStackId]:
    """The service bindings of many procedures in one query (a province has thousands)."""
    rows = GovStackId.objects.filter(kind=Kind.SERVICE, procedure__in=procedures)
    return {row.procedure_id: row for row in rows}  # type: ignore[misc]


def services_list(*, name: str | None = None) -> list[Procedure]:
    qs = Procedure.objects.filter(is_active=True)
    if name:
        qs = qs.filter(name__iexact=name.strip())
    return list(qs.order_by("name", "code"))


def service_get(service_id: str) -> Procedure:
    bound = _binding(Kind.SERVICE, service_id)
    if bound is not None and bound.procedure is not None and bound.procedure.is_active:
        return bound.procedure
    procedure = Procedure.objects.filter(code=service_id, is_active=True).first()
    if procedure is None:
        raise NotFound(_("No service with this id."))
    return procedure


def service_data(procedure: Procedure) -> dict[str, Any]:
    bound = GovStackId.objects.filter(kind=Kind.SERVICE, procedure=procedure).first()
    return bound.data if bound else {}


@dataclass(frozen=True)
class EForm:
    eform_id: str
    name: str
    description: str
    version: str
    latest: bool
    schema: dict[str, Any]
    procedure: Procedure


def _derived_eform(procedure: Procedure) -> EForm:
    documents = [(d.name, d.is_required) for d in procedure.documents.all()]
    return EForm(
        eform_id=mapping.native_eform_id(procedure.code),
        name=procedure.name,
        description=_("Application form and required documents of %(code)s")
        % {"code": procedure.code},
        version=procedure.updated_at.strftime("%Y%m%d%H%M%S") if procedure.updated_at else "1",
        latest=True,
        schema=mapping.procedure_eform_schema(procedure.name, documents),
        procedure=procedure,
    )


def _eform_of(row: GovStackId, procedure: Procedure) -> EForm:
    data = row.data
    return EForm(
        eform_id=row.value,
        name=str(data.get("name", "")),
        description=str(data.get("description", "")),
        version=str(data.get("version", "1")),
        latest=bool(data.get("latest", True)),
        schema=data.get("schema") if isinstance(data.get("schema"), dict) else {},
        procedure=procedure,
    )


def eforms_of(procedure: Procedure) -> list[EForm]:
    ids = service_data(procedure).get("eForms") or []
    rows = {r.value: r for r in GovStackId.objects.filter(kind=Kind.EFORM, value__in=ids)}
    forms = [_eform_of(rows[i], procedure) for i in ids if i in rows]
    return forms or [_derived_eform(procedure)]


def eform_get(eform_id: str) -> EForm:
    row = _binding(Kind.EFORM, eform_id)
    if row is not None and row.procedure is not None:
        return _eform_of(row, row.procedure)
    code = mapping.procedure_code_of_eform(eform_id)
    procedure = Procedure.objects.filter(code=code, is_active=True).first() if code else None
    if procedure is None:
        raise NotFound(_("No eForm with this id."))
    return _derived_eform(procedure)


# --- application files ----------------------------------------------------------------------


def file_id_of(dossier: Dossier) -> str:
    bound = GovStackId.objects.filter(kind=Kind.FILE, dossier=dossier).first()
    return bound.value if bound else dossier.code


def file_binding(dossier: Dossier) -> GovStackId | None:
    return GovStackId.objects.filter(kind=Kind.FILE, dossier=dossier).first()


def file_get(user: Any, file_id: str) -> Dossier:
    """The dossier of an application file, inside the caller's scope (else 404)."""
    bound = GovStackId.objects.filter(kind=Kind.FILE, value=file_id).first()
    qs = dossiers_visible(user)
    dossier = (
        qs.filter(pk=bound.dossier_id).first()
        if bound is not None
        else qs.filter(code=file_id).first()
    )
    if dossier is None:
        raise NotFound(_("No application file with this id."))
    return dossier


SORTS = {
    "created": "submitted_at",
    "registered": "received_at",
    "id": "pk",
    "name": "applicant_name",
}


def files_list(
    user: Any,
    *,
    service_id: str | None = None,
    applicant_id: str | None = None,
    first: int = 0,
    limit: int = 100,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> list[Dossier]:
    qs = dossiers_visible(user)
    if service_id:
        try:
            qs = qs.filter(procedure=service_get(service_id))
        except NotFound:
            return []
    if applicant_id:
        ids = GovStackId.objects.filter(kind=Kind.FILE, data__applicantId=applicant_id).values_list(
            "dossier_id", flat=True
        )
        qs = qs.filter(pk__in=list(ids))
    field = SORTS.get(sort_by or "", "submitted_at")
    qs = qs.order_by(f"-{field}" if (sort_order or "desc").lower() == "desc" else field, "pk")
    return list(qs[max(first, 0) : max(first, 0) + max(min(limit, 1000), 0)])


# --- tasks ----------------------------------------------------------------------------------


def tasks_visible(user: Any) -> QuerySet[StepVisit]:
    """Open step visits of dossiers waiting for an operator, in the caller's scope."""
    return (
        StepVisit.objects.filter(
            left_at__isnull=True,
            dossier__in=dossiers_visible(user).filter(status__in=TASK_STATUSES),
        )
        .select_related("dossier__procedure", "step", "assignee", "agency")
        .order_by("entered_at", "pk")
    )


def task_id_of(visit: StepVisit) -> str:
    bound = GovStackId.objects.filter(kind=Kind.TASK, step_visit=visit).first()
    return bound.value if bound else mapping.native_task_id(visit.pk)


def task_binding(visit: StepVisit) -> GovStackId | None:
    return GovStackId.objects.filter(kind=Kind.TASK, step_visit=visit).first()


def task_get(user: Any, task_id: str) -> StepVisit:
    bound = GovStackId.objects.filter(kind=Kind.TASK, value=task_id).first()
    pk = bound.step_visit_id if bound is not None else mapping.step_visit_pk_of_task(task_id)
    visit = tasks_visible(user).filter(pk=pk).first() if pk is not None else None
    if visit is None:
        raise NotFound(_("No open task with this id."))
    return visit


def task_completion(user: Any, task_id: str) -> dict[str, Any] | None:
    """What the completion of a task (no longer open) answered, if the caller may see it."""
    bound = GovStackId.objects.filter(kind=Kind.TASK, value=task_id).first()
    if bound is None or "completed" not in bound.data or bound.step_visit_id is None:
        return None
    visit = StepVisit.objects.filter(pk=bound.step_visit_id).first()
    if visit is None or not dossiers_visible(user).filter(pk=visit.dossier_id).exists():
        return None
    return {**bound.data["completed"], "dossier": visit.dossier}


def operator_id_of(official: User | None) -> str:
    if official is None:
        return ""
    bound = GovStackId.objects.filter(kind=Kind.OPERATOR, official=official).first()
    return bound.value if bound else str(official.pk)


def operator_by_id(value: str) -> User | None:
    bound = GovStackId.objects.filter(kind=Kind.OPERATOR, value=value).select_related("official")
    row = bound.first()
    if row is not None:
        return row.official
    return User.objects.filter(pk=int(value)).first() if value.isdigit() else None


def tasks_list(
    user: Any,
    *,
    file_id: str | None = None,
    main_task_id: str | None = None,
    assignee_id: str | None = None,
    first: int = 0,
    limit: int = 100,
    sort_order: str | None = None,
) -> list[StepVisit]:
    qs = tasks_visible(user)
    if file_id:
        try:
            qs = qs.filter(dossier=file_get(user, file_id))
        except NotFound:
            return []
    if assignee_id:
        official = operator_by_id(assignee_id)
        if official is None:
            return []
        qs = qs.filter(assignee=official)
    visits = list(
        qs.order_by("-entered_at" if (sort_order or "").lower() == "desc" else "entered_at", "pk")
    )
    if main_task_id:
        visits = [v for v in visits if main_task_id_of(v) == main_task_id]
    start = max(first, 0)
    return visits[start : start + max(min(limit, 1000), 0)]


def main_task_id_of(visit: StepVisit) -> str:
    bound = task_binding(visit)
    if bound is not None and bound.data.get("mainTaskId"):
        return str(bound.data["mainTaskId"])
    return file_id_of(visit.dossier)


# --- statistics -----------------------------------------------------------------------------

DECISIONS = {
    Action.APPROVE: "approved",
    Action.REJECT: "rejected",
    Action.REFUSE: "rejected",
    Action.REQUEST_SUPPLEMENT: "sentBack",
}
TIMEFRAMES = {"day": 1, "week": 7, "month": 31, "year": 366}


def statistics(
    user: Any,
    *,
    start: date | None,
    end: date | None,
    registration_name: str | None,
    operator: str | None,
    role: str | None,
) -> dict[str, int]:
    """Decisions taken in the period on the dossiers the caller may see, from the dossier
    events (the same rows the operations centre rolls up): approved, rejected (at reception
    or after processing), sent back (supplement requested), and processed (all of them)."""
    events = DossierEvent.objects.filter(
        dossier__in=dossiers_visible(user), action__in=list(DECISIONS)
    )
    if registration_name:
        procedures = Procedure.objects.filter(name__iexact=registration_name.strip())
        if not procedures.exists():
            raise NotFound(_("No registration with this name."))
        events = events.filter(dossier__procedure__in=procedures)
    tz = timezone.get_current_timezone()
    if start:
        events = events.filter(at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end:
        events = events.filter(
            at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        )
    if operator:
        events = events.filter(
            Q(actor__full_name__iexact=operator.strip()) | Q(actor__username=operator.strip())
        )
    if role:
        codes = [r.value for r in Role if role.strip().lower() in (r.value, str(r.label).lower())]
        events = events.filter(actor__roles__role__in=codes).distinct() if codes else events.none()
    counts = {row["action"]: row["n"] for row in events.values("action").annotate(n=Count("pk"))}
    result = {"processed": 0, "approved": 0, "sentBack": 0, "rejected": 0}
    for action, key in DECISIONS.items():
        result[key] += counts.get(action, 0)
        result["processed"] += counts.get(action, 0)
    return result
