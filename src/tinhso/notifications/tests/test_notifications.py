"""Notifying the applicant: each event they care about enqueues, in the transition's
transaction, one email and one SMS (when they have that contact), rendered in Vietnamese;
the outbox delivers each exactly once, retrying a failed send."""

from __future__ import annotations

import dataclasses
import smtplib
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk, vn
from tinhso.integration import outbox, simulators
from tinhso.integration.adapters import national_portal
from tinhso.integration.models import MessageState, OutboxMessage, SimulatorRecord
from tinhso.notifications import notify, sms

desk = dossier_fixtures.desk  # the dossier personas, shared
T0 = vn(2026, 11, 30, 8, 0)
EMAIL = "an.nguyen@example.vn"


@pytest.fixture(autouse=True)
def portal():
    """The national portal accepts everything (its messages share the outbox with ours)."""
    previous = national_portal.set_transport(lambda url, body, headers, timeout: (200, b"{}"))
    outbox.rng.seed(11)
    yield
    national_portal.set_transport(previous)


@pytest.fixture
def with_email(desk: Desk) -> Desk:
    desk.applicant = dataclasses.replace(desk.applicant, email=EMAIL)
    return desk


def notifications(dossier: Dossier, channel: str | None = None) -> list[OutboxMessage]:
    adapters = [channel] if channel else [notify.EMAIL, notify.SMS]
    return list(
        OutboxMessage.objects.filter(
            adapter__in=adapters, payload__dossier_code=dossier.code
        ).order_by("id")
    )


def sms_sent() -> list[SimulatorRecord]:
    return list(SimulatorRecord.objects.filter(simulator=sms.SIMULATOR))


def test_a_reception_enqueues_one_email_and_one_sms_in_vietnamese(with_email):
    dossier = with_email.received(T0)
    email, text = notifications(dossier)
    assert (email.adapter, text.adapter) == ("email", "sms")
    assert email.idempotency_key == f"notify:email:{dossier.code}:2"
    assert email.ordering_key == f"notify:email:{dossier.code}"
    assert text.idempotency_key == f"notify:sms:{dossier.code}:2"
    assert text.ordering_key == f"notify:sms:{dossier.code}"
    assert email.topic == text.topic == "notify.received"
    assert email.state == text.state == MessageState.PENDING

    appointment = dossier.due_at.astimezone(vn(2026, 1, 1).tzinfo)
    link = f"http://127.0.0.1:8000/track/{dossier.code}"
    assert email.payload["to"] == EMAIL
    assert email.payload["subject"] == (
        f"[Dịch vụ công Thái Nguyên] Hồ sơ {dossier.code} đã được tiếp nhận"
    )
    body = email.payload["body"]
    assert body.startswith("Kính gửi Ông/Bà Nguyễn Văn An,\n\n")
    assert f"Hồ sơ {dossier.code} của Ông/Bà đã được" in body
    assert f"Ngày hẹn trả kết quả: {appointment:%H:%M} ngày {appointment:%d/%m/%Y}." in body
    assert "Thủ tục: Đăng ký khai sinh" in body
    assert f"Tra cứu tình trạng hồ sơ: {link}" in body
    assert "\n\n\n" not in body

    assert text.payload["phone"] == "0912345678"
    assert text.payload["text"] == (
        f"Hồ sơ {dossier.code} đã được tiếp nhận. "
        f"Hẹn trả kết quả: {appointment:%H:%M %d/%m/%Y}. Tra cứu: {link}"
    )
    assert len(text.payload["text"]) <= 160


def test_an_applicant_without_email_gets_only_the_sms(desk):
    dossier = desk.received(T0)
    [message] = notifications(dossier)
    assert message.adapter == "sms"


def test_an_applicant_without_phone_gets_only_the_email(with_email):
    with_email.applicant = dataclasses.replace(with_email.applicant, phone="")
    dossier = with_email.received(T0)
    [message] = notifications(dossier)
    assert message.adapter == "email"


def test_an_applicant_without_contact_gets_nothing(desk):
    desk.applicant = dataclasses.replace(desk.applicant, phone="")
    assert notifications(desk.received(T0)) == []


def test_submission_and_internal_steps_notify_nothing(with_email):
    dossier = with_email.submit(T0)
    assert notifications(dossier) == []
    dossier = services.dossier_receive(actor=with_email.desk, dossier=dossier, at=T0)
    assert len(notifications(dossier)) == 2
    dossier = services.dossier_assign(
        actor=with_email.department_leader,
        dossier=dossier,
        department=with_email.department,
        assignee=with_email.specialist,
        at=T0,
    )
    dossier = services.dossier_forward(actor=with_email.specialist, dossier=dossier, at=T0)
    assert len(notifications(dossier)) == 2  # still only the reception's
    # The national portal still hears of every step.
    assert OutboxMessage.objects.filter(adapter="national_portal").count() == 4


def test_a_rolled_back_transition_sends_nothing(with_email, mailoutbox):
    dossier = with_email.submit(T0)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.dossier_receive(actor=with_email.desk, dossier=dossier, at=T0)
        assert len(notifications(dossier)) == 2
        raise RuntimeError("something after the reception failed")
    assert notifications(dossier) == []
    outbox.deliver_due(worker="t")
    assert mailoutbox == []
    assert sms_sent() == []


def test_delivery_sends_the_email_and_the_sms_exactly_once(with_email, mailoutbox):
    dossier = with_email.received(T0)
    outbox.deliver_due(worker="t")
    outbox.deliver_due(worker="t")  # a second round finds nothing to send
    [mail] = mailoutbox
    assert mail.to == [EMAIL]
    assert mail.from_email == "no-reply@dichvucong.thainguyen.gov.vn"
    assert mail.subject.endswith(f"Hồ sơ {dossier.code} đã được tiếp nhận")
    assert "Ngày hẹn trả kết quả:" in mail.body
    assert mail.extra_headers["Message-ID"] == (
        f"<notify.email.{dossier.code}.2@dichvucong.thainguyen.gov.vn>"
    )
    [record] = sms_sent()
    assert record.idempotency_key == f"notify:sms:{dossier.code}:2"
    assert record.payload["phone"] == "0912345678"
    assert record.payload["text"].startswith(f"Hồ sơ {dossier.code} đã được tiếp nhận.")
    assert {m.state for m in notifications(dossier)} == {MessageState.DELIVERED}


def test_a_repeated_sms_delivery_is_not_sent_twice(desk):
    """A worker killed after the gateway took the SMS: the next worker sends it again with
    the same key, and the gateway drops the repeat."""
    dossier = desk.received(T0)
    [message] = notifications(dossier)
    notify.deliver_sms(message)
    notify.deliver_sms(message)
    assert len(sms_sent()) == 1


def test_an_smtp_failure_is_retried_later_then_delivered_once(with_email, mailoutbox, monkeypatch):
    dossier = with_email.received(T0)
    real_send = EmailMessage.send

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPException("421 service not available")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    now = timezone.now()
    outbox.deliver_due(worker="t", now=now)
    [email] = notifications(dossier, "email")
    assert email.state == MessageState.PENDING
    assert email.attempts == 1
    assert "SMTPException" in email.last_error and "421" in email.last_error
    assert email.next_attempt_at > now
    assert mailoutbox == []
    assert len(sms_sent()) == 1  # the SMS does not wait for the email

    monkeypatch.setattr(EmailMessage, "send", real_send)
    assert outbox.deliver_due(worker="t", now=now) == 0  # not due yet
    outbox.deliver_due(worker="t", now=email.next_attempt_at)
    outbox.deliver_due(worker="t", now=email.next_attempt_at + timedelta(minutes=5))
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert email.state == MessageState.DELIVERED
    assert email.attempts == 2


def test_a_recipient_refused_for_good_is_a_dead_letter(with_email, monkeypatch):
    dossier = with_email.received(T0)

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({EMAIL: (550, b"no such user")})

    monkeypatch.setattr(EmailMessage, "send", refuse)
    outbox.deliver_due(worker="t")
    [email] = notifications(dossier, "email")
    assert email.state == MessageState.DEAD


def test_a_failing_sms_gateway_is_retried(desk):
    dossier = desk.received(T0)
    simulators.fail_next(sms.SIMULATOR, 1)
    outbox.deliver_due(worker="t", now=timezone.now())
    [message] = notifications(dossier)
    assert message.state == MessageState.PENDING
    assert "failed (simulated)" in message.last_error
    assert sms_sent() == []
    outbox.deliver_due(worker="t", now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert len(sms_sent()) == 1


def test_the_console_gateway_prints(desk, capsys):
    dossier = desk.received(T0)
    with override_settings(TINHSO_SMS_BACKEND="tinhso.notifications.sms.ConsoleSmsGateway"):
        outbox.deliver_due(worker="t")
    assert f"Hồ sơ {dossier.code} đã được tiếp nhận." in capsys.readouterr().out
    assert sms_sent() == []


def _journeys(d: Desk) -> list[Dossier]:
    """Every event the applicant hears of, spread over a few dossiers."""
    leader, desk_officer = d.agency_leader, d.desk
    refused = services.dossier_refuse(
        actor=desk_officer, dossier=d.submit(T0), reason="Tờ khai chưa có chữ ký.", at=T0
    )
    supplement = services.dossier_request_supplement(
        actor=desk_officer,
        dossier=d.received(T0),
        reason="Thiếu giấy chứng sinh.",
        missing=["Giấy chứng sinh", "Giấy chứng nhận kết hôn của cha mẹ"],
        at=T0,
    )
    approved = d.in_processing(T0)
    approved = services.dossier_apologize(
        actor=leader,
        dossier=approved,
        new_due_at=approved.due_at + timedelta(days=2),
        reason="Cần xác minh thêm thông tin.",
        at=T0,
    )
    approved = services.dossier_forward(actor=d.specialist, dossier=approved, at=T0)
    approved = services.dossier_approve(
        actor=leader, dossier=approved, result_summary="Giấy khai sinh", at=T0
    )
    approved = services.dossier_return_result(
        actor=desk_officer, dossier=approved, method="post", at=T0
    )
    rejected = services.dossier_reject(
        actor=leader, dossier=d.in_processing(T0), reason="Không đủ điều kiện.", at=T0
    )
    withdrawn = services.dossier_withdraw(
        actor=desk_officer, dossier=d.received(T0), reason="Nộp nhầm thủ tục.", at=T0
    )
    return [refused, supplement, approved, rejected, withdrawn]


def test_every_event_the_applicant_cares_about_is_rendered(with_email):
    _journeys(with_email)
    emails = {m.payload["event"]: m.payload for m in OutboxMessage.objects.filter(adapter="email")}
    texts = {m.payload["event"]: m.payload for m in OutboxMessage.objects.filter(adapter="sms")}
    assert set(emails) == set(texts) == set(notify.EVENTS.values())
    for event, text in texts.items():
        assert text["dossier_code"] in text["text"], event
        assert f"/track/{text['dossier_code']}" in text["text"], event
        assert len(text["text"]) <= 160, (event, text["text"])
        email = emails[event]
        assert text["dossier_code"] in email["subject"], event
        assert "{{" not in email["body"] and "{%" not in email["body"], event
        assert "\n\n\n" not in email["body"], event

    assert "Lý do: Tờ khai chưa có chữ ký." in emails["refused"]["body"]
    assert "Lý do: Tờ khai chưa có chữ ký." in texts["refused"]["text"]
    supplement_email = emails["supplement_requested"]["body"]
    assert "- Giấy chứng sinh\n- Giấy chứng nhận kết hôn của cha mẹ\n" in supplement_email
    supplement_sms = texts["supplement_requested"]["text"]
    assert "cần bổ sung: Giấy chứng sinh; Giấy chứng nhận kết hô…." in supplement_sms
    assert "Ngày hẹn trả kết quả mới:" in emails["apology"]["body"]
    assert "hẹn trả mới" in texts["apology"]["text"]
    assert "kết quả: Giấy khai sinh." in emails["approved"]["body"]
    assert "Lý do: Không đủ điều kiện." in emails["rejected"]["body"]
    assert "qua dịch vụ bưu chính công ích" in emails["result_returned"]["body"]
    assert "Lý do: Nộp nhầm thủ tục." in emails["withdrawn"]["body"]


def test_a_business_is_addressed_by_its_name(with_email):
    with_email.applicant = dataclasses.replace(
        with_email.applicant, kind="business", name="Công ty TNHH An Phát", id_number="4601234567"
    )
    dossier = with_email.received(T0)
    [email] = notifications(dossier, "email")
    assert email.payload["body"].startswith("Kính gửi Công ty TNHH An Phát,")
    assert "của Quý tổ chức" in email.payload["body"]


def test_names_and_reasons_are_not_html_escaped(with_email):
    with_email.applicant = dataclasses.replace(with_email.applicant, name='Lê Thị "Bé" & Cô')
    dossier = services.dossier_refuse(
        actor=with_email.desk,
        dossier=with_email.submit(T0),
        reason="Sai mẫu <TK-01> & thiếu ảnh",
        at=T0,
    )
    email, text = notifications(dossier)
    assert 'Kính gửi Ông/Bà Lê Thị "Bé" & Cô,' in email.payload["body"]
    assert "Lý do: Sai mẫu <TK-01> & thiếu ảnh" in email.payload["body"]
    assert "&amp;" not in text.payload["text"]
