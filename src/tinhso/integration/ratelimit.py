"""Requests per minute per API client: a fixed one-minute window counted in Django's cache.

The default cache (LocMemCache) is per process, so each web worker counts on its own and a
client may get up to `workers × limit` requests a minute. Production sets a cache shared by
all workers (Redis, Memcached or the database cache) in `CACHES`; nothing here changes."""

from __future__ import annotations

import math
import time

from django.core.cache import caches

WINDOW_SECONDS = 60
CACHE_ALIAS = "default"


def _key(scope: str, ident: object, window: int) -> str:
    return f"tinhso:{scope}:{ident}:{window}"


def window_add(scope: str, ident: object, *, now: float | None = None) -> tuple[int, int]:
    """Count one more event of `ident` (a client, an address) in the current minute of
    `scope`: (the count so far, seconds until the next minute starts)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    cache = caches[CACHE_ALIAS]
    key = _key(scope, ident, window)
    # `add` then `incr` is atomic on shared caches; the counter outlives its window a little.
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def rate_limit_hit(client_id: int, limit: int, *, now: float | None = None) -> int | None:
    """Count one request of the client. None when it is within `limit` for the current
    minute; otherwise the seconds until the next minute starts (for `Retry-After`)."""
    count, retry_after = window_add("api-rate", client_id, now=now)
    return None if count <= limit else retry_after
