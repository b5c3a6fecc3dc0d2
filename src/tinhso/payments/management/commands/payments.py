"""`tinhso payments reconcile|expire|query-pending`: the payment jobs by hand (as the
system; each writes its own audit records).

`reconcile` exits 0 when the day matched, 1 when mismatches were found (listed first) and 2
when the gateway's report could not be fetched, so a cron wrapper can alert on it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tinhso.payments import reconcile, services
from tinhso.payments.models import ReconciliationRun, ReconciliationStatus

MATCHED_EXIT, MISMATCHED_EXIT, FAILED_EXIT = 0, 1, 2


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date written YYYY-MM-DD, not {value!r}") from None


def _side(side: dict[str, Any] | None, *, with_status: bool) -> str:
    if not side:
        return "—"
    text = str(side.get("amount", "?"))
    return f"{text} {side.get('status', '')}".strip() if with_status else text


class Command(BaseCommand):
    help = "Online payments: reconcile a day with the gateway, expire bills, query orders."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("reconcile", help="compare a day's gateway report with our payments")
        run.add_argument("--date", default=None, help="the day, YYYY-MM-DD (default: yesterday)")
        sub.add_parser("expire", help="mark unpaid bills past their payable date expired")
        sub.add_parser("query-pending", help="ask the gateway about orders nobody notified")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "expire":
            self.stdout.write(f"expired: {services.bills_expire_due()}")
            return
        if action == "query-pending":
            self.stdout.write(f"settled: {services.orders_query_pending()}")
            return
        day = _day(options["date"]) if options["date"] else timezone.localdate() - timedelta(days=1)
        self._report(reconcile.reconcile_day(day=day, ran_by="command"))

    def _report(self, run: ReconciliationRun) -> None:
        self.stdout.write(f"reconciliation {run.day.isoformat()}: {run.status} (run {run.pk})")
        if run.status == ReconciliationStatus.FAILED:
            raise CommandError(
                f"could not fetch the gateway's report: {run.detail}", returncode=FAILED_EXIT
            )
        self.stdout.write(f"gateway: {run.gateway_count} transactions, {run.gateway_total} VND")
        self.stdout.write(f"ours:    {run.our_count} payments, {run.our_total} VND")
        if run.status == ReconciliationStatus.MATCHED:
            return
        self.stdout.write(f"mismatches: {len(run.mismatches)}")
        for m in run.mismatches:
            self.stdout.write(
                "\t".join(
                    [
                        m["kind"],
                        f"order {m['order_id'] or '—'}",
                        f"transaction {m['transaction_id'] or '—'}",
                        f"ours {_side(m['ours'], with_status=False)}",
                        f"gateway {_side(m['gateway'], with_status=True)}",
                    ]
                )
            )
        raise CommandError(
            f"{len(run.mismatches)} mismatch(es) on {run.day.isoformat()}; see run {run.pk}",
            returncode=MISMATCHED_EXIT,
        )
