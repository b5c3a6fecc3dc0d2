"""The officials' side of payments: the fees panel on the dossier page and its actions, the
bills list, refunds waiting for approval, reconciliations and the gateway's notification log,
each with its refusals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tinhso.catalog.models import Procedure
from tinhso.core.models import AuditRecord, User
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk
from tinhso.payments import services
from tinhso.payments.models import (
    Bill,
    BillStatus,
    GatewayNotification,
    Payment,
    ReconciliationRun,
    ReconciliationStatus,
    Refund,
    RefundStatus,
)

from .factories import (
    COPY_FEE,
    FEE,
    LEGAL_BASIS,
    Cases,
    billed,
    fee_cases,
    notification,
    order_for,
    pay_cash,
)

desk = dossier_fixtures.desk  # the dossier personas, shared


def _vi(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _fresh(bill: Bill) -> Bill:
    return Bill.objects.get(pk=bill.pk)


@pytest.fixture
def cases(desk: Desk) -> Cases:
    return fee_cases(desk.procedure)


@pytest.fixture
def bill(desk: Desk, cases: Cases) -> Bill:
    return billed(desk)


def _page(client, user, bill: Bill) -> str:
    client.force_login(user)
    response = client.get(reverse("dossiers:detail", args=[bill.dossier_id]))
    assert response.status_code == 200
    return response.content.decode()


def _post(client, name: str, arg: Any, **data: Any):
    return client.post(reverse(f"payments:{name}", args=[arg]), data, follow=True)


# --- the panel ----------------------------------------------------------------------------------


def test_the_desk_officer_sees_the_bill_with_its_actions(client, desk, bill, cases):
    page = _page(client, desk.desk, bill)
    assert 'id="fees"' in page and bill.number in page
    assert "50.000 đ" in page and "Lệ phí đăng ký khai sinh" in page and LEGAL_BASIS in page
    assert timezone.localtime(bill.expires_at).strftime("%d/%m/%Y") in page
    assert reverse("payments:bill_cash", args=[bill.number]) in page
    assert reverse("payments:bill_exempt", args=[bill.number]) in page
    assert reverse("payments:bill_fee_case", args=[bill.number]) in page
    assert (
        'name="amount" type="number" min="0" step="1" inputmode="numeric" required value="50000"'
        in page
    )
    for case in (cases.paying, cases.free, cases.copy):
        assert f'<option value="{case.pk}"' in page
    assert f'name="expected_version" value="{bill.version}"' in page


def test_a_specialist_sees_the_bill_without_the_actions(client, desk, bill):
    page = _page(client, desk.specialist, bill)
    assert bill.number in page and "50.000 đ" in page
    assert reverse("payments:bill_cash", args=[bill.number]) not in page
    assert reverse("payments:bill_exempt", args=[bill.number]) not in page
    assert reverse("payments:bill_fee_case", args=[bill.number]) not in page


def test_a_dossier_without_a_fee_shows_no_panel(client, desk):
    dossier = desk.submit(timezone.now())
    client.force_login(desk.desk)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert 'id="fees"' not in page


def test_a_paid_bill_shows_its_payment_and_receipt_link(client, desk, bill):
    payment = pay_cash(desk, bill)
    page = _page(client, desk.desk, bill)
    assert reverse("payments:receipt_pdf", args=[payment.receipt_number]) in page
    assert reverse("payments:bill_cash", args=[bill.number]) not in page
    assert reverse("payments:refund_request", args=[payment.receipt_number]) in page
    assert 'max="50000"' in page


def test_orders_and_flagged_payments_show_on_the_panel(client, desk, bill):
    order = order_for(bill)
    services.bill_exempt(actor=desk.desk, bill=bill, reason="Hộ nghèo")
    services.notification_handle(fields=notification(order))  # came after the exemption
    page = _page(client, desk.agency_leader, bill)
    assert order.order_id in page
    assert _vi("To be refunded") in page or "To be refunded" in page
    refund = Refund.objects.get()
    # Asked by the system, so any agency leader of the agency may decide it.
    assert reverse("payments:refund_approve", args=[refund.pk]) in page


def test_a_cash_payment_reads_in_words_in_the_audit_trail(desk, bill):
    from django.utils.text import capfirst

    from tinhso.core.audit_display import field_changes

    payment = pay_cash(desk, bill)
    record = AuditRecord.objects.get(action="bill.paid")
    with translation.override("vi"):
        changes = {c.label: (c.before, c.after) for c in field_changes(record)}
        method, receipt = capfirst(_vi("payment method")), capfirst(_vi("receipt number"))
    assert changes[method] == ("—", _vi("Cash at the desk"))  # the method's words, not "cash"
    assert changes[receipt] == ("—", payment.receipt_number)
    settled = timezone.localtime(_fresh(bill).settled_at).strftime("%d/%m/%Y %H:%M")
    assert settled in [after for _before, after in changes.values()]  # not an ISO string


# --- the actions --------------------------------------------------------------------------------


def test_the_desk_records_cash_from_the_panel(client, desk, bill):
    client.force_login(desk.desk)
    response = _post(client, "bill_cash", bill.number, amount="50.000", expected_version=1)
    assert response.redirect_chain[-1][0].startswith(
        reverse("dossiers:detail", args=[bill.dossier_id])
    )
    payment = Payment.objects.get()
    assert _fresh(bill).status == BillStatus.PAID and payment.recorded_by == desk.desk
    assert any(payment.receipt_number in m for m in _messages(response))


def test_cash_of_the_wrong_amount_is_refused_with_the_reason(client, desk, bill):
    client.force_login(desk.desk)
    response = _post(client, "bill_cash", bill.number, amount="40000", expected_version=1)
    assert not Payment.objects.exists()
    (message,) = response.context["messages"]
    assert message.level_tag == "error" and "50.000" in str(message)


def test_cash_with_a_stale_form_is_a_conflict(client, desk, bill):
    client.force_login(desk.desk)
    response = _post(client, "bill_cash", bill.number, amount=FEE, expected_version=0)
    assert not Payment.objects.exists()
    (message,) = response.context["messages"]
    assert "conflict" in message.tags


def test_a_specialist_cannot_record_cash(client, desk, bill):
    client.force_login(desk.specialist)
    response = _post(client, "bill_cash", bill.number, amount=FEE, expected_version=1)
    assert not Payment.objects.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_commune_b_cannot_reach_commune_as_bill(client, desk, bill):
    client.force_login(desk.world.desk_b)
    for name, data in (
        ("bill_cash", {"amount": FEE, "expected_version": 1}),
        ("bill_exempt", {"reason": "x", "expected_version": 1}),
        ("bill_fee_case", {"fee_case": 1, "expected_version": 1}),
    ):
        assert client.post(reverse(f"payments:{name}", args=[bill.number]), data).status_code == 404
    assert _fresh(bill).status == BillStatus.UNPAID and not Payment.objects.exists()


def test_citizens_are_turned_away_from_the_desk_actions(client, desk, bill):
    client.force_login(desk.world.citizen)
    url = reverse("payments:bill_cash", args=[bill.number])
    assert client.post(url, {"amount": FEE, "expected_version": 1}).status_code == 403
    assert client.get(reverse("payments:bill_list")).status_code == 403


def test_the_actions_are_post_only(client, desk, bill):
    client.force_login(desk.desk)
    assert client.get(reverse("payments:bill_cash", args=[bill.number])).status_code == 405


def test_exemption_needs_a_reason(client, desk, bill):
    client.force_login(desk.desk)
    response = _post(client, "bill_exempt", bill.number, reason=" ", expected_version=1)
    assert _fresh(bill).status == BillStatus.UNPAID
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    response = _post(client, "bill_exempt", bill.number, reason="Hộ nghèo", expected_version=1)
    assert _fresh(bill).status == BillStatus.EXEMPTED
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_choosing_the_free_case_exempts(client, desk, bill, cases):
    client.force_login(desk.desk)
    response = _post(
        client, "bill_fee_case", bill.number, fee_case=cases.free.pk, expected_version=1
    )
    fresh = _fresh(bill)
    assert fresh.status == BillStatus.EXEMPTED and fresh.amount == 0
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_choosing_another_paying_case_changes_the_amount(client, desk, bill, cases):
    client.force_login(desk.desk)
    _post(client, "bill_fee_case", bill.number, fee_case=cases.copy.pk, expected_version=1)
    assert _fresh(bill).amount == COPY_FEE and _fresh(bill).status == BillStatus.UNPAID


def test_a_case_of_another_procedure_is_refused(client, desk, bill):
    other = Procedure.objects.create(
        code="2.000815",
        name="Chứng thực bản sao",
        field=desk.procedure.field,
        level="commune",
        processing_days=Decimal("1"),
    )
    foreign = fee_cases(other).free
    client.force_login(desk.desk)
    response = _post(client, "bill_fee_case", bill.number, fee_case=foreign.pk, expected_version=1)
    assert _fresh(bill).status == BillStatus.UNPAID and _fresh(bill).amount == FEE
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    response = _post(client, "bill_fee_case", bill.number, fee_case="abc", expected_version=1)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


# --- refunds ------------------------------------------------------------------------------------


@pytest.fixture
def paid(desk: Desk, bill: Bill) -> Payment:
    return pay_cash(desk, bill)


def test_a_refund_above_what_was_paid_is_refused(client, desk, paid):
    client.force_login(desk.desk)
    response = _post(client, "refund_request", paid.receipt_number, amount=FEE + 1, reason="x")
    assert not Refund.objects.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_refund_request_then_approval_by_the_agency_leader(client, desk, paid):
    client.force_login(desk.desk)
    response = _post(
        client, "refund_request", paid.receipt_number, amount="20.000", reason="Thu thừa"
    )
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    refund = Refund.objects.get()
    assert refund.requested_by == desk.desk and refund.amount == 20_000
    # The requester is a desk officer: no decision forms for them.
    page = _page(client, desk.desk, paid.bill)
    assert reverse("payments:refund_approve", args=[refund.pk]) not in page
    page = _page(client, desk.agency_leader, paid.bill)
    assert reverse("payments:refund_approve", args=[refund.pk]) in page
    response = _post(client, "refund_approve", refund.pk, note="Đồng ý")
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    paid.refresh_from_db()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED and paid.refunded_amount == 20_000
    assert AuditRecord.objects.filter(action="refund.approved", actor=desk.agency_leader).exists()


def test_the_requester_cannot_approve_their_own_refund(client, desk, paid):
    refund = services.refund_request(
        actor=desk.agency_leader, payment=paid, amount=10_000, reason="Thu thừa"
    )
    page = _page(client, desk.agency_leader, paid.bill)
    assert reverse("payments:refund_approve", args=[refund.pk]) not in page
    response = _post(client, "refund_approve", refund.pk)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED


def test_a_rejection_needs_a_reason_and_returns_to_the_refunds_page(client, desk, paid):
    refund = services.refund_request(actor=desk.desk, payment=paid, amount=10_000, reason="x")
    client.force_login(desk.agency_leader)
    _post(client, "refund_reject", refund.pk, note="")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    back = reverse("payments:refund_list")
    response = _post(client, "refund_reject", refund.pk, note="Không có căn cứ", next=back)
    assert response.redirect_chain[-1][0] == back
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REJECTED


def test_next_never_leaves_the_site(client, desk, paid):
    refund = services.refund_request(actor=desk.desk, payment=paid, amount=10_000, reason="x")
    client.force_login(desk.agency_leader)
    response = client.post(
        reverse("payments:refund_reject", args=[refund.pk]),
        {"note": "Không", "next": "https://evil.example/"},
    )
    assert response["Location"].startswith(reverse("dossiers:detail", args=[paid.bill.dossier_id]))


def test_the_refunds_page_lists_waiting_refunds_in_scope(client, desk, paid):
    refund = services.refund_request(actor=desk.desk, payment=paid, amount=10_000, reason="Thừa")
    client.force_login(desk.agency_leader)
    page = client.get(reverse("payments:refund_list")).content.decode()
    assert paid.receipt_number in page and "10.000 đ" in page
    assert reverse("payments:refund_approve", args=[refund.pk]) in page
    client.force_login(desk.desk)
    page = client.get(reverse("payments:refund_list")).content.decode()
    assert paid.receipt_number in page
    assert reverse("payments:refund_approve", args=[refund.pk]) not in page
    client.force_login(desk.world.desk_b)
    assert paid.receipt_number not in client.get(reverse("payments:refund_list")).content.decode()
    client.force_login(desk.world.desk_b)
    assert client.post(reverse("payments:refund_approve", args=[refund.pk])).status_code == 404


# --- the bills list -----------------------------------------------------------------------------


def test_the_bills_list_is_scoped_and_filtered(client, desk, bill):
    other = billed(desk)
    pay_cash(desk, other)
    theirs = billed(desk, agency=desk.world.agency_b)
    client.force_login(desk.desk)
    page = client.get(reverse("payments:bill_list")).content.decode()
    assert bill.number in page and other.number in page and theirs.number not in page
    paid_only = client.get(reverse("payments:bill_list"), {"status": "paid"}).content.decode()
    assert other.number in paid_only and bill.number not in paid_only
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = client.get(reverse("payments:bill_list"), {"from": tomorrow}).content.decode()
    assert bill.number not in later
    today = timezone.localdate().isoformat()
    found = client.get(reverse("payments:bill_list"), {"from": today, "to": today}).content.decode()
    assert bill.number in found
    by_dossier = client.get(
        reverse("payments:bill_list"), {"q": bill.dossier.code}
    ).content.decode()
    assert bill.number in by_dossier and other.number not in by_dossier


def test_province_wide_officials_filter_bills_by_agency(client, desk, bill):
    theirs = billed(desk, agency=desk.world.agency_b)
    client.force_login(desk.world.provincial_leader)
    page = client.get(reverse("payments:bill_list")).content.decode()
    assert bill.number in page and theirs.number in page
    only_b = client.get(
        reverse("payments:bill_list"), {"agency": desk.world.agency_b.pk}
    ).content.decode()
    assert theirs.number in only_b and bill.number not in only_b


def test_the_nav_links_to_fees_for_officials(client, desk):
    client.force_login(desk.desk)
    page = client.get(reverse("dossiers:inbox")).content.decode()
    assert f'href="{reverse("payments:bill_list")}"' in page


# --- reconciliations and notifications ----------------------------------------------------------


@pytest.fixture
def run(db) -> ReconciliationRun:
    return ReconciliationRun.objects.create(
        day=date(2026, 11, 23),
        ran_by="daily task",
        status=ReconciliationStatus.MISMATCHED,
        gateway_count=1,
        gateway_total=FEE,
        mismatches=[
            {
                "kind": "missing_here",
                "order_id": "TS00000042001",
                "transaction_id": "PG000000000042",
                "ours": None,
                "gateway": {"amount": FEE, "status": "success"},
            }
        ],
    )


def test_reconciliations_for_province_wide_officials(client, desk, run):
    client.force_login(desk.world.provincial_leader)
    listing = client.get(reverse("payments:reconciliation_list")).content.decode()
    assert reverse("payments:reconciliation_detail", args=[run.pk]) in listing
    assert reverse("payments:reconciliation_detail", args=[run.pk]) == (
        f"/payments/reconciliations/{run.pk}/"
    )
    detail = client.get(reverse("payments:reconciliation_detail", args=[run.pk]))
    assert detail.status_code == 200
    assert "TS00000042001" in detail.content.decode() and "50.000 đ" in detail.content.decode()
    missing = reverse("payments:reconciliation_detail", args=[run.pk + 100])
    assert client.get(missing).status_code == 404


def test_reconciliations_are_refused_to_agency_officials(client, desk, run):
    for user in (desk.desk, desk.agency_leader):
        client.force_login(user)
        assert client.get(reverse("payments:reconciliation_list")).status_code == 403
        detail = reverse("payments:reconciliation_detail", args=[run.pk])
        assert client.get(detail).status_code == 403


def test_the_notification_log_is_for_administrators(client, desk, bill):
    fields = notification(order_for(bill))
    fields["amount"] = "1"
    services.notification_handle(fields=fields, remote_addr="10.1.2.3")
    assert GatewayNotification.objects.count() == 1
    client.force_login(desk.world.administrator)
    page = client.get(reverse("payments:notification_list")).content.decode()
    assert fields["order_id"] in page and "10.1.2.3" in page
    refused = client.get(reverse("payments:notification_list"), {"outcome": "accepted"})
    assert fields["order_id"] not in refused.content.decode()
    for user in (desk.world.provincial_leader, desk.desk):
        client.force_login(user)
        assert client.get(reverse("payments:notification_list")).status_code == 403


def test_the_admin_shows_money_records_read_only(client, desk, bill):
    payment = pay_cash(desk, bill)
    admin = User.objects.create_superuser("root", "root@example.vn", "secret-pass-1")
    client.force_login(admin)
    for model in ("bill", "payment", "paymentorder", "refund", "gatewaynotification"):
        assert client.get(reverse(f"admin:payments_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:payments_{model}_add")).status_code == 403
    change = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    delete = reverse("admin:payments_bill_delete", args=[bill.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Bill.objects.filter(pk=bill.pk).exists()


def test_the_desk_issues_an_expired_bill_again_from_the_dossier_page(client, desk, bill):
    services.bills_expire_due(now=bill.expires_at + timedelta(hours=1))
    page = _page(client, desk.desk, bill)
    assert reverse("payments:bill_reissue", args=[bill.number]) in page
    assert reverse("payments:bill_reissue", args=[bill.number]) not in _page(
        client, desk.specialist, bill
    )
    client.force_login(desk.specialist)
    _post(client, "bill_reissue", bill.number)
    assert bill.dossier.bills.count() == 1  # refused: not a desk role
    client.force_login(desk.desk)
    response = _post(client, "bill_reissue", bill.number)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    fresh = bill.dossier.bills.exclude(pk=bill.pk).get()
    assert fresh.status == BillStatus.UNPAID and fresh.amount == _fresh(bill).amount
