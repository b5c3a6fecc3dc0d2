"""A procedure's workflow steps are rows dossiers point at: an import updates them in place
and refuses to remove one that a dossier still uses."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import translation

from tinhso.catalog import services
from tinhso.catalog.models import Procedure
from tinhso.catalog.tests.conftest import sample_document
from tinhso.core import services as core_services
from tinhso.core.errors import ValidationFailed
from tinhso.core.working_calendar import VIETNAM_TZ
from tinhso.dossiers import services as dossier_services
from tinhso.dossiers.services import Applicant


@pytest.fixture
def received(catalog, world):
    """A birth registration received at commune A's desk (it sits on a workflow step)."""
    at = datetime(2027, 3, 2, 9, 0, tzinfo=VIETNAM_TZ)
    dossier = dossier_services.dossier_submit(
        actor=None,
        procedure=Procedure.objects.get(code="1.001193"),
        agency=world.agency_a,
        channel="online",
        applicant=Applicant(name="Nguyễn Văn An", id_number="019090000123"),
        at=at,
    )
    dossier = dossier_services.dossier_receive(actor=world.desk_a, dossier=dossier, at=at)
    assert dossier.current_step is not None
    return dossier


def test_renamed_steps_keep_their_rows(received):
    step_id = received.current_step_id
    document = sample_document()
    document["procedures"][0]["workflow"][0]["name"] = "Tiếp nhận, kiểm tra hồ sơ"

    assert services.catalog_import(actor=None, document=document).updated == 1

    received.refresh_from_db()
    assert received.current_step_id == step_id
    assert received.current_step.name == "Tiếp nhận, kiểm tra hồ sơ"


def test_a_step_in_use_cannot_be_removed(received, world):
    department = core_services.department_save(
        actor=None, agency=world.agency_a, code="vp", name="Văn phòng HĐND và UBND"
    )
    dossier = dossier_services.dossier_assign(actor=None, dossier=received, department=department)
    assert dossier.current_step.position == 2
    document = sample_document()
    document["procedures"][0]["name"] = "Tên mới"
    document["procedures"][0]["workflow"] = [
        {"name": "Giải quyết", "role": "specialist", "department": "", "share_percent": "100"}
    ]

    with translation.override("en"), pytest.raises(ValidationFailed) as failure:
        services.catalog_import(actor=None, document=document)

    assert failure.value.message.startswith("procedures[0].workflow: has fewer rows than before")
    procedure = Procedure.objects.get(code="1.001193")
    assert procedure.name == "Thủ tục đăng ký khai sinh"
    assert procedure.workflow_steps.count() == 4
