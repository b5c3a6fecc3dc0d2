"""The portal's public pages: home, the procedure list with its filters, a procedure."""

from __future__ import annotations

from django.urls import reverse

BIRTH = "1.001193"


def test_home_has_a_labelled_search_box_and_the_portal_header(client, demo_catalog):
    response = client.get("/portal/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "portal/portal.css" in html
    assert '<label for="q"' in html and 'id="q"' in html and 'name="q"' in html
    assert "Thái Nguyên" in html
    assert "core/tinhso.css" not in html  # not the officials' layout


def test_home_offers_the_vneid_sign_in_with_the_way_back(client, demo_catalog):
    html = client.get("/portal/procedures/?q=khai+sinh").content.decode()
    signin = reverse("eid:signin")
    assert f'href="{signin}?next=%2Fportal%2Fprocedures%2F%3Fq%3Dkhai%2Bsinh"' in html


def test_search_without_diacritics_lists_birth_registration_first(client, demo_catalog):
    response = client.get("/portal/procedures/", {"q": "dang ky khai sinh"})
    assert response.status_code == 200
    results = response.context["page"].object_list
    assert results[0].code == BIRTH
    html = response.content.decode()
    assert f'href="/portal/procedures/{BIRTH}/"' in html
    assert "Thủ tục đăng ký khai sinh" in html


def test_filters_narrow_the_list_and_results_are_paginated(client, demo_catalog):
    response = client.get("/portal/procedures/", {"field": "hotich", "online": "none"})
    entries = list(response.context["page"].object_list)
    assert entries and all(e.field_code == "hotich" and e.online == "none" for e in entries)
    everything = client.get("/portal/procedures/")
    page = everything.context["page"]
    assert page.paginator.count > 200 and len(page.object_list) == 20
    second = client.get("/portal/procedures/", {"page": 2}).context["page"]
    assert second.number == 2
    police = client.get("/portal/procedures/", {"agency": "000.00.16.H55"}).context["page"]
    assert "3.000333" in [e.code for e in police.paginator.object_list]
    assert BIRTH not in [e.code for e in police.paginator.object_list]


def test_htmx_search_returns_only_the_results(client, demo_catalog):
    response = client.get(
        "/portal/procedures/",
        {"q": "ket hon"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "/portal/procedures/1.000894/" in html


def test_procedure_page_shows_what_it_takes(client, demo_catalog):
    from tinhso.catalog.models import Procedure

    birth = Procedure.objects.get(code=BIRTH)
    response = client.get(f"/portal/procedures/{BIRTH}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert birth.name in html
    for document in birth.documents.all():
        assert document.name in html
    assert birth.result_type in html
    assert birth.legal_basis.split(";")[0] in html
    assert "Liên thông thủ tục hành chính về đăng ký khai sinh" in html  # its bundle
    assert f'href="/portal/procedures/{BIRTH}/submit/"' in html
    assert "p-badge-full" in html


def test_fees_are_formatted_in_dong(client, demo_catalog):
    from tinhso.catalog.models import FeeCase

    fee = FeeCase.objects.filter(amount__gte=1000).select_related("procedure").first()
    html = client.get(f"/portal/procedures/{fee.procedure.code}/").content.decode()
    assert f"{fee.amount:,}".replace(",", ".") + " đ" in html


def test_a_procedure_not_online_has_no_submit_button(client, demo_catalog):
    html = client.get("/portal/procedures/1.000419/").content.decode()  # khai tử lưu động
    assert "/submit/" not in html
    assert "p-badge-none" in html


def test_an_unknown_procedure_is_a_portal_404(client, demo_catalog):
    response = client.get("/portal/procedures/9.999999/")
    assert response.status_code == 404
    assert "portal/portal.css" in response.content.decode()
