"""Journeys through the personal-information protection pages in a real browser: the auditor's yearly
compliance report, the security administrator's incidents (reported, told to the authority, contained,
closed) and impact assessments (kept three years), and a guardian's request about a child's data,
refused with written reasons that the printed reply letter carries. The new pages are checked with axe in
zh-Hans, and in 长辈模式 (elder mode) on a desktop and on a phone."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.axe import assert_accessible
from e2e.conftest import PHONE, log_in, screenshot
from e2e.test_accessibility import _set_elder_mode
from e2e.test_journeys import _assert_fits_the_phone
from e2e.test_minors import _child

pytestmark = pytest.mark.browser

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
CHUNAN = "330127000000"  # 淳安县
ACCOUNT_ACTIONS = ["account.create", "account.role_assigned", "account.token_issued", "account.token_revoked"]


def _flash(page: Page) -> str:
    """The message the page shows after a step (Django's messages, at the top of the main area)."""
    return page.locator("#main > .alert[role=status]").inner_text()


def _shown(moment: datetime.datetime) -> str:
    """A time as the pages show it (Y年n月j日 H:i)."""
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _tick(scope: Page | Locator, label: str) -> None:
    """Tick a checkbox the way a person does: its label covers the row (guanai.css), and is pressed."""
    scope.locator("label.form-check-label").get_by_text(label, exact=True).click()
    expect(scope.get_by_label(label, exact=True)).to_be_checked()


def _column(page: Page, table: str, header: str) -> list[str]:
    """The cells of one column of a table, row by row (body rows, then the footer), as shown."""
    headers = page.locator(f"{table} thead th").all_inner_texts()
    index = headers.index(header)
    rows = page.locator(f"{table} tbody tr, {table} tfoot tr")
    return [rows.nth(row).locator("th, td").nth(index).inner_text() for row in range(rows.count())]


def test_the_auditor_generates_this_years_compliance_report(page: Page, site: str) -> None:
    from guanai.audit.models import AuditEvent

    year = datetime.datetime.now(BEIJING).year
    log_in(page, site, "demo-auditor")

    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="审计日志", exact=True).click()
    assert page.url == f"{site}/audit/"
    with page.expect_navigation():
        page.click("#audit-report-link")
    assert page.url == f"{site}/audit/report/"
    expect(page.locator("h1")).to_have_text("年度合规审计报告")

    page.fill("#report-year", str(year))
    page.fill("#report-region", "")
    with page.expect_navigation():
        page.get_by_role("button", name="生成报告").click()
    assert page.url == f"{site}/audit/report/?year={year}&region="
    expect(page.locator("#main .alert-warning")).to_have_count(0)
    expect(page.locator("#report-title")).to_have_text(f"浙江省 {year} 年度个人信息保护合规审计报告")
    expect(page.locator("#report-title + p")).to_have_text(
        f"统计期间：{year}-01-01 0时至 {year}-12-31 24时（北京时间）"
    )
    expect(page.locator("#report-year")).to_have_value(str(year))
    expect(page.locator("#report-region")).to_have_value("330000000000")
    assert page.locator("#report-csv").get_attribute("href") == (
        f"/audit/report/?year={year}&region=330000000000&format=csv"
    )

    # The province's own row, one per city below it, the events of no region, and the total.
    expect(page.locator("#report-table tbody th")).to_have_text(
        ["浙江省本级 330000000000", "杭州市 330100000000", "宁波市 330200000000", "未关联区划"]
    )
    expect(page.locator("#report-table tfoot th")).to_have_text("合计")
    headers = page.locator("#report-table thead th").all_inner_texts()
    assert headers[:2] == ["区划", "查看记录"], headers
    rows = page.locator("#report-table tbody tr")
    body = [[int(cell) for cell in rows.nth(row).locator("td").all_inner_texts()] for row in range(4)]
    total = [int(cell) for cell in page.locator("#report-table tfoot td").all_inner_texts()]
    assert len(total) == len(headers) - 1
    assert total == [sum(column) for column in zip(*body, strict=True)], (body, total)
    # The demo accounts were created (and given their roles) this year, inside the province.
    accounts = AuditEvent.objects.filter(action__in=ACCOUNT_ACTIONS, occurred_at__year=year).count()
    assert accounts > 0
    assert _column(page, "#report-table", "账号角色令牌变更")[-1] == str(accounts)
    screenshot(page, "audit-report")

    assert_accessible(page, "audit-report-default")
    _set_elder_mode(page, True)
    expect(page.locator("#report-table tfoot th")).to_have_text("合计")
    assert_accessible(page, "audit-report-elder")
    screenshot(page, "audit-report-elder")


def test_the_security_admin_reports_an_incident_and_closes_it(page: Page, site: str) -> None:
    from guanai.compliance.models import PrivacyIncident

    log_in(page, site, "demo-security")
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="个人信息保护", exact=True).click()
    assert page.url == f"{site}/compliance/incidents/"
    expect(page.locator("#incident-count")).to_have_text("共 0 起事件")
    assert_accessible(page, "incidents-empty")

    # Recording the incident.
    with page.expect_navigation():
        page.click("#incident-new")
    assert page.url == f"{site}/compliance/incidents/new/"
    expect(page.locator("h1")).to_have_text("登记个人信息安全事件")
    assert_accessible(page, "incident-form")
    discovered = datetime.datetime.now(BEIJING).replace(second=0, microsecond=0) - datetime.timedelta(hours=2)
    page.get_by_label("所属区划").select_option(CHUNAN)
    page.get_by_label("事件类型").select_option(label="泄露")
    page.get_by_label("发现时间").fill(f"{discovered:%Y-%m-%dT%H:%M}")
    page.get_by_label("事件经过").fill("一名工作人员把含12名儿童及监护人信息的花名册误发到了家长微信群。")
    _tick(page, "姓名")
    _tick(page, "联系电话")
    page.get_by_label("涉及人数").fill("24")
    page.get_by_label("其中未成年人人数").fill("12")
    page.get_by_label("原因", exact=True).fill("导出的花名册未按规定加密，发送前未核对接收对象。")
    page.get_by_label("已采取的补救措施").fill("已请群主撤回并解散该群，逐一确认群成员已删除文件。")
    page.get_by_label("可能造成的危害").fill("监护人电话可能被用于骚扰或诈骗。")
    with page.expect_navigation():
        page.click("#incident-submit")
    incident = PrivacyIncident.objects.get()
    assert page.url == f"{site}/compliance/incidents/{incident.pk}/"
    assert _flash(page) == "事件已登记。请尽快向主管部门报告，并决定是否通知个人或其监护人。"
    expect(page.locator("h1")).to_have_text(f"个人信息安全事件 第{incident.pk}号 处置中")
    expect(page.locator("#incident-status")).to_have_text("处置中")
    facts = page.locator("#incident-facts")
    expect(facts).to_contain_text("淳安县")
    expect(facts).to_contain_text(_shown(discovered))
    expect(facts).to_contain_text("姓名、联系电话")
    expect(facts).to_contain_text("24 人，其中未成年人 12 人")
    expect(page.locator("#incident-overdue")).to_have_count(0)
    assert_accessible(page, "incident-detail-open")

    # The report to the authority: the time is this minute, already filled in.
    page.locator("#authority-form").get_by_label("报告方式").select_option(label="书面报告")
    page.locator("#authority-form").get_by_label("报告对象").fill("淳安县委网信办")
    page.locator("#authority-form").get_by_label("报告编号或回执").fill("淳网信〔2026〕12号")
    with page.expect_navigation():
        page.locator("#authority-form").get_by_role("button", name="记录报告").click()
    assert _flash(page) == "已记录向主管部门报告。"
    expect(page.locator("#authority-form")).to_have_count(0)
    expect(page.locator("#authority-notice")).to_contain_text(
        "以书面报告报告淳安县委网信办（记录人：安全管理员（演示））。 报告编号或回执：淳网信〔2026〕12号"
    )
    expect(page.locator("#incident-status")).to_have_text("处置中")

    # Contained.
    with page.expect_navigation():
        page.click("#incident-contain")
    assert _flash(page) == "事件已标记为已控制。"
    expect(page.locator("#incident-status")).to_have_text("已控制")
    expect(page.locator("#incident-contain")).to_have_count(0)

    # Closing before deciding whether to tell the families is refused, and says why.
    with page.expect_navigation():
        page.click("#incident-close")
    assert _flash(page) == "尚未记录是否通知个人或其监护人"
    expect(page.locator("#incident-status")).to_have_text("已控制")

    # The guardians are told by telephone; then the incident closes.
    page.locator("#individuals-form").get_by_label("通知方式").select_option(label="电话")
    with page.expect_navigation():
        page.locator("#individuals-form").get_by_role("button", name="记录通知").click()
    assert _flash(page) == "已记录通知个人或其监护人。"
    expect(page.locator("#individuals-notice")).to_contain_text("以电话通知（记录人：安全管理员（演示））。")
    expect(page.locator("#individuals-form")).to_have_count(0)
    expect(page.locator("#not-notify-form")).to_have_count(0)
    with page.expect_navigation():
        page.click("#incident-close")
    assert _flash(page) == "事件已结案。记录将长期保存。"
    expect(page.locator("#incident-status")).to_have_text("已结案")
    expect(page.locator("#incident-facts")).to_contain_text("结案")
    expect(page.locator("#incident-edit")).to_have_count(0)
    expect(page.locator("#incident-close")).to_have_count(0)
    incident.refresh_from_db()
    assert (incident.status, incident.individuals_decision, incident.authority_name) == (
        "closed",
        "notified",
        "淳安县委网信办",
    )
    assert_accessible(page, "incident-detail-closed")
    screenshot(page, "incident-closed")

    # The list shows it closed, reported in time.
    with page.expect_navigation():
        page.locator("#main").get_by_role("link", name="个人信息安全事件").click()
    assert page.url == f"{site}/compliance/incidents/"
    expect(page.locator("#incident-count")).to_have_text("共 1 起事件")
    row = page.locator("#incidents tbody tr")
    expect(row.locator("td")).to_have_text(
        [
            f"第{incident.pk}号",
            _shown(discovered),
            "泄露",
            "淳安县",
            "24",
            "12",
            re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d$"),
            "已通知个人或其监护人",
            "已结案",
        ]
    )
    expect(page.locator("#incidents-overdue")).to_have_count(0)
    assert_accessible(page, "incidents-list")


def test_the_security_admin_records_an_impact_assessment_kept_three_years(page: Page, site: str) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    try:
        kept = today.replace(year=today.year + 3)
    except ValueError:  # 29 February: kept until 1 March
        kept = datetime.date(today.year + 3, 3, 1)
    title = "2026年淳安县困难儿童花名册导入"

    log_in(page, site, "demo-security")
    page.goto(f"{site}/compliance/incidents/")
    with page.expect_navigation():
        page.locator("#compliance-tabs").get_by_role("link", name="个人信息保护影响评估").click()
    assert page.url == f"{site}/compliance/assessments/"
    expect(page.locator("#assessment-count")).to_have_text("共 0 份评估")
    with page.expect_navigation():
        page.click("#assessment-new")
    assert page.url == f"{site}/compliance/assessments/new/"
    expect(page.get_by_label("评估日期")).to_have_value(today.isoformat())

    page.get_by_label("所属区划").select_option(CHUNAN)
    page.get_by_label("评估事项").fill(title)
    page.get_by_label("处理活动类型").select_option(label="批量导入个人信息（如花名册导入）")
    page.get_by_label("处理活动说明").fill(
        "县关工委将各乡镇报送的困难儿童花名册批量导入平台，由县级管理员操作。"
    )
    page.get_by_label("处理目的").fill("建立困难儿童名册，安排结对关爱。")
    page.get_by_label("处理依据").select_option(label="履行法定职责或者法定义务所必需")
    page.get_by_label("涉及的个人信息种类").fill("姓名、身份证件号码、住址、就读学校、家庭情况")
    _tick(page, "涉及敏感个人信息")
    _tick(page, "涉及不满十四周岁未成年人的个人信息")
    page.get_by_label("发现的风险").fill("花名册在乡镇之间以电子表格流转，可能被误发或留存。")
    page.get_by_label("采取的保护措施").fill("导入后删除电子表格；身份证号加密保存、默认脱敏显示。")
    page.get_by_label("评估结论").select_option(label="落实所列措施后方可开展")
    page.get_by_label("结论说明").fill("导入前须完成乡镇联络员培训。")
    page.get_by_label("评估人员").fill("淳安县关工委 张明、县网信办 李华")
    with page.expect_navigation():
        page.click("#assessment-submit")
    assert re.fullmatch(rf"{re.escape(site)}/compliance/assessments/\d+/", page.url), page.url
    assert _flash(page) == "影响评估已登记，保存期限为评估之日起三年。"
    expect(page.locator("h1")).to_have_text(title)
    kept_text = f"{kept.year}年{kept.month}月{kept.day}日"
    expect(page.locator("#keep-until")).to_have_text(kept_text)
    expect(page.locator("#assessment-delete")).to_have_count(0)  # kept: it cannot be deleted yet

    with page.expect_navigation():
        page.locator("#main").get_by_role("link", name="个人信息保护影响评估").click()
    assert page.url == f"{site}/compliance/assessments/"
    expect(page.locator("#assessment-count")).to_have_text("共 1 份评估")
    expect(page.locator("#assessments tbody tr td")).to_have_text(
        [
            f"{title} 含不满十四周岁儿童信息",
            "批量导入个人信息（如花名册导入）",
            "淳安县",
            f"{today.year}年{today.month}月{today.day}日",
            "落实所列措施后方可开展",
            kept_text,
            "有效",
        ]
    )
    screenshot(page, "assessments-list")


def test_a_county_admin_refuses_a_deletion_request_and_prints_the_reply(page: Page, site: str) -> None:
    from guanai.rights.models import DataSubjectRequest

    child_id, _id_number = _child()
    reasons = "该儿童正在接受县关工委的帮扶，相关记录依法须保存至帮扶结束；帮扶结束后可再次提出删除请求。"
    log_in(page, site, "demo-county-a")

    # The child, found in the registry by the initials of the name.
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="困难青少年", exact=True).click()
    with page.expect_request(lambda request: "q=oykx" in request.url):
        page.locator("#id_q").fill("oykx")
        page.locator("#id_q").press("End")
    expect(page.locator("#minor-count")).to_have_text("共 1 名儿童")
    # Leaving the search box is a "change" too: let that request end first (one shared SQLite connection).
    with page.expect_response(lambda response: "q=oykx" in response.url):
        page.locator("#id_q").blur()
    with page.expect_navigation():
        page.locator("#minor-list tbody a", has_text="欧阳可馨").click()
    assert page.url == f"{site}/minors/{child_id}/"

    # Registering the guardian's request.
    with page.expect_navigation():
        page.get_by_role("link", name="登记个人信息请求").click()
    assert page.url == f"{site}/rights/new/{child_id}/"
    expect(page.locator("h1")).to_have_text("登记个人信息请求")
    expect(page.locator("#main p").first).to_have_text("儿童：欧阳可馨 富城村村民委员会")
    assert_accessible(page, "subject-request-form")
    page.get_by_label("请求类型").select_option(label="删除")
    page.get_by_label("申请人身份").select_option(label="监护人")
    page.get_by_label("申请人姓名").fill("欧阳建华")
    page.get_by_label("联系电话").fill("13905718888")
    page.get_by_label("身份与监护关系核验").select_option(label="核验户口簿（含监护关系）")
    page.get_by_label("请求内容").fill("要求删除孩子在平台上的全部个人信息。")
    with page.expect_navigation():
        page.locator("#subject-request-form").get_by_role("button", name="登记").click()
    subject_request = DataSubjectRequest.objects.get()
    due = subject_request.due_on
    assert page.url == f"{site}/rights/{subject_request.pk}/"
    assert _flash(page) == f"已登记，答复期限为{due:%Y年%m月%d日}。"
    expect(page.locator("h1")).to_have_text(f"个人信息删除请求 #{subject_request.pk}")
    expect(page.locator("#subject-request-status")).to_have_text("办理中")
    expect(page.locator("#subject-request-due")).to_have_text(f"{due.year}年{due.month}月{due.day}日")
    expect(page.locator("#subject-request-facts")).to_contain_text("欧阳建华（监护人）")
    expect(page.locator("#erasure-obstacles")).to_have_count(0)
    expect(page.locator("#subject-request-letter")).to_have_count(0)  # no letter while it is open

    # The rest on a phone, in 长辈模式.
    page.set_viewport_size(PHONE)
    _set_elder_mode(page, True)
    _assert_fits_the_phone(page, "an open data-subject request")
    assert_accessible(page, "subject-request-detail-phone-elder")

    page.locator("#refuse-form").get_by_label("不予办理的理由").fill(reasons)
    _tick(page.locator("#refuse-form"), "确认不予办理，并以答复函告知申请人")
    with page.expect_navigation():
        page.locator("#refuse-form").get_by_role("button", name="不予办理").click()
    assert page.url == f"{site}/rights/{subject_request.pk}/"
    assert _flash(page) == "已决定不予办理，请打印答复函告知申请人理由。"
    expect(page.locator("#subject-request-status")).to_have_text("不予办理")
    expect(page.locator("#refusal-reasons")).to_have_text(reasons)
    expect(page.locator("#refuse-form")).to_have_count(0)
    expect(page.locator("#erase-form")).to_have_count(0)
    subject_request.refresh_from_db()
    assert (subject_request.status, subject_request.refusal_reasons) == ("refused", reasons)
    assert_accessible(page, "subject-request-refused-phone-elder")

    with page.expect_navigation():
        page.click("#subject-request-letter")
    assert page.url == f"{site}/rights/{subject_request.pk}/letter/"
    letter = page.locator("#reply-letter")
    expect(letter.locator("h1")).to_have_text("关于个人信息权利请求的答复函")
    expect(letter.locator("p").first).to_have_text("欧阳建华：")
    received = subject_request.received_on
    expect(letter).to_contain_text(
        f"您于{received.year}年{received.month}月{received.day}日提出的个人信息删除请求"
        f"（编号 {subject_request.pk}）收悉。"
    )
    expect(letter).to_contain_text("经审查，我们决定不予办理，理由如下：")
    expect(page.locator("#letter-reasons")).to_have_text(reasons)
    expect(letter).to_contain_text("淳安县关心下一代工作委员会")
    assert "欧阳可馨" not in letter.inner_text()  # the letter names the requester, not the child
    _assert_fits_the_phone(page, "the reply letter")
    screenshot(page, "phone-elder-reply-letter")


def test_a_copy_request_is_refused_with_the_refusal_box_its_label_ticks(page: Page, site: str) -> None:
    """A copy request's page has two forms with a confirmation box each (办结, 不予办理): pressing the
    refusal's label ticks the refusal's box, not the other form's, and the refusal goes through."""
    from django.utils import timezone

    from guanai.minors.models import Minor
    from guanai.rights.models import DataSubjectRequest
    from guanai.rights.tests.factories import DataSubjectRequestFactory

    child_id, _id_number = _child()
    subject_request = DataSubjectRequestFactory.create(
        minor=Minor.objects.get(pk=child_id), kind="copy", received_on=timezone.localdate()
    )
    reasons = "申请人提供的户口簿显示其不是该儿童的监护人，请在册监护人携带身份证件办理。"
    log_in(page, site, "demo-county-a")
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="个人信息请求", exact=True).click()
    assert page.url == f"{site}/rights/"
    row = page.locator("#subject-requests tbody tr")
    expect(row.locator("td").nth(1)).to_have_text("复制")
    expect(row.locator("td").nth(6)).to_have_text("办理中")
    with page.expect_navigation():
        row.get_by_role("link", name=f"#{subject_request.pk}").click()
    assert page.url == f"{site}/rights/{subject_request.pk}/"
    expect(page.locator("h1")).to_have_text(f"个人信息复制请求 #{subject_request.pk}")
    expect(page.locator("#complete-form")).to_be_visible()

    page.locator("#refuse-form").get_by_label("不予办理的理由").fill(reasons)
    _tick(page.locator("#refuse-form"), "确认不予办理，并以答复函告知申请人")
    expect(page.locator("#complete-form input[type=checkbox]")).not_to_be_checked()
    with page.expect_navigation():
        page.locator("#refuse-form").get_by_role("button", name="不予办理").click()
    assert _flash(page) == "已决定不予办理，请打印答复函告知申请人理由。"
    expect(page.locator("#subject-request-status")).to_have_text("不予办理")
    expect(page.locator("#refusal-reasons")).to_have_text(reasons)
    assert DataSubjectRequest.objects.get().status == "refused"
