"""The national service index: the scoring rule, the configuration loaded by the data
migration, and a whole index worked out by hand on the March scenario."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tinhso.ioc import indicators
from tinhso.ioc.facts import Facts
from tinhso.ioc.formulas import Missing, score_rate, to_decimal
from tinhso.ioc.index766 import RowStatus, compute_index, service_index
from tinhso.ioc.models import IndexGroup, IndexIndicator
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system
from tinhso.ioc.selectors import index_dossiers_for, index_for

from .conftest import APRIL_10, MARCH


@pytest.mark.parametrize(
    ("rate", "points", "threshold", "expected"),
    [
        (Fraction(80), 2, Decimal("80"), Fraction(2)),  # at the threshold: full points
        (Fraction(95), 2, Decimal("80"), Fraction(2)),
        (Fraction(40), 2, Decimal("80"), Fraction(1)),  # R × P ÷ T
        (Fraction(70), 6, Decimal("90"), Fraction(14, 3)),
        (Fraction(70), 20, None, Fraction(14)),  # without a threshold: R × P
        (Fraction(0), 12, None, Fraction(0)),
    ],
)
def test_the_scoring_rule(rate, points, threshold, expected):
    assert score_rate(rate, points, threshold) == expected


def test_the_defaults_hold_the_decisions_groups_and_points(db):
    index = service_index("766")
    groups = {g.code: g for g in index.groups.all()}
    assert {code: int(g.max_points) for code, g in groups.items()} == {
        "1": 18,
        "2": 20,
        "3": 12,
        "3P": 10,
        "4": 22,
        "5": 18,
    }
    for group in groups.values():
        assert sum(r.points for r in group.indicators.all()) == group.max_points, group.code
    rows = IndexIndicator.objects.filter(group__index=index)
    assert rows.count() == 23
    for row in rows:
        assert row.formula in indicators.REGISTRY, row.code
        row.full_clean()  # a row that scores points names a formula giving a rate


def _index(scope: Scope, at=APRIL_10):
    return compute_index(service_index("766"), Facts(resolve_for_system(scope), MARCH, now=at))


def test_the_index_for_an_agency_worked_out_by_hand(ops, march):
    result = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk))
    scores = {r.row.code: (r.status, r.score_decimal) for g in result.groups for r in g.rows}
    no_data = {"1.1", "1.2", "1.3", "3.5a", "3.5b", "3.6", "4.2b", "4.5a", "5.1", "5.2", "5.3"}
    assert {c for c, (status, _s) in scores.items() if status == RowStatus.NO_DATA} == no_data
    assert result.row("3.6").value.missing == Missing.NO_DOSSIERS  # no dossier owed a fee
    assert result.row("1.1").value.missing == Missing.NOT_HELD
    # 2.1: 70 % of 20 points; 3.2: 90 % of 12; 5.4: 100 − 30 (overdue) − 0 (no rating) = 70 %,
    # under its 90 % threshold: 70 × 6 ÷ 90.
    assert scores["2.1"] == (RowStatus.SCORED, Decimal("14.00"))
    assert scores["3.2"] == (RowStatus.SCORED, Decimal("10.80"))
    assert scores["5.4"] == (RowStatus.SCORED, Decimal("4.67"))
    assert result.row("5.4").value.partial
    # Nothing synchronised, digitised or reused, no e-ID: 0 points, but counted in the maximum.
    for code in ("1.4", "4.1", "4.2", "4.3", "4.4", "4.5b"):
        assert scores[code] == (RowStatus.SCORED, Decimal("0.00")), code
    for code in ("2.2", "3.1", "3.3"):
        assert scores[code][0] == RowStatus.MONITORED, code
    assert result.row("2.2").value.unit == "hours"
    # The maximum leaves out the 38 points without data.
    assert result.max_points == 100
    assert result.available_points == 62
    assert to_decimal(result.score) == Decimal("29.47")
    assert to_decimal(result.normalised) == Decimal("47.53")


def test_the_commune_and_the_province_add_up_the_same_dossiers(ops, march):
    world = ops.world
    agency = _index(Scope(ScopeKind.AGENCY, world.agency_a.pk))
    for scope in (Scope(ScopeKind.UNIT, world.commune_a.pk), Scope(ScopeKind.PROVINCE)):
        other = _index(scope)
        assert other.score == agency.score, scope
    assert _index(Scope(ScopeKind.UNIT, world.commune_b.pk)).row("2.1").score is None


def test_editing_a_row_changes_the_score_without_code(ops, march):
    row = IndexIndicator.objects.get(group__index__code="766", code="2.1")
    row.threshold = Decimal("70")  # a province's variant: 70 % on time earns the full 20
    row.save()
    result = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk))
    assert result.row("2.1").score == 20
    IndexIndicator.objects.filter(code="5.4").update(is_active=False)
    IndexGroup.objects.filter(code="5").update(max_points=12)
    result = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk))
    with pytest.raises(KeyError):
        result.row("5.4")
    assert result.max_points == 94


def test_synchronised_dossiers_count_once_delivered(ops, march):
    from tinhso.integration.adapters import national_portal
    from tinhso.integration.models import OutboxMessage

    code = march["within"].code
    messages = OutboxMessage.objects.filter(ordering_key=f"dossier:{code}", topic="dossier.created")
    value = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk)).row("1.4").value
    assert (value.numerator, value.denominator) == (0, 10)
    previous = national_portal.set_transport(lambda url, body, headers, timeout: (503, b"busy"))
    try:
        with pytest.raises(Exception, match="503"):
            national_portal.deliver(messages.get())
        value = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk)).row("1.4").value
        assert value.numerator == 0  # a refused delivery synchronises nothing
        national_portal.set_transport(lambda url, body, headers, timeout: (200, b"{}"))
        national_portal.deliver(messages.get())
    finally:
        national_portal.set_transport(previous)
    value = _index(Scope(ScopeKind.AGENCY, ops.world.agency_a.pk)).row("1.4").value
    assert (value.numerator, value.denominator) == (1, 10)


def test_the_dossiers_behind_a_row_and_the_users_scope(ops, march):
    world = ops.world
    behind = index_dossiers_for(
        world.provincial_leader,
        row_code="2.1",
        scope=Scope(ScopeKind.PROVINCE),
        period=MARCH,
        at=APRIL_10,
    )
    assert behind.queryset.count() == 3
    _resolved, result = index_for(
        world.provincial_leader,
        scope=Scope(ScopeKind.UNIT, world.commune_a.pk),
        period=MARCH,
        at=APRIL_10,
    )
    assert result.row("2.1").score_decimal == Decimal("14.00")
