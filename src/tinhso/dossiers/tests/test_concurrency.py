"""Concurrency on PostgreSQL: codes under parallel submissions, and two officials acting on
one dossier at the same moment."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from django.db import connection, connections

from tinhso.core.errors import Conflict
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.states import Status

from .conftest import vn

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and parallel writers need PostgreSQL"
)

PROCESSES = 8
PER_PROCESS = 50
AT = vn(2026, 12, 1, 9, 0)


def _submit_many(procedure_id: int, agency_id: int, applicant: services.Applicant) -> None:
    from tinhso.catalog.models import Procedure
    from tinhso.core.models import Agency

    connections.close_all()  # a forked child opens its own connection
    procedure = Procedure.objects.get(pk=procedure_id)
    agency = Agency.objects.get(pk=agency_id)
    for _ in range(PER_PROCESS):
        services.dossier_submit(
            actor=None,
            procedure=procedure,
            agency=agency,
            channel="online",
            applicant=applicant,
            at=AT,
        )
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_get_distinct_gap_free_codes(desk):
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    workers = [
        ctx.Process(
            target=_submit_many, args=(desk.procedure.pk, desk.world.agency_a.pk, desk.applicant)
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    codes = sorted(Dossier.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == PROCESSES * PER_PROCESS
    prefix = f"{desk.world.agency_a.code}-261201-"
    assert codes == [f"{prefix}{n:04d}" for n in range(1, PROCESSES * PER_PROCESS + 1)]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvals_give_one_approval_and_one_conflict(desk):
    from tinhso.core import services as core_services
    from tinhso.core.models import Role

    dossier = services.dossier_forward(actor=desk.specialist, dossier=desk.in_processing(AT))
    second_leader = core_services.official_save(
        actor=None,
        username="a.vice-chairman",
        full_name="Phó Chủ tịch",
        agency=desk.world.agency_a,
        roles=[Role.AGENCY_LEADER],
    )
    version = dossier.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor) -> None:
        try:
            barrier.wait(10)
            services.dossier_approve(
                actor=actor, dossier=dossier, expected_version=version, result_summary="Giấy KS"
            )
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=approve, args=(leader,))
        for leader in (desk.agency_leader, second_leader)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["approved", "conflict"]
    dossier.refresh_from_db()
    assert dossier.status == Status.APPROVED
    assert dossier.events.filter(action="approve").count() == 1
