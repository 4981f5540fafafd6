"""The copy of a child's data handed to the requester of an access or copy request (个人信息保护法 art.45).

A workbook with one sheet per kind of record the registry holds about the child: the record itself (every
field, in the clear), the guardians and entrusted carers, the consents, and the pairings with their visits.
It carries the same watermark as the registry's exports (who produced it, when; in the properties, the
header, the footer, and above and below the rows), and every cell goes through `neutralise_cell`, so a
value such as =HYPERLINK(...) typed into a record stays text.

Mandatory reports (强制报告) are left out: while one is handled its disclosure to a guardian can endanger
the child it protects (未成年人保护法 art.11; 个人信息保护法 art.18: no notice where a law requires
confidentiality), and the handler answers for them separately in the reply letter if asked.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from guanai.core.access import Actor
from guanai.imports.cells import neutralise_cell
from guanai.minors import display
from guanai.minors.exports import labeller, watermark
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.vocabulary import (
    FACTS,
    ConsentScope,
    Gender,
    HouseholdType,
    RiskLevel,
    SpecialKind,
    Status,
)
from guanai.rights.models import DataSubjectRequest


def _day(value: Any) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _record_rows(minor: Minor) -> list[list[Any]]:
    gender, household = labeller(Gender), labeller(HouseholdType)
    risk, status, special = labeller(RiskLevel), labeller(Status), labeller(SpecialKind)
    rows: list[list[Any]] = [
        [_("姓名"), minor.name],
        [_("性别"), gender(minor.gender)],
        [_("出生日期"), _day(minor.birth_date)],
        [_("民族"), minor.ethnicity],
        [_("公民身份号码"), minor.id_number or ""],
        [_("户籍地"), minor.household_region.name if minor.household_region else ""],
        [_("户口性质"), household(minor.household_type) if minor.household_type else ""],
        [_("现居村（社区）"), minor.region.name],
        [_("现住址"), minor.address],
        [_("就读学校"), minor.school],
        [_("年级"), minor.grade],
        [_("类别"), "、".join(display.category_labels(minor.categories))],
        [_("特殊青少年类型"), special(minor.special_kind) if minor.special_kind else ""],
        [_("需求"), "、".join(display.need_labels(minor.needs))],
        [_("风险等级"), risk(minor.risk_level)],
        [_("风险原因"), minor.risk_reason],
        [_("状态"), status(minor.status)],
        [_("结案原因"), minor.closed_reason],
        [_("最近年度核查"), _day(minor.last_verified_on)],
        [_("登记时间"), f"{timezone.localtime(minor.created_at):%Y-%m-%d %H:%M}"],
    ]
    rows += [[str(FACTS[key]), value] for key, value in minor.facts.items() if key in FACTS]
    return rows


def _guardian_rows(guardians: Sequence[Guardian]) -> list[list[Any]]:
    return [
        [
            guardian.name,
            guardian.relationship,
            guardian.phone,
            _("被委托照护人") if guardian.is_entrusted_carer else _("监护人"),
            (_("具备") if guardian.can_care else _("不具备"))
            + (f"：{guardian.care_note}" if guardian.care_note else ""),
        ]
        for guardian in guardians
    ]


def _consent_rows(consents: Sequence[Consent]) -> list[list[Any]]:
    scope = labeller(ConsentScope)
    return [
        [
            consent.given_by,
            consent.relationship,
            consent.notice_version,
            "、".join(scope(value) for value in consent.scope),
            _day(consent.given_on),
            _day(consent.withdrawn_on),
        ]
        for consent in consents
    ]


def _pairing_rows(minor: Minor) -> list[list[Any]]:
    from guanai.pairings.models import Pairing, Visit
    from guanai.pairings.vocabulary import CloseReason, Condition, PairingState, VisitMode

    state, reason, mode, condition = (
        labeller(PairingState),
        labeller(CloseReason),
        labeller(VisitMode),
        labeller(Condition),
    )
    rows: list[list[Any]] = []
    pairings = Pairing.objects.filter(minor=minor).select_related("volunteer").order_by("created_at", "pk")
    visits: dict[int, list[Visit]] = {}
    for visit in Visit.objects.filter(pairing__minor=minor).order_by("visited_on", "pk"):
        visits.setdefault(visit.pairing_id, []).append(visit)
    for pairing in pairings:
        rows.append(
            [
                _("结对"),
                pairing.volunteer.name,
                state(pairing.state),
                _day(pairing.started_on),
                _day(pairing.closed_on),
                reason(pairing.close_reason) if pairing.close_reason else "",
                pairing.close_note,
            ]
        )
        for visit in visits.get(pairing.pk, []):
            rows.append(
                [
                    _("走访"),
                    pairing.volunteer.name,
                    mode(visit.mode),
                    _day(visit.visited_on),
                    _("%(minutes)d 分钟") % {"minutes": visit.duration_minutes},
                    "、".join(
                        f"{label}{condition(value)}"
                        for label, value in (
                            (_("学习"), visit.study),
                            (_("健康"), visit.health),
                            (_("情绪"), visit.emotion),
                            (_("安全"), visit.safety),
                        )
                    ),
                    visit.note,
                ]
            )
    return rows


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[Any]], mark: str) -> None:
    sheet = workbook.create_sheet(title)
    sheet.oddHeader.center.text = mark
    sheet.oddFooter.center.text = mark
    for column in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 24
    sheet.append([neutralise_cell(mark)])
    sheet.append([neutralise_cell(text) for text in headers])
    for row in rows:
        sheet.append([neutralise_cell(value) for value in row])
    sheet.append([neutralise_cell(mark)])


def subject_copy_workbook(*, actor: Actor, subject_request: DataSubjectRequest) -> bytes:
    """The workbook of everything held about the request's child (see the module's docstring)."""
    minor = (
        Minor.objects.select_related("region", "household_region")
        .prefetch_related("guardians", "consents")
        .get(pk=subject_request.minor_id)
    )
    mark = watermark(actor, timezone.localtime())
    workbook = Workbook(write_only=True)
    title = _("个人信息副本（请求 #%(id)d）") % {"id": subject_request.pk}
    workbook.properties.title = title
    workbook.properties.creator = actor.user.get_username() if actor.user is not None else ""
    workbook.properties.description = mark
    workbook.properties.subject = mark
    _sheet(workbook, _("基本信息"), [_("项目"), _("内容")], _record_rows(minor), mark)
    _sheet(
        workbook,
        _("监护人"),
        [_("姓名"), _("与儿童关系"), _("联系电话"), _("身份"), _("监护（照护）能力")],
        _guardian_rows(list(minor.guardians.all())),
        mark,
    )
    _sheet(
        workbook,
        _("同意记录"),
        [_("同意人"), _("与儿童关系"), _("告知书版本"), _("同意范围"), _("同意日期"), _("撤回日期")],
        _consent_rows(list(minor.consents.all())),
        mark,
    )
    _sheet(
        workbook,
        _("结对与走访"),
        [_("记录"), _("志愿者"), _("状态或方式"), _("日期"), _("解除日期或时长"), _("情况"), _("说明")],
        _pairing_rows(minor),
        mark,
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
