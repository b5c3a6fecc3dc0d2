"""`tinhso catalog import FILE [--format json|xlsx]` and `tinhso catalog export FILE`: the
procedure catalog in the formats of docs/formats.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.catalog import services
from tinhso.core.errors import DomainError

FORMATS = {".json": "json", ".xlsx": "xlsx"}


def _format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError as exc:
        raise CommandError(
            f"cannot tell the format of {path.name}: name it .json or .xlsx, or give --format"
        ) from exc


class Command(BaseCommand):
    help = "Import or export the procedure catalog (JSON or Excel, see docs/formats.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="import a catalog file (all of it, or nothing)")
        load.add_argument("file")
        load.add_argument("--format", choices=sorted(FORMATS.values()))
        dump = sub.add_parser("export", help="export the whole catalog (format from extension)")
        dump.add_argument("file")
        dump.add_argument("--format", choices=sorted(FORMATS.values()))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = _format_of(path, options["format"])
        if options["action"] == "import":
            self._import(path, fmt)
        else:
            self._export(path, fmt)

    def _import(self, path: Path, fmt: str) -> None:
        try:
            if fmt == "json":
                try:
                    document = json.loads(path.read_text(encoding="utf-8-sig"))
                except json.JSONDecodeError as exc:
                    raise CommandError(f"{path.name} is not valid JSON: {exc}") from exc
                result = services.catalog_import(actor=None, document=document, source="cli")
            else:
                with path.open("rb") as handle:
                    result = services.catalog_import_excel(actor=None, file=handle, source="cli")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except DomainError as exc:
            lines = [e["text"] for e in exc.details.get("errors", [])]  # type: ignore[union-attr]
            if len(lines) > 1:
                self.stderr.write("\n".join(lines))
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"procedures: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged; fields: {result.fields_created} created, "
            f"{result.fields_updated} updated; bundles: {result.bundles_created} created, "
            f"{result.bundles_updated} updated"
        )

    def _export(self, path: Path, fmt: str) -> None:
        document = services.catalog_export_document()
        try:
            if fmt == "json":
                path.write_text(
                    json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
                )
            else:
                path.write_bytes(services.catalog_export_excel())
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
        self.stdout.write(
            f"exported to {path}: procedures: {len(document['procedures'])}, "
            f"fields: {len(document['fields'])}, bundles: {len(document['bundles'])}"
        )
