"""Shapes of the operations centre's API. Numbers are rounded to two decimals; rates are
percentages (0–100)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class IndicatorOut(Schema):
    code: str
    family: str
    name: str
    definition: str
    numerator: str
    denominator: str
    unit: str = Field(..., description="percent, count, hours or score (a mean of 1–5)")
    better: str = Field(..., description="higher or lower")
    levels: list[str] = Field(..., description="the scope kinds where it has a meaning")
    point_in_time: bool
    held: bool = Field(..., description="false: the platform does not hold its data yet")
    source: str


class ScopeOut(Schema):
    kind: str
    id: int | None
    label: str


class PeriodOut(Schema):
    text: str
    kind: str
    first: date
    last: date


class ValueOut(Schema):
    value: float | None = Field(..., description="null when there is no data (see `missing`)")
    unit: str
    numerator: int | None
    denominator: int | None
    missing: str = Field(
        ..., description="'' or not_held, no_dossiers, not_applicable: why there is no value"
    )
    partial: bool = Field(..., description="computed from part of the data its definition asks")
    note: str


class IndicatorValueOut(ValueOut):
    code: str
    name: str
    better: str
    scope: ScopeOut
    period: PeriodOut
    at: datetime = Field(..., description="the instant point-in-time figures are taken at")


class BreakdownItemOut(ValueOut):
    scope: ScopeOut


class BreakdownOut(Schema):
    code: str
    name: str
    by: str
    scope: ScopeOut
    period: PeriodOut
    at: datetime
    items: list[BreakdownItemOut]


class DrillItemOut(Schema):
    """A dossier (or, for a catalog indicator, a procedure) behind an indicator."""

    kind: str
    code: str
    name: str
    procedure_code: str
    agency_code: str
    status: str
    channel: str
    received_at: datetime | None
    due_at: datetime | None
    returned_at: datetime | None
    timeliness: str


class DrilldownOut(Schema):
    kind: str = Field(..., description="dossiers, procedures or none")
    count: int
    items: list[DrillItemOut]


class IndexRowOut(ValueOut):
    code: str
    name: str
    formula: str
    points: float
    threshold: float | None
    status: str = Field(..., description="scored, monitored (0 points) or no_data")
    score: float | None
    rule: str


class IndexGroupOut(Schema):
    code: str
    name: str
    max_points: float
    available_points: float = Field(..., description="the points of the rows with data")
    score: float
    rows: list[IndexRowOut]


class IndexOut(Schema):
    code: str
    name: str
    scope: ScopeOut
    period: PeriodOut
    at: datetime
    score: float
    available_points: float
    max_points: float
    normalised: float | None = Field(
        ..., description="score × 100 ÷ available points (rows without data left out)"
    )
    groups: list[IndexGroupOut]


class TargetIn(Schema):
    indicator: str
    year: int
    value: float
    note: str = ""
    province_id: int | None = Field(None, description="default: your province")


class TargetProgressOut(Schema):
    indicator: str
    name: str
    year: int
    target: float
    unit: str
    better: str
    note: str
    value: float | None
    met: bool | None
    gap: float | None = Field(..., description="value − target, positive when better")


class TargetsOut(Schema):
    scope: ScopeOut
    year: int
    targets: list[TargetProgressOut]
