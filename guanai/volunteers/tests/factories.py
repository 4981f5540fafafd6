"""factory_boy factories for volunteers, with real resident ID numbers of people born 1945–1960."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from guanai.committees.tests.factories import CommitteeFactory
from guanai.minors.names import pinyin_forms
from guanai.minors.tests.factories import COUNTY_A_PREFIX, VILLAGE_A, make_id_number
from guanai.minors.validation import id_birth_date, id_gender
from guanai.volunteers.models import (
    ServiceHours,
    Team,
    TeamMembership,
    Training,
    Volunteer,
)
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    CheckResult,
    ElderCategory,
    HoursSource,
    HoursState,
    Specialty,
    Status,
    TeamKind,
)


def elder_id_number(n: int, county: str = COUNTY_A_PREFIX) -> str:
    """A distinct ID number per sequence: born between 1945 and 1960, a different day each."""
    birth = datetime.date(1945, 1, 1) + datetime.timedelta(days=(n * 53) % 5800)
    return make_id_number(county, birth, n % 999 + 1)


class VolunteerFactory(factory.django.DjangoModelFactory[Volunteer]):
    class Meta:
        model = Volunteer

    name = factory.Sequence(lambda n: f"测试五老{n}")
    region_id = VILLAGE_A
    id_number = factory.LazyAttributeSequence(lambda o, n: elder_id_number(n, o.region_id[:6]))
    birth_date = factory.LazyAttribute(
        lambda o: id_birth_date(o.id_number) if o.id_number else datetime.date(1952, 5, 1)
    )
    gender = factory.LazyAttribute(lambda o: str(id_gender(o.id_number)) if o.id_number else "male")
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_forms(o.name)[0])
    name_initials = factory.LazyAttribute(lambda o: pinyin_forms(o.name)[1])
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    categories = int(ElderCategory.TEACHER)
    specialties = int(Specialty.TEACHING)
    teaching_subjects = "语文"
    former_unit = "千岛湖镇中心小学"
    availability = ALL_AVAILABILITY
    status = Status.ACTIVE
    joined_on = datetime.date(2024, 3, 1)
    check_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    check_result = CheckResult.CLEAR
    check_by = "千岛湖镇派出所"


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    committee = factory.SubFactory(CommitteeFactory)
    region_id = factory.LazyAttribute(lambda o: o.committee.region_id)
    name = factory.Sequence(lambda n: f"测试五老关爱团{n}")
    kind = TeamKind.CARE_GROUP


class TeamMembershipFactory(factory.django.DjangoModelFactory[TeamMembership]):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    joined_on = datetime.date(2025, 1, 1)


class ServiceHoursFactory(factory.django.DjangoModelFactory[ServiceHours]):
    """A confirmed record; the volunteer's total is not touched (use the services for that)."""

    class Meta:
        model = ServiceHours

    volunteer = factory.SubFactory(VolunteerFactory)
    served_on = datetime.date(2026, 6, 1)
    hours = Decimal("2.0")
    description = "入户走访"
    source = HoursSource.ORGANISER
    state = HoursState.CONFIRMED


class TrainingFactory(factory.django.DjangoModelFactory[Training]):
    class Meta:
        model = Training

    volunteer = factory.SubFactory(VolunteerFactory)
    course = "未成年人保护法解读"
    attended_on = datetime.date(2026, 4, 10)
    hours = Decimal("3.0")
    provider = "淳安县关工委"
