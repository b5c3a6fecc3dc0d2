"""Online submission pages of the portal: the submission form of a procedure (saved as a
draft while the citizen fills it in), its submission, the drafts to resume, and the
citizen's personal data store of earlier documents and results."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tinhso.catalog import selectors as catalog_selectors
from tinhso.catalog.models import DocumentRequirement, ImplementingLevel
from tinhso.core.errors import NotFound, ValidationFailed
from tinhso.core.models import Agency
from tinhso.dossiers.models import Dossier, DossierDocument
from tinhso.portal import submission
from tinhso.portal.models import Draft
from tinhso.portal.views import _not_found, _require_citizen


def _requirement_blocks(
    draft: Draft, errors: dict[str, str], own_docs: list[DossierDocument]
) -> list[dict[str, Any]]:
    attached = {d.requirement_id: d for d in draft.documents.select_related("reused_from")}
    return [
        {
            "requirement": r,
            "attached": attached.get(r.pk),
            "error": errors.get(f"doc_{r.pk}", ""),
            "own_docs": own_docs,
        }
        for r in draft.procedure.documents.all()
    ]


def _context(request: HttpRequest, draft: Draft, errors: dict[str, str]) -> dict[str, Any]:
    procedure = draft.procedure
    user = request.user
    data = draft.data or {}
    own_docs = list(submission.personal_documents(user))
    return {
        "draft": draft,
        "procedure": procedure,
        "applicant": submission.applicant_for(user, data),
        "data": data,
        "agencies": submission.receiving_agencies(procedure),
        "is_commune_level": procedure.level == ImplementingLevel.COMMUNE,
        "blocks": _requirement_blocks(draft, errors, own_docs),
        "bundles": list(catalog_selectors.bundles_with(procedure)),
        "communes": submission.commune_agencies(),
        "errors": errors,
    }


def _procedure_or_none(code: str):
    try:
        procedure = catalog_selectors.procedure_by_code(code)
    except NotFound:
        return None
    return procedure if submission.is_submittable(procedure) else None


def submit_form(request: HttpRequest, code: str) -> HttpResponse:
    """The submission form; resumes `?draft=<id>`, else the latest open draft of this
    procedure, else starts one."""
    procedure = _procedure_or_none(code)
    if procedure is None:
        return _not_found(request)
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    draft_id = request.GET.get("draft", "")
    if draft_id:
        try:
            draft = submission.my_draft(request.user, int(draft_id))
        except (NotFound, ValueError):
            return _not_found(request)
        if draft.procedure_id != procedure.pk:
            return _not_found(request)
    else:
        draft = submission.my_drafts(request.user).filter(procedure=procedure).first()
        if draft is None:
            draft = submission.draft_save(actor=request.user, procedure=procedure, data={}).draft
    return render(request, "portal/submit.html", _context(request, draft, {}))


def _posted(request: HttpRequest, draft: Draft) -> tuple[list, list]:
    uploads: list[tuple[DocumentRequirement, Any]] = []
    reuse: list[tuple[DocumentRequirement, DossierDocument | None]] = []
    own = submission.personal_documents(request.user)
    for requirement in draft.procedure.documents.all():
        upload = request.FILES.get(f"file_{requirement.pk}")
        if upload is not None:
            uploads.append((requirement, upload))
        key = f"reuse_{requirement.pk}"
        if key in request.POST:
            value = request.POST.get(key, "")
            if not value:
                reuse.append((requirement, None))
            else:
                try:
                    reuse.append((requirement, own.get(pk=int(value))))
                except (ValueError, DossierDocument.DoesNotExist) as exc:
                    raise NotFound() from exc
    return uploads, reuse


def _save_posted(request: HttpRequest, draft: Draft) -> dict[str, str]:
    uploads, reuse = _posted(request, draft)
    saved = submission.draft_save(
        actor=request.user,
        procedure=draft.procedure,
        data=request.POST.dict(),
        uploads=uploads,
        reuse=reuse,
        draft=draft,
    )
    return {f"doc_{pk}": message for pk, message in saved.errors.items()}


def _load_draft(request: HttpRequest, draft_id: int) -> Draft | None:
    try:
        return submission.my_draft(request.user, draft_id)
    except NotFound:
        return None


@require_POST
def draft_save(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The autosave (htmx): returns the documents block with any refused file's message."""
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    draft = _load_draft(request, draft_id)
    if draft is None:
        return _not_found(request)
    try:
        errors = _save_posted(request, draft)
    except NotFound:
        return _not_found(request)
    context = _context(request, draft, errors)
    context["saved"] = True
    return render(request, "portal/_draft_documents.html", context)


@require_POST
def draft_submit(request: HttpRequest, draft_id: int) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    draft = _load_draft(request, draft_id)
    if draft is None:
        return _not_found(request)
    try:
        errors = _save_posted(request, draft)
    except NotFound:
        return _not_found(request)
    bundle = None
    bundle_code = request.POST.get("bundle", "")
    if bundle_code:
        bundle = next(
            (b for b in catalog_selectors.bundles_with(draft.procedure) if b.code == bundle_code),
            None,
        )
        if bundle is None:
            return _not_found(request)
    agency_field = "commune" if bundle else "agency"
    agency = None
    try:
        agency = Agency.objects.filter(
            pk=int(request.POST.get(agency_field, "") or 0), is_active=True
        ).first()
    except ValueError:
        agency = None
    if agency is None:
        errors[agency_field] = _("Choose the agency that receives the dossier.")
    if not errors and agency is not None:
        try:
            dossier = submission.draft_submit(
                actor=request.user, draft=draft, agency=agency, procedure_bundle=bundle
            )
        except ValidationFailed as exc:
            errors.update(exc.details.get("fields") or {})
            errors.setdefault("form", exc.message)
        else:
            return redirect("portal:submitted", code=dossier.code)
    errors.setdefault("form", _("The dossier was not submitted: correct the errors below."))
    return render(request, "portal/submit.html", _context(request, draft, errors), status=422)


@require_GET
def submitted(request: HttpRequest, code: str) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    dossier = (
        Dossier.objects.select_related("procedure", "agency", "bundle")
        .filter(code=code, owner=request.user)
        .first()
    )
    if dossier is None:
        return _not_found(request)
    parts = (
        list(dossier.bundle.dossiers.select_related("procedure", "agency").order_by("pk"))
        if dossier.bundle_id
        else []
    )
    return render(request, "portal/submitted.html", {"dossier": dossier, "parts": parts})


@require_GET
def drafts(request: HttpRequest) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    return render(request, "portal/drafts.html", {"drafts": submission.my_drafts(request.user)})


@require_GET
def my_documents(request: HttpRequest) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    return render(
        request,
        "portal/my_documents.html",
        {"documents": submission.personal_documents(request.user)},
    )


@require_GET
def document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    document = submission.personal_documents(request.user).filter(pk=document_id).first()
    if document is None:
        return _not_found(request)
    name = document.file.name.rsplit("/", 1)[-1]
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=name)
