"""Journeys through the pages in a real browser: signing in, the region scope of what one sees, htmx
filtering, 长辈模式 (elder mode), the interface language, and a phone-sized screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.browser

CHUNAN_COMMITTEES = [  # the list's order: region code, then kind (enterprise < regional < school), then name
    "淳安县供电公司关工委",
    "淳安县关心下一代工作委员会",
    "淳安县职业技术学校关工委",
    "千岛湖镇关心下一代工作委员会",
    "千岛湖镇中心小学关工委",
    "青城社区关心下一代工作委员会",
    "富城村关心下一代工作委员会",
]
JIANDE_COMMITTEES = [
    "建德市农商银行关工委",
    "建德市关心下一代工作委员会",
    "建德市新安江第一小学关工委",
    "新安江街道关心下一代工作委员会",
    "白沙社区关心下一代工作委员会",
]

# Every visible control and every link of the navigation bar that is smaller than `minimum` px either way.
# Elements 1px or less across are Bootstrap's .visually-hidden (labels read by screen readers only).
UNDERSIZED_TARGETS_JS = """
(minimum) => {
  const selector = 'button, input:not([type="hidden"]), select, textarea, .navbar a[href]';
  const found = [];
  for (const element of document.querySelectorAll(selector)) {
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width <= 1 || box.height <= 1) continue;
    if (box.width < minimum || box.height < minimum) {
      const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className ? '.' + String(element.className).trim().split(/\\s+/).join('.') : '');
      const text = (element.innerText || element.value || '').trim().slice(0, 20);
      found.push(`${name} "${text}" ${box.width.toFixed(1)}×${box.height.toFixed(1)}`);
    }
  }
  return found;
}
"""

# WCAG 2.x contrast of text against what is painted behind it: the element's own background and its
# ancestors' (translucent layers composited, background images ignored), white at the bottom.
CONTRAST_JS = """
() => {
  const parse = (value) => {
    const match = value.match(/rgba?\\(([^)]+)\\)/);
    if (!match) return null;
    const parts = match[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const backgroundOf = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour[3] > 0) {
        layers.push(colour);
        if (colour[3] >= 1) break;
      }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const luminance = (colour) => {
    const channel = (value) => {
      const v = value / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(colour[0]) + 0.7152 * channel(colour[1]) + 0.0722 * channel(colour[2]);
  };
  const contrast = (element) => {
    const background = backgroundOf(element);
    const text = over(parse(getComputedStyle(element).color), background);
    const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
    return { ratio: (light + 0.05) / (dark + 0.05), text: getComputedStyle(element).color,
             background: `rgb(${background.slice(0, 3).map(Math.round).join(', ')})` };
  };
  const body = contrast(document.body);
  const failing = [];
  for (const element of document.body.querySelectorAll('*')) {
    const ownText = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = element.getBoundingClientRect();
    const hidden = box.width <= 1 || box.height <= 1 || getComputedStyle(element).visibility === 'hidden';
    if (!ownText || hidden) continue;
    const result = contrast(element);
    if (result.ratio < 4.5) {
      const label = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '');
      const text = element.textContent.trim().slice(0, 20);
      failing.push(`${label} "${text}" ${result.text} on ${result.background}: ${result.ratio.toFixed(2)}`);
    }
  }
  return { body, failing };
}
"""

# Elements reaching past the right edge of the viewport: the cause of a horizontal scrollbar.
OVERFLOWING_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className ? '.' + String(element.className).trim().split(/\\s+/).join('.') : '');
      found.push(`${name} right=${box.right.toFixed(1)} width=${box.width.toFixed(1)}`);
    }
  }
  return found;
}
"""


def _committee_names(page: Page) -> list[str]:
    return page.locator("#committee-table tbody td:first-child a").all_inner_texts()


def _open_committees(page: Page, label: str = "关工委组织") -> None:
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name=label, exact=True).click()


def _elder_mode_on(page: Page) -> bool:
    classes: str = page.evaluate("document.documentElement.className")
    return "elder-mode" in classes.split()


def _undersized_targets(page: Page, minimum: int = 60) -> list[str]:
    found: list[str] = page.evaluate(UNDERSIZED_TARGETS_JS, minimum)
    return found


def _contrast(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(CONTRAST_JS)
    return result


def test_static_files_are_served_by_the_live_server(page: Page, site: str) -> None:
    page.goto(f"{site}/login/")
    for path in (
        "/static/vendor/bootstrap/bootstrap.min.css",
        "/static/guanai/guanai.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/guanai/guanai.js",
    ):
        response = page.request.get(f"{site}{path}")
        assert response.status == 200, path
    # Applied, not only fetched: the house red on the navbar, htmx and Bootstrap's JS loaded.
    assert page.evaluate("getComputedStyle(document.querySelector('.guanai-navbar')).backgroundColor") == (
        "rgb(179, 38, 30)"
    )
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("typeof window.bootstrap") == "object"


def test_county_a_admin_sees_own_committees_and_filters_them_with_htmx(page: Page, site: str) -> None:
    log_in(page, site, "demo-county-a")
    breadcrumb = page.locator("#region-breadcrumb li")
    assert breadcrumb.all_inner_texts() == ["浙江省", "杭州市", "淳安县"]
    dividers = [
        breadcrumb.nth(index).evaluate("item => getComputedStyle(item, '::before').content")
        for index in (1, 2)
    ]
    assert dividers == ['"›"', '"›"']
    assert page.locator("#region-breadcrumb [aria-current=location]").inner_text() == "淳安县"

    _open_committees(page)
    assert page.url == f"{site}/committees/"
    assert page.locator("h1").inner_text() == "关工委组织"
    assert _committee_names(page) == CHUNAN_COMMITTEES
    assert page.get_by_role("link", name="淳安县关心下一代工作委员会", exact=True).count() == 1
    assert page.get_by_text("建德市关心下一代工作委员会").count() == 0
    assert page.locator("#committee-count").inner_text() == "共 7 个关工委"

    # A full page load would wipe this; an htmx swap keeps it.
    page.evaluate("window.e2eSameDocument = true")
    with page.expect_request(
        lambda request: "/committees/?" in request.url and request.headers.get("hx-request") == "true"
    ) as htmx_request:
        # Playwright types characters off the US keyboard with an input event only; an IME user's
        # typing ends with a keyup, which is what the form's hx-trigger listens for.
        page.locator("#filter-q").fill("千岛湖")
        page.locator("#filter-q").press("End")
    assert "q=%E5%8D%83%E5%B2%9B%E6%B9%96" in htmx_request.value.url
    expect(page.locator("#committee-count")).to_have_text("共 2 个关工委")
    assert _committee_names(page) == ["千岛湖镇关心下一代工作委员会", "千岛湖镇中心小学关工委"]
    assert page.evaluate("window.e2eSameDocument") is True
    assert page.url == f"{site}/committees/?q=%E5%8D%83%E5%B2%9B%E6%B9%96&region=&kind="  # hx-push-url
    screenshot(page, "county-a-committees-filtered")


def test_county_b_admin_sees_only_jiande_and_county_a_gets_404_for_it(page: Page, site: str) -> None:
    from guanai.committees.models import Committee

    jiande = Committee.objects.get(name="建德市关心下一代工作委员会")
    chunan = Committee.objects.get(name="淳安县关心下一代工作委员会")

    log_in(page, site, "demo-county-b")
    assert page.locator("#region-breadcrumb li").all_inner_texts() == ["浙江省", "杭州市", "建德市"]
    _open_committees(page)
    assert _committee_names(page) == JIANDE_COMMITTEES
    assert page.get_by_text("淳安县关心下一代工作委员会").count() == 0
    assert page.locator("#committee-count").inner_text() == "共 5 个关工委"
    with page.expect_navigation():
        page.locator(".navbar form[action='/logout/'] button").click()
    assert page.url == f"{site}/login/"

    log_in(page, site, "demo-county-a")
    own = page.goto(f"{site}/committees/{chunan.pk}/")
    assert own is not None
    assert own.status == 200
    assert page.locator("h1").inner_text() == "淳安县关心下一代工作委员会"

    other = page.goto(f"{site}/committees/{jiande.pk}/")
    assert other is not None
    assert other.status == 404
    assert page.locator("h1").inner_text() == "未找到"
    assert page.locator("#error-message").inner_text() == "页面不存在，或不在您的管辖范围内。"
    assert page.get_by_text("建德市关心下一代工作委员会").count() == 0
    screenshot(page, "county-a-jiande-detail-404")


def test_elder_mode_enlarges_text_and_targets_and_follows_the_user(page: Page, site: str) -> None:
    page.goto(f"{site}/login/")
    assert not _elder_mode_on(page)
    assert page.locator("#elder-mode-switch").get_attribute("aria-pressed") == "false"
    with page.expect_navigation():
        page.click("#elder-mode-switch")
    page.reload()
    assert page.url == f"{site}/login/"
    assert _elder_mode_on(page)
    assert page.locator("#elder-mode-switch").get_attribute("aria-pressed") == "true"
    assert page.locator("#elder-mode-switch").inner_text() == "退出长辈模式"

    body_font_size = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert body_font_size >= 24, body_font_size
    assert _undersized_targets(page) == [], "targets under 60×60 px on the login page"
    contrast = _contrast(page)
    assert contrast["body"]["ratio"] >= 4.5, contrast["body"]
    assert contrast["failing"] == [], "text under 4.5:1 on the login page"
    screenshot(page, "elder-mode-login")

    log_in(page, site, "demo-county-a")
    assert _elder_mode_on(page)
    assert _undersized_targets(page) == [], "targets under 60×60 px on the home page"
    contrast = _contrast(page)
    assert contrast["body"]["ratio"] >= 4.5, contrast["body"]
    assert contrast["failing"] == [], "text under 4.5:1 on the home page"
    screenshot(page, "elder-mode-home")

    with page.expect_navigation():
        page.click("#elder-mode-switch")
    assert page.url == f"{site}/"
    assert not _elder_mode_on(page)
    page.reload()
    assert not _elder_mode_on(page)
    assert page.locator("#elder-mode-switch").inner_text() == "长辈模式"
    assert float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")) == 16


def test_language_switch_translates_the_navigation(page: Page, site: str) -> None:
    log_in(page, site, "demo-county-a")
    navigation = page.locator(".navbar-nav .nav-link")
    names = [
        "首页",
        "困难青少年",
        "个人信息请求",
        "五老志愿者",
        "结对关爱",
        "强制报告",
        "网吧监督",
        "帮教案件",
        "网上咨询监管",
        "工作指标",
        "关工委组织",
        "行政区划",
        "用户",
        "角色管理",
    ]
    assert navigation.all_inner_texts() == names
    committees = names.index("关工委组织")

    page.select_option("#language-select", value="en")
    with page.expect_navigation():
        page.click("#language-select + button")
    assert page.url == f"{site}/"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert navigation.nth(committees).inner_text() == "Committees"
    _open_committees(page, "Committees")
    assert page.url == f"{site}/committees/"

    page.select_option("#language-select", label="繁體中文")
    with page.expect_navigation():
        page.click("#language-select + button")
    assert page.url == f"{site}/committees/"
    assert page.evaluate("document.documentElement.lang") == "zh-hant"
    assert navigation.nth(committees).inner_text() == "關工委組織"
    screenshot(page, "language-zh-hant")


def test_language_choices_are_named_in_their_own_language(page: Page, site: str) -> None:
    # A reader who cannot read the current language must still find their own: each choice is written
    # in itself (the options carry lang="…" for exactly that), whatever the interface language is.
    page.goto(f"{site}/login/")
    options = page.locator("#language-select option")
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    assert options.all_inner_texts() == ["简体中文", "繁體中文", "English"]
    assert [options.nth(index).get_attribute("lang") for index in range(3)] == ["zh-hans", "zh-hant", "en"]


def test_phone_in_elder_mode_has_no_horizontal_scrollbar(phone_page: Page, site: str) -> None:
    page = phone_page
    log_in(page, site, "demo-county-a")
    # The switch stays outside the collapsed menu: always visible, also on a phone (DOMAIN.md §6).
    expect(page.locator("#guanai-nav")).to_be_hidden()
    expect(page.locator("#elder-mode-switch")).to_be_visible()
    with page.expect_navigation():
        page.click("#elder-mode-switch")
    assert page.url == f"{site}/"
    assert _elder_mode_on(page)
    screenshot(page, "phone-elder-home")
    _assert_fits_the_phone(page, "menu collapsed")
    assert _undersized_targets(page) == [], "targets under 60×60 px, menu collapsed"

    page.click(".navbar-toggler")
    expect(page.locator("#guanai-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    screenshot(page, "phone-elder-home-menu-open")
    _assert_fits_the_phone(page, "menu open")
    assert _undersized_targets(page) == [], "targets under 60×60 px, menu open"


def _assert_fits_the_phone(page: Page, state: str) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    overflowing: list[str] = page.evaluate(OVERFLOWING_JS)
    assert scroll_width <= PHONE["width"] + 1, (
        f"{state}: scrollWidth {scroll_width}; reaching past the edge: {overflowing}"
    )


def test_an_account_manager_unmasks_a_mobile_number_and_it_is_audited(page: Page, site: str) -> None:
    """The htmx button posts with the CSRF token under the Content-Security-Policy, shows the number in
    place, and leaves one audit event; without the click the page holds only the masked number."""
    from guanai.accounts.models import User
    from guanai.audit.models import AuditEvent

    volunteer = User.objects.get(username="demo-volunteer")
    volunteer.mobile = "13905710021"
    volunteer.save(update_fields=["mobile", "mobile_index"])
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    log_in(page, site, "demo-county-a")
    page.goto(f"{site}/account/users/?q=demo-volunteer")
    cell = page.locator(f"#mobile-{volunteer.pk}")
    expect(cell).to_have_text("139****0021")
    assert "13905710021" not in page.content()
    page.click(f"#unmask-mobile-{volunteer.pk}")
    expect(page.locator(".guanai-unmasked")).to_have_text("13905710021")
    events = AuditEvent.objects.filter(action="personal_data.unmask", target_id=str(volunteer.pk))
    assert list(events.values_list("actor_username", "outcome")) == [("demo-county-a", "success")]
    assert csp_violations == []
    screenshot(page, "unmask-mobile")


def test_idle_sign_out_warns_first_and_continuing_keeps_the_session(
    page: Page, site: str, settings: Any
) -> None:
    """With the idle limit shortened to 20 s: the warning shows, "继续使用" keeps the session, and
    without activity the page goes to the sign-in page, where the session has indeed ended."""
    log_in(page, site, "demo-volunteer")
    settings.SESSION_COOKIE_AGE = 20
    settings.GUANAI_IDLE_WARNING_SECONDS = 15
    page.goto(f"{site}/")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=15_000)
    page.click("#idle-continue")
    expect(warning).to_be_hidden()
    page.wait_for_url(re.compile(r"/login/\?idle=1"), timeout=40_000)
    expect(page.locator("#idle-signed-out")).to_be_visible()
    page.goto(f"{site}/")
    assert "/login/" in page.url
