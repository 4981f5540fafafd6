"""Closing a request (consultation_close) and the hours credit, the counselling notes, the requester's
rating and the legal-aid referral (guanai.consultations.conversation)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.consultations.conversation import (
    MINOR_EXEMPTION_GROUND,
    AlreadyRated,
    AlreadyReferred,
    ConsultationClosed,
    ConsultationNotClosed,
    NotLegalKind,
    StaleVersion,
    consultation_close,
    consultation_notes_save,
    consultation_rate,
    legal_aid_refer,
    message_post,
)
from guanai.consultations.models import Consultation, LegalAidReferral, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ConsultationFactory
from guanai.consultations.tests.test_conversation import accepted_consultation, professional_actor
from guanai.consultations.vocabulary import Outcome, Sender, State, Topic
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.volunteers.models import ServiceHours, Volunteer
from guanai.volunteers.services import hours_record_automatic
from guanai.volunteers.vocabulary import HoursSource, HoursState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


@pytest.fixture
def lawyer(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["lawyer"]


@pytest.fixture
def counsellor_actor(counsellor: Volunteer) -> Actor:
    return professional_actor(counsellor)


@pytest.fixture
def lawyer_actor(lawyer: Volunteer) -> Actor:
    return professional_actor(lawyer)


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are the test's
        value: str = cursor.fetchone()[0]
    return value


def close(actor: Actor, consultation: Consultation, **overrides: Any) -> Consultation:
    arguments: dict[str, Any] = {
        "outcome": Outcome.ADVICE,
        "summary": "已提供缓解考试焦虑的方法，建议规律作息。",
        "service_hours": "1.5",
        "version": consultation.version,
    }
    arguments.update(overrides)
    return consultation_close(actor=actor, consultation_id=consultation.pk, **arguments)


# --- Closing ------------------------------------------------------------------------------------------------


def test_closing_sets_the_outcome_stops_the_clocks_and_tells_the_requester(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(
        counsellor,
        reply_due_at=NOW + datetime.timedelta(hours=5),
        accept_due_at=NOW - datetime.timedelta(hours=1),
    )

    closed = close(counsellor_actor, consultation)

    closed.refresh_from_db()
    assert closed.state == State.CLOSED
    assert closed.closed_at == NOW
    assert closed.outcome == Outcome.ADVICE
    assert closed.summary == "已提供缓解考试焦虑的方法，建议规律作息。"
    assert "焦虑" not in raw("consultations_consultation", "summary", closed.pk)
    assert closed.service_hours == Decimal("1.5")
    assert closed.reply_due_at is None
    assert closed.accept_due_at is None
    assert closed.version == 2
    message = Message.objects.get(consultation=consultation)
    assert message.sender == Sender.SYSTEM
    assert message.body == (
        "本次咨询已结束（已提供咨询建议）。感谢您的信任，欢迎对本次服务进行评价。如有新的问题，可以重新提交求助。"
    )
    [event] = AuditEvent.objects.filter(action="consultation.close")
    assert event.actor_user_id == counsellor.user_id
    assert event.target_id == str(consultation.pk)
    assert event.changed_fields == ["state", "outcome", "summary", "service_hours"]
    assert event.detail == {"outcome": "advice", "hours": "1.5"}


def test_closing_credits_the_hours_to_the_volunteer_record(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(counsellor)
    before = Volunteer.objects.get(pk=counsellor.pk).hours_total

    close(counsellor_actor, consultation, service_hours="2")

    record = ServiceHours.objects.get(volunteer=counsellor)
    assert record.hours == Decimal("2.0")
    assert record.served_on == datetime.date(2026, 11, 30)
    assert record.description == f"网上咨询服务 {consultation.reference}"
    assert record.source == HoursSource.CONSULTATION
    assert record.source_key == f"consultation:{consultation.pk}"
    assert record.state == HoursState.CONFIRMED
    assert Volunteer.objects.get(pk=counsellor.pk).hours_total == before + Decimal("2")


def test_closing_twice_credits_once(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)
    before = Volunteer.objects.get(pk=counsellor.pk).hours_total
    close(counsellor_actor, consultation, service_hours="1")

    # The same form sent again (a double click): its version is now stale, and the request closed.
    with pytest.raises(ConsultationClosed) as again:
        close(counsellor_actor, consultation, version=1)
    with pytest.raises(ConsultationClosed):
        close(counsellor_actor, consultation, version=2)

    assert again.value.code == "consultation_closed"
    assert ServiceHours.objects.filter(volunteer=counsellor).count() == 1
    assert Volunteer.objects.get(pk=counsellor.pk).hours_total == before + Decimal("1")
    assert Message.objects.filter(consultation=consultation).count() == 1


def test_a_retried_credit_of_the_same_close_counts_once(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(counsellor)
    before = Volunteer.objects.get(pk=counsellor.pk).hours_total
    close(counsellor_actor, consultation, service_hours="1.5")

    # A retried task crediting the same service: the source key makes it the same record.
    hours_record_automatic(
        volunteer=counsellor,
        served_on=datetime.date(2026, 11, 30),
        hours="1.5",
        description="网上咨询服务",
        source=HoursSource.CONSULTATION,
        source_key=f"consultation:{consultation.pk}",
    )

    assert ServiceHours.objects.filter(volunteer=counsellor).count() == 1
    assert Volunteer.objects.get(pk=counsellor.pk).hours_total == before + Decimal("1.5")


def test_closing_over_a_stale_version_is_a_conflict_and_changes_nothing(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(counsellor)
    read_version = consultation.version
    message_post(consultation=consultation, sender=Sender.REQUESTER, body="老师，我还想问一件事。")

    with pytest.raises(StaleVersion) as refused:
        close(counsellor_actor, consultation, version=read_version)

    assert refused.value.code == "stale_version"
    assert refused.value.status == 409
    consultation.refresh_from_db()
    assert consultation.state == State.ACCEPTED
    assert consultation.summary == ""
    assert ServiceHours.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"outcome": "solved"}, {"outcome": ["请选择处理结果"]}),
        ({"summary": "   "}, {"summary": ["请填写结案小结"]}),
        ({"summary": "字" * 2001}, {"summary": ["结案小结不能超过 2000 字"]}),
        ({"service_hours": "0"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
        ({"service_hours": "0.25"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
        ({"service_hours": "1.2"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
        ({"service_hours": "8.5"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
        ({"service_hours": "abc"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
        ({"service_hours": "NaN"}, {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}),
    ],
)
def test_closing_checks_outcome_summary_and_hours(
    counsellor: Volunteer, counsellor_actor: Actor, overrides: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        close(counsellor_actor, consultation, **overrides)

    assert refused.value.fields == fields
    consultation.refresh_from_db()
    assert consultation.state == State.ACCEPTED


@pytest.mark.parametrize(
    ("hours", "credited"), [("0.5", Decimal("0.5")), (8, Decimal("8")), (Decimal("3.0"), Decimal("3"))]
)
def test_hours_from_half_an_hour_to_eight(
    counsellor: Volunteer, counsellor_actor: Actor, hours: Any, credited: Decimal
) -> None:
    consultation = accepted_consultation(counsellor)

    close(counsellor_actor, consultation, service_hours=hours)

    assert ServiceHours.objects.get().hours == credited


def test_only_the_assignee_closes(
    counsellor: Volunteer, lawyer_actor: Actor, personas: dict[str, Any]
) -> None:
    consultation = accepted_consultation(counsellor)

    for actor in (
        lawyer_actor,
        actor_for_user(personas["county_a_admin"]),
        actor_for_user(personas["province_admin"]),
    ):
        with pytest.raises(NotFoundError):
            close(actor, consultation)

    consultation.refresh_from_db()
    assert consultation.state == State.ACCEPTED
    assert ServiceHours.objects.count() == 0


def test_an_offered_request_cannot_be_closed(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor, assigned_at=NOW)

    with pytest.raises(NotFoundError):
        close(counsellor_actor, consultation)


# --- Notes --------------------------------------------------------------------------------------------------


def test_the_assignee_keeps_encrypted_notes_also_after_closing(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(counsellor)

    consultation_notes_save(
        actor=counsellor_actor, consultation_id=consultation.pk, notes="  第一次谈话：焦虑明显  "
    )
    close(counsellor_actor, consultation)
    consultation_notes_save(
        actor=counsellor_actor, consultation_id=consultation.pk, notes="结束后补记：已转介学校心理老师"
    )

    consultation.refresh_from_db()
    assert consultation.notes == "结束后补记：已转介学校心理老师"
    assert "转介" not in raw("consultations_consultation", "notes", consultation.pk)
    events = AuditEvent.objects.filter(action="consultation.notes")
    assert [event.changed_fields for event in events] == [["notes"], ["notes"]]
    assert all("焦虑" not in str(event.detail) for event in events)


def test_notes_are_the_assignees_alone(
    counsellor: Volunteer, lawyer_actor: Actor, personas: dict[str, Any]
) -> None:
    consultation = accepted_consultation(counsellor, notes="原记录")

    for actor in (lawyer_actor, actor_for_user(personas["county_a_admin"])):
        with pytest.raises(NotFoundError):
            consultation_notes_save(actor=actor, consultation_id=consultation.pk, notes="篡改")

    consultation.refresh_from_db()
    assert consultation.notes == "原记录"


def test_notes_have_a_length_limit(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        consultation_notes_save(actor=counsellor_actor, consultation_id=consultation.pk, notes="字" * 10001)

    assert refused.value.fields == {"notes": ["咨询记录不能超过 10000 字"]}


def test_notes_do_not_make_a_close_stale(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)
    version = consultation.version

    consultation_notes_save(actor=counsellor_actor, consultation_id=consultation.pk, notes="记录")
    close(counsellor_actor, consultation, version=version)

    consultation.refresh_from_db()
    assert consultation.state == State.CLOSED


# --- Rating -------------------------------------------------------------------------------------------------


def test_the_requester_rates_a_closed_request_once(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)
    close(counsellor_actor, consultation)

    consultation_rate(consultation=consultation, rating=5, comment="  老师很耐心  ")

    consultation.refresh_from_db()
    assert (consultation.rating, consultation.rating_comment, consultation.rated_at) == (5, "老师很耐心", NOW)
    with pytest.raises(AlreadyRated) as again:
        consultation_rate(consultation=consultation, rating=1)
    assert again.value.code == "already_rated"
    consultation.refresh_from_db()
    assert consultation.rating == 5
    [event] = AuditEvent.objects.filter(action="consultation.rate")
    assert event.actor_user_id is None
    assert event.detail == {"rating": 5}


def test_an_open_request_cannot_be_rated(counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ConsultationNotClosed) as refused:
        consultation_rate(consultation=consultation, rating=4)

    assert refused.value.code == "consultation_not_closed"
    consultation.refresh_from_db()
    assert consultation.rating is None


@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_a_rating_is_one_to_five(counsellor: Volunteer, counsellor_actor: Actor, rating: Any) -> None:
    consultation = accepted_consultation(counsellor)
    close(counsellor_actor, consultation)

    with pytest.raises(ValidationFailed) as refused:
        consultation_rate(consultation=consultation, rating=rating)

    assert refused.value.fields == {"rating": ["请选择 1 到 5 星"]}


def test_a_rating_comment_has_a_length_limit(counsellor: Volunteer, counsellor_actor: Actor) -> None:
    consultation = accepted_consultation(counsellor)
    close(counsellor_actor, consultation)

    with pytest.raises(ValidationFailed) as refused:
        consultation_rate(consultation=consultation, rating=3, comment="字" * 201)

    assert refused.value.fields == {"comment": ["评价不能超过 200 字"]}


# --- Legal-aid referral -------------------------------------------------------------------------------


def test_a_minor_without_income_is_referred_without_a_means_test(
    lawyer: Volunteer, lawyer_actor: Actor
) -> None:
    consultation = accepted_consultation(lawyer, topic=Topic.GUARDIANSHIP)

    referral = legal_aid_refer(
        actor=lawyer_actor,
        consultation_id=consultation.pk,
        referred_to=" 淳安县法律援助中心 ",
        facts="父母离异后均不履行抚养义务。",
        requester_is_minor_without_income=True,
    )

    referral.refresh_from_db()
    assert referral.referred_to == "淳安县法律援助中心"
    assert referral.means_test_exempt is True
    assert referral.exemption_ground == "法律援助法第四十二条：无固定生活来源的未成年人"
    assert referral.exemption_ground == MINOR_EXEMPTION_GROUND
    assert referral.facts == "父母离异后均不履行抚养义务。"
    assert "抚养" not in raw("consultations_legalaidreferral", "facts", referral.pk)
    assert referral.created_by == lawyer.user
    assert Message.objects.get(consultation=consultation).body == (
        "志愿者律师已将您的问题转介至淳安县法律援助中心申请法律援助，该机构会与您联系。"
        "未成年人无固定生活来源的，申请法律援助免予核查经济困难状况（法律援助法第四十二条）。"
    )
    [event] = AuditEvent.objects.filter(action="consultation.referral")
    assert event.detail == {"referral": referral.pk, "means_test_exempt": True}
    # The lawyer then closes the request as a legal-aid referral.
    close(lawyer_actor, Consultation.objects.get(pk=consultation.pk), outcome=Outcome.LEGAL_AID)
    consultation.refresh_from_db()
    assert (consultation.state, consultation.outcome) == (State.CLOSED, Outcome.LEGAL_AID)


def test_a_referral_without_the_exemption(lawyer: Volunteer, lawyer_actor: Actor) -> None:
    consultation = accepted_consultation(lawyer)

    referral = legal_aid_refer(
        actor=lawyer_actor,
        consultation_id=consultation.pk,
        referred_to="淳安县法律援助中心",
        facts="劳动报酬被拖欠。",
        requester_is_minor_without_income=False,
    )

    assert (referral.means_test_exempt, referral.exemption_ground) == (False, "")
    assert (
        Message.objects.get().body
        == "志愿者律师已将您的问题转介至淳安县法律援助中心申请法律援助，该机构会与您联系。"
    )


def test_a_closed_legal_request_can_still_be_referred(lawyer: Volunteer, lawyer_actor: Actor) -> None:
    consultation = accepted_consultation(lawyer)
    close(lawyer_actor, consultation, outcome=Outcome.LEGAL_AID)

    legal_aid_refer(
        actor=lawyer_actor,
        consultation_id=consultation.pk,
        referred_to="淳安县法律援助中心",
        facts="案情",
        requester_is_minor_without_income=True,
    )

    assert LegalAidReferral.objects.count() == 1


def test_a_request_is_referred_once(lawyer: Volunteer, lawyer_actor: Actor) -> None:
    consultation = accepted_consultation(lawyer)
    arguments: dict[str, Any] = {
        "actor": lawyer_actor,
        "consultation_id": consultation.pk,
        "referred_to": "淳安县法律援助中心",
        "facts": "案情",
        "requester_is_minor_without_income": True,
    }
    legal_aid_refer(**arguments)

    with pytest.raises(AlreadyReferred) as again:
        legal_aid_refer(**arguments)

    assert again.value.code == "already_referred"
    assert LegalAidReferral.objects.count() == 1


def test_a_psychological_request_is_not_referred_to_legal_aid(
    counsellor: Volunteer, counsellor_actor: Actor
) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(NotLegalKind) as refused:
        legal_aid_refer(
            actor=counsellor_actor,
            consultation_id=consultation.pk,
            referred_to="淳安县法律援助中心",
            facts="案情",
            requester_is_minor_without_income=False,
        )

    assert refused.value.code == "not_legal_kind"
    assert LegalAidReferral.objects.count() == 0


def test_a_referral_needs_the_institution_and_the_facts(lawyer: Volunteer, lawyer_actor: Actor) -> None:
    consultation = accepted_consultation(lawyer)

    with pytest.raises(ValidationFailed) as refused:
        legal_aid_refer(
            actor=lawyer_actor,
            consultation_id=consultation.pk,
            referred_to=" ",
            facts="",
            requester_is_minor_without_income=False,
        )

    assert refused.value.fields == {"referred_to": ["请填写法律援助机构"], "facts": ["请填写案情摘要"]}


def test_only_the_assigned_lawyer_refers(lawyer: Volunteer, personas: dict[str, Any]) -> None:
    consultation = accepted_consultation(lawyer)
    offered = ConsultationFactory.create(topic=Topic.GUARDIANSHIP, state=State.WAITING, assigned_to=lawyer)

    for actor, consultation_id in (
        (actor_for_user(personas["county_a_admin"]), consultation.pk),
        (actor_for_user(personas["counsellor"]), consultation.pk),
        (professional_actor(lawyer), offered.pk),
    ):
        with pytest.raises(NotFoundError):
            legal_aid_refer(
                actor=actor,
                consultation_id=consultation_id,
                referred_to="淳安县法律援助中心",
                facts="案情",
                requester_is_minor_without_income=True,
            )

    assert LegalAidReferral.objects.count() == 0
