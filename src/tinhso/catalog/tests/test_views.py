"""The back-office pages of the catalog."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from tinhso.catalog import services
from tinhso.catalog.models import Procedure
from tinhso.catalog.tests.conftest import sample_document


def in_english(client) -> None:
    """Pages follow the language cookie (the VI/EN switch), not the test's active language."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _codes(response) -> list[str]:
    return re.findall(r'href="/catalog/procedures/([^/]+)/"', response.content.decode())


@pytest.fixture
def desk(client, world, catalog):
    client.force_login(world.desk_a)
    return client


def test_list_shows_every_procedure_and_the_nav_link(desk):
    response = desk.get(reverse("catalog:procedure_list"))
    assert response.status_code == 200
    assert _codes(response) == ["1.000000", "1.001193", "1.004194", "2.000488"]
    page = response.content.decode()
    assert 'href="/catalog/" aria-current="page"' in page
    assert reverse("catalog:import") not in page  # only administrators import


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"q": "khai sinh"}, ["1.001193"]),
        ({"q": "2.000"}, ["2.000488"]),
        ({"field": "cutru"}, ["1.004194"]),
        ({"level": "commune"}, ["1.001193", "1.004194"]),
        ({"online": "partial"}, ["1.000000"]),
        ({"online": "any", "level": "province"}, ["1.000000", "2.000488"]),
        ({"online": "none"}, []),
    ],
)
def test_list_filters(desk, params, codes):
    assert _codes(desk.get(reverse("catalog:procedure_list"), params)) == codes


def test_list_paginates(desk, monkeypatch):
    monkeypatch.setattr("tinhso.catalog.views.PAGE_SIZE", 3)
    first = desk.get(reverse("catalog:procedure_list"))
    assert len(_codes(first)) == 3
    second = desk.get(reverse("catalog:procedure_list"), {"page": 2})
    assert _codes(second) == ["2.000488"]


def test_list_needs_sign_in(client, catalog):
    response = client.get(reverse("catalog:procedure_list"))
    assert response.status_code == 302


def test_detail_shows_all_parts_with_amounts_in_dong(desk):
    in_english(desk)
    response = desk.get(reverse("catalog:procedure_detail", args=["2.000488"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam" in page
    assert "200.000 đ" in page and "100.000 đ" in page
    assert "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp" in page
    assert "Tra cứu, xác minh" in page
    assert "70%" in page
    assert "Sở Tư pháp" in page
    assert "<h2>Audit trail</h2>" not in page  # the trail is for administrators


def test_detail_shows_the_workflow_share_in_working_days_and_the_bundle(client, world, catalog):
    client.force_login(world.administrator)
    page = client.get(reverse("catalog:procedure_detail", args=["1.004194"])).content.decode()
    assert "60,5%" in page  # Vietnamese decimal comma
    assert "4,24" in page  # 60.5 % of 7 working days
    assert "Liên thông đăng ký khai sinh" in page
    assert "procedure.create" in page  # administrators see the audit trail


def test_unknown_procedure_is_404(desk):
    assert desk.get(reverse("catalog:procedure_detail", args=["9.999999"])).status_code == 404


def test_export_downloads(desk):
    response = desk.get(reverse("catalog:export"), {"format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="procedures.xlsx"' in response["Content-Disposition"]
    document = json.loads(desk.get(reverse("catalog:export"), {"format": "json"}).content)
    assert len(document["procedures"]) == 4


def test_import_page_is_for_administrators_only(client, world):
    client.force_login(world.desk_a)
    assert client.get(reverse("catalog:import")).status_code == 403
    upload = SimpleUploadedFile("catalog.json", json.dumps(sample_document()).encode())
    assert client.post(reverse("catalog:import"), {"file": upload}).status_code == 403
    assert not Procedure.objects.exists()


def test_administrator_imports_json_and_sees_the_counts(client, world):
    client.force_login(world.administrator)
    assert client.get(reverse("catalog:import")).status_code == 200
    upload = SimpleUploadedFile(
        "catalog.json", json.dumps(sample_document(), ensure_ascii=False).encode()
    )
    in_english(client)
    response = client.post(reverse("catalog:import"), {"file": upload}, follow=True)
    assert "4 procedures created, 0 updated, 0 unchanged" in response.content.decode()
    assert Procedure.objects.count() == 4


def test_administrator_imports_excel(client, world, catalog):
    client.force_login(world.administrator)
    upload = SimpleUploadedFile("catalog.xlsx", services.catalog_export_excel())
    response = client.post(reverse("catalog:import"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("catalog:import")


def test_import_errors_are_listed_in_vietnamese_and_nothing_is_written(client, world):
    client.force_login(world.administrator)
    document = sample_document()
    document["procedures"][1]["fees"][0]["amount"] = -5
    document["procedures"][3]["workflow"][0]["role"] = "boss"
    upload = SimpleUploadedFile("catalog.json", json.dumps(document).encode())

    response = client.post(reverse("catalog:import"), {"file": upload})

    page = response.content.decode()
    with translation.override("vi"):
        negative = translation.gettext("cannot be negative")
        heading = translation.ngettext(
            "The file has %(n)s error; nothing was imported.",
            "The file has %(n)s errors; nothing was imported.",
            2,
        ) % {"n": 2}
    assert negative != "cannot be negative", "the Vietnamese catalog lacks the message"
    assert f"procedures[1].fees[0].amount: {negative}" in page
    assert "procedures[3].workflow[0].role" in page
    assert heading in page
    assert not Procedure.objects.exists()


def test_import_refuses_files_it_cannot_read(client, world):
    client.force_login(world.administrator)
    in_english(client)
    wrong = SimpleUploadedFile("catalog.csv", b"a,b")
    page = client.post(reverse("catalog:import"), {"file": wrong}).content.decode()
    assert "Choose a .json or .xlsx file." in page
    broken = SimpleUploadedFile("catalog.json", b"{oops")
    page = client.post(reverse("catalog:import"), {"file": broken}).content.decode()
    assert "The file is not valid JSON" in page
    fake = SimpleUploadedFile("catalog.xlsx", b"not a zip")
    page = client.post(reverse("catalog:import"), {"file": fake}).content.decode()
    assert "The file is not an Excel workbook (.xlsx)." in page
