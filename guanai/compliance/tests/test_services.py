"""Writes of the impact assessments and incidents: validation, the three years' keeping, superseding,
the notification rules, the status flow, the reporting clock and the audit events."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.compliance.models import ImpactAssessment, PrivacyIncident
from guanai.compliance.selectors import IncidentFilters, incident_list, incidents_overdue_count
from guanai.compliance.services import (
    assessment_create,
    assessment_delete,
    incident_close,
    incident_contain,
    incident_decide_not_to_notify,
    incident_notify_authority,
    incident_notify_individuals,
    incident_report,
    incident_require_notice,
    incident_update,
    keep_until_for,
)
from guanai.compliance.tests.factories import (
    CHILD_NAME,
    assessment_input,
    incident_input,
    make_assessment,
    make_incident,
)
from guanai.compliance.vocabulary import (
    AuthorityChannel,
    Conclusion,
    IncidentStatus,
    IndividualsChannel,
    IndividualsDecision,
)
from guanai.core.access import Actor
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_A, COUNTY_B

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- Assessments ----------------------------------------------------------------------------------


def test_an_assessment_is_kept_exactly_three_years_from_its_date(admin: Actor) -> None:
    assessment = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2026, 3, 2))
    assert assessment.keep_until == datetime.date(2029, 3, 2)
    assert assessment.recorded_by == admin.user
    assert assessment.region_id == COUNTY_A


def test_an_assessment_of_29_february_is_kept_until_1_march_three_years_on() -> None:
    assert keep_until_for(datetime.date(2028, 2, 29)) == datetime.date(2031, 3, 1)


def test_an_assessment_needs_its_facts_with_chinese_messages(admin: Actor) -> None:
    data = assessment_input(
        title=" ",
        risks="",
        measures="",
        processing_kind="guess",
        assessed_on=TODAY + datetime.timedelta(days=1),
        region_code="110000000000",
    )
    with pytest.raises(ValidationFailed) as failure:
        assessment_create(actor=admin, data=data, today=TODAY)
    assert failure.value.fields == {
        "region_code": ["请选择您辖区内的省、市或县级区划"],
        "title": ["此项为必填项"],
        "risks": ["此项为必填项"],
        "measures": ["此项为必填项"],
        "processing_kind": ["请从列表中选择"],
        "assessed_on": ["评估日期不能晚于今天"],
    }
    assert ImpactAssessment.objects.count() == 0


def test_data_of_children_under_14_must_be_marked_sensitive(admin: Actor) -> None:
    data = assessment_input(involves_children_under_14=True, involves_sensitive_data=False)
    with pytest.raises(ValidationFailed) as failure:
        assessment_create(actor=admin, data=data, today=TODAY)
    assert failure.value.fields == {
        "involves_sensitive_data": [
            "不满十四周岁未成年人的个人信息属于敏感个人信息，请同时勾选“涉及敏感个人信息”"
        ]
    }


def test_a_conditional_or_negative_conclusion_needs_its_note(admin: Actor) -> None:
    for conclusion in (Conclusion.CONDITIONAL, Conclusion.REJECTED):
        with pytest.raises(ValidationFailed) as failure:
            assessment_create(actor=admin, data=assessment_input(conclusion=conclusion), today=TODAY)
        assert failure.value.fields == {"conclusion_note": ["请说明须落实的条件或不得开展的理由"]}


def test_an_assessment_cannot_be_deleted_before_its_three_years(admin: Actor) -> None:
    assessment = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2026, 3, 2))
    with pytest.raises(ConflictError) as failure:
        assessment_delete(actor=admin, assessment_id=assessment.pk, today=datetime.date(2029, 3, 1))
    assert failure.value.message == "评估报告至少保存三年：本评估须保存至2029年3月2日，此前不能删除"
    assert ImpactAssessment.objects.filter(pk=assessment.pk).exists()
    assert _events("assessment.delete") == []


def test_an_assessment_may_be_deleted_once_its_three_years_have_passed(admin: Actor) -> None:
    assessment = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2026, 3, 2))
    assessment_delete(actor=admin, assessment_id=assessment.pk, today=datetime.date(2029, 3, 2))
    assert not ImpactAssessment.objects.filter(pk=assessment.pk).exists()
    [event] = _events("assessment.delete")
    assert event.target_id == str(assessment.pk)


def test_a_superseding_assessment_replaces_the_old_one_and_both_are_kept(admin: Actor) -> None:
    old = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2025, 1, 6))
    new = make_assessment(
        admin,
        today=TODAY,
        assessed_on=datetime.date(2026, 3, 2),
        supersedes_id=old.pk,
        measures="增加导入前的双人核对。",
    )
    old.refresh_from_db()
    assert new.supersedes == old
    assert old.superseded_by == new
    assert old.keep_until == datetime.date(2028, 1, 6)  # the old one keeps its own three years
    assert ImpactAssessment.objects.count() == 2
    [_first, event] = _events("assessment.create")
    assert event.detail == {"supersedes": old.pk}
    assert "supersedes_id" in event.changed_fields


def test_an_assessment_is_superseded_once_by_one_of_its_region(admin: Actor) -> None:
    old = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2025, 1, 6))
    make_assessment(admin, today=TODAY, supersedes_id=old.pk)
    with pytest.raises(ValidationFailed) as failure:
        make_assessment(admin, today=TODAY, supersedes_id=old.pk)
    assert failure.value.fields == {"supersedes_id": ["该评估已被另一份评估替代"]}
    with pytest.raises(ValidationFailed) as failure:
        make_assessment(
            admin, today=TODAY, supersedes_id=make_assessment(admin, today=TODAY).pk, region_code=COUNTY_B
        )
    assert failure.value.fields == {"supersedes_id": ["替代的评估须属于同一区划"]}


def test_only_the_security_admin_records_assessments(actors: dict[str, Actor]) -> None:
    for name in ("province_admin", "county_a_admin", "auditor", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            assessment_create(actor=actors[name], data=assessment_input(), today=TODAY)
    assert ImpactAssessment.objects.count() == 0


def test_the_assessment_event_names_fields_and_holds_no_values(admin: Actor) -> None:
    make_assessment(admin, today=TODAY)
    [event] = _events("assessment.create")
    assert event.region_code == COUNTY_A
    assert event.detail is None or event.detail == {}
    assert "risks" in event.changed_fields
    assert "花名册" not in str(event.detail)
    assert "张三" not in str(event.changed_fields)


# --- Incidents: recording, encryption, the audit ---------------------------------------------------


def _raw(incident: PrivacyIncident, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM compliance_privacyincident WHERE id = %s", [incident.pk])  # noqa: S608
        value: str = cursor.fetchone()[0]
    return value


def test_an_incident_stores_no_plaintext_of_what_happened(admin: Actor) -> None:
    incident = make_incident(
        admin,
        causes=f"{CHILD_NAME}的班主任转发",
        remedial_measures=f"已请群成员删除{CHILD_NAME}的名单",
        possible_harm=f"{CHILD_NAME}的学校被陌生人知晓",
    )
    incident_decide_not_to_notify(
        actor=admin, incident_id=incident.pk, reason=f"名单已全部撤回删除，{CHILD_NAME}的家长已确认"
    )
    for column in (
        "description",
        "causes",
        "remedial_measures",
        "possible_harm",
        "individuals_not_notified_reason",
    ):
        raw = _raw(incident, column)
        assert CHILD_NAME not in raw
        assert "$" in raw  # KEYID$ciphertext
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM compliance_privacyincident WHERE id = %s", [incident.pk])
        row = cursor.fetchone()
    assert not any(CHILD_NAME in str(value) for value in row)
    incident.refresh_from_db()
    assert CHILD_NAME in incident.description


def test_incident_events_hold_counts_never_what_happened(admin: Actor) -> None:
    incident = make_incident(admin)
    [event] = _events("incident.report")
    assert event.target_id == str(incident.pk)
    assert event.region_code == COUNTY_A
    assert event.detail == {"kind": "leak", "affected_count": 12, "affected_minors_count": 12}
    assert event.changed_fields == [
        "kind",
        "discovered_at",
        "description",
        "data_categories",
        "affected_count",
        "affected_minors_count",
    ]
    trail = " ".join(str(row) for row in AuditEvent.objects.values_list("detail", "changed_fields"))
    assert CHILD_NAME not in trail
    assert "微信群" not in trail


def test_an_incident_is_validated_with_chinese_messages(admin: Actor) -> None:
    now = timezone.now()
    data = incident_input(
        description="",
        data_categories=[],
        affected_count=3,
        affected_minors_count=4,
        discovered_at=now + datetime.timedelta(minutes=5),
        kind="flood",
    )
    with pytest.raises(ValidationFailed) as failure:
        incident_report(actor=admin, data=data, now=now)
    assert failure.value.fields == {
        "kind": ["请从列表中选择"],
        "discovered_at": ["发现时间不能晚于现在"],
        "data_categories": ["请至少选择一种涉及的个人信息"],
        "affected_minors_count": ["未成年人人数不能超过涉及总人数"],
        "description": ["此项为必填项"],
    }
    assert PrivacyIncident.objects.count() == 0


def test_only_the_security_admin_reports_incidents(actors: dict[str, Actor]) -> None:
    for name in ("province_admin", "county_a_admin", "auditor", "system_admin", "volunteer"):
        with pytest.raises(PermissionDeniedError):
            make_incident(actors[name])
    assert PrivacyIncident.objects.count() == 0


def test_an_incident_has_no_delete_path() -> None:
    from guanai.compliance import services, views

    assert not [name for name in dir(services) if "delete" in name and "incident" in name]
    assert not [name for name in dir(views) if "delete" in name and "incident" in name]


# --- The reporting clock ---------------------------------------------------------------------------


@override_settings(GUANAI_INCIDENT_REPORT_HOURS=6)
def test_the_clock_is_not_overdue_at_exactly_n_hours_and_overdue_one_second_later(admin: Actor) -> None:
    discovered = timezone.now() - datetime.timedelta(days=1)
    incident = make_incident(admin, discovered_at=discovered)
    due = discovered + datetime.timedelta(hours=6)
    assert incident.report_due_at == due
    assert incident.is_overdue(due) is False
    assert incidents_overdue_count(actor=admin, now=due) == 0
    late = due + datetime.timedelta(seconds=1)
    assert incident.is_overdue(late) is True
    assert incidents_overdue_count(actor=admin, now=late) == 1
    assert list(incident_list(actor=admin, filters=IncidentFilters(overdue=True), now=late)) == [incident]
    assert list(incident_list(actor=admin, filters=IncidentFilters(overdue=False), now=due)) == [incident]


def test_the_clock_defaults_to_24_hours(admin: Actor) -> None:
    discovered = timezone.now() - datetime.timedelta(hours=30)
    incident = make_incident(admin, discovered_at=discovered)
    assert incident.report_due_at == discovered + datetime.timedelta(hours=24)


@override_settings(GUANAI_INCIDENT_REPORT_HOURS=1)
def test_reporting_to_the_authority_stops_the_clock(admin: Actor) -> None:
    discovered = timezone.now() - datetime.timedelta(hours=3)
    incident = make_incident(admin, discovered_at=discovered)
    assert incidents_overdue_count(actor=admin) == 1
    incident_notify_authority(
        actor=admin,
        incident_id=incident.pk,
        notified_at=discovered + datetime.timedelta(hours=2),
        channel=AuthorityChannel.WRITTEN,
        authority_name="浙江省委网信办",
        reference="ZJWX-2026-031",
    )
    assert incidents_overdue_count(actor=admin) == 0
    [event] = _events("incident.authority_notified")
    assert event.detail == {"late": True}


# --- Notifications ---------------------------------------------------------------------------------


def test_the_authority_notice_needs_when_how_and_to_whom(admin: Actor) -> None:
    incident = make_incident(admin)
    with pytest.raises(ValidationFailed) as failure:
        incident_notify_authority(
            actor=admin,
            incident_id=incident.pk,
            notified_at=incident.discovered_at - datetime.timedelta(minutes=1),
            channel="pigeon",
            authority_name=" ",
        )
    local = timezone.localtime(incident.discovered_at).strftime("%Y年%-m月%-d日 %H:%M")
    assert failure.value.fields == {
        "notified_at": [f"时间不能早于事件的发现时间（{local}）"],
        "channel": ["请从列表中选择"],
        "authority_name": ["此项为必填项"],
    }
    incident_notify_authority(
        actor=admin,
        incident_id=incident.pk,
        notified_at=timezone.now(),
        channel=AuthorityChannel.PLATFORM,
        authority_name="淳安县委网信办",
    )
    with pytest.raises(ConflictError):
        incident_notify_authority(
            actor=admin,
            incident_id=incident.pk,
            notified_at=timezone.now(),
            channel=AuthorityChannel.PLATFORM,
            authority_name="淳安县委网信办",
        )
    incident.refresh_from_db()
    assert incident.authority_name == "淳安县委网信办"
    assert incident.authority_notified_by == admin.user


def test_not_notifying_needs_remedial_measures_and_a_real_reason(admin: Actor) -> None:
    incident = make_incident(admin)
    with pytest.raises(ValidationFailed) as failure:
        incident_decide_not_to_notify(actor=admin, incident_id=incident.pk, reason="已处理")
    assert failure.value.fields == {
        "reason": [
            "请具体说明所采取的措施如何有效避免危害（至少10个字）",
            "须先记录已采取的补救措施：只有措施能够有效避免危害时才可以不通知个人",
        ]
    }
    incident = incident_update(
        actor=admin,
        incident_id=incident.pk,
        version=incident.version,
        data=incident_input(discovered_at=incident.discovered_at, remedial_measures="已撤回消息并确认删除"),
    )
    incident_decide_not_to_notify(
        actor=admin, incident_id=incident.pk, reason="消息在两分钟内撤回，群成员均已确认删除，未外传。"
    )
    incident.refresh_from_db()
    assert incident.individuals_decision == IndividualsDecision.NOT_NOTIFIED
    assert incident.individuals_decided_by == admin.user


def test_the_authority_may_still_require_the_notice_and_closing_waits_for_it(admin: Actor) -> None:
    incident = make_incident(admin, remedial_measures="已撤回消息并确认删除")
    incident_notify_authority(
        actor=admin,
        incident_id=incident.pk,
        notified_at=timezone.now(),
        channel=AuthorityChannel.WRITTEN,
        authority_name="淳安县委网信办",
    )
    incident_decide_not_to_notify(
        actor=admin, incident_id=incident.pk, reason="消息在两分钟内撤回，群成员均已确认删除，未外传。"
    )
    incident_require_notice(actor=admin, incident_id=incident.pk, required_at=timezone.now())
    incident_contain(actor=admin, incident_id=incident.pk)
    with pytest.raises(ValidationFailed) as failure:
        incident_close(actor=admin, incident_id=incident.pk)
    assert failure.value.fields == {"status": ["主管部门已要求通知个人，尚未记录通知"]}
    incident_notify_individuals(
        actor=admin, incident_id=incident.pk, notified_at=timezone.now(), channel=IndividualsChannel.PHONE
    )
    closed = incident_close(actor=admin, incident_id=incident.pk)
    assert closed.status == IncidentStatus.CLOSED
    assert closed.individuals_decision == IndividualsDecision.NOTIFIED
    assert closed.individuals_not_notified_reason.startswith("消息在两分钟内撤回")  # the reason stays


def test_the_notice_can_be_required_only_after_a_decision_not_to_notify(admin: Actor) -> None:
    incident = make_incident(admin)
    with pytest.raises(ConflictError) as failure:
        incident_require_notice(actor=admin, incident_id=incident.pk, required_at=timezone.now())
    assert failure.value.message == "只有在决定不通知个人之后，才能记录主管部门要求通知"


# --- The status flow -------------------------------------------------------------------------------


def test_an_incident_goes_open_contained_closed_with_who_and_when(
    admin: Actor, second_security_admin: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user

    colleague = actor_for_user(second_security_admin)
    incident = make_incident(admin, remedial_measures="已撤回消息")
    assert incident.status == IncidentStatus.OPEN
    with pytest.raises(ConflictError) as failure:
        incident_close(actor=admin, incident_id=incident.pk)
    assert failure.value.message == "只有已控制的事件可以结案"
    contained_at = timezone.now()
    incident_contain(actor=colleague, incident_id=incident.pk, now=contained_at)
    with pytest.raises(ValidationFailed) as refusal:
        incident_close(actor=admin, incident_id=incident.pk)
    assert refusal.value.fields == {"status": ["尚未记录向主管部门报告", "尚未记录是否通知个人或其监护人"]}
    incident_notify_authority(
        actor=admin,
        incident_id=incident.pk,
        notified_at=timezone.now(),
        channel=AuthorityChannel.WRITTEN,
        authority_name="淳安县委网信办",
    )
    incident_notify_individuals(
        actor=admin, incident_id=incident.pk, notified_at=timezone.now(), channel=IndividualsChannel.LETTER
    )
    closed_at = timezone.now()
    incident = incident_close(actor=admin, incident_id=incident.pk, now=closed_at)
    assert (incident.status, incident.contained_at, incident.contained_by) == (
        IncidentStatus.CLOSED,
        contained_at,
        colleague.user,
    )
    assert (incident.closed_at, incident.closed_by) == (closed_at, admin.user)
    with pytest.raises(ConflictError) as closed:
        incident_contain(actor=admin, incident_id=incident.pk)
    assert closed.value.message == "该事件已结案，不能再修改"
    events = AuditEvent.objects.filter(target_type="compliance.privacyincident", target_id=str(incident.pk))
    assert [event.action for event in events.order_by("pk")] == [
        "incident.report",
        "incident.contain",
        "incident.authority_notified",
        "incident.individuals_notified",
        "incident.close",
    ]


def test_containing_needs_the_remedial_measures(admin: Actor) -> None:
    incident = make_incident(admin)
    with pytest.raises(ValidationFailed) as failure:
        incident_contain(actor=admin, incident_id=incident.pk)
    assert failure.value.fields == {"remedial_measures": ["请先记录已采取的补救措施"]}


def test_an_edit_based_on_an_old_version_is_a_conflict_and_overwrites_nothing(
    admin: Actor, second_security_admin: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user

    incident = make_incident(admin)
    seen = incident.version
    incident_update(
        actor=actor_for_user(second_security_admin),
        incident_id=incident.pk,
        version=seen,
        data=incident_input(discovered_at=incident.discovered_at, causes="班主任误操作"),
    )
    with pytest.raises(ConflictError):
        incident_update(
            actor=admin,
            incident_id=incident.pk,
            version=seen,
            data=incident_input(discovered_at=incident.discovered_at, causes="系统故障"),
        )
    incident.refresh_from_db()
    assert incident.causes == "班主任误操作"
    assert incident.version == seen + 1
    [event] = _events("incident.update")
    assert event.changed_fields == ["causes"]


def test_a_step_moves_the_version_so_an_edit_opened_before_it_conflicts(admin: Actor) -> None:
    incident = make_incident(admin)
    seen = incident.version
    incident_notify_authority(
        actor=admin,
        incident_id=incident.pk,
        notified_at=timezone.now(),
        channel=AuthorityChannel.WRITTEN,
        authority_name="淳安县委网信办",
    )
    with pytest.raises(ConflictError):
        incident_update(actor=admin, incident_id=incident.pk, version=seen, data=incident_input())


def test_editing_the_discovery_moves_the_clock(admin: Actor) -> None:
    incident = make_incident(admin)
    earlier = incident.discovered_at - datetime.timedelta(hours=5)
    incident = incident_update(
        actor=admin,
        incident_id=incident.pk,
        version=incident.version,
        data=incident_input(discovered_at=earlier),
    )
    assert incident.report_due_at == earlier + datetime.timedelta(hours=24)


def test_an_edit_keeps_the_reporting_time_set_when_reported_and_only_a_new_discovery_moves_it(
    admin: Actor, settings: Any
) -> None:
    incident = make_incident(admin)
    discovered = incident.discovered_at
    set_when_reported = discovered + datetime.timedelta(hours=24)
    assert incident.report_due_at == set_when_reported
    settings.GUANAI_INCIDENT_REPORT_HOURS = 72
    incident = incident_update(
        actor=admin,
        incident_id=incident.pk,
        version=incident.version,
        data=incident_input(discovered_at=discovered, causes="工作人员选错了微信群"),
    )
    incident.refresh_from_db()
    assert incident.causes == "工作人员选错了微信群"
    assert incident.report_due_at == set_when_reported
    assert _events("incident.update")[-1].changed_fields == ["causes"]
    earlier = discovered - datetime.timedelta(hours=5)
    incident = incident_update(
        actor=admin,
        incident_id=incident.pk,
        version=incident.version,
        data=incident_input(discovered_at=earlier, causes="工作人员选错了微信群"),
    )
    incident.refresh_from_db()
    assert incident.report_due_at == earlier + datetime.timedelta(hours=72)
    assert _events("incident.update")[-1].changed_fields == ["discovered_at", "report_due_at"]


def test_notifying_after_a_decision_not_to_notify_keeps_who_decided_and_when(
    admin: Actor, second_security_admin: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user

    colleague = actor_for_user(second_security_admin)
    incident = make_incident(admin, remedial_measures="已撤回消息并确认删除")
    decided_at = timezone.now() - datetime.timedelta(minutes=30)
    incident_decide_not_to_notify(
        actor=admin,
        incident_id=incident.pk,
        reason="消息在两分钟内撤回，群成员均已确认删除，未外传。",
        now=decided_at,
    )
    notified_at = timezone.now() - datetime.timedelta(minutes=5)
    incident_notify_individuals(
        actor=colleague, incident_id=incident.pk, notified_at=notified_at, channel=IndividualsChannel.PHONE
    )
    incident.refresh_from_db()
    assert incident.individuals_decision == IndividualsDecision.NOTIFIED
    assert (incident.individuals_decided_at, incident.individuals_decided_by) == (decided_at, admin.user)
    assert (incident.individuals_notified_at, incident.individuals_notified_by) == (
        notified_at,
        colleague.user,
    )
    assert incident.individuals_not_notified_reason.startswith("消息在两分钟内撤回")


def test_notifying_without_an_earlier_decision_is_the_decision(admin: Actor) -> None:
    incident = make_incident(admin)
    now = timezone.now()
    notified_at = now - datetime.timedelta(minutes=10)
    incident = incident_notify_individuals(
        actor=admin,
        incident_id=incident.pk,
        notified_at=notified_at,
        channel=IndividualsChannel.LETTER,
        now=now,
    )
    incident.refresh_from_db()
    assert (incident.individuals_decided_at, incident.individuals_decided_by) == (now, admin.user)
    assert (incident.individuals_notified_at, incident.individuals_notified_by) == (notified_at, admin.user)


def test_closing_too_early_says_every_reason_in_one_message(admin: Actor) -> None:
    incident = make_incident(admin, remedial_measures="已撤回消息")
    incident_contain(actor=admin, incident_id=incident.pk)
    with pytest.raises(ValidationFailed) as refusal:
        incident_close(actor=admin, incident_id=incident.pk)
    assert refusal.value.message == "不能结案：尚未记录向主管部门报告；尚未记录是否通知个人或其监护人"


def test_a_record_belongs_to_the_actors_region_or_a_city_or_county_in_it_checked_in_one_query(
    admin: Actor,
) -> None:
    from django.test.utils import CaptureQueriesContext

    from guanai.compliance.services import _region

    errors: dict[str, list[str]] = {}
    with CaptureQueriesContext(connection) as queries:
        _region(errors, admin, COUNTY_A)
    assert len(queries) == 1
    assert errors == {}
    _region(errors, admin, "330000000000")
    assert errors == {}
    _region(errors, admin, "330127100000")  # 千岛湖镇: a township, below the county
    _region(errors, admin, "110000000000")  # another province
    assert errors == {"region_code": ["请选择您辖区内的省、市或县级区划"] * 2}


# --- Scope ------------------------------------------------------------------------------------------


def test_another_regions_security_admin_cannot_write_the_records(
    admin: Actor, county_b_security_admin: Any, other_province_security_admin: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user

    incident = make_incident(admin, remedial_measures="已撤回")
    assessment = make_assessment(admin, today=TODAY)
    for user in (county_b_security_admin, other_province_security_admin):
        outsider = actor_for_user(user)
        with pytest.raises(NotFoundError):
            incident_contain(actor=outsider, incident_id=incident.pk)
        with pytest.raises(NotFoundError):
            assessment_delete(actor=outsider, assessment_id=assessment.pk, today=datetime.date(2040, 1, 1))
        with pytest.raises(NotFoundError):
            make_assessment(outsider, today=TODAY, region_code=COUNTY_B, supersedes_id=assessment.pk)
        with pytest.raises(ValidationFailed) as failure:
            make_incident(outsider, region_code=COUNTY_A)
        assert failure.value.fields == {"region_code": ["请选择您辖区内的省、市或县级区划"]}
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    assert ImpactAssessment.objects.filter(pk=assessment.pk).exists()
