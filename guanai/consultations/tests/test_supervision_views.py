"""The supervisors' pages (/consultations/supervision/): the overview and the metadata list, who may open
them, what they never show, and how many queries they take."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client

from guanai.consultations.models import Consultation
from guanai.consultations.tests.test_statistics import at, make, minutes
from guanai.consultations.vocabulary import Outcome, State, Topic
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix, count_queries
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

OVERVIEW = "/consultations/supervision/"
REQUESTS = "/consultations/supervision/requests/"
TOWNSHIP_A = "330127100000"
# What the factory's requester wrote and left: never on a supervisor's page, in clear or masked.
PRIVATE = ("小林", "13900001111", "139****1111", "最近考试压力很大", "晚上睡不着", "县A的秘密")


@dataclass
class Desk:
    urgent: Consultation  # county A, waiting past its accept clock
    answered: Consultation  # county A, closed with a rating
    county_b: Consultation


def build_desk(persona_professionals: dict[str, Volunteer]) -> Desk:
    counsellor = persona_professionals["counsellor"]
    created = at(11, 30, 9, 40)
    urgent = make(
        created,
        region_id=COMMUNITY_A,
        topic=Topic.SELF_HARM,
        is_urgent=True,
        description="县A的秘密：不想活了",
        accept_due_at=created + minutes(10),
        accept_breached=True,
    )
    created = at(11, 2, 9)
    answered = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.STUDY_PRESSURE,
        assigned_to=counsellor,
        assigned_at=created,
        accepted_at=created + minutes(30),
        first_reply_at=created + minutes(45),
        rating=5,
        state=State.CLOSED,
        outcome=Outcome.ADVICE,
    )
    county_b = make(at(11, 15, 10), region_id=COMMUNITY_B, topic=Topic.PEER_RELATIONS)
    return Desk(urgent=urgent, answered=answered, county_b=county_b)


@pytest.fixture
def desk(persona_professionals: dict[str, Volunteer]) -> Desk:
    return build_desk(persona_professionals)


# --- The overview -----------------------------------------------------------------------------------------


def test_the_overview_shows_the_month_of_the_county(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["county_a_admin"].get(OVERVIEW)

    assert response.status_code == 200
    statistics = response.context["statistics"]
    assert (statistics.region.code, statistics.overall.total, statistics.overall.urgent) == (COUNTY_A, 2, 1)
    body = response.content.decode()
    assert "淳安县，2026年11月1日至2026年11月30日提交的求助（北京时间）" in body
    assert 'data-count="total">2<' in body
    assert 'data-count="urgent_waiting">1<' in body
    assert 'data-count="overdue">1<' in body
    # The one accepted request: 30 minutes to accept, 45 to the first reply; its rating of 5.
    assert response.context["overall"].accept_median == "30 分钟"
    assert response.context["overall"].reply_median == "45 分钟"
    assert response.context["overall"].average_rating == "5.00"
    # Urgent: decided (breached), not in time.
    assert response.context["overall"].crisis_compliance == "0.0%"
    # A township row links one level down, keeping the period.
    assert f'href="?region={TOWNSHIP_A}&amp;date_from=2026-11-01&amp;date_to=2026-11-30"' in body
    assert f"{REQUESTS}?region={COUNTY_A}&amp;date_from=2026-11-01&amp;date_to=2026-11-30" in body


def test_the_overview_of_a_chosen_region_and_period(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["province_admin"].get(
        OVERVIEW, {"region": "330127100", "date_from": "2026-11-30", "date_to": "2026-11-30"}
    )

    assert response.status_code == 200
    statistics = response.context["statistics"]
    assert (statistics.region.code, statistics.overall.total) == (TOWNSHIP_A, 1)
    assert [row.code for row in statistics.by_region] == ["330127100001", "330127100219"]
    assert response.context["regions_title"] == "各村（社区）"
    # The region picker offers the way down from the province and the villages below.
    choices = [code for code, _name in response.context["form"].fields["region"].choices]
    assert choices == [
        "330000000000",
        "330100000000",
        "330127000000",
        TOWNSHIP_A,
        "330127100001",
        "330127100219",
    ]


def test_a_wrong_date_shows_an_error_and_the_month(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["county_a_admin"].get(OVERVIEW, {"date_from": "2026-13-01"})
    assert response.status_code == 200
    assert "日期格式不正确" in response.content.decode()
    assert response.context["statistics"].period.date_from == datetime.date(2026, 11, 1)

    # One end given: the other is the end (or start) of its month.
    december = clients["county_a_admin"].get(OVERVIEW, {"date_from": "2026-12-01"})
    period = december.context["statistics"].period
    assert (period.date_from, period.date_to) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))

    inverted = clients["county_a_admin"].get(OVERVIEW, {"date_from": "2026-11-20", "date_to": "2026-11-01"})
    assert inverted.status_code == 200
    assert "结束日期不能早于开始日期" in inverted.content.decode()


def test_a_region_outside_answers_404(clients: dict[str, Client], desk: Desk) -> None:
    assert clients["county_b_admin"].get(OVERVIEW, {"region": COUNTY_A}).status_code == 404
    assert clients["county_b_admin"].get(REQUESTS, {"region": TOWNSHIP_A}).status_code == 404
    assert clients["county_a_admin"].get(OVERVIEW, {"region": "110000000000"}).status_code == 404


# --- The list ---------------------------------------------------------------------------------------------


def test_the_list_shows_metadata_with_clocks_and_a_reassign_link(
    clients: dict[str, Client], desk: Desk
) -> None:
    response = clients["county_a_admin"].get(REQUESTS)

    assert response.status_code == 200
    assert [row.consultation.pk for row in response.context["rows"]] == [desk.urgent.pk, desk.answered.pk]
    body = response.content.decode()
    assert desk.urgent.reference in body
    assert desk.answered.reference in body
    assert desk.county_b.reference not in body
    assert "当前已超时" in body
    assert "曾受理超时" in body
    assert "专业p-counsellor" in body  # the answered request's professional
    # Only the open request can be passed on.
    assert f"/consultations/{desk.urgent.pk}/reassign/" in body
    assert f"/consultations/{desk.answered.pk}/reassign/" not in body


def test_the_list_filters_and_answers_htmx_with_the_table(clients: dict[str, Client], desk: Desk) -> None:
    client = clients["county_a_admin"]

    urgent = client.get(REQUESTS, {"urgent": "1"})
    assert [row.consultation.pk for row in urgent.context["rows"]] == [desk.urgent.pk]
    closed = client.get(REQUESTS, {"state": "closed", "kind": "psychological", "breached": "0"})
    assert [row.consultation.pk for row in closed.context["rows"]] == [desk.answered.pk]
    partial = client.get(REQUESTS, {"overdue": "1"}, headers={"HX-Request": "true"})
    assert [row.consultation.pk for row in partial.context["rows"]] == [desk.urgent.pk]
    assert "<html" not in partial.content.decode()
    assert 'id="requests-count"' in partial.content.decode()
    wrong = client.get(REQUESTS, {"state": "lost", "date_from": "2026-11-30"})
    assert [row.consultation.pk for row in wrong.context["rows"]] == [desk.urgent.pk]


def test_the_list_pages_by_fifty(clients: dict[str, Client], desk: Desk) -> None:
    for day in range(1, 30):
        for hour in (8, 9):
            make(at(11, day, hour), region_id=VILLAGE_A, topic=Topic.ONLINE_HARM)
    first = clients["county_a_admin"].get(REQUESTS)
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == 60
    second = clients["county_a_admin"].get(REQUESTS, {"page": "2"})
    assert len(second.context["rows"]) == 10
    assert second.context["rows"][-1].consultation.created_at == at(11, 1, 8)


# --- Confidentiality, access and queries ------------------------------------------------------------------


def test_no_page_shows_the_requesters_words_name_or_contact(clients: dict[str, Client], desk: Desk) -> None:
    Consultation.objects.filter(pk=desk.answered.pk).update(contact_preference="phone")
    for persona in ("county_a_admin", "province_admin"):
        for path in (OVERVIEW, REQUESTS, f"{REQUESTS}?urgent=1", f"{OVERVIEW}?region={TOWNSHIP_A}"):
            body = clients[persona].get(path).content.decode()
            assert [text for text in PRIVATE if text in body] == [], (persona, path)


def test_authorization_matrix_of_the_supervision_pages(clients: dict[str, Client], desk: Desk) -> None:
    pages = [OVERVIEW, REQUESTS]
    checks = [Check("anonymous", "GET", path, 302) for path in pages]
    for persona in ("volunteer", "lawyer", "counsellor", "township_worker", "auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403, must_not_contain=PRIVATE) for path in pages]
    for persona in ("county_a_admin", "province_admin"):
        checks += [Check(persona, "GET", path, 200, must_not_contain=PRIVATE) for path in pages]
        checks += [Check(persona, "POST", path, 405, form={}) for path in pages]
    county_a = (desk.urgent.reference, desk.answered.reference, *PRIVATE)
    checks += [Check("county_b_admin", "GET", path, 200, must_not_contain=county_a) for path in pages]
    checks += [
        Check("county_b_admin", "GET", f"{path}?region={COUNTY_A}", 404, must_not_contain=county_a)
        for path in pages
    ]
    checks += [Check("county_a_admin", "GET", f"{REQUESTS}?region=3301", 404)]

    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_both_pages_take_as_many_queries_for_many_requests_as_for_few(
    clients: dict[str, Client], desk: Desk, persona_professionals: dict[str, Volunteer]
) -> None:
    client = clients["province_admin"]
    with count_queries() as overview_few:
        assert client.get(OVERVIEW, {"region": "3301"}).status_code == 200
    with count_queries() as list_few:
        assert client.get(REQUESTS).status_code == 200
    lawyer = persona_professionals["lawyer"]
    for day in range(1, 20):
        created = at(11, day, 10)
        make(
            created,
            region_id=COMMUNITY_B if day % 2 else VILLAGE_A,
            topic=Topic.LABOUR_RIGHTS,
            assigned_to=lawyer,
            accepted_at=created + minutes(day),
            state=State.ACCEPTED,
            reply_due_at=created + minutes(60),
        )
    with count_queries() as overview_many:
        response = client.get(OVERVIEW, {"region": "3301"})
    assert response.context["statistics"].overall.total == 22
    with count_queries() as list_many:
        response = client.get(REQUESTS)
    assert len(response.context["rows"]) == 22
    assert len(overview_many) == len(overview_few)
    assert len(list_many) == len(list_few)
