"""`tinhso outbox work|status|retry|discard`: run the outbox worker and look after the
dead-letter queue from the console (as the system: `actor=None`, still audited)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from tinhso.core.errors import DomainError
from tinhso.integration import outbox
from tinhso.integration.models import MessageState, OutboxMessage
from tinhso.integration.worker import Worker


class Command(BaseCommand):
    help = "The outbox of messages to other systems: run the worker, inspect, retry, discard."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        work = sub.add_parser("work", help="deliver due messages until stopped")
        work.add_argument("--once", action="store_true", help="one round, then exit")
        work.add_argument("--interval", type=float, default=1.0, help="seconds to sleep when idle")
        work.add_argument("--worker", default=None, help="name in the heartbeat table")
        work.add_argument("--limit", type=int, default=50, help="messages per round")
        sub.add_parser("status", help="messages per adapter and state")
        sub.add_parser("push-catalog", help="queue every changed procedure for the national portal")
        retry = sub.add_parser("retry", help="put a dead message back in the queue")
        retry.add_argument("id", type=int)
        discard = sub.add_parser("discard", help="give up on a dead or waiting message")
        discard.add_argument("id", type=int)
        discard.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "work":
            if options["interval"] < 0 or options["limit"] < 1:
                raise CommandError("--interval must be >= 0 and --limit >= 1")
            worker = Worker(
                name=options["worker"], interval=options["interval"], limit=options["limit"]
            )
            delivered = worker.run(once=options["once"])
            self.stderr.write(f"{worker.name}: {delivered} delivered")
            return
        if action == "push-catalog":
            from tinhso.integration.adapters.national_portal import push_catalog

            self.stdout.write(f"queued: {push_catalog(actor=None)}")
            return
        if action == "status":
            rows = (
                OutboxMessage.objects.values("adapter", "state")
                .annotate(n=Count("id"))
                .order_by("adapter", "state")
            )
            for row in rows:
                self.stdout.write(f"{row['adapter']}\t{row['state']}\t{row['n']}")
            return
        try:
            message = OutboxMessage.objects.get(pk=options["id"])
        except OutboxMessage.DoesNotExist:
            raise CommandError(f"no outbox message {options['id']}") from None
        try:
            if action == "retry":
                outbox.outbox_retry(actor=None, message=message)
            else:
                outbox.outbox_discard(actor=None, message=message, reason=options["reason"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        message.refresh_from_db()
        self.stdout.write(f"{message.pk}\t{message.state}")
        assert message.state in MessageState.values
