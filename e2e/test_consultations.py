"""Online help in a real browser: a child asks anonymously on a phone in 长辈模式, the demo counsellor (on
duty for 淳安县 around the clock in the demo) accepts declaring no conflict and replies, and the child reads
the reply with the reference and the retrieval code shown once at the end of the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import log_in, screenshot
from e2e.test_journeys import _assert_fits_the_phone, _elder_mode_on, _undersized_targets

pytestmark = pytest.mark.browser

CHUNAN = "330127000000"  # 淳安县
DESCRIPTION = "马上要期末考试了，每天晚上都睡不着，心里很慌，不知道该怎么办。"
REPLY = "你好，考前紧张很常见。我们先试试每天固定时间睡觉，睡前一小时不看手机，好吗？"


def _ask_on_the_phone(phone: Page, site: str) -> tuple[str, str]:
    """The form, step by step, as a child fills it in; returns (reference, retrieval code)."""
    phone.goto(f"{site}/help/")
    assert _elder_mode_on(phone)
    expect(phone.locator("a[href='tel:12355']").first).to_be_visible()
    _assert_fits_the_phone(phone, "help home")
    phone.goto(f"{site}/help/ask/?kind=psychological")
    _assert_fits_the_phone(phone, "ask form")
    phone.select_option("#id_topic", "study_pressure")
    phone.locator("label", has_text="本人").first.click()
    phone.select_option("#id_requester_age", "15")
    with phone.expect_response(lambda response: "/help/ask/regions/" in response.url):
        phone.select_option("#id_county", CHUNAN)
    expect(phone.locator("#id_township")).to_be_enabled()
    with phone.expect_response(lambda response: "/knowledge/suggest/" in response.url):
        phone.fill("#id_description", DESCRIPTION)
        phone.locator("#id_description").press("End")
    # The knowledge base answers while the child types: the demo counsellor's article on exam nerves.
    expect(phone.locator("#suggestions")).to_contain_text("考试前总是紧张")
    phone.locator("label", has_text="在线回复").first.click()
    phone.locator("label[for=id_consent]").click()
    expect(phone.locator("#id_consent")).to_be_checked()
    assert _undersized_targets(phone) == []
    with phone.expect_navigation():
        phone.click("#ask-submit")
    assert phone.url == f"{site}/help/done/", phone.locator("#form-error-summary").all_inner_texts()
    reference = phone.inner_text("#reference").strip()
    code = phone.inner_text("#retrieval-code").strip()
    assert reference.startswith("ZX")
    assert len(reference) == 10
    assert len(code) == 8
    _assert_fits_the_phone(phone, "done")
    screenshot(phone, "consultation-done-phone")
    # Shown once: a reload no longer shows the code.
    phone.reload()
    expect(phone.locator("#retrieval-code")).to_have_count(0)
    return reference, code


def _counsellor_accepts_and_replies(page: Page, site: str, reference: str) -> None:
    log_in(page, site, "demo-counsellor")
    page.goto(f"{site}/consultations/queue/")
    row = page.locator("#queue li.card", has_text=reference)
    expect(row).to_have_count(1)
    # Before accepting, the queue shows what the request is about, never the child's words.
    expect(row).not_to_contain_text(DESCRIPTION)
    accept = row.locator("button", has_text="受理")
    row.locator("label", has_text="不存在利益冲突").click()
    expect(row.locator("input[name=declares_no_conflict]")).to_be_checked()
    with page.expect_navigation():
        accept.click()
    expect(page.locator("#consultation-reference")).to_contain_text(reference)
    expect(page.locator("#description")).to_contain_text(DESCRIPTION)
    page.fill("#message-form textarea[name=body]", REPLY)
    page.click("#message-send")
    expect(page.locator("#thread")).to_contain_text(REPLY)
    screenshot(page, "consultation-counsellor-replied")


def _child_reads_the_reply(phone: Page, site: str, reference: str, code: str) -> None:
    phone.goto(f"{site}/help/my/")
    phone.fill("#retrieve-form input[name=reference]", reference)
    phone.fill("#retrieve-form input[name=code]", code.lower())  # typed in small letters: still accepted
    with phone.expect_navigation():
        phone.click("#retrieve-submit")
    assert phone.url == f"{site}/help/my/{reference}/"
    expect(phone.locator("#thread")).to_contain_text(REPLY)
    expect(phone.locator("#my-description")).to_contain_text(DESCRIPTION)
    _assert_fits_the_phone(phone, "conversation")
    screenshot(phone, "consultation-reply-phone")


def test_an_anonymous_child_asks_on_a_phone_a_counsellor_replies_and_the_child_reads_it(
    phone_page: Page, page: Page, site: str
) -> None:
    reference, code = _ask_on_the_phone(phone_page, site)
    _counsellor_accepts_and_replies(page, site, reference)
    _child_reads_the_reply(phone_page, site, reference, code)


def test_a_wrong_retrieval_code_reveals_nothing(phone_page: Page, site: str) -> None:
    reference, _code = _ask_on_the_phone(phone_page, site)
    phone_page.goto(f"{site}/help/my/")
    phone_page.fill("#retrieve-form input[name=reference]", reference)
    phone_page.fill("#retrieve-form input[name=code]", "AAAAAAAA")
    phone_page.click("#retrieve-submit")
    expect(phone_page.locator("#retrieve-error")).to_be_visible()
    expect(phone_page.locator("body")).not_to_contain_text(DESCRIPTION)
    assert phone_page.url == f"{site}/help/my/"
