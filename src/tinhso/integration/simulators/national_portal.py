"""A simulator of the national public-service portal's synchronisation services.

`POST /sim/national-portal/<service>` takes our JSON (docs/integration.md), stores it once
per `Idempotency-Key` (a repeat answers 409 and stores nothing), and answers 503 while the
switch says it is down and 500 for each of the next `fail_next` calls.
`GET /sim/national-portal/TraCuuHoSo?code=…` returns what it holds for a dossier."""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tinhso.integration import simulators
from tinhso.integration.adapters.national_portal import (
    CATALOG_SERVICE,
    CREATE_SERVICE,
    PROGRESS_SERVICE,
)
from tinhso.integration.models import SimulatorRecord, SimulatorSwitch

SIMULATOR = "national_portal"
SERVICES = {CREATE_SERVICE, PROGRESS_SERVICE, CATALOG_SERVICE}


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _missing(payload: dict, service: str) -> str | None:
    if payload.get("service") != service:
        return "service"
    if service == CREATE_SERVICE and not (payload.get("dossier") or {}).get("code"):
        return "dossier.code"
    if service == PROGRESS_SERVICE and not payload.get("dossier_code"):
        return "dossier_code"
    if service == CATALOG_SERVICE and not (payload.get("procedure") or {}).get("code"):
        return "procedure.code"
    return None


@csrf_exempt
@require_POST
def receive(request: HttpRequest, service: str) -> JsonResponse:
    if service not in SERVICES:
        return _error(404, "unknown_service", f"no service {service}")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return _error(400, "bad_json", "the body is not JSON")
    if not isinstance(payload, dict) or (field := _missing(payload, service)):
        return _error(400, "invalid", f"missing or wrong field: {field or 'body'}")
    key = request.headers.get("Idempotency-Key", "")
    with transaction.atomic():
        # The switch row, locked, serialises the simulator's calls (duplicates, fail_next).
        simulators.switch(SIMULATOR)
        state = SimulatorSwitch.objects.select_for_update().get(simulator=SIMULATOR)
        if state.down_until is not None and state.down_until > simulators.now():
            return _error(503, "unavailable", "the portal is down (simulated)")
        if state.fail_next > 0:
            state.fail_next -= 1
            state.save(update_fields=["fail_next"])
            return _error(500, "internal_error", "the portal failed (simulated)")
        if (
            key
            and SimulatorRecord.objects.filter(simulator=SIMULATOR, idempotency_key=key).exists()
        ):
            return _error(409, "duplicate", f"already received {key}")
        record = SimulatorRecord.objects.create(
            simulator=SIMULATOR,
            service=service,
            idempotency_key=key,
            received_at=simulators.now(),
            payload=payload,
        )
    if settings.TINHSO_SIMULATOR_DELAY_SECONDS:
        time.sleep(settings.TINHSO_SIMULATOR_DELAY_SECONDS)  # a slow partner, on purpose
    return JsonResponse({"status": "ok", "id": record.pk})


@require_GET
def lookup(request: HttpRequest) -> JsonResponse:
    """`TraCuuHoSo`: the dossier as pushed, and its progress in the order received."""
    code = request.GET.get("code", "")
    records = SimulatorRecord.objects.filter(simulator=SIMULATOR).filter(
        Q(service=CREATE_SERVICE, payload__dossier__code=code)
        | Q(service=PROGRESS_SERVICE, payload__dossier_code=code)
    )
    if not code or not records:
        return _error(404, "not_found", f"no dossier {code}")
    created = [r.payload for r in records if r.service == CREATE_SERVICE]
    return JsonResponse(
        {
            "code": code,
            "dossier": created[0]["dossier"] if created else None,
            "progress": [
                r.payload["progress"] | {"seq": r.payload["seq"]}
                for r in records
                if r.service == PROGRESS_SERVICE
            ],
            "received": [r.payload for r in records],
        }
    )


app_name = "national_portal"
urlpatterns = [
    path("TraCuuHoSo", lookup, name="lookup"),
    path("<str:service>", receive, name="receive"),
]
