"""Writes of the GovStack API. None of them changes a dossier itself: submission and every
completed task go through the dossier services the desk and the portal use
(`dossier_submit`, `dossier_assign`, `dossier_forward`, `dossier_approve`, `dossier_reject`,
`dossier_request_supplement`); here we only validate the building block's payloads, keep
its identifiers (`GovStackId`) and write the audit rows."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.catalog.models import Procedure
from tinhso.core.audit import audit_record
from tinhso.core.errors import IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Agency, Department, Role, User, UserKind
from tinhso.dossiers import services as dossier_services
from tinhso.dossiers.models import Dossier, StepVisit
from tinhso.dossiers.states import Channel, Status
from tinhso.govstack import mapping, selectors
from tinhso.govstack.errors import BadRequest, InvalidFormData, NotYourTask
from tinhso.govstack.models import GovStackId, Kind

#: No citizen identity number starts with 000 (the first three digits are the province of
#: birth, 001–096), so a placeholder can never be a real person's number.
PLACEHOLDER_ID_PREFIX = "000"
DOCUMENT_URN = "urn:tinhso:govstack:document:"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def placeholder_id_number(applicant_id: str) -> str:
    digits = int(hashlib.sha256(applicant_id.encode()).hexdigest(), 16) % 10**9
    return f"{PLACEHOLDER_ID_PREFIX}{digits:09d}"


# --- documents ------------------------------------------------------------------------------


def document_url(value: str) -> str:
    return f"{DOCUMENT_URN}{value}"


@transaction.atomic
def document_upload(
    *, actor: User | None, files: Sequence[File], encoded: Sequence[str], metadata: str = ""
) -> list[GovStackId]:
    """Store uploaded documents (files, or base64 strings as the specification allows) until
    an application refers to them by URL."""
    contents: list[tuple[str, bytes, str]] = []
    for f in files:
        if f.size and f.size > MAX_DOCUMENT_BYTES:
            raise BadRequest(_("The document is too large."))
        contents.append((f.name or "document", f.read(), getattr(f, "content_type", "") or ""))
    for text in encoded:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(_("A document is not valid base64.")) from exc
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise BadRequest(_("The document is too large."))
        contents.append(("document", raw, "application/octet-stream"))
    if not contents or not any(raw for _n, raw, _t in contents):
        raise BadRequest(_("Send the document in the `file` field."))
    rows = []
    for name, raw, content_type in contents:
        value = str(uuid.uuid4())
        path = default_storage.save(f"govstack/documents/{value}", ContentFile(raw))
        rows.append(
            GovStackId.objects.create(
                kind=Kind.DOCUMENT,
                value=value,
                official=actor if actor is not None and actor.pk else None,
                data={
                    "name": name[:255],
                    "path": path,
                    "size": len(raw),
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "content_type": content_type[:100],
                    "metadata": metadata[:1000],
                },
            )
        )
    return rows


def _documents_for(urls: Sequence[str]) -> list[dossier_services.SubmittedDocument]:
    docs = []
    for url in urls:
        value = url[len(DOCUMENT_URN) :] if url.startswith(DOCUMENT_URN) else url
        row = GovStackId.objects.filter(kind=Kind.DOCUMENT, value=value).first()
        if row is None:
            continue  # a reference to a document held elsewhere: kept in the file's data only
        stored = default_storage.open(row.data["path"])
        docs.append(
            dossier_services.SubmittedDocument(
                name=row.data.get("name") or _("Document"), file=File(stored, name=value)
            )
        )
    return docs


# --- application files ----------------------------------------------------------------------


def _form_for(procedure: Procedure, eform_id: str) -> selectors.EForm:
    forms = selectors.eforms_of(procedure)
    return next((f for f in forms if f.eform_id == eform_id), forms[0])


def _check_form(form: selectors.EForm, data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidFormData(errors=["data: expected object"])
    errors = mapping.schema_errors(data, form.schema)
    if errors:
        raise InvalidFormData(errors=errors[:20])


def _agency_for(actor: User | None, procedure: Procedure) -> Agency:
    agencies = procedure.agencies.all()
    if actor is not None and actor.kind == UserKind.OFFICIAL and actor.agency_id is not None:
        agency = actor.agency
        if agency in agencies or (not agencies and agency.kind in (procedure.agency_kinds or [])):
            return agency
    first = agencies.first()
    if first is None:
        raise ValidationFailed(_("No agency handles this service yet."))
    return first


def _applicant(data: dict[str, Any], applicant_id: str, application_name: str) -> tuple[Any, str]:
    given = data.get("applicant") if isinstance(data.get("applicant"), dict) else {}
    id_number = str(given.get("idNumber") or "")
    note = ""
    if not id_number:
        id_number = placeholder_id_number(applicant_id)
        note = _("No identification number was given; %(number)s is a placeholder.") % {
            "number": id_number
        }
    applicant = dossier_services.Applicant(
        name=str(given.get("name") or application_name or applicant_id)[:255],
        id_number=id_number,
        phone=str(given.get("phone") or ""),
        email=str(given.get("email") or ""),
        address=str(given.get("address") or "")[:500],
    )
    return applicant, note


@transaction.atomic
def application_submit(
    *,
    actor: User | None,
    procedure: Procedure,
    applicant_id: str,
    application_name: str = "",
    created: datetime | None = None,
    form_data: dict[str, Any] | None = None,
    document_urls: Sequence[str] = (),
    file_id: str | None = None,
    client: str = "",
    at: datetime | None = None,
) -> GovStackId:
    """A new application file: the form data is checked against the service's eForm, then
    the dossier is submitted online through `dossier_submit`, as from the portal."""
    if not applicant_id.strip():
        raise BadRequest(_("applicantId is required."))
    form_data = form_data or {}
    data = form_data.get("data") if form_data.get("data") is not None else {}
    form = _form_for(procedure, str(form_data.get("eFormId") or ""))
    _check_form(form, data)
    applicant, placeholder_note = _applicant(data, applicant_id, application_name)
    file_id = file_id or str(uuid.uuid4())
    note = " ".join(
        part
        for part in (
            _("GovStack application file %(file)s (applicantId %(applicant)s).")
            % {"file": file_id, "applicant": applicant_id},
            placeholder_note,
        )
        if part
    )
    dossier = dossier_services.dossier_submit(
        actor=actor,
        procedure=procedure,
        agency=_agency_for(actor, procedure),
        channel=Channel.ONLINE,
        applicant=applicant,
        documents=_documents_for(document_urls),
        note=note,
        at=at,
    )
    return GovStackId.objects.create(
        kind=Kind.FILE,
        value=file_id,
        dossier=dossier,
        data={
            "applicantId": applicant_id,
            "applicationName": application_name,
            "created": created.isoformat() if created else None,
            "formData": {"data": data, "eFormId": form.eform_id},
            "documentUrls": list(document_urls),
            "client": client,
        },
    )


def _require_operator(actor: User | None, dossier: Dossier) -> None:
    holder = dossier.transfer_agency_id or dossier.agency_id
    if actor is None:
        return
    if actor.kind != UserKind.OFFICIAL or not actor.is_active:
        raise OutOfScope(_("Only an operator can do this."))
    if not actor.is_superuser and actor.agency_id != holder:
        raise OutOfScope()


@transaction.atomic
def application_update(
    *,
    actor: User | None,
    dossier: Dossier,
    applicant_id: str,
    application_name: str | None = None,
    form_data: dict[str, Any] | None = None,
    document_urls: Sequence[str] | None = None,
) -> GovStackId:
    """An operator's input on an application file: the building block's copy of the form
    data (checked against the file's eForm). The dossier's status is not touched: that is
    what completing a task does."""
    _require_operator(actor, dossier)
    if not applicant_id.strip():
        raise BadRequest(_("applicantId is required."))
    binding = GovStackId.objects.select_for_update().filter(kind=Kind.FILE, dossier=dossier).first()
    if binding is None:
        binding = GovStackId.objects.create(kind=Kind.FILE, value=dossier.code, dossier=dossier)
    before = dict(binding.data)
    new = dict(binding.data)
    new["applicantId"] = applicant_id
    if application_name is not None:
        new["applicationName"] = application_name
    if form_data is not None:
        data = form_data.get("data") if form_data.get("data") is not None else {}
        current = (before.get("formData") or {}).get("eFormId") or ""
        form = _form_for(dossier.procedure, str(form_data.get("eFormId") or current))
        _check_form(form, data)
        new["formData"] = {"data": data, "eFormId": form.eform_id}
    if document_urls is not None:
        new["documentUrls"] = list(document_urls)
    if new != before:
        binding.data = new
        binding.save(update_fields=["data"])
        audit_record(
            actor=actor,
            action="govstack.application_update",
            obj=dossier,
            before=before,
            after=new,
            source="api",
        )
    return binding


# --- tasks ----------------------------------------------------------------------------------

LEADER_ROLES = (Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER)


def _decision(data: dict[str, Any]) -> tuple[str, str]:
    raw = data.get("decision")
    reason = ""
    if isinstance(raw, dict):
        reason = str(raw.get("reason") or "")
        raw = raw.get("code")
    return str(raw or "").upper(), reason or str(data.get("reason") or "")


def _department_for(visit: StepVisit) -> Department:
    dossier = visit.dossier
    holder = dossier.transfer_agency_id or dossier.agency_id
    departments = Department.objects.filter(agency_id=holder).order_by("is_one_stop_desk", "pk")
    steps = dossier_services._processing_steps(dossier)
    code = steps[0].department_code if steps else ""
    chosen = departments.filter(code=code).first() if code else None
    chosen = chosen or departments.first()
    if chosen is None:
        raise IllegalTransition(_("The agency has no department to hand the dossier to."))
    return chosen


@transaction.atomic
def task_complete(
    *,
    actor: User | None,
    visit: StepVisit,
    task_id: str,
    data: dict[str, Any],
    via_client: bool,
) -> Dossier:
    """Complete the operator's task: the transition that takes the dossier past its step.
    At reception it is handed to the department of the first processing step; at a
    processing step it is forwarded, or at the last step approved, unless
    `data.decision` says `REJECTED` or `SENDBACK` (with `data.reason`).

    A person completes only a task assigned to them (or an unassigned one of their role);
    an API client, which signs in its own operators, completes the tasks of its agency."""
    if actor is not None and not via_client:
        mine = visit.assignee_id == actor.pk
        free = visit.assignee_id is None and (
            actor.has_role(visit.step.role) or actor.has_role(*LEADER_ROLES)
        )
        if not (mine or free):
            raise NotYourTask()
    elif (
        actor is not None
        and visit.assignee_id is not None
        and visit.assignee.agency_id != actor.agency_id
    ):
        raise NotYourTask()
    decision, reason = _decision(data)
    if decision not in ("", mapping.APPROVED, mapping.REJECTED, mapping.SENDBACK):
        raise BadRequest(_("decision is one of APPROVED, REJECTED, SENDBACK."))
    if decision in (mapping.REJECTED, mapping.SENDBACK) and not reason.strip():
        raise BadRequest(_("Give data.reason with this decision."))
    dossier = _transition(actor, visit, decision, reason)
    _record_completion(actor, visit, task_id, dossier, data)
    return dossier


def _transition(actor: User | None, visit: StepVisit, decision: str, reason: str) -> Dossier:
    dossier = visit.dossier
    version = dossier.version
    if decision == mapping.SENDBACK:
        return dossier_services.dossier_request_supplement(
            actor=actor, dossier=dossier, reason=reason, expected_version=version
        )
    if decision == mapping.REJECTED:
        return dossier_services.dossier_reject(
            actor=actor, dossier=dossier, reason=reason, expected_version=version
        )
    if dossier.status == Status.RECEIVED:
        return dossier_services.dossier_assign(
            actor=actor,
            dossier=dossier,
            department=_department_for(visit),
            expected_version=version,
        )
    steps = dossier_services._processing_steps(dossier)
    last = not steps or steps[-1].pk == dossier.current_step_id
    if decision == mapping.APPROVED or last:
        return dossier_services.dossier_approve(
            actor=actor, dossier=dossier, expected_version=version
        )
    return dossier_services.dossier_forward(actor=actor, dossier=dossier, expected_version=version)


def _record_completion(
    actor: User | None, visit: StepVisit, task_id: str, dossier: Dossier, data: dict[str, Any]
) -> None:
    """Keep who completed the task and the answer, so that a repeated completion (a retry
    after a lost answer) gets the same answer instead of a second transition."""
    binding, _created = GovStackId.objects.get_or_create(
        kind=Kind.TASK, value=task_id, defaults={"step_visit": visit}
    )
    binding.data = {
        **binding.data,
        "completed": {
            "by": actor.pk if actor is not None else None,
            "status": mapping.status_model(dossier.status, dossier.outcome),
            "variables": {"completion": {"data": data}},
        },
    }
    binding.save(update_fields=["data"])
