"""A dossier's whole journey through the one-stop desk, in a real browser (Playwright driving
Debian's Chromium against the live server): the desk officer takes in a walk-in applicant,
the department leader assigns the dossier, the specialist forwards it, the agency leader
approves it and the desk returns the result.

Screenshots land in `test-artifacts/screenshots/` (git-ignored); the inbox and the dossier page
are also saved, at 1280x900, in `docs/screenshots/` for the README and the docs."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone, translation

from tinhso.browser_fixtures import PASSWORD, REPO_DIR, save_screenshot, sign_in
from tinhso.catalog.models import DocumentRequirement
from tinhso.dossiers import services
from tinhso.dossiers.services import Applicant
from tinhso.dossiers.states import Status

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import Desk

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

DOCS_SCREENSHOTS = REPO_DIR / "docs" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _in_vietnamese(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


def _docs_screenshot(page: Page, name: str) -> Path:
    """The viewport only (1280x900), as the docs show it."""
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def _as(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, username)


def _act(page: Page, action: str) -> None:
    """Submit the open form of `action` and wait for the dossier page to come back."""
    with page.expect_navigation():
        page.locator(f"details.action-{action} button[type=submit]").click()
    expect(page.locator(".msg.error")).to_have_count(0)


def _status(page: Page, status: str):  # -> Locator assertion
    return expect(page.locator(".statusbar .status")).to_have_text(
        _in_vietnamese(Status(status).label)
    )


def _busy_desk(desk: Desk) -> None:
    """Other dossiers of the commune, so the inbox looks like a working day's."""
    now = timezone.now()
    people = [
        ("Trần Thị Bích Ngọc", "019190004512"),
        ("Hoàng Văn Hải", "019088001234"),
        ("Đặng Thu Trang", "019195007788"),
        ("Ma Văn Sơn", "019079003456"),
        ("Lương Thị Hạnh", "019186009021"),
        ("Nông Quang Minh", "019201000345"),
    ]
    applicants = [
        Applicant(name=name, id_number=number, phone="0912000111", address="Tổ 7")
        for name, number in people
    ]
    for applicant in applicants[:2]:
        services.dossier_submit(
            actor=None,
            procedure=desk.procedure,
            agency=desk.world.agency_a,
            channel="online",
            applicant=applicant,
            at=now - timedelta(hours=3),
        )
    for applicant, days_ago in zip(applicants[2:], (1, 2, 9, 12), strict=True):
        dossier = services.dossier_receive_at_desk(
            actor=desk.desk,
            procedure=desk.procedure,
            applicant=applicant,
            at=now - timedelta(days=days_ago),
        )
        services.dossier_assign(
            actor=desk.department_leader,
            dossier=dossier,
            department=desk.department,
            assignee=desk.other_specialist,
            at=now - timedelta(days=days_ago),
        )


@pytest.mark.browser
def test_a_walk_in_dossier_goes_from_the_desk_to_its_result(
    browser_page: Page, live_server, browser_world, desk: Desk
) -> None:
    page, base = browser_page, live_server.url
    for official in (desk.specialist, desk.department_leader, desk.agency_leader):
        official.set_password(PASSWORD)
        official.save(update_fields=["password"])
    form, birth_certificate = (
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=1, name="Tờ khai đăng ký khai sinh"
        ),
        DocumentRequirement.objects.create(
            procedure=desk.procedure, position=2, name="Giấy chứng sinh"
        ),
    )
    _busy_desk(desk)

    # The desk officer takes in a walk-in applicant.
    _as(page, base, desk.desk.username)
    page.locator("nav.mainnav a[href='/dossiers/']").click()
    expect(page).to_have_url(f"{base}/dossiers/")
    page.locator("a.button[href='/dossiers/new/']").click()
    expect(page).to_have_url(f"{base}/dossiers/new/")
    page.locator("#procedure_q").fill("dang ky khai sinh")
    # The search narrows to one procedure: it is chosen and its documents are listed.
    expect(page.locator("#procedure")).to_have_value(str(desk.procedure.pk))
    expect(page.locator("#documents input[type=checkbox]")).to_have_count(2)
    page.locator(f"#documents input[value='{form.pk}']").check()
    page.set_input_files(
        f"input[name=file_{birth_certificate.pk}]",
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.fill("#name", "Nguyễn Thị Mai")
    page.fill("#id_number", "01919000")  # four digits short
    page.fill("#phone", "0912 345 678")
    page.fill("#address", "Tổ 5, phường Phan Đình Phùng")
    page.locator("form.reception button[type=submit]").click()
    expect(page.locator("#id_number-error")).to_have_text(
        _in_vietnamese("The personal identification number has 12 digits.")
    )
    expect(page.locator("#name")).to_have_value("Nguyễn Thị Mai")  # kept
    expect(page.locator(f"#documents input[value='{form.pk}']")).to_be_checked()
    save_screenshot(page, "dossier-reception-errors")

    page.fill("#id_number", "019190001234")
    page.set_input_files(
        f"input[name=file_{birth_certificate.pk}]",
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    with page.expect_navigation():
        page.locator("form.reception button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dossiers/\d+/$"))
    dossier_url = page.url
    code = page.locator("main h1").inner_text().strip()
    assert code.startswith(desk.world.agency_a.code)
    expect(page.locator(".msg.success")).to_contain_text(code)
    _status(page, Status.RECEIVED)
    expect(page.locator("main")).to_contain_text("Nguyễn Thị Mai")
    receipt = page.locator("ul.slips a[href$='/slips/receipt.pdf']")
    expect(receipt).to_have_count(1)
    pdf = page.request.get(f"{base}{receipt.get_attribute('href')}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    scan = page.locator("main a[href*='/documents/']")
    expect(scan).to_have_count(1)  # the scanned birth certificate, not the paper form
    save_screenshot(page, "dossier-received")

    # The department leader assigns it to a specialist of the department.
    _as(page, base, desk.department_leader.username)
    page.goto(dossier_url)
    page.locator("details.action-assign summary").click()
    page.select_option("#assign-department", str(desk.department.pk))
    page.select_option("#assign-assignee", str(desk.specialist.pk))
    save_screenshot(page, "dossier-assign-form")
    _act(page, "assign")
    _status(page, Status.IN_PROCESSING)
    expect(page.locator("main dl.facts").nth(1)).to_contain_text(desk.specialist.full_name)

    # The specialist finds it in their inbox and forwards it to the chairman.
    _as(page, base, desk.specialist.username)
    page.goto(f"{base}/dossiers/")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_class(re.compile("tab-to_process"))
    page.locator(f"table.dossiers a:has-text('{code}')").click()
    expect(page).to_have_url(dossier_url)
    page.locator("details.action-forward summary").click()
    page.select_option("#forward-assignee", str(desk.agency_leader.pk))
    _act(page, "forward")
    _status(page, Status.IN_PROCESSING)
    expect(page.locator("main dl.facts").nth(1)).to_contain_text("Phê duyệt")

    # The agency leader approves.
    _as(page, base, desk.agency_leader.username)
    page.goto(dossier_url)
    page.locator("details.action-approve summary").click()
    expect(page.locator("#approve-summary")).to_have_value(desk.procedure.result_type)
    _docs_screenshot(page, "dossier")
    save_screenshot(page, "dossier-approve-form")
    _act(page, "approve")
    _status(page, Status.APPROVED)

    # The desk returns the result to the applicant.
    _as(page, base, desk.desk.username)
    page.goto(f"{base}/dossiers/?box=to_return")
    row = page.locator("table.dossiers tbody tr", has_text=code)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=code).click()
    page.locator("details.action-return_result summary").click()
    expect(page.locator("#return_result-method")).to_have_value("desk")
    _act(page, "return_result")
    _status(page, Status.DONE)
    expect(page.locator(".statusbar .badge")).to_have_text(
        re.compile("|".join(_in_vietnamese(t) for t in ("Early", "On time")))
    )
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(6)  # submit, receive, assign, forward, approve, return
    save_screenshot(page, "dossier-done")

    page.goto(f"{base}/dossiers/?box=all")
    expect(page.locator("table.dossiers tbody tr")).to_have_count(7)
    expect(page.locator("table.dossiers .badge.t-overdue").first).to_be_visible()
    _docs_screenshot(page, "inbox")
    save_screenshot(page, "dossier-inbox")
