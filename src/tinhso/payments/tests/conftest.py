"""Fixtures of the payments tests: the dossier personas of `tinhso.dossiers`, a procedure
with a fee and a dossier billed for it, and the payment platform simulator reached
in-process (our gateway calls it, and it notifies us, through the test client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from tinhso.catalog.models import FeeCase
from tinhso.dossiers.tests.conftest import Desk, desk  # noqa: F401 - the dossier personas
from tinhso.integration.simulators import in_process_transport
from tinhso.payments import gateway, services, simulator
from tinhso.payments.models import Bill, PaymentOrder

FEE = 50_000
RETURN_URL = "http://testserver/portal/payments/return"
NOTIFY_URL = "http://testserver/api/v1/payments/notify"


@dataclass
class Paygov:
    """Drives the simulator the way a payer's browser does."""

    client: Client = field(default_factory=Client)

    def order(self, bill: Bill, *, at: datetime | None = None) -> PaymentOrder:
        return services.order_create(
            actor=bill.owner, bill=bill, return_url=RETURN_URL, notify_url=NOTIFY_URL, at=at
        )

    def open(self, order: PaymentOrder) -> HttpResponse:
        """The payment page our side sends the browser to."""
        url = urlsplit(gateway.payment_url(order))
        return self.client.get(f"{url.path}?{url.query}")

    def choose(self, order: PaymentOrder, outcome: str) -> HttpResponse:
        return self.client.post(f"/sim/paygov/pay/{order.order_id}/", {"outcome": outcome})

    def pay(
        self, bill: Bill, outcome: str = "success", *, at: datetime | None = None
    ) -> PaymentOrder:
        order = self.order(bill, at=at)
        assert self.open(order).status_code == 200
        assert self.choose(order, outcome).status_code == 303
        order.refresh_from_db()
        return order


@pytest.fixture
def paygov(db) -> Iterator[Paygov]:
    """Our gateway calls and the simulator's notifications, both through the test client."""
    previous_gateway = gateway.set_transport(in_process_transport)
    previous_simulator = simulator.set_transport(in_process_transport)
    try:
        yield Paygov()
    finally:
        gateway.set_transport(previous_gateway)
        simulator.set_transport(previous_simulator)


@pytest.fixture
def fee_case(desk: Desk) -> FeeCase:  # noqa: F811
    return FeeCase.objects.create(
        procedure=desk.procedure,
        position=1,
        description="Lệ phí đăng ký",
        amount=FEE,
        legal_basis="Thông tư 281/2016/TT-BTC",
    )


@pytest.fixture
def new_bill(desk: Desk, fee_case: FeeCase) -> Callable[..., Bill]:  # noqa: F811
    """A new dossier of the citizen, submitted at `at` (default now), and the bill it got."""

    def make(at: datetime | None = None) -> Bill:
        dossier = desk.submit(at or timezone.now(), owner=desk.world.citizen)
        return dossier.bills.get()

    return make


@pytest.fixture
def fee_bill(new_bill: Callable[..., Bill]) -> Bill:
    return new_bill()
