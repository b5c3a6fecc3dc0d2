"""The JSON API of the shared registers: shapes, scope and errors."""

from __future__ import annotations

import pytest


@pytest.fixture
def api(client, world):
    client.force_login(world.provincial_leader)
    return client


def test_calendar_due_endpoint_matches_the_calendar(api):
    response = api.get(
        "/api/v1/calendar/due",
        {"from": "2027-02-03T16:30:00+07:00", "working_days": "5", "province": "19"},
    )
    assert response.status_code == 200
    assert response.json()["due"] == "2027-02-17T16:30:00+07:00"


def test_calendar_due_refuses_a_naive_instant_with_a_structured_error(api):
    response = api.get("/api/v1/calendar/due", {"from": "2027-02-03T16:30:00", "working_days": "5"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_calendar_due_refuses_negative_days(api):
    response = api.get(
        "/api/v1/calendar/due", {"from": "2027-02-03T16:30:00+07:00", "working_days": "-2"}
    )
    assert response.status_code == 422


def test_calendar_hours_endpoint(api):
    response = api.get(
        "/api/v1/calendar/hours",
        {"from": "2027-02-03T16:30:00+07:00", "to": "2027-02-17T16:30:00+07:00"},
    )
    assert float(response.json()["working_hours"]) == 40


def test_officials_endpoint_lists_roles(api, world):
    items = api.get("/api/v1/officials", {"q": "desk.a"}).json()["items"]
    assert items[0]["roles"] == ["desk_officer"]


def test_unknown_province_is_a_structured_404(api):
    response = api.get(
        "/api/v1/calendar/due",
        {"from": "2027-02-03T16:30:00+07:00", "working_days": "5", "province": "88"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_audit_endpoint_is_scoped(client, world):
    client.force_login(world.desk_b)
    items = client.get("/api/v1/audit").json()["items"]
    assert items
    assert all("Phan Đình Phùng" not in item["object_repr"] for item in items)


def test_openapi_schema_is_served(api):
    assert api.get("/api/openapi.json").status_code == 200


def test_health_endpoints(client, db):
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
