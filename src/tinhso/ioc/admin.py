"""Django admin of the operations centre's configuration: the service index's groups and rows
(points, thresholds, formulas) and the province's targets. Every save is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tinhso.core.admin import AuditedAdmin
from tinhso.core.errors import DomainError
from tinhso.ioc import indicators, services
from tinhso.ioc.models import IndexGroup, IndexIndicator, ServiceIndex, Target


class ConfigurationAdmin(AuditedAdmin):
    """The index is the province's configuration, not rows of one agency: every staff member
    with the model permission sees all of it (the administrative scope does not apply)."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return admin.ModelAdmin.get_queryset(self, request)


def _formula_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} — {i.name}") for code, i in sorted(indicators.REGISTRY.items())]


class IndexIndicatorForm(forms.ModelForm):
    formula = forms.ChoiceField(choices=_formula_choices)

    class Meta:
        model = IndexIndicator
        fields = (
            "group",
            "code",
            "name",
            "points",
            "threshold",
            "formula",
            "rule",
            "position",
            "is_active",
        )


@admin.register(ServiceIndex)
class ServiceIndexAdmin(ConfigurationAdmin):
    list_display = ("code", "name", "is_active")


@admin.register(IndexGroup)
class IndexGroupAdmin(ConfigurationAdmin):
    list_display = ("index", "code", "name", "max_points", "position")
    list_filter = ("index",)


@admin.register(IndexIndicator)
class IndexIndicatorAdmin(ConfigurationAdmin):
    form = IndexIndicatorForm
    list_display = ("code", "name", "group", "points", "threshold", "formula", "is_active")
    list_filter = ("group__index", "group", "is_active")
    search_fields = ("code", "name", "formula")
    ordering = ("group__index", "group__position", "position")


class TargetForm(forms.ModelForm):
    indicator = forms.ChoiceField(
        choices=lambda: [(c, f"{c} — {i.name}") for c, i in indicators.REGISTRY.items() if i.held]
    )

    class Meta:
        model = Target
        fields = ("province", "indicator", "year", "value", "note")


@admin.register(Target)
class TargetAdmin(ConfigurationAdmin):
    """Targets go through `target_set`, which checks the value against the indicator's unit
    and writes the audit record."""

    form = TargetForm
    list_display = ("province", "year", "indicator", "value", "note", "updated_at")
    list_filter = ("year", "province")
    raw_id_fields = ("province",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = services.target_set(
                actor=request.user,  # type: ignore[arg-type]
                province=obj.province,
                indicator=obj.indicator,
                year=obj.year,
                value=obj.value,
                note=obj.note,
                source="admin",
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.target_delete(actor=request.user, target=obj, source="admin")  # type: ignore[arg-type]
