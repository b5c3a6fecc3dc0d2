"""The dossier API: submission, scoped reads, every transition through HTTP, and errors as
{"code", "message"}."""

from __future__ import annotations

import pytest

from tinhso.dossiers.states import Status

from .conftest import vn

T0 = vn(2026, 11, 30, 8, 0)


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def received_code(desk):
    return desk.received(T0).code


def test_desk_officer_receives_a_walk_in_dossier_through_the_api(client, desk):
    client.force_login(desk.desk)
    response = post(
        client,
        "/api/v1/dossiers",
        {
            "procedure_code": "1.001193",
            "agency_code": desk.world.agency_a.code,
            "channel": "desk",
            "applicant": {"name": "Trần Thị Bình", "id_number": "019190000456"},
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == Status.RECEIVED and data["due_at"]
    assert data["code"].startswith(desk.world.agency_a.code + "-")


def test_bad_applicant_is_a_structured_error_naming_the_field(client, desk):
    client.force_login(desk.desk)
    response = post(
        client,
        "/api/v1/dossiers",
        {
            "procedure_code": "1.001193",
            "agency_code": desk.world.agency_a.code,
            "channel": "desk",
            "applicant": {"name": "Trần Thị Bình", "id_number": "123"},
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed" and "id_number" in body["fields"]


def test_unknown_procedure_is_refused(client, desk):
    client.force_login(desk.desk)
    response = post(
        client,
        "/api/v1/dossiers",
        {
            "procedure_code": "9.999999",
            "agency_code": desk.world.agency_a.code,
            "applicant": {"name": "A", "id_number": "019190000456"},
        },
    )
    assert response.status_code == 422 and response.json()["field"] == "code"


def test_a_whole_journey_through_the_api(client, desk, received_code):
    base = f"/api/v1/dossiers/{received_code}"
    client.force_login(desk.department_leader)
    r = post(
        client,
        f"{base}/assign",
        {"department_code": "vp", "assignee_username": desk.specialist.username},
    )
    assert r.status_code == 200, r.content
    assert r.json()["assignee"] == desk.specialist.username
    client.force_login(desk.specialist)
    assert post(client, f"{base}/forward", {}).json()["current_step"] == "Phê duyệt"
    client.force_login(desk.agency_leader)
    r = post(client, f"{base}/approve", {"result_summary": "Giấy khai sinh"})
    assert r.json()["status"] == Status.APPROVED
    client.force_login(desk.desk)
    r = post(client, f"{base}/return-result", {"method": "desk"})
    assert r.json()["status"] == Status.DONE
    events = client.get(f"{base}/events").json()
    assert [e["action"] for e in events] == [
        "submit",
        "receive",
        "assign",
        "forward",
        "approve",
        "return_result",
    ]


def test_illegal_transition_is_409_with_code(client, desk, received_code):
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/dossiers/{received_code}/return-result", {})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_stale_version_is_409_conflict(client, desk, received_code):
    client.force_login(desk.department_leader)
    response = post(
        client,
        f"/api/v1/dossiers/{received_code}/assign",
        {"department_code": "vp", "expected_version": 1},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_wrong_role_is_403(client, desk, received_code):
    client.force_login(desk.specialist)
    response = post(client, f"/api/v1/dossiers/{received_code}/approve", {})
    assert response.status_code in (403, 409)
    assert response.json()["code"] in ("out_of_scope", "illegal_transition")


def test_missing_reason_is_422(client, desk, received_code):
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/dossiers/{received_code}/withdraw", {"reason": ""})
    assert response.status_code == 422


def test_another_communes_official_cannot_see_or_act(client, desk, world, received_code):
    client.force_login(world.desk_b)
    assert client.get(f"/api/v1/dossiers/{received_code}").status_code == 404
    assert (
        post(client, f"/api/v1/dossiers/{received_code}/refuse", {"reason": "x"}).status_code == 404
    )
    assert client.get("/api/v1/dossiers").json()["count"] == 0


def test_citizen_sees_only_their_own_dossiers(client, desk, world):
    mine = desk.submit(T0, owner=world.citizen)
    desk.submit(T0)
    client.force_login(world.citizen)
    codes = [d["code"] for d in client.get("/api/v1/dossiers").json()["items"]]
    assert codes == [mine.code]


def test_inbox_filter_and_unknown_inbox(client, desk):
    desk.submit(T0)
    desk.received(T0)
    client.force_login(desk.desk)
    assert client.get("/api/v1/dossiers?box=to_receive").json()["count"] == 1
    assert client.get("/api/v1/dossiers?box=nope").status_code == 422


def test_every_transition_is_in_the_openapi_document(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for action in (
        "receive",
        "refuse",
        "request-supplement",
        "supplement",
        "assign",
        "forward",
        "send-back",
        "transfer",
        "transfer-return",
        "suspend",
        "resume",
        "apologize",
        "approve",
        "reject",
        "return-result",
        "withdraw",
    ):
        assert f"/api/v1/dossiers/{{code}}/{action}" in paths
