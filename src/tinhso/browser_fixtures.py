"""Pytest plugin for the browser tests: Playwright (sync API) driving Debian's Chromium against
pytest-django's `live_server`. Registered from `tinhso/conftest.py` through `pytest_plugins`.

Nothing here downloads a browser: the tests use `/usr/bin/chromium` and skip, with a message,
where it is missing. Mark browser tests with `@pytest.mark.browser`; deselect them with
`-m "not browser"`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO_DIR = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_DIR / "test-artifacts" / "screenshots"
PASSWORD = "secret-pass-1"
# Short enough that a broken page fails the test quickly, long enough for a loaded machine.
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium is not installed (apt-get install -y chromium): browser tests skipped"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: browser tests skipped"
    )
    # Between its calls the sync API leaves its asyncio loop marked as running in this thread,
    # which Django takes for async code and answers with SynchronousOnlyOperation. The test
    # code here is plain synchronous code, so switch the check off while the browser lives.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_browser_page(browser: Browser, **context_options: Any) -> Page:
    """A page in a fresh context (no cookies); close it with `page.context.close()`."""
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "vi-VN"}
    options.update(context_options)
    context = browser.new_context(**options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def browser_page(chromium_browser: Browser) -> Iterator[Page]:
    """A desktop-sized page (1280x900, Vietnamese locale) in its own context."""
    page = new_browser_page(chromium_browser)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def browser_world(transactional_db: None, world: Any) -> Any:
    """The shared `world` personas in a database the live server thread can see."""
    return world


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save `test-artifacts/screenshots/<name>.png` (git-ignored) and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form at /signin/ and wait for the page it lands on."""
    page.goto(f"{base_url}/signin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
