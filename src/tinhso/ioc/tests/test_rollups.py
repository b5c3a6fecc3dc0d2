"""The rollups: the per-event delta as a pure function, the hook writing it in the
transition's transaction, the upsert under concurrency, and the property that rebuilding
from the event log gives exactly the rows the hook wrote."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from importlib import import_module
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tinhso.dossiers import services
from tinhso.dossiers.states import Action, Status
from tinhso.ioc import rollups
from tinhso.ioc.models import AGENCY_GRAIN, COUNTERS, AgencyDailyRollup, DailyRollup
from tinhso.ioc.rollups import DocumentFacts, EventFacts, event_delta

from .conftest import MON, a_file, vn

DAY = date(2026, 3, 2)


def facts(action: str, **kwargs) -> EventFacts:
    return EventFacts(
        action=action, day=DAY, agency_id=7, procedure_id=9, channel="online", **kwargs
    )


def rows() -> list[tuple]:
    fields = ["day", "agency_id", "department_ref", "official_ref", "procedure_id", "channel"]
    return sorted(DailyRollup.objects.values_list(*fields, *COUNTERS))


def agency_rows() -> list[tuple]:
    return sorted(AgencyDailyRollup.objects.values_list(*AGENCY_GRAIN, *COUNTERS))


def daily_rows_by_agency() -> list[tuple]:
    """The `DailyRollup` rows summed by (day, agency, channel), in Python."""
    sums: dict[tuple, list[int]] = {}
    for row in DailyRollup.objects.values_list(*AGENCY_GRAIN, *COUNTERS):
        total = sums.setdefault(row[:3], [0] * len(COUNTERS))
        for i, value in enumerate(row[3:]):
            total[i] += value
    return sorted(key + tuple(values) for key, values in sums.items())


# --- the delta ----------------------------------------------------------------------------------


def test_reception_side_events_are_not_attributed_to_a_department():
    assert event_delta(facts(Action.SUBMIT)) == ((DAY, 7, 0, 0, 9, "online"), {"submitted": 1})
    assert event_delta(facts(Action.RECEIVE, department_id=3)) == (
        (DAY, 7, 0, 0, 9, "online"),
        {"received": 1},
    )
    assert event_delta(facts(Action.ASSIGN)) is None  # counts nothing


def test_a_returned_result_counts_for_the_handler_with_its_facts():
    key, delta = event_delta(
        facts(
            Action.RETURN_RESULT,
            department_id=3,
            official_id=5,
            timeliness="late",
            outcome="approved",
            consumed_seconds=3600,
            supplement_count=2,
            has_owner=True,
            documents=DocumentFacts(inputs=2, inputs_digitised=2, results_digitised=1),
        )
    )
    assert key == (DAY, 7, 3, 5, 9, "online")
    assert delta == {
        "done": 1,
        "done_late": 1,
        "done_approved": 1,
        "processing_seconds": 3600,
        "ended_with_supplement": 1,
        "inputs_digitised": 1,
        "result_digitised": 1,
        "fully_digitised": 1,
        "data_store": 1,
    }


def test_a_withdrawal_counts_on_time_only_after_reception():
    assert event_delta(facts(Action.WITHDRAW, timeliness=""))[1] == {"withdrawn": 1}
    assert event_delta(facts(Action.WITHDRAW, was_received=True, timeliness="early"))[1] == {
        "withdrawn": 1,
        "withdrawn_received": 1,
        "withdrawn_on_time": 1,
    }


def test_document_facts_ignore_slips():
    documents = DocumentFacts.from_rows(
        [("input", True, False, None), ("input", True, True, 4), ("slip", True, False, None)]
    )
    assert documents == DocumentFacts(
        inputs=2, inputs_digitised=2, inputs_reused=1, inputs_from_store=1
    )


# --- the hook -----------------------------------------------------------------------------------


def test_each_transition_adds_its_counters_in_its_transaction(ops):
    dossier = ops.process(MON)
    assert rows() == [
        (DAY, ops.world.agency_a.pk, 0, 0, ops.desk.procedure.pk, "online", 1, 1)
        + (0,) * (len(COUNTERS) - 2)
    ]
    # Counters commit or roll back with the transition's transaction.
    with pytest.raises(RuntimeError), transaction.atomic():
        ops.give_back(ops.approve(dossier, vn(2026, 3, 3, 10, 0)), vn(2026, 3, 3, 10, 0))
        assert DailyRollup.objects.filter(done=1).exists()
        raise RuntimeError("the outer transaction fails")
    assert not DailyRollup.objects.filter(done=1).exists()
    dossier.refresh_from_db()
    ops.give_back(ops.approve(dossier, vn(2026, 3, 3, 10, 0)), vn(2026, 3, 3, 10, 0))
    done = DailyRollup.objects.get(day=date(2026, 3, 3))
    assert (done.department_ref, done.official_ref) == (
        ops.desk.department.pk,
        ops.desk.specialist.pk,
    )
    assert (done.done, done.done_early, done.processing_seconds) == (1, 1, int(10.5 * 3600))
    # The agency rollup took the same deltas, and rolled back with the rest.
    assert agency_rows() == daily_rows_by_agency()
    assert AgencyDailyRollup.objects.get(day=date(2026, 3, 3)).done == 1


def test_the_rebuild_command_recomputes_the_same_rows(ops):
    ops.done(MON, vn(2026, 3, 3, 10, 0), documents=ops.documents("Tờ khai"))
    ops.withdraw(ops.receive(vn(2026, 3, 5, 8, 0)), vn(2026, 3, 6, 8, 0))
    before, agency_before = rows(), agency_rows()
    assert agency_before == daily_rows_by_agency()
    DailyRollup.objects.all().delete()
    AgencyDailyRollup.objects.all().delete()
    out = StringIO()
    call_command("ioc", "rebuild", stdout=out)
    assert rows() == before
    assert agency_rows() == agency_before
    assert "rows: 4" in out.getvalue()
    # From a date: the days before it are left as they are.
    DailyRollup.objects.filter(day__gte=date(2026, 3, 5)).update(received=99)
    AgencyDailyRollup.objects.filter(day__gte=date(2026, 3, 5)).update(received=99)
    call_command("ioc", "rebuild", "--since", "2026-03-05", stdout=StringIO())
    assert rows() == before
    assert agency_rows() == agency_before


def test_the_migration_backfills_the_agency_rollups_from_the_daily_ones(ops):
    ops.done(MON, vn(2026, 3, 3, 10, 0), documents=ops.documents("Tờ khai"))
    ops.withdraw(ops.receive(vn(2026, 3, 5, 8, 0)), vn(2026, 3, 6, 8, 0))
    ops.submit(vn(2026, 3, 5, 9, 0), channel="desk")
    before = agency_rows()
    assert len(before) >= 3 and before == daily_rows_by_agency()
    backfill = import_module("tinhso.ioc.migrations.0007_backfill_agency_daily_rollup").backfill
    AgencyDailyRollup.objects.filter(day=date(2026, 3, 5)).update(received=99)
    with connection.cursor() as cursor:
        backfill(None, SimpleNamespace(connection=connection, execute=cursor.execute))
    assert agency_rows() == before
    AgencyDailyRollup.objects.all().delete()
    assert rollups.fill_agency_rollups() == len(before)
    assert agency_rows() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_of_one_row_lose_nothing(desk):
    key = (DAY, desk.world.agency_a.pk, 0, 0, desk.procedure.pk, "online")
    per_thread, threads = 40, 6

    def work() -> None:
        try:
            for _ in range(per_thread):
                with transaction.atomic():
                    rollups.upsert([(key, {"received": 1, "done": 2})])
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    row = DailyRollup.objects.get()
    assert (row.received, row.done) == (per_thread * threads, 2 * per_thread * threads)
    agency_row = AgencyDailyRollup.objects.get()
    assert (agency_row.received, agency_row.done) == (row.received, row.done)


# --- rebuild == incremental ---------------------------------------------------------------------

STEP_CHOICES = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 11), st.integers(1, 40), st.booleans()),
    min_size=6,
    max_size=30,
)


def _act(ops, dossier, choice: int, at, flag: bool):
    """One allowed transition for the dossier's status, picked by `choice`: the first option
    moves the dossier forward and is taken half of the time, so walks reach the end."""
    d = ops.desk
    status = dossier.status
    options: list = []
    if status == Status.SUBMITTED:
        options = [
            lambda: services.dossier_receive(actor=d.desk, dossier=dossier, at=at),
            lambda: ops.refuse(dossier, at),
            lambda: ops.request_supplement(dossier, at),
            lambda: ops.withdraw(dossier, at),
        ]
    elif status == Status.SUPPLEMENT_REQUESTED:
        options = [lambda: ops.supplement(dossier, at), lambda: ops.withdraw(dossier, at)]
    elif status == Status.RECEIVED:
        options = [
            lambda: services.dossier_assign(
                actor=d.department_leader,
                dossier=dossier,
                department=d.department,
                assignee=d.specialist if flag else None,
                at=at,
            ),
            lambda: ops.request_supplement(dossier, at),
            lambda: ops.reject(dossier, at),
            lambda: ops.withdraw(dossier, at),
        ]
    elif status == Status.IN_PROCESSING:
        options = [
            lambda: ops.approve(dossier, at, result=flag),
            lambda: ops.reject(dossier, at),
            lambda: ops.request_supplement(dossier, at),
            lambda: services.dossier_suspend(
                actor=d.agency_leader, dossier=dossier, reason="Chờ xác minh", at=at
            ),
            lambda: services.dossier_transfer(
                actor=d.agency_leader,
                dossier=dossier,
                to_agency=d.world.department_agency,
                reason="Liên thông",
                at=at,
            ),
            lambda: ops.withdraw(dossier, at),
        ]
        if dossier.due_at is not None and at < dossier.due_at:
            options.append(
                lambda: services.dossier_apologize(
                    actor=d.agency_leader,
                    dossier=dossier,
                    new_due_at=dossier.due_at + timedelta(days=3),
                    reason="Xin lỗi",
                    at=at,
                )
            )
    elif status == Status.TRANSFERRED:
        options = [
            lambda: services.dossier_transfer_return(
                actor=d.world.specialist_dept, dossier=dossier, at=at
            )
        ]
    elif status == Status.SUSPENDED:
        options = [lambda: services.dossier_resume(actor=d.agency_leader, dossier=dossier, at=at)]
    elif status in (Status.APPROVED, Status.REJECTED):
        options = [lambda: ops.give_back(dossier, at)]
    if not options:
        return dossier
    return options[0 if choice < 6 else choice % len(options)]()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start_day=st.integers(0, 300),
    channels=st.lists(st.sampled_from(["online", "desk", "post"]), min_size=1, max_size=4),
    steps=STEP_CHOICES,
)
def test_rebuild_from_the_events_equals_the_incremental_rollups(ops, start_day, channels, steps):
    with transaction.atomic():
        at = vn(2026, 1, 5, 7, 30) + timedelta(days=start_day)
        dossiers = []
        for number, channel in enumerate(channels):
            documents = [
                services.SubmittedDocument(name="Tờ khai", file=a_file() if number % 2 else None)
            ]
            dossiers.append(ops.submit(at, channel=channel, documents=documents))
        for which, choice, hours, flag in steps:
            at += timedelta(hours=hours)
            index = which % len(dossiers)
            dossiers[index] = _act(ops, dossiers[index], choice, at, flag)
        for dossier in dossiers:
            event(f"reached {dossier.status}")  # shown by --hypothesis-show-statistics
        incremental, incremental_agency = rows(), agency_rows()
        # The agency rollups the hook wrote are the daily ones summed by (day, agency,
        # channel), and the rebuild gives both back row for row.
        assert incremental_agency == daily_rows_by_agency()
        result = rollups.rebuild()
        assert rows() == incremental
        assert agency_rows() == incremental_agency
        assert result.rows == len(incremental)
        transaction.set_rollback(True)
