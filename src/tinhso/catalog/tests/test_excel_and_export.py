"""The Excel form of the catalog, and export → import reproducing the catalog."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.utils import translation
from openpyxl import load_workbook

from tinhso.catalog import services
from tinhso.catalog.models import BundlePart, Field, Procedure, ProcedureBundle
from tinhso.catalog.tests.conftest import by_code
from tinhso.catalog.tests.test_import import CATALOG_MODELS, catalog_counts
from tinhso.core.errors import ValidationFailed


def _clear_catalog() -> None:
    BundlePart.objects.all().delete()
    ProcedureBundle.objects.all().delete()
    Procedure.objects.all().delete()
    Field.objects.all().delete()
    assert catalog_counts() == (0,) * len(CATALOG_MODELS)


def _edit(workbook_bytes: bytes, edit) -> bytes:
    workbook = load_workbook(BytesIO(workbook_bytes))
    edit(workbook)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row_of(sheet, column: str, value: str, after: int = 0) -> int:
    """The Excel row number of the first row below `after` whose `column` holds `value`."""
    header = [c.value for c in sheet[1]]
    index = header.index(column)
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if number > after and row[index] == value:
            return number
    raise AssertionError(f"{value} not in {sheet.title}.{column}")


def test_export_document_is_the_documented_format(catalog):
    exported = services.catalog_export_document()
    assert exported["format"] == "tinhso.catalog/1"
    assert by_code(exported) == by_code(catalog)


def test_json_export_then_import_into_an_empty_catalog_reproduces_it(catalog, world):
    exported = services.catalog_export_document()
    _clear_catalog()

    result = services.catalog_import(actor=world.administrator, document=exported)

    assert result.created == 4
    assert services.catalog_export_document() == exported


def test_excel_export_then_import_into_an_empty_catalog_reproduces_it(catalog, world):
    exported = services.catalog_export_document()
    workbook = services.catalog_export_excel()
    _clear_catalog()

    result = services.catalog_import_excel(actor=world.administrator, file=BytesIO(workbook))

    assert (result.created, result.fields_created, result.bundles_created) == (4, 4, 1)
    assert services.catalog_export_document() == exported


def test_excel_export_has_one_sheet_per_list_and_readable_cells(catalog):
    workbook = load_workbook(BytesIO(services.catalog_export_excel()))
    assert workbook.sheetnames == [
        "fields",
        "procedures",
        "fees",
        "documents",
        "workflow",
        "bundles",
    ]
    fees = workbook["fees"]
    assert [c.value for c in fees[1]] == ["procedure", "description", "amount", "legal_basis"]
    row = _row_of(fees, "description", "Cấp Phiếu lý lịch tư pháp")
    assert fees.cell(row, 1).value == "2.000488"
    assert fees.cell(row, 3).value == 200000
    procedures = workbook["procedures"]
    row = _row_of(procedures, "code", "1.000000")
    header = [c.value for c in procedures[1]]
    assert procedures.cell(row, header.index("processing_days") + 1).value == 0.5


def test_reimporting_the_excel_export_changes_nothing(catalog, world):
    result = services.catalog_import_excel(
        actor=world.administrator, file=services.catalog_export_excel()
    )
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)


def test_a_bad_excel_row_is_reported_by_sheet_and_row_and_nothing_is_written(catalog, world):
    workbook_bytes = services.catalog_export_excel()
    rows = {}

    def edit(workbook):
        fees = workbook["fees"]
        rows["fee"] = _row_of(fees, "description", "Nộp hồ sơ trực tuyến")
        fees.cell(rows["fee"], 3).value = 10000.5
        procedures = workbook["procedures"]
        rows["procedure"] = _row_of(procedures, "code", "1.001193")
        procedures.cell(rows["procedure"], 2).value = "Tên đã đổi"

    bad = _edit(workbook_bytes, edit)
    before = services.catalog_export_document()

    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import_excel(actor=world.administrator, file=bad)

    assert failure.value.message == (
        f"fees, row {rows['fee']}: amount must be a whole number of đồng"
    )
    error = failure.value.details["errors"][0]
    assert (error["sheet"], error["row"], error["column"]) == ("fees", rows["fee"], "amount")
    assert error["path"] == "procedures[2].fees[1].amount"
    assert services.catalog_export_document() == before


def test_workflow_shares_are_reported_on_the_procedures_first_workflow_row(catalog, world):
    rows = {}

    def edit(workbook):
        workflow = workbook["workflow"]
        rows["first"] = _row_of(workflow, "procedure", "1.004194")
        workflow.cell(rows["first"], 5).value = 5

    bad = _edit(services.catalog_export_excel(), edit)
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import_excel(actor=None, file=bad)
    assert failure.value.message == (
        f"workflow, row {rows['first']}: the shares of the steps must add up to 100 "
        "(they add up to 90)"
    )


def test_workbook_problems_are_reported_before_the_entries(catalog, world):
    def edit(workbook):
        procedures = workbook["procedures"]
        procedures.cell(_row_of(procedures, "code", "1.000000"), 1).value = 1.0
        workbook["documents"].cell(1, 6).value = "template"
        workbook["fees"].cell(2, 1).value = "9.999999"

    bad = _edit(services.catalog_export_excel(), edit)
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import_excel(actor=None, file=bad)
    texts = [e["text"] for e in failure.value.details["errors"]]
    assert "procedures, row 2: code must be text" in texts[0]
    assert "documents, row 1: unknown column template" in texts
    assert "fees, row 2: procedure 9.999999 is not on the procedures sheet" in texts


def test_a_workbook_without_the_procedures_sheet_is_refused(world):
    def edit(workbook):
        del workbook["procedures"]

    bad = _edit(services.catalog_export_excel(), edit)
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import_excel(actor=None, file=bad)
    assert failure.value.message == "procedures, row 1: the workbook has no sheet named procedures"


def test_a_file_that_is_not_a_workbook_is_refused(world):
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import_excel(actor=None, file=b'{"procedures": []}')
    assert failure.value.message == "The file is not an Excel workbook (.xlsx)."


def test_excel_accepts_what_people_type(world):
    """Whole numbers typed as text, yes/no words, lists separated by commas or semicolons,
    decimal commas; the bundle's name given on its first row only."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = {
        "fields": [["code", "name"], ["hotich", "Hộ tịch"]],
        "procedures": [
            ["code", "name", "field", "level", "processing_days", "agency_kinds", "is_essential"],
            ["1.001193", "Đăng ký khai sinh", "hotich", "commune", "0,5", "commune_committee", "x"],
            ["1.001022", "Đăng ký kết hôn", "hotich", "commune", 3, "police; other", "không"],
        ],
        "fees": [["procedure", "description", "amount"], ["1.001022", "Kết hôn", "30000"]],
        "bundles": [
            ["code", "name", "procedure", "agency_kind"],
            ["LT-1", "Liên thông thử", "1.001193", "commune_committee"],
            ["LT-1", None, "1.001022", "police"],
        ],
    }
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)

    result = services.catalog_import_excel(actor=None, file=buffer.getvalue())

    assert result.created == 2
    birth = Procedure.objects.get(code="1.001193")
    assert (str(birth.processing_days), birth.is_essential) == ("0.50", True)
    marriage = Procedure.objects.get(code="1.001022")
    assert marriage.agency_kinds == ["police", "other"]
    assert marriage.is_essential is False
    assert marriage.fee_cases.get().amount == 30000
    bundle = ProcedureBundle.objects.get(code="LT-1")
    assert bundle.name == "Liên thông thử"
    assert bundle.parts.count() == 2
