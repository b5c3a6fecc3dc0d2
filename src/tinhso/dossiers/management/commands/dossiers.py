"""`tinhso dossiers import|export FILE.jsonl`: move dossiers with their whole history from or
to another one-stop system (the format is in docs/formats.md, "Dossiers (JSON Lines)").
`-` as FILE reads standard input or writes standard output."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tinhso.core.errors import DomainError
from tinhso.core.models import Agency
from tinhso.dossiers.legacy import export_dossiers, import_dossiers
from tinhso.dossiers.models import Dossier

#: How many bad lines the error message lists.
SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Dossiers: import from or export to JSON Lines, history included."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="import dossiers (codes already present: skipped)")
        load.add_argument("file", help="JSON Lines file, or - for standard input")
        dump = sub.add_parser("export", help="export dossiers, sorted by code")
        dump.add_argument("file", help="JSON Lines file, or - for standard output")
        dump.add_argument("--agency", help="only dossiers received by this agency (its code)")
        dump.add_argument("--since", help="only dossiers submitted on or after YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options["file"])
        else:
            self._export(options["file"], options["agency"], options["since"])

    def _import(self, name: str) -> None:
        with ExitStack() as stack:
            if name == "-":
                stream = sys.stdin.buffer
            else:
                try:
                    stream = stack.enter_context(Path(name).open("rb"))
                except OSError as exc:
                    raise CommandError(f"cannot read {name}: {exc.strerror}") from exc
            try:
                result = import_dossiers(stream, actor=None, source="cli")
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        if result.errors:
            shown = [str(error) for error in result.errors[:SHOWN_ERRORS]]
            more = len(result.errors) - len(shown)
            if more:
                shown.append(f"… and {more} more bad lines")
            raise CommandError(
                f"{len(result.errors)} bad lines, nothing was imported:\n" + "\n".join(shown)
            )
        self.stdout.write(f"created: {result.created}, skipped: {result.skipped}")

    def _export(self, name: str, agency_code: str | None, since: str | None) -> None:
        dossiers = Dossier.objects.all()
        if agency_code:
            if not Agency.objects.filter(code=agency_code).exists():
                raise CommandError(f"no agency with code {agency_code}")
            dossiers = dossiers.filter(agency__code=agency_code)
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since is not a date (YYYY-MM-DD): {since!r}") from exc
            start = timezone.make_aware(datetime.combine(day, time.min))
            dossiers = dossiers.filter(submitted_at__gte=start)
        with ExitStack() as stack:
            if name == "-":
                stream = self.stdout
            else:
                try:
                    stream = stack.enter_context(
                        Path(name).open("w", encoding="utf-8", newline="\n")
                    )
                except OSError as exc:
                    raise CommandError(f"cannot write {name}: {exc.strerror}") from exc
            count = export_dossiers(stream, dossiers)  # type: ignore[arg-type]
        # With the dossiers on standard output, the count goes to standard error.
        (self.stderr if name == "-" else self.stdout).write(f"exported: {count}")
