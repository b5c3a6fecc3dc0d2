"""Desk reception of a walk-in applicant: the form, its htmx procedure picker and the chosen
procedure's required documents; the dossier is received at once, with its appointment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tinhso.core.errors import DomainError, ValidationFailed
from tinhso.core.models import Agency, Role
from tinhso.dossiers import selectors, services, uploads
from tinhso.dossiers.views import UPLOAD_ACCEPT, _officials_only


def _desk_agency(user: Any) -> Agency:
    if user.agency is None or not (user.is_superuser or user.has_role(Role.DESK_OFFICER)):
        raise PermissionDenied
    return user.agency


def _document_rows(
    requirements: Any, checked: set[str], errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    errors = errors or {}
    return [
        {
            "requirement": requirement,
            "checked": str(requirement.pk) in checked,
            "error": errors.get(f"file_{requirement.pk}", ""),
        }
        for requirement in requirements
    ]


@_officials_only
@require_GET
def procedure_options(request: HttpRequest) -> HttpResponse:
    """htmx: the <option>s of the procedure picker for what was typed in the search box;
    when the search narrows to one procedure, it is chosen and its documents come along."""
    agency = _desk_agency(request.user)
    matches = selectors.search_procedures(agency, request.GET.get("procedure_q", ""))
    current = request.GET.get("procedure", "")
    ids = {str(p.pk) for p in matches}
    chosen = current if current in ids else (str(matches[0].pk) if len(matches) == 1 else "")
    context: dict[str, Any] = {"procedures": matches, "selected": chosen}
    if chosen != current:
        procedure = next((p for p in matches if str(p.pk) == chosen), None)
        context["documents_oob"] = True
        context["documents"] = _document_rows(procedure.documents.all() if procedure else [], set())
        context["accept"] = UPLOAD_ACCEPT
    return render(request, "dossiers/_procedure_options.html", context)


@_officials_only
@require_GET
def procedure_documents(request: HttpRequest) -> HttpResponse:
    """htmx: the chosen procedure's required documents, as checkboxes with file inputs."""
    agency = _desk_agency(request.user)
    procedure = (
        selectors.procedures_for_agency(agency).filter(pk=request.GET.get("procedure") or 0).first()
    )
    context = {
        "documents": _document_rows(procedure.documents.all() if procedure else [], set()),
        "accept": UPLOAD_ACCEPT,
    }
    return render(request, "dossiers/_required_documents.html", context)


@_officials_only
def dossier_new(request: HttpRequest) -> HttpResponse:
    """Desk reception: the dossier is taken in and received at once, with its appointment."""
    agency = _desk_agency(request.user)
    form = {
        key: request.POST.get(key, "").strip()
        for key in ("procedure", "procedure_q", "name", "id_number", "phone", "address", "note")
    }
    errors: dict[str, str] = {}
    form_error = ""
    procedure = None
    if form["procedure"]:
        procedure = selectors.procedures_for_agency(agency).filter(pk=form["procedure"]).first()
    requirements = list(procedure.documents.all()) if procedure else []
    checked = set(request.POST.getlist("documents"))

    if request.method == "POST":
        if procedure is None:
            errors["procedure"] = _("Choose the procedure.")
        documents = []
        for requirement in requirements:
            upload = request.FILES.get(f"file_{requirement.pk}")
            if upload is not None:
                error = uploads.upload_error(upload)
                if error:
                    errors[f"file_{requirement.pk}"] = error
                checked.add(str(requirement.pk))
            if str(requirement.pk) in checked:
                documents.append(
                    services.SubmittedDocument(
                        name=requirement.name, requirement=requirement, file=upload
                    )
                )
        applicant = services.Applicant(
            name=form["name"],
            id_number=form["id_number"],
            phone=form["phone"],
            address=form["address"],
        )
        try:
            applicant.validate()
        except ValidationFailed as exc:
            errors.update(exc.details.get("fields", {}))
        if not errors:
            try:
                dossier = services.dossier_receive_at_desk(
                    actor=request.user,
                    procedure=procedure,
                    applicant=applicant,
                    documents=documents,
                    note=form["note"],
                )
            except ValidationFailed as exc:
                errors.update(exc.details.get("fields", {}))
                form_error = "" if errors else exc.message
            except DomainError as exc:
                form_error = exc.message
            else:
                messages.success(
                    request,
                    _("Dossier %(code)s received. Appointment: %(due)s.")
                    % {
                        "code": dossier.code,
                        "due": timezone.localtime(dossier.due_at).strftime("%d/%m/%Y %H:%M"),
                    },
                )
                return redirect("dossiers:detail", pk=dossier.pk)
        notes = [form_error]
        if errors:
            notes.append(_("Check the fields marked in red."))
        if (errors or form_error) and request.FILES:
            notes.append(_("Choose the files again before saving."))
        form_error = " ".join(note for note in notes if note)

    procedures = selectors.search_procedures(agency, form["procedure_q"])
    if procedure is not None and procedure not in procedures:
        procedures.insert(0, procedure)
    context = {
        "agency": agency,
        "form": form,
        "errors": errors,
        "form_error": form_error,
        "procedures": procedures,
        "selected": str(procedure.pk) if procedure else "",
        "documents": _document_rows(requirements, checked, errors),
        "accept": UPLOAD_ACCEPT,
    }
    return render(request, "dossiers/new.html", context)
