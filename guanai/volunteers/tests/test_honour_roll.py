"""The public honour roll (光荣榜): the most active volunteers of a city or county, by year or in all, and
only those who agreed to appear — for everyone, signed in or not."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.volunteers.models import Volunteer
from guanai.volunteers.services import honour_roll_consent_set
from guanai.volunteers.tests.factories import ServiceHoursFactory, VolunteerFactory
from guanai.volunteers.vocabulary import HoursState, Status

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
COUNTY_A = "330127000000"  # 淳安县
CITY = "330100000000"  # 杭州市: 淳安县 and 建德市


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


def serve(volunteer: Volunteer, hours_by_day: dict[str, str], state: str = HoursState.CONFIRMED) -> None:
    for day, hours in hours_by_day.items():
        ServiceHoursFactory.create(
            volunteer=volunteer, served_on=datetime.date.fromisoformat(day), hours=Decimal(hours), state=state
        )
        if state == HoursState.CONFIRMED:
            Volunteer.objects.filter(pk=volunteer.pk).update(hours_total=F("hours_total") + Decimal(hours))


def elder(name: str, region: str, *, shows: bool = True, **fields: Any) -> Volunteer:
    return VolunteerFactory.create(name=name, region_id=region, shows_on_honour_roll=shows, **fields)


@pytest.fixture
def elders(regions: None) -> dict[str, Volunteer]:
    """In 淳安县: 王大明 (120 h, 24 of them in 2026), 李秀英 (104 h, all in 2026, with 20 h still pending),
    赵默默 (most hours of all, but did not agree), 钱已退 (agreed, but withdrew from service).
    In 建德市: 孙建德 (agreed, 30 h in 2026)."""
    wang = elder("王大明", VILLAGE_A)
    serve(
        wang,
        {"2025-03-01": "24", "2025-04-01": "24", "2025-05-01": "24", "2025-06-01": "24", "2026-02-01": "24"},
    )
    li = elder("李秀英", COMMUNITY_A)
    serve(
        li,
        {"2026-03-01": "24", "2026-03-02": "24", "2026-03-03": "24", "2026-03-04": "24", "2026-03-05": "8"},
    )
    serve(li, {"2026-11-01": "20"}, state=HoursState.PENDING)
    zhao = elder("赵默默", VILLAGE_A, shows=False)
    serve(zhao, {f"2026-0{month}-01": "24" for month in range(1, 10)})
    qian = elder("钱已退", COMMUNITY_A, status=Status.WITHDRAWN, status_reason="身体原因")
    serve(
        qian,
        {"2026-01-10": "24", "2026-01-11": "24", "2026-01-12": "24", "2026-01-13": "24", "2026-01-14": "24"},
    )
    sun = elder("孙建德", COMMUNITY_B)
    serve(sun, {"2026-05-05": "24", "2026-05-06": "6"})
    return {"wang": wang, "li": li, "zhao": zhao, "qian": qian, "sun": sun}


def roll(client: Client, query: dict[str, str]) -> list[tuple[str, ...]]:
    """The rows of the table: rank, name, township, village, hours, star."""
    response = client.get("/honour-roll/", query)
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('id="honour-roll"') :]
    return [
        tuple(re.findall(r"<td>([^<]*)</td>", row))
        for row in re.findall(r"<tr>(<td>.*?)</tr>", table)
        if "colspan" not in row
    ]


def test_a_countys_roll_ranks_those_who_agreed_by_all_their_confirmed_hours(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    assert roll(clients["anonymous"], {"region": COUNTY_A}) == [
        ("1", "王大明", "千岛湖镇", "富城村村民委员会", "120.0", "一星"),
        ("2", "李秀英", "千岛湖镇", "青城社区", "104.0", "一星"),
    ]


def test_a_year_ranks_the_hours_of_that_year_with_each_ones_star_level(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    assert roll(clients["anonymous"], {"region": COUNTY_A, "year": "2026"}) == [
        ("1", "李秀英", "千岛湖镇", "青城社区", "104.0", "一星"),
        ("2", "王大明", "千岛湖镇", "富城村村民委员会", "24.0", "一星"),
    ]
    assert roll(clients["anonymous"], {"region": COUNTY_A, "year": "2025"}) == [
        ("1", "王大明", "千岛湖镇", "富城村村民委员会", "96.0", "一星"),
    ]


def test_a_city_covers_its_counties(clients: dict[str, Client], elders: dict[str, Volunteer]) -> None:
    assert [row[1] for row in roll(clients["anonymous"], {"region": CITY, "year": "2026"})] == [
        "李秀英",
        "孙建德",
        "王大明",
    ]
    assert roll(clients["anonymous"], {"region": "330182000000"}) == [
        ("1", "孙建德", "新安江街道", "白沙社区居民委员会", "30.0", "未评星")
    ]


def test_the_public_pages_never_show_anyone_who_did_not_agree(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    queries = [
        "",
        f"?region={COUNTY_A}",
        f"?region={COUNTY_A}&year=2026",
        f"?region={CITY}",
        f"?region={CITY}&year=2026",
        "?region=330000000000",
    ]
    hidden = ("赵默默", "钱已退")
    checks = [
        Check(persona, "GET", f"/honour-roll/{query}", 200, must_not_contain=hidden)
        for persona in clients
        for query in queries
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks) == 10 * len(queries)


def test_withdrawing_consent_takes_effect_at_once(
    clients: dict[str, Client], elders: dict[str, Volunteer], personas: dict[str, Any]
) -> None:
    assert [row[1] for row in roll(clients["anonymous"], {"region": COUNTY_A})] == ["王大明", "李秀英"]
    elders["wang"].user = personas["volunteer"]
    elders["wang"].save(update_fields=["user"])
    honour_roll_consent_set(actor=actor_for_user(personas["volunteer"]), shows=False)
    # The ranking may be cached; who agrees is not.
    assert roll(clients["anonymous"], {"region": COUNTY_A}) == [
        ("1", "李秀英", "千岛湖镇", "青城社区", "104.0", "一星"),
    ]
    Volunteer.objects.filter(pk=elders["li"].pk).update(status=Status.DECEASED, status_reason="病故")
    assert roll(clients["anonymous"], {"region": COUNTY_A}) == []


def test_only_a_city_or_a_county_of_the_province_may_be_chosen(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    for region in ("330000000000", "110000000000", "330127100000", "330127100219", "abc", "3301270"):
        response = clients["anonymous"].get("/honour-roll/", {"region": region})
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="honour-roll"' not in page
        assert "王大明" not in page
    page = clients["anonymous"].get("/honour-roll/").content.decode()
    assert '<option value="330127000000">淳安县</option>' in page
    assert '<option value="330100000000">杭州市（全市）</option>' in page
    assert 'value="110000000000"' not in page  # 北京市 is not this province
    assert 'value="330000000000"' not in page
    assert '<option value="2026">2026</option>' in page
    assert '<option value="2022">2022</option>' in page
    assert 'value="2021"' not in page


def test_the_roll_reads_a_fixed_number_of_queries_however_many_appear(
    clients: dict[str, Client], elders: dict[str, Volunteer]
) -> None:
    from django.core.cache import cache

    def queries() -> int:
        cache.clear()
        with count_queries() as counted:
            assert (
                clients["anonymous"].get("/honour-roll/", {"region": CITY, "year": "2026"}).status_code == 200
            )
        return len(counted)

    before = queries()
    for n in range(5):
        serve(elder(f"新五老{n}", COMMUNITY_B), {"2026-10-01": str(n + 1)})
    assert queries() == before
