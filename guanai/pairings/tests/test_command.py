"""`manage.py propose_pairings`: the JSON summary exactly, the readable summary, --save, bad regions."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanai.audit.models import AuditEvent
from guanai.pairings.models import Pairing, ProposalRun, ProposedPair
from guanai.pairings.tests.pairing_world import NOW, TOWNSHIP_A, World, build_world, child

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def world(regions: None) -> World:
    return build_world()


def propose_pairings(*args: str) -> str:
    out = io.StringIO()
    call_command("propose_pairings", *args, stdout=out)
    return out.getvalue()


def test_json_prints_exactly_the_summary(world: World) -> None:
    no_consent = child("赵无同意", sequence=44, consent=False)

    out = propose_pairings("--region", "330127100", "--json")

    assert out.endswith("\n")
    assert out.count("\n") == 1
    summary = json.loads(out)
    assert list(summary) == ["children", "volunteers", "proposed", "unassigned", "total_cost", "seconds"]
    seconds = summary.pop("seconds")
    assert isinstance(seconds, float)
    assert seconds >= 0
    assert summary == {"children": 3, "volunteers": 2, "proposed": 2, "unassigned": 1, "total_cost": -180}
    assert out == json.dumps({**summary, "seconds": seconds}) + "\n"
    # Without --save nothing is written: no run, no pairing.
    assert ProposalRun.objects.count() == 0
    assert Pairing.objects.count() == 0
    assert no_consent.pk  # left unassigned (no consent), counted above


def test_a_county_of_another_city_and_a_city_are_proposed_for_too(world: World) -> None:
    county = json.loads(propose_pairings("--region", "330182", "--json"))
    assert (county["children"], county["volunteers"], county["proposed"]) == (1, 1, 1)
    city = json.loads(propose_pairings("--region", "3301", "--json"))
    assert (city["children"], city["volunteers"], city["proposed"], city["unassigned"]) == (3, 3, 3, 0)


def test_the_readable_summary_names_the_counts_and_the_reasons(world: World) -> None:
    child("赵无同意", sequence=44, consent=False)

    out = propose_pairings("--region", "330127100")

    lines = out.splitlines()
    assert lines[0].startswith("儿童 3 名，志愿者 2 名：建议结对 2 对，未匹配 1 名；总代价 -180，用时 ")
    assert lines[1:] == ["  未匹配 1 名：没有监护人对结对关爱的同意记录"]


def test_save_keeps_the_run_for_staff_with_an_audit_event_without_an_actor(world: World) -> None:
    out = propose_pairings("--region", "330127100", "--save")

    run = ProposalRun.objects.get()
    assert out.splitlines()[-1] == f"已保存为结对建议 #{run.pk}，可在结对关爱页面预览并采纳。"
    assert (run.region_id, run.created_by) == (TOWNSHIP_A, None)
    assert dict(ProposedPair.objects.filter(run=run).values_list("minor_id", "volunteer_id")) == {
        world.zhang.pk: world.teacher.pk,
        world.li.pk: world.counsellor.pk,
    }
    event = AuditEvent.objects.get(action="pairing.proposals")
    assert (event.actor_user_id, event.actor_username, event.target_id) == (None, "", str(run.pk))
    assert Pairing.objects.count() == 0


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("33", "请选择市、县（市、区）或乡镇（街道）"),
        ("330127100219", "请选择市、县（市、区）或乡镇（街道）"),
        ("abc", "区划代码应为 4、6 或 9 位数字（市、县或乡镇）"),
        ("330199", "区划 330199000000 不存在"),
    ],
)
def test_a_region_that_is_not_a_city_county_or_township_is_refused(
    world: World, region: str, message: str
) -> None:
    with pytest.raises(CommandError) as failed:
        propose_pairings("--region", region, "--json")
    assert str(failed.value) == message


def test_workers_split_the_counties_with_the_same_result(world: World) -> None:
    one = json.loads(propose_pairings("--region", "3301", "--json"))
    two = json.loads(propose_pairings("--region", "3301", "--json", "--workers", "2"))
    assert {key: one[key] for key in one if key != "seconds"} == {
        key: two[key] for key in two if key != "seconds"
    }
