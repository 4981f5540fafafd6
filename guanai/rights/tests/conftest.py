from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from guanai.accounts.selectors import actor_for_user
from guanai.core.access import Actor
from guanai.minors.models import Minor
from guanai.minors.tests.factories import (
    COMMUNITY_B,
    COUNTY_A_PREFIX,
    VILLAGE_A,
    ConsentFactory,
    GuardianFactory,
    MinorFactory,
    make_id_number,
)

# Tuesday 1 December 2026, 10:00 in Shanghai: the requests' clocks count from here.
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
TODAY = datetime.date(2026, 12, 1)
ZHANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(2011, 3, 8), 11)  # 15 years old on TODAY
ZHANG_ADDRESS = "浙江省杭州市淳安县千岛湖镇富城村88号"
GUARDIAN_NAME = "张建华"
GUARDIAN_PHONE = "13957154321"
CONSENT_BY = "张建华"


@pytest.fixture(autouse=True)
def _today(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@dataclass
class Family:
    zhang: Minor  # 张三明, 富城村 (county A), a guardian with a phone, a consent
    wang: Minor  # 王五, 建德市 (county B)
    county_a: Actor
    county_b: Actor
    township: Actor
    province: Actor


@pytest.fixture
def family(personas: dict[str, Any]) -> Family:
    zhang = MinorFactory.create(
        name="张三明",
        id_number=ZHANG_ID,
        region_id=VILLAGE_A,
        address=ZHANG_ADDRESS,
        school="千岛湖镇第三小学",
        grade="八年级",
        ethnicity="畲族",
        risk_reason="父母长期在外务工",
        facts={"father_situation": "在宁波务工"},
    )
    GuardianFactory.create(minor=zhang, name=GUARDIAN_NAME, relationship="父亲", phone=GUARDIAN_PHONE)
    ConsentFactory.create(minor=zhang, given_by=CONSENT_BY, relationship="父亲")
    wang = MinorFactory.create(name="王五", region_id=COMMUNITY_B, school="新安江第一小学")
    return Family(
        zhang=zhang,
        wang=wang,
        county_a=actor_for_user(personas["county_a_admin"]),
        county_b=actor_for_user(personas["county_b_admin"]),
        township=actor_for_user(personas["township_worker"]),
        province=actor_for_user(personas["province_admin"]),
    )
