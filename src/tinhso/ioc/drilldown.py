"""What pulled an indicator down: the dossiers (or, for the catalog's indicators, the
procedures) that count in its denominator but not in its numerator — the late ones for the
on-time rate, the dossiers without an electronic result for 4.1, and so on. For an indicator
where lower is better (refusals, rejections, supplement requests) it is those in its
numerator; for a count, the dossiers counted.

Each list is built from the dossier table with the same definitions the rollups count by, so
its length is the denominator minus the numerator (tests hold them together)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from tinhso.catalog.models import FeeCase, OnlineAvailability, Procedure
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.states import OPEN_STATUSES, Channel, Outcome, Status, Timeliness
from tinhso.ioc.facts import Facts, overdue_q
from tinhso.ioc.models import DailyRollup

ON_TIME = (Timeliness.EARLY, Timeliness.ON_TIME)


@dataclass(frozen=True)
class Drilldown:
    """`kind` is "dossiers", "procedures" or "none" (nothing to list: the indicator has no
    data, or it is a plain count)."""

    kind: str
    queryset: QuerySet | None = None


NOTHING = Drilldown("none")


# --- document predicates (the same as the rollups' digitisation counters) -----------------------


def _has_document(**filters: object) -> Q:
    return Q(Exists(DossierDocument.objects.filter(dossier=OuterRef("pk"), **filters)))


def inputs_digitised_q() -> Q:
    return _has_document(kind=DocumentKind.INPUT) & ~_has_document(
        kind=DocumentKind.INPUT, is_digitised=False
    )


def result_digitised_q() -> Q:
    return Q(outcome=Outcome.APPROVED) & _has_document(kind=DocumentKind.RESULT, is_digitised=True)


def fully_digitised_q() -> Q:
    return inputs_digitised_q() & (~Q(outcome=Outcome.APPROVED) | result_digitised_q())


def reused_q() -> Q:
    return _has_document(kind=DocumentKind.INPUT, is_reused=True)


def data_store_q() -> Q:
    return _has_document(kind=DocumentKind.INPUT, reused_from__isnull=False) | (
        result_digitised_q() & Q(owner__isnull=False)
    )


# --- the dossiers each count is made of ---------------------------------------------------------


def done_in_period(facts: Facts) -> QuerySet[Dossier]:
    return facts.dossiers().filter(
        status=Status.DONE, returned_at__gte=facts.start, returned_at__lt=facts.end
    )


def ended_in_period(facts: Facts, status: str) -> QuerySet[Dossier]:
    return facts.dossiers().filter(status=status, ended_at__gte=facts.start, ended_at__lt=facts.end)


def _late_766(facts: Facts) -> Q:
    done_late = Q(status=Status.DONE, returned_at__gte=facts.start, returned_at__lt=facts.end) & ~Q(
        timeliness__in=ON_TIME
    )
    withdrawn_late = (
        Q(status=Status.WITHDRAWN, ended_at__gte=facts.start, ended_at__lt=facts.end)
        & Q(received_at__isnull=False)
        & ~Q(timeliness__in=ON_TIME)
    )
    return done_late | withdrawn_late | Q(pk__in=facts.open_at_end_late_ids())


def _fee_bill_q() -> Q:
    from tinhso.payments.models import Bill, BillStatus

    return Q(
        Exists(
            Bill.objects.filter(dossier=OuterRef("pk"), amount__gt=0).exclude(
                status__in=[BillStatus.CANCELLED, BillStatus.EXEMPTED]
            )
        )
    )


def _paid_online_q() -> Q:
    from tinhso.payments.models import Payment, PaymentMethod

    return Q(
        Exists(Payment.objects.filter(bill__dossier=OuterRef("pk"), method=PaymentMethod.ONLINE))
    )


def _procedures_paid_online(facts: Facts) -> QuerySet:
    from tinhso.payments.models import Payment, PaymentMethod

    return Payment.objects.filter(
        facts.scope.dossier_q("bill__dossier__"),
        method=PaymentMethod.ONLINE,
        paid_at__gte=facts.start,
        paid_at__lt=facts.end,
    ).values("bill__dossier__procedure_id")


def _dossiers(qs: QuerySet[Dossier], *order: str) -> Drilldown:
    return Drilldown("dossiers", qs.order_by(*(order or ("-pk",))))


def _procedures(qs: QuerySet[Procedure]) -> Drilldown:
    return Drilldown("procedures", qs.order_by("code"))


def _fee_bearing(facts: Facts) -> QuerySet[Procedure]:
    fees = FeeCase.objects.filter(procedure=OuterRef("pk"), amount__gt=0)
    return facts.scope.procedures().filter(Exists(fees))


ONLINE_LEVELS = (OnlineAvailability.FULL, OnlineAvailability.PARTIAL)

Builder = Callable[[Facts], Drilldown]

BUILDERS: dict[str, Builder] = {
    "procedures_full_online": lambda x: _procedures(
        x.scope.procedures().exclude(online=OnlineAvailability.FULL)
    ),
    "procedures_partial_online": lambda x: _procedures(
        x.scope.procedures().filter(online=OnlineAvailability.NONE)
    ),
    "procedures_online": lambda x: _procedures(
        x.scope.procedures().filter(online=OnlineAvailability.NONE)
    ),
    "online_procedures_used": lambda x: _procedures(
        x.scope.procedures()
        .filter(online__in=ONLINE_LEVELS)
        .exclude(
            pk__in=DailyRollup.objects.filter(
                x.scope.rollup_q(),
                day__gte=x.period.first,
                day__lte=x.period.last,
                channel=Channel.ONLINE,
                submitted__gt=0,
            ).values("procedure_id")
        )
    ),
    "dossiers_received": lambda x: _dossiers(x.received_in_period(), "received_at"),
    "dossiers_done": lambda x: _dossiers(done_in_period(x), "returned_at"),
    "dossiers_open": lambda x: _dossiers(
        x.dossiers().filter(status__in=OPEN_STATUSES), "due_at", "submitted_at"
    ),
    "online_share": lambda x: _dossiers(
        x.received_in_period().exclude(channel=Channel.ONLINE), "received_at"
    ),
    "on_time_rate": lambda x: _dossiers(
        done_in_period(x).exclude(timeliness__in=ON_TIME), "returned_at"
    ),
    "overdue_open": lambda x: _dossiers(
        x.dossiers().filter(Q(status__in=OPEN_STATUSES) & overdue_q(x.now)), "due_at"
    ),
    "due_soon": lambda x: _dossiers(x.dossiers().filter(pk__in=x.due_soon_ids()), "due_at"),
    "avg_processing_hours": lambda x: _dossiers(done_in_period(x), "-consumed_seconds"),
    "online_payment_share": lambda x: _dossiers(
        x.received_in_period().filter(_fee_bill_q()).exclude(_paid_online_q()), "received_at"
    ),
    "inputs_digitised_share": lambda x: _dossiers(
        done_in_period(x).exclude(inputs_digitised_q()), "returned_at"
    ),
    "results_digitised_share": lambda x: _dossiers(
        done_in_period(x).filter(outcome=Outcome.APPROVED).exclude(result_digitised_q()),
        "returned_at",
    ),
    "reuse_share": lambda x: _dossiers(done_in_period(x).exclude(reused_q()), "returned_at"),
    "satisfaction_average": lambda x: _dossiers(
        x.dossiers().filter(
            rating__created_at__gte=x.start, rating__created_at__lt=x.end, rating__overall__lt=4
        ),
        "rating__overall",
    ),
    "satisfaction_share": lambda x: _dossiers(
        x.dossiers().filter(
            rating__created_at__gte=x.start, rating__created_at__lt=x.end, rating__overall__lt=4
        ),
        "rating__overall",
    ),
    "supplement_rate": lambda x: _dossiers(
        (
            done_in_period(x)
            | ended_in_period(x, Status.REFUSED)
            | ended_in_period(x, Status.WITHDRAWN)
        ).filter(supplement_count__gt=0),
        "-supplement_count",
    ),
    "refusal_rate": lambda x: _dossiers(ended_in_period(x, Status.REFUSED), "ended_at"),
    "rejection_rate": lambda x: _dossiers(
        done_in_period(x).filter(outcome=Outcome.REJECTED), "returned_at"
    ),
    "dossiers_synchronised": lambda x: _dossiers(
        x.received_in_period().exclude(x.synchronised_q()), "received_at"
    ),
    "on_time_766": lambda x: _dossiers(x.dossiers().filter(_late_766(x)), "due_at"),
    "full_online_dossiers": lambda x: _dossiers(
        x.received_in_period()
        .filter(procedure__online=OnlineAvailability.FULL)
        .exclude(channel=Channel.ONLINE),
        "received_at",
    ),
    "online_dossiers_electronic": lambda x: _dossiers(
        done_in_period(x).exclude(
            Q(channel=Channel.ONLINE) & (Q(outcome=Outcome.REJECTED) | result_digitised_q())
        ),
        "returned_at",
    ),
    "fee_procedures_online": lambda x: _procedures(
        _fee_bearing(x).exclude(online__in=ONLINE_LEVELS)
    ),
    "fee_procedures_paid_online": lambda x: _procedures(
        _fee_bearing(x).exclude(pk__in=_procedures_paid_online(x))
    ),
    "dossiers_fully_digitised": lambda x: _dossiers(
        done_in_period(x).exclude(fully_digitised_q()), "returned_at"
    ),
    "data_store_share": lambda x: _dossiers(
        done_in_period(x).exclude(data_store_q()), "returned_at"
    ),
    "population_dossiers": lambda x: _dossiers(
        x.received_in_period().exclude(x.identity_q()), "received_at"
    ),
    "dossier_handling_satisfaction": lambda x: _dossiers(
        x.dossiers().filter(
            _late_766(x)
            | Q(
                rating__created_at__gte=x.start,
                rating__created_at__lt=x.end,
                rating__overall__lte=2,
            )
        ),
        "due_at",
    ),
}


def drilldown(code: str, facts: Facts) -> Drilldown:
    builder = BUILDERS.get(code)
    return builder(facts) if builder is not None else NOTHING


__all__ = [
    "BUILDERS",
    "NOTHING",
    "Drilldown",
    "data_store_q",
    "done_in_period",
    "drilldown",
    "fully_digitised_q",
    "inputs_digitised_q",
    "result_digitised_q",
    "reused_q",
]
