"""The URLconf of the GovStack port (`tinhso govstack serve --port 3333`): the building
block's router at `/`, as GovStack's test suite and an Information Mediator security server
call it. There is no key or session here: the security server in front has authenticated
the calling member, and the `Information-Mediator-Client` header names it (a registered API
client with the `govstack` scope). Every request is written to the API request log with
that client."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from tinhso.core.errors import DomainError
from tinhso.govstack.api import build_router
from tinhso.integration.models import ApiRequestLog
from tinhso.integration.request_log import route_pattern

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Tỉnh Số — GovStack Registration building block",
    version="0.1.1",
    urls_namespace="govstack_standalone",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, **exc.details}, status=exc.status
    )


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "bad_request", "message": str(exc.errors)}, status=400
    )


def standalone(run: Callable[..., Any]) -> Callable[..., Any]:
    """Marks the request as coming through the GovStack port and logs it."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.govstack_standalone = True  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = run(request, *args, **kwargs)
        try:
            with transaction.atomic():
                ApiRequestLog.objects.create(
                    client=getattr(request, "api_client", None),
                    key_prefix="",
                    method=(request.method or "")[:10],
                    endpoint=route_pattern(request)[:255],
                    status=response.status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                )
        except DatabaseError:
            logger.exception("could not write the API request log")
        return response

    return wrapper


api.add_decorator(standalone, mode="view")
api.add_router("/", build_router())

urlpatterns = [path("", api.urls)]
