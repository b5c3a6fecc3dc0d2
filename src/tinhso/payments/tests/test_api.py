"""The payments API: scoped reads, the desk's money actions, paying online, the gateway's
notification, refunds and reconciliations, each with its refusals (out of scope → 404 like a
bill that does not exist; a role that may not act → 403; business rules → 409/422)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from tinhso.catalog.models import Procedure
from tinhso.core import services as core_services
from tinhso.core.models import AuditRecord, Role, User
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk
from tinhso.payments import gateway, services
from tinhso.payments.models import (
    Bill,
    BillStatus,
    GatewayNotification,
    NotificationOutcome,
    OrderStatus,
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
    query_answer,
    unreachable,
)

desk = dossier_fixtures.desk  # the dossier personas, shared


def post(client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


@pytest.fixture
def cases(desk: Desk) -> Cases:
    return fee_cases(desk.procedure)


@pytest.fixture
def bill(desk: Desk, cases: Cases) -> Bill:
    return billed(desk)


@pytest.fixture
def other_citizen(db) -> User:
    return User.objects.create_user(
        username="citizen2", password="secret-pass-1", kind="citizen", personal_id="019090000002"
    )


def _fresh(bill: Bill) -> Bill:
    return Bill.objects.get(pk=bill.pk)


# --- reading bills ------------------------------------------------------------------------------


def test_a_citizen_lists_only_their_own_bills(client, desk, bill, other_citizen):
    theirs = billed(desk, owner=other_citizen)
    client.force_login(desk.world.citizen)
    response = client.get("/api/v1/bills")
    assert response.status_code == 200
    numbers = [item["number"] for item in response.json()["items"]]
    assert numbers == [bill.number]
    assert client.get(f"/api/v1/bills/{theirs.number}").status_code == 404


def test_a_bill_reads_with_its_lines_as_integers(client, desk, bill):
    client.force_login(desk.desk)
    response = client.get(f"/api/v1/bills/{bill.number}")
    assert response.status_code == 200
    data = response.json()
    assert data["amount"] == FEE and data["status"] == "unpaid"
    assert data["dossier_code"] == bill.dossier.code
    assert data["lines"] == [
        {
            "fee_case_id": data["lines"][0]["fee_case_id"],
            "description": "Lệ phí đăng ký khai sinh",
            "amount": FEE,
            "legal_basis": LEGAL_BASIS,
        }
    ]
    assert data["payments"] == [] and data["orders"] == []


def test_bills_filter_by_dossier_and_status(client, desk, bill):
    other = billed(desk)
    pay_cash(desk, other)
    client.force_login(desk.desk)
    by_dossier = client.get("/api/v1/bills", {"dossier": bill.dossier.code}).json()["items"]
    assert [b["number"] for b in by_dossier] == [bill.number]
    paid = client.get("/api/v1/bills", {"status": "paid"}).json()["items"]
    assert [b["number"] for b in paid] == [other.number]
    assert client.get("/api/v1/bills", {"status": "bogus"}).status_code == 422


def test_another_communes_official_neither_sees_nor_lists_the_bill(client, desk, bill):
    client.force_login(desk.world.desk_b)
    assert client.get("/api/v1/bills").json()["items"] == []
    assert client.get(f"/api/v1/bills/{bill.number}").status_code == 404


def test_an_unknown_bill_is_404_json(client, desk, bill):
    client.force_login(desk.desk)
    response = client.get("/api/v1/bills/NO-SUCH-BILL")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_reading_requires_sign_in(client, bill):
    assert client.get("/api/v1/bills").status_code == 401


# --- cash at the desk ---------------------------------------------------------------------------


def test_the_desk_records_cash_and_gets_a_receipt(client, desk, bill):
    client.force_login(desk.desk)
    response = post(
        client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE, "expected_version": 1}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["method"] == "cash" and data["amount"] == FEE
    assert data["receipt_number"].startswith("BL-") and data["bill_number"] == bill.number
    assert data["recorded_by"] == desk.desk.full_name
    assert _fresh(bill).status == BillStatus.PAID


def test_cash_of_the_wrong_amount_is_422_and_records_nothing(client, desk, bill):
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE - 1000})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert not Payment.objects.exists() and _fresh(bill).status == BillStatus.UNPAID


def test_cash_with_a_stale_version_is_a_conflict(client, desk, bill):
    client.force_login(desk.desk)
    response = post(
        client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE, "expected_version": 7}
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert not Payment.objects.exists()


def test_cash_on_a_paid_bill_is_refused(client, desk, bill):
    pay_cash(desk, bill)
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE})
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert Payment.objects.count() == 1


def test_an_official_of_commune_b_cannot_record_cash_on_commune_as_bill(client, desk, bill):
    client.force_login(desk.world.desk_b)
    response = post(client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE})
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_a_specialist_without_a_desk_role_is_refused(client, desk, bill):
    client.force_login(desk.specialist)
    assert client.get(f"/api/v1/bills/{bill.number}").status_code == 200  # in scope: reads
    response = post(client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE})
    assert response.status_code == 403 and response.json()["code"] == "out_of_scope"
    assert not Payment.objects.exists()


def test_a_citizen_cannot_record_cash_on_their_own_bill(client, desk, bill):
    client.force_login(desk.world.citizen)
    response = post(client, f"/api/v1/bills/{bill.number}/cash", {"amount": FEE})
    assert response.status_code == 403
    assert not Payment.objects.exists()


# --- exemption and fee case ---------------------------------------------------------------------


def test_exemption_needs_a_reason(client, desk, bill):
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/bills/{bill.number}/exempt", {"reason": "  "})
    assert response.status_code == 422 and "reason" in response.json()["fields"]
    assert post(client, f"/api/v1/bills/{bill.number}/exempt", {}).status_code == 422
    assert _fresh(bill).status == BillStatus.UNPAID


def test_the_desk_exempts_with_a_reason(client, desk, bill):
    client.force_login(desk.desk)
    response = post(
        client,
        f"/api/v1/bills/{bill.number}/exempt",
        {"reason": "Hộ nghèo (Nghị định 07/2021/NĐ-CP)", "expected_version": 1},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "exempted" and data["status_reason"].startswith("Hộ nghèo")
    assert data["version"] == 2


def test_exemption_by_another_commune_is_404(client, desk, bill):
    client.force_login(desk.world.desk_b)
    response = post(client, f"/api/v1/bills/{bill.number}/exempt", {"reason": "x"})
    assert response.status_code == 404
    assert _fresh(bill).status == BillStatus.UNPAID


def test_choosing_another_case_of_the_procedure_changes_the_amount(client, desk, bill, cases):
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/bills/{bill.number}/fee-case", {"fee_case_id": cases.copy.pk})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["amount"] == COPY_FEE and data["status"] == "unpaid"
    assert [line["fee_case_id"] for line in data["lines"]] == [cases.copy.pk]


def test_choosing_a_zero_fee_case_exempts_the_bill(client, desk, bill, cases):
    client.force_login(desk.desk)
    response = post(
        client,
        f"/api/v1/bills/{bill.number}/fee-case",
        {"fee_case_id": cases.free.pk, "expected_version": 1},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "exempted" and data["amount"] == 0
    assert data["status_reason"] == cases.free.description


def test_a_fee_case_of_another_procedure_is_refused(client, desk, bill):
    other = Procedure.objects.create(
        code="2.000815",
        name="Chứng thực bản sao từ bản chính",
        field=desk.procedure.field,
        level="commune",
        processing_days=Decimal("1"),
    )
    foreign = fee_cases(other).paying
    client.force_login(desk.desk)
    response = post(client, f"/api/v1/bills/{bill.number}/fee-case", {"fee_case_id": foreign.pk})
    assert response.status_code == 422
    assert _fresh(bill).lines.get().fee_case_id != foreign.pk
    unknown = post(client, f"/api/v1/bills/{bill.number}/fee-case", {"fee_case_id": 999999})
    assert unknown.status_code == 422 and unknown.json()["field"] == "fee_case_id"


def test_a_specialist_cannot_change_the_fee_case(client, desk, bill, cases):
    client.force_login(desk.specialist)
    response = post(client, f"/api/v1/bills/{bill.number}/fee-case", {"fee_case_id": cases.free.pk})
    assert response.status_code == 403
    assert _fresh(bill).status == BillStatus.UNPAID


# --- paying online ------------------------------------------------------------------------------


def test_the_owner_starts_an_online_payment(client, desk, bill):
    client.force_login(desk.world.citizen)
    response = post(
        client,
        f"/api/v1/bills/{bill.number}/orders",
        {"return_url": "https://dichvucong.example.vn/portal/payments/return"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["amount"] == FEE and data["order_id"].startswith("TS")
    url = urlsplit(data["payment_url"])
    assert data["payment_url"].startswith(settings.TINHSO_PAYMENT_GATEWAY_URL.rstrip("/") + "/pay?")
    fields = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert fields["order_id"] == data["order_id"] and fields["amount"] == str(FEE)
    assert fields["notify_url"] == "http://testserver/api/v1/payments/notify"
    order = bill.orders.get()
    assert order.notify_url == "http://testserver/api/v1/payments/notify"


def test_only_the_owner_pays_online(client, desk, bill, other_citizen):
    body = {"return_url": "https://dichvucong.example.vn/return"}
    client.force_login(desk.desk)
    assert post(client, f"/api/v1/bills/{bill.number}/orders", body).status_code == 403
    client.force_login(other_citizen)
    assert post(client, f"/api/v1/bills/{bill.number}/orders", body).status_code == 404
    assert not bill.orders.exists()


def test_a_return_url_must_be_a_web_address(client, desk, bill):
    client.force_login(desk.world.citizen)
    response = post(
        client, f"/api/v1/bills/{bill.number}/orders", {"return_url": "javascript:alert(1)"}
    )
    assert response.status_code == 422
    assert not bill.orders.exists()


def test_an_order_reads_for_its_owner_only(client, desk, bill, other_citizen):
    order = order_for(bill)
    client.force_login(desk.world.citizen)
    response = client.get(f"/api/v1/payment-orders/{order.order_id}")
    assert response.status_code == 200
    assert response.json()["status"] == "pending" and response.json()["bill_number"] == bill.number
    client.force_login(other_citizen)
    assert client.get(f"/api/v1/payment-orders/{order.order_id}").status_code == 404
    assert client.get("/api/v1/payment-orders/TS-NONE").status_code == 404


def test_a_status_query_applies_the_gateways_signed_answer(client, desk, bill):
    order = order_for(bill)
    previous = gateway.set_transport(query_answer(order))
    try:
        client.force_login(desk.world.citizen)
        response = post(client, f"/api/v1/payment-orders/{order.order_id}/query")
    finally:
        gateway.set_transport(previous)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid" and response.json()["confirmed_via"] == "query"
    assert _fresh(bill).status == BillStatus.PAID


def test_a_status_query_when_the_gateway_is_down_is_502(client, desk, bill):
    order = order_for(bill)
    previous = gateway.set_transport(unreachable)
    try:
        client.force_login(desk.world.citizen)
        response = post(client, f"/api/v1/payment-orders/{order.order_id}/query")
    finally:
        gateway.set_transport(previous)
    assert response.status_code == 502 and response.json()["code"] == "gateway_unavailable"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_status_query_is_scoped(client, desk, bill, other_citizen):
    order = order_for(bill)
    client.force_login(other_citizen)
    assert post(client, f"/api/v1/payment-orders/{order.order_id}/query").status_code == 404


# --- the gateway's notification -----------------------------------------------------------------


def test_a_valid_signed_notification_pays_the_bill(client, bill):
    order = order_for(bill)
    response = post(client, "/api/v1/payments/notify", notification(order))  # no session
    assert response.status_code == 200, response.content
    assert response.json() == {"code": "accepted"}
    assert _fresh(bill).status == BillStatus.PAID
    payment = Payment.objects.get()
    assert payment.order == order and payment.amount == FEE
    logged = GatewayNotification.objects.get()
    assert logged.outcome == NotificationOutcome.ACCEPTED and logged.remote_addr == "127.0.0.1"


def test_the_same_notification_again_is_a_200_duplicate(client, bill):
    fields = notification(order_for(bill))
    post(client, "/api/v1/payments/notify", fields)
    again = post(client, "/api/v1/payments/notify", fields)
    assert again.status_code == 200 and again.json()["code"] == "duplicate"
    assert Payment.objects.count() == 1


def test_a_bad_signature_is_400_and_records_no_payment(client, bill):
    fields = notification(order_for(bill))
    fields["amount"] = "1000"  # changed after signing
    response = post(client, "/api/v1/payments/notify", fields)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature" and response.json()["message"]
    assert not Payment.objects.exists() and _fresh(bill).status == BillStatus.UNPAID
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.REFUSED_SIGNATURE


def test_a_flood_of_unsigned_notifications_is_refused_without_a_log_row_each(
    client, bill, settings
):
    settings.TINHSO_PAYMENT_NOTIFY_UNSIGNED_PER_MINUTE = 3
    order = order_for(bill)
    forged = {**notification(order), "amount": "1"}
    for _ in range(3):
        assert post(client, "/api/v1/payments/notify", forged).status_code == 400
    response = post(client, "/api/v1/payments/notify", forged)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert GatewayNotification.objects.count() == 3  # the fourth left no row
    # Another address is counted on its own; the platform's signed word still goes through.
    other = client.post(
        "/api/v1/payments/notify", forged, content_type="application/json", REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 400 and GatewayNotification.objects.count() == 4
    signed = post(client, "/api/v1/payments/notify", notification(order))
    assert signed.status_code == 200 and signed.json() == {"code": "accepted"}
    assert _fresh(bill).status == BillStatus.PAID


def test_a_notification_signed_with_another_secret_is_refused(client, bill):
    fields = notification(order_for(bill), secret="not-our-secret")
    response = post(client, "/api/v1/payments/notify", fields)
    assert response.status_code == 400 and response.json()["code"] == "bad_signature"
    assert not Payment.objects.exists()


def test_a_notification_may_come_as_form_fields(client, bill):
    response = client.post("/api/v1/payments/notify", notification(order_for(bill)))
    assert response.status_code == 200 and response.json()["code"] == "accepted"
    assert _fresh(bill).status == BillStatus.PAID


def test_a_body_that_is_not_an_object_is_refused_and_logged(client, bill):
    response = client.post("/api/v1/payments/notify", "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "bad_signature"
    assert GatewayNotification.objects.get().payload == {"body": "[1, 2]"}


def test_an_unknown_order_is_refused(client, bill):
    order = order_for(bill)
    fields = notification(order)
    order.order_id = "TS-UNKNOWN"
    unknown = notification(order, nonce="n-2")
    assert post(client, "/api/v1/payments/notify", unknown).json()["code"] == "unknown_order"
    assert post(client, "/api/v1/payments/notify", fields).status_code == 200


# --- payments and refunds -----------------------------------------------------------------------


@pytest.fixture
def paid(desk, bill) -> Payment:
    return pay_cash(desk, bill)


def test_a_payment_reads_in_scope(client, desk, paid, other_citizen):
    url = f"/api/v1/payments/{paid.receipt_number}"
    client.force_login(desk.desk)
    data = client.get(url).json()
    assert data["receipt_number"] == paid.receipt_number and data["refunds"] == []
    client.force_login(desk.world.citizen)
    assert client.get(url).status_code == 200
    client.force_login(other_citizen)
    assert client.get(url).status_code == 404
    client.force_login(desk.world.desk_b)
    assert client.get(url).status_code == 404


def test_a_refund_above_what_was_paid_is_refused(client, desk, paid):
    client.force_login(desk.desk)
    url = f"/api/v1/payments/{paid.receipt_number}/refunds"
    response = post(client, url, {"amount": FEE + 1, "reason": "Nộp thừa"})
    assert response.status_code == 422
    assert post(client, url, {"amount": 0, "reason": "x"}).status_code == 422
    assert not Refund.objects.exists()


def test_a_refund_needs_a_reason(client, desk, paid):
    client.force_login(desk.desk)
    url = f"/api/v1/payments/{paid.receipt_number}/refunds"
    assert post(client, url, {"amount": 1000, "reason": " "}).status_code == 422
    assert not Refund.objects.exists()


def test_the_desk_requests_a_refund(client, desk, paid):
    client.force_login(desk.desk)
    response = post(
        client,
        f"/api/v1/payments/{paid.receipt_number}/refunds",
        {"amount": 20_000, "reason": "Thu thừa so với mức lệ phí"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "requested" and data["amount"] == 20_000
    assert (
        data["requested_by"] == desk.desk.full_name
        and data["receipt_number"] == paid.receipt_number
    )


def test_refunds_are_requested_in_scope_only(client, desk, paid):
    body = {"amount": 1000, "reason": "x"}
    client.force_login(desk.world.desk_b)
    assert post(client, f"/api/v1/payments/{paid.receipt_number}/refunds", body).status_code == 404
    client.force_login(desk.world.citizen)
    assert post(client, f"/api/v1/payments/{paid.receipt_number}/refunds", body).status_code == 403
    assert not Refund.objects.exists()


def _requested(desk, paid, by=None, amount=20_000) -> Refund:
    return services.refund_request(
        actor=by or desk.desk, payment=paid, amount=amount, reason="Thu thừa"
    )


def test_the_agency_leader_approves_a_refund_and_the_trail_says_so(client, desk, paid):
    refund = _requested(desk, paid)
    client.force_login(desk.agency_leader)
    response = post(client, f"/api/v1/refunds/{refund.pk}/approve", {"note": "Đồng ý"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "approved" and data["decided_by"] == desk.agency_leader.full_name
    paid.refresh_from_db()
    assert paid.refunded_amount == 20_000
    record = AuditRecord.objects.get(action="refund.approved")
    assert record.actor == desk.agency_leader and record.after["amount"] == 20_000
    assert record.object_id == str(paid.bill_id)


def test_the_requester_cannot_approve_their_own_refund(client, desk, paid):
    refund = _requested(desk, paid, by=desk.agency_leader)
    client.force_login(desk.agency_leader)
    response = post(client, f"/api/v1/refunds/{refund.pk}/approve")
    assert response.status_code == 403
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED and paid.refunded_amount == 0


def test_a_desk_officer_cannot_decide_a_refund(client, desk, paid):
    refund = _requested(desk, paid, by=desk.agency_leader)
    client.force_login(desk.desk)
    assert post(client, f"/api/v1/refunds/{refund.pk}/approve").status_code == 403
    assert post(client, f"/api/v1/refunds/{refund.pk}/reject", {"note": "x"}).status_code == 403
    client.force_login(desk.world.desk_b)
    assert post(client, f"/api/v1/refunds/{refund.pk}/approve").status_code == 404
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED


def test_a_rejection_needs_a_reason(client, desk, paid):
    refund = _requested(desk, paid)
    client.force_login(desk.agency_leader)
    assert post(client, f"/api/v1/refunds/{refund.pk}/reject", {"note": ""}).status_code == 422
    response = post(client, f"/api/v1/refunds/{refund.pk}/reject", {"note": "Không có căn cứ"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    paid.refresh_from_db()
    assert paid.refunded_amount == 0
    again = post(client, f"/api/v1/refunds/{refund.pk}/approve")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


def test_an_unknown_refund_is_404(client, desk):
    client.force_login(desk.agency_leader)
    assert post(client, "/api/v1/refunds/999999/approve").status_code == 404


# --- reconciliation -----------------------------------------------------------------------------


@pytest.fixture
def runs(db) -> list[ReconciliationRun]:
    return [
        ReconciliationRun.objects.create(
            day=date(2026, 11, 22), ran_by="daily task", status=ReconciliationStatus.MATCHED
        ),
        ReconciliationRun.objects.create(
            day=date(2026, 11, 23),
            ran_by="daily task",
            status=ReconciliationStatus.MISMATCHED,
            gateway_count=1,
            gateway_total=FEE,
            mismatches=[
                {
                    "kind": "missing_here",
                    "order_id": "TS00000001001",
                    "transaction_id": "PG1",
                    "ours": None,
                    "gateway": {"amount": FEE, "status": "success"},
                }
            ],
        ),
    ]


def test_province_wide_officials_read_the_reconciliations(client, desk, runs):
    client.force_login(desk.world.provincial_leader)
    response = client.get("/api/v1/reconciliations")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["day"] for i in items] == ["2026-11-23", "2026-11-22"]
    assert items[0]["mismatches"][0]["kind"] == "missing_here" and items[0]["gateway_total"] == FEE
    client.force_login(desk.world.administrator)
    one_day = client.get("/api/v1/reconciliations", {"day": "2026-11-22"}).json()["items"]
    assert [i["status"] for i in one_day] == ["matched"]


def test_other_officials_and_citizens_cannot_read_reconciliations(client, desk, runs):
    for user in (desk.desk, desk.agency_leader, desk.world.citizen):
        client.force_login(user)
        response = client.get("/api/v1/reconciliations")
        assert response.status_code == 403 and response.json()["code"] == "out_of_scope"


def test_an_agency_leader_added_to_commune_b_cannot_approve_commune_as_refund(client, desk, paid):
    leader_b = core_services.official_save(
        actor=None,
        username="b.chairman",
        full_name="Chủ tịch B",
        agency=desk.world.agency_b,
        roles=[Role.AGENCY_LEADER],
    )
    refund = _requested(desk, paid)
    client.force_login(leader_b)
    assert post(client, f"/api/v1/refunds/{refund.pk}/approve").status_code == 404


def test_the_payments_operations_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/bills",
        "/api/v1/bills/{number}/cash",
        "/api/v1/bills/{number}/orders",
        "/api/v1/payments/notify",
        "/api/v1/payments/{receipt_number}/refunds",
        "/api/v1/refunds/{refund_id}/approve",
        "/api/v1/reconciliations",
    ):
        assert path in paths, path
    assert paths["/api/v1/payments/notify"]["post"].get("security") in (None, [])
