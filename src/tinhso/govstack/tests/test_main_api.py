"""The same router inside the main API (`/api<TINHSO_GOVSTACK_PREFIX>`): an API key with the
`govstack` scope or a signed-in official; the header, where sent, must name the key's own
client."""

from __future__ import annotations

import pytest
from django.test import Client

from tinhso.govstack.tests.conftest import CLIENT, OTHER_CLIENT
from tinhso.integration.clients import api_client_create, api_key_issue
from tinhso.integration.models import ApiRequestLog

BASE = "/api/govstack/registration"


def test_a_key_with_the_govstack_scope_reads_the_files(gs, api_key):
    response = Client().get(
        f"{BASE}/applications",
        headers={"X-API-Key": api_key, "Information-Mediator-Client": CLIENT},
    )
    assert response.status_code == 200, response.content
    assert {f["fileId"] for f in response.json()} == {"file-1", "file-2"}
    log = ApiRequestLog.objects.latest("pk")
    assert (log.client, log.endpoint) == (gs.client, f"{BASE}/applications")


def test_no_credentials_is_401(gs):
    response = Client().get(f"{BASE}/services")
    assert response.status_code == 401


def test_a_key_without_the_scope_is_403(gs):
    client = api_client_create(
        actor=None, name="catalog-only", scopes=["catalog:read"], rate_limit_per_minute=60
    )
    _key, plaintext = api_key_issue(actor=None, client=client)
    response = Client().get(f"{BASE}/services", headers={"X-API-Key": plaintext})
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


def test_a_header_naming_another_client_is_403(gs, api_key):
    response = Client().get(
        f"{BASE}/applications",
        headers={"X-API-Key": api_key, "Information-Mediator-Client": OTHER_CLIENT},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "client_mismatch"


def test_the_header_alone_does_not_sign_in_on_the_main_api(gs):
    response = Client().get(f"{BASE}/applications", headers={"Information-Mediator-Client": CLIENT})
    assert response.status_code == 401


@pytest.fixture
def browser(gs):
    return Client()


def test_an_operator_completes_their_own_task(browser, gs):
    browser.force_login(gs.bao)
    response = browser.post(
        f"{BASE}/tasks/task-2/complete",
        {"data": {}},
        content_type="application/json",
        headers={"Information-Mediator-Client": CLIENT},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"]["code"] == "PENDING"


def test_an_operator_cannot_complete_another_operators_task(browser, gs):
    browser.force_login(gs.anna)
    response = browser.post(
        f"{BASE}/tasks/task-2/complete", {"data": {}}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_task"


def test_an_operator_lists_tasks_in_their_scope(browser, gs):
    browser.force_login(gs.anna)
    tasks = browser.get(f"{BASE}/tasks").json()
    assert {t["taskId"] for t in tasks} == {"task-main-1", "task-2"}


def test_a_key_with_the_govstack_scope_updates_a_file(gs, api_key):
    response = Client().put(
        f"{BASE}/applications/file-1",
        {"applicantId": "applicant-1"},
        content_type="application/json",
        headers={"X-API-Key": api_key, "Information-Mediator-Client": CLIENT},
    )
    assert response.status_code == 200
