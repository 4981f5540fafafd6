from __future__ import annotations

import datetime
from typing import Any

import pytest

from guanai.accounts.models import User
from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.core.access import Actor, Role
from guanai.mentoring.models import MentoringCase
from guanai.mentoring.services import case_open
from guanai.mentoring.tests.factories import SEALED_ID, mentoring_team, sealed_minor, team_member
from guanai.minors.models import Minor
from guanai.regions.models import Region
from guanai.volunteers.models import Team, Volunteer


def user_with_role(username: str, role: Role, region: str) -> User:
    user = user_create(username=username, password=None, display_name=username)
    role_assign(
        user=user, role=role, region=Region.objects.get(code=region), valid_from=datetime.date(2020, 1, 1)
    )
    return user


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def team(regions: None) -> Team:
    return mentoring_team()


@pytest.fixture
def mentor(personas: dict[str, Any], team: Team) -> Volunteer:
    """The volunteer persona's own record, a member of 淳安县's mentoring team."""
    return team_member(team, user=personas["volunteer"], name="周帮教")


@pytest.fixture
def second_mentor(team: Team) -> Volunteer:
    user = user_with_role("mentor-two", Role.VOLUNTEER, "330127100001")
    return team_member(team, user=user, name="郑帮教")


@pytest.fixture
def sealed(regions: None) -> Minor:
    return sealed_minor()


@pytest.fixture
def case(
    personas: dict[str, Any], actors: dict[str, Actor], sealed: Minor, mentor: Volunteer
) -> MentoringCase:
    """Opened by 淳安县's admin, with the township worker as officer and the volunteer persona as mentor."""
    return case_open(
        actor=actors["county_a_admin"],
        id_number=SEALED_ID,
        officer_id=personas["township_worker"].pk,
        mentor_ids=[mentor.pk],
    )
