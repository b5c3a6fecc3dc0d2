"""The log of inbound API requests made with a key: client, key prefix, method, endpoint,
status and duration. The endpoint is the route pattern (`/api/v1/dossiers/{code}`), never the
path, so no dossier code, identification number or query string is stored."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse

from tinhso.integration.clients import key_prefix
from tinhso.integration.models import ApiRequestLog

logger = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"
UNMATCHED = "(unmatched)"
_PATH_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_pattern(request: HttpRequest) -> str:
    """`/api/v1/dossiers/{code}` for a request to `/api/v1/dossiers/HS-…`."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED
    return "/" + _PATH_PARAMETER.sub(r"{\1}", match.route)


class ApiRequestLogMiddleware:
    """Writes one `ApiRequestLog` row per API request that presents a key (valid or not).
    Sits right after `AuthenticationMiddleware`; a failed write never fails the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = settings.TINHSO_API_KEY_HEADER

    def __call__(self, request: HttpRequest) -> HttpResponse:
        presented = request.headers.get(self.header)
        if not presented or not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000)
        try:
            with transaction.atomic():
                ApiRequestLog.objects.create(
                    client=getattr(request, "api_client", None),
                    key_prefix=getattr(request, "api_key_prefix", None)
                    or key_prefix(presented)
                    or "",
                    method=(request.method or "")[:10],
                    endpoint=route_pattern(request)[:255],
                    status=response.status_code,
                    duration_ms=duration_ms,
                )
        except DatabaseError:
            logger.exception("could not write the API request log")
        return response
