"""API clients of other systems: keys, scopes, rate limits, rotation, the request log, and the
administrator-only services behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.core.models import AuditRecord, Role, User
from tinhso.core.services import official_set_roles
from tinhso.dossiers.tests import conftest as dossier_personas
from tinhso.integration import clients
from tinhso.integration.models import ApiKey, ApiRequestLog
from tinhso.integration.ratelimit import rate_limit_hit

desk = dossier_personas.desk  # the dossier personas (a fixture), to read dossiers by key
vn = dossier_personas.vn

HEADER = "HTTP_X_API_KEY"


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    # Client ids repeat across tests (each rolls back); the counters live in the cache.
    cache.clear()
    yield
    cache.clear()


def make_client(world, *, scopes=("dossiers:read", "units:read"), rate=600, **kwargs):
    return clients.api_client_create(
        actor=world.administrator,
        name=kwargs.pop("name", "mot-cua-dien-tu"),
        scopes=scopes,
        rate_limit_per_minute=rate,
        agency=kwargs.pop("agency", world.agency_a),
        **kwargs,
    )


@pytest.fixture
def keyed(world):
    client = make_client(world)
    key, plaintext = clients.api_key_issue(actor=world.administrator, client=client)
    return client, key, plaintext


def get(client, path, key, **params):
    return client.get(path, params, **{HEADER: key})


# --- authentication -------------------------------------------------------------------------


def test_a_valid_key_reads_agencies_in_its_agency_scope(client, world, keyed):
    _client, _key, plaintext = keyed
    response = get(client, "/api/v1/agencies", plaintext)
    assert response.status_code == 200
    codes = {item["code"] for item in response.json()["items"]}
    assert world.agency_a.code in codes
    assert world.agency_b.code not in codes


def test_a_valid_key_reads_dossiers_of_its_agency_only(client, world, keyed, desk):
    mine = desk.submit(vn(2027, 2, 3, 9))
    theirs = desk.submit(vn(2027, 2, 3, 9), agency=world.agency_b)
    response = get(client, "/api/v1/dossiers", keyed[2])
    assert response.status_code == 200
    codes = {item["code"] for item in response.json()["items"]}
    assert mine.code in codes and theirs.code not in codes
    assert get(client, f"/api/v1/dossiers/{theirs.code}", keyed[2]).status_code in (403, 404)


def test_a_key_acts_as_the_technical_official_of_its_client(world, keyed):
    official = User.objects.get(username="api:mot-cua-dien-tu")
    assert official.agency == world.agency_a
    assert official.role_set == {Role.SPECIALIST}
    assert not official.has_usable_password()


@pytest.mark.parametrize(
    "plaintext", ["", "nonsense", "tsk_abcdefgh_wrong", "tsk_ABC_x", "Bearer tsk_x_y"]
)
def test_a_wrong_key_is_refused(client, world, keyed, plaintext):
    response = get(client, "/api/v1/agencies", plaintext)
    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_api_key", "unauthenticated"}


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_refused(client, keyed):
    _client, key, _plaintext = keyed
    response = get(client, "/api/v1/agencies", f"tsk_{key.prefix}_{'x' * 43}")
    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_api_key",
        "message": response.json()["message"],
    }


def test_a_revoked_key_is_refused(client, world, keyed):
    clients.api_key_revoke(actor=world.administrator, key=keyed[1])
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 401


def test_an_expired_key_is_refused(client, world, keyed):
    ApiKey.objects.filter(pk=keyed[1].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 401


def test_a_key_of_an_inactive_client_is_refused(client, world, keyed):
    clients.api_client_set_active(actor=world.administrator, client=keyed[0], is_active=False)
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 401


def test_a_checked_key_is_remembered_and_forgotten_when_it_changes(client, world, keyed):
    """The second request skips the key, official, agency, unit and role look-ups; a
    revocation saved in this process takes effect on the next request all the same."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert get(client, "/api/v1/agencies", keyed[2]).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert get(client, "/api/v1/agencies", keyed[2]).status_code == 200
    assert len(second) <= len(first) - 4
    assert not any("integration_apikey" in q["sql"] for q in second.captured_queries)
    clients.api_key_revoke(actor=world.administrator, key=keyed[1])
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 401


def test_roles_taken_away_apply_to_the_next_request(client, world, keyed):
    technical = User.objects.get(username=clients.technical_username(keyed[0]))
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 200
    official_set_roles(actor=world.administrator, official=technical, roles=[])
    # No role left: the official's scope reaches nothing, so the list is empty.
    response = get(client, "/api/v1/agencies", keyed[2])
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_without_the_cache_every_request_checks_the_key(client, keyed, settings):
    settings.TINHSO_API_KEY_CACHE_SECONDS = 0
    get(client, "/api/v1/agencies", keyed[2])
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as again:
        assert get(client, "/api/v1/agencies", keyed[2]).status_code == 200
    assert any("integration_apikey" in q["sql"] for q in again.captured_queries)


def test_a_key_records_when_it_was_last_used(client, keyed):
    get(client, "/api/v1/agencies", keyed[2])
    assert ApiKey.objects.get(pk=keyed[1].pk).last_used_at is not None


# --- scopes ---------------------------------------------------------------------------------


def test_an_out_of_scope_endpoint_is_refused(client, world):
    reader = make_client(world, name="catalog-reader", scopes=["catalog:read"])
    _key, plaintext = clients.api_key_issue(actor=world.administrator, client=reader)
    response = get(client, "/api/v1/dossiers", plaintext)
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert get(client, "/api/v1/agencies", plaintext).status_code == 403


def test_reading_does_not_grant_writing(client, world, keyed, desk):
    response = client.post(
        "/api/v1/dossiers", {}, content_type="application/json", **{HEADER: keyed[2]}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


def test_a_write_scope_passes_a_keyed_post_without_a_csrf_token(client, world, desk):
    writer = make_client(world, name="writer", scopes=["dossiers:write"])
    _key, plaintext = clients.api_key_issue(actor=world.administrator, client=writer)
    response = client.post(
        "/api/v1/dossiers", {}, content_type="application/json", **{HEADER: plaintext}
    )
    # Past authentication and scope: the empty body fails validation, not CSRF.
    assert response.status_code in (400, 422)


def test_the_scope_table_is_keyed_by_router_tag_and_method():
    assert clients.required_scope(["catalog"], "GET") == "catalog:read"
    assert clients.required_scope(["dossiers"], "GET") == "dossiers:read"
    assert clients.required_scope(["dossiers"], "POST") == "dossiers:write"
    assert clients.required_scope(["core"], "HEAD") == "units:read"
    assert clients.required_scope(["core"], "POST") is None
    assert clients.required_scope(None, "GET") is None


def test_changing_scopes_takes_effect_at_once(client, world, keyed):
    clients.api_client_set_scopes(actor=world.administrator, client=keyed[0], scopes=["govstack"])
    assert get(client, "/api/v1/agencies", keyed[2]).status_code == 403


def test_unknown_scopes_are_refused(world):
    with pytest.raises(ValidationFailed):
        make_client(world, scopes=["everything"])


# --- rate limit -----------------------------------------------------------------------------


def test_requests_beyond_the_rate_limit_get_429_with_retry_after(client, world):
    limited = make_client(world, name="limited", rate=3)
    _key, plaintext = clients.api_key_issue(actor=world.administrator, client=limited)
    for _i in range(3):
        assert get(client, "/api/v1/agencies", plaintext).status_code == 200
    response = get(client, "/api/v1/agencies", plaintext)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_rate_window_resets_each_minute():
    assert rate_limit_hit(99, 1, now=120.0) is None
    assert rate_limit_hit(99, 1, now=150.0) == 30
    assert rate_limit_hit(99, 1, now=180.0) is None


# --- rotation and storage -------------------------------------------------------------------


def test_rotation_keeps_both_keys_during_the_overlap_and_only_the_new_one_after(
    client, world, keyed, monkeypatch
):
    _client, old, old_plaintext = keyed
    new, new_plaintext = clients.api_key_rotate(
        actor=world.administrator, key=old, overlap_seconds=3600
    )
    assert new.prefix != old.prefix
    assert get(client, "/api/v1/agencies", old_plaintext).status_code == 200
    assert get(client, "/api/v1/agencies", new_plaintext).status_code == 200
    # The overlap ends while both callers are cached in this process: the expiry still holds.
    after_overlap = timezone.now() + timedelta(seconds=3601)
    monkeypatch.setattr(timezone, "now", lambda: after_overlap)
    assert get(client, "/api/v1/agencies", old_plaintext).status_code == 401
    assert get(client, "/api/v1/agencies", new_plaintext).status_code == 200


def test_rotation_sets_the_old_key_to_expire_after_the_overlap(world, keyed):
    before = timezone.now()
    clients.api_key_rotate(actor=world.administrator, key=keyed[1], overlap_seconds=600)
    expires_at = ApiKey.objects.get(pk=keyed[1].pk).expires_at
    assert before + timedelta(seconds=590) < expires_at <= timezone.now() + timedelta(seconds=600)


def test_a_revoked_key_cannot_be_rotated(world, keyed):
    clients.api_key_revoke(actor=world.administrator, key=keyed[1])
    with pytest.raises(ValidationFailed):
        clients.api_key_rotate(actor=world.administrator, key=keyed[1])


def test_the_key_has_the_documented_format(keyed):
    _client, key, plaintext = keyed
    scheme, prefix, secret = plaintext.split("_", 2)
    assert scheme == "tsk" and prefix == key.prefix and len(prefix) == 8
    assert len(secret) >= 43


def test_the_plaintext_key_is_stored_nowhere(client, keyed):
    _client, key, plaintext = keyed
    get(client, "/api/v1/agencies", plaintext)
    secret = plaintext.split("_", 2)[2]
    assert key.key_hash == clients.hash_key(plaintext) != plaintext
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                assert all(secret not in str(value) for value in row), table


# --- request log ----------------------------------------------------------------------------


def test_the_request_log_holds_the_route_pattern_and_no_personal_data(client, world, keyed, desk):
    dossier = desk.submit(vn(2027, 2, 3, 9))
    response = get(client, f"/api/v1/dossiers/{dossier.code}", keyed[2])
    assert response.status_code == 200
    entry = ApiRequestLog.objects.get(endpoint="/api/v1/dossiers/{code}")
    assert entry.client == keyed[0]
    assert entry.key_prefix == keyed[1].prefix
    assert (entry.method, entry.status) == ("GET", 200)
    assert entry.duration_ms >= 0
    logged = list(ApiRequestLog.objects.values_list("endpoint", "key_prefix"))
    assert dossier.code not in str(logged)
    assert desk.applicant.id_number not in str(logged)


def test_refused_keys_are_logged_without_a_client(client, keyed):
    get(client, "/api/v1/agencies", f"tsk_{keyed[1].prefix}_wrong")
    entry = ApiRequestLog.objects.get()
    assert (entry.client, entry.key_prefix, entry.status) == (None, keyed[1].prefix, 401)
    assert entry.endpoint == "/api/v1/agencies"


def test_session_requests_are_not_logged_and_still_work(client, world, keyed):
    client.force_login(world.provincial_leader)
    assert client.get("/api/v1/agencies").status_code == 200
    assert client.get("/api/v1/audit").status_code == 200
    assert not ApiRequestLog.objects.exists()


def test_without_any_credentials_the_api_answers_401(client, world):
    response = client.get("/api/v1/agencies")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


# --- administration -------------------------------------------------------------------------


def test_every_administrative_action_is_audited(world):
    api_client = make_client(world)
    key, _plaintext = clients.api_key_issue(actor=world.administrator, client=api_client)
    new, _plaintext = clients.api_key_rotate(actor=world.administrator, key=key)
    clients.api_key_revoke(actor=world.administrator, key=new)
    clients.api_client_set_scopes(
        actor=world.administrator, client=api_client, scopes=["catalog:read"]
    )
    clients.api_client_set_active(actor=world.administrator, client=api_client, is_active=False)
    actions = list(
        AuditRecord.objects.filter(actor=world.administrator)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    for action in (
        "api_client.create",
        "api_key.issue",
        "api_key.rotate",
        "api_key.revoke",
        "api_client.set_scopes",
        "api_client.deactivate",
    ):
        assert action in actions
    audited = str(list(AuditRecord.objects.values_list("before", "after")))
    assert key.key_hash not in audited


@pytest.mark.parametrize("persona", ["desk_a", "provincial_leader", "citizen", "nobody"])
def test_non_administrators_are_refused(world, persona):
    actor = getattr(world, persona)
    with pytest.raises(OutOfScope):
        clients.api_client_create(actor=actor, name="x", scopes=[], rate_limit_per_minute=10)
    api_client = make_client(world)
    key, _plaintext = clients.api_key_issue(actor=world.administrator, client=api_client)
    for call in (
        lambda: clients.api_key_issue(actor=actor, client=api_client),
        lambda: clients.api_key_rotate(actor=actor, key=key),
        lambda: clients.api_key_revoke(actor=actor, key=key),
        lambda: clients.api_client_set_scopes(actor=actor, client=api_client, scopes=[]),
    ):
        with pytest.raises(OutOfScope):
            call()


def test_an_api_client_cannot_be_an_administrator(world):
    with pytest.raises(ValidationFailed):
        make_client(world, roles=[Role.ADMINISTRATOR])


# --- console command ------------------------------------------------------------------------


def test_the_command_creates_issues_rotates_revokes_and_lists(world, capsys, client):
    call_command(
        "apiclients",
        "create",
        "portal",
        "--scopes",
        "units:read,dossiers:read",
        "--rate",
        "60",
        "--agency",
        world.agency_a.code,
    )
    call_command("apiclients", "issue", "portal")
    plaintext = capsys.readouterr().out.strip()
    assert get(client, "/api/v1/agencies", plaintext).status_code == 200
    prefix = clients.key_prefix(plaintext)
    call_command("apiclients", "rotate", prefix, "--overlap-hours", "1")
    rotated = capsys.readouterr().out.strip()
    assert rotated != plaintext and get(client, "/api/v1/agencies", rotated).status_code == 200
    call_command("apiclients", "revoke", clients.key_prefix(rotated))
    assert get(client, "/api/v1/agencies", rotated).status_code == 401
    call_command("apiclients", "list")
    listing = capsys.readouterr().out
    assert "portal" in listing and prefix in listing and "revoked" in listing
    assert plaintext not in listing
    assert AuditRecord.objects.filter(action="api_client.create", source="cli").exists()
