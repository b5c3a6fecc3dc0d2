"""Export: one JSON line per dossier with its documents, step visits and events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Min, Prefetch
from django.utils import timezone

from tinhso.core.models import Department, User
from tinhso.dossiers.legacy._common import (
    BATCH_SIZE,
    FORMAT,
)
from tinhso.dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    StepVisit,
)

# --- export ---------------------------------------------------------------------------------


def _instant(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _username(user: User | None) -> str | None:
    return None if user is None else user.get_username()


def _department(department: Department | None) -> dict[str, str] | None:
    if department is None:
        return None
    return {"agency": department.agency.code, "code": department.code}


def dossier_record(dossier: Dossier, bundle_key: str | None = None) -> dict[str, Any]:
    """One dossier as its JSON Lines record (children must be prefetched in order)."""
    bundle = None
    if dossier.bundle is not None:
        bundle = {
            "procedure_bundle": dossier.bundle.procedure_bundle.code,
            "key": bundle_key or dossier.code,
            "created_at": _instant(dossier.bundle.created_at),
        }
    return {
        "format": FORMAT,
        "code": dossier.code,
        "procedure": dossier.procedure.code,
        "agency": dossier.agency.code,
        "transfer_agency": dossier.transfer_agency.code if dossier.transfer_agency else None,
        "channel": dossier.channel,
        "status": dossier.status,
        "resume_status": dossier.resume_status,
        "applicant": {
            "kind": dossier.applicant_kind,
            "name": dossier.applicant_name,
            "id_number": dossier.applicant_id_number,
            "phone": dossier.applicant_phone,
            "email": dossier.applicant_email,
            "address": dossier.applicant_address,
        },
        "owner": _username(dossier.owner),
        "note": dossier.note,
        "submitted_at": _instant(dossier.submitted_at),
        "received_at": _instant(dossier.received_at),
        "budget_seconds": dossier.budget_seconds,
        "consumed_seconds": dossier.consumed_seconds,
        "clock_running": dossier.clock_running,
        "clock_resumed_at": _instant(dossier.clock_resumed_at),
        "due_at": _instant(dossier.due_at),
        "original_due_at": _instant(dossier.original_due_at),
        "apology_count": dossier.apology_count,
        "supplement_count": dossier.supplement_count,
        "supplement_seconds": dossier.supplement_seconds,
        "current_step": dossier.current_step.position if dossier.current_step else None,
        "step_due_at": _instant(dossier.step_due_at),
        "department": _department(dossier.department),
        "assignee": _username(dossier.assignee),
        "outcome": dossier.outcome,
        "result_summary": dossier.result_summary,
        "processed_at": _instant(dossier.processed_at),
        "returned_at": _instant(dossier.returned_at),
        "return_method": dossier.return_method,
        "ended_at": _instant(dossier.ended_at),
        "timeliness": dossier.timeliness,
        "bundle": bundle,
        "documents": [
            {
                "kind": doc.kind,
                "name": doc.name,
                "requirement": doc.requirement.position if doc.requirement else None,
                "sha256": doc.sha256,
                "size": doc.size,
                "content_type": doc.content_type,
                "is_digitised": doc.is_digitised,
                "is_reused": doc.is_reused,
                "file": doc.file.name or None,
                "verified_by": _username(doc.verified_by),
                "created_at": _instant(doc.created_at),
            }
            for doc in dossier.documents.all()
        ],
        "step_visits": [
            {
                "step": visit.step.position,
                "agency": visit.agency.code,
                "department": _department(visit.department),
                "assignee": _username(visit.assignee),
                "entered_at": _instant(visit.entered_at),
                "due_at": _instant(visit.due_at),
                "left_at": _instant(visit.left_at),
            }
            for visit in dossier.step_visits.all()
        ],
        "events": [
            {
                "seq": event.seq,
                "at": _instant(event.at),
                "actor": _username(event.actor),
                "actor_label": event.actor_label,
                "agency": event.agency.code,
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason": event.reason,
                "data": event.data,
            }
            for event in dossier.events.all()
        ],
    }


def _bundle_keys(dossiers: models.QuerySet[Dossier]) -> dict[int, str]:
    """A submission's key is the smallest code among all its dossiers (also those outside
    the export), so every part of it carries the same key."""
    bundle_ids = dossiers.filter(bundle__isnull=False).values("bundle_id")
    rows = (
        Dossier.objects.filter(bundle_id__in=bundle_ids)
        .order_by()
        .values("bundle_id")
        .annotate(key=Min("code"))
    )
    return {row["bundle_id"]: row["key"] for row in rows}


def export_dossiers(stream: IO[str], queryset: models.QuerySet[Dossier] | None = None) -> int:
    """Write `queryset` (every dossier by default) to `stream` as JSON Lines sorted by code;
    return how many dossiers were written."""
    base = queryset if queryset is not None else Dossier.objects.all()
    keys = _bundle_keys(base)
    dossiers = (
        base.order_by("code")
        .select_related(
            "procedure",
            "agency",
            "transfer_agency",
            "owner",
            "current_step",
            "department__agency",
            "assignee",
            "bundle__procedure_bundle",
        )
        .prefetch_related(
            Prefetch(
                "documents",
                DossierDocument.objects.select_related("requirement", "verified_by").order_by("pk"),
            ),
            Prefetch(
                "step_visits",
                StepVisit.objects.select_related(
                    "step", "agency", "department__agency", "assignee"
                ).order_by("entered_at", "pk"),
            ),
            Prefetch(
                "events", DossierEvent.objects.select_related("actor", "agency").order_by("seq")
            ),
        )
    )
    count = 0
    for dossier in dossiers.iterator(chunk_size=BATCH_SIZE):
        record = dossier_record(dossier, keys.get(dossier.bundle_id or 0))
        stream.write(json.dumps(record, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n")
        count += 1
    return count
