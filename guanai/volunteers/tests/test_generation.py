"""The synthetic volunteers obey the rules of the volunteer record. They are checked here and used nowhere
else: no other test takes its expected values from them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from stdnum.cn import ric

from guanai.core import region_codes
from guanai.core.crypto import blind_index
from guanai.core.errors import ValidationFailed
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import age_on, clean_id_number, clean_phone, id_birth_date, id_gender
from guanai.volunteers.generation import elder_birthplace, generate_volunteers
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    CHECK_VALIDITY_DAYS,
    CheckResult,
    ElderCategory,
    Source,
    Specialty,
    Status,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)
CHUNAN_VILLAGES = {"330127100001", "330127100219"}  # 青城社区, 富城村 in the test region tree
JIANDE_VILLAGES = {"330182001020"}  # 白沙社区
ALL_CATEGORIES = sum(ElderCategory)
ALL_SPECIALTIES = sum(Specialty)


def snapshot() -> list[tuple[Any, ...]]:
    return [
        (
            v.id_number,
            v.name,
            v.birth_date,
            v.region_id,
            v.phone,
            v.categories,
            v.specialties,
            v.availability,
            v.check_date,
            v.status,
            v.hours_total,
            v.latitude,
        )
        for v in Volunteer.objects.order_by("id")
    ]


def test_id_numbers_are_valid_by_stdnum_unique_and_agree_with_birth_date_and_gender(regions: None) -> None:
    assert generate_volunteers(count=300, seed=1, today=TODAY) == 300
    volunteers = list(Volunteer.objects.all())
    numbers = [volunteer.id_number or "" for volunteer in volunteers]
    assert len(set(numbers)) == 300
    for volunteer, number in zip(volunteers, numbers, strict=True):
        assert ric.validate(number) == number  # checksum, birth date, birth place valid in the birth year
        assert clean_id_number(number) == number  # and the registry's own rule
        assert id_birth_date(number) == volunteer.birth_date
        assert id_gender(number) == volunteer.gender
        stored = Volunteer.objects.filter(pk=volunteer.pk).values_list("id_number_index", flat=True).get()
        assert stored == blind_index(Volunteer, "id_number", number)


def test_an_elder_born_before_the_county_existed_carries_the_older_code(regions: None) -> None:
    """建德市 (330182) exists since 1992: someone born there in 1955 has the code of 建德县 (330126)."""
    assert elder_birthplace("330182", "建德市", "杭州市", 1955) == "330126"
    assert elder_birthplace("330182", "建德市", "杭州市", 1995) == "330182"
    assert elder_birthplace("330127", "淳安县", "杭州市", 1950) == "330127"
    generate_volunteers(count=40, region_code="330182", seed=2, today=TODAY)
    prefixes = {(volunteer.id_number or "")[:6] for volunteer in Volunteer.objects.all()}
    assert prefixes == {"330126"}


def test_every_volunteer_lives_in_a_village_inside_the_region(regions: None) -> None:
    generate_volunteers(count=120, region_code="330127", seed=3, today=TODAY)
    assert set(Volunteer.objects.values_list("region_id", flat=True)) == CHUNAN_VILLAGES
    generate_volunteers(count=20, region_code="330182000000", seed=3, today=TODAY)
    assert set(Volunteer.objects.values_list("region_id", flat=True)) == CHUNAN_VILLAGES | JIANDE_VILLAGES
    for volunteer in Volunteer.objects.all():
        assert region_codes.is_within(volunteer.region_id, "330000000000")


def test_ages_genders_and_names_are_plausible(regions: None) -> None:
    generate_volunteers(count=600, seed=4, today=TODAY)
    volunteers = list(Volunteer.objects.all())
    ages = [age_on(volunteer.birth_date, TODAY) for volunteer in volunteers]
    assert min(ages) >= 55
    assert max(ages) <= 85
    assert 0.55 <= sum(1 for age in ages if 65 <= age <= 78) / len(ages) <= 0.85
    assert 0.55 <= sum(1 for v in volunteers if v.gender == "male") / len(volunteers) <= 0.75
    for volunteer in volunteers:
        assert 2 <= len(volunteer.name) <= 4
        assert (volunteer.name_pinyin, volunteer.name_initials) == pinyin_forms(volunteer.name)
        assert clean_phone(volunteer.phone) == volunteer.phone
        if volunteer.status == Status.APPLYING:
            assert volunteer.joined_on is None
        else:
            assert volunteer.joined_on is not None
            assert volunteer.birth_date < volunteer.joined_on <= TODAY
        assert volunteer.source in Source.values


def test_categories_specialties_and_their_credentials(regions: None) -> None:
    generate_volunteers(count=1500, seed=5, today=TODAY)
    volunteers = list(Volunteer.objects.all())
    count = len(volunteers)

    def share(test: Any) -> float:
        return sum(1 for volunteer in volunteers if test(volunteer)) / count

    for volunteer in volunteers:
        assert volunteer.categories
        assert not volunteer.categories & ~ALL_CATEGORIES
        assert volunteer.specialties
        assert not volunteer.specialties & ~ALL_SPECIALTIES
        is_lawyer = bool(volunteer.specialties & Specialty.LAW)
        assert bool(volunteer.law_licence_number) is is_lawyer
        if is_lawyer:
            assert len(volunteer.law_licence_number) == 17
            assert volunteer.law_licence_number.isdigit()
        assert bool(volunteer.psychology_certificate) is bool(volunteer.specialties & Specialty.PSYCHOLOGY)
        assert bool(volunteer.teaching_subjects) is bool(volunteer.specialties & Specialty.TEACHING)
        assert volunteer.former_unit
        assert volunteer.former_title
    teachers, cadres = (
        share(lambda v: v.categories & ElderCategory.TEACHER),
        share(lambda v: v.categories & ElderCategory.CADRE),
    )
    for other in (ElderCategory.EXPERT, ElderCategory.VETERAN, ElderCategory.MODEL_WORKER):
        assert min(teachers, cadres) > share(lambda v, other=other: v.categories & other)
    assert 0.2 <= share(lambda v: bin(v.categories).count("1") >= 2) <= 0.5
    teaching = share(lambda v: v.specialties & Specialty.TEACHING)
    for specialty in Specialty:
        if specialty != Specialty.TEACHING:
            assert teaching > share(lambda v, specialty=specialty: v.specialties & specialty)
    assert 0.002 <= share(lambda v: v.specialties & Specialty.LAW) <= 0.025
    assert 0.002 <= share(lambda v: v.specialties & Specialty.PSYCHOLOGY) <= 0.025


def test_availability_capacity_checks_status_hours_and_coordinates(regions: None) -> None:
    generate_volunteers(count=800, seed=6, today=TODAY)
    volunteers = list(Volunteer.objects.all())
    count = len(volunteers)
    capacities = [volunteer.max_children for volunteer in volunteers]
    assert set(capacities) <= {1, 2, 3, 4, 5}
    assert max(set(capacities), key=capacities.count) == 3
    assert all(0 < volunteer.availability <= ALL_AVAILABILITY for volunteer in volunteers)
    assert len({volunteer.availability for volunteer in volunteers}) >= 8

    valid = [volunteer for volunteer in volunteers if volunteer.check_valid_on(TODAY)]
    expired = [
        v
        for v in volunteers
        if v.check_date is not None and (TODAY - v.check_date).days > CHECK_VALIDITY_DAYS
    ]
    missing = [volunteer for volunteer in volunteers if volunteer.check_date is None]
    assert len(valid) / count >= 0.6
    assert expired
    assert missing
    for volunteer in missing:
        assert (volunteer.check_result, volunteer.check_by) == ("", "")
    for volunteer in volunteers:
        assert volunteer.check_date is None or volunteer.check_date <= TODAY
        if volunteer.check_result == CheckResult.FLAGGED:
            assert volunteer.status == Status.SUSPENDED

    statuses = [volunteer.status for volunteer in volunteers]
    assert statuses.count(Status.ACTIVE) / count >= 0.75
    for volunteer in volunteers:
        needs_reason = volunteer.status not in (Status.ACTIVE, Status.APPLYING)
        assert bool(volunteer.status_reason) is needs_reason
        assert (volunteer.status_changed_on is not None) is needs_reason

    hours = [volunteer.hours_total for volunteer in volunteers]
    assert min(hours) >= Decimal("0")
    assert sum(1 for total in hours if total < 100) > sum(1 for total in hours if total >= 600) > 0
    located = [volunteer for volunteer in volunteers if volunteer.latitude is not None]
    assert 0.3 <= len(located) / count <= 0.6
    for volunteer in located:
        latitude, longitude = volunteer.latitude, volunteer.longitude
        assert latitude is not None
        assert longitude is not None
        assert Decimal("26.9") < latitude < Decimal("31.2")
        assert Decimal("118.0") < longitude < Decimal("122.6")


def test_the_same_seed_gives_the_same_volunteers(regions: None) -> None:
    generate_volunteers(count=60, seed=7, today=TODAY)
    first = snapshot()
    Volunteer.objects.all().delete()
    generate_volunteers(count=60, seed=7, today=TODAY)
    assert snapshot() == first
    Volunteer.objects.all().delete()
    generate_volunteers(count=60, seed=8, today=TODAY)
    assert snapshot() != first


def test_a_second_run_never_reuses_a_stored_id_number(regions: None) -> None:
    generate_volunteers(count=50, seed=9, today=TODAY, batch_size=20)
    generate_volunteers(count=50, seed=9, today=TODAY, batch_size=20)
    assert Volunteer.objects.count() == 100
    assert Volunteer.objects.values("id_number_index").distinct().count() == 100


def test_without_hours_the_totals_are_zero_and_progress_is_per_batch(regions: None) -> None:
    batches: list[int] = []
    generate_volunteers(
        count=25, seed=10, today=TODAY, with_hours=False, batch_size=10, progress=batches.append
    )
    assert batches == [10, 10, 5]
    assert set(Volunteer.objects.values_list("hours_total", flat=True)) == {Decimal("0")}


def test_a_region_without_villages_is_refused(regions: None) -> None:
    with pytest.raises(ValidationFailed):
        generate_volunteers(count=5, region_code="110000", seed=1, today=TODAY)
    with pytest.raises(ValidationFailed):
        generate_volunteers(count=5, region_code="33x", seed=1, today=TODAY)
    assert Volunteer.objects.count() == 0


@override_settings(DEBUG=True)
def test_generate_province_creates_volunteers(regions: None) -> None:
    out = StringIO()
    call_command("generate_province", "--volunteers", "30", "--region", "330127", "--seed", "3", stdout=out)
    assert Volunteer.objects.count() == 30
    assert "五老志愿者 30 名" in out.getvalue()
    assert set(Volunteer.objects.values_list("region_id", flat=True)) <= CHUNAN_VILLAGES


@override_settings(DEBUG=False)
def test_generate_province_refuses_volunteers_without_debug_or_force(regions: None) -> None:
    with pytest.raises(CommandError, match="--force"):
        call_command("generate_province", "--volunteers", "5", stdout=StringIO())
    assert Volunteer.objects.count() == 0
    call_command("generate_province", "--volunteers", "5", "--force", stdout=StringIO())
    assert Volunteer.objects.count() == 5
