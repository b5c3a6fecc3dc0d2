"""The JSON API: one NinjaAPI that mounts every app's router and maps `DomainError` to
`{"code", "message"}` with its status code."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from tinhso.catalog.api import router as catalog_router
from tinhso.core.api import router as core_router
from tinhso.core.errors import DomainError
from tinhso.dossiers.api import router as dossiers_router

api = NinjaAPI(
    title="Tỉnh Số API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, **exc.details}, status=exc.status
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": _("Sign in or present valid credentials.")},
        status=401,
    )


api.add_router("/v1", core_router)
api.add_router("/v1", catalog_router)
api.add_router("/v1", dossiers_router)
