"""The adapter to the national payment platform (Nền tảng thanh toán trên Cổng DVC quốc gia,
"Paygov"), the one place that knows its messages (docs/payments.md).

- Payment request: the citizen's browser is sent to `<gateway>/pay?<signed fields>`.
- Browser return: the gateway sends the browser back to our return URL. Never trusted.
- Server notification: the gateway POSTs a signed JSON object to our notification URL.
- Status query: we POST `<gateway>/query`; the signed answer says pending, success, failed,
  cancelled or not_found.
- Daily report: we POST `<gateway>/report`; the answer carries the day's transactions as a
  JSON string and its signature.

Calls go through a swappable transport (tests route them to the simulator in-process)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.core.errors import DomainError
from tinhso.integration.adapters.national_portal import Transport, urllib_transport
from tinhso.payments import signing
from tinhso.payments.models import PaymentOrder

#: Outcomes the gateway reports for a transaction.
SUCCESS = "success"
FAILED = "failed"
CANCELLED = "cancelled"
PENDING = "pending"
NOT_FOUND = "not_found"
FINAL = frozenset({SUCCESS, FAILED, CANCELLED})

NOTIFICATION_FIELDS = (
    "merchant_code",
    "order_id",
    "transaction_id",
    "amount",
    "status",
    "paid_at",
    "nonce",
    "sent_at",
)


class GatewayUnavailable(DomainError):
    code = "gateway_unavailable"
    status = 502
    default_message = gettext_lazy(
        "The payment platform did not answer. Try again in a few minutes."
    )


def _secret() -> str:
    return settings.TINHSO_PAYMENT_SECRET


def _base() -> str:
    return settings.TINHSO_PAYMENT_GATEWAY_URL.rstrip("/")


def nonce() -> str:
    return secrets.token_hex(16)


def iso(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value is not None else ""


# --- payment request ----------------------------------------------------------------------


def payment_request_fields(order: PaymentOrder) -> dict[str, str]:
    return signing.signed(
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": order.order_id,
            "amount": order.amount,
            "currency": "VND",
            "description": order.description,
            "return_url": order.return_url,
            "notify_url": order.notify_url,
            "expires_at": iso(order.expires_at),
            "locale": "vi",
        },
        _secret(),
    )


def payment_url(order: PaymentOrder) -> str:
    """Where to send the citizen's browser to pay `order`."""
    return f"{_base()}/pay?{urlencode(payment_request_fields(order))}"


# --- server notification -------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    merchant_code: str
    order_id: str
    transaction_id: str
    amount: int
    status: str
    paid_at: datetime | None
    nonce: str
    sent_at: int


class MalformedNotification(ValueError):
    pass


def parse_notification(fields: dict[str, Any]) -> Notification:
    """The notification's fields, checked for shape (not for signature or meaning)."""
    missing = [name for name in NOTIFICATION_FIELDS if name not in fields]
    if missing:
        raise MalformedNotification(f"missing fields: {', '.join(missing)}")
    amount, sent_at = str(fields["amount"]), str(fields["sent_at"])
    if not amount.isdigit() or not sent_at.isdigit():
        raise MalformedNotification("amount and sent_at are whole numbers")
    status = str(fields["status"])
    if status not in FINAL:
        raise MalformedNotification(f"unknown status {status!r}")
    paid_at = parse_datetime(str(fields["paid_at"])) if fields["paid_at"] else None
    if status == SUCCESS and paid_at is None:
        raise MalformedNotification("a successful payment has paid_at")
    return Notification(
        merchant_code=str(fields["merchant_code"]),
        order_id=str(fields["order_id"]),
        transaction_id=str(fields["transaction_id"]),
        amount=int(amount),
        status=status,
        paid_at=paid_at,
        nonce=str(fields["nonce"]),
        sent_at=int(sent_at),
    )


def verify(fields: dict[str, Any]) -> bool:
    return signing.verify(fields, _secret())


# --- status query and daily report ---------------------------------------------------------

_transport: Transport = urllib_transport


def set_transport(transport: Transport | None) -> Transport:
    """Swap how requests reach the gateway (tests: the simulator in-process); None: HTTP."""
    global _transport
    previous = _transport
    _transport = transport or urllib_transport
    return previous


def _call(path: str, fields: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(signing.signed(fields, _secret())).encode()
    headers = {"Content-Type": "application/json"}
    try:
        status, answer = _transport(
            f"{_base()}/{path}", body, headers, settings.TINHSO_PAYMENT_TIMEOUT
        )
    except OSError as exc:
        raise GatewayUnavailable(detail=f"{exc.__class__.__name__}: {exc}") from exc
    if status != 200:
        raise GatewayUnavailable(detail=f"HTTP {status}")
    try:
        data = json.loads(answer)
    except ValueError as exc:
        raise GatewayUnavailable(detail="the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise GatewayUnavailable(detail="the answer is not an object")
    return data


@dataclass(frozen=True)
class TransactionStatus:
    order_id: str
    status: str
    transaction_id: str
    amount: int
    paid_at: datetime | None


def query_status(order_id: str) -> TransactionStatus:
    """Ask the gateway what became of `order_id`; the answer must carry a valid signature."""
    data = _call(
        "query",
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": order_id,
            "nonce": nonce(),
            "sent_at": int(timezone.now().timestamp()),
        },
    )
    if not signing.verify(data, _secret()):
        raise GatewayUnavailable(_("The payment platform's answer has a bad signature."))
    if data.get("order_id") != order_id:
        raise GatewayUnavailable(detail="the answer is about another order")
    amount = str(data.get("amount") or "0")
    return TransactionStatus(
        order_id=order_id,
        status=str(data.get("status", "")),
        transaction_id=str(data.get("transaction_id", "")),
        amount=int(amount) if amount.isdigit() else -1,
        paid_at=parse_datetime(str(data["paid_at"])) if data.get("paid_at") else None,
    )


@dataclass(frozen=True)
class ReportLine:
    order_id: str
    transaction_id: str
    amount: int
    status: str
    paid_at: datetime | None


def daily_report(day: date) -> list[ReportLine]:
    """The gateway's list of the merchant's transactions settled on `day` (province time)."""
    data = _call(
        "report",
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "date": day.isoformat(),
            "nonce": nonce(),
            "sent_at": int(timezone.now().timestamp()),
        },
    )
    body = data.get("body")
    if not isinstance(body, str) or not signing.verify_body(
        body.encode(), str(data.get("signature", "")), _secret()
    ):
        raise GatewayUnavailable(_("The payment platform's report has a bad signature."))
    try:
        report = json.loads(body)
        if report.get("date") != day.isoformat():
            raise GatewayUnavailable(detail="the report is for another day")
        return [
            ReportLine(
                order_id=str(line["order_id"]),
                transaction_id=str(line["transaction_id"]),
                amount=int(line["amount"]),
                status=str(line["status"]),
                paid_at=parse_datetime(line["paid_at"]) if line.get("paid_at") else None,
            )
            for line in report.get("transactions", [])
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GatewayUnavailable(detail=f"malformed report: {exc}") from exc
