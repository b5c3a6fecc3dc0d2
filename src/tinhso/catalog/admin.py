"""Django admin for the procedure catalog. Saves leave audit records (`AuditedAdmin`); a
change to a procedure's fees, documents or workflow made in its inlines is recorded too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from tinhso.catalog.entries import (
    document_lines,
    fee_lines,
    procedure_entry,
    step_lines,
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
from tinhso.core.admin import AuditedAdmin
from tinhso.core.audit import audit_record


class CatalogAdmin(AuditedAdmin):
    """The catalog is public reference data: every staff member with the model permission
    sees all of it (the administrative scope does not apply)."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return admin.ModelAdmin.get_queryset(self, request)


@admin.register(Field)
class FieldAdmin(CatalogAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class FeeCaseInline(admin.TabularInline):
    model = FeeCase
    extra = 0


class DocumentRequirementInline(admin.TabularInline):
    model = DocumentRequirement
    extra = 0


class WorkflowStepInline(admin.TabularInline):
    model = WorkflowStep
    extra = 0


def _children(procedure: Procedure) -> dict[str, list[str]]:
    entry = procedure_entry(procedure)
    return {
        "fees": fee_lines(entry.fees),
        "required_documents": document_lines(entry.documents),
        "workflow": step_lines(entry.workflow),
    }


@admin.register(Procedure)
class ProcedureAdmin(CatalogAdmin):
    list_display = ("code", "name", "field", "level", "processing_days", "online", "is_active")
    list_filter = ("level", "online", "is_essential", "is_active", "field")
    search_fields = ("code", "name")
    filter_horizontal = ("agencies",)
    inlines = [FeeCaseInline, DocumentRequirementInline, WorkflowStepInline]

    @transaction.atomic
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        procedure = form.instance
        before = _children(procedure) if change else None
        super().save_related(request, form, formsets, change)
        after = _children(procedure)
        if change and before != after:
            changed = [k for k in after if before is None or before[k] != after[k]]
            audit_record(
                actor=request.user,
                action="procedure.update",
                obj=procedure,
                before={k: before[k] for k in changed} if before else None,
                after={k: after[k] for k in changed},
                source="admin",
            )


class BundlePartInline(admin.TabularInline):
    model = BundlePart
    extra = 0
    raw_id_fields = ("procedure",)


@admin.register(ProcedureBundle)
class ProcedureBundleAdmin(CatalogAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [BundlePartInline]
