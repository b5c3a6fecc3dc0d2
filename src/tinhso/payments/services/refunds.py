"""Refunds: requested by the desk (or by the system for a payment that came too late) and
decided by an agency leader other than the requester."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.core.errors import IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Role, User
from tinhso.payments.models import (
    Payment,
    Refund,
    RefundStatus,
)
from tinhso.payments.services._core import (
    _audit,
    _lock,
    _now,
    _require_desk,
    _snapshot,
)

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
