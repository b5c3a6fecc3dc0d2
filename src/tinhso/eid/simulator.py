"""A stand-in for the national e-ID provider (OpenID Connect, authorization code with PKCE),
for the demo and the tests; mounted at /sim/eid/ only when `TINHSO_SIMULATORS` is on.

It knows one client, the one this deployment is configured with (`TINHSO_EID_CLIENT_ID` and
`_SECRET`), and accepts as redirect URI our own `/eid/callback` on a host this deployment
serves. The person signs in by picking a demo account or typing a 12-digit number and a name;
the simulator checks only the number's format, so the demo can show our own check refusing an
impossible number. Codes are single-use, live 60 s and are bound to the client, the redirect
URI, the PKCE challenge and the nonce; ID tokens are RS256-signed by a key kept in the database
(`SimulatorKey`), so restarts keep it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from joserfc import jwt
from joserfc.jwk import RSAKey

from tinhso.eid.models import SimulatedAuthCode, SimulatorKey
from tinhso.integration import simulators

CODE_SECONDS = 60
ID_TOKEN_SECONDS = 300
ACCESS_TOKEN_SECONDS = 300
#: Characters a PKCE challenge may hold (RFC 7636 §4.2: base64url of a SHA-256, 43 characters).
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: The request parameters carried from the authorization page to its form.
AUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)

CLAIMS_SUPPORTED = [
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
    "name", "personal_id", "tax_code", "phone_number", "email",
]  # fmt: skip

DEMO_ACCOUNTS: list[dict[str, str]] = [
    {
        "name": "Nguyễn Văn An",
        "personal_id": "019090000123",
        "phone_number": "0912345678",
        "email": "an.nguyen@example.vn",
    },
    {
        "name": "Trần Thị Bình",
        "personal_id": "019190000456",
        "phone_number": "0987654321",
        "email": "binh.tran@example.vn",
    },
    {
        "name": "Công ty TNHH Chè Tân Cương Thái Nguyên",
        "tax_code": "4600123456",
        "phone_number": "02083856789",
        "email": "lienhe@chetancuong.example.vn",
    },
]


# --- the signing key -----------------------------------------------------------------------------


def _new_key() -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True
    )


def rotate_key() -> SimulatorKey:
    """Generate a new signing key; tokens are signed with it from now on, and the old keys
    stay in the JWKS so tokens already issued still verify."""
    key = _new_key()
    return SimulatorKey.objects.create(kid=key.kid, private_jwk=key.as_dict(private=True))


def signing_key() -> RSAKey:
    row = SimulatorKey.objects.order_by("-created_at", "-pk").first()
    if row is None:
        try:
            row = rotate_key()
        except IntegrityError:  # another process generated one first
            row = SimulatorKey.objects.order_by("-created_at", "-pk").first()
    assert row is not None
    return RSAKey.import_key(row.private_jwk)


# --- helpers -------------------------------------------------------------------------------------


def _issuer(request: HttpRequest) -> str:
    """The configured e-ID issuer when it points at this simulator's path (so tokens name the
    issuer the client expects, whichever host the call came in on), else this request's URL."""
    own = request.build_absolute_uri(reverse("sim:eid:discovery"))
    own = own.removesuffix("/.well-known/openid-configuration")
    configured = settings.TINHSO_EID_ISSUER.rstrip("/")
    return configured if urlsplit(configured).path == urlsplit(own).path else own


def _served_here(uri: str, *, path_: str | None = None) -> bool:
    """Whether `uri` is an absolute http(s) URL on a host this deployment serves (and on
    `path_`, when given)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    host, _port = split_domain_port(parts.netloc)
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    return path_ is None or parts.path == path_


def _with_query(uri: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _sub(number: str) -> str:
    # A pairwise-looking subject that never shows the identification number itself.
    return "sim-" + hashlib.sha256(f"tinhso-sim-eid:{number}".encode()).hexdigest()[:24]


# --- discovery and keys --------------------------------------------------------------------------


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    issuer = _issuer(request)
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": ["openid", "profile", "email", "phone"],
            "claims_supported": CLAIMS_SUPPORTED,
        }
    )


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    signing_key()  # the first request creates the key
    keys = []
    for row in SimulatorKey.objects.order_by("-created_at", "-pk"):
        public = RSAKey.import_key(row.private_jwk).as_dict(private=False)
        keys.append({**public, "kid": row.kid, "use": "sig", "alg": "RS256"})
    return JsonResponse({"keys": keys})


# --- the authorization endpoint ------------------------------------------------------------------


def _authorization_problem(
    request: HttpRequest, params: dict[str, str]
) -> tuple[HttpResponse | None, str | None]:
    """(a page shown instead of redirecting, an OAuth error to redirect back with); both None
    when the request is acceptable. A wrong client or redirect URI is never redirected to."""
    if params["client_id"] != settings.TINHSO_EID_CLIENT_ID:
        page = render(
            request,
            "eid/sim_problem.html",
            {"problem": "Ứng dụng (client_id) chưa được đăng ký với hệ thống định danh."},
            status=400,
        )
        return page, None
    if not _served_here(params["redirect_uri"], path_=reverse("eid:callback")):
        page = render(
            request,
            "eid/sim_problem.html",
            {"problem": "Địa chỉ chuyển hướng (redirect_uri) không được đăng ký."},
            status=400,
        )
        return page, None
    if params["response_type"] != "code":
        return None, "unsupported_response_type"
    if "openid" not in params["scope"].split():
        return None, "invalid_scope"
    if params["code_challenge_method"] != "S256" or not CHALLENGE_RE.match(
        params["code_challenge"]
    ):
        return None, "invalid_request"
    return None, None


def _claims_for(request: HttpRequest) -> dict[str, str] | str:
    """The identity the person picked, or a message (Vietnamese) saying what is wrong."""
    choice = request.POST.get("account", "")
    if choice.isdigit() and int(choice) < len(DEMO_ACCOUNTS):
        return dict(DEMO_ACCOUNTS[int(choice)])
    number = request.POST.get("personal_id", "").strip()
    name = request.POST.get("name", "").strip()
    if not (len(number) == 12 and number.isascii() and number.isdigit()):
        return "Số định danh cá nhân phải gồm đúng 12 chữ số."
    if not name:
        return "Hãy nhập họ và tên."
    return {"name": name[:150], "personal_id": number}


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    source = request.GET if request.method == "GET" else request.POST
    params = {name: source.get(name, "") for name in AUTH_PARAMS}
    page, error = _authorization_problem(request, params)
    if page is not None:
        return page
    back = {"state": params["state"]} if params["state"] else {}
    if error:
        return HttpResponseRedirect(_with_query(params["redirect_uri"], {"error": error, **back}))
    problem = None
    if request.method == "POST":
        if "cancel" in request.POST:
            return HttpResponseRedirect(
                _with_query(params["redirect_uri"], {"error": "access_denied", **back})
            )
        claims = _claims_for(request)
        if isinstance(claims, dict):
            number = claims.get("personal_id") or claims.get("tax_code") or ""
            code = secrets.token_urlsafe(32)
            SimulatedAuthCode.objects.create(
                code_hash=_hash(code),
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                code_challenge=params["code_challenge"],
                nonce=params["nonce"],
                scope=params["scope"],
                claims={"sub": _sub(number), **claims},
                created_at=simulators.now(),
            )
            return HttpResponseRedirect(_with_query(params["redirect_uri"], {"code": code, **back}))
        problem = claims
    return render(
        request,
        "eid/sim_authorize.html",
        {
            "params": params,
            "accounts": [
                {
                    "index": index,
                    "name": account["name"],
                    "number": account.get("personal_id") or account.get("tax_code", ""),
                    "is_business": "tax_code" in account,
                }
                for index, account in enumerate(DEMO_ACCOUNTS)
            ],
            "problem": problem,
            "typed": {
                "personal_id": request.POST.get("personal_id", ""),
                "name": request.POST.get("name", ""),
            },
        },
        status=400 if problem else 200,
    )


# --- the token endpoint --------------------------------------------------------------------------


def _oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="sim-eid"'
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            return None
        return unquote_plus(client_id), unquote_plus(secret)
    if "client_id" in request.POST and "client_secret" in request.POST:
        return request.POST["client_id"], request.POST["client_secret"]
    return None


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    credentials = _client_credentials(request)
    if credentials is None or not (
        secrets.compare_digest(credentials[0].encode(), settings.TINHSO_EID_CLIENT_ID.encode())
        and secrets.compare_digest(
            credentials[1].encode(), settings.TINHSO_EID_CLIENT_SECRET.encode()
        )
    ):
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    client_id = credentials[0]
    if request.POST.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "Only authorization_code is supported.")
    code = request.POST.get("code", "")
    verifier = request.POST.get("code_verifier", "")
    if not code or not verifier:
        return _oauth_error("invalid_request", "code and code_verifier are required.")

    now = simulators.now()
    row = SimulatedAuthCode.objects.filter(code_hash=_hash(code)).first()
    # Marking the code used in the same statement that checks it makes a replay lose a race.
    if row is None or not SimulatedAuthCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=now
    ):
        return _oauth_error("invalid_grant", "The authorization code is invalid or used.")
    if now - row.created_at > timedelta(seconds=CODE_SECONDS):
        return _oauth_error("invalid_grant", "The authorization code has expired.")
    if row.client_id != client_id or row.redirect_uri != request.POST.get("redirect_uri"):
        return _oauth_error("invalid_grant", "The code was issued to another client or URI.")
    if not verifier.isascii() or not secrets.compare_digest(
        _challenge(verifier), row.code_challenge
    ):
        return _oauth_error("invalid_grant", "The PKCE code verifier does not match.")

    key = signing_key()
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": _issuer(request),
        "aud": client_id,
        "iat": issued,
        "exp": issued + ID_TOKEN_SECONDS,
        "auth_time": int(row.created_at.timestamp()),
        **row.claims,
    }
    if row.nonce:
        claims["nonce"] = row.nonce
    id_token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
    response = JsonResponse(
        {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": row.scope,
            "id_token": id_token,
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


# --- logout --------------------------------------------------------------------------------------


@never_cache
@require_GET
def logout(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout: the simulator keeps no session of its own, so it only sends the
    browser back (to a URI on this deployment) or says it is done."""
    target = request.GET.get("post_logout_redirect_uri", "")
    if target and _served_here(target):
        state = request.GET.get("state")
        return HttpResponseRedirect(_with_query(target, {"state": state}) if state else target)
    return render(request, "eid/sim_logout.html")


app_name = "eid"
urlpatterns = [
    path(".well-known/openid-configuration", discovery, name="discovery"),
    path("jwks", jwks, name="jwks"),
    path("authorize", authorize, name="authorize"),
    path("token", token, name="token"),
    path("logout", logout, name="logout"),
]
