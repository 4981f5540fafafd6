"""Browser journeys: one Chromium for the session, a fresh context (cookies, viewport) per test, and the
demo data set served by pytest-django's live server.

Debian's Chromium is used, never a browser downloaded by `playwright install`: CI installs the `chromium`
and `fonts-noto-cjk` packages (`.ci/run`), so the pages are drawn with real Chinese glyphs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse the ORM
# calls the tests make there (building the demo data, looking up a committee's id).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEMO_PASSWORD = "E2e-Pass-2026x"  # noqa: S105 - the password the demo accounts get in these tests only
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    # Keep each phase's report on the test, so the page fixture's teardown knows whether a step failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server: LiveServer, transactional_db: None) -> str:
    """The demo data set (淳安县 and 建德市 committees, one account per role) behind the live server."""
    from guanai.core.testing import build_region_tree
    from guanai.demo.services import demo_load

    build_region_tree()
    demo_load(password=DEMO_PASSWORD)
    return live_server.url


def _open_page(chromium: Browser, request: pytest.FixtureRequest, viewport: ViewportSize) -> Iterator[Page]:
    # zh-CN: Chromium would otherwise send Accept-Language: en-US and the pages would come in English.
    context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    page.screenshot(path=str(ARTIFACTS / f"{name}-last.png"), full_page=True)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # The page as the failing step left it, under a name that says so.
        page.screenshot(path=str(ARTIFACTS / f"{name}-FAILED.png"), full_page=True)
    context.close()
    assert errors == [], f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def page(chromium: Browser, site: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A desktop-sized page in a fresh browser context; a screenshot of its last state is kept."""
    yield from _open_page(chromium, request, DESKTOP)


@pytest.fixture
def phone_page(chromium: Browser, site: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A 375 × 812 page (a small phone) in a fresh browser context."""
    yield from _open_page(chromium, request, PHONE)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def totp_code(secret: str) -> str:
    """The current code of an authenticator holding `secret` (base32, as the setup page shows it)."""
    import base64

    from django_otp.oath import TOTP

    key = secret.replace(" ", "")
    key += "=" * (-len(key) % 8)
    return f"{TOTP(base64.b32decode(key)).token():06d}"


def log_in(page: Page, site: str, username: str) -> None:
    """Sign in through the login form and arrive at the home page. An administrator's first sign-in
    enrols an authenticator: the test reads the secret from the page, as a phone would from the QR code."""
    page.goto(f"{site}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#main form button[type=submit]")
    if "/account/two-factor/setup/" in page.url:
        assert page.locator("#totp-qr svg").count() == 1
        page.fill("#id_token", totp_code(page.inner_text("#totp-secret")))
        with page.expect_navigation():
            page.click("#main form button[type=submit]")
        assert page.locator("#recovery-codes li").count() == 10
        with page.expect_navigation():
            page.click("#main a.btn-primary")
    assert page.url == f"{site}/", f"{username} did not land on the home page: {page.url}"
