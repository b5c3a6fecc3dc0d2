"""The operations centre's pages: the overview's numbers are the selectors' numbers, scopes
are refused beyond the user's reach, the drill-down links chain down to a dossier, the Excel
export holds the page's numbers, targets are set by provincial roles only, and the overview
stays within a bound of queries."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from tinhso.core import services as core_services
from tinhso.core.models import AgencyKind, AuditRecord, UnitLevel
from tinhso.ioc import charts, selectors
from tinhso.ioc.models import Target
from tinhso.ioc.scopes import Scope, ScopeKind, resolve
from tinhso.ioc.tests.conftest import MARCH
from tinhso.ioc.views import CARD_CODES

pytestmark = pytest.mark.django_db

PERIOD = "2026-03"


def _signed_in(client, user):
    client.force_login(user)
    return client


def _card_values(html: str) -> dict[str, str]:
    """`data-indicator` → `data-value` of each card."""
    found = re.findall(
        r'data-indicator="([a-z0-9_]+)">\s*<h3>.*?</h3>\s*<p class="ioc-value" '
        r'data-value="([^"]*)"',
        html,
        re.S,
    )
    return dict(found)


def _rows(html: str, slug: str) -> list[tuple[str, str, list[str]]]:
    """(href, label, values) of the rows of the table of chart `slug`."""
    table = re.search(rf'data-chart="{slug}">(.*?)</table>', html, re.S)
    assert table, f"no table {slug}"
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        link = re.search(r'<a href="([^"]+)">([^<]+)</a>', tr)
        values = re.findall(r'data-value="([^"]*)"', tr)
        if link:
            rows.append((link.group(1).replace("&amp;", "&"), link.group(2), values))
    return rows


@pytest.fixture
def leader_client(client, ops):
    return _signed_in(client, ops.world.provincial_leader)


def test_the_overview_shows_the_selectors_numbers(leader_client, ops, march):
    response = leader_client.get(reverse("ioc:overview"), {"period": PERIOD})
    assert response.status_code == 200
    html = response.content.decode()
    cards = _card_values(html)
    leader = ops.world.provincial_leader
    for code in CARD_CODES:
        result = selectors.indicator_for(
            leader, code=code, scope=Scope(ScopeKind.PROVINCE), period=MARCH
        )
        expected = str(result.value.value) if result.value.has_data else ""
        assert cards[code] == expected, code
    # Five done, four of them on time.
    assert cards["dossiers_done"] == "5.00"
    assert cards["on_time_rate"] == "80.00"
    assert 'data-indicator="index766"' in html


def test_the_definition_of_each_card_is_on_the_page(leader_client, march):
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    assert html.count('class="ioc-def"') >= len(CARD_CODES)
    card = re.search(r'data-indicator="on_time_rate">(.*?)</article>', html, re.S).group(1)
    on_time = selectors.indicator_get("on_time_rate")
    assert escape(str(on_time.numerator)) in card
    assert escape(str(on_time.denominator)) in card


def test_the_period_picker_changes_the_numbers(leader_client, march):
    march_cards = _card_values(
        leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    )
    april_cards = _card_values(
        leader_client.get(reverse("ioc:overview"), {"period": "2026-04"}).content.decode()
    )
    assert march_cards["dossiers_done"] == "5.00"
    assert april_cards["dossiers_done"] == "0.00"
    picked = leader_client.get(
        reverse("ioc:overview"), {"pkind": "quarter", "pyear": "2026", "pquarter": "1"}
    )
    assert picked.status_code == 302
    assert picked["Location"].endswith("?period=2026-Q1")
    custom = leader_client.get(
        reverse("ioc:overview"),
        {"pkind": "custom", "pfrom": "2026-03-01", "pto": "2026-03-31"},
    )
    assert custom["Location"].endswith("?period=2026-03-01..2026-03-31")


def test_the_overview_ranks_agencies_and_units_worst_first(leader_client, ops, march):
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    agencies = _rows(html, "breakdown-agency")
    labels = [label for _href, label, _v in agencies]
    assert ops.world.agency_a.name in labels
    # Agency A has an on-time rate; the agencies with nothing done come after it.
    assert labels[0] == ops.world.agency_a.name
    assert agencies[0][2][0] == "80.00"
    units = _rows(html, "breakdown-unit")
    assert units[0][1] == ops.world.commune_a.name
    assert units[0][0].startswith(reverse("ioc:scope", args=["unit", ops.world.commune_a.pk]))
    assert "late-procedures" in html


def _idle(html: str, slug: str) -> list[str]:
    """The parts a ranking names under its table as having nothing in the period."""
    found = re.search(rf'data-idle="{slug}">(.*?)</details>', html, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', found.group(1)) if found else []


def test_a_ranking_names_the_quiet_parts_under_the_table_instead_of_a_row_each(
    leader_client, ops, march
):
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    ranked = [label for _href, label, _values in _rows(html, "breakdown-agency")]
    quiet = _idle(html, "breakdown-agency")
    assert ops.world.agency_a.name in ranked and ops.world.agency_a.name not in quiet
    assert ops.world.department_agency.name in quiet  # nothing received or done in March
    assert not set(ranked) & set(quiet)
    data = charts.breakdown(
        resolve(ops.world.provincial_leader, Scope(ScopeKind.PROVINCE)),
        MARCH,
        ScopeKind.AGENCY,
    )
    assert sorted(ranked + quiet) == sorted(row.label for row in data.rows)  # none lost
    # A month with nothing received or done: an agency still holding overdue dossiers at its
    # end stays ranked, the others are named.
    html = leader_client.get(reverse("ioc:overview"), {"period": "2026-04"}).content.decode()
    assert [label for _h, label, _v in _rows(html, "breakdown-agency")] == [ops.world.agency_a.name]
    assert ops.world.department_agency.name in _idle(html, "breakdown-agency")


def test_the_grouped_breakdown_agrees_with_the_one_by_one(ops, march):
    leader = ops.world.provincial_leader
    province = resolve(leader, Scope(ScopeKind.PROVINCE))
    for by in (ScopeKind.UNIT, ScopeKind.AGENCY):
        grouped = selectors.breakdown_grouped(charts.BREAKDOWN_CODES, province, MARCH, by)
        for code in charts.BREAKDOWN_CODES:
            one_by_one = selectors.breakdown(code, province, MARCH, by)
            assert [r.value for r in one_by_one] == [row[1][code].value for row in grouped]
    agency = resolve(leader, Scope(ScopeKind.AGENCY, ops.world.agency_a.pk))
    for by in (ScopeKind.DEPARTMENT, ScopeKind.OFFICIAL):
        grouped = selectors.breakdown_grouped(charts.BREAKDOWN_CODES, agency, MARCH, by)
        for code in ("on_time_rate", "dossiers_done", "overdue_open"):
            one_by_one = selectors.breakdown(code, agency, MARCH, by)
            assert [r.value for r in one_by_one] == [row[1][code].value for row in grouped]


def test_the_index_ranking_agrees_with_the_index_of_each_part(ops, march):
    leader = ops.world.provincial_leader
    province = resolve(leader, Scope(ScopeKind.PROVINCE))
    for part, result in selectors.index_breakdown(province, MARCH, ScopeKind.AGENCY):
        _resolved, alone = selectors.index_for(leader, scope=part.scope, period=MARCH)
        assert result.score == alone.score, part.label


def test_the_drilldown_chain_reaches_the_dossier(leader_client, ops, march):
    world = ops.world
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    agency_href = next(
        h for h, label, _v in _rows(html, "breakdown-agency") if label == world.agency_a.name
    )
    html = leader_client.get(agency_href).content.decode()
    assert f"<h1>{world.agency_a.name}</h1>" in html
    department_href = next(
        h
        for h, label, _v in _rows(html, "breakdown-department")
        if label == str(ops.desk.department)
    )
    html = leader_client.get(department_href).content.decode()
    assert f"<h1>{ops.desk.department}</h1>" in html
    assert world.agency_a.name in html  # the breadcrumb
    specialist = ops.desk.specialist
    official_href = next(
        h for h, label, _v in _rows(html, "breakdown-official") if label == str(specialist)
    )
    html = leader_client.get(official_href).content.decode()
    assert f"<h1>{specialist}</h1>" in html
    overdue = march["overdue"]
    dossier_href = reverse("dossiers:detail", args=[overdue.pk])
    assert f'href="{dossier_href}"' in html
    # Open overdue dossiers come first.
    first = re.search(r'ioc-dossiers.*?<tbody>.*?href="([^"]+)"', html, re.S).group(1)
    assert first == dossier_href
    assert leader_client.get(dossier_href).status_code == 200


def test_a_commune_official_sees_only_their_agency(client, ops, march):
    world = ops.world
    _signed_in(client, world.desk_a)
    response = client.get(reverse("ioc:overview"), {"period": PERIOD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("ioc:scope", args=["agency", world.agency_a.pk]))
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("ioc:scope", args=["agency", world.agency_b.pk])).status_code == 403
    assert client.get(reverse("ioc:scope", args=["unit", world.commune_b.pk])).status_code == 403
    assert client.get(reverse("ioc:scope", args=["province", world.province.pk])).status_code == 403
    export = reverse("ioc:export", args=["breakdown-department"])
    assert client.get(export, {"scope": f"agency:{world.agency_b.pk}"}).status_code == 403


def test_a_citizen_is_refused(client, ops):
    _signed_in(client, ops.world.citizen)
    assert client.get(reverse("ioc:overview")).status_code == 403
    assert client.get(reverse("ioc:targets")).status_code == 403
    assert (
        client.get(reverse("ioc:scope", args=["agency", ops.world.agency_a.pk])).status_code == 403
    )


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("ioc:overview"))
    assert response.status_code == 302


def test_the_excel_export_holds_the_page_numbers(leader_client, ops, march):
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    page_rows = {label: values for _h, label, values in _rows(html, "breakdown-agency")}
    response = leader_client.get(
        reverse("ioc:export", args=["breakdown-agency"]), {"scope": "province", "period": PERIOD}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert len(header) == 1 + len(charts.BREAKDOWN_CODES)
    data = {}
    for row in rows[1:]:
        if not row or row[0] is None:
            break
        data[row[0]] = row[1:]
    quiet = set(_idle(html, "breakdown-agency"))  # named on the page, every figure 0 or none
    assert set(data) == set(page_rows) | quiet
    for label in quiet:
        assert all(not cell for cell in data[label])
    for label, values in data.items():
        if label in quiet:
            continue
        for cell, shown in zip(values, page_rows[label], strict=True):
            assert (cell is None and shown == "") or float(shown) == cell
    agency = data[ops.world.agency_a.name]
    assert isinstance(agency[0], int | float) and agency[0] == 80
    notes = [
        r
        for r in rows
        if r
        and r[0]
        and str(r[1] or "").startswith(str(selectors.indicator_get("on_time_rate").name))
    ]
    assert notes, "the definition is in a note row"
    # The same through the chart endpoint's ?format=xlsx, and the trend.
    again = leader_client.get(
        reverse("ioc:chart", args=["breakdown-agency"]),
        {"scope": "province", "period": PERIOD, "format": "xlsx"},
    )
    assert again.content[:2] == b"PK"
    trend = leader_client.get(reverse("ioc:export", args=["trend"]), {"period": PERIOD})
    months = list(load_workbook(BytesIO(trend.content)).active.iter_rows(values_only=True))
    assert months[12][0] == "03/2026" and months[12][2] == 5


def test_the_index_ranking_loads_as_a_fragment(leader_client, march):
    response = leader_client.get(
        reverse("ioc:chart", args=["index-agency"]), {"scope": "province", "period": PERIOD}
    )
    assert response.status_code == 200
    assert 'data-chart="index-agency"' in response.content.decode()
    unknown = leader_client.get(reverse("ioc:chart", args=["nothing-here"]))
    assert unknown.status_code == 404


def test_targets_are_refused_to_a_desk_officer(client, ops):
    _signed_in(client, ops.world.desk_a)
    page = client.get(reverse("ioc:targets"), {"year": 2026})
    assert page.status_code == 200
    assert 'name="value"' not in page.content.decode()
    response = client.post(
        reverse("ioc:targets"), {"indicator": "on_time_rate", "year": 2026, "value": "90"}
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_provincial_leader_sets_a_target(leader_client, ops, march):
    response = leader_client.post(
        reverse("ioc:targets"),
        {"indicator": "on_time_rate", "year": 2026, "value": "95", "note": "KH 01/KH-UBND"},
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.indicator, target.year, str(target.value)) == ("on_time_rate", 2026, "95.00")
    assert AuditRecord.objects.filter(action="ioc.target.set").count() == 1
    page = leader_client.get(reverse("ioc:targets"), {"year": 2026}).content.decode()
    assert "KH 01/KH-UBND" in page
    # The card shows the target, and March's 80 % misses it.
    html = leader_client.get(reverse("ioc:overview"), {"period": PERIOD}).content.decode()
    card = re.search(r'data-indicator="on_time_rate">(.*?)</article>', html, re.S).group(1)
    assert "95" in card and "t-late" in card
    bad = leader_client.post(
        reverse("ioc:targets"), {"indicator": "on_time_rate", "year": 2026, "value": "140"}
    )
    assert bad.status_code == 200
    assert Target.objects.get().value == 95


def test_the_overview_runs_a_bounded_number_of_queries(leader_client, ops, march):
    world = ops.world
    for n in range(12):
        commune = core_services.unit_create(
            actor=None,
            code=f"0590{n:02d}",
            name=f"Xã Thử {n}",
            level=UnitLevel.COMMUNE,
            parent=world.province,
            division_type="xã",
        )
        for m in range(3):
            core_services.agency_save(
                actor=None,
                code=f"000.{n:02d}.{m}.H55",
                name=f"Cơ quan {n}-{m}",
                kind=AgencyKind.COMMUNE_COMMITTEE,
                unit=commune,
            )
    with CaptureQueriesContext(connection) as queries:
        response = leader_client.get(reverse("ioc:overview"), {"period": PERIOD})
    assert response.status_code == 200
    html = response.content.decode()
    assert len(_rows(html, "breakdown-agency") + _idle(html, "breakdown-agency")) >= 39
    assert len(queries) < 60, "\n".join(q["sql"][:160] for q in queries.captured_queries)
