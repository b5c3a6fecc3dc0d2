"""A per-process cache of the parts of a procedure that every dossier transition reads: its
fee cases and its workflow steps. Submitting and receiving a dossier read them once per
request otherwise (three queries per submission and reception).

An entry lives `TINHSO_CATALOG_CACHE_SECONDS` (default 30 s; 0 turns it off) and this
process forgets every entry when a procedure, fee case or workflow step is saved or deleted;
other processes see a catalog change within that time (the catalog changes a few times a
year, by import or by the administrator). Callers must treat the returned rows as read-only."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from tinhso.catalog.models import FeeCase, Procedure, WorkflowStep

_entries: dict[tuple[str, int], tuple[float, tuple[Any, ...]]] = {}
_lock = threading.Lock()


def _cached(kind: str, procedure_id: int, load: Any) -> tuple[Any, ...]:
    ttl = settings.TINHSO_CATALOG_CACHE_SECONDS
    if ttl <= 0:
        return tuple(load())
    now = time.monotonic()
    entry = _entries.get((kind, procedure_id))
    if entry is not None and now - entry[0] < ttl:
        return entry[1]
    rows = tuple(load())
    with _lock:
        _entries[(kind, procedure_id)] = (now, rows)
    return rows


def fee_cases(procedure_id: int) -> tuple[FeeCase, ...]:
    """The procedure's fee cases in their order (position, then id)."""
    return _cached(
        "fees",
        procedure_id,
        lambda: FeeCase.objects.filter(procedure_id=procedure_id).order_by("position", "pk"),
    )


def workflow_steps(procedure_id: int) -> tuple[WorkflowStep, ...]:
    """The procedure's workflow steps in their order."""
    return _cached(
        "steps",
        procedure_id,
        lambda: WorkflowStep.objects.filter(procedure_id=procedure_id).order_by("position"),
    )


def forget(**_: Any) -> None:
    """Drop every entry (a procedure, fee case or step changed in this process; tests)."""
    with _lock:
        _entries.clear()


for _model in (Procedure, FeeCase, WorkflowStep):
    post_save.connect(forget, sender=_model, dispatch_uid=f"catalog-cache-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"catalog-cache-del-{_model.__name__}")
