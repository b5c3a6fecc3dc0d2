"""Notifying the applicant by email and SMS (docs/integration.md#notifications-email-and-sms).

`on_dossier_event` is an in-transaction dossier hook: for each event the applicant cares about
(received, supplement requested, refused, apology, approved, rejected, result returned,
withdrawn) it renders the Vietnamese texts now and enqueues one outbox message per channel
the applicant has a contact for, so the notification commits or rolls back with the change.
The outbox delivers them (`deliver_email`, `deliver_sms`): retried when the mail server or
the SMS gateway fails, in order per dossier and channel, keyed `notify:<channel>:<code>:<seq>`."""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from tinhso.dossiers.links import tracking_url
from tinhso.dossiers.models import ApplicantKind, Dossier, DossierEvent, ReturnMethod
from tinhso.dossiers.states import Action
from tinhso.integration import outbox
from tinhso.integration.models import OutboxMessage
from tinhso.notifications import sms

EMAIL = "email"
SMS = "sms"

#: The dossier actions the applicant is told about, and the template each one uses
#: (`notifications/<event>.txt` for SMS, `<event>_subject.txt` and `<event>_email.txt`).
EVENTS: dict[str, str] = {
    Action.RECEIVE: "received",
    Action.REQUEST_SUPPLEMENT: "supplement_requested",
    Action.REFUSE: "refused",
    Action.APOLOGIZE: "apology",
    Action.APPROVE: "approved",
    Action.REJECT: "rejected",
    Action.RETURN_RESULT: "result_returned",
    Action.WITHDRAW: "withdrawn",
}

RETURN_METHODS = {
    ReturnMethod.DESK: "tại Bộ phận Một cửa",
    ReturnMethod.POST: "qua dịch vụ bưu chính công ích",
    ReturnMethod.ONLINE: "trực tuyến",
}

#: How long a reason or a list of documents may run in an SMS before it is cut (the email
#: and the tracking page have the whole text).
SMS_DETAIL_CHARS = 40


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    sms: str


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _when_short(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local:%H:%M} {local:%d/%m/%Y}"


def _short(text: str, limit: int = SMS_DETAIL_CHARS) -> str:
    """One line, at most `limit` characters, without a closing full stop (the template
    punctuates)."""
    flat = " ".join(text.split()).rstrip(" .;,")
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip(" .;,") + "…"
    return flat


def context_for(event: DossierEvent) -> dict[str, Any]:
    d: Dossier = event.dossier
    citizen = d.applicant_kind != ApplicantKind.BUSINESS
    missing = [str(item) for item in (event.data or {}).get("missing", []) if str(item).strip()]
    reason = event.reason.strip()
    previous_due = (event.data or {}).get("previous_due_at")
    if isinstance(previous_due, str):
        previous_due = datetime.fromisoformat(previous_due)
    return {
        "code": d.code,
        "procedure": d.procedure.name,
        "agency": d.agency.name,
        "applicant": d.applicant_name,
        # How a letter addresses the applicant: a person, or an organisation by its name.
        "salutation": f"Ông/Bà {d.applicant_name}" if citizen else d.applicant_name,
        "you": "Ông/Bà" if citizen else "Quý tổ chức",
        "at": _when(event.at),
        "appointment": _when(d.due_at),
        "appointment_short": _when_short(d.due_at),
        "previous_appointment": _when(previous_due),
        "reason": reason,
        "reason_short": _short(reason),
        "missing": missing,
        "missing_short": _short("; ".join(missing)) if missing else "",
        "result": d.result_summary,
        "return_method": RETURN_METHODS.get(d.return_method, ""),
        "tracking_url": tracking_url(d),
        "province": settings.TINHSO_PROVINCE_NAME,
    }


def _render(name: str, context: dict[str, Any]) -> str:
    # Plain text: no HTML escaping of names, reasons or links.
    template = get_template(f"notifications/{name}")
    return template.template.render(Context(context, autoescape=False))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render(event_name: str, context: dict[str, Any]) -> Rendered:
    """The subject, email body and SMS text of one event, in Vietnamese."""
    with translation.override("vi"):
        return Rendered(
            subject=_one_line(_render(f"{event_name}_subject.txt", context)),
            body=_paragraphs(_render(f"{event_name}_email.txt", context)),
            sms=_one_line(_render(f"{event_name}.txt", context)),
        )


# --- enqueueing -------------------------------------------------------------------------------


def on_dossier_event(event: DossierEvent) -> None:
    """In-transaction dossier hook: one message per channel the applicant can be reached on."""
    event_name = EVENTS.get(event.action)
    if event_name is None:
        return
    d: Dossier = event.dossier
    email = d.applicant_email.strip()
    phone = "".join(d.applicant_phone.split())
    if not email and not phone:
        return
    rendered = render(event_name, context_for(event))
    common = {"event": event_name, "dossier_code": d.code, "seq": event.seq}
    if email:
        _enqueue(
            EMAIL, event, common | {"to": email, "subject": rendered.subject, "body": rendered.body}
        )
    if phone:
        _enqueue(SMS, event, common | {"phone": phone, "text": rendered.sms})


def _enqueue(channel: str, event: DossierEvent, payload: dict[str, Any]) -> None:
    code = event.dossier.code
    outbox.enqueue(
        adapter=channel,
        topic=f"notify.{payload['event']}",
        payload=payload,
        ordering_key=f"notify:{channel}:{code}",
        idempotency_key=f"notify:{channel}:{code}:{event.seq}",
    )


# --- delivering -------------------------------------------------------------------------------


def _message_id(idempotency_key: str, from_email: str) -> str:
    """A Message-ID fixed by the idempotency key: a repeat after a lost answer carries the
    same id, which many mail systems use to drop the duplicate."""
    domain = from_email.rpartition("@")[2] or "localhost"
    local = re.sub(r"[^A-Za-z0-9.\-]", ".", idempotency_key)
    return f"<{local}@{domain}>"


def deliver_email(message: OutboxMessage) -> None:
    payload = message.payload
    from_email = settings.TINHSO_NOTIFY_FROM_EMAIL
    email = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        from_email=from_email,
        to=[payload["to"]],
        headers={
            "Message-ID": _message_id(message.idempotency_key, from_email),
            "X-Tinhso-Idempotency-Key": message.idempotency_key,
        },
    )
    try:
        sent = email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        # Every recipient refused: a permanent (5xx) refusal will not change by retrying.
        permanent = all(code >= 500 for code, _msg in exc.recipients.values())
        raise outbox.DeliveryFailed(
            f"email: recipient refused: {exc.recipients}", retryable=not permanent
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:  # server down, timeout, 4xx, reset
        raise outbox.DeliveryFailed(
            f"email: {exc.__class__.__name__}: {exc}", retryable=True
        ) from exc
    if not sent:
        raise outbox.DeliveryFailed("email: the mail backend sent nothing", retryable=True)


def deliver_sms(message: OutboxMessage) -> None:
    payload = message.payload
    try:
        sms.get_gateway().send(
            payload["phone"], payload["text"], idempotency_key=message.idempotency_key
        )
    except sms.SmsError as exc:
        raise outbox.DeliveryFailed(f"sms: {exc.detail}", retryable=exc.retryable) from exc
    except OSError as exc:
        raise outbox.DeliveryFailed(
            f"sms: {exc.__class__.__name__}: {exc}", retryable=True
        ) from exc


def register() -> None:
    from tinhso.dossiers import hooks

    outbox.register_adapter(EMAIL, deliver_email)
    outbox.register_adapter(SMS, deliver_sms)
    hooks.register_in_transaction(on_dossier_event)
