"""A small world for the pairing tests: children and volunteers of 淳安县 (county A, 千岛湖镇) and one of
建德市 (county B), each child with or without the guardian's consent to pairing, on a fixed day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from guanai.accounts.selectors import actor_for_user
from guanai.core.access import Actor
from guanai.minors.models import Minor
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    VILLAGE_A,
    ConsentFactory,
    MinorFactory,
    make_id_number,
)
from guanai.minors.vocabulary import Category, Need
from guanai.pairings.models import Pairing
from guanai.pairings.vocabulary import PairingState
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory, elder_id_number
from guanai.volunteers.vocabulary import Specialty

TODAY = datetime.date(2026, 11, 30)
NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
TOWNSHIP_A = "330127100000"  # 千岛湖镇
COUNTY_A = "330127000000"  # 淳安县
COUNTY_B = "330182000000"  # 建德市


def actor(personas: dict[str, Any], name: str) -> Actor:
    return actor_for_user(personas[name])


def child(
    name: str,
    *,
    region: str = VILLAGE_A,
    birth: datetime.date = datetime.date(2014, 5, 1),
    sequence: int,
    consent: bool = True,
    **fields: Any,
) -> Minor:
    """A child of the registry; `consent`: the guardian's consent covers pairing (else registration only)."""
    minor = MinorFactory.create(
        name=name, region_id=region, id_number=make_id_number(region[:6], birth, sequence), **fields
    )
    ConsentFactory.create(minor=minor, scope=["registration", "pairing"] if consent else ["registration"])
    return minor


def elder(name: str, *, region: str = VILLAGE_A, sequence: int, **fields: Any) -> Volunteer:
    return VolunteerFactory.create(
        name=name, region_id=region, id_number=elder_id_number(sequence, region[:6]), **fields
    )


@dataclass
class World:
    zhang: Minor  # 富城村, a boy of 12, study need, consent
    li: Minor  # 青城社区, a girl of 14, high risk, psychological need, consent
    wang: Minor  # 建德市, consent
    teacher: Volunteer  # 富城村, a teacher, one place
    counsellor: Volunteer  # 青城社区, psychology, two places
    jiande: Volunteer  # 建德市


def build_world() -> World:
    return World(
        zhang=child(
            "张三明",
            birth=datetime.date(2014, 3, 8),
            sequence=11,
            gender="male",
            needs=int(Need.STUDY),
            categories=int(Category.LEFT_BEHIND),
        ),
        li=child(
            "李四妹",
            region=COMMUNITY_A,
            birth=datetime.date(2012, 9, 1),
            sequence=22,
            gender="female",
            needs=int(Need.PSYCHOLOGICAL),
            risk_level="high",
            categories=int(Category.PLIGHT_POVERTY),
        ),
        wang=child(
            "王小五", region=COMMUNITY_B, birth=datetime.date(2013, 6, 30), sequence=33, gender="male"
        ),
        teacher=elder("王建国", sequence=1, max_children=1, specialties=int(Specialty.TEACHING)),
        counsellor=elder(
            "陈秀英",
            region=COMMUNITY_A,
            sequence=2,
            max_children=2,
            specialties=int(Specialty.PSYCHOLOGY),
            psychology_certificate="心理咨询师二级",
        ),
        jiande=elder("周德明", region=COMMUNITY_B, sequence=3),
    )


def open_pairings(volunteer: Volunteer) -> int:
    return Pairing.objects.filter(volunteer=volunteer).exclude(state=PairingState.CLOSED).count()


def paired_count(volunteer: Volunteer) -> int:
    return Volunteer.objects.values_list("paired_count", flat=True).get(pk=volunteer.pk)
