"""How an audit record reads to a person: the action in words, and each changed field with
its label and its value before and after (related rows by name, roles by their labels)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tinhso.core.models import AuditRecord, Role

ACTION_LABELS: dict[str, Any] = {
    "create": _("created"),
    "update": _("changed"),
    "delete": _("deleted"),
    "import": _("imported"),
    "retire": _("retired"),
    "roles": _("roles changed"),
    "activate": _("activated"),
    "deactivate": _("deactivated"),
    "successors": _("successors recorded"),
    "override_add": _("calendar override saved"),
    "override_remove": _("calendar override removed"),
    "office_hours": _("office hours changed"),
}
SOURCE_LABELS: dict[str, Any] = {
    "web": _("web"),
    "api": _("API"),
    "cli": _("command line"),
    "admin": _("administration"),
    "demo": _("demo data"),
    "task": _("background task"),
}
#: Labels of names a record carries beside the model's fields: `"name"` for any model, or
#: `"app_label.model.name"` for one model (apps add theirs in `ready()`).
EXTRA_FIELD_LABELS: dict[str, Any] = {
    "roles": _("roles"),
    "successors": _("successors"),
    "is_active": _("active"),
    "office_hours": _("office hours"),
}
#: The words for the values of such names, keyed the same way: value -> label.
EXTRA_FIELD_CHOICES: dict[str, dict[str, Any]] = {}

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def action_label(record: AuditRecord) -> str:
    verb = record.action.rsplit(".", 1)[-1]
    return str(ACTION_LABELS.get(verb, record.action))


def source_label(record: AuditRecord) -> str:
    return str(SOURCE_LABELS.get(record.source, record.source))


def _extra_key(model: type[models.Model] | None, name: str, registry: dict[str, Any]) -> str:
    if model is not None and f"{model._meta.label_lower}.{name}" in registry:
        return f"{model._meta.label_lower}.{name}"
    return name


def _moment(value: str) -> str | None:
    """A recorded ISO date-time as people read it, in local time; None if it is not one."""
    if not _ISO_DATETIME.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "d/m/Y H:i")


def _display(model: type[models.Model] | None, name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    choices = EXTRA_FIELD_CHOICES.get(_extra_key(model, name, EXTRA_FIELD_CHOICES))
    if choices is not None and isinstance(value, str) and value in choices:
        return str(choices[value])
    if name == "roles" and isinstance(value, list):
        labels = ", ".join(str(Role(v).label) if v in Role.values else str(v) for v in value)
        return labels or "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_display(model, name, item) for item in value) or "—"
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None and field.is_relation and field.related_model is not None:
            related = field.related_model._default_manager.filter(pk=value).first()
            return str(related) if related is not None else f"#{value}"
        if field is not None and getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return moment
    return str(value)


def _label(model: type[models.Model] | None, name: str) -> str:
    key = _extra_key(model, name, EXTRA_FIELD_LABELS)
    if key in EXTRA_FIELD_LABELS:
        return str(EXTRA_FIELD_LABELS[key])
    if model is not None:
        try:
            return str(getattr(model._meta.get_field(name), "verbose_name", name))
        except FieldDoesNotExist:
            pass
    return name.replace("_", " ")


def field_changes(record: AuditRecord) -> list[FieldChange]:
    """The fields whose value differs between before and after (all of them on creation)."""
    model = record.object_type.model_class()
    before = record.before or {}
    after = record.after or {}
    changes = []
    for name in list(dict.fromkeys([*before, *after])):
        old, new = before.get(name), after.get(name)
        if record.before is not None and record.after is not None and old == new:
            continue
        changes.append(
            FieldChange(
                capfirst(_label(model, name)),
                _display(model, name, old),
                _display(model, name, new),
            )
        )
    return changes
