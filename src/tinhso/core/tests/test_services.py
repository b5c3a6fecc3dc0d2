"""Units, agencies, officials and calendar settings change only through services."""

from __future__ import annotations

from datetime import date

import pytest

from tinhso.core import services
from tinhso.core.errors import NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import AdministrativeUnit, AuditRecord, Role, UnitLevel
from tinhso.core.scoping import scope
from tinhso.core.selectors import working_calendar_for


@pytest.mark.django_db
def test_units_load_creates_the_province_and_its_communes_with_official_codes():
    result = services.units_load(actor=None, province_code="19")
    assert result.provinces == 1
    province = AdministrativeUnit.objects.get(level=UnitLevel.PROVINCE, code="19")
    assert province.name == "Thái Nguyên"
    communes = province.children.all()
    assert communes.count() == result.created - 1 == 92
    assert all(len(c.code) == 5 and c.path.startswith(province.path) for c in communes)
    assert AuditRecord.objects.filter(action="unit.create").count() == 93


@pytest.mark.django_db
def test_units_load_twice_changes_nothing():
    services.units_load(actor=None, province_code="19")
    audit_count = AuditRecord.objects.count()
    again = services.units_load(actor=None, province_code="19")
    assert (again.created, again.updated, again.retired) == (0, 0, 0)
    assert AdministrativeUnit.objects.count() == 93
    assert AuditRecord.objects.count() == audit_count


@pytest.mark.django_db
def test_units_load_retires_a_commune_that_left_the_data_instead_of_deleting_it():
    services.units_load(actor=None, province_code="19")
    province = AdministrativeUnit.objects.get(level=UnitLevel.PROVINCE, code="19")
    ghost = services.unit_create(
        actor=None, code="99999", name="Xã Đã Sáp Nhập", level=UnitLevel.COMMUNE, parent=province
    )
    result = services.units_load(actor=None, province_code="19")
    ghost.refresh_from_db()
    assert result.retired == 1
    assert ghost.valid_until is not None


@pytest.mark.django_db
def test_units_load_refuses_an_unknown_province():
    with pytest.raises(NotFound):
        services.units_load(actor=None, province_code="77")


@pytest.mark.django_db
def test_three_level_history_is_held_and_linked_to_successors():
    services.units_load(actor=None, province_code="19")
    new_ward = AdministrativeUnit.objects.get(code="05443", valid_until__isnull=True)
    old_province = services.unit_create(
        actor=None,
        code="19",
        name="Thái Nguyên (trước 2025)",
        level=UnitLevel.PROVINCE,
        valid_until=date(2025, 6, 30),
    )
    old_city = services.unit_create(
        actor=None,
        code="164",
        name="Thành phố Thái Nguyên",
        level=UnitLevel.DISTRICT,
        parent=old_province,
        valid_until=date(2025, 6, 30),
    )
    old_ward = services.unit_create(
        actor=None,
        code="05443",
        name="Phường Phan Đình Phùng (cũ)",
        level=UnitLevel.COMMUNE,
        parent=old_city,
        valid_until=date(2025, 6, 30),
    )
    services.unit_set_successors(actor=None, unit=old_ward, successors=[new_ward])
    assert old_ward.path.count("/") == 4  # three levels deep: /province/district/commune/
    assert old_ward.path.startswith(old_city.path) and old_city.path.startswith(old_province.path)
    assert list(new_ward.predecessors.all()) == [old_ward]
    assert AdministrativeUnit.objects.filter(code="05443").count() == 2


def test_non_administrator_cannot_change_reference_data(world):
    with pytest.raises(OutOfScope):
        services.agency_save(
            actor=world.desk_a, code="X", name="X", kind="other", unit=world.commune_a
        )
    with pytest.raises(OutOfScope):
        services.calendar_override_add(
            actor=world.provincial_leader,
            province=world.province,
            day=date(2027, 2, 13),
            kind="workday",
            reason="x",
        )


def test_official_roles_are_set_and_recorded(world):
    services.official_set_roles(
        actor=world.administrator,
        official=world.desk_a,
        roles=[Role.DESK_OFFICER, Role.SPECIALIST],
    )
    world.desk_a._role_cache = None
    assert world.desk_a.role_set == {Role.DESK_OFFICER, Role.SPECIALIST}
    record = AuditRecord.objects.filter(action="official.roles").latest("at")
    assert record.before == {"roles": ["desk_officer"]}
    assert record.after == {"roles": ["desk_officer", "specialist"]}


def test_official_with_unknown_role_is_refused(world):
    with pytest.raises(ValidationFailed):
        services.official_save(
            actor=None, username="x", full_name="X", agency=world.agency_a, roles=["emperor"]
        )


def test_deactivated_official_loses_scope_and_it_is_recorded(world):
    services.official_set_active(actor=world.administrator, official=world.desk_a, active=False)
    world.desk_a.refresh_from_db()
    assert not scope(AdministrativeUnit.objects.all(), world.desk_a).exists()
    assert AuditRecord.objects.filter(action="official.deactivate").exists()


def test_calendar_override_needs_a_reason_and_a_known_kind(world):
    with pytest.raises(ValidationFailed):
        services.calendar_override_add(
            actor=None,
            province=world.province,
            day=date(2027, 2, 13),
            kind="holiday",
            reason="x",
        )
    with pytest.raises(ValidationFailed):
        services.calendar_override_add(
            actor=None,
            province=world.province,
            day=date(2027, 2, 13),
            kind="workday",
            reason="  ",
        )


def test_province_overrides_and_office_hours_shape_the_calendar(world):
    services.calendar_override_add(
        actor=None,
        province=world.province,
        day=date(2027, 2, 11),
        kind="dayoff",
        reason="Nghỉ bù Tết",
    )
    services.province_calendar_set_office_hours(
        actor=None, province=world.province, office_hours="08:00-12:00,13:30-17:30"
    )
    calendar = working_calendar_for(world.province)
    assert not calendar.is_working_day(date(2027, 2, 11))
    assert calendar.office_hours.format() == "08:00-12:00,13:30-17:30"


def test_bad_office_hours_are_refused_with_the_expected_format(world):
    with pytest.raises(ValidationFailed, match="07:30-11:30"):
        services.province_calendar_set_office_hours(
            actor=None, province=world.province, office_hours="sáng 7 giờ"
        )


def test_a_calendar_change_is_seen_at_once_by_the_next_deadline(world):
    from tinhso.core.selectors import working_calendar_for

    assert working_calendar_for(world.province).is_working_day(date(2027, 2, 12))
    services.calendar_override_add(
        actor=None,
        province=world.province,
        day=date(2027, 2, 12),
        kind="dayoff",
        reason="Nghỉ bù",
    )
    assert not working_calendar_for(world.province).is_working_day(date(2027, 2, 12))
    services.calendar_override_remove(actor=None, province=world.province, day=date(2027, 2, 12))
    assert working_calendar_for(world.province).is_working_day(date(2027, 2, 12))
