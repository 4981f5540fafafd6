"""The synthetic province obeys the registry's rules. The generated children are checked here and used
nowhere else: no other test takes its expected values from them."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from guanai.accounts.selectors import actor_for_user
from guanai.core import region_codes
from guanai.core.crypto import blind_index
from guanai.core.errors import ValidationFailed
from guanai.minors.generation import (
    BIRTHPLACE_PREDECESSORS,
    NOTICE_VERSION,
    birthplace_code,
    generate_minors,
    id_number_for,
)
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.validation import (
    LEFT_BEHIND_MAX_AGE,
    age_on,
    check_age,
    clean_id_number,
    clean_phone,
    id_birth_date,
    id_gender,
)
from guanai.minors.vocabulary import Category, ConsentScope, HouseholdType, SpecialKind
from guanai.regions.services import read_packaged_rows

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)
CHUNAN_VILLAGES = {"330127100001", "330127100219"}  # 青城社区, 富城村 in the test region tree
JIANDE_VILLAGES = {"330182001020"}  # 白沙社区


def snapshot() -> list[tuple[Any, ...]]:
    return [
        (m.id_number, m.name, m.birth_date, m.region_id, m.categories, m.needs, m.address, m.school, m.facts)
        for m in Minor.objects.order_by("id")
    ]


def test_id_numbers_are_valid_unique_and_agree_with_birth_date_and_gender(regions: None) -> None:
    assert generate_minors(count=400, seed=1, today=TODAY) == 400
    minors = list(Minor.objects.all())
    numbers = [minor.id_number or "" for minor in minors]
    assert len(set(numbers)) == 400
    for minor, number in zip(minors, numbers, strict=True):
        assert clean_id_number(number) == number  # checksum, birth date, birth place (stdnum.cn.ric)
        assert number[:6] == minor.region_id[:6]  # the real county of the village
        assert id_birth_date(number) == minor.birth_date
        assert id_gender(number) == minor.gender


def test_bulk_created_children_carry_the_blind_index_of_their_id_number(regions: None) -> None:
    generate_minors(count=50, seed=2, today=TODAY)
    for minor in Minor.objects.all():
        stored = Minor.objects.filter(pk=minor.pk).values_list("id_number_index", flat=True).get()
        assert stored == blind_index(Minor, "id_number", minor.id_number)
        assert Minor.objects.get(id_number_index=stored).pk == minor.pk
    for guardian in Guardian.objects.all():
        assert guardian.phone
        stored = Guardian.objects.filter(pk=guardian.pk).values_list("phone_index", flat=True).get()
        assert stored == blind_index(Guardian, "phone", guardian.phone)


def test_every_child_lives_in_a_village_inside_the_region(regions: None) -> None:
    generate_minors(count=200, region_code="330127", seed=3, today=TODAY)
    villages = set(Minor.objects.values_list("region_id", flat=True))
    assert villages == CHUNAN_VILLAGES
    generate_minors(count=30, region_code="330182000000", seed=3, today=TODAY)
    assert set(Minor.objects.values_list("region_id", flat=True)) == CHUNAN_VILLAGES | JIANDE_VILLAGES
    for minor in Minor.objects.all():
        assert region_codes.is_within(minor.region_id, "330000000000")


def test_children_are_under_18_and_left_behind_only_under_16_with_a_rural_household(regions: None) -> None:
    generate_minors(count=500, seed=4, today=TODAY)
    left_behind = 0
    for minor in Minor.objects.all():
        check_age(minor.birth_date, minor.categories, today=TODAY)  # the registration rules
        assert 0 <= age_on(minor.birth_date, TODAY) < 18
        assert minor.categories != 0
        if minor.categories & Category.LEFT_BEHIND:
            left_behind += 1
            assert age_on(minor.birth_date, TODAY) < LEFT_BEHIND_MAX_AGE
            assert minor.household_type == HouseholdType.RURAL
            assert not minor.categories & Category.MIGRANT
    assert left_behind > 0


def test_special_youth_are_sealed_with_their_kind_and_absent_from_the_registry(
    regions: None, personas: dict[str, Any]
) -> None:
    generate_minors(count=1500, seed=5, today=TODAY)
    sealed = Minor.objects.filter(is_sealed=True)
    assert sealed.exists()
    for minor in Minor.objects.all():
        is_special = bool(minor.categories & Category.SPECIAL)
        assert minor.is_sealed is is_special
        assert (minor.special_kind in SpecialKind.values) if is_special else minor.special_kind == ""
        if is_special:
            assert age_on(minor.birth_date, TODAY) >= 12
    county_admin = actor_for_user(personas["county_a_admin"])
    visible = Minor.objects.visible_to(county_admin)
    assert not visible.filter(is_sealed=True).exists()
    assert visible.count() == Minor.objects.filter(region_id__in=CHUNAN_VILLAGES, is_sealed=False).count()


def test_guardians_phones_and_consents_follow_the_rules(regions: None) -> None:
    generate_minors(count=300, seed=6, today=TODAY)
    for minor in Minor.objects.prefetch_related("guardians", "consents"):
        guardians = list(minor.guardians.all())
        assert 1 <= len(guardians) <= 2
        for guardian in guardians:
            assert clean_phone(guardian.phone) == guardian.phone
        if minor.categories & (Category.UNSUPPORTED | Category.PLIGHT_GUARDIANSHIP):
            assert guardians[0].relationship in {"祖父", "祖母", "外祖父", "外祖母"}
        elif minor.categories & Category.LEFT_BEHIND:
            # Entrusted to a carer by a parent who works away.
            assert guardians[0].is_entrusted_carer
            assert guardians[1].relationship in {"父亲", "母亲"}
            away = {"父亲": "father_situation", "母亲": "mother_situation"}[guardians[1].relationship]
            assert minor.facts[away].endswith("务工")
        for consent in minor.consents.all():
            assert consent.notice_version == NOTICE_VERSION
            assert consent.scope == [ConsentScope.REGISTRATION, ConsentScope.PAIRING]
            assert minor.birth_date <= consent.given_on <= TODAY
            if age_on(minor.birth_date, TODAY) < 14:  # 个人信息保护法 art.31: the guardian consents
                assert consent.is_guardian
                assert consent.given_by in {guardian.name for guardian in guardians}
        assert (minor.name_pinyin, minor.name_initials) == pinyin_forms(minor.name)
        assert minor.last_verified_on is not None
        assert TODAY - datetime.timedelta(days=425) <= minor.last_verified_on <= TODAY
        assert minor.address.startswith("浙江省杭州市")
    assert Consent.objects.count() > 0


def test_the_same_seed_gives_the_same_children(regions: None) -> None:
    generate_minors(count=120, seed=7, today=TODAY)
    first = snapshot()
    Minor.objects.all().delete()
    generate_minors(count=120, seed=7, today=TODAY)
    assert snapshot() == first
    Minor.objects.all().delete()
    generate_minors(count=120, seed=8, today=TODAY)
    assert snapshot() != first


def test_a_second_run_avoids_the_id_numbers_already_stored(regions: None) -> None:
    generate_minors(count=150, seed=9, today=TODAY, batch_size=40)
    generate_minors(count=150, seed=9, today=TODAY, batch_size=40)  # would repeat every number
    numbers = [minor.id_number for minor in Minor.objects.all()]
    assert len(numbers) == len(set(numbers)) == 300


def test_a_region_without_villages_is_refused(regions: None) -> None:
    with pytest.raises(ValidationFailed):
        generate_minors(count=10, region_code="330212000000", today=TODAY)  # 鄞州区: no villages loaded
    assert not Minor.objects.exists()


def test_every_zhejiang_county_has_a_birthplace_code_stdnum_accepts_for_every_birth_year() -> None:
    counties = {
        code[:6] for code, _name in read_packaged_rows() if code.startswith("33") and code[9:] != "000"
    }
    assert len(counties) == 90
    for county in counties:
        for year in range(TODAY.year - 18, TODAY.year + 1):
            code = birthplace_code(county, year)
            assert code is not None
            assert code == county or code in BIRTHPLACE_PREDECESSORS[county]
            number = id_number_for(code, datetime.date(year, 3, 1), 123)
            assert clean_id_number(number) == number


def test_children_born_before_their_county_existed_carry_the_code_it_was_made_from() -> None:
    assert birthplace_code("330112", 2016) == "330185"  # 临安区, 临安市 until 2017
    assert birthplace_code("330112", 2018) == "330112"
    assert birthplace_code("330113", 2024) == "330110"  # 临平区 is unknown to stdnum: 余杭区


@override_settings(DEBUG=True)
def test_generate_province_command_reports_what_it_made(regions: None) -> None:
    out = StringIO()
    call_command("generate_province", "--minors", "40", "--region", "330127", "--seed", "3", stdout=out)
    assert Minor.objects.count() == 40
    assert "40" in out.getvalue()


@override_settings(DEBUG=True)
def test_generate_province_with_only_volunteers_makes_volunteers_and_no_children(regions: None) -> None:
    from guanai.volunteers.models import Volunteer

    out = StringIO()
    call_command("generate_province", "--volunteers", "25", stdout=out)
    assert "志愿者" in out.getvalue()
    assert "25" in out.getvalue()
    assert Volunteer.objects.count() == 25
    assert not Minor.objects.exists()


def test_generate_province_refuses_without_debug_unless_forced(regions: None) -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="--force"):
        call_command("generate_province", "--minors", "5", stdout=StringIO())
    assert not Minor.objects.exists()
    call_command("generate_province", "--minors", "5", "--force", stdout=StringIO())
    assert Minor.objects.count() == 5


@override_settings(DEBUG=True)
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--minors", "5", "--region", "3301x"], "无效"),
        (["--minors", "5", "--region", "440000"], "load_regions"),
        (["--minors", "5", "--region", "330212"], "没有村"),
        ([], "--minors"),
    ],
)
def test_generate_province_refuses_bad_arguments(regions: None, arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("generate_province", *arguments, stdout=StringIO())
    assert not Minor.objects.exists()
