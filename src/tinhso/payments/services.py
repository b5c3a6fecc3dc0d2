"""Every change to bills, payment orders, payments and refunds: one function per use case,
in one transaction, with the permission check and an audit record of the money event
(recorded against the bill, so a bill's trail tells its whole story).

Money is never marked received on the browser's word: only `notification_handle` (a
verified server notification) and `order_query` (a signed status answer) confirm an online
payment, through `_confirm`, which locks the order and the bill so a repeated or concurrent
confirmation records one payment at most."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog import cache as catalog_cache
from tinhso.catalog.models import FeeCase
from tinhso.core.audit import audit_record
from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Role, User, UserKind
from tinhso.core.scoping import can_see
from tinhso.dossiers.models import Dossier
from tinhso.integration.ratelimit import window_add
from tinhso.payments import gateway
from tinhso.payments.models import (
    Bill,
    BillLine,
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentOrder,
    Refund,
    RefundStatus,
)

#: Roles that handle money at the desk (record cash, exempt, change the fee case, ask for a
#: refund); a refund is approved by an agency leader.
DESK_ROLES = (Role.DESK_OFFICER, Role.AGENCY_LEADER)
BILL_FIELDS = ("status", "amount", "status_reason", "settled_at")
#: Bills that no longer stand for what the dossier owes: a new one may be issued.
UNBILLED = frozenset({BillStatus.CANCELLED, BillStatus.EXPIRED})


def _now(at: datetime | None) -> datetime:
    return at if at is not None else timezone.now()


def _snapshot(bill: Bill) -> dict[str, Any]:
    return {
        "status": bill.status,
        "amount": bill.amount,
        "status_reason": bill.status_reason,
        "settled_at": bill.settled_at.isoformat() if bill.settled_at else None,
    }


def _audit(
    actor: User | None,
    action: str,
    bill: Bill,
    before: dict[str, Any] | None,
    *,
    source: str = "web",
    label: str | None = None,
    **extra: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=bill,
        before=before,
        after={**_snapshot(bill), **extra},
        source=source,
        label=label,
    )


def _lock(bill: Bill) -> Bill:
    return Bill.objects.select_for_update().select_related("dossier").get(pk=bill.pk)


def _check_version(bill: Bill, expected_version: int | None) -> None:
    if expected_version is not None and bill.version != expected_version:
        raise Conflict(current_version=bill.version)


def _require_desk(actor: User | None, bill: Bill, *roles: str) -> None:
    """The bill's agency handles its money; the system (`None`) may do anything."""
    if actor is None or actor.is_superuser:
        return
    if actor.kind != UserKind.OFFICIAL or actor.agency_id != bill.agency_id:
        raise OutOfScope()
    if not actor.has_role(*(roles or DESK_ROLES)):
        raise OutOfScope(_("Your role does not allow handling fees."))


def _require_unpaid(bill: Bill) -> None:
    if bill.status != BillStatus.UNPAID:
        raise IllegalTransition(
            _("Bill %(number)s is “%(status)s”.")
            % {"number": bill.number, "status": BillStatus(bill.status).label},
            status=bill.status,
        )


def _next_receipt_number(at: datetime) -> str:
    """`BL-<year>-<sequence>`: gap-free per year, one counter row locked until commit."""
    year = timezone.localtime(at).year
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_receiptcounter (year, last) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = payments_receiptcounter.last + 1 "
            "RETURNING last",
            [year],
        )
        sequence = cursor.fetchone()[0]
    return f"BL-{year}-{sequence:07d}"


def default_fee_case(dossier: Dossier) -> FeeCase | None:
    """The case billed until the desk picks another: the first that costs something."""
    return next((c for c in catalog_cache.fee_cases(dossier.procedure_id) if c.amount > 0), None)


# --- bills ----------------------------------------------------------------------------------


# No savepoint: it runs inside the dossier's transaction, whose failure rolls back as a whole.
@transaction.atomic(savepoint=False)
def bill_create_for_dossier(
    *,
    actor: User | None,
    dossier: Dossier,
    at: datetime | None = None,
    source: str = "web",
    new_dossier: bool = False,
) -> Bill | None:
    """The dossier's bill from its procedure's fee cases; None when nothing is payable.
    Idempotent: a dossier with a bill that is not cancelled or expired keeps it
    (`new_dossier`: the dossier was created in this transaction, so it has no bill yet and
    the two look-ups are spared on the submission path)."""
    count = 0
    case = default_fee_case(dossier)
    if case is None:
        return None
    if not new_dossier:
        bills = list(dossier.bills.order_by().values_list("pk", "status"))
        live = [pk for pk, status in bills if status not in UNBILLED]
        if live:
            return Bill.objects.get(pk=live[0])
        count = len(bills)
    when = _now(at)
    bill = Bill.objects.create(
        number=f"{dossier.code}-P{count + 1}",
        dossier=dossier,
        agency=dossier.agency,
        unit_path=dossier.unit_path,
        owner=dossier.owner,
        payer_name=dossier.applicant_name,
        amount=case.amount,
        legal_basis=case.legal_basis or dossier.procedure.legal_basis,
        created_at=when,
        expires_at=when + timedelta(days=settings.TINHSO_BILL_VALID_DAYS),
    )
    BillLine.objects.create(
        bill=bill,
        fee_case=case,
        description=case.description,
        amount=case.amount,
        legal_basis=case.legal_basis,
    )
    _audit(actor, "bill.created", bill, None, source=source, dossier=dossier.code)
    return bill


@transaction.atomic
def bill_choose_case(
    *,
    actor: User | None,
    bill: Bill,
    fee_case: FeeCase,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Bill:
    """The desk officer picks the fee case that applies. A case without a fee exempts the
    bill (with the case as the reason)."""
    locked = _lock(bill)
    _require_desk(actor, locked)
    _check_version(locked, expected_version)
    _require_unpaid(locked)
    if fee_case.procedure_id != locked.dossier.procedure_id:
        raise ValidationFailed(_("This fee case belongs to another procedure."))
    before = _snapshot(locked)
    locked.lines.all().delete()
    BillLine.objects.create(
        bill=locked,
        fee_case=fee_case,
        description=fee_case.description,
        amount=fee_case.amount,
        legal_basis=fee_case.legal_basis,
    )
    locked.amount = fee_case.amount
    locked.legal_basis = fee_case.legal_basis or locked.dossier.procedure.legal_basis
    if fee_case.amount == 0:
        locked.status = BillStatus.EXEMPTED
        locked.status_reason = fee_case.description
        locked.settled_at = _now(at)
    locked.version += 1
    locked.save()
    _audit(actor, "bill.case_changed", locked, before, fee_case=fee_case.description)
    return locked


@transaction.atomic
def bill_reissue(*, actor: User | None, bill: Bill, at: datetime | None = None) -> Bill:
    """A new bill for the dossier of an expired one (the applicant comes to pay late): the
    desk issues it from the same fee case, payable for another `TINHSO_BILL_VALID_DAYS`."""
    locked = _lock(bill)
    _require_desk(actor, locked)
    if locked.status != BillStatus.EXPIRED:
        raise IllegalTransition(_("Only an expired bill is issued again."), status=locked.status)
    dossier = locked.dossier
    if not dossier.is_open:
        raise IllegalTransition(_("The dossier is closed; its fee can no longer be billed."))
    line = locked.lines.first()
    when = _now(at)
    fresh = bill_create_for_dossier(actor=actor, dossier=dossier, at=when)
    if fresh is not None and line is not None and line.fee_case_id:
        fee_case = FeeCase.objects.filter(pk=line.fee_case_id).first()
        if fee_case is not None and fresh.lines.first().fee_case_id != fee_case.pk:
            fresh = bill_choose_case(actor=actor, bill=fresh, fee_case=fee_case, at=when)
    if fresh is not None:
        _audit(actor, "bill.reissued", locked, None, new_bill=fresh.number)
    return fresh


@transaction.atomic
def bill_exempt(
    *,
    actor: User | None,
    bill: Bill,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Bill:
    """Exempt the applicant from paying (a legal exemption: poor household, war invalid…)."""
    locked = _lock(bill)
    _require_desk(actor, locked)
    _check_version(locked, expected_version)
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), fields={"reason": _("Required.")})
    _require_unpaid(locked)
    before = _snapshot(locked)
    locked.status = BillStatus.EXEMPTED
    locked.status_reason = reason.strip()
    locked.settled_at = _now(at)
    locked.version += 1
    locked.save()
    _audit(actor, "bill.exempted", locked, before)
    return locked


@transaction.atomic
def bill_cancel(*, actor: User | None, bill: Bill, reason: str, at: datetime | None = None) -> Bill:
    """Cancel an unpaid bill (its dossier was refused or withdrawn). A payment that still
    arrives for it is flagged for refund."""
    locked = _lock(bill)
    if locked.status != BillStatus.UNPAID:
        return locked
    before = _snapshot(locked)
    locked.status = BillStatus.CANCELLED
    locked.status_reason = reason
    locked.settled_at = _now(at)
    locked.version += 1
    locked.save()
    _audit(actor, "bill.cancelled", locked, before, source="system" if actor is None else "web")
    return locked


def bills_expire_due(*, now: datetime | None = None) -> int:
    """Mark unpaid bills past their payable date expired; returns how many."""
    moment = _now(now)
    count = 0
    for pk in Bill.objects.filter(status=BillStatus.UNPAID, expires_at__lt=moment).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = Bill.objects.select_for_update().get(pk=pk)
            if locked.status != BillStatus.UNPAID or locked.expires_at >= moment:
                continue
            before = _snapshot(locked)
            locked.status = BillStatus.EXPIRED
            locked.status_reason = _("Not paid before the payable date.")
            locked.version += 1
            locked.save()
            _audit(None, "bill.expired", locked, before, source="system")
            count += 1
    return count


@transaction.atomic
def bill_record_cash(
    *,
    actor: User,
    bill: Bill,
    amount: int,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Payment:
    """Cash paid at the desk: the whole amount, against an electronic receipt."""
    locked = _lock(bill)
    _require_desk(actor, locked)
    _check_version(locked, expected_version)
    _require_unpaid(locked)
    if amount != locked.amount:
        raise ValidationFailed(
            _("The amount received must be the bill's amount, %(amount)s đồng.")
            % {"amount": f"{locked.amount:,}".replace(",", ".")},
            fields={"amount": _("Must be %(amount)s.") % {"amount": locked.amount}},
        )
    when = _now(at)
    before = _snapshot(locked)
    payment = Payment.objects.create(
        bill=locked,
        method=PaymentMethod.CASH,
        amount=amount,
        paid_at=when,
        recorded_by=actor,
        receipt_number=_next_receipt_number(when),
        created_at=when,
    )
    locked.status = BillStatus.PAID
    locked.settled_at = when
    locked.version += 1
    locked.save()
    _audit(
        actor,
        "bill.paid",
        locked,
        before,
        method=PaymentMethod.CASH,
        receipt=payment.receipt_number,
    )
    return payment


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


# --- refunds --------------------------------------------------------------------------------


@transaction.atomic
def refund_request(
    *, actor: User | None, payment: Payment, amount: int, reason: str, at: datetime | None = None
) -> Refund:
    """Ask for a full or partial refund of a payment (approved by an agency leader)."""
    bill = _lock(payment.bill)
    _require_desk(actor, bill)
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), fields={"reason": _("Required.")})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    open_amount = sum(r.amount for r in payment.refunds.filter(status=RefundStatus.REQUESTED))
    available = payment.amount - payment.refunded_amount - open_amount
    if amount <= 0 or amount > available:
        raise ValidationFailed(
            _("A refund is between 1 and %(available)s đồng.") % {"available": available},
            fields={"amount": _("At most %(available)s.") % {"available": available}},
        )
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        reason=reason.strip(),
        requested_by=actor,
        requested_at=_now(at),
    )
    _audit(
        actor,
        "refund.requested",
        bill,
        None,
        receipt=payment.receipt_number,
        amount=amount,
        reason=refund.reason,
    )
    return refund


def _decide(
    actor: User | None, refund: Refund, approve: bool, note: str, at: datetime | None
) -> Refund:
    payment = refund.payment
    bill = _lock(payment.bill)
    _require_desk(actor, bill, Role.AGENCY_LEADER)
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if locked.status != RefundStatus.REQUESTED:
        raise IllegalTransition(
            _("This refund is already “%(status)s”.")
            % {"status": RefundStatus(locked.status).label}
        )
    if actor is not None and locked.requested_by_id == actor.pk:
        raise OutOfScope(_("A refund is approved by someone other than who asked for it."))
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    before = _snapshot(bill)
    locked.status = RefundStatus.APPROVED if approve else RefundStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = _now(at)
    locked.decision_note = note.strip()
    locked.save()
    if approve:
        if payment.refunded_amount + locked.amount > payment.amount:
            raise ValidationFailed(_("The refunds would exceed the payment."))
        payment.refunded_amount += locked.amount
        if payment.refunded_amount == payment.amount:
            payment.needs_refund = False
        payment.save(update_fields=["refunded_amount", "needs_refund"])
    _audit(
        actor,
        f"refund.{locked.status}",
        bill,
        before,
        receipt=payment.receipt_number,
        amount=locked.amount,
        note=locked.decision_note,
    )
    return locked


@transaction.atomic
def refund_approve(
    *, actor: User | None, refund: Refund, note: str = "", at: datetime | None = None
) -> Refund:
    return _decide(actor, refund, True, note, at)


@transaction.atomic
def refund_reject(
    *, actor: User | None, refund: Refund, note: str, at: datetime | None = None
) -> Refund:
    if not note.strip():
        raise ValidationFailed(_("Give the reason."), fields={"note": _("Required.")})
    return _decide(actor, refund, False, note, at)
