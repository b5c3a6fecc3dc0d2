"""Django admin for reference data. Every save through the admin writes an audit record;
the audit trail itself is read-only here (no add, change or delete)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AuditRecord,
    CalendarOverride,
    Department,
    ProvinceCalendar,
    RoleAssignment,
    User,
)
from tinhso.core.scoping import scope


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes in the admin leave the same audit trail as the services."""

    def _fields(self, obj: Any) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if f.name not in {"password", "id"}]

    def get_queryset(self, request: HttpRequest) -> Any:
        return scope(super().get_queryset(request), request.user)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = self._fields(obj)
        before = None
        if change:
            before = snapshot(type(obj)._default_manager.get(pk=obj.pk), fields)
        super().save_model(request, obj, form, change)
        label = obj._meta.model_name
        audit_record(
            actor=request.user,
            action=f"{label}.{'update' if change else 'create'}",
            obj=obj,
            before=before,
            after=snapshot(obj, fields),
            source="admin",
        )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            before=snapshot(obj, self._fields(obj)),
            source="admin",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "division_type", "parent", "valid_until")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    filter_horizontal = ("successors",)


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "unit", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "short_name")
    raw_id_fields = ("unit", "parent")
    inlines = [DepartmentInline]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "agency", "is_one_stop_desk")
    search_fields = ("code", "name", "agency__name")
    raw_id_fields = ("agency",)


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ("username", "full_name", "kind", "agency", "is_active")
    list_filter = ("kind", "is_active", "roles__role")
    search_fields = ("username", "full_name", "email", "personal_id")
    raw_id_fields = ("agency", "department")
    inlines = [RoleInline]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Tỉnh Số"),
            {
                "fields": (
                    "kind",
                    "full_name",
                    "position",
                    "phone",
                    "agency",
                    "department",
                    "personal_id",
                    "tax_code",
                )
            },
        ),
    )


@admin.register(ProvinceCalendar)
class ProvinceCalendarAdmin(AuditedAdmin):
    list_display = ("province", "office_hours")


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(AuditedAdmin):
    list_display = ("date", "kind", "reason", "province")
    list_filter = ("kind",)


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_repr", "source")
    list_filter = ("action", "source")
    search_fields = ("actor_label", "object_repr", "action", "object_id")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> Any:
        return scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
