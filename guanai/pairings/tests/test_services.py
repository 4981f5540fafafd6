"""The pairings' database side: loading a region into the engine's nodes, proposal runs, accepting
them with every hard rule checked again, manual pairing, the lifecycle, places (paired_count), rematch
suggestions and declared conflicts."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from guanai.audit.models import AuditEvent
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.minors.models import Consent, Minor
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, ConsentFactory
from guanai.minors.vocabulary import Category
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.selectors import minor_pairings, region_nodes
from guanai.pairings.services import (
    PairingRefused,
    conflict_declare,
    pair_refusals,
    pairing_activate,
    pairing_close,
    pairing_create,
    proposal_accept,
    proposal_run_create,
    suggestions_for_minor,
)
from guanai.pairings.tests.pairing_world import (
    NOW,
    TODAY,
    TOWNSHIP_A,
    World,
    actor,
    build_world,
    child,
    elder,
    open_pairings,
    paired_count,
)
from guanai.pairings.vocabulary import CloseReason, PairingState
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory
from guanai.volunteers.vocabulary import CheckResult, Status, TeamKind

pytestmark = pytest.mark.django_db

TOWNSHIP_B = "330182001000"  # 新安江街道 (建德市)


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def world(regions: None) -> World:
    return build_world()


def run_pairs(run: ProposalRun) -> dict[int, int]:
    return dict(ProposedPair.objects.filter(run=run).values_list("minor_id", "volunteer_id"))


# --- Loading a region -------------------------------------------------------------------------------


def test_a_region_loads_its_unpaired_children_and_its_volunteers_as_nodes(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    no_consent = child("赵无同意", sequence=44, consent=False)
    sealed = child(
        "钱封存", sequence=55, categories=int(Category.SPECIAL), special_kind="misconduct", is_sealed=True
    )
    paired = child("孙已结对", sequence=66)
    pairing_create(actor=county_a, minor_id=paired.pk, volunteer_id=world.counsellor.pk)
    former = child("周曾结对", region=COMMUNITY_A, sequence=77)
    earlier = pairing_create(actor=county_a, minor_id=former.pk, volunteer_id=world.counsellor.pk)
    pairing_close(actor=county_a, pairing_id=earlier.pk, reason=CloseReason.MOVED_AWAY)
    conflict_declare(actor=county_a, minor_id=former.pk, volunteer_id=world.teacher.pk, reason="亲属")
    mentor = elder("吴帮教", sequence=8)
    TeamMembershipFactory.create(team=TeamFactory.create(kind=TeamKind.MENTORING), volunteer=mentor)
    expired = elder("郑过期", sequence=9, check_date=TODAY - datetime.timedelta(days=366))

    nodes = region_nodes(region_code="330127100", today=TODAY)

    assert nodes.region_code == TOWNSHIP_A
    assert nodes.allow_cross_county is False
    children = {node.id: node for node in nodes.children}
    assert sorted(children) == sorted([world.zhang.pk, world.li.pk, no_consent.pk, former.pk])
    assert sealed.pk not in children
    assert paired.pk not in children
    zhang = children[world.zhang.pk]
    assert (zhang.region_code, zhang.gender, zhang.age, zhang.needs, zhang.risk) == (
        VILLAGE_A,
        "male",
        12,
        1,
        "low",
    )
    assert zhang.has_pairing_consent is True
    assert children[no_consent.pk].has_pairing_consent is False
    assert children[world.li.pk].risk == "high"
    assert children[former.pk].former_volunteer_ids == frozenset({world.counsellor.pk})
    assert children[former.pk].conflict_volunteer_ids == frozenset({world.teacher.pk})
    volunteers = {node.id: node for node in nodes.volunteers}
    assert sorted(volunteers) == sorted([world.teacher.pk, world.counsellor.pk, mentor.pk, expired.pk])
    counsellor = volunteers[world.counsellor.pk]
    assert (counsellor.load, counsellor.capacity_left, counsellor.is_active, counsellor.check_valid) == (
        1,
        1,
        True,
        True,
    )
    assert counsellor.specialties == 2
    assert counsellor.is_mentoring_team_member is False
    assert volunteers[mentor.pk].is_mentoring_team_member is True
    assert volunteers[expired.pk].check_valid is False


def test_a_city_proposal_may_cross_counties() -> None:
    from guanai.pairings.selectors import proposal_region

    assert proposal_region("3301") == ("330100000000", True)
    assert proposal_region("330127") == ("330127000000", False)
    assert proposal_region("330127100") == ("330127100000", False)


# --- Proposal runs ----------------------------------------------------------------------------------


def test_a_township_run_pairs_each_child_with_the_nearest_fitting_volunteer(
    personas: dict[str, Any], world: World
) -> None:
    run = proposal_run_create(actor=actor(personas, "township_worker"), region_code="330127100")

    assert run.region_id == TOWNSHIP_A
    assert run_pairs(run) == {world.zhang.pk: world.teacher.pk, world.li.pk: world.counsellor.pk}
    summary = dict(run.summary)
    assert summary.pop("seconds") >= 0
    assert summary == {"children": 2, "volunteers": 2, "proposed": 2, "unassigned": 0, "total_cost": -180}
    assert run.unassigned == {}
    pair = ProposedPair.objects.get(run=run, minor=world.zhang)
    assert (pair.cost, pair.distance_km) == (-90, None)
    assert pair.explanation == ["同村", "专长匹配：教学辅导", "异性别（10 岁及以上宜同性别）", "当前无结对"]
    event = AuditEvent.objects.get(action="pairing.proposals")
    assert (event.target_id, event.region_code) == (str(run.pk), TOWNSHIP_A)
    assert event.detail == {
        "children": 2,
        "volunteers": 2,
        "proposed": 2,
        "unassigned": 0,
        "total_cost": -180,
    }
    assert Pairing.objects.count() == 0  # a run pairs nobody


@pytest.mark.parametrize(
    ("code", "persona", "error"),
    [
        ("33", "province_admin", ValidationFailed),  # the province is the benchmark's, not a page's
        ("330127100219", "county_a_admin", ValidationFailed),  # a village
        ("3301x", "county_a_admin", ValidationFailed),
        ("330182", "county_a_admin", NotFoundError),  # another county
        ("330127", "township_worker", NotFoundError),  # above the actor's region
        ("330127100", "volunteer", PermissionDeniedError),
    ],
)
def test_a_run_is_made_only_for_a_city_county_or_township_inside_the_actors_region(
    personas: dict[str, Any], world: World, code: str, persona: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        proposal_run_create(actor=actor(personas, persona), region_code=code)
    assert ProposalRun.objects.count() == 0


def test_a_child_without_consent_to_pairing_is_never_proposed(
    personas: dict[str, Any], regions: None
) -> None:
    no_consent = child("赵无同意", region=COMMUNITY_B, sequence=44, consent=False)
    elder("周德明", region=COMMUNITY_B, sequence=3)

    run = proposal_run_create(actor=actor(personas, "county_b_admin"), region_code=TOWNSHIP_B)

    assert run_pairs(run) == {}
    assert run.unassigned == {str(no_consent.pk): "no_consent"}


def test_a_sealed_record_is_never_proposed_nor_paired_by_hand(
    personas: dict[str, Any], regions: None
) -> None:
    sealed = child(
        "钱封存",
        region=COMMUNITY_B,
        sequence=55,
        categories=int(Category.SPECIAL),
        special_kind="misconduct",
        is_sealed=True,
    )
    volunteer = elder("周德明", region=COMMUNITY_B, sequence=3)
    TeamMembershipFactory.create(
        team=TeamFactory.create(kind=TeamKind.MENTORING, committee__region_id="330182000000"),
        volunteer=volunteer,
    )
    county_b = actor(personas, "county_b_admin")

    run = proposal_run_create(actor=county_b, region_code=TOWNSHIP_B)

    assert run_pairs(run) == {}
    assert run.unassigned == {}
    assert run.summary["children"] == 0
    with pytest.raises(NotFoundError):
        pairing_create(actor=county_b, minor_id=sealed.pk, volunteer_id=volunteer.pk)
    with pytest.raises(NotFoundError):
        suggestions_for_minor(actor=county_b, minor_id=sealed.pk)
    assert Pairing.objects.count() == 0


def _expire_check(volunteer: Volunteer, minor: Minor) -> None:
    Volunteer.objects.filter(pk=volunteer.pk).update(check_date=TODAY - datetime.timedelta(days=400))


def _flag_check(volunteer: Volunteer, minor: Minor) -> None:
    Volunteer.objects.filter(pk=volunteer.pk).update(check_result=CheckResult.FLAGGED)


def _suspend(volunteer: Volunteer, minor: Minor) -> None:
    Volunteer.objects.filter(pk=volunteer.pk).update(status=Status.SUSPENDED, status_reason="住院")


def _fill(volunteer: Volunteer, minor: Minor) -> None:
    other = child("冯另一", region=COMMUNITY_B, sequence=88)
    Pairing.objects.create(minor=other, volunteer=volunteer)
    Volunteer.objects.filter(pk=volunteer.pk).update(paired_count=1)


def _declare_conflict(volunteer: Volunteer, minor: Minor) -> None:
    ConflictDeclaration.objects.create(volunteer=volunteer, minor=minor, reason="亲属")


def _withdraw_consent(volunteer: Volunteer, minor: Minor) -> None:
    Consent.objects.filter(minor=minor).update(withdrawn_on=TODAY)


def _seal(volunteer: Volunteer, minor: Minor) -> None:
    Minor.objects.filter(pk=minor.pk).update(
        is_sealed=True, categories=int(Category.SPECIAL), special_kind="misconduct"
    )


DEFECTS: list[tuple[str, Callable[[Volunteer, Minor], None], str]] = [
    ("expired check", _expire_check, "背景审查有效期至 2026-10-26，已过期，须重新审查"),
    ("flagged check", _flag_check, "背景审查结果为有不良记录"),
    ("suspended", _suspend, "志愿者当前状态为“暂停”"),
    ("full", _fill, "结对人数已满（最多 1 人）"),
    ("declared conflict", _declare_conflict, "已申报该志愿者与该儿童存在利益冲突"),
    ("consent withdrawn", _withdraw_consent, "没有监护人对结对关爱的同意记录"),
    ("sealed since", _seal, "儿童或志愿者已不在您的管辖范围内"),
]


def _pair_of_county_b() -> tuple[Minor, Volunteer]:
    return (
        child("王小五", region=COMMUNITY_B, sequence=33),
        elder("周德明", region=COMMUNITY_B, sequence=3, max_children=1),
    )


@pytest.mark.parametrize(("label", "defect", "reason"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_a_pair_that_breaks_a_hard_rule_is_never_proposed(
    personas: dict[str, Any],
    regions: None,
    label: str,
    defect: Callable[[Volunteer, Minor], None],
    reason: str,
) -> None:
    minor, volunteer = _pair_of_county_b()
    defect(volunteer, minor)

    run = proposal_run_create(actor=actor(personas, "county_b_admin"), region_code=TOWNSHIP_B)

    assert minor.pk not in run_pairs(run)
    assert ProposedPair.objects.filter(run=run, volunteer=volunteer).count() == 0


@pytest.mark.parametrize(("label", "defect", "reason"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_a_proposal_that_no_longer_holds_is_refused_at_acceptance_with_the_reason(
    personas: dict[str, Any],
    regions: None,
    label: str,
    defect: Callable[[Volunteer, Minor], None],
    reason: str,
) -> None:
    county_b = actor(personas, "county_b_admin")
    minor, volunteer = _pair_of_county_b()
    run = proposal_run_create(actor=county_b, region_code=TOWNSHIP_B)
    assert run_pairs(run) == {minor.pk: volunteer.pk}
    defect(volunteer, minor)

    acceptance = proposal_accept(actor=county_b, run_id=run.pk)

    assert acceptance.accepted == []
    assert [(refusal.proposed_pair.minor_id, refusal.reasons) for refusal in acceptance.refused] == [
        (minor.pk, [reason])
    ]
    assert Pairing.objects.filter(minor=minor).count() == 0
    assert ProposedPair.objects.get(run=run).accepted_at is None
    assert not AuditEvent.objects.filter(action="pairing.accept").exists()


def test_a_proposed_pairing_takes_a_place_so_a_volunteer_is_not_proposed_twice(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, activate=False)
    assert paired_count(world.teacher) == 1
    other = child("冯另一", sequence=88)

    run = proposal_run_create(actor=county_a, region_code="330127100")

    assert world.teacher.pk not in run_pairs(run).values()
    assert run_pairs(run) == {world.li.pk: world.counsellor.pk, other.pk: world.counsellor.pk}


# --- Accepting ---------------------------------------------------------------------------------------


def test_accepting_a_run_starts_the_pairings_with_the_contact_due(
    personas: dict[str, Any], world: World
) -> None:
    township = actor(personas, "township_worker")
    run = proposal_run_create(actor=township, region_code="330127100")

    acceptance = proposal_accept(actor=township, run_id=run.pk)

    assert acceptance.refused == []
    by_child = {pairing.minor_id: pairing for pairing in acceptance.accepted}
    zhang, li = by_child[world.zhang.pk], by_child[world.li.pk]
    assert (zhang.volunteer_id, zhang.state, zhang.started_on) == (
        world.teacher.pk,
        PairingState.ACTIVE,
        TODAY,
    )
    assert zhang.next_contact_due == TODAY + datetime.timedelta(days=30)
    assert li.next_contact_due == TODAY + datetime.timedelta(days=14)  # high risk: fortnightly
    assert zhang.explanation == ["同村", "专长匹配：教学辅导", "异性别（10 岁及以上宜同性别）", "当前无结对"]
    assert zhang.proposed_pair is not None
    assert zhang.proposed_pair.accepted_at is not None
    assert (paired_count(world.teacher), paired_count(world.counsellor)) == (1, 1)
    events = AuditEvent.objects.filter(action="pairing.accept").order_by("id")
    assert sorted(event.target_id for event in events) == sorted([str(zhang.pk), str(li.pk)])
    assert {event.detail["run"] for event in events} == {run.pk}


def test_accepting_some_leaves_the_others_for_later_and_never_twice(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    run = proposal_run_create(actor=county_a, region_code="330127100")
    zhang_pair = ProposedPair.objects.get(run=run, minor=world.zhang)

    first = proposal_accept(actor=county_a, run_id=run.pk, pair_ids=[zhang_pair.pk], activate=False)

    assert [(p.minor_id, p.state) for p in first.accepted] == [(world.zhang.pk, PairingState.PROPOSED)]
    assert first.accepted[0].started_on is None
    assert first.accepted[0].next_contact_due is None
    again = proposal_accept(actor=county_a, run_id=run.pk, pair_ids=[zhang_pair.pk])
    assert again.accepted == []
    assert [r.reasons for r in again.refused] == [["该建议已采纳"]]
    rest = proposal_accept(actor=county_a, run_id=run.pk)
    assert [p.minor_id for p in rest.accepted] == [world.li.pk]
    assert rest.refused == []
    assert Pairing.objects.count() == 2


def test_accepting_ids_of_another_run_is_refused(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    run = proposal_run_create(actor=county_a, region_code="330127100")
    with pytest.raises(ValidationFailed) as raised:
        proposal_accept(actor=county_a, run_id=run.pk, pair_ids=[999999])
    assert raised.value.fields == {"pair_ids": ["不属于该次结对建议的编号：[999999]"]}
    assert Pairing.objects.count() == 0


def test_another_countys_run_cannot_be_accepted(personas: dict[str, Any], world: World) -> None:
    run = proposal_run_create(actor=actor(personas, "county_a_admin"), region_code="330127")
    with pytest.raises(NotFoundError):
        proposal_accept(actor=actor(personas, "county_b_admin"), run_id=run.pk)
    assert Pairing.objects.count() == 0


# --- Manual pairing and the lifecycle ----------------------------------------------------------------


def test_a_manual_pairing_follows_the_same_rules(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    no_consent = child("赵无同意", sequence=44, consent=False)
    with pytest.raises(PairingRefused) as refused:
        pairing_create(actor=county_a, minor_id=no_consent.pk, volunteer_id=world.teacher.pk)
    assert refused.value.reasons == ["没有监护人对结对关爱的同意记录"]
    with pytest.raises(NotFoundError):  # a volunteer of another county
        pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.jiande.pk)
    ningbo = elder("蒋宁波", region="330212000000", sequence=12)
    with pytest.raises(PairingRefused) as refused:
        pairing_create(
            actor=actor(personas, "province_admin"), minor_id=world.zhang.pk, volunteer_id=ningbo.pk
        )
    assert refused.value.reasons == ["志愿者与儿童不在同一市"]
    assert Pairing.objects.count() == 0

    pairing = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)

    assert (pairing.state, pairing.started_on, pairing.proposed_pair) == (PairingState.ACTIVE, TODAY, None)
    assert pairing.explanation == [
        "同村",
        "专长匹配：教学辅导",
        "异性别（10 岁及以上宜同性别）",
        "当前无结对",
    ]
    assert AuditEvent.objects.filter(action="pairing.create", target_id=str(pairing.pk)).count() == 1


def test_a_city_may_pair_across_its_counties(personas: dict[str, Any], world: World) -> None:
    pairing = pairing_create(
        actor=actor(personas, "province_admin"), minor_id=world.zhang.pk, volunteer_id=world.jiande.pk
    )
    assert pairing.explanation[0] == "同市，跨县（市、区）"


def test_a_child_has_one_open_pairing_at_a_time(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, activate=False)
    with pytest.raises(PairingRefused) as refused:
        pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.counsellor.pk)
    assert refused.value.reasons == ["该儿童已有未解除的结对"]
    # The database holds the rule too, whatever the code above it does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(minor=world.zhang, volunteer=world.counsellor, state=PairingState.ACTIVE)
    assert open_pairings(world.counsellor) == 0
    assert paired_count(world.counsellor) == 0


def test_a_pairing_starts_only_with_consent_on_record(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing = pairing_create(
        actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, activate=False
    )
    assert pairing.state == PairingState.PROPOSED
    assert paired_count(world.teacher) == 1
    Consent.objects.filter(minor=world.zhang).update(withdrawn_on=TODAY)

    with pytest.raises(PairingRefused) as refused:
        pairing_activate(actor=county_a, pairing_id=pairing.pk)

    assert refused.value.reasons == ["没有监护人对结对关爱的同意记录"]
    assert Pairing.objects.get(pk=pairing.pk).state == PairingState.PROPOSED
    ConsentFactory.create(minor=world.zhang, given_on=TODAY)
    # The volunteer's one place is this pairing's own: starting it is not refused as "full".
    started = pairing_activate(actor=county_a, pairing_id=pairing.pk)
    assert (started.state, started.started_on) == (PairingState.ACTIVE, TODAY)
    assert started.next_contact_due == TODAY + datetime.timedelta(days=30)
    assert paired_count(world.teacher) == 1
    assert AuditEvent.objects.filter(action="pairing.activate", target_id=str(pairing.pk)).count() == 1
    with pytest.raises(ConflictError):
        pairing_activate(actor=county_a, pairing_id=pairing.pk)


def test_starting_refuses_a_volunteer_whose_check_expired_meanwhile(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing = pairing_create(
        actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, activate=False
    )
    _expire_check(world.teacher, world.zhang)
    with pytest.raises(PairingRefused) as refused:
        pairing_activate(actor=county_a, pairing_id=pairing.pk)
    assert refused.value.reasons == ["背景审查有效期至 2026-10-26，已过期，须重新审查"]


def test_paired_count_counts_the_open_pairings_exactly(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    other = child("冯另一", region=COMMUNITY_A, sequence=88)
    first = pairing_create(actor=county_a, minor_id=world.li.pk, volunteer_id=world.counsellor.pk)
    second = pairing_create(
        actor=county_a, minor_id=other.pk, volunteer_id=world.counsellor.pk, activate=False
    )
    assert paired_count(world.counsellor) == open_pairings(world.counsellor) == 2
    with pytest.raises(PairingRefused) as refused:
        pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.counsellor.pk)
    assert refused.value.reasons == ["结对人数已满（最多 2 人）"]

    pairing_close(actor=county_a, pairing_id=first.pk, reason=CloseReason.GOAL_REACHED)
    assert paired_count(world.counsellor) == open_pairings(world.counsellor) == 1
    pairing_close(actor=county_a, pairing_id=second.pk, reason=CloseReason.MOVED_AWAY)
    assert paired_count(world.counsellor) == open_pairings(world.counsellor) == 0
    with pytest.raises(ConflictError):
        pairing_close(actor=county_a, pairing_id=second.pk, reason=CloseReason.MOVED_AWAY)
    assert paired_count(world.counsellor) == 0


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [
        ("", "", "reason"),
        ("finished", "", "reason"),
        (CloseReason.OTHER, "  ", "note"),
        ("other", "x" * 301, "note"),
    ],
)
def test_closing_needs_one_of_the_seven_reasons(
    personas: dict[str, Any], world: World, reason: str, note: str, field: str
) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    with pytest.raises(ValidationFailed) as failed:
        pairing_close(actor=county_a, pairing_id=pairing.pk, reason=reason, note=note)
    assert list(failed.value.fields) == [field]
    assert Pairing.objects.get(pk=pairing.pk).state == PairingState.ACTIVE


def test_closing_keeps_the_history_and_suggests_a_rematch(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    first = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)

    closure = pairing_close(
        actor=county_a, pairing_id=first.pk, reason=CloseReason.VOLUNTEER_UNABLE, note="身体原因"
    )

    closed = closure.pairing
    assert (closed.state, closed.closed_on, closed.close_reason, closed.close_note) == (
        PairingState.CLOSED,
        TODAY,
        CloseReason.VOLUNTEER_UNABLE,
        "身体原因",
    )
    # The volunteer who could not go on is not suggested again.
    assert [s.volunteer.pk for s in closure.rematch] == [world.counsellor.pk]
    assert closure.rematch[0].proposal.explanation == (
        "同乡镇（街道）",
        "需求未匹配专长：学业",
        "同性别",
        "当前无结对",
    )
    event = AuditEvent.objects.get(action="pairing.close")
    assert (event.target_id, event.detail) == (str(first.pk), {"reason": "volunteer_unable"})

    second = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.counsellor.pk)
    assert [p.pk for p in minor_pairings(actor=county_a, minor_id=world.zhang.pk)] == [second.pk, first.pk]
    finished = pairing_close(actor=county_a, pairing_id=second.pk, reason=CloseReason.GOAL_REACHED)
    assert finished.rematch == []  # a goal reached calls for no rematch


def test_a_pair_closed_over_a_safety_concern_is_never_made_again(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    first = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    pairing_close(actor=county_a, pairing_id=first.pk, reason=CloseReason.SAFETY)

    with pytest.raises(PairingRefused) as refused:
        pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    assert refused.value.reasons == ["该志愿者与该儿童的结对曾因安全顾虑解除"]
    run = proposal_run_create(actor=county_a, region_code="330127100")
    assert run_pairs(run)[world.zhang.pk] == world.counsellor.pk
    assert world.teacher.pk not in [
        s.volunteer.pk for s in suggestions_for_minor(actor=county_a, minor_id=world.zhang.pk).suggestions
    ]


def test_a_former_volunteer_is_preferred_for_continuity(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    first = pairing_create(actor=county_a, minor_id=world.li.pk, volunteer_id=world.teacher.pk)
    pairing_close(actor=county_a, pairing_id=first.pk, reason=CloseReason.MOVED_AWAY)

    found = suggestions_for_minor(actor=county_a, minor_id=world.li.pk)

    # Without continuity the counsellor (same village, psychology) would come first: -90 against 30.
    assert [(s.volunteer.pk, s.proposal.cost) for s in found.suggestions] == [
        (world.teacher.pk, -170),
        (world.counsellor.pk, -90),
    ]
    assert found.suggestions[0].proposal.is_former_volunteer is True
    assert "曾结对" in found.suggestions[0].proposal.explanation


# --- Suggestions (推荐) -----------------------------------------------------------------------------------


def test_suggestions_list_the_best_volunteers_for_one_child(personas: dict[str, Any], world: World) -> None:
    for sequence in range(20, 26):
        elder(f"备选{sequence}", region=COMMUNITY_A, sequence=sequence)

    found = suggestions_for_minor(actor=actor(personas, "county_a_admin"), minor_id=world.zhang.pk)

    assert found.has_pairing_consent is True
    assert found.open_pairing is None
    assert len(found.suggestions) == 5
    assert found.suggestions[0].volunteer.pk == world.teacher.pk
    costs = [s.proposal.cost for s in found.suggestions]
    assert costs == sorted(costs)
    assert world.jiande.pk not in [s.volunteer.pk for s in found.suggestions]


def test_a_child_without_consent_gets_no_suggestion(personas: dict[str, Any], world: World) -> None:
    no_consent = child("赵无同意", sequence=44, consent=False)
    found = suggestions_for_minor(actor=actor(personas, "county_a_admin"), minor_id=no_consent.pk)
    assert (found.has_pairing_consent, found.suggestions) == (False, [])


def test_suggestions_of_another_countys_child_are_not_found(personas: dict[str, Any], world: World) -> None:
    with pytest.raises(NotFoundError):
        suggestions_for_minor(actor=actor(personas, "county_b_admin"), minor_id=world.zhang.pk)


# --- Conflicts and the mentoring rule -----------------------------------------------------------------


def test_a_declared_conflict_keeps_the_pair_apart(personas: dict[str, Any], world: World) -> None:
    county_a = actor(personas, "county_a_admin")
    declaration = conflict_declare(
        actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, reason=" 亲属关系 "
    )
    assert declaration.reason == "亲属关系"
    event = AuditEvent.objects.get(action="pairing.conflict")
    assert (event.target_id, event.region_code) == (str(declaration.pk), VILLAGE_A)

    run = proposal_run_create(actor=county_a, region_code="330127100")
    assert run_pairs(run)[world.zhang.pk] == world.counsellor.pk
    with pytest.raises(ConflictError):
        conflict_declare(
            actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, reason="再次"
        )
    with pytest.raises(ValidationFailed):
        conflict_declare(actor=county_a, minor_id=world.li.pk, volunteer_id=world.teacher.pk, reason=" ")
    with pytest.raises(NotFoundError):  # another county's child, whatever the form holds
        conflict_declare(
            actor=actor(personas, "county_b_admin"),
            minor_id=world.li.pk,
            volunteer_id=world.teacher.pk,
            reason=" ",
        )


def test_a_conflict_with_an_open_pairing_is_declared_after_closing_it(
    personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    with pytest.raises(ConflictError):
        conflict_declare(
            actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, reason="亲属"
        )
    with pytest.raises(NotFoundError):  # another county's pairing, whatever the form holds
        pairing_close(actor=actor(personas, "county_b_admin"), pairing_id=pairing.pk, reason="")
    pairing_close(actor=county_a, pairing_id=pairing.pk, reason=CloseReason.OTHER, note="发现亲属关系")
    conflict_declare(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk, reason="亲属")
    assert ConflictDeclaration.objects.filter(minor=world.zhang, volunteer=world.teacher).count() == 1


def test_a_special_youth_is_paired_only_with_a_mentoring_team_member(world: World) -> None:
    # Sealed records never reach the services; the rule is held all the same.
    special = Minor(
        pk=world.zhang.pk,
        region_id=VILLAGE_A,
        status="active",
        categories=int(Category.SPECIAL),
        is_sealed=False,
    )
    assert "特殊青少年只能由帮教团成员结对" in pair_refusals(
        minor=special, volunteer=world.teacher, today=TODAY
    )
    TeamMembershipFactory.create(team=TeamFactory.create(kind=TeamKind.MENTORING), volunteer=world.teacher)
    assert "特殊青少年只能由帮教团成员结对" not in pair_refusals(
        minor=special, volunteer=world.teacher, today=TODAY
    )
