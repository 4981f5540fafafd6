"""The yearly compliance audit report (个人信息保护合规审计, 未成年人网络保护条例 art. 37): for one calendar
year in Beijing time and one region, how often records were viewed, personal data unmasked and exported,
exports approved, sealed cases opened by break-the-glass, access refused, sign-ins failed and accounts
locked, accounts, roles and tokens changed, the log purged, data-subject requests received, refused and
answered by erasure, and personal-information incidents recorded, by the regions one level below, with a
total; the accounts that unmasked and exported most; and for a province-wide report from the command, the
chain check.

What is counted is decided by one table, `CATEGORIES`: an action added to the platform is counted by
adding it there. Counting is one GROUP BY of (region below, action, outcome) over the year's events, and
one more for the top accounts: a year of millions of events is never loaded.

Sign-in failures and lockouts happen before anyone is signed in, so they concern no region: they are
counted in the "未关联区划" row, which only a province-wide report (and the command) has.

`manage.py audit_report` runs it without an actor (the operator, any region); the page /audit/report/
runs it as the auditor, within their region. Both record `audit.report`.
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanai.audit.models import AuditEvent, Outcome
from guanai.audit.selectors import ChainVerdict, audit_chain_verify, region_names
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, Role, audit_scope_q
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.imports.cells import neutralise_cell

if TYPE_CHECKING:
    from guanai.regions.models import Region

FIRST_YEAR = 2000
TOP_ACTOR_LIMIT = 10
UNMASK_ACTION = "personal_data.unmask"
EXPORT_ACTIONS = ("minors.export", "volunteers.export")
NOT_SUCCEEDED = (Outcome.DENIED.value, Outcome.FAILED.value)


@dataclass(frozen=True)
class CategoryRule:
    """Events of these actions (None: any action) with these outcomes (None: any outcome)."""

    actions: frozenset[str] | None = None
    outcomes: frozenset[str] | None = None

    def matches(self, action: str, outcome: str) -> bool:
        return (self.actions is None or action in self.actions) and (
            self.outcomes is None or outcome in self.outcomes
        )

    def q(self) -> Q:
        condition = Q()
        if self.actions is not None:
            condition &= Q(action__in=sorted(self.actions))
        if self.outcomes is not None:
            condition &= Q(outcome__in=sorted(self.outcomes))
        return condition


def _rule(*actions: str, outcomes: Iterable[str] | None = None) -> CategoryRule:
    return CategoryRule(
        actions=frozenset(actions) if actions else None,
        outcomes=frozenset(outcomes) if outcomes is not None else None,
    )


@dataclass(frozen=True)
class ReportCategory:
    """One column of the report: an event is counted in it when any of its rules matches. The columns
    overlap on purpose (a refused unmasking is an unmasking refused and a refusal), so a row has no sum."""

    key: str
    label: str | Promise
    rules: tuple[CategoryRule, ...]

    def matches(self, action: str, outcome: str) -> bool:
        return any(rule.matches(action, outcome) for rule in self.rules)


# The one table of what the report counts. Action codes are those of `guanai.audit.actions`.
CATEGORIES: tuple[ReportCategory, ...] = (
    ReportCategory(
        "record_views",
        gettext_lazy("查看记录"),
        (
            _rule(
                "minor.view",
                "mentoring.view",
                "consultation.view",
                "consultation.attachment_view",
                "visit.photo_view",
                "cafe.photo_view",
            ),
        ),
    ),
    ReportCategory("unmasks", gettext_lazy("查看原文"), (_rule(UNMASK_ACTION, outcomes=[Outcome.SUCCESS]),)),
    ReportCategory(
        "unmasks_refused", gettext_lazy("查看原文被拒"), (_rule(UNMASK_ACTION, outcomes=NOT_SUCCEEDED),)
    ),
    ReportCategory(
        "exports", gettext_lazy("导出名册"), (_rule(*EXPORT_ACTIONS, outcomes=[Outcome.SUCCESS]),)
    ),
    ReportCategory(
        "exports_refused", gettext_lazy("导出被拦截"), (_rule(*EXPORT_ACTIONS, outcomes=NOT_SUCCEEDED),)
    ),
    ReportCategory("export_approvals", gettext_lazy("批准导出"), (_rule("export.approved"),)),
    ReportCategory("export_declines", gettext_lazy("拒绝导出"), (_rule("export.declined"),)),
    ReportCategory(
        "break_glass_grants",
        gettext_lazy("封存案件查阅授权"),
        (_rule("mentoring.break_glass", outcomes=[Outcome.SUCCESS]),),
    ),
    ReportCategory(
        "break_glass_revocations", gettext_lazy("撤销查阅授权"), (_rule("mentoring.break_glass_revoked"),)
    ),
    ReportCategory(
        "refusals",
        gettext_lazy("拒绝访问"),
        (_rule("access.denied"), _rule(outcomes=[Outcome.DENIED])),
    ),
    ReportCategory(
        "sign_in_failures",
        gettext_lazy("登录失败"),
        (_rule("auth.login_failed", "auth.second_factor_failed"),),
    ),
    ReportCategory("lockouts", gettext_lazy("账号锁定"), (_rule("auth.locked_out"),)),
    ReportCategory(
        "account_changes",
        gettext_lazy("账号角色令牌变更"),
        (
            _rule(
                "account.create",
                "account.role_assigned",
                "account.token_issued",
                "account.token_revoked",
                "account.role_requested",
                "account.role_request_approved",
                "account.role_request_declined",
                "account.role_request_withdrawn",
                "account.role_ended",
                "account.role_reviewed",
            ),
        ),
    ),
    ReportCategory("audit_purges", gettext_lazy("审计日志清理"), (_rule("audit.purged"),)),
    # Data-subject requests (guanai.rights) and personal-information incidents (guanai.compliance).
    ReportCategory("subject_requests", gettext_lazy("个人信息请求"), (_rule("subject_request.received"),)),
    ReportCategory(
        "subject_requests_refused", gettext_lazy("请求不予办理"), (_rule("subject_request.refused"),)
    ),
    ReportCategory("erasures", gettext_lazy("依申请删除"), (_rule("minor.erased"),)),
    ReportCategory("incidents", gettext_lazy("安全事件"), (_rule("incident.report"),)),
)


def category_actions() -> set[str]:
    """Every action code the table names (for the test that each one has a label)."""
    return {action for category in CATEGORIES for rule in category.rules for action in rule.actions or ()}


@dataclass(frozen=True)
class ReportRow:
    code: str  # the region's 12-digit code; "" for the events that concern no region, and the total
    label: str
    counts: tuple[int, ...]  # one per category, in the order of CATEGORIES


@dataclass(frozen=True)
class TopActor:
    username: str
    role: str
    role_label: str
    unmasks: int
    exports: int

    @property
    def total(self) -> int:
        return self.unmasks + self.exports


@dataclass(frozen=True)
class ComplianceReport:
    year: int
    region_code: str  # "" for the whole tree (the command without --region)
    region_name: str
    starts_at: datetime.datetime  # Beijing midnight of 1 January, included
    ends_at: datetime.datetime  # Beijing midnight of the next 1 January, excluded
    rows: tuple[ReportRow, ...]
    total: ReportRow
    top_actors: tuple[TopActor, ...]
    chain: ChainVerdict | None  # for a province-wide report only: the check walks the whole log

    @property
    def category_labels(self) -> list[str]:
        return [str(category.label) for category in CATEGORIES]

    @property
    def title(self) -> str:
        return _("%(region)s %(year)s 年度个人信息保护合规审计报告") % {
            "region": self.region_name,
            "year": self.year,
        }

    @property
    def period_text(self) -> str:
        return _("统计期间：%(start)s 0时至 %(end)s 24时（北京时间）") % {
            "start": f"{self.starts_at:%Y-%m-%d}",
            "end": f"{timezone.localtime(self.ends_at) - datetime.timedelta(days=1):%Y-%m-%d}",
        }

    @property
    def chain_text(self) -> str:
        if self.chain is None:
            return ""
        if self.chain.is_intact:
            return _("审计日志哈希链校验：完整（全部 %(count)s 条记录）") % {"count": self.chain.count}
        where = (
            _("第 %(id)s 条记录") % {"id": self.chain.broken_event_id}
            if self.chain.broken_event_id is not None
            else ""
        )
        return _("审计日志哈希链校验：已被篡改，%(where)s%(reason)s（此前 %(count)s 条完好）") % {
            "where": where,
            "reason": self.chain.reason,
            "count": self.chain.count,
        }


def report_year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """Midnight of 1 January of `year` and of the year after in the committee's time (TIME_ZONE, Beijing
    time; stored times are UTC)."""
    return (
        timezone.make_aware(datetime.datetime(year, 1, 1)),
        timezone.make_aware(datetime.datetime(year + 1, 1, 1)),
    )


def audit_compliance_report(
    *, actor: Actor | None, year: int, region: str = "", check_chain: bool = False
) -> ComplianceReport:
    """The report of `year` for `region` (a code, short forms accepted; empty: the actor's region, or for
    the command the whole tree), counted in the database.

    actor  the auditor (AUDIT_VIEW), who may report their region and the regions below it; a region
           elsewhere, above theirs, or unknown answers NotFoundError. None is the operator at the
           command line, who may report any region.
    check_chain  also walk the whole hash chain (`audit_chain_verify`) for a province-wide report. The
           command does; the page does not, since the walk takes as long as `audit_verify` (about 15,000
           events a second) and would outlast a web request on a large log.
    """
    if actor is not None and not actor.has(Permission.AUDIT_VIEW):
        raise PermissionDeniedError()
    _check_year(year)
    code = _report_region_code(actor, region)
    regions = _regions_listed(code)
    names = {region.code: region.name for region in regions}
    if code and code not in names:
        raise NotFoundError()
    starts_at, ends_at = report_year_bounds(year)
    events = AuditEvent.objects.filter(occurred_at__gte=starts_at, occurred_at__lt=ends_at)
    if actor is not None:
        events = events.filter(audit_scope_q(actor))
    is_province_wide = not code or region_codes.level_of(code) == RegionLevel.PROVINCE
    if code:
        within = region_codes.within_q("region_code", code)
        # A province's report also counts the events that concern no region (sign-in failures, lockouts).
        events = events.filter(within | Q(region_code="") if is_province_wide else within)
    counted = events.filter(reduce(or_, (rule.q() for category in CATEGORIES for rule in category.rules)))

    below = _level_below(code)
    bucket = Substr("region_code", 1, PREFIX_LENGTH[below]) if below is not None else F("region_code")
    grouped = counted.values("action", "outcome", bucket=bucket).annotate(count=Count("id")).order_by()
    counts: dict[str, list[int]] = {}
    for row in grouped:
        key = str(row["bucket"] or "")
        if key:
            key = key.ljust(region_codes.CODE_LENGTH, "0")
        cells = counts.setdefault(key, [0] * len(CATEGORIES))
        for index, category in enumerate(CATEGORIES):
            if category.matches(row["action"], row["outcome"]):
                cells[index] += row["count"]

    region_name = names.get(code, "") if code else _("全部区划")
    rows = _rows(code, region_name, [region.code for region in regions if region.code != code], names, counts)
    total = ReportRow(
        code="",
        label=_("合计"),
        counts=tuple(sum(row.counts[index] for row in rows) for index in range(len(CATEGORIES))),
    )
    return ComplianceReport(
        year=year,
        region_code=code,
        region_name=region_name,
        starts_at=starts_at,
        ends_at=ends_at,
        rows=tuple(rows),
        total=total,
        top_actors=tuple(_top_actors(events)),
        chain=audit_chain_verify() if check_chain and is_province_wide else None,
    )


def _check_year(year: int) -> None:
    last = timezone.localdate().year
    if not FIRST_YEAR <= year <= last:
        message = _("年份应为 %(first)s 至 %(last)s 之间的四位数字") % {"first": FIRST_YEAR, "last": last}
        raise ValidationFailed(fields={"year": [message]})


def _report_region_code(actor: Actor | None, region: str) -> str:
    if not region.strip():
        if actor is None:
            return ""
        if actor.region_code is None:
            raise NotFoundError()
        return actor.region_code
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    # The report covers the whole region it names: an auditor reports their region and those below it,
    # not a region above theirs (which `can_see_region` admits for breadcrumbs) of which they see a part.
    if actor is not None and (
        actor.region_code is None or not region_codes.is_within(code, actor.region_code)
    ):
        raise NotFoundError()
    return code


def _level_below(code: str) -> RegionLevel | None:
    """The level the rows are: provinces for the whole tree, none below a village."""
    if not code:
        return RegionLevel.PROVINCE
    level = region_codes.level_of(code)
    return RegionLevel(level + 1) if level < RegionLevel.VILLAGE else None


def _regions_listed(code: str) -> list[Region]:
    """The report's region and every region one level below it (those without events show zeros)."""
    from guanai.regions.models import Region

    if not code:
        return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"))
    return list(Region.objects.filter(Q(code=code) | Q(parent_id=code)).order_by("code"))


def _rows(
    code: str,
    region_name: str,
    child_codes: Sequence[str],
    names: dict[str, str],
    counts: dict[str, list[int]],
) -> list[ReportRow]:
    """The region's own events first (本级), then each region below in code order (any code without a
    region of that name after them), then the events that concern no region."""
    empty = [0] * len(CATEGORIES)
    rows: list[ReportRow] = []
    if code:
        rows.append(
            ReportRow(code, _("%(name)s本级") % {"name": region_name}, tuple(counts.get(code, empty)))
        )
    listed = {code, "", *child_codes}
    unknown = sorted(key for key in counts if key not in listed)
    unknown_names = region_names(unknown) if unknown else {}
    for child in [*child_codes, *unknown]:
        label = names.get(child) or unknown_names.get(child) or child
        rows.append(ReportRow(child, label, tuple(counts.get(child, empty))))
    if not code or region_codes.level_of(code) == RegionLevel.PROVINCE:
        rows.append(ReportRow("", _("未关联区划"), tuple(counts.get("", empty))))
    return rows


def _top_actors(events: QuerySet[AuditEvent]) -> list[TopActor]:
    """The accounts with the most unmaskings and exports (attempts included), most first."""
    unmasks = _categories_q("unmasks", "unmasks_refused")
    exports = _categories_q("exports", "exports_refused")
    rows = (
        events.filter(unmasks | exports)
        .values("actor_username", "actor_role")
        .annotate(
            unmasks=Count("id", filter=unmasks),
            exports=Count("id", filter=exports),
            total=Count("id"),
        )
        .order_by("-total", "actor_username", "actor_role")[:TOP_ACTOR_LIMIT]
    )
    return [
        TopActor(
            username=row["actor_username"],
            role=row["actor_role"],
            role_label=str(Role(row["actor_role"]).label)
            if row["actor_role"] in Role.values
            else row["actor_role"],
            unmasks=row["unmasks"],
            exports=row["exports"],
        )
        for row in rows
    ]


def _categories_q(*keys: str) -> Q:
    return reduce(
        or_, (rule.q() for category in CATEGORIES if category.key in keys for rule in category.rules)
    )


# --- As text (the command) and as CSV (the command and the page) ------------------------------------


def _top_actor_header() -> list[str]:
    return [_("排名"), _("账号"), _("角色"), _("查看原文"), _("导出"), _("合计")]


def _top_actor_cells(rank: int, top: TopActor) -> list[str | int]:
    return [rank, top.username or "—", top.role_label or "—", top.unmasks, top.exports, top.total]


def report_text(report: ComplianceReport) -> str:
    """A plain-text table for a terminal or a file, aligned for Chinese characters (which take two
    columns)."""
    lines = [report.title, report.period_text]
    if report.chain_text:
        lines.append(report.chain_text)
    lines.append("")
    table = [[_("区划"), *report.category_labels]]
    table += [[row.label, *map(str, row.counts)] for row in [*report.rows, report.total]]
    lines += _aligned(table, separator_after=(0, len(table) - 2))
    lines += ["", _("查看原文与导出最多的账号（含被拒绝的尝试）")]
    if report.top_actors:
        top = [_top_actor_header()]
        top += [
            [str(cell) for cell in _top_actor_cells(rank, actor)]
            for rank, actor in enumerate(report.top_actors, 1)
        ]
        lines += _aligned(top, separator_after=(0,), left_columns=3)
    else:
        lines.append(_("无"))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _aligned(table: list[list[str]], *, separator_after: tuple[int, ...], left_columns: int = 1) -> list[str]:
    """Text columns (the first `left_columns`) to the left, counts to the right."""
    widths = [max(_width(row[column]) for row in table) for column in range(len(table[0]))]
    lines: list[str] = []
    for number, row in enumerate(table):
        cells = [
            cell + " " * (widths[column] - _width(cell))
            if column < left_columns
            else " " * (widths[column] - _width(cell)) + cell
            for column, cell in enumerate(row)
        ]
        lines.append("  ".join(cells))
        if number in separator_after:
            lines.append("-" * (sum(widths) + 2 * (len(widths) - 1)))
    return lines


def report_csv(report: ComplianceReport) -> str:
    """CSV for Excel: UTF-8 with a byte-order mark, the table then the top accounts; text that a
    spreadsheet would run as a formula is neutralised."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([report.title])
    writer.writerow([report.period_text])
    if report.chain_text:
        writer.writerow([report.chain_text])
    writer.writerow([])
    writer.writerow([_("区划代码"), _("区划"), *report.category_labels])
    for row in [*report.rows, report.total]:
        writer.writerow([row.code, neutralise_cell(row.label), *row.counts])
    writer.writerow([])
    writer.writerow([_("查看原文与导出最多的账号（含被拒绝的尝试）")])
    writer.writerow(_top_actor_header())
    for rank, actor in enumerate(report.top_actors, 1):
        writer.writerow([neutralise_cell(cell) for cell in _top_actor_cells(rank, actor)])
    return buffer.getvalue()


def report_filename(report: ComplianceReport, file_format: str) -> str:
    return f"audit-report-{report.year}-{report.region_code or 'all'}.{file_format}"
