"""The national public-service portal (Cổng Dịch vụ công quốc gia), as provinces integrate
with it: `DongBoHoSoMC` pushes a new dossier, `CapNhatTienDoHoSoMC` each later step of its
processing, `DongBoTTHC` a procedure of the catalog. We speak our own documented JSON
(docs/integration.md#national-public-service-portal); this module is the one place that
maps our dossiers and procedures to it.

Messages leave through the outbox: `on_dossier_event` runs inside the transition's
transaction and enqueues one message per dossier event, ordered per dossier and keyed
`national_portal:<code>:<seq>` so the portal can drop a repeat."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tinhso.catalog import cache as catalog_cache
from tinhso.catalog.models import Procedure
from tinhso.core.models import User
from tinhso.core.services import require_admin
from tinhso.dossiers.models import DocumentKind, Dossier, DossierEvent, StepVisit
from tinhso.dossiers.states import Action
from tinhso.integration import outbox
from tinhso.integration.models import OutboxMessage

ADAPTER = "national_portal"
SCHEMA_VERSION = 1
CREATE_SERVICE = "DongBoHoSoMC"
PROGRESS_SERVICE = "CapNhatTienDoHoSoMC"
CATALOG_SERVICE = "DongBoTTHC"
LOOKUP_SERVICE = "TraCuuHoSo"

#: `transport(url, body, headers, timeout) -> (status, response body)`; raises `OSError`
#: (timeouts included) when no HTTP answer came back.
Transport = Callable[[str, bytes, dict[str, str], float], tuple[int, bytes]]


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in the province's time (+07:00), whatever the database handed back."""
    return timezone.localtime(value).isoformat() if value is not None else None


# --- mapping ----------------------------------------------------------------------------------


def _agency(agency: Any) -> dict[str, str]:
    return {"code": agency.code, "name": agency.name}


def dossier_created(event: DossierEvent) -> dict[str, Any]:
    """`DongBoHoSoMC`: the dossier as submitted."""
    d: Dossier = event.dossier
    procedure = d.procedure
    return {
        "service": CREATE_SERVICE,
        "version": SCHEMA_VERSION,
        "province_code": settings.TINHSO_PROVINCE_CODE,
        "seq": event.seq,
        "dossier": {
            "code": d.code,
            "procedure": {"code": procedure.code, "name": procedure.name},
            "agency": _agency(d.agency),
            "channel": d.channel,
            "owner": {
                "kind": d.applicant_kind,
                "name": d.applicant_name,
                "id_number": d.applicant_id_number,
                "phone": d.applicant_phone,
                "email": d.applicant_email,
                "address": d.applicant_address,
            },
            "submitted_at": _iso(d.submitted_at),
            "received_at": _iso(d.received_at),
            "appointment_at": _iso(d.due_at),
            "status": d.status,
            "documents": [
                {
                    "name": doc.name,
                    "requirement": doc.requirement.name if doc.requirement_id else None,
                    "digitised": doc.is_digitised,
                    "reused": doc.is_reused,
                    "sha256": doc.sha256 or None,
                }
                for doc in _input_documents(event)
            ],
            "fees": [
                {"description": fee.description, "amount": fee.amount}
                for fee in catalog_cache.fee_cases(procedure.pk)
            ],
        },
    }


def _input_documents(event: DossierEvent) -> Any:
    """The submitted documents; none to read when the submission event counted none."""
    if (event.data or {}).get("documents") == 0:
        return []
    return event.dossier.documents.filter(kind=DocumentKind.INPUT).select_related("requirement")


def _step_started_at(event: DossierEvent) -> datetime | None:
    """When the dossier entered its current step: at this event when the event entered it
    (its data names the step), else the open step visit's start."""
    if "step" in (event.data or {}):
        return event.at
    d = event.dossier
    visit = (
        StepVisit.objects.filter(dossier=d, left_at__isnull=True).order_by("-entered_at").first()
    )
    return visit.entered_at if visit is not None else None


def dossier_progressed(event: DossierEvent) -> dict[str, Any]:
    """`CapNhatTienDoHoSoMC`: one processing step (any status change after submission)."""
    d: Dossier = event.dossier
    actor = event.actor
    step = d.current_step
    return {
        "service": PROGRESS_SERVICE,
        "version": SCHEMA_VERSION,
        "province_code": settings.TINHSO_PROVINCE_CODE,
        "seq": event.seq,
        "dossier_code": d.code,
        "progress": {
            "action": event.action,
            "actor": (actor.full_name or actor.username) if actor is not None else "",
            "actor_label": event.actor_label,
            "step_title": step.name if step is not None else str(Action(event.action).label),
            "at": _iso(event.at),
            "agency": _agency(event.agency),
            "department": d.department.name if d.department_id else None,
            "content": event.reason,
            "from_status": event.from_status,
            "status": event.to_status,
            "step_started_at": _iso(_step_started_at(event) if step is not None else None),
            "step_due_at": _iso(d.step_due_at),
            "appointment_at": _iso(d.due_at),
        },
    }


def map_event(event: DossierEvent) -> dict[str, Any]:
    if event.action == Action.SUBMIT:
        return dossier_created(event)
    return dossier_progressed(event)


def procedure_payload(procedure: Procedure) -> dict[str, Any]:
    """`DongBoTTHC`: one procedure of the catalog as we apply it."""
    return {
        "service": CATALOG_SERVICE,
        "version": SCHEMA_VERSION,
        "province_code": settings.TINHSO_PROVINCE_CODE,
        "procedure": {
            "code": procedure.code,
            "name": procedure.name,
            "field": {"code": procedure.field.code, "name": procedure.field.name},
            "level": procedure.level,
            "processing_days": str(procedure.processing_days),
            "online": procedure.online,
            "result": procedure.result_type,
            "in_force": procedure.is_active,
            "documents": [
                {
                    "name": r.name,
                    "originals": r.originals,
                    "copies": r.copies,
                    "required": r.is_required,
                }
                for r in procedure.documents.order_by("position", "pk")
            ],
            "fees": [
                {"description": f.description, "amount": f.amount}
                for f in procedure.fee_cases.order_by("position", "pk")
            ],
            "updated_at": _iso(procedure.updated_at),
        },
    }


# --- enqueueing -------------------------------------------------------------------------------


def on_dossier_event(event: DossierEvent) -> None:
    """In-transaction dossier hook: one outbox message per event."""
    code = event.dossier.code
    payload = map_event(event)
    outbox.enqueue(
        adapter=ADAPTER,
        topic="dossier.created" if payload["service"] == CREATE_SERVICE else "dossier.progress",
        payload=payload,
        ordering_key=f"dossier:{code}",
        idempotency_key=f"{ADAPTER}:{code}:{event.seq}",
    )


@transaction.atomic
def push_catalog(*, actor: User | None = None) -> int:
    """Queue every procedure whose current version the portal has not been sent yet;
    returns how many were queued."""
    require_admin(actor)
    queued = 0
    procedures = Procedure.objects.select_related("field").order_by("code")
    for procedure in procedures:
        key = f"{ADAPTER}:tthc:{procedure.code}:{procedure.updated_at:%Y%m%d%H%M%S%f}"
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            continue
        outbox.enqueue(
            adapter=ADAPTER,
            topic="catalog",
            payload=procedure_payload(procedure),
            ordering_key=f"procedure:{procedure.code}",
            idempotency_key=key,
        )
        queued += 1
    return queued


# --- delivering -------------------------------------------------------------------------------


def urllib_transport(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise reason if isinstance(reason, OSError) else OSError(str(reason)) from exc


_transport: Transport = urllib_transport


def set_transport(transport: Transport | None) -> Transport:
    """Swap how requests reach the portal (tests route them to the Django test client);
    `None` restores HTTP. Returns the previous transport."""
    global _transport
    previous = _transport
    _transport = transport or urllib_transport
    return previous


def deliver(message: OutboxMessage) -> None:
    service = message.payload["service"]
    url = f"{settings.TINHSO_NATIONAL_PORTAL_URL.rstrip('/')}/{service}"
    body = json.dumps(message.payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": message.idempotency_key,
    }
    try:
        status, answer = _transport(url, body, headers, settings.TINHSO_NATIONAL_PORTAL_TIMEOUT)
    except OSError as exc:  # refused, reset, timed out
        raise outbox.DeliveryFailed(
            f"{service}: {exc.__class__.__name__}: {exc}", retryable=True
        ) from exc
    if 200 <= status < 300 or status == 409:  # 409: the portal already has this message
        if message.topic == "dossier.created":
            code = message.ordering_key.removeprefix("dossier:")
            Dossier.objects.filter(code=code, portal_synced_at__isnull=True).update(
                portal_synced_at=timezone.now()
            )
        return
    detail = f"{service}: HTTP {status} {answer[:500].decode(errors='replace')}"
    raise outbox.DeliveryFailed(detail, retryable=status >= 500 or status in (408, 429))


def register() -> None:
    from tinhso.dossiers import hooks

    outbox.register_adapter(ADAPTER, deliver)
    hooks.register_in_transaction(on_dossier_event)
