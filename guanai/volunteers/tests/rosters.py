"""Rosters of 五老 volunteers built inside the tests, the way committees make them: a title and 填报单位
above a two-row header (背景审查 merged over 审查日期 / 审查结果 / 审查单位), a 序号 column, footer lines.
The files are written with the registry's writers (.xlsx, .xls, .csv)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guanai.minors.tests.ids import id_number
from guanai.minors.tests.rosters import write_csv, write_xls, write_xlsx

__all__ = [
    "FIRST_DATA_ROW",
    "HEADER_MERGES",
    "XLS_HEADER_MERGES",
    "elder",
    "elder_id",
    "roster",
    "write_csv",
    "write_xls",
    "write_xlsx",
]

Row = Sequence[Any]

TITLE = ["淳安县千岛湖镇五老志愿者花名册"]
UNIT = ["填报单位：千岛湖镇关工委", None, None, None, None, None, None, None, None, "填报日期：2026年5月20日"]
HEADER_TOP = [
    "序号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "五老类别", "原工作单位", "原职务/职称",
    "专长", "律师执业证号", "心理咨询资质证书", "辅导学科", "乡镇（街道）", "村（社区）", "可服务时间",
    "最多结对人数", "健康状况", "方言", "背景审查", None, None, "状态",
]  # fmt: skip
HEADER_SUB = [None] * 19 + ["审查日期", "审查结果", "审查单位", None]
# Every header spans both rows except 背景审查, which spans its three columns (T3:V3).
HEADER_MERGES = (*(f"{letter}3:{letter}4" for letter in "ABCDEFGHIJKLMNOPQRS"), "T3:V3", "W3:W4")
XLS_HEADER_MERGES = [(2, 3, column, column) for column in range(19)] + [(2, 2, 19, 21), (2, 3, 22, 22)]
FOOTER: list[list[Any]] = [["填表人：王芳", None, None, "审核人：李强"], ["2026年5月20日"]]
FIRST_DATA_ROW = 5  # Excel row of the first volunteer in `roster`


def elder_id(sequence: int = 1, *, birth: str = "19560312", county: str = "330127") -> str:
    """A real ID number of someone born in 淳安县 (odd sequence: a man, even: a woman)."""
    return id_number(county=county, birth=birth, sequence=sequence)


def elder(
    name: str,
    *,
    id_number: Any = "",
    gender: Any = "",
    birth: Any = "",
    phone: Any = "13905710001",
    categories: str = "老教师",
    former_unit: str = "千岛湖镇中心小学",
    former_title: str = "小学高级教师",
    specialties: str = "教学辅导",
    licence: Any = "",
    certificate: str = "",
    subjects: str = "语文",
    township: str = "千岛湖镇",
    village: str = "富城村",
    availability: str = "周六上午、周日全天",
    max_children: Any = 3,
    health: str = "良好",
    dialects: str = "淳安话",
    check_date: Any = "2026-03-01",
    check_result: str = "无不良记录",
    check_by: str = "千岛湖镇派出所",
    status: str = "在岗",
) -> list[Any]:
    """The cells of one volunteer in the column order of `roster` (without 序号)."""
    return [
        name, gender, birth, id_number, phone, categories, former_unit, former_title, specialties, licence,
        certificate, subjects, township, village, availability, max_children, health, dialects, check_date,
        check_result, check_by, status,
    ]  # fmt: skip


def roster(volunteers: Sequence[Row], *, footer: bool = True) -> list[list[Any]]:
    rows: list[list[Any]] = [list(TITLE), list(UNIT), list(HEADER_TOP), list(HEADER_SUB)]
    rows += [[number, *cells] for number, cells in enumerate(volunteers, start=1)]
    if footer:
        rows += [[], *FOOTER]
    return rows
