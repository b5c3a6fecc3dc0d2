"""The payments panel on the officials' dossier page (`{% dossier_bills dossier %}`) and the
money formats of the payments pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from tinhso.catalog.entries import format_vnd
from tinhso.payments import selectors
from tinhso.payments.models import BillStatus, RefundStatus
from tinhso.payments.receipts import amount_in_words

register = template.Library()


@register.filter
def vnd(amount: int | None) -> str:
    """`50000` → `50.000 đ`."""
    return "—" if amount is None or amount == "" else format_vnd(int(amount))


@register.filter
def person(user: Any) -> str:
    """Who did something: an official's name, or "the system" for automatic steps."""
    if user is None or user == "":
        return gettext("the system")
    return user.full_name or user.get_username()


@register.filter
def in_words(amount: int | None) -> str:
    return "" if amount is None else amount_in_words(int(amount))


def bill_panel(user: Any, bill: Any) -> dict[str, Any]:
    """One bill as the panel shows it, with the actions `user` is offered."""
    can_handle = selectors.may_handle_fees(user, bill)
    unpaid = bill.status == BillStatus.UNPAID
    payments = []
    for payment in bill.payments.all():
        refundable = selectors.refundable_amount(payment)
        payments.append(
            {
                "payment": payment,
                "refundable": refundable,
                "can_refund": can_handle and refundable > 0,
                "refunds": [
                    {"refund": refund, "can_decide": selectors.may_decide_refund(user, refund)}
                    for refund in payment.refunds.all()
                ],
            }
        )
    return {
        "bill": bill,
        "lines": list(bill.lines.all()),
        "payments": payments,
        "orders": list(bill.orders.all()),
        "can_cash": can_handle and unpaid and bill.amount > 0,
        "can_exempt": can_handle and unpaid,
        "can_choose_case": can_handle and unpaid,
        "can_reissue": can_handle and bill.status == BillStatus.EXPIRED and bill.dossier.is_open,
        "fee_cases": list(selectors.fee_cases_for(bill)) if can_handle and unpaid else [],
        "current_case": selectors.current_fee_case_id(bill),
        "waiting": RefundStatus.REQUESTED,
    }


@register.inclusion_tag("payments/_dossier_bills.html", takes_context=True)
def dossier_bills(context: template.Context, dossier: Any) -> dict[str, Any]:
    """The fees of `dossier` that the signed-in official may see, with their actions."""
    request = context.get("request")
    user = getattr(request, "user", None)
    bills = selectors.bills_of_dossier(user, dossier) if user is not None else []
    return {
        "dossier": dossier,
        "panels": [bill_panel(user, bill) for bill in bills],
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("payments/_nav.html", takes_context=True)
def payments_nav(context: template.Context, current: str) -> dict[str, Any]:
    """The tabs of the payments pages that the signed-in official may open."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "current": current,
        "waiting": selectors.refunds_waiting(user).count(),
        "can_reconcile": selectors.may_view_reconciliations(user),
        "can_see_notifications": selectors.may_view_notifications(user),
    }
