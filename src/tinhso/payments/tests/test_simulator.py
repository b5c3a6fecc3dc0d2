"""The payment platform simulator speaks the gateway's contract: a signed payment page whose
buttons play every outcome (including the notifications that never come, come twice or come
late), the signed status query and the browser return our side must not trust."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tinhso.core import schedule
from tinhso.integration import simulators
from tinhso.payments import gateway, services, signing, simulator
from tinhso.payments.models import (
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    OrderStatus,
    Payment,
    SimulatedTransaction,
)

from .conftest import FEE, RETURN_URL


def tx_of(order) -> SimulatedTransaction:
    return SimulatedTransaction.objects.get(order_id=order.order_id)


def outcomes() -> list[str]:
    return sorted(GatewayNotification.objects.values_list("outcome", flat=True))


def test_the_pay_page_shows_the_order_and_the_six_outcomes(paygov, fee_bill):
    order = paygov.order(fee_bill)
    page = paygov.open(order)
    assert page.status_code == 200
    html = page.content.decode()
    assert "50.000 đ" in html and order.order_id in html and order.description in html
    for value in simulator.OUTCOMES:
        assert f'data-outcome="{value}"' in html
    assert f'action="/sim/paygov/pay/{order.order_id}/"' in html
    tx = tx_of(order)
    assert tx.status == "pending" and tx.amount == FEE
    assert tx.transaction_id.startswith("PG") and len(tx.transaction_id) == 14


def test_the_pay_page_refuses_a_bad_signature(paygov, fee_bill):
    order = paygov.order(fee_bill)
    fields = gateway.payment_request_fields(order) | {"amount": "1000"}
    page = paygov.client.get("/sim/paygov/pay", fields)
    assert page.status_code == 400
    assert "Chữ ký không hợp lệ" in page.content.decode()
    assert "data-outcome" not in page.content.decode()
    assert not SimulatedTransaction.objects.exists()


def test_the_pay_page_refuses_an_expired_request(paygov, fee_bill):
    order = paygov.order(fee_bill, at=timezone.now() - timedelta(minutes=20))
    page = paygov.open(order)
    assert page.status_code == 400
    html = page.content.decode()
    assert "hết hạn" in html and "data-outcome" not in html
    assert not SimulatedTransaction.objects.exists()


def test_success_delivers_one_notification_and_the_bill_is_paid(paygov, fee_bill):
    order = paygov.pay(fee_bill, "success")
    tx = tx_of(order)
    assert tx.status == "success" and tx.paid_at is not None
    assert tx.notified_count == 1 and tx.last_notify_status.startswith("200")
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.PAID
    assert order.status == OrderStatus.PAID and order.confirmed_via == "notification"
    assert order.transaction_id == tx.transaction_id
    payment = Payment.objects.get()
    assert payment.amount == FEE and payment.transaction_id == tx.transaction_id
    assert outcomes() == [NotificationOutcome.ACCEPTED]


def test_failure_leaves_the_bill_unpaid_and_a_second_order_then_succeeds(paygov, fee_bill):
    first = paygov.pay(fee_bill, "failure")
    assert first.status == OrderStatus.FAILED
    assert tx_of(first).notified_count == 1 and tx_of(first).paid_at is None
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.UNPAID and not Payment.objects.exists()
    second = paygov.pay(fee_bill, "success")
    assert second.order_id != first.order_id and second.status == OrderStatus.PAID
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.PAID
    assert Payment.objects.get().order == second


def test_cancel_notifies_a_cancelled_order(paygov, fee_bill):
    order = paygov.pay(fee_bill, "cancel")
    assert order.status == OrderStatus.CANCELLED
    assert tx_of(order).status == "cancelled"
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.UNPAID


def test_never_notify_leaves_the_bill_unpaid_until_the_status_query(paygov, fee_bill):
    order = paygov.pay(fee_bill, "never_notify")
    assert tx_of(order).status == "success" and tx_of(order).notified_count == 0
    assert order.status == OrderStatus.PENDING
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.UNPAID and not GatewayNotification.objects.exists()

    order = services.order_query(actor=fee_bill.owner, order=order)
    assert order.status == OrderStatus.PAID and order.confirmed_via == "query"
    assert order.transaction_id == tx_of(order).transaction_id
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.PAID


def test_notify_twice_records_one_payment_and_logs_one_duplicate(paygov, fee_bill):
    order = paygov.pay(fee_bill, "notify_twice")
    assert tx_of(order).notified_count == 2
    assert Payment.objects.count() == 1
    assert outcomes() == sorted([NotificationOutcome.ACCEPTED, NotificationOutcome.DUPLICATE])
    nonces = set(GatewayNotification.objects.values_list("nonce", flat=True))
    assert len(nonces) == 2


def test_notify_late_is_delivered_only_by_deliver_due_with_a_later_clock(paygov, fee_bill):
    order = paygov.pay(fee_bill, "notify_late")
    tx = tx_of(order)
    assert tx.notified_count == 0 and tx.notify_due_at is not None
    assert tx.notify_due_at - tx.paid_at == timedelta(seconds=simulator.late_seconds())
    assert simulator.deliver_due() == 0
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.UNPAID

    later = timezone.now() + timedelta(seconds=simulator.late_seconds() + 1)
    with simulators.clock_at(lambda: later):
        assert simulator.deliver_due() == 1
        assert simulator.deliver_due() == 0  # once
    assert tx_of(order).notified_count == 1
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.PAID
    assert outcomes() == [NotificationOutcome.ACCEPTED]


def test_the_late_setting_is_read_with_a_default(settings):
    assert simulator.late_seconds() == getattr(
        settings, "TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS", 60
    )
    settings.TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS = 5
    assert simulator.late_seconds() == 5


def test_the_query_answers_not_found_for_an_unknown_order(paygov):
    answer = gateway.query_status("TS-UNKNOWN")
    assert answer.status == gateway.NOT_FOUND
    assert answer.transaction_id == "" and answer.paid_at is None


def test_the_query_answers_a_pending_order_as_pending(paygov, fee_bill):
    order = paygov.order(fee_bill)
    paygov.open(order)
    assert gateway.query_status(order.order_id).status == gateway.PENDING


def test_the_query_is_refused_with_a_bad_signature(paygov, settings):
    fields = signing.signed(
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": "TS1",
            "nonce": "n",
            "sent_at": 1,
        },
        "not-the-secret",
    )
    answer = Client().post("/sim/paygov/query", json.dumps(fields), content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    settings.TINHSO_PAYMENT_SIMULATOR_SECRET = "another-secret"
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.query_status("TS1")


def test_the_query_is_refused_for_another_merchant(paygov, settings):
    fields = signing.signed(
        {"merchant_code": "OTHER", "order_id": "TS1", "nonce": "n", "sent_at": 1},
        settings.TINHSO_PAYMENT_SIMULATOR_SECRET,
    )
    answer = Client().post("/sim/paygov/query", json.dumps(fields), content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "unknown_merchant"


def test_the_query_answers_503_while_the_simulator_is_down(paygov):
    simulators.set_down(simulator.SIMULATOR, timezone.now() + timedelta(hours=1))
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.query_status("TS1")


def test_the_browser_return_carries_a_valid_signature(paygov, fee_bill):
    order = paygov.order(fee_bill)
    paygov.open(order)
    back = paygov.choose(order, "success")
    assert back.status_code == 303
    location = urlsplit(back["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == RETURN_URL
    fields = dict(parse_qsl(location.query))
    assert set(fields) == {"order_id", "status", "transaction_id", "amount", "signature"}
    assert fields["order_id"] == order.order_id and fields["status"] == "success"
    assert fields["amount"] == str(FEE)
    assert signing.verify(fields, settings.TINHSO_PAYMENT_SECRET)
    assert not signing.verify(fields | {"status": "failed"}, settings.TINHSO_PAYMENT_SECRET)


def test_a_second_click_changes_nothing_and_sends_no_second_notification(paygov, fee_bill):
    order = paygov.pay(fee_bill, "success")
    again = paygov.choose(order, "failure")
    assert again.status_code == 303 and "status=success" in again["Location"]
    assert tx_of(order).status == "success" and tx_of(order).notified_count == 1


def test_reopening_a_settled_order_shows_its_outcome_and_the_way_back(paygov, fee_bill):
    order = paygov.pay(fee_bill, "success")
    page = paygov.open(order)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-outcome" not in html and 'data-status="success"' in html
    assert RETURN_URL in html


def test_an_unknown_outcome_is_refused(paygov, fee_bill):
    order = paygov.order(fee_bill)
    paygov.open(order)
    assert paygov.choose(order, "steal").status_code == 400
    assert tx_of(order).status == "pending"


def test_a_notification_that_cannot_be_delivered_is_recorded(paygov, fee_bill):
    def refused(*args):
        raise ConnectionRefusedError("refused")

    simulator.set_transport(refused)
    order = paygov.pay(fee_bill, "success")
    tx = tx_of(order)
    assert tx.notified_count == 1 and tx.last_notify_status.startswith("error")
    assert order.status == OrderStatus.PENDING


def test_the_console_lists_transactions_and_sends_a_notification_now(paygov, fee_bill):
    order = paygov.pay(fee_bill, "never_notify")
    page = paygov.client.get("/sim/paygov/")
    assert page.status_code == 200
    html = page.content.decode()
    assert order.order_id in html and "Gửi thông báo ngay" in html
    assert "Gửi các thông báo muộn đến hạn" in html
    sent = paygov.client.post(f"/sim/paygov/console/{order.order_id}/notify")
    assert sent.status_code == 303
    assert tx_of(order).notified_count == 1
    fee_bill.refresh_from_db()
    assert fee_bill.status == BillStatus.PAID


def test_the_console_seeds_the_daily_report(paygov, fee_bill):
    order = paygov.pay(fee_bill, "success")
    url = f"/sim/paygov/console/{order.order_id}/seed"
    paygov.client.post(url, {"action": "hide"})
    paygov.client.post(url, {"action": "amount", "value": "45000"})
    paygov.client.post(url, {"action": "status", "value": "reversed"})
    tx = tx_of(order)
    assert tx.report_hidden and tx.report_amount == 45_000 and tx.report_status == "reversed"
    paygov.client.post(url, {"action": "status", "value": "stolen"})
    assert tx_of(order).report_status == "reversed"
    day = timezone.localdate()
    paygov.client.post("/sim/paygov/console/phantom", {"day": day.isoformat(), "amount": "7000"})
    phantom = SimulatedTransaction.objects.get(amount=7000)
    assert phantom.status == "success" and timezone.localtime(phantom.paid_at).hour == 12
    assert paygov.client.post("/sim/paygov/console/deliver-due").status_code == 303


def test_deliver_due_runs_every_minute_when_simulators_are_on():
    job = {job.name: job for job in schedule.jobs()}["paygov_sim.deliver_due"]
    assert job.every == timedelta(minutes=1)
    assert job.task is simulator.deliver_due_notifications
