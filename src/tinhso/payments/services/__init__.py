"""Every change to bills, payment orders, payments and refunds: one function per use case,
in one transaction, with the permission check and an audit record of the money event
(recorded against the bill, so a bill's trail tells its whole story).

Money is never marked received on the browser's word: only `notification_handle` (a
verified server notification) and `order_query` (a signed status answer) confirm an online
payment, through `_confirm`, which locks the order and the bill so a repeated or concurrent
confirmation records one payment at most.

The functions live in `_core` (what they share), `bills`, `online` and `refunds`; callers
import them from here."""

from __future__ import annotations

from tinhso.payments.services._core import (
    BILL_FIELDS,
    DESK_ROLES,
    UNBILLED,
    default_fee_case,
)
from tinhso.payments.services.bills import (
    bill_cancel,
    bill_choose_case,
    bill_create_for_dossier,
    bill_exempt,
    bill_record_cash,
    bill_reissue,
    bills_expire_due,
)
from tinhso.payments.services.online import (
    RATE_LIMITED,
    Confirmation,
    NotificationResult,
    notification_handle,
    order_create,
    order_query,
    orders_query_pending,
)
from tinhso.payments.services.refunds import (
    refund_approve,
    refund_reject,
    refund_request,
)

__all__ = [
    "BILL_FIELDS",
    "DESK_ROLES",
    "RATE_LIMITED",
    "UNBILLED",
    "Confirmation",
    "NotificationResult",
    "bill_cancel",
    "bill_choose_case",
    "bill_create_for_dossier",
    "bill_exempt",
    "bill_record_cash",
    "bill_reissue",
    "bills_expire_due",
    "default_fee_case",
    "notification_handle",
    "order_create",
    "order_query",
    "orders_query_pending",
    "refund_approve",
    "refund_reject",
    "refund_request",
]
