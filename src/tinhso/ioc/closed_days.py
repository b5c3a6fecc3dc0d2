"""A per-process cache of rollup sums over closed days.

A dossier event adds to the rollup row of its own day, so the rows of the days before today
no longer change: a dashboard's sums over a period that started before today are the sums
of its closed days (read once, then kept) plus today's rows (read on every request). Only
the replay of past events changes a closed day — `tinhso ioc rebuild`, an import, the demo
loader — and so does a change to the catalog (the sums of the fully online procedures use
today's catalog).

Each of those bumps a generation in its own process, at once and again when its transaction
commits; the generation is part of the cache key. Another process sees such a change when its
entry expires, after `TINHSO_IOC_CLOSED_DAYS_CACHE_SECONDS` (default 300; 0 turns the cache
off). An event committed just after midnight for the day before (a transaction open across
midnight) is likewise seen after that time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from tinhso.catalog.models import Procedure

MAX_ENTRIES = 1024

_generation = 0
_entries: dict[tuple[Any, ...], tuple[float, Any]] = {}
_lock = threading.Lock()


def today() -> date:
    """The first day whose rows may still change (the local date now)."""
    return timezone.localdate()


def _bump() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def changed(day: date | None = None) -> None:
    """Closed days' rows (or, with `day`, the rows of `day`) were written: forget the sums,
    now and when the transaction commits (a sum read meanwhile saw the rows before it)."""
    if day is not None and day >= today():
        return
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def forget(**_: Any) -> None:
    """Drop every entry (tests; a catalog change in this process)."""
    _bump()


# The sums of the fully online procedures read today's catalog: a procedure saved in this
# process drops them.
post_save.connect(forget, sender=Procedure, dispatch_uid="ioc-closed-days-procedure")
post_delete.connect(forget, sender=Procedure, dispatch_uid="ioc-closed-days-procedure-del")


def cached(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()` for `key` over closed days, kept for the configured time."""
    ttl = settings.TINHSO_IOC_CLOSED_DAYS_CACHE_SECONDS
    if ttl <= 0:
        return compute()
    full_key = (_generation, *key)
    now = time.monotonic()
    entry = _entries.get(full_key)
    if entry is not None and now - entry[0] < ttl:
        return entry[1]
    generation = _generation
    value = compute()
    with _lock:
        if generation == _generation:  # nothing was written meanwhile
            if len(_entries) >= MAX_ENTRIES:
                _entries.pop(next(iter(_entries)))
            _entries[full_key] = (now, value)
    return value
