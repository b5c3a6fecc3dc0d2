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


def _key(client_id: int, window: int) -> str:
    return f"tinhso:api-rate:{client_id}:{window}"


def rate_limit_hit(client_id: int, limit: int, *, now: float | None = None) -> int | None:
    """Count one request of the client. None when it is within `limit` for the current
    minute; otherwise the seconds until the next minute starts (for `Retry-After`)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    cache = caches[CACHE_ALIAS]
    key = _key(client_id, window)
    # `add` then `incr` is atomic on shared caches; the counter outlives its window a little.
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
