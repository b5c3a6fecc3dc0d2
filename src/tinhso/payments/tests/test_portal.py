"""The citizen pays a fee from the portal: the fee section of their dossier page, the "Pay
online" button that sends the browser to the payment platform, the return page and the
receipt. Owner only, and never paid on the browser's word: the return address can say what it
likes, only the platform's verified notification or signed status answer marks a bill paid.

Assertions look at addresses, `data-*` attributes and amounts rather than at wording, which
the translators change."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from tinhso.catalog.models import FeeCase
from tinhso.core.models import User
from tinhso.payments import gateway, services, signing
from tinhso.payments.models import Bill, BillStatus, OrderStatus, Payment, PaymentOrder

FEE = 50_000
FEE_TEXT = "50.000 đ"
NOTIFY_PATH = "/api/v1/payments/notify"


@pytest.fixture
def citizen(desk) -> User:
    return desk.world.citizen


@pytest.fixture
def other_citizen(db) -> User:
    return User.objects.create_user(
        username="other", password="secret-pass-1", kind="citizen", personal_id="019090000002"
    )


@pytest.fixture
def bill(desk, citizen) -> Bill:
    FeeCase.objects.create(
        procedure=desk.procedure,
        position=1,
        description="Lệ phí đăng ký khai sinh",
        amount=FEE,
        legal_basis="Thông tư 85/2019/TT-BTC",
    )
    dossier = desk.submit(timezone.now(), owner=citizen)
    return dossier.bills.get()


def dossier_page(client, bill: Bill) -> str:
    response = client.get(f"/portal/my/{bill.dossier.code}/")
    assert response.status_code == 200
    return response.content.decode()


def pay_url(bill: Bill) -> str:
    return f"/portal/payments/{bill.number}/pay"


def start_payment(client, bill: Bill) -> PaymentOrder:
    response = client.post(pay_url(bill))
    assert response.status_code == 303, response.content
    return PaymentOrder.objects.filter(bill=bill).latest("created_at")


def notification(order: PaymentOrder, *, status: str = "success", nonce: str = "n1") -> dict:
    now = timezone.now()
    return signing.signed(
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": order.order_id,
            "transaction_id": f"PG{order.pk:012d}",
            "amount": order.amount,
            "status": status,
            "paid_at": now.isoformat() if status == gateway.SUCCESS else "",
            "nonce": nonce,
            "sent_at": int(now.timestamp()),
        },
        settings.TINHSO_PAYMENT_SECRET,
    )


def notify(client, fields: dict) -> None:
    """The platform's server notification, as it arrives: JSON at the notification URL."""
    response = client.post(NOTIFY_PATH, json.dumps(fields), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["code"] == "accepted"


def return_page(client, order: PaymentOrder, **extra: str):
    return client.get("/portal/payments/return", {"order_id": order.order_id, **extra})


def signed_answer(order: PaymentOrder, status: str):
    """A transport standing in for the platform's status query: a signed answer."""

    def transport(url, body, headers, timeout):
        assert url.endswith("/query")
        answer = {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": order.order_id,
            "status": status,
            "transaction_id": f"PG{order.pk:012d}",
            "amount": order.amount,
            "paid_at": timezone.now().isoformat() if status == gateway.SUCCESS else "",
        }
        return 200, json.dumps(signing.signed(answer, settings.TINHSO_PAYMENT_SECRET)).encode()

    return transport


@pytest.fixture
def gateway_transport():
    """Install a transport for the test; the previous one comes back afterwards."""
    previous = []

    def install(transport):
        previous.append(gateway.set_transport(transport))

    yield install
    if previous:
        gateway.set_transport(previous[0])


# --- the dossier page --------------------------------------------------------------------------


def test_the_owner_sees_the_fee_and_the_pay_button(client, bill, citizen):
    client.force_login(citizen)
    html = dossier_page(client, bill)
    assert 'data-state="unpaid"' in html
    assert "Lệ phí đăng ký khai sinh" in html and FEE_TEXT in html
    assert f'action="{pay_url(bill)}"' in html
    assert timezone.localtime(bill.expires_at).strftime("%d/%m/%Y") in html
    # The pay address opened as a page (back from signing in) leads to the dossier.
    response = client.get(pay_url(bill))
    assert response.status_code == 302
    assert response["Location"] == f"/portal/my/{bill.dossier.code}/"
    assert not PaymentOrder.objects.exists()


def test_a_dossier_without_a_fee_has_no_fee_section(client, desk, citizen):
    dossier = desk.submit(timezone.now(), owner=citizen)
    client.force_login(citizen)
    html = client.get(f"/portal/my/{dossier.code}/").content.decode()
    assert "data-bill=" not in html and "/portal/payments/" not in html


def test_an_expired_bill_shows_no_pay_button_and_cannot_be_paid(client, bill, citizen):
    Bill.objects.filter(pk=bill.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(citizen)
    html = dossier_page(client, bill)
    assert 'data-state="expired"' in html
    assert pay_url(bill) not in html
    # A stale page's button: the bill is not paid online, the citizen reads why.
    response = client.post(pay_url(bill), follow=True)
    assert response.redirect_chain[0] == (f"/portal/my/{bill.dossier.code}/", 303)
    assert not PaymentOrder.objects.exists()
    assert bill.number in response.content.decode()  # "Bill … can no longer be paid online"


def test_an_exempted_bill_shows_its_reason_and_no_pay_button(client, bill, citizen, desk):
    services.bill_exempt(actor=desk.desk, bill=bill, reason="Hộ nghèo theo Quyết định 24/2021")
    client.force_login(citizen)
    html = dossier_page(client, bill)
    assert 'data-state="exempted"' in html
    assert "Hộ nghèo theo Quyết định 24/2021" in html
    assert pay_url(bill) not in html


def test_a_cancelled_bill_shows_its_reason_and_no_pay_button(client, bill, citizen):
    services.bill_cancel(actor=None, bill=bill, reason="Hồ sơ bị từ chối tiếp nhận")
    client.force_login(citizen)
    html = dossier_page(client, bill)
    assert 'data-state="cancelled"' in html
    assert "Hồ sơ bị từ chối tiếp nhận" in html
    assert pay_url(bill) not in html


def test_a_cash_payment_shows_the_receipt_number(client, bill, citizen, desk):
    payment = services.bill_record_cash(actor=desk.desk, bill=bill, amount=FEE)
    client.force_login(citizen)
    html = dossier_page(client, bill)
    assert 'data-state="paid"' in html
    assert payment.receipt_number in html
    assert f"/portal/payments/receipts/{payment.receipt_number}.pdf" in html
    assert pay_url(bill) not in html


# --- who may pay -------------------------------------------------------------------------------


def test_another_citizen_gets_not_found_everywhere(client, bill, citizen, other_citizen):
    client.force_login(citizen)
    order = start_payment(client, bill)
    notify(client, notification(order))
    receipt = Payment.objects.get().receipt_number
    client.force_login(other_citizen)
    assert client.post(pay_url(bill)).status_code == 404
    assert return_page(client, order).status_code == 404
    assert client.get(f"/portal/payments/orders/{order.order_id}/status").status_code == 404
    assert client.post(f"/portal/payments/orders/{order.order_id}/query").status_code == 404
    assert client.get(f"/portal/payments/receipts/{receipt}.pdf").status_code == 404
    assert PaymentOrder.objects.count() == 1


def test_a_signed_out_visitor_is_sent_to_sign_in(client, bill):
    response = client.post(pay_url(bill))
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/signin/?next=%2Fportal%2Fmy%2F")
    response = client.get("/portal/payments/return", {"order_id": "TS00000001001"})
    assert response.status_code == 302
    assert response["Location"].startswith(
        "/eid/signin/?next=%2Fportal%2Fpayments%2Freturn%3Forder_id%3DTS00000001001"
    )
    assert client.get("/portal/payments/receipts/BL-2026-0000001.pdf").status_code == 302
    assert not PaymentOrder.objects.exists()


def test_an_officials_session_cannot_pay(client, bill, desk):
    client.force_login(desk.desk)
    assert client.post(pay_url(bill)).status_code == 403
    assert not PaymentOrder.objects.exists()


# --- paying ------------------------------------------------------------------------------------


def test_pay_sends_the_browser_to_the_gateway_with_a_signed_order(client, bill, citizen):
    client.force_login(citizen)
    response = client.post(pay_url(bill))
    assert response.status_code == 303
    location = response["Location"]
    assert location.startswith(settings.TINHSO_PAYMENT_GATEWAY_URL.rstrip("/") + "/pay?")
    fields = dict(parse_qsl(urlsplit(location).query))
    assert signing.verify(fields, settings.TINHSO_PAYMENT_SECRET)
    order = PaymentOrder.objects.get()
    assert fields["order_id"] == order.order_id and order.created_by == citizen
    assert fields["amount"] == str(FEE) and order.amount == FEE
    assert fields["return_url"] == "http://testserver/portal/payments/return"
    assert fields["notify_url"] == f"http://testserver{NOTIFY_PATH}"


def test_the_return_page_never_marks_the_bill_paid(client, bill, citizen):
    """The central safety rule: the browser's return, whatever it says and even signed, is not
    a payment."""
    client.force_login(citizen)
    order = start_payment(client, bill)
    claims = signing.signed(
        {
            "order_id": order.order_id,
            "status": "success",
            "amount": str(order.amount),
            "transaction_id": "PG-FAKE",
        },
        settings.TINHSO_PAYMENT_SECRET,
    )
    response = return_page(client, order, **claims)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="pending"' in html
    assert 'hx-trigger="every 3s"' in html
    assert f'action="/portal/payments/orders/{order.order_id}/query"' in html
    bill.refresh_from_db()
    order.refresh_from_db()
    assert bill.status == BillStatus.UNPAID and order.status == OrderStatus.PENDING
    assert not Payment.objects.exists()


def test_after_a_verified_notification_the_return_page_shows_paid(client, bill, citizen):
    client.force_login(citizen)
    order = start_payment(client, bill)
    notify(client, notification(order))
    response = return_page(client, order, status="failed")  # the address is ignored both ways
    html = response.content.decode()
    payment = Payment.objects.get()
    assert 'data-state="paid"' in html and "hx-trigger" not in html
    assert payment.receipt_number in html
    assert f"/portal/payments/receipts/{payment.receipt_number}.pdf" in html
    # The dossier page tells the same: paid, online, with its receipt, no button.
    page = dossier_page(client, bill)
    assert 'data-state="paid"' in page and payment.receipt_number in page
    assert pay_url(bill) not in page


def test_the_status_block_polls_while_pending_and_stops_when_final(client, bill, citizen):
    client.force_login(citizen)
    order = start_payment(client, bill)
    status_url = f"/portal/payments/orders/{order.order_id}/status"
    pending = client.get(status_url, {"n": "1"}, headers={"HX-Request": "true"})
    html = pending.content.decode()
    assert 'id="order-status"' in html and "<html" not in html
    assert f'hx-get="{status_url}?n=2"' in html and 'hx-trigger="every 3s"' in html
    # After two minutes it stops asking; "Check again" stays.
    tired = client.get(status_url, {"n": "40"}).content.decode()
    assert "hx-trigger" not in tired and 'data-action="check"' in tired
    notify(client, notification(order))
    final = client.get(status_url, {"n": "2"}).content.decode()
    assert 'data-state="paid"' in final and "hx-trigger" not in final


def test_a_pending_order_shows_waiting_and_starts_no_second_payment(client, bill, citizen):
    client.force_login(citizen)
    order = start_payment(client, bill)
    html = dossier_page(client, bill)
    assert f'action="/portal/payments/orders/{order.order_id}/query"' in html
    assert pay_url(bill) not in html
    response = client.post(pay_url(bill))
    assert response.status_code == 303
    assert response["Location"] == f"/portal/my/{bill.dossier.code}/"
    assert PaymentOrder.objects.count() == 1
    # Once the order can no longer be paid at the platform, paying again is offered.
    PaymentOrder.objects.filter(pk=order.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert pay_url(bill) in dossier_page(client, bill)


def test_check_again_applies_the_platforms_signed_answer(client, bill, citizen, gateway_transport):
    client.force_login(citizen)
    order = start_payment(client, bill)
    gateway_transport(signed_answer(order, gateway.SUCCESS))
    response = client.post(f"/portal/payments/orders/{order.order_id}/query", follow=True)
    assert response.redirect_chain == [(f"/portal/payments/return?order_id={order.order_id}", 303)]
    assert 'data-state="paid"' in response.content.decode()
    order.refresh_from_db()
    bill.refresh_from_db()
    assert order.confirmed_via == "query" and bill.status == BillStatus.PAID
    assert Payment.objects.count() == 1


def test_check_again_when_the_platform_is_down_says_so(client, bill, citizen, gateway_transport):
    client.force_login(citizen)
    order = start_payment(client, bill)

    def down(url, body, headers, timeout):
        raise ConnectionRefusedError("connection refused")

    gateway_transport(down)
    response = client.post(f"/portal/payments/orders/{order.order_id}/query", follow=True)
    html = response.content.decode()
    assert 'data-state="pending"' in html
    assert str(gateway.GatewayUnavailable.default_message) in html
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID


def test_a_failed_payment_offers_to_pay_again(client, bill, citizen):
    client.force_login(citizen)
    first = start_payment(client, bill)
    notify(client, notification(first, status=gateway.FAILED))
    html = return_page(client, first).content.decode()
    assert 'data-state="failed"' in html
    assert f'action="{pay_url(bill)}"' in html
    second = start_payment(client, bill)
    assert second.order_id != first.order_id


# --- the receipt -------------------------------------------------------------------------------


def test_the_owner_downloads_the_receipt(client, bill, citizen):
    client.force_login(citizen)
    order = start_payment(client, bill)
    notify(client, notification(order))
    payment = Payment.objects.get()
    response = client.get(f"/portal/payments/receipts/{payment.receipt_number}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{payment.receipt_number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
