"""The flow: sums of the daily rollups over a scope and a period, read from the agency
rollups where the scope allows, from the procedure rollups otherwise, and over closed days
from the per-process sums (`closed_days`); `Facts` loads the formulas' `Flow` from here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from tinhso.catalog.models import OnlineAvailability, Procedure
from tinhso.dossiers.states import (
    Channel,
)
from tinhso.ioc import closed_days
from tinhso.ioc import formulas as f
from tinhso.ioc.models import COUNTERS, AgencyDailyRollup, DailyRollup
from tinhso.ioc.scopes import ResolvedScope


def sum_of(expression: Any, condition: Q | None = None) -> Coalesce:
    """SUM of `expression` (over the rows matching `condition`), 0 rather than NULL."""
    return Coalesce(
        Sum(expression, filter=condition, output_field=BigIntegerField()),
        Value(0),
        output_field=BigIntegerField(),
    )


#: The `Flow` fields that depend on the procedure's online level today (the catalog keeps no
#: history, so no rollup can hold them): summed on `DailyRollup` by procedure id.
PROCEDURE_FLOW_FIELDS = ("received_full_online_procedure", "received_online_full_online_procedure")
#: Group keys `AgencyDailyRollup` has (besides none and the month).
AGENCY_GRAIN_KEYS = frozenset({"agency_id", "day", "channel"})
MONTH = "month"


def flow_aggregates() -> dict[str, Any]:
    """The sums of a `Flow` that need neither department, official nor procedure (the
    aliases are `sum_<field>`: they may not shadow the columns they sum)."""
    online = Q(channel=Channel.ONLINE)
    aggregates = {name: sum_of(name) for name in COUNTERS}
    aggregates.update(
        submitted_online=sum_of("submitted", online),
        received_online=sum_of("received", online),
        done_online_electronic=sum_of(F("done_rejected") + F("result_digitised"), online),
    )
    return {f"sum_{k}": v for k, v in aggregates.items()}


def procedure_flow_aggregates() -> dict[str, Any]:
    """The sums of `PROCEDURE_FLOW_FIELDS` over rows already limited to some procedures."""
    return {
        "sum_received_full_online_procedure": sum_of("received"),
        "sum_received_online_full_online_procedure": sum_of("received", Q(channel=Channel.ONLINE)),
    }


def _grouped_sums(
    queryset: QuerySet, group: str | None, aggregates: dict[str, Any]
) -> dict[Any, dict[str, Any]]:
    queryset = queryset.order_by()
    if group is None:
        return {None: queryset.aggregate(**aggregates)}
    if group == MONTH:
        queryset = queryset.annotate(month=TruncMonth("day"))
    rows = queryset.values(group).annotate(**aggregates)
    found = {}
    for row in rows:
        key = row.pop(group)
        if group == MONTH and isinstance(key, datetime):
            key = key.date()
        found[key] = row
    return found


def sum_flows(
    scope: ResolvedScope,
    first: date,
    last: date,
    group: str | None = None,
    *,
    procedure_sums: bool = True,
) -> dict[Any, f.Flow]:
    """The flow of `scope` from day `first` to day `last`, in total (key None) or by `group`
    (a rollup column, or `MONTH` for the first day of each month).

    The sums that need no department, official or procedure come from `AgencyDailyRollup`
    when the scope and the grouping allow (province, unit, agency), from `DailyRollup`
    otherwise; those of the fully online procedures from `DailyRollup` filtered by procedure
    ids (an index range per procedure, no join: the planner loops over the catalog
    otherwise) — the fully online procedures' ids, or the others' when they are fewer, the
    sums then being the whole's minus theirs. `procedure_sums=False` leaves them 0, for
    callers that read none.

    The sums over the days before today come from `closed_days` (those rows no longer
    change); today's rows are summed on every call."""
    today = closed_days.today()
    if first >= today:
        sums = _sum_rollups(scope, first, last, group, procedure_sums)
    else:
        closed_last = min(last, today - timedelta(days=1))
        sums = closed_days.cached(
            ("flows", scope, first, closed_last, group, procedure_sums),
            lambda: _sum_rollups(scope, first, closed_last, group, procedure_sums),
        )
        if last >= today:
            sums = _add_rows(sums, _sum_rollups(scope, today, last, group, procedure_sums))
    return {
        key: f.Flow(**{name[4:]: int(value or 0) for name, value in row.items()})
        for key, row in sums.items()
    }


def _add_rows(
    a: dict[Any, dict[str, Any]], b: dict[Any, dict[str, Any]]
) -> dict[Any, dict[str, Any]]:
    """The rows of two `_grouped_sums` results added key by key (neither is changed)."""
    merged = {key: dict(row) for key, row in a.items()}
    for key, row in b.items():
        into = merged.setdefault(key, {})
        for name, value in row.items():
            into[name] = int(into.get(name) or 0) + int(value or 0)
    return merged


def _sum_rollups(
    scope: ResolvedScope, first: date, last: date, group: str | None, procedure_sums: bool
) -> dict[Any, dict[str, Any]]:
    """The rollups' sums from `first` to `last` (see `sum_flows`), as `_grouped_sums` rows."""
    coarse = scope.agency_grain and (group is None or group == MONTH or group in AGENCY_GRAIN_KEYS)
    model = AgencyDailyRollup if coarse else DailyRollup
    base_q = Q(scope.rollup_q(), day__gte=first, day__lte=last)
    sums = _grouped_sums(model.objects.filter(base_q), group, flow_aggregates())
    if procedure_sums:
        levels = dict(Procedure.objects.values_list("pk", "online"))
        full = sorted(pk for pk, level in levels.items() if level == OnlineAvailability.FULL)
        others = sorted(pk for pk, level in levels.items() if level != OnlineAvailability.FULL)
        # Every rollup row's procedure is in the catalog (PROTECT), so the fully online
        # procedures' sums are also the whole's minus the others': sum the smaller set.
        complement = len(others) < len(full)
        ids = others if complement else full
        extra = (
            _grouped_sums(
                DailyRollup.objects.filter(base_q, procedure_id__in=ids),
                group,
                procedure_flow_aggregates(),
            )
            if ids
            else {}
        )
        for key, row in sums.items():
            part = extra.get(key, {})
            received = int(part.get("sum_received_full_online_procedure") or 0)
            online = int(part.get("sum_received_online_full_online_procedure") or 0)
            if complement:
                received = int(row["sum_received"] or 0) - received
                online = int(row["sum_received_online"] or 0) - online
            row["sum_received_full_online_procedure"] = received
            row["sum_received_online_full_online_procedure"] = online
    return sums


__all__ = [
    "AGENCY_GRAIN_KEYS",
    "MONTH",
    "PROCEDURE_FLOW_FIELDS",
    "flow_aggregates",
    "procedure_flow_aggregates",
    "sum_flows",
    "sum_of",
]
