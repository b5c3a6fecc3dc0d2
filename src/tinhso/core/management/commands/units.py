"""`tinhso units load [--province CODE]`: load administrative units from `vietnam-provinces`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.core import services
from tinhso.core.errors import DomainError


class Command(BaseCommand):
    help = "Administrative units: load the current two-level units from vietnam-provinces."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load or update units (idempotent)")
        load.add_argument("--province", help="official province code, e.g. 19 (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = services.units_load(actor=None, province_code=options["province"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"provinces: {result.provinces}, created: {result.created}, "
            f"updated: {result.updated}, retired: {result.retired}"
        )
