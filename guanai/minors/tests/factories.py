"""factory_boy factories for the registry, with real resident ID numbers (GB 11643-1999): a real county
prefix, a birth date, a sequence number and the checksum `stdnum.cn.ric` computes."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from stdnum.cn import ric

from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import id_birth_date, id_gender

COUNTY_A_PREFIX = "330127"  # 淳安县
COUNTY_B_PREFIX = "330182"  # 建德市
VILLAGE_A = "330127100219"  # 富城村村民委员会 (淳安县千岛湖镇)
COMMUNITY_A = "330127100001"  # 青城社区 (淳安县千岛湖镇)
COMMUNITY_B = "330182001020"  # 白沙社区居民委员会 (建德市新安江街道)


def make_id_number(county: str, birth: datetime.date, sequence: int) -> str:
    """sequence 1..999: odd for a boy, even for a girl (the 17th digit)."""
    first_17 = f"{county}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


def _id_for(n: int, county: str = COUNTY_A_PREFIX) -> str:
    """A distinct ID number per factory sequence: a child aged 6 to 15, born on a different day each."""
    birth = datetime.date(2012, 1, 1) + datetime.timedelta(days=(n * 37) % 3000)
    return make_id_number(county, birth, n % 999 + 1)


class MinorFactory(factory.django.DjangoModelFactory[Minor]):
    class Meta:
        model = Minor

    name = factory.Sequence(lambda n: f"测试儿童{n}")
    region_id = VILLAGE_A
    id_number = factory.LazyAttributeSequence(lambda o, n: _id_for(n, o.region_id[:6]))
    birth_date = factory.LazyAttribute(
        lambda o: id_birth_date(o.id_number) if o.id_number else datetime.date(2014, 5, 1)
    )
    gender = factory.LazyAttribute(lambda o: str(id_gender(o.id_number)) if o.id_number else "female")
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_forms(o.name)[0])
    name_initials = factory.LazyAttribute(lambda o: pinyin_forms(o.name)[1])
    address = "浙江省杭州市淳安县千岛湖镇富城村12号"
    school = "千岛湖镇中心小学"
    grade = "四年级"
    categories = 1  # 农村留守儿童
    household_type = "rural"


class GuardianFactory(factory.django.DjangoModelFactory[Guardian]):
    class Meta:
        model = Guardian

    minor = factory.SubFactory(MinorFactory)
    name = factory.Sequence(lambda n: f"监护人{n}")
    relationship = "祖母"
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class ConsentFactory(factory.django.DjangoModelFactory[Consent]):
    class Meta:
        model = Consent

    minor = factory.SubFactory(MinorFactory)
    given_by = "王秀英"
    relationship = "祖母"
    notice_version = "2026-1"
    scope: Any = factory.LazyFunction(lambda: ["registration", "pairing"])
    given_on = datetime.date(2026, 3, 1)
