"""Builders for the desk, API and receipt tests of payments, on top of the dossier personas
(`tinhso.dossiers.tests.conftest.desk`). Data is set up through the real services; only the
payment platform is faked (a signed answer, a signed notification)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from tinhso.catalog.models import FeeCase, Procedure
from tinhso.core.models import User
from tinhso.payments import gateway, services, signing
from tinhso.payments.models import Bill, Payment, PaymentOrder

FEE = 50_000
COPY_FEE = 8_000
LEGAL_BASIS = "Thông tư 85/2019/TT-BTC"


@dataclass
class Cases:
    """The birth-registration procedure's fee cases: the default (paying) one, a free one and
    a cheaper one."""

    paying: FeeCase
    free: FeeCase
    copy: FeeCase


def fee_cases(procedure: Procedure) -> Cases:
    return Cases(
        paying=FeeCase.objects.create(
            procedure=procedure,
            position=1,
            description="Lệ phí đăng ký khai sinh",
            amount=FEE,
            legal_basis=LEGAL_BASIS,
        ),
        free=FeeCase.objects.create(
            procedure=procedure,
            position=2,
            description="Đăng ký khai sinh đúng hạn (miễn lệ phí)",
            amount=0,
            legal_basis="Luật Hộ tịch 2014, Điều 11",
        ),
        copy=FeeCase.objects.create(
            procedure=procedure,
            position=3,
            description="Cấp bản sao trích lục khai sinh",
            amount=COPY_FEE,
            legal_basis="Thông tư 281/2016/TT-BTC",
        ),
    )


def billed(desk, owner: User | None = None, at: datetime | None = None, **kwargs) -> Bill:
    """A dossier of `owner` (the world's citizen by default) submitted online, and its bill."""
    owner = desk.world.citizen if owner is None else owner
    dossier = desk.submit(at or timezone.now(), owner=owner, **kwargs)
    return dossier.bills.get()


def pay_cash(desk, bill: Bill) -> Payment:
    return services.bill_record_cash(actor=desk.desk, bill=bill, amount=bill.amount)


def order_for(bill: Bill) -> PaymentOrder:
    return services.order_create(
        actor=bill.owner,
        bill=bill,
        return_url="http://testserver/portal/payments/return",
        notify_url="http://testserver/api/v1/payments/notify",
    )


def notification(
    order: PaymentOrder,
    *,
    status: str = gateway.SUCCESS,
    amount: int | None = None,
    nonce: str = "n-1",
    at: datetime | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """The payment platform's signed server notification about `order`, with exactly the
    fields of `gateway.NOTIFICATION_FIELDS`."""
    moment = at or timezone.now()
    values = {
        "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
        "order_id": order.order_id,
        "transaction_id": f"PG{order.pk:012d}",
        "amount": order.amount if amount is None else amount,
        "status": status,
        "paid_at": moment.isoformat() if status == gateway.SUCCESS else "",
        "nonce": nonce,
        "sent_at": int(moment.timestamp()),
    }
    fields = {name: values[name] for name in gateway.NOTIFICATION_FIELDS}
    return signing.signed(fields, secret or settings.TINHSO_PAYMENT_SECRET)


def query_answer(
    order: PaymentOrder, status: str = gateway.SUCCESS
) -> Callable[[str, bytes, dict[str, str], float], tuple[int, bytes]]:
    """A gateway transport that answers a status query about `order` with a signed `status`."""

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float):
        assert url.endswith("/query")
        answer = signing.signed(
            {
                "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
                "order_id": order.order_id,
                "status": status,
                "transaction_id": f"PG{order.pk:012d}",
                "amount": order.amount,
                "paid_at": timezone.now().isoformat() if status == gateway.SUCCESS else "",
            },
            settings.TINHSO_PAYMENT_SECRET,
        )
        return 200, json.dumps(answer).encode()

    return transport


def unreachable(url: str, body: bytes, headers: dict[str, str], timeout: float):
    raise OSError("connection refused")
