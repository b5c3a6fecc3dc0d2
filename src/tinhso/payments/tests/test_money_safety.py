"""Money is never lost, double-counted or faked: the gateway's server notification and the
status query are the only ways an online payment is recorded, each at most once; anything
that does not verify is refused and logged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings

from tinhso.catalog.models import FeeCase
from tinhso.core.models import AuditRecord
from tinhso.dossiers import services as dossier_services
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.payments import gateway, services, signing
from tinhso.payments.models import (
    Bill,
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    OrderStatus,
    Payment,
    Refund,
    RefundStatus,
)

desk = dossier_fixtures.desk  # the dossier personas, shared
vn = dossier_fixtures.vn
T0 = vn(2026, 11, 23, 9, 0)
FEE = 8_000


@pytest.fixture
def bill(desk) -> Bill:
    FeeCase.objects.create(procedure=desk.procedure, position=1, description="Miễn phí", amount=0)
    FeeCase.objects.create(
        procedure=desk.procedure,
        position=2,
        description="Cấp bản sao trích lục",
        amount=FEE,
        legal_basis="Thông tư 281/2016/TT-BTC",
    )
    dossier = desk.submit(T0, owner=desk.world.citizen)
    return dossier.bills.get()


def order_for(bill: Bill, at=T0):
    return services.order_create(
        actor=bill.owner,
        bill=bill,
        return_url="http://testserver/portal/payments/return",
        notify_url="http://testserver/api/v1/payments/notify",
        at=at,
    )


def notification(order, *, status="success", amount=None, at=T0, nonce="n1", secret=None, **extra):
    fields = {
        "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
        "order_id": order.order_id,
        "transaction_id": extra.pop("transaction_id", f"PG{order.pk:012d}"),
        "amount": order.amount if amount is None else amount,
        "status": status,
        "paid_at": at.isoformat() if status == "success" else "",
        "nonce": nonce,
        "sent_at": int(at.timestamp()),
        **extra,
    }
    return signing.signed(fields, secret or settings.TINHSO_PAYMENT_SECRET)


def handle(fields, at=T0):
    return services.notification_handle(fields=fields, remote_addr="10.0.0.9", at=at)


def test_a_dossier_with_a_fee_gets_a_bill_from_its_first_paying_case(bill):
    assert bill.amount == FEE and bill.status == BillStatus.UNPAID
    assert [line.description for line in bill.lines.all()] == ["Cấp bản sao trích lục"]
    assert bill.legal_basis == "Thông tư 281/2016/TT-BTC"
    assert AuditRecord.objects.filter(action="bill.created", object_id=str(bill.pk)).exists()


def test_a_dossier_without_a_fee_gets_no_bill(desk):
    dossier = desk.submit(T0)
    assert not dossier.bills.exists()


def test_a_verified_notification_marks_the_bill_paid_once(bill):
    order = order_for(bill)
    result = handle(notification(order))
    assert result.accepted and result.outcome == NotificationOutcome.ACCEPTED
    bill.refresh_from_db()
    order.refresh_from_db()
    assert bill.status == BillStatus.PAID and order.status == OrderStatus.PAID
    payment = Payment.objects.get()
    assert payment.amount == FEE and payment.receipt_number == "BL-2026-0000001"
    assert order.confirmed_via == "notification"
    trail = AuditRecord.objects.filter(object_id=str(bill.pk)).values_list("action", flat=True)
    assert "bill.paid" in trail


def test_failure_then_retry_with_a_new_order_pays_the_bill(bill):
    first = order_for(bill)
    assert handle(notification(first, status="failed", nonce="a")).accepted
    first.refresh_from_db()
    bill.refresh_from_db()
    assert first.status == OrderStatus.FAILED and bill.status == BillStatus.UNPAID
    second = order_for(bill)
    assert second.order_id != first.order_id
    handle(notification(second, nonce="b"))
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert Payment.objects.get().order == second


def test_a_duplicate_notification_changes_nothing(bill):
    order = order_for(bill)
    handle(notification(order, nonce="first"))
    again = handle(notification(order, nonce="second"), at=T0 + timedelta(seconds=30))
    assert again.accepted and again.outcome == NotificationOutcome.DUPLICATE
    assert Payment.objects.count() == 1
    assert list(GatewayNotification.objects.order_by("pk").values_list("outcome", flat=True)) == [
        NotificationOutcome.ACCEPTED,
        NotificationOutcome.DUPLICATE,
    ]


def test_the_same_message_sent_again_is_a_duplicate_not_a_second_payment(bill):
    order = order_for(bill)
    fields = notification(order)
    handle(fields)
    assert handle(dict(fields)).outcome == NotificationOutcome.DUPLICATE
    assert Payment.objects.count() == 1


def test_a_tampered_amount_is_refused_and_logged(bill):
    order = order_for(bill)
    fields = notification(order)
    fields["amount"] = "1000"  # changed after signing
    result = handle(fields)
    assert not result.accepted and result.outcome == NotificationOutcome.REFUSED_SIGNATURE
    # Signed correctly but for another amount than the order's: refused too.
    forged = notification(order, amount=1000, nonce="n2")
    result = handle(forged)
    assert not result.accepted and result.outcome == NotificationOutcome.REFUSED_AMOUNT
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID and not Payment.objects.exists()
    assert GatewayNotification.objects.filter(outcome=NotificationOutcome.REFUSED_AMOUNT).exists()
    assert AuditRecord.objects.filter(action="notification.refused").exists()


def test_a_bad_signature_is_refused_and_logged(bill):
    order = order_for(bill)
    result = handle(notification(order, secret="not-the-secret"))
    assert result.outcome == NotificationOutcome.REFUSED_SIGNATURE
    unsigned = notification(order)
    del unsigned["signature"]
    assert handle(unsigned).outcome == NotificationOutcome.REFUSED_SIGNATURE
    assert not Payment.objects.exists()
    logged = GatewayNotification.objects.filter(outcome=NotificationOutcome.REFUSED_SIGNATURE)
    assert logged.count() == 2 and logged.first().remote_addr == "10.0.0.9"


def test_a_notification_for_an_unknown_order_is_refused(bill):
    order = order_for(bill)
    fields = notification(order, order_id="TS99999999001")
    result = handle(fields)
    assert result.outcome == NotificationOutcome.REFUSED_UNKNOWN_ORDER
    assert not Payment.objects.exists()


def test_a_replayed_stale_notification_is_refused(bill):
    order = order_for(bill)
    captured = notification(order, at=T0)
    later = T0 + timedelta(seconds=settings.TINHSO_PAYMENT_NOTIFY_MAX_AGE_SECONDS + 1)
    assert handle(captured, at=later).outcome == NotificationOutcome.REFUSED_REPLAY
    assert not Payment.objects.exists()


def test_a_nonce_reused_for_another_message_is_refused(bill):
    order = order_for(bill)
    handle(notification(order, status="failed", nonce="same"))
    second = order_for(bill)
    result = handle(notification(second, nonce="same"))
    assert result.outcome == NotificationOutcome.REFUSED_REPLAY
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID


def test_a_malformed_notification_is_refused(bill):
    order = order_for(bill)
    fields = notification(order)
    fields = signing.signed(
        {k: v for k, v in fields.items() if k != "paid_at"}, settings.TINHSO_PAYMENT_SECRET
    )
    assert handle(fields).outcome == NotificationOutcome.REFUSED_MALFORMED


def test_a_payment_after_the_bill_expired_is_flagged_for_refund_not_lost(bill):
    order = order_for(bill)
    after = bill.expires_at + timedelta(minutes=1)
    assert services.bills_expire_due(now=after) == 1
    result = handle(notification(order, at=after), at=after)
    assert result.accepted and result.outcome == NotificationOutcome.FLAGGED_FOR_REFUND
    bill.refresh_from_db()
    assert bill.status == BillStatus.EXPIRED
    payment = Payment.objects.get()
    assert payment.needs_refund and payment.amount == FEE
    refund = Refund.objects.get(payment=payment)
    assert refund.status == RefundStatus.REQUESTED and refund.amount == FEE
    assert AuditRecord.objects.filter(action="payment.flagged_for_refund").exists()


def test_a_payment_after_the_dossier_was_withdrawn_is_flagged_for_refund(bill, desk):
    order = order_for(bill)
    dossier_services.dossier_withdraw(
        actor=desk.world.citizen, dossier=bill.dossier, reason="Không cần nữa", at=T0
    )
    bill.refresh_from_db()
    assert bill.status == BillStatus.CANCELLED
    result = handle(notification(order))
    assert result.outcome == NotificationOutcome.FLAGGED_FOR_REFUND
    assert Payment.objects.get().needs_refund


def test_no_second_order_while_one_waits_for_the_gateway(bill):
    from tinhso.core.errors import IllegalTransition

    order_for(bill)
    with pytest.raises(IllegalTransition):
        order_for(bill, at=T0 + timedelta(minutes=5))
    assert bill.orders.count() == 1


def test_a_second_order_paid_after_the_first_is_flagged_for_refund(bill):
    # The first request lapsed at the gateway's side, the payer tried again, then both went
    # through (the first one late).
    later = T0 + timedelta(minutes=settings.TINHSO_PAYMENT_ORDER_MINUTES + 1)
    first, second = order_for(bill), order_for(bill, at=later)
    handle(notification(first, nonce="a", at=later), at=later)
    result = handle(
        notification(second, nonce="b", transaction_id="PG000000000777", at=later), at=later
    )
    assert result.outcome == NotificationOutcome.FLAGGED_FOR_REFUND
    assert Payment.objects.count() == 2
    assert Payment.objects.filter(needs_refund=True).get().order == second


class FakeGateway:
    """The status-query side of the gateway, answering with signed fields."""

    def __init__(self, status: str, amount: int) -> None:
        self.status, self.amount, self.calls = status, amount, 0

    def __call__(self, url, body, headers, timeout):
        self.calls += 1
        asked = json.loads(body)
        assert signing.verify(asked, settings.TINHSO_PAYMENT_SECRET)
        answer = signing.signed(
            {
                "merchant_code": asked["merchant_code"],
                "order_id": asked["order_id"],
                "status": self.status,
                "transaction_id": "PG123456789012" if self.status == "success" else "",
                "amount": self.amount,
                "paid_at": T0.isoformat() if self.status == "success" else "",
            },
            settings.TINHSO_PAYMENT_SECRET,
        )
        return 200, json.dumps(answer).encode()


@pytest.fixture
def fake_gateway():
    fakes = []

    def use(status: str, amount: int) -> FakeGateway:
        fake = FakeGateway(status, amount)
        fakes.append(gateway.set_transport(fake))
        return fake

    yield use
    if fakes:
        gateway.set_transport(fakes[0])


def test_without_a_notification_the_bill_stays_unpaid_until_the_status_query(bill, fake_gateway):
    order = order_for(bill)
    fake = fake_gateway("pending", FEE)
    assert services.order_query(actor=bill.owner, order=order).status == OrderStatus.PENDING
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID
    fake.status = "success"
    order = services.order_query(actor=bill.owner, order=order)
    bill.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.confirmed_via == "query"
    assert bill.status == BillStatus.PAID and Payment.objects.count() == 1
    # A notification arriving afterwards is a duplicate.
    late = handle(notification(order, transaction_id="PG123456789012"))
    assert late.outcome == NotificationOutcome.DUPLICATE and Payment.objects.count() == 1


def test_a_status_answer_with_another_amount_records_nothing(bill, fake_gateway):
    order = order_for(bill)
    fake_gateway("success", FEE + 1)
    with pytest.raises(gateway.GatewayUnavailable):
        services.order_query(actor=bill.owner, order=order)
    assert not Payment.objects.exists()


def test_a_status_answer_with_a_bad_signature_records_nothing(bill):
    order = order_for(bill)

    def forged(url, body, headers, timeout):
        fields = {"order_id": order.order_id, "status": "success", "amount": FEE}
        return 200, json.dumps(signing.signed(fields, "wrong")).encode()

    previous = gateway.set_transport(forged)
    try:
        with pytest.raises(gateway.GatewayUnavailable):
            services.order_query(actor=None, order=order)
    finally:
        gateway.set_transport(previous)
    assert not Payment.objects.exists()


def test_another_citizen_cannot_pay_or_query_the_bill(bill, desk):
    from tinhso.core.errors import OutOfScope
    from tinhso.core.models import User

    stranger = User.objects.create_user(username="stranger", kind="citizen")
    with pytest.raises(OutOfScope):
        services.order_create(
            actor=stranger, bill=bill, return_url="http://x/r", notify_url="http://x/n"
        )
    order = order_for(bill)
    with pytest.raises(OutOfScope):
        services.order_query(actor=stranger, order=order)


def test_a_refused_dossier_cancels_its_unpaid_bill(desk):
    FeeCase.objects.create(procedure=desk.procedure, description="Lệ phí", amount=FEE)
    dossier = desk.submit(T0)
    dossier_services.dossier_refuse(actor=desk.desk, dossier=dossier, reason="Sai thủ tục", at=T0)
    bill = dossier.bills.get()
    assert bill.status == BillStatus.CANCELLED
    assert AuditRecord.objects.filter(action="bill.cancelled", object_id=str(bill.pk)).exists()


def test_a_success_after_a_failure_for_the_same_order_is_still_recorded(bill):
    order = order_for(bill)
    handle(notification(order, status="failed", nonce="a"))
    result = handle(notification(order, nonce="b"))
    assert result.outcome == NotificationOutcome.ACCEPTED
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and Payment.objects.get().order == order


def test_paid_in_time_but_notified_after_the_payable_date_counts_as_paid(bill):
    order = order_for(bill)
    paid = bill.expires_at - timedelta(seconds=5)
    heard = bill.expires_at + timedelta(seconds=30)
    fields = notification(order, at=paid)
    fields = signing.signed(
        {**fields, "sent_at": int(heard.timestamp())}, settings.TINHSO_PAYMENT_SECRET
    )
    assert handle(fields, at=heard).outcome == NotificationOutcome.ACCEPTED
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and not Payment.objects.get().needs_refund


def test_an_order_the_gateway_never_saw_is_closed_once_it_lapsed(bill, fake_gateway):
    order = order_for(bill)
    fake_gateway("not_found", 0)
    assert services.order_query(actor=None, order=order, at=T0).status == OrderStatus.PENDING
    lapsed = order.expires_at + timedelta(minutes=1)
    assert services.order_query(actor=None, order=order, at=lapsed).status == (
        OrderStatus.CANCELLED
    )
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID and not Payment.objects.exists()


def test_the_desk_issues_an_expired_bill_again(bill, desk):
    from tinhso.core.errors import IllegalTransition

    services.bills_expire_due(now=bill.expires_at + timedelta(hours=1))
    bill.refresh_from_db()
    with pytest.raises(IllegalTransition):
        services.bill_record_cash(actor=desk.desk, bill=bill, amount=FEE)
    fresh = services.bill_reissue(actor=desk.desk, bill=bill)
    assert fresh.pk != bill.pk and fresh.status == BillStatus.UNPAID and fresh.amount == FEE
    assert fresh.number.endswith("-P2")
    services.bill_record_cash(actor=desk.desk, bill=fresh, amount=FEE)
    fresh.refresh_from_db()
    assert fresh.status == BillStatus.PAID
    with pytest.raises(IllegalTransition):
        services.bill_reissue(actor=desk.desk, bill=fresh)
