"""The synthetic historical requests (`guanai.consultations.generation`) and their command: what every
generated request obeys, not the draws themselves (those are for benchmarks and demos)."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from guanai.accounts.selectors import actor_for_user
from guanai.consultations import routing
from guanai.consultations.codes import retrieval_digest
from guanai.consultations.generation import (
    DESCRIPTIONS,
    NO_RETRIEVAL,
    PLACEHOLDER_PHONE,
    POOL_SIZE,
    SLOTS_PER_PROFESSIONAL,
    generate_consultations,
    reference_for,
    sequence_of,
)
from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.statistics import consultation_statistics
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.vocabulary import KIND_OF_TOPIC, EscalationLevel, State, Topic
from guanai.core import region_codes
from guanai.core.errors import ValidationFailed
from guanai.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

COUNTIES = ("330127", "330182")
PLACES = {"330127100000", "330127100001", "330127100219", "330182001000", "330182001020"}


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Consultation.objects.order_by("reference").values_list(
            "reference", "kind", "topic", "region_id", "created_at", "state", "is_urgent", "rating"
        )
    )


def test_every_request_is_placed_timed_and_run_through_consistently(regions: None) -> None:
    created = generate_consultations(count=1500, region_code="3301", days=90, seed=3, now=NOW, batch_size=400)

    assert created == Consultation.objects.count() == 1500
    rows = list(Consultation.objects.all())
    earliest = datetime.datetime(2026, 9, 2, tzinfo=NOW.tzinfo)
    limit = datetime.timedelta(minutes=10)
    for row in rows:
        assert row.region_id in PLACES
        assert earliest <= row.created_at < NOW
        assert KIND_OF_TOPIC[row.topic] == row.kind
        assert row.retrieval_digest == NO_RETRIEVAL
        assert row.description == DESCRIPTIONS[row.topic]
        assert row.contact_phone in ("", PLACEHOLDER_PHONE)
        if row.topic == Topic.SELF_HARM:
            assert row.is_urgent
        if row.state != State.WAITING:
            assert row.assigned_to_id is not None
            assert row.accepted_at is not None
            assert row.accepted_at > row.created_at
            assert row.accept_due_at is None
            if row.is_urgent:
                assert row.accept_breached == (row.accepted_at - row.created_at > limit)
                assert (row.escalation_level > EscalationLevel.REGION) == row.accept_breached
        elif row.is_urgent:
            assert row.assigned_to_id is None
            assert row.accept_due_at is not None
        if row.first_reply_at is not None:
            assert row.first_reply_at > row.accepted_at  # type: ignore[operator]
            late = row.first_reply_at - row.created_at > datetime.timedelta(hours=24)
            assert row.reply_breached == late
        if row.state == State.CLOSED:
            assert row.outcome
            assert row.closed_at is not None
            assert row.closed_at <= NOW
            assert row.summary.startswith("（合成数据）")
        else:
            assert row.rating is None
        if row.rating is not None:
            assert 1 <= row.rating <= 5
    references = [row.reference for row in rows]
    assert len(set(references)) == 1500
    # Batches follow each other in time, each written in time order (references count up with it).
    in_order = sorted(rows, key=lambda row: row.reference)
    for start in range(0, 1500, 400):
        batch = [row.created_at for row in in_order[start : start + 400]]
        assert batch == sorted(batch)
    assert max(row.created_at for row in in_order[:400]) <= min(row.created_at for row in in_order[800:1200])
    assert all(reference.startswith("ZS") and len(reference) == 10 for reference in references)
    # What a desk looks like: most closed, a little more psychological than legal, about 3 % urgent.
    closed = sum(1 for row in rows if row.state == State.CLOSED)
    urgent = sum(1 for row in rows if row.is_urgent)
    psychological = sum(1 for row in rows if row.kind == "psychological")
    assert closed > 1200
    assert 15 <= urgent <= 90
    assert 700 <= psychological <= 950
    assert {row.region_id[:6] for row in rows} == set(COUNTIES)


def test_each_county_gets_a_pool_of_professionals_with_duty_slots(regions: None) -> None:
    generate_consultations(count=200, region_code="3301", seed=1, now=NOW)

    professionals = list(Volunteer.objects.order_by("pk"))
    assert len(professionals) == len(COUNTIES) * sum(POOL_SIZE.values())
    for volunteer in professionals:
        kinds = routing.volunteer_kinds(volunteer)
        assert len(kinds) == 1
        slots = list(DutySlot.objects.filter(volunteer=volunteer))
        assert len(slots) == SLOTS_PER_PROFESSIONAL
        assert {(slot.kind, slot.region_id) for slot in slots} == {
            (next(iter(kinds)), volunteer.region_id[:6] + "000000")
        }
    # Requests go to a professional of their own county and kind (a crisis of either kind too).
    for row in Consultation.objects.filter(assigned_to__isnull=False).select_related("assigned_to"):
        assert row.assigned_to is not None
        assert row.assigned_to.region_id[:6] == row.region_id[:6]
        assert row.kind in routing.volunteer_kinds(row.assigned_to)
    # A second run finds them and makes no more.
    generate_consultations(count=10, region_code="3301", seed=2, now=NOW)
    assert Volunteer.objects.count() == len(professionals)


def test_the_same_seed_gives_the_same_requests(regions: None) -> None:
    generate_consultations(count=300, region_code="330127", seed=9, now=NOW, days=30)
    first = snapshot()
    Consultation.objects.all().delete()
    generate_consultations(count=300, region_code="330127", seed=9, now=NOW, days=30)
    assert snapshot() == first
    # With requests stored, the references count on from the last one; the draws stay the same.
    generate_consultations(count=300, region_code="330127", seed=9, now=NOW, days=30)
    both = snapshot()
    assert sequence_of(both[300][0]) == sequence_of(both[299][0]) + 1 == 301
    assert [row[1:] for row in both[300:]] == [row[1:] for row in first]


def test_placeholders_share_one_ciphertext_per_batch_unless_asked_otherwise(regions: None) -> None:
    def stored_descriptions() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT reference, description FROM {Consultation._meta.db_table} "  # noqa: S608
                "WHERE topic = %s ORDER BY reference",
                [Topic.STUDY_PRESSURE],
            )
            return list(cursor.fetchall())

    generate_consultations(count=400, region_code="330127", seed=4, now=NOW, batch_size=200)
    shared = stored_descriptions()
    first_batch = {text for reference, text in shared if sequence_of(reference) <= 200}
    second_batch = {text for reference, text in shared if sequence_of(reference) > 200}
    assert len(first_batch) == len(second_batch) == 1
    assert first_batch != second_batch
    assert DESCRIPTIONS[Topic.STUDY_PRESSURE] not in next(iter(first_batch))

    Consultation.objects.all().delete()
    generate_consultations(count=200, region_code="330127", seed=4, now=NOW, encrypt_each_row=True)
    each = stored_descriptions()
    assert len({text for _reference, text in each}) == len(each) > 1
    sample = Consultation.objects.get(reference=each[0][0])
    assert sample.description == DESCRIPTIONS[Topic.STUDY_PRESSURE]


def test_no_synthetic_request_opens_with_a_code(regions: None) -> None:
    generate_consultations(count=5, region_code="330127", seed=5, now=NOW)
    for row in Consultation.objects.all():
        assert retrieval_digest(row.reference, "K7M2Q9TA") != row.retrieval_digest


def test_references_count_in_the_codes_alphabet() -> None:
    assert reference_for(1) == "ZS22222223"
    assert reference_for(31) == "ZS22222232"
    assert sequence_of(reference_for(123_456_789)) == 123_456_789
    assert reference_for(2) > reference_for(1)
    assert reference_for(31) > reference_for(30)


def test_the_statistics_read_the_generated_requests(regions: None, personas: dict[str, Any]) -> None:
    generate_consultations(count=600, region_code="3301", days=30, seed=6, now=NOW)
    province = actor_for_user(personas["province_admin"])

    statistics = consultation_statistics(
        actor=province, date_from=datetime.date(2026, 10, 1), date_to=datetime.date(2026, 11, 30), now=NOW
    )
    assert statistics.overall.total == 600
    assert statistics.overall.urgent == Consultation.objects.filter(is_urgent=True).count()
    median = statistics.overall.accept_minutes.median
    assert median is not None
    assert 30 < median < 600


def test_a_region_without_villages_or_a_wrong_code_is_refused(regions: None) -> None:
    with pytest.raises(ValidationFailed):
        generate_consultations(count=5, region_code="3302", now=NOW)
    with pytest.raises(ValidationFailed):
        generate_consultations(count=5, region_code="33x", now=NOW)
    with pytest.raises(ValidationFailed):
        generate_consultations(count=5, region_code="3301", days=0, now=NOW)
    assert generate_consultations(count=0, region_code="3301", now=NOW) == 0


# --- The command --------------------------------------------------------------------------------------------


def test_the_command_generates_with_progress_and_a_rate(regions: None, settings: Any) -> None:
    out = StringIO()
    call_command(
        "generate_consultations",
        "--region",
        "330127",
        "--count",
        "120",
        "--days",
        "30",
        "--force",
        stdout=out,
    )
    assert Consultation.objects.count() == 120
    assert Consultation.objects.filter(region_codes.within_q("region_id", "330127000000")).count() == 120
    assert "已在淳安县生成近 30 天的网上求助 120 件" in out.getvalue()


def test_the_command_refuses_a_real_database_and_unknown_regions(regions: None, settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("generate_consultations", "--count", "5")
    with pytest.raises(CommandError, match="load_regions"):
        call_command("generate_consultations", "--region", "440000", "--count", "5", "--force")
    with pytest.raises(CommandError, match="正整数"):
        call_command("generate_consultations", "--count", "0", "--force")
    with pytest.raises(CommandError, match="没有村"):
        call_command("generate_consultations", "--region", "3302", "--count", "5", "--force")
    assert Consultation.objects.count() == 0
