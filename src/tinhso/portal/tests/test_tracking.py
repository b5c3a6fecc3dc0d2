"""Public tracking: the dossier code and a second factor show the status, the procedure,
the agency and the appointment, and nothing else; any mismatch gets one generic message;
attempts are limited per client address."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from tinhso.dossiers.tests.conftest import vn

GENERIC = "No dossier matches the information entered."
LIMITED = "Too many attempts from your connection. Please wait ten minutes and try again."


@pytest.fixture
def dossier(desk):
    return desk.received(vn(2025, 7, 7, 9, 0))


def track(client, code, factor, **extra):
    return client.post("/portal/track/", {"code": code, "factor": factor}, **extra)


def generic_message() -> str:
    return translation.gettext(GENERIC)


def test_right_code_and_phone_show_the_status_and_appointment_only(client, desk, dossier):
    response = track(client, dossier.code, "0912 345 678")
    assert response.status_code == 200
    html = response.content.decode()
    result = response.context["result"]
    assert result.procedure_name == "Đăng ký khai sinh"
    assert result.agency_name == desk.world.agency_a.name
    assert result.due_at == dossier.due_at
    assert str(result.status_label) in html
    assert dossier.due_at.astimezone(vn(2025, 1, 1).tzinfo).strftime("%d/%m/%Y") in html
    # Nothing about the applicant, not even back in the form.
    for secret in ("Nguyễn Văn An", "019090000123", "0912345678", "Phan Đình Phùng, Thái"):
        assert secret not in html
    assert generic_message() not in html


def test_the_identification_number_and_an_international_phone_also_work(client, dossier):
    assert track(client, dossier.code, "019090000123").context.get("result")
    assert track(client, dossier.code.lower(), "+84 912 345 678").context.get("result")


def test_a_wrong_factor_and_an_unknown_code_get_the_same_generic_message(client, dossier):
    wrong = track(client, dossier.code, "0999999999")
    unknown = track(client, "000.00.99.H55-250707-0001", "0912345678")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "result" not in response.context
        assert generic_message() in response.content.decode()
    assert wrong.content.decode().count(generic_message()) == 1
    # The two answers differ only by the code echoed back in the form.
    assert _comparable(wrong, dossier.code) == _comparable(unknown, "000.00.99.H55-250707-0001")


def _comparable(response, code: str) -> str:
    html = response.content.decode().replace(code, "CODE")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_empty_fields_are_explained_next_to_them(client, db):
    response = track(client, "", "")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()


def test_attempts_are_limited_per_client_address(client, dossier):
    for _ in range(10):
        assert track(client, dossier.code, "0000000000").status_code == 200
    limited = track(client, dossier.code, "0912345678")
    assert limited.status_code == 429
    assert "result" not in limited.context
    assert translation.gettext(LIMITED) in limited.content.decode()
    # Another address is not affected.
    other = track(client, dossier.code, "0912345678", REMOTE_ADDR="10.1.2.3")
    assert other.context.get("result")


def test_the_qr_link_opens_the_form_with_the_code(client, dossier):
    response = client.get(f"/track/{dossier.code}")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/track/{dossier.code}"
    form = client.get(response["Location"])
    assert f'value="{dossier.code}"' in form.content.decode()
    assert "result" not in form.context
