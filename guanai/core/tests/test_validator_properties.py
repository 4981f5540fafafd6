"""Properties of every validator of typed or imported input (issue 9, point 3): ID numbers, phones, dates,
region codes, the registry's search terms.

For any text — control characters, every plane of Unicode but surrogates, full-width digits, strings of
tens of thousands of characters — a validator answers or raises its documented error, nothing else;
every valid value it is given is accepted and its answer is a fixed point (clean(clean(x)) == clean(x));
a one-digit change of a valid ID number is refused; and a search never errors and never returns a child
outside the searcher's region.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django import forms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from guanai.accounts.selectors import actor_for_user
from guanai.core import region_codes
from guanai.core.crypto import normalise_mobile, normalise_phone
from guanai.core.region_codes import RegionLevel
from guanai.imports.cells import CellValue
from guanai.minors import validation
from guanai.minors.importing import parse_date
from guanai.minors.models import Minor
from guanai.minors.selectors import MinorFilters, minor_list
from guanai.minors.tests.factories import COMMUNITY_B, VILLAGE_A, GuardianFactory, MinorFactory
from guanai.minors.validation import FieldError, check_age, clean_id_number, clean_phone
from guanai.web.forms import date_field

PROPERTIES = settings(
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Strategies --------------------------------------------------------------------------------------

# Every character but the surrogates (which no str from a request, a file or the database holds).
CHARACTERS = st.characters(blacklist_categories=["Cs"])
FULL_WIDTH_DIGITS = "０１２３４５６７８９"
SHORT = st.text(CHARACTERS, max_size=40)
DIGITS_AND_NOISE = st.text(
    st.sampled_from("0123456789Xx+-()'. \t\n\x00\u3000" + FULL_WIDTH_DIGITS + "Ｘｘ－（）٣३"), max_size=30
)
CONTROL = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
HUGE = st.text(CHARACTERS, min_size=1, max_size=8).map(lambda text: text * 5000)
ANY_TEXT = st.one_of(SHORT, DIGITS_AND_NOISE, CONTROL, HUGE)

# County codes that stdnum knows for every birth year from 2002 on, in both test provinces.
COUNTIES = ("330127", "330182", "330212", "110101", "110105")
BIRTHS = st.dates(min_value=datetime.date(2002, 1, 1), max_value=datetime.date(2026, 5, 31))


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> str:
    """A real 18-digit ID number: a real county, a real birth date, a sequence, the right check digit."""
    body = f"{draw(st.sampled_from(COUNTIES))}{draw(BIRTHS):%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789X", FULL_WIDTH_DIGITS + "Ｘ"))


def attempt(call: Callable[[], Any]) -> tuple[Any, FieldError | None]:
    """What a validator answered, or the FieldError it raised (anything else propagates)."""
    try:
        return call(), None
    except FieldError as error:
        return None, error


@pytest.fixture(autouse=True)
def _fresh_birth_place_caches() -> Iterator[None]:
    """clean_id_number remembers which county codes exist (in stdnum or in the loaded regions); what the
    arbitrary inputs here taught it must not outlive this module's database."""
    yield
    validation._is_birth_place.cache_clear()
    validation._is_loaded_county.cache_clear()


# --- ID numbers --------------------------------------------------------------------------------------


@pytest.mark.django_db
@PROPERTIES
@given(raw=ANY_TEXT)
def test_any_text_is_an_id_number_or_a_field_error(raw: str) -> None:
    cleaned, error = attempt(lambda: clean_id_number(raw))
    if error is not None:
        assert error.field == "id_number"
        assert error.code in {"id_number_invalid", "id_number_scientific"}
        assert error.message
        return
    assert len(cleaned) == 18
    assert cleaned[:17].isascii()
    assert cleaned[:17].isdigit()
    assert cleaned[17] in "0123456789X"
    assert ric.is_valid(cleaned)
    assert clean_id_number(cleaned) == cleaned


@pytest.mark.django_db
@PROPERTIES
@given(number=valid_id_numbers(), spaced=st.booleans(), apostrophe=st.booleans(), wide=st.booleans())
def test_a_valid_id_number_is_accepted_however_it_is_written(
    number: str, spaced: bool, apostrophe: bool, wide: bool
) -> None:
    written = number.lower()
    if spaced:
        written = f" {written[:6]} {written[6:14]} {written[14:]} "
    if wide:
        written = full_width(written.upper()).replace("Ｘ", "ｘ")
    if apostrophe:
        written = "'" + written

    cleaned = clean_id_number(written)

    assert cleaned == number
    assert clean_id_number(cleaned) == cleaned
    assert validation.id_birth_date(cleaned) == datetime.datetime.strptime(number[6:14], "%Y%m%d").date()


@pytest.mark.django_db
@PROPERTIES
@given(number=valid_id_numbers(), position=st.integers(0, 17), replacement=st.sampled_from("0123456789X"))
def test_a_one_character_change_of_a_valid_id_number_is_refused(
    number: str, position: int, replacement: str
) -> None:
    """ISO 7064 MOD 11-2 catches every single substitution: the check digit never agrees afterwards."""
    if replacement == number[position] or (replacement == "X" and position < 17):
        replacement = "0" if number[position] != "0" else "1"
    changed = number[:position] + replacement + number[position + 1 :]

    with pytest.raises(FieldError) as caught:
        clean_id_number(changed)

    assert caught.value.code == "id_number_invalid"
    assert not ric.is_valid(changed)


# --- Phones ------------------------------------------------------------------------------------------

MOBILES = st.from_regex(r"1[0-9]{10}", fullmatch=True)
LANDLINES = st.builds(
    "{}-{}".format,
    st.from_regex(r"0[1-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[2-9][0-9]{7}", fullmatch=True),
)


@PROPERTIES
@given(raw=ANY_TEXT)
def test_any_text_is_a_phone_or_a_field_error(raw: str) -> None:
    cleaned, error = attempt(lambda: clean_phone(raw, field="guardian_phone"))
    if error is not None:
        assert error.field == "guardian_phone"
        assert error.code in {"mobile_invalid", "landline_without_area_code", "phone_invalid"}
        return
    assert cleaned.isascii()
    assert clean_phone(cleaned) == cleaned


@PROPERTIES
@given(number=st.one_of(MOBILES, LANDLINES), country=st.booleans(), wide=st.booleans())
def test_a_valid_phone_is_accepted_however_it_is_written(number: str, country: bool, wide: bool) -> None:
    written = ("+86" + number if country and number.startswith("1") else number).replace(
        "-", "－" if wide else "-"
    )
    if wide:
        written = full_width(written)

    assert clean_phone(written) == number
    assert clean_phone(clean_phone(written)) == number


@PROPERTIES
@given(raw=ANY_TEXT)
def test_the_blind_index_phone_forms_never_fail(raw: str) -> None:
    """normalise_phone / normalise_mobile feed the blind index: ASCII digits only, fixed points."""
    for normalise in (normalise_phone, normalise_mobile):
        normalised = normalise(raw)
        assert normalised == "" or (normalised.isascii() and normalised.isdigit())
        assert normalise(normalised) == normalised
    assert normalise_phone(full_width(raw)) == normalise_phone(raw)


@PROPERTIES
@given(number=MOBILES)
def test_a_mobile_has_one_blind_index_form_however_written(number: str) -> None:
    forms_written = [
        number,
        f"+86 {number[:3]}-{number[3:7]}-{number[7:]}",
        full_width(number),
        f"86{number}",
    ]
    assert {normalise_mobile(written) for written in forms_written} == {number}


# --- Dates -------------------------------------------------------------------------------------------

CELLS = st.one_of(
    ANY_TEXT,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


@PROPERTIES
@given(value=CELLS)
def test_any_roster_cell_is_a_date_or_a_field_error(value: Any) -> None:
    parsed, error = attempt(lambda: parse_date(value, field="birth_date"))
    if error is not None:
        assert (error.field, error.code) == ("birth_date", "birth_date_invalid")
        assert len(error.message) < 80  # the cell is quoted, cut short: a huge cell makes no huge message
        return
    if parsed is not None:
        day, full = parsed
        assert isinstance(day, datetime.date)
        assert isinstance(full, bool)


@PROPERTIES
@given(day=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31)))
def test_a_date_is_read_back_in_every_roster_spelling(day: datetime.date) -> None:
    spellings: list[CellValue] = [
        day,
        datetime.datetime.combine(day, datetime.time()),
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month}.{day.day}",
        f"{day:%Y/%m/%d}",
        f"{day:%Y%m%d}",
        full_width(f"{day:%Y%m%d}"),
        int(f"{day:%Y%m%d}"),
    ]
    for spelling in spellings:
        assert parse_date(spelling, field="birth_date") == (day, True), spelling
    # Idempotent: what was read reads the same again.
    read = parse_date(day.isoformat(), field="birth_date")
    assert read is not None
    assert parse_date(read[0], field="birth_date") == (day, True)


@PROPERTIES
@given(
    birth=st.dates(), categories=st.integers(0, 2**10 - 1), today=st.dates(min_value=datetime.date(1, 1, 2))
)
def test_the_age_rule_answers_every_date(birth: datetime.date, categories: int, today: datetime.date) -> None:
    _none, error = attempt(lambda: check_age(birth, categories, today=today))
    if error is not None:
        assert error.code in {"birth_date_future", "not_a_minor", "left_behind_too_old"}
        return
    assert birth <= today
    assert validation.age_on(birth, today) < validation.ADULT_AGE


class DateForm(forms.Form):
    day = date_field("日期")


@PROPERTIES
@given(raw=ANY_TEXT)
def test_the_forms_date_field_answers_any_text_with_a_form_error(raw: str) -> None:
    """Every date typed into a page (出生日期, 走访日期, …) is a `date_field`: a date or a form error."""
    form = DateForm(data={"day": raw})
    if form.is_valid():
        assert isinstance(form.cleaned_data["day"], datetime.date)
        assert DateForm(data={"day": form.cleaned_data["day"].isoformat()}).is_valid()
    else:
        assert form.errors["day"]


# --- Region codes ------------------------------------------------------------------------------------

SHORT_CODES = st.sampled_from((2, 4, 6, 9, 12)).flatmap(
    lambda length: st.from_regex(rf"[0-9]{{{length}}}", fullmatch=True)
)


@PROPERTIES
@given(raw=st.one_of(ANY_TEXT, SHORT_CODES, SHORT_CODES.map(full_width), SHORT_CODES.map(" {} ".format)))
def test_any_text_is_a_region_code_or_a_value_error(raw: str) -> None:
    assert region_codes.is_valid_code(raw) in {True, False}
    try:
        code = region_codes.normalise_code(raw)
    except ValueError:
        assert not (raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) in {2, 4, 6, 9, 12})
        return
    assert region_codes.is_valid_code(code)
    assert region_codes.normalise_code(code) == code
    assert code.startswith(raw.strip())
    assert region_codes.level_of(code) in set(RegionLevel)


@PROPERTIES
@given(raw=ANY_TEXT)
def test_level_of_refuses_anything_but_twelve_ascii_digits(raw: str) -> None:
    try:
        level = region_codes.level_of(raw)
    except ValueError:
        assert not region_codes.is_valid_code(raw)
        return
    assert region_codes.is_valid_code(raw)
    assert level in set(RegionLevel)


@PROPERTIES
@given(code=SHORT_CODES.map(region_codes.normalise_code))
def test_a_code_lies_within_each_of_its_ancestors(code: str) -> None:
    for ancestor in region_codes.ancestor_codes(code):
        assert region_codes.is_within(code, ancestor)
        assert region_codes.level_of(ancestor) < region_codes.level_of(code)
    assert region_codes.is_within(code, code)


def test_full_width_region_codes_are_refused() -> None:
    """ASCII digits only (str.isdigit() would let ３３ through, and no region has that code)."""
    for raw in ("３３", "３３０１２７", "330127\x00", "3３0127"):
        with pytest.raises(ValueError, match=re.escape(raw)):
            region_codes.normalise_code(raw)
    assert not region_codes.is_valid_code("３３０１２７１００２１９")


# --- The registry's search ---------------------------------------------------------------------------

INSIDE_NAME, OUTSIDE_NAME = "张三明", "张三丰"
INSIDE_PHONE, OUTSIDE_PHONE = "13905710001", "13905710002"


@pytest.fixture
def two_counties(personas: dict[str, Any]) -> dict[str, Any]:
    """A child in 淳安县 (the township worker's) and one in 建德市, with like names and guardians."""
    inside = MinorFactory(name=INSIDE_NAME, region_id=VILLAGE_A)
    outside = MinorFactory(name=OUTSIDE_NAME, region_id=COMMUNITY_B)
    GuardianFactory(minor=inside, phone=INSIDE_PHONE)
    GuardianFactory(minor=outside, phone=OUTSIDE_PHONE)
    return {"actor": actor_for_user(personas["township_worker"]), "inside": inside, "outside": outside}


def search(actor: Any, q: str) -> list[Minor]:
    return list(minor_list(actor=actor, filters=MinorFilters(q=q, status=None)))


def search_terms(outside: Minor) -> st.SearchStrategy[str]:
    """Arbitrary text, and text built around what would find the child outside the actor's region."""
    id_number = str(outside.id_number)
    known = [OUTSIDE_NAME, id_number, OUTSIDE_PHONE, outside.name_pinyin, outside.name_initials]
    return st.one_of(
        ANY_TEXT,
        st.sampled_from(known),
        st.builds("{}{}{}".format, SHORT, st.sampled_from(known), SHORT),
        st.sampled_from(known).map(full_width),
        st.sampled_from([f"'{id_number}", id_number.lower(), "%", "_", "\\", "%张%", "'; --"]),
    )


@pytest.mark.django_db
def test_search_never_errors_nor_crosses_the_region(two_counties: dict[str, Any]) -> None:
    actor, inside, outside = two_counties["actor"], two_counties["inside"], two_counties["outside"]
    inside_code = actor.region_code

    @PROPERTIES
    @given(q=search_terms(outside))
    def searched(q: str) -> None:
        found = search(actor, q)
        assert all(region_codes.is_within(minor.region_id, inside_code) for minor in found)
        assert outside.pk not in {minor.pk for minor in found}

    searched()
    # The same terms find the child inside: the search works, it is the region that keeps the other out.
    assert [minor.pk for minor in search(actor, inside.id_number)] == [inside.pk]
    assert [minor.pk for minor in search(actor, INSIDE_PHONE)] == [inside.pk]
    assert [minor.pk for minor in search(actor, "张三")] == [inside.pk]
    assert [minor.pk for minor in search(actor, inside.name_initials)] == [inside.pk]
    assert [minor.pk for minor in search(actor, full_width(inside.id_number))] == [inside.pk]
    assert [minor.pk for minor in search(actor, "张\x00三")] == [inside.pk]  # PostgreSQL refuses a NUL
    assert search(actor, "张" * 60_000) == []  # SQLite refuses a LIKE pattern over 50,000 bytes


@pytest.mark.django_db
def test_digits_of_other_scripts_are_no_phone_number(two_counties: dict[str, Any]) -> None:
    """٣٣٣٣٣٣٣ is str.isdigit() but no phone: its blind index would be None, every guardian without one."""
    actor, inside = two_counties["actor"], two_counties["inside"]
    GuardianFactory(minor=MinorFactory(name="李四", region_id=VILLAGE_A), phone="")

    assert search(actor, "٣٣٣٣٣٣٣") == []
    assert search(actor, "３３３３３３３") == []
    assert [minor.pk for minor in search(actor, full_width(INSIDE_PHONE))] == [inside.pk]
