"""The reads of 网吧义务监督: who sees which cafés and findings, what is overdue, and the dashboard counts."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from guanai.cafes.models import CafeFinding, CafeInspection, InternetCafe
from guanai.cafes.selectors import (
    CafeCounts,
    CafeFilters,
    FindingFilters,
    cafe_counts,
    cafe_get,
    cafe_list,
    finding_list,
    findings_by_county,
    inspector_cafes,
)
from guanai.cafes.services import cafe_close, finding_close, inspection_record
from guanai.cafes.tests.conftest import TODAY, World, inspection_input
from guanai.core.errors import NotFoundError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def names(cafes: Any) -> list[str]:
    return [cafe.name for cafe in cafes]


def test_who_sees_which_cafes(world: World) -> None:
    assert names(cafe_list(actor=world.actor("province_admin"))) == ["星空网咖", "极速网吧", "建德网鱼网咖"]
    assert names(cafe_list(actor=world.actor("county_a_admin"))) == ["星空网咖", "极速网吧"]
    assert names(cafe_list(actor=world.actor("township_worker"))) == ["星空网咖", "极速网吧"]
    assert names(cafe_list(actor=world.actor("county_b_admin"))) == ["建德网鱼网咖"]
    assert names(cafe_list(actor=world.actor("village_liaison"))) == ["星空网咖", "极速网吧"]
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            cafe_list(actor=world.actor(persona))
    with pytest.raises(NotFoundError):
        cafe_get(actor=world.actor("county_a_admin"), cafe_id=world.cafe_b.pk)
    with pytest.raises(NotFoundError):
        cafe_list(actor=world.actor("county_a_admin"), filters=CafeFilters(region="330182"))
    narrowed = cafe_list(actor=world.actor("province_admin"), filters=CafeFilters(region="330182001"))
    assert names(narrowed) == ["建德网鱼网咖"]


def test_an_inspector_sees_the_open_cafes_their_teams_cover(world: World) -> None:
    assert names(InternetCafe.objects.visible_to(world.actor("volunteer"))) == ["星空网咖", "极速网吧"]
    assert names(InternetCafe.objects.visible_to(world.actor("outsider"))) == []
    assert names(InternetCafe.objects.visible_to(world.actor("lawyer"))) == []
    inspection_record(actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input())
    # Never inspected first.
    assert names(inspector_cafes(actor=world.actor("volunteer"))) == ["极速网吧", "星空网咖"]
    cafe_close(actor=world.actor("county_a_admin"), cafe_id=world.cafe_a2.pk, reason="已取缔")
    assert names(inspector_cafes(actor=world.actor("volunteer"))) == ["星空网咖"]
    # The inspector sees the inspections they took part in, not the others'.
    assert CafeInspection.objects.visible_to(world.actor("volunteer")).count() == 1
    assert CafeInspection.objects.visible_to(world.actor("outsider")).count() == 0
    assert CafeFinding.objects.visible_to(world.actor("volunteer")).count() == 0


def test_open_and_overdue_findings_per_county(world: World, time_machine: Any) -> None:
    inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input(minors_found=1)
    )
    inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a2.pk, data=inspection_input(notices_posted=False)
    )
    inspection_record(
        actor=world.actor("county_b_admin"),
        cafe_id=world.cafe_b.pk,
        data=inspection_input(id_checks_done=False, inspector_ids=[world.zhao.pk]),
    )
    province = world.actor("province_admin")
    assert [(row.county_name, row.open, row.overdue) for row in findings_by_county(actor=province)] == [
        ("淳安县", 2, 0),
        ("建德市", 1, 0),
    ]
    # Ten days on, the finding of minors (a week) is overdue; the others (fifteen days) are not yet.
    time_machine.move_to(
        datetime.datetime(2026, 12, 10, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    )
    assert [(row.county_name, row.open, row.overdue) for row in findings_by_county(actor=province)] == [
        ("淳安县", 2, 1),
        ("建德市", 1, 0),
    ]
    overdue = finding_list(actor=province, filters=FindingFilters(overdue=True))
    assert [finding.cafe.name for finding in overdue] == ["星空网咖"]
    assert [f.cafe.name for f in finding_list(actor=world.actor("county_b_admin"))] == ["建德网鱼网咖"]
    assert [(r.county_name, r.open) for r in findings_by_county(actor=world.actor("county_a_admin"))] == [
        ("淳安县", 2)
    ]


def test_counts_for_the_dashboards(world: World) -> None:
    assert cafe_counts("330127") == CafeCounts(
        cafes_open=2,
        cafes_inspected_recently=0,
        cafes_inspection_due=2,
        inspections_this_year=0,
        minors_found_this_year=0,
        findings_open=0,
        findings_overdue=0,
        findings_closed_this_year=0,
    )
    volunteer = world.actor("volunteer")
    inspection_record(actor=volunteer, cafe_id=world.cafe_a.pk, data=inspection_input(minors_found=3))
    inspection_record(
        actor=volunteer,
        cafe_id=world.cafe_a.pk,
        data=inspection_input(inspected_on=TODAY - datetime.timedelta(days=120), minors_found=2),
    )
    inspection_record(
        actor=volunteer,
        cafe_id=world.cafe_a2.pk,
        data=inspection_input(inspected_on=TODAY - datetime.timedelta(days=100), notices_posted=False),
    )
    inspection_record(
        actor=volunteer,
        cafe_id=world.cafe_a2.pk,
        data=inspection_input(inspected_on=datetime.date(2025, 12, 20)),  # last year
    )
    first = CafeFinding.objects.filter(cafe=world.cafe_a).order_by("pk").first()
    assert first is not None
    finding_close(actor=world.actor("county_a_admin"), finding_id=first.pk, outcome="penalised")
    CafeFinding.objects.filter(cafe=world.cafe_a2).update(deadline=TODAY - datetime.timedelta(days=1))
    expected = CafeCounts(
        cafes_open=2,
        cafes_inspected_recently=1,
        cafes_inspection_due=1,
        inspections_this_year=3,
        minors_found_this_year=5,
        findings_open=2,
        findings_overdue=1,
        findings_closed_this_year=1,
    )
    assert cafe_counts("330127000000") == expected
    assert cafe_counts("330127100") == expected  # the township
    assert cafe_counts("330127100219") == expected  # a village counts its township's cafés
    # The province adds 建德市's café, never inspected.
    assert cafe_counts("33") == dataclasses.replace(expected, cafes_open=3, cafes_inspection_due=2)
    assert cafe_counts("330182") == CafeCounts(
        cafes_open=1,
        cafes_inspected_recently=0,
        cafes_inspection_due=1,
        inspections_this_year=0,
        minors_found_this_year=0,
        findings_open=0,
        findings_overdue=0,
        findings_closed_this_year=0,
    )
