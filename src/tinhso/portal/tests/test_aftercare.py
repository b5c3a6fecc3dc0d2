"""After submission, on the citizen's side: answering a supplement request online, downloading
the result of a fully-online procedure, rating a finished dossier once; and nobody reaches
another citizen's dossier by guessing its code, through the portal or the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import User
from tinhso.dossiers import services
from tinhso.dossiers.models import DocumentKind, Dossier
from tinhso.dossiers.states import Action, Status
from tinhso.dossiers.tests.conftest import vn
from tinhso.portal import aftercare
from tinhso.portal.models import SatisfactionRating

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ALL_FOURS = {key: 4 for key, _label in aftercare.RATING_CRITERIA}


def pdf(name: str = "giay-chung-sinh.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def citizen(desk) -> User:
    return desk.world.citizen


@pytest.fixture
def other(db) -> User:
    return User.objects.create_user(
        username="other", password="secret-pass-1", kind="citizen", personal_id="019090000002"
    )


@pytest.fixture
def asked(desk, citizen) -> Dossier:
    """Received, then a supplement requested: the clock is stopped."""
    dossier = services.dossier_receive(
        actor=desk.desk, dossier=desk.submit(vn(2025, 7, 7, 9, 0), owner=citizen)
    )
    return services.dossier_request_supplement(
        actor=desk.desk,
        dossier=dossier,
        reason="Thiếu bản sao giấy chứng sinh",
        missing=["Giấy chứng sinh (bản sao)"],
    )


def _done(desk, dossier: Dossier, *, result: bool = True) -> Dossier:
    dossier = services.dossier_assign(
        actor=desk.department_leader,
        dossier=dossier,
        department=desk.department,
        assignee=desk.specialist,
    )
    dossier = services.dossier_approve(
        actor=desk.agency_leader,
        dossier=dossier,
        result_file=pdf("giay-khai-sinh.pdf") if result else None,
    )
    return services.dossier_return_result(actor=desk.desk, dossier=dossier, method="online")


@pytest.fixture
def done(desk, citizen) -> Dossier:
    dossier = services.dossier_receive(
        actor=desk.desk, dossier=desk.submit(vn(2025, 7, 7, 9, 0), owner=citizen)
    )
    return _done(desk, dossier)


# --- the supplement -----------------------------------------------------------------------------


def test_the_owner_supplements_and_the_clock_restarts(asked, citizen):
    assert asked.clock_running is False
    dossier = aftercare.citizen_supplement(
        actor=citizen, dossier=asked, uploads=[pdf()], note="Đã bổ sung"
    )
    assert dossier.status == Status.RECEIVED
    assert dossier.clock_running is True
    event = dossier.events.order_by("-seq").first()
    assert event.action == Action.SUPPLEMENT and event.actor == citizen
    assert event.reason == "Đã bổ sung"
    doc = dossier.documents.get(kind=DocumentKind.INPUT, name="giay-chung-sinh.pdf")
    assert doc.file and doc.sha256 and doc.verified_by is None


def test_a_bad_file_is_refused_and_nothing_changes(asked, citizen):
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed) as info:
        aftercare.citizen_supplement(actor=citizen, dossier=asked, uploads=[pdf(), fake], note="")
    assert "virus.pdf" in info.value.message
    asked.refresh_from_db()
    assert asked.status == Status.SUPPLEMENT_REQUESTED
    assert not asked.documents.exists()


def test_a_supplement_needs_a_file(asked, citizen):
    with pytest.raises(ValidationFailed):
        aftercare.citizen_supplement(actor=citizen, dossier=asked, uploads=[], note="")


def test_only_the_owner_supplements(asked, other, desk):
    with pytest.raises(OutOfScope):
        aftercare.citizen_supplement(actor=other, dossier=asked, uploads=[pdf()], note="")
    with pytest.raises(OutOfScope):  # an official uses the back office, not this service
        aftercare.citizen_supplement(actor=desk.desk, dossier=asked, uploads=[pdf()], note="")


def test_no_supplement_when_none_is_asked(desk, citizen):
    dossier = desk.submit(vn(2025, 7, 7, 9, 0), owner=citizen)
    with pytest.raises(IllegalTransition):
        aftercare.citizen_supplement(actor=citizen, dossier=dossier, uploads=[pdf()], note="")


def test_the_supplement_page_lists_what_is_missing_and_sends(client, asked, citizen):
    client.force_login(citizen)
    detail = client.get(f"/portal/my/{asked.code}/").content.decode()
    assert f"/portal/my/{asked.code}/supplement/" in detail
    assert "Giấy chứng sinh (bản sao)" in detail
    url = f"/portal/my/{asked.code}/supplement/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Giấy chứng sinh (bản sao)" in page.content.decode()
    assert "Thiếu bản sao giấy chứng sinh" in page.content.decode()
    response = client.post(url, {"files": [pdf()], "note": "Gửi bổ sung"})
    assert response.status_code == 302 and response["Location"] == f"/portal/my/{asked.code}/"
    asked.refresh_from_db()
    assert asked.status == Status.RECEIVED
    after = client.get(f"/portal/my/{asked.code}/").content.decode()
    assert f"/portal/my/{asked.code}/supplement/" not in after
    assert client.get(url).status_code == 404  # nothing to supplement any more


def test_the_supplement_page_refuses_a_bad_file_with_a_message(client, asked, citizen):
    client.force_login(citizen)
    fake = SimpleUploadedFile("anh.png", b"GIF89a....", content_type="image/png")
    response = client.post(f"/portal/my/{asked.code}/supplement/", {"files": [fake]})
    assert response.status_code == 422
    assert 'id="s-files-error"' in response.content.decode()
    assert "anh.png" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == Status.SUPPLEMENT_REQUESTED


# --- the result ---------------------------------------------------------------------------------


def test_the_owner_downloads_the_result_of_a_fully_online_procedure(client, done, citizen):
    result = done.documents.get(kind=DocumentKind.RESULT)
    client.force_login(citizen)
    detail = client.get(f"/portal/my/{done.code}/").content.decode()
    url = f"/portal/my/{done.code}/result/{result.pk}"
    assert url in detail
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]


def test_no_result_download_unless_the_procedure_is_fully_online(client, done, citizen, desk):
    desk.procedure.online = "partial"
    desk.procedure.save(update_fields=["online"])
    result = done.documents.get(kind=DocumentKind.RESULT)
    client.force_login(citizen)
    assert client.get(f"/portal/my/{done.code}/result/{result.pk}").status_code == 404
    assert "/result/" not in client.get(f"/portal/my/{done.code}/").content.decode()


def test_only_result_documents_are_downloaded(client, asked, citizen, desk):
    dossier = aftercare.citizen_supplement(actor=citizen, dossier=asked, uploads=[pdf()], note="")
    dossier = _done(desk, dossier)
    uploaded = dossier.documents.get(kind=DocumentKind.INPUT)
    client.force_login(citizen)
    assert client.get(f"/portal/my/{dossier.code}/result/{uploaded.pk}").status_code == 404
    assert client.get(f"/portal/my/{dossier.code}/result/999999").status_code == 404


# --- the rating ---------------------------------------------------------------------------------


def test_the_owner_rates_once_with_the_rounded_mean(done, citizen):
    scores = {"reception": 5, "time": 4, "attitude": 5, "result": 4, "information": 5}
    rating = aftercare.rating_submit(actor=citizen, dossier=done, scores=scores, comment=" Tốt ")
    assert rating.overall == 5  # 4.6
    assert rating.scores == scores and rating.comment == "Tốt"
    with pytest.raises(Conflict):
        aftercare.rating_submit(actor=citizen, dossier=done, scores=ALL_FOURS, comment="")
    assert SatisfactionRating.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "overall"), [((3, 4, 3, 4, 3), 3), ((4, 4, 3, 3, 4), 4), ((1, 1, 1, 1, 3), 1)]
)
def test_the_overall_is_the_mean_rounded_half_up(done, citizen, values, overall):
    scores = dict(zip([k for k, _l in aftercare.RATING_CRITERIA], values, strict=True))
    assert aftercare.rating_submit(actor=citizen, dossier=done, scores=scores).overall == overall


@pytest.mark.parametrize(
    "scores",
    [
        {**ALL_FOURS, "time": 0},
        {**ALL_FOURS, "time": 6},
        {**ALL_FOURS, "time": "x"},
        {k: v for k, v in ALL_FOURS.items() if k != "time"},
        {**ALL_FOURS, "price": 5},
    ],
)
def test_invalid_scores_are_refused(done, citizen, scores):
    with pytest.raises(ValidationFailed):
        aftercare.rating_submit(actor=citizen, dossier=done, scores=scores)
    assert not SatisfactionRating.objects.exists()


def test_only_the_owner_rates_and_only_when_done(done, asked, citizen, other, desk):
    with pytest.raises(OutOfScope):
        aftercare.rating_submit(actor=other, dossier=done, scores=ALL_FOURS)
    with pytest.raises(OutOfScope):
        aftercare.rating_submit(actor=desk.desk, dossier=done, scores=ALL_FOURS)
    with pytest.raises(IllegalTransition):
        aftercare.rating_submit(actor=citizen, dossier=asked, scores=ALL_FOURS)


def test_the_rating_page(client, done, citizen):
    client.force_login(citizen)
    assert (
        f"/portal/my/{done.code}/rate/" in client.get(f"/portal/my/{done.code}/").content.decode()
    )
    url = f"/portal/my/{done.code}/rate/"
    assert client.get(url).status_code == 200
    missing = client.post(url, {"reception": "5", "comment": "Nhanh"})
    assert missing.status_code == 422
    assert 'id="r-time-error"' in missing.content.decode()
    assert 'value="5" checked' in missing.content.decode()  # kept
    response = client.post(url, {**{k: str(v) for k, v in ALL_FOURS.items()}, "comment": "Nhanh"})
    assert response.status_code == 302
    detail = client.get(f"/portal/my/{done.code}/").content.decode()
    assert "4/5" in detail and "Nhanh" in detail
    assert url not in detail
    again = client.get(url)  # once only
    assert again.status_code == 302
    assert client.post(url, ALL_FOURS).status_code == 302
    assert SatisfactionRating.objects.count() == 1


def test_no_rating_page_before_the_dossier_is_done(client, asked, citizen):
    client.force_login(citizen)
    assert client.get(f"/portal/my/{asked.code}/rate/").status_code == 404
    assert "/rate/" not in client.get(f"/portal/my/{asked.code}/").content.decode()


# --- another citizen's dossier ------------------------------------------------------------------


def _portal_urls(dossier: Dossier) -> list[str]:
    result = dossier.documents.filter(kind=DocumentKind.RESULT).first()
    urls = [
        f"/portal/my/{dossier.code}/",
        f"/portal/my/{dossier.code}/supplement/",
        f"/portal/my/{dossier.code}/rate/",
    ]
    if result is not None:
        urls.append(f"/portal/my/{dossier.code}/result/{result.pk}")
    return urls


def test_another_citizen_guessing_the_code_finds_nothing(client, done, asked, other):
    client.force_login(other)
    for dossier in (done, asked):
        for url in _portal_urls(dossier):
            response = client.get(url)
            assert response.status_code == 404, url
            assert dossier.procedure.name not in response.content.decode()
        posted = client.post(f"/portal/my/{dossier.code}/supplement/", {"files": [pdf()]})
        assert posted.status_code == 404
        posted = client.post(f"/portal/my/{dossier.code}/rate/", ALL_FOURS)
        assert posted.status_code == 404
    asked.refresh_from_db()
    assert asked.status == Status.SUPPLEMENT_REQUESTED
    assert not SatisfactionRating.objects.exists()


def test_another_citizen_guessing_the_code_through_the_api_finds_nothing(
    client, done, citizen, other
):
    client.force_login(other)
    for url in (f"/api/v1/dossiers/{done.code}", f"/api/v1/dossiers/{done.code}/events"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert done.applicant_name not in response.content.decode()
    listing = client.get("/api/v1/dossiers")
    assert done.code not in listing.content.decode()
    client.force_login(citizen)
    assert client.get(f"/api/v1/dossiers/{done.code}").status_code == 200


def test_an_official_cannot_use_the_citizens_pages(client, done, asked, desk):
    client.force_login(desk.desk)
    for dossier in (done, asked):
        for url in _portal_urls(dossier):
            assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client, done):
    for url in _portal_urls(done):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/eid/signin/")
