"""The alerts' API: lists and details scoped to the caller, acknowledge and resolve with
their refusals, and the rules for provincial leaders and administrators only."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tinhso.core import services as core_services
from tinhso.core.models import Role
from tinhso.dossiers import services
from tinhso.ioc import alerts
from tinhso.ioc.models import Alert, AlertRule

from .conftest import MON, vn

BASE = "/api/v1/ioc"
AFTER_DEADLINE = vn(2026, 3, 5, 9, 0)


@pytest.fixture(autouse=True)
def _quiet(db):
    AlertRule.objects.update(is_active=False)
    alerts.reset_throttle()
    yield
    alerts.reset_throttle()


@pytest.fixture
def two_alerts(ops) -> dict[str, Alert]:
    """An overdue dossier in agency A and in agency B, one alert each."""
    world = ops.world
    rule = AlertRule.objects.create(
        name="Hồ sơ quá hạn",
        indicator="overdue_open",
        scope_kind="agency",
        comparison="gt",
        threshold=Decimal("0"),
        window_days=0,
        severity="critical",
    )
    ops.process(MON)
    services.dossier_receive(
        actor=world.desk_b, dossier=ops.submit(MON, agency=world.agency_b), at=MON
    )
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    return {
        "a": Alert.objects.get(agency=world.agency_a),
        "b": Alert.objects.get(agency=world.agency_b),
    }


def call(client, user, method: str, path: str, body=None, **params):
    if user is not None:
        client.force_login(user)
    if method == "get":
        return client.get(f"{BASE}{path}", params)
    return getattr(client, method)(
        f"{BASE}{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def leader_of_b(world):
    return core_services.official_save(
        actor=None,
        username="b.chairman",
        full_name="B Chairman",
        agency=world.agency_b,
        roles=[Role.AGENCY_LEADER],
    )


def test_the_list_is_scoped_to_the_callers_agency(client, ops, two_alerts):
    world = ops.world
    mine = call(client, world.desk_a, "get", "/alerts").json()
    assert mine["count"] == 1 and [a["id"] for a in mine["items"]] == [two_alerts["a"].pk]
    item = mine["items"][0]
    assert item["scope_label"] == world.agency_a.name and item["value"] == 1.0
    assert item["state"] == "open" and item["can_handle"] is False  # a desk officer
    everything = call(client, world.provincial_leader, "get", "/alerts").json()
    assert {a["id"] for a in everything["items"]} == {a.pk for a in two_alerts.values()}
    assert all(a["can_handle"] for a in everything["items"])


def test_the_list_filters_by_state_and_severity(client, ops, two_alerts):
    leader = ops.world.provincial_leader
    assert call(client, leader, "get", "/alerts", state="resolved").json()["count"] == 0
    assert call(client, leader, "get", "/alerts", severity="critical").json()["count"] == 2
    assert call(client, leader, "get", "/alerts", severity="info").json()["count"] == 0
    refused = call(client, leader, "get", "/alerts", state="sleeping")
    assert refused.status_code == 422 and refused.json()["code"] == "validation_failed"


@pytest.mark.parametrize("who", ["citizen", "nobody"])
def test_citizens_and_people_without_a_role_are_refused(client, ops, two_alerts, who):
    user = getattr(ops.world, who)
    for path in ("/alerts", f"/alerts/{two_alerts['a'].pk}", "/alert-rules"):
        response = call(client, user, "get", path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "out_of_scope"


def test_anonymous_callers_must_sign_in(client, db):
    assert client.get(f"{BASE}/alerts").status_code == 401


def test_another_agencys_alert_is_not_found(client, ops, two_alerts):
    response = call(client, ops.world.desk_a, "get", f"/alerts/{two_alerts['b'].pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = call(
        client, leader_of_b(ops.world), "post", f"/alerts/{two_alerts['a'].pk}/acknowledge"
    )
    assert response.status_code == 404
    assert Alert.objects.get(pk=two_alerts["a"].pk).state == "open"


def test_an_agency_leader_acknowledges_and_resolves_with_the_trail(client, ops, two_alerts):
    alert = two_alerts["a"]
    leader = ops.desk.agency_leader
    acknowledged = call(
        client, leader, "post", f"/alerts/{alert.pk}/acknowledge", {"note": "Đang xử lý"}
    )
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["state"] == "acknowledged"
    again = call(client, leader, "post", f"/alerts/{alert.pk}/acknowledge", {})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    resolved = call(client, leader, "post", f"/alerts/{alert.pk}/resolve", {"note": "Xong"})
    body = resolved.json()
    assert body["state"] == "resolved" and body["recovered"] is False
    assert body["resolved_by"] == leader.full_name
    assert [(e["action"], e["note"]) for e in body["events"]] == [
        ("raised", ""),
        ("acknowledged", "Đang xử lý"),
        ("resolved", "Xong"),
    ]
    detail = call(client, ops.world.desk_a, "get", f"/alerts/{alert.pk}").json()
    assert len(detail["events"]) == 3


def test_a_desk_officer_cannot_acknowledge_their_agencys_alert(client, ops, two_alerts):
    response = call(client, ops.world.desk_a, "post", f"/alerts/{two_alerts['a'].pk}/acknowledge")
    assert response.status_code == 403 and response.json()["code"] == "out_of_scope"


RULE = {
    "name": "Đúng hạn dưới 95 %",
    "indicator": "on_time_rate",
    "scope_kind": "province",
    "comparison": "lt",
    "threshold": "95",
    "window_days": 30,
    "severity": "warning",
    "emails": ["ioc@thainguyen.gov.vn"],
}


def test_an_administrator_creates_lists_and_changes_rules(client, ops):
    world = ops.world
    created = call(
        client,
        world.administrator,
        "post",
        "/alert-rules",
        {**RULE, "recipient_ids": [world.desk_a.pk]},
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["threshold"] == 95.0 and rule["recipient_ids"] == [world.desk_a.pk]
    assert rule["emails"] == ["ioc@thainguyen.gov.vn"] and rule["version"] == 1
    listed = call(client, world.provincial_leader, "get", "/alert-rules").json()
    assert rule["id"] in {r["id"] for r in listed}
    changed = call(
        client,
        world.provincial_leader,
        "put",
        f"/alert-rules/{rule['id']}",
        {**RULE, "scope_kind": "agency", "scope_id": None, "expected_version": 1},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["scope_id"] is None and changed.json()["version"] == 2
    stale = call(
        client,
        world.administrator,
        "put",
        f"/alert-rules/{rule['id']}",
        {**RULE, "expected_version": 1},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"


def test_a_bad_rule_is_refused_with_a_message(client, ops):
    response = call(
        client, ops.world.administrator, "post", "/alert-rules", {**RULE, "indicator": "nope"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed" and body["field"] == "indicator" and body["message"]


@pytest.mark.parametrize("who", ["desk_a", "specialist_dept"])
def test_officials_without_a_provincial_role_cannot_manage_rules(client, ops, who):
    user = getattr(ops.world, who)
    assert call(client, user, "get", "/alert-rules").status_code == 403
    assert call(client, user, "post", "/alert-rules", RULE).status_code == 403
    rule = AlertRule.objects.first()
    assert call(client, user, "put", f"/alert-rules/{rule.pk}", RULE).status_code == 403
    assert not AlertRule.objects.filter(name=RULE["name"]).exists()
