"""Authentication of other systems by API key (django-ninja), with the scope check and the
rate limit.

A valid key makes the request act as the client's technical official (`api:<name>`):
`request.user` is that official, so the existing selectors and services keep applying the
administrative scope of the client's agency and the roles given to it. `request.api_client`
and `request.api_key_prefix` tell the request log which client called."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader

from tinhso.core.errors import OutOfScope
from tinhso.integration.caller_cache import api_caller
from tinhso.integration.clients import RateLimited, required_scope
from tinhso.integration.models import ApiClient
from tinhso.integration.ratelimit import rate_limit_hit

_NO_OPERATION = object()


def mark_operation_scope(run: Callable[..., Any]) -> Callable[..., Any]:
    """A ninja "view" decorator (`api.add_decorator(..., mode="view")`): it wraps each
    operation's `run`, which ninja calls before authentication, and notes on the request the
    scope the operation needs, from its router tags and the HTTP method."""
    operation = getattr(run, "__self__", None)
    tags = list(getattr(operation, "tags", None) or [])

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.api_required_scope = required_scope(tags, request.method or "GET")  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return wrapper


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: tsk_<prefix>_<secret>` (the header name is `TINHSO_API_KEY_HEADER`)."""

    def __init__(self) -> None:
        self.param_name = settings.TINHSO_API_KEY_HEADER
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiClient | None:
        if not key:
            return None  # no key: let the next method (the session) try
        api_key, user = api_caller(key)
        client = api_key.client
        request.api_client = client  # type: ignore[attr-defined]
        request.api_key_prefix = api_key.prefix  # type: ignore[attr-defined]
        retry_after = rate_limit_hit(client.pk, client.rate_limit_per_minute)
        if retry_after is not None:
            raise RateLimited(retry_after)
        scope = getattr(request, "api_required_scope", _NO_OPERATION)
        if scope is _NO_OPERATION or scope is None or scope not in client.scopes:
            raise OutOfScope(_("The API client has no scope for this endpoint."), scope=scope)
        request.user = user
        return client
