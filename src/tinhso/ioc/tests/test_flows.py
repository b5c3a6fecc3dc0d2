"""The flow sums (`flows.sum_flows`): read from the agency rollups where the scope allows and
from the daily rollups otherwise, the fully online procedures' sums by procedure id (or by
the others' ids, subtracted) — always the same numbers as summing the daily rollups with the
catalog's levels of today."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Q

from tinhso.catalog.models import Procedure
from tinhso.ioc import rollups
from tinhso.ioc.flows import MONTH, sum_flows
from tinhso.ioc.formulas import Flow
from tinhso.ioc.models import COUNTERS, AgencyDailyRollup, DailyRollup
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system

FIRST = date(2026, 1, 20)


def _procedure(desk, code: str, online: str) -> Procedure:
    return Procedure.objects.create(
        code=code,
        name=code,
        field=desk.procedure.field,
        level="commune",
        agency_kinds=["commune_committee"],
        processing_days=Decimal("3"),
        online=online,
    )


def _random_rows(desk, procedures: list[Procedure], seed: int) -> None:
    rng = random.Random(seed)
    agencies = [desk.world.agency_a.pk, desk.world.agency_b.pk]
    deltas = []
    for _ in range(120):
        key = (
            FIRST + timedelta(days=rng.randrange(70)),
            rng.choice(agencies),
            rng.choice([0, desk.department.pk]),
            rng.choice([0, desk.specialist.pk]),
            rng.choice(procedures).pk,
            rng.choice(["online", "desk", "post"]),
        )
        deltas.append((key, {name: rng.randrange(3) for name in rng.sample(COUNTERS, 4)}))
    rollups.upsert(deltas)


def _expected(filters: Q, first: date, last: date, group) -> dict:
    """Summed in Python from the daily rollups (the scope's `rollup_q`), with the catalog's
    levels of today."""
    full = set(Procedure.objects.filter(online="full").values_list("pk", flat=True))
    sums: dict = {}
    for row in DailyRollup.objects.filter(filters, day__gte=first, day__lte=last):
        if group is None:
            key = None
        elif group == MONTH:
            key = row.day.replace(day=1)
        else:
            key = getattr(row, group)
        flow = sums.setdefault(key, dict.fromkeys(Flow.__dataclass_fields__, 0))
        for name in COUNTERS:
            flow[name] += getattr(row, name)
        online = row.channel == "online"
        if online:
            flow["submitted_online"] += row.submitted
            flow["received_online"] += row.received
            flow["done_online_electronic"] += row.done_rejected + row.result_digitised
        if row.procedure_id in full:
            flow["received_full_online_procedure"] += row.received
            if online:
                flow["received_online_full_online_procedure"] += row.received
    found = {key: Flow(**flow) for key, flow in sums.items()}
    if group is None and None not in found:
        found[None] = Flow()
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_flow_sums_equal_the_daily_rollups_with_todays_catalog(desk, seed):
    others = [_procedure(desk, f"P{seed}{i}", level) for i, level in enumerate(["partial", "none"])]
    procedures = [desk.procedure, *others]
    _random_rows(desk, procedures, seed)
    assert AgencyDailyRollup.objects.exists()
    a = desk.world.agency_a
    scopes = [
        Scope(ScopeKind.PROVINCE),
        Scope(ScopeKind.AGENCY, a.pk),
        Scope(ScopeKind.DEPARTMENT, desk.department.pk),
        Scope(ScopeKind.PROCEDURE, others[0].pk),
    ]
    first, last = date(2026, 2, 1), date(2026, 3, 20)
    # Fewer fully online procedures than others, then more (the sums by the others' ids).
    for flip in (None, others[0]):
        if flip is not None:
            # Saved as the catalog's services save it: the sums kept over closed days,
            # which read today's catalog, are dropped with it.
            flip.online = "full"
            flip.save()
        for scope in scopes:
            resolved = resolve_for_system(scope)
            filters = resolved.rollup_q()
            for group in (None, MONTH, "agency_id", "procedure_id", "department_ref"):
                expected = _expected(filters, first, last, group)
                assert sum_flows(resolved, first, last, group) == expected, (scope, group)
            without = sum_flows(resolved, first, last, MONTH, procedure_sums=False)
            assert without.keys() == _expected(filters, first, last, MONTH).keys()
            assert all(f.received_full_online_procedure == 0 for f in without.values())
