"""The per-process cache of fee cases and workflow steps: a change saved in the catalog
applies to the next dossier at once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tinhso.catalog import cache
from tinhso.catalog.models import FeeCase, WorkflowStep
from tinhso.dossiers.tests import conftest as dossier_fixtures

pytestmark = pytest.mark.django_db
desk = dossier_fixtures.desk

MONDAY_9AM = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


def test_a_second_read_costs_no_query(desk):
    cache.fee_cases(desk.procedure.pk)
    with CaptureQueriesContext(connection) as queries:
        cache.fee_cases(desk.procedure.pk)
        cache.fee_cases(desk.procedure.pk)
    assert len(queries) == 0


def test_a_changed_fee_is_billed_on_the_next_submission(desk):
    case = FeeCase.objects.create(procedure=desk.procedure, description="Lệ phí", amount=8000)
    first = desk.submit(MONDAY_9AM)
    assert first.bills.get().amount == 8000
    case.amount = 12000
    case.save()
    second = desk.submit(MONDAY_9AM)
    assert second.bills.get().amount == 12000
    case.delete()
    assert not desk.submit(MONDAY_9AM).bills.exists()


def test_a_step_added_to_the_workflow_is_used_by_the_next_reception(desk):
    steps = cache.workflow_steps(desk.procedure.pk)
    first = WorkflowStep.objects.create(
        procedure=desk.procedure,
        position=0,
        name="Kiểm tra trước",
        role="desk_officer",
        share_percent=Decimal("0"),
    )
    dossier = desk.received(MONDAY_9AM)
    assert dossier.current_step == first
    assert len(cache.workflow_steps(desk.procedure.pk)) == len(steps) + 1


def test_off_reads_every_time(desk, settings):
    settings.TINHSO_CATALOG_CACHE_SECONDS = 0
    cache.fee_cases(desk.procedure.pk)
    with CaptureQueriesContext(connection) as queries:
        cache.fee_cases(desk.procedure.pk)
    assert len(queries) == 1
