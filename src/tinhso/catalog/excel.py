"""The Excel form of the catalog (docs/formats.md, "Procedure catalog (Excel)").

A workbook is read into the same document as the JSON form, remembering which sheet and row
each entry came from, so an error about `procedures[3].fees[0].amount` is reported as
`fees, row 14: amount …`. Writing goes the other way, from the document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path as FilePath
from typing import Any, BinaryIO
from zipfile import BadZipFile

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from tinhso.catalog.document import EntryError, Path, format_path

TEXT, CODE, LIST, DECIMAL, INTEGER, BOOLEAN = "text", "code", "list", "decimal", "integer", "bool"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    required: bool = False
    width: int = 20


SHEETS: dict[str, tuple[Column, ...]] = {
    "fields": (Column("code", CODE, True, 14), Column("name", TEXT, True, 40)),
    "procedures": (
        Column("code", CODE, True, 14),
        Column("name", TEXT, True, 60),
        Column("field", CODE, True, 14),
        Column("level", TEXT, True, 10),
        Column("agency_kinds", LIST, False, 24),
        Column("agencies", LIST, False, 24),
        Column("processing_days", DECIMAL, True, 10),
        Column("online", TEXT, False, 10),
        Column("is_essential", BOOLEAN, False, 10),
        Column("result_type", TEXT, False, 40),
        Column("legal_basis", TEXT, False, 50),
        Column("conditions", TEXT, False, 40),
    ),
    "fees": (
        Column("procedure", CODE, True, 14),
        Column("description", TEXT, True, 50),
        Column("amount", INTEGER, True, 14),
        Column("legal_basis", TEXT, False, 50),
    ),
    "documents": (
        Column("procedure", CODE, True, 14),
        Column("name", TEXT, True, 60),
        Column("originals", INTEGER, False, 10),
        Column("copies", INTEGER, False, 10),
        Column("required", BOOLEAN, False, 10),
        Column("form_template", TEXT, False, 40),
    ),
    "workflow": (
        Column("procedure", CODE, True, 14),
        Column("name", TEXT, True, 40),
        Column("role", TEXT, True, 18),
        Column("department", TEXT, False, 14),
        Column("share_percent", DECIMAL, True, 12),
    ),
    "bundles": (
        Column("code", CODE, True, 16),
        Column("name", TEXT, False, 60),
        Column("description", TEXT, False, 40),
        Column("procedure", CODE, True, 14),
        Column("agency_kind", TEXT, True, 20),
    ),
}
#: The procedure's lists that live on their own sheet, one row per entry.
CHILD_SHEETS = {"fees": "fees", "documents": "documents", "workflow": "workflow"}

TRUE_WORDS = {"x", "1", "true", "yes", "có", "co", "đúng"}
FALSE_WORDS = {"0", "false", "no", "không", "khong", "sai"}
WHOLE = re.compile(r"^\d+$")
SPLIT = re.compile(r"[,;\n]")


@dataclass(frozen=True)
class SheetError:
    """A bad cell or row of the workbook, by sheet name and Excel row number."""

    sheet: str
    row: int
    message: str
    column: str = ""
    path: str = ""

    def __str__(self) -> str:
        if not self.sheet:
            return self.message
        if self.column:
            return _("%(sheet)s, row %(row)d: %(column)s %(message)s") % {
                "sheet": self.sheet,
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("%(sheet)s, row %(row)d: %(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "message": self.message,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "text": str(self),
        }


@dataclass
class ReadWorkbook:
    """The document read from a workbook, where each entry came from, and what was wrong
    with the workbook itself (missing sheets or columns, cells of the wrong kind)."""

    document: dict[str, Any] = field(default_factory=dict)
    locations: dict[Path, tuple[str, int]] = field(default_factory=dict)
    errors: list[SheetError] = field(default_factory=list)

    def locate(self, error: EntryError) -> EntryError | SheetError:
        """The sheet and row of a document error (the longest known prefix of its path)."""
        for cut in range(len(error.path), 0, -1):
            where = self.locations.get(error.path[:cut])
            if where is not None:
                column = next((p for p in error.path[cut:] if isinstance(p, str)), "")
                return SheetError(where[0], where[1], error.message, column, error.location)
        return error


class _Cells:
    """Converts one sheet's cells to document values, collecting errors."""

    def __init__(self, sheet: str, errors: list[SheetError]) -> None:
        self.sheet = sheet
        self.errors = errors

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(SheetError(self.sheet, row, message, column))

    def value(self, column: Column, raw: Any, row: int) -> Any:
        """The document value of one cell; `None` leaves the key out (its default applies)."""
        if isinstance(raw, str):
            raw = raw.strip()
            if raw == "":
                raw = None
        if raw is None:
            return [] if column.kind == LIST else ("" if column.kind in (TEXT, CODE) else None)
        if column.kind == CODE:
            if not isinstance(raw, str):
                self.error(
                    row,
                    column.name,
                    _("must be text: format the column as Text so 1.000100 stays 1.000100"),
                )
                return ""
            return raw
        if column.kind == TEXT:
            if isinstance(raw, float) and raw.is_integer():
                return str(int(raw))
            return str(raw)
        if column.kind == LIST:
            return [item.strip() for item in SPLIT.split(str(raw)) if item.strip()]
        if column.kind == DECIMAL:
            if isinstance(raw, bool):
                return raw  # refused by the document check
            if isinstance(raw, int | float):
                return str(int(raw)) if float(raw).is_integer() else repr(float(raw))
            text = str(raw)
            return text.replace(",", ".") if "." not in text else text
        if column.kind == INTEGER:
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            if isinstance(raw, str) and WHOLE.match(raw):
                return int(raw)
            return raw  # a fraction or text: the document check names the problem
        if column.kind == BOOLEAN:
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if isinstance(raw, int | float):
                word = str(int(raw)) if float(raw).is_integer() else word
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            return str(raw)
        return raw


def _open(file: BinaryIO | bytes | str | FilePath) -> Any:
    source: Any = BytesIO(file) if isinstance(file, bytes) else file
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError, TypeError):
        return None


def _rows(
    workbook: Any, sheet: str, errors: list[SheetError]
) -> list[tuple[int, dict[str, Any]]] | None:
    """The data rows of one sheet as (Excel row number, {column: value}); None when absent."""
    if sheet not in workbook.sheetnames:
        return None
    columns = {c.name: c for c in SHEETS[sheet]}
    rows = workbook[sheet].iter_rows(values_only=True)
    header = next(rows, None) or ()
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        name = str(title).strip().lower() if title is not None else ""
        if not name:
            continue
        if name not in columns:
            errors.append(SheetError(sheet, 1, _("unknown column %(name)s") % {"name": name}))
        elif name in positions:
            errors.append(SheetError(sheet, 1, _("column %(name)s appears twice") % {"name": name}))
        else:
            positions[name] = index
    missing = [c.name for c in SHEETS[sheet] if c.required and c.name not in positions]
    for name in missing:
        errors.append(SheetError(sheet, 1, _("column %(name)s is missing") % {"name": name}))
    cells = _Cells(sheet, errors)
    result = []
    for number, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row: dict[str, Any] = {}
        for name, index in positions.items():
            raw = values[index] if index < len(values) else None
            converted = cells.value(columns[name], raw, number)
            if converted is not None:
                row[name] = converted
        result.append((number, row))
    return result


def read_workbook(file: BinaryIO | bytes | str | FilePath) -> ReadWorkbook:
    """Read a catalog workbook into the document form (see `ReadWorkbook`)."""
    read = ReadWorkbook()
    workbook = _open(file)
    if workbook is None:
        read.errors.append(SheetError("", 0, _("The file is not an Excel workbook (.xlsx).")))
        return read
    try:
        return _read(workbook, read)
    finally:
        workbook.close()


def _read(workbook: Any, read: ReadWorkbook) -> ReadWorkbook:
    errors = read.errors
    if "procedures" not in workbook.sheetnames:
        errors.append(SheetError("procedures", 1, _("the workbook has no sheet named procedures")))
        return read
    fields: list[dict[str, Any]] = []
    for number, row in _rows(workbook, "fields", errors) or []:
        read.locations[("fields", len(fields))] = ("fields", number)
        fields.append(row)

    procedures: list[dict[str, Any]] = []
    by_code: dict[str, int] = {}
    for number, row in _rows(workbook, "procedures", errors) or []:
        index = len(procedures)
        read.locations[("procedures", index)] = ("procedures", number)
        by_code.setdefault(row.get("code", ""), index)
        procedures.append({**row, "fees": [], "documents": [], "workflow": []})

    for sheet, key in CHILD_SHEETS.items():
        for number, row in _rows(workbook, sheet, errors) or []:
            code = row.pop("procedure", "")
            index = by_code.get(code) if code else None
            if index is None:
                message = (
                    _("%(code)s is not on the procedures sheet") % {"code": code}
                    if code
                    else _("is required")
                )
                errors.append(SheetError(sheet, number, message, "procedure"))
                continue
            entries = procedures[index][key]
            read.locations[("procedures", index, key, len(entries))] = (sheet, number)
            read.locations.setdefault(("procedures", index, key), (sheet, number))
            entries.append(row)

    bundles: list[dict[str, Any]] = []
    bundle_index: dict[str, int] = {}
    for number, row in _rows(workbook, "bundles", errors) or []:
        code = row.get("code", "")
        if code not in bundle_index:
            bundle_index[code] = len(bundles)
            read.locations[("bundles", len(bundles))] = ("bundles", number)
            bundles.append({"code": code, "name": "", "description": "", "parts": []})
        index = bundle_index[code]
        bundle = bundles[index]
        for key in ("name", "description"):
            value = row.get(key, "")
            if value and bundle[key] and value != bundle[key]:
                errors.append(
                    SheetError(
                        "bundles",
                        number,
                        _("differs from the bundle's earlier rows"),
                        key,
                    )
                )
            elif value:
                bundle[key] = value
        if row.get("procedure") or row.get("agency_kind"):
            part = {k: row[k] for k in ("procedure", "agency_kind") if row.get(k)}
            read.locations[("bundles", index, "parts", len(bundle["parts"]))] = (
                "bundles",
                number,
            )
            bundle["parts"].append(part)

    read.document = {
        "format": "tinhso.catalog/1",
        "fields": fields,
        "procedures": procedures,
        "bundles": bundles,
    }
    return read


# --- writing ----------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B3261E")


def _cell_value(column: Column, value: Any) -> Any:
    if column.kind == LIST:
        return ", ".join(value)
    if column.kind == DECIMAL:
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def write_workbook(document: dict[str, Any]) -> bytes:
    """The document as an .xlsx workbook: one sheet per list, one row per entry."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SHEETS}
    rows["fields"] = document.get("fields", [])
    for procedure in document.get("procedures", []):
        rows["procedures"].append(procedure)
        for sheet, key in CHILD_SHEETS.items():
            rows[sheet] += [{"procedure": procedure["code"], **e} for e in procedure[key]]
    for bundle in document.get("bundles", []):
        parts = bundle["parts"] or [{}]
        for i, part in enumerate(parts):
            first = {"name": bundle["name"], "description": bundle["description"]} if i == 0 else {}
            rows["bundles"].append({"code": bundle["code"], **first, **part})

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, columns in SHEETS.items():
        sheet = workbook.create_sheet(name)
        sheet.append([c.name for c in columns])
        for cell in sheet[1]:
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        for row in rows[name]:
            sheet.append(
                [
                    _cell_value(c, row[c.name]) if row.get(c.name) is not None else None
                    for c in columns
                ]
            )
        for index, column in enumerate(columns, start=1):
            if column.kind == CODE:
                for (cell,) in sheet.iter_rows(min_col=index, max_col=index, min_row=2):
                    cell.number_format = "@"
            elif column.kind == TEXT and column.width >= 40:
                for (cell,) in sheet.iter_rows(min_col=index, max_col=index, min_row=2):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["SHEETS", "ReadWorkbook", "SheetError", "format_path", "read_workbook", "write_workbook"]
