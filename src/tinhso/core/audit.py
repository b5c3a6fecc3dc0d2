"""Writing the audit trail. Services call `audit_record` inside their transaction, so the
change and its record commit (or roll back) together."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from tinhso.core.models import AuditRecord, User
from tinhso.core.scoping import ScopeFields

SYSTEM_LABEL = "system"


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-ready values of `fields` on `obj` (foreign keys as their ids)."""
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        if isinstance(value, date | datetime | time):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        result[name] = value
    return result


def _follow(obj: Any, lookup: str) -> Any:
    value = obj
    for part in lookup.split("__"):
        if value is None:
            return None
        value = value.pk if part == "pk" else getattr(value, part)
    return value


def scope_values(obj: models.Model) -> tuple[int | None, str]:
    """The agency id and unit path an object hangs on, as its model's `scope_fields` say."""
    fields: ScopeFields = getattr(type(obj), "scope_fields", ScopeFields())
    agency_lookup = fields.agency if isinstance(fields.agency, str | None) else fields.agency[0]
    unit_lookup = (
        fields.unit_path if isinstance(fields.unit_path, str | None) else fields.unit_path[0]
    )
    agency = _follow(obj, agency_lookup) if agency_lookup else None
    agency_id = agency.pk if isinstance(agency, models.Model) else agency
    unit_path = (_follow(obj, unit_lookup) or "") if unit_lookup else ""
    return agency_id, unit_path


def actor_label(actor: User | None, fallback: str = SYSTEM_LABEL) -> str:
    if actor is None:
        return fallback
    return f"{actor.get_username()} ({actor.full_name})" if actor.full_name else actor.username


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    source: str = "web",
    label: str | None = None,
) -> AuditRecord:
    """Append one audit row for `action` on `obj` by `actor` (None for the system)."""
    agency_id, unit_path = scope_values(obj)
    return AuditRecord.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=label or actor_label(actor),
        action=action,
        object_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        before=before,
        after=after,
        agency_id=agency_id,
        unit_path=unit_path,
        source=source,
    )
