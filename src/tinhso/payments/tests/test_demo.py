"""The demo's bills are settled through the real services: cash at the desk, online through
a signed notification, each with its receipt."""

from __future__ import annotations

from tinhso.catalog.models import FeeCase
from tinhso.dossiers import services as dossier_services
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.payments.demo import pay_demo_bills
from tinhso.payments.models import Bill, BillStatus, GatewayNotification, Payment

desk = dossier_fixtures.desk  # the dossier personas, shared
T0 = dossier_fixtures.vn(2026, 11, 23, 9, 0)


def test_demo_bills_are_paid_in_cash_at_the_desk_or_online(desk):
    FeeCase.objects.create(procedure=desk.procedure, description="Lệ phí", amount=20_000)
    at_desk = dossier_services.dossier_receive_at_desk(
        actor=desk.desk, procedure=desk.procedure, applicant=desk.applicant, at=T0
    )
    online = desk.received(T0)
    waiting = desk.submit(T0)  # not received yet: nobody has paid
    assert pay_demo_bills(seed=3) == 2  # seed 3 draws 0.24 and 0.54: both bills settled
    cash = Payment.objects.get(bill__dossier=at_desk)
    assert cash.method == "cash" and cash.recorded_by == desk.desk
    paid_online = Payment.objects.get(bill__dossier=online)
    assert paid_online.method == "online" and paid_online.order.confirmed_via == "notification"
    assert GatewayNotification.objects.get().outcome == "accepted"
    assert Bill.objects.get(dossier=waiting).status == BillStatus.UNPAID
    assert pay_demo_bills(seed=3) == 0  # settled bills are left alone
