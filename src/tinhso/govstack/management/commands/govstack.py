"""`tinhso govstack load-test-data PATH` and `tinhso govstack serve [--port 3333]`: the
GovStack Registration building block's test data and its own port (docs/govstack.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import run

from tinhso.core.errors import DomainError
from tinhso.govstack.testdata import AlreadyLoaded, testdata_load
from tinhso.govstack.wsgi import StandaloneHandler


class Command(BaseCommand):
    help = "GovStack Registration building block: load its test data, serve its port."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-test-data", help="load test/openAPI/test-data.json")
        load.add_argument("path")
        serve = sub.add_parser("serve", help="serve the building block's API at /")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=3333)
        serve.add_argument(
            "--default-client",
            default=None,
            help="API client used where the header is optional and absent "
            "(default: TINHSO_GOVSTACK_DEFAULT_CLIENT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load-test-data":
            self._load(Path(options["path"]))
        else:
            self._serve(options)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            result = testdata_load(data=data)
        except AlreadyLoaded as exc:
            raise CommandError(f"the test data is already loaded (client {exc})") from exc
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.details}") from exc
        self.stdout.write(
            f"services {result.services}, eForms {result.eforms}, operators {result.operators}, "
            f"application files {result.files}, tasks {result.tasks}"
        )
        for note in result.notes:
            self.stdout.write(f"note: {note}")

    def _serve(self, options: dict[str, Any]) -> None:
        if options["default_client"] is not None:
            settings.TINHSO_GOVSTACK_DEFAULT_CLIENT = options["default_client"]
        self.stdout.write(
            f"GovStack Registration BB on http://{options['host']}:{options['port']}/ "
            f"(default client: {settings.TINHSO_GOVSTACK_DEFAULT_CLIENT or 'none'})"
        )
        # Django's development server: for production run `tinhso.govstack.wsgi` under a
        # WSGI server, reachable only from the Information Mediator's security server.
        run(options["host"], options["port"], StandaloneHandler(), threading=True)
