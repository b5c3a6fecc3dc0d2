"""A citizen's dossier after submission, on a phone (390×844), in a real browser: she signs in
through the (simulated) national e-ID, the commune's desk asks for a supplement, she sends the
missing document online, the commune approves and returns the result, and she downloads it and
rates the handling of her dossier.

She submits through the portal's online submission form; the officials' part goes through the
services (their pages have their own browser test). Screenshots:
`docs/screenshots/portal-supplement.png`, `portal-my-dossier.png` and `portal-rate.png` (the
viewport, as the docs show them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.base import ContentFile

from tinhso.browser_fixtures import REPO_DIR, new_browser_page, save_screenshot
from tinhso.catalog.models import DocumentRequirement
from tinhso.core.models import User
from tinhso.dossiers import services
from tinhso.dossiers.models import DocumentKind, Dossier
from tinhso.dossiers.states import Status
from tinhso.eid import oidc
from tinhso.eid.simulator import DEMO_ACCOUNTS
from tinhso.portal.models import SatisfactionRating

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tinhso.dossiers.tests.conftest import Desk

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = {"width": 390, "height": 844}
DOCS_SCREENSHOTS = REPO_DIR / "docs" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RESULT_PDF = b"%PDF-1.4\n% Giay khai sinh\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PERSON = DEMO_ACCOUNTS[0]  # Nguyễn Văn An


@pytest.fixture
def phone_page(chromium_browser: Browser):
    page = new_browser_page(chromium_browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def live_eid(settings, live_server, tmp_path):
    """The e-ID client pointed at the simulator of the live server."""
    host = live_server.url.split("://", 1)[1].rsplit(":", 1)[0]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host, "localhost", "127.0.0.1"]
    settings.TINHSO_EID_ISSUER = live_server.url + "/sim/eid"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    oidc.clear_cache()
    yield
    oidc.clear_cache()


def _screenshot(page: Page, name: str, top: str = ".p-crumbs") -> None:
    """The viewport, scrolled so that `top` starts it."""
    page.locator(top).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)
    save_screenshot(page, name)


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if widths[0] > widths[1]:
        wide = page.evaluate(
            "() => [...document.querySelectorAll('main *')]"
            ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
        )
        raise AssertionError(f"page scrolls sideways: {widths}, {wide}")


def _sign_in_with_eid(page: Page, base: str) -> User:
    page.goto(f"{base}/portal/my/")
    expect(page).to_have_url(re.compile(r"/sim/eid/authorize\?"))
    with page.expect_navigation(url=re.compile(r"/portal/my/$")):
        page.locator("button[name=account][value='0']").click()
    expect(page.locator("main")).to_be_visible()
    return User.objects.get(personal_id=PERSON["personal_id"])


def _submit_online(page: Page, base: str, desk: Desk, citizen: User) -> Dossier:
    """Through the portal's online submission form: agency, then one file per document
    (each saved to the draft as it is chosen), then submit."""
    requirements = [
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=1, name="Tờ khai đăng ký khai sinh"
        ),
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=2, name="Giấy chứng sinh"
        ),
    ]
    page.goto(f"{base}/portal/procedures/{desk.procedure.code}/submit/")
    page.fill("#s-address", "Tổ 5, phường Phan Đình Phùng")
    with page.expect_response(lambda r: r.url.endswith("/save")):
        page.select_option("#s-agency", str(desk.world.agency_a.pk))
    for count, (requirement, name) in enumerate(
        zip(requirements, ("to-khai.pdf", "giay-chung-sinh.pdf"), strict=True), start=1
    ):
        with page.expect_response(lambda r: r.url.endswith("/save")):
            page.set_input_files(
                f"#file-{requirement.pk}",
                files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}],
            )
        expect(page.locator("#draft-documents .p-attached")).to_have_count(count)
    with page.expect_navigation(url=re.compile(r"/portal/submitted/")):
        page.locator("#submit-form > button[type=submit]").click()
    dossier = Dossier.objects.get(owner=citizen)
    expect(page.locator("main")).to_contain_text(dossier.code)
    return dossier


@pytest.mark.browser
def test_a_citizen_supplements_downloads_the_result_and_rates_on_a_phone(
    phone_page: Page, live_server, browser_world, desk: Desk, live_eid
) -> None:
    page, base = phone_page, live_server.url
    citizen = _sign_in_with_eid(page, base)
    assert citizen.full_name == PERSON["name"]

    dossier = _submit_online(page, base, desk, citizen)
    assert dossier.status == Status.SUBMITTED
    assert dossier.documents.filter(kind=DocumentKind.INPUT).count() == 2
    detail_url = f"{base}/portal/my/{dossier.code}/"

    # The desk receives it and asks for the missing birth certificate.
    dossier = services.dossier_receive(actor=desk.desk, dossier=dossier)
    dossier = services.dossier_request_supplement(
        actor=desk.desk,
        dossier=dossier,
        reason="Thiếu bản sao giấy chứng sinh do cơ sở y tế cấp.",
        missing=["Giấy chứng sinh (bản sao)"],
    )

    # She sees the request on her dossier and answers it online.
    page.goto(f"{base}/portal/my/")
    page.locator(f"a[href='/portal/my/{dossier.code}/']").first.click()
    expect(page).to_have_url(detail_url)
    expect(page.locator(".p-supplement")).to_contain_text("Giấy chứng sinh (bản sao)")
    page.locator(f"a[href='/portal/my/{dossier.code}/supplement/']").click()
    expect(page).to_have_url(f"{detail_url}supplement/")
    expect(page.locator(".p-missing")).to_contain_text("Giấy chứng sinh (bản sao)")
    _no_horizontal_scroll(page)
    _screenshot(page, "portal-supplement")

    # A file that is not a PDF, JPEG or PNG is refused with a message; nothing is sent.
    page.set_input_files(
        "#s-files",
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": b"GIF89a"}],
    )
    with page.expect_navigation():
        page.locator("form.p-form button[type=submit]").click()
    expect(page.locator("#s-files-error")).to_contain_text("giay-chung-sinh.pdf")
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED

    page.set_input_files(
        "#s-files",
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.fill("#s-note", "Gửi bổ sung bản sao giấy chứng sinh.")
    with page.expect_navigation(url=detail_url):
        page.locator("form.p-form button[type=submit]").click()
    expect(page.locator(".p-msg")).to_have_count(1)
    expect(page.locator(".p-supplement")).to_have_count(0)
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED and dossier.clock_running
    assert dossier.documents.filter(name="giay-chung-sinh.pdf", kind=DocumentKind.INPUT).exists()

    # The commune processes it, approves with the birth certificate and returns it online.
    dossier = services.dossier_assign(
        actor=desk.department_leader,
        dossier=dossier,
        department=desk.department,
        assignee=desk.specialist,
    )
    dossier = services.dossier_approve(
        actor=desk.agency_leader,
        dossier=dossier,
        result_file=ContentFile(RESULT_PDF, name="giay-khai-sinh.pdf"),
    )
    dossier = services.dossier_return_result(actor=desk.desk, dossier=dossier, method="online")
    result = dossier.documents.get(kind=DocumentKind.RESULT)

    # She downloads the result.
    page.goto(detail_url)
    download_link = page.locator(f"a[href='/portal/my/{dossier.code}/result/{result.pk}']")
    expect(download_link).to_be_visible()
    rate_link = page.locator(f"a[href='/portal/my/{dossier.code}/rate/']")
    expect(rate_link).to_be_visible()
    _no_horizontal_scroll(page)
    _screenshot(page, "portal-my-dossier", top="main .p-facts")
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes() == RESULT_PDF

    # And rates the handling of her dossier, once.
    rate_link.click()
    expect(page).to_have_url(f"{detail_url}rate/")
    for key, score in {
        "reception": 5,
        "time": 4,
        "attitude": 5,
        "result": 5,
        "information": 4,
    }.items():
        page.locator(f"input[name={key}][value='{score}']").check()
    page.fill("#r-comment", "Cán bộ hướng dẫn tận tình, nhận kết quả trực tuyến rất tiện.")
    _no_horizontal_scroll(page)
    _screenshot(page, "portal-rate")
    with page.expect_navigation(url=detail_url):
        page.locator("form.p-rate button[type=submit]").click()
    expect(page.locator(".p-rating")).to_contain_text("5/5")  # 4.6 rounded
    expect(rate_link).to_have_count(0)
    save_screenshot(page, "portal-my-dossier-rated")
    rating = SatisfactionRating.objects.get(dossier=dossier)
    assert rating.owner == citizen and rating.overall == 5
