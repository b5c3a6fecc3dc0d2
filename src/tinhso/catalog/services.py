"""Every change to the procedure catalog, and its import and export (docs/formats.md).

An import checks the whole document first (`document.validate_document`) and writes nothing
when any entry is bad; then, in the same transaction, it creates or updates fields,
procedures and bundles by their codes, touching only what changed, with one audit record per
created or changed row. Importing the same file twice changes nothing the second time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, BinaryIO

from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tinhso.catalog import excel
from tinhso.catalog.document import (
    FORMAT,
    BundleEntry,
    EntryError,
    FieldEntry,
    Known,
    ProcedureEntry,
    decimal_text,
    referenced_fields,
    referenced_procedures,
    validate_document,
)
from tinhso.catalog.entries import (
    bundle_entry,
    document_lines,
    fee_lines,
    format_vnd,
    procedure_entry,
    procedure_json,
    step_lines,
    with_children,
)
from tinhso.catalog.models import (
    BundlePart,
    DocumentRequirement,
    FeeCase,
    Field,
    Procedure,
    ProcedureBundle,
    WorkflowStep,
)
from tinhso.core.audit import audit_record, snapshot
from tinhso.core.errors import ValidationFailed
from tinhso.core.models import Agency, User
from tinhso.core.services import require_admin

FIELD_FIELDS = ("code", "name")
PROCEDURE_FIELDS = (
    "code",
    "name",
    "field",
    "level",
    "agency_kinds",
    "processing_days",
    "online",
    "is_essential",
    "result_type",
    "legal_basis",
    "conditions",
)
BUNDLE_FIELDS = ("code", "name", "description")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: procedures created, updated and left as they were (and the same
    for the fields and bundles it carried)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    fields_created: int = 0
    fields_updated: int = 0
    bundles_created: int = 0
    bundles_updated: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- audit snapshots --------------------------------------------------------------------------


def _procedure_state(
    procedure: Procedure, entry: ProcedureEntry, agency_ids: Iterable[int], children: Iterable[str]
) -> dict[str, Any]:
    """The audit snapshot: the procedure's own fields, and the lists that changed."""
    state = snapshot(procedure, PROCEDURE_FIELDS)
    # "7" from the document and "7.00" from the database are the same time.
    state["processing_days"] = decimal_text(procedure.processing_days)
    state["agencies"] = sorted(agency_ids)
    lines = {
        "fees": lambda: fee_lines(entry.fees),
        "required_documents": lambda: document_lines(entry.documents),
        "workflow": lambda: step_lines(entry.workflow),
    }
    for name in children:
        state[name] = lines[name]()
    return state


# --- writing ----------------------------------------------------------------------------------


class _Refused(Exception):
    """A write the validation could not foresee (a workflow step dossiers still use)."""

    def __init__(self, error: EntryError) -> None:
        self.error = error
        super().__init__(str(error))


def _sync_rows(
    existing: Sequence[models.Model],
    wanted: Sequence[dict[str, Any]],
    make: Callable[..., models.Model],
    path: tuple[str | int, ...],
) -> None:
    """Make the child rows equal to `wanted`, position by position. Rows are kept and
    updated in place, so a dossier that points at workflow step 2 still points at step 2."""
    new_rows = []
    for position, values in enumerate(wanted, start=1):
        if position <= len(existing):
            row = existing[position - 1]
            values = {"position": position, **values}
            if any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.save()
        else:
            new_rows.append(make(position=position, **values))
    if len(existing) > len(wanted):
        surplus = existing[len(wanted) :]
        try:
            type(surplus[0])._default_manager.filter(pk__in=[r.pk for r in surplus]).delete()
        except ProtectedError as exc:
            raise _Refused(
                EntryError(
                    path,
                    _(
                        "has fewer rows than before, but dossiers still use the rows that "
                        "would be removed"
                    ),
                )
            ) from exc
    if new_rows:
        type(new_rows[0])._default_manager.bulk_create(new_rows)


def _write_fields(entries: list[FieldEntry], *, actor: User | None, source: str) -> tuple[int, int]:
    created = updated = 0
    existing = {f.code: f for f in Field.objects.filter(code__in=[e.code for e in entries])}
    for entry in entries:
        field = existing.get(entry.code)
        if field is None:
            field = Field.objects.create(code=entry.code, name=entry.name)
            audit_record(
                actor=actor,
                action="field.create",
                obj=field,
                after=snapshot(field, FIELD_FIELDS),
                source=source,
            )
            created += 1
        elif field.name != entry.name:
            before = snapshot(field, FIELD_FIELDS)
            field.name = entry.name
            field.save(update_fields=["name"])
            audit_record(
                actor=actor,
                action="field.update",
                obj=field,
                before=before,
                after=snapshot(field, FIELD_FIELDS),
                source=source,
            )
            updated += 1
    return created, updated


def _write_procedures(
    entries: list[ProcedureEntry], *, actor: User | None, source: str
) -> tuple[int, int, int]:
    created = updated = unchanged = 0
    existing = {
        p.code: p
        for p in with_children(Procedure.objects.filter(code__in=[e.code for e in entries]))
    }
    fields = {f.code: f for f in Field.objects.filter(code__in={e.field for e in entries})}
    agencies = {
        a.code: a for a in Agency.objects.filter(code__in={c for e in entries for c in e.agencies})
    }
    for index, entry in enumerate(entries):
        procedure = existing.get(entry.code)
        current = procedure_entry(procedure) if procedure is not None else None
        if current == entry:
            unchanged += 1
            continue
        changed_children = [
            name
            for name, attr in (
                ("fees", "fees"),
                ("required_documents", "documents"),
                ("workflow", "workflow"),
            )
            if current is None or getattr(current, attr) != getattr(entry, attr)
        ]
        before = None
        if procedure is None:
            procedure = Procedure(code=entry.code)
        else:
            before = _procedure_state(
                procedure,
                current,  # type: ignore[arg-type]
                [a.pk for a in procedure.agencies.all()],
                changed_children,
            )
        procedure.name = entry.name
        procedure.field = fields[entry.field]
        procedure.level = entry.level
        procedure.agency_kinds = list(entry.agency_kinds)
        procedure.processing_days = entry.processing_days
        procedure.online = entry.online
        procedure.is_essential = entry.is_essential
        procedure.result_type = entry.result_type
        procedure.legal_basis = entry.legal_basis
        procedure.conditions = entry.conditions
        procedure.save()
        if current is None or set(current.agencies) != set(entry.agencies):
            procedure.agencies.set([agencies[c] for c in entry.agencies])
        path: tuple[str | int, ...] = ("procedures", index)
        if current is None or current.fees != entry.fees:
            _sync_rows(
                list(procedure.fee_cases.all()) if current else [],
                [
                    {"description": f.description, "amount": f.amount, "legal_basis": f.legal_basis}
                    for f in entry.fees
                ],
                partial(FeeCase, procedure=procedure),
                (*path, "fees"),
            )
        if current is None or current.documents != entry.documents:
            _sync_rows(
                list(procedure.documents.all()) if current else [],
                [
                    {
                        "name": d.name,
                        "originals": d.originals,
                        "copies": d.copies,
                        "is_required": d.required,
                        "form_template": d.form_template,
                    }
                    for d in entry.documents
                ],
                partial(DocumentRequirement, procedure=procedure),
                (*path, "documents"),
            )
        if current is None or current.workflow != entry.workflow:
            _sync_rows(
                list(procedure.workflow_steps.all()) if current else [],
                [
                    {
                        "name": s.name,
                        "role": s.role,
                        "department_code": s.department,
                        "share_percent": s.share_percent,
                    }
                    for s in entry.workflow
                ],
                partial(WorkflowStep, procedure=procedure),
                (*path, "workflow"),
            )
        after = _procedure_state(
            procedure, entry, [agencies[c].pk for c in entry.agencies], changed_children
        )
        audit_record(
            actor=actor,
            action="procedure.create" if current is None else "procedure.update",
            obj=procedure,
            before=before,
            after=after,
            source=source,
        )
        if current is None:
            created += 1
        else:
            updated += 1
    return created, updated, unchanged


def _bundle_state(bundle: ProcedureBundle, entry: BundleEntry) -> dict[str, Any]:
    return {
        **snapshot(bundle, BUNDLE_FIELDS),
        "parts": [f"{p.procedure} ({p.agency_kind})" for p in entry.parts],
    }


def _write_bundles(
    entries: list[BundleEntry], *, actor: User | None, source: str
) -> tuple[int, int]:
    created = updated = 0
    existing = {
        b.code: b
        for b in ProcedureBundle.objects.filter(
            code__in=[e.code for e in entries]
        ).prefetch_related("parts__procedure")
    }
    procedures = {
        p.code: p
        for p in Procedure.objects.filter(
            code__in={part.procedure for e in entries for part in e.parts}
        )
    }
    for index, entry in enumerate(entries):
        bundle = existing.get(entry.code)
        current = bundle_entry(bundle) if bundle is not None else None
        if current == entry:
            continue
        before = _bundle_state(bundle, current) if bundle is not None and current else None
        if bundle is None:
            bundle = ProcedureBundle(code=entry.code)
        bundle.name = entry.name
        bundle.description = entry.description
        bundle.save()
        if current is None or current.parts != entry.parts:
            _sync_rows(
                list(bundle.parts.all()) if current else [],
                [
                    {"procedure": procedures[p.procedure], "agency_kind": p.agency_kind}
                    for p in entry.parts
                ],
                partial(BundlePart, bundle=bundle),
                ("bundles", index, "parts"),
            )
        audit_record(
            actor=actor,
            action="bundle.create" if current is None else "bundle.update",
            obj=bundle,
            before=before,
            after=_bundle_state(bundle, entry),
            source=source,
        )
        if current is None:
            created += 1
        else:
            updated += 1
    return created, updated


# --- import -----------------------------------------------------------------------------------


def _error_dict(error: EntryError | excel.SheetError) -> dict[str, Any]:
    if isinstance(error, excel.SheetError):
        return error.as_dict()
    return {"path": error.location, "message": error.message, "text": str(error)}


def _failure(errors: Sequence[EntryError | excel.SheetError]) -> ValidationFailed:
    first = str(errors[0])
    more = len(errors) - 1
    message = (
        ngettext(
            "%(first)s (and %(count)d more error)",
            "%(first)s (and %(count)d more errors)",
            more,
        )
        % {"first": first, "count": more}
        if more
        else first
    )
    return ValidationFailed(message, errors=[_error_dict(e) for e in errors])


def _known(document: Any) -> Known:
    return Known(
        fields=frozenset(
            Field.objects.filter(code__in=referenced_fields(document)).values_list(
                "code", flat=True
            )
        ),
        agencies=frozenset(Agency.objects.values_list("code", flat=True)),
        procedures=frozenset(
            Procedure.objects.filter(code__in=referenced_procedures(document)).values_list(
                "code", flat=True
            )
        ),
    )


def _import(
    *,
    actor: User | None,
    document: Any,
    source: str,
    locate: Callable[[EntryError], EntryError | excel.SheetError],
) -> ImportResult:
    clean, errors = validate_document(document, _known(document))
    if errors:
        raise _failure([locate(e) for e in errors])
    try:
        fields_created, fields_updated = _write_fields(clean.fields, actor=actor, source=source)
        created, updated, unchanged = _write_procedures(
            clean.procedures, actor=actor, source=source
        )
        bundles_created, bundles_updated = _write_bundles(clean.bundles, actor=actor, source=source)
    except _Refused as refused:
        raise _failure([locate(refused.error)]) from refused
    return ImportResult(
        created=created,
        updated=updated,
        unchanged=unchanged,
        fields_created=fields_created,
        fields_updated=fields_updated,
        bundles_created=bundles_created,
        bundles_updated=bundles_updated,
    )


@transaction.atomic
def catalog_import(*, actor: User | None, document: dict, source: str = "web") -> ImportResult:
    """Import a catalog document (docs/formats.md): all of it, or nothing when any entry is
    bad (ValidationFailed, with every error in `details["errors"]`). Administrators only."""
    require_admin(actor)
    return _import(actor=actor, document=document, source=source, locate=lambda e: e)


@transaction.atomic
def catalog_import_excel(
    *, actor: User | None, file: BinaryIO | bytes | str, source: str = "web"
) -> ImportResult:
    """Import the Excel form of the catalog (docs/formats.md, "Procedure catalog (Excel)");
    errors name the sheet and the row (`fees, row 14: amount must be …`)."""
    require_admin(actor)
    workbook = excel.read_workbook(file)
    if workbook.errors:
        raise _failure(workbook.errors)
    return _import(actor=actor, document=workbook.document, source=source, locate=workbook.locate)


# --- export -----------------------------------------------------------------------------------


def catalog_export_document() -> dict[str, Any]:
    """The whole catalog as a document that `catalog_import` reads back unchanged."""
    bundles = ProcedureBundle.objects.order_by("code").prefetch_related("parts__procedure")
    return {
        "format": FORMAT,
        "fields": [{"code": f.code, "name": f.name} for f in Field.objects.order_by("code")],
        "procedures": [
            procedure_json(procedure_entry(p))
            for p in with_children(Procedure.objects.order_by("code"))
        ],
        "bundles": [
            {
                "code": b.code,
                "name": b.name,
                "description": b.description,
                "parts": [
                    {"procedure": p.procedure.code, "agency_kind": p.agency_kind}
                    for p in b.parts.all()
                ],
            }
            for b in bundles
        ],
    }


def catalog_export_excel() -> bytes:
    """The whole catalog as an .xlsx workbook that `catalog_import_excel` reads back."""
    return excel.write_workbook(catalog_export_document())


__all__ = [
    "ImportResult",
    "catalog_export_document",
    "catalog_export_excel",
    "catalog_import",
    "catalog_import_excel",
    "format_vnd",
]
