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
