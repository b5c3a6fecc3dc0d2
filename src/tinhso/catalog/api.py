"""JSON API of the procedure catalog. Reading is public (the catalog is public reference
data); importing needs a signed-in administrator."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from tinhso.catalog import selectors, services
from tinhso.catalog.schemas import (
    CatalogDocumentIn,
    FieldWithCountOut,
    ImportResultOut,
    ProcedureDetailOut,
    ProcedureOut,
)
from tinhso.core.errors import ValidationFailed
from tinhso.core.models import Agency

router = Router(tags=["catalog"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_response(fmt: str) -> HttpResponse:
    """The whole catalog as a JSON or Excel download (shared with the back-office page)."""
    if fmt == "xlsx":
        response = HttpResponse(services.catalog_export_excel(), content_type=XLSX)
    else:
        fmt = "json"
        body = json.dumps(services.catalog_export_document(), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="procedures.{fmt}"'
    return response


@router.get("/procedures", response=list[ProcedureOut], auth=None)
@paginate(LimitOffsetPagination)
def list_procedures(
    request: HttpRequest,
    q: str = "",
    field: str = "",
    level: str = "",
    online: str = "",
    agency: str = Query("", description="electronic identifier code of an agency"),
):
    """Procedures in force, filtered by a name or code fragment, field code, level
    (`province`, `commune` — both include `both`), online availability (`full`, `partial`,
    `none`, or `any`) and implementing agency."""
    agency_obj = None
    if agency:
        agency_obj = Agency.objects.filter(code=agency).first()
        if agency_obj is None:
            raise ValidationFailed(
                _("No agency has the electronic identifier code %(code)s.") % {"code": agency}
            )
    return selectors.procedures_list(
        query=q, field=field, level=level, online=online, agency=agency_obj
    )


@router.get("/procedures/export", auth=None)
def export_procedures(
    request: HttpRequest, fmt: str = Query("json", alias="format", pattern="^(json|xlsx)$")
):
    """The whole catalog in the import format (docs/formats.md): JSON or Excel."""
    return export_response(fmt)


@router.post("/procedures/import", response=ImportResultOut)
def import_procedures(request: HttpRequest, document: CatalogDocumentIn):
    """Import a catalog document (administrators). A bad entry stops the whole import:
    422 with `errors`, each naming its entry (`procedures[12].fees[0].amount`)."""
    result = services.catalog_import(
        actor=request.user, document=document.model_dump(exclude_unset=True), source="api"
    )
    return result.as_dict()


@router.get("/procedures/{code}", response=ProcedureDetailOut, auth=None)
def get_procedure(request: HttpRequest, code: str):
    return selectors.procedure_by_code(code)


@router.get("/fields", response=list[FieldWithCountOut], auth=None)
def list_fields(request: HttpRequest):
    return selectors.fields_list()
