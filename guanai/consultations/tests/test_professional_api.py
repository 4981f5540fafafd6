"""The professionals' JSON API at /api/v1/consultations: the same services as the pages, with the error
shape {code, message, fields} and the audit events of every read of a requester's words."""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from guanai.audit.models import AuditEvent
from guanai.consultations.conversation import message_post
from guanai.consultations.models import Appointment, Consultation, LegalAidReferral, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import on_duty_all_week
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
from guanai.volunteers.models import ServiceHours, Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]

BASE = "/api/v1/consultations"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


@pytest.fixture
def lawyer(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["lawyer"]


@pytest.fixture
def client(clients: dict[str, Client]) -> Client:
    return clients["counsellor"]


def post_json(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(data), content_type="application/json")


def test_list_gives_my_requests_as_metadata(client: Client, counsellor: Volunteer, lawyer: Volunteer) -> None:
    mine = accepted_consultation(
        counsellor, reply_due_at=NOW + datetime.timedelta(hours=2), is_urgent=True, requester_name="小林"
    )
    closed = accepted_consultation(counsellor, state=State.CLOSED, closed_at=NOW, outcome=Outcome.ADVICE)
    accepted_consultation(lawyer)

    response = client.get(BASE)

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [item["id"] for item in data["items"]] == [mine.pk, closed.pk]
    first = data["items"][0]
    assert first == {
        "id": mine.pk,
        "reference": mine.reference,
        "kind": "psychological",
        "kind_label": "心理咨询",
        "topic": "study_pressure",
        "topic_label": "学习压力",
        "region_code": "330127100001",
        "region_name": "青城社区",
        "state": "accepted",
        "state_label": "处理中",
        "is_urgent": True,
        "created_at": first["created_at"],
        "accepted_at": "2026-11-30T01:00:00Z",
        "reply_due_at": "2026-11-30T04:00:00Z",
        "reply_breached": False,
        "last_message_at": None,
        "closed_at": None,
        "outcome": "",
        "outcome_label": "",
    }
    assert "小林" not in response.content.decode()
    assert client.get(f"{BASE}?state=closed").json()["count"] == 1
    assert client.get(f"{BASE}?kind=legal").json()["count"] == 0


def test_detail_gives_the_decrypted_fields_to_the_assignee_and_is_audited(
    client: Client, counsellor: Volunteer
) -> None:
    consultation = accepted_consultation(counsellor, notes="第一次谈话：焦虑明显", requester_name="小林")

    response = client.get(f"{BASE}/{consultation.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["requester_name"] == "小林"
    assert data["description"] == "最近考试压力很大，晚上睡不着。"
    assert data["notes"] == "第一次谈话：焦虑明显"
    assert data["contact_phone"] == "139****1111"
    assert data["contact_phone_may_be_shown"] is False
    assert data["contact_preference"] == "online"
    assert data["version"] == 1
    assert data["appointments"] == []
    assert data["referral"] is None
    [event] = AuditEvent.objects.filter(action="consultation.view")
    assert event.detail == {"part": "detail"}
    assert event.actor_user_id == counsellor.user_id


def test_phone_unmask_through_the_api(client: Client, counsellor: Volunteer) -> None:
    calls = accepted_consultation(counsellor, contact_preference=ContactPreference.PHONE)
    online = accepted_consultation(counsellor, contact_preference=ContactPreference.ONLINE)

    shown = client.post(f"{BASE}/{calls.pk}/phone")
    refused = client.post(f"{BASE}/{online.pk}/phone")

    assert shown.status_code == 200
    assert shown.json() == {"contact_phone": "13900001111"}
    assert refused.status_code == 409
    assert refused.json()["code"] == "phone_not_requested"
    assert "13900001111" not in refused.content.decode()
    assert [
        event.outcome for event in AuditEvent.objects.filter(action="personal_data.unmask").order_by("id")
    ] == [
        "success",
        "denied",
    ]


def test_messages_list_and_post_with_files(client: Client, counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    message_post(consultation=consultation, sender=Sender.REQUESTER, body="老师好")
    image = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 0)).save(image, format="PNG")

    posted = client.post(
        f"{BASE}/{consultation.pk}/messages",
        data={
            "body": "你好，请看这份资料。",
            "files": [
                SimpleUploadedFile("资料.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("图.png", image.getvalue(), "image/png"),
            ],
        },
    )

    assert posted.status_code == 201
    created = posted.json()
    assert created["sender"] == "professional"
    assert created["is_mine"] is True
    assert created["body"] == "你好，请看这份资料。"
    assert [(a["original_name"], a["content_type"]) for a in created["attachments"]] == [
        ("资料.pdf", "application/pdf"),
        ("图.jpg", "image/jpeg"),
    ]
    pdf_id = created["attachments"][0]["id"]
    assert created["attachments"][0]["url"] == f"{BASE}/{consultation.pk}/attachments/{pdf_id}"
    listed = client.get(f"{BASE}/{consultation.pk}/messages")
    assert listed.status_code == 200
    assert [(m["sender"], m["is_mine"], m["body"]) for m in listed.json()] == [
        ("requester", False, "老师好"),
        ("professional", True, "你好，请看这份资料。"),
    ]
    assert AuditEvent.objects.filter(action="consultation.view", detail__part="messages").count() == 1

    download = client.get(created["attachments"][0]["url"])
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="consultation.attachment_view").count() == 1


def test_post_message_errors(client: Client, counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    closed = accepted_consultation(counsellor, state=State.CLOSED, closed_at=NOW, outcome=Outcome.ADVICE)

    empty = client.post(f"{BASE}/{consultation.pk}/messages", data={"body": " "})
    bad_file = client.post(
        f"{BASE}/{consultation.pk}/messages",
        data={"body": "附件", "files": [SimpleUploadedFile("x.pdf", b"MZ\x90\x00", "application/pdf")]},
    )
    on_closed = client.post(f"{BASE}/{closed.pk}/messages", data={"body": "在吗"})

    assert empty.status_code == 422
    assert empty.json() == {
        "code": "validation_failed",
        "message": "提交的内容有误，请检查后重试",
        "fields": {"body": ["请填写留言内容"]},
    }
    assert bad_file.status_code == 422
    assert bad_file.json()["fields"] == {
        "files": ["“x”的格式不支持：只能上传 JPG、PNG 格式的照片或 PDF 文件"]
    }
    assert on_closed.status_code == 409
    assert on_closed.json()["code"] == "consultation_closed"
    assert Message.objects.count() == 0


def test_free_slots_and_booking(client: Client, counsellor: Volunteer) -> None:
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation = accepted_consultation(counsellor)

    slots = client.get(f"{BASE}/{consultation.pk}/free-slots").json()["slots"]
    assert slots[:3] == [
        "2026-11-30T12:00:00+08:00",
        "2026-11-30T13:00:00+08:00",
        "2026-11-30T14:00:00+08:00",
    ]

    booked = post_json(
        client, f"{BASE}/{consultation.pk}/appointments", {"starts_at": slots[1], "mode": "video"}
    )
    taken = post_json(
        client, f"{BASE}/{consultation.pk}/appointments", {"starts_at": slots[1], "mode": "phone"}
    )
    night = post_json(
        client,
        f"{BASE}/{consultation.pk}/appointments",
        {"starts_at": "2026-11-30T23:00:00+08:00", "mode": "phone"},
    )

    assert booked.status_code == 201
    assert booked.json() == {
        "id": booked.json()["id"],
        "starts_at": "2026-11-30T13:00:00+08:00",
        "ends_at": "2026-11-30T14:00:00+08:00",
        "mode": "video",
        "mode_label": "视频",
        "state": "booked",
        "booked_by": "professional",
        "note": "",
    }
    assert taken.status_code == 409
    assert taken.json() == {"code": "slot_taken", "message": "该时段已被预约", "fields": {}}
    assert night.status_code == 422
    assert night.json()["fields"] == {"starts_at": ["请选择列出的可预约时段"]}
    assert (
        "2026-11-30T13:00:00+08:00" not in client.get(f"{BASE}/{consultation.pk}/free-slots").json()["slots"]
    )

    cancelled = client.post(f"{BASE}/{consultation.pk}/appointments/{booked.json()['id']}/cancel")
    again = client.post(f"{BASE}/{consultation.pk}/appointments/{booked.json()['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert again.status_code == 409
    assert Appointment.objects.get().state == AppointmentState.CANCELLED


def test_close_over_the_api(client: Client, counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)
    version = client.get(f"{BASE}/{consultation.pk}").json()["version"]

    stale = post_json(
        client,
        f"{BASE}/{consultation.pk}/close",
        {"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": version + 1},
    )
    closed = post_json(
        client,
        f"{BASE}/{consultation.pk}/close",
        {"outcome": "hotline_12355", "summary": "已转介12355", "service_hours": "2.5", "version": version},
    )
    twice = post_json(
        client,
        f"{BASE}/{consultation.pk}/close",
        {"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": version + 1},
    )
    bad_hours = post_json(
        client,
        f"{BASE}/{accepted_consultation(counsellor).pk}/close",
        {"outcome": "advice", "summary": "已答复", "service_hours": "0.3", "version": 1},
    )

    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["outcome"] == "hotline_12355"
    assert closed.json()["summary"] == "已转介12355"
    assert closed.json()["service_hours"] == "2.5"
    assert twice.status_code == 409
    assert twice.json()["code"] == "consultation_closed"
    assert bad_hours.status_code == 422
    assert bad_hours.json()["fields"] == {"service_hours": ["服务时长应为 0.5 到 8 小时，以半小时为单位"]}
    assert [str(record.hours) for record in ServiceHours.objects.all()] == ["2.5"]


def test_notes_over_the_api(client: Client, counsellor: Volunteer) -> None:
    consultation = accepted_consultation(counsellor)

    response = client.put(
        f"{BASE}/{consultation.pk}/notes",
        data=json.dumps({"notes": "情绪稳定"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"notes": "情绪稳定"}
    assert Consultation.objects.get(pk=consultation.pk).notes == "情绪稳定"


def test_referral_over_the_api(clients: dict[str, Client], lawyer: Volunteer, counsellor: Volunteer) -> None:
    legal = accepted_consultation(lawyer, topic=Topic.DOMESTIC_VIOLENCE)
    psychological = accepted_consultation(counsellor)
    payload = {
        "referred_to": "淳安县法律援助中心",
        "facts": "遭受家庭暴力",
        "requester_is_minor_without_income": True,
    }

    created = post_json(clients["lawyer"], f"{BASE}/{legal.pk}/referral", payload)
    again = post_json(clients["lawyer"], f"{BASE}/{legal.pk}/referral", payload)
    not_legal = post_json(clients["counsellor"], f"{BASE}/{psychological.pk}/referral", payload)

    assert created.status_code == 201
    data = created.json()
    assert data["referred_to"] == "淳安县法律援助中心"
    assert data["means_test_exempt"] is True
    assert data["exemption_ground"] == "法律援助法第四十二条：无固定生活来源的未成年人"
    assert data["state"] == "submitted"
    assert again.status_code == 409
    assert again.json()["code"] == "already_referred"
    assert not_legal.status_code == 409
    assert not_legal.json()["code"] == "not_legal_kind"
    assert LegalAidReferral.objects.count() == 1
    detail = clients["lawyer"].get(f"{BASE}/{legal.pk}").json()
    assert detail["referral"]["id"] == data["id"]


def test_every_operation_is_named_and_declares_the_answer_permission() -> None:
    from guanai.consultations.api import router
    from guanai.core.access import Permission, declared_permission

    operations = {
        (path, method): (operation.operation_id, declared_permission(operation.view_func))
        for path, path_view in router.path_operations.items()
        for operation in path_view.operations
        for method in operation.methods
    }
    answer = Permission.CONSULTATION_ANSWER
    assert operations == {
        ("", "GET"): ("consultation_list", answer),
        ("/{int:consultation_id}", "GET"): ("consultation_get", answer),
        ("/{int:consultation_id}/phone", "POST"): ("consultation_phone_unmask", answer),
        ("/{int:consultation_id}/messages", "GET"): ("consultation_messages", answer),
        ("/{int:consultation_id}/messages", "POST"): ("consultation_message_post", answer),
        ("/{int:consultation_id}/attachments/{int:attachment_id}", "GET"): (
            "consultation_attachment",
            answer,
        ),
        ("/{int:consultation_id}/free-slots", "GET"): ("consultation_free_slots", answer),
        ("/{int:consultation_id}/appointments", "POST"): ("consultation_appointment_book", answer),
        ("/{int:consultation_id}/appointments/{int:appointment_id}/cancel", "POST"): (
            "consultation_appointment_cancel",
            answer,
        ),
        ("/{int:consultation_id}/close", "POST"): ("consultation_close", answer),
        ("/{int:consultation_id}/notes", "PUT"): ("consultation_notes_save", answer),
        ("/{int:consultation_id}/referral", "POST"): ("consultation_referral", answer),
    }
