from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanai.minors.tests.ids import id_number
from guanai.minors.validation import (
    FieldError,
    check_age,
    clean_id_number,
    clean_phone,
    id_gender,
    reconcile_with_id,
)
from guanai.minors.vocabulary import Category

TODAY = datetime.date(2026, 11, 30)


def test_an_id_number_gives_birth_date_and_gender() -> None:
    boy, girl = id_number(sequence=1), id_number(sequence=2)
    assert reconcile_with_id(boy, None, None) == (datetime.date(2012, 7, 21), "male")
    assert reconcile_with_id(girl, None, "") == (datetime.date(2012, 7, 21), "female")


@pytest.mark.parametrize(
    "written",
    [
        " ３３０１２７２０１２０７２１００{}",
        "'3301272012072100{}",
        "330127 20120721 00{}",
    ],
)
def test_id_numbers_are_cleaned_as_people_write_them(written: str) -> None:
    real = id_number(sequence=1)
    assert clean_id_number(written.format(real[-2:])) == real


def test_a_lowercase_x_is_accepted() -> None:
    for sequence in range(1, 200):
        real = id_number(sequence=sequence)
        if real.endswith("X"):
            assert clean_id_number(real[:-1] + "x") == real
            return
    pytest.fail("no ID with check digit X in the range")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("3.30127201207E+17", "id_number_scientific"),
        ("33012720120721001", "id_number_invalid"),
        ("330127201207210010", "id_number_invalid"),
        ("999999201207210011", "id_number_invalid"),
        ("330127201302300011", "id_number_invalid"),
    ],
)
def test_bad_id_numbers_are_refused(raw: str, code: str) -> None:
    with pytest.raises(FieldError) as raised:
        clean_id_number(raw)
    assert raised.value.code == code
    assert raised.value.field == "id_number"


def test_a_date_or_gender_differing_from_the_id_is_an_error_on_that_field() -> None:
    boy = id_number(sequence=1)
    with pytest.raises(FieldError) as raised:
        reconcile_with_id(boy, datetime.date(2012, 7, 22), None)
    assert (raised.value.field, raised.value.code) == ("birth_date", "birth_date_mismatch")
    with pytest.raises(FieldError) as raised:
        reconcile_with_id(boy, None, "female")
    assert (raised.value.field, raised.value.code) == ("gender", "gender_mismatch")


def test_without_an_id_number_date_and_gender_are_required() -> None:
    with pytest.raises(FieldError, match=r".*") as raised:
        reconcile_with_id(None, None, "male")
    assert raised.value.field == "birth_date"
    assert reconcile_with_id(None, datetime.date(2015, 1, 1), "female") == (
        datetime.date(2015, 1, 1),
        "female",
    )


def test_a_minor_is_under_eighteen_and_left_behind_children_under_sixteen() -> None:
    check_age(datetime.date(2008, 12, 1), 0, today=TODAY)  # 17 years old
    with pytest.raises(FieldError) as raised:
        check_age(datetime.date(2008, 11, 30), 0, today=TODAY)  # 18 today
    assert raised.value.code == "not_a_minor"
    check_age(datetime.date(2010, 12, 1), Category.LEFT_BEHIND, today=TODAY)  # 15
    with pytest.raises(FieldError) as raised:
        check_age(datetime.date(2010, 11, 30), Category.LEFT_BEHIND | Category.MIGRANT, today=TODAY)
    assert (raised.value.field, raised.value.code) == ("categories", "left_behind_too_old")
    with pytest.raises(FieldError) as raised:
        check_age(datetime.date(2027, 1, 1), 0, today=TODAY)
    assert raised.value.code == "birth_date_future"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13905710001", "13905710001"),
        ("139 0571 0001", "13905710001"),
        ("+8613905710001", "13905710001"),
        ("0571-65012345", "0571-65012345"),
        ("(0571)65012345", "(0571)65012345"),
        ("010-62345678", "010-62345678"),
        ("", ""),
    ],
)
def test_phone_numbers(raw: str, clean: str) -> None:
    assert clean_phone(raw) == clean


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("23905710001", "mobile_invalid"),
        ("65012345", "landline_without_area_code"),
        ("12345", "phone_invalid"),
    ],
)
def test_bad_phone_numbers(raw: str, code: str) -> None:
    with pytest.raises(FieldError) as raised:
        clean_phone(raw)
    assert raised.value.code == code


@given(st.integers(min_value=1, max_value=999))
def test_the_gender_digit_of_any_real_id(sequence: int) -> None:
    real = id_number(sequence=sequence)
    assert clean_id_number(real) == real
    assert id_gender(real) == ("male" if sequence % 2 else "female")


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("张三明", ("zhangsanming", "zsm")),
        ("曾小明", ("zengxiaoming", "zxm")),
        ("单丽", ("shanli", "sl")),
        ("区美华", ("oumeihua", "omh")),
        ("尉迟敬德", ("yuchijingde", "ycjd")),
        ("曾", ("ceng", "c")),  # alone it is not read as a surname
    ],
)
def test_pinyin_forms_read_surnames_as_surnames(name: str, forms: tuple[str, str]) -> None:
    from guanai.minors.names import pinyin_forms

    assert pinyin_forms(name) == forms


@pytest.mark.django_db
def test_counties_newer_than_stdnums_list_are_accepted_when_loaded(regions: None) -> None:
    from guanai.regions.models import Region

    linping = id_number(county="330113", birth="20220301", sequence=1)  # 临平区, created in 2021
    with pytest.raises(FieldError):
        clean_id_number(linping)
    Region.objects.create(
        code="330113000000", name="临平区", short_name="临平区", level=3, parent_id="330100000000"
    )
    from guanai.minors.validation import _is_birth_place, _is_loaded_county

    _is_birth_place.cache_clear()
    _is_loaded_county.cache_clear()
    assert clean_id_number(linping) == linping
    _is_birth_place.cache_clear()
    _is_loaded_county.cache_clear()
