from __future__ import annotations

from typing import Any

import pytest

from guanai.committees.models import CommitteeKind, Position
from guanai.committees.tests.factories import CommitteeFactory, CommitteeMemberFactory


@pytest.fixture
def committees(regions: None) -> dict[str, Any]:
    """Regional committees down the tree in both counties, and a school committee in 淳安县."""
    made = {
        "province": CommitteeFactory(region_id="330000000000", name="浙江省关心下一代工作委员会"),
        "city": CommitteeFactory(region_id="330100000000", name="杭州市关心下一代工作委员会"),
        "county_a": CommitteeFactory(region_id="330127000000", name="淳安县关心下一代工作委员会"),
        "township_a": CommitteeFactory(region_id="330127100000", name="千岛湖镇关心下一代工作委员会"),
        "village_a": CommitteeFactory(region_id="330127100219", name="富城村关心下一代工作委员会"),
        "school_a": CommitteeFactory(
            region_id="330127100000", name="千岛湖镇中心小学关工委", kind=CommitteeKind.SCHOOL
        ),
        "county_b": CommitteeFactory(region_id="330182000000", name="建德市关心下一代工作委员会"),
        "township_b": CommitteeFactory(region_id="330182001000", name="新安江街道关心下一代工作委员会"),
    }
    CommitteeMemberFactory(committee=made["county_a"], name="方建国", position=Position.SECRETARY_GENERAL)
    CommitteeMemberFactory(committee=made["county_a"], name="王丽华", position=Position.DIRECTOR)
    CommitteeMemberFactory(committee=made["county_b"], name="徐卫东", position=Position.DIRECTOR)
    return made
