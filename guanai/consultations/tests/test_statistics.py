"""The supervisors' figures (`guanai.consultations.statistics`) against a hand-built month of requests: exact
counts, medians and 90th percentiles, service levels and satisfaction, by region and by topic; the period's
edges in Asia/Shanghai; the region's scope; the metadata list."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from guanai.accounts.selectors import actor_for_user
from guanai.consultations.models import Consultation
from guanai.consultations.statistics import (
    OVERFLOW_MINUTES,
    MinutesBucket,
    SupervisionFilters,
    consultation_statistics,
    month_of,
    percentile,
    statistics_period,
    supervision_page,
    supervision_requests,
)
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.consultations.vocabulary import EscalationLevel, Outcome, State, Topic
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_A, COUNTY_B, count_queries
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWNSHIP_A = "330127100000"  # 千岛湖镇
CITY = "330100000000"  # 杭州市
PROVINCE = "330000000000"


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def minutes(count: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=count)


def make(created: datetime.datetime, **fields: Any) -> Consultation:
    """A request made at `created` (the factory's clock stands still; the moment is written afterwards)."""
    consultation: Consultation = ConsultationFactory.create(**fields)
    Consultation.objects.filter(pk=consultation.pk).update(created_at=created)
    consultation.created_at = created
    return consultation


def actor(personas: dict[str, Any], name: str) -> Actor:
    return actor_for_user(personas[name])


@dataclass
class Month:
    """November 2026 in county A (A1–A9, A7 in October) and county B (B1; B2 in December)."""

    rows: dict[str, Consultation]


@pytest.fixture
def month(persona_professionals: dict[str, Volunteer]) -> Month:
    counsellor, lawyer = persona_professionals["counsellor"], persona_professionals["lawyer"]
    rows: dict[str, Consultation] = {}
    closed = {"state": State.CLOSED, "outcome": Outcome.ADVICE}

    def accepted(created: datetime.datetime, after: float, by: Volunteer) -> dict[str, Any]:
        return {"assigned_to": by, "assigned_at": created, "accepted_at": created + minutes(after)}

    created = at(11, 2, 9)
    rows["A1"] = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.STUDY_PRESSURE,
        **accepted(created, 30, counsellor),
        first_reply_at=created + minutes(90),
        rating=5,
        **closed,
    )
    created = at(11, 5, 21)
    rows["A2"] = make(
        created,
        region_id=COMMUNITY_A,
        topic=Topic.SELF_HARM,
        is_urgent=True,
        **accepted(created, 4, counsellor),
        first_reply_at=created + minutes(6),
        rating=4,
        **closed,
    )
    created = at(11, 10, 14)
    rows["A3"] = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.SCHOOL_BULLYING,
        **accepted(created, 120, lawyer),
        first_reply_at=created + minutes(26 * 60),
        reply_breached=True,
        rating=2,
        **closed,
    )
    created = at(11, 20, 8)
    rows["A4"] = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.DOMESTIC_VIOLENCE,
        is_urgent=True,
        **accepted(created, 15, lawyer),
        accept_breached=True,
        escalation_level=EscalationLevel.COUNTY,
        reply_due_at=created + minutes(24 * 60),
        reply_breached=True,
        state=State.ACCEPTED,
    )
    created = at(11, 29, 20)
    rows["A5"] = make(
        created, region_id=VILLAGE_A, topic=Topic.STUDY_PRESSURE, reply_due_at=created + minutes(24 * 60)
    )
    created = at(11, 30, 9, 40)
    rows["A6"] = make(
        created,
        region_id=COMMUNITY_A,
        topic=Topic.SELF_HARM,
        is_urgent=True,
        accept_due_at=at(11, 30, 9, 50),
        accept_breached=True,
        escalation_level=EscalationLevel.COUNTY,
        reply_due_at=created + minutes(24 * 60),
    )
    created = at(10, 31, 23, 59, 59)
    rows["A7"] = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.PEER_RELATIONS,
        **accepted(created, 1, counsellor),
        first_reply_at=created + minutes(2),
        rating=1,
        **closed,
    )
    created = at(11, 1)
    rows["A8"] = make(
        created,
        region_id=VILLAGE_A,
        topic=Topic.EMOTIONAL_DISTRESS,
        **accepted(created, 60, counsellor),
        first_reply_at=created + minutes(61),
        rating=3,
        **closed,
    )
    created = at(11, 12, 10)
    rows["A9"] = make(
        created,
        region_id=COUNTY_A,
        topic=Topic.GUARDIANSHIP,
        reply_due_at=created + minutes(24 * 60),
        reply_breached=True,
    )
    created = at(11, 15, 10)
    rows["B1"] = make(
        created,
        region_id=COMMUNITY_B,
        topic=Topic.PEER_RELATIONS,
        **accepted(created, 10, counsellor),
        first_reply_at=created + minutes(20),
        rating=5,
        **closed,
    )
    rows["B2"] = make(at(12, 1), region_id=COMMUNITY_B, topic=Topic.PEER_RELATIONS)
    return Month(rows)


# --- The county's month -----------------------------------------------------------------------------------


def test_county_month_counts_volumes_by_kind_topic_and_region(personas: dict[str, Any], month: Month) -> None:
    statistics = consultation_statistics(actor=actor(personas, "county_a_admin"))

    assert (statistics.period.date_from, statistics.period.date_to) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 30),
    )
    assert statistics.region.code == COUNTY_A
    assert (statistics.overall.total, statistics.overall.urgent) == (8, 3)
    assert [(row.kind, row.figures.total, row.figures.urgent) for row in statistics.by_kind] == [
        ("legal", 3, 1),
        ("psychological", 5, 2),
    ]
    topics = {row.topic: row.figures.total for row in statistics.by_topic}
    assert topics == {
        "school_bullying": 1,
        "guardianship": 1,
        "domestic_violence": 1,
        "online_harm": 0,
        "labour_rights": 0,
        "suspected_offence": 0,
        "legal_other": 0,
        "study_pressure": 2,
        "parent_child": 0,
        "emotional_distress": 1,
        "peer_relations": 0,
        "self_harm": 2,
        "psychological_other": 0,
    }
    # One level down: the township, and the request filed at the county itself on a row of its own.
    assert [(row.code, row.name, row.is_own_level, row.figures.total) for row in statistics.by_region] == [
        (TOWNSHIP_A, "千岛湖镇", False, 7),
        (COUNTY_A, "淳安县本级", True, 1),
    ]


def test_response_times_are_medians_and_90th_percentiles_in_minutes(
    personas: dict[str, Any], month: Month
) -> None:
    overall = consultation_statistics(actor=actor(personas, "county_a_admin")).overall

    # Accepted after 4, 15, 30, 60 and 120 minutes.
    assert (overall.accept_minutes.count, overall.accept_minutes.median) == (5, 30.0)
    assert overall.accept_minutes.p90 == pytest.approx(96.0)
    # Urgent ones: 4 and 15.
    assert overall.urgent_accept_minutes.median == pytest.approx(9.5)
    assert overall.urgent_accept_minutes.p90 == pytest.approx(13.9)
    # First replies after 6, 61 (counted in the 60–65 bucket), 90 and 1,560 minutes.
    assert overall.first_reply_minutes.count == 4
    assert overall.first_reply_minutes.median == pytest.approx(75.0)
    assert overall.first_reply_minutes.p90 == pytest.approx(1119.0)


def test_service_levels_and_satisfaction(personas: dict[str, Any], month: Month) -> None:
    overall = consultation_statistics(actor=actor(personas, "county_a_admin")).overall

    # Urgent: A2 accepted in time, A4 accepted late, A6 still waiting past its minutes.
    assert (overall.crisis_on_time, overall.crisis_decided) == (1, 3)
    assert overall.crisis_compliance == pytest.approx(1 / 3)
    # Replied or overdue: A1, A2, A8 in time; A3 late; A4 and A9 overdue.
    assert (overall.reply_on_time, overall.reply_measured, overall.reply_compliance) == (3, 6, 0.5)
    # Ratings 5, 4, 2, 3.
    assert (overall.ratings, overall.average_rating, overall.satisfied, overall.satisfied_share) == (
        4,
        3.5,
        2,
        0.5,
    )


def test_open_now_counts_whatever_the_period(personas: dict[str, Any], month: Month) -> None:
    statistics = consultation_statistics(
        actor=actor(personas, "county_a_admin"),
        date_from=datetime.date(2026, 1, 1),
        date_to=datetime.date(2026, 1, 31),
    )

    assert statistics.overall.total == 0
    open_now = statistics.open_now
    # Waiting A5, A6 (urgent), A9; accepted A4; unrouted A5 and A9 (an urgent request waits unassigned by
    # design); overdue now: A6's accept clock, A4's and A9's reply clocks.
    assert (open_now.waiting, open_now.accepted, open_now.unrouted, open_now.urgent_waiting) == (3, 1, 2, 1)
    assert open_now.overdue == 3
    by_region = {row.code: row.open_now for row in statistics.by_region}
    assert (by_region[TOWNSHIP_A].waiting, by_region[TOWNSHIP_A].accepted) == (2, 1)
    assert (by_region[COUNTY_A].waiting, by_region[COUNTY_A].overdue) == (1, 1)


def test_by_region_and_by_topic_rows_carry_their_own_figures(personas: dict[str, Any], month: Month) -> None:
    statistics = consultation_statistics(actor=actor(personas, "county_a_admin"))

    township = statistics.by_region[0].figures
    assert (township.total, township.accept_minutes.median, township.ratings) == (7, 30.0, 4)
    own = statistics.by_region[1].figures
    assert (own.total, own.accept_minutes.count, own.reply_measured, own.reply_on_time) == (1, 0, 1, 0)
    self_harm = next(row for row in statistics.by_topic if row.topic == Topic.SELF_HARM)
    assert (self_harm.label, self_harm.kind) == ("自伤或轻生念头", "psychological")
    figures = self_harm.figures
    assert (figures.total, figures.urgent, figures.crisis_on_time, figures.crisis_decided) == (2, 2, 1, 2)
    assert (figures.urgent_accept_minutes.median, figures.average_rating) == (4.0, 4.0)


def test_a_city_sees_its_counties_and_a_province_its_cities(personas: dict[str, Any], month: Month) -> None:
    province = actor(personas, "province_admin")

    city = consultation_statistics(actor=province, region="3301")
    assert [(row.code, row.figures.total) for row in city.by_region] == [(COUNTY_A, 8), (COUNTY_B, 1)]
    assert city.overall.total == 9
    whole = consultation_statistics(actor=province)
    assert [(row.name, row.figures.total) for row in whole.by_region] == [("杭州市", 9), ("宁波市", 0)]
    village = consultation_statistics(actor=province, region=VILLAGE_A)
    assert village.child_level is None
    assert [(row.code, row.is_own_level, row.figures.total) for row in village.by_region] == [
        (VILLAGE_A, True, 5)
    ]


# --- The period's edges -----------------------------------------------------------------------------------


def test_the_period_runs_from_midnight_to_midnight_in_shanghai(
    personas: dict[str, Any], month: Month
) -> None:
    county = actor(personas, "county_a_admin")

    def total(start: datetime.date, end: datetime.date) -> int:
        return consultation_statistics(actor=county, date_from=start, date_to=end).overall.total

    # A7 at 23:59:59 on 31 October (15:59:59 UTC), A8 at 00:00 on 1 November (16:00 UTC on 31 October).
    assert total(datetime.date(2026, 10, 31), datetime.date(2026, 10, 31)) == 1
    assert total(datetime.date(2026, 11, 1), datetime.date(2026, 11, 1)) == 1
    assert total(datetime.date(2026, 10, 1), datetime.date(2026, 11, 30)) == 9
    # B2 at 00:00 on 1 December is not November's.
    county_b = actor(personas, "county_b_admin")
    assert consultation_statistics(actor=county_b).overall.total == 1
    december = consultation_statistics(actor=county_b, date_from=datetime.date(2026, 12, 1))
    assert (december.period.date_to, december.overall.total) == (datetime.date(2026, 12, 31), 1)


def test_a_period_defaults_to_the_month_and_refuses_an_inverted_or_overlong_one() -> None:
    today = datetime.date(2026, 2, 10)
    assert statistics_period(date_from=None, date_to=None, today=today) == month_of(today)
    assert month_of(today).date_to == datetime.date(2026, 2, 28)
    only_end = statistics_period(date_from=None, date_to=datetime.date(2026, 3, 9), today=today)
    assert only_end.date_from == datetime.date(2026, 3, 1)
    with pytest.raises(ValidationFailed) as inverted:
        statistics_period(date_from=datetime.date(2026, 3, 2), date_to=datetime.date(2026, 3, 1))
    assert inverted.value.fields == {"date_to": ["结束日期不能早于开始日期"]}
    with pytest.raises(ValidationFailed):
        statistics_period(date_from=datetime.date(2020, 1, 1), date_to=datetime.date(2026, 1, 1))


# --- The region's scope -----------------------------------------------------------------------------------


def test_county_b_sees_nothing_of_county_a(personas: dict[str, Any], month: Month) -> None:
    county_b = actor(personas, "county_b_admin")

    statistics = consultation_statistics(actor=county_b)
    # B1 made in November; B2 (December's) waits.
    assert (statistics.overall.total, statistics.open_now.total) == (1, 1)
    assert [row.code for row in statistics.by_region] == ["330182001000"]
    for region in (COUNTY_A, TOWNSHIP_A, CITY, PROVINCE):
        with pytest.raises(NotFoundError):
            consultation_statistics(actor=county_b, region=region)
    with pytest.raises(ValidationFailed):
        consultation_statistics(actor=county_b, region="33018")
    listed = supervision_requests(actor=county_b)
    assert [item.reference for item in listed] == [month.rows["B2"].reference, month.rows["B1"].reference]
    with pytest.raises(NotFoundError):
        supervision_requests(actor=county_b, filters=SupervisionFilters(region=COUNTY_A))


def test_only_supervisors_may_read_the_figures(personas: dict[str, Any], month: Month) -> None:
    for name in ("township_worker", "volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            consultation_statistics(actor=actor(personas, name))
        with pytest.raises(PermissionDeniedError):
            supervision_requests(actor=actor(personas, name))


def test_the_figures_take_four_queries_whatever_the_number_of_requests(
    personas: dict[str, Any], month: Month
) -> None:
    province = actor(personas, "province_admin")
    with count_queries() as few:
        consultation_statistics(actor=province, region=CITY)
    for _ in range(5):
        make(at(11, 3, 12), region_id=COMMUNITY_B, topic=Topic.ONLINE_HARM)
    with count_queries() as many:
        statistics = consultation_statistics(actor=province, region=CITY)
    assert statistics.overall.total == 14
    assert len(few) == len(many) == 4


# --- The histogram ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "bucket"),
    [
        (datetime.timedelta(seconds=0), 0),
        (datetime.timedelta(minutes=9, seconds=59), 9),
        (datetime.timedelta(minutes=10), 10),
        (datetime.timedelta(minutes=59, seconds=59, microseconds=999_000), 59),
        (datetime.timedelta(minutes=60), 60),
        (datetime.timedelta(minutes=64, seconds=59), 60),
        (datetime.timedelta(hours=4), 240),
        (datetime.timedelta(hours=23, minutes=59), 1420),
        (datetime.timedelta(hours=26), 1560),
        (datetime.timedelta(days=3, hours=5), 4320),
        (datetime.timedelta(days=6, hours=23), 9720),
        (datetime.timedelta(days=7), OVERFLOW_MINUTES),
        (datetime.timedelta(days=40), OVERFLOW_MINUTES),
        (datetime.timedelta(minutes=-3), 0),
    ],
)
def test_minutes_are_counted_in_the_bucket_of_their_lower_bound(
    regions: None, elapsed: datetime.timedelta, bucket: int
) -> None:
    created = at(11, 2, 9, 0, 0)
    consultation = make(created, accepted_at=None)
    Consultation.objects.filter(pk=consultation.pk).update(first_reply_at=created + elapsed)
    value = (
        Consultation.objects.filter(pk=consultation.pk)
        .annotate(bucket=MinutesBucket("created_at", "first_reply_at"))
        .values_list("bucket", flat=True)
        .get()
    )
    assert value == bucket, connection.vendor


def test_a_missing_moment_has_no_bucket(regions: None) -> None:
    consultation = make(at(11, 2, 9))
    value = (
        Consultation.objects.filter(pk=consultation.pk)
        .annotate(bucket=MinutesBucket("created_at", "accepted_at"))
        .values_list("bucket", flat=True)
        .get()
    )
    assert value is None


def test_percentiles_interpolate_like_percentile_cont() -> None:
    assert percentile({}, 0.5) is None
    assert percentile({7: 1}, 0.9) == 7.0
    assert percentile({1: 1, 2: 1, 3: 1, 4: 1}, 0.5) == 2.5
    assert percentile({10: 3, 20: 1}, 0.5) == 10.0
    assert percentile({10: 3, 20: 1}, 0.9) == pytest.approx(17.0)
    assert percentile({0: 9, 100: 1}, 1.0) == 100.0


# --- The metadata list ------------------------------------------------------------------------------------


def test_the_list_filters_and_reads_metadata_only(personas: dict[str, Any], month: Month) -> None:
    county = actor(personas, "county_a_admin")
    rows = month.rows

    def references(**filters: Any) -> list[str]:
        listed = supervision_requests(actor=county, filters=SupervisionFilters(**filters))
        return [item.reference for item in supervision_page(listed, offset=0, limit=50)]

    newest_first = ["A6", "A5", "A4", "A9", "A3", "A2", "A1", "A8", "A7"]
    assert references() == [rows[key].reference for key in newest_first]
    assert references(state="waiting") == [rows[key].reference for key in ("A6", "A5", "A9")]
    assert references(kind="legal", urgent=True) == [rows["A4"].reference]
    assert references(breached=True) == [rows[key].reference for key in ("A6", "A4", "A9", "A3")]
    assert references(overdue=True) == [rows[key].reference for key in ("A6", "A4", "A9")]
    assert references(region=TOWNSHIP_A, topic="self_harm") == [rows[key].reference for key in ("A6", "A2")]
    assert references(date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 1)) == [
        rows["A8"].reference
    ]
    with pytest.raises(ValidationFailed) as invalid:
        references(state="lost")
    assert list(invalid.value.fields) == ["state"]

    listed = supervision_requests(actor=county)
    with count_queries() as queries:
        page = supervision_page(listed, offset=2, limit=3)
        names = [(item.reference, item.assigned_to.name if item.assigned_to else None) for item in page]
    assert names == [
        (rows["A4"].reference, "专业p-lawyer"),
        (rows["A9"].reference, None),
        (rows["A3"].reference, "专业p-lawyer"),
    ]
    assert len(queries) == 2
    executed = " ".join(query["sql"] for query in queries.captured_queries)
    for column in ("description", "requester_name", "contact_phone", "notes", "summary", "retrieval_digest"):
        assert column not in executed
