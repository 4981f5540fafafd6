"""Importing the township rosters of children (花名册): the columns, the rules per cell, the batch writer.

The file is read by the shared roster reader (`guanai.imports`); this module knows children. Each data
row is checked with the registry's shared rules (`guanai.minors.validation`); a refused row is reported
with its Excel row number, the header text of the offending column, a stable code and a Chinese reason,
and every valid row is imported.

Matching, so that importing the same file again updates and creates nothing (`guanai.imports.writing`):
  * a row with an ID number is the record with the same blind index (`id_number_index`), wherever it
    is; inside the import region it is updated, outside it the row is refused "已在某县登记" (naming the
    county only, as registering does);
  * a row without one is the record without an ID number that has the same name, birth date and
    village. Pinyin is not used: 张三明 and 章三明 share it and are two children. A record without an
    ID number that matches a row with one is the same child: the import gives it its ID number.
  * within one file the same ID number (or, without one, the same name, birth date and village) a second
    time refuses the later row.

All or nothing (`guanai.imports.running`): the whole file is written in one transaction, the audit event
last, so a crash or a kill leaves nothing of the batch and running the import again completes it. Rows
are streamed and written in chunks (bulk_create / bulk_update), and the per-file memory is one small
integer per ID number.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanai.core import region_codes
from guanai.core.access import Permission
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.imports.cells import CellValue, cell_text, is_empty, normalise_label
from guanai.imports.headers import Field, RosterTable
from guanai.imports.reading import RosterSource, SourceRow, open_roster
from guanai.imports.results import ERROR_REASON_HEADER, ORIGINAL_ROW_HEADER, ImportResult, RowError
from guanai.imports.results import write_error_report as write_error_report  # imported from here by tasks
from guanai.imports.rows import RosterRowReader
from guanai.imports.running import RosterImportOptions, RosterKind, run_roster_import
from guanai.imports.workbooks import TemplateColumn, write_template_workbook
from guanai.imports.writing import WRITE_BATCH_SIZE, RosterBatchWriter
from guanai.minors.models import Guardian, Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import FieldError, check_age, clean_id_number, clean_phone, reconcile_with_id
from guanai.minors.vocabulary import (
    CATEGORY_LABELS,
    Category,
    Gender,
    HouseholdType,
    Need,
    RiskLevel,
    SpecialKind,
)
from guanai.regions.models import Region
from guanai.regions.selectors import region_find_by_name

IMPORT_KIND = "minors"
NAME_MAX_LENGTH = 50
TEXT_LIMITS = {"ethnicity": 20, "school": 100, "grade": 20, "risk_reason": 300, "address": 300}
FACT_MAX_LENGTH = 300

# --- The columns -----------------------------------------------------------------------------------

_GUARDIAN_GROUPS = (
    "监护人情况",
    "监护人",
    "监护人信息",
    "监护人基本情况",
    "法定监护人",
    "监护人（家长）",
    "家长",
)
_CARER_GROUPS = (
    "被委托人",
    "委托照护人",
    "被委托照护人",
    "委托监护人",
    "受委托人",
    "被委托人情况",
    "委托照护人情况",
)
_NAME_SUBS = ("姓名", "名字")
_RELATIONSHIP_SUBS = ("与儿童关系", "关系", "与儿童的关系", "与本人关系", "与未成年人关系", "与孩子关系")
_PHONE_SUBS = ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码")


def _grouped(groups: Sequence[str], subs: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{group}/{sub}" for group in groups for sub in subs)


# fmt: off
FIELDS: tuple[Field, ...] = (
    Field("name", "姓名", ("儿童姓名", "学生姓名", "未成年人姓名", "青少年姓名", "孩子姓名", "名字"),
          required=True),
    Field("gender", "性别", ("儿童性别",)),
    Field("birth_date", "出生日期", ("出生年月", "出生年月日", "生日", "出生时间", "出生日期（年月日）")),
    Field("ethnicity", "民族", ("族别",)),
    Field("id_number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "儿童身份证号", "儿童身份证号码",
                                        "证件号码", "身份证件号码", "公民身份证号码", "居民身份证号码",
                                        "公民身份号")),
    Field("household_type", "户口性质", ("户籍性质", "户口类型", "户籍类型", "户别")),
    Field("township", "所在乡镇（街道）", ("乡镇（街道）", "乡镇", "街道", "乡镇街道", "所属乡镇",
                                           "所在乡镇", "乡镇（街道、开发区）")),
    Field("village", "所在村（社区）", ("村（社区）", "村社区", "所在村", "村", "社区", "村（居）",
                                        "所在村居", "村居", "所属村（社区）", "现居村（社区）",
                                        "村（居）委会", "村名", "行政村")),
    Field("address", "现住址", ("家庭住址", "住址", "家庭地址", "居住地址", "现居住地址", "详细地址",
                                "现居住地")),
    Field("school", "就读学校", ("学校", "所在学校", "学校名称", "就读学校名称")),
    Field("grade", "年级", ("就读年级", "年级班级", "班级", "年级（班级）")),
    Field("categories", "儿童类别", ("类别", "困境类型", "儿童类型", "人员类别", "对象类别", "帮扶类别",
                                     "类型")),
    Field("special_kind", "特殊青少年类型", ("特殊青少年类别",)),
    Field("needs", "需求", ("帮扶需求", "关爱需求", "主要需求", "需求类型", "服务需求")),
    Field("risk_level", "风险等级", ("风险级别", "风险")),
    Field("risk_reason", "风险原因", ("风险说明", "风险情况")),
    Field("father_situation", "父亲情况", ("父亲外出务工地点", "父亲务工地点", "父亲状况")),
    Field("mother_situation", "母亲情况", ("母亲外出务工地点", "母亲务工地点", "母亲状况")),
    Field("disability_grade", "残疾类别与等级", ("残疾类别", "残疾等级", "残疾类别及等级", "残疾情况")),
    Field("hardship_type", "困难家庭类型", ("困难类型", "家庭困难类型", "困难类别")),
    Field("other_facts", "其他情况", ("情况说明", "备注", "家庭情况", "基本情况说明")),
    Field("last_verified_on", "最近核查日期", ("核查日期", "年度核查日期", "最近一次核查日期")),
    Field("guardian_name", "监护人姓名", ("监护人", "家长姓名", *_grouped(_GUARDIAN_GROUPS, _NAME_SUBS))),
    Field("guardian_relationship", "与儿童关系", ("监护人与儿童关系", "与监护人关系", "监护人关系",
                                                  *_grouped(_GUARDIAN_GROUPS, _RELATIONSHIP_SUBS))),
    Field("guardian_phone", "监护人联系电话", ("监护人电话", "监护人手机", "监护人手机号码", "联系电话",
                                               "联系方式", "家长电话", "家长联系电话",
                                               *_grouped(_GUARDIAN_GROUPS, _PHONE_SUBS))),
    Field("carer_name", "被委托人姓名", ("委托照护人姓名", "被委托照护人姓名",
                                         *_grouped(_CARER_GROUPS, _NAME_SUBS))),
    Field("carer_relationship", "被委托人与儿童关系", ("委托照护人与儿童关系",
                                                       *_grouped(_CARER_GROUPS, _RELATIONSHIP_SUBS))),
    Field("carer_phone", "被委托人联系电话", ("被委托人电话", "委托照护人联系电话", "委托照护人电话",
                                              *_grouped(_CARER_GROUPS, _PHONE_SUBS))),
)
# fmt: on
FIELD_LABELS: dict[str, str] = {item.key: item.label for item in FIELDS}
# Columns that are known and carry nothing to import: the row number, and the two columns the error
# report adds (so that a corrected report imports as it is).
IGNORED_HEADERS = ("序号", "编号", "序", "No.", "NO", ERROR_REASON_HEADER, ORIGINAL_ROW_HEADER)

# --- The vocabulary as rosters write it ---------------------------------------------------------------

_SEPARATORS = "、，,;；/／|｜\n"
_GENDERS = {
    "男": Gender.MALE, "男性": Gender.MALE, "男孩": Gender.MALE, "m": Gender.MALE,
    "女": Gender.FEMALE, "女性": Gender.FEMALE, "女孩": Gender.FEMALE, "f": Gender.FEMALE,
}  # fmt: skip
_HOUSEHOLD_TYPES = {
    "农业": HouseholdType.RURAL, "农业户口": HouseholdType.RURAL, "农村": HouseholdType.RURAL,
    "农村户口": HouseholdType.RURAL, "农村居民": HouseholdType.RURAL, "农业户籍": HouseholdType.RURAL,
    "非农业": HouseholdType.URBAN, "非农业户口": HouseholdType.URBAN, "非农": HouseholdType.URBAN,
    "城镇": HouseholdType.URBAN, "城镇户口": HouseholdType.URBAN, "城市": HouseholdType.URBAN,
    "城镇居民": HouseholdType.URBAN, "非农业户籍": HouseholdType.URBAN,
}  # fmt: skip
_RISK_LEVELS = {
    "低": RiskLevel.LOW, "低风险": RiskLevel.LOW, "一般": RiskLevel.LOW, "无": RiskLevel.LOW,
    "中": RiskLevel.MEDIUM, "中风险": RiskLevel.MEDIUM, "较高": RiskLevel.MEDIUM, "关注": RiskLevel.MEDIUM,
    "高": RiskLevel.HIGH, "高风险": RiskLevel.HIGH, "重点": RiskLevel.HIGH, "重点关注": RiskLevel.HIGH,
}  # fmt: skip
_PLIGHT_HINTS: tuple[tuple[tuple[str, ...], Category], ...] = (
    (("一类", "1类", "家庭贫困", "贫困", "低保", "特困"), Category.PLIGHT_POVERTY),
    (("二类", "2类", "残疾", "重病", "重残"), Category.PLIGHT_DISABILITY),
    (("三类", "3类", "监护", "虐待", "遗弃", "侵害"), Category.PLIGHT_GUARDIANSHIP),
)
_SPECIAL_HINTS: tuple[tuple[tuple[str, ...], SpecialKind], ...] = (
    (("失足", "失范"), SpecialKind.MISCONDUCT),
    (("涉罪", "涉毒", "犯罪", "吸毒", "违法"), SpecialKind.OFFENCE_OR_DRUGS),
)
# Plain labels (after normalise_label); 困境儿童 and 特殊青少年 are read with their hints instead.
_CATEGORY_WORDS: dict[str, Category] = {
    "留守儿童": Category.LEFT_BEHIND, "农村留守儿童": Category.LEFT_BEHIND, "留守": Category.LEFT_BEHIND,
    "事实无人抚养儿童": Category.UNSUPPORTED, "事实无人抚养": Category.UNSUPPORTED,
    "无人抚养儿童": Category.UNSUPPORTED, "事实孤儿": Category.UNSUPPORTED,
    "新居民子女": Category.MIGRANT, "新居民": Category.MIGRANT, "外来务工人员子女": Category.MIGRANT,
    "随迁子女": Category.MIGRANT, "流动儿童": Category.MIGRANT, "新市民子女": Category.MIGRANT,
    "困难家庭": Category.HARDSHIP, "困难家庭儿童": Category.HARDSHIP, "困难家庭子女": Category.HARDSHIP,
    "困难青少年": Category.HARDSHIP, "低保家庭": Category.HARDSHIP, "低保": Category.HARDSHIP,
    "低边": Category.HARDSHIP, "低保边缘": Category.HARDSHIP, "建档立卡": Category.HARDSHIP,
    "建档立卡户": Category.HARDSHIP, "困难": Category.HARDSHIP,
    "残疾儿童": Category.PLIGHT_DISABILITY, "贫困儿童": Category.PLIGHT_POVERTY,
}  # fmt: skip
_HARDSHIP_TYPES = ("低保边缘", "低保", "低边", "特困", "建档立卡")
_NEED_WORDS: tuple[tuple[tuple[str, ...], Need], ...] = (
    (("学业", "学习", "教育", "辅导", "课业", "助学"), Need.STUDY),
    (("心理", "情绪", "疏导"), Need.PSYCHOLOGICAL),
    (("法律", "法治", "维权"), Need.LEGAL),
    (("经济", "资助", "生活", "物质", "救助"), Need.ECONOMIC),
    (("健康", "医疗", "康复", "疾病"), Need.HEALTH),
    (("安全", "监护", "防护"), Need.SAFETY),
    (("其他", "其它"), Need.OTHER),
)
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_DATE_FULL = re.compile(
    r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*[日号]?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_DATE_MONTH = re.compile(r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*月?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
# Excel serial numbers of plausible birth and verification dates (1905 … 2173): below are bare years.
EXCEL_SERIAL_RANGE = (2200, 100_000)


# --- The mapping step's preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterPreview:
    """The first rows of a roster with the header found: for the wizard's column-mapping step.

    columns      header text of every column (index 0 = column A)
    mapping      field key → column index, as detected; send it back, adjusted, as `mapping=`
    header_rows  the Excel row numbers of the header
    rows         up to `limit` data rows (Excel row number, cells)
    fields       every field key → its label, for the mapping drop-downs
    """

    columns: list[str]
    mapping: dict[str, int]
    header_rows: tuple[int, ...]
    rows: list[SourceRow]
    fields: dict[str, str]


# --- Reading cells -------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _split(text: str) -> list[str]:
    """Split a multi-value cell on 、，,;/ — but not inside parentheses: 困境儿童（一类、三类）."""
    folded = _fold(text)
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for character in folded:
        if character in "([（【":
            depth += 1
        elif character in ")]）】":
            depth = max(0, depth - 1)
        if depth == 0 and (character in _SEPARATORS or character.isspace()):
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return [normalise_label(part) for part in parts if part.strip()]


def parse_date(value: CellValue, *, field: str) -> tuple[datetime.date, bool] | None:
    """A date as rosters hold it: an Excel date or serial number, 2012年7月21日, 2012.7.21, 2012/07/21,
    2012-07-21, 20120721; also a year and month only (2012年7月, 2012.07, 201207), which is returned
    with False ("month only"). None for an empty cell; FieldError when it is no date."""
    if is_empty(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date(), True
    if isinstance(value, datetime.date):
        return value, True
    if isinstance(value, bool):
        raise _date_error(field, cell_text(value))
    if isinstance(value, int | float):
        return _number_date(float(value), field=field)
    text = _fold(cell_text(value)).translate(_CHINESE_DIGITS)
    try:
        if match := _DATE_FULL.match(text):
            return datetime.date(int(match[1]), int(match[2]), int(match[3])), True
        if match := _DATE_MONTH.match(text):
            return _month(int(match[1]), int(match[2]), field=field), False
        if match := _DATE_COMPACT.match(text):
            if match[3]:
                return datetime.date(int(match[1]), int(match[2]), int(match[3])), True
            return _month(int(match[1]), int(match[2]), field=field), False
    except ValueError as error:
        raise _date_error(field, text) from error
    raise _date_error(field, text)


def _number_date(number: float, *, field: str) -> tuple[datetime.date, bool]:
    if number.is_integer() and 19000101 <= number <= 21001231:  # 20120721 typed as a number
        return parse_date(str(int(number)), field=field) or (datetime.date.min, True)
    if number.is_integer() and 190001 <= number <= 210012:  # 201207
        return parse_date(str(int(number)), field=field) or (datetime.date.min, True)
    if 1900 <= number < 2101 and not number.is_integer():  # 2012.07 typed as a number
        year = int(number)
        return _month(year, round((number - year) * 100), field=field), False
    if EXCEL_SERIAL_RANGE[0] <= number < EXCEL_SERIAL_RANGE[1]:
        return EXCEL_EPOCH + datetime.timedelta(days=int(number)), True
    raise _date_error(field, cell_text(number))


def _month(year: int, month: int, *, field: str) -> datetime.date:
    if not 1 <= month <= 12:
        raise _date_error(field, f"{year}.{month}")
    return datetime.date(year, month, 1)


def _date_error(field: str, text: str) -> FieldError:
    return FieldError(
        field,
        f"{field}_invalid",
        _("日期“%(text)s”无法识别，请写成 2012-07-21 或 2012年7月21日") % {"text": text[:30]},
    )


def parse_categories(text: str) -> tuple[int, str]:
    """Category bits and the 特殊青少年 kind from a cell such as "留守儿童、困境儿童（三类）"."""
    bits, kind = 0, ""
    for token in _split(text):
        if "困境" in token:
            hinted = [flag for words, flag in _PLIGHT_HINTS if any(word in token for word in words)]
            if not hinted:
                raise FieldError(
                    "categories",
                    "plight_class_missing",
                    _("“困境儿童”须注明类别：一类（家庭贫困）、二类（自身残疾）或三类（监护缺失或不当）"),
                )
            for plight in hinted:
                bits |= plight
            continue
        special = [found for words, found in _SPECIAL_HINTS if any(word in token for word in words)]
        if "特殊" in token or special:
            bits |= Category.SPECIAL
            if len(special) == 1:
                kind = special[0]
            continue
        flag = _CATEGORY_WORDS.get(token) or _CATEGORY_WORDS.get(_PARENTHESES.sub("", token))
        if flag is None:
            known = "、".join(str(label) for label in CATEGORY_LABELS.values())
            raise FieldError(
                "categories",
                "category_unknown",
                _("无法识别的类别“%(token)s”，可填：%(known)s") % {"token": token[:20], "known": known},
            )
        bits |= flag
    return bits, kind


def parse_needs(text: str) -> int:
    """Need bits: each part of the cell by its key word (学业辅导 → 学业); a part naming none is 其他."""
    bits = 0
    for token in _split(text):
        matched = [flag for words, flag in _NEED_WORDS if any(word in token for word in words)]
        bits |= matched[0] if matched else Need.OTHER
    return bits


def _special_kind(text: str) -> str:
    token = normalise_label(_fold(text))
    for words, kind in _SPECIAL_HINTS:
        if any(word in token for word in words):
            return str(kind)
    raise FieldError("special_kind", "special_kind_invalid", _("特殊青少年类型应为“失足失范”或“涉罪涉毒”"))


# --- Villages ------------------------------------------------------------------------------------------


class VillageResolver:
    """Village names as rosters write them (富城村 for 富城村村民委员会), found inside the import region.

    Resolved names are remembered, so a county roster of 100,000 rows asks the database once per
    distinct village name. A 12-digit village code is accepted too.
    """

    def __init__(self, region: Region) -> None:
        self.region = region
        self._townships: list[Region] | None = None
        self._villages: dict[tuple[str, str], Region | FieldError] = {}
        self._township_names: dict[str, Region | FieldError] = {}

    def townships(self) -> list[Region]:
        if self._townships is None:
            if self.region.level == RegionLevel.TOWNSHIP:
                self._townships = [self.region]
            else:
                self._townships = list(
                    Region.objects.within(self.region.code)
                    .filter(level=RegionLevel.TOWNSHIP)
                    .order_by("code")
                )
        return self._townships

    def township(self, name: str) -> Region | FieldError:
        """The township (乡镇、街道) a roster names, inside the import region."""
        if name not in self._township_names:
            self._township_names[name] = self._find_township(name)
        return self._township_names[name]

    def _find_township(self, name: str) -> Region | FieldError:
        if self.region.level == RegionLevel.TOWNSHIP:
            return self.region
        parents = (
            [self.region]
            if self.region.level == RegionLevel.COUNTY
            else list(Region.objects.within(self.region.code).filter(level=RegionLevel.COUNTY))
        )
        found = self._among(parents, name, field="township")
        return found

    def locate(self, *, village: str, township: str, missing_message: str) -> Region:
        """The village a row names (a 村（社区） cell, and a 乡镇（街道） cell that narrows it), inside the
        import region; an import into a village may leave the cell empty. FieldError when it is not
        found, is ambiguous, or is missing (`missing_message`)."""
        within: Region | None = None
        if township and self.region.level < RegionLevel.TOWNSHIP:
            found_township = self.township(township)
            if isinstance(found_township, FieldError):
                raise found_township
            within = found_township
        if not village:
            if self.region.level == RegionLevel.VILLAGE:
                return self.region
            raise FieldError("village", "village_required", missing_message)
        found = self.village(village, within)
        if isinstance(found, FieldError):
            raise found
        return found

    def village(self, name: str, township: Region | None) -> Region | FieldError:
        key = (township.code if township else "", name)
        if key not in self._villages:
            self._villages[key] = self._find_village(name, township)
        return self._villages[key]

    def _find_village(self, name: str, township: Region | None) -> Region | FieldError:
        code = name.strip()
        if region_codes.CODE_PATTERN.fullmatch(code):
            region = Region.objects.filter(code=code, level=RegionLevel.VILLAGE).first()
            if region is None or not region_codes.is_within(code, self.region.code):
                return FieldError("village", "village_outside_region", self._outside_message(name))
            return region
        if self.region.level == RegionLevel.VILLAGE:
            parent = Region.objects.filter(code=self.region.parent_id).first()
            found = self._among([parent] if parent else [], name, field="village")
            if isinstance(found, Region) and found.code != self.region.code:
                return FieldError("village", "village_outside_region", self._outside_message(name))
            return found
        return self._among([township] if township else self.townships(), name, field="village")

    def _among(self, parents: Sequence[Region], name: str, *, field: str) -> Region | FieldError:
        matches: list[Region] = []
        for parent in parents:
            try:
                found = region_find_by_name(parent=parent, name=name)
            except ValidationFailed as error:
                return FieldError(field, f"{field}_ambiguous", error.message)
            if found is not None:
                matches.append(found)
        if len(matches) == 1:
            return matches[0]
        if matches:
            candidates = "、".join(f"{region.name}（{region.code}）" for region in matches)
            return FieldError(
                field,
                f"{field}_ambiguous",
                _("“%(name)s”可指多个区划：%(candidates)s。请填写完整名称或区划代码。")
                % {"name": name, "candidates": candidates},
            )
        return FieldError(
            field,
            f"{field}_not_found",
            _("在%(region)s找不到“%(name)s”") % {"region": self.region.name, "name": name},
        )

    def _outside_message(self, name: str) -> str:
        return _("“%(name)s”不在%(region)s范围内") % {"name": name, "region": self.region.name}


# --- One row ---------------------------------------------------------------------------------------------


@dataclass
class _GuardianRow:
    name: str
    relationship: str
    phone: str
    is_entrusted_carer: bool

    def key(self) -> tuple[str, str, str, bool]:
        return (self.name, self.relationship, self.phone, self.is_entrusted_carer)


@dataclass
class _Prepared:
    """A valid row, ready to be matched and written."""

    number: int
    values: dict[str, Any]  # Minor field → value, for the columns the file has
    id_number: str | None
    region_id: str
    guardians: list[_GuardianRow] | None  # None: the row says nothing about guardians
    id_index: str | None = None


class RowReader(RosterRowReader):
    """Turns one data row into model values, or into the list of its errors."""

    labels = FIELD_LABELS
    missing_village_message = gettext_lazy("请填写所在村（社区）")

    def read(self, row: SourceRow) -> tuple[_Prepared | None, list[RowError]]:
        cells, number = row.cells, row.number
        errors: list[RowError] = []
        values: dict[str, Any] = {}

        def attempt(key: str, parse: Callable[[], Any]) -> Any:
            try:
                return parse()
            except FieldError as problem:
                errors.append(self.error(number, problem, key))
                return None

        name = "".join(self.text(cells, "name").split())
        if not name:
            errors.append(self.error(number, FieldError("name", "name_required", _("请填写姓名")), "name"))
        elif len(name) > NAME_MAX_LENGTH:
            errors.append(
                self.error(number, FieldError("name", "name_too_long", _("姓名不能超过 50 个字")), "name")
            )
        values["name"] = name
        id_number = attempt("id_number", lambda: self._id_number(self.cell(cells, "id_number")))
        birth = attempt("birth_date", lambda: parse_date(self.cell(cells, "birth_date"), field="birth_date"))
        gender = attempt("gender", lambda: self._gender(self.text(cells, "gender")))
        categories, kind = attempt(
            "categories", lambda: parse_categories(self.text(cells, "categories"))
        ) or (0, "")
        categories = int(categories)
        special_text = self.text(cells, "special_kind")
        if special_text:
            kind = attempt("special_kind", lambda: _special_kind(special_text)) or kind
            categories |= Category.SPECIAL
        needs = attempt("needs", lambda: parse_needs(self.text(cells, "needs")))
        household = attempt("household_type", lambda: self._choice(cells, "household_type", _HOUSEHOLD_TYPES))
        risk = attempt("risk_level", lambda: self._choice(cells, "risk_level", _RISK_LEVELS))
        verified = attempt(
            "last_verified_on",
            lambda: parse_date(self.cell(cells, "last_verified_on"), field="last_verified_on"),
        )
        village = attempt("village", lambda: self._village(cells))
        guardians = self._guardians(cells, number, errors)
        if errors:
            return None, errors

        try:
            birth_date, gender_value = self._reconcile(id_number, birth, gender)
            check_age(birth_date, categories, today=self.today)
            if categories & Category.SPECIAL and not kind:
                raise FieldError(
                    "categories", "special_kind_missing", _("特殊青少年须注明类型：失足失范或涉罪涉毒")
                )
            if categories & Category.LEFT_BEHIND and household == HouseholdType.URBAN:
                raise FieldError("household_type", "left_behind_urban", _("农村留守儿童须为农业户口"))
            if verified is not None and verified[0] > self.today:
                raise FieldError("last_verified_on", "verified_in_future", _("核查日期不能晚于今天"))
        except FieldError as problem:
            key = problem.field
            if key in ("birth_date", "gender") and id_number and is_empty(self.cell(cells, key)):
                key = "id_number"  # the value came from the ID number: that is the cell to look at
            return None, [self.error(number, problem, key)]

        values.update(birth_date=birth_date, gender=gender_value, region_id=village.code)
        if id_number:
            values["id_number"] = id_number
        self._optional(values, cells)
        if self.text(cells, "categories") or special_text:
            values["categories"] = categories
            values["special_kind"] = kind if categories & Category.SPECIAL else ""
        if needs:
            values["needs"] = int(needs)
        if household:
            values["household_type"] = household
        if risk:
            values["risk_level"] = risk
        if verified is not None:
            values["last_verified_on"] = verified[0]
        facts = self._facts(cells, categories)
        if facts:
            values["facts"] = facts
        return _Prepared(number, values, id_number, village.code, guardians), []

    # The pieces ----------------------------------------------------------------------------------------

    def _id_number(self, value: CellValue) -> str | None:
        if is_empty(value):
            return None
        if isinstance(value, bool):
            return clean_id_number(cell_text(value))
        if isinstance(value, int | float):
            # Stored as a number: Excel keeps 15 significant digits, the last ones of an 18-digit ID
            # number are gone (3.30127201207210E+17). Refused, never guessed.
            return clean_id_number(f"{float(value):E}")
        return clean_id_number(cell_text(value))

    def _gender(self, text: str) -> str | None:
        if not text:
            return None
        gender = _GENDERS.get(normalise_label(_fold(text)))
        if gender is None:
            raise FieldError("gender", "gender_invalid", _("性别应为“男”或“女”"))
        return str(gender)

    def _choice(self, cells: Sequence[CellValue], key: str, choices: Mapping[str, Any]) -> str | None:
        text = self.text(cells, key)
        if not text:
            return None
        choice = choices.get(normalise_label(_fold(text)))
        if choice is None:
            known = "、".join(dict.fromkeys(str(value.label) for value in choices.values()))
            raise FieldError(
                key,
                f"{key}_invalid",
                _("无法识别“%(text)s”，应为：%(known)s") % {"text": text[:20], "known": known},
            )
        return str(choice)

    def _reconcile(
        self, id_number: str | None, birth: tuple[datetime.date, bool] | None, gender: str | None
    ) -> tuple[datetime.date, str]:
        if birth is not None and not birth[1]:  # a year and month only
            if not id_number:
                raise FieldError("birth_date", "birth_date_incomplete", _("没有身份证号时，出生日期须写到日"))
            reconciled = reconcile_with_id(id_number, None, gender)
            if (reconciled[0].year, reconciled[0].month) != (birth[0].year, birth[0].month):
                reconcile_with_id(id_number, birth[0], gender)  # raises the shared mismatch error
            return reconciled
        return reconcile_with_id(id_number, birth[0] if birth else None, gender)

    def _optional(self, values: dict[str, Any], cells: Sequence[CellValue]) -> None:
        for key, limit in TEXT_LIMITS.items():
            text = self.text(cells, key)
            if text:
                values[key] = text[:limit]
        ethnicity = values.get("ethnicity")
        if ethnicity and not ethnicity.endswith("族") and len(ethnicity) <= 4:
            values["ethnicity"] = ethnicity + "族"  # 汉 and 汉族 are one answer

    def _facts(self, cells: Sequence[CellValue], categories: int) -> dict[str, str]:
        facts: dict[str, str] = {}
        for key, fact in (
            ("father_situation", "father_situation"),
            ("mother_situation", "mother_situation"),
            ("disability_grade", "disability_grade"),
            ("hardship_type", "hardship_type"),
            ("other_facts", "other"),
        ):
            text = self.text(cells, key)
            if text:
                facts[fact] = text[:FACT_MAX_LENGTH]
        if categories & Category.HARDSHIP and "hardship_type" not in facts:
            words = _split(self.text(cells, "categories"))
            named = [word for word in _HARDSHIP_TYPES if any(word in token for token in words)]
            if named:
                facts["hardship_type"] = named[0]
        return facts

    def _guardians(
        self, cells: Sequence[CellValue], number: int, errors: list[RowError]
    ) -> list[_GuardianRow] | None:
        guardians: list[_GuardianRow] = []
        mentioned = False
        for prefix, is_carer in (("guardian", False), ("carer", True)):
            name = "".join(self.text(cells, f"{prefix}_name").split())
            relationship = self.text(cells, f"{prefix}_relationship")
            raw_phone = self.text(cells, f"{prefix}_phone")
            if not (name or relationship or raw_phone):
                continue
            mentioned = True
            if not relationship and f"{prefix}_relationship" not in self.columns:
                # Many rosters have 监护人姓名 and 联系电话 but no 与儿童关系 column: the person is then
                # recorded as what the column says they are. An empty cell of such a column is an error.
                relationship = _("被委托人") if is_carer else _("监护人")
            try:
                phone = clean_phone(raw_phone, field=f"{prefix}_phone")
            except FieldError as problem:
                errors.append(self.error(number, problem, f"{prefix}_phone"))
                continue
            if not name or not relationship:
                key = f"{prefix}_name" if not name else f"{prefix}_relationship"
                message = (
                    _("被委托人须填写姓名和与儿童关系") if is_carer else _("监护人须填写姓名和与儿童关系")
                )
                if key not in self.columns:
                    key = f"{prefix}_name" if f"{prefix}_name" in self.columns else f"{prefix}_phone"
                errors.append(self.error(number, FieldError(key, f"{prefix}_incomplete", message), key))
                continue
            guardians.append(_GuardianRow(name[:50], relationship[:20], phone, is_carer))
        return guardians if mentioned else None


# --- The batch writer -------------------------------------------------------------------------------------


class BatchWriter(RosterBatchWriter[_Prepared, Minor]):
    """Matches prepared rows with the registry and writes them, with their guardians, a chunk at a time."""

    model = Minor
    ambiguous_message = gettext_lazy("库中有多名同名、同出生日期、同村且无身份证号的儿童，请补充身份证号")
    same_record_message = gettext_lazy("与本表前面的行是同一名儿童")
    derived_fields = {
        "id_number": frozenset({"id_number_index"}),
        "name": frozenset({"name_pinyin", "name_initials"}),
    }

    def write(self, chunk: list[_Prepared]) -> None:
        created: list[tuple[Minor, _Prepared]] = []
        matched: list[tuple[Minor, _Prepared]] = []
        for row, existing in self.match(chunk):
            if existing is None:
                created.append((self.new_minor(row), row))
            else:
                matched.append((existing, row))

        changed: list[Minor] = []
        changed_fields: set[str] = set()
        guardian_updates: list[tuple[Minor, list[_GuardianRow]]] = []
        current_guardians = self.guardians_of([minor for minor, row in matched if row.guardians is not None])
        for minor, row in matched:
            fields = self.apply(minor, row)
            guardians_changed = row.guardians is not None and sorted(
                guardian.key() for guardian in row.guardians
            ) != current_guardians.get(minor.pk, [])
            if fields or guardians_changed:
                self.mark_changed(minor)
                changed.append(minor)
                changed_fields.update(fields)
                if guardians_changed:
                    guardian_updates.append((minor, row.guardians or []))
            else:
                self.result.unchanged += 1
        self.save([minor for minor, row in created], changed, changed_fields)
        if self.dry_run:
            return

        if guardian_updates:
            Guardian.objects.filter(minor__in=[minor for minor, guardians in guardian_updates]).delete()
        new_guardians = [
            Guardian(
                minor=minor,
                name=guardian.name,
                relationship=guardian.relationship,
                phone=guardian.phone,
                is_entrusted_carer=guardian.is_entrusted_carer,
            )
            for minor, guardians in [
                *((minor, row.guardians or []) for minor, row in created),
                *guardian_updates,
            ]
            for guardian in guardians
        ]
        Guardian.objects.bulk_create(new_guardians, batch_size=WRITE_BATCH_SIZE)

    def new_minor(self, row: _Prepared) -> Minor:
        values = row.values
        minor = Minor(
            **values, created_by=self.user, is_sealed=bool(values.get("categories", 0) & Category.SPECIAL)
        )
        minor.name_pinyin, minor.name_initials = pinyin_forms(minor.name)
        minor.created_at = minor.updated_at = self.now
        return minor

    def apply(self, minor: Minor, row: _Prepared) -> list[str]:
        """Set the row's values on the record; the names of the fields that changed."""
        values = dict(row.values)
        if "facts" in values:
            # The file's facts join those on record (a roster with 父亲情况 does not erase 残疾等级).
            values["facts"] = {**(minor.facts or {}), **values["facts"]}
        if minor.is_sealed:
            # Sealing is never undone by an import: the record keeps its 特殊青少年 flag and kind.
            values["categories"] = int(values.get("categories", minor.categories) | Category.SPECIAL)
            values["special_kind"] = values.get("special_kind") or minor.special_kind
        changed: list[str] = []
        for key, value in values.items():
            if getattr(minor, key) != value:
                setattr(minor, key, value)
                changed.append(key)
        if "categories" in changed and minor.categories & Category.SPECIAL and not minor.is_sealed:
            minor.is_sealed = True
            changed.append("is_sealed")
        if "name" in changed:
            minor.name_pinyin, minor.name_initials = pinyin_forms(minor.name)
        return changed

    def guardians_of(self, minors: list[Minor]) -> dict[int, list[tuple[str, str, str, bool]]]:
        found: dict[int, list[tuple[str, str, str, bool]]] = {}
        if not minors:
            return found
        for guardian in Guardian.objects.filter(minor__in=minors).order_by():
            found.setdefault(guardian.minor_id, []).append(
                (guardian.name, guardian.relationship, guardian.phone, guardian.is_entrusted_carer)
            )
        return {key: sorted(value) for key, value in found.items()}


# --- The service ----------------------------------------------------------------------------------------

MINOR_ROSTER = RosterKind(
    name=IMPORT_KIND,
    permission=Permission.MINOR_IMPORT,
    audit_action="minors.import",
    fields=FIELDS,
    ignored_headers=IGNORED_HEADERS,
    reader=lambda layout, region, today: RowReader(layout, VillageResolver(region), today=today),
    writer=BatchWriter,
)


def minor_roster_import(**options: Unpack[RosterImportOptions]) -> ImportResult:
    """Import a roster into the registry of `region_code` (a county, township or village); the actor
    needs minors.import and the region in scope (None for a command). The options: `run_roster_import`."""
    return run_roster_import(MINOR_ROSTER, **options)


def roster_preview(path_or_file: RosterSource, limit: int = 20) -> RosterPreview:
    """The header found in a roster and its first data rows, for the wizard's mapping step."""
    with open_roster(path_or_file) as roster:
        table = RosterTable(roster, FIELDS, ignore=IGNORED_HEADERS, strict=False)
        rows: list[SourceRow] = []
        for row in table.data_rows():
            rows.append(row)
            if len(rows) >= limit:
                break
        return RosterPreview(
            columns=list(table.layout.columns),
            mapping=dict(table.layout.mapping),
            header_rows=table.layout.rows,
            rows=rows,
            fields=dict(FIELD_LABELS),
        )


TEMPLATE_COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn("序号", width=6),
    TemplateColumn("姓名*", width=10),
    TemplateColumn("性别", width=6, choices=("男", "女")),
    TemplateColumn("出生日期", width=12, is_date=True),
    TemplateColumn("民族", width=8),
    TemplateColumn("公民身份号码", width=22, is_text=True),
    TemplateColumn("户口性质", width=12, choices=tuple(str(label) for label in HouseholdType.labels)),
    TemplateColumn("所在乡镇（街道）", width=14),
    TemplateColumn("所在村（社区）*", width=14),
    TemplateColumn("现住址", width=24),
    TemplateColumn("就读学校", width=16),
    TemplateColumn("年级", width=8),
    TemplateColumn(
        "儿童类别",
        width=24,
        choices=(
            "农村留守儿童",
            "困境儿童（一类家庭贫困）",
            "困境儿童（二类自身残疾）",
            "困境儿童（三类监护缺失或不当）",
            "事实无人抚养儿童",
            "新居民子女",
            "困难家庭",
            "特殊青少年（失足失范）",
            "特殊青少年（涉罪涉毒）",
        ),
        strict=False,
    ),
    TemplateColumn(
        "需求", width=16, choices=("学业", "心理", "法律", "经济", "健康", "安全", "其他"), strict=False
    ),
    TemplateColumn("风险等级", width=8, choices=("低", "中", "高")),
    TemplateColumn("风险原因", width=20),
    TemplateColumn("父亲情况", width=20),
    TemplateColumn("母亲情况", width=20),
    TemplateColumn("监护人姓名", width=10),
    TemplateColumn("与儿童关系", width=10),
    TemplateColumn("监护人联系电话", width=16, is_text=True),
    TemplateColumn("被委托人姓名", width=10),
    TemplateColumn("被委托人与儿童关系", width=10),
    TemplateColumn("被委托人联系电话", width=16, is_text=True),
    TemplateColumn("其他情况", width=24),
)
TEMPLATE_TITLE = gettext_lazy("未成年人花名册")
TEMPLATE_INSTRUCTIONS = gettext_lazy(
    "填写说明：带 * 的列必填；有身份证号时出生日期、性别可不填（以身份证号为准）；"
    "身份证号、电话请按文本填写，不要让 Excel 变成科学计数法；类别、需求可填多项，用顿号（、）分隔，"
    "困境儿童请注明一类、二类或三类；所在村（社区）可写简称，如“富城村”。"
    "表头以上的行和表尾的填表人、审核人、日期不会导入。"
)


def write_template(out_path: str | Path) -> None:
    """The blank roster: title, an instruction row, the standard header and drop-down lists."""
    write_template_workbook(
        out_path,
        title=str(TEMPLATE_TITLE),
        instructions=str(TEMPLATE_INSTRUCTIONS),
        columns=TEMPLATE_COLUMNS,
        sheet_name="花名册",
    )
