"""Dossier personas on top of the shared `world`: the commune's one-stop desk, a specialist,
a department leader and an agency leader of agency A, and a birth-registration procedure
with a four-step workflow (3 working days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest

from tinhso.catalog.models import Field, Procedure, WorkflowStep
from tinhso.core import services as core_services
from tinhso.core.models import Department, Role, User
from tinhso.core.working_calendar import VIETNAM_TZ
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import Applicant


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VIETNAM_TZ)


@dataclass
class Desk:
    world: object
    procedure: Procedure
    desk: User
    specialist: User
    department_leader: User
    agency_leader: User
    department: Department
    other_specialist: User
    applicant: Applicant

    def submit(self, at: datetime, **kwargs) -> Dossier:
        return services.dossier_submit(
            actor=None,
            procedure=kwargs.pop("procedure", self.procedure),
            agency=kwargs.pop("agency", self.world.agency_a),
            channel=kwargs.pop("channel", "online"),
            applicant=self.applicant,
            at=at,
            **kwargs,
        )

    def received(self, at: datetime) -> Dossier:
        return services.dossier_receive(actor=self.desk, dossier=self.submit(at), at=at)

    def in_processing(self, at: datetime) -> Dossier:
        dossier = self.received(at)
        return services.dossier_assign(
            actor=self.department_leader,
            dossier=dossier,
            department=self.department,
            assignee=self.specialist,
            at=at,
        )


@pytest.fixture
def desk(world) -> Desk:
    field = Field.objects.create(code="hotich", name="Hộ tịch")
    procedure = Procedure.objects.create(
        code="1.001193",
        name="Đăng ký khai sinh",
        field=field,
        level="commune",
        agency_kinds=["commune_committee"],
        processing_days=Decimal("3"),
        online="full",
        result_type="Giấy khai sinh",
    )
    for position, (name, role, share) in enumerate(
        [
            ("Tiếp nhận hồ sơ", Role.DESK_OFFICER, "10"),
            ("Thẩm định", Role.SPECIALIST, "50"),
            ("Phê duyệt", Role.AGENCY_LEADER, "30"),
            ("Trả kết quả", Role.DESK_OFFICER, "10"),
        ],
        start=1,
    ):
        WorkflowStep.objects.create(
            procedure=procedure,
            position=position,
            name=name,
            role=role,
            share_percent=Decimal(share),
        )
    agency = world.agency_a
    department = core_services.department_save(
        actor=None, agency=agency, code="vp", name="Văn phòng HĐND và UBND"
    )

    def official(username: str, *roles: str) -> User:
        return core_services.official_save(
            actor=None,
            username=username,
            full_name=username,
            agency=agency,
            roles=roles,
            department=department,
        )

    return Desk(
        world=world,
        procedure=procedure,
        desk=world.desk_a,
        specialist=official("a.specialist", Role.SPECIALIST),
        department_leader=official("a.dept-leader", Role.DEPARTMENT_LEADER),
        agency_leader=official("a.chairman", Role.AGENCY_LEADER),
        department=department,
        other_specialist=official("a.specialist2", Role.SPECIALIST),
        applicant=Applicant(
            name="Nguyễn Văn An",
            id_number="019090000123",
            phone="0912345678",
            address="Phường Phan Đình Phùng, Thái Nguyên",
        ),
    )
