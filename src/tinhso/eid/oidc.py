"""The OpenID Connect client for the national e-ID: discovery, the authorization request with
PKCE (S256), the code exchange and the ID-token checks. No views and no models here: the views
keep the per-attempt state in the session and call these functions.

Every HTTP call goes through a swappable transport (`set_transport`), so tests route the
back channel to Django's test client and run without a network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import extract_compact

from tinhso.core.errors import DomainError

#: The only signature algorithm accepted on ID tokens ("none" and HMAC never are).
ID_TOKEN_ALGORITHMS = ["RS256"]
#: Clock skew tolerated on `exp` and `iat`, in seconds.
LEEWAY_SECONDS = 60
#: How long a discovery document is reused before it is fetched again.
DISCOVERY_TTL_SECONDS = 3600

#: `transport(method, url, body, headers, timeout) -> (status, response body)`; raises
#: `OSError` when the provider cannot be reached.
Transport = Callable[[str, str, bytes | None, dict[str, str], float], tuple[int, bytes]]


class EidError(DomainError):
    """Signing in with the e-ID failed; nothing was signed in. `reason` is a stable code for
    logs and tests; `message` is shown to the person."""

    code = "eid_refused"
    status = 400
    default_message = _("Signing in with the national e-ID did not succeed. Please try again.")

    def __init__(self, reason: str, message: str | None = None, **details: object) -> None:
        self.reason = reason
        super().__init__(message, **details)


class EidUnavailable(EidError):
    code = "eid_unavailable"
    status = 502
    default_message = _(
        "The national e-ID service cannot be reached at the moment. Please try again later."
    )


def urllib_transport(
    method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from exc


_transport: Transport = urllib_transport


def set_transport(transport: Transport | None) -> Transport:
    """Use `transport` for the calls to the provider (None: back to urllib); returns the
    previous one."""
    global _transport
    previous = _transport
    _transport = transport or urllib_transport
    return previous


def _call(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    all_headers = {"Accept": "application/json", **(headers or {})}
    try:
        status, raw = _transport(method, url, body, all_headers, settings.TINHSO_EID_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise EidUnavailable("unreachable", url=url, error=str(exc)) from exc
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        data = None
    return status, data


def _get_json(url: str) -> dict[str, Any]:
    status, data = _call("GET", url)
    if status != 200 or not isinstance(data, dict):
        raise EidUnavailable("bad_response", url=url, status=status)
    return data


# --- discovery and keys ------------------------------------------------------------------------


@dataclass
class _Cache:
    discovery: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, dict[str, RSAKey]] = field(default_factory=dict)  # jwks_uri → kid → key
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache = _Cache()


def clear_cache() -> None:
    """Forget discovery documents and keys (tests; after a provider's configuration changes)."""
    with _cache.lock:
        _cache.discovery.clear()
        _cache.keys.clear()


def issuer() -> str:
    return settings.TINHSO_EID_ISSUER.rstrip("/")


def discovery(issuer_url: str | None = None) -> dict[str, Any]:
    """The provider's discovery document (cached for an hour). Its `issuer` must be exactly the
    configured one (OpenID Connect Discovery §4.3)."""
    issuer_url = (issuer_url or issuer()).rstrip("/")
    now = time.monotonic()
    with _cache.lock:
        cached = _cache.discovery.get(issuer_url)
    if cached and now - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    document = _get_json(f"{issuer_url}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer_url:
        raise EidUnavailable("discovery_issuer_mismatch", found=document.get("issuer"))
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str):
            raise EidUnavailable("discovery_incomplete", missing=name)
    with _cache.lock:
        _cache.discovery[issuer_url] = (now, document)
    return document


def _fetch_keys(jwks_uri: str) -> dict[str, RSAKey]:
    data = _get_json(jwks_uri)
    keys: dict[str, RSAKey] = {}
    for entry in data.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry["kid"]] = RSAKey.import_key(entry)
        except (JoseError, ValueError):
            continue
    with _cache.lock:
        _cache.keys[jwks_uri] = keys
    return keys


def signing_key(jwks_uri: str, kid: str) -> RSAKey:
    """The provider's public key `kid`. An unknown `kid` fetches the key set again once, so a
    key the provider has rotated in is picked up without a restart."""
    with _cache.lock:
        key = _cache.keys.get(jwks_uri, {}).get(kid)
    if key is None:
        key = _fetch_keys(jwks_uri).get(kid)
    if key is None:
        raise EidError("unknown_key", kid=kid)
    return key


# --- the authorization request -----------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of `verifier` (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


def authorization_request(*, redirect_uri: str) -> AuthorizationRequest:
    """A fresh state, nonce and PKCE verifier, and the provider URL to send the browser to."""
    endpoint = discovery()["authorization_endpoint"]
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43–128
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.TINHSO_EID_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": settings.TINHSO_EID_SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in endpoint else "?"
    return AuthorizationRequest(
        url=f"{endpoint}{separator}{query}", state=state, nonce=nonce, code_verifier=verifier
    )


# --- the code exchange and the ID token --------------------------------------------------------


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
    """Redeem `code` at the token endpoint; the token response (with `id_token`)."""
    document = discovery()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    client_id = settings.TINHSO_EID_CLIENT_ID
    secret = settings.TINHSO_EID_CLIENT_SECRET
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in methods:
        # RFC 6749 §2.3.1: both parts form-encoded before the Basic encoding.
        pair = f"{urlencode({'a': client_id})[2:]}:{urlencode({'a': secret})[2:]}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        form.update({"client_id": client_id, "client_secret": secret})
    status, data = _call(
        "POST", document["token_endpoint"], body=urlencode(form).encode(), headers=headers
    )
    if status != 200 or not isinstance(data, dict):
        error = data.get("error") if isinstance(data, dict) else None
        raise EidError("token_refused", status=status, error=error)
    if not isinstance(data.get("id_token"), str):
        raise EidError("no_id_token")
    return data


def validate_id_token(token: str, *, nonce: str, now: int | None = None) -> dict[str, Any]:
    """The claims of `token` once its signature (against the provider's JWKS), issuer,
    audience, expiry, issue time and nonce are checked; `EidError` otherwise."""
    document = discovery()
    try:
        header = extract_compact(token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeEncodeError) as exc:
        raise EidError("malformed_id_token") from exc
    if header.get("alg") not in ID_TOKEN_ALGORITHMS:
        raise EidError("bad_algorithm", alg=header.get("alg"))
    key = signing_key(document["jwks_uri"], str(header.get("kid", "")))
    try:
        decoded = jwt.decode(token, KeySet([key]), algorithms=ID_TOKEN_ALGORITHMS)
    except JoseError as exc:
        raise EidError("bad_signature") from exc
    claims = dict(decoded.claims)
    client_id = settings.TINHSO_EID_CLIENT_ID
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": document["issuer"]},
        sub={"essential": True},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise EidError(f"bad_claim:{getattr(exc, 'claim', '') or exc.error}") from exc
    # Core §3.1.3.7: with several audiences, the token must name us as its authorized party.
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise EidError("bad_claim:azp")
    if not secrets.compare_digest(str(claims["nonce"]), nonce):
        raise EidError("bad_claim:nonce")
    return claims


def end_session_url(*, post_logout_redirect_uri: str, id_token_hint: str | None) -> str | None:
    """The provider's logout URL (RP-initiated logout), or None when it has none or cannot be
    reached (signing out here must not depend on the provider)."""
    try:
        endpoint = discovery().get("end_session_endpoint")
    except EidError:
        return None
    if not isinstance(endpoint, str) or not endpoint:
        return None
    params = {
        "client_id": settings.TINHSO_EID_CLIENT_ID,
        "post_logout_redirect_uri": post_logout_redirect_uri,
    }
    if id_token_hint:
        params["id_token_hint"] = id_token_hint
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
