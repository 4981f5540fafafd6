"""axe-core accessibility checks on a page of every module, in zh-Hans, as the persona who uses it, with
长辈模式 (elder mode) off and on: no serious or critical violation (the rule set is in e2e/axe.py).

One test per page, so a failing page hides none of the others; both modes are checked in the same test
and their violations reported together. These tests only read, so unlike the other journeys they share
one demo data set and one sign-in per persona (a saved storage state) for the whole module: building
the demo data and enrolling an administrator's authenticator are the costly steps, not the pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from e2e.axe import assert_accessible
from e2e.conftest import ARTIFACTS, DEMO_PASSWORD, DESKTOP, PHONE, log_in
from e2e.test_journeys import _elder_mode_on

# Each test runs in a transaction rolled back at its end (the demo data, built before it, stays): on
# SQLite the live server shares the test's connection, so the elder-mode switches are undone too.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHUNAN = "330127000000"  # 淳安县, the demo county of demo-county-a


@pytest.fixture(scope="module")
def demo_site(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo data set behind a live server of this module's own, kept for all its tests.

    pytest-django's `live_server` fixture would make every test transactional, flushing the database
    after each one; this module instead flushes once at the end, leaving the database as empty as a
    transactional test leaves it for whatever runs next."""
    from django.core.management import call_command
    from pytest_django.live_server_helper import LiveServer

    from guanai.core.testing import build_region_tree
    from guanai.demo.services import demo_load

    with django_db_blocker.unblock():
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            build_region_tree()
            demo_load(password=DEMO_PASSWORD)
            yield server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def signed_in(chromium: Browser, demo_site: str) -> dict[str, Any]:
    """The storage state (cookies) of every persona, signed in once through the login form before the
    first test: an administrator's first sign-in enrols an authenticator (a second would ask for a code),
    and a session made inside a test would be rolled back with the test's transaction."""
    states: dict[str, Any] = {}
    for checked in PAGES:
        username = checked.username() if callable(checked.username) else checked.username
        if username is None or username in states:
            continue
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
        log_in(context.new_page(), demo_site, username)
        states[username] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def open_as(
    chromium: Browser, demo_site: str, signed_in: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Callable[[str | None, bool], Page]]:
    """Opens a page in a fresh context, signed in as the persona (None: nobody), desktop- or phone-sized;
    keeps a screenshot of its last state, and another named -FAILED when the test failed."""
    opened: list[tuple[Any, Page, list[str]]] = []

    def open_page(username: str | None, phone: bool) -> Page:
        context = chromium.new_context(
            viewport=PHONE if phone else DESKTOP,
            locale="zh-CN",  # Chromium would otherwise ask for English pages
            timezone_id="Asia/Shanghai",
            storage_state=signed_in[username] if username else None,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        opened.append((context, page, errors))
        return page

    yield open_page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    report = getattr(request.node, "report_call", None)
    for context, page, errors in opened:
        page.screenshot(path=str(ARTIFACTS / f"{name}-last.png"), full_page=True)
        if report is not None and report.failed:
            page.screenshot(path=str(ARTIFACTS / f"{name}-FAILED.png"), full_page=True)
        context.close()
        assert errors == [], f"JavaScript errors on the pages: {errors}"


def _chunan_child() -> str:
    from guanai.core import region_codes
    from guanai.minors.models import Minor

    child = (
        Minor.objects.filter(region_codes.within_q("region_id", CHUNAN), is_sealed=False)
        .order_by("pk")
        .first()
    )
    assert child is not None, "the demo registers children in 淳安县"
    return f"/minors/{child.pk}/"


def _chunan_volunteer() -> str:
    from guanai.core import region_codes
    from guanai.volunteers.models import Volunteer

    volunteer = Volunteer.objects.filter(region_codes.within_q("region_id", CHUNAN)).order_by("pk").first()
    assert volunteer is not None, "the demo enrols 五老 in 淳安县"
    return f"/volunteers/{volunteer.pk}/"


def _visit_form() -> str:
    from guanai.pairings.models import Pairing

    pairing = Pairing.objects.filter(volunteer__user__username="demo-volunteer").order_by("pk").first()
    assert pairing is not None, "the demo pairs the demo volunteer with children"
    return f"/visits/new/{pairing.pk}/"


def _mentoring_case() -> Any:
    from guanai.mentoring.models import MentoringCase

    case = MentoringCase.objects.select_related("officer").order_by("pk").first()
    assert case is not None, "the demo opens a mentoring case"
    return case


def _mentoring_officer() -> str:
    """The case is sealed: only its officer (a county's demo admin) sees it without break-the-glass."""
    return str(_mentoring_case().officer.username)


def _mentoring_case_page() -> str:
    return f"/mentoring/{_mentoring_case().pk}/"


@dataclass(frozen=True)
class Checked:
    """A page to check: who looks at it (None: nobody signed in), where, and on which screen."""

    name: str
    username: str | Callable[[], str] | None
    path: str | Callable[[], str]
    phone: bool = False


PAGES = [
    Checked("login", None, "/login/"),
    Checked("404", None, "/no-such-page/"),
    Checked("help", None, "/help/", phone=True),
    Checked("help-ask", None, "/help/ask/", phone=True),
    Checked("knowledge", None, "/knowledge/"),
    Checked("join", None, "/join/", phone=True),
    Checked("home", "demo-county-a", "/"),
    Checked("minors-list", "demo-county-a", "/minors/"),
    Checked("minor-detail", "demo-county-a", _chunan_child),
    Checked("minor-new", "demo-village", "/minors/new/"),
    Checked("volunteers-list", "demo-county-a", "/volunteers/"),
    Checked("volunteer-detail", "demo-county-a", _chunan_volunteer),
    Checked("volunteer-new", "demo-county-a", "/volunteers/new/"),
    Checked("pairings-list", "demo-township", "/pairings/"),
    Checked("visits-mine", "demo-volunteer", "/visits/mine/", phone=True),
    Checked("visit-form", "demo-volunteer", _visit_form, phone=True),
    Checked("mandatory-reports", "demo-county-a", "/mandatory-reports/"),
    Checked("mentoring-mine", _mentoring_officer, "/mentoring/"),
    Checked("mentoring-case", _mentoring_officer, _mentoring_case_page),
    Checked("cafes", "demo-county-a", "/cafes/"),
    Checked("consultation-queue", "demo-counsellor", "/consultations/queue/"),
    Checked("supervision", "demo-county-a", "/consultations/supervision/"),
    Checked("committees", "demo-county-a", "/committees/"),
    Checked("regions", "demo-city", "/regions/"),
    Checked("users", "demo-county-a", "/account/users/"),
    Checked("audit-log", "demo-auditor", "/audit/"),
    Checked("dashboards", "demo-province", "/dashboards/"),
    Checked("dashboards-reports", "demo-province", "/dashboards/reports/"),
]


def _set_elder_mode(page: Page, on: bool) -> None:
    """Press the switch in the page header if 长辈模式 is not as wanted; it comes back to the same page."""
    if _elder_mode_on(page) == on:
        return
    url = page.url
    with page.expect_navigation():
        page.click("#elder-mode-switch")
    assert _elder_mode_on(page) == on, f"长辈模式 did not turn {'on' if on else 'off'} at {url}"
    assert page.url == url, f"the switch left {url} for {page.url}"


@pytest.mark.parametrize("checked", PAGES, ids=[checked.name for checked in PAGES])
def test_page_has_no_serious_accessibility_violation_in_either_mode(
    checked: Checked, open_as: Callable[[str | None, bool], Page], demo_site: str
) -> None:
    username = checked.username() if callable(checked.username) else checked.username
    path = checked.path() if callable(checked.path) else checked.path
    page = open_as(username, checked.phone)
    response = page.goto(f"{demo_site}{path}")
    assert response is not None
    assert response.status == (404 if checked.name == "404" else 200), f"{path} answered {response.status}"

    failures: list[str] = []
    for mode in ("default", "elder"):
        _set_elder_mode(page, mode == "elder")
        try:
            assert_accessible(page, f"{checked.name}-{mode}")
        except AssertionError as failure:
            failures.append(str(failure))
    assert failures == [], "\n\n".join(failures)
