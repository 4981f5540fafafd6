"""The pages of the 五老 teams: the list by kind and region, a new team, its leaders, members and
activities, adding and removing members, recording an activity with its participants' hours — and who
may open what."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanai.audit.models import AuditEvent
from guanai.committees.models import Committee
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.volunteers.models import ServiceHours, Team, TeamActivity, TeamMembership, Volunteer
from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory, VolunteerFactory
from guanai.volunteers.vocabulary import Status, TeamKind, TeamRole

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


@dataclass
class Teams:
    county: Committee  # 淳安县关工委
    township: Committee  # 千岛湖镇关工委
    lecturers: Team  # 淳安县五老讲师团 (county)
    care: Team  # 千岛湖镇五老关爱团 (township): 王建国 leads, 李秀英 is a member
    science: Team  # 建德市科技服务团 (county B)
    wang: Volunteer
    li: Volunteer
    zhou: Volunteer  # 周桂兰, active, in no team
    applicant: Volunteer  # 吴明, still 申请中
    zhao: Volunteer  # 赵德明, 建德市


@pytest.fixture
def teams(personas: dict[str, Any]) -> Teams:
    county = CommitteeFactory.create(name="淳安县关工委", region_id="330127000000")
    township = CommitteeFactory.create(name="千岛湖镇关工委", region_id="330127100000")
    county_b = CommitteeFactory.create(name="建德市关工委", region_id="330182000000")
    lecturers = TeamFactory.create(committee=county, name="淳安县五老讲师团", kind=TeamKind.LECTURERS)
    care = TeamFactory.create(committee=township, name="千岛湖镇五老关爱团", kind=TeamKind.CARE_GROUP)
    science = TeamFactory.create(committee=county_b, name="建德市科技服务团", kind=TeamKind.SCIENCE)
    wang = VolunteerFactory.create(name="王建国", region_id=VILLAGE_A)
    li = VolunteerFactory.create(name="李秀英", region_id=COMMUNITY_A)
    zhou = VolunteerFactory.create(name="周桂兰", region_id=VILLAGE_A)
    applicant = VolunteerFactory.create(name="吴明", region_id=VILLAGE_A, status=Status.APPLYING)
    zhao = VolunteerFactory.create(name="赵德明", region_id=COMMUNITY_B)
    TeamMembershipFactory.create(team=care, volunteer=wang, role=TeamRole.LEADER)
    TeamMembershipFactory.create(team=care, volunteer=li, role=TeamRole.MEMBER)
    return Teams(county, township, lecturers, care, science, wang, li, zhou, applicant, zhao)


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def field_errors(page: str, name: str) -> list[str]:
    match = re.search(
        rf'<div id="error-{name}" class="invalid-feedback d-block" aria-live="polite">(.*?)</div>\n', page
    )
    assert match is not None, f"no error slot for {name}"
    return re.findall(r"<div>([^<]*)</div>", match.group(1))


def form_errors(page: str) -> list[str]:
    match = re.search(
        r'<div id="form-errors"><div class="alert alert-danger" role="alert">'
        r"((?:<div>[^<]*</div>)*)</div></div>",
        page,
    )
    return re.findall(r"<div>([^<]*)</div>", match.group(1)) if match else []


def team_rows(client: Client, query: str = "") -> list[tuple[str, str, str]]:
    """(name, kind, members) of each team in the list, in order."""
    page = html(client.get(f"/volunteers/teams/{query}"))
    table = page[page.index('id="team-list"') :]
    return re.findall(
        r'<td><a href="/volunteers/teams/\d+/">([^<]+)</a></td>\s*<td>([^<]+)</td>\s*<td>[^<]+</td>\s*'
        r"<td>[^<]+</td>\s*<td>(\d+)</td>",
        table,
    )


def names_in(page: str, table_id: str) -> list[str]:
    table = page[page.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    return re.findall(r'<td><a href="/volunteers/\d+/">([^<]+)</a></td>', table)


# --- The list -------------------------------------------------------------------------------------


def test_the_list_of_teams_by_kind_and_region(clients: dict[str, Client], teams: Teams) -> None:
    client = clients["county_a_admin"]
    assert team_rows(client) == [
        ("淳安县五老讲师团", "讲师团", "0"),
        ("千岛湖镇五老关爱团", "五老关爱团", "2"),
    ]
    assert team_rows(client, "?kind=lecturers") == [("淳安县五老讲师团", "讲师团", "0")]
    assert team_rows(client, "?region=330127100000") == [("千岛湖镇五老关爱团", "五老关爱团", "2")]
    assert "共 2 支队伍" in html(client.get("/volunteers/teams/"))
    assert team_rows(clients["county_b_admin"]) == [("建德市科技服务团", "科技服务团", "0")]
    assert team_rows(clients["township_worker"]) == [("千岛湖镇五老关爱团", "五老关爱团", "2")]
    assert 'id="team-create"' in html(client.get("/volunteers/teams/"))


# --- A new team -----------------------------------------------------------------------------------


def test_creating_a_team_through_the_page(clients: dict[str, Client], teams: Teams) -> None:
    client = clients["county_a_admin"]
    form = html(client.get("/volunteers/teams/new/"))
    assert f'<option value="{teams.county.pk}">淳安县关工委</option>' in form
    assert "建德市关工委" not in form
    narrowed = html(client.get("/volunteers/teams/new/?region=330127100000"))
    assert f'<option value="{teams.township.pk}">千岛湖镇关工委</option>' in narrowed
    assert f'<option value="{teams.county.pk}">' not in narrowed
    assert '<option value="330127100000" selected>千岛湖镇</option>' in narrowed
    valid = {
        "committee_id": str(teams.township.pk),
        "name": "千岛湖镇网吧义务监督员队",
        "kind": TeamKind.CAFE_SUPERVISORS,
        "description": "每周巡查镇上网吧",
        "founded_on": "2026-03-01",
    }
    page = html(client.post("/volunteers/teams/new/", {**valid, "name": " "}))
    assert field_errors(page, "name") == ["请填写名称"]
    page = html(client.post("/volunteers/teams/new/", {**valid, "name": "千岛湖镇五老关爱团"}))
    assert field_errors(page, "name") == ["该关工委已有同名队伍"]
    page = html(client.post("/volunteers/teams/new/", {**valid, "kind": "", "founded_on": "2027-01-01"}))
    assert field_errors(page, "kind") == ["请选择队伍类型"]
    assert field_errors(page, "founded_on") == ["成立日期不能晚于今天"]
    other = Committee.objects.get(name="建德市关工委").pk
    page = html(client.post("/volunteers/teams/new/", {**valid, "committee_id": str(other)}))
    assert field_errors(page, "committee_id") == [f"选择一个有效的选项。 {other} 不在可用的选项中。"]
    assert Team.objects.count() == 3
    response = client.post("/volunteers/teams/new/", valid)
    team = Team.objects.get(name="千岛湖镇网吧义务监督员队")
    assert response["Location"] == f"/volunteers/teams/{team.pk}/"
    assert (team.committee_id, team.region_id, team.kind, team.founded_on) == (
        teams.township.pk,
        "330127100000",
        "cafe_supervisors",
        datetime.date(2026, 3, 1),
    )
    assert AuditEvent.objects.filter(action="team.create", target_id=str(team.pk)).count() == 1
    assert "已新建队伍。" in html(client.get(response["Location"]))


# --- A team's page --------------------------------------------------------------------------------


def test_the_team_page_shows_leaders_members_and_activities(clients: dict[str, Client], teams: Teams) -> None:
    TeamActivity.objects.create(
        team=teams.care,
        title="暑期假日学校",
        held_on=datetime.date(2026, 7, 15),
        place="富城村文化礼堂",
        children_reached=25,
        hours=Decimal("3.0"),
    )
    page = html(clients["township_worker"].get(f"/volunteers/teams/{teams.care.pk}/"))
    assert '<h1 class="h3 mb-2" id="team-name">千岛湖镇五老关爱团</h1>' in page
    assert "五老关爱团 · 千岛湖镇关工委 · 千岛湖镇" in page
    assert names_in(page, "team-leaders") == ["王建国"]
    assert names_in(page, "team-members") == ["李秀英"]
    assert (
        '<tr><td>暑期假日学校</td><td class="text-nowrap">2026年7月15日</td><td>富城村文化礼堂</td>'
        "<td>3.0</td><td>25</td></tr>"
    ) in page
    assert f'href="/volunteers/?team={teams.care.pk}&amp;status=all" id="team-roster"' in page
    assert f'id="remove-{teams.li.pk}"' in page


# --- Members --------------------------------------------------------------------------------------


def test_adding_members(clients: dict[str, Client], teams: Teams) -> None:
    client = clients["county_a_admin"]
    url = f"/volunteers/teams/{teams.care.pk}/members/add/"
    form = html(client.get(url))
    offered = re.findall(r'<option value="(\d+)">([^<（]+)（', form)
    assert offered == [(str(teams.zhou.pk), "周桂兰")]  # not 申请中, not already in, not of another county
    assert html(client.get(url + "?q=zgl")).count("周桂兰") == 1
    assert "周桂兰" not in html(client.get(url + "?q=wm"))
    page = html(client.post(url, {"volunteer_id": str(teams.applicant.pk), "role": "member"}))
    assert field_errors(page, "volunteer_id") == ["只有在岗志愿者可以加入队伍"]
    page = html(client.post(url, {"volunteer_id": str(teams.zhao.pk), "role": "member"}))
    assert field_errors(page, "volunteer_id") == ["该志愿者不在本队伍所在区域"]
    assert "赵德明" not in page
    page = html(client.post(url, {"volunteer_id": str(teams.li.pk), "role": "member"}))
    assert form_errors(page) == ["该志愿者已在本队伍中"]
    page = html(client.post(url, {"volunteer_id": "", "role": "member"}))
    assert field_errors(page, "volunteer_id") == ["这个字段是必填项。"]
    assert TeamMembership.objects.count() == 2
    response = client.post(
        url, {"volunteer_id": str(teams.zhou.pk), "role": "member", "joined_on": "2026-11-01"}
    )
    assert response["Location"] == f"/volunteers/teams/{teams.care.pk}/"
    # The same person again with another role changes the role.
    assert client.post(url, {"volunteer_id": str(teams.li.pk), "role": "leader"}).status_code == 302
    page = html(client.get(f"/volunteers/teams/{teams.care.pk}/"))
    assert names_in(page, "team-leaders") == ["李秀英", "王建国"]
    assert names_in(page, "team-members") == ["周桂兰"]
    assert TeamMembership.objects.get(volunteer=teams.zhou).joined_on == datetime.date(2026, 11, 1)


def test_removing_a_member(clients: dict[str, Client], teams: Teams) -> None:
    client = clients["county_a_admin"]
    response = client.post(f"/volunteers/teams/{teams.care.pk}/members/{teams.li.pk}/remove/")
    assert response["Location"] == f"/volunteers/teams/{teams.care.pk}/"
    membership = TeamMembership.objects.get(volunteer=teams.li)
    assert membership.left_on == TODAY.date()
    page = html(client.get(f"/volunteers/teams/{teams.care.pk}/"))
    assert "已移出队伍。" in page
    assert names_in(page, "team-members") == []
    assert '<td colspan="5">尚无队员。</td>' in page
    # Not (or no longer) a member: 404.
    assert client.post(f"/volunteers/teams/{teams.care.pk}/members/{teams.li.pk}/remove/").status_code == 404
    assert client.get(f"/volunteers/teams/{teams.care.pk}/members/{teams.wang.pk}/remove/").status_code == 405


# --- Activities -----------------------------------------------------------------------------------


def test_recording_an_activity_records_each_participants_hours(
    clients: dict[str, Client], teams: Teams
) -> None:
    client = clients["county_a_admin"]
    url = f"/volunteers/teams/{teams.care.pk}/activities/new/"
    form = html(client.get(url))
    assert re.findall(r'name="participant_ids" value="(\d+)"', form) == [str(teams.wang.pk), str(teams.li.pk)]
    valid = {
        "title": "留守儿童周末课堂",
        "held_on": "2026-11-28",
        "hours": "2.5",
        "participant_ids": [str(teams.wang.pk), str(teams.li.pk)],
        "place": "富城村文化礼堂",
        "children_reached": "18",
    }
    page = html(client.post(url, {**valid, "title": ""}))
    assert field_errors(page, "title") == ["请填写活动名称"]
    page = html(client.post(url, {**valid, "held_on": "2026-12-05"}))
    assert field_errors(page, "held_on") == ["活动日期不能晚于今天"]
    page = html(client.post(url, {**valid, "hours": "0"}))
    assert field_errors(page, "hours") == ["时长应大于 0、不超过 24 小时"]
    page = html(client.post(url, {**valid, "participant_ids": [str(teams.zhou.pk)]}))
    assert field_errors(page, "participant_ids") == [
        f"选择一个有效的选项。 {teams.zhou.pk} 不在可用的选项中。"
    ]
    assert not TeamActivity.objects.exists()
    assert not ServiceHours.objects.exists()
    response = client.post(url, valid)
    assert response["Location"] == f"/volunteers/teams/{teams.care.pk}/"
    activity = TeamActivity.objects.get()
    assert (activity.title, activity.hours, activity.children_reached) == (
        "留守儿童周末课堂",
        Decimal("2.5"),
        18,
    )
    records = ServiceHours.objects.order_by("volunteer_id")
    assert list(
        records.values_list("volunteer_id", "hours", "state", "source", "activity_id", "organiser")
    ) == [
        (teams.wang.pk, Decimal("2.5"), "confirmed", "activity", activity.pk, "千岛湖镇五老关爱团"),
        (teams.li.pk, Decimal("2.5"), "confirmed", "activity", activity.pk, "千岛湖镇五老关爱团"),
    ]
    teams.wang.refresh_from_db()
    assert teams.wang.hours_total == Decimal("2.5")
    page = html(client.get(f"/volunteers/teams/{teams.care.pk}/"))
    assert "已记录活动及参加队员的服务时长。" in page
    assert "留守儿童周末课堂" in page
    assert AuditEvent.objects.get(action="team.activity").detail == {
        "activity": activity.pk,
        "participants": 2,
    }


# --- Who may open what ----------------------------------------------------------------------------


def test_authorization_matrix_of_the_team_pages(clients: dict[str, Client], teams: Teams) -> None:
    care, zhou = teams.care.pk, teams.zhou.pk
    reads = ["/volunteers/teams/", f"/volunteers/teams/{care}/"]
    manage_pages = [
        "/volunteers/teams/new/",
        f"/volunteers/teams/{care}/members/add/",
        f"/volunteers/teams/{care}/activities/new/",
    ]
    new_team = {"committee_id": str(teams.county.pk), "name": "新队伍", "kind": TeamKind.SCIENCE}
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/volunteers/teams/new/", new_team),
        (f"/volunteers/teams/{care}/members/add/", {"volunteer_id": str(zhou), "role": "member"}),
        (f"/volunteers/teams/{care}/members/{teams.li.pk}/remove/", {}),
        (
            f"/volunteers/teams/{care}/activities/new/",
            {"title": "活动", "held_on": "2026-11-20", "hours": "2", "participant_ids": [str(teams.wang.pk)]},
        ),
    ]
    checks: list[Check] = []
    for path in reads + manage_pages:
        checks.append(Check("anonymous", "GET", path, 302, must_not_contain=("千岛湖镇五老关爱团",)))
    for path, form in writes:
        checks.append(Check("anonymous", "POST", path, 302, form=form))
    for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=("千岛湖镇五老关爱团",))
            for path in reads + manage_pages
        ]
        checks += [Check(persona, "POST", path, 403, form=form) for path, form in writes]
    # Another county: county A's team answers 404, as if it did not exist.
    checks += [
        Check("county_b_admin", "GET", path, 404, must_not_contain=("千岛湖镇五老关爱团", "王建国"))
        for path in reads[1:] + manage_pages[1:]
    ]
    checks += [Check("county_b_admin", "POST", path, 404, form=form) for path, form in writes[1:]]
    checks += [
        Check("county_b_admin", "GET", "/volunteers/teams/", 200, must_not_contain=("千岛湖镇五老关爱团",)),
        Check("county_b_admin", "GET", "/volunteers/teams/new/", 200, must_not_contain=("淳安县关工委",)),
        # Another county's committee is not one to found a team under.
        Check("county_b_admin", "POST", "/volunteers/teams/new/", 200, form=new_team),
        Check("county_b_admin", "GET", f"/volunteers/teams/{teams.science.pk}/", 200),
        Check("county_a_admin", "GET", f"/volunteers/teams/{teams.science.pk}/", 404),
        # A county's team is above the township: the township worker does not see it.
        Check("township_worker", "GET", f"/volunteers/teams/{teams.lecturers.pk}/", 404),
    ]
    for persona in ("province_admin", "county_a_admin", "township_worker"):
        checks += [Check(persona, "GET", path, 200) for path in reads + manage_pages]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert Team.objects.count() == 3
