"""Exporting the filtered list of volunteers to .xlsx and .csv, under the registry's rule
(儿童个人信息网络保护规定 art.15 applies to the children; the same care is taken with the elders' data).

It is the registry's export (`guanai.minors.exports`) with another list: masked (ID number and phone
as their fields mask them; never in the clear), watermarked above and below the rows and in the
workbook's properties, every cell neutralised, streamed, and every export and refusal an audit event
"volunteers.export". More than EXPORT_APPROVAL_THRESHOLD rows need an administrator one level up to
approve; the approval is an `ExportApproval` whose filters say {"dataset": "volunteers", ...}, so an
approval of the registry never exports volunteers and one of volunteers never exports the registry.

The value helpers below (labels, masks, star level) are also how the JSON API shows a volunteer.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Unpack

from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.core.access import Actor, Permission
from guanai.core.labels import per_language
from guanai.core.masking import mask_field
from guanai.minors.exports import ExportDataset, ExportFile, ExportOptions, export_list, labeller
from guanai.minors.models import ExportApproval
from guanai.minors.validation import age_on
from guanai.minors.vocabulary import Gender
from guanai.volunteers.models import Volunteer
from guanai.volunteers.selectors import VolunteerFilters, volunteer_list
from guanai.volunteers.vocabulary import (
    ELDER_CATEGORY_LABELS,
    SPECIALTY_LABELS,
    STAR_LABELS,
    CheckResult,
    ElderCategory,
    Specialty,
    Status,
    availability_label,
    star_level,
)

DATASET = "volunteers"
EXPORT_ACTION = "volunteers.export"
COLUMN_WIDTHS = (10, 6, 12, 6, 22, 15, 18, 15, 20, 20, 16, 24, 30, 8, 8, 12, 12, 8, 10, 8)


# --- How a volunteer's values leave the server ------------------------------------------------------


def _labels(flag_type: type[enum.IntFlag], labels: Mapping[Any, object], value: int) -> list[str]:
    return [str(labels[flag]) for flag in flag_type if value & int(flag)]


@per_language
def category_labels(value: int) -> list[str]:
    return _labels(ElderCategory, ELDER_CATEGORY_LABELS, value)


@per_language
def specialty_labels(value: int) -> list[str]:
    return _labels(Specialty, SPECIALTY_LABELS, value)


def masked_id_number(volunteer: Volunteer) -> str:
    return mask_field(volunteer, "id_number") if volunteer.id_number else ""


def masked_phone(volunteer: Volunteer) -> str:
    return mask_field(volunteer, "phone") if volunteer.phone else ""


def stars(volunteer: Volunteer) -> int:
    """The star level of the volunteer's confirmed hours (thresholds from GUANAI_STAR_THRESHOLDS)."""
    return star_level(Decimal(volunteer.hours_total))


@per_language
def star_label(level: int) -> str:
    return str(STAR_LABELS[level])


# --- The sheet ----------------------------------------------------------------------------------------


def headers() -> list[str]:
    return [
        _("姓名"),
        _("性别"),
        _("出生日期"),
        _("年龄"),
        _("公民身份号码"),
        _("联系电话"),
        _("居住村（社区）"),
        _("区划代码"),
        _("五老类别"),
        _("原工作单位"),
        _("原职务（职称）"),
        _("专长"),
        _("可服务时间"),
        _("最多结对人数"),
        _("在结对人数"),
        _("背景审查日期"),
        _("背景审查结果"),
        _("状态"),
        _("累计服务时长（小时）"),
        _("星级"),
    ]


def _row_values(actor: Actor) -> Callable[[Volunteer], list[Any]]:
    gender, result, status = labeller(Gender), labeller(CheckResult), labeller(Status)
    today = timezone.localdate()

    def values(volunteer: Volunteer) -> list[Any]:
        return [
            volunteer.name,
            gender(volunteer.gender),
            volunteer.birth_date.isoformat(),
            age_on(volunteer.birth_date, today),
            masked_id_number(volunteer),
            masked_phone(volunteer),
            volunteer.region.name,
            volunteer.region_id,
            "、".join(category_labels(volunteer.categories)),
            volunteer.former_unit,
            volunteer.former_title,
            "、".join(specialty_labels(volunteer.specialties)),
            availability_label(volunteer.availability),
            volunteer.max_children,
            volunteer.paired_count,
            volunteer.check_date.isoformat() if volunteer.check_date else "",
            result(volunteer.check_result),
            status(volunteer.status),
            volunteer.hours_total,
            star_label(stars(volunteer)),
        ]

    return values


VOLUNTEERS: ExportDataset[VolunteerFilters, Volunteer] = ExportDataset(
    name=DATASET,
    permission=Permission.VOLUNTEER_EXPORT,
    action=EXPORT_ACTION,
    filename_prefix="volunteers",
    sheet_title=lambda: _("五老志愿者名册"),
    headers=headers,
    column_widths=COLUMN_WIDTHS,
    row_values=_row_values,
    select=lambda actor, filters: volunteer_list(actor=actor, filters=filters),
    filters_type=VolunteerFilters,
)


def volunteers_export(
    *, actor: Actor, filters: VolunteerFilters, file_format: str, **options: Unpack[ExportOptions]
) -> ExportFile | ExportApproval:
    """The filtered list of volunteers as a file, or — above the threshold without an approval — the
    pending ExportApproval filed for it. With an approval, its filters and format are exported once;
    an approval of another list answers 404 (see `guanai.minors.exports.export_list`)."""
    return export_list(dataset=VOLUNTEERS, actor=actor, filters=filters, file_format=file_format, **options)
