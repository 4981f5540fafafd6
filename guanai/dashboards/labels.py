"""Chinese labels for the indicators' figure keys (see `indicators.figure_keys`), and their grouping into
the sections of a table. The pages, the annual report and the statistical returns all name figures here,
so a figure reads the same everywhere.

Labels of grouped figures say which group they belong to ("法律需求" is a child's need, "专长·法律" a
volunteer's specialty), because a label may stand alone in a spreadsheet column or on a chart axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from guanai.consultations.vocabulary import Kind
from guanai.minors.vocabulary import CATEGORY_LABELS, NEED_LABELS, Category, Need, RiskLevel
from guanai.volunteers.vocabulary import (
    ELDER_CATEGORY_LABELS,
    SPECIALTY_LABELS,
    STAR_LABELS,
    ElderCategory,
    Specialty,
)

# Section keys, in display order; their titles come from `section_title`.
SECTIONS = ("children", "pairing", "volunteers", "teams", "online_help", "sealed")


def section_title(section: str) -> str:
    titles = {
        "children": _("关爱对象"),
        "pairing": _("结对与走访"),
        "volunteers": _("五老志愿者"),
        "teams": _("五老队伍"),
        "online_help": _("网上咨询服务"),
        "sealed": _("特殊青少年（封存）"),
    }
    return titles[section]


def _flag_label(labels: Mapping[Any, object], flag_type: type, raw: str) -> str | None:
    try:
        flag = flag_type(int(raw))
    except ValueError:
        return None
    label = labels.get(flag)
    return None if label is None else str(label)


def _consultation_label(kind: str, part: str | None) -> str | None:
    try:
        kind_label = str(Kind(kind).label)
    except ValueError:
        return None
    parts = {
        None: _("%(kind)s请求数"),
        "reply_measured": _("%(kind)s应计时回复数"),
        "reply_on_time": _("%(kind)s按时回复数"),
        "ratings": _("%(kind)s评价数"),
        "rating_sum": _("%(kind)s评分合计"),
    }
    template = parts.get(part)
    return None if template is None else template % {"kind": kind_label}


def figure_label(key: str) -> str:
    """The Chinese label of a figure key; an unknown key is returned unchanged (never raises, so a new
    figure shows up under its key rather than breaking a page or a return)."""
    plain = {
        "children": _("在册关爱对象"),
        "eligible": _("已同意结对关爱的对象"),
        "paired": _("已结对的对象"),
        "visits": _("走访次数"),
        "overdue": _("逾期未联系的结对"),
        "open_reports": _("未办结的强制报告"),
        "volunteers": _("在岗五老志愿者"),
        "teams": _("五老队伍"),
        "sealed_children": _("封存（特殊青少年）记录"),
        "mentoring_cases": _("在办帮教案件"),
    }
    if key in plain:
        return plain[key]
    parts = key.split(".")
    label: str | None = None
    if len(parts) == 3 and parts[0] == "children":
        group, value = parts[1], parts[2]
        if group == "category":
            label = _flag_label(CATEGORY_LABELS, Category, value)
        elif group == "need":
            found = _flag_label(NEED_LABELS, Need, value)
            label = None if found is None else _("%(need)s需求") % {"need": found}
        elif group == "risk" and value in RiskLevel.values:
            label = _("%(level)s风险") % {"level": RiskLevel(value).label}
    elif len(parts) == 3 and parts[0] == "volunteers":
        group, value = parts[1], parts[2]
        if group == "category":
            label = _flag_label(ELDER_CATEGORY_LABELS, ElderCategory, value)
        elif group == "specialty":
            found = _flag_label(SPECIALTY_LABELS, Specialty, value)
            label = None if found is None else _("专长·%(specialty)s") % {"specialty": found}
        elif group == "star" and value.isdigit() and int(value) < len(STAR_LABELS):
            label = _("%(stars)s志愿者") % {"stars": STAR_LABELS[int(value)]}
    elif parts[0] == "consultations" and len(parts) in (2, 3):
        label = _consultation_label(parts[1], parts[2] if len(parts) == 3 else None)
    return label if label is not None else key


def figure_section(key: str) -> str:
    """The section a figure key belongs to (one of `SECTIONS`)."""
    head = key.split(".")[0]
    if head == "children":
        return "children"
    if head in ("eligible", "paired", "visits", "overdue", "open_reports"):
        return "pairing"
    if head == "volunteers":
        return "volunteers"
    if head == "teams":
        return "teams"
    if head == "consultations":
        return "online_help"
    if head in ("sealed_children", "mentoring_cases"):
        return "sealed"
    return head


def figure_sections(keys: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The keys grouped into sections, as (section title, keys in their given order), sections in the
    order of `SECTIONS`; empty sections are left out, and a key of no known section closes the list under
    its own head."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        grouped.setdefault(figure_section(key), []).append(key)
    known = [(section_title(section), grouped.pop(section)) for section in SECTIONS if section in grouped]
    return known + list(grouped.items())
