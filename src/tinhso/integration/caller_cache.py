"""A per-process cache of the callers behind API keys: the key, its client and the technical
official with its agency, unit, roles and scope, so that a busy integration does not pay five
queries per request to learn who it is.

An entry lives `TINHSO_API_KEY_CACHE_SECONDS` (default 5 s; 0 turns the cache off) and is
dropped at once, in this process, when a key, client, official or role assignment is saved
or deleted. Another worker process notices a revocation, a deactivation or a change of roles
within that time at most; an expiry (`expires_at`, the rotation's overlap) is checked on every
request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from tinhso.core.models import RoleAssignment, User
from tinhso.core.scoping import scope_of
from tinhso.integration.clients import InvalidApiKey, api_key_check, hash_key, technical_username
from tinhso.integration.models import ApiClient, ApiKey


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    user: User
    until: float


_callers: dict[str, Caller] = {}
_lock = threading.Lock()


def api_caller(plaintext: str) -> tuple[ApiKey, User]:
    """The live key matching `plaintext` and the official its client acts as, or
    `InvalidApiKey`."""
    ttl = settings.TINHSO_API_KEY_CACHE_SECONDS
    digest = hash_key(plaintext) if ttl > 0 else ""
    cached = _callers.get(digest) if digest else None
    if cached is not None and cached.until > time.monotonic():
        expires_at = cached.key.expires_at
        if expires_at is None or expires_at > timezone.now():
            return cached.key, cached.user
    key = api_key_check(plaintext)
    try:
        user = User.objects.select_related("agency__unit").get(
            username=technical_username(key.client)
        )
    except User.DoesNotExist as exc:
        raise InvalidApiKey() from exc
    scope_of(user)  # loads and keeps the roles and the scope on the object
    if digest:
        with _lock:
            _callers[digest] = Caller(key, user, time.monotonic() + ttl)
    return key, user


def forget_callers(**_: Any) -> None:
    """Drop every cached caller (a key, client, official or role changed in this process)."""
    with _lock:
        _callers.clear()


for _model in (ApiKey, ApiClient, User, RoleAssignment):
    post_save.connect(forget_callers, sender=_model, dispatch_uid=f"api-callers-{_model.__name__}")
    post_delete.connect(
        forget_callers, sender=_model, dispatch_uid=f"api-callers-del-{_model.__name__}"
    )
