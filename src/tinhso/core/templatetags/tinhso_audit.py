from __future__ import annotations

from django import template

from tinhso.core import audit_display
from tinhso.core.models import AuditRecord

register = template.Library()


@register.filter
def audit_action(record: AuditRecord) -> str:
    return audit_display.action_label(record)


@register.filter
def audit_source(record: AuditRecord) -> str:
    return audit_display.source_label(record)


@register.filter
def audit_changes(record: AuditRecord) -> list[audit_display.FieldChange]:
    return audit_display.field_changes(record)
