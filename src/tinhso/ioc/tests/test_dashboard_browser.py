"""The operations centre in a real browser (Playwright driving Debian's Chromium against the
live server, 1366x900): a provincial leader signs in and drills from the province down to an
agency, a department, an official, the official's overdue dossier and the dossier page.

The pages are saved in `docs/screenshots/ioc-*.png` for the docs (the viewport only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tinhso.browser_fixtures import REPO_DIR, new_browser_page, save_screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

DOCS_SCREENSHOTS = REPO_DIR / "docs" / "screenshots"


@pytest.fixture
def desktop_page(chromium_browser: Any) -> Iterator[Page]:
    page = new_browser_page(chromium_browser, viewport={"width": 1366, "height": 900})
    try:
        yield page
    finally:
        page.context.close()


def _docs_screenshot(page: Page, name: str) -> Path:
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    save_screenshot(page, name)
    return path


def _open(page: Page, table: str, label: str) -> None:
    with page.expect_navigation():
        page.locator(f'table[data-chart="{table}"] a', has_text=label).first.click()


@pytest.mark.browser
def test_a_provincial_leader_drills_down_to_an_overdue_dossier(
    desktop_page: Page, live_server, browser_world, ops, march
) -> None:
    page, base = desktop_page, live_server.url
    world = browser_world
    sign_in(page, base, world.provincial_leader.username)

    page.goto(f"{base}/ioc/?period=2026-03")
    expect(page.locator("h1")).to_have_text(world.province.name)
    expect(page.locator('[data-indicator="dossiers_done"] .ioc-value')).to_have_text("5")
    expect(page.locator('[data-indicator="on_time_rate"] .ioc-value')).to_contain_text("80")
    _docs_screenshot(page, "ioc-1-province")

    _open(page, "breakdown-agency", world.agency_a.name)
    expect(page.locator("h1")).to_have_text(world.agency_a.name)
    expect(page.locator(".ioc-crumbs")).to_contain_text(world.province.name)
    _docs_screenshot(page, "ioc-2-agency")

    department = str(ops.desk.department)
    _open(page, "breakdown-department", department)
    expect(page.locator("h1")).to_have_text(department)

    specialist = str(ops.desk.specialist)
    _open(page, "breakdown-official", specialist)
    expect(page.locator("h1")).to_have_text(specialist)
    overdue = march["overdue"]
    first = page.locator(".ioc-dossiers tbody tr").first
    expect(first.locator("code")).to_have_text(overdue.code)
    expect(first.locator(".badge")).to_have_class("badge t-overdue")
    _docs_screenshot(page, "ioc-3-official")

    with page.expect_navigation():
        first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(overdue.code)
    _docs_screenshot(page, "ioc-4-dossier")
