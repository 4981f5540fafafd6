"""Journeys through the registry of children in a real browser: finding a child by the initials of
their name, unmasking an ID number (audited), editing with inline checks, a conflicting save that
overwrites nothing, and the list on a phone in 长辈模式."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import log_in, screenshot
from e2e.test_journeys import _assert_fits_the_phone, _elder_mode_on, _undersized_targets

pytestmark = pytest.mark.browser

VILLAGE = "330127100219"  # 富城村, 淳安县千岛湖镇


def _child() -> tuple[int, str]:
    """A child with a name no generated demo child has (欧阳 is not among the demo surnames)."""
    from guanai.minors.tests.factories import COUNTY_A_PREFIX, GuardianFactory, MinorFactory, make_id_number

    id_number = make_id_number(COUNTY_A_PREFIX, datetime.date(2014, 6, 18), 28)
    child = MinorFactory.create(
        name="欧阳可馨", id_number=id_number, region_id=VILLAGE, school="富城小学", grade="六年级"
    )
    GuardianFactory.create(minor=child, name="欧阳建华", relationship="父亲", phone="13905718888")
    return child.pk, id_number


def _csp_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return found


def test_county_admin_finds_a_child_unmasks_the_id_and_meets_a_conflict(page: Page, site: str) -> None:
    from django.db.models import F

    from guanai.audit.models import AuditEvent
    from guanai.minors.models import Minor

    child_id, id_number = _child()
    masked = id_number[:6] + "********" + id_number[-4:]
    violations = _csp_violations(page)
    log_in(page, site, "demo-county-a")

    # Finding: the registry from the navigation, then the initials of the name, filtered by htmx.
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="困难青少年", exact=True).click()
    assert page.url == f"{site}/minors/"
    page.evaluate("window.e2eSameDocument = true")
    with page.expect_request(
        lambda request: "q=oykx" in request.url and request.headers.get("hx-request") == "true"
    ):
        page.locator("#id_q").fill("oykx")
        page.locator("#id_q").press("End")
    expect(page.locator("#minor-count")).to_have_text("共 1 名儿童")
    expect(page.locator("#minor-list tbody a")).to_have_text(["欧阳可馨"])
    assert page.evaluate("window.e2eSameDocument") is True
    assert id_number not in page.content()
    assert masked in page.locator("#minor-list").inner_text()
    screenshot(page, "minors-found-by-initials")
    # Leaving the search box is a "change" too: let that request end before going on (the live server
    # shares one in-memory database connection between its threads).
    with page.expect_response(lambda response: "q=oykx" in response.url):
        page.locator("#id_q").blur()

    # The record: masked until the person asks, and every look is in the trail.
    with page.expect_navigation():
        page.locator("#minor-list tbody a", has_text="欧阳可馨").click()
    assert page.url == f"{site}/minors/{child_id}/"
    expect(page.locator("#id-number")).to_contain_text(masked)
    assert id_number not in page.content()
    assert "13905718888" not in page.content()
    page.click("#unmask-id-number")
    expect(page.locator(".guanai-unmasked")).to_have_text(id_number)
    unmasks = AuditEvent.objects.filter(action="personal_data.unmask", target_id=str(child_id))
    assert list(unmasks.values_list("actor_username", "changed_fields", "outcome")) == [
        ("demo-county-a", ["id_number"], "success")
    ]
    assert AuditEvent.objects.filter(action="minor.view", target_id=str(child_id)).count() == 1
    assert "查看儿童信息" in page.locator("#audit-trail").inner_text()
    screenshot(page, "minors-detail-unmasked")

    # Editing: a wrong ID number is pointed out when the field is left, before anything is saved.
    with page.expect_navigation():
        page.click("#minor-edit")
    assert page.url == f"{site}/minors/{child_id}/edit/"
    assert id_number not in page.content()
    page.fill("#id_id_number", "33012720140618")
    page.locator("#id_id_number").press("Tab")
    expect(page.locator("#error-id_number")).to_have_text("身份证号应为 18 位")
    page.fill("#id_id_number", "")
    page.locator("#id_id_number").press("Tab")
    expect(page.locator("#error-id_number")).to_have_text("")
    page.fill("#id_school", "我填写的学校")
    # The live server's threads and this one share one SQLite connection, which allows one statement at a
    # time: leave the field now (its check is an htmx request) and let every check finish, so that neither
    # this thread's write nor the save below meets a check in flight ("database table is locked").
    page.locator("#id_school").press("Tab")
    page.wait_for_load_state("networkidle")

    # Meanwhile someone else saves the record.
    Minor.objects.filter(pk=child_id).update(school="他人改的学校", version=F("version") + 1)
    with page.expect_navigation():
        page.click("#minor-save")
    expect(page.locator("#conflict")).to_contain_text("该记录已被他人修改（当前版本 2，您编辑的是版本 1）")
    expect(page.locator("#conflict-fields")).to_contain_text("就读学校")
    expect(page.locator("#id_school")).to_have_value("我填写的学校")
    assert page.locator("#conflict-reload").get_attribute("href") == f"/minors/{child_id}/edit/"
    child = Minor.objects.get(pk=child_id)
    assert (child.school, child.version, child.grade) == ("他人改的学校", 2, "六年级")
    screenshot(page, "minors-edit-conflict")

    # Reloading starts from the saved version; saving then works.
    with page.expect_navigation():
        page.click("#conflict-reload")
    expect(page.locator("#id_school")).to_have_value("他人改的学校")
    page.wait_for_load_state("networkidle")
    page.fill("#id_grade", "初一")
    # As above: no check may still be in flight on the shared SQLite connection when the form is saved.
    page.locator("#id_grade").press("Tab")
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.click("#minor-save")
    assert page.url == f"{site}/minors/{child_id}/"
    child.refresh_from_db()
    assert (child.school, child.grade, child.version) == ("他人改的学校", "初一", 3)
    assert child.id_number == id_number
    assert violations == []


def test_the_list_fits_a_phone_in_elder_mode(phone_page: Page, site: str) -> None:
    page = phone_page
    _child()
    log_in(page, site, "demo-county-a")
    with page.expect_navigation():
        page.click("#elder-mode-switch")
    assert _elder_mode_on(page)
    page.goto(f"{site}/minors/")
    expect(page.locator("#minor-cards li").first).to_be_visible()
    expect(page.locator("#minor-list")).to_be_hidden()  # the table is for wider screens
    _assert_fits_the_phone(page, "registry list")
    assert _undersized_targets(page) == [], "targets under 60×60 px on the registry list"
    links = page.locator("#minor-cards a")
    heights = [links.nth(index).bounding_box() for index in range(min(links.count(), 5))]
    assert all(box is not None and box["height"] >= 60 for box in heights), heights
    screenshot(page, "phone-elder-minors")

    page.locator("#more-filters summary").click()
    expect(page.locator("#id_school")).to_be_visible()
    _assert_fits_the_phone(page, "registry list, more filters open")
    assert _undersized_targets(page) == [], "targets under 60×60 px with the filters open"
    checkbox = page.locator("#more-filters input[type=checkbox]").first.bounding_box()
    assert checkbox is not None
    assert checkbox["width"] >= 60
    assert checkbox["height"] >= 60
    screenshot(page, "phone-elder-minors-filters")

    with page.expect_navigation():
        page.locator("#minor-cards a").first.click()
    assert re.fullmatch(rf"{re.escape(site)}/minors/\d+/", page.url)
    _assert_fits_the_phone(page, "a child's record")
    assert _undersized_targets(page) == [], "targets under 60×60 px on a child's record"
