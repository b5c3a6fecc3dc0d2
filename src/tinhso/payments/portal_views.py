"""The citizen's side of paying a dossier's fee on the portal: the fee section of their dossier
page, the "Pay online" button that sends the browser to the payment platform, the page the
platform sends the browser back to, and the receipt download.

The browser's return proves nothing: the return page reads only `order_id` from it, to find
the order, and shows what our own records say. Only the platform's verified server notification
or a signed status answer ("Check again") marks an order paid (`services`). Owner only: every
bill, order and receipt is looked up among the signed-in citizen's own bills, and anything else
gets the portal's "not found" page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tinhso.core.errors import DomainError
from tinhso.core.scoping import scope
from tinhso.dossiers.models import Dossier
from tinhso.payments import gateway, receipts, services
from tinhso.payments.models import (
    Bill,
    BillLine,
    BillStatus,
    OrderStatus,
    Payment,
    PaymentOrder,
)
from tinhso.portal import selectors as portal_selectors
from tinhso.portal.templatetags.portal_tags import signin_url

#: The return page asks for the order's state every `POLL_SECONDS` while it is pending, at most
#: `POLL_LIMIT` times (two minutes); then the citizen can still press "Check again".
POLL_SECONDS = 3
POLL_LIMIT = 40

# --- reading the citizen's own bills -------------------------------------------------------------


def own_bills(user: Any) -> QuerySet[Bill]:
    """The bills the signed-in citizen or business owes or paid; none for anyone else."""
    if not portal_selectors.is_citizen(user):
        return Bill.objects.none()
    return scope(Bill.objects.select_related("dossier"), user).filter(owner=user)


@dataclass(frozen=True)
class BillPanel:
    """What the dossier page shows of one bill."""

    bill: Bill
    lines: list[BillLine]
    #: The payment that settled the bill.
    payment: Payment | None
    #: An order the platform may still confirm: no second payment is started meanwhile.
    pending_order: PaymentOrder | None
    #: Money that came after the bill closed, waiting to be refunded.
    late_payments: list[Payment] = field(default_factory=list)
    #: Still marked unpaid but past its payable date (the nightly job will mark it expired).
    lapsed: bool = False

    @property
    def state(self) -> str:
        return BillStatus.EXPIRED if self.lapsed else self.bill.status

    @property
    def state_label(self) -> str:
        return str(BillStatus(self.state).label)

    @property
    def can_pay(self) -> bool:
        return (
            self.bill.status == BillStatus.UNPAID
            and not self.lapsed
            and self.bill.amount > 0
            and self.pending_order is None
        )

    @property
    def continue_url(self) -> str:
        """Back to the platform's page of the pending order (a closed tab, a lost signal):
        the same order, so the bill cannot be paid twice through it."""
        return gateway.payment_url(self.pending_order) if self.pending_order else ""

    @property
    def reason(self) -> str:
        if self.lapsed and not self.bill.status_reason:
            return _("Not paid before the payable date.")
        return self.bill.status_reason


def bill_panel(bill: Bill, now: datetime | None = None) -> BillPanel:
    """`bill` as the citizen sees it; reads its lines, payments and orders (prefetched by
    `bills_for_owner`, queried otherwise)."""
    now = now or timezone.now()
    payments = list(bill.payments.all())
    orders = list(bill.orders.all())
    settling = [p for p in payments if not p.needs_refund]
    pending = [o for o in orders if o.status == OrderStatus.PENDING and o.expires_at >= now]
    return BillPanel(
        bill=bill,
        lines=list(bill.lines.all()),
        payment=settling[0] if bill.status == BillStatus.PAID and settling else None,
        pending_order=max(pending, key=lambda o: o.created_at) if pending else None,
        late_payments=[p for p in payments if p.needs_refund],
        lapsed=bill.status == BillStatus.UNPAID and now > bill.expires_at,
    )


def bills_for_owner(user: Any, dossier: Dossier) -> list[BillPanel]:
    """The fee section of the owner's dossier page: each of its bills, newest first."""
    bills = (
        own_bills(user)
        .filter(dossier=dossier)
        .prefetch_related(
            "lines",
            Prefetch("payments", queryset=Payment.objects.order_by("paid_at", "pk")),
            Prefetch("orders", queryset=PaymentOrder.objects.order_by("created_at", "pk")),
        )
    )
    now = timezone.now()
    return [bill_panel(bill, now) for bill in bills]


# --- who may come in -----------------------------------------------------------------------------


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like the portal's "my dossiers" pages: a visitor is sent to sign in with VNeID, an
    official's session is not a citizen's."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            # A form posted from a page that outlived its session: come back to one's dossiers.
            target = request.get_full_path() if request.method == "GET" else None
            url = signin_url(request, target or reverse("portal:my_list"))
            if request.htmx:
                return HttpResponseClientRedirect(url)
            return redirect(url)
        if not portal_selectors.is_citizen(request.user):
            return render(request, "portal/citizens_only.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


def _see_other(url: str) -> HttpResponseRedirect:
    """After a POST: the browser follows with a GET."""
    return HttpResponseRedirect(url, status=303)


def _own_order(request: HttpRequest, order_id: str) -> PaymentOrder | None:
    return (
        PaymentOrder.objects.select_related("bill__dossier")
        .filter(bill__in=own_bills(request.user), order_id=order_id)
        .first()
    )


def _dossier_url(bill: Bill) -> str:
    return reverse("portal:my_detail", args=[bill.dossier.code])


def _return_url(order: PaymentOrder) -> str:
    return f"{reverse('portal_payments:return')}?{urlencode({'order_id': order.order_id})}"


# --- paying --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@citizen_required
def pay(request: HttpRequest, number: str) -> HttpResponse:
    """Start an online payment of the whole bill and send the browser to the platform."""
    bill = own_bills(request.user).filter(number=number).first()
    if bill is None:
        return _not_found(request)
    dossier_url = _dossier_url(bill)
    if request.method == "GET":  # back from signing in: the button is on the dossier page
        return redirect(dossier_url)
    panel = bill_panel(bill)
    if panel.pending_order is not None:
        messages.info(
            request,
            _(
                "A payment of this fee is waiting for the payment platform's confirmation. "
                "If you did not finish it, you can pay again after %(time)s."
            )
            % {"time": timezone.localtime(panel.pending_order.expires_at).strftime("%H:%M")},
        )
        return _see_other(dossier_url)
    try:
        order = services.order_create(
            actor=request.user,  # type: ignore[arg-type]
            bill=bill,
            return_url=request.build_absolute_uri(reverse("portal_payments:return")),
            notify_url=request.build_absolute_uri(reverse("api:payments_notify")),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _see_other(dossier_url)
    return _see_other(gateway.payment_url(order))


def _order_context(order: PaymentOrder, polls: int = 0) -> dict[str, Any]:
    panel = bill_panel(order.bill)
    payment = Payment.objects.filter(order=order).first()
    pending = order.status == OrderStatus.PENDING
    return {
        "order": order,
        "bill": order.bill,
        "dossier": order.bill.dossier,
        "panel": panel,
        "payment": payment,
        "state": order.status,
        "polling": pending and polls < POLL_LIMIT,
        "next_poll": polls + 1,
        "poll_seconds": POLL_SECONDS,
    }


@never_cache
@require_GET
@citizen_required
def payment_return(request: HttpRequest) -> HttpResponse:
    """Where the platform sends the browser back. Whatever else the address carries (status,
    amount, even a valid signature) is ignored: the page shows the order's state as recorded
    from the platform's server notification or status answer."""
    order = _own_order(request, request.GET.get("order_id", "").strip())
    if order is None:
        return _not_found(request)
    return render(request, "payments/portal/return.html", _order_context(order))


@never_cache
@require_GET
@citizen_required
def order_status(request: HttpRequest, order_id: str) -> HttpResponse:
    """The return page's status block, polled while the order is pending."""
    order = _own_order(request, order_id)
    if order is None:
        return _not_found(request)
    try:
        polls = max(0, int(request.GET.get("n", "0")))
    except ValueError:
        polls = 0
    return render(request, "payments/portal/_order_status.html", _order_context(order, polls))


@require_POST
@citizen_required
def order_query(request: HttpRequest, order_id: str) -> HttpResponse:
    """The "Check again" button: ask the platform about a pending order, apply its signed
    answer."""
    order = _own_order(request, order_id)
    if order is None:
        return _not_found(request)
    try:
        order = services.order_query(actor=request.user, order=order)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if order.status == OrderStatus.PENDING:
            messages.info(request, _("The payment platform has not confirmed the payment yet."))
    return _see_other(_return_url(order))


@require_GET
@citizen_required
def receipt_pdf(request: HttpRequest, receipt_number: str) -> HttpResponse:
    """The electronic receipt (biên lai) of one of the citizen's payments."""
    payment = (
        Payment.objects.select_related("bill__dossier", "order")
        .filter(bill__in=own_bills(request.user), receipt_number=receipt_number)
        .first()
    )
    if payment is None:
        return _not_found(request)
    response = HttpResponse(receipts.render_receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{payment.receipt_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
