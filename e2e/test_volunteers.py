"""An elder signs up on a phone in 长辈模式, the township approves, and the elder signs in with an SMS code
and finds 我的 — in a real browser, with the codes read from the test SMS backend (the live server runs
in this process, so its outbox is the test's)."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import log_in, screenshot
from e2e.test_journeys import _assert_fits_the_phone, _elder_mode_on, _undersized_targets

pytestmark = pytest.mark.browser

VILLAGE = "330127100219"  # 富城村, 淳安县千岛湖镇
MOBILE = "13905718801"
NAME = "欧阳志明"


def _last_code(mobile: str, kind: str) -> str:
    """The code of the newest SMS of `kind` ("报名" or "登录") sent to `mobile`."""
    from guanai.accounts.sms import ConsoleSmsBackend

    for number, message in reversed(ConsoleSmsBackend.outbox):
        match = re.search(rf"{kind}验证码为 (\d{{6}})", message)
        if number == mobile and match:
            return match.group(1)
    raise AssertionError(f"no {kind} code sent to {mobile}: {ConsoleSmsBackend.outbox[-3:]}")


def _height(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["height"])


def _tick(page: Page, label: str) -> None:
    """Tick a box by its words, as a person does: the house style stretches each label over its row."""
    page.locator("label.form-check-label", has_text=label).click()
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def _choose(page: Page, selector: str, value: str) -> None:
    """Pick an option; the chooser asks the server for the lists below it (htmx). Wait until the new
    selects are in place and wired, as a person would: htmx swaps them in, then wires them when it
    settles (20 ms later) and takes away their `htmx-added` class."""
    page.evaluate("document.getElementById('region-chooser').dataset.e2eReplaced = 'no'")
    with page.expect_response(lambda response: "/join/regions/" in response.url):
        page.select_option(selector, value)
    expect(page.locator("#region-chooser[data-e2e-replaced]")).to_have_count(0)
    expect(page.locator("#region-chooser.htmx-added")).to_have_count(0)
    expect(page.locator(selector)).to_have_value(value)


def test_an_elder_signs_up_on_a_phone_is_approved_and_signs_in_by_sms(
    phone_page: Page, page: Page, site: str
) -> None:
    from guanai.minors.tests.factories import COUNTY_A_PREFIX, make_id_number
    from guanai.volunteers.models import Volunteer

    id_number = make_id_number(COUNTY_A_PREFIX, datetime.date(1951, 4, 12), 71)
    elder = phone_page

    # The sign-up page opens in 长辈模式: large type and large targets, one column on the phone.
    elder.goto(f"{site}/join/")
    assert _elder_mode_on(elder)
    assert elder.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 24
    assert elder.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)") >= 40
    assert _height(elder, "#signup-submit") >= 60
    assert _height(elder, "#send-code") >= 60
    _assert_fits_the_phone(elder, "sign-up form")
    assert _undersized_targets(elder) == [], "targets under 60×60 px on the sign-up form"
    screenshot(elder, "volunteer-signup-empty")

    # Step by step: name and ID number, the phone proved by a code, the village, what they can do.
    elder.fill("#id_name", NAME)
    elder.fill("#id_id_number", id_number)
    elder.fill("#id_phone", MOBILE)
    with elder.expect_response(lambda response: "/join/code/" in response.url):
        elder.click("#send-code")
    expect(elder.locator("#code-sent")).to_contain_text("验证码已发送到 139****8801")
    elder.fill("#id_code", _last_code(MOBILE, "报名"))
    _choose(elder, "#id_county", "330127000000")
    expect(elder.locator("#id_township")).to_be_enabled()
    _choose(elder, "#id_township", "330127100000")
    expect(elder.locator("#id_region_code")).to_be_enabled()
    _choose(elder, "#id_region_code", VILLAGE)
    expect(elder.locator("#id_region_code")).to_have_value(VILLAGE)
    _tick(elder, "老教师")
    _tick(elder, "教学辅导")
    elder.fill("#id_teaching_subjects", "语文")
    _tick(elder, "周末白天（周六、周日）")
    elder.select_option("#id_max_children", "2")
    _tick(elder, "我已阅读并同意上面的个人信息处理告知")
    _assert_fits_the_phone(elder, "sign-up form filled in")
    assert _undersized_targets(elder) == [], "targets under 60×60 px once the lists are filled"
    with elder.expect_navigation():
        elder.click("#signup-submit")
    assert elder.url == f"{site}/join/done/"
    expect(elder.locator("#signup-done")).to_have_text("报名已提交，谢谢您！")
    screenshot(elder, "volunteer-signup-done")
    volunteer = Volunteer.objects.get(name=NAME)
    assert (volunteer.status, volunteer.source, volunteer.region_id) == ("applying", "signup", VILLAGE)

    # The township reviews and approves.
    log_in(page, site, "demo-township")
    page.goto(f"{site}/volunteers/applications/")
    card = page.locator(f"#application-{volunteer.pk}")
    expect(card).to_contain_text(NAME)
    expect(card).to_contain_text("139****8801")
    assert id_number not in page.content()
    with page.expect_navigation():
        page.click(f"#approve-{volunteer.pk}")
    expect(page.locator("main")).to_contain_text(f"已通过：{NAME}。本人可用手机号和短信验证码登录。")
    volunteer.refresh_from_db()
    assert volunteer.status == "active"
    assert volunteer.user is not None

    # The elder signs in with the phone and a code — no password — and lands on 我的.
    elder.goto(f"{site}/account/sms-login/?next=/me/")
    elder.fill("#id_mobile", MOBILE)
    with elder.expect_navigation():
        elder.click("button[value=send]")
    expect(elder.locator("#sms-sent")).to_be_visible()
    elder.fill("#id_sms_code", _last_code(MOBILE, "登录"))
    with elder.expect_navigation():
        elder.click("button[value=login]")
    assert elder.url == f"{site}/me/"
    assert _elder_mode_on(elder)
    expect(elder.locator("#greeting")).to_contain_text(f"{NAME}，您好！")
    expect(elder.locator("#hours-total")).to_have_text("累计 0 小时")
    expect(elder.locator("#next-star")).to_have_text("再服务 100 小时可评一星")
    expect(elder.locator("#no-children")).to_have_text("暂无结对儿童")
    expect(elder.locator("#profile-phone")).to_have_text("139****8801")
    assert _height(elder, "#claim-submit") >= 60
    _assert_fits_the_phone(elder, "我的")
    assert _undersized_targets(elder) == [], "targets under 60×60 px on 我的"
    screenshot(elder, "volunteer-mine")
