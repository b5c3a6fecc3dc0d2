"""The catalog's rows read back as document entries (`document.ProcedureEntry` …): what the
import compares with the file, what the export writes, and the one-line summaries of fees,
documents and steps that audit records keep."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from tinhso.catalog.document import (
    BundleEntry,
    DocumentEntry,
    FeeEntry,
    PartEntry,
    ProcedureEntry,
    StepEntry,
    decimal_text,
)
from tinhso.catalog.models import Procedure, ProcedureBundle


def format_vnd(amount: int) -> str:
    """`100000` → `100.000 đ` (Vietnamese digit grouping)."""
    return f"{amount:,}".replace(",", ".") + " đ"


def _fee_entries(procedure: Procedure) -> tuple[FeeEntry, ...]:
    return tuple(
        FeeEntry(description=f.description, amount=f.amount, legal_basis=f.legal_basis)
        for f in procedure.fee_cases.all()
    )


def _document_entries(procedure: Procedure) -> tuple[DocumentEntry, ...]:
    return tuple(
        DocumentEntry(
            name=d.name,
            originals=d.originals,
            copies=d.copies,
            required=d.is_required,
            form_template=d.form_template,
        )
        for d in procedure.documents.all()
    )


def _step_entries(procedure: Procedure) -> tuple[StepEntry, ...]:
    return tuple(
        StepEntry(
            name=s.name, role=s.role, department=s.department_code, share_percent=s.share_percent
        )
        for s in procedure.workflow_steps.all()
    )


def procedure_entry(procedure: Procedure) -> ProcedureEntry:
    """The procedure as the document would describe it (children prefetched or not)."""
    return ProcedureEntry(
        code=procedure.code,
        name=procedure.name,
        field=procedure.field.code,
        level=procedure.level,
        processing_days=procedure.processing_days,
        agency_kinds=tuple(procedure.agency_kinds or ()),
        agencies=tuple(sorted(a.code for a in procedure.agencies.all())),
        online=procedure.online,
        is_essential=procedure.is_essential,
        result_type=procedure.result_type,
        legal_basis=procedure.legal_basis,
        conditions=procedure.conditions,
        fees=_fee_entries(procedure),
        documents=_document_entries(procedure),
        workflow=_step_entries(procedure),
    )


def bundle_entry(bundle: ProcedureBundle) -> BundleEntry:
    return BundleEntry(
        code=bundle.code,
        name=bundle.name,
        description=bundle.description,
        parts=tuple(
            PartEntry(procedure=p.procedure.code, agency_kind=p.agency_kind)
            for p in bundle.parts.all()
        ),
    )


def procedure_json(entry: ProcedureEntry) -> dict[str, Any]:
    return {
        "code": entry.code,
        "name": entry.name,
        "field": entry.field,
        "level": entry.level,
        "agency_kinds": list(entry.agency_kinds),
        "agencies": list(entry.agencies),
        "processing_days": decimal_text(entry.processing_days),
        "online": entry.online,
        "is_essential": entry.is_essential,
        "result_type": entry.result_type,
        "legal_basis": entry.legal_basis,
        "conditions": entry.conditions,
        "fees": [
            {"description": f.description, "amount": f.amount, "legal_basis": f.legal_basis}
            for f in entry.fees
        ],
        "documents": [
            {
                "name": d.name,
                "originals": d.originals,
                "copies": d.copies,
                "required": d.required,
                "form_template": d.form_template,
            }
            for d in entry.documents
        ],
        "workflow": [
            {
                "name": s.name,
                "role": s.role,
                "department": s.department,
                "share_percent": decimal_text(s.share_percent),
            }
            for s in entry.workflow
        ],
    }


def with_children(queryset: models.QuerySet[Procedure]) -> models.QuerySet[Procedure]:
    return queryset.select_related("field").prefetch_related(
        "fee_cases", "documents", "workflow_steps", "agencies"
    )


def fee_lines(fees: Iterable[FeeEntry]) -> list[str]:
    return [f"{f.description}: {format_vnd(f.amount)}" for f in fees]


def document_lines(documents: Iterable[DocumentEntry]) -> list[str]:
    return [f"{d.name} ({d.originals}/{d.copies})" for d in documents]


def step_lines(steps: Iterable[StepEntry]) -> list[str]:
    return [
        f"{s.name} [{s.role}{'/' + s.department if s.department else ''}] "
        f"{decimal_text(s.share_percent)}%"
        for s in steps
    ]
