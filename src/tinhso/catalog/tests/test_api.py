"""The catalog's JSON API: public reads, administrator imports, structured errors."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tinhso.catalog.models import Procedure
from tinhso.catalog.tests.conftest import by_code, sample_document


def post_json(client, url: str, body) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_procedure_list_is_public_paginated_and_filtered(client, catalog):
    response = client.get("/api/v1/procedures")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [p["code"] for p in body["items"]] == ["1.000000", "1.001193", "1.004194", "2.000488"]
    assert body["items"][1]["field"] == {"code": "hotich", "name": "Hộ tịch"}

    def codes(**params) -> list[str]:
        return [p["code"] for p in client.get("/api/v1/procedures", params).json()["items"]]

    assert codes(q="khai sinh") == ["1.001193"]
    assert codes(q="1.0041") == ["1.004194"]
    assert codes(field="lltp") == ["2.000488"]
    assert codes(level="province") == ["1.000000", "2.000488"]
    assert codes(online="partial") == ["1.000000"]
    assert codes(agency="000.00.04.H55") == ["2.000488"]
    assert codes(agency="000.00.21.H55") == ["1.001193"]  # a commune committee, by kind
    assert client.get("/api/v1/procedures", {"limit": 2}).json()["items"][1]["code"] == "1.001193"


def test_unknown_agency_filter_is_a_structured_error(client, catalog):
    response = client.get("/api/v1/procedures", {"agency": "000.00.77.H55"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_procedure_detail_has_fees_documents_and_workflow(client, catalog):
    response = client.get("/api/v1/procedures/2.000488")
    assert response.status_code == 200
    body = response.json()
    assert body["agencies"] == ["000.00.04.H55"]
    assert body["processing_days"] == "10.00"
    assert [f["amount"] for f in body["fees"]] == [200000, 100000]
    assert body["documents"][0]["required"] is True
    assert [(s["position"], s["role"], s["share_percent"]) for s in body["workflow"]][1] == (
        2,
        "specialist",
        "70.00",
    )
    missing = client.get("/api/v1/procedures/9.999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_fields_endpoint_counts_procedures(client, catalog):
    fields = {f["code"]: f["procedure_count"] for f in client.get("/api/v1/fields").json()}
    assert fields == {"hotich": 1, "cutru": 1, "bhyt": 1, "lltp": 1}


def test_export_in_both_formats(client, catalog):
    response = client.get("/api/v1/procedures/export", {"format": "json"})
    assert response.status_code == 200
    assert 'filename="procedures.json"' in response["Content-Disposition"]
    assert by_code(json.loads(response.content)) == by_code(catalog)

    response = client.get("/api/v1/procedures/export", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "procedures" in load_workbook(BytesIO(response.content)).sheetnames

    assert client.get("/api/v1/procedures/export", {"format": "csv"}).status_code == 422


def test_administrator_imports_through_the_api(client, world):
    client.force_login(world.administrator)
    response = post_json(client, "/api/v1/procedures/import", sample_document())
    assert response.status_code == 200
    assert response.json()["created"] == 4
    again = post_json(client, "/api/v1/procedures/import", sample_document()).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_a_bad_document_is_a_422_naming_every_bad_entry(client, world):
    client.force_login(world.administrator)
    document = sample_document()
    document["procedures"][0]["workflow"][0]["share_percent"] = "20"
    document["procedures"][2]["fees"] = [{"description": "Phí", "amount": 1.5}]

    response = post_json(client, "/api/v1/procedures/import", document)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [e["path"] for e in body["errors"]] == [
        "procedures[0].workflow",
        "procedures[2].fees[0].amount",
    ]
    assert not Procedure.objects.exists()


@pytest.mark.parametrize("persona", ["desk_a", "provincial_leader", "citizen", "nobody"])
def test_import_is_refused_to_everyone_but_administrators(client, world, persona):
    client.force_login(getattr(world, persona))
    response = post_json(client, "/api/v1/procedures/import", sample_document())
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert not Procedure.objects.exists()


def test_import_needs_a_signed_in_user(client, world):
    response = post_json(client, "/api/v1/procedures/import", sample_document())
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
