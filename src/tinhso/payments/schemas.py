"""Request and response shapes of the payments API. Amounts are whole đồng (integers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return user.full_name or user.get_username()


class BillLineOut(Schema):
    fee_case_id: int | None
    description: str
    amount: int
    legal_basis: str


class RefundOut(Schema):
    id: int
    receipt_number: str = Field(..., alias="payment.receipt_number")
    amount: int
    reason: str
    status: str
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def resolve_requested_by(obj: Any) -> str | None:
        return _name(obj.requested_by)

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return _name(obj.decided_by)


class PaymentOut(Schema):
    receipt_number: str
    bill_number: str = Field(..., alias="bill.number")
    method: str
    amount: int
    paid_at: datetime
    order_id: str | None
    transaction_id: str | None
    needs_refund: bool
    refunded_amount: int
    recorded_by: str | None
    refunds: list[RefundOut]

    @staticmethod
    def resolve_order_id(obj: Any) -> str | None:
        return obj.order.order_id if obj.order_id else None

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str | None:
        return _name(obj.recorded_by)

    @staticmethod
    def resolve_refunds(obj: Any) -> list[Any]:
        return list(obj.refunds.all())


class OrderOut(Schema):
    order_id: str
    bill_number: str = Field(..., alias="bill.number")
    amount: int
    status: str
    created_at: datetime
    expires_at: datetime
    transaction_id: str
    confirmed_at: datetime | None
    confirmed_via: str


class BillOut(Schema):
    number: str
    dossier_code: str = Field(..., alias="dossier.code")
    agency_code: str = Field(..., alias="agency.code")
    payer_name: str
    amount: int
    status: str
    status_reason: str
    legal_basis: str
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None
    version: int
    lines: list[BillLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class BillDetailOut(BillOut):
    payments: list[PaymentOut]
    orders: list[OrderOut]

    @staticmethod
    def resolve_payments(obj: Any) -> list[Any]:
        return list(obj.payments.all())

    @staticmethod
    def resolve_orders(obj: Any) -> list[Any]:
        return list(obj.orders.all())


class VersionedIn(Schema):
    expected_version: int | None = Field(
        None, description="The bill version you saw; a newer one gives 409 conflict."
    )


class CashIn(VersionedIn):
    amount: int = Field(..., ge=0, description="Whole đồng; must be the bill's amount.")


class ExemptIn(VersionedIn):
    reason: str = Field(..., max_length=2000)


class FeeCaseIn(VersionedIn):
    fee_case_id: int


class OrderIn(Schema):
    return_url: str = Field(
        ...,
        max_length=500,
        pattern=r"^https?://\S+$",
        description="Where the payment platform sends the payer's browser back.",
    )


class OrderCreatedOut(Schema):
    order_id: str
    amount: int
    expires_at: datetime
    payment_url: str


class NotifyAcceptedOut(Schema):
    code: str = Field(..., description="accepted, duplicate or refund (paid after closing)")


class NotifyRefusedOut(Schema):
    code: str = Field(..., description="bad_signature, amount_mismatch, unknown_order, …")
    message: str


class RefundIn(Schema):
    amount: int = Field(..., ge=1)
    reason: str = Field(..., max_length=2000)


class ApproveIn(Schema):
    note: str = Field("", max_length=2000)


class RejectIn(Schema):
    note: str = Field(..., max_length=2000)


class ReconciliationOut(Schema):
    id: int
    day: date
    ran_at: datetime
    ran_by: str
    status: str
    gateway_count: int
    gateway_total: int
    our_count: int
    our_total: int
    mismatches: list[dict[str, Any]]
    detail: str
