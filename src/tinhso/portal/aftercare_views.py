"""The citizen's own dossier after submission: answer a supplement request online, download
the result of a fully-online procedure, rate the finished dossier. Owner only: anyone else,
and any code that is not theirs, gets the same "not found" page."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tinhso.catalog.models import OnlineAvailability
from tinhso.core.errors import DomainError, NotFound
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.states import Status
from tinhso.portal import aftercare, selectors
from tinhso.portal.models import SatisfactionRating
from tinhso.portal.templatetags.portal_tags import signin_url


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


def _own_dossier(request: HttpRequest, code: str) -> Dossier | HttpResponse:
    """The signed-in citizen's dossier `code`, or the response to send instead."""
    if not request.user.is_authenticated:
        return redirect(signin_url(request) or reverse("portal:home"))
    try:
        return selectors.my_dossier(request.user, code)
    except NotFound:
        return _not_found(request)


def missing_documents(dossier: Dossier) -> list[str]:
    request = aftercare.supplement_request(dossier)
    return list(request.data.get("missing", [])) if request is not None else []


def supplement_reason(dossier: Dossier) -> str:
    request = aftercare.supplement_request(dossier)
    return request.reason if request is not None else ""


@require_http_methods(["GET", "POST"])
def supplement(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    if isinstance(dossier, HttpResponse):
        return dossier
    if dossier.status != Status.SUPPLEMENT_REQUESTED:
        return _not_found(request)
    context: dict[str, Any] = {
        "dossier": dossier,
        "missing": missing_documents(dossier),
        "reason": supplement_reason(dossier),
        "note": "",
        "errors": {},
        "max_files": aftercare.MAX_SUPPLEMENT_FILES,
    }
    status = 200
    if request.method == "POST":
        context["note"] = request.POST.get("note", "")
        try:
            aftercare.citizen_supplement(
                actor=request.user,  # type: ignore[arg-type]
                dossier=dossier,
                uploads=request.FILES.getlist("files"),
                note=context["note"],
            )
        except DomainError as exc:
            fields = exc.details.get("fields")
            context["errors"] = fields if isinstance(fields, dict) else {"files": exc.message}
            status = 422
        else:
            messages.success(
                request, _("Your supplement was sent. The processing of your dossier resumes.")
            )
            return redirect("portal:my_detail", code=dossier.code)
    return render(request, "portal/supplement.html", context, status=status)


def result_documents(dossier: Dossier) -> list[DossierDocument]:
    """The result files the citizen may download: fully-online procedures only."""
    if dossier.procedure.online != OnlineAvailability.FULL:
        return []
    return [d for d in dossier.documents.filter(kind=DocumentKind.RESULT).order_by("pk") if d.file]


@require_GET
def result_download(request: HttpRequest, code: str, doc_id: int) -> HttpResponse:
    dossier = _own_dossier(request, code)
    if isinstance(dossier, HttpResponse):
        return dossier
    if dossier.status != Status.DONE:  # the result is the citizen's once returned
        return _not_found(request)
    document = next((d for d in result_documents(dossier) if d.pk == doc_id), None)
    if document is None:
        return _not_found(request)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        return _not_found(request)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=PurePath(document.file.name).name,
        content_type=document.content_type or None,
    )


def rating_of(dossier: Dossier) -> SatisfactionRating | None:
    return SatisfactionRating.objects.filter(dossier=dossier).first()


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    if isinstance(dossier, HttpResponse):
        return dossier
    if dossier.status != Status.DONE:
        return _not_found(request)
    if rating_of(dossier) is not None:
        messages.info(request, _("You have already rated this dossier. Thank you."))
        return redirect("portal:my_detail", code=dossier.code)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    comment = ""
    status = 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key, _label in aftercare.RATING_CRITERIA}
        comment = request.POST.get("comment", "")
        try:
            aftercare.rating_submit(
                actor=request.user,  # type: ignore[arg-type]
                dossier=dossier,
                scores=values,
                comment=comment,
            )
        except DomainError as exc:
            fields = exc.details.get("fields")
            errors = fields if isinstance(fields, dict) else {"form": exc.message}
            status = 409 if exc.status == 409 else 422
        else:
            messages.success(request, _("Thank you for rating the handling of your dossier."))
            return redirect("portal:my_detail", code=dossier.code)
    criteria = [
        {"key": key, "label": label, "value": values.get(key, ""), "error": errors.get(key, "")}
        for key, label in aftercare.RATING_CRITERIA
    ]
    context = {
        "dossier": dossier,
        "criteria": criteria,
        "choices": range(aftercare.RATING_MIN, aftercare.RATING_MAX + 1),
        "comment": comment,
        "errors": errors,
    }
    return render(request, "portal/rate.html", context, status=status)
