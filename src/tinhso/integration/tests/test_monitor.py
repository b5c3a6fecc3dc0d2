"""The exchange monitor and the personal-data access log pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tinhso.core.working_calendar import VIETNAM_TZ
from tinhso.integration import selectors
from tinhso.integration.models import MessageState, OutboxMessage, PersonalDataAccess

MONITOR = reverse("integration:monitor")
ACCESS_LOG = reverse("integration:access_log")
EXPORT = reverse("integration:access_log_export")


def _message(n: int, adapter: str = "national_portal", **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        adapter=adapter,
        topic="dossier.status",
        idempotency_key=f"{adapter}-{n}",
        payload={},
        **fields,
    )


@pytest.fixture
def outbox(db):
    now = timezone.now()
    for n, seconds in enumerate([1, 2, 3, 4, 100]):
        _message(
            n,
            state=MessageState.DELIVERED,
            attempts=1 if seconds < 100 else 3,
            created_at=now - timedelta(hours=1, seconds=seconds),
            delivered_at=now - timedelta(hours=1),
        )
    _message(10, state=MessageState.PENDING)
    _message(11, state=MessageState.DEAD, attempts=8, last_error="HTTP 500 from the portal")
    _message(12, adapter="notifications", state=MessageState.PENDING)
    # Delivered two days ago: outside the 24-hour window.
    _message(
        13,
        state=MessageState.DELIVERED,
        attempts=5,
        created_at=now - timedelta(days=2, hours=1),
        delivered_at=now - timedelta(days=2),
    )
    return now


def test_latency_and_failure_rate_cover_the_last_day(outbox):
    latency = selectors.delivery_latency(now=outbox)
    assert (latency.count, latency.median_seconds, latency.p95_seconds) == (5, 3.0, 100.0)
    failures = selectors.failure_rate(now=outbox)
    # Eight messages created in the last day; one retried and one dead.
    assert (failures.total, failures.failed) == (8, 2)


def test_the_monitor_shows_messages_per_adapter_and_state(client, world, outbox):
    client.force_login(world.administrator)
    response = client.get(MONITOR)
    assert response.status_code == 200
    counts = {row.adapter: row.counts for row in response.context["counts"]}
    assert counts == {
        "national_portal": {"delivered": 6, "pending": 1, "dead": 1},
        "notifications": {"pending": 1},
    }
    assert response.context["totals"] == [2, 6, 1, 0]
    body = response.content.decode()
    assert "HTTP 500 from the portal" in body
    assert "Exchange monitor" in body or "Giám sát" in body


@pytest.mark.parametrize("persona", ["desk_a", "specialist_dept", "citizen", "nobody"])
def test_the_monitor_is_refused_to_everyone_else(client, world, persona):
    client.force_login(getattr(world, persona))
    for url in (MONITOR, ACCESS_LOG, EXPORT):
        assert client.get(url).status_code == 403


def test_a_provincial_leader_may_watch_the_exchanges(client, world):
    client.force_login(world.provincial_leader)
    assert client.get(MONITOR).status_code == 200


def test_the_nav_link_shows_to_administrators_only(client, world):
    client.force_login(world.administrator)
    assert MONITOR in client.get(reverse("core:home")).content.decode()
    client.force_login(world.desk_a)
    assert MONITOR not in client.get(reverse("core:home")).content.decode()


def test_a_dead_letter_is_retried_or_discarded_from_the_monitor(client, world, outbox):
    dead = OutboxMessage.objects.get(state=MessageState.DEAD)
    client.force_login(world.administrator)
    response = client.post(reverse("integration:message_retry", args=[dead.pk]))
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.state == MessageState.PENDING

    OutboxMessage.objects.filter(pk=dead.pk).update(state=MessageState.DEAD)
    client.post(reverse("integration:message_discard", args=[dead.pk]), {"reason": ""})
    dead.refresh_from_db()
    assert dead.state == MessageState.DEAD  # a reason is required
    client.post(reverse("integration:message_discard", args=[dead.pk]), {"reason": "trùng lặp"})
    dead.refresh_from_db()
    assert dead.state == MessageState.DISCARDED


def test_a_desk_officer_cannot_retry_a_dead_letter(client, world, outbox):
    dead = OutboxMessage.objects.get(state=MessageState.DEAD)
    client.force_login(world.desk_a)
    assert client.post(reverse("integration:message_retry", args=[dead.pk])).status_code == 403
    dead.refresh_from_db()
    assert dead.state == MessageState.DEAD


@pytest.fixture
def reads(world):
    rows = [
        (world.desk_a, "019090000001", "tiếp nhận hồ sơ", "population_lookup", (2025, 9, 1)),
        (world.desk_a, "019190000002", "xem hồ sơ", "dossier_view", (2025, 9, 2)),
        (world.desk_b, "019090000001", "xem hồ sơ", "dossier_view", (2025, 9, 3)),
        (world.specialist_dept, "019290000003", "thẩm định", "population_lookup", (2025, 9, 4)),
    ]
    for actor, number, purpose, source, day in rows:
        PersonalDataAccess.objects.create(
            at=datetime(*day, 10, 0, tzinfo=VIETNAM_TZ),
            actor=actor,
            actor_label=actor.username,
            agency=actor.agency,
            unit_path=actor.agency.unit.path,
            source=source,
            subject_id_number=number,
            purpose=purpose,
            outcome="read",
        )
    return world


def _numbers(response) -> list[str]:
    return [row.subject_id_number for row in response.context["page"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"date_from": "2025-09-02", "date_to": "2025-09-03"}, ["019090000001", "019190000002"]),
        ({"official": "desk.b"}, ["019090000001"]),
        ({"id_number": "019090000001"}, ["019090000001"] * 2),
        ({"purpose": "thẩm định"}, ["019290000003"]),
        ({"source": "dossier_view"}, ["019090000001", "019190000002"]),
    ],
)
def test_the_access_log_filters(client, reads, query, expected):
    client.force_login(reads.administrator)
    response = client.get(ACCESS_LOG, query)
    assert response.status_code == 200
    assert _numbers(response) == expected


def test_the_excel_export_holds_the_filtered_rows(client, reads):
    client.force_login(reads.provincial_leader)
    response = client.get(EXPORT, {"source": "dossier_view"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 2
    assert [(r[3], r[4], r[6]) for r in rows[1:]] == [
        ("019090000001", "xem hồ sơ", "dossier_view"),
        ("019190000002", "xem hồ sơ", "dossier_view"),
    ]
    assert rows[1][0] == datetime(2025, 9, 3, 10, 0)
    assert rows[1][2] == reads.agency_b.name


def test_the_access_log_refuses_deletes_through_the_orm(world):
    from tinhso.core.errors import ImmutableRecord
    from tinhso.integration.access_log import record_access
    from tinhso.integration.models import PersonalDataAccess

    record_access(
        actor=world.desk_a,
        subject_id_number="019090000123",
        purpose="xem hồ sơ",
        source="dossier_view",
    )
    row = PersonalDataAccess.objects.get()
    with pytest.raises(ImmutableRecord):
        row.delete()
    with pytest.raises(ImmutableRecord):
        PersonalDataAccess.objects.all().delete()
    assert PersonalDataAccess.objects.count() == 1
