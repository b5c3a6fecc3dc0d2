"""`tinhso catalog import|export` from the command line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tinhso.catalog.models import Procedure
from tinhso.catalog.tests.conftest import SAMPLE_PATH, by_code, sample_document
from tinhso.core.models import AuditRecord


def run(*args: str) -> str:
    out = StringIO()
    call_command("catalog", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_prints_the_counts_and_is_idempotent(world):
    first = run("import", str(SAMPLE_PATH))
    assert first.startswith("procedures: 4 created, 0 updated, 0 unchanged; fields: 4 created")
    assert AuditRecord.objects.filter(action="procedure.create", source="cli").count() == 4
    second = run("import", str(SAMPLE_PATH))
    assert second.startswith("procedures: 0 created, 0 updated, 4 unchanged")


def test_export_then_import_round_trips_in_both_formats(catalog, tmp_path):
    json_file, xlsx_file = tmp_path / "catalog.json", tmp_path / "catalog.xlsx"
    assert run("export", str(json_file)).endswith("procedures: 4, fields: 4, bundles: 1\n")
    run("export", str(xlsx_file))
    assert by_code(json.loads(json_file.read_text(encoding="utf-8"))) == by_code(catalog)

    assert "0 created, 0 updated, 4 unchanged" in run("import", str(xlsx_file))
    assert "0 created, 0 updated, 4 unchanged" in run("import", str(json_file))


def test_format_option_overrides_the_extension(world, tmp_path):
    data = tmp_path / "catalog.data"
    data.write_text(SAMPLE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert "4 created" in run("import", str(data), "--format", "json")
    with pytest.raises(CommandError, match="cannot tell the format"):
        run("import", str(data))


def test_a_bad_entry_is_a_command_error_naming_it(world, tmp_path):
    document = sample_document()
    document["procedures"][1]["fees"][0]["amount"] = 20000.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")

    with translation.override("en"), pytest.raises(CommandError) as failure:
        run("import", str(bad))

    assert str(failure.value) == "procedures[1].fees[0].amount: must be a whole number of đồng"
    assert not Procedure.objects.exists()


def test_unreadable_input_is_a_command_error(world, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import", str(broken))
    with pytest.raises(CommandError, match="cannot read"):
        run("import", str(tmp_path / "missing.json"))
