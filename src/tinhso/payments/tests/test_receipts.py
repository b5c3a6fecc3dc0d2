"""The electronic receipt (biên lai thu phí, lệ phí): the amount in Vietnamese words, what the
receipt says for cash and online payments, the PDF, and the scoped view."""

from __future__ import annotations

import html
import re
import zlib

import pytest
from django.urls import reverse

from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk
from tinhso.payments import receipts, services
from tinhso.payments.models import Bill, Payment
from tinhso.payments.receipts import amount_in_words

from .factories import FEE, LEGAL_BASIS, billed, fee_cases, notification, order_for, pay_cash

# --- the amount in words ------------------------------------------------------------------------

desk = dossier_fixtures.desk  # the dossier personas, shared


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (1, "Một đồng"),
        (10, "Mười đồng"),
        (15, "Mười lăm đồng"),
        (21, "Hai mươi mốt đồng"),
        (25, "Hai mươi lăm đồng"),
        (100, "Một trăm đồng"),
        (105, "Một trăm linh năm đồng"),
        (110, "Một trăm mười đồng"),
        (1_000, "Một nghìn đồng"),
        (1_005, "Một nghìn không trăm linh năm đồng"),
        (8_000, "Tám nghìn đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (50_000, "Năm mươi nghìn đồng"),
        (105_000, "Một trăm linh năm nghìn đồng"),
        (100_000, "Một trăm nghìn đồng"),
        (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
        (1_000_500, "Một triệu năm trăm đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (2_010_000, "Hai triệu không trăm mười nghìn đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
        (
            1_234_567_891,
            "Một tỷ hai trăm ba mươi bốn triệu năm trăm sáu mươi bảy nghìn"
            " tám trăm chín mươi mốt đồng",
        ),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("bad", [-1, 1.5, "50000", True])
def test_amount_in_words_takes_whole_non_negative_numbers(bad):
    with pytest.raises((ValueError, TypeError)):
        amount_in_words(bad)


# --- what the receipt says ----------------------------------------------------------------------


@pytest.fixture
def bill(desk: Desk) -> Bill:
    fee_cases(desk.procedure)
    return billed(desk)


@pytest.fixture
def cash(desk: Desk, bill: Bill) -> Payment:
    return pay_cash(desk, bill)


def _text(payment: Payment) -> str:
    page = html.unescape(receipts.render_receipt_html(payment))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_a_cash_receipt_says_who_paid_what_for_which_dossier(desk, cash):
    text = _text(cash)
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text.upper()
    assert f"Số: {cash.receipt_number}" in text
    assert desk.world.agency_a.name in text and desk.world.agency_a.code in text
    assert "Nguyễn Văn An" in text and "019090000123" in text
    assert cash.bill.dossier.code in text and "Đăng ký khai sinh" in text
    assert "Lệ phí đăng ký khai sinh" in text and LEGAL_BASIS in text
    assert "50.000 đ" in text and "Năm mươi nghìn đồng" in text
    assert "Tiền mặt" in text and desk.desk.full_name in text
    assert "hoàn trả" not in text


def test_the_receipt_carries_the_qr_code_of_the_tracking_link(settings, desk, cash):
    settings.TINHSO_PUBLIC_BASE_URL = "https://dichvucong.thainguyen.gov.vn"
    page = receipts.render_receipt_html(cash)
    assert f"https://dichvucong.thainguyen.gov.vn/track/{cash.bill.dossier.code}" in page
    assert re.search(r'<svg [^>]*class="qr"', page)


def test_an_online_receipt_names_the_gateway_transaction(client, bill):
    order = order_for(bill)
    assert services.notification_handle(fields=notification(order)).accepted
    payment = Payment.objects.get()
    text = _text(payment)
    assert "Trực tuyến" in text and payment.transaction_id in text and order.order_id in text
    assert "Thu qua Nền tảng thanh toán" in text


def test_money_to_be_refunded_is_flagged_on_the_receipt(desk, bill):
    order = order_for(bill)
    services.bill_exempt(actor=desk.desk, bill=bill, reason="Hộ nghèo")
    services.notification_handle(fields=notification(order))  # paid after the bill closed
    payment = Payment.objects.get()
    assert payment.needs_refund
    assert "sẽ được hoàn trả" in _text(payment)


def test_a_refund_shows_on_the_receipt(desk, cash):
    refund = services.refund_request(actor=desk.desk, payment=cash, amount=20_000, reason="Thừa")
    services.refund_approve(actor=desk.agency_leader, refund=refund)
    cash.refresh_from_db()
    assert "Đã hoàn trả: 20.000 đ (Hai mươi nghìn đồng)" in _text(cash)


# --- the PDF ------------------------------------------------------------------------------------


def _pdf_titles(pdf: bytes) -> list[str]:
    """The titles in a WeasyPrint PDF (the document's and its bookmarks'). Its objects are
    compressed, and pypdf is not installed here: inflate the streams and read the strings."""
    data = pdf
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data += zlib.decompress(match.group(1))
        except zlib.error:
            continue
    titles = [
        bytes.fromhex(hexed.decode()).decode("utf-16")
        for hexed in re.findall(rb"/Title\s*<([0-9a-fA-F]+)>", data)
    ]
    return titles + [p.decode("latin-1") for p in re.findall(rb"/Title\s*\(([^)]*)\)", data)]


def test_the_receipt_is_a_pdf_titled_with_its_number(cash):
    pdf = receipts.render_receipt_pdf(cash)
    assert pdf.startswith(b"%PDF")
    assert f"Biên lai thu phí, lệ phí số {cash.receipt_number}" in _pdf_titles(pdf)


def test_the_desk_opens_the_receipt(client, desk, cash):
    client.force_login(desk.desk)
    response = client.get(reverse("payments:receipt_pdf", args=[cash.receipt_number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{cash.receipt_number}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF")


def test_the_receipt_view_is_scoped(client, desk, cash):
    url = reverse("payments:receipt_pdf", args=[cash.receipt_number])
    assert url == f"/payments/receipts/{cash.receipt_number}.pdf"
    client.force_login(desk.world.desk_b)
    assert client.get(url).status_code == 404
    client.force_login(desk.world.provincial_leader)
    assert client.get(url).status_code == 200
    client.force_login(desk.world.citizen)  # the owner prints it from the portal
    assert client.get(url).status_code == 403
    client.force_login(desk.desk)
    assert client.get(url.replace(".pdf", "9.pdf")).status_code == 404


def test_the_receipt_view_requires_sign_in(client, cash):
    response = client.get(reverse("payments:receipt_pdf", args=[cash.receipt_number]))
    assert response.status_code == 302


def test_a_receipt_response_serves_any_looked_up_payment(cash):
    response = receipts.receipt_response(cash)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f"{FEE:,}".replace(",", ".") + " đ" in _text(cash)
