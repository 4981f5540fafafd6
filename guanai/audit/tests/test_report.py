"""The yearly compliance audit report: a year of hand-placed events, counted by hand."""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from guanai.audit.actions import ACTION_LABELS
from guanai.audit.models import AuditEvent
from guanai.audit.reports import (
    CATEGORIES,
    ComplianceReport,
    audit_compliance_report,
    category_actions,
    report_csv,
)
from guanai.audit.services import audit_record, current_operator
from guanai.core.access import Actor, Role
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_A, count_queries, create_persona, verified_client

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
YEAR = 2024
TOWNSHIP_A = "330127100000"  # 千岛湖镇, in 淳安县
KEYS = [category.key for category in CATEGORIES]


def beijing(
    year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


MIDYEAR = beijing(YEAR, 6, 15)


def place(when: datetime.datetime, **kwargs: Any) -> AuditEvent:
    with time_machine.travel(when, tick=False):
        return audit_record(**kwargs)


def nonzero(counts: tuple[int, ...]) -> dict[str, int]:
    return {key: count for key, count in zip(KEYS, counts, strict=True) if count}


def table(report: ComplianceReport) -> dict[str, dict[str, int]]:
    return {row.label: nonzero(row.counts) for row in [*report.rows, report.total]}


@pytest.fixture
def county_auditor(personas: dict[str, Any]) -> Actor:
    """An auditor whose role is held at county A (made with the ORM: the account services place the
    auditor at the province)."""
    from guanai.accounts.selectors import actor_for_user

    user = create_persona("p-auditor-a", Role.AUDITOR, COUNTY_A, display_name="county_auditor", audited=False)
    return actor_for_user(user)


@pytest.fixture
def year_of_events(actors: dict[str, Actor]) -> None:
    """2024 in 淳安县 (county A), 建德市 (county B), 鄞州区 (宁波市), the province itself and no region; one
    event in 北京市; and events just before and after the year, and in 2023 and 2025."""
    county_a, county_b = actors["county_a_admin"], actors["county_b_admin"]
    township, province = actors["township_worker"], actors["province_admin"]
    unmask = "personal_data.unmask"
    # The boundaries: Beijing midnight, which is 16:00 UTC of the day before.
    place(beijing(2023, 12, 31, 23, 59, 59), actor=county_a, action="minor.view")  # 2023
    place(beijing(YEAR, 1, 1, 0, 0, 0), actor=county_a, action="minor.view")  # 2024 (UTC: 2023-12-31)
    place(beijing(YEAR, 12, 31, 23, 59, 59), actor=county_a, action=unmask, region_code=TOWNSHIP_A)
    place(beijing(YEAR + 1, 1, 1, 0, 0, 0), actor=county_a, action=unmask, region_code=TOWNSHIP_A)  # 2025
    # The years before and after.
    place(beijing(2023, 6, 1), actor=county_a, action=unmask, region_code=TOWNSHIP_A)
    place(beijing(2025, 6, 1), actor=county_b, action="volunteers.export")
    # County A: the county itself and its township.
    place(MIDYEAR, actor=county_a, action="minor.view")
    place(MIDYEAR, actor=county_a, action=unmask, region_code=TOWNSHIP_A)
    place(MIDYEAR, actor=county_a, action=unmask, region_code=TOWNSHIP_A)
    place(MIDYEAR, actor=township, action=unmask, outcome="denied")
    place(MIDYEAR, actor=county_a, action="minors.export", detail={"rows": 12})
    place(MIDYEAR, actor=county_a, action="minors.export", outcome="denied", detail={"rows": 1500})
    place(MIDYEAR, actor=province, action="export.approved", region_code=COUNTY_A)
    place(MIDYEAR, actor=county_a, action="mentoring.break_glass", detail={"reason_code": "court"})
    place(MIDYEAR, actor=county_a, action="mentoring.break_glass", outcome="denied")
    place(MIDYEAR, actor=county_a, action="mentoring.break_glass_revoked")
    place(MIDYEAR, actor=township, action="access.denied", outcome="denied", detail={"path": "/minors/"})
    place(MIDYEAR, actor=province, action="account.role_assigned", region_code=COUNTY_A)
    place(MIDYEAR, actor=county_a, action="committee.create")  # in no category
    place(MIDYEAR, actor=None, action="auth.login", username="p-county-a", region_code=COUNTY_A)  # neither
    place(MIDYEAR, actor=county_a, action="subject_request.received")
    place(MIDYEAR, actor=county_a, action="subject_request.received")
    place(MIDYEAR, actor=county_a, action="subject_request.refused", region_code=TOWNSHIP_A)
    place(MIDYEAR, actor=county_a, action="minor.erased", region_code=TOWNSHIP_A)
    # County B.
    place(MIDYEAR, actor=county_b, action="volunteers.export", detail={"rows": 30})
    place(MIDYEAR, actor=county_b, action="volunteers.export", detail={"rows": 31})
    place(MIDYEAR, actor=province, action="export.declined", region_code="330182000000")
    place(MIDYEAR, actor=county_b, action=unmask)
    place(MIDYEAR, actor=county_b, action="mentoring.view")
    place(MIDYEAR, actor=county_b, action="consultation.view")
    place(MIDYEAR, actor=county_b, action="access.denied", outcome="denied")
    place(MIDYEAR, actor=None, action="incident.report", username="p-security", region_code="330182000000")
    # 宁波市, the province itself, no region, another province.
    place(MIDYEAR, actor=province, action="minor.view", region_code="330212000000")
    place(MIDYEAR, actor=province, action=unmask)
    place(MIDYEAR, actor=None, action="auth.login_failed", username="p-county-a", outcome="failed")
    place(MIDYEAR, actor=None, action="auth.login_failed", username="nobody", outcome="failed")
    place(MIDYEAR, actor=None, action="auth.locked_out", username="p-county-a", outcome="denied")
    place(MIDYEAR, actor=None, action="audit.purged", detail={"count": 0})
    place(MIDYEAR, actor=province, action="minor.view", region_code="110000000000")


COUNTY_A_SELF = {
    "record_views": 2,
    "exports": 1,
    "exports_refused": 1,
    "export_approvals": 1,
    "break_glass_grants": 1,
    "break_glass_revocations": 1,
    "refusals": 2,
    "account_changes": 1,
    "subject_requests": 2,
}
TOWNSHIP_A_ROW = {
    "unmasks": 3,
    "unmasks_refused": 1,
    "refusals": 2,
    "subject_requests_refused": 1,
    "erasures": 1,
}
COUNTY_A_TOTAL = {
    "record_views": 2,
    "unmasks": 3,
    "unmasks_refused": 1,
    "exports": 1,
    "exports_refused": 1,
    "export_approvals": 1,
    "break_glass_grants": 1,
    "break_glass_revocations": 1,
    "refusals": 4,
    "account_changes": 1,
    "subject_requests": 2,
    "subject_requests_refused": 1,
    "erasures": 1,
}
COUNTY_B = {
    "record_views": 2,
    "unmasks": 1,
    "exports": 2,
    "export_declines": 1,
    "refusals": 1,
    "incidents": 1,
}
HANGZHOU = {
    "record_views": 4,
    "unmasks": 4,
    "unmasks_refused": 1,
    "exports": 3,
    "exports_refused": 1,
    "export_approvals": 1,
    "export_declines": 1,
    "break_glass_grants": 1,
    "break_glass_revocations": 1,
    "refusals": 5,
    "account_changes": 1,
    "subject_requests": 2,
    "subject_requests_refused": 1,
    "erasures": 1,
    "incidents": 1,
}


def test_the_province_report_counts_each_category_by_city_with_a_total(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    report = audit_compliance_report(actor=actors["auditor"], year=YEAR)
    assert report.title == "浙江省 2024 年度个人信息保护合规审计报告"
    assert report.period_text == "统计期间：2024-01-01 0时至 2024-12-31 24时（北京时间）"
    assert [row.code for row in report.rows] == ["330000000000", "330100000000", "330200000000", ""]
    assert table(report) == {
        "浙江省本级": {"unmasks": 1},
        "杭州市": HANGZHOU,
        "宁波市": {"record_views": 1},
        "未关联区划": {"sign_in_failures": 2, "lockouts": 1, "refusals": 1, "audit_purges": 1},
        "合计": {
            "record_views": 5,
            "unmasks": 5,
            "unmasks_refused": 1,
            "exports": 3,
            "exports_refused": 1,
            "export_approvals": 1,
            "export_declines": 1,
            "break_glass_grants": 1,
            "break_glass_revocations": 1,
            "refusals": 6,
            "sign_in_failures": 2,
            "lockouts": 1,
            "account_changes": 1,
            "audit_purges": 1,
            "subject_requests": 2,
            "subject_requests_refused": 1,
            "erasures": 1,
            "incidents": 1,
        },
    }


def test_the_year_runs_from_beijing_midnight_to_beijing_midnight(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    # Of the four boundary events, the 00:00 of 1 January 2024 and the 23:59:59 of 31 December 2024 count.
    before = audit_compliance_report(actor=actors["auditor"], year=2023, region="330127100000")
    during = audit_compliance_report(actor=actors["auditor"], year=YEAR, region="330127")
    after = audit_compliance_report(actor=actors["auditor"], year=2025, region="330127")
    assert table(before)["合计"] == {"unmasks": 1}  # June 2023; the 23:59:59 view was at the county
    assert table(during)["合计"] == COUNTY_A_TOTAL
    assert table(after)["合计"] == {"unmasks": 1}  # the 00:00 of 1 January 2025
    assert table(audit_compliance_report(actor=actors["auditor"], year=2023, region="330127"))["合计"] == {
        "record_views": 1,
        "unmasks": 1,
    }
    assert table(audit_compliance_report(actor=actors["auditor"], year=2025, region="3301"))["合计"] == {
        "unmasks": 1,
        "exports": 1,
    }


def test_a_city_report_has_a_row_per_county_and_none_for_events_without_a_region(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    report = audit_compliance_report(actor=actors["auditor"], year=YEAR, region="3301")
    assert table(report) == {"杭州市本级": {}, "淳安县": COUNTY_A_TOTAL, "建德市": COUNTY_B, "合计": HANGZHOU}
    assert report.chain is None  # the chain is checked for a province-wide report only
    assert [(top.username, top.role_label, top.unmasks, top.exports) for top in report.top_actors] == [
        ("p-county-a", "县级管理员", 3, 2),
        ("p-county-b", "县级管理员", 1, 2),
        ("p-township", "乡镇(街道)管理员", 1, 0),
    ]


def test_a_county_auditor_sees_only_their_county_and_its_townships(
    county_auditor: Actor, year_of_events: None
) -> None:
    report = audit_compliance_report(actor=county_auditor, year=YEAR)
    assert report.region_name == "淳安县"
    assert table(report) == {"淳安县本级": COUNTY_A_SELF, "千岛湖镇": TOWNSHIP_A_ROW, "合计": COUNTY_A_TOTAL}
    assert [(top.username, top.total) for top in report.top_actors] == [("p-county-a", 5), ("p-township", 1)]
    assert report.chain is None
    for elsewhere in ("330182", "3301", "33", "11", "330200000000"):
        with pytest.raises(NotFoundError):
            audit_compliance_report(actor=county_auditor, year=YEAR, region=elsewhere)


def test_the_top_accounts_count_unmaskings_and_exports_with_their_role_and_no_personal_value(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    report = audit_compliance_report(actor=actors["auditor"], year=YEAR)
    assert [
        (top.username, top.role, top.role_label, top.unmasks, top.exports, top.total)
        for top in report.top_actors
    ] == [
        ("p-county-a", "county_admin", "县级管理员", 3, 2, 5),
        ("p-county-b", "county_admin", "县级管理员", 1, 2, 3),
        ("p-province", "province_admin", "省级管理员", 1, 0, 1),
        ("p-township", "township_admin", "乡镇(街道)管理员", 1, 0, 1),
    ]


def test_a_province_report_carries_the_chain_check(actors: dict[str, Actor], year_of_events: None) -> None:
    count = AuditEvent.objects.count()
    assert audit_compliance_report(actor=actors["auditor"], year=YEAR).chain is None  # the page's report
    report = audit_compliance_report(actor=actors["auditor"], year=YEAR, check_chain=True)
    assert report.chain is not None
    assert report.chain.is_intact
    assert report.chain_text == f"审计日志哈希链校验：完整（全部 {count} 条记录）"
    victim = AuditEvent.objects.filter(action="export.declined").get()
    table_name = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:  # below the ORM, which refuses to change an event
        cursor.execute(
            "UPDATE {table} SET outcome = %s WHERE id = %s".replace("{table}", table_name),
            ["denied", victim.pk],
        )
    broken = audit_compliance_report(actor=actors["auditor"], year=YEAR, check_chain=True)
    assert broken.chain is not None
    assert broken.chain.broken_event_id == victim.pk
    assert broken.chain_text.startswith(f"审计日志哈希链校验：已被篡改，第 {victim.pk} 条记录")


def test_only_the_audit_permission_reports_and_input_is_checked(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    with pytest.raises(PermissionDeniedError):
        audit_compliance_report(actor=actors["province_admin"], year=YEAR)
    with pytest.raises(ValidationFailed) as malformed:
        audit_compliance_report(actor=actors["auditor"], year=YEAR, region="3301x")
    assert malformed.value.fields == {"region": ["区划代码应为 2、4、6、9 或 12 位数字"]}
    with pytest.raises(NotFoundError):
        audit_compliance_report(actor=actors["auditor"], year=YEAR, region="339999")  # no such region
    with time_machine.travel(beijing(2026, 6, 1), tick=False):
        with pytest.raises(ValidationFailed) as future:
            audit_compliance_report(actor=actors["auditor"], year=2027)
        assert future.value.fields == {"year": ["年份应为 2000 至 2026 之间的四位数字"]}
        with pytest.raises(ValidationFailed):
            audit_compliance_report(actor=actors["auditor"], year=1999)


def test_counting_takes_the_same_queries_however_many_events(actors: dict[str, Actor]) -> None:
    auditor, county_a = actors["auditor"], actors["county_a_admin"]
    place(MIDYEAR, actor=county_a, action="minor.view")
    with count_queries() as few:
        audit_compliance_report(actor=auditor, year=YEAR, region="3301")
    for index in range(40):
        place(MIDYEAR, actor=county_a, action="personal_data.unmask", region_code=TOWNSHIP_A)
        place(MIDYEAR, actor=actors["county_b_admin"], action="volunteers.export", detail={"rows": index})
        place(MIDYEAR, actor=county_a, action="minor.view")
    with count_queries() as many:
        report = audit_compliance_report(actor=auditor, year=YEAR, region="3301")
    # The regions listed, the grouped counts, the top accounts.
    assert len(few) == len(many) == 3
    assert nonzero(report.total.counts) == {"record_views": 41, "unmasks": 40, "exports": 40}


def test_every_counted_action_has_a_label_and_so_has_the_report() -> None:
    assert category_actions() - set(ACTION_LABELS) == set()
    assert ACTION_LABELS["audit.report"] == "生成年度合规审计报告"


# --- The command -------------------------------------------------------------------------------------


@pytest.fixture
def small_year(actors: dict[str, Actor]) -> None:
    place(MIDYEAR, actor=actors["county_a_admin"], action="minor.view")
    place(MIDYEAR, actor=actors["county_a_admin"], action="personal_data.unmask", region_code=TOWNSHIP_A)
    place(MIDYEAR, actor=actors["county_a_admin"], action="minors.export", detail={"rows": 3})
    place(MIDYEAR, actor=actors["township_worker"], action="access.denied", outcome="denied")


# The four columns of data-subject requests and incidents, right-aligned under their headings.
NEW_ZEROS = "  " + "  ".join("0".rjust(width) for width in (12, 12, 10, 8))
EXPECTED_TEXT = (
    "淳安县 2024 年度个人信息保护合规审计报告\n"
    "统计期间：2024-01-01 0时至 2024-12-31 24时（北京时间）\n"
    "\n"
    "区划        查看记录  查看原文  查看原文被拒  导出名册  导出被拦截  批准导出  拒绝导出  封存案件查阅授权"
    "  撤销查阅授权  拒绝访问  登录失败  账号锁定  账号角色令牌变更  审计日志清理"
    "  个人信息请求  请求不予办理  依申请删除  安全事件\n" + "-" * 230 + "\n"
    "淳安县本级         1         0             0         1           0         0         0                 0"
    "             0         0         0         0                 0             0" + NEW_ZEROS + "\n"
    "千岛湖镇           0         1             0         0           0         0         0                 0"
    "             0         1         0         0                 0             0"
    + NEW_ZEROS
    + "\n"
    + "-" * 230
    + "\n"
    "合计               1         1             0         1           0         0         0                 0"
    "             0         1         0         0                 0             0" + NEW_ZEROS + "\n"
    "\n"
    "查看原文与导出最多的账号（含被拒绝的尝试）\n"
    "排名  账号        角色        查看原文  导出  合计\n" + "-" * 50 + "\n"
    "1     p-county-a  县级管理员         1     1     2\n"
)

EXPECTED_CSV = (
    "\ufeff淳安县 2024 年度个人信息保护合规审计报告\r\n"
    "统计期间：2024-01-01 0时至 2024-12-31 24时（北京时间）\r\n"
    "\r\n"
    "区划代码,区划,查看记录,查看原文,查看原文被拒,导出名册,导出被拦截,批准导出,拒绝导出,封存案件查阅授权,"
    "撤销查阅授权,拒绝访问,登录失败,账号锁定,账号角色令牌变更,审计日志清理,个人信息请求,请求不予办理,依申请删除,"
    "安全事件\r\n"
    "330127000000,淳安县本级,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"
    "330127100000,千岛湖镇,0,1,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0\r\n"
    ",合计,1,1,0,1,0,0,0,0,0,1,0,0,0,0,0,0,0,0\r\n"
    "\r\n"
    "查看原文与导出最多的账号（含被拒绝的尝试）\r\n"
    "排名,账号,角色,查看原文,导出,合计\r\n"
    "1,p-county-a,县级管理员,1,1,2\r\n"
)


def test_the_command_prints_the_table_and_records_the_operator(small_year: None) -> None:
    out = StringIO()
    call_command("audit_report", "--year", "2024", "--region", "330127", stdout=out)
    assert out.getvalue() == EXPECTED_TEXT
    event = AuditEvent.objects.filter(action="audit.report").get()
    assert (event.actor_user_id, event.actor_username, event.region_code) == (None, "", "330127000000")
    assert event.detail == {
        "year": 2024,
        "region": "330127000000",
        "format": "text",
        "operator": current_operator(),
    }


def test_the_command_writes_csv_for_excel(small_year: None, tmp_path: Path) -> None:
    target = tmp_path / "审计报告.csv"
    err = StringIO()
    call_command(
        "audit_report",
        "--year",
        "2024",
        "--region",
        "330127",
        "--format",
        "csv",
        "--output",
        str(target),
        stderr=err,
    )
    assert target.read_bytes().decode("utf-8") == EXPECTED_CSV
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert err.getvalue() == f"已生成淳安县 2024 年度个人信息保护合规审计报告：{target}\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    event = AuditEvent.objects.filter(action="audit.report").get()
    assert event.detail["format"] == "csv"


def test_the_command_without_a_region_reports_every_province(
    actors: dict[str, Actor], year_of_events: None
) -> None:
    out = StringIO()
    call_command("audit_report", "--year", "2024", "--format", "csv", stdout=out)
    lines = out.getvalue().split("\r\n")
    assert lines[0] == "\ufeff全部区划 2024 年度个人信息保护合规审计报告"
    assert lines[2].startswith("审计日志哈希链校验：完整")
    assert lines[5:9] == [
        "110000000000,北京市,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        "330000000000,浙江省,5,5,1,3,1,1,1,1,1,5,0,0,1,0,2,1,1,1",
        ",未关联区划,0,0,0,0,0,0,0,0,0,1,2,1,0,1,0,0,0,0",
        ",合计,6,5,1,3,1,1,1,1,1,6,2,1,1,1,2,1,1,1",
    ]
    assert AuditEvent.objects.filter(action="audit.report", region_code="").count() == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--year", "24"], "年份“24”无效：应为四位数字，如 2026"),
        (["--year", "２０２４"], "年份“２０２４”无效：应为四位数字，如 2026"),
        (["--year", "2027"], "年份应为 2000 至 2026 之间的四位数字"),
        (["--year", "1999"], "年份应为 2000 至 2026 之间的四位数字"),
        (["--year", "2024", "--region", "33a1"], "区划代码应为 2、4、6、9 或 12 位数字"),
        (["--year", "2024", "--region", "33012"], "区划代码应为 2、4、6、9 或 12 位数字"),
        (["--year", "2024", "--region", "339999"], "区划 339999 不存在"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    small_year: None, tmp_path: Path, arguments: list[str], message: str
) -> None:
    target = tmp_path / "report.csv"
    before = AuditEvent.objects.count()
    with time_machine.travel(beijing(2026, 6, 1), tick=False), pytest.raises(CommandError) as refused:
        call_command("audit_report", *arguments, "--output", str(target), stdout=StringIO())
    assert str(refused.value) == message
    assert list(tmp_path.iterdir()) == []
    assert AuditEvent.objects.count() == before


def test_an_unwritable_output_is_refused_and_not_recorded(small_year: None, tmp_path: Path) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="无法写入"):
        call_command("audit_report", "--year", "2024", "--output", str(tmp_path / "missing" / "r.csv"))
    assert AuditEvent.objects.count() == before


# --- The page ----------------------------------------------------------------------------------------


def test_the_audit_log_links_to_the_report(clients: dict[str, Client]) -> None:
    assert 'href="/audit/report/"' in clients["auditor"].get("/audit/").content.decode()


def test_the_auditor_reads_the_report_and_producing_it_is_recorded(
    clients: dict[str, Client], year_of_events: None
) -> None:
    response = clients["auditor"].get(f"/audit/report/?year={YEAR}&region=3301")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "杭州市 2024 年度个人信息保护合规审计报告",
        "淳安县",
        "建德市",
        "封存案件查阅授权",
        "p-county-a",
    ):
        assert text in html
    assert f'href="/audit/report/?year={YEAR}&amp;region=330100000000&amp;format=csv"' in html
    event = AuditEvent.objects.filter(action="audit.report").get()
    assert (event.actor_username, event.region_code) == ("p-auditor", "330100000000")
    assert event.detail == {"year": YEAR, "region": "330100000000", "format": "html"}


def test_the_page_downloads_the_csv(clients: dict[str, Client], small_year: None) -> None:
    response = clients["auditor"].get(f"/audit/report/?year={YEAR}&region=330127&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-report-2024-330127000000.csv"'
    assert response.content.decode("utf-8") == EXPECTED_CSV
    assert AuditEvent.objects.filter(action="audit.report").get().detail["format"] == "csv"


def test_a_county_auditor_page_is_their_county_and_another_region_is_404(
    county_auditor: Actor, year_of_events: None
) -> None:
    assert county_auditor.user is not None
    client = verified_client(county_auditor.user)
    html = client.get(f"/audit/report/?year={YEAR}").content.decode()
    assert "淳安县 2024 年度个人信息保护合规审计报告" in html
    assert '<th scope="row">千岛湖镇 ' in html
    assert '<th scope="row">建德市' not in html
    assert '<th scope="row">未关联区划' not in html
    assert client.get(f"/audit/report/?year={YEAR}&region=330182").status_code == 404
    assert client.get(f"/audit/report/?year={YEAR}&region=33&format=csv").status_code == 404
    assert AuditEvent.objects.filter(action="audit.report").count() == 1


def test_the_page_refuses_bad_input_without_a_report(clients: dict[str, Client]) -> None:
    html = clients["auditor"].get("/audit/report/?year=1999").content.decode()
    assert "年度：确保该值大于或等于2000。" in html
    this_year = datetime.datetime.now(tz=BEIJING).year
    html = clients["auditor"].get(f"/audit/report/?year={this_year + 1}").content.decode()
    assert f"年份应为 2000 至 {this_year} 之间的四位数字" in html
    assert "report-table" not in html
    assert "report-table" not in html
    html = clients["auditor"].get("/audit/report/?year=2024&region=33x").content.decode()
    assert "区划代码应为 2、4、6、9 或 12 位数字" in html
    assert "report-table" not in html
    assert not AuditEvent.objects.filter(action="audit.report").exists()


def test_only_the_auditor_reaches_the_page(clients: dict[str, Client]) -> None:
    assert clients["county_a_admin"].get("/audit/report/").status_code == 403
    assert clients["system_admin"].get("/audit/report/").status_code == 403
    assert clients["auditor"].get("/audit/report/").status_code == 200


def test_the_csv_neutralises_a_name_a_spreadsheet_would_run(actors: dict[str, Actor]) -> None:
    place(
        MIDYEAR,
        actor=None,
        action="personal_data.unmask",
        username="=cmd|' /C calc'!A0",
        region_code=COUNTY_A,
    )
    text = report_csv(audit_compliance_report(actor=actors["auditor"], year=YEAR, region="330127"))
    assert "\r\n1,'=cmd|' /C calc'!A0,—,1,0,1\r\n" in text
