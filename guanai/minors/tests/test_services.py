from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.minors.models import Consent, DuplicateFlag, Guardian, Minor, TransferRequest
from guanai.minors.services import (
    AlreadyRegistered,
    ConsentInput,
    GuardianInput,
    MinorInput,
    duplicate_merge,
    minor_close,
    minor_register,
    minor_update,
    minors_age_out,
    minors_verification_due,
    transfer_request_create,
)
from guanai.minors.tests.ids import id_number
from guanai.minors.vocabulary import Category, Need, Status

pytestmark = pytest.mark.django_db

FUCHENG = "330127100219"
BAISHA = "330182001020"


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


def child(**overrides: Any) -> MinorInput:
    values: dict[str, Any] = {
        "name": "方小明",
        "region_code": FUCHENG,
        "id_number": id_number(sequence=1),
        "household_type": "rural",
        "address": "浙江省杭州市淳安县千岛湖镇富城村12号",
        "categories": Category.LEFT_BEHIND | Category.HARDSHIP,
        "needs": Need.STUDY | Need.PSYCHOLOGICAL,
        "facts": {"father_situation": "在宁波务工", "mother_situation": "在义乌务工"},
        "guardians": [GuardianInput(name="方建国", relationship="祖父", phone="13905710031")],
        "consents": [
            ConsentInput(
                given_by="方建国",
                relationship="祖父",
                notice_version="2024-1",
                given_on=datetime.date(2026, 1, 5),
                scope=["registration", "pairing"],
            )
        ],
    }
    values.update(overrides)
    return MinorInput(**values)


def test_register_derives_birth_and_gender_and_stores_no_plaintext(actors: dict[str, Actor]) -> None:
    minor = minor_register(actor=actors["county_a_admin"], data=child())
    assert (minor.birth_date, minor.gender) == (datetime.date(2012, 7, 21), "male")
    assert (minor.name_pinyin, minor.name_initials) == ("fangxiaoming", "fxm")
    assert minor.version == 1
    assert Guardian.objects.get(minor=minor).phone == "13905710031"
    assert Consent.objects.get(minor=minor).scope == ["pairing", "registration"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, address FROM minors_minor WHERE id = %s", [minor.pk])
        stored_id, stored_address = cursor.fetchone()
        cursor.execute("SELECT phone FROM minors_guardian WHERE minor_id = %s", [minor.pk])
        (stored_phone,) = cursor.fetchone()
    assert id_number(sequence=1) not in stored_id
    assert "富城村" not in stored_address
    assert "13905710031" not in stored_phone
    event = AuditEvent.objects.filter(action="minor.create").get()
    assert event.target_id == str(minor.pk)
    assert "id_number" in event.changed_fields
    assert id_number(sequence=1) not in str(event.detail)


def test_the_same_child_registered_in_another_county_answers_with_the_county_only(
    actors: dict[str, Actor],
) -> None:
    minor_register(actor=actors["county_a_admin"], data=child())
    with pytest.raises(AlreadyRegistered) as raised:
        minor_register(actor=actors["county_b_admin"], data=child(region_code=BAISHA, name="别的名字"))
    assert raised.value.message == "该儿童已在淳安县登记，可向该县申请转移。"
    assert raised.value.fields == {"id_number": ["已在淳安县登记"]}
    assert Minor.objects.count() == 1
    transfer = transfer_request_create(actor=actors["county_b_admin"], id_number=id_number(sequence=1))
    assert (transfer.from_region_id, transfer.to_region_id) == ("330127000000", "330182000000")
    assert TransferRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": datetime.date(2012, 7, 22)}, "birth_date"),
        ({"gender": "female"}, "gender"),
        ({"id_number": "330127201207210010"}, "id_number"),
        ({"id_number": "", "birth_date": None, "gender": "male"}, "birth_date"),
        ({"region_code": "330127100000"}, "region_code"),  # a township, not a village
        ({"region_code": BAISHA}, "region_code"),  # another county
        ({"household_type": "urban"}, "household_type"),  # left-behind children are rural
        ({"categories": Category.SPECIAL}, "special_kind"),
        ({"facts": {"salary": "1000"}}, "facts"),
        (
            {"guardians": [GuardianInput(name="方建国", relationship="祖父", phone="65012345")]},
            "guardians.0.phone",
        ),
        (
            {
                "id_number": id_number(birth="20150101", sequence=3),  # 11 years old: the guardian consents
                "consents": [
                    ConsentInput(
                        given_by="邻居",
                        relationship="邻居",
                        notice_version="2024-1",
                        given_on=datetime.date(2026, 1, 5),
                        is_guardian=False,
                    )
                ],
            },
            "consents.0",
        ),
        ({"id_number": id_number(birth="20061201", sequence=3)}, "birth_date"),  # 19: not a minor
    ],
)
def test_rules_refuse_with_the_field_named_and_store_nothing(
    actors: dict[str, Actor], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        minor_register(actor=actors["county_a_admin"], data=child(**overrides))
    assert list(raised.value.fields) == [field]
    assert Minor.objects.count() == 0
    assert Guardian.objects.count() == 0


def test_left_behind_children_must_be_under_sixteen(actors: dict[str, Actor]) -> None:
    today = timezone.localdate()
    sixteen = today.replace(year=today.year - 16) - datetime.timedelta(days=1)
    data = child(id_number=id_number(birth=sixteen.strftime("%Y%m%d"), sequence=5))
    with pytest.raises(ValidationFailed) as raised:
        minor_register(actor=actors["county_a_admin"], data=data)
    assert list(raised.value.fields) == ["categories"]
    data.categories = Category.HARDSHIP
    assert minor_register(actor=actors["county_a_admin"], data=data).pk is not None


def test_an_update_based_on_an_old_version_is_a_conflict_and_overwrites_nothing(
    actors: dict[str, Actor],
) -> None:
    minor = minor_register(actor=actors["county_a_admin"], data=child())
    first = minor_update(
        actor=actors["township_worker"], minor_id=minor.pk, version=1, data=child(school="富城小学")
    )
    assert (first.version, first.school) == (2, "富城小学")
    with pytest.raises(ConflictError):
        minor_update(
            actor=actors["county_a_admin"], minor_id=minor.pk, version=1, data=child(school="淳安中学")
        )
    minor.refresh_from_db()
    assert (minor.version, minor.school) == (2, "富城小学")


def test_other_counties_and_roles_cannot_write(actors: dict[str, Actor]) -> None:
    minor = minor_register(actor=actors["county_a_admin"], data=child())
    with pytest.raises(NotFoundError):
        minor_update(actor=actors["county_b_admin"], minor_id=minor.pk, version=1, data=child(school="x"))
    with pytest.raises(NotFoundError):
        minor_close(actor=actors["county_b_admin"], minor_id=minor.pk, reason="x")
    with pytest.raises(NotFoundError):  # not "reason required": the record is looked up first
        minor_close(actor=actors["county_b_admin"], minor_id=minor.pk, reason="")
    for persona in ("volunteer", "auditor", "system_admin", "lawyer"):
        with pytest.raises(PermissionDeniedError):
            minor_register(actor=actors[persona], data=child(id_number=id_number(sequence=9)))
    minor.refresh_from_db()
    assert (minor.status, minor.version) == (Status.ACTIVE, 1)


def test_close_needs_a_reason(actors: dict[str, Actor]) -> None:
    minor = minor_register(actor=actors["county_a_admin"], data=child())
    with pytest.raises(ValidationFailed):
        minor_close(actor=actors["county_a_admin"], minor_id=minor.pk, reason=" ")
    closed = minor_close(actor=actors["county_a_admin"], minor_id=minor.pk, reason="迁出本省")
    assert (closed.status, closed.closed_reason, closed.version) == (Status.CLOSED, "迁出本省", 2)


def test_likely_duplicates_are_flagged_and_merged_keeping_both_histories(actors: dict[str, Actor]) -> None:
    actor = actors["county_a_admin"]
    first = minor_register(
        actor=actor,
        data=child(
            id_number="",
            birth_date=datetime.date(2013, 3, 1),
            gender="female",
            guardians=[],
            consents=[],
            name="李丽",
        ),
    )
    second = minor_register(
        actor=actor,
        data=child(
            id_number=id_number(birth="20130301", sequence=2),
            name="李莉",
            region_code="330127100001",
            categories=Category.MIGRANT,
            consents=[],
        ),
    )
    # 李丽 and 李莉 share the pinyin lili and the birth date.
    flag = DuplicateFlag.objects.get()
    assert (flag.first_id, flag.second_id, flag.reason) == (first.pk, second.pk, "name_birth")
    third = minor_register(
        actor=actor,
        data=child(id_number=id_number(birth="20140101", sequence=7), name="王强", categories=0, consents=[]),
    )
    # 方建国's phone is on the second and the third record.
    phone_flag = DuplicateFlag.objects.get(reason="guardian_phone")
    assert (phone_flag.first_id, phone_flag.second_id) == (second.pk, third.pk)
    kept = duplicate_merge(actor=actor, flag_id=flag.pk, keep_id=second.pk)
    first.refresh_from_db()
    assert first.status == Status.CLOSED
    assert first.closed_reason == f"合并至 #{second.pk}"
    assert kept.categories == Category.MIGRANT | Category.LEFT_BEHIND | Category.HARDSHIP  # both records
    assert set(
        AuditEvent.objects.filter(action__startswith="minor.merged").values_list("target_id", flat=True)
    ) == {str(first.pk), str(second.pk)}
    assert third.pk


def test_records_age_out_at_eighteen_and_verification_due(actors: dict[str, Actor]) -> None:
    today = timezone.localdate()
    turning = today.replace(year=today.year - 18) + datetime.timedelta(days=1)
    minor = minor_register(
        actor=actors["county_a_admin"],
        data=child(
            id_number=id_number(birth=turning.strftime("%Y%m%d"), sequence=11),
            categories=0,
            last_verified_on=today - datetime.timedelta(days=400),
        ),
    )
    fresh = minor_register(
        actor=actors["county_a_admin"],
        data=child(id_number=id_number(sequence=13), last_verified_on=today - datetime.timedelta(days=30)),
    )
    assert minors_age_out(today=today) == 0
    assert set(minors_verification_due(today=today)) == {minor}
    assert minors_age_out(today=today + datetime.timedelta(days=1)) == 1
    minor.refresh_from_db()
    assert (minor.status, minor.closed_reason) == (Status.AGED_OUT, "已满18周岁")
    assert AuditEvent.objects.filter(action="minors.aged_out").get().detail == {"count": 1}
    assert fresh.status == Status.ACTIVE


def test_a_sealed_record_is_in_no_list(actors: dict[str, Actor]) -> None:
    sealed = minor_register(
        actor=actors["county_a_admin"],
        data=child(
            categories=Category.SPECIAL,
            special_kind="misconduct",
            id_number=id_number(birth="20100101", sequence=15),
        ),
    )
    assert sealed.is_sealed
    assert not Minor.objects.visible_to(actors["county_a_admin"]).filter(pk=sealed.pk).exists()
    assert not Minor.objects.visible_to(actors["province_admin"]).filter(pk=sealed.pk).exists()


def test_the_daily_task_closes_the_grown_up_and_counts_verifications_due(actors: dict[str, Actor]) -> None:
    from guanai.minors.tasks import daily_care

    minor_register(actor=actors["county_a_admin"], data=child())  # never verified
    assert daily_care.delay().get() == {"aged_out": 0, "verification_due": 1}
