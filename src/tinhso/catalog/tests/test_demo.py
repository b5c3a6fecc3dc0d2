"""The demo catalog loads through the import service."""

from __future__ import annotations

from tinhso.catalog.demo import load_demo_catalog
from tinhso.catalog.models import Procedure
from tinhso.catalog.tests.conftest import SAMPLE_PATH
from tinhso.core.models import AuditRecord


def test_demo_catalog_loads_once_and_is_recorded_as_demo_data(world):
    result = load_demo_catalog(SAMPLE_PATH)
    assert result.created == Procedure.objects.count() == 4
    assert AuditRecord.objects.filter(action="procedure.create", source="demo").count() == 4
    assert load_demo_catalog(SAMPLE_PATH).unchanged == 4


def test_the_demo_province_offers_over_two_hundred_real_procedures(db):
    from tinhso.catalog.models import ProcedureBundle
    from tinhso.core.demo import demo_load

    demo_load(dossiers=False)
    assert Procedure.objects.count() >= 200
    names = dict(Procedure.objects.values_list("code", "name"))
    assert "khai sinh" in names["1.001193"].lower()
    assert "kết hôn" in names["1.000894"].lower()
    assert "khai tử" in names["1.000656"].lower()
    assert "thường trú" in names["1.004222"].lower()
    # Every level and every kind of availability is represented, and fees are whole đồng.
    assert set(Procedure.objects.values_list("level", flat=True)) >= {"province", "commune"}
    assert set(Procedure.objects.values_list("online", flat=True)) == {"full", "partial", "none"}
    assert all(
        step_shares == 100
        for step_shares in (
            sum(s.share_percent for s in p.workflow_steps.all())
            for p in Procedure.objects.prefetch_related("workflow_steps")
        )
    )
    birth_bundle = ProcedureBundle.objects.get(code="LT-KS-TT-BHYT")
    assert [p.agency_kind for p in birth_bundle.parts.all()] == [
        "commune_committee",
        "police",
        "social_insurance",
    ]
