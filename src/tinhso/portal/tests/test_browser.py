"""A citizen on a phone (390×844) finds birth registration without typing diacritics and
reads what it takes, without the page scrolling sideways. The screenshots go to
`docs/screenshots/portal-*.png` (committed, shown in the docs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tinhso.browser_fixtures import REPO_DIR, new_browser_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = {"width": 390, "height": 844}
DOCS_SCREENSHOTS = REPO_DIR / "docs" / "screenshots"


@pytest.fixture
def phone_page(chromium_browser: Browser):
    page = new_browser_page(chromium_browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def live_catalog(transactional_db) -> None:
    from tinhso.core.demo import demo_load

    demo_load(dossiers=False)


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"


def _screenshot(page: Page, name: str) -> None:
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.mark.browser
def test_a_citizen_finds_birth_registration_on_a_phone(
    phone_page: Page, live_server, live_catalog
) -> None:
    page, base = phone_page, live_server.url
    page.goto(f"{base}/portal/")
    _no_horizontal_scroll(page)
    search_box = page.get_by_role("searchbox")
    expect(search_box).to_be_focused()
    search_box.fill("khai sinh")
    with page.expect_navigation():
        search_box.press("Enter")
    expect(page).to_have_url(f"{base}/portal/procedures/?q=khai+sinh")
    first = page.locator(".p-result-name").first
    expect(first).to_have_text("Thủ tục đăng ký khai sinh")
    _no_horizontal_scroll(page)
    _screenshot(page, "portal-search")

    first.click()
    expect(page).to_have_url(f"{base}/portal/procedures/1.001193/")
    expect(page.locator("h1")).to_have_text("Thủ tục đăng ký khai sinh")
    submit = page.locator("a[href='/portal/procedures/1.001193/submit/']").first
    expect(submit).to_be_visible()
    box = submit.bounding_box()
    assert box is not None and box["height"] >= 44  # a comfortable touch target
    _no_horizontal_scroll(page)
    _screenshot(page, "portal-procedure")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()

    page.goto(f"{base}/portal/track/")
    expect(page.locator("label[for=t-code]")).to_be_visible()
    expect(page.locator("#t-code")).to_be_visible()
    _no_horizontal_scroll(page)
