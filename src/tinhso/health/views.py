"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

#: A worker whose last heartbeat is older than this is not counted as alive.
HEARTBEAT_MAX_AGE_SECONDS = 60


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _worker() -> tuple[bool, dict[str, object]]:
    from tinhso.integration.models import WorkerHeartbeat

    last = WorkerHeartbeat.objects.aggregate(last=Max("beat_at"))["last"]
    if last is None:
        age = None
        state = "no worker"
    else:
        age = max(0, int((timezone.now() - last).total_seconds()))
        state = "ok" if age < HEARTBEAT_MAX_AGE_SECONDS else "stale"
    # Without a required worker (a demo, a web-only node) its absence is reported, not fatal.
    ok = state == "ok" or not settings.TINHSO_REQUIRE_WORKER
    return ok, {"status": state, "last_beat_age_seconds": age}


def _outbox() -> tuple[bool, dict[str, object]]:
    from tinhso.integration.models import MessageState, OutboxMessage

    now = timezone.now()
    counts = OutboxMessage.objects.aggregate(
        due=Count("id", filter=Q(state=MessageState.PENDING, next_attempt_at__lte=now)),
        dead=Count("id", filter=Q(state=MessageState.DEAD)),
    )
    backlog = counts["due"] + counts["dead"]
    ok = backlog <= settings.TINHSO_OUTBOX_BACKLOG_LIMIT
    oldest = (
        OutboxMessage.objects.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return ok, {
        "status": "ok" if ok else "backlog",
        "due": counts["due"],
        "dead": counts["dead"],
        "limit": settings.TINHSO_OUTBOX_BACKLOG_LIMIT,
        "oldest_due_age_seconds": (
            int((now - oldest).total_seconds()) if oldest is not None else None
        ),
    }


def ready(request: HttpRequest) -> JsonResponse:
    checks: dict[str, object] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    if ok:
        for name, check in (("worker", _worker), ("outbox", _outbox)):
            try:
                passed, detail = check()
            except Exception as exc:
                passed, detail = False, {"status": f"error: {exc.__class__.__name__}"}
            checks[name] = detail
            ok = ok and passed
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )
