"""What each persona may see, through the scope function, the pages and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tinhso.core.models import AdministrativeUnit, Agency, User
from tinhso.core.scoping import can_see, scope


def names(queryset) -> set[str]:
    return {str(obj) for obj in queryset}


def test_commune_official_sees_only_own_agency_and_its_officials(world):
    agencies = scope(Agency.objects.all(), world.desk_a)
    assert names(agencies) == {"UBND phường Phan Đình Phùng"}
    officials = scope(User.objects.all(), world.desk_a)
    assert set(officials.values_list("username", flat=True)) == {"desk.a"}


def test_commune_official_sees_only_own_commune_unit(world):
    units = scope(AdministrativeUnit.objects.all(), world.desk_a)
    assert list(units) == [world.commune_a]


def test_provincial_leader_sees_the_whole_province(world):
    agencies = scope(Agency.objects.all(), world.provincial_leader)
    assert agencies.count() == 3
    units = scope(AdministrativeUnit.objects.all(), world.provincial_leader)
    assert units.count() == 3


def test_provincial_department_specialist_sees_only_own_agency(world):
    assert names(scope(Agency.objects.all(), world.specialist_dept)) == {"Sở Tư pháp"}


def test_citizen_sees_only_their_own_account(world):
    assert list(scope(User.objects.all(), world.citizen)) == [world.citizen]
    assert not scope(Agency.objects.all(), world.citizen).exists()


def test_user_without_role_or_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not scope(Agency.objects.all(), world.nobody).exists()
    assert not scope(Agency.objects.all(), AnonymousUser()).exists()


def test_deactivated_official_sees_nothing(world):
    world.desk_a.is_active = False
    assert not can_see(world.desk_a, world.agency_a)


def test_units_in_other_provinces_are_out_of_a_provincial_leaders_scope(world):
    from tinhso.core import services

    other = services.unit_create(actor=None, code="06", name="Bắc Kạn (cũ)", level="province")
    assert not can_see(world.provincial_leader, other)


# --- through the pages ----------------------------------------------------------------------


@pytest.fixture
def as_desk_a(client, world):
    client.force_login(world.desk_a)
    return client


def test_agency_list_page_shows_only_the_officials_commune(as_desk_a, world):
    page = as_desk_a.get(reverse("core:agency_list")).content.decode()
    assert "UBND phường Phan Đình Phùng" in page
    assert "UBND phường Linh Sơn" not in page
    assert "Sở Tư pháp" not in page


@pytest.mark.parametrize(
    ("url_name", "attr"),
    [
        ("core:agency_detail", "agency_b"),
        ("core:unit_detail", "commune_b"),
        ("core:official_detail", "desk_b"),
    ],
)
def test_other_communes_records_cannot_be_opened(as_desk_a, world, url_name, attr):
    response = as_desk_a.get(reverse(url_name, args=[getattr(world, attr).pk]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url_name", "attr"),
    [
        ("core:agency_detail", "agency_a"),
        ("core:unit_detail", "commune_a"),
        ("core:official_detail", "desk_a"),
    ],
)
def test_own_communes_records_open(as_desk_a, world, url_name, attr):
    assert as_desk_a.get(reverse(url_name, args=[getattr(world, attr).pk])).status_code == 200


def test_official_list_page_hides_other_communes_officials(as_desk_a):
    page = as_desk_a.get(reverse("core:official_list")).content.decode()
    assert "desk.a" in page
    assert "desk.b" not in page


def test_unit_list_page_hides_other_communes(as_desk_a):
    page = as_desk_a.get(reverse("core:unit_list")).content.decode()
    assert "Phan Đình Phùng" in page
    assert "Linh Sơn" not in page


def test_audit_page_hides_other_communes_changes(as_desk_a):
    page = as_desk_a.get(reverse("core:audit_list")).content.decode()
    assert "UBND phường Phan Đình Phùng" in page
    assert "UBND phường Linh Sơn" not in page


def test_provincial_leader_opens_any_commune(client, world):
    client.force_login(world.provincial_leader)
    for agency in (world.agency_a, world.agency_b):
        assert client.get(reverse("core:agency_detail", args=[agency.pk])).status_code == 200


def test_pages_require_sign_in(client, world):
    response = client.get(reverse("core:agency_list"))
    assert response.status_code == 302
    assert reverse("core:signin") in response["Location"]


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("desk_a", "dossiers:inbox"),  # the day's work: dossiers to receive and return
        ("specialist_dept", "dossiers:inbox"),
        ("provincial_leader", "ioc:overview"),  # the province's figures
        ("administrator", "core:home"),
    ],
)
def test_each_official_lands_where_their_work_is(client, world, persona, landing):
    user = getattr(world, persona)
    response = client.post(
        reverse("core:signin"), {"username": user.username, "password": "secret-pass-1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse(landing)
    assert client.get(response["Location"]).status_code == 200


def test_a_next_page_wins_over_the_landing_page(client, world):
    wanted = reverse("core:agency_list")
    response = client.post(
        f"{reverse('core:signin')}?next={wanted}",
        {"username": world.desk_a.username, "password": "secret-pass-1"},
    )
    assert response["Location"] == wanted


# --- through the API ------------------------------------------------------------------------


def test_api_lists_only_agencies_in_scope(as_desk_a, world):
    data = as_desk_a.get("/api/v1/agencies").json()
    assert [item["code"] for item in data["items"]] == [world.agency_a.code]


def test_api_refuses_other_communes_agency_with_structured_error(as_desk_a, world):
    response = as_desk_a.get(f"/api/v1/agencies/{world.agency_b.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_requires_authentication(client, world):
    response = client.get("/api/v1/agencies")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
