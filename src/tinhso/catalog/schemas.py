from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class FieldOut(Schema):
    code: str
    name: str


class FieldWithCountOut(FieldOut):
    procedure_count: int


class ProcedureOut(Schema):
    code: str
    name: str
    field: FieldOut
    level: str
    processing_days: Decimal
    online: str
    is_essential: bool
    has_fees: bool
    updated_at: datetime


class FeeOut(Schema):
    description: str
    amount: int
    legal_basis: str


class DocumentOut(Schema):
    name: str
    originals: int
    copies: int
    required: bool
    form_template: str

    @staticmethod
    def resolve_required(obj: Any) -> bool:
        return obj.is_required


class StepOut(Schema):
    position: int
    name: str
    role: str
    department: str
    share_percent: Decimal

    @staticmethod
    def resolve_department(obj: Any) -> str:
        return obj.department_code


class ProcedureDetailOut(ProcedureOut):
    agency_kinds: list[str]
    agencies: list[str]
    result_type: str
    legal_basis: str
    conditions: str
    is_active: bool
    fees: list[FeeOut]
    documents: list[DocumentOut]
    workflow: list[StepOut]

    @staticmethod
    def resolve_agencies(obj: Any) -> list[str]:
        return sorted(a.code for a in obj.agencies.all())

    @staticmethod
    def resolve_fees(obj: Any) -> list[Any]:
        return list(obj.fee_cases.all())

    @staticmethod
    def resolve_documents(obj: Any) -> list[Any]:
        return list(obj.documents.all())

    @staticmethod
    def resolve_workflow(obj: Any) -> list[Any]:
        return list(obj.workflow_steps.all())


class CatalogDocumentIn(Schema):
    """The catalog document of docs/formats.md. Its entries are checked by the import itself,
    which names each bad entry by its path, so the shape here is deliberately loose."""

    model_config = ConfigDict(extra="allow")

    format: str | None = None
    fields: Any = None
    procedures: Any = None
    bundles: Any = None


class ImportResultOut(Schema):
    created: int
    updated: int
    unchanged: int
    fields_created: int
    fields_updated: int
    bundles_created: int
    bundles_updated: int
