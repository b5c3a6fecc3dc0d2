"""The officials' desk pages: inboxes, the dossier page and its action forms, desk reception
of a walk-in applicant, and document downloads, each with its out-of-scope refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from tinhso.catalog.models import DocumentRequirement
from tinhso.dossiers import services
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.states import Status

from .conftest import Desk, vn

T0 = vn(2026, 11, 30, 8, 0)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _vi(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _act(client, dossier: Dossier, action: str, version: int | None = None, **data: Any):
    data["expected_version"] = dossier.version if version is None else version
    return client.post(reverse("dossiers:act", args=[dossier.pk, action]), data, follow=True)


def _fresh(dossier: Dossier) -> Dossier:
    return Dossier.objects.get(pk=dossier.pk)


@pytest.fixture
def birth_documents(desk: Desk) -> list[DocumentRequirement]:
    return [
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=1, name="Tờ khai đăng ký khai sinh"
        ),
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=2, name="Giấy chứng sinh", copies=1
        ),
    ]


# --- inboxes --------------------------------------------------------------------------------


def test_inbox_shows_own_agency_dossiers_and_not_another_communes(client, desk: Desk):
    mine = desk.submit(T0)
    theirs = desk.submit(T0, agency=desk.world.agency_b)
    client.force_login(desk.desk)
    response = client.get(reverse("dossiers:inbox"))
    assert response.status_code == 200
    assert response.context["box"] == "to_receive"  # the desk's default inbox
    html = response.content.decode()
    assert mine.code in html
    assert theirs.code not in html
    assert reverse("dossiers:detail", args=[mine.pk]) in html
    assert {n: c for n, _label, c, _capped in response.context["tabs"]}["to_receive"] == 1


def test_handlers_land_on_their_processing_inbox_with_deadline_badges(client, desk: Desk):
    # Received in January 2025 with three working days: overdue whenever the test runs.
    dossier = desk.in_processing(vn(2025, 1, 6, 8, 0))
    client.force_login(desk.specialist)
    response = client.get(reverse("dossiers:inbox"))
    assert response.context["box"] == "to_process"
    (row,) = response.context["rows"]
    assert row[:2] == (dossier, "overdue")
    html = response.content.decode()
    assert dossier.code in html
    assert "09/01/2025 08:00" in html  # the appointment, local time
    assert 'class="badge t-overdue"' in html


def test_inbox_search_by_id_number_and_procedure_filter(client, desk: Desk):
    from dataclasses import replace

    first = desk.submit(T0)
    other = services.dossier_submit(
        actor=None,
        procedure=desk.procedure,
        agency=desk.world.agency_a,
        channel="online",
        applicant=replace(desk.applicant, name="Trần Thị Bình", id_number="019090000999"),
        at=T0,
    )
    client.force_login(desk.desk)
    url = reverse("dossiers:inbox")
    found = client.get(url, {"box": "all", "q": "019090000999"}).context["rows"]
    assert [row[0] for row in found] == [other]
    found = client.get(url, {"box": "all", "q": "Bình"}).context["rows"]
    assert [row[0] for row in found] == [other]
    found = client.get(url, {"box": "all", "procedure": desk.procedure.code}).context["rows"]
    assert {row[0] for row in found} == {first, other}
    assert client.get(url, {"box": "all", "procedure": "9.999999"}).context["rows"] == []
    assert client.get(url, {"box": "nonsense"}).status_code == 404


def test_citizens_do_not_get_the_officials_desk(client, desk: Desk):
    client.force_login(desk.world.citizen)
    assert client.get(reverse("dossiers:inbox")).status_code == 403


# --- the dossier page -----------------------------------------------------------------------


def test_dossier_page_shows_the_dossier_its_history_and_the_allowed_actions(client, desk: Desk):
    dossier = services.dossier_request_supplement(
        actor=desk.desk,
        dossier=desk.received(T0),
        reason="Thiếu giấy chứng sinh",
        missing=["Giấy chứng sinh bản chính"],
        at=vn(2026, 11, 30, 9, 0),
    )
    client.force_login(desk.desk)
    response = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        dossier.code,
        desk.applicant.name,
        desk.applicant.id_number,
        desk.procedure.name,
        "Thiếu giấy chứng sinh",
        "Giấy chứng sinh bản chính",
        "30/11/2026 08:00",
    ):
        assert text in html
    actions = [form["action"] for form in response.context["actions"]]
    assert actions == ["supplement", "apologize", "withdraw"]
    assert f'name="expected_version" value="{dossier.version}"' in html
    slips = [url for _label, url in response.context["slips"]]
    assert reverse("dossiers:slip", args=[dossier.pk, "receipt"]) in slips
    assert reverse("dossiers:slip", args=[dossier.pk, "supplement"]) in slips
    # The clock stopped with all three working days but the hour it ran (08:00–09:00).
    with translation.override("vi"):
        assert response.context["remaining"].startswith(
            translation.ngettext("%(n)d day", "%(n)d days", 2) % {"n": 2}
        )


def test_dossier_page_is_404_for_an_official_of_another_commune(client, desk: Desk):
    dossier = desk.received(T0)
    client.force_login(desk.world.desk_b)
    assert client.get(reverse("dossiers:detail", args=[dossier.pk])).status_code == 404
    response = _act(client, dossier, "return_result", method="desk")
    assert response.status_code == 404


def test_remaining_working_time_reads_in_days_and_hours():
    from tinhso.dossiers.views import _working_time

    day = 8 * 3600
    with translation.override("en"):
        assert _working_time(day + 3 * 3600, day) == "1 day 3 hours of working time left"
        assert _working_time(2 * day, day) == "2 days of working time left"
        assert _working_time(-90 * 60, day) == "1 hour 30 minutes of working time overdue"
        assert _working_time(20 * 60, day) == "20 minutes of working time left"
        assert _working_time(day + 30 * 60, day) == "1 day of working time left"


# --- actions --------------------------------------------------------------------------------


def test_desk_officer_receives_a_submitted_dossier(client, desk: Desk):
    dossier = desk.submit(T0)
    client.force_login(desk.desk)
    response = _act(client, dossier, "receive")
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dossiers:detail", args=[dossier.pk])
    assert _fresh(dossier).status == Status.RECEIVED
    assert any(_vi("Received") in m for m in _messages(response))


def test_department_leader_assigns_to_a_specialist_of_the_agency(client, desk: Desk):
    dossier = desk.received(T0)
    client.force_login(desk.department_leader)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    (assign,) = [f for f in page.context["actions"] if f["action"] == "assign"]
    assert desk.specialist in assign["officials"]
    assert desk.world.specialist_dept not in assign["officials"]  # another agency's
    assert list(assign["departments"]) == [desk.department]

    response = _act(
        client,
        dossier,
        "assign",
        department=desk.department.pk,
        assignee=desk.specialist.pk,
    )
    dossier = _fresh(dossier)
    assert (dossier.status, dossier.assignee, dossier.department) == (
        Status.IN_PROCESSING,
        desk.specialist,
        desk.department,
    )
    assert not [m for m in response.context["messages"] if m.level_tag == "error"]


def test_assigning_to_an_official_of_another_agency_is_refused(client, desk: Desk):
    dossier = desk.received(T0)
    client.force_login(desk.department_leader)
    response = _act(
        client,
        dossier,
        "assign",
        department=desk.department.pk,
        assignee=desk.world.specialist_dept.pk,
    )
    assert _fresh(dossier).status == Status.RECEIVED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_agency_leader_approves_with_a_result_file_and_the_desk_returns_it(client, desk: Desk):
    dossier = services.dossier_forward(
        actor=desk.specialist, dossier=desk.in_processing(T0), assignee=desk.agency_leader
    )
    client.force_login(desk.agency_leader)
    upload = SimpleUploadedFile("giay-khai-sinh.pdf", PDF, content_type="application/pdf")
    _act(client, dossier, "approve", result_summary="Giấy khai sinh bản chính", result_file=upload)
    dossier = _fresh(dossier)
    assert dossier.status == Status.APPROVED
    assert dossier.result_summary == "Giấy khai sinh bản chính"
    result = DossierDocument.objects.get(dossier=dossier, kind=DocumentKind.RESULT)
    assert result.is_digitised and result.sha256

    client.force_login(desk.desk)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    download = reverse("dossiers:document", args=[dossier.pk, result.pk])
    assert download in page.content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]

    _act(client, dossier, "return_result", method="desk")
    dossier = _fresh(dossier)
    assert dossier.status == Status.DONE
    assert dossier.return_method == "desk"


def test_a_stale_version_gets_the_conflict_message_and_changes_nothing(client, desk: Desk):
    dossier = desk.in_processing(T0)
    stale = dossier.version
    # A colleague forwards it while the leader still has the old page open.
    services.dossier_forward(actor=desk.specialist, dossier=dossier, expected_version=stale)
    before = _fresh(dossier)
    client.force_login(desk.agency_leader)
    response = _act(client, dossier, "approve", version=stale, result_summary="Giấy khai sinh")
    after = _fresh(dossier)
    assert (after.status, after.version) == (before.status, before.version)
    (message,) = response.context["messages"]
    assert "conflict" in message.tags
    with translation.override("vi"):
        expected = translation.gettext(
            "Dossier %(code)s was changed by someone else a moment ago. Reload it and try again."
        ) % {"code": dossier.code}
    assert str(message) == expected
    assert expected in response.content.decode()


def test_an_action_needing_a_reason_is_refused_without_one(client, desk: Desk):
    dossier = desk.submit(T0)
    client.force_login(desk.desk)
    response = _act(client, dossier, "refuse", reason="  ")
    assert _fresh(dossier).status == Status.SUBMITTED
    assert _messages(response) == [_vi("Give the reason.")]
    response = _act(client, dossier, "refuse", reason="Không thuộc thẩm quyền")
    assert _fresh(dossier).status == Status.REFUSED
    assert response.context["slips"][-1][1].endswith("/slips/refusal.pdf")


def test_a_request_for_supplement_records_the_missing_documents(client, desk: Desk):
    dossier = desk.in_processing(T0)
    client.force_login(desk.specialist)
    _act(
        client,
        dossier,
        "request_supplement",
        reason="Hồ sơ chưa đủ",
        missing=["Giấy chứng sinh"],
        missing_other="Bản sao giấy đăng ký kết hôn\n",
    )
    dossier = _fresh(dossier)
    assert dossier.status == Status.SUPPLEMENT_REQUESTED
    event = dossier.events.order_by("-seq").first()
    assert event.data["missing"] == ["Giấy chứng sinh", "Bản sao giấy đăng ký kết hôn"]


def test_a_missing_version_is_refused(client, desk: Desk):
    dossier = desk.submit(T0)
    client.force_login(desk.desk)
    response = client.post(reverse("dossiers:act", args=[dossier.pk, "receive"]), follow=True)
    assert _fresh(dossier).status == Status.SUBMITTED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_an_unknown_action_is_404(client, desk: Desk):
    dossier = desk.submit(T0)
    client.force_login(desk.desk)
    assert _act(client, dossier, "delete").status_code == 404


# --- documents ------------------------------------------------------------------------------


def test_a_document_is_not_served_outside_the_dossiers_scope(client, desk: Desk, birth_documents):
    dossier = services.dossier_receive_at_desk(
        actor=desk.desk,
        procedure=desk.procedure,
        applicant=desk.applicant,
        documents=[
            services.SubmittedDocument(
                name=birth_documents[0].name,
                requirement=birth_documents[0],
                file=SimpleUploadedFile("to-khai.pdf", PDF, content_type="application/pdf"),
            )
        ],
        at=T0,
    )
    document = dossier.documents.get()
    url = reverse("dossiers:document", args=[dossier.pk, document.pk])
    client.force_login(desk.world.desk_b)
    assert client.get(url).status_code == 404
    client.force_login(desk.world.citizen)
    assert client.get(url).status_code == 403
    client.force_login(desk.specialist)
    assert client.get(url).status_code == 200
    # A document of one dossier is not served under another dossier's address.
    other = desk.received(T0)
    assert client.get(reverse("dossiers:document", args=[other.pk, document.pk])).status_code == 404


# --- desk reception -------------------------------------------------------------------------


def _reception_data(desk: Desk, **overrides: Any) -> dict[str, Any]:
    data = {
        "procedure_q": "khai sinh",
        "procedure": desk.procedure.pk,
        "name": "Lê Thị Hạnh",
        "id_number": "019190001234",
        "phone": "0987 654 321",
        "address": "Tổ 5, phường Phan Đình Phùng",
        "note": "",
    }
    data.update(overrides)
    return data


def test_walk_in_reception_receives_the_dossier_and_says_when_to_come_back(
    client, desk: Desk, birth_documents
):
    client.force_login(desk.desk)
    page = client.get(reverse("dossiers:new"))
    assert page.status_code == 200
    assert desk.procedure in page.context["procedures"]

    data = _reception_data(desk, documents=[birth_documents[0].pk])
    data[f"file_{birth_documents[1].pk}"] = SimpleUploadedFile(
        "chung-sinh.pdf", PDF, content_type="application/pdf"
    )
    response = client.post(reverse("dossiers:new"), data, follow=True)
    dossier = Dossier.objects.get()
    assert response.redirect_chain[-1][0] == reverse("dossiers:detail", args=[dossier.pk])
    assert (dossier.status, dossier.channel, dossier.applicant_name) == (
        Status.RECEIVED,
        "desk",
        "Lê Thị Hạnh",
    )
    documents = {d.requirement_id: d for d in dossier.documents.all()}
    assert set(documents) == {r.pk for r in birth_documents}  # ticked, and the one with a scan
    assert documents[birth_documents[1].pk].is_digitised
    assert not documents[birth_documents[0].pk].is_digitised
    (message,) = _messages(response)
    assert dossier.code in message
    assert dossier.due_at.astimezone(T0.tzinfo).strftime("%d/%m/%Y %H:%M") in message


def test_walk_in_reception_shows_field_errors_and_keeps_what_was_typed(
    client, desk: Desk, birth_documents
):
    client.force_login(desk.desk)
    data = _reception_data(
        desk, name=" ", id_number="12345", phone="abc", documents=[birth_documents[1].pk]
    )
    response = client.post(reverse("dossiers:new"), data)
    assert response.status_code == 200
    assert not Dossier.objects.exists()
    errors = response.context["errors"]
    assert set(errors) == {"name", "id_number", "phone"}
    html = response.content.decode()
    for message in (
        "Enter the applicant's full name.",
        "The personal identification number has 12 digits.",
        "The phone number is not valid.",
    ):
        assert _vi(message).replace("'", "&#x27;") in html
    assert 'value="12345"' in html
    assert 'value="Tổ 5, phường Phan Đình Phùng"' in html
    assert f'value="{birth_documents[1].pk}" checked' in html
    assert response.context["selected"] == str(desk.procedure.pk)


def test_walk_in_reception_without_a_procedure_or_with_a_bad_file(
    client, desk: Desk, birth_documents
):
    client.force_login(desk.desk)
    response = client.post(reverse("dossiers:new"), _reception_data(desk, procedure=""))
    assert response.context["errors"] == {"procedure": _vi("Choose the procedure.")}
    data = _reception_data(desk)
    data[f"file_{birth_documents[0].pk}"] = SimpleUploadedFile(
        "virus.exe", b"MZ\x90\x00", content_type="application/pdf"
    )
    response = client.post(reverse("dossiers:new"), data)
    assert response.context["errors"] == {
        f"file_{birth_documents[0].pk}": _vi("Only PDF, JPEG or PNG files are accepted.")
    }
    assert not Dossier.objects.exists()


def test_procedure_picker_searches_without_diacritics_and_loads_the_documents(
    client, desk: Desk, birth_documents
):
    client.force_login(desk.desk)
    response = client.get(
        reverse("dossiers:procedure_options"),
        {"procedure_q": "dang ky khai"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert f'<option value="{desk.procedure.pk}" selected>' in html
    assert 'hx-swap-oob="true"' in html and "Giấy chứng sinh" in html  # the only match
    response = client.get(reverse("dossiers:procedure_options"), {"procedure_q": "xyz"})
    assert str(desk.procedure.pk) not in response.content.decode()

    response = client.get(reverse("dossiers:procedure_documents"), {"procedure": desk.procedure.pk})
    html = response.content.decode()
    assert html.count('type="checkbox"') == 2
    assert f'name="file_{birth_documents[0].pk}"' in html


def test_only_desk_officers_take_in_walk_in_dossiers(client, desk: Desk):
    client.force_login(desk.specialist)
    assert client.get(reverse("dossiers:new")).status_code == 403
    assert client.get(reverse("dossiers:procedure_options")).status_code == 403


def test_slip_links_reach_the_slip_view(client, desk: Desk):
    dossier = desk.received(T0)
    client.force_login(desk.world.desk_b)
    assert client.get(reverse("dossiers:slip", args=[dossier.pk, "receipt"])).status_code == 404


def test_the_desk_records_an_applicants_supplement_with_its_files(
    client, desk: Desk, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    dossier = services.dossier_request_supplement(
        actor=desk.desk, dossier=desk.received(T0), reason="Thiếu giấy chứng sinh"
    )
    client.force_login(desk.desk)
    upload = SimpleUploadedFile("giay-chung-sinh.pdf", PDF, content_type="application/pdf")
    _act(client, dossier, "supplement", files=upload, note="Công dân nộp bổ sung tại quầy")
    dossier = _fresh(dossier)
    assert dossier.status == Status.RECEIVED
    assert dossier.documents.filter(name="giay-chung-sinh", is_digitised=True).exists()


def test_the_desk_refuses_a_supplement_file_that_is_not_a_document(client, desk: Desk):
    dossier = services.dossier_request_supplement(
        actor=desk.desk, dossier=desk.received(T0), reason="Thiếu giấy chứng sinh"
    )
    client.force_login(desk.desk)
    fake = SimpleUploadedFile("giay-chung-sinh.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    _act(client, dossier, "supplement", files=fake)
    assert _fresh(dossier).status == Status.SUPPLEMENT_REQUESTED


def test_the_all_count_includes_dossiers_transferred_in_and_the_filter_lists_the_catalog(
    client, desk: Desk
):
    from tinhso.dossiers import selectors

    world = desk.world
    moved = desk.in_processing(T0)
    desk.submit(T0)
    services.dossier_submit(
        actor=None,
        procedure=desk.procedure,
        agency=world.agency_b,
        channel="online",
        applicant=desk.applicant,
        at=T0,
    )
    services.dossier_transfer(
        actor=desk.specialist, dossier=moved, to_agency=world.agency_b, reason="Xác minh", at=T0
    )
    # Agency B sees its own dossier and the one transferred to it; agency A still sees both
    # of its own.
    assert selectors.visible_count(world.desk_b) == 2
    assert selectors.visible_count(desk.desk) == 2
    for user in (desk.desk, world.desk_b, world.provincial_leader):
        assert selectors.visible_count(user) == selectors.dossiers_visible(user).count()
    client.force_login(world.desk_b)
    response = client.get(reverse("dossiers:inbox"), {"box": "all"})
    counts = {name: count for name, _label, count, _capped in response.context["tabs"]}
    assert counts["all"] == 2
    assert (desk.procedure.code, desk.procedure.name) in response.context["procedures"]
