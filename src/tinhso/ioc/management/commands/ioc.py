"""`tinhso ioc rebuild [--since YYYY-MM-DD]`: recompute the operations centre's rollups from
the dossier event log (after a legacy import, a bug fix in a counter, or to check them), as
the system (`actor=None`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.ioc import services


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date: {text!r} (want YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "The operations centre: rebuild the rollups from the dossier events."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute the daily rollups from the events")
        rebuild.add_argument(
            "--since", default=None, help="only the days from this date (YYYY-MM-DD)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rebuild":
            since = _date(options["since"]) if options["since"] else None
            result = services.rollups_rebuild(actor=None, since=since)
            self.stdout.write(f"events: {result.events}\trows: {result.rows}")
