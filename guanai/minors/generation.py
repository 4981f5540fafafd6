"""A synthetic province of children, for benchmarks and demos — never for tests' expectations.

`generate_minors` spreads made-up children over the real villages of a region: valid resident ID numbers
whose birth-place code is the village's real county (as `stdnum.cn.ric` knows it for the birth year),
birth date and gender that agree with the ID, Chinese names with their pinyin, the target groups of
DOMAIN.md §3 at plausible rates and under their rules (农村留守儿童 only under 16 with a rural household),
guardians, consent records, school and grade by age, and yearly verification dates of which some are
overdue. The same seed, region, date and database state give the same children.

Every record is made up; none may enter a real registry (the command refuses unless told otherwise).
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from guanai.core import region_codes
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import ADULT_AGE, LEFT_BEHIND_MAX_AGE
from guanai.minors.vocabulary import (
    Category,
    ConsentScope,
    Gender,
    HouseholdType,
    Need,
    RiskLevel,
    SpecialKind,
    Status,
)
from guanai.regions.models import Region

NOTICE_VERSION = "2024-1"
# The set of ID numbers already stored is asked in chunks below SQLite's parameter limit.
_LOOKUP_CHUNK = 900
_INSERT_CHUNK = 1000

# --- Reference tables ---------------------------------------------------------------------------------

# Common surnames in Zhejiang with rough weights. Surnames read differently from their common reading
# (曾 zēng, 单 shàn, 解 xiè, 区 ōu, 乐 yuè, 查 zhā, 仇 qiú, 朴 piáo) are left out: pypinyin reads
# them as ordinary characters, so their stored pinyin would be wrong.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.5), ("陈", 7.0), ("张", 5.0), ("李", 4.5), ("吴", 3.5), ("徐", 3.2), ("周", 3.0),
    ("朱", 2.5), ("黄", 2.3), ("杨", 2.2), ("林", 2.0), ("金", 1.8), ("胡", 1.8), ("叶", 1.7),
    ("何", 1.5), ("刘", 1.5), ("潘", 1.3), ("方", 1.3), ("郑", 1.3), ("孙", 1.2), ("赵", 1.2),
    ("钱", 1.0), ("蒋", 1.0), ("沈", 1.0), ("许", 0.9), ("俞", 0.9), ("应", 0.8), ("汪", 0.8),
    ("吕", 0.8), ("姚", 0.7), ("项", 0.6), ("楼", 0.6), ("邵", 0.6), ("程", 0.6), ("马", 0.6),
    ("高", 0.6), ("罗", 0.6), ("谢", 0.6), ("余", 0.6), ("章", 0.6), ("陆", 0.5), ("傅", 0.5),
    ("童", 0.5), ("宋", 0.5), ("施", 0.5), ("毛", 0.5), ("戴", 0.5), ("蔡", 0.5), ("丁", 0.5),
    ("夏", 0.4), ("洪", 0.4), ("卢", 0.4), ("姜", 0.4), ("范", 0.4), ("严", 0.4), ("袁", 0.4),
    ("邱", 0.4), ("鲍", 0.3), ("杜", 0.3), ("魏", 0.3), ("任", 0.3), ("欧阳", 0.05), ("诸葛", 0.02),
)  # fmt: skip
BOY_CHARACTERS = "浩宇轩博文俊杰睿泽明辉晨阳天佑一鸣航宸铭豪逸凯皓鑫宏志强伟鹏磊健嘉诚思源昊然辰瑞霖子涵"
GIRL_CHARACTERS = "欣怡雨梓萱诗琪佳悦婷雅静思彤可馨紫慧妍淑语涵若曦依诺晓梦瑶琳菲璐颖心月蕊嘉子"
MAN_CHARACTERS = "建国伟军明华平强林忠海东福根荣金水法德良勇峰志新红春"
WOMAN_CHARACTERS = "美芳英兰秀珍娟红霞萍琴燕丽凤花娥仙月玲素云菊"

# Ages 0–17: fewer infants and toddlers are registered than school children.
AGE_WEIGHTS = (2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 5)
SPECIAL_MIN_AGE = 12

# Where the parents of 新居民子女 come from (province prefix, weight), and where left-behind children's
# parents work.
MIGRANT_PROVINCES: tuple[tuple[str, float], ...] = (
    ("34", 30), ("36", 12), ("52", 12), ("41", 10), ("51", 10), ("43", 6), ("42", 6),
    ("50", 5), ("53", 5), ("45", 4),
)  # fmt: skip
WORK_PLACES = ("上海", "杭州", "宁波", "苏州", "深圳", "广州", "义乌", "温州", "北京", "南京", "昆山", "东莞")
ZHEJIANG_AREA_CODES = {
    "3301": "0571", "3302": "0574", "3303": "0577", "3304": "0573", "3305": "0572", "3306": "0575",
    "3307": "0579", "3308": "0570", "3309": "0580", "3310": "0576", "3311": "0578",
}  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "157", "158", "159", "176", "177", "180", "181", "182", "183", "187", "188", "189", "198", "199",
)  # fmt: skip

UNSUPPORTED_SITUATIONS = (
    "服刑（2022年5月起，刑期8年）",
    "服刑（2023年9月起，刑期5年）",
    "强制隔离戒毒（2025年3月起，期限2年）",
    "重度残疾（肢体一级）",
    "重病（尿毒症，长期透析）",
    "失联（2021年起）",
)
PARENT_ABSENT_SITUATIONS = ("死亡", "失联（2020年起）")
ONE_PARENT_UNABLE = (
    "重病（长期卧床）",
    "精神残疾二级，无监护能力",
    "离异后失联",
    "服刑（2024年起，刑期6年）",
)
DISABILITIES = ("肢体残疾三级", "智力残疾二级", "听力残疾二级", "视力残疾一级", "孤独症（精神残疾二级）")
HARDSHIP_TYPES = ("低保", "低边", "特困供养", "因病致贫（监测户）", "因残致贫")
GUARDIANSHIP_PROBLEMS = (
    "父母离异后均未履行监护职责",
    "曾遭受家庭暴力，民政部门已介入",
    "父母长期不管不问，由邻居照看",
)
ILLNESSES = ("祖母患高血压、糖尿病", "父亲患慢性肾病", "本人患先天性心脏病", "母亲患乳腺癌，术后康复中")
MEDIUM_RISKS = (
    "监护人年老体弱，照护能力有限",
    "学习困难，有厌学情绪",
    "父母长期在外，亲子沟通少",
    "家庭经济困难，营养状况一般",
)
HIGH_RISKS = (
    "长期独自居住，无人照护",
    "有辍学倾向，多次旷课",
    "情绪低落，曾有自伤行为，需心理干预",
    "存在家庭暴力风险",
)
CLOSE_REASONS = ("已迁出本省", "家庭经济状况好转，不再符合帮扶条件")
OTHER_ETHNICITIES = ("土家族", "苗族", "布依族", "回族", "彝族")

# stdnum.cn.ric checks the birth-place code against the counties that existed in the birth year. Where a
# county of the 2023 codes is newer than the child (or unknown to stdnum), children born there carry
# the code of the county it was made from.
BIRTHPLACE_PREDECESSORS: dict[str, tuple[str, ...]] = {
    "330111": ("330183",),  # 富阳区, 富阳市 until 2014
    "330112": ("330185",),  # 临安区, 临安市 until 2017
    "330113": ("330110",),  # 临平区, split from 余杭区 in 2021
    "330114": ("330104", "330109"),  # 钱塘区, from 江干区 (下沙) and 萧山区 (大江东) in 2021
    "330213": ("330283",),  # 奉化区, 奉化市 until 2016
    "330305": ("330322",),  # 洞头区, 洞头县 until 2015
    "330383": ("330327",),  # 龙港市, part of 苍南县 until 2019
    "330603": ("330621",),  # 柯桥区, 绍兴县 until 2013
    "330604": ("330682",),  # 上虞区, 上虞市 until 2013
    "331083": ("331021",),  # 玉环市, 玉环县 until 2017
}


def _weighted_table(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_SURNAME_TOTALS = _weighted_table(weight for _name, weight in SURNAMES)
# 困境儿童 by class: family poverty, own disability, missing or improper guardianship.
PLIGHT_CLASSES = (Category.PLIGHT_POVERTY, Category.PLIGHT_DISABILITY, Category.PLIGHT_GUARDIANSHIP)
_PLIGHT_TOTALS = _weighted_table((5, 3, 2))
_AGE_TOTALS = _weighted_table(AGE_WEIGHTS)


@functools.lru_cache(maxsize=4096)
def stdnum_accepts(code: str, year: int) -> bool:
    """Whether stdnum.cn.ric accepts `code` as the birth place of someone born in `year`."""
    number17 = f"{code}{year:04d}0101001"
    try:
        ric.validate(number17 + ric.calc_check_digit(number17 + "0"))
    except (StdnumError, KeyError):  # stdnum 2.2 raises KeyError for a province-only match (330113)
        return False
    return True


def birthplace_code(county: str, year: int) -> str | None:
    """The six-digit birth-place code of a child born in `year` in `county` (a 6-digit code)."""
    for candidate in (county, *BIRTHPLACE_PREDECESSORS.get(county, ())):
        if stdnum_accepts(candidate, year):
            return candidate
    return None


def id_number_for(birthplace: str, birth_date: datetime.date, sequence: int) -> str:
    """The 18-character ID number (GB 11643-1999): sequence odd for a boy, even for a girl."""
    number17 = f"{birthplace}{birth_date:%Y%m%d}{sequence:03d}"
    return number17 + ric.calc_check_digit(number17 + "0")


# Names repeat a great deal in a province: their pinyin is worked out once per name.
_pinyin_forms = functools.lru_cache(maxsize=200_000)(pinyin_forms)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- The places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Village:
    code: str
    address: str  # 浙江省杭州市淳安县千岛湖镇富城村
    township: str  # 千岛湖镇
    county: str  # 淳安县
    is_rural: bool  # a 村 (village committee), not a 社区 (community)


def _place_name(region: Region | None) -> str:
    if region is None or "直辖" in region.name or region.name == "市辖区":
        return ""
    return region.name


def _villages(region_code: str) -> list[_Village]:
    villages = list(
        Region.objects.within(region_code)
        .filter(level=RegionLevel.VILLAGE)
        .order_by("code")
        .values_list("code", "short_name")
    )
    townships = {region_codes.parent_code(code) or "" for code, _short in villages}
    chains = {township: [*region_codes.ancestor_codes(township), township] for township in townships}
    names = Region.objects.in_bulk({code for chain in chains.values() for code in chain})
    prefixes = {
        township: "".join(_place_name(names.get(code)) for code in chain)
        for township, chain in chains.items()
    }
    result = []
    for code, short in villages:
        township = region_codes.parent_code(code) or ""
        chain = chains[township]
        result.append(
            _Village(
                code=code,
                address=prefixes[township] + short,
                township=_place_name(names.get(township)),
                county=_place_name(names.get(chain[-2])) if len(chain) >= 2 else "",
                is_rural=short.endswith("村"),
            )
        )
    return result


def _migrant_homes() -> dict[str, list[str]]:
    """County codes of the provinces migrant families come from, when the regions are loaded."""
    homes: dict[str, list[str]] = {}
    for prefix, _weight in MIGRANT_PROVINCES:
        codes = list(
            Region.objects.within(prefix.ljust(region_codes.CODE_LENGTH, "0"))
            .filter(level=RegionLevel.COUNTY)
            .order_by("code")
            .values_list("code", flat=True)
        )
        if codes:
            homes[prefix] = codes
    return homes


# --- One child ----------------------------------------------------------------------------------


@dataclass
class _Child:
    minor: Minor
    birthplace: str
    guardians: list[Guardian] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)


class _Generator:
    def __init__(self, *, region_code: str, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.today = today
        self.now = timezone.now()
        self.villages = _villages(region_code)
        if not self.villages:
            raise ValidationFailed(
                _("区划 %(code)s 下没有村（社区）数据：请先运行 python manage.py load_regions")
                % {"code": region_code}
            )
        # More children are registered in a rural village than in an urban community.
        self.village_totals = _weighted_table(3.0 if village.is_rural else 2.0 for village in self.villages)
        self.migrant_homes = _migrant_homes()
        self.migrant_totals = _weighted_table(
            weight for prefix, weight in MIGRANT_PROVINCES if prefix in self.migrant_homes
        )
        self.migrant_prefixes = [
            prefix for prefix, _weight in MIGRANT_PROVINCES if prefix in self.migrant_homes
        ]
        self.used_numbers: set[int] = set()
        self._check_birthplaces()

    def _check_birthplaces(self) -> None:
        years = range(self.today.year - ADULT_AGE, self.today.year + 1)
        counties = {village.code[:6] for village in self.villages}
        unknown = sorted(
            {county for county in counties for year in years if birthplace_code(county, year) is None}
        )
        if unknown:
            raise ValidationFailed(
                _("身份证号校验库不认识这些县级代码，无法生成有效身份证号：%(codes)s")
                % {"codes": "、".join(unknown)}
            )

    # Small helpers for drawing -------------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def weighted(self, totals: list[float]) -> int:
        return bisect.bisect(totals, self.rng.random() * totals[-1])

    def surname(self) -> str:
        return SURNAMES[self.weighted(_SURNAME_TOTALS)][0]

    def given_name(self, characters: str, *, two_characters: float = 0.75) -> str:
        count = 2 if self.chance(two_characters) else 1
        return "".join(self.pick(characters) for _ in range(count))

    def mobile(self) -> str:
        return self.pick(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def phone(self, village: _Village, *, landline: float) -> str:
        area = ZHEJIANG_AREA_CODES.get(village.code[:4])
        if area and self.chance(landline):
            return f"{area}-{self.rng.randint(2, 8)}{self.rng.randrange(10**6, 10**7)}"
        return self.mobile()

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        if last <= first:
            return first
        return first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))

    # The child ----------------------------------------------------------------------------------

    def id_number(self, birthplace: str, birth_date: datetime.date, is_boy: bool) -> str:
        """A sequence number not used yet for this birth place and date (odd for boys, even for girls)."""
        prefix = int(f"{birthplace}{birth_date:%Y%m%d}") * 1000
        for _attempt in range(200):
            sequence = 2 * self.rng.randrange(500) + 1 if is_boy else 2 * self.rng.randrange(1, 500)
            if prefix + sequence not in self.used_numbers:
                self.used_numbers.add(prefix + sequence)
                return id_number_for(birthplace, birth_date, sequence)
        raise RuntimeError(f"no free ID sequence number left for {birthplace} {birth_date}")

    def child(self) -> _Child:
        rng, today = self.rng, self.today
        village = self.villages[self.weighted(self.village_totals)]
        age = self.weighted(_AGE_TOTALS)
        latest = _years_before(today, age)
        birth_date = self.day_between(_years_before(today, age + 1) + datetime.timedelta(days=1), latest)
        is_boy = self.chance(0.53)
        birthplace = birthplace_code(village.code[:6], birth_date.year)
        assert birthplace is not None  # checked for every county and year in __init__
        id_number = self.id_number(birthplace, birth_date, is_boy)

        is_migrant = self.chance(0.14 if village.is_rural else 0.5)
        if is_migrant:
            is_rural_household = self.chance(0.85)
        else:
            is_rural_household = self.chance(0.92 if village.is_rural else 0.3)
        household_region: str | None = village.code
        if is_migrant:
            household_region = None
            if self.migrant_prefixes:
                homes = self.migrant_homes[self.migrant_prefixes[self.weighted(self.migrant_totals)]]
                household_region = homes[rng.randrange(len(homes))]

        surname = self.surname()
        name = surname + self.given_name(BOY_CHARACTERS if is_boy else GIRL_CHARACTERS)
        categories, facts = self.categories(age=age, is_migrant=is_migrant, rural=is_rural_household)
        is_sealed = bool(categories & Category.SPECIAL)
        needs = self.needs(categories)
        risk_level, risk_reason = self.risk(categories)
        school, grade = self.school(age, village)
        pinyin, initials = _pinyin_forms(name)

        status, closed_reason, closed_at = Status.ACTIVE, "", None
        if self.chance(0.02):
            status, closed_reason = Status.CLOSED, self.pick(CLOSE_REASONS)
            closed_at = self.now - datetime.timedelta(
                days=rng.randrange(1, 300), seconds=rng.randrange(86400)
            )
        # Verified within the past 14 months: about one in seven is overdue (more than a year ago).
        verified = max(birth_date, today - datetime.timedelta(days=rng.randrange(425)))
        if village.is_rural:
            address = f"{village.address}{rng.randint(1, 300)}号"
        else:
            building, entrance, floor = rng.randint(1, 40), rng.randint(1, 6), rng.randint(1, 18)
            address = f"{village.address}{building}幢{entrance}单元{floor}0{rng.randint(1, 4)}室"
        ethnicity = "汉族"
        if self.chance(0.02):
            ethnicity = "畲族" if not is_migrant else self.pick(OTHER_ETHNICITIES)

        minor = Minor(
            name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            gender=Gender.MALE if is_boy else Gender.FEMALE,
            birth_date=birth_date,
            ethnicity=ethnicity,
            id_number=id_number,
            household_region_id=household_region,
            household_type=HouseholdType.RURAL if is_rural_household else HouseholdType.URBAN,
            region_id=village.code,
            address=address,
            school=school,
            grade=grade,
            categories=categories,
            special_kind=(self.pick(SpecialKind.values) if is_sealed else ""),
            facts=facts,
            needs=needs,
            risk_level=risk_level,
            risk_reason=risk_reason,
            status=status,
            closed_reason=closed_reason,
            closed_at=closed_at,
            last_verified_on=verified,
            is_sealed=is_sealed,
        )
        child = _Child(minor=minor, birthplace=birthplace)
        child.guardians = self.guardians(minor, surname, categories, facts, village)
        if self.chance(0.9):
            child.consents = [self.consent(minor, age, child.guardians[0], verified)]
        return child

    def categories(self, *, age: int, is_migrant: bool, rural: bool) -> tuple[int, dict[str, str]]:
        """Every registered child is in at least one group, some in several. Left-behind children and
        新居民子女 are about two thirds; the others are in plight, de-facto unsupported or in hardship."""
        categories = 0
        facts: dict[str, str] = {}
        if rural and not is_migrant and age < LEFT_BEHIND_MAX_AGE and self.chance(0.73):
            categories |= Category.LEFT_BEHIND
            if self.chance(0.7):
                facts["father_situation"] = f"在{self.pick(WORK_PLACES)}务工"
                facts["mother_situation"] = f"在{self.pick(WORK_PLACES)}务工"
            else:
                away, other = ("father", "mother") if self.chance(0.6) else ("mother", "father")
                facts[f"{away}_situation"] = f"在{self.pick(WORK_PLACES)}务工"
                facts[f"{other}_situation"] = self.pick(ONE_PARENT_UNABLE)
        elif is_migrant:
            categories |= Category.MIGRANT
            facts["other"] = "父母在本地务工，户籍在外省"
        if categories:
            if self.chance(0.04):
                categories |= self.plight(facts)
            if self.chance(0.03):
                categories |= self.hardship(facts)
        else:
            roll = self.rng.random()
            if roll < 0.38:
                categories |= self.plight(facts)
                if categories & Category.PLIGHT_POVERTY and self.chance(0.3):
                    categories |= self.hardship(facts)
            elif roll < 0.466:
                categories |= self.unsupported(facts)
                if self.chance(0.2):
                    categories |= self.hardship(facts)
            else:
                categories |= self.hardship(facts)
        if age >= SPECIAL_MIN_AGE and self.chance(0.028):
            categories |= Category.SPECIAL
        return categories, facts

    def plight(self, facts: dict[str, str]) -> int:
        """困境儿童 of one class, now and then of two (国发〔2016〕36号)."""
        classes = {PLIGHT_CLASSES[self.weighted(_PLIGHT_TOTALS)]}
        if self.chance(0.1):
            classes.add(PLIGHT_CLASSES[self.rng.randrange(len(PLIGHT_CLASSES))])
        if Category.PLIGHT_POVERTY in classes:
            facts["hardship_type"] = self.pick(HARDSHIP_TYPES[:3])
        if Category.PLIGHT_DISABILITY in classes:
            facts["disability_grade"] = self.pick(DISABILITIES)
        if Category.PLIGHT_GUARDIANSHIP in classes:
            facts["other"] = self.pick(GUARDIANSHIP_PROBLEMS)
        return int(sum(classes))

    def unsupported(self, facts: dict[str, str]) -> int:
        """Both parents in the set, or one dead or missing and the other in it (民发〔2019〕62号)."""
        first = self.pick(UNSUPPORTED_SITUATIONS + PARENT_ABSENT_SITUATIONS)
        second = self.pick(UNSUPPORTED_SITUATIONS)
        facts["father_situation"], facts["mother_situation"] = (
            (first, second) if self.chance(0.5) else (second, first)
        )
        held = [situation for situation in (first, second) if situation.startswith(("服刑", "强制隔离戒毒"))]
        if held:
            facts["imprisonment"] = "；".join(held)
        return int(Category.UNSUPPORTED)

    def hardship(self, facts: dict[str, str]) -> int:
        facts.setdefault("hardship_type", self.pick(HARDSHIP_TYPES))
        if self.chance(0.2):
            facts["illness"] = self.pick(ILLNESSES)
        return int(Category.HARDSHIP)

    def needs(self, categories: int) -> int:
        rates = {
            Need.STUDY: 0.35,
            Need.PSYCHOLOGICAL: 0.2,
            Need.LEGAL: 0.03,
            Need.ECONOMIC: 0.15,
            Need.HEALTH: 0.08,
            Need.SAFETY: 0.05,
            Need.OTHER: 0.03,
        }
        if categories & Category.LEFT_BEHIND:
            rates[Need.PSYCHOLOGICAL] = 0.45
            rates[Need.SAFETY] = 0.12
        if categories & (Category.PLIGHT_POVERTY | Category.HARDSHIP | Category.UNSUPPORTED):
            rates[Need.ECONOMIC] = 0.75
        if categories & Category.PLIGHT_DISABILITY:
            rates[Need.HEALTH] = 0.85
        if categories & (Category.PLIGHT_GUARDIANSHIP | Category.UNSUPPORTED):
            rates[Need.SAFETY] = 0.5
            rates[Need.LEGAL] = 0.3
        if categories & Category.SPECIAL:
            rates[Need.LEGAL] = 0.8
            rates[Need.PSYCHOLOGICAL] = 0.7
        needs = 0
        for need, rate in rates.items():
            if self.chance(rate):
                needs |= need
        return needs or int(Need.STUDY)

    def risk(self, categories: int) -> tuple[str, str]:
        serious = categories & (Category.UNSUPPORTED | Category.PLIGHT_GUARDIANSHIP | Category.SPECIAL)
        roll = self.rng.random()
        if roll < (0.2 if serious else 0.04):
            return RiskLevel.HIGH, self.pick(HIGH_RISKS)
        if roll < (0.55 if serious else 0.18):
            return RiskLevel.MEDIUM, self.pick(MEDIUM_RISKS)
        return RiskLevel.LOW, ""

    def school(self, age: int, village: _Village) -> tuple[str, str]:
        township, county = village.township, village.county
        if age < 3:
            return "", ""
        if age < 6:
            return f"{township}中心幼儿园", ("小班", "中班", "大班")[age - 3]
        if age < 12:
            grades = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")
            return f"{township}中心小学", grades[age - 6]
        if age < 15:
            return f"{township}初级中学", ("七年级", "八年级", "九年级")[age - 12]
        if self.chance(0.08):
            return "", ""  # left school
        grade = ("高一", "高二", "高三")[age - 15]
        if self.chance(0.4):
            return f"{county}职业技术学校", grade
        return f"{county}{self.pick(('中学', '第二中学', '第三中学'))}", grade

    def guardians(
        self, minor: Minor, surname: str, categories: int, facts: dict[str, str], village: _Village
    ) -> list[Guardian]:
        def person(relationship: str, **extra: Any) -> Guardian:
            # The father's side carries the child's surname.
            family = surname if relationship in {"父亲", "祖父"} else self.surname()
            woman = relationship in {"母亲", "祖母", "外祖母"}
            given = self.given_name(WOMAN_CHARACTERS if woman else MAN_CHARACTERS, two_characters=0.6)
            return Guardian(minor=minor, name=family + given, relationship=relationship, **extra)

        grandparent = self.pick(("祖父", "祖母", "外祖父", "外祖母"))
        if categories & (Category.UNSUPPORTED | Category.PLIGHT_GUARDIANSHIP):
            # The parents cannot or do not care for the child: a grandparent does.
            carer = person(grandparent, phone=self.phone(village, landline=0.3))
            if self.chance(0.3):
                carer.can_care, carer.care_note = False, "年老体弱，照护能力有限"
            if categories & Category.UNSUPPORTED or self.chance(0.5):
                return [carer]
            parent = person(self.pick(("父亲", "母亲")), phone=self.mobile(), can_care=False)
            parent.care_note = "未履行监护职责"
            return [carer, parent]
        if categories & Category.LEFT_BEHIND:
            # A parent working away entrusts the child to a grandparent (委托照护, 未成年人保护法 art.22).
            carer = person(grandparent, phone=self.phone(village, landline=0.2), is_entrusted_carer=True)
            if self.chance(0.1):
                carer.can_care, carer.care_note = False, "年逾七旬，身体欠佳"
            away = [
                relationship
                for relationship, key in (("父亲", "father_situation"), ("母亲", "mother_situation"))
                if facts.get(key, "").endswith("务工")
            ]
            return [carer, person(self.pick(away or ["父亲"]), phone=self.mobile())]
        mother = person("母亲", phone=self.mobile())
        if self.chance(0.5):
            return [mother, person("父亲", phone=self.mobile())]
        return [mother]

    def consent(self, minor: Minor, age: int, guardian: Guardian, verified: datetime.date) -> Consent:
        """A guardian consents for a child under 14 (个人信息保护法 art.31); an older child consents
        in person."""
        given_on = self.day_between(
            max(minor.birth_date, self.today - datetime.timedelta(days=730)), verified
        )
        if age < 14:
            given_by, relationship, is_guardian = guardian.name, guardian.relationship, True
        else:
            given_by, relationship, is_guardian = minor.name, "本人", False
        withdrawn_on = None
        if self.chance(0.01):
            withdrawn_on = self.day_between(given_on, self.today)
        return Consent(
            minor=minor,
            given_by=given_by,
            relationship=relationship,
            is_guardian=is_guardian,
            notice_version=NOTICE_VERSION,
            scope=[ConsentScope.REGISTRATION.value, ConsentScope.PAIRING.value],
            given_on=given_on,
            withdrawn_on=withdrawn_on,
        )

    # Against what is stored already -------------------------------------------------------------

    def avoid_stored(self, children: list[_Child]) -> None:
        """Give a new sequence number to any child whose ID number is stored already (an earlier run,
        the demo, real test rows), so the unique blind index never refuses a batch."""
        pending = children
        while pending:
            by_index: dict[str | None, _Child] = {child.minor.id_number_index: child for child in pending}
            keys = [key for key in by_index if key]
            stored: set[str] = set()
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start : start + _LOOKUP_CHUNK]
                rows = Minor.objects.filter(id_number_index__in=chunk).values_list(
                    "id_number_index", flat=True
                )
                stored.update(index for index in rows if index)
            pending = [by_index[key] for key in keys if key in stored]
            for child in pending:
                minor = child.minor
                minor.id_number = self.id_number(
                    child.birthplace, minor.birth_date, minor.gender == Gender.MALE
                )


def generate_minors(
    *,
    count: int,
    region_code: str = "330000000000",
    seed: int = 0,
    batch_size: int = 5000,
    progress: Callable[[int], object] | None = None,
    today: datetime.date | None = None,
) -> int:
    """Create `count` synthetic children (with guardians and consents) in the villages of `region_code`;
    returns the number created. Each batch is written in one transaction, so an interruption leaves
    whole batches. `progress` is called with the number of children of each batch written."""
    if count <= 0:
        return 0
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(_("区划代码“%(code)s”无效") % {"code": region_code}) from error
    generator = _Generator(region_code=code, seed=seed, today=today or timezone.localdate())
    created = 0
    while created < count:
        children = [generator.child() for _ in range(min(batch_size, count - created))]
        generator.avoid_stored(children)
        with transaction.atomic():
            # bulk_create calls each field's pre_save, which is where the blind index is taken
            # (BlindIndexField.pre_save reads the index of the current ID number).
            Minor.objects.bulk_create([child.minor for child in children], batch_size=_INSERT_CHUNK)
            Guardian.objects.bulk_create(
                [guardian for child in children for guardian in child.guardians], batch_size=_INSERT_CHUNK
            )
            Consent.objects.bulk_create(
                [consent for child in children for consent in child.consents], batch_size=_INSERT_CHUNK
            )
        created += len(children)
        if progress is not None:
            progress(len(children))
    return created
