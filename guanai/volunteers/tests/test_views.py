"""The staff pages of the 五老 volunteers: finding them, a volunteer's record (masked, with audited
unmasking), registering and editing (errors on their fields, conflicts), status, background checks,
service hours (recorded, confirmed, returned, corrected), training, honours — and who may open what."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Role
from guanai.core.testing import Check, assert_authorization_matrix, count_queries, verified_client
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY_A_PREFIX,
    COUNTY_B_PREFIX,
    VILLAGE_A,
    make_id_number,
)
from guanai.volunteers.models import Honour, HoursCorrection, ServiceHours, Training, Volunteer
from guanai.volunteers.services import VolunteerInput, volunteer_update
from guanai.volunteers.tests.factories import (
    ServiceHoursFactory,
    TeamMembershipFactory,
    TrainingFactory,
    VolunteerFactory,
)
from guanai.volunteers.vocabulary import (
    ElderCategory,
    HoursSource,
    HoursState,
    Specialty,
    Status,
    availability_bit,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
WANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1950, 3, 8), 11)  # a man, 淳安县
LI_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1955, 9, 1), 22)  # a woman
ZHAO_ID = make_id_number(COUNTY_B_PREFIX, datetime.date(1952, 6, 30), 33)  # a man, 建德市
WANG_PHONE = "13957112345"
LI_PHONE = "0571-65012345"
MONDAY_MORNING = availability_bit(0, 0)
MONDAY_AFTERNOON = availability_bit(0, 1)


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    """Check expiry, ages and "today" defaults depend on the day: the tests run on one."""
    time_machine.move_to(TODAY, tick=False)


@dataclass
class Roster:
    wang: Volunteer  # 王建国, 富城村: teacher and veteran, lawyer; clear check a month ago; 120 h (one star)
    li: Volunteer  # 李秀英, 青城社区: expert; check expired; Monday mornings only; full (2 of 2)
    zhao: Volunteer  # 赵德明, 建德市


@pytest.fixture
def roster(personas: dict[str, Any]) -> Roster:
    wang = VolunteerFactory.create(
        name="王建国",
        id_number=WANG_ID,
        phone=WANG_PHONE,
        region_id=VILLAGE_A,
        categories=ElderCategory.TEACHER | ElderCategory.VETERAN,
        specialties=Specialty.TEACHING | Specialty.LAW,
        law_licence_number="13301199510123456",
        check_date=datetime.date(2026, 10, 31),
        hours_total=Decimal("120.0"),
    )
    li = VolunteerFactory.create(
        name="李秀英",
        id_number=LI_ID,
        phone=LI_PHONE,
        region_id=COMMUNITY_A,
        categories=ElderCategory.EXPERT,
        specialties=Specialty.HEALTH,
        teaching_subjects="",
        availability=MONDAY_MORNING,
        max_children=2,
        paired_count=2,
        check_date=datetime.date(2025, 9, 1),
        hours_total=Decimal("0"),
    )
    zhao = VolunteerFactory.create(name="赵德明", id_number=ZHAO_ID, region_id=COMMUNITY_B)
    # 王建国's 120 confirmed hours: 96 in December 2025, 24 in June 2026.
    for day in (1, 2, 3, 4):
        ServiceHoursFactory.create(
            volunteer=wang, served_on=datetime.date(2025, 12, day), hours=Decimal("24")
        )
    ServiceHoursFactory.create(
        volunteer=wang, served_on=datetime.date(2026, 6, 1), hours=Decimal("20"), description="暑期课业辅导"
    )
    ServiceHoursFactory.create(volunteer=wang, served_on=datetime.date(2026, 6, 15), hours=Decimal("4"))
    return Roster(wang=wang, li=li, zhao=zhao)


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def listed(client: Client, query: str = "") -> list[str]:
    """The names in the list's table, in order."""
    page = html(client.get(f"/volunteers/{query}", headers={"HX-Request": "true"}))
    table = page[page.index('id="volunteer-list"') :]
    return re.findall(r'<td><a href="/volunteers/\d+/">([^<]+)</a></td>', table)


def masked_id(number: str) -> str:
    return number[:6] + "********" + number[-4:]


# --- Finding volunteers ---------------------------------------------------------------------------


def test_the_county_admin_sees_own_county_only_with_phone_and_id_number_masked(
    clients: dict[str, Client], roster: Roster
) -> None:
    page = html(clients["county_a_admin"].get("/volunteers/"))
    assert "王建国" in page
    assert "李秀英" in page
    assert "赵德明" not in page
    for secret in (WANG_ID, LI_ID, WANG_PHONE, "65012345"):
        assert secret not in page
    assert masked_id(WANG_ID) in page
    assert "139****2345" in page
    assert "0571-****2345" in page
    assert "共 2 名志愿者" in page
    assert listed(clients["county_b_admin"]) == ["赵德明"]
    assert listed(clients["province_admin"]) == ["李秀英", "王建国", "赵德明"]  # by pinyin
    assert listed(clients["township_worker"]) == ["李秀英", "王建国"]


def test_each_row_shows_stars_hours_and_the_check_in_words(
    clients: dict[str, Client], roster: Roster
) -> None:
    page = html(clients["county_a_admin"].get("/volunteers/", headers={"HX-Request": "true"}))
    table = page[page.index('id="volunteer-list"') :]
    wang_row = table[table.index("王建国") : table.index("</tr>", table.index("王建国"))]
    li_row = table[table.index("李秀英") : table.index("</tr>", table.index("李秀英"))]
    assert '<span aria-hidden="true">★☆☆☆☆</span> 一星' in wang_row
    assert "<td>120.0</td>" in wang_row
    assert "老战士、老教师" in wang_row
    assert '<span data-check="valid">有效（至 2027年10月31日）</span>' in wang_row
    assert '<span aria-hidden="true">☆☆☆☆☆</span> 未评星' in li_row
    # Expired: red, and said in words too (colour is never the only cue).
    assert (
        '<span class="text-danger fw-semibold" data-check="expired"><span aria-hidden="true">⚠ </span>'
        "已过期（2026年9月1日到期）</span>"
    ) in li_row
    assert "2 / 2" in li_row


def test_a_check_expiring_within_thirty_days_is_due_and_said_so(
    clients: dict[str, Client], personas: Any
) -> None:
    VolunteerFactory.create(name="钱满仓", check_date=datetime.date(2025, 12, 30))  # expires 2026-12-30
    VolunteerFactory.create(name="孔令华", check_date=datetime.date(2025, 12, 31))  # one day later
    client = clients["county_a_admin"]
    page = html(client.get("/volunteers/", headers={"HX-Request": "true"}))
    assert '<span class="fw-semibold" data-check="expiring">即将到期（至 2026年12月30日）</span>' in page
    assert '<span data-check="valid">有效（至 2026年12月31日）</span>' in page
    assert listed(client, "?check_due=on") == ["钱满仓"]


def test_a_check_dated_after_today_is_not_taken_for_a_valid_one(
    clients: dict[str, Client], personas: Any
) -> None:
    mistyped = VolunteerFactory.create(name="钱满仓", check_date=datetime.date(2027, 1, 5))
    page = html(clients["county_a_admin"].get(f"/volunteers/{mistyped.pk}/"))
    assert (
        '<span class="text-danger fw-semibold" data-check="future"><span aria-hidden="true">⚠ </span>'
        "审查日期晚于今天，请核实</span>"
    ) in page
    assert "背景审查日期（2027-01-05）晚于今天，请核实" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wjg", ["王建国"]),
        ("WJG", ["王建国"]),
        ("wangjianguo", ["王建国"]),
        ("li", ["李秀英"]),
        ("建国", ["王建国"]),
        (LI_ID, ["李秀英"]),
        (WANG_PHONE, ["王建国"]),
        (LI_PHONE, ["李秀英"]),
        (ZHAO_ID, []),  # another county's volunteer is not found by his ID number either
        ("zdm", []),
    ],
)
def test_search_by_name_pinyin_initials_id_number_and_phone(
    clients: dict[str, Client], roster: Roster, query: str, expected: list[str]
) -> None:
    assert listed(clients["county_a_admin"], f"?q={quote(query)}") == expected


@pytest.fixture
def lecturers(roster: Roster) -> int:
    """A team that 王建国 belongs to; returns its id."""
    membership = TeamMembershipFactory.create(volunteer=roster.wang, team__name="千岛湖镇讲师团")
    return membership.team_id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?region=330127100000", ["李秀英", "王建国"]),
        ("?category=8", ["王建国"]),
        ("?category=8&category=4", []),
        ("?category=4", ["李秀英"]),
        ("?specialty=1", ["王建国"]),
        ("?specialty=16", ["李秀英"]),
        (f"?availability={MONDAY_MORNING}", ["李秀英", "王建国"]),
        (f"?availability={MONDAY_MORNING}&availability={MONDAY_AFTERNOON}", ["王建国"]),
        ("?has_capacity=on", ["王建国"]),
        ("?check_due=on", ["李秀英"]),
        ("?star=1", ["王建国"]),
        ("?star=0", ["李秀英"]),
        ("?star=2", []),
        ("?gender=female", ["李秀英"]),
        ("?status=suspended", []),
        ("?status=all", ["李秀英", "王建国"]),
        ("?sort=-name", ["王建国", "李秀英"]),
        ("?sort=hours", ["王建国", "李秀英"]),
        ("?sort=check", ["李秀英", "王建国"]),
    ],
)
def test_filters_and_sorting(
    clients: dict[str, Client], roster: Roster, lecturers: int, query: str, expected: list[str]
) -> None:
    assert listed(clients["county_a_admin"], query) == expected


def test_filtering_by_team(clients: dict[str, Client], roster: Roster, lecturers: int) -> None:
    client = clients["county_a_admin"]
    assert listed(client, f"?team={lecturers}") == ["王建国"]
    page = html(client.get(f"/volunteers/?team={lecturers}"))
    assert f'<option value="{lecturers}" selected>千岛湖镇讲师团</option>' in page
    # Another county's admin is not offered the team, and asking for it finds none of theirs.
    other = html(clients["county_b_admin"].get(f"/volunteers/?team={lecturers}"))
    assert "千岛湖镇讲师团" not in other


def test_a_region_outside_the_actors_is_refused_beside_the_field(
    clients: dict[str, Client], roster: Roster
) -> None:
    page = html(clients["county_a_admin"].get("/volunteers/?region=330182001000"))
    assert "赵德明" not in page
    assert "选择一个有效的选项" in page
    assert "新安江街道" not in page
    assert "千岛湖镇" in page


def test_an_htmx_request_gets_the_table_only(clients: dict[str, Client], roster: Roster) -> None:
    page = html(clients["county_a_admin"].get("/volunteers/?q=wjg", headers={"HX-Request": "true"}))
    assert "<html" not in page
    assert "共 1 名志愿者" in page


def test_pagination_fifty_a_page_keeps_the_filters(clients: dict[str, Client], personas: Any) -> None:
    VolunteerFactory.create_batch(60, region_id=COMMUNITY_A)
    client = clients["county_a_admin"]
    first = html(client.get("/volunteers/?status=active"))
    assert "第 1 / 2 页" in first
    assert len(listed(client)) == 50
    assert len(listed(client, "?page=2")) == 10
    assert 'href="/volunteers/?status=active&amp;page=2"' in first


def test_the_list_uses_a_fixed_number_of_queries(
    clients: dict[str, Client], roster: Roster, lecturers: int
) -> None:
    client = clients["county_a_admin"]
    query = f"/volunteers/?category=8&availability={MONDAY_MORNING}&sort=hours&status=all"
    client.get(query)  # warm the session
    with count_queries() as few:
        assert html(client.get(query))
    VolunteerFactory.create_batch(30, region_id=COMMUNITY_A, categories=ElderCategory.TEACHER)
    VolunteerFactory.create_batch(30, region_id=VILLAGE_A, categories=ElderCategory.TEACHER)
    with count_queries() as many:
        page = html(client.get(query))
    assert "共 61 名志愿者" in page
    assert len(many) == len(few)


def field_errors(page: str, name: str) -> list[str]:
    """The messages in the error slot of field `name`."""
    match = re.search(
        rf'<div id="error-{name}" class="invalid-feedback d-block" aria-live="polite">(.*?)</div>\n', page
    )
    assert match is not None, f"no error slot for {name}"
    return re.findall(r"<div>([^<]*)</div>", match.group(1))


# --- One volunteer --------------------------------------------------------------------------------


def test_the_detail_page_shows_the_record_masked_with_eligibility_hours_and_history(
    clients: dict[str, Client], roster: Roster, lecturers: int
) -> None:
    wang = roster.wang
    TrainingFactory.create(
        volunteer=wang, course="未成年人保护法解读", attended_on=datetime.date(2026, 4, 10)
    )
    Honour.objects.create(
        volunteer=wang, title="最美五老", awarded_by="淳安县关工委", awarded_on=datetime.date(2025, 12, 20)
    )
    page = html(clients["county_a_admin"].get(f"/volunteers/{wang.pk}/"))
    assert '<h1 class="h3 mb-2" id="volunteer-name">王建国</h1>' in page
    assert WANG_ID not in page
    assert WANG_PHONE not in page
    assert masked_id(WANG_ID) in page
    assert "139****2345" in page
    assert 'id="unmask-id-number"' in page
    assert 'id="unmask-phone"' in page
    assert "可以结对，尚可结对 3 人。" in page
    assert '<dd class="col-sm-9" id="volunteer-categories">老战士、老教师</dd>' in page
    assert "法律、教学辅导" in page
    assert "律师执业证号：13301199510123456" in page
    assert '<dd class="col-sm-9" id="volunteer-availability">不限</dd>' in page
    assert "在结对 0 人，最多 3 人" in page
    assert '<span data-check="valid">有效（至 2027年10月31日）</span>' in page
    assert "累计已确认 120.0 小时。" in page
    assert "（距二星还差 180.0 小时）" in page
    by_year = page[page.index('id="hours-by-year"') : page.index('id="hours-by-month"')]
    assert re.findall(r"<tr><td>(\d+)年</td><td>([\d.]+)</td></tr>", by_year) == [
        ("2026", "24.0"),
        ("2025", "96.0"),
    ]
    by_month = page[page.index('id="hours-by-month"') : page.index('id="hours-records"')]
    assert re.findall(r"<tr><td>(\d+)年(\d+)月</td><td>([\d.]+)</td></tr>", by_month) == [
        ("2026", "6", "24.0"),
        ("2025", "12", "96.0"),
    ]
    assert "暑期课业辅导" in page
    teams = page[page.index('id="volunteer-teams"') :]
    assert f'<a href="/volunteers/teams/{lecturers}/">千岛湖镇讲师团</a>' in teams
    assert "未成年人保护法解读" in page
    assert "最美五老" in page
    assert 'id="audit-trail"' in page
    for link in ("volunteer-edit", "volunteer-status-link", "volunteer-check-link", "volunteer-hours-link"):
        assert f'id="{link}"' in page


def test_the_detail_page_says_why_a_volunteer_may_not_be_paired(
    clients: dict[str, Client], roster: Roster
) -> None:
    page = html(clients["county_a_admin"].get(f"/volunteers/{roster.li.pk}/"))
    refusals = page[
        page.index('id="pairing-refusals"') : page.index("</ul>", page.index('id="pairing-refusals"'))
    ]
    assert re.findall(r"<li>([^<]+)</li>", refusals) == [
        "背景审查有效期至 2026-09-01，已过期，须重新审查",
        "结对人数已满（最多 2 人）",
    ]
    assert '<dd class="col-sm-9" id="volunteer-availability">周一上午</dd>' in page
    assert "已过期（2026年9月1日到期）" in page
    assert "累计已确认 0.0 小时。" in page
    assert "尚无服务记录。" in page


def test_unmasking_each_field_is_audited(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    assert html(client.post(f"/volunteers/{wang.pk}/unmask/id_number/")) == (
        f'<span class="guanai-unmasked">{WANG_ID}</span>\n'
    )
    assert WANG_PHONE in html(client.post(f"/volunteers/{wang.pk}/unmask/phone/"))
    events = AuditEvent.objects.filter(action="personal_data.unmask").order_by("id")
    assert list(events.values_list("target_type", "target_id", "changed_fields", "outcome")) == [
        ("volunteers.volunteer", str(wang.pk), ["id_number"], "success"),
        ("volunteers.volunteer", str(wang.pk), ["phone"], "success"),
    ]
    assert client.post(f"/volunteers/{wang.pk}/unmask/name/").status_code == 404
    assert client.get(f"/volunteers/{wang.pk}/unmask/phone/").status_code == 405
    # The unmasking shows in the record's history.
    trail = html(client.get(f"/volunteers/{wang.pk}/"))
    assert trail.count("查看敏感信息原文") == 2


@pytest.fixture
def liaison_client(personas: dict[str, Any]) -> Client:
    """A village liaison of 富城村: keeps the elders of the village, sees them masked, may not unmask."""
    from guanai.accounts.services import role_assign, user_create
    from guanai.regions.models import Region

    liaison = user_create(username="p-liaison", password=None, display_name="联络员")
    role_assign(
        user=liaison,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code=VILLAGE_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    return verified_client(liaison)


def test_a_village_liaison_keeps_the_village_without_unmasking(
    liaison_client: Client, roster: Roster
) -> None:
    assert listed(liaison_client) == ["王建国"]
    page = html(liaison_client.get(f"/volunteers/{roster.wang.pk}/"))
    assert "139****2345" in page
    assert 'id="unmask-phone"' not in page
    assert 'id="audit-trail"' not in page  # no RECORD_HISTORY_VIEW
    assert 'id="volunteer-edit"' in page
    assert liaison_client.post(f"/volunteers/{roster.wang.pk}/unmask/phone/").status_code == 403
    assert liaison_client.get(f"/volunteers/{roster.li.pk}/").status_code == 404


# --- Registering and editing ----------------------------------------------------------------------

SUN_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1953, 4, 2), 45)  # a man
WEEKDAY_MORNINGS = [availability_bit(day, 0) for day in range(5)]


def new_volunteer(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "孙志强",
        "id_number": SUN_ID,
        "phone": "138 0057 1234",
        "region_code": VILLAGE_A,
        "status": "active",
        "categories": [str(int(ElderCategory.CADRE)), str(int(ElderCategory.TEACHER))],
        "former_unit": "淳安县教育局",
        "former_title": "副局长",
        "specialties": [str(int(Specialty.TEACHING))],
        "teaching_subjects": "数学",
        "availability": [str(bit) for bit in WEEKDAY_MORNINGS],
        "max_children": "2",
        "dialects": "淳安话",
        "check_date": "2026-11-01",
        "check_result": "clear",
        "check_by": "千岛湖镇派出所",
        "shows_on_honour_roll": "on",
    }
    data.update(changes)
    return data


def test_registering_a_volunteer_through_the_page(clients: dict[str, Client], personas: Any) -> None:
    client = clients["county_a_admin"]
    form = html(client.get("/volunteers/new/"))
    assert 'id="volunteer-form"' in form
    assert 'id="availability-grid"' in form
    assert form.count('name="availability"') == 21
    assert '<option value="330127100219">富城村村民委员会</option>' in form
    response = client.post("/volunteers/new/", new_volunteer())
    assert response.status_code == 302
    sun = Volunteer.objects.get(name="孙志强")
    assert response["Location"] == f"/volunteers/{sun.pk}/"
    assert (sun.gender, sun.birth_date, sun.id_number, sun.phone) == (
        "male",
        datetime.date(1953, 4, 2),
        SUN_ID,
        "13800571234",
    )
    assert (sun.categories, sun.specialties, sun.availability, sun.max_children) == (
        ElderCategory.CADRE | ElderCategory.TEACHER,
        Specialty.TEACHING,
        sum(WEEKDAY_MORNINGS),
        2,
    )
    assert (sun.status, sun.joined_on, sun.check_result, sun.shows_on_honour_roll) == (
        "active",
        TODAY.date(),
        "clear",
        True,
    )
    assert (sun.name_pinyin, sun.name_initials, sun.version) == ("sunzhiqiang", "szq", 1)
    assert AuditEvent.objects.filter(action="volunteer.create", target_id=str(sun.pk)).count() == 1
    detail = html(client.get(response["Location"]))
    assert "已登记。" in detail
    assert "周一上午、周二上午、周三上午、周四上午、周五上午" in detail


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"gender": "female"}, "gender", "性别与身份证号不一致（身份证号为男）"),
        ({"specialties": [str(int(Specialty.LAW))]}, "law_licence_number", "法律专长须填写律师执业证号"),
        (
            {"id_number": make_id_number(COUNTY_A_PREFIX, datetime.date(2010, 1, 5), 47)},
            "birth_date",
            "志愿者须年满 18 周岁",
        ),
        ({"check_result": ""}, "check_result", "背景审查日期与结果须同时填写"),
        ({"check_date": "2026-12-01"}, "check_date", "背景审查日期不能晚于今天"),
        ({"phone": "12345"}, "phone", "电话号码格式不正确：手机为 11 位数字，固定电话须带区号"),
        ({"id_number": "330127195304020450"}, "id_number", None),
        ({"name": ""}, "name", "这个字段是必填项。"),
        ({"max_children": "21"}, "max_children", "最多结对人数应在 0 到 20 之间"),
    ],
)
def test_the_form_shows_the_errors_on_their_fields_and_stores_nothing(
    clients: dict[str, Client], personas: Any, changes: dict[str, Any], field: str, message: str | None
) -> None:
    page = html(clients["county_a_admin"].post("/volunteers/new/", new_volunteer(**changes)))
    errors = field_errors(page, field)
    assert len(errors) == 1
    if message is not None:
        assert errors == [message]
    else:
        assert "校验" in errors[0]
    assert not Volunteer.objects.exists()
    assert not AuditEvent.objects.filter(action="volunteer.create").exists()


def test_an_id_number_registered_in_another_county_names_only_that_county(
    clients: dict[str, Client], roster: Roster
) -> None:
    page = html(clients["county_a_admin"].post("/volunteers/new/", new_volunteer(id_number=ZHAO_ID)))
    assert field_errors(page, "id_number") == ["已在建德市登记"]
    assert "赵德明" not in page
    assert "白沙" not in page
    assert Volunteer.objects.count() == 3


def edit_data(volunteer: Volunteer, **changes: Any) -> dict[str, Any]:
    def bits(value: int, every: list[int]) -> list[str]:
        return [str(bit) for bit in every if value & bit]

    data: dict[str, Any] = {
        "version": str(volunteer.version),
        "name": volunteer.name,
        "id_number": "",
        "phone": "",
        "birth_date": volunteer.birth_date.isoformat(),
        "gender": volunteer.gender,
        "region_code": volunteer.region_id,
        "categories": bits(volunteer.categories, [int(flag) for flag in ElderCategory]),
        "former_unit": volunteer.former_unit,
        "former_title": volunteer.former_title,
        "specialties": bits(volunteer.specialties, [int(flag) for flag in Specialty]),
        "law_licence_number": volunteer.law_licence_number,
        "teaching_subjects": volunteer.teaching_subjects,
        "availability": bits(volunteer.availability, [1 << bit for bit in range(21)]),
        "max_children": str(volunteer.max_children),
        "check_date": volunteer.check_date.isoformat() if volunteer.check_date else "",
        "check_result": volunteer.check_result,
        "check_by": volunteer.check_by,
    }
    data.update(changes)
    return data


def test_editing_keeps_the_masked_values_that_were_left_blank(
    clients: dict[str, Client], roster: Roster
) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    page = html(client.get(f"/volunteers/{wang.pk}/edit/"))
    assert WANG_ID not in page
    assert WANG_PHONE not in page
    assert f'placeholder="{masked_id(WANG_ID)}"' in page
    assert 'placeholder="139****2345"' in page
    assert 'name="version" value="1"' in page
    assert 'name="status"' not in page  # the status changes on its own page, with a reason
    response = client.post(
        f"/volunteers/{wang.pk}/edit/", edit_data(wang, former_title="校长", dialects="淳安话")
    )
    assert response.status_code == 302
    wang.refresh_from_db()
    assert (wang.former_title, wang.dialects, wang.version) == ("校长", "淳安话", 2)
    assert (wang.id_number, wang.phone) == (WANG_ID, WANG_PHONE)
    event = AuditEvent.objects.get(action="volunteer.update")
    assert sorted(event.changed_fields) == ["dialects", "former_title"]


def test_a_save_based_on_an_old_version_shows_the_conflict_and_overwrites_nothing(
    clients: dict[str, Client], roster: Roster, personas: Any
) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    stale = edit_data(wang, former_title="我填写的职务")
    volunteer_update(  # someone else saves in between
        actor=actor_for_user(personas["township_worker"]),
        volunteer_id=wang.pk,
        version=1,
        data=VolunteerInput(
            name="王建国",
            region_code=VILLAGE_A,
            id_number=WANG_ID,
            phone=WANG_PHONE,
            categories=wang.categories,
            specialties=wang.specialties,
            law_licence_number=wang.law_licence_number,
            teaching_subjects=wang.teaching_subjects,
            availability=wang.availability,
            former_unit=wang.former_unit,
            former_title="他人改的职务",
            check_date=wang.check_date,
            check_result=wang.check_result,
            check_by=wang.check_by,
        ),
    )
    response = client.post(f"/volunteers/{wang.pk}/edit/", stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert "该记录已被他人修改（当前版本 2，您编辑的是版本 1）" in page
    assert re.search(r'id="conflict-fields">[^<]*原职务（职称）', page)
    assert 'value="我填写的职务"' in page
    assert f'href="/volunteers/{wang.pk}/edit/" id="conflict-reload"' in page
    wang.refresh_from_db()
    assert (wang.former_title, wang.version) == ("他人改的职务", 2)


# --- Status and background checks ----------------------------------------------------------------


def test_changing_the_status_needs_a_reason_to_leave_active(
    clients: dict[str, Client], roster: Roster
) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    form = html(client.get(f"/volunteers/{wang.pk}/status/"))
    assert "当前状态：在岗" in form
    assert re.findall(r'name="status" value="(\w+)"', form) == ["suspended", "withdrawn", "deceased"]
    page = html(client.post(f"/volunteers/{wang.pk}/status/", {"status": "suspended", "reason": ""}))
    assert field_errors(page, "reason") == ["请填写原因"]
    page = html(client.post(f"/volunteers/{wang.pk}/status/", {"status": "applying", "reason": "x"}))
    assert field_errors(page, "status") == ["选择一个有效的选项。 applying 不在可用的选项中。"]
    page = html(
        client.post(
            f"/volunteers/{wang.pk}/status/", {"status": "suspended", "reason": "x", "on": "2026-12-05"}
        )
    )
    assert field_errors(page, "on") == ["日期不能晚于今天"]
    wang.refresh_from_db()
    assert (wang.status, wang.version) == ("active", 1)
    response = client.post(f"/volunteers/{wang.pk}/status/", {"status": "suspended", "reason": "住院治疗"})
    assert response["Location"] == f"/volunteers/{wang.pk}/"
    wang.refresh_from_db()
    assert (wang.status, wang.status_reason, wang.status_changed_on, wang.version) == (
        "suspended",
        "住院治疗",
        TODAY.date(),
        2,
    )
    detail = html(client.get(f"/volunteers/{wang.pk}/"))
    assert '<dd class="col-sm-9" id="volunteer-status-reason">住院治疗</dd>' in detail
    assert "志愿者当前状态为“暂停”" in detail
    assert AuditEvent.objects.get(action="volunteer.status").detail == {"from": "active", "to": "suspended"}


def test_a_deceased_volunteers_status_is_final(clients: dict[str, Client], personas: Any) -> None:
    late = VolunteerFactory.create(status=Status.DECEASED, status_reason="病故")
    client = clients["county_a_admin"]
    page = html(client.get(f"/volunteers/{late.pk}/status/"))
    assert "当前状态：已故。该状态不能再变更。" in page
    assert 'id="action-form"' not in page
    assert 'id="volunteer-status-link"' not in html(client.get(f"/volunteers/{late.pk}/"))


def test_recording_a_background_check(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    li = roster.li
    url = f"/volunteers/{li.pk}/check/"
    page = html(client.post(url, {"checked_on": "2026-12-01", "result": "clear", "checked_by": "派出所"}))
    assert field_errors(page, "checked_on") == ["背景审查日期不能晚于今天"]
    page = html(client.post(url, {"checked_on": "2026-11-20", "result": "", "checked_by": "派出所"}))
    assert field_errors(page, "result") == ["请选择审查结果"]
    page = html(client.post(url, {"checked_on": "2026-11-20", "result": "clear", "checked_by": " "}))
    assert field_errors(page, "checked_by") == ["请填写审查单位（人）"]
    page = html(client.post(url, {"checked_on": "20.11.2026", "result": "clear", "checked_by": "派出所"}))
    assert field_errors(page, "checked_on") == ["输入一个有效的日期。"]
    li.refresh_from_db()
    assert (li.check_date, li.version) == (datetime.date(2025, 9, 1), 1)
    response = client.post(url, {"checked_on": "2026-11-20", "result": "clear", "checked_by": "千岛湖派出所"})
    assert response.status_code == 302
    li.refresh_from_db()
    assert (li.check_date, li.check_result, li.check_by) == (
        datetime.date(2026, 11, 20),
        "clear",
        "千岛湖派出所",
    )
    detail = html(client.get(f"/volunteers/{li.pk}/"))
    assert "有效（至 2027年11月20日）" in detail
    refusals = detail[detail.index('id="pairing-refusals"') :]
    assert re.findall(r"<li>([^<]+)</li>", refusals[: refusals.index("</ul>")]) == [
        "结对人数已满（最多 2 人）"
    ]


# --- Service hours ----------------------------------------------------------------------------------


def test_the_organiser_records_hours_confirmed_at_once(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    url = f"/volunteers/{wang.pk}/hours/"
    valid = {
        "served_on": "2026-11-28",
        "hours": "3.5",
        "description": "假日学校授课",
        "organiser": "千岛湖镇关工委",
    }
    page = html(client.post(url, {**valid, "hours": "30"}))
    assert field_errors(page, "hours") == ["时长应大于 0、不超过 24 小时"]
    page = html(client.post(url, {**valid, "description": " "}))
    assert field_errors(page, "description") == ["请填写服务内容"]
    page = html(client.post(url, {**valid, "served_on": "2026-12-01"}))
    assert field_errors(page, "served_on") == ["服务日期不能晚于今天"]
    page = html(client.post(url, {**valid, "hours": "三小时"}))
    assert field_errors(page, "hours") == ["输入一个数字。"]
    assert ServiceHours.objects.filter(volunteer=wang).count() == 6
    response = client.post(url, valid)
    assert response["Location"] == f"/volunteers/{wang.pk}/"
    record = ServiceHours.objects.get(description="假日学校授课")
    assert (record.hours, record.state, record.source, record.organiser) == (
        Decimal("3.5"),
        "confirmed",
        "organiser",
        "千岛湖镇关工委",
    )
    wang.refresh_from_db()
    assert wang.hours_total == Decimal("123.5")
    assert "累计已确认 123.5 小时" in html(client.get(f"/volunteers/{wang.pk}/"))


@pytest.fixture
def claims(roster: Roster, personas: dict[str, Any]) -> list[ServiceHours]:
    """Two claims of 王建国, made through his own account (the volunteer persona)."""
    return [
        ServiceHoursFactory.create(
            volunteer=roster.wang,
            served_on=datetime.date(2026, 11, day),
            hours=Decimal(hours),
            description=description,
            organiser="千岛湖镇关工委",
            source=HoursSource.CLAIM,
            state=HoursState.PENDING,
            recorded_by=personas["volunteer"],
        )
        for day, hours, description in ((20, "2.5", "陪伴留守儿童读书"), (22, "3.0", "网吧义务监督"))
    ]


def test_the_queue_of_claims_to_confirm_or_return(
    clients: dict[str, Client], roster: Roster, claims: list[ServiceHours]
) -> None:
    client = clients["county_a_admin"]
    reading, patrol = claims
    page = html(client.get("/volunteers/hours/pending/"))
    assert "共 2 条待确认" in page
    assert "陪伴留守儿童读书" in page
    assert f'id="confirm-{reading.pk}"' in page
    assert "没有待确认的服务时长。" in html(clients["county_b_admin"].get("/volunteers/hours/pending/"))
    # Returning needs a reason, which the volunteer will see.
    page = html(client.post(f"/volunteers/hours/{patrol.pk}/return/", {"reason": ""}))
    assert field_errors(page, "reason") == ["请填写退回原因"]
    assert "网吧义务监督" in page
    patrol.refresh_from_db()
    assert patrol.state == "pending"
    response = client.post(f"/volunteers/hours/{patrol.pk}/return/", {"reason": "当天未安排监督任务"})
    assert response["Location"] == "/volunteers/hours/pending/"
    patrol.refresh_from_db()
    assert (patrol.state, patrol.return_reason) == ("returned", "当天未安排监督任务")
    # Confirming counts the hours.
    response = client.post(f"/volunteers/hours/{reading.pk}/confirm/")
    assert response["Location"] == "/volunteers/hours/pending/"
    reading.refresh_from_db()
    roster.wang.refresh_from_db()
    assert (reading.state, roster.wang.hours_total) == ("confirmed", Decimal("122.5"))
    page = html(client.get("/volunteers/hours/pending/"))
    assert "已确认 王建国 的 2.5 小时。" in page
    assert "共 0 条待确认" in page
    # Twice is refused, and said so.
    client.post(f"/volunteers/hours/{reading.pk}/confirm/")
    assert "该记录不是待确认状态" in html(client.get("/volunteers/hours/pending/"))
    roster.wang.refresh_from_db()
    assert roster.wang.hours_total == Decimal("122.5")
    assert client.get(f"/volunteers/hours/{patrol.pk}/return/").status_code == 404  # no longer pending
    actions = AuditEvent.objects.filter(action__startswith="hours.").order_by("id")
    assert list(actions.values_list("action", "target_id")) == [
        ("hours.return", str(patrol.pk)),
        ("hours.confirm", str(reading.pk)),
    ]


def test_nobody_confirms_their_own_claim(clients: dict[str, Client], roster: Roster, personas: Any) -> None:
    own = ServiceHoursFactory.create(
        volunteer=roster.wang,
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
        recorded_by=personas["county_a_admin"],
    )
    client = clients["county_a_admin"]
    client.post(f"/volunteers/hours/{own.pk}/confirm/")
    assert "不能确认本人申报的时长" in html(client.get("/volunteers/hours/pending/"))
    own.refresh_from_db()
    assert own.state == "pending"


def test_correcting_confirmed_hours_keeps_what_they_were(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    wang = roster.wang
    record = ServiceHours.objects.get(volunteer=wang, description="暑期课业辅导")
    url = f"/volunteers/{wang.pk}/hours/{record.pk}/correct/"
    form = html(client.get(url))
    assert 'name="hours" value="20.0"' in form
    assert 'name="served_on" value="2026-06-01"' in form
    page = html(client.post(url, {"hours": "18", "served_on": "2026-06-01", "reason": ""}))
    assert field_errors(page, "reason") == ["更正须填写原因"]
    page = html(client.post(url, {"hours": "20", "served_on": "2026-06-01", "reason": "核对"}))
    assert field_errors(page, "hours") == ["更正后的时长与日期与原记录相同"]
    assert not HoursCorrection.objects.exists()
    response = client.post(url, {"hours": "18", "served_on": "2026-06-02", "reason": "签到表为 18 小时"})
    assert response["Location"] == f"/volunteers/{wang.pk}/"
    record.refresh_from_db()
    wang.refresh_from_db()
    assert (record.hours, record.served_on, wang.hours_total) == (
        Decimal("18.0"),
        datetime.date(2026, 6, 2),
        Decimal("118.0"),
    )
    correction = HoursCorrection.objects.get()
    assert (correction.hours_before, correction.hours_after, correction.reason) == (
        Decimal("20.0"),
        Decimal("18.0"),
        "签到表为 18 小时",
    )
    assert "已更正：20.0 → 18.0 小时，原因：签到表为 18 小时" in html(client.get(f"/volunteers/{wang.pk}/"))
    assert "2026年6月1日 20.0 小时 → 2026年6月2日 18.0 小时，原因：签到表为 18 小时" in html(client.get(url))


def test_only_confirmed_hours_are_corrected(
    clients: dict[str, Client], roster: Roster, claims: list[ServiceHours]
) -> None:
    client = clients["county_a_admin"]
    url = f"/volunteers/{roster.wang.pk}/hours/{claims[0].pk}/correct/"
    page = html(client.post(url, {"hours": "1", "served_on": "2026-11-20", "reason": "核对"}))
    assert "只能更正已确认的记录" in page
    assert not HoursCorrection.objects.exists()
    # A record of another volunteer through this one's address answers 404.
    other = ServiceHoursFactory.create(volunteer=roster.li)
    assert client.get(f"/volunteers/{roster.wang.pk}/hours/{other.pk}/correct/").status_code == 404


# --- Training and honours ---------------------------------------------------------------------------


def test_recording_training(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    url = f"/volunteers/{roster.li.pk}/training/"
    valid = {"course": "儿童心理急救", "attended_on": "2026-10-12", "hours": "6", "provider": "淳安县关工委"}
    page = html(client.post(url, {**valid, "course": ""}))
    assert field_errors(page, "course") == ["请填写课程名称"]
    page = html(client.post(url, {**valid, "attended_on": "2026-12-12"}))
    assert field_errors(page, "attended_on") == ["培训日期不能晚于今天"]
    assert not Training.objects.exists()
    assert client.post(url, valid).status_code == 302
    training = Training.objects.get()
    assert (training.volunteer_id, training.course, training.hours) == (
        roster.li.pk,
        "儿童心理急救",
        Decimal("6.0"),
    )
    assert "儿童心理急救" in html(client.get(f"/volunteers/{roster.li.pk}/"))
    assert AuditEvent.objects.get(action="volunteer.training").detail == {"training": training.pk}


def test_recording_an_honour(clients: dict[str, Client], roster: Roster) -> None:
    client = clients["county_a_admin"]
    url = f"/volunteers/{roster.wang.pk}/honours/"
    page = html(client.post(url, {"title": " ", "awarded_by": "", "awarded_on": "2026-12-31"}))
    assert field_errors(page, "title") == ["请填写荣誉名称"]
    assert field_errors(page, "awarded_by") == ["请填写授予单位"]
    assert field_errors(page, "awarded_on") == ["授予日期不能晚于今天"]
    assert not Honour.objects.exists()
    response = client.post(
        url, {"title": "最美五老", "awarded_by": "杭州市关工委", "awarded_on": "2026-09-10"}
    )
    assert response.status_code == 302
    assert list(Honour.objects.values_list("title", "awarded_by", "awarded_on")) == [
        ("最美五老", "杭州市关工委", datetime.date(2026, 9, 10))
    ]
    honours = html(client.get(f"/volunteers/{roster.wang.pk}/"))
    assert "<tr><td>最美五老</td><td>杭州市关工委</td><td>2026年9月10日</td></tr>" in honours


# --- Exports --------------------------------------------------------------------------------------


def streamed_bytes(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def streamed(response: Any) -> str:
    return streamed_bytes(response).decode("utf-8-sig")


def test_the_list_offers_its_export_to_those_who_may(
    clients: dict[str, Client], roster: Roster, liaison_client: Client
) -> None:
    page = html(clients["county_a_admin"].get("/volunteers/?category=8&status=all"))
    form = page[page.index('id="export-form"') : page.index("</form>", page.index('id="export-form"'))]
    assert '<input type="hidden" name="category" value="8">' in form
    assert '<input type="hidden" name="status" value="all">' in form
    assert 'id="exports-link"' in page
    liaison = html(liaison_client.get("/volunteers/"))  # no VOLUNTEER_EXPORT
    assert 'id="export-form"' not in liaison
    assert 'id="exports-link"' not in liaison


def test_exporting_the_filtered_list_masked(clients: dict[str, Client], roster: Roster) -> None:
    response = clients["county_a_admin"].post("/volunteers/export/", {"category": "8", "format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="volunteers-')
    assert response["Cache-Control"] == "no-store"
    content = streamed(response)
    assert "王建国" in content
    assert masked_id(WANG_ID) in content
    assert "139****2345" in content
    for absent in ("李秀英", "赵德明", WANG_ID, WANG_PHONE):
        assert absent not in content
    event = AuditEvent.objects.get(action="volunteers.export")
    assert (event.outcome, event.detail["rows"], event.detail["format"]) == ("success", 1, "csv")


def test_an_export_with_a_filter_that_does_not_hold_is_refused(
    clients: dict[str, Client], roster: Roster
) -> None:
    client = clients["county_a_admin"]
    response = client.post("/volunteers/export/", {"region": "330182001000", "format": "csv"})
    assert response["Location"] == "/volunteers/"
    assert "筛选条件有误，未导出：选择一个有效的选项。" in html(client.get("/volunteers/"))
    assert not AuditEvent.objects.filter(action="volunteers.export").exists()


def test_a_large_export_waits_for_approval_one_level_up_and_downloads_once(
    clients: dict[str, Client], roster: Roster, monkeypatch: Any
) -> None:
    from guanai.minors import exports as minors_exports
    from guanai.minors.models import ExportApproval

    monkeypatch.setattr(minors_exports, "EXPORT_APPROVAL_THRESHOLD", 0)
    county = clients["county_a_admin"]
    response = county.post("/volunteers/export/", {"format": "xlsx", "gender": "male"})
    assert response.status_code == 202
    approval = ExportApproval.objects.get()
    assert f"已提交导出申请（编号 {approval.pk}）" in response.content.decode()
    assert (approval.state, approval.row_count, approval.filters["dataset"]) == ("pending", 1, "volunteers")
    mine = html(county.get("/volunteers/exports/"))
    assert "男；在岗" in mine
    assert f'id="download-{approval.pk}"' not in mine
    assert f'id="approve-{approval.pk}"' not in mine  # not one's own level
    assert county.post(f"/volunteers/exports/{approval.pk}/approve/").status_code == 404  # own level
    approval.refresh_from_db()
    assert approval.state == "pending"
    province = clients["province_admin"]
    assert f'id="approve-{approval.pk}"' in html(province.get("/volunteers/exports/"))
    assert province.post(f"/volunteers/exports/{approval.pk}/approve/")["Location"] == "/volunteers/exports/"
    approval.refresh_from_db()
    assert approval.state == "approved"
    assert f'id="download-{approval.pk}"' in html(county.get("/volunteers/exports/"))
    download = county.post(f"/volunteers/exports/{approval.pk}/download/")
    assert download["Content-Type"] == minors_exports.XLSX_CONTENT_TYPE
    assert streamed_bytes(download)[:2] == b"PK"  # a workbook
    again = county.post(f"/volunteers/exports/{approval.pk}/download/")
    assert again["Location"] == "/volunteers/exports/"
    assert "该导出申请已导出，不能导出" in html(county.get("/volunteers/exports/"))


def test_an_approval_of_the_registry_is_not_one_of_the_volunteers(
    clients: dict[str, Client], roster: Roster, personas: dict[str, Any]
) -> None:
    from guanai.minors.models import ExportApproval

    registry = ExportApproval.objects.create(
        requested_by=personas["county_a_admin"],
        region_id="330127000000",
        filters={"dataset": "minors"},
        file_format="csv",
        row_count=2000,
        state=ExportApproval.State.APPROVED,
    )
    assert clients["county_a_admin"].post(f"/volunteers/exports/{registry.pk}/download/").status_code == 404
    assert clients["province_admin"].post(f"/volunteers/exports/{registry.pk}/decline/").status_code == 404
    assert f'id="download-{registry.pk}"' not in html(clients["county_a_admin"].get("/volunteers/exports/"))


# --- Who may open what ----------------------------------------------------------------------------


def test_a_write_without_the_csrf_token_is_refused(personas: dict[str, Any], roster: Roster) -> None:
    client = verified_client(personas["county_a_admin"])
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/volunteers/{roster.wang.pk}/status/", {"status": "suspended", "reason": "住院"})
    assert response.status_code == 403
    roster.wang.refresh_from_db()
    assert roster.wang.status == "active"


def test_authorization_matrix_of_the_pages(
    clients: dict[str, Client], roster: Roster, claims: list[ServiceHours], personas: dict[str, Any]
) -> None:
    from guanai.minors.models import ExportApproval

    a, b = roster.wang.pk, roster.zhao.pk
    claim = claims[0].pk
    record = ServiceHours.objects.get(volunteer=roster.wang, description="暑期课业辅导").pk
    reads = ["/volunteers/", f"/volunteers/{a}/"]
    manage_pages = [
        "/volunteers/new/",
        f"/volunteers/{a}/edit/",
        f"/volunteers/{a}/status/",
        f"/volunteers/{a}/check/",
        f"/volunteers/{a}/hours/",
        f"/volunteers/{a}/training/",
        f"/volunteers/{a}/honours/",
        f"/volunteers/{a}/hours/{record}/correct/",
        "/volunteers/hours/pending/",
        f"/volunteers/hours/{claim}/return/",
    ]
    # Valid writes, so that only who asks decides the answer.
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/volunteers/new/", new_volunteer()),
        (f"/volunteers/{a}/edit/", edit_data(roster.wang, former_title="校长")),
        (f"/volunteers/{a}/status/", {"status": "suspended", "reason": "住院"}),
        (f"/volunteers/{a}/check/", {"checked_on": "2026-11-20", "result": "clear", "checked_by": "派出所"}),
        (f"/volunteers/{a}/hours/", {"served_on": "2026-11-20", "hours": "2", "description": "授课"}),
        (f"/volunteers/{a}/training/", {"course": "培训", "attended_on": "2026-11-20", "hours": "2"}),
        (
            f"/volunteers/{a}/honours/",
            {"title": "最美五老", "awarded_by": "县关工委", "awarded_on": "2026-11-20"},
        ),
        (
            f"/volunteers/{a}/hours/{record}/correct/",
            {"hours": "1", "served_on": "2026-06-01", "reason": "核对"},
        ),
        (f"/volunteers/hours/{claim}/return/", {"reason": "不属实"}),
        (f"/volunteers/hours/{claim}/confirm/", {}),
        (f"/volunteers/{a}/unmask/id_number/", {}),
        (f"/volunteers/{a}/unmask/phone/", {}),
    ]
    secrets = (WANG_ID, WANG_PHONE)
    approval = ExportApproval.objects.create(
        requested_by=personas["county_a_admin"],
        region_id="330127000000",
        filters={"dataset": "volunteers", "status": "active"},
        file_format="csv",
        row_count=2000,
    )
    export_checks = [
        ("GET", "/volunteers/exports/", None),
        ("POST", "/volunteers/export/", {"format": "csv"}),
        ("POST", f"/volunteers/exports/{approval.pk}/download/", {}),
    ]
    checks: list[Check] = [
        Check("anonymous", method, path, 302, form=form) for method, path, form in export_checks
    ]
    checks += [Check("anonymous", "POST", f"/volunteers/exports/{approval.pk}/approve/", 302)]
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        checks += [
            Check(persona, method, path, 403, form=form, must_not_contain=("王建国",))
            for method, path, form in export_checks
        ]
        checks += [Check(persona, "POST", f"/volunteers/exports/{approval.pk}/approve/", 403)]
    checks += [
        Check(
            "township_worker", "POST", f"/volunteers/exports/{approval.pk}/approve/", 403
        ),  # no EXPORT_APPROVE
        Check("county_b_admin", "POST", f"/volunteers/exports/{approval.pk}/approve/", 404),  # another branch
        Check("county_b_admin", "POST", f"/volunteers/exports/{approval.pk}/download/", 404),  # not theirs
        Check("province_admin", "POST", f"/volunteers/exports/{approval.pk}/download/", 404),  # not theirs
        Check("province_admin", "POST", f"/volunteers/exports/{approval.pk}/maybe/", 404),
        Check("county_a_admin", "GET", "/volunteers/export/", 405),
        Check("county_a_admin", "GET", "/volunteers/exports/", 200),
        Check("township_worker", "GET", "/volunteers/exports/", 200),
    ]
    for path in reads + manage_pages:
        checks.append(Check("anonymous", "GET", path, 302, must_not_contain=("王建国",)))
    for path, form in writes:
        checks.append(Check("anonymous", "POST", path, 302, form=form))
    for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=("王建国",)) for path in reads + manage_pages
        ]
        checks += [
            Check(persona, "POST", path, 403, form=form, must_not_contain=secrets) for path, form in writes
        ]
    # Another county: every record of county A answers 404, as if it did not exist.
    checks += [
        Check("county_b_admin", "GET", path, 404, must_not_contain=("王建国",))
        for path in reads[1:] + manage_pages
        if path not in ("/volunteers/new/", "/volunteers/hours/pending/")
    ]
    checks += [
        Check("county_b_admin", "POST", path, 404, form=form, must_not_contain=secrets)
        for path, form in writes
        if path != "/volunteers/new/"
    ]
    checks += [
        Check("county_b_admin", "GET", "/volunteers/", 200, must_not_contain=("王建国", "李秀英")),
        Check("county_b_admin", "GET", "/volunteers/hours/pending/", 200, must_not_contain=("王建国",)),
        Check("county_b_admin", "GET", f"/volunteers/{b}/", 200),
        Check("county_a_admin", "GET", f"/volunteers/{b}/", 404, must_not_contain=("赵德明",)),
        Check("township_worker", "GET", f"/volunteers/{b}/", 404),
        Check("county_a_admin", "GET", "/volunteers/999999/", 404),
        Check("county_a_admin", "GET", f"/volunteers/{a}/unmask/id_number/", 405),
        Check("county_a_admin", "GET", f"/volunteers/hours/{claim}/confirm/", 405),
    ]
    for persona in ("province_admin", "county_a_admin", "township_worker"):
        checks += [Check(persona, "GET", path, 200) for path in reads + manage_pages]
    checks += [
        Check("county_a_admin", "POST", f"/volunteers/{a}/unmask/id_number/", 200),
        Check("township_worker", "POST", f"/volunteers/{a}/unmask/phone/", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
