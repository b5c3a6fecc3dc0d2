"""Back-office pages of the procedure catalog: the list and one procedure for every
official, the import page for administrators, and the export downloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tinhso.catalog import selectors, services
from tinhso.catalog.api import export_response
from tinhso.catalog.models import ImplementingLevel, OnlineAvailability
from tinhso.core.errors import DomainError, NotFound, OutOfScope
from tinhso.core.models import AgencyKind
from tinhso.core.selectors import audit_for_object
from tinhso.core.services import require_admin

PAGE_SIZE = 50
#: Larger than any province's catalog; keeps a wrong upload from filling the memory.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _is_admin(user: Any) -> bool:
    try:
        require_admin(user)
    except OutOfScope:
        return False
    return True


@login_required
def procedure_list(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "").strip() for key in ("q", "field", "level", "online")}
    procedures = selectors.procedures_list(
        query=filters["q"],
        field=filters["field"],
        level=filters["level"],
        online=filters["online"],
    )
    online_choices = [
        (selectors.ONLINE_ANY, _("Fully or partially online")),
        *OnlineAvailability.choices,
    ]
    context = {
        "page": Paginator(procedures, PAGE_SIZE).get_page(request.GET.get("page")),
        "filters": filters,
        "fields": selectors.fields_list(),
        "levels": ImplementingLevel.choices,
        "online_choices": online_choices,
        "can_import": _is_admin(request.user),
    }
    return render(request, "catalog/procedure_list.html", context)


@login_required
def procedure_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        procedure = selectors.procedure_by_code(code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    kinds = dict(AgencyKind.choices)
    is_admin = _is_admin(request.user)
    context = {
        "procedure": procedure,
        "agency_kinds": [kinds.get(k, k) for k in procedure.agency_kinds],
        "fees": procedure.fee_cases.all(),
        "documents": procedure.documents.all(),
        "steps": procedure.workflow_steps.all(),
        "bundles": selectors.bundles_with(procedure),
        "is_admin": is_admin,
        "audit": audit_for_object(procedure)[:50] if is_admin else None,
    }
    return render(request, "catalog/procedure_detail.html", context)


def _read_upload(upload: Any) -> tuple[str, Any]:
    """The format and content of an uploaded catalog file; ValueError says what is wrong."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in (".json", ".xlsx"):
        raise ValueError(_("Choose a .json or .xlsx file."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValueError(_("The file is larger than 20 MB."))
    if suffix == ".xlsx":
        return "xlsx", upload
    try:
        return "json", json.loads(upload.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(_("The file is not valid JSON (%(error)s).") % {"error": exc}) from exc


@login_required
def catalog_import(request: HttpRequest) -> HttpResponse:
    if not _is_admin(request.user):
        raise PermissionDenied(_("Only an administrator may change reference data."))
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValueError(_("Choose a file to import."))
            fmt, content = _read_upload(upload)
            if fmt == "xlsx":
                result = services.catalog_import_excel(actor=request.user, file=content)
            else:
                result = services.catalog_import(actor=request.user, document=content)
        except ValueError as exc:
            errors = [str(exc)]
        except DomainError as exc:
            details = exc.details.get("errors") or []
            errors = [e["text"] for e in details] if details else [exc.message]  # type: ignore[union-attr]
        else:
            messages.success(
                request,
                _(
                    "Imported %(name)s: %(created)d procedures created, %(updated)d updated, "
                    "%(unchanged)d unchanged."
                )
                % {
                    "name": upload.name,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
            return redirect("catalog:import")
    return render(request, "catalog/import.html", {"errors": errors})


@login_required
def catalog_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "json")
    if fmt not in ("json", "xlsx"):
        raise Http404()
    return export_response(fmt)
