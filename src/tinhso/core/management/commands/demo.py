"""`tinhso demo`: migrate, load the demo province (idempotent), and serve it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, load the demo province (Thái Nguyên) and serve on http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="load the demo and stop")
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        from tinhso.core.demo import DEMO_PASSWORD, demo_load

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("loading the demo province (Thái Nguyên)…")
        result = demo_load()
        self.stdout.write(
            f"agencies: {result.agencies}, departments: {result.departments}, "
            f"dossiers: {result.dossiers}, payments: {result.payments}, "
            f"ratings: {result.ratings}, "
            f"officials: {result.officials}; every demo account's password is {DEMO_PASSWORD}"
        )
        if options["no_serve"]:
            return
        self.stdout.write(f"serving on http://{options['addrport']}/ (Ctrl+C stops)")
        # The outbox worker delivers to the built-in simulators while the demo runs.
        worker = subprocess.Popen(
            [sys.executable, "-m", "tinhso", "outbox", "work", "--worker", "demo"],
            env={
                **os.environ,
                "TINHSO_NATIONAL_PORTAL_URL": os.environ.get(
                    "TINHSO_NATIONAL_PORTAL_URL",
                    f"http://{options['addrport']}/sim/national-portal",
                ),
            },
        )
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(10)
