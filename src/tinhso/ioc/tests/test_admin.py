"""The index's rows and the targets in the Django admin: editable, audited."""

from __future__ import annotations

from tinhso.core.models import AuditRecord
from tinhso.ioc.models import IndexIndicator, Target


def test_an_index_row_is_edited_in_the_admin_and_audited(admin_client, db):
    row = IndexIndicator.objects.get(group__index__code="766", code="2.1")
    assert admin_client.get("/admin/ioc/indexindicator/").status_code == 200
    page = admin_client.get(f"/admin/ioc/indexindicator/{row.pk}/change/")
    assert page.status_code == 200 and b"on_time_766" in page.content
    response = admin_client.post(
        f"/admin/ioc/indexindicator/{row.pk}/change/",
        {
            "group": row.group_id,
            "code": row.code,
            "name": row.name,
            "points": "20",
            "threshold": "95",
            "formula": "on_time_766",
            "rule": row.rule,
            "position": row.position,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    row.refresh_from_db()
    assert row.threshold == 95
    assert AuditRecord.objects.filter(action="indexindicator.update").exists()


def test_a_target_saved_in_the_admin_goes_through_the_service(admin_client, world):
    response = admin_client.post(
        "/admin/ioc/target/add/",
        {
            "province": world.province.pk,
            "indicator": "procedures_full_online",
            "year": 2026,
            "value": "80",
            "note": "Nghị quyết về chuyển đổi số",
        },
    )
    assert response.status_code == 302, response.content
    assert Target.objects.get().value == 80
    assert AuditRecord.objects.filter(action="ioc.target.set", source="admin").exists()
