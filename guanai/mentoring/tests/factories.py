"""Test data for mentoring cases: a sealed youth (特殊青少年) of 淳安县, an ordinary child beside them, and a
mentoring team (帮教团) of the county with a member who has an account."""

from __future__ import annotations

import datetime
from typing import Any

from guanai.minors.models import Minor
from guanai.minors.tests.factories import VILLAGE_A, MinorFactory
from guanai.minors.tests.ids import id_number
from guanai.minors.vocabulary import Category, SpecialKind
from guanai.volunteers.models import Team, TeamMembership, Volunteer
from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory, VolunteerFactory
from guanai.volunteers.vocabulary import TeamKind

SEALED_NAME = "陈封存"
SEALED_ID = id_number(county="330127", birth="20100611", sequence=17)
ORDINARY_NAME = "吴普通"
ORDINARY_ID = id_number(county="330127", birth="20110203", sequence=18)
OTHER_COUNTY_SEALED_ID = id_number(county="330182", birth="20100904", sequence=19)


def sealed_minor(**values: Any) -> Minor:
    """A sealed record as the registry keeps it: category 特殊青少年, a kind, `is_sealed`."""
    defaults: dict[str, Any] = {
        "name": SEALED_NAME,
        "id_number": SEALED_ID,
        "region_id": VILLAGE_A,
        "categories": int(Category.SPECIAL),
        "special_kind": SpecialKind.MISCONDUCT,
        "is_sealed": True,
        "school": "千岛湖镇初级中学",
        "address": "浙江省杭州市淳安县千岛湖镇富城村21号",
    }
    return MinorFactory.create(**{**defaults, **values})


def ordinary_minor(**values: Any) -> Minor:
    return MinorFactory.create(**{"name": ORDINARY_NAME, "id_number": ORDINARY_ID, **values})


def mentoring_team(region_id: str = "330127000000") -> Team:
    return TeamFactory.create(
        committee__region_id=region_id, kind=TeamKind.MENTORING, name=f"帮教团{region_id}"
    )


def team_member(team: Team, **values: Any) -> Volunteer:
    volunteer = VolunteerFactory.create(**values)
    TeamMembershipFactory.create(team=team, volunteer=volunteer, joined_on=datetime.date(2025, 1, 1))
    return volunteer


def leave_team(volunteer: Volunteer) -> None:
    TeamMembership.objects.filter(volunteer=volunteer).update(left_on=datetime.date(2025, 6, 1))
