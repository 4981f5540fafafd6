"""The services of 网吧义务监督: registering cafés, recording inspections (who may, what opens a finding,
who is told, the inspectors' hours), following findings up and closing them with an outcome."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from guanai.accounts.models import RoleAssignment
from guanai.audit.models import AuditEvent
from guanai.cafes.models import CafeFinding, CafeInspection, CafeInspector, InternetCafe
from guanai.cafes.services import (
    CafeInput,
    cafe_close,
    cafe_register,
    cafe_update,
    county_admins,
    finding_close,
    finding_follow_up,
    inspection_hours_credit,
    inspection_record,
)
from guanai.cafes.tests.conftest import TODAY, World, _user, inspection_input
from guanai.cafes.vocabulary import FindingOutcome, FindingState, Problem
from guanai.core.access import Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.notifications.models import Notification
from guanai.volunteers.models import ServiceHours, TeamMembership, Volunteer
from guanai.volunteers.vocabulary import HoursSource, HoursState

pytestmark = pytest.mark.django_db


def cafe_input(**changes: str) -> CafeInput:
    values = {
        "region_code": "330127100",
        "name": "蓝海网咖",
        "address": "浙江省杭州市淳安县千岛湖镇梦姑路12号",
        "licence_number": "浙网文〔2021〕3456-078号",
        "operator": "方志明",
        "phone": "13957100456",
    }
    return CafeInput(**{**values, **changes})


def actions(target: object) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(target.pk), target_type=target._meta.label_lower)  # type: ignore[attr-defined]
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- Cafés ------------------------------------------------------------------------------------------


def test_a_township_admin_registers_a_cafe_of_their_township(world: World) -> None:
    cafe = cafe_register(actor=world.actor("township_worker"), data=cafe_input(operator=" 方志明 "))
    cafe.refresh_from_db()
    assert (cafe.region_id, cafe.name, cafe.operator, cafe.is_open, cafe.version) == (
        "330127100000",
        "蓝海网咖",
        "方志明",
        True,
        1,
    )
    assert cafe.phone == "13957100456"
    event = AuditEvent.objects.get(action="cafe.create", target_id=str(cafe.pk))
    assert (event.region_code, event.changed_fields) == (
        "330127100000",
        ["region", "name", "address", "licence_number", "operator", "phone"],
    )


def test_registering_names_every_wrong_field(world: World) -> None:
    actor = world.actor("county_a_admin")
    with pytest.raises(ValidationFailed) as refused:
        cafe_register(
            actor=actor,
            data=cafe_input(
                region_code="330127100219",  # a village, not a township
                name=" ",
                address="",
                licence_number="浙网文〔2019〕1234-056号",  # 星空网咖's
                phone="5710123",
            ),
        )
    assert refused.value.fields == {
        "region_code": ["请选择乡镇（街道）一级的区划"],
        "name": ["请填写此项"],
        "address": ["请填写此项"],
        "licence_number": ["该许可证号已登记"],
        "phone": ["固定电话须带区号，如 0571-65012345"],
    }
    assert InternetCafe.objects.count() == 3


def test_a_cafe_outside_the_actors_region_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        cafe_register(actor=world.actor("county_b_admin"), data=cafe_input())
    assert refused.value.fields == {"region_code": ["该乡镇（街道）不在您的管辖范围内"]}
    with pytest.raises(PermissionDeniedError):
        cafe_register(actor=world.actor("village_liaison"), data=cafe_input())
    with pytest.raises(PermissionDeniedError):
        cafe_register(actor=world.actor("volunteer"), data=cafe_input())


def test_an_update_over_an_older_version_is_a_conflict(world: World) -> None:
    actor = world.actor("township_worker")
    cafe = world.cafe_a
    data = cafe_input(name="星空网咖（新安东路店）", licence_number=cafe.licence_number)
    updated = cafe_update(actor=actor, cafe_id=cafe.pk, version=1, data=data)
    assert (updated.name, updated.version) == ("星空网咖（新安东路店）", 2)
    with pytest.raises(ConflictError):
        cafe_update(actor=actor, cafe_id=cafe.pk, version=1, data=data)
    with pytest.raises(NotFoundError):
        cafe_update(actor=world.actor("county_b_admin"), cafe_id=cafe.pk, version=2, data=data)
    event = AuditEvent.objects.get(action="cafe.update")
    assert event.changed_fields == ["name", "address", "operator", "phone"]


def test_closing_a_cafe_needs_a_reason_and_happens_once(world: World) -> None:
    actor = world.actor("county_a_admin")
    with pytest.raises(ValidationFailed) as refused:
        cafe_close(actor=actor, cafe_id=world.cafe_a2.pk, reason=" ")
    assert refused.value.fields == {"reason": ["请填写停业原因"]}
    closed = cafe_close(actor=actor, cafe_id=world.cafe_a2.pk, reason="无证经营，已取缔")
    assert (closed.is_open, closed.closed_on, closed.closed_reason) == (False, TODAY, "无证经营，已取缔")
    with pytest.raises(ConflictError):
        cafe_close(actor=actor, cafe_id=world.cafe_a2.pk, reason="again")
    assert actions(closed) == ["cafe.close"]


def test_the_database_refuses_a_closed_cafe_without_reason_and_a_licence_twice(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        InternetCafe.objects.filter(pk=world.cafe_a.pk).update(is_open=False, closed_reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        InternetCafe.objects.filter(pk=world.cafe_a2.pk).update(licence_number=world.cafe_a.licence_number)


# --- Recording an inspection ------------------------------------------------------------------------


def test_an_inspector_records_a_clean_inspection_and_nobody_is_told(world: World) -> None:
    inspection = inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input()
    )
    assert inspection.team == world.team_a
    assert list(inspection.inspectors.values_list("name", flat=True)) == ["王建国"]
    assert (inspection.has_finding, inspection.problems) == (False, 0)
    assert not CafeFinding.objects.exists()
    assert not Notification.objects.exists()
    event = AuditEvent.objects.get(action="cafe.inspection")
    assert (event.region_code, event.actor_username, event.detail) == (
        "330127100000",
        "p-volunteer",
        {"cafe": world.cafe_a.pk, "finding": None, "inspectors": 1, "photos": 0},
    )


def test_minors_found_open_a_finding_and_alert_exactly_the_county_a_admins(world: World) -> None:
    second_admin = _user("p-county-a-2", Role.COUNTY_ADMIN, "330127000000")
    expired = _user(
        "p-county-a-old",
        Role.COUNTY_ADMIN,
        "330127000000",
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2025, 12, 31),
    )
    disabled = _user("p-county-a-off", Role.COUNTY_ADMIN, "330127000000")
    disabled.is_active = False
    disabled.save(update_fields=["is_active"])
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(minors_found=3, notices_posted=False, inspector_ids=[world.li.pk]),
    )
    finding = CafeFinding.objects.get()
    assert (finding.inspection, finding.cafe, finding.county_id, finding.state) == (
        inspection,
        world.cafe_a,
        "330127000000",
        FindingState.OPEN,
    )
    assert finding.problems == Problem.MINORS_PRESENT | Problem.NO_NOTICE
    assert finding.deadline == datetime.date(2026, 12, 7)  # a week for minors found
    notified = Notification.objects.order_by("user__username")
    assert [n.user.username for n in notified] == ["p-county-a", "p-county-a-2"]
    assert {n.user_id for n in notified} == {world.users["county_a_admin"].pk, second_admin.pk}
    assert expired.pk not in {n.user_id for n in notified}
    note = notified[0]
    assert (note.kind, note.title, note.topic, note.link) == (
        Notification.Kind.ALERT,
        "网吧巡查发现问题：星空网咖",
        f"cafe_finding:{finding.pk}",
        f"/cafes/findings/{finding.pk}/",
    )
    assert note.body == (
        "千岛湖镇星空网咖（11月30日巡查）：发现未成年人 3 名；未悬挂未成年人禁入标志。请于12月7日前跟进处理。"
    )
    assert AuditEvent.objects.get(action="cafe.inspection").detail == {
        "cafe": world.cafe_a.pk,
        "finding": finding.pk,
        "inspectors": 2,
        "photos": 0,
    }


def test_the_county_admins_are_those_of_that_county_valid_today(world: World) -> None:
    assert [user.username for user in county_admins("330127000000")] == ["p-county-a"]
    assert [user.username for user in county_admins("330182000000")] == ["p-county-b"]
    RoleAssignment.objects.filter(user=world.users["county_a_admin"]).update(
        valid_from=datetime.date(2026, 12, 1)
    )
    assert list(county_admins("330127000000")) == []


def test_a_finding_without_minors_is_a_notice_with_fifteen_days(world: World) -> None:
    inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a2.pk, data=inspection_input(id_checks_done=False)
    )
    finding = CafeFinding.objects.get()
    assert (finding.problems, finding.deadline) == (Problem.NO_ID_CHECKS, datetime.date(2026, 12, 15))
    note = Notification.objects.get()
    assert (note.user.username, note.kind) == ("p-county-a", Notification.Kind.NOTICE)
    assert note.body == "千岛湖镇极速网吧（11月30日巡查）：未核对上网人员身份证件。请于12月15日前跟进处理。"


def test_another_problem_must_be_described_and_is_a_finding(world: World) -> None:
    actor = world.actor("volunteer")
    with pytest.raises(ValidationFailed) as refused:
        inspection_record(actor=actor, cafe_id=world.cafe_a.pk, data=inspection_input(other_problem=True))
    assert refused.value.fields == {"finding_description": ["发现其他问题的，请说明是什么问题"]}
    inspection = inspection_record(
        actor=actor,
        cafe_id=world.cafe_a.pk,
        data=inspection_input(other_problem=True, finding_description="凌晨仍在营业"),
    )
    assert inspection.has_finding is True
    assert CafeFinding.objects.get().problems == Problem.OTHER


def test_an_inspection_is_validated_field_by_field(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        inspection_record(
            actor=world.actor("volunteer"),
            cafe_id=world.cafe_a.pk,
            data=inspection_input(
                inspected_on=TODAY + datetime.timedelta(days=1),
                duration_minutes=0,
                minors_found=-1,
                inspector_ids=[world.zhou.pk],
            ),
        )
    assert refused.value.fields == {
        "inspected_on": ["巡查日期不能晚于今天"],
        "duration_minutes": ["巡查时长应在 1 至 720 分钟之间"],
        "minors_found": ["人数应在 0 至 500 之间"],
        "inspector_ids": ["巡查员须为本队在队、在岗的队员"],
    }
    with pytest.raises(ValidationFailed) as too_old:
        inspection_record(
            actor=world.actor("volunteer"),
            cafe_id=world.cafe_a.pk,
            data=inspection_input(inspected_on=TODAY - datetime.timedelta(days=366)),
        )
    assert too_old.value.fields == {"inspected_on": ["只能记录一年以内的巡查"]}
    assert not CafeInspection.objects.exists()


def test_the_database_keeps_minors_found_non_negative_and_findings_consistent(world: World) -> None:
    inspection = inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input()
    )
    rows = CafeInspection.objects.filter(pk=inspection.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(minors_found=-1, has_finding=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(minors_found=2)  # minors in the café, but no finding
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(has_finding=True)  # a finding, but nothing wrong


def test_an_inspector_not_in_a_cafe_supervision_team_is_refused(world: World) -> None:
    # 周桂兰 serves in a care team only: she may not record café inspections at all.
    with pytest.raises(PermissionDeniedError) as refused:
        inspection_record(actor=world.actor("outsider"), cafe_id=world.cafe_a.pk, data=inspection_input())
    assert refused.value.message == "您不是网吧义务监督员队的在队成员，不能记录巡查。"
    # A lawyer holds the permission but has no volunteer record in any team.
    with pytest.raises(PermissionDeniedError):
        inspection_record(actor=world.actor("lawyer"), cafe_id=world.cafe_a.pk, data=inspection_input())
    # 王建国's team covers 千岛湖镇, not 建德市's cafés: those answer as if they did not exist.
    with pytest.raises(NotFoundError):
        inspection_record(actor=world.actor("volunteer"), cafe_id=world.cafe_b.pk, data=inspection_input())
    # Once he has left the team, he is refused like any other non-member.
    TeamMembership.objects.filter(volunteer=world.wang).update(left_on=TODAY)
    with pytest.raises(PermissionDeniedError):
        inspection_record(actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input())
    assert not CafeInspection.objects.exists()


def test_staff_without_café_management_may_not_record(world: World) -> None:
    with pytest.raises(PermissionDeniedError):
        inspection_record(
            actor=world.actor("village_liaison"), cafe_id=world.cafe_a.pk, data=inspection_input()
        )


def test_staff_record_a_teams_inspection_naming_every_inspector(world: World) -> None:
    actor = world.actor("township_worker")
    with pytest.raises(ValidationFailed) as refused:
        inspection_record(actor=actor, cafe_id=world.cafe_a.pk, data=inspection_input())
    assert refused.value.fields == {"inspector_ids": ["请选择参加巡查的队员"]}
    with pytest.raises(ValidationFailed) as wrong_team:
        inspection_record(
            actor=actor,
            cafe_id=world.cafe_a.pk,
            data=inspection_input(team_id=world.team_b.pk, inspector_ids=[world.li.pk]),
        )
    assert wrong_team.value.fields == {"team_id": ["请选择负责该网吧所在区域的网吧义务监督员队"]}
    inspection = inspection_record(
        actor=actor,
        cafe_id=world.cafe_a.pk,
        data=inspection_input(inspector_ids=[world.wang.pk, world.li.pk]),
    )
    assert list(inspection.inspectors.order_by("pk").values_list("name", flat=True)) == ["王建国", "李秀英"]
    assert inspection.recorded_by == world.users["township_worker"]
    with pytest.raises(NotFoundError):
        inspection_record(
            actor=world.actor("county_b_admin"),
            cafe_id=world.cafe_a.pk,
            data=inspection_input(inspector_ids=[world.li.pk]),
        )


def test_a_county_team_covers_the_cafes_of_its_townships(world: World) -> None:
    from guanai.committees.models import Committee
    from guanai.volunteers.tests.factories import TeamFactory, TeamMembershipFactory

    county_team = TeamFactory.create(
        committee=Committee.objects.get(name="淳安县关工委"),
        name="淳安县网吧义务监督员队",
        kind="cafe_supervisors",
    )
    TeamMembershipFactory.create(team=county_team, volunteer=world.zhou)
    inspection = inspection_record(
        actor=world.actor("outsider"), cafe_id=world.cafe_a2.pk, data=inspection_input()
    )
    assert inspection.team == county_team
    # 王建国 now has one team covering 千岛湖镇, and 周桂兰's county team does too: he keeps his own.
    assert (
        inspection_record(
            actor=world.actor("volunteer"), cafe_id=world.cafe_a2.pk, data=inspection_input()
        ).team
        == world.team_a
    )


# --- Hours --------------------------------------------------------------------------------------------


def test_each_inspectors_time_is_credited_once(world: World) -> None:
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(duration_minutes=100, inspector_ids=[world.li.pk]),
    )
    records = ServiceHours.objects.order_by("volunteer_id")
    assert [
        (r.volunteer.name, r.hours, r.source, r.state, r.source_key, r.description, r.organiser, r.served_on)
        for r in records
    ] == [
        (
            "王建国",
            Decimal("1.7"),
            HoursSource.ACTIVITY,
            HoursState.CONFIRMED,
            f"cafe_inspection:{inspection.pk}:{world.wang.pk}",
            "网吧义务监督巡查：星空网咖",
            "千岛湖镇网吧义务监督员队",
            TODAY,
        ),
        (
            "李秀英",
            Decimal("1.7"),
            HoursSource.ACTIVITY,
            HoursState.CONFIRMED,
            f"cafe_inspection:{inspection.pk}:{world.li.pk}",
            "网吧义务监督巡查：星空网咖",
            "千岛湖镇网吧义务监督员队",
            TODAY,
        ),
    ]
    again = inspection_hours_credit(inspection=inspection)
    assert sorted(record.pk for record in again) == sorted(record.pk for record in records)
    assert ServiceHours.objects.count() == 2
    totals = dict(
        Volunteer.objects.filter(pk__in=[world.wang.pk, world.li.pk]).values_list("name", "hours_total")
    )
    assert totals == {"王建国": Decimal("1.7"), "李秀英": Decimal("1.7")}
    assert CafeInspector.objects.filter(inspection=inspection).count() == 2


# --- Findings -----------------------------------------------------------------------------------------


def open_finding(world: World) -> CafeFinding:
    inspection_record(
        actor=world.actor("volunteer"), cafe_id=world.cafe_a.pk, data=inspection_input(minors_found=2)
    )
    return CafeFinding.objects.get()


def test_closing_a_finding_requires_an_outcome(world: World) -> None:
    finding = open_finding(world)
    actor = world.actor("county_a_admin")
    for outcome in ("", "closed_somehow"):
        with pytest.raises(ValidationFailed) as refused:
            finding_close(actor=actor, finding_id=finding.pk, outcome=outcome, note="已处理")
        assert refused.value.fields == {"outcome": ["请选择处理结果"]}
    finding.refresh_from_db()
    assert (finding.state, finding.outcome, finding.closed_at) == (FindingState.OPEN, "", None)
    closed = finding_close(
        actor=actor,
        finding_id=finding.pk,
        outcome=FindingOutcome.REFERRED_TO_ENFORCEMENT,
        note="已移交县文化市场综合执法队",
    )
    closed.refresh_from_db()
    assert (closed.state, closed.outcome, closed.outcome_note, closed.closed_by) == (
        FindingState.CLOSED,
        "referred_to_enforcement",
        "已移交县文化市场综合执法队",
        world.users["county_a_admin"],
    )
    assert closed.closed_at is not None
    with pytest.raises(ConflictError):
        finding_close(actor=actor, finding_id=finding.pk, outcome=FindingOutcome.PENALISED)
    assert actions(closed) == ["cafe.finding_close"]
    assert AuditEvent.objects.get(action="cafe.finding_close").detail == {
        "outcome": "referred_to_enforcement"
    }


def test_the_database_refuses_a_closed_finding_without_an_outcome(world: World) -> None:
    finding = open_finding(world)
    rows = CafeFinding.objects.filter(pk=finding.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(state=FindingState.CLOSED, closed_at=finding.opened_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(state=FindingState.CLOSED, outcome="unknown", closed_at=finding.opened_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(outcome=FindingOutcome.PENALISED)  # an outcome while still open


def test_following_up_records_the_note_and_may_extend_the_deadline(world: World) -> None:
    finding = open_finding(world)
    actor = world.actor("county_a_admin")
    with pytest.raises(ValidationFailed) as refused:
        finding_follow_up(
            actor=actor, finding_id=finding.pk, note=" ", deadline=TODAY - datetime.timedelta(days=1)
        )
    assert refused.value.fields == {"note": ["请填写跟进情况"], "deadline": ["处理期限不能早于今天"]}
    followed = finding_follow_up(
        actor=actor, finding_id=finding.pk, note="已约谈经营者", deadline=datetime.date(2026, 12, 20)
    )
    assert (followed.follow_up_note, followed.deadline, followed.followed_up_by) == (
        "已约谈经营者",
        datetime.date(2026, 12, 20),
        world.users["county_a_admin"],
    )
    assert AuditEvent.objects.get(action="cafe.finding_follow_up").changed_fields == [
        "follow_up_note",
        "deadline",
    ]


def test_only_the_findings_region_and_cafe_managers_may_handle_it(world: World) -> None:
    finding = open_finding(world)
    with pytest.raises(NotFoundError):
        finding_close(actor=world.actor("county_b_admin"), finding_id=finding.pk, outcome="penalised")
    with pytest.raises(PermissionDeniedError):
        finding_close(actor=world.actor("village_liaison"), finding_id=finding.pk, outcome="penalised")
    with pytest.raises(PermissionDeniedError):
        finding_follow_up(actor=world.actor("volunteer"), finding_id=finding.pk, note="x")
    closed = finding_close(actor=world.actor("township_worker"), finding_id=finding.pk, outcome="penalised")
    assert closed.get_outcome_display() == "已处罚"
