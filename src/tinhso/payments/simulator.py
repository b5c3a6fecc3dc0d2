"""A stand-in for the national payment platform ("Paygov"), for the demo and the tests;
mounted at /sim/paygov/ only when `TINHSO_SIMULATORS` is on. It speaks the messages of
`tinhso.payments.gateway` and keeps its own state in `SimulatedTransaction`.

- `GET pay?<signed fields>`: the payer's page, with one button per outcome, including the
  awkward ones (no notification, two notifications, a late one).
- `POST pay/<order_id>/`: records the outcome, sends the server notification(s) to the
  order's notify URL, then sends the browser back to the return URL (303).
- `POST query`, `POST report`: the status query and the daily report, signed.
- `GET ""`: a console listing the transactions, to send a notification by hand, deliver the
  late ones, and seed mismatches into the daily report (`seed_*`).

It signs with `TINHSO_PAYMENT_SIMULATOR_SECRET` and tells time with
`tinhso.integration.simulators.now()`. A notification is sent only after the simulator's own
row is committed and outside any transaction of its own, so on SQLite no write lock is held
while our notification endpoint (maybe in the same server) handles it."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_tasks import task

from tinhso.core import schedule
from tinhso.integration import simulators
from tinhso.integration.adapters.national_portal import Transport, urllib_transport
from tinhso.integration.models import SimulatorSwitch
from tinhso.payments import signing
from tinhso.payments.models import SimulatedTransaction

SIMULATOR = "paygov"

PENDING = "pending"
SUCCESS = "success"
FAILED = "failed"
CANCELLED = "cancelled"
NOT_FOUND = "not_found"
FINAL = frozenset({SUCCESS, FAILED, CANCELLED})

#: Statuses the console can seed into the daily report.
REPORT_STATUSES = (SUCCESS, FAILED, CANCELLED, "reversed")

REQUEST_FIELDS = (
    "merchant_code",
    "order_id",
    "amount",
    "currency",
    "description",
    "return_url",
    "notify_url",
    "expires_at",
    "locale",
)

#: The payer's buttons: value → (label, resulting status, notification mode).
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "success": ("Thanh toán thành công", SUCCESS, "normal"),
    "failure": ("Thanh toán thất bại", FAILED, "normal"),
    "cancel": ("Hủy giao dịch", CANCELLED, "normal"),
    "never_notify": ("Thanh toán, không gửi thông báo", SUCCESS, "never"),
    "notify_twice": ("Thanh toán, gửi thông báo hai lần", SUCCESS, "twice"),
    "notify_late": ("Thanh toán, gửi thông báo muộn", SUCCESS, "late"),
}
#: How many notifications each mode sends at once (a late one is sent by `deliver_due`).
SENT_AT_ONCE = {"normal": 1, "never": 0, "twice": 2, "late": 0}

STATUS_LABELS = {
    PENDING: "Đang chờ thanh toán",
    SUCCESS: "Thanh toán thành công",
    FAILED: "Thanh toán thất bại",
    CANCELLED: "Giao dịch đã bị hủy",
}


MODE_LABELS = {
    "normal": "gửi ngay",
    "never": "không gửi",
    "twice": "gửi hai lần",
    "late": "gửi muộn",
}


def _secret() -> str:
    return settings.TINHSO_PAYMENT_SIMULATOR_SECRET


def _merchant() -> str:
    """The one merchant this simulator knows: this deployment."""
    return settings.TINHSO_PAYMENT_MERCHANT_CODE


def late_seconds() -> int:
    return int(getattr(settings, "TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS", 60))


def _iso(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value is not None else ""


def vnd(amount: int | None) -> str:
    """`50.000 đ`: the Vietnamese way of writing an amount."""
    return "" if amount is None else f"{amount:,} đ".replace(",", ".")


def _new_transaction_id() -> str:
    return f"PG{secrets.randbelow(10**12):012d}"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())
    return start, start + timedelta(days=1)


def _with_query(url: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(params)}"


def _web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# --- the server notification ----------------------------------------------------------------

_transport: Transport = urllib_transport


def set_transport(transport: Transport | None) -> Transport:
    """Swap how notifications reach the merchant (tests: in-process); None: HTTP."""
    global _transport
    previous = _transport
    _transport = transport or urllib_transport
    return previous


def notification_fields(tx: SimulatedTransaction, *, at: datetime | None = None) -> dict[str, str]:
    """The signed notification of `tx`'s outcome; each carries a fresh nonce."""
    moment = at if at is not None else simulators.now()
    return signing.signed(
        {
            "merchant_code": tx.merchant_code,
            "order_id": tx.order_id,
            "transaction_id": tx.transaction_id,
            "amount": tx.amount,
            "status": tx.status,
            "paid_at": _iso(tx.paid_at),
            "nonce": secrets.token_hex(16),
            "sent_at": int(moment.timestamp()),
        },
        _secret(),
    )


def _gist(answer: bytes) -> str:
    try:
        data = json.loads(answer)
    except ValueError:
        return ""  # an error page: the status code says enough
    if isinstance(data, dict):
        for key in ("outcome", "status", "code", "result"):
            if data.get(key):
                return str(data[key])
    return ""


def deliver(tx: SimulatedTransaction, *, at: datetime | None = None) -> str:
    """POST `tx`'s notification to its notify URL now and record the answer ("200 accepted",
    "error ConnectionRefusedError: …"). Call it outside a transaction, after `tx` is saved."""
    if tx.status not in FINAL:
        raise ValueError(f"{tx.order_id} is {tx.status}: nothing to notify")
    body = json.dumps(notification_fields(tx, at=at)).encode()
    try:
        status, answer = _transport(
            tx.notify_url,
            body,
            {"Content-Type": "application/json"},
            settings.TINHSO_PAYMENT_TIMEOUT,
        )
        result = f"{status} {_gist(answer)}".strip()
    except OSError as exc:
        result = f"error {exc.__class__.__name__}: {exc}"
    result = result[:100]
    SimulatedTransaction.objects.filter(pk=tx.pk).update(
        notified_count=F("notified_count") + 1, last_notify_status=result
    )
    tx.refresh_from_db(fields=["notified_count", "last_notify_status"])
    return result


def deliver_due(now: datetime | None = None) -> int:
    """Send the notifications of `late` transactions whose time has come, once each; returns
    how many were sent."""
    moment = now if now is not None else simulators.now()
    due = SimulatedTransaction.objects.filter(
        notify_mode="late", notify_due_at__isnull=False, notify_due_at__lte=moment
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        # Clearing the due time claims the notification: two workers send it once.
        if not SimulatedTransaction.objects.filter(pk=pk, notify_due_at__isnull=False).update(
            notify_due_at=None
        ):
            continue
        deliver(SimulatedTransaction.objects.get(pk=pk), at=moment)
        sent += 1
    return sent


@task()
def deliver_due_notifications() -> int:
    return deliver_due()


if settings.TINHSO_SIMULATORS:
    schedule.register(
        "paygov_sim.deliver_due", deliver_due_notifications, every=timedelta(minutes=1)
    )


# --- seeding the daily report -----------------------------------------------------------------


def _get(order_id: str) -> SimulatedTransaction:
    return SimulatedTransaction.objects.get(order_id=order_id)


def seed_hidden(order_id: str, hidden: bool = True) -> SimulatedTransaction:
    """Leave the transaction out of the daily report (→ `missing_at_gateway`)."""
    SimulatedTransaction.objects.filter(order_id=order_id).update(report_hidden=hidden)
    return _get(order_id)


def seed_amount(order_id: str, amount: int | None) -> SimulatedTransaction:
    """Report another amount for the transaction (→ `amount_differs`); None: the real one."""
    if amount is not None and amount < 0:
        raise ValueError("an amount is not negative")
    SimulatedTransaction.objects.filter(order_id=order_id).update(report_amount=amount)
    return _get(order_id)


def seed_status(order_id: str, status: str) -> SimulatedTransaction:
    """Report another status for the transaction (→ `status_differs`); "": the real one."""
    if status and status not in REPORT_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    SimulatedTransaction.objects.filter(order_id=order_id).update(report_status=status)
    return _get(order_id)


def seed_phantom(day: date, amount: int, order_id: str | None = None) -> SimulatedTransaction:
    """A successful transaction at noon of `day` that the merchant never heard of
    (→ `missing_here`)."""
    if amount <= 0:
        raise ValueError("a payment is for a positive amount")
    noon = datetime.combine(day, time(12, 0), tzinfo=timezone.get_default_timezone())
    return SimulatedTransaction.objects.create(
        order_id=order_id or f"PH{secrets.randbelow(10**10):010d}",
        merchant_code=_merchant(),
        amount=amount,
        description="Giao dịch không có trong hệ thống của đơn vị (mô phỏng)",
        status=SUCCESS,
        transaction_id=_new_transaction_id(),
        created_at=noon,
        paid_at=noon,
        notify_mode="never",
    )


# --- the payer's pages ------------------------------------------------------------------------


def _problem(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "payments/sim/problem.html", {"problem": message}, status=status)


def _browser_return_url(tx: SimulatedTransaction) -> str:
    """The return URL with the outcome, signed (the merchant must not trust it anyway)."""
    fields = signing.signed(
        {
            "order_id": tx.order_id,
            "status": tx.status,
            "transaction_id": tx.transaction_id,
            "amount": tx.amount,
        },
        _secret(),
    )
    return _with_query(tx.return_url, fields)


def _request_problem(fields: dict[str, str]) -> str | None:
    """What is wrong with a signed payment request's content, in the payer's words."""
    if any(name not in fields for name in REQUEST_FIELDS):
        return "Yêu cầu thanh toán thiếu thông tin."
    if fields["merchant_code"] != _merchant():
        return "Đơn vị chấp nhận thanh toán chưa được đăng ký với nền tảng."
    order_id = fields["order_id"]
    if not order_id or len(order_id) > 40 or "/" in order_id:
        return "Mã đơn hàng không hợp lệ."
    if not fields["amount"].isdigit() or int(fields["amount"]) <= 0:
        return "Số tiền không hợp lệ."
    if fields["currency"] != "VND":
        return "Nền tảng chỉ nhận thanh toán bằng đồng Việt Nam."
    if not (_web_url(fields["return_url"]) and _web_url(fields["notify_url"])):
        return "Địa chỉ trả về của đơn vị không hợp lệ."
    if parse_datetime(fields["expires_at"]) is None:
        return "Thời hạn thanh toán không hợp lệ."
    return None


def _transaction_for(fields: dict[str, str]) -> SimulatedTransaction:
    existing = SimulatedTransaction.objects.filter(order_id=fields["order_id"]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return SimulatedTransaction.objects.create(
                order_id=fields["order_id"],
                merchant_code=fields["merchant_code"],
                amount=int(fields["amount"]),
                description=fields["description"][:255],
                return_url=fields["return_url"],
                notify_url=fields["notify_url"],
                expires_at=parse_datetime(fields["expires_at"]),
                transaction_id=_new_transaction_id(),
                created_at=simulators.now(),
            )
    except IntegrityError:  # the same request opened twice at once
        return SimulatedTransaction.objects.get(order_id=fields["order_id"])


def _final_page(request: HttpRequest, tx: SimulatedTransaction) -> HttpResponse:
    return render(
        request,
        "payments/sim/final.html",
        {
            "tx": tx,
            "amount": vnd(tx.amount),
            "status_label": STATUS_LABELS.get(tx.status, tx.status),
            "back_url": _browser_return_url(tx),
        },
    )


def _expired(tx: SimulatedTransaction) -> bool:
    return tx.expires_at is not None and tx.expires_at < simulators.now()


EXPIRED = "Yêu cầu thanh toán đã hết hạn. Hãy quay lại dịch vụ công và tạo yêu cầu mới."


@never_cache
@require_GET
def pay(request: HttpRequest) -> HttpResponse:
    fields = request.GET.dict()
    if not signing.verify(fields, _secret()):
        return _problem(request, "Chữ ký không hợp lệ. Yêu cầu thanh toán đã bị thay đổi.")
    problem = _request_problem(fields)
    if problem:
        return _problem(request, problem)
    existing = SimulatedTransaction.objects.filter(order_id=fields["order_id"]).first()
    if existing is not None and existing.status in FINAL:
        return _final_page(request, existing)
    expires_at = parse_datetime(fields["expires_at"])
    if expires_at is not None and expires_at < simulators.now():
        return _problem(request, EXPIRED)
    tx = _transaction_for(fields)
    if tx.status in FINAL:
        return _final_page(request, tx)
    return render(
        request,
        "payments/sim/pay.html",
        {
            "tx": tx,
            "amount": vnd(tx.amount),
            "action": reverse("sim:paygov:outcome", args=[tx.order_id]),
            "outcomes": [(value, label) for value, (label, _s, _m) in OUTCOMES.items()],
        },
    )


@csrf_exempt
@never_cache
@require_POST
def outcome(request: HttpRequest, order_id: str) -> HttpResponse:
    """The payer's choice: record it (committed at once: requests are not atomic), notify as
    the button says, then send the browser back. A second click changes nothing."""
    tx = get_object_or_404(SimulatedTransaction, order_id=order_id)
    choice = request.POST.get("outcome", "")
    if choice not in OUTCOMES:
        return _problem(request, "Lựa chọn không hợp lệ.")
    if tx.status == PENDING:
        if _expired(tx):
            return _problem(request, EXPIRED)
        now = simulators.now()
        _label, status, mode = OUTCOMES[choice]
        won = SimulatedTransaction.objects.filter(pk=tx.pk, status=PENDING).update(
            status=status,
            paid_at=now if status == SUCCESS else None,
            notify_mode=mode,
            notify_due_at=now + timedelta(seconds=late_seconds()) if mode == "late" else None,
        )
        tx.refresh_from_db()
        if won:
            for _ in range(SENT_AT_ONCE[mode]):
                deliver(tx)
    return _see_other(_browser_return_url(tx))


# --- the merchant's server calls ----------------------------------------------------------------


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _unavailable() -> JsonResponse | None:
    """503 while the switch says the platform is down, 500 for each of `fail_next` calls."""
    state = SimulatorSwitch.objects.filter(simulator=SIMULATOR).first()
    if state is None:
        return None
    if state.down_until is not None and state.down_until > simulators.now():
        return _error(503, "unavailable", "the payment platform is down (simulated)")
    if state.fail_next > 0 and SimulatorSwitch.objects.filter(pk=state.pk, fail_next__gt=0).update(
        fail_next=F("fail_next") - 1
    ):
        return _error(500, "internal_error", "the payment platform failed (simulated)")
    return None


def _signed_call(request: HttpRequest) -> tuple[dict[str, Any], JsonResponse | None]:
    if (failure := _unavailable()) is not None:
        return {}, failure
    try:
        fields = json.loads(request.body)
    except ValueError:
        return {}, _error(400, "bad_json", "the body is not JSON")
    if not isinstance(fields, dict):
        return {}, _error(400, "bad_json", "the body is not an object")
    if not signing.verify(fields, _secret()):
        return fields, _error(400, "bad_signature", "the signature does not verify")
    if fields.get("merchant_code") != _merchant():
        return fields, _error(400, "unknown_merchant", "unknown merchant")
    return fields, None


@csrf_exempt
@require_POST
def query(request: HttpRequest) -> JsonResponse:
    fields, failure = _signed_call(request)
    if failure is not None:
        return failure
    order_id = str(fields.get("order_id", ""))
    tx = SimulatedTransaction.objects.filter(order_id=order_id, merchant_code=_merchant()).first()
    answer: dict[str, Any] = {
        "merchant_code": _merchant(),
        "order_id": order_id,
        "status": NOT_FOUND,
        "transaction_id": "",
        "amount": "",
        "paid_at": "",
    }
    if tx is not None:
        answer |= {
            "status": tx.status,
            "transaction_id": tx.transaction_id,
            "amount": tx.amount,
            "paid_at": _iso(tx.paid_at),
        }
    return JsonResponse(signing.signed(answer, _secret()))


def report_document(day: date) -> dict[str, Any]:
    """The daily report: the merchant's successful transactions paid on `day` (province
    time), as seeded (hidden ones left out, amounts and statuses replaced)."""
    start, end = _day_bounds(day)
    rows = SimulatedTransaction.objects.filter(
        merchant_code=_merchant(),
        status=SUCCESS,
        paid_at__gte=start,
        paid_at__lt=end,
        report_hidden=False,
    ).order_by("paid_at", "pk")
    return {
        "date": day.isoformat(),
        "merchant_code": _merchant(),
        "transactions": [
            {
                "order_id": tx.order_id,
                "transaction_id": tx.transaction_id,
                "amount": tx.report_amount if tx.report_amount is not None else tx.amount,
                "status": tx.report_status or tx.status,
                "paid_at": _iso(tx.paid_at),
            }
            for tx in rows
        ],
    }


@csrf_exempt
@require_POST
def report(request: HttpRequest) -> JsonResponse:
    fields, failure = _signed_call(request)
    if failure is not None:
        return failure
    try:
        day = date.fromisoformat(str(fields.get("date", "")))
    except ValueError:
        return _error(400, "invalid", "date must be YYYY-MM-DD")
    body = json.dumps(report_document(day), ensure_ascii=False)
    return JsonResponse({"body": body, "signature": signing.sign_body(body.encode(), _secret())})


# --- the console ------------------------------------------------------------------------------


def _back_to_console() -> HttpResponseRedirect:
    return _see_other(reverse("sim:paygov:console"))


@never_cache
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    now = simulators.now()
    rows = [
        {
            "tx": tx,
            "amount": vnd(tx.amount),
            "report_amount": vnd(tx.report_amount),
            "status_label": STATUS_LABELS.get(tx.status, tx.status),
            "mode_label": MODE_LABELS.get(tx.notify_mode, tx.notify_mode),
            "final": tx.status in FINAL,
        }
        for tx in SimulatedTransaction.objects.order_by("-created_at", "-pk")[:100]
    ]
    due = SimulatedTransaction.objects.filter(
        notify_mode="late", notify_due_at__isnull=False, notify_due_at__lte=now
    ).count()
    return render(
        request,
        "payments/sim/console.html",
        {
            "rows": rows,
            "due": due,
            "today": timezone.localdate(now).isoformat(),
            "report_statuses": REPORT_STATUSES,
        },
    )


@csrf_exempt
@require_POST
def console_notify(request: HttpRequest, order_id: str) -> HttpResponse:
    tx = get_object_or_404(SimulatedTransaction, order_id=order_id)
    if tx.status not in FINAL:
        messages.error(request, f"Giao dịch {tx.order_id} chưa có kết quả, chưa thể thông báo.")
        return _back_to_console()
    # Sent now instead of later: a late notification is not sent a second time.
    SimulatedTransaction.objects.filter(pk=tx.pk).update(notify_due_at=None)
    result = deliver(tx)
    messages.info(request, f"Đã gửi thông báo giao dịch {tx.order_id}: {result}")
    return _back_to_console()


@csrf_exempt
@require_POST
def console_seed(request: HttpRequest, order_id: str) -> HttpResponse:
    get_object_or_404(SimulatedTransaction, order_id=order_id)
    action = request.POST.get("action", "")
    value = request.POST.get("value", "").strip()
    try:
        if action == "hide":
            seed_hidden(order_id)
        elif action == "show":
            seed_hidden(order_id, hidden=False)
        elif action == "amount":
            seed_amount(order_id, int(value) if value else None)
        elif action == "status":
            seed_status(order_id, value)
        else:
            raise ValueError(action)
    except ValueError:
        messages.error(request, "Giá trị không hợp lệ.")
    else:
        messages.info(request, f"Đã cập nhật báo cáo đối soát cho giao dịch {order_id}.")
    return _back_to_console()


@csrf_exempt
@require_POST
def console_phantom(request: HttpRequest) -> HttpResponse:
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
        tx = seed_phantom(day, int(request.POST.get("amount", "")))
    except ValueError:
        messages.error(request, "Ngày hoặc số tiền không hợp lệ.")
    else:
        messages.info(request, f"Đã tạo giao dịch lạ {tx.order_id} ngày {day:%d/%m/%Y}.")
    return _back_to_console()


@csrf_exempt
@require_POST
def console_deliver_due(request: HttpRequest) -> HttpResponse:
    sent = deliver_due()
    messages.info(request, f"Đã gửi {sent} thông báo muộn.")
    return _back_to_console()


app_name = "paygov"
urlpatterns = [
    path("", console, name="console"),
    path("pay", pay, name="pay"),
    path("pay/<str:order_id>/", outcome, name="outcome"),
    path("query", query, name="query"),
    path("report", report, name="report"),
    path("console/deliver-due", console_deliver_due, name="deliver_due"),
    path("console/phantom", console_phantom, name="phantom"),
    path("console/<str:order_id>/notify", console_notify, name="notify"),
    path("console/<str:order_id>/seed", console_seed, name="seed"),
]
