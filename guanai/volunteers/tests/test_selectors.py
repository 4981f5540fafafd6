"""The volunteers' reads: each filter of the list on hand-made volunteers with the exact ids it must
return, the search forms, the sorts, the page read ids-first, hours totals and the honour roll."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guanai.accounts.selectors import actor_for_user
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import count_queries
from guanai.minors.tests.factories import make_id_number
from guanai.volunteers.models import Volunteer
from guanai.volunteers.selectors import (
    VolunteerFilters,
    checks_due,
    honour_roll,
    hours_to_confirm,
    hours_totals,
    volunteer_get,
    volunteer_list,
    volunteer_page,
    volunteer_rows,
)
from guanai.volunteers.tests.factories import (
    ServiceHoursFactory,
    TeamFactory,
    TeamMembershipFactory,
    VolunteerFactory,
)
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    AVAILABILITY_BITS,
    CheckResult,
    ElderCategory,
    HoursSource,
    HoursState,
    Specialty,
    Status,
    availability_bit,
    star_level,
)

pytestmark = pytest.mark.django_db

FUCHENG = "330127100219"  # 富城村, 淳安县千岛湖镇
QINGCHENG = "330127100001"  # 青城社区, 淳安县千岛湖镇
BAISHA = "330182001020"  # 白沙社区, 建德市 (county B)

MONDAY_MORNING = availability_bit(0, 0)
SATURDAY_AFTERNOON = availability_bit(5, 1)
SUNDAY_EVENING = availability_bit(6, 2)


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def county_a(actors: dict[str, Actor]) -> Actor:
    return actors["county_a_admin"]


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def ids(rows: Iterable[Model]) -> list[int]:
    return [row.pk for row in rows]


def listed(actor: Actor, **filters: Any) -> list[int]:
    return ids(volunteer_list(actor=actor, filters=VolunteerFilters(**filters)))


def make(name: str, **fields: Any) -> Volunteer:
    """A volunteer whose name sorts where its pinyin says (安 an < 白 bai < 陈 chen < 丁 ding < …)."""
    return VolunteerFactory.create(name=name, **fields)


# --- Access --------------------------------------------------------------------------------------


def test_the_list_needs_the_view_permission(actors: dict[str, Actor]) -> None:
    make("安一")
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            volunteer_list(actor=actors[persona])


def test_each_county_lists_its_own_volunteers_only(actors: dict[str, Actor]) -> None:
    a_first, a_second = make("安一"), make("白二", region_id=QINGCHENG)
    b_only = make("陈三", region_id=BAISHA)
    assert listed(actors["county_a_admin"]) == [a_first.pk, a_second.pk]
    assert listed(actors["township_worker"]) == [a_first.pk, a_second.pk]
    assert listed(actors["county_b_admin"]) == [b_only.pk]
    assert listed(actors["province_admin"]) == [a_first.pk, a_second.pk, b_only.pk]


def test_a_volunteer_of_another_county_is_not_found(actors: dict[str, Actor]) -> None:
    volunteer = make("安一")
    assert volunteer_get(actor=actors["county_a_admin"], volunteer_id=volunteer.pk) == volunteer
    with pytest.raises(NotFoundError):
        volunteer_get(actor=actors["county_b_admin"], volunteer_id=volunteer.pk)
    with pytest.raises(PermissionDeniedError):
        volunteer_get(actor=actors["volunteer"], volunteer_id=volunteer.pk)


# --- Filters -------------------------------------------------------------------------------------


def test_categories_filter_needs_every_selected_category(county_a: Actor) -> None:
    both = make("安一", categories=ElderCategory.CADRE | ElderCategory.TEACHER)
    teacher = make("白二", categories=ElderCategory.TEACHER)
    cadre = make("陈三", categories=ElderCategory.CADRE)
    none = make("丁四", categories=0)
    assert listed(county_a, categories=ElderCategory.TEACHER) == [both.pk, teacher.pk]
    assert listed(county_a, categories=ElderCategory.CADRE | ElderCategory.TEACHER) == [both.pk]
    assert listed(county_a, categories=ElderCategory.VETERAN) == []
    assert listed(county_a, categories=0) == [both.pk, teacher.pk, cadre.pk, none.pk]


def test_specialties_filter_needs_every_selected_specialty(county_a: Actor) -> None:
    lawyer = make("安一", specialties=Specialty.LAW | Specialty.RED_HISTORY, law_licence_number="1330")
    historian = make("白二", specialties=Specialty.RED_HISTORY)
    counsellor = make("陈三", specialties=Specialty.PSYCHOLOGY, psychology_certificate="二级")
    assert listed(county_a, specialties=Specialty.RED_HISTORY) == [lawyer.pk, historian.pk]
    assert listed(county_a, specialties=Specialty.LAW | Specialty.RED_HISTORY) == [lawyer.pk]
    assert listed(county_a, specialties=Specialty.PSYCHOLOGY) == [counsellor.pk]
    assert listed(county_a, specialties=Specialty.HEALTH) == []


def test_availability_filter_needs_every_selected_slot_free(county_a: Actor) -> None:
    two_slots = make("安一", availability=MONDAY_MORNING | SATURDAY_AFTERNOON)
    monday = make("白二", availability=MONDAY_MORNING)
    always = make("陈三", availability=ALL_AVAILABILITY)
    never = make("丁四", availability=0)
    assert listed(county_a, availability=MONDAY_MORNING) == [two_slots.pk, monday.pk, always.pk]
    assert listed(county_a, availability=MONDAY_MORNING | SATURDAY_AFTERNOON) == [two_slots.pk, always.pk]
    assert listed(county_a, availability=SUNDAY_EVENING) == [always.pk]
    assert listed(county_a, availability=0) == [two_slots.pk, monday.pk, always.pk, never.pk]


def test_capacity_filter_keeps_those_who_can_take_one_more_child(county_a: Actor) -> None:
    room = make("安一", max_children=3, paired_count=2)
    full = make("白二", max_children=3, paired_count=3)
    takes_none = make("陈三", max_children=0, paired_count=0)
    fresh = make("丁四", max_children=1, paired_count=0)
    assert listed(county_a, has_capacity=True) == [room.pk, fresh.pk]
    assert listed(county_a, has_capacity=False) == [room.pk, full.pk, takes_none.pk, fresh.pk]


def test_check_due_covers_missing_flagged_expired_and_the_reminder_window(county_a: Actor) -> None:
    window_opens = make("安一", check_date=days_ago(335))  # expires in exactly 30 days
    before_window = make("白二", check_date=days_ago(334))  # expires in 31 days
    missing = make("陈三", check_date=None, check_result="")
    flagged = make("丁四", check_date=days_ago(5), check_result=CheckResult.FLAGGED)
    expired = make("方五", check_date=days_ago(400))
    last_valid_day = make("高六", check_date=days_ago(365))
    fresh = make("胡七", check_date=today())
    assert listed(county_a, check_due=True) == [
        window_opens.pk,
        missing.pk,
        flagged.pk,
        expired.pk,
        last_valid_day.pk,
    ]
    assert listed(county_a, check_due=False) == [
        window_opens.pk,
        before_window.pk,
        missing.pk,
        flagged.pk,
        expired.pk,
        last_valid_day.pk,
        fresh.pk,
    ]


def test_checks_due_lists_active_volunteers_of_every_region_on_the_day_given(regions: None) -> None:
    day = datetime.date(2026, 6, 15)
    opens = make("安一", region_id=FUCHENG, check_date=day - datetime.timedelta(days=335))
    make("白二", region_id=FUCHENG, check_date=day - datetime.timedelta(days=334))
    missing_b = make("陈三", region_id=BAISHA, check_date=None, check_result="")
    missing_qingcheng = make("丁四", region_id=QINGCHENG, check_date=None, check_result="")
    make("方五", check_date=None, check_result="", status=Status.WITHDRAWN, status_reason="搬迁")
    make("高六", check_date=None, check_result="", status=Status.APPLYING)
    assert ids(checks_due(today=day)) == [missing_qingcheng.pk, opens.pk, missing_b.pk]
    assert ids(checks_due(today=day - datetime.timedelta(days=1))) == [missing_qingcheng.pk, missing_b.pk]


def test_checks_due_defaults_to_today(regions: None) -> None:
    due = make("安一", check_date=days_ago(335))
    make("白二", check_date=days_ago(334))
    assert ids(checks_due()) == [due.pk]


@pytest.fixture
def star_thresholds(settings: Any) -> None:
    settings.GUANAI_STAR_THRESHOLDS = [10, 20, 30, 40, 50]


def test_star_filter_takes_the_hours_between_a_threshold_and_the_next(
    county_a: Actor, star_thresholds: None
) -> None:
    hours = ["0", "9.9", "10", "19.9", "20", "49.9", "50", "120"]
    volunteers = {
        value: make(name, hours_total=Decimal(value))
        for value, name in zip(
            hours, ["安一", "白二", "陈三", "丁四", "方五", "高六", "胡七", "金八"], strict=True
        )
    }

    def of(*values: str) -> list[int]:
        return [volunteers[value].pk for value in values]

    assert listed(county_a, star=0) == of("0", "9.9")
    assert listed(county_a, star=1) == of("10", "19.9")
    assert listed(county_a, star=2) == of("20")
    assert listed(county_a, star=3) == []
    assert listed(county_a, star=4) == of("49.9")
    assert listed(county_a, star=5) == of("50", "120")
    assert listed(county_a, star=None) == of(*hours)


def test_star_filter_follows_the_default_thresholds(county_a: Actor) -> None:
    below = make("安一", hours_total=Decimal("99.9"))
    one = make("白二", hours_total=Decimal("100"))
    still_one = make("陈三", hours_total=Decimal("299.9"))
    five = make("丁四", hours_total=Decimal("1500"))
    assert listed(county_a, star=0) == [below.pk]
    assert listed(county_a, star=1) == [one.pk, still_one.pk]
    assert listed(county_a, star=5) == [five.pk]


@pytest.mark.parametrize("star", [-1, 6])
def test_a_star_level_outside_zero_to_five_is_refused(county_a: Actor, star: int) -> None:
    with pytest.raises(ValidationFailed) as raised:
        listed(county_a, star=star)
    assert raised.value.fields == {"star": ["星级应为 0 到 5"]}


def test_gender_filter(county_a: Actor) -> None:
    man = make("安一", id_number=None, gender="male")
    woman = make("白二", id_number=None, gender="female")
    assert listed(county_a, gender="male") == [man.pk]
    assert listed(county_a, gender="female") == [woman.pk]
    assert listed(county_a, gender=None) == [man.pk, woman.pk]


def test_status_filter_defaults_to_active(county_a: Actor) -> None:
    active = make("安一")
    applying = make("白二", status=Status.APPLYING)
    suspended = make("陈三", status=Status.SUSPENDED, status_reason="住院")
    deceased = make("丁四", status=Status.DECEASED, status_reason="病故")
    assert listed(county_a) == [active.pk]
    assert listed(county_a, status=Status.SUSPENDED) == [suspended.pk]
    assert listed(county_a, status=Status.APPLYING) == [applying.pk]
    assert listed(county_a, status=None) == [active.pk, applying.pk, suspended.pk, deceased.pk]


def test_team_filter_keeps_the_current_members(county_a: Actor, regions: None) -> None:
    committee = CommitteeFactory.create()
    team, other_team = TeamFactory.create(committee=committee), TeamFactory.create(committee=committee)
    member, former, outsider, elsewhere = make("安一"), make("白二"), make("陈三"), make("丁四")
    TeamMembershipFactory.create(team=team, volunteer=member)
    TeamMembershipFactory.create(team=team, volunteer=former, left_on=days_ago(1))
    TeamMembershipFactory.create(team=other_team, volunteer=elsewhere)
    assert listed(county_a, team=team.pk) == [member.pk]
    assert listed(county_a, team=other_team.pk) == [elsewhere.pk]
    assert listed(county_a, team=None) == [member.pk, former.pk, outsider.pk, elsewhere.pk]


def test_region_filter_takes_a_region_inside_the_actors_in_any_short_form(actors: dict[str, Actor]) -> None:
    fucheng, qingcheng = make("安一", region_id=FUCHENG), make("白二", region_id=QINGCHENG)
    make("陈三", region_id=BAISHA)
    county_a = actors["county_a_admin"]
    assert listed(county_a, region=QINGCHENG) == [qingcheng.pk]
    assert listed(county_a, region="330127100") == [fucheng.pk, qingcheng.pk]
    assert listed(county_a, region="330127") == [fucheng.pk, qingcheng.pk]
    # An ancestor of the actor's region narrows nothing and widens nothing.
    assert listed(actors["township_worker"], region="33") == [fucheng.pk, qingcheng.pk]


@pytest.mark.parametrize("region", ["330182", BAISHA, "3302", "11"])
def test_a_region_outside_the_actors_is_not_found(county_a: Actor, region: str) -> None:
    with pytest.raises(NotFoundError):
        listed(county_a, region=region)


@pytest.mark.parametrize("region", ["3301x", "12345", "3301270", "３３"])
def test_a_malformed_region_code_is_refused(county_a: Actor, region: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        listed(county_a, region=region)
    assert raised.value.fields == {"region": ["区划代码应为 2、4、6、9 或 12 位数字"]}


# --- Search --------------------------------------------------------------------------------------

ID_WITH_X = next(
    make_id_number("330127", datetime.date(1951, 8, 12), n)
    for n in range(1, 999)
    if make_id_number("330127", datetime.date(1951, 8, 12), n).endswith("X")
)


@pytest.fixture
def searchable(regions: None) -> dict[str, Volunteer]:
    return {
        "wang": make("王建国", phone="13905710031", id_number=ID_WITH_X),
        "wang2": make("汪建华", phone="0571-65012345"),
        "li": make("李秀英", phone="13905710032"),
        "other_county": make("王建国", region_id=BAISHA, phone="13905710033"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("建", ["wang", "wang2"]),
        ("建国", ["wang"]),
        (" 秀英 ", ["li"]),
        ("wangjian", ["wang", "wang2"]),
        ("WangJianGuo", ["wang"]),
        ("'wangjianhua", ["wang2"]),
        ("wjg", ["wang"]),
        ("wj", ["wang", "wang2"]),
        ("lxy", ["li"]),
        ("zhang", []),
        (ID_WITH_X, ["wang"]),
        (ID_WITH_X[:-1] + "x", ["wang"]),
        (ID_WITH_X[:17], []),  # part of an ID number finds nothing
        ("13905710031", ["wang"]),
        ("139 0571 0031", ["wang"]),
        ("１３９０５７１００３２", ["li"]),
        ("0571-65012345", ["wang2"]),
        ("057165012345", ["wang2"]),
        ("(0571)65012345", ["wang2"]),
        ("+86 139 0571 0031", ["wang"]),
        ("+86-13905710032", ["li"]),
        ("1390571003", []),  # a phone number is matched whole
        ("   ", ["li", "wang", "wang2"]),
    ],
)
def test_search_by_name_part_pinyin_initials_id_number_or_phone(
    county_a: Actor, searchable: dict[str, Volunteer], query: str, expected: list[str]
) -> None:
    assert listed(county_a, q=query) == [searchable[key].pk for key in expected]


def test_search_never_reaches_another_county(
    actors: dict[str, Actor], searchable: dict[str, Volunteer]
) -> None:
    assert listed(actors["county_b_admin"], q="王建国") == [searchable["other_county"].pk]
    assert listed(actors["county_b_admin"], q=ID_WITH_X) == []
    assert listed(actors["county_b_admin"], q="13905710031") == []


# --- Sorting and the page ------------------------------------------------------------------------


@pytest.fixture
def sortable(regions: None) -> dict[str, Volunteer]:
    volunteers = {
        "an": make("安一", hours_total=Decimal("30"), check_date=days_ago(100)),
        "bai": make("白二", hours_total=Decimal("120"), check_date=None, check_result=""),
        "chen": make("陈三", hours_total=Decimal("30"), check_date=days_ago(300)),
        "ding": make("丁四", hours_total=Decimal("0"), check_date=None, check_result=""),
        "fang": make("方五", hours_total=Decimal("7.5"), check_date=days_ago(10)),
    }
    stamps = {"an": 3, "bai": 1, "chen": 5, "ding": 2, "fang": 4}
    for key, hour in stamps.items():
        Volunteer.objects.filter(pk=volunteers[key].pk).update(
            updated_at=datetime.datetime(2026, 5, 1, hour, tzinfo=datetime.UTC)
        )
    return volunteers


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", ["an", "bai", "chen", "ding", "fang"]),
        ("-name", ["fang", "ding", "chen", "bai", "an"]),
        ("hours", ["bai", "an", "chen", "fang", "ding"]),  # ties by id: 安一 was made before 陈三
        ("check", ["bai", "ding", "chen", "an", "fang"]),  # no check first, then the oldest
        ("updated", ["chen", "fang", "an", "ding", "bai"]),
        ("nonsense", ["an", "bai", "chen", "ding", "fang"]),  # an unknown sort falls back to the name
    ],
)
def test_sorting(county_a: Actor, sortable: dict[str, Volunteer], sort: str, order: list[str]) -> None:
    assert listed(county_a, sort=sort) == [sortable[key].pk for key in order]


def test_a_page_is_read_ids_first_keeping_the_order_with_its_total_remembered(
    county_a: Actor, sortable: dict[str, Volunteer]
) -> None:
    volunteers = volunteer_list(actor=county_a, filters=VolunteerFilters(sort="hours"))
    with count_queries() as queries:
        page, total = volunteer_page(volunteers, offset=1, limit=3)
        region_names = [volunteer.region_name for volunteer in page]
    assert ids(page) == [sortable["an"].pk, sortable["chen"].pk, sortable["fang"].pk]
    assert region_names == ["富城村村民委员会"] * 3
    assert total == 5
    assert len(queries) == 3  # the page's ids, its rows, and the total
    with CaptureQueriesContext(connection) as later:  # without emptying the cache, as the next request
        beyond, total_again = volunteer_page(volunteers, offset=5, limit=3)
        last, _total = volunteer_page(volunteers, offset=4, limit=3)
    assert (beyond, total_again) == ([], 5)
    assert ids(last) == [sortable["ding"].pk]
    assert len(later) == 3  # ids, ids and rows: the total is remembered for the other pages


def test_rows_keep_the_order_asked_and_skip_ids_that_are_gone(sortable: dict[str, Volunteer]) -> None:
    wanted = [sortable["fang"].pk, 999_999, sortable["an"].pk]
    assert ids(volunteer_rows(wanted)) == [sortable["fang"].pk, sortable["an"].pk]


# --- Hours ---------------------------------------------------------------------------------------


def test_hours_totals_by_month_and_year_count_confirmed_hours_only(regions: None) -> None:
    volunteer = make("安一")
    other = make("白二")
    for day, hours in [
        (datetime.date(2024, 12, 3), "2.0"),
        (datetime.date(2024, 12, 28), "1.5"),
        (datetime.date(2025, 1, 1), "3.0"),
        (datetime.date(2025, 3, 31), "0.5"),
    ]:
        ServiceHoursFactory.create(volunteer=volunteer, served_on=day, hours=Decimal(hours))
    ServiceHoursFactory.create(
        volunteer=volunteer,
        served_on=datetime.date(2025, 3, 2),
        hours=Decimal("4"),
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
    )
    ServiceHoursFactory.create(
        volunteer=volunteer,
        served_on=datetime.date(2025, 3, 3),
        hours=Decimal("1"),
        source=HoursSource.CLAIM,
        state=HoursState.RETURNED,
    )
    ServiceHoursFactory.create(volunteer=other, served_on=datetime.date(2025, 3, 3), hours=Decimal("9"))
    totals = hours_totals(volunteer=volunteer)
    assert totals.by_month == [
        (2025, 3, Decimal("0.5")),
        (2025, 1, Decimal("3.0")),
        (2024, 12, Decimal("3.5")),
    ]
    assert totals.by_year == [(2025, Decimal("3.5")), (2024, Decimal("3.5"))]
    assert (totals.total, totals.pending) == (Decimal("7.0"), Decimal("4.0"))


def test_hours_totals_of_a_volunteer_without_records_are_zero(regions: None) -> None:
    totals = hours_totals(volunteer=make("安一"))
    assert (totals.total, totals.by_year, totals.by_month, totals.pending) == (
        Decimal("0"),
        [],
        [],
        Decimal("0"),
    )


def test_claims_to_confirm_are_the_pending_ones_of_the_actors_region(actors: dict[str, Actor]) -> None:
    mine, theirs = make("安一"), make("白二", region_id=BAISHA)
    later = ServiceHoursFactory.create(
        volunteer=mine,
        served_on=datetime.date(2026, 5, 2),
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
    )
    earlier = ServiceHoursFactory.create(
        volunteer=mine,
        served_on=datetime.date(2026, 5, 1),
        source=HoursSource.CLAIM,
        state=HoursState.PENDING,
    )
    ServiceHoursFactory.create(volunteer=mine)  # confirmed
    ServiceHoursFactory.create(volunteer=theirs, source=HoursSource.CLAIM, state=HoursState.PENDING)
    assert ids(hours_to_confirm(actor=actors["county_a_admin"])) == [earlier.pk, later.pk]
    with pytest.raises(PermissionDeniedError):
        hours_to_confirm(actor=actors["volunteer"])


# --- The honour roll -----------------------------------------------------------------------------


@pytest.fixture
def roll(regions: None) -> dict[str, Volunteer]:
    volunteers = {
        "agreed_50": make("安一", shows_on_honour_roll=True, hours_total=Decimal("50")),
        "declined_100": make("白二", shows_on_honour_roll=False, hours_total=Decimal("100")),
        "agreed_80": make("陈三", shows_on_honour_roll=True, hours_total=Decimal("80"), region_id=QINGCHENG),
        "agreed_none": make("丁四", shows_on_honour_roll=True, hours_total=Decimal("0")),
        "withdrawn": make(
            "方五",
            shows_on_honour_roll=True,
            hours_total=Decimal("90"),
            status=Status.WITHDRAWN,
            status_reason="搬迁",
        ),
        "suspended_20": make(
            "高六",
            shows_on_honour_roll=True,
            hours_total=Decimal("20"),
            status=Status.SUSPENDED,
            status_reason="住院",
        ),
        "county_b": make("胡七", shows_on_honour_roll=True, hours_total=Decimal("500"), region_id=BAISHA),
    }
    for key, day, hours, state in [
        ("agreed_50", datetime.date(2025, 4, 1), "10", HoursState.CONFIRMED),
        ("agreed_50", datetime.date(2024, 4, 1), "20", HoursState.CONFIRMED),
        ("agreed_50", datetime.date(2024, 9, 1), "20", HoursState.CONFIRMED),
        ("agreed_80", datetime.date(2025, 5, 1), "6", HoursState.CONFIRMED),
        ("agreed_80", datetime.date(2025, 6, 1), "6", HoursState.CONFIRMED),
        ("agreed_80", datetime.date(2025, 7, 1), "20", HoursState.PENDING),
        ("declined_100", datetime.date(2025, 4, 1), "24", HoursState.CONFIRMED),
        ("suspended_20", datetime.date(2025, 4, 1), "10", HoursState.CONFIRMED),
        ("county_b", datetime.date(2025, 4, 1), "24", HoursState.CONFIRMED),
    ]:
        ServiceHoursFactory.create(
            volunteer=volunteers[key], served_on=day, hours=Decimal(hours), state=state
        )
    return volunteers


def entries(rows: list[Any]) -> list[tuple[int, str, str, Decimal]]:
    return [(row.volunteer_id, row.name, row.region_name, row.hours) for row in rows]


def test_the_honour_roll_shows_only_those_who_agreed_by_total_hours(roll: dict[str, Volunteer]) -> None:
    assert entries(honour_roll(region_code="330127000000")) == [
        (roll["agreed_80"].pk, "陈三", "青城社区", Decimal("80")),
        (roll["agreed_50"].pk, "安一", "富城村村民委员会", Decimal("50")),
        (roll["suspended_20"].pk, "高六", "富城村村民委员会", Decimal("20")),
    ]
    assert entries(honour_roll(region_code=QINGCHENG)) == [
        (roll["agreed_80"].pk, "陈三", "青城社区", Decimal("80"))
    ]
    assert [row.volunteer_id for row in honour_roll(region_code="330000000000", limit=2)] == [
        roll["county_b"].pk,
        roll["agreed_80"].pk,
    ]


def test_the_honour_roll_of_a_year_ranks_its_confirmed_hours(roll: dict[str, Volunteer]) -> None:
    assert entries(honour_roll(region_code="330127000000", year=2025)) == [
        (roll["agreed_80"].pk, "陈三", "青城社区", Decimal("12")),
        # A tie (10 hours each) is broken by the id: 安一 was made first.
        (roll["agreed_50"].pk, "安一", "富城村村民委员会", Decimal("10")),
        (roll["suspended_20"].pk, "高六", "富城村村民委员会", Decimal("10")),
    ]
    assert entries(honour_roll(region_code="330127000000", year=2024)) == [
        (roll["agreed_50"].pk, "安一", "富城村村民委员会", Decimal("40"))
    ]
    assert honour_roll(region_code="330127000000", year=2023) == []
    assert [row.volunteer_id for row in honour_roll(region_code="330127000000", year=2025, limit=1)] == [
        roll["agreed_80"].pk
    ]


# --- Properties ----------------------------------------------------------------------------------

slot_masks = st.integers(min_value=0, max_value=ALL_AVAILABILITY)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(availabilities=st.lists(slot_masks, min_size=1, max_size=6), wanted=slot_masks)
def test_availability_filter_is_every_selected_bit(
    county_a: Actor, availabilities: list[int], wanted: int
) -> None:
    Volunteer.objects.all().delete()
    made = [make(f"测试{n}", availability=value) for n, value in enumerate(availabilities)]
    expected = {volunteer.pk for volunteer in made if volunteer.availability & wanted == wanted}
    assert set(listed(county_a, availability=wanted)) == expected


hours_values = st.decimals(min_value=0, max_value=2000, places=1, allow_nan=False, allow_infinity=False)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(totals=st.lists(hours_values, min_size=1, max_size=8))
def test_the_star_filters_partition_the_volunteers_by_star_level(
    county_a: Actor, totals: list[Decimal]
) -> None:
    Volunteer.objects.all().delete()
    made = [make(f"测试{n}", hours_total=value) for n, value in enumerate(totals)]
    for star in range(6):
        expected = {volunteer.pk for volunteer in made if star_level(volunteer.hours_total) == star}
        assert set(listed(county_a, star=star)) == expected


def test_availability_bits_fit_the_column() -> None:
    assert ALL_AVAILABILITY == (1 << AVAILABILITY_BITS) - 1 < 2**31  # a PositiveIntegerField everywhere
