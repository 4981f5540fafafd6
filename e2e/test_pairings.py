"""Pairing for 千岛湖镇 in a real browser: the township's admin proposes pairings, previews them with their
explanations and accepts them; the demo volunteer, on a phone in 长辈模式, records a visit to the child
whose contact was overdue; and the township's overdue count drops by one.

The world is the demo's (`guanai.demo.services`): part of the children paired months ago with visits since,
some pairings overdue — among them one of the demo volunteer's two children."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import log_in, screenshot
from e2e.test_journeys import _assert_fits_the_phone, _elder_mode_on, _undersized_targets

pytestmark = pytest.mark.browser

TOWNSHIP = "330127100000"  # 千岛湖镇, 淳安县
# The engine explains each proposal by distance, fit and load; the load always comes last.
LOAD_EXPLAINED = re.compile(r"当前(无结对|结对 \d+ 人)$")


def _overdue_in_township(today: datetime.date) -> set[int]:
    from guanai.core import region_codes
    from guanai.pairings.contact import overdue_q
    from guanai.pairings.models import Pairing

    overdue = Pairing.objects.filter(overdue_q(today)).filter(
        region_codes.within_q("minor__region_id", TOWNSHIP)
    )
    return set(overdue.values_list("pk", flat=True))


def _volunteers_overdue_pairing(today: datetime.date) -> Any:
    """The demo volunteer's pairing whose contact is overdue (the visit this test records)."""
    from guanai.pairings.contact import overdue_q
    from guanai.pairings.models import Pairing

    pairing = (
        Pairing.objects.filter(overdue_q(today), volunteer__user__username="demo-volunteer")
        .select_related("minor")
        .order_by("next_contact_due", "pk")
        .first()
    )
    assert pairing is not None, "the demo gives the demo volunteer an overdue child"
    return pairing


def _village_count(page: Page, village: str) -> int:
    """The overdue count of a village in the page's table (a village without any is not listed)."""
    cell = page.locator(f"#count-{village} td[data-count]")
    if cell.count() == 0:
        return 0
    return int(cell.get_attribute("data-count") or "0")


def test_township_proposes_and_accepts_pairings_and_a_visit_on_a_phone_clears_an_overdue_contact(
    page: Page, phone_page: Page, site: str
) -> None:
    from django.utils import timezone

    from guanai.pairings.contact import contact_interval_days
    from guanai.pairings.models import Pairing, ProposalRun, ProposedPair, Visit
    from guanai.pairings.visits import hours_of
    from guanai.pairings.vocabulary import PairingState
    from guanai.volunteers.models import ServiceHours

    today = timezone.localdate()
    overdue_before = _overdue_in_township(today)
    pairing = _volunteers_overdue_pairing(today)
    assert pairing.pk in overdue_before
    village = pairing.minor.region_id

    # The township's overdue list: the count is the pairings overdue in the database, the child among them.
    log_in(page, site, "demo-township")
    page.goto(f"{site}/pairings/overdue/")
    expect(page.locator("#overdue-total")).to_have_text(str(len(overdue_before)))
    expect(page.locator(f"#pairing-{pairing.pk}")).to_be_visible()
    village_before = _village_count(page, village)
    assert village_before >= 1
    screenshot(page, "pairings-overdue-before")

    # Proposals for 千岛湖镇: the unpaired children matched with volunteers who have places left.
    page.goto(f"{site}/pairings/propose/")
    page.select_option("#id_region", TOWNSHIP)
    with page.expect_navigation():
        page.click("#propose-submit")
    match = re.fullmatch(rf"{re.escape(site)}/pairings/proposals/(\d+)/", page.url)
    assert match is not None, page.url
    run = ProposalRun.objects.get(pk=int(match.group(1)))
    assert run.region_id == TOWNSHIP
    proposed = int(run.summary["proposed"])
    assert proposed > 0
    expect(page.locator("#run-summary")).to_contain_text(f"建议结对 {proposed} 对")
    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(proposed)
    explanations = [text.strip() for text in rows.locator("td:nth-child(5)").all_inner_texts()]
    assert len(explanations) == proposed
    assert all(LOAD_EXPLAINED.search(text) for text in explanations), explanations[:5]
    # The demo volunteer's overdue child is paired already: not proposed again.
    assert not ProposedPair.objects.filter(run=run, minor_id=pairing.minor_id).exists()
    screenshot(page, "pairings-proposals-preview")

    open_before = Pairing.objects.exclude(state=PairingState.CLOSED).count()
    with page.expect_navigation():
        page.click("#accept-all")
    expect(page.locator("main")).to_contain_text(f"已建立 {proposed} 对结对。")
    expect(page.locator("#proposals tbody tr", has_text="已采纳")).to_have_count(proposed)
    assert ProposedPair.objects.filter(run=run, accepted_at__isnull=False).count() == proposed
    assert Pairing.objects.exclude(state=PairingState.CLOSED).count() == open_before + proposed
    # New pairings begin today: none of them is overdue, the township's count is unchanged so far.
    assert _overdue_in_township(today) == overdue_before
    screenshot(page, "pairings-proposals-accepted")

    # The volunteer, on a phone in 长辈模式, finds the overdue child and records a visit.
    elder = phone_page
    log_in(elder, site, "demo-volunteer")
    with elder.expect_navigation():
        elder.click("#elder-mode-switch")
    assert _elder_mode_on(elder)
    elder.goto(f"{site}/visits/mine/")
    expect(elder.locator("#overdue-alert")).to_be_visible()
    expect(elder.locator(f"#overdue-{pairing.pk}")).to_contain_text("已逾期")
    _assert_fits_the_phone(elder, "我的结对儿童")
    assert _undersized_targets(elder) == [], "targets under 60×60 px on 我的结对儿童"
    screenshot(elder, "pairings-phone-my-children")
    with elder.expect_navigation():
        elder.click(f"#record-{pairing.pk}")
    assert elder.url == f"{site}/visits/new/{pairing.pk}/"
    expect(elder.locator("#id_visited_on")).to_have_value(today.isoformat())
    elder.locator("#fieldset-mode label", has_text="入户").click()
    expect(elder.locator("#fieldset-mode input[value=home]")).to_be_checked()
    elder.fill("#id_duration_minutes", "45")
    for activity in ("谈心聊天", "辅导功课"):
        elder.locator("#fieldset-activities label", has_text=activity).click()
    elder.fill("#id_note", "陪孩子写完作业，聊了学校的事，孩子精神不错。")
    _assert_fits_the_phone(elder, "visit form filled in")
    assert _undersized_targets(elder) == [], "targets under 60×60 px on the visit form"
    screenshot(elder, "pairings-phone-visit-form")
    with elder.expect_navigation():
        elder.click("#visit-submit")
    assert elder.url == f"{site}/visits/mine/"
    expect(elder.locator("main")).to_contain_text("走访已记录，时长已计入您的志愿服务时长。谢谢您！")
    expect(elder.locator(f"#overdue-{pairing.pk}")).to_have_count(0)
    due = today + datetime.timedelta(days=contact_interval_days(pairing.minor.risk_level))
    expect(elder.locator(f"#due-{pairing.pk}")).to_contain_text(f"{due.year}年{due.month}月{due.day}日")
    screenshot(elder, "pairings-phone-visit-recorded")
    visit = Visit.objects.get(pairing=pairing, visited_on=today)
    assert visit.recorded_by is not None
    assert (visit.mode, visit.duration_minutes, visit.activities, visit.recorded_by.username) == (
        "home",
        45,
        1 | 2,  # 谈心聊天, 辅导功课
        "demo-volunteer",
    )
    assert ServiceHours.objects.get(source_key=f"visit:{visit.pk}").hours == hours_of(45)

    # Back on the township's overdue list: one fewer, and the child is off it.
    page.goto(f"{site}/pairings/overdue/")
    assert _overdue_in_township(today) == overdue_before - {pairing.pk}
    expect(page.locator("#overdue-total")).to_have_text(str(len(overdue_before) - 1))
    expect(page.locator(f"#pairing-{pairing.pk}")).to_have_count(0)
    assert _village_count(page, village) == village_before - 1
    screenshot(page, "pairings-overdue-after")
