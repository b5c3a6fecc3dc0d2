"""Sign-in of citizens and businesses with the national e-ID: `/eid/signin/` sends the browser
to the provider, `/eid/callback` receives the code, `/eid/signout/` ends the session."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tinhso.eid import oidc, services

logger = logging.getLogger(__name__)

#: Session key holding the sign-in attempts under way, by state.
PENDING_KEY = "eid_pending"
#: Session key holding the last ID token (the hint for the provider's logout).
ID_TOKEN_KEY = "eid_id_token"
#: How many attempts (tabs) may be under way at once, and for how long one stays valid.
MAX_PENDING = 5
PENDING_SECONDS = 600
BACKEND = "django.contrib.auth.backends.ModelBackend"


def default_next() -> str:
    """The citizen portal when it is mounted, the site root otherwise."""
    try:
        resolve("/portal/")
    except Resolver404:
        return "/"
    return "/portal/"


def safe_next(candidate: str | None) -> str:
    """`candidate` if it is a same-site relative path, else the default landing page."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and candidate.isprintable()
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=set())
    ):
        return candidate
    return default_next()


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("eid:callback"))


def _refuse(request: HttpRequest, error: oidc.EidError) -> HttpResponse:
    logger.warning("e-ID sign-in refused: %s %s", error.reason, error.details)
    return render(request, "eid/error.html", {"error": error}, status=error.status)


@never_cache
@require_GET
def signin(request: HttpRequest) -> HttpResponse:
    try:
        auth = oidc.authorization_request(redirect_uri=_redirect_uri(request))
    except oidc.EidError as exc:
        return _refuse(request, exc)
    now = time.time()
    pending = {
        state: attempt
        for state, attempt in request.session.get(PENDING_KEY, {}).items()
        if now - attempt.get("at", 0) < PENDING_SECONDS
    }
    pending[auth.state] = {
        "nonce": auth.nonce,
        "verifier": auth.code_verifier,
        "next": safe_next(request.GET.get("next")),
        "at": now,
    }
    # Keep the newest few: an abandoned attempt must not grow the session forever.
    request.session[PENDING_KEY] = dict(
        sorted(pending.items(), key=lambda item: item[1]["at"])[-MAX_PENDING:]
    )
    return HttpResponseRedirect(auth.url)


def _take_attempt(request: HttpRequest) -> dict | None:
    """The attempt this callback's `state` names, removed from the session (one use only)."""
    state = request.GET.get("state", "")
    pending = request.session.get(PENDING_KEY, {})
    attempt = pending.pop(state, None) if state else None
    request.session[PENDING_KEY] = pending
    if attempt is None or time.time() - attempt.get("at", 0) >= PENDING_SECONDS:
        return None
    return attempt


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    attempt = _take_attempt(request)
    if attempt is None:
        return _refuse(request, oidc.EidError("bad_state"))
    if request.GET.get("error"):
        return _refuse(request, oidc.EidError("provider_error", error=request.GET["error"]))
    code = request.GET.get("code", "")
    if not code:
        return _refuse(request, oidc.EidError("no_code"))
    try:
        tokens = oidc.exchange_code(
            code=code, redirect_uri=_redirect_uri(request), code_verifier=attempt["verifier"]
        )
        claims = oidc.validate_id_token(tokens["id_token"], nonce=attempt["nonce"])
        user = services.citizen_sign_in(claims=claims, issuer=oidc.issuer())
    except oidc.EidError as exc:
        return _refuse(request, exc)
    login(request, user, backend=BACKEND)
    request.session.set_expiry(settings.TINHSO_CITIZEN_SESSION_SECONDS)
    request.session[ID_TOKEN_KEY] = tokens["id_token"]
    return HttpResponseRedirect(safe_next(attempt.get("next")))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    id_token = request.session.get(ID_TOKEN_KEY)
    logout(request)
    landing = request.build_absolute_uri(default_next())
    if id_token:
        url = oidc.end_session_url(post_logout_redirect_uri=landing, id_token_hint=id_token)
        if url:
            return HttpResponseRedirect(url)
    return HttpResponseRedirect(landing)
