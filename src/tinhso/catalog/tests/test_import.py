"""Importing the catalog document: all of it or nothing, idempotent, audited, admins only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from tinhso.catalog import services
from tinhso.catalog.models import (
    BundlePart,
    DocumentRequirement,
    FeeCase,
    Field,
    Procedure,
    ProcedureBundle,
    WorkflowStep,
)
from tinhso.catalog.tests.conftest import sample_document
from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.core.models import AuditRecord

CATALOG_MODELS = (
    Field,
    Procedure,
    FeeCase,
    DocumentRequirement,
    WorkflowStep,
    ProcedureBundle,
    BundlePart,
)


def catalog_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in CATALOG_MODELS)


def test_import_creates_the_whole_catalog(world, sample):
    result = services.catalog_import(actor=world.administrator, document=sample)

    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    assert (result.fields_created, result.bundles_created) == (4, 1)
    birth = Procedure.objects.get(code="1.001193")
    assert birth.name == "Thủ tục đăng ký khai sinh"
    assert birth.field.code == "hotich"
    assert birth.processing_days == Decimal("1")
    assert [s.name for s in birth.workflow_steps.all()] == [
        "Tiếp nhận hồ sơ",
        "Thẩm định, trình ký",
        "Phê duyệt",
        "Trả kết quả",
    ]
    assert [s.share_percent for s in birth.workflow_steps.all()] == [10, 50, 30, 10]
    insurance = Procedure.objects.get(code="1.000000")
    assert insurance.processing_days == Decimal("0.5")
    assert insurance.documents.get().is_required is False
    criminal_record = Procedure.objects.get(code="2.000488")
    assert [f.amount for f in criminal_record.fee_cases.all()] == [200000, 100000]
    assert list(criminal_record.agencies.all()) == [world.department_agency]
    bundle = ProcedureBundle.objects.get(code="LT-KS-TT-BHYT")
    assert [(p.procedure.code, p.agency_kind) for p in bundle.parts.all()] == [
        ("1.001193", "commune_committee"),
        ("1.004194", "police"),
        ("1.000000", "social_insurance"),
    ]


def test_import_writes_one_audit_record_per_procedure(world, sample):
    services.catalog_import(actor=world.administrator, document=sample, source="api")

    records = AuditRecord.objects.filter(action="procedure.create")
    assert records.count() == 4
    record = records.get(object_repr__startswith="1.004194")
    assert record.actor == world.administrator
    assert record.source == "api"
    assert record.before is None
    assert record.after["name"] == "Đăng ký thường trú"
    assert record.after["processing_days"] == "7"
    assert record.after["fees"] == [
        "Nộp hồ sơ trực tiếp: 20.000 đ",
        "Nộp hồ sơ trực tuyến: 10.000 đ",
    ]


def test_importing_the_same_document_twice_changes_nothing(catalog, world):
    counts = catalog_counts()
    audit = AuditRecord.objects.count()
    step_ids = list(WorkflowStep.objects.order_by("pk").values_list("pk", flat=True))

    result = services.catalog_import(actor=world.administrator, document=sample_document())

    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert (result.fields_created, result.fields_updated) == (0, 0)
    assert (result.bundles_created, result.bundles_updated) == (0, 0)
    assert catalog_counts() == counts
    assert AuditRecord.objects.count() == audit
    assert list(WorkflowStep.objects.order_by("pk").values_list("pk", flat=True)) == step_ids


def test_a_changed_fee_updates_only_that_procedure_with_before_and_after(catalog, world):
    document = sample_document()
    document["procedures"][1]["fees"][0]["amount"] = 25000
    fee_ids = list(FeeCase.objects.values_list("pk", flat=True).order_by("pk"))

    result = services.catalog_import(actor=world.administrator, document=document)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    residence = Procedure.objects.get(code="1.004194")
    assert [f.amount for f in residence.fee_cases.all()] == [25000, 10000]
    assert list(FeeCase.objects.values_list("pk", flat=True).order_by("pk")) == fee_ids
    record = AuditRecord.objects.get(action="procedure.update")
    assert record.before["fees"][0] == "Nộp hồ sơ trực tiếp: 20.000 đ"
    assert record.after["fees"][0] == "Nộp hồ sơ trực tiếp: 25.000 đ"
    assert "workflow" not in record.after  # lists that did not change are not recorded


def test_changed_main_fields_and_shorter_lists_are_replaced(catalog, world):
    document = sample_document()
    birth = document["procedures"][0]
    birth["name"] = "Đăng ký khai sinh"
    birth["processing_days"] = "0.5"
    birth["documents"] = birth["documents"][:1]
    birth["workflow"] = [
        {"name": "Tiếp nhận", "role": "desk_officer", "department": "", "share_percent": "40"},
        {"name": "Giải quyết", "role": "specialist", "department": "", "share_percent": "60"},
    ]
    document["fields"][0]["name"] = "Hộ tịch (sửa)"

    result = services.catalog_import(actor=None, document=document)

    assert (result.updated, result.fields_updated) == (1, 1)
    procedure = Procedure.objects.get(code="1.001193")
    assert procedure.name == "Đăng ký khai sinh"
    assert procedure.processing_days == Decimal("0.5")
    assert procedure.documents.count() == 1
    assert [(s.position, s.name) for s in procedure.workflow_steps.all()] == [
        (1, "Tiếp nhận"),
        (2, "Giải quyết"),
    ]
    record = AuditRecord.objects.get(action="procedure.update")
    assert (record.before["name"], record.after["name"]) == (
        "Thủ tục đăng ký khai sinh",
        "Đăng ký khai sinh",
    )
    assert record.actor is None and record.actor_label == "system"
    assert Field.objects.get(code="hotich").name == "Hộ tịch (sửa)"


def _break(document: dict, change) -> dict:
    change(document)
    return document


def _set(path: str, value):
    """A change that sets the entry at a dotted path (`procedures.1.fees.0.amount`)."""

    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _duplicate_procedure(document: dict) -> None:
    document["procedures"].append(dict(document["procedures"][0]))


BAD_ENTRIES = [
    pytest.param(
        _set("procedures.1.fees.0.amount", 20000.0),
        "procedures[1].fees[0].amount",
        "must be a whole number of đồng",
        id="float-amount",
    ),
    pytest.param(
        _set("procedures.1.fees.1.amount", -10000),
        "procedures[1].fees[1].amount",
        "cannot be negative",
        id="negative-amount",
    ),
    pytest.param(
        _set("procedures.1.fees.1.amount", "10.000"),
        "procedures[1].fees[1].amount",
        "must be a whole number of đồng",
        id="text-amount",
    ),
    pytest.param(
        _set("procedures.2.field", "khongco"),
        "procedures[2].field",
        "unknown field khongco",
        id="unknown-field",
    ),
    pytest.param(
        _set("procedures.0.workflow.1.share_percent", "45"),
        "procedures[0].workflow",
        "must add up to 100 (they add up to 95)",
        id="shares-not-100",
    ),
    pytest.param(
        _set("procedures.3.workflow.2.role", "chairman"),
        "procedures[3].workflow[2].role",
        'not "chairman"',
        id="unknown-role",
    ),
    pytest.param(
        _set("procedures.3.agencies", ["000.00.77.H55"]),
        "procedures[3].agencies[0]",
        'no agency has the electronic identifier code "000.00.77.H55"',
        id="unknown-agency",
    ),
    pytest.param(
        _duplicate_procedure,
        "procedures[4].code",
        "duplicate code 1.001193 (already at procedures[0])",
        id="duplicate-code",
    ),
    pytest.param(
        _set("procedures.0.level", "district"),
        "procedures[0].level",
        "must be one of province, commune, both",
        id="unknown-level",
    ),
    pytest.param(
        _set("procedures.0.processing_days", 1.5),
        "procedures[0].processing_days",
        "decimal number written as text",
        id="float-days",
    ),
    pytest.param(
        _set("procedures.0.online", "yes"),
        "procedures[0].online",
        "must be one of full, partial, none",
        id="unknown-online",
    ),
    pytest.param(
        _set("procedures.0.agency_kinds", ["ministry"]),
        "procedures[0].agency_kinds[0]",
        'not "ministry"',
        id="unknown-agency-kind",
    ),
    pytest.param(
        _set("bundles.0.parts.2.procedure", "9.999999"),
        "bundles[0].parts[2].procedure",
        "unknown procedure 9.999999",
        id="bundle-unknown-procedure",
    ),
    pytest.param(
        _set("procedures.0.fee", []),
        "procedures[0].fee",
        "is not a known key",
        id="misspelt-key",
    ),
]


@pytest.mark.parametrize(("change", "path", "message"), BAD_ENTRIES)
def test_a_bad_entry_is_named_by_its_path_and_nothing_is_written(
    world, sample, change, path, message
):
    document = _break(sample, change)

    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=world.administrator, document=document)

    error = failure.value
    assert error.message.startswith(f"{path}: ")
    assert message in error.message
    assert error.details["errors"][0]["path"] == path
    assert message in error.details["errors"][0]["message"]
    assert catalog_counts() == (0,) * len(CATALOG_MODELS)
    assert not AuditRecord.objects.filter(action__startswith="procedure").exists()


def test_every_bad_entry_is_reported_at_once(world, sample):
    sample["procedures"][1]["fees"][0]["amount"] = 1.5
    sample["procedures"][3]["workflow"][0]["role"] = "boss"
    sample["procedures"][0]["name"] = ""

    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=None, document=sample)

    paths = [e["path"] for e in failure.value.details["errors"]]
    assert paths == [
        "procedures[0].name",
        "procedures[1].fees[0].amount",
        "procedures[3].workflow[0].role",
    ]
    assert "(and 2 more errors)" in failure.value.message


def test_a_bad_entry_in_an_update_leaves_the_catalog_as_it_was(catalog, world):
    before = services.catalog_export_document()
    document = sample_document()
    document["procedures"][0]["name"] = "Tên mới"
    document["procedures"][3]["fees"][0]["amount"] = -1

    with pytest.raises(ValidationFailed):
        services.catalog_import(actor=world.administrator, document=document)

    assert services.catalog_export_document() == before


def test_a_document_that_is_not_an_object_is_refused(world):
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=None, document=[1, 2])  # type: ignore[arg-type]
    assert "must be an object" in failure.value.message


def test_a_wrong_format_marker_is_refused(world, sample):
    sample["format"] = "other/2"
    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=None, document=sample)
    assert failure.value.message.startswith("format: must be tinhso.catalog/1")


def test_procedures_may_use_fields_already_in_the_database(catalog, world):
    document = {
        "procedures": [
            {
                "code": "1.009999",
                "name": "Thủ tục mới",
                "field": "hotich",
                "level": "both",
                "processing_days": 3,
            }
        ]
    }
    result = services.catalog_import(actor=None, document=document)
    assert result.created == 1
    procedure = Procedure.objects.get(code="1.009999")
    assert (procedure.online, procedure.fee_cases.count()) == ("none", 0)


@pytest.mark.parametrize("persona", ["desk_a", "provincial_leader", "specialist_dept", "citizen"])
def test_only_administrators_may_import(world, sample, persona):
    with pytest.raises(OutOfScope):
        services.catalog_import(actor=getattr(world, persona), document=sample)
    with pytest.raises(OutOfScope):
        services.catalog_import_excel(actor=getattr(world, persona), file=b"")
    assert catalog_counts() == (0,) * len(CATALOG_MODELS)


@pytest.mark.parametrize(
    "value",
    [{"code": "000.00.04.H55"}, ["x"], 7, None],
    ids=["object", "list", "number", "null"],
)
def test_odd_json_values_are_reported_not_crashed_on(world, sample, value):
    sample["procedures"][3]["agencies"] = [value]
    sample["procedures"][3]["level"] = value
    sample["procedures"][3]["fees"][0] = value

    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=None, document=sample)

    paths = {e["path"] for e in failure.value.details["errors"]}
    assert {"procedures[3].agencies[0]", "procedures[3].level"} <= paths
    assert any(path.startswith("procedures[3].fees[0]") for path in paths)
