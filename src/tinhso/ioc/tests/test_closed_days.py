"""The sums over closed days are read once and kept; today's rows are read every time, and
anything that writes a closed day's rows drops what was kept."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.ioc import closed_days, rollups
from tinhso.ioc.flows import MONTH, sum_flows
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system

pytestmark = pytest.mark.django_db
desk = dossier_fixtures.desk


def _at(day, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def window(desk):
    today = closed_days.today()
    first = today - timedelta(days=20)
    for back in (3, 9, 15):
        desk.received(_at(today - timedelta(days=back)))
    return desk, first, today


def _submitted(first, last, group=None, *, province=None) -> int:
    province = province or resolve_for_system(Scope(ScopeKind.PROVINCE))
    flows = sum_flows(province, first, last, group)
    return sum(flow.submitted for flow in flows.values())


def test_closed_days_are_summed_once_and_today_every_time(window):
    desk, first, today = window
    province = resolve_for_system(Scope(ScopeKind.PROVINCE))
    yesterday = today - timedelta(days=1)
    assert _submitted(first, today, province=province) == 3
    with CaptureQueriesContext(connection) as again:
        assert _submitted(first, today, province=province) == 3
    with CaptureQueriesContext(connection) as closed_only:
        assert _submitted(first, yesterday, province=province) == 3
    with CaptureQueriesContext(connection) as other_range:
        assert _submitted(first + timedelta(days=7), yesterday, province=province) == 2
    assert len(again) > 0  # today's rows are read on every call
    assert len(closed_only) == 0  # every day is closed, and was kept by the first call
    assert len(other_range) > 0  # another range is another entry
    desk.submit(timezone.now())  # an event today counts at once
    assert _submitted(first, today) == 4
    assert _submitted(first, today, MONTH) == 4


def test_an_event_written_for_a_closed_day_drops_the_kept_sums(window):
    desk, first, today = window
    assert _submitted(first, today) == 3
    desk.submit(_at(today - timedelta(days=5)))  # an import, the demo loader
    assert _submitted(first, today) == 4


def test_a_rebuild_drops_the_kept_sums(window):
    from tinhso.dossiers import hooks

    desk, first, today = window
    assert _submitted(first, today) == 3
    # A dossier written without the rollup hook (a legacy import): the rows miss it.
    registered = list(hooks._in_transaction)
    hooks.unregister_in_transaction(rollups.on_dossier_event)
    try:
        desk.submit(_at(today - timedelta(days=4)))
    finally:
        hooks._in_transaction[:] = registered
    assert _submitted(first, today) == 3
    rollups.rebuild()  # replays the event log, then drops the kept sums
    assert _submitted(first, today) == 4


def test_off_reads_every_time(window, settings):
    settings.TINHSO_IOC_CLOSED_DAYS_CACHE_SECONDS = 0
    _desk, first, today = window
    _submitted(first, today - timedelta(days=1))
    with CaptureQueriesContext(connection) as again:
        _submitted(first, today - timedelta(days=1))
    assert len(again) > 0
