"""The payments API: bills, payment orders, the gateway's notifications, refunds and
reconciliations. Handlers parse input and call the same selectors and services as the desk
pages and the portal.

As in the dossier API, a bill (payment, order, refund) outside the caller's scope is a 404
like one that does not exist; a caller who sees it but may not act gets the service's 403
(`out_of_scope`); business rules answer 409/422 through the one `DomainError` handler."""

# No `from __future__ import annotations`: ninja builds its query models from the real
# annotations (`day: date | None`).
import json
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from tinhso.catalog.models import FeeCase
from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.integration.clients import RateLimited
from tinhso.payments import gateway, selectors, services
from tinhso.payments.models import BillStatus, Payment
from tinhso.payments.schemas import (
    ApproveIn,
    BillDetailOut,
    BillOut,
    CashIn,
    ExemptIn,
    FeeCaseIn,
    NotifyAcceptedOut,
    NotifyRefusedOut,
    OrderCreatedOut,
    OrderIn,
    OrderOut,
    PaymentOut,
    ReconciliationOut,
    RefundIn,
    RefundOut,
    RejectIn,
)

router = Router(tags=["payments"])


def _bill(request: HttpRequest, number: str) -> Any:
    return selectors.bill_get(request.user, number=number)


def _payment(request: HttpRequest, receipt_number: str) -> Payment:
    return selectors.payment_get(request.user, receipt_number=receipt_number)


# --- the gateway's server notification ----------------------------------------------------------
# Registered before `/payments/{receipt_number}` so that this path is matched first.


def _notification_fields(request: HttpRequest) -> dict[str, Any]:
    """The notification's fields from a JSON object or a form. Anything else is kept as
    its raw text, so it is logged (and refused) like any notification that does not verify."""
    if request.content_type == "application/json":
        raw = request.body.decode("utf-8", errors="replace")
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {"body": raw[:4000]}
        if not isinstance(data, dict):
            return {"body": raw[:4000]}
        return {str(key): "" if value is None else value for key, value in data.items()}
    return {key: request.POST.get(key, "") for key in request.POST}


@router.post(
    "/payments/notify",
    auth=None,
    response={200: NotifyAcceptedOut, 400: NotifyRefusedOut},
    url_name="payments_notify",
    summary="Payment platform's server notification",
)
def payments_notify(request: HttpRequest):
    """Called by the payment platform, not by people: signed fields (see docs/payments.md).
    200 `{"code": "accepted" | "duplicate" | "refund"}` when taken into account (a
    duplicate changes nothing); 400 `{"code", "message"}` when refused; 429 `rate_limited`
    once an address has sent more unsigned notifications this minute than the platform allows
    (`TINHSO_PAYMENT_NOTIFY_UNSIGNED_PER_MINUTE`)."""
    result = services.notification_handle(
        fields=_notification_fields(request), remote_addr=request.META.get("REMOTE_ADDR", "")
    )
    if result.outcome == services.RATE_LIMITED:
        raise RateLimited(result.retry_after or 60)
    if result.accepted:
        return Status(200, {"code": result.outcome})
    return Status(400, {"code": result.outcome, "message": result.detail})


# --- bills ------------------------------------------------------------------------------------


@router.get("/bills", response=list[BillOut])
@paginate(LimitOffsetPagination)
def list_bills(request: HttpRequest, dossier: str = "", status: str = ""):
    """Bills in the caller's scope (a citizen: their own), newest first."""
    if status and status not in BillStatus.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    return selectors.bills_list(request.user, dossier_code=dossier, status=status).prefetch_related(
        "lines"
    )


@router.get("/bills/{number}", response=BillDetailOut)
def get_bill(request: HttpRequest, number: str):
    return _bill(request, number)


@router.post("/bills/{number}/cash", response={201: PaymentOut})
def bill_cash(request: HttpRequest, number: str, payload: CashIn):
    """Cash paid at the desk (the whole amount); answers the payment with its receipt."""
    payment = services.bill_record_cash(
        actor=request.user,
        bill=_bill(request, number),
        amount=payload.amount,
        expected_version=payload.expected_version,
    )
    return Status(201, selectors.payment_get(request.user, receipt_number=payment.receipt_number))


@router.post("/bills/{number}/exempt", response=BillDetailOut)
def bill_exempt(request: HttpRequest, number: str, payload: ExemptIn):
    bill = services.bill_exempt(
        actor=request.user,
        bill=_bill(request, number),
        reason=payload.reason,
        expected_version=payload.expected_version,
    )
    return _bill(request, bill.number)


@router.post("/bills/{number}/fee-case", response=BillDetailOut)
def bill_fee_case(request: HttpRequest, number: str, payload: FeeCaseIn):
    """Choose the fee case that applies (one of the procedure's); a case without a fee
    exempts the bill."""
    bill = _bill(request, number)
    case = FeeCase.objects.filter(pk=payload.fee_case_id).first()
    if case is None:
        raise ValidationFailed(_("Unknown fee case."), field="fee_case_id")
    services.bill_choose_case(
        actor=request.user, bill=bill, fee_case=case, expected_version=payload.expected_version
    )
    return _bill(request, number)


@router.post("/bills/{number}/orders", response={201: OrderCreatedOut})
def bill_order(request: HttpRequest, number: str, payload: OrderIn):
    """Start paying online: a payment order for the whole bill, and the platform's page to
    send the payer's browser to. Only the bill's owner pays online."""
    order = services.order_create(
        actor=request.user,
        bill=_bill(request, number),
        return_url=payload.return_url,
        notify_url=request.build_absolute_uri(reverse("api:payments_notify")),
    )
    return Status(
        201,
        {
            "order_id": order.order_id,
            "amount": order.amount,
            "expires_at": order.expires_at,
            "payment_url": gateway.payment_url(order),
        },
    )


# --- payment orders -----------------------------------------------------------------------------


@router.get("/payment-orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: str):
    return selectors.order_get(request.user, order_id=order_id)


@router.post("/payment-orders/{order_id}/query", response=OrderOut)
def query_order(request: HttpRequest, order_id: str):
    """Ask the payment platform what became of a pending order and apply its signed answer
    (502 `gateway_unavailable` when it does not answer)."""
    order = selectors.order_get(request.user, order_id=order_id)
    return services.order_query(actor=request.user, order=order)


# --- payments and refunds -----------------------------------------------------------------------


@router.get("/payments/{receipt_number}", response=PaymentOut)
def get_payment(request: HttpRequest, receipt_number: str):
    return _payment(request, receipt_number)


@router.post("/payments/{receipt_number}/refunds", response={201: RefundOut})
def refund_request(request: HttpRequest, receipt_number: str, payload: RefundIn):
    """Ask for a full or partial refund; an agency leader other than the caller decides."""
    refund = services.refund_request(
        actor=request.user,
        payment=_payment(request, receipt_number),
        amount=payload.amount,
        reason=payload.reason,
    )
    return Status(201, selectors.refund_get(request.user, pk=refund.pk))


@router.post("/refunds/{refund_id}/approve", response=RefundOut)
def refund_approve(request: HttpRequest, refund_id: int, payload: ApproveIn):
    refund = selectors.refund_get(request.user, pk=refund_id)
    services.refund_approve(actor=request.user, refund=refund, note=payload.note)
    return selectors.refund_get(request.user, pk=refund_id)


@router.post("/refunds/{refund_id}/reject", response=RefundOut)
def refund_reject(request: HttpRequest, refund_id: int, payload: RejectIn):
    refund = selectors.refund_get(request.user, pk=refund_id)
    services.refund_reject(actor=request.user, refund=refund, note=payload.note)
    return selectors.refund_get(request.user, pk=refund_id)


# --- reconciliation -----------------------------------------------------------------------------


@router.get("/reconciliations", response=list[ReconciliationOut])
@paginate(LimitOffsetPagination)
def list_reconciliations(request: HttpRequest, day: date | None = None):
    """Daily reconciliation runs, newest first (provincial leaders and administrators)."""
    if not selectors.may_view_reconciliations(request.user):
        raise OutOfScope()
    return selectors.reconciliation_runs(request.user, day=day)
