"""Online submission: drafts saved as the citizen fills them in and resumed, uploads checked
by content and size, submission into a dossier, reuse from the personal data store,
bundles, and nobody else's drafts or documents."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tinhso.catalog.models import BundlePart, DocumentRequirement, Procedure, ProcedureBundle
from tinhso.core.models import User
from tinhso.dossiers.models import Dossier, DossierDocument
from tinhso.dossiers.services import SubmittedDocument
from tinhso.dossiers.tests.conftest import vn
from tinhso.portal.models import Draft

PDF = b"%PDF-1.4\n% test document\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def setup(desk):
    procedure = desk.procedure
    declaration = DocumentRequirement.objects.create(
        procedure=procedure, position=1, name="Tờ khai đăng ký khai sinh", form_template="TP/HT-1"
    )
    certificate = DocumentRequirement.objects.create(
        procedure=procedure, position=2, name="Giấy chứng sinh"
    )
    optional = DocumentRequirement.objects.create(
        procedure=procedure, position=3, name="Văn bản ủy quyền", is_required=False
    )
    citizen = desk.world.citizen
    citizen.full_name = "Nguyễn Văn An"
    citizen.save(update_fields=["full_name"])
    return desk, citizen, declaration, certificate, optional


def _url(desk) -> str:
    return f"/portal/procedures/{desk.procedure.code}/submit/"


def _pdf(name: str = "to-khai.pdf", body: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def _open_draft(client, desk) -> Draft:
    response = client.get(_url(desk))
    assert response.status_code == 200
    return response.context["draft"]


def test_form_lists_requirements_and_prefills_identity(client, setup):
    desk, citizen, declaration, certificate, _optional = setup
    client.force_login(citizen)
    response = client.get(_url(desk))
    html = response.content.decode()
    assert declaration.name in html and certificate.name in html and "TP/HT-1" in html
    assert "Nguyễn Văn An" in html and "019090000001" in html
    agencies = response.context["agencies"]
    assert {a.pk for a in agencies} == {desk.world.agency_a.pk, desk.world.agency_b.pk}
    assert 'hx-post="/portal/drafts/' in html


def test_autosave_and_resume(client, setup):
    desk, citizen, declaration, *_ = setup
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{draft.pk}/save",
        {"phone": "0912345678", "address": "Tổ 5", f"file_{declaration.pk}": _pdf()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.data["phone"] == "0912345678"
    doc = draft.documents.get()
    assert doc.requirement == declaration
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()

    listing = client.get("/portal/my/drafts/")
    assert desk.procedure.name in listing.content.decode()
    resumed = client.get(_url(desk) + f"?draft={draft.pk}")
    assert resumed.context["draft"].pk == draft.pk
    assert "Tổ 5" in resumed.content.decode() and "to-khai" in resumed.content.decode()
    # Opening the form again resumes the open draft rather than starting another.
    assert _open_draft(client, desk).pk == draft.pk


def test_submission_with_uploads_creates_the_dossier(client, setup):
    desk, citizen, declaration, certificate, _optional = setup
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{draft.pk}/submit",
        {
            "phone": "0912345678",
            "agency": desk.world.agency_a.pk,
            f"file_{declaration.pk}": _pdf(),
            f"file_{certificate.pk}": _pdf("chung-sinh.pdf", PDF + b"2"),
        },
    )
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert response["Location"] == f"/portal/submitted/{dossier.code}/"
    assert dossier.status == "submitted" and dossier.channel == "online"
    assert dossier.owner == citizen and dossier.agency == desk.world.agency_a
    assert dossier.applicant_id_number == "019090000001"
    docs = list(dossier.documents.order_by("pk"))
    assert len(docs) == 2
    assert docs[0].sha256 == hashlib.sha256(PDF).hexdigest() and docs[0].file
    assert docs[0].is_digitised
    draft.refresh_from_db()
    assert draft.submitted_dossier == dossier
    page = client.get(response["Location"])
    html = page.content.decode()
    assert dossier.code in html and desk.world.agency_a.name in html
    assert f"/portal/my/{dossier.code}/" in html


def test_missing_required_document_submits_nothing(client, setup):
    desk, citizen, declaration, certificate, _optional = setup
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{draft.pk}/submit",
        {"agency": desk.world.agency_a.pk, f"file_{declaration.pk}": _pdf()},
    )
    assert response.status_code == 422
    assert f"doc_{certificate.pk}" in response.context["errors"]
    assert not Dossier.objects.exists()
    draft.refresh_from_db()
    assert draft.submitted_dossier is None
    assert draft.documents.count() == 1  # the upload that was fine is kept


def test_reuse_of_an_earlier_result(client, setup):
    desk, citizen, declaration, certificate, _optional = setup
    earlier = desk.submit(
        vn(2025, 7, 7, 9, 0),
        owner=citizen,
        documents=[SubmittedDocument(name="Giấy chứng sinh", file=ContentFile(PDF, "cs.pdf"))],
    )
    source = earlier.documents.get()
    client.force_login(citizen)
    listing = client.get("/portal/my/documents/")
    assert "Giấy chứng sinh" in listing.content.decode()
    download = client.get(f"/portal/my/documents/{source.pk}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF

    draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{draft.pk}/submit",
        {
            "agency": desk.world.agency_a.pk,
            f"file_{declaration.pk}": _pdf(),
            f"reuse_{certificate.pk}": source.pk,
        },
    )
    assert response.status_code == 302
    dossier = Dossier.objects.exclude(pk=earlier.pk).get()
    reused = dossier.documents.get(requirement=certificate)
    assert reused.reused_from == source and reused.is_reused
    assert reused.sha256 == source.sha256


def test_renamed_executable_is_refused(client, setup):
    desk, citizen, declaration, *_ = setup
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{draft.pk}/save",
        {
            "address": "Tổ 7",
            f"file_{declaration.pk}": _pdf("virus.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    # The refusal itself, in the user's language (not the field's help text).
    assert translation.gettext("Only PDF, JPEG or PNG files are accepted.") in (
        response.content.decode()
    )
    draft.refresh_from_db()
    assert not draft.documents.exists()
    assert draft.data["address"] == "Tổ 7"  # nothing else is lost


def test_thirty_megabytes_is_refused_with_a_message(client, setup):
    desk, citizen, declaration, *_ = setup
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    big = _pdf("big.pdf", PDF + b"\x00" * (30 * 1024 * 1024))
    response = client.post(
        f"/portal/drafts/{draft.pk}/save", {f"file_{declaration.pk}": big}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "10 MB" in response.content.decode()
    assert not draft.documents.exists()


def test_non_online_procedure_is_not_found(client, setup):
    desk, citizen, *_ = setup
    Procedure.objects.filter(pk=desk.procedure.pk).update(online="none")
    client.force_login(citizen)
    assert client.get(_url(desk)).status_code == 404


def test_anonymous_is_sent_to_signin_and_official_is_refused(client, setup):
    desk, *_ = setup
    response = client.get(_url(desk))
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/signin/?next=")
    client.force_login(desk.desk)
    assert client.get(_url(desk)).status_code == 403
    assert not Draft.objects.exists()


def test_another_citizen_cannot_open_a_draft_or_a_document(client, setup):
    desk, citizen, declaration, *_ = setup
    earlier = desk.submit(
        vn(2025, 7, 7, 9, 0),
        owner=citizen,
        documents=[SubmittedDocument(name="Giấy chứng sinh", file=ContentFile(PDF, "cs.pdf"))],
    )
    source = earlier.documents.get()
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    other = User.objects.create_user(
        username="other", password="secret-pass-1", kind="citizen", personal_id="019090000002"
    )
    client.force_login(other)
    assert client.get(_url(desk) + f"?draft={draft.pk}").status_code == 404
    assert client.post(f"/portal/drafts/{draft.pk}/save", {"phone": "1"}).status_code == 404
    assert client.post(f"/portal/drafts/{draft.pk}/submit", {}).status_code == 404
    assert client.get(f"/portal/my/documents/{source.pk}/download").status_code == 404
    assert "Giấy chứng sinh" not in client.get("/portal/my/documents/").content.decode()
    # Nor reuse someone else's document in their own draft.
    own_draft = _open_draft(client, desk)
    response = client.post(
        f"/portal/drafts/{own_draft.pk}/save", {f"reuse_{declaration.pk}": source.pk}
    )
    assert response.status_code == 404
    assert not own_draft.documents.exists()
    assert DossierDocument.objects.filter(reused_from=source).count() == 0


def test_bundle_submission_creates_linked_dossiers(client, setup):
    desk, citizen, declaration, certificate, _optional = setup
    insurance = Procedure.objects.create(
        code="1.002222",
        name="Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        field=desk.procedure.field,
        level="province",
        agency_kinds=["provincial_department"],
        processing_days=Decimal("5"),
        online="full",
    )
    bundle = ProcedureBundle.objects.create(code="LT-KS", name="Khai sinh liên thông")
    BundlePart.objects.create(
        bundle=bundle, position=1, procedure=desk.procedure, agency_kind="commune_committee"
    )
    BundlePart.objects.create(
        bundle=bundle, position=2, procedure=insurance, agency_kind="provincial_department"
    )
    client.force_login(citizen)
    draft = _open_draft(client, desk)
    assert "LT-KS" in client.get(_url(desk)).content.decode()
    response = client.post(
        f"/portal/drafts/{draft.pk}/submit",
        {
            "bundle": "LT-KS",
            "commune": desk.world.agency_b.pk,
            f"file_{declaration.pk}": _pdf(),
            f"file_{certificate.pk}": _pdf("cs.pdf"),
        },
    )
    assert response.status_code == 302
    dossiers = list(Dossier.objects.order_by("pk"))
    assert len(dossiers) == 2
    assert dossiers[0].bundle_id == dossiers[1].bundle_id is not None
    assert dossiers[0].agency == desk.world.agency_b
    assert dossiers[1].agency == desk.world.department_agency
    assert all(d.owner == citizen and d.channel == "online" for d in dossiers)
    page = client.get(response["Location"]).content.decode()
    assert dossiers[0].code in page and dossiers[1].code in page


def test_service_refuses_an_official(setup):
    desk, *_ = setup
    from tinhso.core.errors import OutOfScope
    from tinhso.portal import submission

    with pytest.raises(OutOfScope):
        submission.draft_save(actor=desk.desk, procedure=desk.procedure, data={})
