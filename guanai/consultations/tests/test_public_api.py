"""The public JSON API of online help (/api/v1/public/consultations): intake, reading with the retrieval
code in a header, writing back, booking, rating — open to anyone, the same for everyone, no CSRF."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client

from guanai.audit.models import AuditEvent
from guanai.consultations.models import Appointment, Consultation, Message
from guanai.consultations.tests.factories import (
    RETRIEVAL_CODE,
    ConsultationFactory,
    MessageFactory,
    on_duty_all_week,
)
from guanai.consultations.vocabulary import Kind, Outcome, Sender, State
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

BASE = "/api/v1/public/consultations"
NOT_FOUND = {"code": "not_found", "message": "受理编号或查询码不正确", "fields": {}}
HOTLINES = [
    {"number": "12355", "name": "青少年服务台（心理与法律援助）"},
    {"number": "110", "name": "报警电话"},
    {"number": "120", "name": "急救电话"},
]
INTAKE = {
    "kind": "psychological",
    "topic": "study_pressure",
    "requester": "self",
    "region_code": COUNTY_A,
    "description": "最近考试压力很大，晚上睡不着。",
    "consent": True,
}


def _post(client: Client, path: str, data: dict[str, Any], **headers: str) -> Any:
    return client.post(path, data=json.dumps(data), content_type="application/json", headers=headers)


def _code(code: str = RETRIEVAL_CODE) -> dict[str, str]:
    return {"X-Retrieval-Code": code}


@pytest.fixture
def accepted(persona_professionals: dict[str, Volunteer]) -> Consultation:
    counsellor = persona_professionals["counsellor"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation: Consultation = ConsultationFactory.create(
        state=State.ACCEPTED,
        assigned_to=counsellor,
        accepted_at=datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC),
        notes="来访者提到父母离异，需要持续关注。",
    )
    return consultation


# --- Intake ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("regions")
def test_anonymous_request_gets_its_reference_and_code() -> None:
    response = _post(Client(), BASE, INTAKE)

    assert response.status_code == 201
    body = response.json()
    assert sorted(body) == ["hotlines", "reference", "retrieval_code", "urgent"]
    assert body["urgent"] is False
    assert body["hotlines"] == HOTLINES
    stored = Consultation.objects.get()
    assert stored.reference == body["reference"]
    # The code answers for the request it came with.
    read = Client().get(f"{BASE}/{body['reference']}", headers=_code(body["retrieval_code"]))
    assert read.status_code == 200


@pytest.mark.usefixtures("regions")
def test_a_crisis_is_urgent_in_the_answer() -> None:
    response = _post(Client(), BASE, {**INTAKE, "description": "我真的不想活了，谁也帮不了我。"})

    assert response.status_code == 201
    assert response.json()["urgent"] is True
    assert response.json()["hotlines"] == HOTLINES


@pytest.mark.usefixtures("regions")
def test_refused_request_answers_422_with_chinese_field_errors_and_stores_nothing() -> None:
    response = _post(Client(), BASE, {**INTAKE, "requester_age": 13, "contact_phone": "13905710001"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["fields"] == {
        "guardian_consent": [
            "孩子不满 14 周岁，留下电话或称呼需要监护人同意（《个人信息保护法》第三十一条）。"
            "请勾选“监护人已同意”，或者不留电话和称呼、只用查询码在线查看回复。"
        ]
    }
    assert Consultation.objects.count() == 0
    assert not AuditEvent.objects.filter(action="consultation.submitted").exists()


@pytest.mark.usefixtures("regions")
def test_topic_of_the_other_kind_is_refused() -> None:
    response = _post(Client(), BASE, {**INTAKE, "kind": "legal"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"topic": ["该问题类型不属于所选的求助类别"]}


@pytest.mark.usefixtures("regions")
def test_limited_crisis_answers_429_with_the_hotlines(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_IP = "1/h"
    assert _post(Client(), BASE, INTAKE).status_code == 201

    response = _post(Client(), BASE, {**INTAKE, "description": "我想死，活着没有意思。"})

    assert response.status_code == 429
    assert response.json() == {
        "code": "rate_limited",
        "message": (
            "提交过于频繁，暂时不能再提交。如果你现在有危险，请立即拨打 110 或 120；"
            "12355 青少年服务台可以倾诉。"
        ),
        "fields": {},
        "urgent": True,
        "hotlines": HOTLINES,
    }
    assert Consultation.objects.count() == 1


@pytest.mark.usefixtures("regions")
def test_limited_by_phone_answers_429(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_PHONE = "1/d"
    phone = {**INTAKE, "contact_phone": "13905710001"}
    assert _post(Client(REMOTE_ADDR="203.0.113.1"), BASE, phone).status_code == 201

    response = _post(Client(REMOTE_ADDR="203.0.113.2"), BASE, phone)

    assert response.status_code == 429
    assert response.json()["urgent"] is False
    assert response.json()["hotlines"] == HOTLINES


@pytest.mark.usefixtures("regions")
def test_public_endpoints_need_no_csrf_token_even_with_a_session(clients: dict[str, Client]) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = clients["county_a_admin"].cookies
    assert _post(strict, BASE, INTAKE).status_code == 201
    anonymous = Client(enforce_csrf_checks=True)
    assert _post(anonymous, BASE, INTAKE).status_code == 201


# --- Reading -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("regions")
def test_the_requester_reads_the_conversation_without_notes_or_the_professionals_name(
    accepted: Consultation,
) -> None:
    MessageFactory.create(consultation=accepted, sender=Sender.REQUESTER, body="老师我该怎么办？")
    MessageFactory.create(
        consultation=accepted,
        sender=Sender.PROFESSIONAL,
        author=accepted.assigned_to.user if accepted.assigned_to else None,
        body="先试试每天固定时间睡觉。",
    )

    response = Client().get(f"{BASE}/{accepted.reference}", headers=_code())

    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == accepted.reference
    assert (body["state"], body["state_label"]) == ("accepted", "处理中")
    assert (body["kind"], body["topic"], body["urgent"]) == ("psychological", "study_pressure", False)
    assert body["description"] == "最近考试压力很大，晚上睡不着。"
    assert body["professional"] == "心理志愿者"
    assert body["hotlines"] == HOTLINES
    assert (body["outcome"], body["rating"]) == ("", None)
    assert [(m["sender"], m["body"]) for m in body["messages"]] == [
        ("requester", "老师我该怎么办？"),
        ("professional", "先试试每天固定时间睡觉。"),
    ]
    text = response.content.decode()
    assert accepted.assigned_to is not None
    assert accepted.assigned_to.name not in text
    assert "父母离异" not in text
    assert "notes" not in body
    assert "summary" not in body
    assert "13900001111" not in text


@pytest.mark.usefixtures("regions")
def test_a_wrong_code_answers_exactly_like_an_unknown_reference(accepted: Consultation) -> None:
    wrong = Client().get(f"{BASE}/{accepted.reference}", headers=_code("WRONG234"))
    unknown = Client().get(f"{BASE}/ZXNOSUCH99", headers=_code(RETRIEVAL_CODE))
    missing = Client().get(f"{BASE}/{accepted.reference}")

    assert (wrong.status_code, unknown.status_code, missing.status_code) == (404, 404, 404)
    assert wrong.content == unknown.content == missing.content
    assert wrong.json() == NOT_FOUND


@pytest.mark.usefixtures("regions")
def test_the_code_is_read_as_an_elder_types_it(accepted: Consultation) -> None:
    typed = f"{RETRIEVAL_CODE[:4].lower()}-{RETRIEVAL_CODE[4:].lower()}"
    response = Client().get(f"{BASE}/{accepted.reference.lower()}", headers=_code(typed))
    assert response.status_code == 200


@pytest.mark.usefixtures("regions")
def test_the_thirty_first_attempt_in_an_hour_is_refused_even_with_the_right_code(
    accepted: Consultation,
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    for attempt in range(30):
        code = RETRIEVAL_CODE if attempt % 2 else f"WRONG{attempt:03d}"
        assert client.get(f"{BASE}/{accepted.reference}", headers=_code(code)).status_code in (200, 404)

    response = client.get(f"{BASE}/{accepted.reference}", headers=_code())

    assert response.status_code == 429
    assert response.json() == {"code": "rate_limited", "message": "查询过于频繁，请稍后再试。", "fields": {}}
    # Every operation that names a request counts; another address is not affected.
    assert (
        _post(client, f"{BASE}/{accepted.reference}/messages", {"body": "在吗"}, **_code()).status_code == 429
    )
    assert (
        Client(REMOTE_ADDR="198.51.100.8").get(f"{BASE}/{accepted.reference}", headers=_code()).status_code
        == 200
    )


# --- Writing back, booking, rating -------------------------------------------------------------------


@pytest.mark.usefixtures("regions")
def test_the_requester_writes_back_and_the_reply_clock_starts(accepted: Consultation) -> None:
    assert accepted.reply_due_at is None

    response = _post(
        Client(), f"{BASE}/{accepted.reference}/messages", {"body": "我试过了，还是睡不着。"}, **_code()
    )

    assert response.status_code == 201
    assert response.json()["sender"] == "requester"
    assert response.json()["body"] == "我试过了，还是睡不着。"
    accepted.refresh_from_db()
    assert accepted.reply_due_at == datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)
    message = Message.objects.get(consultation=accepted)
    assert (message.sender, message.author_id) == (Sender.REQUESTER, None)


@pytest.mark.usefixtures("regions")
def test_writing_back_with_a_wrong_code_stores_nothing(accepted: Consultation) -> None:
    response = _post(Client(), f"{BASE}/{accepted.reference}/messages", {"body": "你好"}, **_code("WRONG234"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert not Message.objects.exists()


@pytest.mark.usefixtures("regions")
def test_no_message_on_a_closed_request() -> None:
    closed = ConsultationFactory.create(state=State.CLOSED, outcome=Outcome.ADVICE)
    response = _post(Client(), f"{BASE}/{closed.reference}/messages", {"body": "还想再问一下"}, **_code())
    assert response.status_code == 409
    assert response.json()["code"] == "consultation_closed"


@pytest.mark.usefixtures("regions")
def test_free_slots_then_booking_then_cancelling(accepted: Consultation) -> None:
    slots = Client().get(f"{BASE}/{accepted.reference}/free-slots", headers=_code())
    assert slots.status_code == 200
    first = slots.json()["slots"][0]
    # Two hours' notice at least: 12:00 on the frozen Monday, in Asia/Shanghai.
    assert datetime.datetime.fromisoformat(first) == datetime.datetime(
        2026, 11, 30, 4, 0, tzinfo=datetime.UTC
    )

    booked = _post(
        Client(),
        f"{BASE}/{accepted.reference}/appointments",
        {"starts_at": first, "mode": "phone"},
        **_code(),
    )

    assert booked.status_code == 201
    assert (booked.json()["mode"], booked.json()["state"], booked.json()["booked_by"]) == (
        "phone",
        "booked",
        "requester",
    )
    again = Client().get(f"{BASE}/{accepted.reference}/free-slots", headers=_code())
    assert first not in again.json()["slots"]

    appointment = Appointment.objects.get()
    cancelled = _post(
        Client(), f"{BASE}/{accepted.reference}/appointments/{appointment.pk}/cancel", {}, **_code()
    )
    assert cancelled.status_code == 200
    assert [a["state"] for a in cancelled.json()["appointments"]] == ["cancelled"]


@pytest.mark.usefixtures("regions")
def test_no_free_slots_before_a_professional_accepts() -> None:
    waiting = ConsultationFactory.create()
    response = Client().get(f"{BASE}/{waiting.reference}/free-slots", headers=_code())
    assert response.json() == {"slots": []}


@pytest.mark.usefixtures("regions")
def test_rating_only_after_the_request_is_closed(accepted: Consultation) -> None:
    early = _post(Client(), f"{BASE}/{accepted.reference}/rating", {"rating": 5}, **_code())
    assert early.status_code == 409
    assert early.json()["code"] == "consultation_not_closed"

    Consultation.objects.filter(pk=accepted.pk).update(state=State.CLOSED, outcome=Outcome.ADVICE)
    rated = _post(
        Client(), f"{BASE}/{accepted.reference}/rating", {"rating": 4, "comment": "很耐心"}, **_code()
    )

    assert rated.status_code == 200
    assert (rated.json()["rating"], rated.json()["rating_comment"]) == (4, "很耐心")
    assert (rated.json()["outcome"], rated.json()["outcome_label"]) == ("advice", "已提供咨询建议")
    twice = _post(Client(), f"{BASE}/{accepted.reference}/rating", {"rating": 1}, **_code())
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_rated"


@pytest.mark.usefixtures("regions")
def test_a_rating_out_of_range_is_refused() -> None:
    closed = ConsultationFactory.create(state=State.CLOSED, outcome=Outcome.ADVICE)
    response = _post(Client(), f"{BASE}/{closed.reference}/rating", {"rating": 6}, **_code())
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["rating"]


# --- Everyone is the same here -----------------------------------------------------------------------


def test_authorization_matrix_every_persona_gets_only_what_the_code_gives(
    clients: dict[str, Client], accepted: Consultation, settings: Any
) -> None:
    settings.GUANAI_RETRIEVAL_RATE_PER_IP = "1000/h"  # every persona calls from the same address
    MessageFactory.create(consultation=accepted, body="我的秘密留言")
    reference = accepted.reference
    checks: list[Check] = []
    for persona in clients:
        checks += [
            # Without the code: nothing, whoever is signed in.
            Check(persona, "GET", f"{BASE}/{reference}", 404, must_not_contain=("我的秘密留言",)),
            Check(persona, "POST", f"{BASE}/{reference}/messages", 404, data={"body": "冒充留言"}),
            Check(persona, "GET", f"{BASE}/{reference}/free-slots", 404),
            Check(
                persona,
                "POST",
                f"{BASE}/{reference}/appointments",
                404,
                data={"starts_at": "2026-12-01T10:00:00+08:00", "mode": "phone"},
            ),
            Check(persona, "POST", f"{BASE}/{reference}/rating", 404, data={"rating": 1}),
            # With it: the same for everyone.
            Check(persona, "GET", f"{BASE}/{reference}", 200, headers=_code()),
            Check(persona, "GET", f"{BASE}/{reference}/free-slots", 200, headers=_code()),
            Check(persona, "POST", BASE, 422, data={**INTAKE, "consent": False}),
        ]
    assert assert_authorization_matrix(clients, checks) == 8 * len(clients)
