"""The slips (phiếu) of Thông tư 01/2018/TT-VPCP: when each exists, what it says, the PDF,
the QR code of the tracking link, the scoped view, and offline rendering."""

from __future__ import annotations

import html
import logging
import re
import shutil
import socket
import subprocess
import unicodedata
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tinhso.dossiers import services, slips
from tinhso.dossiers.services import SubmittedDocument
from tinhso.dossiers.slip_views import slip_pdf
from tinhso.dossiers.slips import SlipKind
from tinhso.dossiers.tests.conftest import vn

AT = vn(2025, 11, 5, 9, 0)  # a Wednesday, in office hours
# 3 working days of 8 hours from Wednesday 09:00 (07:30-11:30, 13:00-17:00): Monday 09:00.
APPOINTMENT = "09 giờ 00 phút, ngày 10/11/2025"
NEW_APPOINTMENT = "16 giờ 00 phút, ngày 14/11/2025"
DOCUMENTS = ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
MISSING = ["Bản sao giấy chứng nhận kết hôn của cha mẹ", "Giấy chứng sinh (bản chính)"]


def _received(desk):
    dossier = desk.submit(AT, documents=[SubmittedDocument(name=name) for name in DOCUMENTS])
    return services.dossier_receive(actor=desk.desk, dossier=dossier, at=AT)


def _refused(desk):
    return services.dossier_refuse(
        actor=desk.desk,
        dossier=desk.submit(AT),
        reason="Thủ tục không thuộc thẩm quyền giải quyết của UBND phường",
        at=AT,
    )


def _supplement_requested(desk, dossier=None):
    return services.dossier_request_supplement(
        actor=desk.desk,
        dossier=dossier or _received(desk),
        reason="Hồ sơ chưa đủ thành phần theo quy định",
        missing=MISSING,
        at=vn(2025, 11, 6, 10, 0),
    )


def _apologized(desk):
    dossier = services.dossier_assign(
        actor=desk.department_leader,
        dossier=_received(desk),
        department=desk.department,
        assignee=desk.specialist,
        at=AT,
    )
    return services.dossier_apologize(
        actor=desk.agency_leader,
        dossier=dossier,
        new_due_at=vn(2025, 11, 14, 16, 0),
        reason="Cần xác minh thông tin nơi sinh với địa phương khác",
        at=vn(2025, 11, 7, 10, 0),
    )


def _available(dossier) -> set[str]:
    return {kind.value for kind in SlipKind if slips.slip_available(dossier, kind)}


# --- availability -----------------------------------------------------------------------------


def test_a_submitted_dossier_has_no_slip(desk):
    dossier = desk.submit(AT)
    assert _available(dossier) == set()
    assert slips.available_slips(dossier) == []


def test_receipt_once_received_and_for_good(desk):
    dossier = _received(desk)
    assert _available(dossier) == {"receipt"}
    dossier = services.dossier_withdraw(
        actor=desk.desk, dossier=dossier, reason="Người dân rút hồ sơ", at=AT
    )
    assert _available(dossier) == {"receipt"}


def test_refusal_only_when_refused(desk):
    assert _available(_refused(desk)) == {"refusal"}


def test_supplement_when_a_request_exists(desk):
    before_reception = _supplement_requested(desk, desk.submit(AT))
    assert _available(before_reception) == {"supplement"}
    after_reception = _supplement_requested(desk)
    assert _available(after_reception) == {"receipt", "supplement"}
    supplemented = services.dossier_supplement(
        actor=desk.desk, dossier=after_reception, at=vn(2025, 11, 7, 9, 0)
    )
    assert _available(supplemented) == {"receipt", "supplement"}
    assert slips.available_slips(supplemented) == [SlipKind.RECEIPT, SlipKind.SUPPLEMENT]


def test_apology_when_one_was_issued(desk):
    assert _available(_apologized(desk)) == {"receipt", "apology"}


def test_unknown_kind_is_never_available(desk):
    assert not slips.slip_available(_received(desk), "invoice")
    with pytest.raises(ValueError):
        slips.slip_context(_received(desk), "refusal")


# --- content ----------------------------------------------------------------------------------


def _common(page: str, dossier, title: str) -> None:
    page = html.unescape(page)
    assert dossier.code in page
    assert "UBND phường Phan Đình Phùng" in page
    assert "Nguyễn Văn An" in page
    assert title in page
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page
    assert "Độc lập - Tự do - Hạnh phúc" in page


def test_receipt_content(desk):
    dossier = _received(desk)
    page = html.unescape(slips.render_slip_html(dossier, "receipt"))
    _common(page, dossier, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    assert "Thái Nguyên, ngày 05 tháng 11 năm 2025" in page
    assert re.search(rf"Thời gian trả kết quả giải quyết hồ sơ: <[^>]+>{APPOINTMENT}<", page)
    assert "09 giờ 00 phút, ngày 05/11/2025" in page  # received
    assert "3 ngày làm việc" in page
    assert "Đăng ký khai sinh" in page
    for name in DOCUMENTS:
        assert name in page
    assert "Desk.A" in page  # the desk officer who received it signs


def test_refusal_content(desk):
    dossier = _refused(desk)
    page = html.unescape(slips.render_slip_html(dossier, "refusal"))
    _common(page, dossier, "Phiếu từ chối tiếp nhận giải quyết hồ sơ")
    assert "Thủ tục không thuộc thẩm quyền giải quyết của UBND phường" in page


def test_supplement_content_is_the_latest_request(desk):
    dossier = _supplement_requested(desk)
    dossier = services.dossier_supplement(actor=desk.desk, dossier=dossier, at=vn(2025, 11, 7, 9))
    dossier = services.dossier_request_supplement(
        actor=desk.desk,
        dossier=dossier,
        reason="Bản sao chưa được chứng thực",
        missing=[*MISSING, "Bản sao có chứng thực sổ hộ khẩu"],
        at=vn(2025, 11, 7, 14, 0),
    )
    context = slips.slip_context(dossier, "supplement")
    assert context["missing"] == [*MISSING, "Bản sao có chứng thực sổ hộ khẩu"]
    assert context["reason"] == "Bản sao chưa được chứng thực"
    assert context["number"].endswith(".2/YCBS")
    page = html.unescape(slips.render_slip_html(dossier, "supplement"))
    _common(page, dossier, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")
    for item in context["missing"]:
        assert f"<li>{item}</li>" in page
    assert "Thái Nguyên, ngày 07 tháng 11 năm 2025" in page


def test_apology_content(desk):
    dossier = _apologized(desk)
    context = slips.slip_context(dossier, "apology")
    assert context["previous_appointment_text"] == APPOINTMENT
    assert context["new_appointment_text"] == NEW_APPOINTMENT
    page = html.unescape(slips.render_slip_html(dossier, "apology"))
    _common(page, dossier, "Phiếu xin lỗi và hẹn lại ngày trả kết quả")
    assert APPOINTMENT in page
    assert NEW_APPOINTMENT in page
    assert "Cần xác minh thông tin nơi sinh với địa phương khác" in page
    assert "Ngày 05 tháng 11 năm 2025" in page  # when it was received
    assert "a.chairman" in page  # signed by the head of the agency


def test_dates_take_a_leading_zero_for_small_days_and_january_february():
    assert slips.format_long_date(vn(2026, 1, 5, 8)) == "ngày 05 tháng 01 năm 2026"
    assert slips.format_long_date(vn(2025, 3, 9, 8)) == "ngày 09 tháng 3 năm 2025"
    assert slips.format_long_date(vn(2025, 12, 25, 8)) == "ngày 25 tháng 12 năm 2025"
    assert slips.format_datetime(vn(2025, 12, 25, 7, 5)) == "07 giờ 05 phút, ngày 25/12/2025"
    assert slips.format_working_days(Decimal("10.00")) == "10 ngày làm việc"
    assert slips.format_working_days(Decimal("0.5")) == "0,5 ngày làm việc"


# --- QR code ----------------------------------------------------------------------------------


def test_the_qr_code_encodes_the_tracking_link(desk, settings, monkeypatch):
    settings.TINHSO_PUBLIC_BASE_URL = "https://dichvucong.thainguyen.gov.vn/"
    dossier = _received(desk)
    link = f"https://dichvucong.thainguyen.gov.vn/track/{dossier.code}"
    encoded: list[str] = []
    real_make = slips.segno.make

    def spy(content, *args, **kwargs):
        encoded.append(content)
        return real_make(content, *args, **kwargs)

    monkeypatch.setattr(slips.segno, "make", spy)
    qr = slips.tracking_qr(dossier)
    assert qr.link == link
    assert qr.svg.startswith("<svg")
    page = slips.render_slip_html(dossier, "receipt")
    assert encoded == [link, link]
    assert qr.svg in page
    assert link in html.unescape(page)


# --- PDF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SlipKind))
def test_pdf(desk, kind):
    dossier = {
        SlipKind.RECEIPT: _received,
        SlipKind.REFUSAL: _refused,
        SlipKind.SUPPLEMENT: _supplement_requested,
        SlipKind.APOLOGY: _apologized,
    }[kind](desk)
    pdf = slips.render_slip_pdf(dossier, kind)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        return  # text extraction needs poppler-utils
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))
    assert dossier.code in text
    assert kind.label.upper() in text  # the title is set in capitals
    assert "Nguyễn Văn An" in text


# --- the view ---------------------------------------------------------------------------------


def _get(client, user, pk: int, kind: str):
    """Through the URL when `dossiers:slip` is wired, else the view function itself."""
    try:
        url = reverse("dossiers:slip", kwargs={"pk": pk, "kind": kind})
    except NoReverseMatch:
        request = RequestFactory().get(f"/dossiers/{pk}/slips/{kind}.pdf")
        request.user = user or AnonymousUser()
        try:
            return slip_pdf(request, pk=pk, kind=kind)
        except Http404:
            return SimpleNamespace(status_code=404)
    if user is not None:
        client.force_login(user)
    return client.get(url)


def test_view_returns_the_pdf_inline(desk, client):
    dossier = _received(desk)
    response = _get(client, desk.desk, dossier.pk, "receipt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{dossier.code}-receipt.pdf"'
    assert response.content.startswith(b"%PDF")


def test_view_is_scoped(desk, client):
    dossier = _received(desk)
    assert _get(client, desk.world.desk_b, dossier.pk, "receipt").status_code == 404
    assert _get(client, desk.world.provincial_leader, dossier.pk, "receipt").status_code == 200


def test_view_404_for_unavailable_or_unknown_kind(desk, client):
    dossier = _received(desk)
    assert _get(client, desk.desk, dossier.pk, "refusal").status_code == 404
    assert _get(client, desk.desk, dossier.pk, "apology").status_code == 404
    assert _get(client, desk.desk, dossier.pk, "invoice").status_code == 404
    assert _get(client, desk.desk, dossier.pk + 1000, "receipt").status_code == 404


def test_view_requires_sign_in(desk, client):
    dossier = _received(desk)
    response = _get(client, None, dossier.pk, "receipt")
    assert response.status_code == 302


# --- offline rendering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://example.com/logo.png", "http://example.com/x.css", "file:///etc/passwd", "ftp://x"],
)
def test_the_fetcher_refuses_anything_but_data(url):
    with pytest.raises(slips.RemoteFetchRefused):
        slips.url_fetcher(url)


def test_the_fetcher_allows_inline_data():
    assert slips.url_fetcher("data:text/plain,xin%20ch%C3%A0o").read() == "xin chào".encode()


def test_rendering_never_opens_a_connection(monkeypatch, caplog):
    connections: list[object] = []

    def refuse(*args, **kwargs):
        connections.append(args)
        raise OSError("no network in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    page = (
        '<html><head><link rel="stylesheet" href="https://example.com/remote.css">'
        "<style>@import url(http://example.com/imported.css);</style></head>"
        '<body><img src="https://example.com/logo.png"><p>Tỉnh Số</p></body></html>'
    )
    with caplog.at_level(logging.WARNING, logger="tinhso.dossiers.slips"):
        pdf = slips.html_to_pdf(page)
    assert pdf.startswith(b"%PDF")
    assert connections == []
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "tinhso.dossiers.slips")
    assert "https://example.com/logo.png" in refused
    assert "https://example.com/remote.css" in refused
