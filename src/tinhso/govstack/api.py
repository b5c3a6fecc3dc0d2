"""The GovStack Registration building block API 0.1.1 (and its statistics API) over the
catalog and the dossier engine. `build_router()` makes the router; it is mounted twice: in
the one NinjaAPI under `TINHSO_GOVSTACK_PREFIX` (callers sign in with an API key holding
the `govstack` scope, or a session), and at `/` by `standalone_urls` for the port the
Information Mediator's security server (and GovStack's test suite) calls, where the
`Information-Mediator-Client` header names the registered API client."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from pydantic import BaseModel, ValidationError

from tinhso.core.errors import NotFound
from tinhso.core.models import User
from tinhso.dossiers.models import Dossier, StepVisit
from tinhso.govstack import mapping, selectors, services
from tinhso.govstack.errors import BadRequest, ClientMismatch, InvalidHeader
from tinhso.integration.clients import technical_user

TAG = "govstack"


class FormData(BaseModel):
    data: dict[str, Any] | None = None
    eFormId: str | None = None


class ApplicationFileSubmit(BaseModel):
    applicantId: str
    applicationName: str | None = None
    created: datetime | None = None
    formData: FormData | None = None
    documentUrls: list[str] | None = None


# --- the caller -----------------------------------------------------------------------------


def caller(request: HttpRequest, *, header_required: bool) -> User | None:
    """Who calls. The header is checked where the specification requires it (400 when
    missing or not INSTANCE/CLASS/MEMBER/SUBSYSTEM) and whenever it is sent. On the
    standalone port the header (or `TINHSO_GOVSTACK_DEFAULT_CLIENT` where the specification
    makes it optional) names a registered API client, whose technical official acts; in the
    main API the key or session has already signed the caller in, and a header must then
    name the key's own client."""
    header = request.headers.get(mapping.IM_HEADER)
    if header is not None and header.strip() == "":
        header = None if not header_required else ""
    if header is None and header_required:
        raise InvalidHeader()
    if header is not None and not mapping.valid_im_header(header):
        raise InvalidHeader()
    if getattr(request, "govstack_standalone", False):
        name = header or settings.TINHSO_GOVSTACK_DEFAULT_CLIENT
        if not name:
            raise InvalidHeader()
        client = selectors.client_for_header(name)
        request.api_client = client  # type: ignore[attr-defined]
        request.user = technical_user(client)
        return request.user
    client = getattr(request, "api_client", None)
    if header and client is not None and client.name != header:
        raise ClientMismatch()
    return request.user  # type: ignore[return-value]


def _via_client(request: HttpRequest) -> bool:
    return getattr(request, "api_client", None) is not None


def _body(request: HttpRequest) -> dict[str, Any]:
    """JSON as the specification says, or a form (GovStack's suite posts forms)."""
    content_type = (request.content_type or "").lower()
    if content_type == "application/json" or (request.body[:1] in (b"{", b"[")):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(_("The body is not valid JSON.")) from exc
        if not isinstance(body, dict):
            raise BadRequest(_("The body must be a JSON object."))
        return body
    form = {key: request.POST.get(key) for key in request.POST}
    for key in ("formData", "documentUrls"):
        if isinstance(form.get(key), str):
            try:
                form[key] = json.loads(form[key])
            except ValueError as exc:
                raise BadRequest(_("%(field)s is not valid JSON.") % {"field": key}) from exc
    return form


def _submission(request: HttpRequest) -> ApplicationFileSubmit:
    try:
        return ApplicationFileSubmit.model_validate(_body(request))
    except ValidationError as exc:
        raise BadRequest(
            _("The application file is not valid."),
            errors=[f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()],
        ) from exc


# --- representations ------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_UNBOUND = object()


def service_out(procedure: Any, binding: Any = _UNBOUND) -> dict[str, Any]:
    if binding is _UNBOUND:
        binding = selectors.service_bindings([procedure]).get(procedure.pk)
    data = binding.data if binding is not None else {}
    return {
        "id": binding.value if binding is not None else procedure.code,
        "name": procedure.name,
        "version": str(data.get("version") or procedure.updated_at.strftime("%Y%m%d%H%M%S")),
        "type": data.get("type") if data.get("type") in ("None", "Private", "Public") else "Public",
        "isExecutable": bool(data.get("isExecutable", procedure.online != "none")),
        "isClosed": bool(data.get("isClosed", False)),
        "description": str(data.get("description") or procedure.result_type or ""),
        "serviceBody": data.get("serviceBody")
        or [
            {"code": "procedureCode", "value": procedure.code},
            {"code": "processingDays", "value": str(procedure.processing_days)},
        ],
    }


def eform_item(form: selectors.EForm) -> dict[str, Any]:
    return {
        "eFormId": form.eform_id,
        "name": form.name,
        "description": form.description,
        "version": form.version,
        "latest": form.latest,
    }


def file_out(dossier: Dossier) -> dict[str, Any]:
    binding = selectors.file_binding(dossier)
    data = binding.data if binding else {}
    form = data.get("formData") or {"data": {}, "eFormId": ""}
    return {
        "fileId": binding.value if binding else dossier.code,
        "registered": _iso(dossier.received_at or dossier.submitted_at),
        "serviceId": selectors.service_id_of(dossier.procedure),
        "serviceName": dossier.procedure.name,
        "status": mapping.status_model(dossier.status, dossier.outcome),
        "ended": dossier.status in mapping.ENDED_STATUSES,
        "applicationData": {
            "applicationName": data.get("applicationName") or dossier.applicant_name,
            "applicantId": data.get("applicantId") or "",
            "created": data.get("created") or _iso(dossier.submitted_at),
            "formData": form,
            "documentUrls": data.get("documentUrls") or [],
        },
    }


def _open_visit(dossier: Dossier) -> StepVisit | None:
    return dossier.step_visits.filter(left_at__isnull=True).select_related("step").first()


def file_list_item(dossier: Dossier) -> dict[str, Any]:
    full = file_out(dossier)
    visit = _open_visit(dossier) if dossier.status in selectors.TASK_STATUSES else None
    assignee = visit.assignee if visit else dossier.assignee
    return {
        "fileId": full["fileId"],
        "mainTaskId": selectors.task_id_of(visit) if visit else "",
        "taskTitle": visit.step.name if visit else str(dossier.get_status_display()),
        "roleId": visit.step.role if visit else "",
        "roleName": str(visit.step.get_role_display()) if visit else "",
        "assigneeId": selectors.operator_id_of(assignee),
        "operatorName": assignee.full_name if assignee else "",
        "status": full["status"],
        "applicantId": full["applicationData"]["applicantId"],
        "created": full["applicationData"]["created"],
        "registered": full["registered"],
        "description": dossier.note,
        "serviceName": full["serviceName"],
        "serviceId": full["serviceId"],
        "eformId": full["applicationData"]["formData"].get("eFormId") or "",
        "documentUrls": full["applicationData"]["documentUrls"],
        "additionalMeta": {"data": {"dossier": {"code": dossier.code, "status": dossier.status}}},
    }


def task_out(visit: StepVisit, *, detail: bool = False) -> dict[str, Any]:
    dossier = visit.dossier
    binding = selectors.task_binding(visit)
    data = binding.data if binding else {}
    file = selectors.file_binding(dossier)
    form = ((file.data if file else {}).get("formData")) or {}
    out = {
        "taskId": binding.value if binding else mapping.native_task_id(visit.pk),
        "taskName": visit.step.name,
        "mainTaskId": selectors.main_task_id_of(visit),
        "name": visit.step.name,
        "assigneeId": selectors.operator_id_of(visit.assignee),
        "roleId": visit.step.role,
        "created": _iso(visit.entered_at),
        "description": str(data.get("description") or dossier.get_status_display()),
        "serviceId": selectors.service_id_of(dossier.procedure),
        "serviceName": dossier.procedure.name,
        "fileId": selectors.file_id_of(dossier),
        "eFormId": form.get("eFormId") or "",
        "status": mapping.status_model(dossier.status, dossier.outcome),
    }
    if detail:
        out["formVariables"] = {"formData": {"data": form.get("data") or {}}}
        out["data"] = {
            "dossier": {"code": dossier.code, "status": dossier.status, "version": dossier.version}
        }
    return out


def _int(value: str | None, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise BadRequest(_("firstResult and maxResult are integers.")) from exc


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(_("Dates are YYYY-MM-DD.")) from exc


# --- the router -----------------------------------------------------------------------------


def build_router() -> Router:
    router = Router(tags=[TAG])

    @router.get("/healthcheck", auth=None, include_in_schema=True)
    def healthcheck(request: HttpRequest) -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/services")
    def services_list(request: HttpRequest, name: str | None = None) -> list[dict[str, Any]]:
        caller(request, header_required=False)
        procedures = selectors.services_list(name=name)
        bindings = selectors.service_bindings(procedures)
        return [service_out(p, bindings.get(p.pk)) for p in procedures]

    @router.get("/services/{serviceId}")
    def service_get(request: HttpRequest, serviceId: str) -> dict[str, Any]:
        caller(request, header_required=False)
        return service_out(selectors.service_get(serviceId))

    @router.get("/services/{serviceId}/eForms")
    def service_eforms(request: HttpRequest, serviceId: str) -> list[dict[str, Any]]:
        caller(request, header_required=False)
        return [eform_item(f) for f in selectors.eforms_of(selectors.service_get(serviceId))]

    @router.get("/eForms/{eFormId}")
    def eform_get(request: HttpRequest, eFormId: str) -> dict[str, Any]:
        caller(request, header_required=False)
        form = selectors.eform_get(eFormId)
        return {**eform_item(form), "schema": form.schema}

    @router.post("/services/{serviceId}/applications")
    def application_submit(request: HttpRequest, serviceId: str) -> dict[str, Any]:
        actor = caller(request, header_required=True)
        procedure = selectors.service_get(serviceId)
        body = _submission(request)
        client = getattr(request, "api_client", None)
        binding = services.application_submit(
            actor=actor,
            procedure=procedure,
            applicant_id=body.applicantId,
            application_name=body.applicationName or "",
            created=body.created,
            form_data=body.formData.model_dump() if body.formData else None,
            document_urls=body.documentUrls or [],
            client=client.name if client else "",
        )
        return file_out(binding.dossier)

    @router.post("/documents")
    def document_upload(
        request: HttpRequest,
        additionalMetadata: str = "",
    ) -> dict[str, Any]:
        actor = caller(request, header_required=False)
        rows = services.document_upload(
            actor=actor,
            files=request.FILES.getlist("file"),
            encoded=request.POST.getlist("file"),
            metadata=additionalMetadata,
        )
        urls = [services.document_url(r.value) for r in rows]
        return {"code": 200, "type": "success", "message": " ".join(urls), "url": urls[0]}

    @router.get("/applications")
    def applications_list(
        request: HttpRequest,
        serviceId: str | None = None,
        applicantId: str | None = None,
        firstResult: str | None = None,
        maxResult: str | None = None,
        sortBy: str | None = None,
        sortOrder: str | None = None,
    ) -> list[dict[str, Any]]:
        user = caller(request, header_required=True)
        dossiers = selectors.files_list(
            user,
            service_id=serviceId,
            applicant_id=applicantId,
            first=_int(firstResult, 0),
            limit=_int(maxResult, 100),
            sort_by=sortBy,
            sort_order=sortOrder,
        )
        return [file_list_item(d) for d in dossiers]

    @router.get("/applications/{fileId}")
    def application_get(request: HttpRequest, fileId: str) -> dict[str, Any]:
        user = caller(request, header_required=True)
        return file_out(selectors.file_get(user, fileId))

    @router.put("/applications/{fileId}")
    def application_update(request: HttpRequest, fileId: str) -> dict[str, Any]:
        user = caller(request, header_required=True)
        dossier = selectors.file_get(user, fileId)
        body = _submission(request)
        services.application_update(
            actor=user,
            dossier=dossier,
            applicant_id=body.applicantId,
            application_name=body.applicationName,
            form_data=body.formData.model_dump() if body.formData else None,
            document_urls=body.documentUrls,
        )
        dossier.refresh_from_db()
        return file_out(dossier)

    @router.get("/tasks")
    def tasks_list(
        request: HttpRequest,
        fileId: str | None = None,
        mainTaskId: str | None = None,
        assigneeId: str | None = None,
        firstResult: str | None = None,
        maxResult: str | None = None,
        sortBy: str | None = None,
        sortOrder: str | None = None,
    ) -> list[dict[str, Any]]:
        user = caller(request, header_required=False)
        visits = selectors.tasks_list(
            user,
            file_id=fileId,
            main_task_id=mainTaskId,
            assignee_id=assigneeId,
            first=_int(firstResult, 0),
            limit=_int(maxResult, 100),
            sort_order=sortOrder,
        )
        return [task_out(v) for v in visits]

    @router.get("/tasks/{taskId}")
    def task_get(request: HttpRequest, taskId: str) -> dict[str, Any]:
        user = caller(request, header_required=False)
        return task_out(selectors.task_get(user, taskId), detail=True)

    @router.post("/tasks/{taskId}/complete")
    def task_complete(request: HttpRequest, taskId: str) -> dict[str, Any]:
        user = caller(request, header_required=False)
        body = _body(request)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        try:
            visit = selectors.task_get(user, taskId)
        except NotFound:
            done = selectors.task_completion(user, taskId)
            if done is None or done["by"] != getattr(user, "pk", None):
                raise
            return {
                "taskId": taskId,
                "fileId": selectors.file_id_of(done["dossier"]),
                "serviceId": selectors.service_id_of(done["dossier"].procedure),
                "status": done["status"],
                "variables": done["variables"],
            }
        task_id = selectors.task_id_of(visit)
        dossier = services.task_complete(
            actor=user, visit=visit, task_id=task_id, data=data, via_client=_via_client(request)
        )
        return {
            "taskId": task_id,
            "fileId": selectors.file_id_of(dossier),
            "serviceId": selectors.service_id_of(dossier.procedure),
            "status": mapping.status_model(dossier.status, dossier.outcome),
            "variables": {"completion": {"data": data}},
        }

    def _statistics(request: HttpRequest) -> list[dict[str, Any]]:
        user = caller(request, header_required=True)
        q = request.GET
        timeframe = q.get("timeframe") or ""
        if timeframe and timeframe not in selectors.TIMEFRAMES:
            raise BadRequest(_("timeframe is day, week, month or year."))
        start, end = _date(q.get("startDate")), _date(q.get("endDate"))
        if start and end and end < start:
            raise BadRequest(_("endDate is before startDate."))
        counts = selectors.statistics(
            user,
            start=start,
            end=end,
            registration_name=q.get("registrationName"),
            operator=q.get("operator"),
            role=q.get("role"),
        )
        references = {
            "startDate": q.get("startDate") or "",
            "endDate": q.get("endDate") or "",
            "registrationName": q.get("registrationName") or "",
            "operator": q.get("operator") or "",
            "role": q.get("role") or "",
            **{f"timeframe{t.capitalize()}": timeframe == t for t in selectors.TIMEFRAMES},
        }
        return [{**counts, "references": references}]

    @router.get("/data/statistics/1.0")
    def statistics(request: HttpRequest) -> list[dict[str, Any]]:
        return _statistics(request)

    @router.get("/data/statistics", include_in_schema=False)
    def statistics_unversioned(request: HttpRequest) -> list[dict[str, Any]]:
        return _statistics(request)

    return router


#: The router of the main API (mounted at `TINHSO_GOVSTACK_PREFIX` by `tinhso.api`).
router = build_router()
