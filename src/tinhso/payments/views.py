"""The officials' side of fees and payments (mounted at /payments/): the actions of the
payments panel on the dossier page, the bills list, refunds waiting for approval, the daily
reconciliations, the gateway's notification log, and the receipt PDF.

Views parse input, call a selector or a service, and render or redirect. As on the dossier
pages: a bill outside the user's scope is a 404, citizens get a 403 (they pay on the portal),
and a `DomainError` from a service becomes a message on the page the official came from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tinhso.catalog.entries import format_vnd
from tinhso.catalog.models import FeeCase
from tinhso.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from tinhso.core.models import UserKind
from tinhso.payments import receipts, selectors, services
from tinhso.payments.models import (
    Bill,
    BillStatus,
    NotificationOutcome,
    Refund,
)

PAGE_SIZE = 50


# --- helpers --------------------------------------------------------------------------------


def _officials_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The desk's money pages are for officials; citizens pay and print on the portal."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or user.kind == UserKind.OFFICIAL):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _bill_or_404(user: Any, number: str) -> Bill:
    try:
        return selectors.bill_get(user, number=number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _refund_or_404(user: Any, pk: int) -> Refund:
    try:
        return selectors.refund_get(user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _back(request: HttpRequest, bill: Bill) -> HttpResponse:
    """To the page the form came from (a safe `next`), else the bill's dossier."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("dossiers:detail", args=[bill.dossier_id]) + f"#bill-{bill.pk}")


def _int(raw: str | None, message: str, field: str) -> int:
    """A whole number typed by a person: `50000`, `50.000`, `50 000 đ`."""
    text = (raw or "").strip().replace(".", "").replace(" ", "").replace("\u00a0", "")
    text = text.removesuffix("đ").removesuffix("đồng")
    try:
        return int(text)
    except ValueError as exc:
        raise ValidationFailed(message, field=field) from exc


def _expected_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("expected_version", ""))
    except ValueError as exc:
        raise ValidationFailed(_("The form is out of date: reload the dossier.")) from exc


def _run(request: HttpRequest, action: Callable[[], str]) -> None:
    """Run one service call; its success message or its refusal becomes a page message."""
    try:
        text = action()
    except Conflict as exc:
        messages.error(request, exc.message, extra_tags="conflict")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, text)


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# --- the panel's actions --------------------------------------------------------------------


@_officials_only
@require_POST
def bill_cash(request: HttpRequest, number: str) -> HttpResponse:
    """Cash paid at the desk: the whole amount, against an electronic receipt."""
    bill = _bill_or_404(request.user, number)

    def act() -> str:
        payment = services.bill_record_cash(
            actor=request.user,
            bill=bill,
            amount=_int(request.POST.get("amount"), _("Enter the amount received."), "amount"),
            expected_version=_expected_version(request),
        )
        return _("Cash payment of %(amount)s recorded. Receipt %(receipt)s.") % {
            "amount": format_vnd(payment.amount),
            "receipt": payment.receipt_number,
        }

    _run(request, act)
    return _back(request, bill)


@_officials_only
@require_POST
def bill_exempt(request: HttpRequest, number: str) -> HttpResponse:
    bill = _bill_or_404(request.user, number)

    def act() -> str:
        services.bill_exempt(
            actor=request.user,
            bill=bill,
            reason=request.POST.get("reason", ""),
            expected_version=_expected_version(request),
        )
        return _("Bill %(number)s is exempted.") % {"number": bill.number}

    _run(request, act)
    return _back(request, bill)


@_officials_only
@require_POST
def bill_reissue(request: HttpRequest, number: str) -> HttpResponse:
    """An expired bill is issued again for an applicant who comes to pay late."""
    bill = _bill_or_404(request.user, number)

    def act() -> str:
        fresh = services.bill_reissue(actor=request.user, bill=bill)
        return _("Bill %(number)s is issued.") % {"number": fresh.number if fresh else ""}

    _run(request, act)
    return _back(request, bill)


@_officials_only
@require_POST
def bill_fee_case(request: HttpRequest, number: str) -> HttpResponse:
    """The desk picks the fee case that applies; a case without a fee exempts the bill."""
    bill = _bill_or_404(request.user, number)

    def act() -> str:
        case_id = _int(request.POST.get("fee_case"), _("Choose a fee case."), "fee_case")
        # Any case of the catalog is looked up: the service refuses another procedure's.
        case = FeeCase.objects.filter(pk=case_id).first()
        if case is None:
            raise ValidationFailed(_("Choose a fee case."), field="fee_case")
        changed = services.bill_choose_case(
            actor=request.user,
            bill=bill,
            fee_case=case,
            expected_version=_expected_version(request),
        )
        if changed.status == BillStatus.EXEMPTED:
            return _("“%(case)s” has no fee: bill %(number)s is exempted.") % {
                "case": case.description,
                "number": changed.number,
            }
        return _("Fee case “%(case)s” applied: %(amount)s.") % {
            "case": case.description,
            "amount": format_vnd(changed.amount),
        }

    _run(request, act)
    return _back(request, bill)


@_officials_only
@require_POST
def refund_request(request: HttpRequest, receipt_number: str) -> HttpResponse:
    try:
        payment = selectors.payment_get(request.user, receipt_number=receipt_number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc

    def act() -> str:
        refund = services.refund_request(
            actor=request.user,
            payment=payment,
            amount=_int(request.POST.get("amount"), _("Enter the amount to refund."), "amount"),
            reason=request.POST.get("reason", ""),
        )
        return _(
            "Refund of %(amount)s requested. It waits for the approval of an agency leader."
        ) % {"amount": format_vnd(refund.amount)}

    _run(request, act)
    return _back(request, payment.bill)


@_officials_only
@require_POST
def refund_approve(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(request.user, pk)

    def act() -> str:
        done = services.refund_approve(
            actor=request.user, refund=refund, note=request.POST.get("note", "")
        )
        return _("Refund of %(amount)s approved (receipt %(receipt)s).") % {
            "amount": format_vnd(done.amount),
            "receipt": refund.payment.receipt_number,
        }

    _run(request, act)
    return _back(request, refund.payment.bill)


@_officials_only
@require_POST
def refund_reject(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(request.user, pk)

    def act() -> str:
        services.refund_reject(actor=request.user, refund=refund, note=request.POST.get("note", ""))
        return _("Refund of %(amount)s rejected.") % {"amount": format_vnd(refund.amount)}

    _run(request, act)
    return _back(request, refund.payment.bill)


# --- pages ----------------------------------------------------------------------------------


@_officials_only
@require_GET
def bill_list(request: HttpRequest) -> HttpResponse:
    """Bills in the official's scope, with filters by status, agency and issue date."""
    user = request.user
    status = request.GET.get("status", "")
    if status not in BillStatus.values:
        status = ""
    agencies = list(selectors.bill_agencies(user))
    agency_raw = request.GET.get("agency", "")
    agency_id = next((a.pk for a in agencies if str(a.pk) == agency_raw), None)
    date_from = _parse_date(request.GET.get("from", ""))
    date_to = _parse_date(request.GET.get("to", ""))
    query = request.GET.get("q", "").strip()
    bills = selectors.bills_list(
        user,
        status=status,
        agency_id=agency_id,
        date_from=date_from,
        date_to=date_to,
        query=query,
    )
    context = {
        "page": _page(request, bills),
        "status": status,
        "statuses": BillStatus.choices,
        "agencies": agencies,
        "agency_id": agency_id,
        "date_from": date_from.isoformat() if date_from else "",
        "date_to": date_to.isoformat() if date_to else "",
        "query": query,
    }
    return render(request, "payments/bill_list.html", context)


@_officials_only
@require_GET
def refund_list(request: HttpRequest) -> HttpResponse:
    """Refunds waiting for an agency leader's decision, with the decision forms for those
    who may decide."""
    user = request.user
    page = _page(request, selectors.refunds_waiting(user))
    rows = [{"refund": r, "can_decide": selectors.may_decide_refund(user, r)} for r in page]
    return render(
        request,
        "payments/refund_list.html",
        {"page": page, "rows": rows, "next": request.get_full_path()},
    )


def _reconcilers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @_officials_only
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.may_view_reconciliations(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_reconcilers_only
@require_GET
def reconciliation_list(request: HttpRequest) -> HttpResponse:
    day = _parse_date(request.GET.get("day", ""))
    runs = selectors.reconciliation_runs(request.user, day=day)
    return render(
        request,
        "payments/reconciliation_list.html",
        {"page": _page(request, runs), "day": day.isoformat() if day else ""},
    )


#: The kinds of mismatch `reconcile.compare` finds.
MISMATCH_LABELS = {
    "missing_here": gettext_lazy("Settled by the gateway, no payment recorded here"),
    "missing_at_gateway": gettext_lazy("Recorded here, not in the gateway's report"),
    "amount_differs": gettext_lazy("Amounts differ"),
    "status_differs": gettext_lazy("The gateway reports another outcome"),
}


@_reconcilers_only
@require_GET
def reconciliation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One reconciliation run and its mismatches (the alert email links here)."""
    try:
        run = selectors.reconciliation_get(request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    mismatches = [
        {**m, "label": MISMATCH_LABELS.get(m.get("kind", ""), m.get("kind", ""))}
        for m in run.mismatches
    ]
    return render(
        request, "payments/reconciliation_detail.html", {"run": run, "mismatches": mismatches}
    )


@_officials_only
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The gateway's server notifications as received (administrators)."""
    if not selectors.may_view_notifications(request.user):
        raise PermissionDenied
    outcome = request.GET.get("outcome", "")
    if outcome not in NotificationOutcome.values:
        outcome = ""
    order_id = request.GET.get("order", "").strip()
    notifications = selectors.notifications_log(request.user, outcome=outcome, order_id=order_id)
    context = {
        "page": _page(request, notifications),
        "outcome": outcome,
        "outcomes": NotificationOutcome.choices,
        "order_id": order_id,
        "refused": {
            NotificationOutcome.REFUSED_SIGNATURE,
            NotificationOutcome.REFUSED_AMOUNT,
            NotificationOutcome.REFUSED_UNKNOWN_ORDER,
            NotificationOutcome.REFUSED_REPLAY,
            NotificationOutcome.REFUSED_MALFORMED,
        },
    }
    return render(request, "payments/notification_list.html", context)


# --- the receipt ----------------------------------------------------------------------------


@_officials_only
@require_GET
def receipt_pdf(request: HttpRequest, receipt_number: str) -> HttpResponse:
    """The electronic receipt of a payment, for officials who can see its bill. The portal
    serves the same PDF to the bill's owner with `receipts.receipt_response`."""
    try:
        payment = selectors.payment_get(request.user, receipt_number=receipt_number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return receipts.receipt_response(payment)
