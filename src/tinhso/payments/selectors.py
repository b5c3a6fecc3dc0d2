"""Read queries for fees and payments, always through the administrative scope.

A bill carries its dossier's agency, unit path and owner (`Bill.scope_fields`), so officials
see the bills of their agency (provincial leaders and administrators the whole province) and
a citizen their own. Payments, orders and refunds have no scope of their own: they are
visible exactly when their bill is. A row outside the scope raises `NotFound`, the same
answer as a row that does not exist.

The `may_*` predicates say which actions to *offer*; the services check again."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from tinhso.catalog.models import FeeCase
from tinhso.core.errors import NotFound
from tinhso.core.models import PROVINCE_WIDE_ROLES, Agency, Role, UserKind
from tinhso.core.scoping import scope
from tinhso.dossiers.models import Dossier
from tinhso.payments.models import (
    Bill,
    GatewayNotification,
    Payment,
    PaymentOrder,
    ReconciliationRun,
    Refund,
    RefundStatus,
)
from tinhso.payments.services import DESK_ROLES

# --- what a user may do ------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def may_handle_fees(user: Any, bill: Bill) -> bool:
    """Record cash, exempt, change the fee case, ask for a refund (`services._core._require_desk`):
    a desk officer or agency leader of the bill's agency."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return (
        user.kind == UserKind.OFFICIAL
        and user.agency_id == bill.agency_id
        and user.has_role(*DESK_ROLES)
    )


def may_decide_refund(user: Any, refund: Refund) -> bool:
    """Approve or reject: an agency leader of the bill's agency who did not ask for it."""
    if not _active(user) or refund.status != RefundStatus.REQUESTED:
        return False
    if refund.requested_by_id is not None and refund.requested_by_id == user.pk:
        return False
    if user.is_superuser:
        return True
    return (
        user.kind == UserKind.OFFICIAL
        and user.agency_id == refund.payment.bill.agency_id
        and user.has_role(Role.AGENCY_LEADER)
    )


def may_view_reconciliations(user: Any) -> bool:
    """Reconciliation covers every online payment of the province: provincial leaders and
    administrators."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return (
        user.kind == UserKind.OFFICIAL
        and user.agency_id is not None
        and bool(user.role_set & PROVINCE_WIDE_ROLES)
    )


def may_view_notifications(user: Any) -> bool:
    """The raw log of the gateway's notifications: administrators."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return user.kind == UserKind.OFFICIAL and user.has_role(Role.ADMINISTRATOR)


# --- bills -------------------------------------------------------------------------------------


def bills_visible(user: Any) -> QuerySet[Bill]:
    return scope(Bill.objects.select_related("dossier__procedure", "agency"), user)


def _with_details(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    return bills.prefetch_related(
        "lines",
        Prefetch("orders", queryset=PaymentOrder.objects.order_by("created_at", "pk")),
        Prefetch(
            "payments",
            queryset=Payment.objects.select_related("recorded_by", "order")
            .prefetch_related(
                Prefetch(
                    "refunds",
                    queryset=Refund.objects.select_related("requested_by", "decided_by").order_by(
                        "requested_at", "pk"
                    ),
                )
            )
            .order_by("paid_at", "pk"),
        ),
    )


def bills_of_dossier(user: Any, dossier: Dossier) -> list[Bill]:
    """The bills of `dossier` that `user` may see, with lines, payments (and their refunds)
    and orders, oldest first."""
    return list(
        _with_details(bills_visible(user).filter(dossier=dossier)).order_by("created_at", "pk")
    )


def bill_get(user: Any, *, number: str | None = None, pk: int | None = None) -> Bill:
    """One bill in `user`'s scope, by number or primary key, with its details."""
    qs = _with_details(bills_visible(user))
    try:
        return qs.get(pk=pk) if pk is not None else qs.get(number=number)
    except (Bill.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def bills_list(
    user: Any,
    *,
    status: str = "",
    agency_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    dossier_code: str = "",
    query: str = "",
) -> QuerySet[Bill]:
    """Bills in `user`'s scope, newest first. `date_from`/`date_to` bound the day the bill
    was issued (local time, inclusive); `query` matches the bill number, the dossier code
    or the payer."""
    qs = bills_visible(user)
    if status:
        qs = qs.filter(status=status)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    if date_from is not None:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(created_at__date__lte=date_to)
    if dossier_code:
        qs = qs.filter(dossier__code=dossier_code)
    if query:
        qs = qs.filter(
            Q(number__icontains=query)
            | Q(dossier__code__icontains=query)
            | Q(payer_name__icontains=query)
        )
    return qs.order_by("-created_at", "-pk")


def bill_agencies(user: Any) -> QuerySet[Agency]:
    """The agencies that have bills in `user`'s scope (the list's agency filter)."""
    return Agency.objects.filter(pk__in=bills_visible(user).values("agency")).order_by("name")


def fee_cases_for(bill: Bill) -> QuerySet[FeeCase]:
    """The fee cases the desk may choose from: those of the bill's procedure."""
    return FeeCase.objects.filter(procedure_id=bill.dossier.procedure_id).order_by("position", "pk")


def current_fee_case_id(bill: Bill) -> int | None:
    line = next(iter(bill.lines.all()), None)
    return line.fee_case_id if line is not None else None


# --- payments, orders, refunds -----------------------------------------------------------------


def _visible_bill_ids(user: Any) -> QuerySet[Bill]:
    return scope(Bill.objects.all(), user).values("pk")


def payments_visible(user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(bill__in=_visible_bill_ids(user)).select_related(
        "bill__dossier__procedure",
        "bill__agency__parent",
        "bill__agency__unit",
        "order",
        "recorded_by",
    )


def payment_get(user: Any, *, receipt_number: str) -> Payment:
    """A payment whose bill `user` may see (the bill's owner included), by receipt number."""
    try:
        return (
            payments_visible(user)
            .prefetch_related("refunds", "bill__lines")
            .get(receipt_number=receipt_number)
        )
    except Payment.DoesNotExist as exc:
        raise NotFound() from exc


def payments_of_bill(user: Any, bill: Bill) -> QuerySet[Payment]:
    return payments_visible(user).filter(bill=bill).order_by("paid_at", "pk")


def refundable_amount(payment: Payment) -> int:
    """What can still be asked back: the amount less what was refunded or is waiting."""
    waiting = sum(r.amount for r in payment.refunds.all() if r.status == RefundStatus.REQUESTED)
    return max(payment.amount - payment.refunded_amount - waiting, 0)


def order_get(user: Any, *, order_id: str) -> PaymentOrder:
    try:
        return (
            PaymentOrder.objects.filter(bill__in=_visible_bill_ids(user))
            .select_related("bill")
            .get(order_id=order_id)
        )
    except PaymentOrder.DoesNotExist as exc:
        raise NotFound() from exc


def refunds_visible(user: Any) -> QuerySet[Refund]:
    return Refund.objects.filter(payment__bill__in=_visible_bill_ids(user)).select_related(
        "payment__bill__dossier__procedure",
        "payment__bill__agency",
        "requested_by",
        "decided_by",
    )


def refund_get(user: Any, *, pk: int) -> Refund:
    try:
        return refunds_visible(user).get(pk=pk)
    except (Refund.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def refunds_waiting(user: Any) -> QuerySet[Refund]:
    """Refunds waiting for an agency leader's decision in `user`'s scope, oldest first."""
    return (
        refunds_visible(user).filter(status=RefundStatus.REQUESTED).order_by("requested_at", "pk")
    )


# --- reconciliation and the gateway's notifications --------------------------------------------


def reconciliation_runs(user: Any, *, day: date | None = None) -> QuerySet[ReconciliationRun]:
    """Reconciliation runs, newest first; none for a user who may not see them."""
    if not may_view_reconciliations(user):
        return ReconciliationRun.objects.none()
    qs = ReconciliationRun.objects.all()
    if day is not None:
        qs = qs.filter(day=day)
    return qs.order_by("-ran_at", "-pk")


def reconciliation_get(user: Any, *, pk: int) -> ReconciliationRun:
    try:
        return reconciliation_runs(user).get(pk=pk)
    except (ReconciliationRun.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def notifications_log(
    user: Any, *, outcome: str = "", order_id: str = ""
) -> QuerySet[GatewayNotification]:
    """The gateway's server notifications as received, newest first (administrators)."""
    if not may_view_notifications(user):
        return GatewayNotification.objects.none()
    qs = GatewayNotification.objects.all()
    if outcome:
        qs = qs.filter(outcome=outcome)
    if order_id:
        qs = qs.filter(order_id=order_id)
    return qs.order_by("-received_at", "-pk")


__all__ = [
    "bill_agencies",
    "bill_get",
    "bills_list",
    "bills_of_dossier",
    "bills_visible",
    "current_fee_case_id",
    "fee_cases_for",
    "may_decide_refund",
    "may_handle_fees",
    "may_view_notifications",
    "may_view_reconciliations",
    "notifications_log",
    "order_get",
    "payment_get",
    "payments_of_bill",
    "payments_visible",
    "reconciliation_get",
    "reconciliation_runs",
    "refund_get",
    "refundable_amount",
    "refunds_visible",
    "refunds_waiting",
]
