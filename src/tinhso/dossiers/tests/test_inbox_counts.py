"""The inbox tabs' counts (one pass over the open dossiers) agree with the lists they open,
for each role, and the tab's count is what the list pages through."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tinhso.core import services as core_services
from tinhso.core.models import Role
from tinhso.dossiers import selectors, services

from .conftest import Desk, vn

pytestmark = pytest.mark.django_db

T0 = vn(2026, 3, 2, 9, 0)


@pytest.fixture
def mixed(desk: Desk):
    desk.submit(T0)  # to receive
    desk.submit(T0 + timedelta(hours=1))
    desk.received(T0)  # to process (leaders), overdue later
    desk.in_processing(T0)  # assigned to the specialist
    late = desk.in_processing(T0 - timedelta(days=40))
    services.dossier_forward(actor=desk.specialist, dossier=late, at=T0)
    return desk


@pytest.mark.parametrize("who", ["desk", "specialist", "department_leader", "agency_leader"])
@pytest.mark.parametrize("days_later", [0, 3, 30])
def test_each_tab_counts_what_its_list_holds(mixed: Desk, who: str, days_later: int):
    user = getattr(mixed, who)
    now = T0 + timedelta(days=days_later, hours=2)
    counts = selectors.inbox_counts(user, at=now)
    for box in selectors.INBOXES:
        assert counts[box] == selectors.inbox(user, box, at=now).count(), (who, box)
    assert sum(counts[box] for box in selectors.INBOXES if box != "all") > 0


def test_the_page_shows_the_tabs_count_and_pages_through_it(client, mixed: Desk):
    client.force_login(mixed.desk)
    response = client.get(reverse("dossiers:inbox"), {"box": "to_receive"})
    assert response.status_code == 200
    tabs = {name: count for name, _label, count, _capped in response.context["tabs"]}
    assert tabs["to_receive"] == 2
    assert response.context["page"].paginator.count == 2
    assert len(response.context["rows"]) == 2
    # With a search the list is counted again (the tab's count is for the whole inbox).
    response = client.get(reverse("dossiers:inbox"), {"box": "to_receive", "q": "no-such"})
    assert response.context["page"].paginator.count == 0


def test_a_dossier_sent_back_is_in_the_returned_tab_until_it_moves_on(desk: Desk):
    dossier = desk.in_processing(T0)
    forwarded = services.dossier_forward(actor=desk.specialist, dossier=dossier, at=T0)
    assert list(selectors.inbox(desk.specialist, "returned", at=T0)) == []
    back = services.dossier_send_back(
        actor=desk.department_leader,
        dossier=forwarded,
        reason="Bổ sung ý kiến thẩm định",
        at=T0 + timedelta(hours=1),
    )
    later = T0 + timedelta(hours=2)
    assert list(selectors.inbox(desk.specialist, "returned", at=later)) == [back]
    assert selectors.inbox_counts(desk.specialist, at=later)["returned"] == 1
    services.dossier_forward(actor=desk.specialist, dossier=back, at=later)
    assert list(selectors.inbox(desk.specialist, "returned", at=later)) == []
    assert selectors.inbox_counts(desk.specialist, at=later)["returned"] == 0


def test_a_dossier_back_from_a_transfer_is_in_the_returned_tab(desk: Desk):
    world = desk.world
    dossier = desk.in_processing(T0)
    moved = services.dossier_transfer(
        actor=desk.agency_leader,
        dossier=dossier,
        to_agency=world.agency_b,
        reason="Cần ý kiến phối hợp",
        at=T0 + timedelta(hours=1),
    )
    assert selectors.inbox_counts(desk.agency_leader, at=T0)["returned"] == 0
    other = core_services.official_save(
        actor=None,
        username="chuyenvien.b",
        full_name="Chuyên viên B",
        agency=world.agency_b,
        roles=[Role.SPECIALIST],
    )
    back = services.dossier_transfer_return(
        actor=other, dossier=moved, note="Đã có ý kiến", at=T0 + timedelta(hours=3)
    )
    assert back.sent_back
    assert list(selectors.inbox(desk.agency_leader, "returned", at=T0)) == [back]


def test_the_all_tab_stops_counting_at_the_cap_and_says_so(client, mixed: Desk, monkeypatch):
    monkeypatch.setattr(selectors, "ALL_COUNT_CAP", 3)  # five dossiers in the agency
    assert selectors.visible_count(mixed.desk) == 3
    assert selectors.visible_count(mixed.desk, cap=100) == 5
    client.force_login(mixed.desk)
    page = client.get(reverse("dossiers:inbox"), {"box": "all"})
    tabs = {name: (count, capped) for name, _label, count, capped in page.context["tabs"]}
    assert tabs["all"] == (3, True) and tabs["to_receive"] == (2, False)
    html = page.content.decode()
    assert '<span class="count">3+</span>' in html
    assert page.context["capped"] and len(page.context["rows"]) == 3
    # A filtered list is counted on its own, whole.
    filtered = client.get(
        reverse("dossiers:inbox"), {"box": "all", "procedure": mixed.procedure.code}
    )
    assert not filtered.context["capped"] and filtered.context["page"].paginator.count == 5
