"""Fees and charges (phí, lệ phí) of dossiers and the money paid for them.

A `Bill` is what a dossier owes, built from its procedure's fee cases (amounts in whole
đồng, integers, never floats). It is settled by one `Payment`: cash at the desk, or online
through the payment platform, where each attempt is a `PaymentOrder` sent to the gateway.
The gateway's server notifications are kept, verified or not, in `GatewayNotification`
(append-only). Money that came in for a bill that could no longer take it is flagged on its
payment and gets a `Refund` waiting for approval. Every change writes an audit record."""

from __future__ import annotations

from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tinhso.catalog.models import FeeCase
from tinhso.core.models import Agency, AppendOnlyModel, AppendOnlyQuerySet, User
from tinhso.core.scoping import ScopedQuerySet, ScopeFields
from tinhso.dossiers.models import Dossier


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    EXEMPTED = "exempted", _("Exempted")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Bill(models.Model):
    """What a dossier owes. The agency, unit path and owner are copied from the dossier so
    bills are scoped like their dossiers (the owner sees their own, officials their scope)."""

    number = models.CharField(_("bill number"), max_length=80, unique=True)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="bills", verbose_name=_("dossier")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    unit_path = models.CharField(max_length=255, db_index=True, editable=False)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="bills"
    )
    payer_name = models.CharField(_("payer"), max_length=255)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    status = models.CharField(
        _("status"), max_length=10, choices=BillStatus.choices, default=BillStatus.UNPAID
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("payable until"))
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(
        unit_path="unit_path", agency="agency", owner="owner"
    )

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return self.number


class BillLine(models.Model):
    """One fee case on a bill, copied from the catalog so a later catalog change does not
    rewrite what was billed."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    fee_case = models.ForeignKey(
        FeeCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(_("fee"), max_length=500)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    legal_basis = models.CharField(_("legal basis"), max_length=500, blank=True)

    class Meta:
        ordering = ["bill", "pk"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the payment platform")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled by the payer")


class PaymentOrder(models.Model):
    """One attempt to pay a bill online: the request sent to the payment platform. Only a
    verified server notification or a status query marks it paid."""

    order_id = models.CharField(_("order"), max_length=40, unique=True)
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="orders")
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    description = models.CharField(max_length=255)
    return_url = models.URLField(max_length=500)
    notify_url = models.URLField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    transaction_id = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    #: "notification" or "query": how the outcome reached us.
    confirmed_via = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.order_id


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash at the desk")
    ONLINE = "online", _("Online")


class Payment(models.Model):
    """Money received for a bill, with its electronic receipt (biên lai) number. An online
    payment belongs to exactly one order and one gateway transaction (unique: a repeated
    notification cannot record it twice)."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    paid_at = models.DateTimeField(_("paid at"))
    order = models.OneToOneField(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    transaction_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt_number = models.CharField(_("receipt number"), max_length=40, unique=True)
    #: Money that came for a bill that could no longer take it (expired, cancelled, already
    #: settled): kept, and flagged so it is refunded rather than lost.
    needs_refund = models.BooleanField(_("to be refunded"), default=False)
    refunded_amount = models.PositiveBigIntegerField(_("refunded (VND)"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="payment_refund_not_above_amount",
            )
        ]

    def __str__(self) -> str:
        return self.receipt_number


class ReceiptCounter(models.Model):
    """The last receipt number given per year (receipt numbers are gap-free)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved and refunded")
    REJECTED = "rejected", pgettext_lazy("refund", "Rejected")


class Refund(models.Model):
    """A full or partial refund of a payment: requested with a reason by one official (or
    flagged by the system), approved or rejected by an agency leader other than the one who
    requested it."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.payment} −{self.amount}"


class NotificationOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate, nothing changed")
    FLAGGED_FOR_REFUND = "refund", _("Paid after the bill closed: flagged for refund")
    REFUSED_SIGNATURE = "bad_signature", _("Refused: bad signature")
    REFUSED_AMOUNT = "amount_mismatch", _("Refused: amount or order does not match")
    REFUSED_UNKNOWN_ORDER = "unknown_order", _("Refused: unknown order")
    REFUSED_REPLAY = "replay", _("Refused: replayed or stale")
    REFUSED_MALFORMED = "malformed", _("Refused: malformed")


class GatewayNotification(AppendOnlyModel):
    """Every server notification that reached us, as received, with what we made of it."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    order_id = models.CharField(max_length=40, blank=True, db_index=True)
    nonce = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    outcome = models.CharField(max_length=20, choices=NotificationOutcome.choices)
    detail = models.TextField(blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.outcome}"


class ReconciliationStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    MISMATCHED = "mismatched", _("Mismatches found")
    FAILED = "failed", _("Could not fetch the gateway's report")


class ReconciliationRun(models.Model):
    """One comparison of the gateway's daily report with our online payments."""

    day = models.DateField(_("day"), db_index=True)
    ran_at = models.DateTimeField(default=timezone.now)
    ran_by = models.CharField(max_length=150)
    status = models.CharField(max_length=12, choices=ReconciliationStatus.choices)
    gateway_count = models.PositiveIntegerField(default=0)
    gateway_total = models.PositiveBigIntegerField(default=0)
    our_count = models.PositiveIntegerField(default=0)
    our_total = models.PositiveBigIntegerField(default=0)
    #: [{"kind", "order_id", "transaction_id", "ours", "gateway"}] — see `reconcile.py`.
    mismatches = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-ran_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.day} {self.status}"


class SimulatedTransaction(models.Model):
    """The built-in payment-platform simulator's own record of a payment request (its state,
    not ours: see `tinhso.payments.simulator`). The `report_*` fields let a test or a demo
    seed mismatches into the simulator's daily report."""

    order_id = models.CharField(max_length=40, unique=True)
    merchant_code = models.CharField(max_length=40)
    amount = models.PositiveBigIntegerField()
    description = models.CharField(max_length=255, blank=True)
    return_url = models.URLField(max_length=500, blank=True)
    notify_url = models.URLField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    #: pending, success, failed, cancelled (the gateway's words).
    status = models.CharField(max_length=10, default="pending")
    transaction_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    #: normal, never, twice, late: how the payer's button said to notify.
    notify_mode = models.CharField(max_length=10, default="normal")
    notify_due_at = models.DateTimeField(null=True, blank=True)
    notified_count = models.PositiveIntegerField(default=0)
    last_notify_status = models.CharField(max_length=100, blank=True)
    report_hidden = models.BooleanField(default=False)
    report_amount = models.PositiveBigIntegerField(null=True, blank=True)
    report_status = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"
