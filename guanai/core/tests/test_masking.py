from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.core.masking import (
    mask,
    mask_address,
    mask_field,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_phone,
    unmask_field,
)
from guanai.core.tests.encryption_testapp.models import SecretThing

ID_NUMBER = "33012720100101002X"
ADDRESS = "浙江省杭州市淳安县千岛湖镇富城村12号"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("司马相如", "司**如"),
        ("买买提·艾力", "买****力"),
        ("张", "*"),
        (" 李四 ", "李*"),
        ("", ""),
    ],
)
def test_names_keep_the_surname_and_the_last_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (ID_NUMBER, "330127********002X"),
        ("330127201001010028", "330127********0028"),
        ("330127801201002", "33***********02"),  # the old 15-digit number
        ("H1234567", "H1****67"),
        ("1234", "****"),
    ],
)
def test_id_numbers_keep_the_region_and_the_last_four(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
    ],
)
def test_mobile_numbers_keep_the_first_three_and_last_four_digits(number: str, masked: str) -> None:
    assert mask_mobile(number) == masked
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("0571-88885678", "0571-****5678"),
        ("057188885678", "0571-****5678"),
        ("(0571)88885678", "0571-****5678"),
        ("010-12345678", "010-****5678"),
        ("01012345678", "010-****5678"),
        ("021-6888 5678", "021-****5678"),
        ("0571-6885678", "0571-***5678"),
        ("88885678", "****5678"),
        ("12345", "*2345"),
    ],
)
def test_landlines_keep_the_area_code_and_the_last_four_digits(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        (ADDRESS, "浙江省杭州市淳安县千岛湖镇****"),
        ("浙江省杭州市建德市新安江街道白沙社区", "浙江省杭州市建德市新安江街道****"),
        ("浙江省宁波市镇海区招宝山街道车站路8号", "浙江省宁波市镇海区招宝山街道****"),
        ("杭州市淳安县威坪镇", "杭州市淳安县威坪镇****"),
        ("浙江省淳安县王阜乡郑家村", "浙江省淳安县王阜乡****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("浙江省杭州市淳安县幸福小区5幢", "浙江省杭州市淳安县****"),
        ("杭州市青城社区3号", "杭州市****"),
        ("吉林省长春市朝阳区红旗街道", "吉林省长春市朝阳区红旗街道****"),
        ("广西壮族自治区南宁市青秀区新竹街道", "广西壮族自治区南宁市青秀区新竹街道****"),
        ("内蒙古自治区锡林郭勒盟锡林浩特市宝力根苏木", "内蒙古自治区锡林郭勒盟锡林浩特市宝力根苏木****"),
        ("湖北省恩施土家族苗族自治州恩施市舞阳坝街道", "湖北省恩施土家族苗族自治州恩施市舞阳坝街道****"),
        ("浙江省杭州市", "浙江省杭州市****"),
        ("文三路100号", "****"),
        ("", ""),
    ],
)
def test_addresses_are_cut_after_the_township(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("name", "张三丰", "张*丰"),
        ("id_number", ID_NUMBER, "330127********002X"),
        ("mobile", "13812345678", "138****5678"),
        ("phone", "0571-88885678", "0571-****5678"),
        ("address", ADDRESS, "浙江省杭州市淳安县千岛湖镇****"),
        ("text", "家中有一位失能老人", "****"),
        ("mobile", None, ""),
        ("text", "", ""),
    ],
)
def test_mask_dispatches_on_the_kind(kind: str, value: Any, masked: str) -> None:
    assert mask(kind, value) == masked


def test_an_unknown_mask_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown mask 'secret'"):
        mask("secret", "x")


def shown(masked: str) -> list[str]:
    return [character for character in masked if character != "*"]


@given(st.text())
def test_a_masked_name_shows_at_most_its_first_and_last_characters(name: str) -> None:
    masked = mask_name(name)
    stripped = name.strip()
    assert len(masked) == len(stripped)
    for position, character in enumerate(masked):
        assert character == "*" or (position in {0, len(stripped) - 1} and character == stripped[position])
    assert len(shown(masked)) <= (1 if len(stripped) == 2 else 2)


@given(st.text(alphabet="0123456789Xx", min_size=0, max_size=20))
def test_a_masked_id_number_shows_at_most_ten_characters_in_place(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert len(shown(masked)) <= (10 if len(number) == 18 else 4)
    assert all(m in {"*", o} for m, o in zip(masked, number, strict=True))


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_hides_the_middle_four_digits(number: str) -> None:
    masked = mask_mobile(number)
    assert masked == number[:3] + "****" + number[7:]


@given(st.text())
def test_a_masked_phone_shows_at_most_the_area_code_and_four_digits(number: str) -> None:
    masked = mask_phone(number)
    assert len([c for c in masked if c not in "*-"]) <= 8


@given(st.text())
def test_a_masked_address_is_a_prefix_of_administrative_divisions(address: str) -> None:
    masked = mask_address(address)
    if not address.strip():
        assert masked == ""
        return
    assert masked.endswith("****")
    kept = masked[: -len("****")]
    assert address.strip().startswith(kept)
    assert not any(character.isdecimal() for character in kept)
    assert kept == "" or kept.endswith(("省", "市", "区", "州", "盟", "县", "旗", "镇", "乡", "街道", "苏木"))


def test_the_template_filters_mask_values_and_fields() -> None:
    thing = SecretThing(id_number=ID_NUMBER, address=ADDRESS)
    template = Template(
        '{% load masking %}{{ mobile|mask:"mobile" }}|{{ thing|mask_field:"id_number" }}|'
        '{{ thing|mask_field:"address" }}|{{ nothing|mask:"name" }}'
    )
    rendered = template.render(Context({"mobile": "13812345678", "thing": thing, "nothing": None}))
    assert rendered == "138****5678|330127********002X|浙江省杭州市淳安县千岛湖镇****|"
    assert mask_field(thing, "id_number") == "330127********002X"


# --- Unmasking one field of one record ----------------------------------------------------------


@pytest.fixture
def thing(db: None) -> SecretThing:
    return SecretThing.objects.create(
        name="girl", region_code="330127100219", id_number=ID_NUMBER, address=ADDRESS
    )


def unmask_events() -> list[tuple[str, str, str, list[str], str]]:
    return list(
        AuditEvent.objects.filter(action="personal_data.unmask")
        .order_by("id")
        .values_list("actor_username", "target_type", "target_id", "changed_fields", "outcome")
    )


def test_an_actor_with_the_permission_unmasks_one_field_and_it_is_audited(
    personas: dict[str, Any], thing: SecretThing
) -> None:
    actor = actor_for_user(personas["county_a_admin"])
    assert unmask_field(actor=actor, instance=thing, field_name="id_number") == ID_NUMBER
    assert unmask_events() == [
        ("p-county-a", "encryption_testapp.secretthing", str(thing.pk), ["id_number"], "success")
    ]
    event = AuditEvent.objects.get(action="personal_data.unmask")
    assert ID_NUMBER not in str(event.detail)


def test_an_actor_without_the_permission_is_refused_and_it_is_audited(
    personas: dict[str, Any], thing: SecretThing
) -> None:
    actor = actor_for_user(personas["volunteer"])
    with pytest.raises(PermissionDeniedError):
        unmask_field(actor=actor, instance=thing, field_name="id_number")
    assert unmask_events() == [
        ("p-volunteer", "encryption_testapp.secretthing", str(thing.pk), ["id_number"], "denied")
    ]


def test_a_record_of_another_region_is_not_found_and_it_is_audited(
    personas: dict[str, Any], thing: SecretThing
) -> None:
    actor = actor_for_user(personas["county_b_admin"])
    with pytest.raises(NotFoundError):
        unmask_field(actor=actor, instance=thing, field_name="id_number")
    assert unmask_events() == [
        ("p-county-b", "encryption_testapp.secretthing", str(thing.pk), ["id_number"], "denied")
    ]


def test_a_field_without_an_unmask_permission_is_never_unmasked(
    personas: dict[str, Any], thing: SecretThing
) -> None:
    actor = actor_for_user(personas["province_admin"])
    with pytest.raises(PermissionDeniedError):
        unmask_field(actor=actor, instance=thing, field_name="address")
    assert [event[-1] for event in unmask_events()] == ["denied"]


def test_only_encrypted_fields_can_be_unmasked(personas: dict[str, Any], thing: SecretThing) -> None:
    actor = actor_for_user(personas["province_admin"])
    with pytest.raises(
        TypeError, match=r"encryption_testapp\.SecretThing\.name is not an EncryptedTextField"
    ):
        unmask_field(actor=actor, instance=thing, field_name="name")
