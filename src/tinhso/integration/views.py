"""Back-office pages of the integration platform: the exchange monitor (the outbox, its
latency and failures, the dead letters to retry or discard) and the personal-data access log
with its Excel export. For administrators and provincial leaders only."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tinhso.core.errors import DomainError
from tinhso.integration import selectors
from tinhso.integration.models import MessageState, OutboxMessage

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _monitors_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.may_monitor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_monitors_only
@require_GET
def monitor(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    counts = selectors.outbox_counts()
    context = {
        "states": MessageState.choices,
        "counts": counts,
        "totals": [sum(row.in_order()[i] for row in counts) for i in range(len(MessageState))],
        "latency": selectors.delivery_latency(now=now),
        "failures": selectors.failure_rate(now=now),
        "dead": selectors.dead_letters(),
        "recent_access": selectors.access_log(request.user)[:10],
    }
    return render(request, "integration/monitor.html", context)


def _message_or_404(pk: int) -> OutboxMessage:
    try:
        return selectors.dead_letter_get(pk)
    except OutboxMessage.DoesNotExist as exc:
        raise Http404 from exc


@_monitors_only
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    from tinhso.integration.outbox import outbox_retry

    message = _message_or_404(pk)
    try:
        outbox_retry(actor=request.user, message=message)
        messages.success(request, _("Message #%(id)s is queued again.") % {"id": pk})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("integration:monitor")


@_monitors_only
@require_POST
def message_discard(request: HttpRequest, pk: int) -> HttpResponse:
    from tinhso.integration.outbox import outbox_discard

    message = _message_or_404(pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give a reason to discard a message."))
        return redirect("integration:monitor")
    try:
        outbox_discard(actor=request.user, message=message, reason=reason)
        messages.success(request, _("Message #%(id)s is discarded.") % {"id": pk})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("integration:monitor")


@_monitors_only
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    filters = selectors.AccessFilter.from_query(request.GET)
    rows = selectors.access_log(request.user, filters)
    context = {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "filters": filters,
        "sources": selectors.access_sources(request.user),
        "query": urlencode(filters.as_query()),
    }
    return render(request, "integration/access_log.html", context)


@_monitors_only
@require_GET
def access_log_export(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    filters = selectors.AccessFilter.from_query(request.GET)
    rows = selectors.access_log(request.user, filters)[: selectors.EXPORT_LIMIT]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("Personal data access"))[:31])  # Excel allows 31
    sheet.append(
        [
            _("Time"),
            _("Official"),
            _("Agency"),
            _("Identification number"),
            _("Purpose"),
            _("Dossier"),
            _("Source"),
            _("Outcome"),
        ]
    )
    for row in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                timezone.localtime(row.at).replace(tzinfo=None),
                row.actor_label,
                row.agency.name if row.agency else "",
                row.subject_id_number,
                row.purpose,
                row.dossier_code,
                row.source,
                row.outcome,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="personal-data-access-{stamp}.xlsx"'
    return response
