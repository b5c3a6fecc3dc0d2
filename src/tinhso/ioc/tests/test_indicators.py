"""Indicators on hand-built dossiers, with every number worked out by hand in the test.

Agency A's procedure takes 3 working days; office hours 07:30–11:30 and 13:00–17:00 (8 h a
day). A dossier received Monday 2 March 2026 07:30 is due Wednesday 4 March 17:00."""

from __future__ import annotations

from decimal import Decimal

from tinhso.dossiers import services
from tinhso.dossiers.selectors import open_timeliness
from tinhso.dossiers.states import OpenTimeliness, Status, Timeliness
from tinhso.ioc.formulas import Missing
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import Scope, ScopeKind

from .conftest import APRIL_10, MON, vn

DUE = vn(2026, 3, 4, 17, 0)


def pct(value) -> Decimal:
    return value.value


# --- the on-time classification at its boundaries ----------------------------------------------


def test_early_on_time_and_late_at_the_exact_deadline(ops):
    early = ops.done(MON, vn(2026, 3, 3, 10, 0))  # a day before the deadline's day
    same_day = ops.done(MON, vn(2026, 3, 4, 8, 0))  # the deadline's day, before it
    exact = ops.done(MON, DUE)  # at the deadline itself
    late = ops.done(MON, vn(2026, 3, 4, 17, 0, 1))  # one second after
    assert [d.timeliness for d in (early, same_day, exact, late)] == [
        Timeliness.EARLY,
        Timeliness.ON_TIME,
        Timeliness.ON_TIME,
        Timeliness.LATE,
    ]
    value = ops.value("on_time_rate")
    assert (value.numerator, value.denominator) == (3, 4)
    assert value.value == Decimal("75.00")
    # Average working hours: 10.5 (Mon 8 + Tue 2.5), 16.5, 24, 24 (nothing after 17:00).
    hours = ops.value("avg_processing_hours")
    assert hours.value == Decimal("18.75")
    assert hours.numerator == (75 * 3600) and hours.denominator == 4
    assert ops.value("dossiers_done").value == 4
    assert [d.code for d in ops.behind("on_time_rate").queryset] == [late.code]


def test_a_dossier_counts_in_the_period_its_result_was_returned(ops):
    # Approved on time on 31 March, returned on 1 April: done in April, not in March.
    dossier = ops.process(vn(2026, 3, 30, 7, 30))
    dossier = ops.approve(dossier, vn(2026, 3, 31, 9, 0))
    ops.give_back(dossier, vn(2026, 4, 1, 8, 0))
    assert ops.value("dossiers_done").value == 0
    april = Period.month(2026, 4)
    assert ops.value("dossiers_done", april).value == 1
    assert ops.value("on_time_rate", april).value == Decimal("100.00")


def test_time_waiting_for_a_supplement_is_not_counted(ops):
    dossier = ops.receive(MON)
    # 4 h used by Monday 11:30, when the desk asks for a missing document.
    dossier = ops.request_supplement(dossier, vn(2026, 3, 2, 11, 30))
    # The applicant brings it Thursday 07:30: 20 h left → Thu 8 + Fri 8 + Mon 9 March 4.
    dossier = ops.supplement(dossier, vn(2026, 3, 5, 7, 30))
    assert dossier.due_at == vn(2026, 3, 9, 11, 30)
    dossier = services.dossier_assign(
        actor=ops.desk.department_leader,
        dossier=dossier,
        department=ops.desk.department,
        at=vn(2026, 3, 5, 7, 30),
    )
    # Approved Friday 15:00: after the first appointment, before the moved one → early.
    dossier = ops.give_back(ops.approve(dossier, vn(2026, 3, 6, 15, 0)), vn(2026, 3, 6, 15, 0))
    assert dossier.timeliness == Timeliness.EARLY
    assert ops.value("on_time_rate").value == Decimal("100.00")
    # Processing time: 4 h Monday + 8 h Thursday + 6 h Friday = 18 h; the pause is left out.
    assert ops.value("avg_processing_hours").value == Decimal("18.00")
    assert ops.value("supplement_rate").value == Decimal("100.00")


def test_a_second_supplement_request_makes_it_late_unless_the_setting_is_off(ops, settings):
    first = ops.receive(MON)
    second = ops.receive(MON)
    for dossier in (first, second):
        for day in (2, 3):
            dossier = ops.request_supplement(dossier, vn(2026, 3, day, 8, 0))
            dossier = ops.supplement(dossier, vn(2026, 3, day, 9, 0))
        dossier = services.dossier_assign(
            actor=ops.desk.department_leader,
            dossier=dossier,
            department=ops.desk.department,
            at=vn(2026, 3, 3, 9, 0),
        )
        dossier = ops.approve(dossier, vn(2026, 3, 3, 10, 0))
        if dossier.pk == second.pk:
            settings.TINHSO_LATE_AFTER_SECOND_SUPPLEMENT = False
        ops.give_back(dossier, vn(2026, 3, 3, 10, 0))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.timeliness == Timeliness.LATE  # default: more than one request → late
    assert second.timeliness == Timeliness.EARLY  # the province switched the rule off
    value = ops.value("on_time_rate")
    assert (value.numerator, value.denominator) == (1, 2)


def test_an_apology_counts_late_even_within_the_new_appointment(ops):
    dossier = ops.process(MON)
    dossier = services.dossier_apologize(
        actor=ops.desk.agency_leader,
        dossier=dossier,
        new_due_at=vn(2026, 3, 6, 17, 0),
        reason="Cần xác minh",
        at=vn(2026, 3, 4, 10, 0),
    )
    ops.give_back(ops.approve(dossier, vn(2026, 3, 5, 9, 0)), vn(2026, 3, 5, 9, 0))
    assert ops.value("on_time_rate").value == Decimal("0.00")


def test_a_transferred_dossier_counts_for_the_receiving_agency(ops):
    world = ops.world
    dossier = ops.process(MON)
    dossier = services.dossier_transfer(
        actor=ops.desk.specialist,
        dossier=dossier,
        to_agency=world.department_agency,
        reason="Xin ý kiến Sở Tư pháp",
        at=vn(2026, 3, 2, 9, 0),
    )
    dossier = services.dossier_transfer_return(
        actor=world.specialist_dept, dossier=dossier, at=vn(2026, 3, 3, 9, 0)
    )
    ops.give_back(ops.approve(dossier, vn(2026, 3, 3, 10, 0)), vn(2026, 3, 3, 10, 0))
    assert ops.value("dossiers_done").value == 1
    assert ops.value("on_time_rate").value == Decimal("100.00")
    other = Scope(ScopeKind.AGENCY, world.department_agency.pk)
    assert ops.value("dossiers_done", scope=other).value == 0
    assert ops.value("on_time_rate", scope=other).missing == Missing.NO_DOSSIERS
    province = Scope(ScopeKind.PROVINCE, world.province.pk)
    assert ops.value("dossiers_done", scope=province).value == 1


def test_withdrawn_and_refused_dossiers(ops):
    ops.done(MON, vn(2026, 3, 3, 10, 0))  # early
    received = ops.receive(MON)
    ops.withdraw(received, vn(2026, 3, 3, 9, 0))  # after reception, before the deadline
    ops.withdraw(ops.submit(MON), vn(2026, 3, 2, 10, 0))  # before reception
    ops.refuse(ops.submit(MON), vn(2026, 3, 2, 9, 0))
    # The desk's on-time rate is over done dossiers only: withdrawn ones are not done.
    assert ops.value("on_time_rate").denominator == 1
    # Index 2.1 adds the dossier withdrawn after reception (on time), not the one before.
    index = ops.value("on_time_766")
    assert (index.numerator, index.denominator) == (2, 2)
    # Refusals: 1 refused against 2 received (the done one and the withdrawn one).
    refusal = ops.value("refusal_rate")
    assert (refusal.numerator, refusal.denominator) == (1, 3)
    assert ops.value("dossiers_received").value == 2
    behind = ops.behind("refusal_rate").queryset
    assert [d.status for d in behind] == [Status.REFUSED]


# --- index 2.1: open dossiers judged at the period's end -------------------------------------


def test_index_on_time_judges_open_dossiers_at_the_period_end(ops, march):
    # Judged in April (the period is over): from the events up to 31 March.
    value = ops.value("on_time_766", at=APRIL_10)
    # (4 done on time + 1 withdrawn on time + 2 open within) ÷ (5 + 1 + 4) = 70 %.
    assert (value.numerator, value.denominator) == (7, 10)
    assert value.value == Decimal("70.00")
    late = {d.code for d in ops.behind("on_time_766", at=APRIL_10).queryset}
    assert len(late) == 10 - 7
    assert {march["overdue"].code, march["apologised"].code} <= late
    assert march["within"].code not in late  # overdue now, but within at 31 March


def test_index_on_time_while_the_period_runs_reads_the_dossiers_as_they_are(ops, march):
    # On 31 March at noon the same dossiers give the same answer, from the dossier table.
    value = ops.value("on_time_766", at=vn(2026, 3, 31, 12, 0))
    assert (value.numerator, value.denominator) == (7, 10)
    assert len(ops.behind("on_time_766", at=vn(2026, 3, 31, 12, 0)).queryset) == 3


def test_open_dossiers_now_agree_with_the_desk_classification(ops, march):
    for at, expected in (
        (APRIL_10, {"overdue": 2, "paused": 1, "within": 1, "due_soon": 0}),
        # Thursday 2 April 09:00: the dossier due that day at 17:00 has 6.5 h left.
        (vn(2026, 4, 2, 9, 0), {"overdue": 1, "paused": 1, "within": 1, "due_soon": 1}),
    ):
        counts = {
            "overdue": ops.value("overdue_open", at=at).value,
            "due_soon": ops.value("due_soon", at=at).value,
        }
        desk_view = [open_timeliness(d, at=at) for d in march.values()]
        assert counts["overdue"] == desk_view.count(OpenTimeliness.OVERDUE) == expected["overdue"]
        assert counts["due_soon"] == desk_view.count(OpenTimeliness.DUE_SOON)
        assert counts["due_soon"] == expected["due_soon"]
        assert desk_view.count(OpenTimeliness.PAUSED) == expected["paused"]
        assert ops.value("dossiers_open", at=at).value == 4
        overdue_codes = {d.code for d in ops.behind("overdue_open", at=at).queryset}
        assert len(overdue_codes) == expected["overdue"]


def test_channel_and_reception_counts(ops, march):
    # Received in March: 5 done + 1 withdrawn + 4 open = 10, one of them at the desk.
    received = ops.value("dossiers_received")
    assert received.value == 10
    share = ops.value("online_share")
    assert (share.numerator, share.denominator) == (9, 10)
    # The procedure is fully online: index 3.2 is the same share.
    assert ops.value("full_online_dossiers").value == Decimal("90.00")
    assert len(ops.behind("online_share").queryset) == 1


# --- digitisation, payments, ratings -----------------------------------------------------------


def test_digitisation_and_reuse_shares(ops):
    world = ops.world
    first = ops.done(
        MON,
        vn(2026, 3, 3, 10, 0),
        result=True,
        documents=ops.documents("Tờ khai", "Giấy chứng sinh"),
        owner=world.citizen,
    )
    ops.done(
        MON,
        vn(2026, 3, 3, 10, 0),
        documents=[*ops.documents("Tờ khai"), services.SubmittedDocument(name="Giấy chứng sinh")],
    )
    earlier = first.documents.filter(kind="input").first()
    ops.done(
        MON,
        vn(2026, 3, 3, 10, 0),
        reject=True,
        documents=[services.SubmittedDocument(name="Tờ khai", reused_from=earlier)],
    )
    # 3 done: inputs all digitised in the first and the third (reused from a digitised one).
    checks = {
        "inputs_digitised_share": (2, 3),
        "results_digitised_share": (1, 2),  # the 2 approved; the first has a result file
        "dossiers_fully_digitised": (2, 3),  # the rejected one needs no result
        "reuse_share": (1, 3),
        "data_store_share": (2, 3),  # owner + result file; a reused document
        "online_dossiers_electronic": (2, 3),  # the approved one without a file is not
    }
    for code, (numerator, denominator) in checks.items():
        value = ops.value(code)
        assert (value.numerator, value.denominator) == (numerator, denominator), code
        behind = ops.behind(code).queryset
        assert behind.count() == denominator - numerator, code
    # Lower is better for rejections: what pulls the rate the wrong way is the rejected one.
    assert ops.value("rejection_rate").value == Decimal("33.33")
    assert [d.outcome for d in ops.behind("rejection_rate").queryset] == ["rejected"]


def test_online_payment_among_dossiers_with_fees(ops):
    from tinhso.payments import services as payments
    from tinhso.payments.tests.factories import fee_cases, notification

    world = ops.world
    fee_cases(ops.desk.procedure)
    paid_online = ops.receive(MON, owner=world.citizen)
    paid_cash = ops.receive(MON)
    withdrawn = ops.receive(MON)
    at = vn(2026, 3, 3, 9, 0)
    order = payments.order_create(
        actor=world.citizen,
        bill=paid_online.bills.get(),
        return_url="http://testserver/portal/payments/return",
        notify_url="http://testserver/api/v1/payments/notify",
        at=at,
    )
    result = payments.notification_handle(fields=notification(order, at=at), at=at)
    assert result.accepted, result
    bill = paid_cash.bills.get()
    payments.bill_record_cash(actor=ops.desk.desk, bill=bill, amount=bill.amount, at=at)
    ops.withdraw(withdrawn, at)  # its unpaid bill is cancelled: no fee is owed any more
    value = ops.value("online_payment_share")
    assert (value.numerator, value.denominator) == (1, 2)
    assert [d.pk for d in ops.behind("online_payment_share").queryset] == [paid_cash.pk]
    assert ops.value("fee_procedures_online").value == Decimal("100.00")
    assert ops.value("fee_procedures_paid_online").value == Decimal("100.00")
    assert ops.value("fee_procedures_paid_online", Period.month(2026, 4)).value == 0


def test_satisfaction_from_the_portal_ratings(ops):
    from django.utils import timezone

    from tinhso.portal.aftercare import RATING_CRITERIA, rating_submit

    world = ops.world
    now = timezone.now()
    for overall in (5, 4, 2):
        dossier = ops.done(MON, vn(2026, 3, 3, 10, 0), owner=world.citizen)
        rating_submit(
            actor=world.citizen,
            dossier=dossier,
            scores={key: overall for key, _label in RATING_CRITERIA},
        )
    this_month = Period.containing("month", timezone.localdate(now))
    average = ops.value("satisfaction_average", this_month, at=now)
    assert average.value == Decimal("3.67")  # (5 + 4 + 2) ÷ 3
    share = ops.value("satisfaction_share", this_month, at=now)
    assert (share.numerator, share.denominator) == (2, 3)
    assert ops.behind("satisfaction_share", this_month, at=now).queryset.count() == 1


# --- the catalog --------------------------------------------------------------------------------


def test_procedure_shares_count_the_scopes_procedures(ops):
    from tinhso.catalog.models import Procedure

    procedure = ops.desk.procedure  # commune committees, fully online
    Procedure.objects.create(
        code="2.000001",
        name="Chứng thực bản sao",
        field=procedure.field,
        level="commune",
        agency_kinds=["commune_committee"],
        processing_days=1,
        online="partial",
    )
    Procedure.objects.create(
        code="2.000002",
        name="Cấp phiếu lý lịch tư pháp",
        field=procedure.field,
        level="province",
        agency_kinds=["provincial_department"],
        processing_days=10,
        online="none",
    )
    ops.done(MON, vn(2026, 3, 3, 10, 0))  # an online dossier of the fully-online procedure
    commune = Scope(ScopeKind.AGENCY, ops.world.agency_a.pk)
    assert ops.value("procedures_full_online", scope=commune).numerator == 1
    assert ops.value("procedures_full_online", scope=commune).denominator == 2
    assert ops.value("procedures_online", scope=commune).value == Decimal("100.00")
    used = ops.value("online_procedures_used", scope=commune)
    assert (used.numerator, used.denominator) == (1, 2)
    province = Scope(ScopeKind.PROVINCE, ops.world.province.pk)
    online = ops.value("procedures_online", scope=province)
    assert (online.numerator, online.denominator) == (2, 3)
    behind = ops.behind("procedures_online", scope=province)
    assert behind.kind == "procedures"
    assert [p.code for p in behind.queryset] == ["2.000002"]
    # A department implements no procedure of its own: not applicable there.
    department = Scope(ScopeKind.DEPARTMENT, ops.desk.department.pk)
    assert ops.value("procedures_online", scope=department).missing == Missing.NOT_APPLICABLE


def test_department_and_official_scopes_follow_the_handler(ops):
    dossier = ops.done(MON, vn(2026, 3, 3, 10, 0))
    assert dossier.assignee_id == ops.desk.specialist.pk
    official = Scope(ScopeKind.OFFICIAL, ops.desk.specialist.pk)
    other = Scope(ScopeKind.OFFICIAL, ops.desk.other_specialist.pk)
    department = Scope(ScopeKind.DEPARTMENT, ops.desk.department.pk)
    assert ops.value("dossiers_done", scope=official).value == 1
    assert ops.value("dossiers_done", scope=other).value == 0
    assert ops.value("on_time_rate", scope=department).value == Decimal("100.00")
    # Reception is the desk's: not attributed to a department.
    assert ops.value("dossiers_received", scope=department).missing == Missing.NOT_APPLICABLE


def test_indicators_without_data_say_so(ops):
    for code in ("published_on_time", "certified_copies", "feedback_on_time"):
        value = ops.value(code)
        assert value.value is None and value.missing == Missing.NOT_HELD and value.note
        assert ops.behind(code).kind == "none"
