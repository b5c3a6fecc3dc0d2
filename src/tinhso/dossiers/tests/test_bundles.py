"""Bundled procedures (liên thông): one submission, linked dossiers at several agencies, done
when every part is done."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tinhso.catalog.models import BundlePart, Field, Procedure, ProcedureBundle
from tinhso.core import services as core_services
from tinhso.core.errors import ValidationFailed
from tinhso.core.models import AgencyKind, Role
from tinhso.dossiers import services
from tinhso.dossiers.services import bundle_is_done
from tinhso.dossiers.states import Status

from .conftest import vn

AT = vn(2026, 12, 1, 9, 0)


@pytest.fixture
def child_bundle(desk, world):
    police = core_services.agency_save(
        actor=None,
        code="000.00.16.H55",
        name="Công an tỉnh Thái Nguyên",
        kind=AgencyKind.POLICE,
        unit=world.province,
    )
    insurance = core_services.agency_save(
        actor=None,
        code="000.00.99.H55",
        name="Bảo hiểm xã hội tỉnh Thái Nguyên",
        kind=AgencyKind.SOCIAL_INSURANCE,
        unit=world.province,
    )
    field = Field.objects.create(code="cutru", name="Cư trú")
    residence = Procedure.objects.create(
        code="1.004194",
        name="Đăng ký thường trú",
        field=field,
        level="province",
        agency_kinds=["police"],
        processing_days=Decimal("7"),
    )
    health = Procedure.objects.create(
        code="BHYT.TE6",
        name="Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        field=field,
        level="province",
        agency_kinds=["social_insurance"],
        processing_days=Decimal("5"),
    )
    bundle = ProcedureBundle.objects.create(
        code="LT-KS-TT-BHYT",
        name="Liên thông khai sinh, thường trú, thẻ BHYT cho trẻ em dưới 6 tuổi",
    )
    for position, (procedure, kind) in enumerate(
        [
            (desk.procedure, AgencyKind.COMMUNE_COMMITTEE),
            (residence, AgencyKind.POLICE),
            (health, AgencyKind.SOCIAL_INSURANCE),
        ]
    ):
        BundlePart.objects.create(
            bundle=bundle, position=position, procedure=procedure, agency_kind=kind
        )
    desks = {
        agency.pk: core_services.official_save(
            actor=None,
            username=f"desk.{agency.pk}",
            full_name="Một cửa",
            agency=agency,
            roles=[Role.DESK_OFFICER, Role.AGENCY_LEADER],
        )
        for agency in (police, insurance)
    }
    return bundle, police, insurance, desks


def _finish(dossier, desk_officer, leader):
    dossier = services.dossier_receive(actor=desk_officer, dossier=dossier, at=AT)
    dept = core_services.department_save(
        actor=None, agency=dossier.agency, code=f"p{dossier.pk}", name="Phòng nghiệp vụ"
    )
    dossier = services.dossier_assign(actor=leader, dossier=dossier, department=dept, at=AT)
    dossier = services.dossier_approve(actor=leader, dossier=dossier, at=AT)
    return services.dossier_return_result(actor=desk_officer, dossier=dossier, at=AT)


def test_one_submission_creates_linked_dossiers_at_each_agency(desk, world, child_bundle):
    bundle_type, police, insurance, _desks = child_bundle
    bundle = services.bundle_submit(
        actor=world.citizen,
        procedure_bundle=bundle_type,
        commune_agency=world.agency_a,
        applicant=desk.applicant,
        owner=world.citizen,
        at=AT,
    )
    parts = {d.agency_id: d for d in bundle.dossiers.all()}
    assert set(parts) == {world.agency_a.pk, police.pk, insurance.pk}
    assert all(d.status == Status.SUBMITTED and d.owner == world.citizen for d in parts.values())
    assert parts[police.pk].procedure.code == "1.004194"
    assert len({d.code for d in parts.values()}) == 3


def test_the_bundle_is_done_only_when_every_part_is(desk, world, child_bundle):
    bundle_type, police, insurance, desks = child_bundle
    bundle = services.bundle_submit(
        actor=None,
        procedure_bundle=bundle_type,
        commune_agency=world.agency_a,
        applicant=desk.applicant,
        at=AT,
    )
    parts = {d.agency_id: d for d in bundle.dossiers.all()}
    _finish(parts[world.agency_a.pk], desk.desk, desk.agency_leader)
    _finish(parts[police.pk], desks[police.pk], desks[police.pk])
    assert not bundle_is_done(bundle)
    last = _finish(parts[insurance.pk], desks[insurance.pk], desks[insurance.pk])
    assert bundle_is_done(bundle)
    assert last.events.get(action="return_result").data["bundle_done"] is True


def test_a_bundle_part_without_an_agency_of_its_kind_is_refused_whole(desk, world):
    from tinhso.dossiers.models import Dossier

    bundle = ProcedureBundle.objects.create(code="LT-X", name="Thiếu cơ quan")
    BundlePart.objects.create(
        bundle=bundle, procedure=desk.procedure, agency_kind="commune_committee"
    )
    BundlePart.objects.create(
        bundle=bundle, position=1, procedure=desk.procedure, agency_kind=AgencyKind.POLICE
    )
    with pytest.raises(ValidationFailed):
        services.bundle_submit(
            actor=None,
            procedure_bundle=bundle,
            commune_agency=world.agency_a,
            applicant=desk.applicant,
            at=AT,
        )
    assert not Dossier.objects.exists()
