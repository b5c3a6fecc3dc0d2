"""The JSON API: one NinjaAPI that mounts every app's router and maps `DomainError` to
`{"code", "message"}` with its status code.

Callers authenticate with a session (people) or an API key (other systems, see
`tinhso.integration.auth`). The key is tried first: a key travels in a header, which another
site cannot make a browser send, so a keyed request needs no CSRF check, while the session
check would refuse a keyed POST that carries no CSRF token."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from tinhso.catalog.api import router as catalog_router
from tinhso.core.api import router as core_router
from tinhso.core.errors import DomainError
from tinhso.dossiers.api import router as dossiers_router
from tinhso.integration.auth import ApiKeyAuth, mark_operation_scope
from tinhso.integration.clients import RateLimited
from tinhso.payments.api import router as payments_router

api = NinjaAPI(
    title="Tỉnh Số API",
    version="1",
    urls_namespace="api",
    auth=[ApiKeyAuth(), django_auth],
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, **exc.details}, status=exc.status
    )


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = domain_error(request, exc)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": _("Sign in or present valid credentials.")},
        status=401,
    )


# Before the routers: notes on each request the scope its operation needs of an API key.
api.add_decorator(mark_operation_scope, mode="view")
api.add_router("/v1", core_router)
api.add_router("/v1", catalog_router)
api.add_router("/v1", dossiers_router)
api.add_router("/v1", payments_router)
api.add_router("/v1", "tinhso.ioc.api.router")
api.add_router("/v1", "tinhso.ioc.alerts_api.router")
api.add_router(settings.TINHSO_GOVSTACK_PREFIX, "tinhso.govstack.api.router")
