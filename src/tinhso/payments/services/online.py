"""Paying online: the payment order, and its confirmation only by a verified server
notification or a signed status answer (`_confirm` records one payment at most)."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.errors import IllegalTransition, OutOfScope
from tinhso.core.models import User
from tinhso.core.scoping import can_see
from tinhso.integration.ratelimit import window_add
from tinhso.payments import gateway
from tinhso.payments.models import (
    Bill,
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentOrder,
    Refund,
)
from tinhso.payments.services._core import (
    _audit,
    _lock,
    _next_receipt_number,
    _now,
    _require_unpaid,
    _snapshot,
)

# --- paying online --------------------------------------------------------------------------


def _require_payer(actor: User | None, bill: Bill) -> None:
    if actor is None or actor.is_superuser:
        return
    if bill.owner_id is None or bill.owner_id != actor.pk:
        raise OutOfScope(_("Only the applicant can pay this bill online."))


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    bill: Bill,
    return_url: str,
    notify_url: str,
    at: datetime | None = None,
) -> PaymentOrder:
    """A payment request for the whole bill, valid at the gateway for
    `TINHSO_PAYMENT_ORDER_MINUTES`; the caller sends the browser to `gateway.payment_url`."""
    locked = _lock(bill)
    _require_payer(actor, locked)
    _require_unpaid(locked)
    when = _now(at)
    if when > locked.expires_at:
        raise IllegalTransition(
            _("Bill %(number)s can no longer be paid online; contact the desk.")
            % {"number": locked.number}
        )
    if locked.amount <= 0:
        raise IllegalTransition(_("There is nothing to pay."))
    pending = locked.orders.filter(status=OrderStatus.PENDING, expires_at__gt=when).first()
    if pending is not None:
        raise IllegalTransition(
            _(
                "A payment of this bill is waiting for the payment platform's confirmation "
                "until %(time)s; check it before paying again."
            )
            % {"time": timezone.localtime(pending.expires_at).strftime("%H:%M %d/%m/%Y")},
            order=pending.order_id,
        )
    attempt = locked.orders.count() + 1
    order = PaymentOrder.objects.create(
        order_id=f"TS{locked.pk:08d}{attempt:03d}",
        bill=locked,
        amount=locked.amount,
        # The gateway shows it to the payer: always in Vietnamese, whatever the UI language.
        description=f"Phí, lệ phí hồ sơ {locked.dossier.code}",
        return_url=return_url,
        notify_url=notify_url,
        created_at=when,
        created_by=actor if actor is not None and actor.pk else None,
        expires_at=when + timedelta(minutes=settings.TINHSO_PAYMENT_ORDER_MINUTES),
    )
    _audit(actor, "order.created", locked, None, order=order.order_id, amount=order.amount)
    return order


@dataclass(frozen=True)
class Confirmation:
    outcome: str  # a NotificationOutcome value
    payment: Payment | None = None
    detail: str = ""


def _confirm(
    *,
    order: PaymentOrder,
    status: str,
    transaction_id: str,
    paid_at: datetime | None,
    via: str,
    at: datetime,
    label: str,
) -> Confirmation:
    """Apply the gateway's final word on `order`, once. Runs inside the caller's transaction
    and locks the order then the bill (always in that order)."""
    locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
    # A success after a failure or cancellation still brought money in: it is recorded below
    # (paid, or flagged for refund). Anything else about a settled order changes nothing.
    if locked.status == OrderStatus.PAID or (
        locked.status != OrderStatus.PENDING and status != gateway.SUCCESS
    ):
        same = locked.transaction_id == transaction_id or status != gateway.SUCCESS
        detail = "" if same else f"order already {locked.status} as {locked.transaction_id}"
        if status != gateway.SUCCESS and locked.status == OrderStatus.PAID:
            detail = f"{status} after the order was paid"
        return Confirmation(NotificationOutcome.DUPLICATE, getattr(locked, "payment", None), detail)
    bill = _lock(locked.bill)
    before = _snapshot(bill)
    locked.confirmed_at = at
    locked.confirmed_via = via
    locked.transaction_id = transaction_id
    if status != gateway.SUCCESS:
        locked.status = OrderStatus.FAILED if status == gateway.FAILED else OrderStatus.CANCELLED
        locked.save()
        _audit(
            None,
            f"order.{locked.status}",
            bill,
            before,
            source="gateway",
            label=label,
            order=locked.order_id,
        )
        return Confirmation(NotificationOutcome.ACCEPTED)
    paid = min(paid_at, at) if paid_at is not None else at
    # Paid in time counts by the gateway's (signed) payment time, not by when we heard of it.
    payable = (
        bill.status == BillStatus.UNPAID
        and paid <= bill.expires_at
        and locked.amount == bill.amount
    )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                bill=bill,
                method=PaymentMethod.ONLINE,
                amount=locked.amount,
                paid_at=paid,
                order=locked,
                transaction_id=transaction_id,
                receipt_number=_next_receipt_number(paid),
                needs_refund=not payable,
                created_at=at,
            )
    except IntegrityError:  # the same gateway transaction came through another order
        return Confirmation(NotificationOutcome.DUPLICATE, None, "transaction already recorded")
    # Only now, with its payment recorded, is the order paid (never one without the other).
    locked.status = OrderStatus.PAID
    locked.save()
    if payable:
        bill.status = BillStatus.PAID
        bill.settled_at = paid
        bill.version += 1
        bill.save()
        _audit(
            None,
            "bill.paid",
            bill,
            before,
            source="gateway",
            label=label,
            method=PaymentMethod.ONLINE,
            order=locked.order_id,
            transaction=transaction_id,
            receipt=payment.receipt_number,
            via=via,
        )
        return Confirmation(NotificationOutcome.ACCEPTED, payment)
    reason = _("Paid online after the bill was %(status)s; to be refunded.") % {
        "status": BillStatus(bill.status).label.lower()
        if not (bill.status == BillStatus.UNPAID and at > bill.expires_at)
        else BillStatus.EXPIRED.label.lower()
    }
    Refund.objects.create(payment=payment, amount=payment.amount, reason=reason, requested_at=at)
    _audit(
        None,
        "payment.flagged_for_refund",
        bill,
        before,
        source="gateway",
        label=label,
        order=locked.order_id,
        transaction=transaction_id,
        amount=payment.amount,
        receipt=payment.receipt_number,
        via=via,
    )
    return Confirmation(NotificationOutcome.FLAGGED_FOR_REFUND, payment, reason)


def _log(
    fields: dict[str, Any], outcome: str, detail: str, remote_addr: str, at: datetime
) -> GatewayNotification:
    return GatewayNotification.objects.create(
        received_at=at,
        order_id=str(fields.get("order_id", ""))[:40],
        nonce=str(fields.get("nonce", ""))[:64],
        payload=fields,
        outcome=outcome,
        detail=detail,
        remote_addr=remote_addr[:64],
    )


#: The outcome of a notification that failed its signature from an address that already sent
#: too many this minute: answered, not logged (see `notification_handle`).
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class NotificationResult:
    outcome: str
    accepted: bool
    detail: str = ""
    retry_after: int | None = None


def notification_handle(
    *, fields: dict[str, Any], remote_addr: str = "", at: datetime | None = None
) -> NotificationResult:
    """The gateway's server notification: verify, then apply once. Refusals (bad signature,
    stale or replayed, unknown order, amount or merchant mismatch, malformed) change nothing
    and are logged, as is every accepted or duplicate notification."""
    when = _now(at)
    fields = {str(k): v if isinstance(v, str) else str(v) for k, v in fields.items()}

    def refuse(outcome: str, detail: str) -> NotificationResult:
        _log(fields, outcome, detail, remote_addr, when)
        return NotificationResult(outcome, False, detail)

    if not gateway.verify(fields):
        # Anyone can call this address: past the limit, a flood of unsigned calls from one
        # address is refused without a log row each (no table grows with an attack).
        count, retry_after = window_add("payment-notify-unsigned", remote_addr or "-")
        if count > settings.TINHSO_PAYMENT_NOTIFY_UNSIGNED_PER_MINUTE:
            return NotificationResult(RATE_LIMITED, False, "too many", retry_after)
        return refuse(NotificationOutcome.REFUSED_SIGNATURE, "signature does not verify")
    try:
        note = gateway.parse_notification(fields)
    except gateway.MalformedNotification as exc:
        return refuse(NotificationOutcome.REFUSED_MALFORMED, str(exc))
    age = when.timestamp() - note.sent_at
    if age > settings.TINHSO_PAYMENT_NOTIFY_MAX_AGE_SECONDS or age < -300:
        return refuse(NotificationOutcome.REFUSED_REPLAY, f"sent {int(age)} s ago")
    earlier = GatewayNotification.objects.filter(nonce=note.nonce).exclude(
        outcome__in=[NotificationOutcome.REFUSED_SIGNATURE, NotificationOutcome.REFUSED_MALFORMED]
    )
    if any(e.payload != fields for e in earlier[:5]):
        return refuse(NotificationOutcome.REFUSED_REPLAY, "nonce already used for another message")
    if note.merchant_code != settings.TINHSO_PAYMENT_MERCHANT_CODE:
        return refuse(NotificationOutcome.REFUSED_AMOUNT, "another merchant")
    order = PaymentOrder.objects.filter(order_id=note.order_id).first()
    if order is None:
        return refuse(NotificationOutcome.REFUSED_UNKNOWN_ORDER, "no such order")
    if note.status == gateway.SUCCESS and note.amount != order.amount:
        _audit(
            None,
            "notification.refused",
            order.bill,
            None,
            source="gateway",
            label="payment platform",
            order=order.order_id,
            claimed_amount=note.amount,
        )
        return refuse(
            NotificationOutcome.REFUSED_AMOUNT, f"amount {note.amount} ≠ order {order.amount}"
        )
    for attempt in range(3):
        try:
            with transaction.atomic():
                result = _confirm(
                    order=order,
                    status=note.status,
                    transaction_id=note.transaction_id,
                    paid_at=note.paid_at,
                    via="notification",
                    at=when,
                    label="payment platform",
                )
                _log(fields, result.outcome, result.detail, remote_addr, when)
            break
        except IntegrityError:
            if attempt == 2:
                raise
            time_module.sleep(0.05 * (attempt + 1))
    return NotificationResult(result.outcome, True, result.detail)


def order_query(
    *, actor: User | None, order: PaymentOrder, at: datetime | None = None
) -> PaymentOrder:
    """Ask the gateway what became of a pending order and apply the signed answer (the
    return page's "check again", and the periodic job for orders nobody notified)."""
    if actor is not None and not actor.is_superuser:
        bill = order.bill
        if bill.owner_id != actor.pk and not can_see(actor, bill):
            raise OutOfScope()
    if order.status != OrderStatus.PENDING:
        return order
    answer = gateway.query_status(order.order_id)
    when = _now(at)
    if answer.status == gateway.NOT_FOUND and when > order.expires_at:
        # The payer never reached the gateway's page and the request has lapsed: close it.
        with transaction.atomic():
            _confirm(
                order=order,
                status=gateway.CANCELLED,
                transaction_id="",
                paid_at=None,
                via="query",
                at=when,
                label="payment platform (status query: not found)",
            )
    elif answer.status in gateway.FINAL:
        if answer.status == gateway.SUCCESS and answer.amount != order.amount:
            raise gateway.GatewayUnavailable(
                _("The payment platform reports another amount; the desk will check."),
                order=order.order_id,
            )
        with transaction.atomic():
            _confirm(
                order=order,
                status=answer.status,
                transaction_id=answer.transaction_id,
                paid_at=answer.paid_at,
                via="query",
                at=when,
                label="payment platform (status query)",
            )
    order.refresh_from_db()
    return order


def orders_query_pending(*, older_than_seconds: int = 120, limit: int = 200) -> int:
    """Query the gateway about pending orders nobody has heard of for a while; returns how
    many were settled."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    settled = 0
    for order in PaymentOrder.objects.filter(
        status=OrderStatus.PENDING, created_at__lt=cutoff, created_at__gt=cutoff - timedelta(days=3)
    ).order_by("created_at")[:limit]:
        try:
            if order_query(actor=None, order=order).status != OrderStatus.PENDING:
                settled += 1
        except gateway.GatewayUnavailable as exc:
            if "order" in exc.details:  # this order's answer is wrong; the gateway is up
                continue
            break  # the gateway is down: try again next round
    return settled
