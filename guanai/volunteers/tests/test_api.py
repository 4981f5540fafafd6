"""The volunteers' JSON API (/api/v1/volunteers, /api/v1/teams): scoped, masked, validated, audited."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, COUNTY_A_PREFIX, VILLAGE_A, make_id_number
from guanai.volunteers.models import HoursCorrection, ServiceHours, Team, TeamMembership, Volunteer
from guanai.volunteers.services import hours_claim, hours_record
from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory, VolunteerFactory
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    CheckResult,
    ElderCategory,
    Specialty,
    Status,
    availability_bit,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
TODAY = NOW.date()
# Real ID numbers outside the factory's sequence (sequence numbers 9xx on these birth dates).
WANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1948, 6, 15), 913)  # male
LI_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1952, 3, 8), 922)  # female
CHEN_ID = make_id_number("330182", datetime.date(1950, 10, 1), 931)  # 建德市
NEW_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1955, 9, 23), 942)  # female
SATURDAY_AFTERNOON = availability_bit(5, 1)


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def elders(personas: dict[str, Any]) -> dict[str, Volunteer]:
    return {
        "wang": VolunteerFactory.create(
            name="王建国",
            region_id=VILLAGE_A,
            id_number=WANG_ID,
            phone="13905710041",
            categories=ElderCategory.VETERAN | ElderCategory.TEACHER,
            specialties=Specialty.TEACHING,
            hours_total=Decimal("120.0"),
            check_date=datetime.date(2026, 3, 1),
        ),
        "li": VolunteerFactory.create(
            name="李秀英",
            region_id=COMMUNITY_A,
            id_number=LI_ID,
            phone="0571-65012345",
            categories=ElderCategory.CADRE,
            specialties=Specialty.LAW,
            law_licence_number="13301200510123456",
            teaching_subjects="",
            availability=SATURDAY_AFTERNOON,
            max_children=1,
            paired_count=1,
            check_date=None,
            check_result="",
            check_by="",
        ),
        "zhao": VolunteerFactory.create(
            name="赵德华", region_id=VILLAGE_A, status=Status.SUSPENDED, status_reason="住院治疗"
        ),
        "chen": VolunteerFactory.create(name="陈志明", region_id=COMMUNITY_B, id_number=CHEN_ID),
    }


def post(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def patch(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.patch(path, json.dumps(data), content_type="application/json")


def names(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/volunteers/{query}")
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


# --- The list ------------------------------------------------------------------------------------


def test_the_list_is_scoped_by_region_and_masked(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    assert names(clients["county_a_admin"]) == ["李秀英", "王建国"]  # active only, by pinyin
    assert names(clients["county_b_admin"]) == ["陈志明"]
    assert names(clients["township_worker"]) == ["李秀英", "王建国"]
    assert names(clients["province_admin"]) == ["陈志明", "李秀英", "王建国"]
    body = clients["county_a_admin"].get("/api/v1/volunteers/?q=wjg").json()
    assert body == {
        "count": 1,
        "items": [
            {
                "id": elders["wang"].pk,
                "name": "王建国",
                "gender": "male",
                "birth_date": "1948-06-15",
                "age": 78,
                "id_number": "330127********9134",
                "phone": "139****0041",
                "region_code": VILLAGE_A,
                "region_name": "富城村村民委员会",
                "categories": 10,
                "category_labels": ["老战士", "老教师"],
                "specialties": 4,
                "specialty_labels": ["教学辅导"],
                "availability": ALL_AVAILABILITY,
                "availability_label": "不限",
                "max_children": 3,
                "paired_count": 0,
                "capacity_left": 3,
                "status": "active",
                "check_date": "2026-03-01",
                "check_result": "clear",
                "check_valid": True,
                "hours_total": 120.0,
                "star_level": 1,
                "star_label": "一星",
                "version": 1,
            }
        ],
    }
    li = clients["county_a_admin"].get("/api/v1/volunteers/?q=lxy").json()["items"][0]
    assert (li["phone"], li["availability_label"], li["check_valid"]) == ("0571-****2345", "周六下午", False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=wjg", ["王建国"]),
        ("?q=wangjianguo", ["王建国"]),
        ("?q=建国", ["王建国"]),
        ("?q=" + WANG_ID, ["王建国"]),
        ("?q=13905710041", ["王建国"]),
        ("?q=0571-65012345", ["李秀英"]),
        ("?q=13905710042", []),
        ("?categories=2", ["王建国"]),
        ("?categories=10", ["王建国"]),
        ("?categories=3", []),
        ("?specialties=1", ["李秀英"]),
        (f"?availability={SATURDAY_AFTERNOON}", ["李秀英", "王建国"]),
        ("?availability=1", ["王建国"]),
        ("?has_capacity=true", ["王建国"]),
        ("?check_due=true", ["李秀英"]),
        ("?star=1", ["王建国"]),
        ("?star=0", ["李秀英"]),
        ("?star=2", []),
        ("?gender=female", ["李秀英"]),
        ("?status=suspended", ["赵德华"]),
        ("?status=all", ["李秀英", "王建国", "赵德华"]),
        ("?region=330127100001", ["李秀英"]),
        ("?region=330127100219", ["王建国"]),
        ("?region=330127100", ["李秀英", "王建国"]),  # a township, in its short form
        ("?sort=-name", ["王建国", "李秀英"]),
        ("?sort=hours", ["王建国", "李秀英"]),
        ("?sort=check", ["李秀英", "王建国"]),  # no check at all first
        ("?limit=1", ["李秀英"]),
        ("?limit=1&offset=1", ["王建国"]),
    ],
)
def test_filters_search_sort_and_paging(
    clients: dict[str, Client], elders: dict[str, Volunteer], query: str, expected: list[str]
) -> None:
    assert names(clients["county_a_admin"], query) == expected


def test_the_team_filter_lists_current_members(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    team = TeamFactory.create()
    TeamMembershipFactory.create(team=team, volunteer=elders["li"])
    TeamMembershipFactory.create(team=team, volunteer=elders["wang"], left_on=datetime.date(2026, 5, 1))
    assert names(clients["county_a_admin"], f"?team={team.pk}") == ["李秀英"]


@pytest.mark.parametrize(
    ("query", "status", "code", "fields"),
    [
        ("?star=6", 422, "validation_failed", ["star"]),
        ("?sort=age", 422, "validation_failed", ["sort"]),
        ("?status=retired", 422, "validation_failed", ["status"]),
        ("?limit=201", 422, "validation_failed", ["limit"]),
        ("?categories=-1", 422, "validation_failed", ["categories"]),
        ("?region=33x", 422, "validation_failed", ["region"]),
        ("?region=330182", 404, "not_found", []),  # another county
    ],
)
def test_a_bad_filter_is_refused_with_its_field(
    clients: dict[str, Client],
    elders: dict[str, Volunteer],
    query: str,
    status: int,
    code: str,
    fields: list[str],
) -> None:
    response = clients["county_a_admin"].get(f"/api/v1/volunteers/{query}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert list(response.json()["fields"]) == fields


def test_the_list_takes_a_constant_number_of_queries(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    client = clients["county_a_admin"]
    client.get("/api/v1/volunteers/")
    with count_queries() as few:
        client.get("/api/v1/volunteers/")
    VolunteerFactory.create_batch(20, region_id=COMMUNITY_A)
    with count_queries() as many:
        body = client.get("/api/v1/volunteers/").json()
    assert body["count"] == 22
    assert len(body["items"]) == 22
    assert len(many) == len(few)


# --- Register, read, update ------------------------------------------------------------------------

NEW_VOLUNTEER = {
    "name": "孙丽华",
    "region_code": "330127100219",
    "id_number": NEW_ID,
    "phone": "13857112345",
    "categories": 12,
    "former_unit": "淳安县第二中学",
    "former_title": "高级教师",
    "specialties": 6,
    "psychology_certificate": "心理咨询师二级 2003-0815",
    "teaching_subjects": "数学",
    "availability": 7,
    "max_children": 2,
    "check_date": "2026-10-08",
    "check_result": "clear",
    "check_by": "千岛湖镇派出所",
    "latitude": "29.605000",
    "longitude": "119.042000",
}


def test_register_then_read_the_detail(clients: dict[str, Client], elders: dict[str, Volunteer]) -> None:
    client = clients["county_a_admin"]
    created = post(client, "/api/v1/volunteers/", NEW_VOLUNTEER)
    assert created.status_code == 201, created.content
    body = created.json()
    volunteer = Volunteer.objects.get(name="孙丽华")
    assert body["id"] == volunteer.pk
    assert {key: body[key] for key in ("gender", "birth_date", "age", "id_number", "phone", "status")} == {
        "gender": "female",
        "birth_date": "1955-09-23",
        "age": 71,
        "id_number": "330127********9423",
        "phone": "138****2345",
        "status": "active",
    }
    assert (body["category_labels"], body["specialty_labels"]) == (["老专家", "老教师"], ["心理", "教学辅导"])
    assert (body["availability_label"], body["check_valid"], body["check_expires_on"]) == (
        "周一上午、周一下午、周一晚上",
        True,
        "2027-10-08",
    )
    assert (body["latitude"], body["longitude"], body["joined_on"], body["source"]) == (
        29.605,
        119.042,
        "2026-11-30",
        "staff",
    )
    assert (body["trainings"], body["honours"], body["teams"], body["has_account"]) == ([], [], [], False)
    assert (body["hours_total"], body["star_level"], body["star_label"], body["version"]) == (
        0.0,
        0,
        "未评星",
        1,
    )
    # Stored in full, shown masked.
    assert (volunteer.id_number, volunteer.phone) == (NEW_ID, "13857112345")
    assert NEW_ID not in created.content.decode()
    detail = client.get(f"/api/v1/volunteers/{volunteer.pk}").json()
    assert detail == body
    applying = post(
        client,
        "/api/v1/volunteers/",
        {
            "name": "周老师",
            "region_code": COMMUNITY_A,
            "birth_date": "1950-01-02",
            "gender": "male",
            "status": "applying",
        },
    )
    assert applying.status_code == 201
    assert (applying.json()["status"], applying.json()["joined_on"], applying.json()["id_number"]) == (
        "applying",
        None,
        "",
    )
    assert list(
        AuditEvent.objects.filter(action="volunteer.create")
        .order_by("id")
        .values_list("actor_username", "target_id")
    ) == [("p-county-a", str(volunteer.pk)), ("p-county-a", str(applying.json()["id"]))]


def test_the_detail_lists_training_honours_and_teams(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    from guanai.volunteers.models import Honour, Training

    wang = elders["wang"]
    Training.objects.create(
        volunteer=wang,
        course="未成年人保护法解读",
        attended_on=datetime.date(2026, 4, 10),
        hours=Decimal("3.0"),
    )
    Honour.objects.create(
        volunteer=wang, title="最美五老", awarded_by="淳安县关工委", awarded_on=datetime.date(2025, 12, 1)
    )
    team = TeamFactory.create(name="富城村五老关爱团")
    TeamMembershipFactory.create(team=team, volunteer=wang, role="leader")
    body = clients["township_worker"].get(f"/api/v1/volunteers/{wang.pk}").json()
    assert [(t["course"], t["attended_on"], t["hours"]) for t in body["trainings"]] == [
        ("未成年人保护法解读", "2026-04-10", 3.0)
    ]
    assert [(h["title"], h["awarded_by"]) for h in body["honours"]] == [("最美五老", "淳安县关工委")]
    assert body["teams"] == [
        {
            "team_id": team.pk,
            "name": "富城村五老关爱团",
            "kind": "care_group",
            "role": "leader",
            "joined_on": "2025-01-01",
        }
    ]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"specialties": 1}, {"law_licence_number": ["法律专长须填写律师执业证号"]}),
        (
            {"id_number": "", "birth_date": "2010-01-01", "gender": "male"},
            {"birth_date": ["志愿者须年满 18 周岁"]},
        ),
        ({"region_code": COMMUNITY_B}, {"region_code": ["该村（社区）不在您的管辖范围内"]}),
        ({"region_code": "330127100000"}, {"region_code": ["请选择村（社区）一级的区划"]}),
        ({"max_children": 21}, {"max_children": ["最多结对人数应在 0 到 20 之间"]}),
        ({"categories": 32}, {"categories": ["未知的五老类别"]}),
        ({"check_result": ""}, {"check_result": ["背景审查日期与结果须同时填写"]}),
        ({"latitude": None}, {"longitude": ["经纬度须同时填写"]}),
    ],
)
def test_a_bad_value_is_a_field_error_from_the_service(
    clients: dict[str, Client], elders: dict[str, Volunteer], change: dict[str, Any], fields: dict[str, Any]
) -> None:
    response = post(clients["county_a_admin"], "/api/v1/volunteers/", {**NEW_VOLUNTEER, **change})
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_failed",
        "message": "提交的内容有误，请检查后重试",
        "fields": fields,
    }
    assert not Volunteer.objects.filter(name="孙丽华").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "孙" * 51}, "name"),
        ({"check_result": "maybe"}, "check_result"),
        ({"gender": "unknown"}, "gender"),
        ({"status": "suspended"}, "status"),
        ({"categories": -4}, "categories"),
        ({"birth_date": "1950-13-01"}, "birth_date"),
    ],
)
def test_a_malformed_value_is_a_field_error_of_the_schema(
    clients: dict[str, Client], elders: dict[str, Volunteer], change: dict[str, Any], field: str
) -> None:
    response = post(clients["county_a_admin"], "/api/v1/volunteers/", {**NEW_VOLUNTEER, **change})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == [field]


def test_a_volunteer_registered_in_another_county_is_named_by_county_only(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    response = post(
        clients["county_b_admin"],
        "/api/v1/volunteers/",
        {**NEW_VOLUNTEER, "id_number": WANG_ID, "region_code": COMMUNITY_B},
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "volunteer_already_registered",
        "message": "该志愿者已在淳安县登记。",
        "fields": {"id_number": ["已在淳安县登记"]},
    }


def test_update_with_the_current_version_then_a_stale_one_is_a_conflict(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    client = clients["county_a_admin"]
    wang = elders["wang"]
    ok = patch(
        client, f"/api/v1/volunteers/{wang.pk}", {"version": 1, "former_unit": "淳安县武装部", "name": None}
    )
    assert ok.status_code == 200, ok.content
    assert (ok.json()["former_unit"], ok.json()["name"], ok.json()["version"]) == (
        "淳安县武装部",
        "王建国",
        2,
    )
    # Fields left out keep their values, the ID number and phone among them.
    wang.refresh_from_db()
    assert (wang.id_number, wang.phone, wang.categories, wang.check_by) == (
        WANG_ID,
        "13905710041",
        10,
        "千岛湖镇派出所",
    )
    stale = patch(client, f"/api/v1/volunteers/{wang.pk}", {"version": 1, "former_unit": "别的单位"})
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "conflict",
        "message": "该记录已被他人修改（当前版本 2，您编辑的是版本 1），请刷新后重新修改。",
        "fields": {},
    }
    wang.refresh_from_db()
    assert (wang.former_unit, wang.version) == ("淳安县武装部", 2)
    missing_version = patch(client, f"/api/v1/volunteers/{wang.pk}", {"former_unit": "x"})
    assert (missing_version.status_code, list(missing_version.json()["fields"])) == (422, ["version"])
    assert [event.changed_fields for event in AuditEvent.objects.filter(action="volunteer.update")] == [
        ["former_unit"]
    ]


def test_a_new_id_number_brings_its_own_birth_date_and_gender(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    wang = elders["wang"]
    response = patch(
        clients["county_a_admin"], f"/api/v1/volunteers/{wang.pk}", {"version": 1, "id_number": NEW_ID}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["birth_date"], response.json()["gender"]) == ("1955-09-23", "female")
    assert response.json()["id_number"] == "330127********9423"


def test_max_children_cannot_fall_below_the_children_paired(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    li = elders["li"]
    response = patch(
        clients["county_a_admin"], f"/api/v1/volunteers/{li.pk}", {"version": 1, "max_children": 0}
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"max_children": ["已有 1 名结对儿童，最多结对人数不能更少"]}


# --- Status and background checks ---------------------------------------------------------------


def test_status_changes_follow_the_allowed_paths(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    client = clients["county_a_admin"]
    path = f"/api/v1/volunteers/{elders['wang'].pk}/status"
    without_reason = post(client, path, {"status": "suspended"})
    assert without_reason.status_code == 422
    assert without_reason.json()["fields"] == {"reason": ["请填写原因"]}
    future = post(client, path, {"status": "suspended", "reason": "外出", "on": "2026-12-01"})
    assert (future.status_code, future.json()["fields"]) == (422, {"on": ["日期不能晚于今天"]})
    suspended = post(client, path, {"status": "suspended", "reason": "随子女外出半年", "on": "2026-11-20"})
    assert suspended.status_code == 200, suspended.content
    body = suspended.json()
    assert (body["status"], body["status_reason"], body["status_changed_on"], body["version"]) == (
        "suspended",
        "随子女外出半年",
        "2026-11-20",
        2,
    )
    assert post(client, path, {"status": "deceased", "reason": "病故"}).json()["status"] == "deceased"
    refused = post(client, path, {"status": "active"})
    assert refused.status_code == 409
    assert refused.json() == {"code": "conflict", "message": "不能从“已故”改为“在岗”", "fields": {}}
    unknown = post(client, path, {"status": "retired"})
    assert (unknown.status_code, list(unknown.json()["fields"])) == (422, ["status"])
    events = AuditEvent.objects.filter(action="volunteer.status").order_by("id")
    assert [event.detail for event in events] == [
        {"from": "active", "to": "suspended"},
        {"from": "suspended", "to": "deceased"},
    ]


def test_recording_a_background_check(clients: dict[str, Client], elders: dict[str, Volunteer]) -> None:
    client = clients["township_worker"]
    path = f"/api/v1/volunteers/{elders['li'].pk}/background-check"
    future = post(client, path, {"checked_on": "2026-12-01", "result": "clear", "checked_by": "派出所"})
    assert (future.status_code, future.json()["fields"]) == (
        422,
        {"checked_on": ["背景审查日期不能晚于今天"]},
    )
    nobody = post(client, path, {"checked_on": "2026-11-02", "result": "clear", "checked_by": " "})
    assert (nobody.status_code, nobody.json()["fields"]) == (422, {"checked_by": ["请填写审查单位（人）"]})
    bad = post(client, path, {"checked_on": "2026-11-02", "result": "unknown", "checked_by": "派出所"})
    assert (bad.status_code, list(bad.json()["fields"])) == (422, ["result"])
    recorded = post(
        client, path, {"checked_on": "2026-11-02", "result": "clear", "checked_by": "青城社区民警"}
    )
    assert recorded.status_code == 200, recorded.content
    body = recorded.json()
    assert (body["check_date"], body["check_result"], body["check_by"], body["check_valid"]) == (
        "2026-11-02",
        "clear",
        "青城社区民警",
        True,
    )
    assert (body["check_expires_on"], body["version"]) == ("2027-11-02", 2)
    event = AuditEvent.objects.get(action="volunteer.background_check")
    assert (event.actor_username, event.target_id, event.changed_fields) == (
        "p-township",
        str(elders["li"].pk),
        ["check_date", "check_result", "check_by"],
    )


# --- Unmasking -----------------------------------------------------------------------------------


def test_unmasking_one_field_is_audited(clients: dict[str, Client], elders: dict[str, Volunteer]) -> None:
    client = clients["county_a_admin"]
    wang = elders["wang"]
    revealed = post(client, f"/api/v1/volunteers/{wang.pk}/unmask", {"field": "id_number"})
    assert revealed.json() == {"field": "id_number", "value": WANG_ID}
    phone = post(client, f"/api/v1/volunteers/{wang.pk}/unmask", {"field": "phone"})
    assert phone.json() == {"field": "phone", "value": "13905710041"}
    other = post(client, f"/api/v1/volunteers/{wang.pk}/unmask", {"field": "health_note"})
    assert (other.status_code, list(other.json()["fields"])) == (422, ["field"])
    events = AuditEvent.objects.filter(action="personal_data.unmask").order_by("id")
    assert list(
        events.values_list("actor_username", "target_type", "target_id", "changed_fields", "outcome")
    ) == [
        ("p-county-a", "volunteers.volunteer", str(wang.pk), ["id_number"], "success"),
        ("p-county-a", "volunteers.volunteer", str(wang.pk), ["phone"], "success"),
    ]


def test_a_village_liaison_may_keep_volunteers_but_not_unmask_or_export(
    regions: None, elders: dict[str, Volunteer]
) -> None:
    from guanai.accounts.services import role_assign, user_create
    from guanai.core.access import Role
    from guanai.core.testing import verified_client
    from guanai.regions.models import Region

    user = user_create(username="p-liaison", password=None)
    role_assign(
        user=user,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code=VILLAGE_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    client = verified_client(user)
    assert names(client) == ["王建国"]
    assert client.get("/api/v1/volunteers/").json()["items"][0]["id_number"] == "330127********9134"
    checks = [
        Check(
            "liaison",
            "POST",
            f"/api/v1/volunteers/{elders['wang'].pk}/unmask",
            403,
            data={"field": "id_number"},
        ),
        Check("liaison", "POST", "/api/v1/volunteers/export", 403, data={"format": "csv"}),
        Check("liaison", "GET", f"/api/v1/volunteers/{elders['li'].pk}", 404),  # another village
    ]
    assert assert_authorization_matrix({"liaison": client}, checks) == 3


# --- Eligibility -----------------------------------------------------------------------------------


def test_eligibility_lists_every_reason(clients: dict[str, Client], elders: dict[str, Volunteer]) -> None:
    client = clients["county_a_admin"]
    expired = VolunteerFactory.create(name="钱老", region_id=VILLAGE_A, check_date=datetime.date(2025, 11, 1))
    flagged = VolunteerFactory.create(name="吴老", region_id=VILLAGE_A, check_result=CheckResult.FLAGGED)
    answers = {
        key: client.get(f"/api/v1/volunteers/{volunteer.pk}/eligibility").json()
        for key, volunteer in {**elders, "expired": expired, "flagged": flagged}.items()
        if key != "chen"
    }
    assert answers == {
        "wang": {"eligible": True, "reasons": []},
        "li": {"eligible": False, "reasons": ["没有背景审查记录", "结对人数已满（最多 1 人）"]},
        "zhao": {"eligible": False, "reasons": ["志愿者当前状态为“暂停”"]},
        "expired": {"eligible": False, "reasons": ["背景审查有效期至 2026-11-01，已过期，须重新审查"]},
        "flagged": {"eligible": False, "reasons": ["背景审查结果为有不良记录"]},
    }


# --- Service hours ---------------------------------------------------------------------------------


@pytest.fixture
def claims(personas: dict[str, Any], elders: dict[str, Volunteer]) -> list[ServiceHours]:
    """Two claims of 王建国, who signs in as the volunteer persona."""
    wang = elders["wang"]
    wang.user = personas["volunteer"]
    wang.save(update_fields=["user"])
    me = actor_for_user(personas["volunteer"])
    return [
        hours_claim(
            actor=me,
            served_on=datetime.date(2026, 11, 8),
            hours="3",
            description="假日学校辅导",
            organiser="富城村关工委",
        ),
        hours_claim(
            actor=me,
            served_on=datetime.date(2026, 11, 9),
            hours="2",
            description="入户走访",
            organiser="富城村关工委",
        ),
    ]


def test_the_organiser_records_hours_confirmed_at_once(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    wang = elders["wang"]
    response = post(
        clients["township_worker"],
        f"/api/v1/volunteers/{wang.pk}/hours",
        {
            "served_on": "2026-10-03",
            "hours": "2.5",
            "description": "红色故事宣讲",
            "organiser": "千岛湖镇关工委",
        },
    )
    assert response.status_code == 201, response.content
    record = ServiceHours.objects.get()
    assert response.json() == {
        "id": record.pk,
        "volunteer_id": wang.pk,
        "served_on": "2026-10-03",
        "hours": 2.5,
        "description": "红色故事宣讲",
        "source": "organiser",
        "state": "confirmed",
        "organiser": "千岛湖镇关工委",
        "return_reason": "",
        "activity_id": None,
        "recorded_by": "township_worker",
        "confirmed_by": "township_worker",
        "confirmed_at": "2026-11-30T02:00:00Z",
        "corrections": [],
    }
    wang.refresh_from_db()
    assert wang.hours_total == Decimal("122.5")
    for hours, field in (("0", "hours"), ("24.5", "hours"), ("abc", "hours")):
        bad = post(
            clients["township_worker"],
            f"/api/v1/volunteers/{wang.pk}/hours",
            {"served_on": "2026-10-03", "hours": hours, "description": "x"},
        )
        assert (bad.status_code, list(bad.json()["fields"])) == (422, [field]), hours
    empty = post(
        clients["township_worker"],
        f"/api/v1/volunteers/{wang.pk}/hours",
        {"served_on": "2026-10-03", "hours": "1", "description": " "},
    )
    assert empty.json()["fields"] == {"description": ["请填写服务内容"]}
    future = post(
        clients["township_worker"],
        f"/api/v1/volunteers/{wang.pk}/hours",
        {"served_on": "2026-12-03", "hours": "1", "description": "x"},
    )
    assert future.json()["fields"] == {"served_on": ["服务日期不能晚于今天"]}
    assert AuditEvent.objects.filter(action="hours.record").count() == 1


def test_hours_summary_totals_by_year_and_month_with_pending_and_star(
    clients: dict[str, Client],
    personas: dict[str, Any],
    elders: dict[str, Volunteer],
    claims: list[ServiceHours],
) -> None:
    wang = elders["wang"]
    staff = actor_for_user(personas["county_a_admin"])
    for day, hours in (
        (datetime.date(2025, 12, 20), "4"),
        (datetime.date(2026, 10, 3), "1.5"),
        (datetime.date(2026, 10, 9), "2"),
    ):
        hours_record(actor=staff, volunteer_id=wang.pk, served_on=day, hours=hours, description="走访")
    body = clients["county_a_admin"].get(f"/api/v1/volunteers/{wang.pk}/hours").json()
    assert {
        key: body[key] for key in ("volunteer_id", "total", "pending", "star_level", "star_label", "count")
    } == {
        "volunteer_id": wang.pk,
        "total": 7.5,
        "pending": 5.0,
        "star_level": 1,  # of the 127.5 hours on record (120 imported before)
        "star_label": "一星",
        "count": 5,
    }
    assert body["by_year"] == [{"year": 2026, "hours": 3.5}, {"year": 2025, "hours": 4.0}]
    assert body["by_month"] == [
        {"year": 2026, "month": 10, "hours": 3.5},
        {"year": 2025, "month": 12, "hours": 4.0},
    ]
    assert [(r["served_on"], r["state"], r["source"]) for r in body["records"]] == [
        ("2026-11-09", "pending", "claim"),
        ("2026-11-08", "pending", "claim"),
        ("2026-10-09", "confirmed", "organiser"),
        ("2026-10-03", "confirmed", "organiser"),
        ("2025-12-20", "confirmed", "organiser"),
    ]
    page = clients["county_a_admin"].get(f"/api/v1/volunteers/{wang.pk}/hours?limit=2&offset=2").json()
    assert ([r["served_on"] for r in page["records"]], page["count"]) == (["2026-10-09", "2026-10-03"], 5)


def test_confirm_return_and_correct_claims(
    clients: dict[str, Client], elders: dict[str, Volunteer], claims: list[ServiceHours]
) -> None:
    client = clients["township_worker"]
    first, second = claims
    confirmed = post(client, f"/api/v1/volunteers/hours/{first.pk}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["state"], confirmed.json()["recorded_by"], confirmed.json()["confirmed_by"]) == (
        "confirmed",
        "volunteer",
        "township_worker",
    )
    again = post(client, f"/api/v1/volunteers/hours/{first.pk}/confirm")
    assert again.json() == {"code": "conflict", "message": "该记录不是待确认状态", "fields": {}}
    no_reason = post(client, f"/api/v1/volunteers/hours/{second.pk}/return", {"reason": " "})
    assert no_reason.json()["fields"] == {"reason": ["请填写退回原因"]}
    returned = post(client, f"/api/v1/volunteers/hours/{second.pk}/return", {"reason": "当天未组织该活动"})
    assert (returned.json()["state"], returned.json()["return_reason"]) == ("returned", "当天未组织该活动")
    not_confirmed = post(
        client, f"/api/v1/volunteers/hours/{second.pk}/correct", {"hours": "1", "reason": "x"}
    )
    assert not_confirmed.json()["message"] == "只能更正已确认的记录"
    same = post(client, f"/api/v1/volunteers/hours/{first.pk}/correct", {"hours": "3", "reason": "核对"})
    assert same.json()["fields"] == {"hours": ["更正后的时长与日期与原记录相同"]}
    corrected = post(
        client,
        f"/api/v1/volunteers/hours/{first.pk}/correct",
        {"hours": "2.5", "reason": "含往返路程半小时", "served_on": "2026-11-07"},
    )
    assert corrected.status_code == 200, corrected.content
    body = corrected.json()
    assert (body["hours"], body["served_on"]) == (2.5, "2026-11-07")
    assert HoursCorrection.objects.count() == 1
    assert body["corrections"] == [
        {
            "hours_before": 3.0,
            "hours_after": 2.5,
            "served_on_before": "2026-11-08",
            "served_on_after": "2026-11-07",
            "reason": "含往返路程半小时",
            "corrected_by": "township_worker",
            "corrected_at": "2026-11-30T02:00:00Z",
        }
    ]
    elders["wang"].refresh_from_db()
    assert elders["wang"].hours_total == Decimal("122.5")  # 120 + 3 confirmed − 0.5 corrected
    assert list(
        AuditEvent.objects.filter(action__startswith="hours.")
        .exclude(action="hours.claim")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["hours.confirm", "hours.return", "hours.correct"]


# --- Teams -----------------------------------------------------------------------------------------


@pytest.fixture
def team(elders: dict[str, Volunteer]) -> Team:
    team = TeamFactory.create(
        name="千岛湖镇讲师团", kind="lecturers", committee=CommitteeFactory.create(name="淳安县关工委")
    )
    TeamMembershipFactory.create(team=team, volunteer=elders["wang"], role="leader")
    return team


def test_create_list_and_read_teams(
    clients: dict[str, Client], elders: dict[str, Volunteer], team: Team
) -> None:
    client = clients["county_a_admin"]
    committee = team.committee
    created = post(
        client,
        "/api/v1/teams/",
        {
            "committee_id": committee.pk,
            "name": "富城村五老关爱团",
            "kind": "care_group",
            "founded_on": "2024-05-04",
        },
    )
    assert created.status_code == 201, created.content
    new = Team.objects.get(name="富城村五老关爱团")
    assert created.json() == {
        "id": new.pk,
        "name": "富城村五老关爱团",
        "kind": "care_group",
        "kind_label": "五老关爱团",
        "committee_id": committee.pk,
        "committee_name": "淳安县关工委",
        "region_code": "330127000000",
        "region_name": "淳安县",
        "description": "",
        "founded_on": "2024-05-04",
        "is_active": True,
        "member_count": 0,
        "members": [],
        "activities": [],
    }
    duplicate = post(
        client, "/api/v1/teams/", {"committee_id": committee.pk, "name": "富城村五老关爱团", "kind": "studio"}
    )
    assert duplicate.json()["fields"] == {"name": ["该关工委已有同名队伍"]}
    other_committee = CommitteeFactory.create(region_id="330182000000")
    foreign = post(
        client, "/api/v1/teams/", {"committee_id": other_committee.pk, "name": "x", "kind": "studio"}
    )
    assert foreign.json()["fields"] == {"committee_id": ["该关工委不在您的管辖范围内"]}
    bad_kind = post(client, "/api/v1/teams/", {"committee_id": committee.pk, "name": "y", "kind": "choir"})
    assert (bad_kind.status_code, list(bad_kind.json()["fields"])) == (422, ["kind"])
    listed = client.get("/api/v1/teams/").json()
    assert listed["count"] == 2
    assert [(item["name"], item["member_count"]) for item in listed["items"]] == [
        ("富城村五老关爱团", 0),
        ("千岛湖镇讲师团", 1),
    ]
    assert [item["name"] for item in client.get("/api/v1/teams/?kind=lecturers").json()["items"]] == [
        "千岛湖镇讲师团"
    ]
    assert clients["county_b_admin"].get("/api/v1/teams/").json() == {"count": 0, "items": []}
    detail = client.get(f"/api/v1/teams/{team.pk}").json()
    assert detail["members"] == [
        {"volunteer_id": elders["wang"].pk, "name": "王建国", "role": "leader", "joined_on": "2025-01-01"}
    ]
    assert AuditEvent.objects.filter(action="team.create").count() == 1


def test_members_join_change_role_and_leave(
    clients: dict[str, Client], elders: dict[str, Volunteer], team: Team
) -> None:
    client = clients["county_a_admin"]
    li = elders["li"]
    added = post(
        client, f"/api/v1/teams/{team.pk}/members", {"volunteer_id": li.pk, "joined_on": "2026-11-01"}
    )
    assert added.status_code == 200, added.content
    assert [(m["name"], m["role"], m["joined_on"]) for m in added.json()["members"]] == [
        ("王建国", "leader", "2025-01-01"),
        ("李秀英", "member", "2026-11-01"),
    ]
    assert added.json()["member_count"] == 2
    twice = post(client, f"/api/v1/teams/{team.pk}/members", {"volunteer_id": li.pk})
    assert twice.json() == {"code": "conflict", "message": "该志愿者已在本队伍中", "fields": {}}
    promoted = post(client, f"/api/v1/teams/{team.pk}/members", {"volunteer_id": li.pk, "role": "leader"})
    assert [m["role"] for m in promoted.json()["members"]] == ["leader", "leader"]
    foreign = post(client, f"/api/v1/teams/{team.pk}/members", {"volunteer_id": elders["chen"].pk})
    assert foreign.json()["fields"] == {"volunteer_id": ["该志愿者不在本队伍所在区域"]}
    removed = client.delete(f"/api/v1/teams/{team.pk}/members/{li.pk}")
    assert removed.status_code == 200
    assert [m["name"] for m in removed.json()["members"]] == ["王建国"]
    assert TeamMembership.objects.get(volunteer=li).left_on == TODAY
    assert client.delete(f"/api/v1/teams/{team.pk}/members/{li.pk}").status_code == 404
    assert list(
        AuditEvent.objects.filter(action__startswith="team.member")
        .order_by("id")
        .values_list("action", "detail")
    ) == [
        ("team.member_add", {"volunteer": li.pk, "role": "member"}),
        ("team.member_add", {"volunteer": li.pk, "role": "leader"}),
        ("team.member_remove", {"volunteer": li.pk}),
    ]


def test_a_team_activity_records_each_participants_hours(
    clients: dict[str, Client], elders: dict[str, Volunteer], team: Team
) -> None:
    client = clients["county_a_admin"]
    payload = {
        "title": "暑期红色故事会",
        "held_on": "2026-08-05",
        "hours": "3",
        "participant_ids": [elders["wang"].pk],
        "place": "富城村文化礼堂",
        "children_reached": 40,
    }
    outsider = post(
        client, f"/api/v1/teams/{team.pk}/activities", {**payload, "participant_ids": [elders["li"].pk]}
    )
    assert outsider.json()["fields"] == {"participant_ids": ["参加人须为本队伍成员"]}
    response = post(client, f"/api/v1/teams/{team.pk}/activities", payload)
    assert response.status_code == 201, response.content
    activity_id = response.json()["id"]
    assert response.json() == {
        "id": activity_id,
        "team_id": team.pk,
        "title": "暑期红色故事会",
        "held_on": "2026-08-05",
        "place": "富城村文化礼堂",
        "description": "",
        "children_reached": 40,
        "hours": 3.0,
        "participant_count": 1,
    }
    record = ServiceHours.objects.get(activity_id=activity_id)
    assert (record.volunteer_id, record.hours, record.source, record.state) == (
        elders["wang"].pk,
        Decimal("3.0"),
        "activity",
        "confirmed",
    )
    elders["wang"].refresh_from_db()
    assert elders["wang"].hours_total == Decimal("123.0")
    assert [a["title"] for a in client.get(f"/api/v1/teams/{team.pk}").json()["activities"]] == [
        "暑期红色故事会"
    ]


# --- Who may do what -------------------------------------------------------------------------------


def test_authorization_matrix(
    clients: dict[str, Client], elders: dict[str, Volunteer], team: Team, claims: list[ServiceHours]
) -> None:
    a, b = elders["wang"].pk, elders["chen"].pk
    pending = claims[0].pk
    t = team.pk
    body: dict[str, dict[str, Any]] = {
        "patch": {"version": 1, "former_unit": "x"},
        "status": {"status": "suspended", "reason": "x"},
        "check": {"checked_on": "2026-11-01", "result": "clear", "checked_by": "x"},
        "unmask": {"field": "id_number"},
        "hours": {"served_on": "2026-11-01", "hours": "1", "description": "x"},
        "return": {"reason": "x"},
        "correct": {"hours": "1", "reason": "x"},
        "create": {**NEW_VOLUNTEER},
        "team": {"committee_id": team.committee_id, "name": "新队", "kind": "studio"},
        "member": {"volunteer_id": elders["li"].pk},
        "activity": {"title": "x", "held_on": "2026-11-01", "hours": "1", "participant_ids": [a]},
    }
    staff_operations: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/volunteers/", None),
        ("POST", "/api/v1/volunteers/", body["create"]),
        ("GET", f"/api/v1/volunteers/{a}", None),
        ("PATCH", f"/api/v1/volunteers/{a}", body["patch"]),
        ("POST", f"/api/v1/volunteers/{a}/status", body["status"]),
        ("POST", f"/api/v1/volunteers/{a}/background-check", body["check"]),
        ("POST", f"/api/v1/volunteers/{a}/unmask", body["unmask"]),
        ("GET", f"/api/v1/volunteers/{a}/eligibility", None),
        ("GET", f"/api/v1/volunteers/{a}/hours", None),
        ("POST", f"/api/v1/volunteers/{a}/hours", body["hours"]),
        ("POST", f"/api/v1/volunteers/hours/{pending}/confirm", None),
        ("POST", f"/api/v1/volunteers/hours/{pending}/return", body["return"]),
        ("POST", f"/api/v1/volunteers/hours/{pending}/correct", body["correct"]),
        ("GET", "/api/v1/teams/", None),
        ("POST", "/api/v1/teams/", body["team"]),
        ("GET", f"/api/v1/teams/{t}", None),
        ("POST", f"/api/v1/teams/{t}/members", body["member"]),
        ("DELETE", f"/api/v1/teams/{t}/members/{a}", None),
        ("POST", f"/api/v1/teams/{t}/activities", body["activity"]),
    ]
    checks: list[Check] = []
    for method, path, data in staff_operations:
        checks.append(Check("anonymous", method, path, 401, data=data))
        for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
            checks.append(Check(persona, method, path, 403, data=data, must_not_contain=("王建国",)))
    # Another county's administrator: county A's records do not exist for them.
    for method, path, data in staff_operations:
        if path in ("/api/v1/volunteers/", "/api/v1/teams/"):
            continue
        checks.append(Check("county_b_admin", method, path, 404, data=data, must_not_contain=("王建国",)))
    checks += [
        Check(
            "county_b_admin",
            "GET",
            "/api/v1/volunteers/?status=all",
            200,
            must_not_contain=("王建国", "李秀英"),
        ),
        Check("county_b_admin", "GET", "/api/v1/teams/", 200, must_not_contain=("千岛湖镇讲师团",)),
        Check(
            "county_b_admin", "POST", "/api/v1/volunteers/", 422, data=body["create"]
        ),  # county A's village
        Check("county_b_admin", "POST", "/api/v1/teams/", 422, data=body["team"]),  # county A's committee
        Check("county_b_admin", "GET", "/api/v1/volunteers/?region=330127", 404),
        Check("county_a_admin", "GET", f"/api/v1/volunteers/{b}", 404, must_not_contain=("陈志明",)),
        Check("county_a_admin", "POST", f"/api/v1/volunteers/{b}/unmask", 404, data=body["unmask"]),
        Check("township_worker", "GET", f"/api/v1/volunteers/{b}/hours", 404),
        Check("county_a_admin", "GET", f"/api/v1/volunteers/{a}", 200),
        Check("county_a_admin", "GET", f"/api/v1/volunteers/{a}/hours", 200),
        Check("county_a_admin", "GET", f"/api/v1/volunteers/{a}/eligibility", 200),
        Check("county_a_admin", "GET", f"/api/v1/teams/{t}", 200),
        Check("township_worker", "GET", f"/api/v1/volunteers/{a}", 200),
        Check("province_admin", "GET", f"/api/v1/volunteers/{b}", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
