"""The worker's snapshots of the open dossiers: the dashboards read the same figures from them
as they count live, only while they are fresh, and only for a province, unit or agency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tinhso.core import schedule
from tinhso.dossiers import services
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.ioc import snapshots
from tinhso.ioc.facts import Facts
from tinhso.ioc.indicators import Input
from tinhso.ioc.models import OpenSnapshot
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system
from tinhso.ioc.selectors import grouped_facts

pytestmark = pytest.mark.django_db
desk = dossier_fixtures.desk


@pytest.fixture
def open_dossiers(desk):
    now = timezone.now()
    desk.submit(now - timedelta(hours=2))  # not received
    desk.received(now - timedelta(days=40))  # overdue
    desk.received(now - timedelta(hours=1))  # within the deadline (or due soon)
    desk.in_processing(now - timedelta(days=6))
    waiting = desk.received(now - timedelta(days=3))
    services.dossier_suspend(
        actor=desk.agency_leader, dossier=waiting, reason="Chờ xác minh", at=now - timedelta(days=2)
    )
    twice = desk.received(now - timedelta(days=5))
    for back in (4, 3):
        twice = services.dossier_request_supplement(
            actor=desk.desk, dossier=twice, reason="Thiếu giấy tờ", at=now - timedelta(days=back)
        )
        twice = services.dossier_supplement(
            actor=None, dossier=twice, note="Đã bổ sung", at=now - timedelta(days=back, hours=-2)
        )
    return desk


def _scopes(desk):
    return [
        resolve_for_system(Scope(ScopeKind.PROVINCE)),
        resolve_for_system(Scope(ScopeKind.AGENCY, desk.world.agency_a.pk)),
        resolve_for_system(Scope(ScopeKind.AGENCY, desk.world.agency_b.pk)),
    ]


def test_the_snapshots_give_the_figures_counted_live(open_dossiers):
    desk = open_dossiers
    moment = timezone.now()
    assert snapshots.take(now=moment) > 0
    period = Period.month(moment.year, moment.month)
    for scope in _scopes(desk):
        counted = Facts(scope, period, now=moment)  # a moment given: always live
        read = Facts(scope, period)
        assert read.snapshots() is not None
        for name in (Input.OPEN_NOW, Input.OPEN_AT_END):
            assert read.get(name) == counted.get(name), (scope.scope, name)
    province = _scopes(desk)[0]
    live_parts = grouped_facts(province, period, ScopeKind.AGENCY, at=moment)
    read_parts = grouped_facts(province, period, ScopeKind.AGENCY)
    for live, read in zip(live_parts, read_parts, strict=True):
        assert read.get(Input.OPEN_NOW) == live.get(Input.OPEN_NOW)
        assert read.get(Input.OPEN_AT_END) == live.get(Input.OPEN_AT_END)
    whole = Facts(province, period, now=moment).get(Input.OPEN_NOW)
    assert whole.open == 6 and whole.not_received == 1 and whole.overdue >= 1
    assert whole.paused >= 1


def test_a_stale_snapshot_is_not_read(open_dossiers):
    desk = open_dossiers
    moment = timezone.now()
    snapshots.take(now=moment)
    period = Period.month(moment.year, moment.month)
    province = _scopes(desk)[0]
    desk.submit(timezone.now())  # after the snapshot
    fresh = Facts(province, period).get(Input.OPEN_NOW)
    assert fresh.open == 6  # the snapshot's figure: up to a few seconds behind
    OpenSnapshot.objects.update(taken_at=moment - timedelta(minutes=5))
    assert Facts(province, period).get(Input.OPEN_NOW).open == 7  # counted live


def test_a_scope_below_the_agency_or_a_missing_agency_counts_live(open_dossiers, settings):
    desk = open_dossiers
    moment = timezone.now()
    snapshots.take(now=moment)
    period = Period.month(moment.year, moment.month)
    department = resolve_for_system(Scope(ScopeKind.DEPARTMENT, desk.department.pk))
    assert Facts(department, period).snapshots() is None
    OpenSnapshot.objects.filter(agency=desk.world.agency_b).delete()
    assert Facts(_scopes(desk)[0], period).snapshots() is None
    assert Facts(_scopes(desk)[1], period).snapshots() is not None
    settings.TINHSO_IOC_SNAPSHOT_MAX_AGE_SECONDS = 0
    assert Facts(_scopes(desk)[1], period).snapshots() is None


def test_the_worker_takes_them_every_30_seconds():
    job = {j.name: j for j in schedule.jobs()}[snapshots.JOB]
    assert job.every == timedelta(seconds=30)
