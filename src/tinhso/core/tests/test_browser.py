"""Journeys people take through the back office, in a real browser (Playwright driving Debian's
Chromium against the live server). The assertions are on what the user sees; where a label is
translated, the expected text comes from the catalog itself rather than from a copy of it.

Screenshots land in `test-artifacts/screenshots/` (git-ignored)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.utils import translation

from tinhso.browser_fixtures import new_browser_page, save_screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tinhso.conftest import World

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

NAV = "nav.mainnav"


def _nav_link(page: Page, href: str):  # -> Locator
    """The menu's link to `href`, its group opened first when the link sits in one."""
    link = page.locator(f"{NAV} a[href='{href}']")
    group = page.locator(
        f"{NAV} details.navgroup:not([open])", has=page.locator(f"a[href='{href}']")
    )
    if group.count():
        group.locator("summary").click()
    return link


def _in_vietnamese(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


@pytest.mark.browser
def test_commune_desk_officer_sees_only_their_own_agency(
    browser_page: Page, live_server, browser_world: World
) -> None:
    page, world, base = browser_page, browser_world, live_server.url

    sign_in(page, base, world.desk_a.username)
    expect(page).to_have_url(f"{base}/dossiers/")  # a desk officer lands on the inbox
    expect(page.locator(".whoami")).to_contain_text(world.desk_a.full_name)
    page.locator(f"{NAV} a[href='/']").click()
    expect(page.locator("main p.lead")).to_contain_text(world.agency_a.name)

    _nav_link(page, "/agencies/").click()
    expect(page).to_have_url(f"{base}/agencies/")
    listing = page.locator("main table")
    expect(listing.get_by_role("link", name=world.agency_a.name, exact=True)).to_have_attribute(
        "href", f"/agencies/{world.agency_a.pk}/"
    )
    expect(listing).to_contain_text(world.agency_a.code)
    expect(page.locator("main")).not_to_contain_text(world.agency_b.name)
    expect(page.locator(f"a[href='/agencies/{world.agency_b.pk}/']")).to_have_count(0)
    save_screenshot(page, "desk-officer-agencies")

    response = page.goto(f"{base}/agencies/{world.agency_b.pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main")).not_to_contain_text(world.agency_b.name)
    expect(page.locator("main a[href='/']")).to_be_visible()
    expect(page.locator(NAV)).to_be_visible()  # still signed in, with the usual menu
    save_screenshot(page, "desk-officer-other-commune-404")


@pytest.mark.browser
def test_provincial_leader_sees_every_commune_and_an_agency_audit_trail(
    browser_page: Page, live_server, browser_world: World
) -> None:
    page, world, base = browser_page, browser_world, live_server.url

    sign_in(page, base, world.provincial_leader.username)
    _nav_link(page, "/agencies/").click()
    listing = page.locator("main table")
    for agency in (world.agency_a, world.agency_b):
        expect(listing.get_by_role("link", name=agency.name, exact=True)).to_be_visible()
    save_screenshot(page, "provincial-leader-agencies")

    listing.get_by_role("link", name=world.agency_b.name, exact=True).click()
    expect(page).to_have_url(f"{base}/agencies/{world.agency_b.pk}/")
    expect(page.locator("main h1")).to_have_text(world.agency_b.name)
    expect(page.locator("main dl.facts")).to_contain_text(world.agency_b.code)
    expect(page.locator("main dl.facts")).to_contain_text(world.commune_b.name)
    audit_heading = page.locator("main h2", has_text=_in_vietnamese("Audit trail"))
    expect(audit_heading).to_be_visible()
    audit = page.locator("main h2 + table.audit")
    expect(audit).to_contain_text("agency.create")
    expect(audit).to_contain_text(world.agency_b.name)
    save_screenshot(page, "provincial-leader-agency-detail")


@pytest.mark.browser
def test_language_switch_turns_the_menu_into_english_and_back(
    browser_page: Page, live_server, browser_world: World
) -> None:
    page, world, base = browser_page, browser_world, live_server.url
    vietnamese_label = _in_vietnamese("Agencies")
    assert vietnamese_label != "Agencies", "the Vietnamese catalog lacks 'Agencies'"

    sign_in(page, base, world.desk_a.username)
    agencies_link = _nav_link(page, "/agencies/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(agencies_link).to_have_text(vietnamese_label)

    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(agencies_link).to_have_text("Agencies")
    expect(page).to_have_url(f"{base}/dossiers/")  # stays on the page it was switched from
    save_screenshot(page, "language-english")

    page.get_by_role("button", name="VI", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(agencies_link).to_have_text(vietnamese_label)


@pytest.mark.browser
def test_working_calendar_computes_a_deadline_without_reloading(
    browser_page: Page, live_server, browser_world: World
) -> None:
    page, world, base = browser_page, browser_world, live_server.url

    sign_in(page, base, world.administrator.username)
    _nav_link(page, "/calendar/").click()
    expect(page).to_have_url(f"{base}/calendar/")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads

    form = page.locator("main form[hx-get]")
    form.locator("input[name=start]").fill("2027-02-03T16:30")
    form.locator("input[name=days]").fill("5")
    form.locator("button[type=submit]").click()

    # Five working days from Wednesday 3 February 2027 skip the Tết holidays.
    expect(page.locator("#due-result")).to_contain_text("17/02/2027 16:30")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#due-result header, #due-result h1")).to_have_count(0)
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/calendar/\?start=2027-02-03T16%3A30&days=5$"))
    save_screenshot(page, "calendar-deadline")


@pytest.mark.browser
def test_the_menu_fits_a_laptop_screen_in_one_row_and_its_groups_open_one_at_a_time(
    chromium_browser: Browser, live_server, browser_world: World
) -> None:
    page = new_browser_page(chromium_browser, viewport={"width": 1366, "height": 768})
    try:
        sign_in(page, live_server.url, browser_world.administrator.username)
        nav = page.locator(NAV)
        scroll_width, client_width, height = nav.evaluate(
            "n => [n.scrollWidth, n.clientWidth, n.getBoundingClientRect().height]"
        )
        assert scroll_width <= client_width, f"the menu is {scroll_width}px in {client_width}px"
        row = page.locator(f"{NAV} > a").first.evaluate("a => a.getBoundingClientRect().height")
        assert height < 2 * row, "the menu wraps onto a second row at 1366px"

        catalogues, system = page.locator(f"{NAV} details.navgroup summary").all()
        units = page.locator(f"{NAV} a[href='/units/']")
        audit = page.locator(f"{NAV} a[href='/audit/']")
        expect(units).to_be_hidden()
        catalogues.click()
        expect(units).to_be_visible()
        system.click()  # the other group closes
        expect(audit).to_be_visible()
        expect(units).to_be_hidden()
        save_screenshot(page, "menu-laptop", full_page=False)
        page.keyboard.press("Escape")
        expect(audit).to_be_hidden()
        catalogues.click()
        page.locator("main h1").click()  # a click elsewhere closes it
        expect(units).to_be_hidden()

        _nav_link(page, "/units/").click()
        expect(page).to_have_url(f"{live_server.url}/units/")
        expect(page.locator(f"{NAV} details.navgroup summary.current")).to_have_text(
            _in_vietnamese("Catalogues")
        )
    finally:
        page.context.close()


@pytest.mark.browser
def test_sign_in_page_fits_a_phone_without_horizontal_scroll(
    chromium_browser: Browser, live_server, transactional_db: None
) -> None:
    page = new_browser_page(
        chromium_browser,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    try:
        page.goto(f"{live_server.url}/signin/")
        expect(page.locator("input[name=password]")).to_be_visible()
        inner_width = page.evaluate("window.innerWidth")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert inner_width == 390, "the page ignores the viewport meta tag"
        assert scroll_width <= inner_width, f"page is {scroll_width}px wide on a 390px phone"
        save_screenshot(page, "signin-phone")
    finally:
        page.context.close()
