"""我的: a volunteer's own page — hours and stars with the next threshold, claims, training, honours,
teams, the masked profile and the honour-roll consent — and who may open it."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.volunteers.models import Honour, ServiceHours, Volunteer
from guanai.volunteers.tests.factories import (
    ServiceHoursFactory,
    TeamMembershipFactory,
    TrainingFactory,
    VolunteerFactory,
)
from guanai.volunteers.vocabulary import HoursSource, HoursState, Status

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
NO_RECORD = "您的账号尚未关联志愿者档案，请联系所在乡镇（街道）关工委"


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


@pytest.fixture(autouse=True)
def small_thresholds(settings: Any) -> None:
    """Stars at 10, 20, 30, 40 and 50 hours, so that a few records reach them."""
    settings.GUANAI_STAR_THRESHOLDS = [10, 20, 30, 40, 50]


@pytest.fixture
def me(personas: dict[str, Any]) -> Volunteer:
    """The volunteer persona's record: 18.5 confirmed hours, 2 waiting, 1.5 sent back."""
    volunteer = VolunteerFactory.create(
        user=personas["volunteer"],
        name="王建国",
        phone="13905710001",
        joined_on=datetime.date(2025, 3, 1),
    )
    for day, hours in (
        (datetime.date(2026, 6, 1), "4.5"),
        (datetime.date(2026, 5, 20), "8"),
        (datetime.date(2025, 11, 3), "6"),
    ):
        ServiceHoursFactory.create(volunteer=volunteer, served_on=day, hours=Decimal(hours))
    Volunteer.objects.filter(pk=volunteer.pk).update(hours_total=Decimal("18.5"))
    ServiceHoursFactory.create(
        volunteer=volunteer,
        served_on=datetime.date(2026, 6, 10),
        hours=Decimal("2"),
        description="假日学校授课",
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
        organiser="千岛湖镇关工委",
    )
    ServiceHoursFactory.create(
        volunteer=volunteer,
        served_on=datetime.date(2026, 6, 2),
        hours=Decimal("1.5"),
        description="路途时间",
        source=HoursSource.CLAIM,
        state=HoursState.RETURNED,
        return_reason="路途时间不计入服务时长",
    )
    TrainingFactory.create(volunteer=volunteer, course="未成年人保护法解读", hours=Decimal("3"))
    Honour.objects.create(
        volunteer=volunteer,
        title="最美五老",
        awarded_by="淳安县关工委",
        awarded_on=datetime.date(2025, 12, 1),
    )
    TeamMembershipFactory.create(volunteer=volunteer, team__name="千岛湖镇五老关爱团")
    volunteer.refresh_from_db()
    return volunteer


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|section|ul|dd|div)>', page, re.S)
    assert match is not None, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_my_page_shows_my_hours_stars_and_what_the_next_star_needs(
    me: Volunteer, clients: dict[str, Client]
) -> None:
    page = clients["volunteer"].get("/me/").content.decode()
    assert text_of(page, "greeting") == "王建国，您好！"
    assert text_of(page, "hours-total") == "累计 18.5 小时"
    assert text_of(page, "hours-this-year") == "今年 12.5 小时；本月 4.5 小时"
    assert text_of(page, "hours-pending") == "还有 2 小时等组织单位确认"
    assert text_of(page, "star-level") == "星级：一星"
    assert text_of(page, "next-star") == "再服务 1.5 小时可评二星"
    assert re.findall(r"<li>(\d+年\d+月：[\d.]+ 小时)</li>", page) == [
        "2026年6月：4.5 小时",
        "2026年5月：8 小时",
        "2025年11月：6 小时",
    ]
    claims = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.split('id="claims"')[1].split("</ul>")[0]))
    assert "2026年6月10日 · 假日学校授课 · 2 小时 · 待确认" in claims
    assert "2026年6月2日 · 路途时间 · 1.5 小时 · 已退回 退回原因：路途时间不计入服务时长" in claims
    assert text_of(page, "no-children") == "暂无结对儿童"
    assert "千岛湖镇五老关爱团（五老关爱团，成员）" in page
    assert "2026年4月10日 · 未成年人保护法解读 · 3 学时 · 淳安县关工委" in page
    assert "2025年12月1日 · 最美五老 · 淳安县关工委" in page
    # The profile is masked: the volunteer sees what staff see without unmasking.
    assert me.id_number is not None
    assert text_of(page, "profile-id-number") == me.id_number[:6] + "********" + me.id_number[-4:]
    assert text_of(page, "profile-phone") == "139****0001"
    assert me.id_number not in page
    assert "13905710001" not in page
    assert text_of(page, "honour-roll-state") == "现在：不在光荣榜上展示我的姓名。"


def test_the_certificate_link_is_there_once_certificates_are(
    me: Volunteer, clients: dict[str, Client]
) -> None:
    try:
        target: str | None = reverse("certificates:mine")
    except NoReverseMatch:
        target = None
    page = clients["volunteer"].get("/me/").content.decode()
    if target is None:
        assert 'id="my-certificate"' not in page
    else:
        assert f'href="{target}" id="my-certificate"' in page


def test_five_stars_is_the_highest(me: Volunteer, clients: dict[str, Client]) -> None:
    for day in range(1, 4):
        ServiceHoursFactory.create(volunteer=me, served_on=datetime.date(2026, 1, day), hours=Decimal("12"))
    page = clients["volunteer"].get("/me/").content.decode()
    assert text_of(page, "hours-total") == "累计 54.5 小时"
    assert text_of(page, "star-level") == "星级：五星"
    assert text_of(page, "next-star") == "您已达到最高星级，感谢您的奉献！"


def test_a_volunteer_claims_hours_for_the_organiser_to_confirm(
    me: Volunteer, clients: dict[str, Client]
) -> None:
    client = clients["volunteer"]
    response = client.post(
        "/me/claim/",
        {
            "served_on": "2026-06-14",
            "hours": "3.5",
            "description": "陪孩子写作业",
            "organiser": "富城村关工委",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/#my-claims"
    record = ServiceHours.objects.get(description="陪孩子写作业")
    assert (record.volunteer, record.served_on, record.hours, record.organiser) == (
        me,
        datetime.date(2026, 6, 14),
        Decimal("3.5"),
        "富城村关工委",
    )
    assert (record.source, record.state, record.recorded_by) == (
        HoursSource.CLAIM,
        HoursState.PENDING,
        me.user,
    )
    me.refresh_from_db()
    assert me.hours_total == Decimal("18.5")  # counts once confirmed
    assert AuditEvent.objects.filter(action="hours.claim", target_id=str(record.pk)).count() == 1
    page = client.get("/me/").content.decode()
    assert "已提交，等组织单位确认后计入服务时长。" in page
    assert text_of(page, "hours-pending") == "还有 5.5 小时等组织单位确认"


def test_a_claim_in_the_future_or_without_its_organiser_is_refused(
    me: Volunteer, clients: dict[str, Client]
) -> None:
    client = clients["volunteer"]
    response = client.post(
        "/me/claim/",
        {"served_on": "2026-06-16", "hours": "2", "description": "入户走访", "organiser": "富城村"},
    )
    assert response.status_code == 200
    assert "服务日期不能晚于今天" in text_of(response.content.decode(), "error-served_on")
    response = client.post("/me/claim/", {"served_on": "2026-06-14", "hours": "2", "description": "入户走访"})
    assert text_of(response.content.decode(), "error-organiser") == "这个字段是必填项。"
    assert ServiceHours.objects.filter(volunteer=me).count() == 5


def test_a_suspended_volunteer_cannot_claim(me: Volunteer, clients: dict[str, Client]) -> None:
    Volunteer.objects.filter(pk=me.pk).update(status=Status.SUSPENDED, status_reason="生病休养")
    client = clients["volunteer"]
    page = client.get("/me/").content.decode()
    assert 'id="claim-form"' not in page
    assert "当前状态：暂停" in text_of(page, "greeting")
    response = client.post(
        "/me/claim/",
        {"served_on": "2026-06-14", "hours": "2", "description": "入户走访", "organiser": "富城村"},
        follow=True,
    )
    assert "只有在岗志愿者可以申报服务时长" in response.content.decode()
    assert ServiceHours.objects.filter(volunteer=me).count() == 5


def test_the_volunteer_chooses_whether_to_appear_on_the_honour_roll(
    me: Volunteer, clients: dict[str, Client]
) -> None:
    client = clients["volunteer"]
    response = client.post("/me/honour-roll/", {"shows": "1"}, follow=True)
    me.refresh_from_db()
    assert me.shows_on_honour_roll is True
    page = response.content.decode()
    assert "已设置：在光荣榜上展示我的姓名。" in page
    assert text_of(page, "honour-roll-state") == "现在：同意在光荣榜上展示我的姓名和服务时长。"
    client.post("/me/honour-roll/", {"shows": "0"})
    me.refresh_from_db()
    assert me.shows_on_honour_roll is False
    events = AuditEvent.objects.filter(action="volunteer.honour_roll_consent").order_by("id")
    assert [event.detail for event in events] == [{"shows": True}, {"shows": False}]


def test_a_user_without_a_volunteer_record_is_told_whom_to_ask(
    personas: dict[str, Any], clients: dict[str, Client]
) -> None:
    client = clients["volunteer"]
    response = client.get("/me/")
    assert response.status_code == 200
    assert text_of(response.content.decode(), "no-volunteer-record") == NO_RECORD
    for path, data in (
        (
            "/me/claim/",
            {"served_on": "2026-06-14", "hours": "2", "description": "入户走访", "organiser": "富城村"},
        ),
        ("/me/honour-roll/", {"shows": "1"}),
    ):
        response = client.post(path, data)
        assert text_of(response.content.decode(), "no-volunteer-record") == NO_RECORD
    assert ServiceHours.objects.count() == 0


def test_authorization_matrix_of_my_page(me: Volunteer, clients: dict[str, Client]) -> None:
    claim = {"served_on": "2026-06-14", "hours": "2", "description": "入户走访", "organiser": "富城村"}
    checks = [
        Check("anonymous", "GET", "/me/", 302),
        Check("anonymous", "POST", "/me/claim/", 302, form=claim),
        Check("anonymous", "POST", "/me/honour-roll/", 302, form={"shows": "1"}),
        Check("volunteer", "GET", "/me/", 200),
        Check("lawyer", "GET", "/me/", 200, must_not_contain=("王建国",)),
        Check("counsellor", "GET", "/me/", 200, must_not_contain=("王建国",)),
        Check("volunteer", "GET", "/me/claim/", 405),
        Check("lawyer", "POST", "/me/claim/", 200, form=claim),
    ]
    for staff in ("province_admin", "county_a_admin", "township_worker", "auditor", "system_admin"):
        checks += [
            Check(staff, "GET", "/me/", 403),
            Check(staff, "POST", "/me/claim/", 403, form=claim),
            Check(staff, "POST", "/me/honour-roll/", 403, form={"shows": "1"}),
        ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert ServiceHours.objects.filter(volunteer=me).count() == 5
