"""Django admin for fees and payments: a read-only window on the records.

Money changes only through the services (`services.py`), which check the rules, lock the
rows and write the audit trail; the admin therefore adds, changes and deletes nothing here.
Bills and what hangs on them are listed in the user's administrative scope; the gateway's
notifications and the reconciliations are for provincial leaders and administrators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tinhso.core.scoping import scope
from tinhso.payments import selectors
from tinhso.payments.models import (
    Bill,
    BillLine,
    GatewayNotification,
    Payment,
    PaymentOrder,
    ReconciliationRun,
    Refund,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BillLineInline(ReadOnlyInline):
    model = BillLine
    fields = ("description", "amount", "legal_basis", "fee_case")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("receipt_number", "method", "amount", "paid_at", "needs_refund", "refunded_amount")
    show_change_link = True


class OrderInline(ReadOnlyInline):
    model = PaymentOrder
    fields = ("order_id", "amount", "status", "created_at", "confirmed_via", "transaction_id")


def _visible_bills(request: HttpRequest) -> Any:
    return scope(Bill.objects.all(), request.user).values("pk")


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ("number", "dossier", "payer_name", "amount", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "dossier__code", "payer_name")
    date_hierarchy = "created_at"
    inlines = [BillLineInline, PaymentInline, OrderInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return scope(super().get_queryset(request).select_related("dossier"), request.user)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "receipt_number",
        "bill",
        "method",
        "amount",
        "paid_at",
        "needs_refund",
        "refunded_amount",
    )
    list_filter = ("method", "needs_refund")
    search_fields = ("receipt_number", "transaction_id", "bill__number", "bill__dossier__code")
    date_hierarchy = "paid_at"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).select_related("bill")
        return qs.filter(bill__in=_visible_bills(request))


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = ("order_id", "bill", "amount", "status", "created_at", "confirmed_via")
    list_filter = ("status", "confirmed_via")
    search_fields = ("order_id", "transaction_id", "bill__number")

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).select_related("bill")
        return qs.filter(bill__in=_visible_bills(request))


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("payment", "amount", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status",)
    search_fields = ("payment__receipt_number", "payment__bill__number", "reason")

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).select_related("payment")
        return qs.filter(payment__bill__in=_visible_bills(request))


@admin.register(GatewayNotification)
class GatewayNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "order_id", "outcome", "detail", "remote_addr")
    list_filter = ("outcome",)
    search_fields = ("order_id", "nonce", "detail")
    date_hierarchy = "received_at"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        return qs if selectors.may_view_notifications(request.user) else qs.none()


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("day", "status", "gateway_count", "our_count", "ran_at", "ran_by")
    list_filter = ("status",)
    date_hierarchy = "day"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        return qs if selectors.may_view_reconciliations(request.user) else qs.none()
