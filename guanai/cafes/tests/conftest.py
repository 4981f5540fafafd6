"""The world of the café tests: two counties' townships with cafés, their supervision teams, the
signed-in volunteer of the personas (王建国) as an inspector of 千岛湖镇, and photos kept in a fresh
private media root."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from guanai.accounts.models import User
from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.cafes.models import InternetCafe
from guanai.cafes.services import InspectionInput
from guanai.cafes.tests.factories_cafes import TOWNSHIP_A, TOWNSHIP_B, InternetCafeFactory
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.access import Actor, Role
from guanai.core.testing import verified_client
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A
from guanai.regions.models import Region
from guanai.volunteers.models import Team, Volunteer
from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory, VolunteerFactory
from guanai.volunteers.vocabulary import TeamKind, TeamRole

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.MEDIA_ROOT = root
    return root


@dataclass
class World:
    cafe_a: InternetCafe  # 星空网咖, 千岛湖镇 (淳安县, county A)
    cafe_a2: InternetCafe  # 极速网吧, 千岛湖镇, unlicensed
    cafe_b: InternetCafe  # 建德网鱼网咖, 新安江街道 (建德市, county B)
    team_a: Team  # 千岛湖镇网吧义务监督员队
    team_b: Team  # 新安江街道网吧义务监督员队
    care_team: Team  # 千岛湖镇五老关爱团 (not a café team)
    wang: Volunteer  # 王建国: the "volunteer" persona, leads team A
    li: Volunteer  # 李秀英: member of team A
    zhou: Volunteer  # 周桂兰: of the care team only (her account: "outsider")
    zhao: Volunteer  # 赵德明: team B
    users: dict[str, User]

    def actor(self, persona: str) -> Actor:
        return actor_for_user(self.users[persona])


def _user(username: str, role: Role, region: str, **period: Any) -> User:
    user = user_create(username=username, password=None, display_name=username)
    role_assign(
        user=user,
        role=role,
        region=Region.objects.get(code=region),
        valid_from=period.get("valid_from", datetime.date(2020, 1, 1)),
        valid_to=period.get("valid_to"),
    )
    return user


@pytest.fixture
def world(personas: dict[str, Any]) -> World:
    CommitteeFactory.create(name="淳安县关工委", region_id="330127000000")
    township_a = CommitteeFactory.create(name="千岛湖镇关工委", region_id=TOWNSHIP_A)
    township_b = CommitteeFactory.create(name="新安江街道关工委", region_id=TOWNSHIP_B)
    team_a = TeamFactory.create(
        committee=township_a, name="千岛湖镇网吧义务监督员队", kind=TeamKind.CAFE_SUPERVISORS
    )
    team_b = TeamFactory.create(
        committee=township_b, name="新安江街道网吧义务监督员队", kind=TeamKind.CAFE_SUPERVISORS
    )
    care_team = TeamFactory.create(committee=township_a, name="千岛湖镇五老关爱团", kind=TeamKind.CARE_GROUP)
    outsider = _user("p-outsider", Role.VOLUNTEER, VILLAGE_A)
    liaison = _user("p-liaison", Role.VILLAGE_LIAISON, VILLAGE_A)
    wang = VolunteerFactory.create(name="王建国", region_id=VILLAGE_A, user=personas["volunteer"])
    li = VolunteerFactory.create(name="李秀英", region_id=COMMUNITY_A)
    zhou = VolunteerFactory.create(name="周桂兰", region_id=VILLAGE_A, user=outsider)
    zhao = VolunteerFactory.create(name="赵德明", region_id=COMMUNITY_B)
    TeamMembershipFactory.create(team=team_a, volunteer=wang, role=TeamRole.LEADER)
    TeamMembershipFactory.create(team=team_a, volunteer=li)
    TeamMembershipFactory.create(team=care_team, volunteer=zhou)
    TeamMembershipFactory.create(team=team_b, volunteer=zhao)
    cafe_a = InternetCafeFactory.create(
        name="星空网咖",
        address="浙江省杭州市淳安县千岛湖镇新安东路88号",
        licence_number="浙网文〔2019〕1234-056号",
        phone="13857100123",
    )
    cafe_a2 = InternetCafeFactory.create(
        name="极速网吧", address="浙江省杭州市淳安县千岛湖镇环湖北路3号", licence_number=""
    )
    cafe_b = InternetCafeFactory.create(
        name="建德网鱼网咖",
        region_id=TOWNSHIP_B,
        address="浙江省杭州市建德市新安江街道江滨中路5号",
        licence_number="浙网文〔2020〕2345-001号",
    )
    users = {**personas, "outsider": outsider, "village_liaison": liaison}
    return World(cafe_a, cafe_a2, cafe_b, team_a, team_b, care_team, wang, li, zhou, zhao, users)


@pytest.fixture
def all_clients(clients: dict[str, Client], world: World) -> dict[str, Client]:
    return {
        **clients,
        "outsider": verified_client(world.users["outsider"]),
        "village_liaison": verified_client(world.users["village_liaison"]),
    }


def inspection_input(**changes: Any) -> InspectionInput:
    """A clean inspection of today: an hour and a half, nothing wrong."""
    values: dict[str, Any] = {
        "inspected_on": TODAY,
        "duration_minutes": 90,
        "minors_found": 0,
        "id_checks_done": True,
        "notices_posted": True,
    }
    return InspectionInput(**{**values, **changes})


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera make and model, the time, and the GPS position."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "GuanaiTestCam"  # Make
    exif[0x0110] = "Model-X1"  # Model
    exif[0x0112] = orientation
    exif[0x0132] = "2026:11:30 09:12:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (29.0, 36.0, 12.5), 3: "E", 4: (119.0, 2.0, 30.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
