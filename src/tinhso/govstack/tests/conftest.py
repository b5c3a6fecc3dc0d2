"""A small test data set in the shape of GovStack's `test-data.json` (our own ids and
names: nothing of GovStack's repository is copied here), loaded through the loader, and
clients for the standalone port and the main API."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tinhso.core.models import Agency, AgencyKind, Role, User
from tinhso.core.services import agency_save, official_save
from tinhso.govstack.testdata import AGENCY_CODE, testdata_load
from tinhso.integration.clients import api_client_create, api_key_issue
from tinhso.integration.models import ApiClient

CLIENT = "TEST/GOV/1234/registrations"
OTHER_CLIENT = "TEST/GOV/5678/elsewhere"
STRICT_FORM = {
    "type": "object",
    "properties": {"childName": {"type": "string", "minLength": 1}},
    "required": ["childName"],
}
DATA: dict[str, Any] = {
    "informationMediatorClientHeader": {"key": "Information-Mediator-Client", "value": CLIENT},
    "services": [
        {
            "id": "svc-birth",
            "name": "Birth registration",
            "version": "2",
            "type": "Public",
            "isExecutable": True,
            "isClosed": False,
            "description": "Register a birth",
            "serviceBody": [{"code": "k", "value": "v"}],
            "eForms": [
                {
                    "eFormId": "form-birth",
                    "name": "Birth form",
                    "description": "d",
                    "version": "1",
                    "latest": True,
                    "schema": STRICT_FORM,
                }
            ],
        },
        {
            "id": "svc-open",
            "name": "Open registration",
            "version": "1",
            "type": "None",
            "eForms": [{"eFormId": "form-open", "name": "FORM", "schema": {"a": {}}}],
        },
    ],
    "applications": [
        {
            "fileId": "file-1",
            "mainTaskId": "task-main-1",
            "assigneeId": "op-anna",
            "operatorName": "Anna Operator",
            "applicantId": "applicant-1",
            "serviceId": "svc-open",
            "serviceName": "Open registration",
            "eformId": "form-open",
            "taskTitle": "First file",
        }
    ],
    "tasks": [
        {
            "taskId": "task-2",
            "taskName": "Check",
            "mainTaskId": "main-2",
            "name": "Bao Operator",
            "assigneeId": "op-bao",
            "serviceId": "svc-extra",
            "serviceName": "Extra service",
            "fileId": "file-2",
            "eFormId": "form-extra",
            "description": "second",
        }
    ],
}
DOCUMENT = base64.b64encode(b"%PDF-1.4 test document").decode()


@dataclass
class GovStack:
    client: ApiClient
    agency: Agency
    anna: User
    bao: User


@pytest.fixture
def gs(db, settings) -> GovStack:
    settings.TINHSO_GOVSTACK_DEFAULT_CLIENT = CLIENT
    testdata_load(data=DATA)
    return GovStack(
        client=ApiClient.objects.get(name=CLIENT),
        agency=Agency.objects.get(code=AGENCY_CODE),
        anna=User.objects.get(username="govstack-op-anna"),
        bao=User.objects.get(username="govstack-op-bao"),
    )


@pytest.fixture
def other_client(gs) -> ApiClient:
    """A registered client of another agency: it sees none of the test agency's files."""
    other = agency_save(
        actor=None, code="OTHER.AGENCY", name="Other", kind=AgencyKind.OTHER, unit=gs.agency.unit
    )
    return api_client_create(
        actor=None,
        name=OTHER_CLIENT,
        scopes=["govstack"],
        rate_limit_per_minute=600,
        agency=other,
        roles=[Role.DESK_OFFICER, Role.SPECIALIST, Role.AGENCY_LEADER],
    )


class Port:
    """The standalone port: paths at `/`, the header names the caller."""

    def __init__(self, header: str | None = CLIENT) -> None:
        self.http = Client()
        self.header = header

    def _headers(self, header: str | None) -> dict[str, str]:
        value = self.header if header == "default" else header
        return {} if value is None else {"Information-Mediator-Client": value}

    def get(self, path: str, header: str | None = "default", **params: Any):
        return self.http.get(path, params, headers=self._headers(header))

    def post(self, path: str, body: Any = None, header: str | None = "default", **kw: Any):
        return self.http.post(
            path,
            body,
            content_type=kw.pop("content_type", "application/json"),
            headers=self._headers(header),
            **kw,
        )

    def put(self, path: str, body: Any, header: str | None = "default"):
        return self.http.put(
            path, body, content_type="application/json", headers=self._headers(header)
        )


@pytest.fixture
def port(gs) -> Port:
    return Port()


@pytest.fixture
def api_key(gs) -> str:
    _key, plaintext = api_key_issue(actor=None, client=gs.client)
    return plaintext


@pytest.fixture
def operator_anna(gs) -> User:
    return gs.anna


@pytest.fixture
def leader(gs) -> User:
    return official_save(
        actor=None,
        username="leader",
        full_name="Leader",
        agency=gs.agency,
        roles=[Role.AGENCY_LEADER],
    )
