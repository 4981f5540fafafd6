"""Synthetic 五老 volunteers, for benchmarks and demos — never for tests' expectations.

`generate_volunteers` spreads made-up elders over the real villages of a region, with what the
province's rosters show: ages 55 to 85 (most 65 to 78), about two men in three, retired teachers and
cadres most often (many in two categories at once), teaching the most common specialty and a lawyer or
a counsellor about once in a hundred (with a licence number or a certificate), weekly availability
patterns, one to five children each (mostly three), background checks mostly dated within the last year
— some expired, some missing, a few flagged — status mostly 在岗, service hours spread from none to
five stars, and coordinates for some. The same seed, region, date and database state give the same
volunteers.

The village list, the names, the mobile numbers and the ID numbers come from the children's generator
(`guanai.minors.generation`); only what is particular to elders is here. Their ID numbers carry the
birth-place code that `stdnum.cn.ric` accepts for their birth year: a county created after 1980 was
part of an older county or of a city's 市区 when they were born (建德市 → 建德县 330126).

Every record is made up; none may enter a real roster (the command refuses unless told otherwise).
"""

from __future__ import annotations

import datetime
import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import numdb

from guanai.core import region_codes
from guanai.core.errors import ValidationFailed
from guanai.minors.generation import (
    MAN_CHARACTERS,
    WOMAN_CHARACTERS,
    _Generator,
    _pinyin_forms,
    _Village,
    _weighted_table,
    _years_before,
    birthplace_code,
)
from guanai.minors.vocabulary import Gender
from guanai.regions.models import Region
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    CHECK_VALIDITY_DAYS,
    CheckResult,
    ElderCategory,
    Source,
    Specialty,
    Status,
    availability_bit,
)

_LOOKUP_CHUNK = 900
_INSERT_CHUNK = 1000

# --- Reference tables ---------------------------------------------------------------------------------

MIN_AGE, MAX_AGE = 55, 85
# Ages 55–85: most elders who serve are between 65 and 78 (about seven in ten here).
_AGE_WEIGHTS: dict[int, float] = {
    **dict(zip(range(55, 60), (1, 1, 2, 2, 3), strict=True)),
    **dict(zip(range(60, 65), (4, 5, 6, 7, 8), strict=True)),
    **dict.fromkeys(range(65, 79), 12),
    **dict(zip(range(79, 86), (7, 6, 5, 4, 3, 2, 1), strict=True)),
}
_AGES = tuple(_AGE_WEIGHTS)
_AGE_TOTALS = _weighted_table(_AGE_WEIGHTS.values())
MAN_SHARE = 0.65

_CATEGORIES = (
    ElderCategory.TEACHER,
    ElderCategory.CADRE,
    ElderCategory.EXPERT,
    ElderCategory.VETERAN,
    ElderCategory.MODEL_WORKER,
)
_CATEGORY_TOTALS_MEN = _weighted_table((33, 30, 12, 14, 11))
_CATEGORY_TOTALS_WOMEN = _weighted_table((45, 28, 12, 2, 13))
SECOND_CATEGORY_SHARE = 0.35

FORMER_TITLES: dict[ElderCategory, tuple[str, ...]] = {
    ElderCategory.TEACHER: ("小学高级教师", "中学高级教师", "一级教师", "校长", "教导主任", "班主任"),
    ElderCategory.CADRE: ("副县长", "局长", "镇党委书记", "镇长", "主任科员", "科长", "村党支部书记"),
    ElderCategory.EXPERT: ("高级农艺师", "主任医师", "高级工程师", "高级林业工程师", "副主任医师"),
    ElderCategory.VETERAN: ("连长", "营长", "排长", "团政委", "副团长", "班长"),
    ElderCategory.MODEL_WORKER: ("全国劳动模范", "省劳动模范", "市劳动模范", "县劳动模范"),
}
TEACHER_UNITS = ("{township}中心小学", "{township}初级中学", "{county}中学", "{county}职业技术学校")
CADRE_UNITS = (
    "{county}人民政府",
    "{township}人民政府",
    "{county}教育局",
    "{county}人大常委会",
    "{county}政协",
)
EXPERT_UNITS = (
    "{county}农业农村局",
    "{county}人民医院",
    "{county}林业局",
    "{county}水利局",
    "{county}中医院",
)
VETERAN_UNITS = ("中国人民解放军某部", "南京军区某部", "东海舰队某部", "{county}人民武装部")
MODEL_UNITS = ("{county}供电公司", "{county}茶厂", "{county}农机厂", "{county}供销社", "{township}农业合作社")
FORMER_UNITS: dict[ElderCategory, tuple[str, ...]] = {
    ElderCategory.TEACHER: TEACHER_UNITS,
    ElderCategory.CADRE: CADRE_UNITS,
    ElderCategory.EXPERT: EXPERT_UNITS,
    ElderCategory.VETERAN: VETERAN_UNITS,
    ElderCategory.MODEL_WORKER: MODEL_UNITS,
}
SUBJECTS = ("语文", "数学", "英语", "物理", "化学", "历史", "书法", "美术", "音乐", "体育")
SPECIALTY_NOTES: dict[Specialty, tuple[str, ...]] = {
    Specialty.LAW: ("退休律师，擅长婚姻家庭和未成年人保护案件", "曾任法律援助中心律师"),
    Specialty.PSYCHOLOGY: ("青少年心理辅导", "家庭教育和亲子沟通指导"),
    Specialty.AGRICULTURE_TECHNOLOGY: ("茶叶种植", "果树栽培", "淡水养殖", "中药材种植"),
    Specialty.CULTURE_ARTS: ("书法", "剪纸", "越剧", "摄影", "民间故事"),
}
HEALTH_NOTES = (
    *("身体健康",) * 6,
    *("良好",) * 4,
    "高血压，控制良好",
    "高血压，控制良好",
    "腿脚不便，宜就近服务",
    "糖尿病，病情稳定",
    "听力稍差",
)


def _slots(days: Sequence[int], parts: Sequence[int]) -> int:
    return sum(availability_bit(day, part) for day in days for part in parts)


WEEKDAYS, WEEKEND = (0, 1, 2, 3, 4), (5, 6)
MORNING, AFTERNOON, EVENING = 0, 1, 2
# (availability bits, weight): the patterns rosters show, 不限 and weekends most often.
AVAILABILITY_PATTERNS: tuple[tuple[int, float], ...] = (
    (ALL_AVAILABILITY, 15),
    (_slots(WEEKEND, (MORNING, AFTERNOON, EVENING)), 14),
    (_slots(WEEKEND, (MORNING, AFTERNOON)), 9),
    (_slots((5,), (MORNING,)), 8),
    (_slots(WEEKDAYS, (MORNING,)), 12),
    (_slots(WEEKDAYS, (AFTERNOON,)), 12),
    (_slots((1, 3), (AFTERNOON,)), 8),
    (_slots(WEEKDAYS, (MORNING, AFTERNOON)), 10),
    (_slots((2,), (AFTERNOON,)) | _slots((5,), (MORNING,)), 6),
    (_slots(WEEKDAYS, (EVENING,)), 5),
)
_AVAILABILITY_TOTALS = _weighted_table(weight for _bits, weight in AVAILABILITY_PATTERNS)
MAX_CHILDREN_WEIGHTS: dict[int, float] = {1: 8, 2: 20, 3: 47, 4: 15, 5: 10}
_MAX_CHILDREN = tuple(MAX_CHILDREN_WEIGHTS)
_MAX_CHILDREN_TOTALS = _weighted_table(MAX_CHILDREN_WEIGHTS.values())
# Confirmed hours (low, high) with weights: most elders have some, a few have reached five stars.
HOURS_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 50, 25),
    (50, 150, 30),
    (150, 350, 23),
    (350, 700, 12),
    (700, 1100, 6),
    (1100, 1600, 3),
    (1600, 2500, 1),
)
_HOURS_TOTALS = _weighted_table(weight for _low, _high, weight in HOURS_BANDS)
SUSPEND_REASONS = ("身体原因，暂停服务", "外出探亲，暂停半年", "照顾家中病人，暂停服务")
WITHDRAW_REASONS = ("年事已高，本人申请退出", "迁居外地")
FLAGGED_REASON = "背景审查发现不良记录，暂停服务"
DECEASED_REASON = "病故"
# Zhejiang, roughly: coordinates of a county are drawn around a point fixed by its code.
LATITUDES, LONGITUDES = (27.2, 30.9), (118.3, 122.3)
COORDINATE_SHARE = 0.45
EARLIEST_JOINED = datetime.date(2005, 1, 1)
RETIREMENT_AGE = 55


# --- Birth places that stdnum accepts for elders ---------------------------------------------------


@dataclass(frozen=True)
class _HistoricPlace:
    code: str
    start: int | None
    end: int | None
    name: str

    def valid_in(self, year: int) -> bool:
        return (self.start is None or year >= self.start) and (self.end is None or year <= self.end)


_GENERIC_NAMES = {"市辖区", "市区", "城区", "郊区", "省直辖县级行政单位"}


def _stem(name: str) -> str:
    """建德市 → 建德, 景宁畲族自治县 → 景宁, 台州地区 → 台州; "" for names that name no place."""
    if name in _GENERIC_NAMES:
        return ""
    for suffix in ("畲族自治县", "自治县", "地区", "市", "县", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=64)
def _historic_places(province: str) -> tuple[_HistoricPlace, ...]:
    """Every county-level code of the province in stdnum's list (its `cn/loc` number database, walked
    as a tree: province, then county), with the years of each name."""
    places: list[_HistoricPlace] = []
    for _length, low, high, _properties, counties in numdb.get("cn/loc").prefixes:
        if not low <= province <= high:
            continue
        for _county_length, first, last, properties, _children in counties:
            for number in range(int(first), int(last) + 1):
                code = f"{province}{number:04d}"
                for variant in properties.get("county", "").split(","):
                    if variant:
                        places.append(_HistoricPlace(code, *_years_and_name(variant)))
    return tuple(places)


def _years_and_name(variant: str) -> tuple[int | None, int | None, str]:
    """ "[1992-]建德市" → (1992, None, "建德市"); "淳安县" → (None, None, "淳安县")."""
    if not variant.startswith("["):
        return None, None, variant
    years, name = variant[1:].split("]", 1)
    first, last = years.split("-")
    return (int(first) if first else None), (int(last) if last else None), name


@functools.lru_cache(maxsize=8192)
def elder_birthplace(county: str, county_name: str, city_name: str, year: int) -> str | None:
    """The six-digit birth-place code of someone born in `year` who lives in `county` today, as
    stdnum.cn.ric accepts it: the county's own code or its predecessor's, else the older county of the
    same name (建德市 → 建德县), else the city's 市区 of the time, else the city or prefecture of the
    same name (台州地区), else any code of the same city valid then."""
    found = birthplace_code(county, year)
    if found is not None:
        return found
    places = [place for place in _historic_places(county[:2]) if place.valid_in(year)]
    city = county[:4]

    def first_named(stem: str) -> str | None:
        if not stem:
            return None
        named = sorted(
            (place for place in places if _stem(place.name) == stem),
            key=lambda place: (place.code[:4] != city, place.code),
        )
        return named[0].code if named else None

    urban = f"{city}20"
    return (
        first_named(_stem(county_name))
        or next((place.code for place in places if place.code == urban), None)
        or first_named(_stem(city_name))
        or next(
            (place.code for place in sorted(places, key=lambda p: p.code) if place.code[:4] == city), None
        )
    )


# --- One volunteer -------------------------------------------------------------------------------


@dataclass
class _Elder:
    volunteer: Volunteer
    birthplace: str


class _VolunteerGenerator(_Generator):
    """The children's generator (villages, names, phones, ID sequence numbers) drawing elders."""

    def __init__(self, *, region_code: str, seed: int, today: datetime.date, with_hours: bool) -> None:
        super().__init__(region_code=region_code, seed=seed, today=today)
        self.with_hours = with_hours
        counties = {village.code[:6] for village in self.villages}
        county_regions = Region.objects.in_bulk(
            [code.ljust(region_codes.CODE_LENGTH, "0") for code in counties]
        )
        cities = Region.objects.in_bulk(
            [region.parent_id for region in county_regions.values() if region.parent_id is not None]
        )
        self.place_names: dict[str, tuple[str, str]] = {}
        for code, region in county_regions.items():
            city = cities.get(region.parent_id or "")
            self.place_names[code[:6]] = (region.name, city.name if city is not None else "")
        self.centres: dict[str, tuple[float, float]] = {}
        self._check_elder_birthplaces()

    def _check_elder_birthplaces(self) -> None:
        years = range(self.today.year - MAX_AGE - 1, self.today.year - MIN_AGE + 1)
        unknown = sorted(
            county
            for county in {village.code[:6] for village in self.villages}
            if any(self.birthplace(county, year) is None for year in years)
        )
        if unknown:
            raise ValidationFailed(
                _("身份证号校验库不认识这些县级代码，无法生成有效身份证号：%(codes)s")
                % {"codes": "、".join(unknown)}
            )

    def birthplace(self, county: str, year: int) -> str | None:
        county_name, city_name = self.place_names.get(county, ("", ""))
        return elder_birthplace(county, county_name, city_name, year)

    def centre(self, county: str) -> tuple[float, float]:
        if county not in self.centres:
            place = random.Random(int(county))  # noqa: S311 - a fixed point per county, not a secret
            self.centres[county] = (place.uniform(*LATITUDES), place.uniform(*LONGITUDES))
        return self.centres[county]

    def elder(self) -> _Elder:
        rng, today = self.rng, self.today
        village = self.villages[self.weighted(self.village_totals)]
        age = _AGES[self.weighted(_AGE_TOTALS)]
        birth_date = self.day_between(
            _years_before(today, age + 1) + datetime.timedelta(days=1), _years_before(today, age)
        )
        is_man = self.chance(MAN_SHARE)
        birthplace = self.birthplace(village.code[:6], birth_date.year)
        assert birthplace is not None  # checked for every county and year in __init__
        name = self.surname() + self.given_name(
            MAN_CHARACTERS if is_man else WOMAN_CHARACTERS, two_characters=0.6
        )
        pinyin, initials = _pinyin_forms(name)
        primary, categories = self.elder_categories(is_man)
        specialties = self.specialties(categories)
        status, reason, check_date, check_result = self.status_and_check()
        # Joined after retiring (a negative number of years before is that many after).
        retired = _years_before(birth_date, -RETIREMENT_AGE)
        joined_on = self.day_between(max(retired, EARLIEST_JOINED), today)
        status_changed_on = (
            self.day_between(joined_on, today) if status not in (Status.ACTIVE, Status.APPLYING) else None
        )
        latitude = longitude = None
        if self.chance(COORDINATE_SHARE):
            centre_latitude, centre_longitude = self.centre(village.code[:6])
            latitude = Decimal(f"{centre_latitude + rng.uniform(-0.12, 0.12):.6f}")
            longitude = Decimal(f"{centre_longitude + rng.uniform(-0.12, 0.12):.6f}")
        county_stem = _stem(village.county) if village.county else ""
        volunteer = Volunteer(
            name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            gender=Gender.MALE if is_man else Gender.FEMALE,
            birth_date=birth_date,
            id_number="",  # set below, once the sequence number is free
            phone=self.phone(village, landline=0.25),
            categories=categories,
            former_unit=self.former_unit(primary, village)[:100],
            former_title=self.pick(FORMER_TITLES[primary]),
            specialties=specialties,
            law_licence_number=self.licence_number(village, birth_date)
            if specialties & Specialty.LAW
            else "",
            psychology_certificate=self.certificate() if specialties & Specialty.PSYCHOLOGY else "",
            teaching_subjects=self.subjects() if specialties & Specialty.TEACHING else "",
            specialty_note=self.specialty_note(specialties),
            region_id=village.code,
            latitude=latitude,
            longitude=longitude,
            availability=AVAILABILITY_PATTERNS[self.weighted(_AVAILABILITY_TOTALS)][0],
            max_children=_MAX_CHILDREN[self.weighted(_MAX_CHILDREN_TOTALS)],
            health_note=self.pick(HEALTH_NOTES),
            dialects=f"{county_stem}话" if county_stem and self.chance(0.6) else "",
            check_date=check_date,
            check_result=check_result,
            check_by=(f"{village.township}派出所" if village.township else f"{village.county}公安局")
            if check_date
            else "",
            status=status,
            status_reason=reason,
            status_changed_on=status_changed_on,
            joined_on=None if status == Status.APPLYING else joined_on,  # an applicant has not joined yet
            source=self.pick((Source.STAFF,) * 10 + (Source.SIGNUP,) * 2 + (Source.IMPORT,)),
            shows_on_honour_roll=self.chance(0.35),
            hours_total=self.hours() if self.with_hours else Decimal("0"),
        )
        volunteer.id_number = self.id_number(birthplace, birth_date, is_man)
        return _Elder(volunteer=volunteer, birthplace=birthplace)

    def elder_categories(self, is_man: bool) -> tuple[ElderCategory, int]:
        totals = _CATEGORY_TOTALS_MEN if is_man else _CATEGORY_TOTALS_WOMEN
        primary = _CATEGORIES[self.weighted(totals)]
        categories = int(primary)
        if self.chance(SECOND_CATEGORY_SHARE):
            second = _CATEGORIES[self.weighted(totals)]
            if second == primary:
                # The commonest other one: a teacher is then a cadre too, anyone else a teacher or cadre.
                second = _CATEGORIES[(_CATEGORIES.index(primary) + 1) % 2]
            categories |= second
        return primary, categories

    def specialties(self, categories: int) -> int:
        rates: dict[Specialty, float] = {
            Specialty.TEACHING: 0.9 if categories & ElderCategory.TEACHER else 0.3,
            Specialty.AGRICULTURE_TECHNOLOGY: 0.45 if categories & ElderCategory.EXPERT else 0.06,
            Specialty.HEALTH: 0.25 if categories & ElderCategory.EXPERT else 0.05,
            Specialty.CULTURE_ARTS: 0.15,
            Specialty.RED_HISTORY: (
                0.8
                if categories & ElderCategory.VETERAN
                else 0.35
                if categories & ElderCategory.CADRE
                else 0.08
            ),
            Specialty.LAW: 0.01,
            Specialty.PSYCHOLOGY: 0.01,
        }
        specialties = 0
        for specialty, rate in rates.items():
            if self.chance(rate):
                specialties |= specialty
        if not specialties:
            specialties = int(
                Specialty.RED_HISTORY
                if categories & (ElderCategory.VETERAN | ElderCategory.CADRE)
                else Specialty.CULTURE_ARTS
            )
        return specialties

    def former_unit(self, primary: ElderCategory, village: _Village) -> str:
        county = village.county or village.township
        return self.pick(FORMER_UNITS[primary]).format(county=county, township=village.township or county)

    def licence_number(self, village: _Village, birth_date: datetime.date) -> str:
        """律师执业证号: 17 digits — 1, the city's code, the year first licensed, kind, sex, serial."""
        licensed = min(birth_date.year + self.rng.randint(25, 35), self.today.year)
        return f"1{village.code[:4]}{licensed}1{self.rng.randint(0, 1)}{self.rng.randrange(10**6):06d}"

    def certificate(self) -> str:
        return f"心理咨询师（{self.pick(('二级', '三级'))}）{self.rng.randrange(10**15, 10**16)}"

    def subjects(self) -> str:
        first = self.pick(SUBJECTS)
        if self.chance(0.3):
            second = self.pick(SUBJECTS)
            if second != first:
                return f"{first}、{second}"
        return first

    def specialty_note(self, specialties: int) -> str:
        for specialty, notes in SPECIALTY_NOTES.items():
            if specialties & specialty:
                return self.pick(notes)
        return ""

    def status_and_check(self) -> tuple[str, str, datetime.date | None, str]:
        """Status with its reason, and the background check: mostly clear within the year, some expired
        (older than a year), some missing, a few flagged (the volunteer is then suspended)."""
        today, roll = self.today, self.rng.random()
        check_date: datetime.date | None
        result: str
        if roll < 0.74:
            check_date = today - datetime.timedelta(days=self.rng.randrange(CHECK_VALIDITY_DAYS))
            result = CheckResult.CLEAR
        elif roll < 0.86:
            check_date = today - datetime.timedelta(days=self.rng.randrange(CHECK_VALIDITY_DAYS + 1, 1100))
            result = CheckResult.CLEAR
        elif roll < 0.99:
            check_date, result = None, ""
        else:
            check_date = today - datetime.timedelta(days=self.rng.randrange(CHECK_VALIDITY_DAYS))
            return Status.SUSPENDED, FLAGGED_REASON, check_date, CheckResult.FLAGGED
        roll = self.rng.random()
        if roll < 0.88:
            return Status.ACTIVE, "", check_date, result
        if roll < 0.93:
            return Status.APPLYING, "", check_date, result
        if roll < 0.97:
            return Status.SUSPENDED, self.pick(SUSPEND_REASONS), check_date, result
        if roll < 0.99:
            return Status.WITHDRAWN, self.pick(WITHDRAW_REASONS), check_date, result
        return Status.DECEASED, DECEASED_REASON, check_date, result

    def hours(self) -> Decimal:
        low, high, _weight = HOURS_BANDS[self.weighted(_HOURS_TOTALS)]
        return Decimal(self.rng.randrange(low * 10, high * 10)) / 10

    def avoid_stored_volunteers(self, elders: list[_Elder]) -> None:
        """Give a new sequence number to any elder whose ID number is stored already (an earlier run,
        the demo), so the unique blind index never refuses a batch."""
        pending = elders
        while pending:
            by_index = {elder.volunteer.id_number_index: elder for elder in pending}
            keys = [key for key in by_index if key]
            stored: set[str] = set()
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                rows = Volunteer.objects.filter(id_number_index__in=keys[start : start + _LOOKUP_CHUNK])
                stored.update(index for index in rows.values_list("id_number_index", flat=True) if index)
            pending = [by_index[key] for key in keys if key in stored]
            for elder in pending:
                volunteer = elder.volunteer
                volunteer.id_number = self.id_number(
                    elder.birthplace, volunteer.birth_date, volunteer.gender == Gender.MALE
                )


def generate_volunteers(
    *,
    count: int,
    region_code: str = "330000000000",
    seed: int = 0,
    batch_size: int = 5000,
    progress: Callable[[int], object] | None = None,
    today: datetime.date | None = None,
    with_hours: bool = True,
) -> int:
    """Create `count` synthetic volunteers in the villages of `region_code`; returns the number created.

    Each batch is written in one transaction, so an interruption leaves whole batches. `progress` is
    called with the number of volunteers of each batch written. `with_hours` gives each a total of
    confirmed hours without records behind it (what a benchmark needs); without it the totals are 0,
    for a caller that records the hours themselves (the demo)."""
    if count <= 0:
        return 0
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(_("区划代码“%(code)s”无效") % {"code": region_code}) from error
    generator = _VolunteerGenerator(
        region_code=code, seed=seed, today=today or timezone.localdate(), with_hours=with_hours
    )
    created = 0
    while created < count:
        elders = [generator.elder() for _ in range(min(batch_size, count - created))]
        generator.avoid_stored_volunteers(elders)
        with transaction.atomic():
            # bulk_create calls each field's pre_save: the ID number and phone are encrypted and their
            # blind indexes taken there.
            Volunteer.objects.bulk_create([elder.volunteer for elder in elders], batch_size=_INSERT_CHUNK)
        created += len(elders)
        if progress is not None:
            progress(len(elders))
    return created
