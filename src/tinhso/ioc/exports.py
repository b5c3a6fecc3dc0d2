"""A chart's numbers as an Excel workbook (openpyxl): one sheet, the headers in the user's
language, the numbers as numbers, then the scope, the period and each indicator's definition
(numerator and denominator) in note rows under the table."""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from tinhso.ioc.charts import ChartData

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def definition_lines(data: ChartData) -> list[str]:
    lines = []
    for indicator in data.indicators:
        line = f"{indicator.name}: {indicator.definition}"
        if indicator.numerator:
            line += " " + _("Numerator: %(text)s.") % {"text": indicator.numerator}
        if indicator.denominator:
            line += " " + _("Denominator: %(text)s.") % {"text": indicator.denominator}
        lines.append(line)
    return lines + [str(n) for n in data.notes]


def workbook(data: ChartData) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = data.slug[:31]
    sheet.append([data.label_header, *data.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in data.rows:
        sheet.append([row.label, *(float(v) if v is not None else None for v in row.values)])
    sheet.append([])
    sheet.append([_("Scope"), data.scope.label])
    sheet.append([_("Period"), str(data.period)])
    for line in definition_lines(data):
        sheet.append([_("Note"), line])
    sheet.column_dimensions["A"].width = 42
    for letter in "BCDEFG":
        sheet.column_dimensions[letter].width = 18
    out = BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["XLSX", "definition_lines", "workbook"]
