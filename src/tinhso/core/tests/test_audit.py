"""The audit trail is append-only: no path in the application, the admin or plain SQL
changes a record, and none deletes one."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from tinhso.core import services
from tinhso.core.errors import ImmutableRecord
from tinhso.core.models import AuditRecord
from tinhso.core.selectors import audit_for_object


@pytest.fixture
def record(world) -> AuditRecord:
    return AuditRecord.objects.filter(object_id=str(world.agency_a.pk)).first()


def test_every_service_change_is_recorded_with_actor_before_and_after(world):
    services.agency_save(
        actor=world.administrator,
        code=world.agency_a.code,
        name="UBND phường Phan Đình Phùng (mới)",
        kind=world.agency_a.kind,
        unit=world.commune_a,
    )
    last = audit_for_object(world.agency_a).first()
    assert last.action == "agency.update"
    assert last.actor == world.administrator
    assert last.before["name"] == "UBND phường Phan Đình Phùng"
    assert last.after["name"] == "UBND phường Phan Đình Phùng (mới)"


def test_calendar_override_changes_are_recorded(world):
    services.calendar_override_add(
        actor=world.administrator,
        province=world.province,
        day=date(2027, 2, 13),
        kind="workday",
        reason="Làm bù Tết",
    )
    services.calendar_override_remove(
        actor=world.administrator, province=world.province, day=date(2027, 2, 13)
    )
    actions = list(
        audit_for_object(world.province)
        .filter(action__startswith="calendar")
        .values_list("action", flat=True)
    )
    assert actions == ["calendar.override_remove", "calendar.override_add"]


def test_saving_an_existing_record_is_refused(record):
    record.action = "tampered"
    with pytest.raises(ImmutableRecord):
        record.save()


def test_deleting_a_record_is_refused(record):
    with pytest.raises(ImmutableRecord):
        record.delete()
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_bulk_update_and_delete_are_refused(record):
    with pytest.raises(ImmutableRecord):
        AuditRecord.objects.filter(pk=record.pk).update(action="tampered")
    with pytest.raises(ImmutableRecord):
        AuditRecord.objects.all().delete()
    with pytest.raises(ImmutableRecord):
        AuditRecord.objects.bulk_update([record], ["action"])


def test_plain_sql_update_is_refused_by_the_database(record):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditrecord SET action = %s WHERE id = %s", ["tampered", record.pk]
        )
    record.refresh_from_db()
    assert record.action != "tampered"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE trigger is PostgreSQL's")
def test_plain_sql_delete_is_refused_by_postgresql(record):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditrecord WHERE id = %s", [record.pk])
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_admin_offers_no_way_to_change_or_delete_a_record(client, django_user_model, record):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "secret-pass-1")
    client.force_login(root)
    change_url = reverse("admin:core_auditrecord_change", args=[record.pk])
    delete_url = reverse("admin:core_auditrecord_delete", args=[record.pk])
    response = client.post(change_url, {"action": "tampered"})
    assert response.status_code in (403, 200)
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:core_auditrecord_changelist"),
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )
    record.refresh_from_db()
    assert record.action != "tampered"
    assert AuditRecord.objects.filter(pk=record.pk).exists()
    assert client.get(reverse("admin:core_auditrecord_add")).status_code == 403


def test_admin_edits_of_reference_data_are_recorded(client, django_user_model, world):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "secret-pass-1")
    client.force_login(root)
    url = reverse("admin:core_calendaroverride_add")
    response = client.post(
        url,
        {
            "province": world.province.pk,
            "date": "2027-02-12",
            "kind": "dayoff",
            "reason": "Nghỉ bù",
            "created_at_0": "2026-11-24",
            "created_at_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    last = AuditRecord.objects.filter(action="calendaroverride.create").get()
    assert last.actor == root
    assert last.after["reason"] == "Nghỉ bù"


def test_audit_is_shown_on_the_objects_page(client, world):
    client.force_login(world.provincial_leader)
    page = client.get(reverse("core:agency_detail", args=[world.agency_a.pk])).content.decode()
    assert "agency.create" in page


def test_the_trail_reads_in_words_with_field_labels_and_names(client, world):
    services.official_set_roles(
        actor=world.administrator, official=world.desk_a, roles=["desk_officer", "specialist"]
    )
    client.force_login(world.provincial_leader)
    page = client.get(reverse("core:official_detail", args=[world.desk_a.pk])).content.decode()
    assert "thay đổi vai trò" in page  # "roles changed"
    assert "Cán bộ một cửa, Chuyên viên" in page  # role labels, not codes
    assert "UBND phường Phan Đình Phùng" in page  # the agency by name, not its id
