"""Duty rosters (guanai.consultations.duty): who keeps whose roster, saving a week's grid, and who is on duty
now. The clock stands still on Monday 30 November 2026 at 10:00 (a morning part)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.consultations.duty import (
    Grid,
    duty_slot_list,
    duty_slots_replace,
    on_duty_now,
    roster_professionals,
    slot_summary,
)
from guanai.consultations.models import DutySlot
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import DutySlotFactory, make_professional, on_duty_all_week
from guanai.consultations.vocabulary import Kind
from guanai.core.access import Actor
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_A, COUNTY_B
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import Specialty, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

PROVINCE = "330000000000"
TOWNSHIP_A = "330127100000"
COMMUNITY_B = "330182001020"


@dataclass
class Rosters:
    counsellor: Volunteer
    lawyer: Volunteer
    both: Volunteer  # lawyer and counsellor at once
    county_b: Volunteer
    actors: dict[str, Actor]


@pytest.fixture
def rosters(personas: dict[str, Any]) -> Rosters:
    counsellor = make_professional(username="c-a", kind=Kind.PSYCHOLOGICAL)
    lawyer = make_professional(username="l-a", kind=Kind.LEGAL)
    both = make_professional(
        username="b-a",
        kind=Kind.LEGAL,
        specialties=int(Specialty.LAW | Specialty.PSYCHOLOGY),
        psychology_certificate="心理咨询师三级",
    )
    county_b = make_professional(username="c-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B)
    VolunteerFactory.create(name="普通五老")  # a teacher: no roster
    return Rosters(
        counsellor=counsellor,
        lawyer=lawyer,
        both=both,
        county_b=county_b,
        actors={name: actor_for_user(user) for name, user in personas.items()},
    )


def cells(*pairs: tuple[int, int]) -> list[tuple[int, int, bool]]:
    return [(day, part, False) for day, part in pairs]


def week(volunteer: Volunteer, kind: str) -> list[tuple[int, int, str, bool]]:
    return list(
        DutySlot.objects.filter(volunteer=volunteer, kind=kind)
        .order_by("weekday", "part")
        .values_list("weekday", "part", "region_id", "is_lead")
    )


# --- Whose rosters ----------------------------------------------------------------------------------------


def test_a_supervisor_keeps_the_rosters_of_the_professionals_living_in_their_region(rosters: Rosters) -> None:
    county_a = rosters.actors["county_a_admin"]
    assert set(roster_professionals(actor=county_a)) == {rosters.counsellor, rosters.lawyer, rosters.both}
    assert set(roster_professionals(actor=county_a, kind=Kind.LEGAL)) == {rosters.lawyer, rosters.both}
    assert set(roster_professionals(actor=rosters.actors["county_b_admin"])) == {rosters.county_b}
    assert len(roster_professionals(actor=rosters.actors["province_admin"])) == 4
    for name in ("volunteer", "township_worker", "counsellor", "auditor"):
        with pytest.raises(PermissionDeniedError):
            roster_professionals(actor=rosters.actors[name])


# --- Saving a grid ----------------------------------------------------------------------------------------


def test_saving_a_grid_replaces_the_slots_of_that_kind_only(rosters: Rosters) -> None:
    on_duty_all_week(rosters.both, kind=Kind.LEGAL)
    on_duty_all_week(rosters.both, kind=Kind.PSYCHOLOGICAL)

    saved = duty_slots_replace(
        actor=rosters.actors["county_a_admin"],
        volunteer_id=rosters.both.pk,
        kind=Kind.LEGAL,
        region_code=TOWNSHIP_A,
        cells=cells((0, 0), (0, 1), (4, 3), (0, 0)),
    )

    assert len(saved) == 3
    assert week(rosters.both, Kind.LEGAL) == [
        (0, 0, TOWNSHIP_A, False),
        (0, 1, TOWNSHIP_A, False),
        (4, 3, TOWNSHIP_A, False),
    ]
    assert DutySlot.objects.filter(volunteer=rosters.both, kind=Kind.PSYCHOLOGICAL).count() == 28
    event = AuditEvent.objects.get(action="duty.roster_save")
    assert event.detail == {"kind": "legal", "region": TOWNSHIP_A, "slots": 3, "leads": 0, "before": 28}
    assert event.target_id == str(rosters.both.pk)


def test_an_empty_grid_clears_the_slots(rosters: Rosters) -> None:
    on_duty_all_week(rosters.counsellor, kind=Kind.PSYCHOLOGICAL)
    duty_slots_replace(
        actor=rosters.actors["county_a_admin"],
        volunteer_id=rosters.counsellor.pk,
        kind=Kind.PSYCHOLOGICAL,
        region_code=COUNTY_A,
        cells=[],
    )
    assert week(rosters.counsellor, Kind.PSYCHOLOGICAL) == []


def test_a_grid_is_refused_for_a_kind_the_professional_is_not_qualified_for(rosters: Rosters) -> None:
    with pytest.raises(ValidationFailed) as failure:
        duty_slots_replace(
            actor=rosters.actors["county_a_admin"],
            volunteer_id=rosters.lawyer.pk,
            kind=Kind.PSYCHOLOGICAL,
            region_code=COUNTY_A,
            cells=cells((0, 0)),
        )
    assert failure.value.fields == {"kind": ["该志愿者没有这一类别的执业证或资质证书，不能安排此类值班"]}


def test_the_coverage_region_lies_inside_the_supervisors_region(rosters: Rosters) -> None:
    for code in (COUNTY_B, PROVINCE, "330127999000", "12"):
        with pytest.raises(ValidationFailed) as failure:
            duty_slots_replace(
                actor=rosters.actors["county_a_admin"],
                volunteer_id=rosters.counsellor.pk,
                kind=Kind.PSYCHOLOGICAL,
                region_code=code,
                cells=cells((0, 0)),
            )
        assert list(failure.value.fields) == ["region"]
    assert DutySlot.objects.count() == 0


def test_only_a_province_supervisor_names_leads(rosters: Rosters) -> None:
    with pytest.raises(ValidationFailed) as failure:
        duty_slots_replace(
            actor=rosters.actors["county_a_admin"],
            volunteer_id=rosters.counsellor.pk,
            kind=Kind.PSYCHOLOGICAL,
            region_code=COUNTY_A,
            cells=[(0, 0, True)],
        )
    assert failure.value.fields == {"is_lead": ["只有省级管理员可以指定值班负责人"]}

    duty_slots_replace(
        actor=rosters.actors["province_admin"],
        volunteer_id=rosters.counsellor.pk,
        kind=Kind.PSYCHOLOGICAL,
        region_code=PROVINCE,
        cells=[(0, 0, True), (0, 3, False)],
    )
    assert week(rosters.counsellor, Kind.PSYCHOLOGICAL) == [(0, 0, PROVINCE, True), (0, 3, PROVINCE, False)]
    # The county cannot undo what the province arranged.
    with pytest.raises(ConflictError):
        duty_slots_replace(
            actor=rosters.actors["county_a_admin"],
            volunteer_id=rosters.counsellor.pk,
            kind=Kind.PSYCHOLOGICAL,
            region_code=COUNTY_A,
            cells=[],
        )
    assert len(week(rosters.counsellor, Kind.PSYCHOLOGICAL)) == 2


def test_a_professional_outside_the_region_or_not_a_professional_answers_404(rosters: Rosters) -> None:
    plain = Volunteer.objects.get(name="普通五老")
    for volunteer in (rosters.county_b, plain):
        with pytest.raises(NotFoundError):
            duty_slots_replace(
                actor=rosters.actors["county_a_admin"],
                volunteer_id=volunteer.pk,
                kind=Kind.PSYCHOLOGICAL,
                region_code=COUNTY_A,
                cells=cells((0, 0)),
            )
    with pytest.raises(PermissionDeniedError):
        duty_slots_replace(
            actor=rosters.actors["counsellor"],
            volunteer_id=rosters.counsellor.pk,
            kind=Kind.PSYCHOLOGICAL,
            region_code=COUNTY_A,
            cells=cells((0, 0)),
        )


def test_cells_outside_the_week_are_refused(rosters: Rosters) -> None:
    for bad in ((7, 0), (0, 4), (-1, 0)):
        with pytest.raises(ValidationFailed) as failure:
            duty_slots_replace(
                actor=rosters.actors["county_a_admin"],
                volunteer_id=rosters.counsellor.pk,
                kind=Kind.PSYCHOLOGICAL,
                region_code=COUNTY_A,
                cells=cells(bad),
            )
        assert list(failure.value.fields) == ["slots"]


# --- Reading slots ----------------------------------------------------------------------------------------


def test_slots_are_read_by_their_supervisors_and_by_the_professional_themself(
    rosters: Rosters, persona_professionals: dict[str, Volunteer]
) -> None:
    DutySlotFactory.create(volunteer=rosters.counsellor, weekday=1)
    DutySlotFactory.create(volunteer=rosters.county_b, weekday=2, region_id=COUNTY_B)
    mine = DutySlotFactory.create(volunteer=persona_professionals["counsellor"], weekday=3)

    assert duty_slot_list(actor=rosters.actors["county_a_admin"]).count() == 2
    assert list(duty_slot_list(actor=rosters.actors["county_b_admin"]).values_list("weekday", flat=True)) == [
        2
    ]
    assert list(duty_slot_list(actor=rosters.actors["counsellor"])) == [mine]
    assert list(duty_slot_list(actor=rosters.actors["lawyer"])) == []
    with pytest.raises(PermissionDeniedError):
        duty_slot_list(actor=rosters.actors["volunteer"])


def test_on_duty_now_lists_the_slots_of_this_part_that_serve_the_region(rosters: Rosters) -> None:
    DutySlotFactory.create(volunteer=rosters.counsellor, weekday=0, part=0, region_id=TOWNSHIP_A)
    DutySlotFactory.create(volunteer=rosters.lawyer, kind=Kind.LEGAL, weekday=0, part=1)  # the afternoon
    DutySlotFactory.create(volunteer=rosters.county_b, weekday=0, part=0, region_id=COUNTY_B)
    lead = make_professional(username="c-lead", kind=Kind.PSYCHOLOGICAL, region=PROVINCE)
    DutySlotFactory.create(volunteer=lead, weekday=0, part=0, region_id=PROVINCE, is_lead=True)
    suspended = make_professional(
        username="c-off", kind=Kind.PSYCHOLOGICAL, status=Status.SUSPENDED, status_reason="病假"
    )
    DutySlotFactory.create(volunteer=suspended, weekday=0, part=0)

    county_a = rosters.actors["county_a_admin"]
    names = [slot.volunteer.name for slot in on_duty_now(actor=county_a, now=NOW)]
    assert names == [lead.name, rosters.counsellor.name]
    assert list(on_duty_now(actor=county_a, now=NOW, kind=Kind.LEGAL)) == []
    with pytest.raises(NotFoundError):
        on_duty_now(actor=county_a, now=NOW, region=COUNTY_B)
    with pytest.raises(ValidationFailed):
        on_duty_now(actor=county_a, now=NOW, region="abc")


def test_the_grid_lays_out_the_week(rosters: Rosters) -> None:
    slots = [
        DutySlotFactory.create(volunteer=rosters.counsellor, weekday=6, part=3),
        DutySlotFactory.create(volunteer=rosters.counsellor, weekday=0, part=1),
    ]
    grid = Grid.of(slots)
    rows = grid.rows()
    assert [row.label for row in rows] == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    assert [cell.slot is not None for cell in rows[0].cells] == [False, True, False, False]
    assert grid.keys() == ["0-1", "6-3"]
    assert slot_summary(slots) == "周一下午、周日夜间"
