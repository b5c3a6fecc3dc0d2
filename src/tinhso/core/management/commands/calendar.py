"""`tinhso calendar due|hours|override`: the working-day calendar from the command line.

`due` and `hours` print exactly one line (other tools parse it); messages go to stderr."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from tinhso.core import selectors, services
from tinhso.core.errors import DomainError
from tinhso.core.working_calendar import WorkingCalendar


def _instant(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 date-time: {raw!r}") from exc
    if value.tzinfo is None:
        raise CommandError(f"give a UTC offset, e.g. {raw}+07:00")
    return value


def _decimal_hours(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


class Command(BaseCommand):
    help = "Working-day calendar: deadlines, working hours, per-province overrides."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="deadline of N working days from an instant")
        due.add_argument("--from", dest="start", required=True)
        due.add_argument("--working-days", required=True)
        due.add_argument("--province")
        hours = sub.add_parser("hours", help="working hours between two instants")
        hours.add_argument("--from", dest="start", required=True)
        hours.add_argument("--to", dest="end", required=True)
        hours.add_argument("--province")
        override = sub.add_parser("override", help="province overrides of the calendar")
        osub = override.add_subparsers(dest="override_action", required=True)
        add = osub.add_parser("add")
        add.add_argument("--date", required=True)
        add.add_argument("--kind", required=True, choices=["workday", "dayoff"])
        add.add_argument("--reason", required=True)
        add.add_argument("--province")
        remove = osub.add_parser("remove")
        remove.add_argument("--date", required=True)
        remove.add_argument("--province")
        listing = osub.add_parser("list")
        listing.add_argument("--province")

    def _calendar(self, province_code: str | None) -> WorkingCalendar:
        try:
            return selectors.working_calendar_for(selectors.province_by_code(province_code))
        except DomainError as exc:
            if province_code:
                raise CommandError(exc.message) from exc
        except DatabaseError:
            pass
        # No database or no province loaded yet: the national calendar still answers.
        self.stderr.write("note: province not loaded; using the national calendar only")
        return WorkingCalendar()

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "due":
            try:
                days = Decimal(options["working_days"])
            except InvalidOperation as exc:
                raise CommandError("--working-days must be a number") from exc
            if days < 0:
                raise CommandError("--working-days cannot be negative")
            calendar = self._calendar(options["province"])
            self.stdout.write(calendar.due(_instant(options["start"]), days).isoformat())
        elif action == "hours":
            calendar = self._calendar(options["province"])
            hours = calendar.working_hours_between(
                _instant(options["start"]), _instant(options["end"])
            )
            self.stdout.write(_decimal_hours(hours))
        else:
            self._override(options)

    def _override(self, options: dict[str, Any]) -> None:
        try:
            province = selectors.province_by_code(options["province"])
            sub = options["override_action"]
            if sub == "list":
                for o in province.calendar_overrides.order_by("date"):
                    self.stdout.write(f"{o.date.isoformat()}\t{o.kind}\t{o.reason}")
                return
            try:
                day = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"not a date (YYYY-MM-DD): {options['date']!r}") from exc
            if sub == "add":
                services.calendar_override_add(
                    actor=None,
                    province=province,
                    day=day,
                    kind=options["kind"],
                    reason=options["reason"],
                    source="cli",
                )
                self.stdout.write(f"{day.isoformat()}\t{options['kind']}\t{options['reason']}")
            else:
                services.calendar_override_remove(
                    actor=None, province=province, day=day, source="cli"
                )
                self.stdout.write(f"removed {day.isoformat()}")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
