"""Signing in with the national e-ID, end to end against the built-in simulated provider: the
browser side through the test client, the back channel (discovery, JWKS, token) routed to a
second test client by the swappable transport."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from tinhso.core.models import AuditRecord, User, UserKind
from tinhso.eid import oidc, simulator, views
from tinhso.integration import simulators

AN = 0  # Nguyễn Văn An, 019090000123
BINH = 1  # Trần Thị Bình, 019190000456
BUSINESS = 2  # tax code 4600123456


@dataclass
class Provider:
    """The back channel to the simulator, with hooks to tamper with what goes through it."""

    backchannel: Client = field(default_factory=Client)
    calls: list[tuple[str, str, bytes | None, dict[str, str]]] = field(default_factory=list)
    rewrite_token_request: Any = None  # (form dict) -> form dict
    rewrite_token_response: Any = None  # (json dict) -> json dict

    def __call__(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        is_token = parts.path.endswith("/token")
        if is_token and self.rewrite_token_request and body is not None:
            body = urlencode(self.rewrite_token_request(dict(parse_qsl(body.decode())))).encode()
        self.calls.append((method, url, body, headers))
        extra = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "accept")}
        if method == "GET":
            response = self.backchannel.get(target, headers=extra)
        else:
            response = self.backchannel.post(
                target, data=body, content_type=headers["Content-Type"], headers=extra
            )
        content = response.content
        if is_token and self.rewrite_token_response and response.status_code == 200:
            content = json.dumps(self.rewrite_token_response(json.loads(content))).encode()
        return response.status_code, content

    def token_call(self) -> tuple[str, str, bytes | None, dict[str, str]]:
        return next(call for call in self.calls if urlsplit(call[1]).path.endswith("/token"))


@pytest.fixture
def provider(db):
    oidc.clear_cache()
    transport = Provider()
    previous = oidc.set_transport(transport)
    yield transport
    oidc.set_transport(previous)
    oidc.clear_cache()


def authorize(
    client: Client,
    *,
    account: int | None = AN,
    personal_id: str = "",
    name: str = "",
    next_url: str = "/portal/ho-so/",
) -> str:
    """Start signing in and pick an identity at the simulator; the callback URL (path+query)
    the provider sends the browser back to."""
    response = client.get("/eid/signin/", {"next": next_url})
    assert response.status_code == 302
    auth = urlsplit(response["Location"])
    assert auth.path == "/sim/eid/authorize"
    params = dict(parse_qsl(auth.query))
    assert params["code_challenge_method"] == "S256"
    page = client.get(auth.path, params)
    assert page.status_code == 200
    assert "Đăng nhập bằng tài khoản định danh điện tử (mô phỏng)" in page.content.decode()
    choice = (
        {"account": str(account)}
        if account is not None
        else {"personal_id": personal_id, "name": name}
    )
    response = client.post(auth.path, {**params, **choice})
    assert response.status_code == 302, response.content.decode()
    back = urlsplit(response["Location"])
    assert back.path == "/eid/callback"
    return f"{back.path}?{back.query}"


def sign_in(client: Client, **kwargs: Any):
    return client.get(authorize(client, **kwargs))


def signed_in_user(client: Client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def assert_refused(response, client: Client) -> None:
    assert response.status_code == 400
    assert signed_in_user(client) is None
    assert not AuditRecord.objects.filter(action="citizen.signin").exists()


def resign(token: str, key: RSAKey | None = None, kid: str | None = None, **changes: Any) -> str:
    """`token` with its claims changed, signed by `key` (the simulator's own by default)."""
    real = simulator.signing_key()
    claims = {**jwt.decode(token, real).claims, **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    key = key or real
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid}, claims, key)


def with_token(**changes: Any):
    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "id_token": resign(answer["id_token"], **changes)}

    return rewrite


# --- the whole flow ------------------------------------------------------------------------------


def test_full_flow_creates_the_citizen_and_signs_them_in(provider, client):
    response = sign_in(client, account=AN)

    assert response.status_code == 302
    assert response["Location"] == "/portal/ho-so/"
    user = signed_in_user(client)
    assert user is not None
    assert user.kind == UserKind.CITIZEN
    assert user.personal_id == "019090000123"
    assert user.full_name == "Nguyễn Văn An"
    assert user.phone == "0912345678"
    assert user.email == "an.nguyen@example.vn"
    assert not user.has_usable_password()
    record = AuditRecord.objects.get(action="citizen.signin")
    assert record.actor == user
    assert record.after["created"] is True


def test_the_session_expires_after_the_citizen_session_length(provider, client, settings):
    settings.TINHSO_CITIZEN_SESSION_SECONDS = 900
    sign_in(client)
    assert client.session.get_expiry_age() == 900
    assert client.cookies["sessionid"]["max-age"] == 900


def test_second_sign_in_finds_the_same_user_and_refreshes_the_name(provider, client):
    sign_in(client, account=None, personal_id="019090000123", name="Nguyễn Văn Ân")
    first = signed_in_user(client)

    other_browser = Client()
    sign_in(other_browser, account=AN)

    assert signed_in_user(other_browser) == first
    assert User.objects.filter(personal_id="019090000123").count() == 1
    first.refresh_from_db()
    assert first.full_name == "Nguyễn Văn An"
    last = AuditRecord.objects.filter(action="citizen.signin").first()
    assert last.before["full_name"] == "Nguyễn Văn Ân"
    assert last.after["created"] is False


def test_a_business_signs_in_by_tax_code(provider, client):
    sign_in(client, account=BUSINESS)
    user = signed_in_user(client)
    assert user.kind == UserKind.BUSINESS
    assert user.tax_code == "4600123456"
    assert user.personal_id is None
    assert user.full_name == "Công ty TNHH Chè Tân Cương Thái Nguyên"


def test_the_token_request_carries_the_pkce_verifier_and_client_credentials(provider, client):
    sign_in(client)
    _method, _url, body, headers = provider.token_call()
    form = dict(parse_qsl(body.decode()))
    assert form["grant_type"] == "authorization_code"
    assert 43 <= len(form["code_verifier"]) <= 128
    assert headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in form


def test_pkce_challenge_matches_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oidc.pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# --- refusals ------------------------------------------------------------------------------------


def test_wrong_state_is_refused(provider, client):
    url = authorize(client)
    path, query = url.split("?")
    params = dict(parse_qsl(query))
    response = client.get(path, {**params, "state": "forged-state"})
    assert_refused(response, client)
    assert not User.objects.filter(personal_id="019090000123").exists()
    assert not any(urlsplit(call[1]).path.endswith("/token") for call in provider.calls)


def test_missing_state_is_refused(provider, client):
    url = authorize(client)
    params = dict(parse_qsl(url.split("?")[1]))
    response = client.get("/eid/callback", {"code": params["code"]})
    assert_refused(response, client)


def test_a_state_is_used_once(provider, client):
    url = authorize(client)
    assert client.get(url).status_code == 302
    client.post("/eid/signout/")
    assert_refused_again = client.get(url)
    assert assert_refused_again.status_code == 400
    assert signed_in_user(client) is None


def test_an_id_token_signed_with_another_key_is_refused(provider, client):
    simulator.signing_key()
    forger = RSAKey.generate_key(2048, private=True)
    real_kid = simulator.SimulatorKey.objects.get().kid

    def forge(answer):
        return {**answer, "id_token": resign(answer["id_token"], key=forger, kid=real_kid)}

    provider.rewrite_token_response = forge
    assert_refused(sign_in(client), client)


def test_an_id_token_with_an_unknown_key_id_is_refused(provider, client):
    forger = RSAKey.generate_key(2048, private=True, auto_kid=True)

    def forge(answer):
        return {**answer, "id_token": resign(answer["id_token"], key=forger)}

    provider.rewrite_token_response = forge
    assert_refused(sign_in(client), client)


def test_an_unsigned_id_token_is_refused(provider, client):
    def strip(answer):
        header, payload, _sig = answer["id_token"].split(".")
        return {**answer, "id_token": f"{header}.{payload}."}

    provider.rewrite_token_response = strip
    assert_refused(sign_in(client), client)


def test_an_expired_id_token_is_refused(provider, client):
    now = int(time.time())
    provider.rewrite_token_response = with_token(iat=now - 900, exp=now - 300)
    assert_refused(sign_in(client), client)


def test_an_id_token_issued_in_the_future_is_refused(provider, client):
    now = int(time.time())
    provider.rewrite_token_response = with_token(iat=now + 900, exp=now + 1200)
    assert_refused(sign_in(client), client)


def test_an_id_token_for_another_audience_is_refused(provider, client):
    provider.rewrite_token_response = with_token(aud="another-client")
    assert_refused(sign_in(client), client)


def test_an_id_token_from_another_issuer_is_refused(provider, client):
    provider.rewrite_token_response = with_token(iss="https://idp.example/")
    assert_refused(sign_in(client), client)


def test_an_id_token_with_a_wrong_nonce_is_refused(provider, client):
    provider.rewrite_token_response = with_token(nonce="another-nonce")
    assert_refused(sign_in(client), client)


def test_an_id_token_without_a_nonce_is_refused(provider, client):
    provider.rewrite_token_response = with_token(nonce=None)
    assert_refused(sign_in(client), client)


def test_a_replayed_authorization_code_is_refused(provider, client):
    sign_in(client)
    _method, url, body, headers = provider.token_call()

    # The token endpoint itself: the same request again is an invalid grant.
    replay = Client().post(
        urlsplit(url).path,
        data=body,
        content_type=headers["Content-Type"],
        headers={"Authorization": headers["Authorization"]},
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"

    # Through our callback, in another browser with a state of its own: nothing signed in.
    used_code = dict(parse_qsl(body.decode()))["code"]
    attacker = Client()
    state = dict(parse_qsl(urlsplit(attacker.get("/eid/signin/")["Location"]).query))["state"]
    response = attacker.get("/eid/callback", {"code": used_code, "state": state})
    assert response.status_code == 400
    assert signed_in_user(attacker) is None


def test_a_wrong_pkce_verifier_is_refused(provider, client):
    provider.rewrite_token_request = lambda form: {**form, "code_verifier": "x" * 64}
    assert_refused(sign_in(client), client)


def test_an_expired_authorization_code_is_refused(provider, client):
    url = authorize(client)
    later = simulators.now() + timedelta(seconds=simulator.CODE_SECONDS + 1)
    with simulators.clock_at(lambda: later):
        response = client.get(url)
    assert_refused(response, client)


def test_an_invalid_identification_number_in_the_claims_is_refused(provider, client):
    # 123 is no province code: the simulator checks only the format, we check the rest.
    response = sign_in(client, account=None, personal_id="123456789012", name="Người Giả")
    assert_refused(response, client)
    assert not User.objects.filter(personal_id="123456789012").exists()


def test_an_invalid_tax_code_in_the_claims_is_refused(provider, client):
    provider.rewrite_token_response = with_token(tax_code="46-00")
    assert_refused(sign_in(client), client)


def test_an_officials_account_never_signs_in_through_the_eid(provider, client):
    User.objects.create(username="an.official", kind=UserKind.OFFICIAL, personal_id="019090000123")
    assert_refused(sign_in(client, account=AN), client)


def test_a_refusal_at_the_provider_signs_nobody_in(provider, client):
    response = client.get("/eid/signin/")
    auth = urlsplit(response["Location"])
    params = dict(parse_qsl(auth.query))
    response = client.post(auth.path, {**params, "cancel": "1"})
    back = urlsplit(response["Location"])
    assert parse_qs(back.query)["error"] == ["access_denied"]
    assert_refused(client.get(f"{back.path}?{back.query}"), client)


def test_an_unreachable_provider_shows_a_page_and_signs_nobody_in(db, client):
    oidc.clear_cache()

    def down(*args):
        raise OSError("connection refused")

    previous = oidc.set_transport(down)
    try:
        response = client.get("/eid/signin/")
    finally:
        oidc.set_transport(previous)
    assert response.status_code == 502
    assert signed_in_user(client) is None


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "http://testserver/portal/",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_may_only_be_a_same_site_path(provider, client, next_url):
    response = sign_in(client, next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == views.default_next()
    assert response["Location"] in ("/portal/", "/")


# --- signing out ---------------------------------------------------------------------------------


def test_sign_out_ends_the_session_and_visits_the_provider(provider, client):
    sign_in(client)
    assert signed_in_user(client) is not None

    response = client.post("/eid/signout/")

    assert signed_in_user(client) is None
    logout = urlsplit(response["Location"])
    assert logout.path == "/sim/eid/logout"
    params = dict(parse_qsl(logout.query))
    assert params["id_token_hint"]
    assert params["post_logout_redirect_uri"] == f"http://testserver{views.default_next()}"
    back = client.get(logout.path, params)
    assert back.status_code == 302
    assert back["Location"] == params["post_logout_redirect_uri"]


def test_sign_out_needs_a_post(provider, client):
    sign_in(client)
    assert client.get("/eid/signout/").status_code == 405
    assert signed_in_user(client) is not None


# --- the simulated provider ----------------------------------------------------------------------


def test_the_simulator_publishes_a_discovery_document_and_its_key(db, client):
    document = client.get("/sim/eid/.well-known/openid-configuration").json()
    assert document["issuer"] == "http://127.0.0.1:8000/sim/eid"
    assert document["authorization_endpoint"] == "http://127.0.0.1:8000/sim/eid/authorize"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["response_types_supported"] == ["code"]
    keys = client.get("/sim/eid/jwks").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA"
    assert "d" not in keys[0]  # never the private part
    # The key is stored: asking again gives the same one.
    assert client.get("/sim/eid/jwks").json()["keys"][0]["kid"] == keys[0]["kid"]


def test_a_rotated_key_is_picked_up_by_the_client(provider, client):
    sign_in(client)
    simulator.rotate_key()
    other = Client()
    sign_in(other, account=BINH)
    assert signed_in_user(other).personal_id == "019190000456"


def test_the_simulator_refuses_an_unknown_client_or_redirect_uri(db, client):
    params = {
        "response_type": "code",
        "client_id": "tinhso-portal",
        "redirect_uri": "http://testserver/eid/callback",
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    assert client.get("/sim/eid/authorize", params).status_code == 200
    bad_client = client.get("/sim/eid/authorize", {**params, "client_id": "intruder"})
    assert bad_client.status_code == 400
    for uri in ("https://evil.example/eid/callback", "http://testserver/elsewhere"):
        bad_uri = client.get("/sim/eid/authorize", {**params, "redirect_uri": uri})
        assert bad_uri.status_code == 400
    plain = client.get("/sim/eid/authorize", {**params, "code_challenge_method": "plain"})
    assert plain.status_code == 302
    assert "error=invalid_request" in plain["Location"]


def test_the_token_endpoint_refuses_a_wrong_client_secret(provider, client):
    url = authorize(client)
    code = dict(parse_qsl(url.split("?")[1]))["code"]
    answer = Client().post(
        "/sim/eid/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://testserver/eid/callback",
            "code_verifier": "x" * 64,
            "client_id": "tinhso-portal",
            "client_secret": "wrong",
        },
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
