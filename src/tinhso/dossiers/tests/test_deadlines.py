"""Deadlines, clock pauses and the early / on time / late classification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tinhso.core.errors import IllegalTransition
from tinhso.dossiers import services
from tinhso.dossiers.models import DossierEvent
from tinhso.dossiers.selectors import open_timeliness
from tinhso.dossiers.states import OpenTimeliness, Status, Timeliness

from .conftest import vn


def test_received_friday_afternoon_with_three_working_days(desk):
    # Fri 16:00–17:00 = 1 h; Mon and Tue = 16 h; Wed 07:30–11:30 and 13:00–16:00 = 7 h.
    dossier = desk.received(vn(2026, 11, 27, 16, 0))
    assert dossier.due_at == vn(2026, 12, 2, 16, 0)
    assert dossier.original_due_at == dossier.due_at
    assert dossier.clock_running


def test_received_at_night_starts_at_the_next_opening(desk):
    dossier = desk.received(vn(2026, 11, 26, 22, 0))  # Thursday night
    # Fri 8 h, Mon 8 h, Tue 8 h: the deadline is Tuesday 17:00 exactly, not Wednesday 07:30.
    assert dossier.due_at == vn(2026, 12, 1, 17, 0)


def test_supplement_pause_across_tet_moves_the_deadline_by_the_paused_time(desk):
    # Received Tue 2 Feb 2027 07:30; 8 h consumed by Wed 07:30, when a supplement is asked.
    dossier = desk.received(vn(2027, 2, 2, 7, 30))
    assert dossier.due_at == vn(2027, 2, 11, 17, 0)  # Tết (4–10 Feb) skipped, no pause
    dossier = services.dossier_request_supplement(
        actor=desk.desk,
        dossier=dossier,
        reason="Thiếu giấy chứng sinh",
        missing=["Giấy chứng sinh"],
        at=vn(2027, 2, 3, 7, 30),
    )
    assert dossier.status == Status.SUPPLEMENT_REQUESTED
    assert not dossier.clock_running and dossier.consumed_seconds == 8 * 3600
    # The applicant supplements on Thu 11 Feb 09:30: 16 h are left.
    dossier = services.dossier_supplement(actor=None, dossier=dossier, at=vn(2027, 2, 11, 9, 30))
    assert dossier.status == Status.RECEIVED
    # Thu 09:30–17:00 = 6 h, Fri 12 = 8 h, Mon 15 07:30–09:30 = 2 h.
    assert dossier.due_at == vn(2027, 2, 15, 9, 30)
    # The time waiting on the applicant (Wed 3 = 8 h, Thu 11 until 09:30 = 2 h) is recorded.
    assert dossier.supplement_seconds == 10 * 3600


def test_supplement_before_reception_does_not_start_the_clock(desk):
    dossier = desk.submit(vn(2026, 11, 23, 8, 0))
    dossier = services.dossier_request_supplement(
        actor=desk.desk, dossier=dossier, reason="Ảnh chụp mờ", at=vn(2026, 11, 23, 9, 0)
    )
    dossier = services.dossier_supplement(actor=None, dossier=dossier, at=vn(2026, 11, 25, 9, 0))
    assert dossier.status == Status.SUBMITTED
    assert dossier.due_at is None and not dossier.clock_running


def test_suspension_stops_and_resumes_the_clock(desk):
    dossier = desk.in_processing(vn(2026, 11, 23, 7, 30))  # Monday
    dossier = services.dossier_suspend(
        actor=desk.agency_leader,
        dossier=dossier,
        reason="Chờ xác minh",
        at=vn(2026, 11, 23, 11, 30),
    )
    dossier = services.dossier_resume(
        actor=desk.agency_leader, dossier=dossier, at=vn(2026, 11, 30, 7, 30)
    )
    # 4 h used on Monday 23; 20 h left from Monday 30 07:30: Mon 8, Tue 8, Wed 4 → 11:30.
    assert dossier.status == Status.IN_PROCESSING
    assert dossier.due_at == vn(2026, 12, 2, 11, 30)


def test_transfer_and_return_keep_the_clock_running(desk, world):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    due = dossier.due_at
    dossier = services.dossier_transfer(
        actor=desk.specialist,
        dossier=dossier,
        to_agency=world.department_agency,
        reason="Xin ý kiến Sở Tư pháp",
        at=vn(2026, 11, 30, 9, 0),
    )
    assert dossier.status == Status.TRANSFERRED and dossier.due_at == due
    dossier = services.dossier_transfer_return(
        actor=world.specialist_dept,
        dossier=dossier,
        note="Đã có ý kiến",
        at=vn(2026, 12, 1, 9, 0),
    )
    assert dossier.status == Status.IN_PROCESSING
    assert dossier.transfer_agency is None
    assert dossier.due_at == due


def test_apology_before_the_deadline_sets_a_new_appointment_and_still_counts_late(desk):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    assert dossier.due_at == vn(2026, 12, 2, 17, 0)
    dossier = services.dossier_apologize(
        actor=desk.agency_leader,
        dossier=dossier,
        new_due_at=vn(2026, 12, 4, 17, 0),
        reason="Cần xác minh thêm",
        at=vn(2026, 12, 2, 10, 0),
    )
    assert dossier.due_at == vn(2026, 12, 4, 17, 0)
    assert dossier.original_due_at == vn(2026, 12, 2, 17, 0)
    dossier = services.dossier_approve(
        actor=desk.agency_leader, dossier=dossier, at=vn(2026, 12, 3, 9, 0)
    )
    dossier = services.dossier_return_result(
        actor=desk.desk, dossier=dossier, at=vn(2026, 12, 3, 10, 0)
    )
    assert dossier.timeliness == Timeliness.LATE


def test_apology_after_the_deadline_is_refused(desk):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    with pytest.raises(IllegalTransition):
        services.dossier_apologize(
            actor=desk.agency_leader,
            dossier=dossier,
            new_due_at=vn(2026, 12, 7, 17, 0),
            reason="Trễ",
            at=vn(2026, 12, 2, 17, 0, 1),
        )
    assert not DossierEvent.objects.filter(dossier=dossier, action="apologize").exists()


@pytest.mark.parametrize(
    ("processed", "expected"),
    [
        ((2026, 12, 1, 16, 0), Timeliness.EARLY),  # a day before the Wednesday deadline
        ((2026, 12, 2, 16, 59), Timeliness.ON_TIME),  # on the deadline's day
        ((2026, 12, 2, 17, 0), Timeliness.ON_TIME),  # exactly at the deadline
        ((2026, 12, 3, 8, 0), Timeliness.LATE),
    ],
)
def test_done_dossiers_are_classified_by_when_processing_ended(desk, processed, expected):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    dossier = services.dossier_approve(actor=desk.agency_leader, dossier=dossier, at=vn(*processed))
    dossier = services.dossier_return_result(
        actor=desk.desk, dossier=dossier, at=vn(*processed) + timedelta(days=3)
    )
    assert dossier.timeliness == expected


def test_a_second_supplement_request_makes_the_dossier_late(desk):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    for day in (30, 1):
        dossier = services.dossier_request_supplement(
            actor=desk.specialist,
            dossier=dossier,
            reason="Thiếu",
            at=vn(2026, 12 if day == 1 else 11, day, 8, 0),
        )
        dossier = services.dossier_supplement(
            actor=None, dossier=dossier, at=vn(2026, 12 if day == 1 else 11, day, 9, 0)
        )
    dossier = services.dossier_approve(
        actor=desk.agency_leader, dossier=dossier, at=vn(2026, 12, 1, 10, 0)
    )
    dossier = services.dossier_return_result(actor=desk.desk, dossier=dossier)
    assert dossier.timeliness == Timeliness.LATE


def test_open_dossiers_are_within_deadline_due_soon_or_overdue(desk):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))  # due Wed 2 Dec 17:00
    assert open_timeliness(dossier, at=vn(2026, 11, 30, 9, 0)) == OpenTimeliness.WITHIN_DEADLINE
    assert open_timeliness(dossier, at=vn(2026, 12, 2, 9, 0)) == OpenTimeliness.DUE_SOON
    assert open_timeliness(dossier, at=vn(2026, 12, 2, 18, 0)) == OpenTimeliness.OVERDUE


def test_step_deadlines_come_from_each_steps_share(desk):
    dossier = desk.in_processing(vn(2026, 11, 30, 7, 30))
    # Appraisal has 50 % of 24 h = 12 h from Monday 07:30: Mon 8 h + Tue 4 h → Tue 11:30.
    assert dossier.current_step.name == "Thẩm định"
    assert dossier.step_due_at == vn(2026, 12, 1, 11, 30)


def test_vietnam_cultural_day_is_skipped_by_the_clock(desk):
    # 24 Nov 2026 is a public holiday in the national calendar: Mon 8 h, Wed 8 h, Thu 8 h.
    dossier = desk.received(vn(2026, 11, 23, 7, 30))
    assert dossier.due_at == vn(2026, 11, 26, 17, 0)
