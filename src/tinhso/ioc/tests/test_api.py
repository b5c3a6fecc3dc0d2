"""The operations centre's API: definitions, values, the index, drill-down and targets, and
above all who may ask for what."""

from __future__ import annotations

import pytest

from tinhso.core.models import AuditRecord
from tinhso.ioc.models import Target

from .conftest import MON, vn

BASE = "/api/v1/ioc"
MARCH = {"period": "2026-03", "at": "2026-04-10T09:00:00+07:00"}


@pytest.fixture
def two_agencies(ops):
    """One dossier done on time in each commune's agency in March."""
    ops.done(MON, vn(2026, 3, 3, 10, 0))
    world = ops.world
    other = ops.submit(MON, agency=world.agency_b)
    from tinhso.dossiers import services

    services.dossier_receive(actor=world.desk_b, dossier=other, at=MON)
    return ops


def get(client, user, path: str, **params):
    if user is not None:
        client.force_login(user)
    return client.get(f"{BASE}{path}", params)


def test_definitions_are_listed_for_officials(client, ops):
    response = get(client, ops.desk.desk, "/indicators")
    assert response.status_code == 200
    by_code = {i["code"]: i for i in response.json()}
    on_time = by_code["on_time_rate"]
    assert on_time["unit"] == "percent" and on_time["numerator"] and on_time["denominator"]
    assert by_code["published_on_time"]["held"] is False
    only_index = get(client, None, "/indicators", family="index766").json()
    assert {i["family"] for i in only_index} == {"index766"}


@pytest.mark.parametrize("who", ["citizen", "nobody"])
def test_citizens_and_people_without_a_role_are_refused(client, ops, who):
    user = getattr(ops.world, who)
    for path in ("/indicators", "/indicators/on_time_rate", "/indexes/766", "/targets"):
        response = get(client, user, path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "out_of_scope"


def test_anonymous_callers_must_sign_in(client, db):
    assert client.get(f"{BASE}/indicators").status_code == 401


def test_an_official_sees_their_own_agency(client, two_agencies):
    world = two_agencies.world
    response = get(
        client,
        world.desk_a,
        "/indicators/on_time_rate",
        scope="agency",
        id=world.agency_a.pk,
        **MARCH,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["value"] == 100.0 and body["numerator"] == 1 and body["denominator"] == 1
    assert body["scope"] == {
        "kind": "agency",
        "id": world.agency_a.pk,
        "label": world.agency_a.name,
    }
    assert body["period"]["first"] == "2026-03-01" and body["period"]["last"] == "2026-03-31"


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ("agency", "agency_b"),  # another commune's agency
        ("unit", "commune_b"),  # another commune
        ("unit", "commune_a"),  # even their own commune: only the agency is theirs
        ("province", "province"),
        ("agency", "department_agency"),
    ],
)
def test_a_commune_official_asking_beyond_their_agency_is_refused(
    client, two_agencies, scope, target
):
    world = two_agencies.world
    response = get(
        client,
        world.desk_a,
        "/indicators/dossiers_received",
        scope=scope,
        id=getattr(world, target).pk,
        **MARCH,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    index = get(client, None, "/indexes/766", scope=scope, id=getattr(world, target).pk)
    assert index.status_code == 403


def test_departments_and_officials_of_another_agency_are_refused(client, two_agencies):
    desk = two_agencies.desk
    world = two_agencies.world
    own = get(
        client, desk.desk, "/indicators/dossiers_done", scope="official", id=desk.specialist.pk
    )
    assert own.status_code == 200
    for scope, pk in (("department", desk.department.pk), ("official", desk.specialist.pk)):
        response = get(client, world.desk_b, "/indicators/dossiers_done", scope=scope, id=pk)
        assert response.status_code == 403, scope


def test_a_field_is_counted_inside_the_callers_reach(client, two_agencies):
    world = two_agencies.world
    field = two_agencies.desk.procedure.field
    params = {"scope": "field", "id": field.pk, **MARCH}
    mine = get(client, world.desk_a, "/indicators/dossiers_received", **params).json()
    assert mine["value"] == 1  # agency A's only
    province = get(client, world.provincial_leader, "/indicators/dossiers_received", **params)
    assert province.json()["value"] == 2


def test_bad_requests(client, two_agencies):
    user = two_agencies.world.provincial_leader
    assert get(client, user, "/indicators/nonsense").status_code == 404
    response = get(client, None, "/indicators/on_time_rate", period="2026-13")
    assert response.status_code == 422 and response.json()["field"] == "period"
    assert get(client, None, "/indicators/on_time_rate", scope="galaxy").status_code == 422
    assert (
        get(client, None, "/indicators/on_time_rate", scope="agency", id=999999).status_code == 404
    )
    assert get(client, None, "/indicators/on_time_rate", at="2026-04-10T09:00").status_code == 422


def test_the_index_and_its_drilldown_for_a_provincial_leader(client, two_agencies):
    world = two_agencies.world
    response = get(client, world.provincial_leader, "/indexes/766", **MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["max_points"] == 100.0 and body["scope"]["kind"] == "province"
    rows = {r["code"]: r for g in body["groups"] for r in g["rows"]}
    assert rows["1.1"]["status"] == "no_data" and rows["1.1"]["value"] is None
    assert rows["1.1"]["missing"] == "not_held" and rows["1.1"]["score"] is None
    # 2.1: the done dossier on time and agency B's received one, open and overdue at the end
    # of March (due 4 March): 1 ÷ 2.
    assert rows["2.1"]["value"] == 50.0 and rows["2.1"]["score"] == 10.0
    assert body["available_points"] < 100
    late = get(client, None, "/indexes/766/rows/2.1/dossiers", **MARCH).json()
    assert late["kind"] == "dossiers" and late["count"] == 1
    assert late["items"][0]["agency_code"] == world.agency_b.code
    # Agency A's desk sees its own agency's index, with nothing late.
    mine = get(client, world.desk_a, "/indexes/766", scope="agency", id=world.agency_a.pk, **MARCH)
    mine_rows = {r["code"]: r for g in mine.json()["groups"] for r in g["rows"]}
    assert mine_rows["2.1"]["value"] == 100.0


def test_indicator_drilldown_lists_procedures_for_the_catalog(client, two_agencies):
    world = two_agencies.world
    response = get(
        client,
        world.provincial_leader,
        "/indicators/procedures_full_online/dossiers",
        **MARCH,
    )
    assert response.json() == {"kind": "procedures", "count": 0, "items": []}
    overdue = get(client, None, "/indicators/overdue_open/dossiers", **MARCH).json()
    assert overdue["count"] == 1 and overdue["items"][0]["status"] == "received"


def test_targets_are_set_by_the_province_and_shown_against_values(client, two_agencies):
    world = two_agencies.world
    body = {"indicator": "on_time_rate", "year": 2026, "value": 95, "note": "KH 15/KH-UBND"}
    client.force_login(world.desk_a)
    refused = client.put(f"{BASE}/targets", body, content_type="application/json")
    assert refused.status_code == 403
    client.force_login(world.provincial_leader)
    response = client.put(f"{BASE}/targets", body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["target"] == 95.0
    client.put(
        f"{BASE}/targets",
        {"indicator": "procedures_full_online", "year": 2026, "value": 80},
        content_type="application/json",
    )
    listed = get(client, None, "/targets", year=2026, at="2026-04-10T09:00:00+07:00").json()
    progress = {t["indicator"]: t for t in listed["targets"]}
    assert progress["on_time_rate"]["value"] == 100.0 and progress["on_time_rate"]["met"] is True
    assert progress["procedures_full_online"]["value"] == 100.0
    assert progress["procedures_full_online"]["gap"] == 20.0
    assert Target.objects.count() == 2
    assert AuditRecord.objects.filter(action="ioc.target.set").count() == 2
    bad = client.put(
        f"{BASE}/targets",
        {"indicator": "on_time_rate", "year": 2026, "value": 120},
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_breakdown_from_the_province_down_to_the_officials(client, two_agencies):
    world = two_agencies.world
    path = "/indicators/dossiers_received/breakdown"
    by_unit = get(client, world.provincial_leader, path, by="unit", **MARCH).json()
    assert {i["scope"]["label"]: i["value"] for i in by_unit["items"]} == {
        world.commune_a.name: 1,
        world.commune_b.name: 1,
    }
    by_agency = get(client, None, path, by="agency", **MARCH).json()
    assert {i["scope"]["id"]: i["value"] for i in by_agency["items"]} == {
        world.department_agency.pk: 0,
        world.agency_a.pk: 1,
        world.agency_b.pk: 1,
    }
    # Agency A's desk splits its own agency by official: only the specialist handled one.
    done = "/indicators/dossiers_done/breakdown"
    scope = {"scope": "agency", "id": world.agency_a.pk}
    by_official = get(client, world.desk_a, done, by="official", **scope, **MARCH).json()
    values = {i["scope"]["id"]: i["value"] for i in by_official["items"]}
    assert values[two_agencies.desk.specialist.pk] == 1
    assert sum(values.values()) == 1
    assert get(client, None, done, by="unit", **MARCH).status_code == 403  # the province
    assert get(client, None, done, by="galaxy", **scope).status_code == 422
