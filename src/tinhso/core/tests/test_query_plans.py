"""The reads of the pages used all day stay on the indexes (issue #8): the officials'
inboxes, the public tracking look-up and the operations centre's pages. Each test records the
SQL the real views issue on a seeded table and EXPLAINs every read of the dossier and event
tables; a plan step that reads one of them from end to end, with no index condition, fails
the test, naming the query and the step.

The question is "can an index serve this?", whatever the size of the test's tables (see
`query_plans`): PostgreSQL, the production database, is asked with every way of reading a
table disabled but a bitmap scan, which needs an index condition; SQLite is asked without
statistics, so it takes the tables for large ones. Whether the condition is selective
enough at scale is for the benchmarks (docs/benchmarks.md) to say."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tinhso.core.tests import query_plans
from tinhso.dossiers import selectors as dossier_selectors
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier, DossierEvent
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.ioc.periods import Period

desk = dossier_fixtures.desk

pytestmark = pytest.mark.django_db

#: Dossiers made through the services per fate, then copies of all of them, further back.
PER_FATE = 3
COPIES = 8
COPY_STEP = timedelta(days=3, hours=5)
MINUTE = timedelta(minutes=1)
DOSSIER_TABLE = Dossier._meta.db_table
EVENT_TABLE = DossierEvent._meta.db_table


def _fates(desk: dossier_fixtures.Desk) -> list[Any]:
    """Each a function of the submission instant leaving one dossier in a state an inbox or
    an indicator reads: waiting, received, in processing (some overdue by now, some due soon),
    sent back, approved, done, waiting for a supplement, withdrawn, transferred, and dossiers
    of the other agency."""
    world = desk.world

    def processing(at: datetime) -> Dossier:
        return desk.in_processing(at)

    def sent_back(at: datetime) -> Dossier:
        dossier = services.dossier_forward(
            actor=desk.specialist, dossier=desk.in_processing(at), at=at + MINUTE
        )
        return services.dossier_send_back(
            actor=desk.agency_leader,
            dossier=dossier,
            reason="Bổ sung thẩm định",
            at=at + 2 * MINUTE,
        )

    def approved(at: datetime) -> Dossier:
        return services.dossier_approve(
            actor=desk.agency_leader, dossier=desk.in_processing(at), at=at + 3 * MINUTE
        )

    def done(at: datetime) -> Dossier:
        return services.dossier_return_result(
            actor=desk.desk, dossier=approved(at), at=at + 4 * MINUTE
        )

    def waiting_supplement(at: datetime) -> Dossier:
        return services.dossier_request_supplement(
            actor=desk.desk,
            dossier=desk.received(at),
            reason="Thiếu giấy chứng sinh",
            at=at + MINUTE,
        )

    def withdrawn(at: datetime) -> Dossier:
        return services.dossier_withdraw(
            actor=desk.desk, dossier=desk.received(at), reason="Rút hồ sơ", at=at + MINUTE
        )

    def transferred(at: datetime) -> Dossier:
        return services.dossier_transfer(
            actor=desk.agency_leader,
            dossier=desk.in_processing(at),
            to_agency=world.agency_b,
            reason="Liên thông",
            at=at + MINUTE,
        )

    def other_agency(at: datetime) -> Dossier:
        return services.dossier_receive(
            actor=world.desk_b, dossier=desk.submit(at, agency=world.agency_b), at=at
        )

    return [
        desk.submit,
        desk.received,
        processing,
        processing,
        sent_back,
        approved,
        done,
        done,
        waiting_supplement,
        withdrawn,
        transferred,
        other_agency,
    ]


def _copies(dossiers: list[Dossier], copies: int, step: timedelta) -> None:
    """`copies` copies of each dossier and its events, the k-th `k * step` earlier (the
    services would take a minute for a few hundred dossiers; the plans need only the rows)."""
    dossier_fields = [f for f in Dossier._meta.concrete_fields if not f.primary_key]
    event_fields = [
        f for f in DossierEvent._meta.concrete_fields if not f.primary_key and f.name != "dossier"
    ]
    events: dict[int, list[DossierEvent]] = {}
    for event in DossierEvent.objects.filter(dossier__in=dossiers).order_by("dossier", "seq"):
        events.setdefault(event.dossier_id, []).append(event)

    def shifted(obj: Any, fields: list[Any], back: timedelta) -> dict[str, Any]:
        values = {}
        for field in fields:
            value = getattr(obj, field.attname)
            if isinstance(value, datetime):
                value -= back
            values[field.attname] = value
        return values

    new_dossiers, sources = [], []
    for k in range(1, copies + 1):
        for dossier in dossiers:
            values = shifted(dossier, dossier_fields, k * step)
            values["code"] = f"{dossier.code}-{k}"
            new_dossiers.append(Dossier(**values))
            sources.append(dossier)
    Dossier.objects.bulk_create(new_dossiers)
    DossierEvent.objects.bulk_create(
        DossierEvent(
            dossier=copy, **shifted(event, event_fields, source.submitted_at - copy.submitted_at)
        )
        for copy, source in zip(new_dossiers, sources, strict=True)
        for event in events[source.pk]
    )


@pytest.fixture
def seeded(desk) -> dossier_fixtures.Desk:
    """About 300 dossiers in every state, with their events, from five weeks ago to an hour
    ago (so last month's figures are rebuilt from events): a few per fate through the
    services over the last ten days, then copies of those further back. ANALYZEd on
    PostgreSQL; on SQLite statistics would make small tables worth scanning."""
    now = timezone.localtime()
    start = now - timedelta(days=10)
    fates = _fates(desk)
    count = PER_FATE * len(fates)
    span = (now - timedelta(hours=1)) - start
    made = [fates[i % len(fates)](start + span * i / count) for i in range(count)]
    _copies(list(Dossier.objects.filter(pk__in=[d.pk for d in made])), COPIES, COPY_STEP)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DOSSIER_TABLE}")
            cursor.execute(f"ANALYZE {EVENT_TABLE}")
    return desk


def assert_reads_use_indexes(
    queries: list[query_plans.RecordedQuery],
) -> list[query_plans.RecordedQuery]:
    """Every recorded read of the dossier and event tables can be served by an index; the
    reads checked are returned (there must be some, or nothing was checked)."""
    reads = query_plans.watched_reads(queries)
    assert reads, "no read of the dossier or event tables was recorded: nothing was checked"
    scans = query_plans.unindexed_scans(reads)
    assert not scans, query_plans.report(scans)
    return reads


def _periods() -> list[str]:
    """This month (open dossiers as now) and last month (rebuilt from the events)."""
    now = timezone.localtime()
    this_month = Period.month(now.year, now.month)
    return [str(this_month), str(this_month.previous())]


# --- the checker ------------------------------------------------------------------------------


def test_the_checker_reports_reads_no_index_can_narrow(desk):
    dossier = desk.received(timezone.now() - timedelta(hours=2))
    actor_label = dossier.events.order_by("seq").last().actor_label
    with query_plans.recording() as queries:
        # Neither column is indexed.
        assert Dossier.objects.filter(applicant_name=dossier.applicant_name).order_by().exists()
        assert DossierEvent.objects.filter(actor_label=actor_label).exists()
        # The default ordering and a LIMIT: PostgreSQL walks the submitted_at index from end
        # to end rather than scan and sort, which reads the whole table all the same.
        assert Dossier.objects.filter(applicant_name=dossier.applicant_name).first()
        # Narrowed by the unique index on the code: not reported.
        assert Dossier.objects.filter(code=dossier.code).first()

    reads = query_plans.watched_reads(queries)
    scans = query_plans.unindexed_scans(reads)

    assert len(reads) == 4
    assert [(scan.query, scan.table) for scan in scans] == [
        (reads[0], DOSSIER_TABLE),
        (reads[1], EVENT_TABLE),
        (reads[2], DOSSIER_TABLE),
    ]
    message = query_plans.report(scans)
    assert '"applicant_name" = %s' in message
    assert '"actor_label" = %s' in message
    if connection.vendor == "postgresql":
        assert f"Seq Scan on {DOSSIER_TABLE}" in message
        assert f"Seq Scan on {EVENT_TABLE}" in message
        assert f"Index Scan on {DOSSIER_TABLE} [Index Name: " in message
    else:
        assert f"SQLite: SCAN {DOSSIER_TABLE}" in message
        assert f"SQLite: SCAN {EVENT_TABLE}" in message
    with pytest.raises(AssertionError, match="applicant_name"):
        assert_reads_use_indexes(queries)


def test_the_checker_needs_a_read_to_check(desk):
    with query_plans.recording() as queries:
        list(Dossier.objects.none())
    with pytest.raises(AssertionError, match="nothing was checked"):
        assert_reads_use_indexes(queries)


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("official", ["desk", "specialist"])
def test_an_officials_inbox_reads_dossiers_through_indexes(seeded, client, official):
    """Every tab (with the counts of all tabs), a search, a procedure filter, a second page."""
    client.force_login(getattr(seeded, official))
    requests = [{"box": box} for box in dossier_selectors.INBOXES]
    requests += [
        {"box": "all", "q": "Nguyễn"},
        {"box": "all", "procedure": seeded.procedure.code},
        {"box": "all", "page": "2"},
    ]
    with query_plans.recording() as queries:
        for params in requests:
            assert client.get(reverse("dossiers:inbox"), params).status_code == 200

    reads = assert_reads_use_indexes(queries)

    # The "returned" tab reads the dossier's own flag now, not its events.
    assert all(EVENT_TABLE not in read.tables() for read in reads)


def test_the_public_tracking_look_up_reads_dossiers_through_indexes(seeded, client):
    code = Dossier.objects.filter(agency=seeded.world.agency_a).values_list("code", flat=True)[0]
    with query_plans.recording() as queries:
        found = client.post(reverse("portal:track"), {"code": code, "factor": "0912 345 678"})
        wrong = client.post(reverse("portal:track"), {"code": code, "factor": "0999999999"})

    assert found.context["result"] is not None
    assert "result" not in wrong.context
    assert_reads_use_indexes(queries)


def test_the_province_overview_reads_dossiers_and_events_through_indexes(seeded, client):
    """The overview and the rankings it loads after itself, this month and last month."""
    client.force_login(seeded.world.provincial_leader)
    with query_plans.recording() as queries:
        for period in _periods():
            page = client.get(reverse("ioc:overview"), {"period": period})
            assert page.status_code == 200
            for chart in page.context["index_charts"]:
                response = client.get(
                    reverse("ioc:chart", args=[chart]), {"scope": "province", "period": period}
                )
                assert response.status_code == 200

    reads = assert_reads_use_indexes(queries)

    assert any(EVENT_TABLE in read.tables() for read in reads)  # last month's open dossiers


def test_an_agency_page_reads_dossiers_and_events_through_indexes(seeded, client):
    client.force_login(seeded.world.provincial_leader)
    url = reverse("ioc:scope", args=["agency", seeded.world.agency_a.pk])
    with query_plans.recording() as queries:
        for period in _periods():
            assert client.get(url, {"period": period}).status_code == 200

    reads = assert_reads_use_indexes(queries)

    assert any(EVENT_TABLE in read.tables() for read in reads)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="autovacuum is PostgreSQL's")
def test_the_dossier_tables_are_vacuumed_often_enough_for_index_only_counts(db):
    # The inbox and dashboard counts read the open-dossier indexes only while the visibility
    # map is current; the default (vacuum after 20 % of a table changes) lets it go stale.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class "
            "WHERE relname IN ('dossiers_dossier', 'dossiers_dossierevent')"
        )
        options = {name: dict(o.split("=") for o in opts or []) for name, opts in cursor}
    assert float(options["dossiers_dossier"]["autovacuum_vacuum_scale_factor"]) <= 0.02
    assert float(options["dossiers_dossier"]["autovacuum_vacuum_insert_scale_factor"]) <= 0.02
    assert float(options["dossiers_dossierevent"]["autovacuum_vacuum_insert_scale_factor"]) <= 0.02
