"""Erasing finished requests after the retention period the consent notice promises
(guanai.consultations.retention, tasks.purge_expired, the purge_consultations command): a request closed
more than three years ago keeps its statistics and loses everything that identifies or describes the
requester; a younger one, a waiting or an accepted one is left alone; a second run does nothing; the old
retrieval code opens nothing; the files go once the transaction has committed. The clock stands still on
30 November 2026, 10:00 in Asia/Shanghai, so three years ago is 30 November 2023, 10:00."""

from __future__ import annotations

import datetime
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import RequestFactory

from guanai.audit.models import AuditEvent
from guanai.consultations import retention
from guanai.consultations.attachments import PDF_TYPE, CleanFile, attachment_write, stored_path
from guanai.consultations.intake import RequestNotFound, consultation_for_requester
from guanai.consultations.models import Appointment, Attachment, Consultation, LegalAidReferral, Message
from guanai.consultations.retention import (
    PURGED_DIGEST,
    consultations_expired_counts,
    consultations_purge_expired,
    retention_cutoff,
)
from guanai.consultations.tasks import purge_expired
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import RETRIEVAL_CODE, ConsultationFactory, MessageFactory
from guanai.consultations.vocabulary import (
    AppointmentMode,
    AppointmentState,
    Outcome,
    Requester,
    Sender,
    State,
    Topic,
)
from guanai.core.crypto import decrypt_text
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions", "frozen_clock")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKER = "（已按保存期限删除）"
THREE_YEARS_AGO = datetime.datetime(2023, 11, 30, 10, 0, tzinfo=SHANGHAI)
EXPIRED = THREE_YEARS_AGO - datetime.timedelta(days=1)
NOT_YET = THREE_YEARS_AGO + datetime.timedelta(days=1)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
NOTHING = {"consultations": 0, "messages": 0, "attachments": 0, "appointments": 0, "referrals": 0}
# What the supervisors' figures and the annual report read of a request: kept as it was.
STATISTICS = (
    "reference",
    "kind",
    "topic",
    "requester",
    "region_id",
    "contact_preference",
    "consent_version",
    "guardian_consent",
    "is_urgent",
    "state",
    "assigned_to_id",
    "assigned_at",
    "accepted_at",
    "escalation_level",
    "accept_breached",
    "reply_breached",
    "created_at",
    "first_reply_at",
    "last_message_at",
    "closed_at",
    "outcome",
    "rating",
    "rated_at",
    "service_hours",
)


@pytest.fixture
def professional() -> Volunteer:
    volunteer: Volunteer = VolunteerFactory.create()
    return volunteer


def statistics_of(consultation: Consultation) -> dict[str, Any]:
    consultation.refresh_from_db()
    return {name: getattr(consultation, name) for name in STATISTICS}


def stored_file(message: Message, name: str = "成绩单.pdf") -> Path:
    """An attachment of `message`, written to private storage as the conversation writes them."""
    stored_name = attachment_write(CleanFile(data=PDF, content_type=PDF_TYPE, original_name=name))
    Attachment.objects.create(
        message=message, stored_name=stored_name, original_name=name, content_type=PDF_TYPE, size=len(PDF)
    )
    path = stored_path(stored_name)
    assert path is not None
    assert path.is_file()
    return path


def closed_request(
    professional: Volunteer, *, closed_at: datetime.datetime, topic: str = Topic.SELF_HARM, **fields: Any
) -> Consultation:
    """A request as a finished conversation leaves it: urgent, accepted, answered, closed, rated."""
    created_at = closed_at - datetime.timedelta(days=3)
    values: dict[str, Any] = {"outcome": Outcome.HOTLINE_12355, **fields}
    consultation: Consultation = ConsultationFactory.create(
        topic=topic,
        requester=Requester.GUARDIAN,
        requester_age=12,
        requester_name="林妈妈",
        contact_phone="13900001111",
        guardian_consent=True,
        description="孩子最近总说不想活了，晚上睡不着。",
        is_urgent=True,
        crisis_signals=["suicide", "topic_self_harm"],
        state=State.CLOSED,
        assigned_to=professional,
        assigned_at=created_at + datetime.timedelta(minutes=1),
        accepted_at=created_at + datetime.timedelta(minutes=4),
        first_reply_at=created_at + datetime.timedelta(minutes=20),
        last_message_at=created_at + datetime.timedelta(days=1),
        closed_at=closed_at,
        summary="已与监护人通话，转介12355持续跟进。",
        notes="孩子在城关二中读初一，班主任王老师。",
        service_hours=Decimal("2.5"),
        rating=5,
        rating_comment="林老师很耐心，谢谢。",
        rated_at=closed_at + datetime.timedelta(hours=2),
        **values,
    )
    # created_at is written by the database clock (auto_now_add): set it as it was.
    Consultation.objects.filter(pk=consultation.pk).update(created_at=created_at)
    return consultation


def raw_column(consultation: Consultation, column: str) -> str:
    """A column as the database holds it (ciphertext for an encrypted field)."""
    table = connection.ops.quote_name(Consultation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [consultation.pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def purge(capture: Any) -> dict[str, int]:
    """One run of the service, with the callbacks that run on commit (the test's transaction never
    commits) run as a commit would run them."""
    with capture(execute=True):
        return consultations_purge_expired(now=NOW)


# --- What is erased, what is kept -------------------------------------------------------------------


def test_a_request_closed_three_years_and_a_day_ago_loses_its_personal_data(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    statistics = statistics_of(consultation)
    first = MessageFactory.create(consultation=consultation, body="孩子最近总说不想活了")
    second = MessageFactory.create(consultation=consultation, sender=Sender.PROFESSIONAL, body="请放心")
    files = [stored_file(first, "诊断.pdf"), stored_file(first, "聊天记录.pdf"), stored_file(second)]
    appointment = Appointment.objects.create(
        consultation=consultation,
        volunteer=professional,
        mode=AppointmentMode.PHONE,
        starts_at=EXPIRED - datetime.timedelta(days=1),
        ends_at=EXPIRED - datetime.timedelta(days=1, hours=-1),
        state=AppointmentState.DONE,
        booked_by=Sender.REQUESTER,
        note="晚上七点后打妈妈的电话",
    )

    counts = purge(django_capture_on_commit_callbacks)

    assert counts == {"consultations": 1, "messages": 2, "attachments": 3, "appointments": 1, "referrals": 0}
    consultation.refresh_from_db()
    erased = (
        consultation.requester_name,
        consultation.contact_phone,
        consultation.requester_age,
        consultation.description,
        consultation.summary,
        consultation.notes,
        consultation.rating_comment,
        consultation.crisis_signals,
        consultation.retrieval_digest,
    )
    assert erased == ("", "", None, MARKER, "", "", "", [], PURGED_DIGEST)
    assert consultation.version == 2
    assert statistics_of(consultation) == statistics
    assert Message.objects.filter(consultation=consultation).count() == 0
    assert Attachment.objects.count() == 0
    assert [path.exists() for path in files] == [False, False, False]
    appointment.refresh_from_db()
    assert (appointment.note, appointment.state, appointment.mode) == ("", "done", "phone")


def test_the_marker_is_stored_encrypted_like_any_description(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)

    purge(django_capture_on_commit_callbacks)

    stored = raw_column(consultation, "description")
    assert MARKER not in stored
    assert decrypt_text(stored, context="consultations.consultation.description") == MARKER
    assert raw_column(consultation, "requester_name") == ""


def test_a_legal_aid_referral_stays_without_its_facts(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(
        professional, closed_at=EXPIRED, topic=Topic.DOMESTIC_VIOLENCE, outcome=Outcome.LEGAL_AID
    )
    referral = LegalAidReferral.objects.create(
        consultation=consultation,
        referred_to="淳安县法律援助中心",
        means_test_exempt=True,
        exemption_ground="未成年人无固定生活来源（法律援助法第四十二条）",
        facts="继父长期殴打，孩子住在外婆家，地址千岛湖镇某村。",
    )

    counts = purge(django_capture_on_commit_callbacks)

    assert counts == {"consultations": 1, "messages": 0, "attachments": 0, "appointments": 0, "referrals": 1}
    referral.refresh_from_db()
    assert (referral.facts, referral.referred_to, referral.means_test_exempt) == (
        MARKER,
        "淳安县法律援助中心",
        True,
    )


def test_a_request_closed_three_years_less_a_day_ago_is_kept(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=NOT_YET)
    message = MessageFactory.create(consultation=consultation, body="孩子最近总说不想活了")
    path = stored_file(message)

    assert purge(django_capture_on_commit_callbacks) == NOTHING

    consultation.refresh_from_db()
    assert (consultation.requester_name, consultation.contact_phone, consultation.description) == (
        "林妈妈",
        "13900001111",
        "孩子最近总说不想活了，晚上睡不着。",
    )
    assert (consultation.notes, consultation.requester_age, consultation.version) == (
        "孩子在城关二中读初一，班主任王老师。",
        12,
        1,
    )
    assert Message.objects.get(consultation=consultation).body == "孩子最近总说不想活了"
    assert path.is_file()


def test_requests_never_closed_are_never_erased(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    waiting: Consultation = ConsultationFactory.create(state=State.WAITING)
    accepted: Consultation = ConsultationFactory.create(
        state=State.ACCEPTED, assigned_to=professional, accepted_at=EXPIRED
    )
    long_ago = EXPIRED - datetime.timedelta(days=400)
    Consultation.objects.filter(pk__in=[waiting.pk, accepted.pk]).update(created_at=long_ago)
    MessageFactory.create(consultation=waiting)

    assert purge(django_capture_on_commit_callbacks) == NOTHING

    assert not Consultation.objects.filter(retrieval_digest=PURGED_DIGEST).exists()
    assert sorted(Consultation.objects.values_list("requester_name", flat=True)) == ["小林", "小林"]
    assert Message.objects.count() == 1


def test_a_second_run_erases_nothing_more(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    stored_file(MessageFactory.create(consultation=consultation))
    purge(django_capture_on_commit_callbacks)
    consultation.refresh_from_db()
    updated_at = consultation.updated_at

    assert purge(django_capture_on_commit_callbacks) == NOTHING

    consultation.refresh_from_db()
    assert (consultation.version, consultation.updated_at) == (2, updated_at)


def test_the_old_retrieval_code_opens_nothing(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.20")
    found = consultation_for_requester(request=request, reference=consultation.reference, code=RETRIEVAL_CODE)
    assert found == consultation

    purge(django_capture_on_commit_callbacks)

    with pytest.raises(RequestNotFound):
        consultation_for_requester(request=request, reference=consultation.reference, code=RETRIEVAL_CODE)


def test_every_batch_is_erased(
    professional: Volunteer, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    requests = [closed_request(professional, closed_at=EXPIRED) for _ in range(5)]
    young = closed_request(professional, closed_at=NOT_YET)

    counts = purge(django_capture_on_commit_callbacks)

    assert counts["consultations"] == 5
    erased = set(Consultation.objects.filter(retrieval_digest=PURGED_DIGEST).values_list("pk", flat=True))
    assert erased == {request.pk for request in requests}
    assert young.pk not in erased


def test_the_retention_period_is_read_from_the_settings(
    professional: Volunteer, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GUANAI_CONSULTATION_RETENTION_YEARS = 5
    closed_request(professional, closed_at=EXPIRED)
    five_years_ago = closed_request(
        professional, closed_at=datetime.datetime(2021, 11, 29, 10, 0, tzinfo=SHANGHAI)
    )

    assert purge(django_capture_on_commit_callbacks)["consultations"] == 1

    five_years_ago.refresh_from_db()
    assert five_years_ago.retrieval_digest == PURGED_DIGEST


def test_the_cutoff_is_whole_calendar_years_back() -> None:
    assert retention_cutoff(now=NOW) == THREE_YEARS_AGO
    leap_day = datetime.datetime(2028, 2, 29, 3, 0, tzinfo=SHANGHAI)
    assert retention_cutoff(now=leap_day) == datetime.datetime(2025, 2, 28, 3, 0, tzinfo=SHANGHAI)


# --- Files --------------------------------------------------------------------------------------------------


def test_files_are_deleted_only_once_the_erasure_has_committed(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    path = stored_file(MessageFactory.create(consultation=consultation))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consultations_purge_expired(now=NOW)
        assert path.is_file()

    assert len(callbacks) == 1
    callbacks[0]()
    assert not path.exists()


def test_a_file_already_missing_does_not_stop_the_erasure(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    stored_file(MessageFactory.create(consultation=consultation)).unlink()

    counts = purge(django_capture_on_commit_callbacks)

    assert (counts["consultations"], counts["attachments"]) == (1, 1)
    assert Attachment.objects.count() == 0


# --- The audit trail ----------------------------------------------------------------------------------------


def test_each_run_writes_one_audit_event_with_counts_only(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(2):
        consultation = closed_request(professional, closed_at=EXPIRED)
        MessageFactory.create(consultation=consultation)

    purge(django_capture_on_commit_callbacks)
    purge(django_capture_on_commit_callbacks)

    events = list(AuditEvent.objects.filter(action="consultation.purged").order_by("id"))
    assert [event.detail for event in events] == [
        {
            "count": 2,
            "messages": 2,
            "attachments": 0,
            "appointments": 0,
            "referrals": 0,
            "retention_years": 3,
            "closed_before": "2023-11-30T10:00:00+08:00",
            "operator": "",
        },
        {
            "count": 0,
            "messages": 0,
            "attachments": 0,
            "appointments": 0,
            "referrals": 0,
            "retention_years": 3,
            "closed_before": "2023-11-30T10:00:00+08:00",
            "operator": "",
        },
    ]
    assert [(event.outcome, event.target_type, event.target_id, event.actor_user_id) for event in events] == [
        ("success", "", "", None),
        ("success", "", "", None),
    ]


# --- The task and the command -------------------------------------------------------------------------------


def test_the_task_erases_what_has_expired(
    professional: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    closed_request(professional, closed_at=EXPIRED)

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_expired() == {**NOTHING, "consultations": 1}
        assert purge_expired() == NOTHING


def test_the_dry_run_counts_and_changes_nothing(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    path = stored_file(MessageFactory.create(consultation=consultation))
    MessageFactory.create(consultation=consultation)
    closed_request(professional, closed_at=NOT_YET)
    output = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_consultations", "--dry-run", stdout=output)

    assert output.getvalue() == (
        "试运行，未做任何修改。保存期限 3 年，2023年11月30日 10:00 之前结束的求助："
        "将删除 1 件求助的个人信息、2 条留言、1 个附件、0 条预约备注和 0 份法律援助案情摘要。\n"
    )
    consultation.refresh_from_db()
    assert (consultation.description, consultation.version) == ("孩子最近总说不想活了，晚上睡不着。", 1)
    assert Message.objects.filter(consultation=consultation).count() == 2
    assert path.is_file()
    assert not AuditEvent.objects.filter(action="consultation.purged").exists()
    assert consultations_expired_counts(now=NOW) == {
        **NOTHING,
        "consultations": 1,
        "messages": 2,
        "attachments": 1,
    }


def test_the_command_erases_prints_the_counts_and_names_the_operator(
    professional: Volunteer, private_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    consultation = closed_request(professional, closed_at=EXPIRED)
    path = stored_file(MessageFactory.create(consultation=consultation))
    output = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_consultations", stdout=output)

    assert output.getvalue() == (
        "保存期限 3 年，2023年11月30日 10:00 之前结束的求助：已删除 1 件求助的个人信息、1 条留言、1 个附件、"
        "0 条预约备注和 0 份法律援助案情摘要。\n"
    )
    assert not path.exists()
    event = AuditEvent.objects.get(action="consultation.purged")
    assert event.detail["count"] == 1
    assert isinstance(event.detail["operator"], str)


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks to skip")
def test_a_request_locked_by_another_transaction_is_left_for_the_next_run(professional: Volunteer) -> None:
    locked = closed_request(professional, closed_at=EXPIRED)
    free = closed_request(professional, closed_at=EXPIRED)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                list(Consultation.objects.select_for_update().filter(pk=locked.pk).values_list("pk"))
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        assert consultations_purge_expired(now=NOW)["consultations"] == 1
    finally:
        release.set()
        holder.join()
    erased = set(Consultation.objects.filter(retrieval_digest=PURGED_DIGEST).values_list("pk", flat=True))
    assert erased == {free.pk}

    assert consultations_purge_expired(now=NOW)["consultations"] == 1
    locked.refresh_from_db()
    assert locked.retrieval_digest == PURGED_DIGEST
