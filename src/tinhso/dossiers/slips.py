"""The one-stop desk's slips (phiếu) as printable PDFs, after the forms annexed to Thông tư
01/2018/TT-VPCP: the receipt with its appointment, the refusal at reception, the supplement
request and the apology with a new appointment.

Everything a slip shows comes from the dossier and its append-only events, so a slip printed
again later says what was said then (the latest supplement request, the latest apology).
Each slip carries the dossier code and a QR code of the public tracking link. Rendering is
local only: WeasyPrint gets a URL fetcher that refuses every remote (and file) resource, and
the fonts are the system's DejaVu Serif/Sans (complete Vietnamese coverage)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import segno
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from tinhso.core.models import Agency, Role
from tinhso.dossiers.links import tracking_url
from tinhso.dossiers.models import ApplicantKind, DocumentKind, Dossier, DossierEvent
from tinhso.dossiers.states import Action, Channel, Status

logger = logging.getLogger(__name__)


class SlipKind(models.TextChoices):
    """The slips, titled as in the forms of Thông tư 01/2018/TT-VPCP (these are legal
    titles, printed in Vietnamese whatever the interface language)."""

    RECEIPT = "receipt", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    REFUSAL = "refusal", "Phiếu từ chối tiếp nhận giải quyết hồ sơ"
    SUPPLEMENT = "supplement", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
    APOLOGY = "apology", "Phiếu xin lỗi và hẹn lại ngày trả kết quả"


#: The suffix of each slip's number (`Số: 0004/TNHS`); the number is the dossier's daily
#: sequence, so it is unique per agency and day like the code itself.
NUMBER_SUFFIX = {
    SlipKind.RECEIPT: "TNHS",
    SlipKind.REFUSAL: "TCHS",
    SlipKind.SUPPLEMENT: "YCBS",
    SlipKind.APOLOGY: "XLHS",
}

CHANNEL_LABELS = {
    Channel.ONLINE: "Trực tuyến (Cổng dịch vụ công)",
    Channel.DESK: "Trực tiếp tại Bộ phận tiếp nhận và trả kết quả",
    Channel.POST: "Qua dịch vụ bưu chính công ích",
}

_PROVINCE_PREFIXES = ("Thành phố ", "Thành Phố ", "Tỉnh ", "TP. ", "TP ")


# --- local-only fetching ----------------------------------------------------------------------


class RemoteFetchRefused(ValueError):
    """A slip tried to load a resource from outside (a URL other than `data:`)."""


class LocalOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, allowed nothing but inline `data:` URIs: no http(s), no
    ftp, no file. A refused resource is left out of the PDF with a warning."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.lower().startswith("data:"):
            logger.warning("slip rendering refused to fetch %s", url[:200])
            raise RemoteFetchRefused(f"Slips are rendered offline; refused to fetch {url[:200]}")
        return super().fetch(url, headers)


def url_fetcher(url: str) -> Any:
    """Fetch `url` the way slip rendering does (refuses anything but `data:`)."""
    return LocalOnlyFetcher().fetch(url)


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF bytes, offline."""
    return HTML(string=html, base_url=None, url_fetcher=LocalOnlyFetcher()).write_pdf()


# --- formatting -------------------------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


def format_date(value: datetime | None) -> str:
    """dd/mm/yyyy in Vietnam's time."""
    if value is None:
        return "…/…/……"
    return f"{timezone.localtime(value):%d/%m/%Y}"


def format_time(value: datetime | None) -> str:
    """`14 giờ 30 phút`."""
    if value is None:
        return "… giờ … phút"
    local = timezone.localtime(value)
    return f"{local:%H} giờ {local:%M} phút"


def format_datetime(value: datetime | None) -> str:
    """`14 giờ 30 phút, ngày 05/11/2025`."""
    return f"{format_time(value)}, ngày {format_date(value)}"


def format_long_date(value: datetime | None) -> str:
    """`ngày 05 tháng 11 năm 2025`: days below 10 and the months January and February take a
    leading zero, as administrative documents write them (Nghị định 30/2020/NĐ-CP)."""
    if value is None:
        return "ngày … tháng … năm …"
    local = timezone.localtime(value)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"ngày {local.day:02d} tháng {month} năm {local.year}"


def format_place_date(place: str, value: datetime | None) -> str:
    """`Thái Nguyên, ngày 05 tháng 11 năm 2025`."""
    return f"{place}, {format_long_date(value)}"


def format_working_days(days: Decimal | int | float) -> str:
    """`3 ngày làm việc`, `0,5 ngày làm việc`."""
    text = format(Decimal(days).normalize(), "f").replace(".", ",")
    return f"{text} ngày làm việc"


def place_name(agency: Agency) -> str:
    """The province's name as written in the place-and-date line (`Thái Nguyên`,
    `Hà Nội`), without its `Tỉnh`/`Thành phố` prefix."""
    name = agency.unit.province().name.strip()
    for prefix in _PROVINCE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


# --- QR code ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingQR:
    link: str
    svg: str


def tracking_qr(dossier: Dossier) -> TrackingQR:
    """The public tracking link and its QR code as inline SVG (sized by the stylesheet)."""
    link = tracking_url(dossier)
    qr = segno.make(link, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None)
    return TrackingQR(link=link, svg=svg)


# --- availability and data --------------------------------------------------------------------


def _events(dossier: Dossier) -> list[DossierEvent]:
    return list(dossier.events.select_related("actor", "agency").order_by("seq"))


def _latest(events: list[DossierEvent], action: str) -> DossierEvent | None:
    return next((e for e in reversed(events) if e.action == action), None)


#: The event each slip records.
SLIP_ACTIONS = {
    SlipKind.RECEIPT: Action.RECEIVE,
    SlipKind.REFUSAL: Action.REFUSE,
    SlipKind.SUPPLEMENT: Action.REQUEST_SUPPLEMENT,
    SlipKind.APOLOGY: Action.APOLOGIZE,
}


def _slip_event(dossier: Dossier, kind: str, events: list[DossierEvent]) -> DossierEvent | None:
    """The event a slip records (the latest of its kind); None when the dossier has no such
    slip."""
    if kind not in SlipKind.values:
        return None
    if kind == SlipKind.REFUSAL and dossier.status != Status.REFUSED:
        return None
    return _latest(events, SLIP_ACTIONS[SlipKind(kind)])


def slip_available(dossier: Dossier, kind: str) -> bool:
    """Receipt once received; refusal when refused; supplement when a supplement request
    was made; apology when an apology was issued (read from the dossier's events)."""
    if kind not in SlipKind.values:
        return False
    if kind == SlipKind.REFUSAL and dossier.status != Status.REFUSED:
        return False
    return dossier.events.filter(action=SLIP_ACTIONS[SlipKind(kind)]).exists()


def available_slips(dossier: Dossier) -> list[SlipKind]:
    """The slips that can be printed for `dossier`, in the order they are issued."""
    events = _events(dossier)
    return [kind for kind in SlipKind if _slip_event(dossier, kind, events) is not None]


def _person(event: DossierEvent | None) -> str:
    if event is None or event.actor is None:
        return ""
    return event.actor.full_name or event.actor.get_username()


def _applicant(dossier: Dossier) -> dict[str, str]:
    is_business = dossier.applicant_kind == ApplicantKind.BUSINESS
    return {
        "name": dossier.applicant_name,
        "honorific": "Tổ chức" if is_business else "Ông/Bà",
        "id_label": "Mã số thuế" if is_business else "Số định danh cá nhân",
        "id_number": dossier.applicant_id_number,
        "address": dossier.applicant_address,
        "phone": dossier.applicant_phone,
        "email": dossier.applicant_email,
    }


def _number(dossier: Dossier, kind: SlipKind, events: list[DossierEvent]) -> str:
    sequence = dossier.code.rsplit("-", 1)[-1]
    repeated = {SlipKind.SUPPLEMENT: Action.REQUEST_SUPPLEMENT, SlipKind.APOLOGY: Action.APOLOGIZE}
    if kind in repeated:
        count = sum(1 for e in events if e.action == repeated[kind])
        if count > 1:
            sequence = f"{sequence}.{count}"
    return f"{sequence}/{NUMBER_SUFFIX[kind]}"


def slip_context(dossier: Dossier, kind: str) -> dict[str, Any]:
    """The data one slip prints, from the dossier and its events. Raises `ValueError` for a
    slip the dossier does not have (see `slip_available`)."""
    slip = SlipKind(kind)
    events = _events(dossier)
    event = _slip_event(dossier, slip, events)
    if event is None:
        raise ValueError(f"Dossier {dossier.code} has no {slip.value} slip.")
    # The apology comes from the agency that will be late (the one whose official issued it);
    # the desk's slips from the receiving agency.
    agency = event.agency if slip == SlipKind.APOLOGY else dossier.agency
    qr = tracking_qr(dossier)
    procedure = dossier.procedure
    context: dict[str, Any] = {
        "kind": slip.value,
        "title": slip.label,
        "dossier": dossier,
        "code": dossier.code,
        "agency": agency,
        "agency_name": agency.name,
        "parent_agency_name": agency.parent.name if agency.parent_id else "",
        "from_desk": slip != SlipKind.APOLOGY,
        "number": _number(dossier, slip, events),
        "issued_at": event.at,
        "place_date": format_place_date(place_name(agency), event.at),
        "tracking_url": qr.link,
        "qr_svg": mark_safe(qr.svg),  # generated by segno from the link, no user markup
        "applicant": _applicant(dossier),
        "procedure_name": procedure.name,
        "procedure_code": procedure.code,
        "signer": _person(event),
        "reason": event.reason,
    }
    if slip == SlipKind.RECEIPT:
        documents = dossier.documents.filter(kind=DocumentKind.INPUT).order_by("pk")
        appointment = (
            _as_datetime(event.data.get("due_at")) or dossier.original_due_at or dossier.due_at
        )
        context.update(
            documents=[
                {
                    "name": doc.name,
                    "form": (
                        "Tái sử dụng dữ liệu"
                        if doc.is_reused
                        else "Bản điện tử"
                        if doc.is_digitised
                        else "Bản giấy"
                    ),
                }
                for doc in documents
            ],
            processing_time=format_working_days(procedure.processing_days),
            received_at=event.at,
            received_at_text=format_datetime(event.at),
            appointment=appointment,
            appointment_text=format_datetime(appointment),
            channel=CHANNEL_LABELS.get(dossier.channel, dossier.channel),
        )
    elif slip == SlipKind.REFUSAL:
        context.update(refused_at_text=format_datetime(event.at))
    elif slip == SlipKind.SUPPLEMENT:
        context.update(
            missing=[str(item) for item in event.data.get("missing", []) if str(item).strip()],
            requested_at_text=format_datetime(event.at),
            contact_phone=agency.phone,
        )
    elif slip == SlipKind.APOLOGY:
        previous = _as_datetime(event.data.get("previous_due_at"))
        new = _as_datetime(event.data.get("due_at"))
        received_at = dossier.received_at
        context.update(
            previous_appointment=previous,
            previous_appointment_text=format_datetime(previous),
            new_appointment=new,
            new_appointment_text=format_datetime(new),
            # The head of the agency signs; an apology recorded by the desk leaves it blank.
            signer=context["signer"]
            if event.actor is not None and event.actor.has_role(Role.AGENCY_LEADER)
            else "",
            received_date_text=format_long_date(received_at),
        )
    return context


# --- rendering --------------------------------------------------------------------------------


def render_slip_html(dossier: Dossier, kind: str) -> SafeString:
    context = slip_context(dossier, kind)
    return render_to_string(f"dossiers/slips/{context['kind']}.html", context)


def render_slip_pdf(dossier: Dossier, kind: str) -> bytes:
    """The slip as an A4 PDF."""
    return html_to_pdf(render_slip_html(dossier, kind))


__all__ = [
    "LocalOnlyFetcher",
    "RemoteFetchRefused",
    "SlipKind",
    "TrackingQR",
    "available_slips",
    "format_date",
    "format_datetime",
    "format_long_date",
    "format_place_date",
    "format_time",
    "html_to_pdf",
    "render_slip_html",
    "render_slip_pdf",
    "slip_available",
    "slip_context",
    "tracking_qr",
    "tracking_url",
    "url_fetcher",
]
