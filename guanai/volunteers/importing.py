"""Importing the committees' rosters of 五老 volunteers (五老花名册): the columns, the rules per cell, the
batch writer.

The file is read by the shared roster reader (`guanai.imports`), the villages are found and the dates
read as the registry's import does (`guanai.minors.importing`), ID numbers and phones are checked with
the registry's shared rules (`guanai.minors.validation`); this module knows volunteers. A refused row is
reported with its Excel row number, the header text of the offending column, a stable code and a
Chinese reason, and every valid row is imported.

Matching, so that importing the same file again updates and creates nothing: a volunteer is known by
the ID number, which every row must have. A row is the record with the same blind index
(`id_number_index`), wherever it is; inside the import region it is updated, outside it the row is
refused "已在某县登记" (naming the county only, as registering does). A record without an ID number with
the same name, birth date and village is the same elder: the import gives it its ID number. Within one
file the same ID number a second time refuses the later row.

All or nothing, as every roster import (`guanai.imports.running`): the whole file is written in one
transaction, the audit event last, so a crash or a kill leaves nothing of the batch and running the
import again completes it. Rows are streamed and written in chunks (bulk_create / bulk_update), matched
as `guanai.imports.writing` does. Values that a spreadsheet would run as a formula are stored as the
text they are and neutralised wherever they are written into a workbook again (the error report).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanai.core.access import Permission
from guanai.imports.cells import CellValue, cell_text, is_empty, normalise_label
from guanai.imports.headers import Field
from guanai.imports.reading import SourceRow
from guanai.imports.results import ERROR_REASON_HEADER, ORIGINAL_ROW_HEADER, ImportResult, RowError
from guanai.imports.rows import RosterRowReader
from guanai.imports.running import RosterImportOptions, RosterKind, run_roster_import
from guanai.imports.writing import RosterBatchWriter
from guanai.minors.importing import VillageResolver, parse_date
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import FieldError, age_on, clean_id_number, clean_phone, reconcile_with_id
from guanai.minors.vocabulary import Gender
from guanai.volunteers.models import Volunteer
from guanai.volunteers.services import MAX_CHILDREN_LIMIT, MIN_AGE
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    ELDER_CATEGORY_LABELS,
    SPECIALTY_LABELS,
    STATUS_CHANGES,
    CheckResult,
    ElderCategory,
    Source,
    Specialty,
    Status,
    availability_bit,
)

IMPORT_KIND = "volunteers"
NAME_MAX_LENGTH = 50
LICENCE_MAX_LENGTH = 30
CERTIFICATE_MAX_LENGTH = 50
TEXT_LIMITS = {
    "former_unit": 100,
    "former_title": 100,
    "teaching_subjects": 100,
    "specialty_note": 200,
    "health_note": 200,
    "dialects": 100,
    "check_by": 100,
}
STATUS_REASON_MAX_LENGTH = 200

# --- The columns -----------------------------------------------------------------------------------

# A two-row header often groups the background check: 背景审查 over 审查日期 / 审查结果 / 审查单位.
_CHECK_GROUPS = ("背景审查", "背景审查情况", "背景审查（无犯罪记录查询）")


def _grouped(subs: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{group}/{sub}" for group in _CHECK_GROUPS for sub in subs)


# fmt: off
FIELDS: tuple[Field, ...] = (
    Field("name", "姓名", ("志愿者姓名", "五老姓名", "名字"), required=True),
    Field("gender", "性别", ()),
    Field("birth_date", "出生日期", ("出生年月", "出生年月日", "生日", "出生时间")),
    Field("id_number", "身份证号", ("公民身份号码", "身份证号码", "身份证", "证件号码", "身份证件号码",
                                    "公民身份证号码", "居民身份证号码", "公民身份号"), required=True),
    Field("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码",
                                "联系电话（手机）")),
    Field("categories", "五老类别", ("类别", "五老类型", "五老身份", "人员类别", "身份类别", "五老")),
    Field("former_unit", "原工作单位", ("原单位", "退休前单位", "原工作单位名称", "工作单位")),
    Field("former_title", "原职务（职称）", ("原职务/职称", "原职务", "原职称", "职务", "职称", "职务职称",
                                              "原职务职称", "职务（职称）")),
    Field("specialties", "专长", ("特长", "专业特长", "个人专长", "服务专长", "专长领域", "专长类别")),
    Field("specialty_note", "专长说明", ("专长描述", "特长说明", "专长情况")),
    Field("law_licence_number", "律师执业证号", ("执业证号", "律师执业证号码", "律师证号", "执业证号码",
                                                 "律师执业证编号")),
    Field("psychology_certificate", "心理咨询资质证书", ("心理咨询师证书", "心理咨询证书", "心理资质",
                                                         "心理咨询资质", "心理咨询师证书编号",
                                                         "心理咨询资质证书编号")),
    Field("teaching_subjects", "辅导学科", ("辅导科目", "擅长学科", "任教学科", "原任教学科", "学科")),
    Field("township", "乡镇（街道）", ("所在乡镇（街道）", "乡镇", "街道", "乡镇街道", "所在乡镇", "所属乡镇",
                                       "居住乡镇（街道）")),
    Field("village", "村（社区）", ("所在村（社区）", "居住村（社区）", "村社区", "所在村", "村", "社区",
                                    "村（居）", "所在村居", "村居", "所属村（社区）", "行政村", "村名")),
    Field("availability", "可服务时间", ("服务时间", "可服务时段", "空闲时间", "可参加活动时间",
                                          "可服务时间段")),
    Field("max_children", "最多结对人数", ("可结对人数", "结对人数上限", "最多结对数", "可结对数",
                                           "最多可结对人数")),
    Field("health_note", "健康状况", ("身体状况", "健康情况", "身体情况")),
    Field("dialects", "方言", ("会讲方言", "方言能力", "掌握方言")),
    Field("check_date", "背景审查日期", ("审查日期", "背景审查时间", "无犯罪记录查询日期",
                                         *_grouped(("审查日期", "日期", "审查时间", "时间")))),
    Field("check_result", "背景审查结果", ("审查结果", "无犯罪记录查询结果",
                                           *_grouped(("审查结果", "结果", "审查情况")))),
    Field("check_by", "审查单位", ("审查单位（人）", "审查机关", "审查人", "背景审查单位",
                                   *_grouped(("审查单位", "单位", "审查单位（人）", "审查机关")))),
    Field("status", "状态", ("人员状态", "在岗状态", "当前状态", "志愿者状态")),
    Field("status_reason", "状态变更原因", ("状态说明", "状态原因")),
)
# fmt: on
FIELD_LABELS: dict[str, str] = {item.key: item.label for item in FIELDS}
# Columns that are known and carry nothing to import: the row number, remarks, and the two columns the
# error report adds (so that a corrected report imports as it is).
IGNORED_HEADERS = ("序号", "编号", "序", "No.", "NO", "备注", ERROR_REASON_HEADER, ORIGINAL_ROW_HEADER)

# --- The vocabulary as rosters write it ---------------------------------------------------------------

_SEPARATORS = "、，,;；/／|｜\n"
_GENDERS = {"男": Gender.MALE, "男性": Gender.MALE, "女": Gender.FEMALE, "女性": Gender.FEMALE}
_CATEGORY_WORDS: dict[str, ElderCategory] = {
    "老干部": ElderCategory.CADRE, "干部": ElderCategory.CADRE, "离退休干部": ElderCategory.CADRE,
    "退休干部": ElderCategory.CADRE,
    "老战士": ElderCategory.VETERAN, "战士": ElderCategory.VETERAN, "老军人": ElderCategory.VETERAN,
    "退役军人": ElderCategory.VETERAN, "老兵": ElderCategory.VETERAN,
    "老专家": ElderCategory.EXPERT, "专家": ElderCategory.EXPERT,
    "老教师": ElderCategory.TEACHER, "教师": ElderCategory.TEACHER, "退休教师": ElderCategory.TEACHER,
    "老模范": ElderCategory.MODEL_WORKER, "模范": ElderCategory.MODEL_WORKER,
    "劳模": ElderCategory.MODEL_WORKER, "老劳模": ElderCategory.MODEL_WORKER,
}  # fmt: skip
# Longest first, so that 老干部 is read before 干部 in a cell written without separators (老干部老教师).
_CATEGORY_PATTERN = re.compile("|".join(sorted(map(re.escape, _CATEGORY_WORDS), key=len, reverse=True)))
# Key words per specialty, in the order they are tried: 红色历史教育 before 教育, 心理健康 before 健康.
_SPECIALTY_WORDS: tuple[tuple[tuple[str, ...], Specialty], ...] = (
    (("红色", "革命传统", "党史", "革命历史"), Specialty.RED_HISTORY),
    (("法律", "法治", "律师", "普法"), Specialty.LAW),
    (("心理",), Specialty.PSYCHOLOGY),
    (("农业", "农技", "科技", "种植", "养殖"), Specialty.AGRICULTURE_TECHNOLOGY),
    (("医疗", "健康", "卫生", "医学", "中医"), Specialty.HEALTH),
    (("文化", "艺术", "文艺", "书法", "绘画", "音乐", "戏曲", "舞蹈", "摄影"), Specialty.CULTURE_ARTS),
    (("教学", "辅导", "教育", "课业", "学业", "家教"), Specialty.TEACHING),
)
_CHECK_RESULTS = {
    "无不良记录": CheckResult.CLEAR, "无": CheckResult.CLEAR, "通过": CheckResult.CLEAR,
    "审查通过": CheckResult.CLEAR, "合格": CheckResult.CLEAR, "正常": CheckResult.CLEAR,
    "无违法犯罪记录": CheckResult.CLEAR, "无犯罪记录": CheckResult.CLEAR, "良好": CheckResult.CLEAR,
    "有不良记录": CheckResult.FLAGGED, "有": CheckResult.FLAGGED, "不通过": CheckResult.FLAGGED,
    "未通过": CheckResult.FLAGGED, "不合格": CheckResult.FLAGGED, "有违法犯罪记录": CheckResult.FLAGGED,
    "有犯罪记录": CheckResult.FLAGGED,
}  # fmt: skip
_STATUSES = {
    "在岗": Status.ACTIVE, "正常": Status.ACTIVE, "在职": Status.ACTIVE, "在册": Status.ACTIVE,
    "申请中": Status.APPLYING, "待审核": Status.APPLYING,
    "暂停": Status.SUSPENDED, "暂停服务": Status.SUSPENDED,
    "退出": Status.WITHDRAWN, "已退出": Status.WITHDRAWN,
    "已故": Status.DECEASED, "去世": Status.DECEASED, "已去世": Status.DECEASED, "病故": Status.DECEASED,
    "逝世": Status.DECEASED,
}  # fmt: skip
_CHINESE_NUMBERS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                    "九": 9, "十": 10}  # fmt: skip

# Availability: 周六上午、周日全天、工作日晚上、不限. Day words and day-part words, read left to right.
_DAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
                "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}  # fmt: skip
_DAY_PREFIX = r"(?:周|星期|礼拜)"
_DAY_CHARACTER = "[一二三四五六日天七1-7]"
_AVAILABILITY_TOKENS = re.compile(
    rf"{_DAY_PREFIX}(?P<first>{_DAY_CHARACTER})\s*(?:至|到|~|～|-|—|－)\s*{_DAY_PREFIX}?(?P<last>{_DAY_CHARACTER})"
    rf"|(?:每)?{_DAY_PREFIX}(?P<day>{_DAY_CHARACTER})"
    r"|(?P<weekdays>工作日|平日|非周末)"
    r"|(?P<weekend>周末|双休日|休息日|节假日)"  # the bit set has no holidays: 节假日 counts as the weekend
    r"|(?P<every_day>每天|每日|天天|全周)"
    r"|(?P<morning>上午|早上|上半天)"
    r"|(?P<afternoon>下午|下半天)"
    r"|(?P<evening>晚上|晚间|夜间|傍晚)"
    r"|(?P<daytime>白天|日间)"
    r"|(?P<whole_day>全天|整天|一整天)"
    r"|(?P<filler>[、，,;；/／|｜\s和及与或]+|均可|都可以|都可|皆可|可以|可|有空|时间|的|每周)"
    r"|(?P<bare>[一二三四五六日])"  # 周二、四下午: a day without 周, right after another day
)
# A whole cell saying "any time"; and the words that say it inside a longer text (周六上午、不限).
_ANY_TIME = {
    "不限",
    "随时",
    "任何时间",
    "时间不限",
    "均可",
    "都可以",
    "都可",
    "皆可",
    "全部",
    "全天候",
    "无限制",
}
_ANY_TIME_WORDS = ("全天候", "任何时间", "时间不限", "无限制", "不限", "随时")
_PART_WORDS = {"morning": {0}, "afternoon": {1}, "evening": {2}, "daytime": {0, 1}, "whole_day": {0, 1, 2}}
_WEEK = tuple(range(7))
_PARTS = (0, 1, 2)


# --- Reading cells -------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _tokens(text: str) -> list[str]:
    """The parts of a multi-value cell, split on 、，,;/ and spaces, normalised for comparison."""
    parts = re.split(f"[{re.escape(_SEPARATORS)}\\s]+", _fold(text))
    return [normalise_label(part) for part in parts if part.strip()]


def parse_categories(text: str) -> int:
    """五老 category bits from a cell such as "老干部、老教师" (or 老干部老教师, 退役军人)."""
    bits = 0
    for token in _tokens(text):
        words = _CATEGORY_PATTERN.findall(token)
        if not words or "".join(words) != token:
            known = "、".join(str(label) for label in ELDER_CATEGORY_LABELS.values())
            raise FieldError(
                "categories",
                "category_unknown",
                _("无法识别的五老类别“%(token)s”，可填：%(known)s") % {"token": token[:20], "known": known},
            )
        for word in words:
            bits |= _CATEGORY_WORDS[word]
    return bits


def parse_specialties(text: str) -> int:
    """Specialty bits: each part of the cell by its key word (退休律师 → 法律, 书法 → 文化艺术)."""
    bits = 0
    for token in _tokens(text):
        matched = [flag for words, flag in _SPECIALTY_WORDS if any(word in token for word in words)]
        if not matched:
            known = "、".join(str(label) for label in SPECIALTY_LABELS.values())
            raise FieldError(
                "specialties",
                "specialty_unknown",
                _("无法识别的专长“%(token)s”，可填：%(known)s") % {"token": token[:20], "known": known},
            )
        bits |= matched[0]
    return bits


def parse_availability(text: str) -> int:
    """The availability bits of a cell such as "周六上午、周日全天" or "工作日晚上" or "不限".

    Read left to right: days gather until a part of the day follows and then share it (周六、周日上午 is
    both mornings; 周一上午、下午 is Monday morning and afternoon); days without a part are whole days,
    a part without days is every day's (上午 is every morning). Anything else is an error."""
    folded = _fold(text)
    if not folded:
        return 0
    if normalise_label(folded) in _ANY_TIME:
        return ALL_AVAILABILITY
    groups: list[tuple[set[int], set[int]]] = []
    days: set[int] = set()
    parts: set[int] = set()
    position = 0
    any_time = False
    after_day = False
    while position < len(folded):
        word = next((word for word in _ANY_TIME_WORDS if folded.startswith(word, position)), None)
        if word is not None:
            any_time, position = True, position + len(word)
            continue
        match = _AVAILABILITY_TOKENS.match(folded, position)
        if match is None:
            raise _availability_error(folded)
        position = match.end()
        kind = match.lastgroup
        found_days: set[int] = set()
        if match.group("first") is not None:
            first, last = _DAY_NUMBERS[match.group("first")], _DAY_NUMBERS[match.group("last")]
            if last < first:
                raise _availability_error(folded)
            found_days = set(range(first, last + 1))
        elif kind == "day":
            found_days = {_DAY_NUMBERS[match.group("day")]}
        elif kind == "bare":
            if not after_day:
                raise _availability_error(folded)
            found_days = {_DAY_NUMBERS[match.group("bare")]}
        elif kind == "weekdays":
            found_days = {0, 1, 2, 3, 4}
        elif kind == "weekend":
            found_days = {5, 6}
        elif kind == "every_day":
            found_days = set(_WEEK)
        elif kind in _PART_WORDS:
            parts |= _PART_WORDS[kind]
            after_day = False
            continue
        else:  # a separator or a word that adds nothing (可、均可、时间)
            continue
        after_day = True
        if parts:  # days after a part of the day start a new group
            groups.append((days, parts))
            days, parts = set(), set()
        days |= found_days
    if days or parts:
        groups.append((days, parts))
    if any_time:
        return ALL_AVAILABILITY
    if not groups:
        raise _availability_error(folded)
    bits = 0
    for group_days, group_parts in groups:
        for day in group_days or _WEEK:
            for part in group_parts or _PARTS:
                bits |= availability_bit(day, part)
    return bits


def _availability_error(text: str) -> FieldError:
    return FieldError(
        "availability",
        "availability_invalid",
        _("可服务时间“%(text)s”无法识别，请写成“周六上午、周日全天”“工作日晚上”或“不限”")
        % {"text": text[:30]},
    )


def parse_max_children(value: CellValue) -> int | None:
    """A whole number of children, 0 to 20: 3, 3.0, "3", "3人", "三"."""
    if is_empty(value):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = int(value) if float(value).is_integer() else None
    else:
        text = _fold(cell_text(value)).rstrip("人名个")
        if text.isascii() and text.isdigit():
            number = int(text)
        elif text in _CHINESE_NUMBERS:
            number = _CHINESE_NUMBERS[text]
    if number is None or not 0 <= number <= MAX_CHILDREN_LIMIT:
        raise FieldError(
            "max_children",
            "max_children_invalid",
            _("最多结对人数应为 0 到 %(limit)d 的整数") % {"limit": MAX_CHILDREN_LIMIT},
        )
    return number


def _choice(text: str, choices: Mapping[str, Any], *, key: str, labels: Iterable[object]) -> str | None:
    if not text:
        return None
    choice = choices.get(normalise_label(_fold(text)))
    if choice is None:
        known = "、".join(str(label) for label in labels)
        raise FieldError(
            key,
            f"{key}_invalid",
            _("无法识别“%(text)s”，应为：%(known)s") % {"text": text[:20], "known": known},
        )
    return str(choice)


# --- One row ---------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A valid row, ready to be matched and written."""

    number: int
    values: dict[str, Any]  # Volunteer field → value, for the columns the file has
    id_number: str
    region_id: str
    id_index: str | None = None


class RowReader(RosterRowReader):
    """Turns one data row into model values, or into the list of its errors."""

    labels = FIELD_LABELS
    missing_village_message = gettext_lazy("请填写村（社区）")

    def read(self, row: SourceRow) -> tuple[_Prepared | None, list[RowError]]:
        cells, number = row.cells, row.number
        errors: list[RowError] = []

        def attempt(key: str, parse: Callable[[], Any]) -> Any:
            try:
                return parse()
            except FieldError as problem:
                # The column the problem is in: 乡镇（街道） for a township not found while reading 村.
                column_key = problem.field if problem.field in self.columns else key
                errors.append(self.error(number, problem, column_key))
                return None

        name = "".join(self.text(cells, "name").split())
        if not name:
            errors.append(self.error(number, FieldError("name", "name_required", _("请填写姓名")), "name"))
        elif len(name) > NAME_MAX_LENGTH:
            errors.append(
                self.error(number, FieldError("name", "name_too_long", _("姓名不能超过 50 个字")), "name")
            )
        id_number = attempt("id_number", lambda: self._id_number(self.cell(cells, "id_number")))
        birth = attempt("birth_date", lambda: parse_date(self.cell(cells, "birth_date"), field="birth_date"))
        gender = attempt(
            "gender", lambda: _choice(self.text(cells, "gender"), _GENDERS, key="gender", labels=("男", "女"))
        )
        phone = attempt("phone", lambda: clean_phone(self.text(cells, "phone")))
        categories = attempt("categories", lambda: parse_categories(self.text(cells, "categories")))
        specialties = attempt("specialties", lambda: parse_specialties(self.text(cells, "specialties")))
        availability = attempt("availability", lambda: parse_availability(self.text(cells, "availability")))
        max_children = attempt("max_children", lambda: parse_max_children(self.cell(cells, "max_children")))
        check_date = attempt(
            "check_date", lambda: parse_date(self.cell(cells, "check_date"), field="check_date")
        )
        check_result = attempt(
            "check_result",
            lambda: _choice(
                self.text(cells, "check_result"),
                _CHECK_RESULTS,
                key="check_result",
                labels=CheckResult.labels,
            ),
        )
        status = attempt(
            "status",
            lambda: _choice(self.text(cells, "status"), _STATUSES, key="status", labels=Status.labels),
        )
        village = attempt("village", lambda: self._village(cells))
        licence = self.text(cells, "law_licence_number").replace(" ", "")
        certificate = self.text(cells, "psychology_certificate")
        if specialties and specialties & Specialty.LAW and not licence:
            errors.append(
                self.error(
                    number,
                    FieldError("law_licence_number", "law_licence_missing", _("法律专长须填写律师执业证号")),
                    "law_licence_number" if "law_licence_number" in self.columns else "specialties",
                )
            )
        elif len(licence) > LICENCE_MAX_LENGTH:
            errors.append(
                self.error(
                    number,
                    FieldError(
                        "law_licence_number",
                        "law_licence_too_long",
                        _("律师执业证号不能超过 %(n)d 个字符") % {"n": LICENCE_MAX_LENGTH},
                    ),
                )
            )
        if specialties and specialties & Specialty.PSYCHOLOGY and not certificate:
            errors.append(
                self.error(
                    number,
                    FieldError(
                        "psychology_certificate",
                        "psychology_certificate_missing",
                        _("心理专长须填写心理咨询资质证书"),
                    ),
                    "psychology_certificate" if "psychology_certificate" in self.columns else "specialties",
                )
            )
        elif len(certificate) > CERTIFICATE_MAX_LENGTH:
            errors.append(
                self.error(
                    number,
                    FieldError(
                        "psychology_certificate",
                        "psychology_certificate_too_long",
                        _("心理咨询资质证书不能超过 %(n)d 个字") % {"n": CERTIFICATE_MAX_LENGTH},
                    ),
                )
            )
        if errors:
            return None, errors

        try:
            birth_date, gender_value = self._reconcile(id_number, birth, gender)
            if birth_date > self.today or age_on(birth_date, self.today) < MIN_AGE:
                raise FieldError("birth_date", "too_young", _("志愿者须年满 %(age)d 周岁") % {"age": MIN_AGE})
            checked_on = check_date[0] if check_date is not None else None
            if checked_on is not None and checked_on > self.today:
                raise FieldError("check_date", "check_in_future", _("背景审查日期不能晚于今天"))
            if checked_on is not None and check_date is not None and not check_date[1]:
                raise FieldError("check_date", "check_date_incomplete", _("背景审查日期须写到日"))
            if bool(checked_on) != bool(check_result):
                raise FieldError(
                    "check_result" if checked_on else "check_date",
                    "check_incomplete",
                    _("背景审查日期与结果须同时填写"),
                )
        except FieldError as problem:
            key = problem.field
            if key in ("birth_date", "gender") and is_empty(self.cell(cells, key)):
                key = "id_number"  # the value came from the ID number: that is the cell to look at
            return None, [self.error(number, problem, key)]

        values: dict[str, Any] = {
            "name": name,
            "birth_date": birth_date,
            "gender": gender_value,
            "region_id": village.code,
        }
        if phone:
            values["phone"] = phone
        if self.text(cells, "categories"):
            values["categories"] = categories
        if self.text(cells, "specialties"):
            values["specialties"] = specialties
            values["law_licence_number"] = licence if specialties & Specialty.LAW else ""
            values["psychology_certificate"] = certificate if specialties & Specialty.PSYCHOLOGY else ""
        if availability:
            values["availability"] = availability
        if max_children is not None:
            values["max_children"] = max_children
        if checked_on is not None:
            values.update(check_date=checked_on, check_result=check_result)
        for key, limit in TEXT_LIMITS.items():
            text = self.text(cells, key)
            if text:
                values[key] = text[:limit]
        if status:
            values["status"] = status
            values["status_reason"] = self.text(cells, "status_reason")[:STATUS_REASON_MAX_LENGTH]
        return _Prepared(number, values, id_number, village.code), []

    # The pieces ----------------------------------------------------------------------------------------

    def _id_number(self, value: CellValue) -> str:
        if is_empty(value):
            raise FieldError(
                "id_number", "id_number_required", _("请填写身份证号：导入的志愿者以身份证号识别")
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Stored as a number: Excel keeps 15 significant digits, the last ones of an 18-digit ID
            # number are gone (3.30127195603120E+17). Refused, never guessed.
            return clean_id_number(f"{float(value):E}")
        return clean_id_number(cell_text(value))

    def _reconcile(
        self, id_number: str, birth: tuple[datetime.date, bool] | None, gender: str | None
    ) -> tuple[datetime.date, str]:
        if birth is not None and not birth[1]:  # a year and month only: compared as such
            reconciled = reconcile_with_id(id_number, None, gender)
            if (reconciled[0].year, reconciled[0].month) != (birth[0].year, birth[0].month):
                reconcile_with_id(id_number, birth[0], gender)  # raises the shared mismatch error
            return reconciled
        return reconcile_with_id(id_number, birth[0] if birth else None, gender)


# --- The batch writer -------------------------------------------------------------------------------------


class BatchWriter(RosterBatchWriter[_Prepared, Volunteer]):
    """Matches prepared rows with the volunteers on record and writes them, a chunk at a time."""

    model = Volunteer
    ambiguous_message = gettext_lazy("库中有多名同名、同出生日期、同村且无身份证号的志愿者，请先核实合并")
    same_record_message = gettext_lazy("与本表前面的行是同一名志愿者")
    derived_fields = {
        "id_number": frozenset({"id_number_index"}),
        "phone": frozenset({"phone_index"}),
        "name": frozenset({"name_pinyin", "name_initials"}),
    }

    def write(self, chunk: list[_Prepared]) -> None:
        created: list[Volunteer] = []
        changed: list[Volunteer] = []
        changed_fields: set[str] = set()
        for row, existing in self.match(chunk):
            if existing is None:
                created.append(self.new_volunteer(row))
                continue
            fields = self.apply(existing, row)
            if fields is None:
                continue  # refused
            if fields:
                self.mark_changed(existing)
                changed.append(existing)
                changed_fields.update(fields)
            else:
                self.result.unchanged += 1
        self.save(created, changed, changed_fields)

    def new_volunteer(self, row: _Prepared) -> Volunteer:
        values = dict(row.values)
        status = values.pop("status", Status.ACTIVE)
        reason = values.pop("status_reason", "")
        if status not in (Status.ACTIVE, Status.APPLYING) and not reason:
            reason = _("名册导入时登记为%(status)s") % {"status": Status(status).label}
        volunteer = Volunteer(
            **values,
            id_number=row.id_number,
            status=status,
            status_reason=reason if status not in (Status.ACTIVE, Status.APPLYING) else "",
            status_changed_on=self.today,
            joined_on=None if status == Status.APPLYING else self.today,
            source=Source.IMPORT,
            created_by=self.user,
        )
        volunteer.name_pinyin, volunteer.name_initials = pinyin_forms(volunteer.name)
        volunteer.created_at = volunteer.updated_at = self.now
        return volunteer

    def apply(self, volunteer: Volunteer, row: _Prepared) -> list[str] | None:
        """Set the row's values on the record; the names of the fields that changed, or None when the
        row is refused (a change of status the record may not make, fewer places than children)."""
        values = dict(row.values)
        values["id_number"] = row.id_number
        status = values.pop("status", None)
        reason = values.pop("status_reason", "")
        if "max_children" in values and values["max_children"] < volunteer.paired_count:
            self.refuse(
                row,
                "max_children_below_paired",
                _("已有 %(n)d 名结对儿童，最多结对人数不能更少") % {"n": volunteer.paired_count},
                key="max_children",
            )
            return None
        changed: list[str] = []
        if status is not None and status != volunteer.status:
            if status not in STATUS_CHANGES.get(volunteer.status, frozenset()):
                self.refuse(
                    row,
                    "status_change_not_allowed",
                    _("状态不能从“%(old)s”改为“%(new)s”")
                    % {"old": Status(volunteer.status).label, "new": Status(status).label},
                    key="status",
                )
                return None
            leaves = status not in (Status.ACTIVE, Status.APPLYING)
            values.update(
                status=status,
                status_reason=(reason or _("名册导入时登记为%(status)s") % {"status": Status(status).label})
                if leaves
                else "",
                status_changed_on=self.today,
            )
            if status == Status.ACTIVE and volunteer.joined_on is None:
                values["joined_on"] = self.today
        for key, value in values.items():
            if getattr(volunteer, key) != value:
                setattr(volunteer, key, value)
                changed.append(key)
        if "name" in changed:
            volunteer.name_pinyin, volunteer.name_initials = pinyin_forms(volunteer.name)
        return changed


# --- The service ----------------------------------------------------------------------------------------

VOLUNTEER_ROSTER = RosterKind(
    name=IMPORT_KIND,
    permission=Permission.VOLUNTEER_IMPORT,
    audit_action="volunteers.import",
    fields=FIELDS,
    ignored_headers=IGNORED_HEADERS,
    reader=lambda layout, region, today: RowReader(layout, VillageResolver(region), today=today),
    writer=BatchWriter,
)


def volunteer_roster_import(**options: Unpack[RosterImportOptions]) -> ImportResult:
    """Import a roster of volunteers into `region_code` (a county, township or village); the actor needs
    volunteers.import and the region in scope (None for a command). The options: `run_roster_import`."""
    return run_roster_import(VOLUNTEER_ROSTER, **options)
