"""The indicators' arithmetic, as plain functions over small input records, and the index's
scoring rule. No database here: the loaders in `facts.py` fill the records, tests can build
them by hand.

Rates are exact fractions in percent (0–100) until they are shown, rounded half up to two
decimals; scoring uses the exact value, so rounding never moves a threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

TWO_PLACES = Decimal("0.01")


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    HOURS = "hours"
    SCORE = "score"  # a mean of 1–5 ratings


class Missing(StrEnum):
    """Why an indicator has no value (it is then not scored and out of the maximum)."""

    NOT_HELD = "not_held"  # the platform does not hold the data yet
    NO_DOSSIERS = "no_dossiers"  # nothing to count in the period: the denominator is 0
    NOT_APPLICABLE = "not_applicable"  # the indicator has no meaning at this scope


def to_decimal(value: Fraction, places: Decimal = TWO_PLACES) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        places, rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class Value:
    """An indicator's value: exact, with the counts it came from, or missing with a reason.
    A `partial` value is computed from part of the data its definition asks for (`note`
    says which part is missing)."""

    unit: Unit
    exact: Fraction | None = None
    numerator: int | None = None
    denominator: int | None = None
    missing: str = ""
    note: str = ""
    partial: bool = False

    @property
    def has_data(self) -> bool:
        return not self.missing and self.exact is not None

    @property
    def value(self) -> Decimal | None:
        return to_decimal(self.exact) if self.has_data else None  # type: ignore[arg-type]


def rate(numerator: int, denominator: int) -> Value:
    """numerator ÷ denominator in percent; no value when there is nothing to divide by."""
    if denominator <= 0:
        return Value(Unit.PERCENT, None, numerator, denominator, missing=Missing.NO_DOSSIERS)
    return Value(Unit.PERCENT, Fraction(100 * numerator, denominator), numerator, denominator)


def count(number: int) -> Value:
    return Value(Unit.COUNT, Fraction(number), number)


def hours(seconds: int, dossiers: int) -> Value:
    """Mean working hours per dossier."""
    if dossiers <= 0:
        return Value(Unit.HOURS, None, seconds, dossiers, missing=Missing.NO_DOSSIERS)
    return Value(Unit.HOURS, Fraction(seconds, 3600 * dossiers), seconds, dossiers)


def average(total: int, number: int, unit: Unit = Unit.SCORE) -> Value:
    if number <= 0:
        return Value(unit, None, total, number, missing=Missing.NO_DOSSIERS)
    return Value(unit, Fraction(total, number), total, number)


def not_held(unit: Unit, note: str) -> Value:
    return Value(unit, missing=Missing.NOT_HELD, note=note)


def not_applicable(unit: Unit) -> Value:
    return Value(unit, missing=Missing.NOT_APPLICABLE)


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Sums of the rollup counters over the period (`tinhso.ioc.models.COUNTERS`), plus the
    splits by channel and by the procedure's online level that some formulas need."""

    submitted: int = 0
    received: int = 0
    refused: int = 0
    done: int = 0
    done_early: int = 0
    done_on_time: int = 0
    done_late: int = 0
    done_approved: int = 0
    done_rejected: int = 0
    processing_seconds: int = 0
    withdrawn: int = 0
    withdrawn_received: int = 0
    withdrawn_on_time: int = 0
    ended_with_supplement: int = 0
    inputs_digitised: int = 0
    result_digitised: int = 0
    fully_digitised: int = 0
    reused: int = 0
    data_store: int = 0
    submitted_online: int = 0
    received_online: int = 0
    #: Done online dossiers with an electronic result, or rejected (no result is issued).
    done_online_electronic: int = 0
    #: Received dossiers of procedures offered fully online (as the catalog says now).
    received_full_online_procedure: int = 0
    received_online_full_online_procedure: int = 0

    @property
    def ended(self) -> int:
        return self.done + self.refused + self.withdrawn


@dataclass(frozen=True)
class Catalog:
    """Procedures in force that the scope's agencies implement (as the catalog is now)."""

    procedures: int = 0
    full_online: int = 0
    partial_online: int = 0
    #: Online-capable procedures with at least one online submission in the period.
    online_capable_used: int = 0
    fee_bearing: int = 0
    fee_bearing_online: int = 0

    @property
    def online(self) -> int:
        return self.full_online + self.partial_online


@dataclass(frozen=True)
class Payments:
    #: Dossiers received in the period with a fee bill above 0 that was not cancelled or
    #: exempted.
    dossiers_with_fees: int = 0
    #: … of which at least one bill was paid online (whenever).
    dossiers_paid_online: int = 0
    #: Fee-bearing procedures of the scope with an online payment made in the period.
    fee_procedures_paid_online: int = 0


@dataclass(frozen=True)
class OpenNow:
    """Open dossiers at one instant, by the desk's classification (`classify_open`)."""

    open: int = 0
    not_received: int = 0
    within: int = 0
    due_soon: int = 0
    overdue: int = 0
    paused: int = 0

    @classmethod
    def from_counts(
        cls, *, open: int, not_received: int, overdue: int, paused: int, due_soon: int
    ) -> OpenNow:
        """The open dossiers from their counts: those within their deadline are the rest."""
        within = open - not_received - overdue - paused - due_soon
        return cls(open, not_received, within, due_soon, overdue, paused)


@dataclass(frozen=True)
class OpenAtEnd:
    """Received dossiers whose processing had not ended when the period ended, and those of
    them still within their deadline then (no apology, at most one supplement request when
    that rule is on)."""

    open: int = 0
    within: int = 0
    late_ids: tuple[int, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Ratings:
    count: int = 0
    sum_overall: int = 0
    satisfied: int = 0  # overall 4 or 5
    negative: int = 0  # overall 1 or 2


@dataclass(frozen=True)
class Sync:
    received: int = 0
    synchronised: int = 0


@dataclass(frozen=True)
class Identity:
    received: int = 0
    verified: int = 0


# --- formulas -----------------------------------------------------------------------------------


def procedures_full_online(*, catalog: Catalog) -> Value:
    return rate(catalog.full_online, catalog.procedures)


def procedures_partial_online(*, catalog: Catalog) -> Value:
    return rate(catalog.partial_online, catalog.procedures)


def procedures_online(*, catalog: Catalog) -> Value:
    return rate(catalog.online, catalog.procedures)


def online_procedures_used(*, catalog: Catalog) -> Value:
    return rate(catalog.online_capable_used, catalog.online)


def dossiers_received(*, flow: Flow) -> Value:
    return count(flow.received)


def dossiers_done(*, flow: Flow) -> Value:
    return count(flow.done)


def dossiers_open(*, open_now: OpenNow) -> Value:
    return count(open_now.open)


def online_share(*, flow: Flow) -> Value:
    return rate(flow.received_online, flow.received)


def on_time_rate(*, flow: Flow) -> Value:
    return rate(flow.done_early + flow.done_on_time, flow.done)


def overdue_open(*, open_now: OpenNow) -> Value:
    return count(open_now.overdue)


def due_soon(*, open_now: OpenNow) -> Value:
    return count(open_now.due_soon)


def avg_processing_hours(*, flow: Flow) -> Value:
    return hours(flow.processing_seconds, flow.done)


def online_payment_share(*, payments: Payments) -> Value:
    return rate(payments.dossiers_paid_online, payments.dossiers_with_fees)


def inputs_digitised_share(*, flow: Flow) -> Value:
    return rate(flow.inputs_digitised, flow.done)


def results_digitised_share(*, flow: Flow) -> Value:
    return rate(flow.result_digitised, flow.done_approved)


def reuse_share(*, flow: Flow) -> Value:
    return rate(flow.reused, flow.done)


def satisfaction_average(*, ratings: Ratings) -> Value:
    return average(ratings.sum_overall, ratings.count)


def satisfaction_share(*, ratings: Ratings) -> Value:
    return rate(ratings.satisfied, ratings.count)


def supplement_rate(*, flow: Flow) -> Value:
    return rate(flow.ended_with_supplement, flow.ended)


def refusal_rate(*, flow: Flow) -> Value:
    return rate(flow.refused, flow.received + flow.refused)


def rejection_rate(*, flow: Flow) -> Value:
    return rate(flow.done_rejected, flow.done)


# --- the index's own formulas -------------------------------------------------------------------


def dossiers_synchronised(*, sync: Sync) -> Value:
    return rate(sync.synchronised, sync.received)


def on_time_766(*, flow: Flow, open_at_end: OpenAtEnd) -> Value:
    """Index 2.1: (done early or on time + withdrawn after reception before the deadline +
    open at the period's end and within deadline) ÷ (done + withdrawn after reception + open
    at the period's end)."""
    on_time = flow.done_early + flow.done_on_time + flow.withdrawn_on_time + open_at_end.within
    return rate(on_time, flow.done + flow.withdrawn_received + open_at_end.open)


def full_online_dossiers(*, flow: Flow) -> Value:
    return rate(flow.received_online_full_online_procedure, flow.received_full_online_procedure)


def online_dossiers_electronic(*, flow: Flow) -> Value:
    return rate(flow.done_online_electronic, flow.done)


def fee_procedures_online(*, catalog: Catalog) -> Value:
    return rate(catalog.fee_bearing_online, catalog.fee_bearing)


def fee_procedures_paid_online(*, catalog: Catalog, payments: Payments) -> Value:
    return rate(payments.fee_procedures_paid_online, catalog.fee_bearing)


def dossiers_fully_digitised(*, flow: Flow) -> Value:
    return rate(flow.fully_digitised, flow.done)


def data_store_share(*, flow: Flow) -> Value:
    return rate(flow.data_store, flow.done)


def population_dossiers(*, identity: Identity) -> Value:
    return rate(identity.verified, identity.received)


COMPLAINTS_NOT_HELD = _(
    "Complaints about dossiers are not held yet (the feedback module comes later): only "
    "overdue dossiers and negative ratings are subtracted."
)


def dossier_handling_satisfaction(*, flow: Flow, open_at_end: OpenAtEnd, ratings: Ratings) -> Value:
    """Index 5.4: 100 % − (share of overdue dossiers + share of dossiers with a complaint or
    a negative rating). The overdue share is the complement of 2.1; negative ratings (1 or 2
    of 5) given in the period are counted against the dossiers done in it."""
    on_time = on_time_766(flow=flow, open_at_end=open_at_end)
    if not on_time.has_data:
        return Value(Unit.PERCENT, missing=Missing.NO_DOSSIERS, partial=True)
    overdue_share = 100 - on_time.exact  # type: ignore[operator]
    negative_share = Fraction(100 * ratings.negative, flow.done) if flow.done else Fraction(0)
    result = max(Fraction(0), 100 - overdue_share - negative_share)
    return Value(Unit.PERCENT, result, partial=True, note=str(COMPLAINTS_NOT_HELD))


# --- scoring ------------------------------------------------------------------------------------


def score_rate(
    rate_percent: Fraction, points: Decimal | int, threshold: Decimal | None
) -> Fraction:
    """Index 766's rule: with a threshold T and maximum P, a rate R ≥ T scores P, otherwise
    R × P ÷ T; without a threshold, R × P (R as a fraction of 1)."""
    p = Fraction(points)
    if threshold is not None:
        t = Fraction(threshold)
        return p if rate_percent >= t else rate_percent * p / t
    return rate_percent * p / 100
