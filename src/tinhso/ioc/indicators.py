"""The registry of indicators: each a code, a name, a definition a person can read in the UI
(numerator, denominator, what counts), its unit, which inputs it reads and the pure formula
that turns them into a value. The national service index's rows name their formula by
these codes, so a province can re-point a row without code changes.

`family` separates the operations centre's own indicators from those written for the index
766; every one of them can be computed on its own through the same API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tinhso.ioc import formulas as f
from tinhso.ioc.formulas import Unit, Value
from tinhso.ioc.scopes import ALL_KINDS, INTAKE_KINDS, ScopeKind

#: Scopes where the catalog's procedures are counted (a department or an official does not
#: implement procedures of its own).
CATALOG_KINDS = INTAKE_KINDS


class Family(StrEnum):
    OPERATIONS = "operations"
    INDEX_766 = "index766"


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Input(StrEnum):
    """The input records a formula may read (loaded by `tinhso.ioc.facts.Facts`)."""

    FLOW = "flow"  # rollup counters summed over the period
    CATALOG = "catalog"  # the procedures of the scope, as the catalog is now
    PAYMENTS = "payments"  # bills and payments of dossiers received in the period
    OPEN_NOW = "open_now"  # open dossiers at the moment asked (dossier table)
    OPEN_AT_END = "open_at_end"  # dossiers open at the period's end, judged then
    RATINGS = "ratings"  # satisfaction ratings given in the period
    SYNC = "sync"  # the national portal's outbox messages
    IDENTITY = "identity"  # e-ID sign-ins and population-database look-ups


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    definition: Promise
    numerator: Promise | str
    denominator: Promise | str
    unit: Unit
    needs: tuple[Input, ...]
    formula: Callable[..., Value]
    source: Promise | str
    better: Better = Better.HIGHER
    levels: frozenset[ScopeKind] = ALL_KINDS
    family: Family = Family.OPERATIONS
    #: False: the platform does not hold the data; the formula says so and never guesses.
    held: bool = True
    #: True: measured at an instant (now, or the moment asked), not over the period.
    point_in_time: bool = False


REGISTRY: dict[str, Indicator] = {}


def register(indicator: Indicator) -> Indicator:
    if indicator.code in REGISTRY:
        raise ValueError(f"indicator {indicator.code} is registered twice")
    REGISTRY[indicator.code] = indicator
    return indicator


def get(code: str) -> Indicator | None:
    return REGISTRY.get(code)


DONE_IN_PERIOD = _("dossiers whose result was returned in the period (status done)")
RECEIVED_IN_PERIOD = _("dossiers received at the desk in the period")
PROCEDURES_IN_SCOPE = _(
    "procedures in force implemented by the scope's agencies (by agency kind or by name), "
    "as the catalog is today"
)

# --- operations --------------------------------------------------------------------------------

for _indicator in (
    Indicator(
        code="procedures_full_online",
        name=_("Procedures offered fully online"),
        definition=_(
            "Share of the procedures in force in the scope that can be done fully online "
            "(submit, pay and receive the result online)."
        ),
        numerator=_("procedures whose online availability is “fully online”"),
        denominator=PROCEDURES_IN_SCOPE,
        unit=Unit.PERCENT,
        needs=(Input.CATALOG,),
        formula=f.procedures_full_online,
        source=_("design §3.5; catalog"),
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="procedures_partial_online",
        name=_("Procedures offered partially online"),
        definition=_(
            "Share of the procedures in force in the scope offered online with some steps at "
            "the desk."
        ),
        numerator=_("procedures whose online availability is “partially online”"),
        denominator=PROCEDURES_IN_SCOPE,
        unit=Unit.PERCENT,
        needs=(Input.CATALOG,),
        formula=f.procedures_partial_online,
        source=_("design §3.5; catalog"),
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="procedures_online",
        name=_("Procedures with an online service (full or partial)"),
        definition=_(
            "Share of the procedures in force in the scope offered online, fully or partially."
        ),
        numerator=_("procedures offered fully or partially online"),
        denominator=PROCEDURES_IN_SCOPE,
        unit=Unit.PERCENT,
        needs=(Input.CATALOG,),
        formula=f.procedures_online,
        source=_("QĐ 766 indicator 3.1; design §3.5"),
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="online_procedures_used",
        name=_("Online procedures that received an online dossier"),
        definition=_(
            "Share of the procedures offered online (fully or partially) in the scope for "
            "which at least one dossier was submitted online in the period."
        ),
        numerator=_("online-capable procedures with at least one online submission"),
        denominator=_("procedures offered fully or partially online in the scope"),
        unit=Unit.PERCENT,
        needs=(Input.CATALOG,),
        formula=f.online_procedures_used,
        source=_("design §3.5"),
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="dossiers_received",
        name=_("Dossiers received"),
        definition=_(
            "Dossiers received at the desk in the period (a receipt with an appointment was "
            "issued), by every channel. Refused dossiers are not received."
        ),
        numerator=RECEIVED_IN_PERIOD,
        denominator="",
        unit=Unit.COUNT,
        needs=(Input.FLOW,),
        formula=f.dossiers_received,
        source=_("design §3.3"),
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="dossiers_done",
        name=_("Dossiers done"),
        definition=_(
            "Dossiers whose result (approval or rejection) was returned to the applicant in "
            "the period. Withdrawn and refused dossiers are not done."
        ),
        numerator=DONE_IN_PERIOD,
        denominator="",
        unit=Unit.COUNT,
        needs=(Input.FLOW,),
        formula=f.dossiers_done,
        source=_("design §3.3"),
    ),
    Indicator(
        code="dossiers_open",
        name=_("Open dossiers"),
        definition=_(
            "Dossiers not yet done, refused or withdrawn at the moment asked (waiting for "
            "reception, waiting for a supplement, in processing, transferred, suspended, or "
            "with a result waiting to be returned)."
        ),
        numerator=_("open dossiers now"),
        denominator="",
        unit=Unit.COUNT,
        needs=(Input.OPEN_NOW,),
        formula=f.dossiers_open,
        source=_("design §3.3"),
        point_in_time=True,
    ),
    Indicator(
        code="online_share",
        name=_("Dossiers submitted online"),
        definition=_("Share of the dossiers received in the period that were submitted online."),
        numerator=_("dossiers received in the period whose channel is online"),
        denominator=RECEIVED_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.online_share,
        source=_("design §3.5"),
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="on_time_rate",
        name=_("Dossiers done on time"),
        definition=_(
            "Share of the dossiers done in the period whose processing ended early or on "
            "time. End of processing is the approval or rejection; an apology with a new "
            "appointment, or more than one supplement request (a setting, on by default), "
            "makes a dossier late. Withdrawn dossiers are not counted."
        ),
        numerator=_("done dossiers classified early or on time"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.on_time_rate,
        source=_("design §3.3, §3.5"),
    ),
    Indicator(
        code="overdue_open",
        name=_("Overdue open dossiers"),
        definition=_(
            "Open dossiers past their deadline at the moment asked: the clock runs and the "
            "appointment has passed, or the clock stopped after the whole time was used."
        ),
        numerator=_("open dossiers classified overdue now"),
        denominator="",
        unit=Unit.COUNT,
        needs=(Input.OPEN_NOW,),
        formula=f.overdue_open,
        source=_("design §3.3, §3.5"),
        better=Better.LOWER,
        point_in_time=True,
    ),
    Indicator(
        code="due_soon",
        name=_("Dossiers due soon"),
        definition=_(
            "Open dossiers whose clock runs and that have at most the configured number of "
            "working days left (TINHSO_DUE_SOON_WORKING_DAYS, 1 by default) at the moment asked."
        ),
        numerator=_("open dossiers classified due soon now"),
        denominator="",
        unit=Unit.COUNT,
        needs=(Input.OPEN_NOW,),
        formula=f.due_soon,
        source=_("design §3.3"),
        better=Better.LOWER,
        point_in_time=True,
    ),
    Indicator(
        code="avg_processing_hours",
        name=_("Average processing time"),
        definition=_(
            "Mean working hours from reception to the end of processing of the dossiers done "
            "in the period, without the time the clock was stopped (waiting for the "
            "applicant's supplement, or suspended)."
        ),
        numerator=_("sum of the working hours the deadline clock ran"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.HOURS,
        needs=(Input.FLOW,),
        formula=f.avg_processing_hours,
        source=_("QĐ 766 indicator 2.2"),
        better=Better.LOWER,
    ),
    Indicator(
        code="online_payment_share",
        name=_("Dossiers paid online"),
        definition=_(
            "Among the dossiers received in the period that owe a fee (a bill above 0 đồng "
            "that was not cancelled or exempted), the share with at least one payment made "
            "online."
        ),
        numerator=_("those dossiers with an online payment"),
        denominator=_("dossiers received in the period with a fee to pay"),
        unit=Unit.PERCENT,
        needs=(Input.PAYMENTS,),
        formula=f.online_payment_share,
        source=_("QĐ 766 indicator 3.6; design §3.5"),
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="inputs_digitised_share",
        name=_("Dossiers with digitised input documents"),
        definition=_(
            "Share of the dossiers done in the period that have at least one submitted "
            "document and every submitted document digitised (a stored file)."
        ),
        numerator=_("done dossiers whose submitted documents are all digitised"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.inputs_digitised_share,
        source=_("design §3.4, §3.5"),
    ),
    Indicator(
        code="results_digitised_share",
        name=_("Dossiers with an electronic result"),
        definition=_(
            "Among the dossiers done in the period with an approval (a result is issued), the "
            "share whose result is attached as a stored file."
        ),
        numerator=_("approved done dossiers with a digitised result"),
        denominator=_("approved dossiers done in the period"),
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.results_digitised_share,
        source=_("QĐ 766 indicator 4.1; design §3.4"),
    ),
    Indicator(
        code="reuse_share",
        name=_("Dossiers reusing digitised data"),
        definition=_(
            "Share of the dossiers done in the period with at least one submitted document "
            "taken from earlier digitised data instead of a new upload."
        ),
        numerator=_("done dossiers with a reused document"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.reuse_share,
        source=_("QĐ 766 indicator 4.3; design §3.4"),
    ),
    Indicator(
        code="satisfaction_average",
        name=_("Average satisfaction rating"),
        definition=_(
            "Mean overall rating (1 to 5) of the ratings applicants gave in the period to "
            "their done dossiers."
        ),
        numerator=_("sum of the overall ratings"),
        denominator=_("ratings given in the period"),
        unit=Unit.SCORE,
        needs=(Input.RATINGS,),
        formula=f.satisfaction_average,
        source=_("design §3.5; portal ratings"),
    ),
    Indicator(
        code="satisfaction_share",
        name=_("Satisfied applicants"),
        definition=_("Share of the ratings given in the period with an overall rating of 4 or 5."),
        numerator=_("ratings of 4 or 5"),
        denominator=_("ratings given in the period"),
        unit=Unit.PERCENT,
        needs=(Input.RATINGS,),
        formula=f.satisfaction_share,
        source=_("design §3.5; portal ratings"),
    ),
    Indicator(
        code="supplement_rate",
        name=_("Dossiers with a supplement request"),
        definition=_(
            "Share of the dossiers that ended in the period (done, refused or withdrawn) for "
            "which the applicant was asked at least once to supplement."
        ),
        numerator=_("ended dossiers with at least one supplement request"),
        denominator=_("dossiers done, refused or withdrawn in the period"),
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.supplement_rate,
        source=_("design §3.3"),
        better=Better.LOWER,
    ),
    Indicator(
        code="refusal_rate",
        name=_("Dossiers refused at reception"),
        definition=_(
            "Share of the dossiers decided at the desk in the period that were refused at "
            "reception rather than received."
        ),
        numerator=_("dossiers refused at reception in the period"),
        denominator=_("dossiers received or refused at reception in the period"),
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.refusal_rate,
        source=_("design §3.3"),
        better=Better.LOWER,
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="rejection_rate",
        name=_("Dossiers rejected"),
        definition=_("Share of the dossiers done in the period whose outcome is a rejection."),
        numerator=_("done dossiers with a rejection"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.rejection_rate,
        source=_("design §3.3"),
        better=Better.LOWER,
    ),
):
    register(_indicator)


# --- formulas of the national service index (Quyết định 766/QĐ-TTg) ----------------------------


def _missing(code: str, name: Promise, why: Promise, unit: Unit = Unit.PERCENT) -> Indicator:
    """An index indicator whose data the platform does not hold: it reports "no data"."""
    return Indicator(
        code=code,
        name=name,
        definition=why,
        numerator="",
        denominator="",
        unit=unit,
        needs=(),
        formula=lambda: f.not_held(unit, str(why)),
        source=_("QĐ 766"),
        family=Family.INDEX_766,
        held=False,
    )


for _indicator in (
    _missing(
        "published_on_time",
        _("Procedures published on time"),
        _(
            "No data: the catalog does not hold the publishing decisions nor the dates the "
            "legal texts take effect (index 1.1)."
        ),
    ),
    _missing(
        "updated_on_time",
        _("Procedures updated and made public on time"),
        _(
            "No data: the catalog does not hold the publishing decisions nor when they were "
            "made public (index 1.2)."
        ),
    ),
    _missing(
        "procedures_complete",
        _("Procedures complete in their parts"),
        _(
            "No data: the catalog does not hold every part the index checks (sequence, "
            "method, subjects) (index 1.3)."
        ),
    ),
    Indicator(
        code="dossiers_synchronised",
        name=_("Dossiers synchronised to the national portal"),
        definition=_(
            "Share of the dossiers received in the period whose creation message to the "
            "national public-service portal was delivered by the outbox."
        ),
        numerator=_("received dossiers with a delivered “dossier.created” message"),
        denominator=RECEIVED_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.SYNC,),
        formula=f.dossiers_synchronised,
        source=_("QĐ 766 indicator 1.4"),
        family=Family.INDEX_766,
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="on_time_766",
        name=_("Dossiers processed early or on time (index 766)"),
        definition=_(
            "Index 2.1. Dossiers done in the period, dossiers withdrawn after reception in the "
            "period, and received dossiers still in processing at the period's end. Done and "
            "withdrawn ones count on time when their processing ended by the appointment "
            "(end of processing: the approval or rejection, else the withdrawal); the time "
            "waiting for the applicant does not count; an apology or more than one supplement "
            "request makes a dossier late. Open ones are judged at the period's end: within "
            "the deadline counts on time."
        ),
        numerator=_("done or withdrawn on time + open at the period's end within the deadline"),
        denominator=_(
            "done in the period + withdrawn after reception in the period + open at the "
            "period's end"
        ),
        unit=Unit.PERCENT,
        needs=(Input.FLOW, Input.OPEN_AT_END),
        formula=f.on_time_766,
        source=_("QĐ 766 indicator 2.1 and its on-time rules"),
        family=Family.INDEX_766,
    ),
    Indicator(
        code="full_online_dossiers",
        name=_("Dossiers submitted fully online"),
        definition=_(
            "Among the dossiers received in the period for procedures offered fully online "
            "(as the catalog is today), the share submitted online."
        ),
        numerator=_("those dossiers submitted online"),
        denominator=_("dossiers received in the period of fully-online procedures"),
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.full_online_dossiers,
        source=_("QĐ 766 indicator 3.2"),
        family=Family.INDEX_766,
        levels=INTAKE_KINDS,
    ),
    Indicator(
        code="online_dossiers_electronic",
        name=_("Online dossiers with an electronic result"),
        definition=_(
            "Share of the dossiers done in the period that were submitted online and, when a "
            "result was issued (approval), received it as a stored file."
        ),
        numerator=_("done online dossiers, rejected or with a digitised result"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.online_dossiers_electronic,
        source=_("QĐ 766 indicator 3.3"),
        family=Family.INDEX_766,
    ),
    Indicator(
        code="fee_procedures_online",
        name=_("Fee-bearing procedures payable online"),
        definition=_(
            "Among the procedures in the scope with a fee case above 0 đồng, the share offered "
            "online (fully or partially): every bill of such a dossier can be paid through the "
            "payment platform."
        ),
        numerator=_("fee-bearing procedures offered online"),
        denominator=_("fee-bearing procedures in the scope"),
        unit=Unit.PERCENT,
        needs=(Input.CATALOG,),
        formula=f.fee_procedures_online,
        source=_("QĐ 766 indicator 3.5a"),
        family=Family.INDEX_766,
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="fee_procedures_paid_online",
        name=_("Fee-bearing procedures with an online payment"),
        definition=_(
            "Among the procedures in the scope with a fee case above 0 đồng, the share for "
            "which at least one online payment was made in the period."
        ),
        numerator=_("fee-bearing procedures with an online payment in the period"),
        denominator=_("fee-bearing procedures in the scope"),
        unit=Unit.PERCENT,
        needs=(Input.CATALOG, Input.PAYMENTS),
        formula=f.fee_procedures_paid_online,
        source=_("QĐ 766 indicator 3.5b"),
        family=Family.INDEX_766,
        levels=CATALOG_KINDS,
    ),
    Indicator(
        code="dossiers_fully_digitised",
        name=_("Dossiers with digitised documents and result"),
        definition=_(
            "Share of the dossiers done in the period whose submitted documents are all "
            "digitised and, when approved, whose result is a stored file."
        ),
        numerator=_("done dossiers with every document and the result digitised"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.dossiers_fully_digitised,
        source=_("QĐ 766 indicator 4.2"),
        family=Family.INDEX_766,
    ),
    _missing(
        "certified_copies",
        _("Electronic certified copies from originals"),
        _("No data: certified copies from originals are not recorded yet (index 4.2b)."),
    ),
    Indicator(
        code="data_store_share",
        name=_("Dossiers connected to the personal data store"),
        definition=_(
            "Share of the dossiers done in the period with a document taken from the "
            "applicant's personal data store, or with a digitised result that went into it "
            "(the dossier has an owner's account)."
        ),
        numerator=_("done dossiers using or feeding the personal data store"),
        denominator=DONE_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.FLOW,),
        formula=f.data_store_share,
        source=_("QĐ 766 indicator 4.4"),
        family=Family.INDEX_766,
    ),
    _missing(
        "population_procedures",
        _("Procedures connected to the population database"),
        _(
            "No data: the catalog does not record which procedures are connected to the "
            "population database nor whose applicants are people (index 4.5a)."
        ),
    ),
    Indicator(
        code="population_dossiers",
        name=_("Dossiers using the population database"),
        definition=_(
            "Share of the dossiers received in the period whose owner signed in with the "
            "national e-ID, or for which a population-database look-up found the person."
        ),
        numerator=_("received dossiers with an e-ID owner or a successful look-up"),
        denominator=RECEIVED_IN_PERIOD,
        unit=Unit.PERCENT,
        needs=(Input.IDENTITY,),
        formula=f.population_dossiers,
        source=_("QĐ 766 indicator 4.5b"),
        family=Family.INDEX_766,
        levels=INTAKE_KINDS,
    ),
    _missing(
        "feedback_by_category",
        _("Feedback by category"),
        _("No data: citizen feedback is not held yet (index 5.1)."),
        Unit.COUNT,
    ),
    _missing(
        "feedback_on_time",
        _("Feedback handled on time"),
        _("No data: citizen feedback is not held yet (index 5.2)."),
    ),
    _missing(
        "feedback_satisfaction",
        _("Satisfaction with feedback handling"),
        _("No data: citizen feedback is not held yet (index 5.3)."),
    ),
    Indicator(
        code="dossier_handling_satisfaction",
        name=_("Satisfaction with dossier handling"),
        definition=_(
            "Index 5.4: 100 % minus the share of overdue dossiers (the complement of the "
            "index's on-time rate) minus the share of dossiers with a negative rating (1 or 2 "
            "of 5, given in the period, over the dossiers done in it). Partial: complaints are "
            "not held yet and are not subtracted."
        ),
        numerator=_("100 − overdue share − negative-rating share"),
        denominator="",
        unit=Unit.PERCENT,
        needs=(Input.FLOW, Input.OPEN_AT_END, Input.RATINGS),
        formula=f.dossier_handling_satisfaction,
        source=_("QĐ 766 indicator 5.4"),
        family=Family.INDEX_766,
    ),
):
    register(_indicator)


__all__ = ["REGISTRY", "Better", "Family", "Indicator", "Input", "get", "register"]
