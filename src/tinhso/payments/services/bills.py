"""Bills at the desk: issued with the dossier, the fee case changed, reissued, exempted,
cancelled, expired, and cash recorded with its receipt."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.catalog.models import FeeCase
from tinhso.core.errors import IllegalTransition, ValidationFailed
from tinhso.core.models import User
from tinhso.dossiers.models import Dossier
from tinhso.payments.models import (
    Bill,
    BillLine,
    BillStatus,
    Payment,
    PaymentMethod,
)
from tinhso.payments.services._core import (
    UNBILLED,
    _audit,
    _check_version,
    _lock,
    _next_receipt_number,
    _now,
    _require_desk,
    _require_unpaid,
    _snapshot,
    default_fee_case,
)

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
