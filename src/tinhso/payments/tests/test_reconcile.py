"""Daily reconciliation against the simulator's signed report, through `tinhso payments
reconcile`: each kind of mismatch is found and listed once, a clean day matches, a report
that cannot be fetched or does not verify fails the run, and mismatches alert by email."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from tinhso.dossiers.tests.conftest import vn
from tinhso.integration import simulators
from tinhso.integration.models import OutboxMessage
from tinhso.integration.simulators import in_process_transport
from tinhso.payments import gateway, services, simulator
from tinhso.payments.models import (
    BillStatus,
    OrderStatus,
    PaymentOrder,
    ReconciliationRun,
    ReconciliationStatus,
)

from .conftest import FEE

DAY = date(2026, 11, 20)
KINDS = ("missing_here", "missing_at_gateway", "amount_differs", "status_differs")


def paid_at(paygov, new_bill, at: datetime) -> PaymentOrder:
    """A dossier billed at `at`, paid through the simulator a minute later; the simulator
    sends no notification (its clock is in the past) and the status query confirms it."""
    bill = new_bill(at)
    order = paygov.order(bill, at=at)
    with simulators.clock_at(lambda: at + timedelta(minutes=1)):
        assert paygov.open(order).status_code == 200
        assert paygov.choose(order, "never_notify").status_code == 303
    order = services.order_query(actor=None, order=order, at=at + timedelta(minutes=2))
    assert order.status == OrderStatus.PAID
    return order


def reconcile(day: date) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("payments", "reconcile", "--date", day.isoformat(), stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def listed(output: str) -> list[tuple[str, str]]:
    """(kind, order) of each mismatch line of the command's output."""
    rows = [line.split("\t") for line in output.splitlines()]
    return sorted((row[0], row[1].removeprefix("order ")) for row in rows if row[0] in KINDS)


def test_each_kind_of_mismatch_is_listed_once_and_the_exit_status_is_1(paygov, new_bill):
    clean, hidden, amount, status = (
        paid_at(paygov, new_bill, vn(2026, 11, 20, 9, 10 * i)) for i in range(4)
    )
    late_evening = paid_at(paygov, new_bill, vn(2026, 11, 20, 23, 55))
    paid_at(paygov, new_bill, vn(2026, 11, 21, 0, 5))  # the next day: not in this report
    pending = paygov.order(new_bill(vn(2026, 11, 20, 10)), at=vn(2026, 11, 20, 10))
    with simulators.clock_at(lambda: vn(2026, 11, 20, 10, 1)):
        paygov.open(pending)  # opened, never paid
    simulator.seed_hidden(hidden.order_id)
    simulator.seed_amount(amount.order_id, 45_000)
    simulator.seed_status(status.order_id, "reversed")
    phantom = simulator.seed_phantom(DAY, 30_000)

    output, code = reconcile(DAY)

    assert code == 1
    assert listed(output) == sorted(
        [
            ("missing_at_gateway", hidden.order_id),
            ("amount_differs", amount.order_id),
            ("status_differs", status.order_id),
            ("missing_here", phantom.order_id),
        ]
    )
    assert clean.order_id not in output and late_evening.order_id not in output
    assert "mismatched" in output and "mismatches: 4" in output
    amount_line = next(line for line in output.splitlines() if line.startswith("amount_differs"))
    assert f"ours {FEE}" in amount_line and "gateway 45000 success" in amount_line
    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationStatus.MISMATCHED and run.ran_by == "command"
    # The gateway's successes: clean, amount (as reported), late evening, phantom.
    assert (run.gateway_count, run.gateway_total) == (4, 2 * FEE + 45_000 + 30_000)
    assert (run.our_count, run.our_total) == (5, 5 * FEE)
    assert f"gateway: 4 transactions, {run.gateway_total} VND" in output
    assert f"ours:    5 payments, {5 * FEE} VND" in output


def test_a_clean_day_prints_matched_and_exits_0(paygov, new_bill):
    for minute in (0, 30):
        paid_at(paygov, new_bill, vn(2026, 11, 19, 14, minute))

    output, code = reconcile(date(2026, 11, 19))

    assert code == 0
    assert "matched" in output and "mismatch" not in output
    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationStatus.MATCHED
    assert (run.gateway_count, run.our_count, run.our_total) == (2, 2, 2 * FEE)


def test_without_a_date_yesterday_is_reconciled(paygov):
    out = StringIO()
    call_command("payments", "reconcile", stdout=out)
    yesterday = timezone.localdate() - timedelta(days=1)
    assert ReconciliationRun.objects.get().day == yesterday
    assert f"reconciliation {yesterday.isoformat()}: matched" in out.getvalue()


def test_a_bad_date_is_refused_clearly(paygov):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("payments", "reconcile", "--date", "20/11/2026")
    assert not ReconciliationRun.objects.exists()


def test_the_simulator_down_fails_the_run_with_exit_2(paygov, new_bill):
    paid_at(paygov, new_bill, vn(2026, 11, 20, 9, 0))
    simulators.set_down(simulator.SIMULATOR, timezone.now() + timedelta(hours=1))

    output, code = reconcile(DAY)

    assert code == 2
    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationStatus.FAILED and "503" in run.detail
    assert "failed" in output


def test_a_report_with_a_bad_signature_fails_the_run_with_exit_2(paygov, new_bill):
    paid_at(paygov, new_bill, vn(2026, 11, 20, 9, 0))

    def tampered(url, body, headers, timeout):
        status, answer = in_process_transport(url, body, headers, timeout)
        data = json.loads(answer)
        report = json.loads(data["body"])
        for line in report["transactions"]:
            line["amount"] = 1  # the signature stays the gateway's
        data["body"] = json.dumps(report)
        return status, json.dumps(data).encode()

    gateway.set_transport(tampered)

    _output, code = reconcile(DAY)

    assert code == 2
    run = ReconciliationRun.objects.get()
    with translation.override("en"):
        expected = translation.gettext("The payment platform's report has a bad signature.")
    assert run.status == ReconciliationStatus.FAILED
    assert run.detail in (expected, _vi("The payment platform's report has a bad signature."))
    assert run.mismatches == []


def test_a_mismatched_run_emails_each_alert_address(paygov, new_bill, settings):
    settings.TINHSO_PAYMENT_ALERT_EMAILS = ["ketoan@example.vn", "giamdoc@example.vn"]
    paid_at(paygov, new_bill, vn(2026, 11, 20, 9, 0))
    phantom = simulator.seed_phantom(DAY, 30_000)

    _output, code = reconcile(DAY)

    assert code == 1
    emails = OutboxMessage.objects.filter(adapter="email", topic="payments.reconciliation")
    assert sorted(m.payload["to"] for m in emails) == sorted(settings.TINHSO_PAYMENT_ALERT_EMAILS)
    assert all(phantom.order_id in m.payload["body"] for m in emails)


def test_a_matched_run_sends_no_email(paygov, new_bill, settings):
    settings.TINHSO_PAYMENT_ALERT_EMAILS = ["ketoan@example.vn"]
    paid_at(paygov, new_bill, vn(2026, 11, 20, 9, 0))
    assert reconcile(DAY)[1] == 0
    assert not OutboxMessage.objects.filter(adapter="email").exists()


def test_expire_marks_overdue_bills_and_prints_the_count(paygov, new_bill):
    overdue = new_bill(timezone.now() - timedelta(days=40))
    current = new_bill()
    out = StringIO()
    call_command("payments", "expire", stdout=out)
    assert out.getvalue().strip() == "expired: 1"
    overdue.refresh_from_db()
    current.refresh_from_db()
    assert overdue.status == BillStatus.EXPIRED and current.status == BillStatus.UNPAID


def test_query_pending_settles_orders_nobody_notified(paygov, new_bill):
    bill = new_bill()
    order = paygov.order(bill, at=timezone.now() - timedelta(minutes=10))
    paygov.open(order)
    paygov.choose(order, "never_notify")
    out = StringIO()
    call_command("payments", "query-pending", stdout=out)
    assert out.getvalue().strip() == "settled: 1"
    order.refresh_from_db()
    bill.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.confirmed_via == "query"
    assert bill.status == BillStatus.PAID


def _vi(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)
