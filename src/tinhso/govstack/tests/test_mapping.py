from __future__ import annotations

import pytest

from tinhso.dossiers.states import Outcome, Status
from tinhso.govstack import mapping


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (Status.SUBMITTED, "", "PENDING"),
        (Status.RECEIVED, "", "PENDING"),
        (Status.IN_PROCESSING, "", "PENDING"),
        (Status.TRANSFERRED, "", "PENDING"),
        (Status.SUSPENDED, "", "PENDING"),
        (Status.SUPPLEMENT_REQUESTED, "", "SENDBACK"),
        (Status.APPROVED, Outcome.APPROVED, "APPROVED"),
        (Status.REJECTED, Outcome.REJECTED, "REJECTED"),
        (Status.REFUSED, "", "REJECTED"),
        (Status.WITHDRAWN, "", "REJECTED"),
        (Status.DONE, Outcome.APPROVED, "APPROVED"),
        (Status.DONE, Outcome.REJECTED, "REJECTED"),
    ],
)
def test_every_status_maps_to_the_building_blocks_enum(status, outcome, code):
    assert mapping.status_code(status, outcome) == code


def test_every_status_is_mapped():
    for status in Status.values:
        assert mapping.status_code(status, Outcome.APPROVED) in mapping.STATUS_TITLES


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("eGovStack/GOV/90000009/eregistrations-dev", True),
        ("A/B/C/D", True),
        ("", False),
        ("''", False),
        ("invalid_header", False),
        ("eGovStack/GOV/90000009/", False),
        ("A/B/C/D/E", False),
        (None, False),
    ],
)
def test_the_header_is_instance_class_member_subsystem(value, ok):
    assert mapping.valid_im_header(value) is ok


def test_schema_errors_cover_the_keywords_an_eform_uses():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "id": {"type": "string", "pattern": r"^\d{3}$"},
            "n": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1},
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    assert mapping.schema_errors({"name": "An", "id": "123", "n": 2, "tags": ["a"]}, schema) == []
    errors = mapping.schema_errors({"id": "12", "n": True, "tags": ["c"], "x": 1}, schema)
    assert "data.name: required" in errors
    assert any(e.startswith("data.id") for e in errors)
    assert "data.n: expected integer" in errors
    assert any(e.startswith("data.tags[0]") for e in errors)
    assert "data.x: not allowed" in errors


def test_unknown_keywords_are_ignored():
    assert mapping.schema_errors({"anything": 1}, {"additionalProp1": {}}) == []


def test_the_derived_eform_asks_for_the_applicant_and_the_required_documents():
    schema = mapping.procedure_eform_schema("P", [("Form", True), ("Photo", False)])
    assert schema["required"] == ["applicant"]
    documents = schema["properties"]["documents"]
    assert documents["required"] == ["document1"]
    assert documents["properties"]["document2"]["title"] == "Photo"
    assert mapping.schema_errors({}, schema) == ["data.applicant: required"]
