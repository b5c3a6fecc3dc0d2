"""'My dossiers': a signed-in citizen sees their own dossiers and their history, nobody
else's; an official's session is not a citizen's."""

from __future__ import annotations

import pytest

from tinhso.core.models import User
from tinhso.dossiers import services
from tinhso.dossiers.tests.conftest import vn


@pytest.fixture
def own_and_other(desk):
    citizen = desk.world.citizen
    citizen.full_name = "Nguyễn Văn An"
    citizen.save(update_fields=["full_name"])
    other = User.objects.create_user(
        username="other", password="secret-pass-1", kind="citizen", personal_id="019090000002"
    )
    mine = desk.submit(vn(2025, 7, 7, 9, 0), owner=citizen)
    mine = services.dossier_request_supplement(
        actor=desk.desk, dossier=mine, reason="Thiếu bản sao giấy chứng sinh", at=vn(2025, 7, 7, 10)
    )
    theirs = desk.submit(vn(2025, 7, 8, 9, 0), owner=other)
    return citizen, other, mine, theirs


def test_my_dossiers_lists_only_the_owners(client, own_and_other):
    citizen, _other, mine, theirs = own_and_other
    client.force_login(citizen)
    response = client.get("/portal/my/")
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.code in html and theirs.code not in html
    assert "Nguyễn Văn An" in html  # the signed-in name in the header


def test_my_dossier_shows_its_history(client, own_and_other):
    citizen, _other, mine, _theirs = own_and_other
    client.force_login(citizen)
    response = client.get(f"/portal/my/{mine.code}/")
    assert response.status_code == 200
    events = response.context["events"]
    assert len(events) == 2  # submitted, then supplement requested
    assert "Thiếu bản sao giấy chứng sinh" in response.content.decode()


def test_another_citizens_dossier_is_not_found(client, own_and_other):
    citizen, _other, _mine, theirs = own_and_other
    client.force_login(citizen)
    response = client.get(f"/portal/my/{theirs.code}/")
    assert response.status_code == 404
    assert "Đăng ký khai sinh" not in response.content.decode()


def test_an_officials_session_is_not_a_citizens(client, desk, own_and_other):
    _citizen, _other, mine, _theirs = own_and_other
    client.force_login(desk.desk)  # the desk officer sees this dossier in the back office
    assert client.get(f"/portal/my/{mine.code}/").status_code == 404
    listing = client.get("/portal/my/")
    assert listing.status_code == 403
    assert mine.code not in listing.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, own_and_other):
    _citizen, _other, mine, _theirs = own_and_other
    response = client.get("/portal/my/")
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/signin/?next=%2Fportal%2Fmy%2F")
    assert client.get(f"/portal/my/{mine.code}/").status_code == 302
