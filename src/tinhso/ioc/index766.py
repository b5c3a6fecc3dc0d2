"""Scoring the national service index (Quyết định 766/QĐ-TTg, or a province's variant held
as another `ServiceIndex`) from its configuration rows.

Each row names a formula (an indicator of the registry) and its points and threshold; the
rate is scored by `formulas.score_rate`. A row without data — the platform does not hold it,
nothing to count in the period, or not meaningful at the scope — is not scored and its
points leave the maximum, so a score is never made of invented numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from django.utils.translation import gettext as _

from tinhso.core.errors import NotFound
from tinhso.ioc import indicators
from tinhso.ioc.facts import Facts
from tinhso.ioc.formulas import Missing, Unit, Value, not_held, score_rate, to_decimal
from tinhso.ioc.indicators import Indicator
from tinhso.ioc.models import IndexGroup, IndexIndicator, ServiceIndex

NATIONAL_INDEX = "766"


class RowStatus(StrEnum):
    SCORED = "scored"
    MONITORED = "monitored"  # 0 points: shown, not scored
    NO_DATA = "no_data"


@dataclass(frozen=True)
class RowResult:
    row: IndexIndicator
    indicator: Indicator | None
    value: Value
    score: Fraction | None

    @property
    def status(self) -> RowStatus:
        if not self.value.has_data:
            return RowStatus.NO_DATA
        return RowStatus.SCORED if self.row.points > 0 else RowStatus.MONITORED

    @property
    def points(self) -> Decimal:
        return self.row.points

    @property
    def score_decimal(self) -> Decimal | None:
        return to_decimal(self.score) if self.score is not None else None


@dataclass(frozen=True)
class GroupResult:
    group: IndexGroup
    rows: list[RowResult]

    @property
    def score(self) -> Fraction:
        return sum((r.score for r in self.rows if r.score is not None), Fraction(0))

    @property
    def available_points(self) -> Decimal:
        """The points of the rows that have data (the group's maximum for this scope)."""
        return sum((r.points for r in self.rows if r.status == RowStatus.SCORED), Decimal(0))

    @property
    def max_points(self) -> Decimal:
        return self.group.max_points


@dataclass(frozen=True)
class IndexResult:
    index: ServiceIndex
    groups: list[GroupResult]

    @property
    def score(self) -> Fraction:
        return sum((g.score for g in self.groups), Fraction(0))

    @property
    def available_points(self) -> Decimal:
        return sum((g.available_points for g in self.groups), Decimal(0))

    @property
    def max_points(self) -> Decimal:
        return sum((g.max_points for g in self.groups), Decimal(0))

    @property
    def normalised(self) -> Fraction | None:
        """The score out of 100 over the points that could be scored."""
        if not self.available_points:
            return None
        return self.score * 100 / Fraction(self.available_points)

    def row(self, code: str) -> RowResult:
        for group in self.groups:
            for result in group.rows:
                if result.row.code == code:
                    return result
        raise KeyError(code)


def service_index(code: str = NATIONAL_INDEX) -> ServiceIndex:
    index = ServiceIndex.objects.filter(code=code, is_active=True).first()
    if index is None:
        raise NotFound(_("No service index %(code)s.") % {"code": code})
    return index


def compute_value(indicator: Indicator | None, facts: Facts) -> Value:
    """The indicator's value at the facts' scope; "not applicable" outside its levels."""
    if indicator is None:
        return not_held(Unit.PERCENT, _("The row names an unknown formula."))
    if facts.scope.kind not in indicator.levels:
        return Value(indicator.unit, missing=Missing.NOT_APPLICABLE)
    return indicator.formula(**facts.inputs(indicator.needs))


def score_row(row: IndexIndicator, value: Value) -> Fraction | None:
    """Points for a row, or None when it is not scored (no data). A row of 0 points scores
    0; a row whose formula does not give a rate cannot score points."""
    if not value.has_data:
        return None
    if row.points <= 0 or value.unit != Unit.PERCENT:
        return Fraction(0)
    return score_rate(min(value.exact, Fraction(100)), row.points, row.threshold)  # type: ignore[type-var]


def compute_index(index: ServiceIndex, facts: Facts) -> IndexResult:
    groups = []
    for group in index.groups.prefetch_related("indicators").order_by("position", "code"):
        rows = []
        for row in sorted(group.indicators.all(), key=lambda r: (r.position, r.code)):
            if not row.is_active:
                continue
            indicator = indicators.get(row.formula)
            value = compute_value(indicator, facts)
            rows.append(RowResult(row, indicator, value, score_row(row, value)))
        groups.append(GroupResult(group, rows))
    return IndexResult(index, groups)


def find_row(index: ServiceIndex, code: str) -> IndexIndicator:
    row = (
        IndexIndicator.objects.filter(group__index=index, code=code, is_active=True)
        .select_related("group")
        .first()
    )
    if row is None:
        raise NotFound(_("No indicator %(code)s in this index.") % {"code": code})
    return row


__all__ = [
    "NATIONAL_INDEX",
    "GroupResult",
    "IndexResult",
    "RowResult",
    "RowStatus",
    "compute_index",
    "compute_value",
    "find_row",
    "score_row",
    "service_index",
]
