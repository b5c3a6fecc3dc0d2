"""The electronic receipt of a fee or charge (biên lai thu phí, lệ phí điện tử) as a PDF.

One receipt per payment, numbered by the services (`BL-<year>-<sequence>`, gap-free). It
shows what Nghị định 123/2020/NĐ-CP asks of a receipt: the collecting agency, the receipt's
number and date, the payer, what was collected and on what legal basis, the total in figures
and in words, and how it was paid. It is printed in Vietnamese whatever the interface
language (a legal document, like the dossier slips) and is rendered like the slips: the
slips' stylesheet (`dossiers/slips/base.html`), WeasyPrint offline, a QR code of the
dossier's public tracking link.

`render_receipt_pdf(payment)` is the one entry point for the PDF; `receipt_response` wraps it
in the HTTP response every view serving a receipt returns (the desk's and the portal's)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML

from tinhso.catalog.entries import format_vnd
from tinhso.dossiers.slips import (
    LocalOnlyFetcher,
    format_datetime,
    format_long_date,
    format_place_date,
    place_name,
    tracking_qr,
)
from tinhso.payments.models import Payment, PaymentMethod

TITLE = "Biên lai thu phí, lệ phí"

# --- the amount in words -----------------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _three(n: int, *, full: bool) -> list[str]:
    """Words for 0 < n < 1000. `full`: the group follows a higher one, so its hundreds and
    its `linh` are spoken even when zero (`một triệu không trăm linh năm nghìn`)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 5 and tens >= 1:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _number_words(n: int, *, full: bool = False) -> list[str]:
    """Words for n > 0: groups of three digits under `tỷ`, read again above it, so a
    thousand billion is `một nghìn tỷ`."""
    billions, rest = divmod(n, 1_000_000_000)
    words: list[str] = []
    if billions:
        words += [*_number_words(billions, full=full), "tỷ"]
    for size, unit in ((1_000_000, "triệu"), (1_000, "nghìn"), (1, "")):
        group = rest // size % 1000
        if group:
            words += _three(group, full=full or bool(words))
            if unit:
                words.append(unit)
    return words


def amount_in_words(n: int) -> str:
    """An amount of đồng in Vietnamese words, as receipts write it: 50000 → "Năm mươi nghìn
    đồng", 105000 → "Một trăm linh năm nghìn đồng", 0 → "Không đồng"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("amount_in_words takes a whole number of đồng")
    if n < 0:
        raise ValueError("amount_in_words takes a non-negative amount")
    text = " ".join([*(_number_words(n) if n else ["không"]), "đồng"])
    return text[0].upper() + text[1:]


# --- the receipt -------------------------------------------------------------------------------

METHOD_TEXT = {
    PaymentMethod.CASH: "Tiền mặt tại Bộ phận tiếp nhận và trả kết quả",
    PaymentMethod.ONLINE: "Trực tuyến qua Nền tảng thanh toán của Cổng Dịch vụ công quốc gia",
}


def receipt_context(payment: Payment) -> dict[str, Any]:
    """What the receipt of `payment` prints."""
    bill = payment.bill
    dossier = bill.dossier
    agency = bill.agency
    qr = tracking_qr(dossier)
    lines = [
        {
            "description": line.description,
            "legal_basis": line.legal_basis or bill.legal_basis,
            "amount": format_vnd(line.amount),
        }
        for line in bill.lines.all()
    ]
    collector = ""
    if payment.recorded_by is not None:
        collector = payment.recorded_by.full_name or payment.recorded_by.get_username()
    return {
        "payment": payment,
        "title": TITLE,
        # The slips' layout prints `code` in the code box and the page footer.
        "code": dossier.code,
        "number": payment.receipt_number,
        "receipt_number": payment.receipt_number,
        "agency": agency,
        "agency_name": agency.name,
        "agency_code": agency.code,
        "parent_agency_name": agency.parent.name if agency.parent_id else "",
        "from_desk": False,
        "place_date": format_place_date(place_name(agency), payment.paid_at),
        "paid_date_text": format_long_date(payment.paid_at),
        "paid_at_text": format_datetime(payment.paid_at),
        "tracking_url": qr.link,
        "qr_svg": mark_safe(qr.svg),  # generated by segno from the link, no user markup
        "payer_name": bill.payer_name,
        "payer_id_number": dossier.applicant_id_number,
        "payer_address": dossier.applicant_address,
        "dossier_code": dossier.code,
        "procedure_name": dossier.procedure.name,
        "procedure_code": dossier.procedure.code,
        "bill_number": bill.number,
        "lines": lines,
        "total": format_vnd(payment.amount),
        "total_words": amount_in_words(payment.amount),
        "method": METHOD_TEXT.get(payment.method, payment.method),
        "is_online": payment.method == PaymentMethod.ONLINE,
        "transaction_id": payment.transaction_id or "",
        "order_id": payment.order.order_id if payment.order_id else "",
        "collector": collector,
        "needs_refund": payment.needs_refund,
        "refunded": format_vnd(payment.refunded_amount) if payment.refunded_amount else "",
        "refunded_words": amount_in_words(payment.refunded_amount)
        if payment.refunded_amount
        else "",
    }


def render_receipt_html(payment: Payment) -> SafeString:
    return render_to_string("payments/receipt.html", receipt_context(payment))


def render_receipt_pdf(payment: Payment) -> bytes:
    """The receipt of `payment` as an A4 PDF, rendered offline, titled with its number."""
    document = HTML(
        string=render_receipt_html(payment), base_url=None, url_fetcher=LocalOnlyFetcher()
    ).render()
    document.metadata.title = f"{TITLE} số {payment.receipt_number}"
    document.metadata.description = f"Hồ sơ {payment.bill.dossier.code}"
    return document.write_pdf()


def receipt_response(payment: Payment) -> HttpResponse:
    """The receipt as an inline PDF response, not cached by anyone on the way (it carries
    personal data). The caller looks the payment up in the requester's scope first."""
    response = HttpResponse(render_receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{payment.receipt_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


__all__ = [
    "amount_in_words",
    "receipt_context",
    "receipt_response",
    "render_receipt_html",
    "render_receipt_pdf",
]
