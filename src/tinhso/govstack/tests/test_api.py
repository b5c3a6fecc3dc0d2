"""Every endpoint on the standalone port, with its refusals, as the test suite and an
Information Mediator call it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tinhso.catalog.services import catalog_import
from tinhso.core.models import AuditRecord
from tinhso.dossiers.models import Dossier, DossierDocument
from tinhso.dossiers.states import Status
from tinhso.govstack.models import GovStackId, Kind
from tinhso.govstack.services import PLACEHOLDER_ID_PREFIX
from tinhso.govstack.testdata import AGENCY_CODE, WORKFLOW
from tinhso.govstack.tests.conftest import CLIENT, DATA, DOCUMENT, OTHER_CLIENT, Port
from tinhso.integration.models import ApiRequestLog

pytestmark = pytest.mark.urls("tinhso.govstack.standalone_urls")


def _dossier(file_id: str) -> Dossier:
    return GovStackId.objects.get(kind=Kind.FILE, value=file_id).dossier


# --- health, services, eForms ---------------------------------------------------------------


def test_healthcheck_answers_without_a_caller(db):
    response = Port(header=None).get("/healthcheck", header=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_services_are_the_procedures_with_their_govstack_ids(port):
    response = port.get("/services", header=None)
    assert response.status_code == 200
    assert response["content-type"] == "application/json; charset=utf-8"
    by_id = {s["id"]: s for s in response.json()}
    assert {"svc-birth", "svc-open", "svc-extra", "mcts"} <= set(by_id)
    birth = by_id["svc-birth"]
    assert birth["name"] == "Birth registration"
    assert birth["version"] == "2"
    assert birth["type"] == "Public"
    assert birth["serviceBody"] == [{"code": "k", "value": "v"}]


def test_listing_services_does_not_query_per_service(port, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert len(port.get("/services").json()) == 4


def test_services_filter_by_exact_name(port):
    names = {s["name"] for s in port.get("/services", name="Open registration").json()}
    assert names == {"Open registration"}
    assert port.get("/services", name="Open").json() == []


def test_one_service(port):
    response = port.get("/services/svc-birth")
    assert response.status_code == 200
    assert response.json()["id"] == "svc-birth"


def test_an_unknown_service_is_404(port):
    response = port.get("/services/no-such-service")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_service_lists_its_eforms_without_schema(port):
    forms = port.get("/services/svc-birth/eForms", header=None).json()
    assert forms == [
        {
            "eFormId": "form-birth",
            "name": "Birth form",
            "description": "d",
            "version": "1",
            "latest": True,
        }
    ]
    assert port.get("/services/nope/eForms").status_code == 404


def test_an_eform_carries_its_json_schema(port):
    form = port.get("/eForms/form-birth", header=None).json()
    assert form["eFormId"] == "form-birth"
    assert form["schema"]["required"] == ["childName"]
    assert port.get("/eForms/no-such-form").status_code == 404


@pytest.fixture
def catalog_procedure(gs):
    catalog_import(
        actor=None,
        document={
            "format": "tinhso.catalog/1",
            "fields": [{"code": "hotich", "name": "Hộ tịch"}],
            "procedures": [
                {
                    "code": "1.001193",
                    "name": "Đăng ký khai sinh",
                    "field": "hotich",
                    "level": "province",
                    "agency_kinds": [],
                    "agencies": [AGENCY_CODE],
                    "processing_days": "3",
                    "online": "full",
                    "documents": [
                        {"name": "Tờ khai", "originals": 1, "copies": 0, "required": True},
                        {"name": "Ảnh", "originals": 1, "copies": 0, "required": False},
                    ],
                    "fees": [],
                    "workflow": WORKFLOW,
                }
            ],
            "bundles": [],
        },
    )


def test_a_procedure_without_binding_has_a_derived_eform(port, catalog_procedure):
    forms = port.get("/services/1.001193/eForms").json()
    assert [f["eFormId"] for f in forms] == ["1.001193.form"]
    schema = port.get("/eForms/1.001193.form").json()["schema"]
    assert schema["properties"]["documents"]["properties"]["document1"]["title"] == "Tờ khai"


# --- applications ---------------------------------------------------------------------------


def test_submitting_an_application_submits_a_dossier(port):
    response = port.post(
        "/services/svc-birth/applications",
        {
            "applicantId": "app-9",
            "applicationName": "Baby",
            "created": "2022-10-21T00:00:00.000Z",
            "formData": {"data": {"childName": "Minh"}, "eFormId": "form-birth"},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["serviceId"] == "svc-birth"
    assert body["status"] == {"code": "PENDING", "title": "Pending"}
    assert body["ended"] is False
    assert body["applicationData"]["applicantId"] == "app-9"
    assert body["applicationData"]["formData"]["data"] == {"childName": "Minh"}
    dossier = _dossier(body["fileId"])
    assert dossier.status == Status.SUBMITTED
    assert dossier.channel == "online"
    assert dossier.events.get().action == "submit"
    assert dossier.applicant_id_number.startswith(PLACEHOLDER_ID_PREFIX)


def test_a_form_post_is_accepted_as_the_suite_sends_it(port):
    response = port.post(
        "/services/svc-open/applications",
        "applicantId=app-10&applicationName=Form",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert response.json()["applicationData"]["applicantId"] == "app-10"


def test_form_data_that_does_not_match_the_eform_schema_is_refused(port):
    response = port.post(
        "/services/svc-birth/applications",
        {"applicantId": "app-9", "formData": {"data": {"childName": 7}}},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_form_data"
    assert "data.childName: expected string" in response.json()["errors"]
    assert not Dossier.objects.filter(procedure__code="svc-birth").exists()


def test_applicant_id_is_required(port):
    response = port.post("/services/svc-open/applications", {"applicationName": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_submitting_to_an_unknown_service_is_404(port):
    response = port.post("/services/nope/applications", {"applicantId": "a"})
    assert response.status_code == 404


def test_the_derived_eform_needs_a_real_applicant(port, catalog_procedure):
    refused = port.post("/services/1.001193/applications", {"applicantId": "a", "formData": {}})
    assert refused.status_code == 400
    assert "data.applicant: required" in refused.json()["errors"]
    applicant = {"name": "Nguyễn Văn An", "idNumber": "019090000123"}
    response = port.post(
        "/services/1.001193/applications",
        {"applicantId": "a", "formData": {"data": {"applicant": applicant}}},
    )
    assert response.status_code == 200, response.content
    dossier = _dossier(response.json()["fileId"])
    assert dossier.applicant_id_number == "019090000123"
    assert dossier.applicant_name == "Nguyễn Văn An"


@pytest.mark.parametrize("header", [None, "", "invalid_header", "A/B/C/"])
def test_submitting_needs_a_well_formed_header(port, header):
    response = port.post("/services/svc-open/applications", {"applicantId": "a"}, header=header)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_information_mediator_client"


def test_an_unregistered_client_is_refused(port):
    response = port.post(
        "/services/svc-open/applications", {"applicantId": "a"}, header="X/Y/Z/unknown"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "unknown_client"


def test_a_client_without_the_govstack_scope_is_refused(port, gs):
    gs.client.scopes = ["catalog:read"]
    gs.client.save()
    assert port.get("/applications").status_code == 403


def test_requests_are_logged_with_the_calling_client(port, gs):
    port.get("/applications")
    port.get("/applications", header="X/Y/Z/unknown")
    logged = list(ApiRequestLog.objects.order_by("pk").values("client", "endpoint", "status"))
    assert logged[-2:] == [
        {"client": gs.client.pk, "endpoint": "/applications", "status": 200},
        {"client": None, "endpoint": "/applications", "status": 403},
    ]


# --- documents ------------------------------------------------------------------------------


def test_a_document_is_uploaded_and_attached_to_an_application(port):
    response = port.post(
        "/documents?additionalMetadata=meta",
        f"file={DOCUMENT}",
        content_type="application/x-www-form-urlencoded",
        header=None,
    )
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.startswith("urn:tinhso:govstack:document:")
    submitted = port.post(
        "/services/svc-open/applications", {"applicantId": "a", "documentUrls": [url]}
    )
    dossier = _dossier(submitted.json()["fileId"])
    document = DossierDocument.objects.get(dossier=dossier)
    assert document.is_digitised and document.size == len(b"%PDF-1.4 test document")


def test_a_multipart_upload_as_the_specification_says(port):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.png", b"\x89PNG...", content_type="image/png")
    response = port.http.post("/documents", {"file": upload})
    assert response.status_code == 200, response.content
    row = GovStackId.objects.get(kind=Kind.DOCUMENT)
    assert (row.data["name"], row.data["content_type"]) == ("photo.png", "image/png")


def test_an_upload_without_payload_is_400(port):
    response = port.post("/documents", None, header=None)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_an_upload_that_is_not_base64_is_400(port):
    response = port.post(
        "/documents", "file=%%%", content_type="application/x-www-form-urlencoded", header=None
    )
    assert response.status_code == 400


# --- listing and reading application files --------------------------------------------------


def test_applications_list_the_callers_files(port):
    files = port.get("/applications").json()
    assert {f["fileId"] for f in files} == {"file-1", "file-2"}
    first = next(f for f in files if f["fileId"] == "file-1")
    assert first["operatorName"] == "Anna Operator"
    assert first["assigneeId"] == "op-anna"
    assert first["mainTaskId"] == "task-main-1"
    assert first["status"]["code"] == "PENDING"


def test_applications_filter_and_page(port):
    assert [f["fileId"] for f in port.get("/applications", serviceId="svc-open").json()] == [
        "file-1"
    ]
    assert [f["fileId"] for f in port.get("/applications", applicantId="applicant-1").json()] == [
        "file-1"
    ]
    assert port.get("/applications", serviceId="nope").json() == []
    assert port.get("/applications", applicantId="nobody").json() == []
    page = port.get("/applications", firstResult=1, maxResult=1, sortBy="created", sortOrder="asc")
    assert [f["fileId"] for f in page.json()] == ["file-2"]
    assert port.get("/applications", firstResult="x").status_code == 400


def test_applications_need_the_header(port):
    assert port.get("/applications", header=None).status_code == 400


def test_one_application_file(port):
    body = port.get("/applications/file-1").json()
    assert body["fileId"] == "file-1"
    assert body["serviceId"] == "svc-open"
    assert body["applicationData"]["applicantId"] == "applicant-1"
    assert port.get("/applications/nope").status_code == 404


def test_another_agencys_client_does_not_see_the_file(port, other_client):
    assert port.get("/applications/file-1", header=OTHER_CLIENT).status_code == 404
    assert port.get("/applications", header=OTHER_CLIENT).json() == []


def test_an_operator_updates_the_form_data(port):
    response = port.put(
        "/applications/file-1",
        {"applicantId": "applicant-1b", "applicationName": "Renamed", "formData": {"data": {}}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["applicationData"]["applicantId"] == "applicant-1b"
    assert AuditRecord.objects.filter(action="govstack.application_update").count() == 1
    assert _dossier("file-1").status == Status.IN_PROCESSING  # not a transition


def test_an_update_is_checked_against_the_eform(port):
    submitted = port.post(
        "/services/svc-birth/applications",
        {"applicantId": "a", "formData": {"data": {"childName": "Minh"}}},
    ).json()
    response = port.put(
        f"/applications/{submitted['fileId']}",
        {"applicantId": "a", "formData": {"data": {}}},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_form_data"


def test_updating_an_unknown_file_is_404(port):
    assert port.put("/applications/nope", {"applicantId": "a"}).status_code == 404


# --- tasks ----------------------------------------------------------------------------------


def test_tasks_are_the_steps_waiting_for_an_operator(port):
    tasks = port.get("/tasks", header=None).json()
    assert {t["taskId"] for t in tasks} == {"task-main-1", "task-2"}
    task = next(t for t in tasks if t["taskId"] == "task-2")
    assert task["fileId"] == "file-2"
    assert task["mainTaskId"] == "main-2"
    assert task["assigneeId"] == "op-bao"
    assert task["name"] == "Registration"


def test_tasks_filter(port):
    assert [t["taskId"] for t in port.get("/tasks", fileId="file-2").json()] == ["task-2"]
    assert [t["taskId"] for t in port.get("/tasks", mainTaskId="main-2").json()] == ["task-2"]
    assert [t["taskId"] for t in port.get("/tasks", assigneeId="op-anna").json()] == ["task-main-1"]
    for empty in ({"fileId": "nope"}, {"mainTaskId": "nope"}, {"assigneeId": "nope"}):
        assert port.get("/tasks", **empty).json() == []


def test_one_task(port):
    body = port.get("/tasks/task-2", header=None).json()
    assert body["taskId"] == "task-2"
    assert body["data"]["dossier"]["status"] == Status.IN_PROCESSING
    assert port.get("/tasks/nope").status_code == 404


def test_completing_tasks_walks_the_workflow(port):
    first = port.post("/tasks/task-2/complete", {"data": {}}, header=None)
    assert first.status_code == 200, first.content
    assert first.json()["status"]["code"] == "PENDING"
    dossier = _dossier("file-2")
    assert dossier.current_step.name == "Approval"
    assert dossier.events.latest("seq").action == "forward"
    assert port.get("/tasks/task-2").status_code == 404  # no longer open
    next_task = port.get("/tasks", fileId="file-2").json()[0]["taskId"]
    second = port.post(f"/tasks/{next_task}/complete", {"data": {}})
    assert second.json()["status"] == {"code": "APPROVED", "title": "Approved"}
    assert _dossier("file-2").status == Status.APPROVED


def test_a_repeated_completion_gets_the_same_answer(port):
    first = port.post("/tasks/task-2/complete", {"data": {}})
    again = port.post("/tasks/task-2/complete", {"data": {}})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _dossier("file-2").events.filter(action="forward").count() == 1


def test_a_decision_rejects_or_sends_back(port):
    refused = port.post("/tasks/task-2/complete", {"data": {"decision": {"code": "REJECTED"}}})
    assert refused.status_code == 400  # a reason is required
    sent_back = port.post(
        "/tasks/task-2/complete",
        {"data": {"decision": {"code": "SENDBACK", "reason": "Photo missing"}}},
    )
    assert sent_back.json()["status"]["code"] == "SENDBACK"
    assert _dossier("file-2").status == Status.SUPPLEMENT_REQUESTED
    rejected = port.post(
        "/tasks/task-main-1/complete",
        {"data": {"decision": {"code": "REJECTED", "reason": "Not eligible"}}},
    )
    assert rejected.json()["status"]["code"] == "REJECTED"


def test_completing_an_unknown_task_is_404(port):
    assert port.post("/tasks/nope/complete", {"data": {}}).status_code == 404


def test_another_agencys_client_cannot_complete_the_task(port, other_client):
    response = port.post("/tasks/task-2/complete", {"data": {}}, header=OTHER_CLIENT)
    assert response.status_code == 404
    assert _dossier("file-2").events.filter(action="forward").count() == 0


# --- statistics -----------------------------------------------------------------------------


def test_statistics_count_the_decisions(port):
    port.post("/tasks/task-2/complete", {"data": {"decision": {"code": "APPROVED"}}})
    port.post(
        "/tasks/task-main-1/complete",
        {"data": {"decision": {"code": "SENDBACK", "reason": "More"}}},
    )
    response = port.get("/data/statistics/1.0")
    assert response.status_code == 200
    assert response["content-type"] == "application/json; charset=utf-8"
    [row] = response.json()
    assert {k: row[k] for k in ("processed", "approved", "sentBack", "rejected")} == {
        "processed": 2,
        "approved": 1,
        "sentBack": 1,
        "rejected": 0,
    }
    [extra] = port.get("/data/statistics/1.0", registrationName="Extra service").json()
    assert (extra["approved"], extra["sentBack"]) == (1, 0)
    [leaders] = port.get("/data/statistics/1.0", role="agency_leader").json()
    assert leaders["processed"] == 2  # the client's official holds that role
    [by_name] = port.get("/data/statistics/1.0", operator=f"API: {CLIENT}").json()
    assert by_name["processed"] == 2
    [nobody] = port.get("/data/statistics/1.0", operator="Anna Operator").json()
    assert nobody["processed"] == 0
    [filtered] = port.get(
        "/data/statistics/1.0",
        startDate="2021-01-30",
        endDate="2021-01-30",
        registrationName="MCTS",
        operator="Ingmar Vali",
        role="Handler",
        timeframe="day",
    ).json()
    assert filtered["processed"] == 0
    assert filtered["references"]["timeframeDay"] is True


@pytest.mark.parametrize("header", [None, "", "''", "invalid_header", "eGovStack/GOV/90000009/"])
def test_statistics_need_a_valid_header(port, header):
    assert port.get("/data/statistics/1.0", header=header).status_code == 400


def test_statistics_of_an_unknown_registration_are_404(port):
    assert port.get("/data/statistics/1.0", registrationName="n0tex1st").status_code == 404


def test_statistics_refuse_a_bad_timeframe_or_date(port):
    assert port.get("/data/statistics/1.0", timeframe="decade").status_code == 400
    assert port.get("/data/statistics/1.0", startDate="30/01/2021").status_code == 400


# --- the loader -----------------------------------------------------------------------------


def test_the_test_data_loads_once(gs, tmp_path):
    path = tmp_path / "test-data.json"
    path.write_text(__import__("json").dumps(DATA))
    with pytest.raises(CommandError, match="already loaded"):
        call_command("govstack", "load-test-data", str(path))


def test_the_loader_makes_every_file_wait_at_its_operators_step(gs):
    for file_id, operator in (("file-1", gs.anna), ("file-2", gs.bao)):
        dossier = _dossier(file_id)
        assert dossier.status == Status.IN_PROCESSING
        assert dossier.assignee == operator
    assert gs.client.name == CLIENT
