"""The registry's rules, as pure functions the register form, the API and the roster import share.

Each raises FieldError(field, code, message) with a Chinese message; callers turn it into their face
(a form error, an API `fields` entry, an import report row).
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from guanai.minors.vocabulary import Category, Gender

ADULT_AGE = 18
LEFT_BEHIND_MAX_AGE = 16  # 国发〔2016〕13号: 农村留守儿童 are under 16
MOBILE = re.compile(r"1[0-9]{10}")
# A landline with its area code: 0571-65012345, 0571 65012345, (0571)65012345, 057165012345.
LANDLINE = re.compile(r"\(?0[1-9][0-9]{1,2}\)?[- ]?[2-9][0-9]{6,7}(-[0-9]{1,5})?")
FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＸｘＡＢＣＤＥＦａｂｃｄｅｆ－（）　", "0123456789XxABCDEFabcdef-() "
)


@dataclass
class FieldError(Exception):
    field: str
    code: str
    message: str


def clean_id_number(raw: str) -> str:
    """An ID number as people write it (full-width digits, a lowercase x, spaces, a leading apostrophe)
    made canonical and checked with stdnum.cn.ric: checksum, birth date and a real birth-place code."""
    value = raw.translate(FULL_WIDTH).strip().lstrip("'").replace(" ", "").upper()
    if re.fullmatch(r"[0-9.]+E\+?[0-9]+", value):
        # Excel turned the number into 3.30127201001E+17: digits are lost, never guess them.
        raise FieldError(
            "id_number",
            "id_number_scientific",
            _("身份证号被 Excel 存成了科学计数法，末几位已丢失，请将该列设为文本后重新填写"),
        )
    try:
        return _validated_ric(value)
    except StdnumError as error:
        reasons = {
            "InvalidLength": _("身份证号应为 18 位"),
            "InvalidFormat": _("身份证号格式不正确"),
            "InvalidChecksum": _("身份证号校验位不正确"),
            "InvalidComponent": _("身份证号中的出生日期或地区代码不正确"),
        }
        message = reasons.get(type(error).__name__, _("身份证号不正确"))
        raise FieldError("id_number", "id_number_invalid", str(message)) from error


def _validated_ric(value: str) -> str:
    """`stdnum.cn.ric.validate`, step by step, with the birth-place lookup remembered per county code
    and birth year: stdnum searches its code list for every number (~65 µs), a roster import checks
    100,000 numbers from a few dozen counties."""
    number = ric.compact(value)
    if len(number) != 18:
        raise InvalidLength()
    if not number[:-1].isascii() or not number[:-1].isdigit():
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    birth_date = ric.get_birth_date(number)
    if not _is_birth_place(number[:6], birth_date.year):
        raise InvalidComponent()
    return number


@functools.lru_cache(maxsize=4096)
def _is_birth_place(county: str, year: int) -> bool:
    """stdnum's list of county codes, or — for counties newer than that list (临平区 330113 and
    钱塘区 330114 of 2021) — a county of the loaded 统计用区划代码."""
    try:
        ric.get_birth_place(f"{county}{year:04d}0101" + "0000")
    except (StdnumError, KeyError):
        return _is_loaded_county(county)
    return True


@functools.lru_cache(maxsize=1024)
def _is_loaded_county(county: str) -> bool:
    from guanai.core.region_codes import RegionLevel
    from guanai.regions.models import Region

    return Region.objects.filter(code=county.ljust(12, "0"), level=RegionLevel.COUNTY).exists()


def id_birth_date(id_number: str) -> datetime.date:
    return ric.get_birth_date(id_number)


def id_gender(id_number: str) -> Gender:
    """The 17th digit: odd for men, even for women (GB 11643-1999)."""
    return Gender.MALE if int(id_number[16]) % 2 == 1 else Gender.FEMALE


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def reconcile_with_id(
    id_number: str | None, birth_date: datetime.date | None, gender: str | None
) -> tuple[datetime.date, str]:
    """Birth date and gender follow from the ID number; a different one given alongside it is an error
    on that field. Without an ID number both must be given."""
    if id_number:
        derived_birth, derived_gender = id_birth_date(id_number), id_gender(id_number)
        if birth_date is not None and birth_date != derived_birth:
            raise FieldError(
                "birth_date",
                "birth_date_mismatch",
                _("出生日期与身份证号不一致（身份证号为 %(date)s）") % {"date": derived_birth.isoformat()},
            )
        if gender and gender != derived_gender:
            raise FieldError(
                "gender",
                "gender_mismatch",
                _("性别与身份证号不一致（身份证号为%(gender)s）") % {"gender": derived_gender.label},
            )
        return derived_birth, str(derived_gender)
    if birth_date is None:
        raise FieldError("birth_date", "birth_date_required", _("没有身份证号时须填写出生日期"))
    if not gender:
        raise FieldError("gender", "gender_required", _("没有身份证号时须填写性别"))
    return birth_date, gender


def check_age(birth_date: datetime.date, categories: int, *, today: datetime.date) -> None:
    if birth_date > today:
        raise FieldError("birth_date", "birth_date_future", _("出生日期不能晚于今天"))
    age = age_on(birth_date, today)
    if age >= ADULT_AGE:
        raise FieldError("birth_date", "not_a_minor", _("已满 18 周岁，不能登记为未成年人"))
    if categories & Category.LEFT_BEHIND and age >= LEFT_BEHIND_MAX_AGE:
        raise FieldError(
            "categories",
            "left_behind_too_old",
            _("农村留守儿童须未满 16 周岁（现年 %(age)d 岁）") % {"age": age},
        )


def clean_phone(raw: str, *, field: str = "phone") -> str:
    """A mobile number (11 digits starting with 1) or a landline with its area code."""
    value = raw.translate(FULL_WIDTH).strip().replace(" ", "")
    if not value:
        return ""
    if value.startswith("+86"):
        value = value[3:]
    if MOBILE.fullmatch(value):
        return value
    if value.isdigit() and len(value) == 11:
        raise FieldError(field, "mobile_invalid", _("手机号码应为以 1 开头的 11 位数字"))
    if LANDLINE.fullmatch(value):
        return value
    if value.isdigit() and len(value) in {7, 8}:
        raise FieldError(field, "landline_without_area_code", _("固定电话须带区号，如 0571-65012345"))
    raise FieldError(field, "phone_invalid", _("电话号码格式不正确：手机为 11 位数字，固定电话须带区号"))
