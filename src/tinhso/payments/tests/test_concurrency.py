"""Concurrency on PostgreSQL: the gateway fires the same notification many times at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tinhso.catalog.models import FeeCase
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.payments import services
from tinhso.payments.models import (
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    Payment,
    ReceiptCounter,
)

from .test_money_safety import notification, order_for

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and parallel writers need PostgreSQL"
)

SENDERS = 20
desk = dossier_fixtures.desk  # the dossier personas, shared
vn = dossier_fixtures.vn
T0 = vn(2026, 11, 23, 9, 0)


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_identical_notifications_record_one_payment(desk):
    FeeCase.objects.create(procedure=desk.procedure, description="Lệ phí", amount=50_000)
    bill = desk.submit(T0, owner=desk.world.citizen).bills.get()
    order = order_for(bill)
    fields = notification(order, at=T0)
    barrier = threading.Barrier(SENDERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait(20)
            result = services.notification_handle(fields=dict(fields), at=T0)
            outcomes.append(result.outcome)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(outcomes) == SENDERS
    assert outcomes.count(NotificationOutcome.ACCEPTED) == 1
    assert outcomes.count(NotificationOutcome.DUPLICATE) == SENDERS - 1
    payment = Payment.objects.get()
    assert payment.amount == 50_000 and not payment.needs_refund
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert GatewayNotification.objects.count() == SENDERS
    # No receipt number was spent on the duplicates.
    assert ReceiptCounter.objects.get().last == 1
