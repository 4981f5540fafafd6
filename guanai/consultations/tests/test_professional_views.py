"""The professional's pages: 我的咨询, the request's page (thread, reply through htmx, notes, appointments,
closing, referral, the phone), attachments, 我的预约 — and what each records in the audit trail."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from guanai.audit.models import AuditEvent
from guanai.consultations.conversation import message_post
from guanai.consultations.models import Appointment, Attachment, Consultation, LegalAidReferral, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ConsultationFactory, on_duty_all_week
from guanai.consultations.tests.test_conversation import accepted_consultation
from guanai.consultations.vocabulary import (
    AppointmentState,
    ContactPreference,
    Kind,
    Outcome,
    Sender,
    State,
    Topic,
)
from guanai.core.testing import count_queries, verified_client
from guanai.volunteers.models import ServiceHours, Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


@pytest.fixture
def lawyer(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["lawyer"]


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(output, format="JPEG")
    return output.getvalue()


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- 我的咨询 ---------------------------------------------------------------------------------------------


def test_conversations_list_shows_my_accepted_requests_without_the_requesters_words(
    clients: dict[str, Client], counsellor: Volunteer, lawyer: Volunteer
) -> None:
    mine_open = accepted_consultation(counsellor, description="我和同桌闹矛盾了。", requester_name="小周")
    mine_closed = accepted_consultation(
        counsellor, state=State.CLOSED, closed_at=NOW - datetime.timedelta(days=3), outcome=Outcome.ADVICE
    )
    old_closed = accepted_consultation(
        counsellor, state=State.CLOSED, closed_at=NOW - datetime.timedelta(days=120), outcome=Outcome.ADVICE
    )
    offered = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor, assigned_at=NOW)
    someone_elses = accepted_consultation(lawyer)

    response = clients["counsellor"].get("/consultations/conversations/")

    assert response.status_code == 200
    assert [row.pk for row in response.context["page"].object_list] == [mine_open.pk, mine_closed.pk]
    body = response.content.decode()
    assert mine_open.reference in body
    for hidden in (old_closed, offered, someone_elses):
        assert hidden.reference not in body
    assert "同桌" not in body
    assert "小周" not in body
    assert 'id="professional-tabs"' in body
    assert 'class="nav-link active" aria-current="page" href="/consultations/conversations/"' in body
    # A list is not a read of anyone's words: nothing to audit.
    assert _events("consultation.view") == []


def test_conversations_list_filters_by_state_and_kind(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    open_one = accepted_consultation(counsellor)
    closed = accepted_consultation(
        counsellor, state=State.CLOSED, closed_at=NOW - datetime.timedelta(days=120), outcome=Outcome.ADVICE
    )

    closed_page = clients["counsellor"].get("/consultations/conversations/?state=closed")
    open_page = clients["counsellor"].get("/consultations/conversations/?state=accepted")
    legal_page = clients["counsellor"].get("/consultations/conversations/?kind=legal")

    assert [row.pk for row in closed_page.context["page"].object_list] == [closed.pk]
    assert [row.pk for row in open_page.context["page"].object_list] == [open_one.pk]
    assert list(legal_page.context["page"].object_list) == []


def test_conversations_list_queries_do_not_grow_with_rows(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    for _ in range(3):
        accepted_consultation(counsellor)
    with count_queries() as few:
        clients["counsellor"].get("/consultations/conversations/")
    for _ in range(10):
        accepted_consultation(counsellor)
    with count_queries() as many:
        response = clients["counsellor"].get("/consultations/conversations/")

    assert len(response.context["page"].object_list) == 13
    assert len(many) == len(few)


def test_urgent_and_overdue_requests_are_marked(clients: dict[str, Client], counsellor: Volunteer) -> None:
    accepted_consultation(counsellor, is_urgent=True, reply_due_at=NOW - datetime.timedelta(minutes=5))

    body = clients["counsellor"].get("/consultations/conversations/").content.decode()

    assert "紧急" in body
    assert "已超时" in body


# --- The request's page -------------------------------------------------------------------------------------


def test_detail_shows_the_requester_and_thread_to_the_assignee_and_is_audited(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(
        counsellor, requester_name="小林", description="最近考试压力很大，晚上睡不着。"
    )
    message_post(consultation=consultation, sender=Sender.REQUESTER, body="老师您好")
    message_post(
        consultation=consultation, sender=Sender.PROFESSIONAL, body="你好，慢慢说。", author=counsellor.user
    )

    response = clients["counsellor"].get(f"/consultations/{consultation.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="requester-name">小林<' in body
    assert "最近考试压力很大，晚上睡不着。" in body
    assert "老师您好" in body
    assert "你好，慢慢说。" in body
    assert '<strong class="guanai-sender">求助人</strong>' in body
    assert '<strong class="guanai-sender">我</strong>' in body
    assert "139****1111" in body
    assert "13900001111" not in body
    # Online reply asked for: no "显示号码" button.
    assert 'id="unmask-phone"' not in body
    events = _events("consultation.view")
    assert len(events) == 1
    assert events[0].actor_user_id == counsellor.user_id
    assert events[0].target_id == str(consultation.pk)
    assert events[0].detail == {"part": "detail"}


def test_the_phone_is_shown_on_request_when_the_requester_asked_for_a_call(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor, contact_preference=ContactPreference.PHONE)
    page = clients["counsellor"].get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'id="unmask-phone"' in page
    assert "13900001111" not in page

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/phone/", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert (
        response.content.decode()
        .strip()
        .endswith('<span class="guanai-unmasked" id="requester-phone">13900001111</span>')
    )
    [event] = _events("personal_data.unmask")
    assert event.changed_fields == ["contact_phone"]
    assert event.outcome == "success"
    assert event.target_id == str(consultation.pk)


def test_the_phone_of_a_requester_who_asked_for_online_replies_stays_masked(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor, contact_preference=ContactPreference.ONLINE)

    response = clients["counsellor"].post(f"/consultations/{consultation.pk}/phone/")

    assert response.status_code == 409
    assert "13900001111" not in response.content.decode()
    [event] = _events("personal_data.unmask")
    assert event.outcome == "denied"


def test_an_urgent_requesters_phone_may_be_shown_whatever_they_asked(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(
        counsellor, contact_preference=ContactPreference.ONLINE, is_urgent=True
    )

    response = clients["counsellor"].post(f"/consultations/{consultation.pk}/phone/")

    assert response.status_code == 200
    assert "13900001111" in response.content.decode()


def test_an_offered_request_is_not_opened_before_it_is_accepted(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = ConsultationFactory.create(state=State.WAITING, assigned_to=counsellor, assigned_at=NOW)

    response = clients["counsellor"].get(f"/consultations/{consultation.pk}/")

    assert response.status_code == 404
    assert "最近考试压力很大" not in response.content.decode()


def test_reply_through_htmx_swaps_the_conversation(clients: dict[str, Client], counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor, reply_due_at=NOW + datetime.timedelta(hours=3))

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/reply/",
        {
            "body": "你好，我是值班的心理志愿者。",
            "files": [SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")],
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="conversation"')
    assert "你好，我是值班的心理志愿者。" in body
    message = Message.objects.get(consultation=consultation)
    assert message.sender == Sender.PROFESSIONAL
    attachment = Attachment.objects.get(message=message)
    assert f'href="/consultations/{consultation.pk}/attachments/{attachment.pk}/"' in body
    # A fresh form: the text box is empty again.
    assert "你好，我是值班的心理志愿者。</textarea>" not in body
    consultation.refresh_from_db()
    assert consultation.reply_due_at is None


def test_reply_errors_come_back_in_the_form_through_htmx(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/reply/",
        {
            "body": "请看附件",
            "files": [SimpleUploadedFile("tool.pdf", b"MZ\x90\x00not a pdf", "application/pdf")],
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "只能上传 JPG、PNG 格式的照片或 PDF 文件" in body
    assert "请看附件</textarea>" in body
    assert Message.objects.count() == 0


def test_reply_without_javascript_redirects_to_the_conversation(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(f"/consultations/{consultation.pk}/reply/", {"body": "收到"})

    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/#conversation"
    assert Message.objects.get().body == "收到"


def test_reply_on_a_closed_request_is_refused(clients: dict[str, Client], counsellor: Volunteer) -> None:
    consultation = accepted_consultation(
        counsellor, state=State.CLOSED, closed_at=NOW, outcome=Outcome.ADVICE, summary="已答复"
    )

    response = clients["counsellor"].post(f"/consultations/{consultation.pk}/reply/", {"body": "还在吗"})

    assert response.status_code == 409
    assert "本次咨询已经结束" in response.content.decode()
    assert Message.objects.count() == 0


def test_attachment_download_serves_the_file_and_is_audited(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="判决书",
        files=[SimpleUploadedFile("判决书.pdf", pdf, "application/pdf")],
    )
    attachment = message.attachments.get()

    response = clients["counsellor"].get(f"/consultations/{consultation.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response.content == pdf
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''%E5%88%A4%E5%86%B3%E4%B9%A6.pdf"
    assert response["Cache-Control"] == "private, no-store"
    [event] = _events("consultation.attachment_view")
    assert event.detail == {"attachment": attachment.pk}
    assert event.actor_user_id == counsellor.user_id


def test_an_attachment_of_another_request_is_not_found(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    mine = accepted_consultation(counsellor)
    other = accepted_consultation(counsellor)
    message = message_post(
        consultation=other,
        sender=Sender.REQUESTER,
        body="照片",
        files=[SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")],
    )

    response = clients["counsellor"].get(
        f"/consultations/{mine.pk}/attachments/{message.attachments.get().pk}/"
    )

    assert response.status_code == 404
    assert _events("consultation.attachment_view") == []


def test_notes_are_saved_and_shown_only_on_the_assignees_page(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/notes/", {"notes": "情绪稳定，建议下周再聊"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/#notes"
    consultation.refresh_from_db()
    assert consultation.notes == "情绪稳定，建议下周再聊"
    page = clients["counsellor"].get(f"/consultations/{consultation.pk}/").content.decode()
    assert "情绪稳定，建议下周再聊" in page
    [event] = _events("consultation.notes")
    assert event.changed_fields == ["notes"]


def test_booking_from_the_page_books_a_free_hour(clients: dict[str, Client], counsellor: Volunteer) -> None:
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation = accepted_consultation(counsellor)
    page = clients["counsellor"].get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'value="2026-11-30T12:00:00+08:00"' in page
    assert "11月30日（周一）12:00" in page

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/appointments/",
        {"starts_at": "2026-11-30T14:00:00+08:00", "mode": "video", "note": "请准备好耳机"},
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.booked_by == Sender.PROFESSIONAL
    assert appointment.mode == "video"
    assert appointment.starts_at == datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)
    page = clients["counsellor"].get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'value="2026-11-30T14:00:00+08:00"' not in page
    assert "已预约 11月30日 14:00–15:00 视频沟通。" in page


def test_booking_an_hour_that_is_not_free_is_refused_on_the_page(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/appointments/",
        {"starts_at": "2026-11-30T23:00:00+08:00", "mode": "phone"},
    )

    assert response.status_code == 200
    assert "这个时间已经不能预约，请重新选择" in response.content.decode()
    assert Appointment.objects.count() == 0


def test_cancel_and_done_from_the_page(
    clients: dict[str, Client], counsellor: Volunteer, time_machine: Any
) -> None:
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation = accepted_consultation(counsellor)
    client = clients["counsellor"]
    client.post(
        f"/consultations/{consultation.pk}/appointments/",
        {"starts_at": "2026-11-30T14:00:00+08:00", "mode": "phone"},
    )
    client.post(
        f"/consultations/{consultation.pk}/appointments/",
        {"starts_at": "2026-11-30T15:00:00+08:00", "mode": "phone"},
    )
    first, second = Appointment.objects.order_by("starts_at")

    cancelled = client.post(f"/consultations/{consultation.pk}/appointments/{first.pk}/cancel/")
    early = client.post(f"/consultations/{consultation.pk}/appointments/{second.pk}/done/")
    time_machine.move_to(NOW + datetime.timedelta(hours=5, minutes=10), tick=False)
    client = verified_client(counsellor.user)  # the earlier session has timed out meanwhile
    done = client.post(f"/consultations/{consultation.pk}/appointments/{second.pk}/done/")

    assert (cancelled.status_code, early.status_code, done.status_code) == (302, 302, 302)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == AppointmentState.CANCELLED
    assert second.state == AppointmentState.DONE


def test_closing_from_the_page_credits_the_hours(clients: dict[str, Client], counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/close/",
        {"outcome": "advice", "summary": "已提供调节情绪的方法", "service_hours": "1.5", "version": "1"},
    )

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.state == State.CLOSED
    hours = ServiceHours.objects.get(volunteer=counsellor)
    assert str(hours.hours) == "1.5"
    page = clients["counsellor"].get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'id="close-form"' not in page
    assert "已提供调节情绪的方法" in page
    assert "尚未评价" in page


def test_closing_over_a_stale_version_shows_the_conflict(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor)
    message_post(consultation=consultation, sender=Sender.REQUESTER, body="还有一个问题")

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/close/",
        {"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": "1"},
    )

    assert response.status_code == 409
    assert "请刷新页面后再结束" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.state == State.ACCEPTED
    assert ServiceHours.objects.count() == 0


def test_closing_needs_a_summary(clients: dict[str, Client], counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    response = clients["counsellor"].post(
        f"/consultations/{consultation.pk}/close/",
        {"outcome": "advice", "summary": "", "service_hours": "1", "version": "1"},
    )

    assert response.status_code == 200
    assert "请填写结案小结" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.state == State.ACCEPTED


def test_the_referral_form_is_on_legal_requests_only(
    clients: dict[str, Client], counsellor: Volunteer, lawyer: Volunteer
) -> None:
    legal = accepted_consultation(lawyer)
    psychological = accepted_consultation(counsellor)

    assert 'id="referral-form"' in clients["lawyer"].get(f"/consultations/{legal.pk}/").content.decode()
    assert (
        'id="referral-form"'
        not in clients["counsellor"].get(f"/consultations/{psychological.pk}/").content.decode()
    )


def test_referral_from_the_page_then_closing_as_legal_aid(
    clients: dict[str, Client], lawyer: Volunteer
) -> None:
    consultation = accepted_consultation(lawyer, topic=Topic.SCHOOL_BULLYING)

    response = clients["lawyer"].post(
        f"/consultations/{consultation.pk}/referral/",
        {
            "referred_to": "淳安县法律援助中心",
            "facts": "在校遭受同学多次殴打",
            "requester_is_minor_without_income": "on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/#close"
    referral = LegalAidReferral.objects.get()
    assert referral.means_test_exempt is True
    page = clients["lawyer"].get(f"/consultations/{consultation.pk}/")
    assert page.context["close_form"].initial["outcome"] == Outcome.LEGAL_AID
    assert 'id="referral-form"' not in page.content.decode()
    assert "免予审查" in page.content.decode()


# --- 我的预约 ---------------------------------------------------------------------------------------------


def test_appointments_page_lists_my_upcoming_bookings(
    clients: dict[str, Client], counsellor: Volunteer, lawyer: Volunteer
) -> None:
    mine = accepted_consultation(counsellor)
    theirs = accepted_consultation(lawyer)
    start = NOW + datetime.timedelta(hours=4)
    booked = Appointment.objects.create(
        consultation=mine,
        volunteer=counsellor,
        mode="phone",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        booked_by=Sender.REQUESTER,
    )
    Appointment.objects.create(
        consultation=mine,
        volunteer=counsellor,
        mode="video",
        starts_at=start + datetime.timedelta(hours=1),
        ends_at=start + datetime.timedelta(hours=2),
        booked_by=Sender.REQUESTER,
        state=AppointmentState.CANCELLED,
    )
    Appointment.objects.create(
        consultation=mine,
        volunteer=counsellor,
        mode="video",
        starts_at=NOW - datetime.timedelta(days=1),
        ends_at=NOW - datetime.timedelta(days=1, hours=-1),
        booked_by=Sender.REQUESTER,
    )
    Appointment.objects.create(
        consultation=theirs,
        volunteer=lawyer,
        mode="phone",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        booked_by=Sender.REQUESTER,
    )

    response = clients["counsellor"].get("/consultations/appointments/")

    assert response.status_code == 200
    assert [appointment.pk for appointment in response.context["appointments"]] == [booked.pk]
    body = response.content.decode()
    assert "2026年11月30日 14:00–15:00" in body
    assert theirs.reference not in body
    assert 'class="nav-link active" aria-current="page" href="/consultations/appointments/"' in body


def test_a_consultation_of_another_professional_is_not_found_anywhere(
    clients: dict[str, Client], counsellor: Volunteer, lawyer: Volunteer
) -> None:
    consultation: Consultation = accepted_consultation(lawyer)

    for path in (
        f"/consultations/{consultation.pk}/",
        f"/consultations/{consultation.pk}/attachments/1/",
    ):
        assert clients["counsellor"].get(path).status_code == 404
    for path in ("reply/", "notes/", "close/", "referral/", "phone/", "appointments/"):
        assert (
            clients["counsellor"].post(f"/consultations/{consultation.pk}/{path}", {"body": "x"}).status_code
            == 404
        )
