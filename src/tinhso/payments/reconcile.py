"""Daily reconciliation (đối soát): the gateway's report of the transactions it settled on a
day against the online payments we recorded for that day.

Mismatch kinds:
- `missing_here`: the gateway settled a transaction we have no payment for (money we would
  otherwise lose track of: a notification that never came and no query since);
- `missing_at_gateway`: we recorded a payment the gateway does not list;
- `amount_differs`: both have it, for different amounts;
- `status_differs`: the gateway lists it as something other than a success (reversed,
  failed) while we recorded money.

A run with mismatches raises an alert: an audit record, a warning in the log and an email to
`TINHSO_PAYMENT_ALERT_EMAILS` through the outbox."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tinhso.core.audit import audit_record
from tinhso.integration import outbox
from tinhso.payments import gateway
from tinhso.payments.models import (
    Payment,
    PaymentMethod,
    ReconciliationRun,
    ReconciliationStatus,
)

logger = logging.getLogger(__name__)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _ours(day: date) -> dict[str, Payment]:
    start, end = _day_bounds(day)
    payments = Payment.objects.filter(
        method=PaymentMethod.ONLINE, paid_at__gte=start, paid_at__lt=end
    ).select_related("order")
    return {p.transaction_id or f"order:{p.order_id}": p for p in payments}


def _mine(payment: Payment) -> dict[str, Any]:
    return {
        "amount": payment.amount,
        "receipt": payment.receipt_number,
        "paid_at": timezone.localtime(payment.paid_at).isoformat(),
    }


def compare(day: date, lines: list[gateway.ReportLine]) -> tuple[list[dict[str, Any]], int, int]:
    """The mismatches between the report `lines` and our payments of `day`, and our count
    and total."""
    ours = _ours(day)
    mismatches: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in lines:
        payment = ours.get(line.transaction_id)
        theirs = {"amount": line.amount, "status": line.status}
        base = {"order_id": line.order_id, "transaction_id": line.transaction_id}
        if payment is None:
            if line.status == gateway.SUCCESS:
                mismatches.append({**base, "kind": "missing_here", "ours": None, "gateway": theirs})
            continue
        seen.add(line.transaction_id)
        if line.status != gateway.SUCCESS:
            mismatches.append(
                {**base, "kind": "status_differs", "ours": _mine(payment), "gateway": theirs}
            )
        elif line.amount != payment.amount:
            mismatches.append(
                {**base, "kind": "amount_differs", "ours": _mine(payment), "gateway": theirs}
            )
    for key, payment in ours.items():
        if key not in seen:
            mismatches.append(
                {
                    "kind": "missing_at_gateway",
                    "order_id": payment.order.order_id if payment.order else "",
                    "transaction_id": payment.transaction_id or "",
                    "ours": _mine(payment),
                    "gateway": None,
                }
            )
    return mismatches, len(ours), sum(p.amount for p in ours.values())


def reconcile_day(*, day: date, ran_by: str) -> ReconciliationRun:
    """Fetch the gateway's report for `day`, compare, store the run, alert on mismatches."""
    try:
        lines = gateway.daily_report(day)
    except gateway.GatewayUnavailable as exc:
        run = ReconciliationRun.objects.create(
            day=day,
            ran_by=ran_by,
            status=ReconciliationStatus.FAILED,
            detail=f"{exc.message} {exc.details.get('detail', '')}".strip(),
        )
        logger.warning("payment reconciliation of %s failed: %s", day, run.detail)
        return run
    mismatches, our_count, our_total = compare(day, lines)
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            day=day,
            ran_by=ran_by,
            status=ReconciliationStatus.MISMATCHED if mismatches else ReconciliationStatus.MATCHED,
            gateway_count=sum(1 for line in lines if line.status == gateway.SUCCESS),
            gateway_total=sum(line.amount for line in lines if line.status == gateway.SUCCESS),
            our_count=our_count,
            our_total=our_total,
            mismatches=mismatches,
        )
        audit_record(
            actor=None,
            action=f"reconciliation.{run.status}",
            obj=run,
            after={"day": day.isoformat(), "mismatches": len(mismatches)},
            source="system",
            label=ran_by,
        )
        if mismatches:
            _alert(run)
    return run


def _alert(run: ReconciliationRun) -> None:
    logger.warning("payment reconciliation of %s: %s mismatch(es)", run.day, len(run.mismatches))
    lines = [
        f"- {m['kind']}: đơn {m['order_id'] or '—'}, giao dịch {m['transaction_id'] or '—'}"
        for m in run.mismatches
    ]
    body = (
        f"Đối soát thanh toán ngày {run.day:%d/%m/%Y} phát hiện {len(run.mismatches)} "
        f"chênh lệch giữa báo cáo của nền tảng thanh toán và hệ thống:\n\n"
        + "\n".join(lines)
        + f"\n\nXem chi tiết: {settings.TINHSO_PUBLIC_BASE_URL}/payments/reconciliations/{run.pk}/"
    )
    for address in settings.TINHSO_PAYMENT_ALERT_EMAILS:
        outbox.enqueue(
            adapter="email",
            topic="payments.reconciliation",
            payload={
                "to": address,
                "subject": f"[Tỉnh Số] Chênh lệch đối soát thanh toán ngày {run.day:%d/%m/%Y}",
                "body": body,
            },
            idempotency_key=f"reconcile:{run.pk}:{address}",
        )
