"""The volunteers' writes: every rule refuses with the field named and its Chinese message, and every
accepted write leaves exactly one audit event naming its action and target."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign
from guanai.audit.models import AuditEvent
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.access import Actor, Role
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.core.testing import database_fingerprint
from guanai.minors.tests.factories import make_id_number
from guanai.regions.models import Region
from guanai.volunteers.models import (
    Honour,
    HoursCorrection,
    ServiceHours,
    Team,
    TeamActivity,
    TeamMembership,
    Training,
    Volunteer,
)
from guanai.volunteers.services import (
    AlreadyRegistered,
    VolunteerInput,
    honour_add,
    honour_roll_consent_set,
    hours_claim,
    hours_confirm,
    hours_correct,
    hours_record,
    hours_record_automatic,
    hours_return,
    is_eligible_for_pairing,
    pairing_refusals,
    team_activity_record,
    team_create,
    team_member_add,
    team_member_remove,
    training_add,
    volunteer_record_check,
    volunteer_register,
    volunteer_set_status,
    volunteer_update,
)
from guanai.volunteers.tests.factories import (
    ServiceHoursFactory,
    TeamFactory,
    TeamMembershipFactory,
    VolunteerFactory,
)
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    STATUS_CHANGES,
    CheckResult,
    ElderCategory,
    HoursSource,
    HoursState,
    Source,
    Specialty,
    Status,
    TeamKind,
    TeamRole,
    availability_bit,
)

pytestmark = pytest.mark.django_db

FUCHENG = "330127100219"  # 富城村, 淳安县 (county A)
QINGCHENG = "330127100001"  # 青城社区, 淳安县 (county A)
BAISHA = "330182001020"  # 白沙社区, 建德市 (county B)
TOWNSHIP_A = "330127100000"  # 千岛湖镇
BIRTH = datetime.date(1955, 3, 8)


def elder_id(sequence: int, county: str = "330127", birth: datetime.date = BIRTH) -> str:
    """A real ID number of an elder born 1955-03-08; odd sequences are men."""
    return make_id_number(county, birth, sequence)


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def elder(**overrides: Any) -> VolunteerInput:
    values: dict[str, Any] = {
        "name": "王建国",
        "region_code": FUCHENG,
        "id_number": elder_id(901),
        "phone": "13905710031",
        "categories": ElderCategory.TEACHER | ElderCategory.VETERAN,
        "specialties": Specialty.TEACHING,
        "teaching_subjects": "数学",
        "availability": availability_bit(0, 0) | availability_bit(5, 1),
        "max_children": 2,
        "check_date": days_ago(10),
        "check_result": CheckResult.CLEAR,
        "check_by": "千岛湖镇派出所",
    }
    values.update(overrides)
    return VolunteerInput(**values)


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def county_a(actors: dict[str, Actor]) -> Actor:
    return actors["county_a_admin"]


def single_event(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action)


# --- Register ------------------------------------------------------------------------------------


def test_register_stores_an_active_volunteer_from_today_and_records_the_fields_it_set(
    county_a: Actor,
) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder())
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.name_pinyin, volunteer.name_initials) == (
        "王建国",
        "wangjianguo",
        "wjg",
    )
    assert (volunteer.birth_date, volunteer.gender) == (BIRTH, "male")
    assert (volunteer.id_number, volunteer.phone) == (elder_id(901), "13905710031")
    assert (volunteer.region_id, volunteer.status, volunteer.source) == (FUCHENG, Status.ACTIVE, Source.STAFF)
    assert (volunteer.joined_on, volunteer.status_changed_on) == (today(), today())
    assert volunteer.categories == ElderCategory.TEACHER | ElderCategory.VETERAN
    assert volunteer.availability == 1 | (1 << 16)
    assert (volunteer.version, volunteer.hours_total, volunteer.paired_count) == (1, Decimal("0"), 0)
    assert volunteer.created_by == county_a.user
    event = single_event("volunteer.create")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.volunteer",
        str(volunteer.pk),
        FUCHENG,
    )
    assert event.changed_fields == [
        "name",
        "region",
        "gender",
        "birth_date",
        "id_number",
        "phone",
        "categories",
        "specialties",
        "teaching_subjects",
        "availability",
        "max_children",
        "check_date",
        "check_result",
        "check_by",
    ]
    assert elder_id(901) not in str(event.detail)


def test_register_keeps_the_id_number_and_phone_encrypted(county_a: Actor) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM volunteers_volunteer WHERE id = %s", [volunteer.pk])
        stored_id, stored_phone = cursor.fetchone()
    assert elder_id(901) not in stored_id
    assert "13905710031" not in stored_phone


def test_register_as_applying_leaves_the_joining_date_open(county_a: Actor) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder(), status=Status.APPLYING)
    assert (volunteer.status, volunteer.joined_on, volunteer.status_changed_on) == (
        Status.APPLYING,
        None,
        today(),
    )


@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.WITHDRAWN, Status.DECEASED, "bogus"])
def test_register_refuses_any_other_starting_status(county_a: Actor, status: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        volunteer_register(actor=county_a, data=elder(), status=status)
    assert raised.value.fields == {"status": ["新登记的志愿者只能是在岗或申请中"]}
    assert Volunteer.objects.count() == 0


def test_register_without_an_id_number_takes_the_birth_date_and_gender_given(county_a: Actor) -> None:
    volunteer = volunteer_register(
        actor=county_a,
        data=elder(id_number="", birth_date=datetime.date(1950, 6, 1), gender="female", phone=""),
    )
    assert (volunteer.id_number, volunteer.birth_date, volunteer.gender, volunteer.phone) == (
        None,
        datetime.date(1950, 6, 1),
        "female",
        "",
    )


def _bad_checksum() -> str:
    valid = elder_id(901)
    return valid[:-1] + ("1" if valid[-1] != "1" else "2")


# (overrides, field, message): one rule each, the field named as the form and the API name it.
FIELD_RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "  "}, "name", "请填写姓名"),
    ({"name": "王" * 51}, "name", "姓名不超过 50 个字"),
    ({"region_code": "abc"}, "region_code", "区划代码应为 12 位数字"),
    ({"region_code": BAISHA}, "region_code", "该村（社区）不在您的管辖范围内"),
    ({"region_code": TOWNSHIP_A}, "region_code", "请选择村（社区）一级的区划"),
    ({"region_code": "330127100999"}, "region_code", "请选择村（社区）一级的区划"),  # not a real village
    ({"id_number": elder_id(901)[:17]}, "id_number", "身份证号应为 18 位"),
    ({"id_number": "__BAD_CHECKSUM__"}, "id_number", "身份证号校验位不正确"),
    (
        {"birth_date": datetime.date(1955, 3, 9)},
        "birth_date",
        "出生日期与身份证号不一致（身份证号为 1955-03-08）",
    ),
    ({"gender": "female"}, "gender", "性别与身份证号不一致（身份证号为男）"),
    ({"id_number": "", "gender": "male"}, "birth_date", "没有身份证号时须填写出生日期"),
    ({"id_number": "", "birth_date": datetime.date(1950, 1, 1)}, "gender", "没有身份证号时须填写性别"),
    (
        {"id_number": "", "birth_date": datetime.date(1950, 1, 1), "gender": "robot"},
        "gender",
        "请选择性别",
    ),
    (
        {"id_number": "", "birth_date": datetime.date(2015, 1, 1), "gender": "male"},
        "birth_date",
        "志愿者须年满 18 周岁",
    ),
    (
        {"id_number": "", "birth_date": datetime.date(2100, 1, 1), "gender": "male"},
        "birth_date",
        "志愿者须年满 18 周岁",
    ),
    ({"phone": "12345"}, "phone", "电话号码格式不正确：手机为 11 位数字，固定电话须带区号"),
    ({"phone": "23905710031"}, "phone", "手机号码应为以 1 开头的 11 位数字"),
    ({"phone": "65012345"}, "phone", "固定电话须带区号，如 0571-65012345"),
    ({"categories": 32}, "categories", "未知的五老类别"),
    ({"categories": -1}, "categories", "未知的五老类别"),
    ({"specialties": 128}, "specialties", "未知的专长"),
    ({"specialties": Specialty.LAW}, "law_licence_number", "法律专长须填写律师执业证号"),
    (
        {"specialties": Specialty.LAW, "law_licence_number": "   "},
        "law_licence_number",
        "法律专长须填写律师执业证号",
    ),
    ({"specialties": Specialty.PSYCHOLOGY}, "psychology_certificate", "心理专长须填写心理咨询资质证书"),
    ({"availability": 1 << 21}, "availability", "可服务时间不正确"),
    ({"max_children": 21}, "max_children", "最多结对人数应在 0 到 20 之间"),
    ({"max_children": -1}, "max_children", "最多结对人数应在 0 到 20 之间"),
    ({"check_date": datetime.date(2100, 1, 1)}, "check_date", "背景审查日期不能晚于今天"),
    ({"check_result": ""}, "check_result", "背景审查日期与结果须同时填写"),
    ({"check_date": None}, "check_date", "背景审查日期与结果须同时填写"),
    ({"check_result": "unknown"}, "check_result", "未知的审查结果"),
    ({"latitude": "北纬", "longitude": Decimal("119.04")}, "latitude", "坐标应为数字"),
    ({"latitude": "nan", "longitude": Decimal("119.04")}, "latitude", "坐标应为数字"),
    ({"latitude": Decimal("90.5"), "longitude": Decimal("119.04")}, "latitude", "坐标超出范围"),
    ({"latitude": Decimal("29.6"), "longitude": Decimal("180.01")}, "longitude", "坐标超出范围"),
    ({"latitude": Decimal("29.6")}, "longitude", "经纬度须同时填写"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    FIELD_RULES,
    ids=[f"{rule[1]}-{n}" for n, rule in enumerate(FIELD_RULES)],
)
def test_register_refuses_each_rule_with_the_field_and_message_and_stores_nothing(
    county_a: Actor, overrides: dict[str, Any], field: str, message: str
) -> None:
    if overrides.get("id_number") == "__BAD_CHECKSUM__":
        overrides = {**overrides, "id_number": _bad_checksum()}
    with pytest.raises(ValidationFailed) as raised:
        volunteer_register(actor=county_a, data=elder(**overrides))
    assert raised.value.fields == {field: [message]}
    assert raised.value.status == 422
    assert Volunteer.objects.count() == 0
    assert not AuditEvent.objects.filter(action="volunteer.create").exists()


def test_register_reports_every_failing_field_at_once(county_a: Actor) -> None:
    with pytest.raises(ValidationFailed) as raised:
        volunteer_register(
            actor=county_a, data=elder(name="", categories=64, availability=-1, max_children=30)
        )
    assert raised.value.fields == {
        "name": ["请填写姓名"],
        "categories": ["未知的五老类别"],
        "availability": ["可服务时间不正确"],
        "max_children": ["最多结对人数应在 0 到 20 之间"],
    }


def test_register_accepts_every_bit_of_the_bit_sets(county_a: Actor) -> None:
    every_category = sum(int(category) for category in ElderCategory)
    every_specialty = sum(int(specialty) for specialty in Specialty)
    volunteer = volunteer_register(
        actor=county_a,
        data=elder(
            categories=every_category,
            specialties=every_specialty,
            law_licence_number="13301200510123456",
            psychology_certificate="心理咨询师二级 1234",
            availability=ALL_AVAILABILITY,
            max_children=20,
        ),
    )
    volunteer.refresh_from_db()
    assert (volunteer.categories, volunteer.specialties, volunteer.availability) == (31, 127, (1 << 21) - 1)
    assert (volunteer.law_licence_number, volunteer.psychology_certificate) == (
        "13301200510123456",
        "心理咨询师二级 1234",
    )


def test_a_lawyer_with_a_licence_and_a_counsellor_with_a_certificate_are_registered(county_a: Actor) -> None:
    lawyer = volunteer_register(
        actor=county_a,
        data=elder(specialties=Specialty.LAW, law_licence_number=" 13301200510123456 "),
    )
    counsellor = volunteer_register(
        actor=county_a,
        data=elder(
            name="李秀英",
            id_number=elder_id(902),
            specialties=Specialty.PSYCHOLOGY,
            psychology_certificate="国家二级心理咨询师",
        ),
    )
    assert (lawyer.law_licence_number, lawyer.psychology_certificate) == ("13301200510123456", "")
    assert (counsellor.psychology_certificate, counsellor.gender) == ("国家二级心理咨询师", "female")


def test_a_licence_without_the_law_specialty_is_not_kept(county_a: Actor) -> None:
    volunteer = volunteer_register(
        actor=county_a,
        data=elder(law_licence_number="13301200510123456", psychology_certificate="国家二级心理咨询师"),
    )
    assert (volunteer.law_licence_number, volunteer.psychology_certificate) == ("", "")


def test_the_same_id_number_in_another_county_answers_409_naming_the_county_only(
    actors: dict[str, Actor],
) -> None:
    volunteer_register(actor=actors["county_a_admin"], data=elder())
    with pytest.raises(AlreadyRegistered) as raised:
        volunteer_register(actor=actors["county_b_admin"], data=elder(region_code=BAISHA, name="别人"))
    assert raised.value.status == 409
    assert raised.value.code == "volunteer_already_registered"
    assert raised.value.message == "该志愿者已在淳安县登记。"
    assert raised.value.fields == {"id_number": ["已在淳安县登记"]}
    assert Volunteer.objects.count() == 1


def test_the_same_id_number_written_in_lower_case_is_still_a_duplicate(county_a: Actor) -> None:
    with_x = next(elder_id(n) for n in range(1, 999) if elder_id(n).endswith("X"))
    volunteer_register(actor=county_a, data=elder(id_number=with_x, gender=""))
    with pytest.raises(AlreadyRegistered):
        volunteer_register(actor=county_a, data=elder(id_number=with_x[:-1] + "x", gender=""))
    assert Volunteer.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "region_code"),
    [("county_b_admin", FUCHENG), ("township_worker", BAISHA), ("county_a_admin", BAISHA)],
)
def test_register_refuses_a_village_outside_the_actors_region(
    actors: dict[str, Actor], persona: str, region_code: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        volunteer_register(actor=actors[persona], data=elder(region_code=region_code))
    assert raised.value.fields == {"region_code": ["该村（社区）不在您的管辖范围内"]}
    assert Volunteer.objects.count() == 0


def test_township_worker_registers_in_a_village_of_the_township(actors: dict[str, Actor]) -> None:
    volunteer = volunteer_register(actor=actors["township_worker"], data=elder(region_code=QINGCHENG))
    assert volunteer.region_id == QINGCHENG


# --- Update --------------------------------------------------------------------------------------


def test_update_saves_over_the_version_edited_and_records_the_changed_fields(county_a: Actor) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder())
    updated = volunteer_update(
        actor=county_a,
        volunteer_id=volunteer.pk,
        version=1,
        data=elder(name="汪建国", region_code=QINGCHENG, max_children=3, dialects="淳安话"),
    )
    updated.refresh_from_db()
    assert (updated.version, updated.name, updated.name_pinyin, updated.name_initials) == (
        2,
        "汪建国",
        "wangjianguo",
        "wjg",
    )
    assert (updated.region_id, updated.max_children, updated.dialects) == (QINGCHENG, 3, "淳安话")
    event = single_event("volunteer.update")
    assert (event.target_id, event.changed_fields) == (
        str(volunteer.pk),
        ["name", "region", "max_children", "dialects"],
    )
    assert event.region_code == QINGCHENG


def test_an_update_based_on_an_old_version_is_a_conflict_and_overwrites_nothing(
    actors: dict[str, Actor],
) -> None:
    volunteer = volunteer_register(actor=actors["county_a_admin"], data=elder())
    volunteer_update(
        actor=actors["township_worker"], volunteer_id=volunteer.pk, version=1, data=elder(dialects="淳安话")
    )
    with pytest.raises(ConflictError) as raised:
        volunteer_update(
            actor=actors["county_a_admin"],
            volunteer_id=volunteer.pk,
            version=1,
            data=elder(dialects="普通话"),
        )
    assert raised.value.status == 409
    assert raised.value.message == "该记录已被他人修改（当前版本 2，您编辑的是版本 1），请刷新后重新修改。"
    volunteer.refresh_from_db()
    assert (volunteer.version, volunteer.dialects) == (2, "淳安话")
    assert AuditEvent.objects.filter(action="volunteer.update").count() == 1


def test_update_keeping_the_own_id_number_is_not_a_duplicate_but_taking_anothers_is(county_a: Actor) -> None:
    first = volunteer_register(actor=county_a, data=elder())
    second = volunteer_register(actor=county_a, data=elder(name="李秀英", id_number=elder_id(902)))
    volunteer_update(actor=county_a, volunteer_id=first.pk, version=1, data=elder(former_unit="淳安中学"))
    with pytest.raises(AlreadyRegistered):
        volunteer_update(
            actor=county_a,
            volunteer_id=second.pk,
            version=1,
            data=elder(name="李秀英", id_number=elder_id(901)),
        )
    second.refresh_from_db()
    assert (second.id_number, second.version) == (elder_id(902), 1)


def test_update_cannot_lower_the_capacity_below_the_children_paired(county_a: Actor) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder(max_children=3))
    Volunteer.objects.filter(pk=volunteer.pk).update(paired_count=2)
    with pytest.raises(ValidationFailed) as raised:
        volunteer_update(actor=county_a, volunteer_id=volunteer.pk, version=1, data=elder(max_children=1))
    assert raised.value.fields == {"max_children": ["已有 2 名结对儿童，最多结对人数不能更少"]}
    volunteer.refresh_from_db()
    assert (volunteer.max_children, volunteer.version) == (3, 1)
    assert volunteer_update(actor=county_a, volunteer_id=volunteer.pk, version=1, data=elder(max_children=2))


def test_update_validates_like_register(county_a: Actor) -> None:
    volunteer = volunteer_register(actor=county_a, data=elder())
    with pytest.raises(ValidationFailed) as raised:
        volunteer_update(
            actor=county_a, volunteer_id=volunteer.pk, version=1, data=elder(specialties=Specialty.LAW)
        )
    assert raised.value.fields == {"law_licence_number": ["法律专长须填写律师执业证号"]}
    volunteer.refresh_from_db()
    assert (volunteer.specialties, volunteer.version) == (Specialty.TEACHING, 1)


# --- Status --------------------------------------------------------------------------------------

ALL_CHANGES = [(old, new) for old in Status.values for new in Status.values]


@pytest.mark.parametrize(("old", "new"), ALL_CHANGES, ids=[f"{old}-{new}" for old, new in ALL_CHANGES])
def test_only_the_allowed_status_changes_are_made(county_a: Actor, old: str, new: str) -> None:
    volunteer = VolunteerFactory.create(
        status=old, status_reason="" if old in ("applying", "active") else "旧原因"
    )
    allowed = {
        ("applying", "active"),
        ("applying", "withdrawn"),
        ("active", "suspended"),
        ("active", "withdrawn"),
        ("active", "deceased"),
        ("suspended", "active"),
        ("suspended", "withdrawn"),
        ("suspended", "deceased"),
        ("withdrawn", "active"),
        ("withdrawn", "deceased"),
    }
    assert {(o, n) for o, targets in STATUS_CHANGES.items() for n in targets} == allowed
    if (old, new) in allowed:
        changed = volunteer_set_status(
            actor=county_a, volunteer_id=volunteer.pk, status=new, reason="身体原因"
        )
        changed.refresh_from_db()
        assert (changed.status, changed.status_changed_on, changed.version) == (new, today(), 2)
        event = single_event("volunteer.status")
        assert (event.target_id, event.changed_fields, event.detail) == (
            str(volunteer.pk),
            ["status"],
            {"from": old, "to": new},
        )
    else:
        with pytest.raises(ConflictError) as raised:
            volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=new, reason="身体原因")
        old_label, new_label = Status(old).label, Status(new).label
        assert raised.value.message == f"不能从“{old_label}”改为“{new_label}”"
        volunteer.refresh_from_db()
        assert (volunteer.status, volunteer.version) == (old, 1)
        assert not AuditEvent.objects.filter(action="volunteer.status").exists()


def test_an_unknown_status_is_refused_by_name(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ConflictError) as raised:
        volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status="retired", reason="x")
    assert raised.value.message == "不能从“在岗”改为“retired”"


@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.WITHDRAWN, Status.DECEASED])
@pytest.mark.parametrize("reason", ["", "   "])
def test_leaving_active_needs_a_reason(county_a: Actor, status: str, reason: str) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValidationFailed) as raised:
        volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=status, reason=reason)
    assert raised.value.fields == {"reason": ["请填写原因"]}
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.version) == (Status.ACTIVE, 1)


def test_suspension_keeps_its_reason_and_a_return_to_active_needs_none(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create(joined_on=datetime.date(2024, 3, 1))
    suspended = volunteer_set_status(
        actor=county_a,
        volunteer_id=volunteer.pk,
        status=Status.SUSPENDED,
        reason=" 住院治疗 ",
        on=days_ago(2),
    )
    assert (suspended.status_reason, suspended.status_changed_on) == ("住院治疗", days_ago(2))
    back = volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=Status.ACTIVE)
    back.refresh_from_db()
    assert (back.status, back.status_reason, back.joined_on, back.version) == (
        Status.ACTIVE,
        "",
        datetime.date(2024, 3, 1),
        3,
    )


def test_an_approved_applicant_joins_on_the_day_of_the_change(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create(status=Status.APPLYING, joined_on=None)
    active = volunteer_set_status(
        actor=county_a, volunteer_id=volunteer.pk, status=Status.ACTIVE, on=days_ago(1)
    )
    assert (active.joined_on, active.status_changed_on) == (days_ago(1), days_ago(1))


def test_deceased_is_final(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=Status.DECEASED, reason="病故")
    for status in Status.values:
        with pytest.raises(ConflictError):
            volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=status, reason="更正")
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.status_reason, volunteer.version) == (Status.DECEASED, "病故", 2)


def test_a_status_change_cannot_be_dated_in_the_future(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValidationFailed) as raised:
        volunteer_set_status(
            actor=county_a,
            volunteer_id=volunteer.pk,
            status=Status.SUSPENDED,
            reason="外出",
            on=today() + datetime.timedelta(days=1),
        )
    assert raised.value.fields == {"on": ["日期不能晚于今天"]}


@pytest.mark.parametrize("source", [Source.SIGNUP, Source.INVITATION])
def test_a_sign_up_is_decided_in_the_review_not_by_a_status_change(county_a: Actor, source: str) -> None:
    volunteer = VolunteerFactory.create(status=Status.APPLYING, source=source, joined_on=None)
    with pytest.raises(ConflictError) as raised:
        volunteer_set_status(actor=county_a, volunteer_id=volunteer.pk, status=Status.ACTIVE)
    assert raised.value.message == "本人报名的申请请在“报名审核”中通过或退回"
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.version) == (Status.APPLYING, 1)


# --- Background checks ---------------------------------------------------------------------------


def test_recording_a_check_sets_date_result_and_checker(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create(check_date=None, check_result="", check_by="")
    checked = volunteer_record_check(
        actor=county_a,
        volunteer_id=volunteer.pk,
        checked_on=days_ago(1),
        result=CheckResult.CLEAR,
        checked_by=" 千岛湖镇派出所 ",
    )
    checked.refresh_from_db()
    assert (checked.check_date, checked.check_result, checked.check_by, checked.version) == (
        days_ago(1),
        CheckResult.CLEAR,
        "千岛湖镇派出所",
        2,
    )
    event = single_event("volunteer.background_check")
    assert (event.target_type, event.target_id, event.changed_fields) == (
        "volunteers.volunteer",
        str(volunteer.pk),
        ["check_date", "check_result", "check_by"],
    )


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"result": "unknown"}, "result", "请选择审查结果"),
        ({"checked_on": datetime.date(2100, 1, 1)}, "checked_on", "背景审查日期不能晚于今天"),
        ({"checked_by": "  "}, "checked_by", "请填写审查单位（人）"),
    ],
)
def test_a_check_is_refused_without_a_known_result_a_past_date_and_a_checker(
    county_a: Actor, arguments: dict[str, Any], field: str, message: str
) -> None:
    volunteer = VolunteerFactory.create(check_date=None, check_result="", check_by="")
    values: dict[str, Any] = {
        "checked_on": days_ago(1),
        "result": CheckResult.FLAGGED,
        "checked_by": "派出所",
    }
    values.update(arguments)
    with pytest.raises(ValidationFailed) as raised:
        volunteer_record_check(actor=county_a, volunteer_id=volunteer.pk, **values)
    assert raised.value.fields == {field: [message]}
    volunteer.refresh_from_db()
    assert (volunteer.check_date, volunteer.version) == (None, 1)


# --- Eligibility for pairing ---------------------------------------------------------------------

DAY = datetime.date(2026, 6, 15)


def test_an_active_volunteer_with_a_recent_clear_check_and_room_may_be_paired() -> None:
    volunteer = Volunteer(
        status=Status.ACTIVE, check_date=DAY, check_result=CheckResult.CLEAR, max_children=1
    )
    assert pairing_refusals(volunteer, today=DAY) == []
    assert is_eligible_for_pairing(volunteer, today=DAY) is True


@pytest.mark.parametrize(
    ("check_date", "check_result", "refusal"),
    [
        (None, "", "没有背景审查记录"),
        (None, CheckResult.CLEAR, "没有背景审查记录"),
        (DAY - datetime.timedelta(days=20), "", "没有背景审查记录"),
        (DAY - datetime.timedelta(days=20), CheckResult.FLAGGED, "背景审查结果为有不良记录"),
        (
            DAY - datetime.timedelta(days=366),
            CheckResult.CLEAR,
            "背景审查有效期至 2026-06-14，已过期，须重新审查",
        ),
        (datetime.date(2024, 4, 6), CheckResult.CLEAR, "背景审查有效期至 2025-04-06，已过期，须重新审查"),
        (DAY + datetime.timedelta(days=1), CheckResult.CLEAR, "背景审查日期（2026-06-16）晚于今天，请核实"),
    ],
)
def test_pairing_is_refused_without_a_valid_clear_check(
    check_date: datetime.date | None, check_result: str, refusal: str
) -> None:
    volunteer = Volunteer(
        status=Status.ACTIVE, check_date=check_date, check_result=check_result, max_children=3
    )
    assert pairing_refusals(volunteer, today=DAY) == [refusal]
    assert is_eligible_for_pairing(volunteer, today=DAY) is False


def test_a_check_exactly_365_days_old_is_still_valid_and_one_day_more_is_not() -> None:
    volunteer = Volunteer(
        status=Status.ACTIVE, check_date=DAY - datetime.timedelta(days=365), check_result=CheckResult.CLEAR
    )
    assert pairing_refusals(volunteer, today=DAY) == []
    assert pairing_refusals(volunteer, today=DAY + datetime.timedelta(days=1)) == [
        "背景审查有效期至 2026-06-15，已过期，须重新审查"
    ]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Status.APPLYING, "申请中"),
        (Status.SUSPENDED, "暂停"),
        (Status.WITHDRAWN, "退出"),
        (Status.DECEASED, "已故"),
    ],
)
def test_only_an_active_volunteer_may_be_paired(status: str, label: str) -> None:
    volunteer = Volunteer(status=status, check_date=DAY, check_result=CheckResult.CLEAR)
    assert pairing_refusals(volunteer, today=DAY) == [f"志愿者当前状态为“{label}”"]


@pytest.mark.parametrize(("max_children", "paired_count"), [(3, 3), (0, 0), (2, 3)])
def test_a_volunteer_without_capacity_is_not_paired(max_children: int, paired_count: int) -> None:
    volunteer = Volunteer(
        status=Status.ACTIVE,
        check_date=DAY,
        check_result=CheckResult.CLEAR,
        max_children=max_children,
        paired_count=paired_count,
    )
    assert pairing_refusals(volunteer, today=DAY) == [f"结对人数已满（最多 {max_children} 人）"]


def test_every_reason_is_given_in_order() -> None:
    volunteer = Volunteer(status=Status.SUSPENDED, check_date=None, max_children=1, paired_count=1)
    assert pairing_refusals(volunteer, today=DAY) == [
        "志愿者当前状态为“暂停”",
        "没有背景审查记录",
        "结对人数已满（最多 1 人）",
    ]


def test_pairing_refusals_default_to_today() -> None:
    volunteer = Volunteer(status=Status.ACTIVE, check_date=days_ago(365), check_result=CheckResult.CLEAR)
    assert pairing_refusals(volunteer) == []
    volunteer.check_date = days_ago(366)
    assert len(pairing_refusals(volunteer)) == 1


# --- Service hours -------------------------------------------------------------------------------


@pytest.fixture
def own_volunteer(personas: dict[str, Any]) -> Volunteer:
    """The volunteer record of the volunteer persona (富城村)."""
    return VolunteerFactory.create(user=personas["volunteer"], name="方志强")


def hours_total(volunteer: Volunteer) -> Decimal:
    volunteer.refresh_from_db()
    return volunteer.hours_total


def test_the_organiser_records_hours_confirmed_and_counted_at_once(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    record = hours_record(
        actor=county_a,
        volunteer_id=volunteer.pk,
        served_on=days_ago(3),
        hours="2.5",
        description=" 入户走访 ",
        organiser=" 千岛湖镇关工委 ",
    )
    record.refresh_from_db()
    assert (record.state, record.source, record.hours, record.served_on) == (
        HoursState.CONFIRMED,
        HoursSource.ORGANISER,
        Decimal("2.5"),
        days_ago(3),
    )
    assert (record.description, record.organiser) == ("入户走访", "千岛湖镇关工委")
    assert (record.recorded_by, record.confirmed_by) == (county_a.user, county_a.user)
    assert record.confirmed_at is not None
    assert hours_total(volunteer) == Decimal("2.5")
    hours_record(
        actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(2), hours=1, description="讲座"
    )
    assert hours_total(volunteer) == Decimal("3.5")
    event = AuditEvent.objects.filter(action="hours.record").order_by("id").first()
    assert event is not None
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.servicehours",
        str(record.pk),
        FUCHENG,
    )


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "时长应大于 0、不超过 24 小时"),
        (0, "时长应大于 0、不超过 24 小时"),
        ("0.04", "时长应大于 0、不超过 24 小时"),  # rounds to 0.0
        ("-1", "时长应大于 0、不超过 24 小时"),
        ("24.1", "时长应大于 0、不超过 24 小时"),
        (24.1, "时长应大于 0、不超过 24 小时"),
        ("1e30", "时长应大于 0、不超过 24 小时"),
        ("两小时", "时长应为数字"),
        ("", "时长应为数字"),
        ("nan", "时长应为数字"),
        ("Infinity", "时长应为数字"),
        (None, "时长应为数字"),
    ],
)
def test_hours_must_be_a_number_above_zero_and_at_most_a_day(
    county_a: Actor, hours: Any, message: str
) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValidationFailed) as raised:
        hours_record(
            actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(1), hours=hours, description="走访"
        )
    assert raised.value.fields == {"hours": [message]}
    assert ServiceHours.objects.count() == 0
    assert hours_total(volunteer) == Decimal("0")


@pytest.mark.parametrize(("hours", "stored"), [("24", "24.0"), ("0.1", "0.1"), (1.25, "1.2"), ("3", "3.0")])
def test_hours_within_the_bounds_are_kept_to_a_tenth(county_a: Actor, hours: Any, stored: str) -> None:
    volunteer = VolunteerFactory.create()
    record = hours_record(
        actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(1), hours=hours, description="走访"
    )
    record.refresh_from_db()
    assert record.hours == Decimal(stored)
    assert hours_total(volunteer) == Decimal(stored)


def test_recorded_service_needs_a_description_and_a_past_date(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValidationFailed) as raised:
        hours_record(
            actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(1), hours=1, description=" "
        )
    assert raised.value.fields == {"description": ["请填写服务内容"]}
    with pytest.raises(ValidationFailed) as raised:
        hours_record(
            actor=county_a,
            volunteer_id=volunteer.pk,
            served_on=today() + datetime.timedelta(days=1),
            hours=1,
            description="走访",
        )
    assert raised.value.fields == {"served_on": ["服务日期不能晚于今天"]}
    assert ServiceHours.objects.count() == 0


def test_a_claim_waits_for_confirmation_and_is_not_counted(
    actors: dict[str, Actor], own_volunteer: Volunteer
) -> None:
    claim = hours_claim(
        actor=actors["volunteer"],
        served_on=days_ago(5),
        hours="3",
        description="辅导作业",
        organiser="富城村关工小组",
    )
    claim.refresh_from_db()
    assert (claim.volunteer_id, claim.state, claim.source, claim.hours) == (
        own_volunteer.pk,
        HoursState.PENDING,
        HoursSource.CLAIM,
        Decimal("3.0"),
    )
    assert (claim.recorded_by, claim.confirmed_by, claim.confirmed_at) == (
        actors["volunteer"].user,
        None,
        None,
    )
    assert hours_total(own_volunteer) == Decimal("0")
    event = single_event("hours.claim")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.servicehours",
        str(claim.pk),
        FUCHENG,
    )


def test_a_claim_needs_a_description_and_an_organiser(
    actors: dict[str, Actor], own_volunteer: Volunteer
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        hours_claim(actor=actors["volunteer"], served_on=days_ago(1), hours=1, description="", organiser=" ")
    assert raised.value.fields == {
        "description": ["请填写服务内容"],
        "organiser": ["请填写组织单位，由其确认"],
    }
    assert ServiceHours.objects.count() == 0


def test_only_an_active_volunteer_with_a_record_may_claim(
    actors: dict[str, Actor], personas: dict[str, Any]
) -> None:
    with pytest.raises(NotFoundError) as raised:
        hours_claim(actor=actors["volunteer"], served_on=days_ago(1), hours=1, description="x", organiser="y")
    assert raised.value.message == "您的账号尚未关联志愿者档案，请联系所在乡镇（街道）关工委"
    VolunteerFactory.create(user=personas["volunteer"], status=Status.SUSPENDED, status_reason="住院")
    with pytest.raises(ConflictError) as conflict:
        hours_claim(actor=actors["volunteer"], served_on=days_ago(1), hours=1, description="x", organiser="y")
    assert conflict.value.message == "只有在岗志愿者可以申报服务时长"
    with pytest.raises(PermissionDeniedError):
        hours_claim(
            actor=actors["county_a_admin"], served_on=days_ago(1), hours=1, description="x", organiser="y"
        )
    assert ServiceHours.objects.count() == 0


def test_confirming_a_claim_counts_it_once(actors: dict[str, Actor], own_volunteer: Volunteer) -> None:
    claim = hours_claim(
        actor=actors["volunteer"],
        served_on=days_ago(5),
        hours="3",
        description="辅导作业",
        organiser="富城村",
    )
    confirmed = hours_confirm(actor=actors["township_worker"], record_id=claim.pk)
    confirmed.refresh_from_db()
    assert (confirmed.state, confirmed.confirmed_by) == (HoursState.CONFIRMED, actors["township_worker"].user)
    assert confirmed.confirmed_at is not None
    assert hours_total(own_volunteer) == Decimal("3.0")
    with pytest.raises(ConflictError) as raised:
        hours_confirm(actor=actors["county_a_admin"], record_id=claim.pk)
    assert raised.value.message == "该记录不是待确认状态"
    assert hours_total(own_volunteer) == Decimal("3.0")
    event = single_event("hours.confirm")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.servicehours",
        str(claim.pk),
        FUCHENG,
    )


def test_nobody_confirms_their_own_claim(personas: dict[str, Any], own_volunteer: Volunteer) -> None:
    user = personas["volunteer"]
    role_assign(
        user=user,
        role=Role.TOWNSHIP_ADMIN,
        region=Region.objects.get(code=TOWNSHIP_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    by_role = {assignment.role: assignment.pk for assignment in actor_for_user(user).assignments}
    as_volunteer = actor_for_user(user, assignment_id=by_role[Role.VOLUNTEER])
    as_staff = actor_for_user(user, assignment_id=by_role[Role.TOWNSHIP_ADMIN])
    claim = hours_claim(
        actor=as_volunteer, served_on=days_ago(2), hours=4, description="护学岗", organiser="富城村"
    )
    with pytest.raises(ConflictError) as raised:
        hours_confirm(actor=as_staff, record_id=claim.pk)
    assert raised.value.message == "不能确认本人申报的时长"
    claim.refresh_from_db()
    assert claim.state == HoursState.PENDING
    assert hours_total(own_volunteer) == Decimal("0")


def test_a_claim_returned_with_a_reason_is_never_counted(
    actors: dict[str, Actor], own_volunteer: Volunteer
) -> None:
    claim = hours_claim(
        actor=actors["volunteer"],
        served_on=days_ago(5),
        hours="3",
        description="辅导作业",
        organiser="富城村",
    )
    with pytest.raises(NotFoundError):  # another county's claim, whatever the form holds
        hours_return(actor=actors["county_b_admin"], record_id=claim.pk, reason="  ")
    with pytest.raises(ValidationFailed) as raised:
        hours_return(actor=actors["township_worker"], record_id=claim.pk, reason="  ")
    assert raised.value.fields == {"reason": ["请填写退回原因"]}
    returned = hours_return(actor=actors["township_worker"], record_id=claim.pk, reason=" 当天未组织该活动 ")
    returned.refresh_from_db()
    assert (returned.state, returned.return_reason) == (HoursState.RETURNED, "当天未组织该活动")
    with pytest.raises(ConflictError):
        hours_confirm(actor=actors["township_worker"], record_id=claim.pk)
    with pytest.raises(ConflictError):
        hours_return(actor=actors["township_worker"], record_id=claim.pk, reason="again")
    assert hours_total(own_volunteer) == Decimal("0")
    event = single_event("hours.return")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.servicehours",
        str(claim.pk),
        FUCHENG,
    )


def test_a_correction_keeps_the_old_values_moves_the_total_and_is_audited(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    record = hours_record(
        actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(10), hours="3", description="走访"
    )
    hours_record(
        actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(9), hours="1", description="走访"
    )
    assert hours_total(volunteer) == Decimal("4.0")
    corrected = hours_correct(
        actor=county_a, record_id=record.pk, hours="2.5", served_on=days_ago(11), reason=" 含路途时间 "
    )
    corrected.refresh_from_db()
    assert (corrected.hours, corrected.served_on, corrected.state) == (
        Decimal("2.5"),
        days_ago(11),
        HoursState.CONFIRMED,
    )
    correction = HoursCorrection.objects.get()
    assert (
        correction.record_id,
        correction.hours_before,
        correction.hours_after,
        correction.served_on_before,
        correction.served_on_after,
        correction.reason,
        correction.corrected_by,
    ) == (record.pk, Decimal("3.0"), Decimal("2.5"), days_ago(10), days_ago(11), "含路途时间", county_a.user)
    assert hours_total(volunteer) == Decimal("3.5")
    event = single_event("hours.correct")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.servicehours",
        str(record.pk),
        FUCHENG,
    )
    assert (event.changed_fields, event.detail) == (["hours", "served_on"], {"correction": correction.pk})
    hours_correct(actor=county_a, record_id=record.pk, hours="4", reason="补记")
    assert hours_total(volunteer) == Decimal("5.0")
    assert list(HoursCorrection.objects.values_list("hours_before", "hours_after")) == [
        (Decimal("3.0"), Decimal("2.5")),
        (Decimal("2.5"), Decimal("4.0")),
    ]


def test_correcting_only_the_date_leaves_the_total(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    record = hours_record(
        actor=county_a, volunteer_id=volunteer.pk, served_on=days_ago(10), hours="3", description="走访"
    )
    hours_correct(actor=county_a, record_id=record.pk, hours="3", served_on=days_ago(12), reason="日期记错")
    record.refresh_from_db()
    assert (record.served_on, hours_total(volunteer)) == (days_ago(12), Decimal("3.0"))


def test_a_correction_needs_a_reason_a_change_and_a_confirmed_record(
    actors: dict[str, Actor], own_volunteer: Volunteer
) -> None:
    county_a = actors["county_a_admin"]
    record = hours_record(
        actor=county_a, volunteer_id=own_volunteer.pk, served_on=days_ago(10), hours="3", description="走访"
    )
    with pytest.raises(ValidationFailed) as raised:
        hours_correct(actor=county_a, record_id=record.pk, hours="2", reason=" ")
    assert raised.value.fields == {"reason": ["更正须填写原因"]}
    with pytest.raises(ValidationFailed) as raised:
        hours_correct(actor=county_a, record_id=record.pk, hours="3.0", reason="核对")
    assert raised.value.fields == {"hours": ["更正后的时长与日期与原记录相同"]}
    with pytest.raises(ValidationFailed) as raised:
        hours_correct(actor=county_a, record_id=record.pk, hours="25", reason="核对")
    assert raised.value.fields == {"hours": ["时长应大于 0、不超过 24 小时"]}
    with pytest.raises(ValidationFailed) as raised:
        hours_correct(
            actor=county_a,
            record_id=record.pk,
            hours="2",
            served_on=today() + datetime.timedelta(1),
            reason="x",
        )
    assert raised.value.fields == {"served_on": ["服务日期不能晚于今天"]}
    claim = hours_claim(
        actor=actors["volunteer"], served_on=days_ago(5), hours="3", description="辅导", organiser="富城村"
    )
    with pytest.raises(ConflictError) as conflict:
        hours_correct(actor=county_a, record_id=claim.pk, hours="2", reason="核对")
    assert conflict.value.message == "只能更正已确认的记录"
    assert HoursCorrection.objects.count() == 0
    assert hours_total(own_volunteer) == Decimal("3.0")


def test_an_automatic_record_counts_once_per_source_key(regions: None) -> None:
    volunteer = VolunteerFactory.create()
    first = hours_record_automatic(
        volunteer=volunteer,
        served_on=datetime.date(2026, 5, 3),
        hours="1.5",
        description="走访",
        source=HoursSource.VISIT,
        source_key="visit:123",
        organiser="富城村",
    )
    again = hours_record_automatic(
        volunteer=volunteer,
        served_on=datetime.date(2026, 5, 3),
        hours="1.5",
        description="走访",
        source=HoursSource.VISIT,
        source_key="visit:123",
    )
    assert again.pk == first.pk
    assert ServiceHours.objects.count() == 1
    assert (first.state, first.source, first.source_key) == (
        HoursState.CONFIRMED,
        HoursSource.VISIT,
        "visit:123",
    )
    assert hours_total(volunteer) == Decimal("1.5")
    hours_record_automatic(
        volunteer=volunteer,
        served_on=datetime.date(2026, 5, 4),
        hours="1",
        description="走访",
        source=HoursSource.VISIT,
        source_key="visit:124",
    )
    assert hours_total(volunteer) == Decimal("2.5")


@pytest.mark.parametrize("source", [HoursSource.ORGANISER, HoursSource.CLAIM, "other"])
def test_an_automatic_record_refuses_a_manual_source(regions: None, source: str) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValueError, match="not an automatic source"):
        hours_record_automatic(
            volunteer=volunteer,
            served_on=datetime.date(2026, 5, 3),
            hours="1",
            description="走访",
            source=source,
            source_key="visit:1",
        )
    assert ServiceHours.objects.count() == 0


# --- Teams ---------------------------------------------------------------------------------------


@pytest.fixture
def committee(regions: None) -> Any:
    return CommitteeFactory.create(region_id=TOWNSHIP_A, name="千岛湖镇关工委")


def test_a_team_belongs_to_its_committees_region(county_a: Actor, committee: Any) -> None:
    team = team_create(
        actor=county_a,
        committee_id=committee.pk,
        name=" 千岛湖镇五老关爱团 ",
        kind=TeamKind.CARE_GROUP,
        description="关爱留守儿童",
        founded_on=datetime.date(2020, 5, 4),
    )
    team.refresh_from_db()
    assert (team.name, team.kind, team.region_id, team.committee_id, team.founded_on) == (
        "千岛湖镇五老关爱团",
        TeamKind.CARE_GROUP,
        TOWNSHIP_A,
        committee.pk,
        datetime.date(2020, 5, 4),
    )
    event = single_event("team.create")
    assert (event.target_type, event.target_id, event.region_code) == (
        "volunteers.team",
        str(team.pk),
        TOWNSHIP_A,
    )


def test_a_committee_cannot_have_two_teams_of_one_name(county_a: Actor, committee: Any) -> None:
    team_create(actor=county_a, committee_id=committee.pk, name="讲师团", kind=TeamKind.LECTURERS)
    with pytest.raises(ValidationFailed) as raised:
        team_create(actor=county_a, committee_id=committee.pk, name=" 讲师团 ", kind=TeamKind.CARE_GROUP)
    assert raised.value.fields == {"name": ["该关工委已有同名队伍"]}
    other = CommitteeFactory.create(region_id="330127000000", name="淳安县关工委")
    team_create(actor=county_a, committee_id=other.pk, name="讲师团", kind=TeamKind.LECTURERS)
    assert sorted(Team.objects.values_list("committee_id", flat=True)) == sorted([committee.pk, other.pk])


def test_a_team_needs_a_name_a_kind_and_a_past_founding_date(county_a: Actor, committee: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        team_create(
            actor=county_a,
            committee_id=committee.pk,
            name=" ",
            kind="choir",
            founded_on=datetime.date(2100, 1, 1),
        )
    assert raised.value.fields == {
        "name": ["请填写名称"],
        "kind": ["请选择队伍类型"],
        "founded_on": ["成立日期不能晚于今天"],
    }
    with pytest.raises(ValidationFailed) as raised:
        team_create(actor=county_a, committee_id=committee.pk, name="名" * 101, kind=TeamKind.CARE_GROUP)
    assert raised.value.fields == {"name": ["名称不超过 100 个字"]}
    assert Team.objects.count() == 0


@pytest.fixture
def team(committee: Any) -> Team:
    return TeamFactory.create(committee=committee, name="千岛湖镇五老关爱团")


def test_a_volunteer_joins_as_a_member_and_becomes_leader(county_a: Actor, team: Team) -> None:
    volunteer = VolunteerFactory.create()
    membership = team_member_add(
        actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk, joined_on=datetime.date(2026, 1, 1)
    )
    assert (membership.team_id, membership.volunteer_id, membership.role, membership.joined_on) == (
        team.pk,
        volunteer.pk,
        TeamRole.MEMBER,
        datetime.date(2026, 1, 1),
    )
    event = single_event("team.member_add")
    assert (event.target_type, event.target_id, event.detail) == (
        "volunteers.team",
        str(team.pk),
        {"volunteer": volunteer.pk, "role": "member"},
    )
    with pytest.raises(ConflictError) as raised:
        team_member_add(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk)
    assert raised.value.message == "该志愿者已在本队伍中"
    leader = team_member_add(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk, role=TeamRole.LEADER)
    assert (leader.pk, leader.role) == (membership.pk, TeamRole.LEADER)
    assert TeamMembership.objects.get().role == TeamRole.LEADER
    assert AuditEvent.objects.filter(action="team.member_add").count() == 2


def test_a_member_joins_today_unless_told(county_a: Actor, team: Team) -> None:
    volunteer = VolunteerFactory.create()
    membership = team_member_add(
        actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk, role=TeamRole.LEADER
    )
    assert (membership.role, membership.joined_on) == (TeamRole.LEADER, today())


@pytest.mark.parametrize(
    ("volunteer_overrides", "role", "field", "message"),
    [
        ({"region_id": BAISHA}, TeamRole.MEMBER, "volunteer_id", "该志愿者不在本队伍所在区域"),
        ({}, "captain", "role", "请选择角色"),
        (
            {"status": Status.SUSPENDED, "status_reason": "住院"},
            TeamRole.MEMBER,
            "volunteer_id",
            "只有在岗志愿者可以加入队伍",
        ),
        (
            {"status": Status.WITHDRAWN, "status_reason": "搬走"},
            TeamRole.MEMBER,
            "volunteer_id",
            "只有在岗志愿者可以加入队伍",
        ),
        ({"status": Status.APPLYING}, TeamRole.MEMBER, "volunteer_id", "只有在岗志愿者可以加入队伍"),
    ],
)
def test_a_team_takes_only_active_volunteers_of_its_region(
    county_a: Actor, team: Team, volunteer_overrides: dict[str, Any], role: str, field: str, message: str
) -> None:
    volunteer = VolunteerFactory.create(**volunteer_overrides)
    with pytest.raises(ValidationFailed) as raised:
        team_member_add(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk, role=role)
    assert raised.value.fields == {field: [message]}
    assert TeamMembership.objects.count() == 0


def test_a_village_team_takes_no_volunteer_of_the_next_village(county_a: Actor) -> None:
    village_team = TeamFactory.create(committee=CommitteeFactory.create(region_id=FUCHENG))
    neighbour = VolunteerFactory.create(region_id=QINGCHENG)
    with pytest.raises(ValidationFailed) as raised:
        team_member_add(actor=county_a, team_id=village_team.pk, volunteer_id=neighbour.pk)
    assert raised.value.fields == {"volunteer_id": ["该志愿者不在本队伍所在区域"]}
    assert team_member_add(actor=county_a, team_id=village_team.pk, volunteer_id=VolunteerFactory.create().pk)


def test_a_removed_member_leaves_today_and_may_rejoin(county_a: Actor, team: Team) -> None:
    volunteer = VolunteerFactory.create()
    first = team_member_add(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk)
    removed = team_member_remove(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk)
    assert (removed.pk, removed.left_on) == (first.pk, today())
    event = single_event("team.member_remove")
    assert (event.target_id, event.detail) == (str(team.pk), {"volunteer": volunteer.pk})
    with pytest.raises(NotFoundError):
        team_member_remove(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk)
    again = team_member_add(actor=county_a, team_id=team.pk, volunteer_id=volunteer.pk)
    assert again.pk != first.pk
    assert TeamMembership.objects.filter(left_on__isnull=True).get().pk == again.pk


def test_an_activity_records_hours_for_the_participating_members_only(county_a: Actor, team: Team) -> None:
    first, second, absent = VolunteerFactory.create(), VolunteerFactory.create(), VolunteerFactory.create()
    for member in (first, second, absent):
        TeamMembershipFactory.create(team=team, volunteer=member)
    activity = team_activity_record(
        actor=county_a,
        team_id=team.pk,
        title=" 暑期安全讲座 ",
        held_on=days_ago(7),
        hours="2",
        participant_ids=[first.pk, second.pk, first.pk],
        place="富城村文化礼堂",
        children_reached=35,
    )
    activity.refresh_from_db()
    assert (activity.title, activity.held_on, activity.hours, activity.children_reached) == (
        "暑期安全讲座",
        days_ago(7),
        Decimal("2.0"),
        35,
    )
    records = ServiceHours.objects.order_by("volunteer_id")
    assert [
        (r.volunteer_id, r.hours, r.state, r.source, r.activity_id, r.organiser, r.served_on) for r in records
    ] == [
        (
            v.pk,
            Decimal("2.0"),
            HoursState.CONFIRMED,
            HoursSource.ACTIVITY,
            activity.pk,
            team.name,
            days_ago(7),
        )
        for v in sorted((first, second), key=lambda v: v.pk)
    ]
    assert (hours_total(first), hours_total(second), hours_total(absent)) == (
        Decimal("2.0"),
        Decimal("2.0"),
        Decimal("0"),
    )
    event = single_event("team.activity")
    assert (event.target_type, event.target_id, event.detail) == (
        "volunteers.team",
        str(team.pk),
        {"activity": activity.pk, "participants": 2},
    )


def test_an_activity_refuses_participants_who_are_not_members(county_a: Actor, team: Team) -> None:
    member, outsider, former = VolunteerFactory.create(), VolunteerFactory.create(), VolunteerFactory.create()
    TeamMembershipFactory.create(team=team, volunteer=member)
    TeamMembershipFactory.create(team=team, volunteer=former, left_on=days_ago(30))
    for participants in ([member.pk, outsider.pk], [former.pk]):
        with pytest.raises(ValidationFailed) as raised:
            team_activity_record(
                actor=county_a,
                team_id=team.pk,
                title="讲座",
                held_on=days_ago(1),
                hours=2,
                participant_ids=participants,
            )
        assert raised.value.fields == {"participant_ids": ["参加人须为本队伍成员"]}
    assert (TeamActivity.objects.count(), ServiceHours.objects.count()) == (0, 0)
    assert hours_total(member) == Decimal("0")


def test_an_activity_needs_a_title_a_past_date_and_valid_hours(county_a: Actor, team: Team) -> None:
    member = VolunteerFactory.create()
    TeamMembershipFactory.create(team=team, volunteer=member)
    attempts: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        (
            {"title": " ", "children_reached": -1},
            {"title": ["请填写活动名称"], "children_reached": ["人数不能为负数"]},
        ),
        ({"held_on": today() + datetime.timedelta(days=1)}, {"held_on": ["活动日期不能晚于今天"]}),
        ({"hours": "30"}, {"hours": ["时长应大于 0、不超过 24 小时"]}),
    ]
    for overrides, fields in attempts:
        arguments: dict[str, Any] = {
            "title": "讲座",
            "held_on": days_ago(1),
            "hours": "2",
            "participant_ids": [member.pk],
        }
        arguments.update(overrides)
        with pytest.raises(ValidationFailed) as raised:
            team_activity_record(actor=county_a, team_id=team.pk, **arguments)
        assert raised.value.fields == fields
    assert (TeamActivity.objects.count(), ServiceHours.objects.count()) == (0, 0)


# --- Training and honours ------------------------------------------------------------------------


def test_training_is_added_to_the_volunteer_and_audited(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    training = training_add(
        actor=county_a,
        volunteer_id=volunteer.pk,
        course=" 未成年人保护法解读 ",
        attended_on=datetime.date(2026, 4, 10),
        hours="3",
        provider="淳安县关工委",
    )
    assert (training.volunteer_id, training.course, training.hours, training.provider) == (
        volunteer.pk,
        "未成年人保护法解读",
        Decimal("3.0"),
        "淳安县关工委",
    )
    event = single_event("volunteer.training")
    assert (event.target_type, event.target_id, event.detail) == (
        "volunteers.volunteer",
        str(volunteer.pk),
        {"training": training.pk},
    )
    assert hours_total(volunteer) == Decimal("0")  # training is not service


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"course": " "}, {"course": ["请填写课程名称"]}),
        ({"attended_on": datetime.date(2100, 1, 1)}, {"attended_on": ["培训日期不能晚于今天"]}),
        ({"hours": "0"}, {"hours": ["时长应大于 0、不超过 24 小时"]}),
        ({"hours": "三"}, {"hours": ["时长应为数字"]}),
    ],
)
def test_training_is_refused_without_a_course_a_past_date_and_hours(
    county_a: Actor, overrides: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    volunteer = VolunteerFactory.create()
    arguments: dict[str, Any] = {"course": "法规", "attended_on": datetime.date(2026, 4, 10), "hours": "3"}
    arguments.update(overrides)
    with pytest.raises(ValidationFailed) as raised:
        training_add(actor=county_a, volunteer_id=volunteer.pk, **arguments)
    assert raised.value.fields == fields
    assert Training.objects.count() == 0


def test_an_honour_is_added_to_the_volunteer_and_audited(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    honour = honour_add(
        actor=county_a,
        volunteer_id=volunteer.pk,
        title=" 最美五老 ",
        awarded_by=" 浙江省关工委 ",
        awarded_on=datetime.date(2025, 12, 1),
    )
    assert (honour.volunteer_id, honour.title, honour.awarded_by, honour.awarded_on) == (
        volunteer.pk,
        "最美五老",
        "浙江省关工委",
        datetime.date(2025, 12, 1),
    )
    event = single_event("volunteer.honour")
    assert (event.target_type, event.target_id, event.detail) == (
        "volunteers.volunteer",
        str(volunteer.pk),
        {"honour": honour.pk},
    )


def test_an_honour_needs_a_title_an_awarding_body_and_a_past_date(county_a: Actor) -> None:
    volunteer = VolunteerFactory.create()
    with pytest.raises(ValidationFailed) as raised:
        honour_add(
            actor=county_a,
            volunteer_id=volunteer.pk,
            title="",
            awarded_by=" ",
            awarded_on=datetime.date(2100, 1, 1),
        )
    assert raised.value.fields == {
        "title": ["请填写荣誉名称"],
        "awarded_by": ["请填写授予单位"],
        "awarded_on": ["授予日期不能晚于今天"],
    }
    assert Honour.objects.count() == 0


def test_a_volunteer_chooses_to_appear_on_the_honour_roll(
    actors: dict[str, Actor], own_volunteer: Volunteer
) -> None:
    shown = honour_roll_consent_set(actor=actors["volunteer"], shows=True)
    shown.refresh_from_db()
    assert shown.shows_on_honour_roll is True
    hidden = honour_roll_consent_set(actor=actors["volunteer"], shows=False)
    hidden.refresh_from_db()
    assert hidden.shows_on_honour_roll is False
    events = AuditEvent.objects.filter(action="volunteer.honour_roll_consent").order_by("id")
    assert [(e.target_id, e.detail) for e in events] == [
        (str(own_volunteer.pk), {"shows": True}),
        (str(own_volunteer.pk), {"shows": False}),
    ]
    with pytest.raises(PermissionDeniedError):
        honour_roll_consent_set(actor=actors["county_a_admin"], shows=True)


# --- Every write refuses other roles and other counties ------------------------------------------


@pytest.fixture
def county_a_world(actors: dict[str, Actor], personas: dict[str, Any], team: Team) -> dict[str, Any]:
    """A volunteer of county A with a confirmed record, a claim, a team and a member."""
    volunteer = VolunteerFactory.create(user=personas["volunteer"])
    member = VolunteerFactory.create()
    TeamMembershipFactory.create(team=team, volunteer=member)
    confirmed = ServiceHoursFactory.create(volunteer=volunteer, served_on=days_ago(3))
    pending = ServiceHoursFactory.create(
        volunteer=volunteer,
        served_on=days_ago(2),
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
        recorded_by=personas["volunteer"],
    )
    return {
        "volunteer": volunteer.pk,
        "member": member.pk,
        "team": team.pk,
        "committee": team.committee_id,
        "confirmed": confirmed.pk,
        "pending": pending.pk,
    }


Call = Callable[[Actor, dict[str, Any]], object]

STAFF_WRITES: dict[str, Call] = {
    "register": lambda actor, w: volunteer_register(actor=actor, data=elder(id_number=elder_id(903))),
    "update": lambda actor, w: volunteer_update(
        actor=actor, volunteer_id=w["volunteer"], version=1, data=elder(id_number=elder_id(905))
    ),
    "set_status": lambda actor, w: volunteer_set_status(
        actor=actor, volunteer_id=w["volunteer"], status=Status.SUSPENDED, reason="外出"
    ),
    "record_check": lambda actor, w: volunteer_record_check(
        actor=actor, volunteer_id=w["volunteer"], checked_on=days_ago(1), result="clear", checked_by="派出所"
    ),
    "hours_record": lambda actor, w: hours_record(
        actor=actor, volunteer_id=w["volunteer"], served_on=days_ago(1), hours=1, description="走访"
    ),
    "hours_confirm": lambda actor, w: hours_confirm(actor=actor, record_id=w["pending"]),
    "hours_return": lambda actor, w: hours_return(actor=actor, record_id=w["pending"], reason="未组织"),
    "hours_correct": lambda actor, w: hours_correct(
        actor=actor, record_id=w["confirmed"], hours=1, reason="核对"
    ),
    "team_create": lambda actor, w: team_create(
        actor=actor, committee_id=w["committee"], name="新队伍", kind=TeamKind.STUDIO
    ),
    "team_member_add": lambda actor, w: team_member_add(
        actor=actor, team_id=w["team"], volunteer_id=w["volunteer"]
    ),
    "team_member_remove": lambda actor, w: team_member_remove(
        actor=actor, team_id=w["team"], volunteer_id=w["member"]
    ),
    "team_activity_record": lambda actor, w: team_activity_record(
        actor=actor,
        team_id=w["team"],
        title="讲座",
        held_on=days_ago(1),
        hours=2,
        participant_ids=[w["member"]],
    ),
    "training_add": lambda actor, w: training_add(
        actor=actor, volunteer_id=w["volunteer"], course="法规", attended_on=days_ago(1), hours=2
    ),
    "honour_add": lambda actor, w: honour_add(
        actor=actor,
        volunteer_id=w["volunteer"],
        title="最美五老",
        awarded_by="省关工委",
        awarded_on=days_ago(1),
    ),
}
SELF_WRITES: dict[str, Call] = {
    "hours_claim": lambda actor, w: hours_claim(
        actor=actor, served_on=days_ago(1), hours=1, description="辅导", organiser="富城村"
    ),
    "honour_roll_consent_set": lambda actor, w: honour_roll_consent_set(actor=actor, shows=True),
}
# What county B's admin meets: a record of county A is not found; where the county A object is an input
# to choose (the village of a new volunteer, the committee of a new team) the field is refused.
COUNTY_B_ANSWER: dict[str, tuple[type[DomainError], dict[str, list[str]]]] = {
    "register": (ValidationFailed, {"region_code": ["该村（社区）不在您的管辖范围内"]}),
    "team_create": (ValidationFailed, {"committee_id": ["该关工委不在您的管辖范围内"]}),
}


def assert_refused(
    call: Call, actor: Actor, world: dict[str, Any], error: type[DomainError], fields: dict[str, list[str]]
) -> None:
    before, events = database_fingerprint(), AuditEvent.objects.count()
    with pytest.raises(error) as raised:
        call(actor, world)
    assert type(raised.value) is error
    assert raised.value.fields == fields
    assert database_fingerprint() == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("write", sorted(STAFF_WRITES))
def test_county_b_admin_cannot_write_county_a_records(
    actors: dict[str, Actor], county_a_world: dict[str, Any], write: str
) -> None:
    error, fields = COUNTY_B_ANSWER.get(write, (NotFoundError, {}))
    assert_refused(STAFF_WRITES[write], actors["county_b_admin"], county_a_world, error, fields)


@pytest.mark.parametrize("persona", ["volunteer", "lawyer", "counsellor", "auditor", "system_admin"])
@pytest.mark.parametrize("write", sorted(STAFF_WRITES))
def test_roles_without_the_manage_permission_cannot_write(
    actors: dict[str, Actor], county_a_world: dict[str, Any], write: str, persona: str
) -> None:
    assert_refused(STAFF_WRITES[write], actors[persona], county_a_world, PermissionDeniedError, {})


@pytest.mark.parametrize("persona", ["county_a_admin", "township_worker", "auditor", "system_admin"])
@pytest.mark.parametrize("write", sorted(SELF_WRITES))
def test_only_a_volunteer_makes_the_volunteers_own_writes(
    actors: dict[str, Actor], county_a_world: dict[str, Any], write: str, persona: str
) -> None:
    assert_refused(SELF_WRITES[write], actors[persona], county_a_world, PermissionDeniedError, {})


@pytest.mark.parametrize("write", sorted(STAFF_WRITES))
def test_county_a_admin_makes_every_write_with_one_audit_event(
    actors: dict[str, Actor], county_a_world: dict[str, Any], write: str
) -> None:
    """The counterpart of the refusals above: the same calls succeed for the county's own admin."""
    actions = {
        "register": "volunteer.create",
        "update": "volunteer.update",
        "set_status": "volunteer.status",
        "record_check": "volunteer.background_check",
        "hours_record": "hours.record",
        "hours_confirm": "hours.confirm",
        "hours_return": "hours.return",
        "hours_correct": "hours.correct",
        "team_create": "team.create",
        "team_member_add": "team.member_add",
        "team_member_remove": "team.member_remove",
        "team_activity_record": "team.activity",
        "training_add": "volunteer.training",
        "honour_add": "volunteer.honour",
    }
    before = AuditEvent.objects.count()
    STAFF_WRITES[write](actors["county_a_admin"], county_a_world)
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:1]) == [actions[write]]
    assert AuditEvent.objects.count() == before + 1
