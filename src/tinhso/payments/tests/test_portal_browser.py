"""A citizen pays a dossier's fee from the portal on a phone (390×844), in a real browser,
through the built-in payment-platform simulator at /sim/paygov/ of the live server: signed in
with the (simulated) national e-ID, she opens her dossier, presses "Pay online", chooses an
outcome on the platform's page and comes back to the portal's return page.

- Success: the platform notifies our server before it sends the browser back, so the return
  page already says paid; she downloads the receipt. One payment, the bill paid.
- Paid but never notified: the return page waits (and polls); "Check again" asks the platform,
  whose signed answer marks the bill paid.

Everything talks over real HTTP (the gateway's status query and the simulator's notification
go to the live server). Screenshots: `docs/screenshots/payment-1-dossier.png`,
`payment-2-gateway.png` and `payment-3-paid.png` (the viewport, as the docs show them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from tinhso.browser_fixtures import REPO_DIR, new_browser_page, save_screenshot
from tinhso.catalog.models import FeeCase
from tinhso.core.models import User
from tinhso.eid import oidc
from tinhso.eid.simulator import DEMO_ACCOUNTS
from tinhso.payments import gateway, simulator
from tinhso.payments.models import Bill, BillStatus, OrderStatus, Payment, PaymentOrder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tinhso.dossiers.tests.conftest import Desk

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = {"width": 390, "height": 844}
NARROW_PHONE = {"width": 360, "height": 780}
DOCS_SCREENSHOTS = REPO_DIR / "docs" / "screenshots"
PERSON = DEMO_ACCOUNTS[0]  # Nguyễn Văn An
FEE = 50_000


@pytest.fixture
def phone_page(chromium_browser: Browser):
    page = new_browser_page(chromium_browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def live_services(settings, live_server):
    """The e-ID client and the payment gateway pointed at the live server's simulators, both
    reached over HTTP."""
    host = live_server.url.split("://", 1)[1].rsplit(":", 1)[0]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host, "localhost", "127.0.0.1"]
    settings.TINHSO_EID_ISSUER = live_server.url + "/sim/eid"
    settings.TINHSO_PAYMENT_GATEWAY_URL = live_server.url + "/sim/paygov"
    previous = gateway.set_transport(None), simulator.set_transport(None)
    oidc.clear_cache()
    yield
    oidc.clear_cache()
    gateway.set_transport(previous[0])
    simulator.set_transport(previous[1])


def _screenshot(page: Page, name: str, anchor: str = "body", block: str = "start") -> None:
    """The viewport, scrolled so that `anchor` starts it (or ends it: `block="end"`)."""
    page.locator(anchor).first.evaluate(f"e => e.scrollIntoView({{block: '{block}'}})")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)
    save_screenshot(page, name)


def _no_horizontal_scroll(page: Page) -> None:
    """At the phone's width and at a narrower one (360 px), nothing scrolls sideways."""
    for size in (NARROW_PHONE, PHONE):
        page.set_viewport_size(size)
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if widths[0] > widths[1]:
            wide = page.evaluate(
                "() => [...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right"
                " > document.documentElement.clientWidth)"
                ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
            )
            raise AssertionError(f"page scrolls sideways at {size}: {widths}, {wide}")


def _sign_in_with_eid(page: Page, base: str) -> User:
    page.goto(f"{base}/portal/my/")
    expect(page).to_have_url(re.compile(r"/sim/eid/authorize\?"))
    with page.expect_navigation(url=re.compile(r"/portal/my/$")):
        page.locator("button[name=account][value='0']").click()
    return User.objects.get(personal_id=PERSON["personal_id"])


def _dossier_with_a_fee(desk: Desk, citizen: User) -> Bill:
    FeeCase.objects.create(
        procedure=desk.procedure,
        position=1,
        description="Lệ phí đăng ký khai sinh quá hạn",
        amount=FEE,
        legal_basis="Thông tư 85/2019/TT-BTC",
    )
    dossier = desk.submit(timezone.now(), owner=citizen)
    return dossier.bills.get()


def _pay_on_the_platform(page: Page, base: str, bill: Bill, outcome: str, shots: bool) -> None:
    """From the dossier page to the platform's page, where the payer picks `outcome`, and back
    to the portal's return page."""
    page.goto(f"{base}/portal/my/{bill.dossier.code}/")
    card_selector = f"[data-bill='{bill.number}']"
    card = page.locator(card_selector)
    expect(card).to_have_attribute("data-state", "unpaid")
    expect(card.locator(".p-bill-total")).to_contain_text("50.000 đ")
    pay = card.locator("button[data-action=pay]")
    expect(pay).to_be_visible()
    _no_horizontal_scroll(page)
    if shots:
        _screenshot(
            page, "payment-1-dossier", anchor=f"{card_selector} .p-bill-action", block="end"
        )
    with page.expect_navigation(url=re.compile(r"/sim/paygov/pay\?")):
        pay.click()
    expect(page.locator("[data-testid=paygov-amount]")).to_have_text("50.000 đ")
    _no_horizontal_scroll(page)
    if shots:
        _screenshot(page, "payment-2-gateway")
    with page.expect_navigation(url=re.compile(r"/portal/payments/return\?")):
        page.locator(f"button[data-outcome={outcome}]").click()


@pytest.mark.browser
def test_a_citizen_pays_a_fee_through_the_platform_on_a_phone(
    phone_page: Page, live_server, browser_world, desk: Desk, live_services
) -> None:
    page, base = phone_page, live_server.url
    citizen = _sign_in_with_eid(page, base)
    bill = _dossier_with_a_fee(desk, citizen)

    _pay_on_the_platform(page, base, bill, "success", shots=True)
    # The platform notified our server before sending the browser back: paid at once.
    status = page.locator("#order-status")
    expect(status).to_have_attribute("data-state", "paid")
    payment = Payment.objects.get(bill=bill)
    expect(status).to_contain_text(payment.receipt_number)
    _no_horizontal_scroll(page)
    _screenshot(page, "payment-3-paid")

    receipt = status.locator(f"a[href='/portal/payments/receipts/{payment.receipt_number}.pdf']")
    with page.expect_download() as download_info:
        receipt.click()
    download = download_info.value
    assert download.suggested_filename == f"{payment.receipt_number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert Payment.objects.filter(bill=bill).count() == 1
    assert payment.order.confirmed_via == "notification"

    # Her dossier page says so too, with the receipt, and no button to pay again.
    page.goto(f"{base}/portal/my/{bill.dossier.code}/")
    card = page.locator(f"[data-bill='{bill.number}']")
    expect(card).to_have_attribute("data-state", "paid")
    expect(card).to_contain_text(payment.receipt_number)
    expect(card.locator("button[data-action=pay]")).to_have_count(0)
    _no_horizontal_scroll(page)
    save_screenshot(page, "payment-4-dossier-paid")


@pytest.mark.browser
def test_a_payment_never_notified_is_confirmed_by_checking_again(
    phone_page: Page, live_server, browser_world, desk: Desk, live_services
) -> None:
    page, base = phone_page, live_server.url
    citizen = _sign_in_with_eid(page, base)
    bill = _dossier_with_a_fee(desk, citizen)

    _pay_on_the_platform(page, base, bill, "never_notify", shots=False)
    # The browser says it went well; we wait for the platform (and keep asking ourselves).
    status = page.locator("#order-status")
    expect(status).to_have_attribute("data-state", "pending")
    expect(status).to_have_attribute("hx-trigger", "every 3s")
    _no_horizontal_scroll(page)
    save_screenshot(page, "payment-waiting")
    order = PaymentOrder.objects.get(bill=bill)
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()
    return_url = page.url

    # Her dossier page waits too, and offers no second payment meanwhile.
    page.goto(f"{base}/portal/my/{bill.dossier.code}/")
    card = page.locator(f"[data-bill='{bill.number}']")
    expect(card.locator(".p-bill-pending button[data-action=check]")).to_be_visible()
    expect(card.locator("button[data-action=pay]")).to_have_count(0)
    _no_horizontal_scroll(page)
    card.evaluate("e => e.scrollIntoView({block: 'start'})")
    save_screenshot(page, "payment-dossier-waiting", full_page=False)

    page.goto(return_url)
    status = page.locator("#order-status")
    with page.expect_navigation(url=re.compile(r"/portal/payments/return\?")):
        status.locator("button[data-action=check]").click()
    expect(page.locator("#order-status")).to_have_attribute("data-state", "paid")
    order.refresh_from_db()
    bill.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.confirmed_via == "query"
    assert bill.status == BillStatus.PAID
    assert Payment.objects.filter(bill=bill).count() == 1


@pytest.mark.browser
def test_the_return_page_turns_paid_by_itself_when_a_late_notification_arrives(
    phone_page: Page, live_server, browser_world, desk: Desk, live_services, settings
) -> None:
    settings.TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS = 0
    page, base = phone_page, live_server.url
    citizen = _sign_in_with_eid(page, base)
    bill = _dossier_with_a_fee(desk, citizen)

    _pay_on_the_platform(page, base, bill, "notify_late", shots=False)
    status = page.locator("#order-status")
    expect(status).to_have_attribute("data-state", "pending")
    return_url = page.url

    # The platform's scheduled job sends the notification; the page asks every 3 s.
    assert simulator.deliver_due() == 1
    expect(status).to_have_attribute("data-state", "paid", timeout=10_000)
    expect(status).not_to_have_attribute("hx-trigger", re.compile(".*"))
    assert page.url == return_url  # no reload: the block replaced itself
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert Payment.objects.filter(bill=bill).count() == 1
