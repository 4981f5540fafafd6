"""Confidentiality of a request (issue 7 §5): the requester's name, phone and words, the messages, the
attachments and the notes reach the assigned professional alone — not a supervisor, not another
professional, not an auditor — and every page and API operation of the professional's side answers each
persona as it should, changing nothing when it refuses."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.audit.models import AuditEvent
from guanai.consultations.conversation import message_post
from guanai.consultations.models import Appointment, Consultation
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import make_professional, on_duty_all_week
from guanai.consultations.tests.test_conversation import accepted_consultation
from guanai.consultations.vocabulary import ContactPreference, Kind, Outcome, Sender, State
from guanai.core.testing import Check, assert_authorization_matrix, verified_client
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]

NAME = "周晓雯"
PHONE = "13957246813"
MASKED_PHONE = "139****6813"
DESCRIPTION = "我在学校被几个同学孤立，不想去上学。"
MESSAGE = "昨天她们又把我的书包扔了。"
REPLY = "谢谢你愿意告诉我，我们一起想办法。"
NOTES = "初步评估：人际困扰，无自伤风险。"
ATTACHMENT_NAME = "班级群聊天记录.pdf"
SECRETS = (NAME, PHONE, MASKED_PHONE, DESCRIPTION, MESSAGE, REPLY, NOTES, "班级群聊天记录")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Anonymous, a supervisor of the request's county and of the province, a 五老 volunteer, the auditor,
# a lawyer and another counsellor: none is the request's professional.
OUTSIDERS = (
    "anonymous",
    "county_a_admin",
    "province_admin",
    "volunteer",
    "auditor",
    "lawyer",
    "other_counsellor",
)
PROFESSIONALS = ("lawyer", "other_counsellor")


@pytest.fixture
def setting(
    clients: dict[str, Client], persona_professionals: dict[str, Volunteer]
) -> tuple[dict[str, Client], Consultation, int, int, int]:
    """A request accepted by the persona counsellor, with a message, a reply with a file, notes and two
    appointments; the clients of every persona and of another counsellor."""
    counsellor = persona_professionals["counsellor"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    other = make_professional(username="p-counsellor-2", kind=Kind.PSYCHOLOGICAL)
    consultation = accepted_consultation(
        counsellor,
        requester_name=NAME,
        contact_phone=PHONE,
        contact_preference=ContactPreference.PHONE,
        description=DESCRIPTION,
        notes=NOTES,
    )
    message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body=MESSAGE,
        files=[SimpleUploadedFile(ATTACHMENT_NAME, PDF, "application/pdf")],
    )
    message_post(consultation=consultation, sender=Sender.PROFESSIONAL, body=REPLY, author=counsellor.user)
    attachment_id = consultation.messages.get(sender=Sender.REQUESTER).attachments.get().pk
    upcoming = Appointment.objects.create(
        consultation=consultation,
        volunteer=counsellor,
        mode="phone",
        starts_at=NOW + datetime.timedelta(hours=3),
        ends_at=NOW + datetime.timedelta(hours=4),
        booked_by=Sender.REQUESTER,
    )
    held = Appointment.objects.create(
        consultation=consultation,
        volunteer=counsellor,
        mode="video",
        starts_at=NOW - datetime.timedelta(hours=2),
        ends_at=NOW - datetime.timedelta(hours=1),
        booked_by=Sender.REQUESTER,
    )
    everyone = {**clients, "other_counsellor": verified_client(other.user)}
    consultation.refresh_from_db()
    return everyone, consultation, attachment_id, upcoming.pk, held.pk


def test_only_the_assignee_reads_the_requester_on_pages_and_api(
    setting: tuple[dict[str, Client], Consultation, int, int, int],
) -> None:
    clients, consultation, attachment_id, _upcoming, _held = setting
    pk = consultation.pk
    reads = (
        f"/consultations/{pk}/",
        f"/consultations/{pk}/attachments/{attachment_id}/",
        "/consultations/conversations/",
        "/consultations/appointments/",
        f"/api/v1/consultations/{pk}",
        f"/api/v1/consultations/{pk}/messages",
        f"/api/v1/consultations/{pk}/attachments/{attachment_id}",
        "/api/v1/consultations",
    )
    for persona in OUTSIDERS:
        for path in reads:
            response = clients[persona].get(path)
            body = response.content.decode("utf-8", errors="replace")
            leaked = [secret for secret in SECRETS if secret in body]
            assert leaked == [], f"{persona} GET {path} shows {leaked}"
            assert PDF not in response.content, f"{persona} GET {path} serves the attachment"
        unmask = clients[persona].post(f"/consultations/{pk}/phone/")
        assert PHONE not in unmask.content.decode("utf-8", errors="replace")
        api_unmask = clients[persona].post(f"/api/v1/consultations/{pk}/phone")
        assert PHONE not in api_unmask.content.decode("utf-8", errors="replace")

    assignee = clients["counsellor"]
    page = assignee.get(f"/consultations/{pk}/").content.decode()
    for shown in (NAME, MASKED_PHONE, DESCRIPTION, MESSAGE, REPLY, NOTES, "班级群聊天记录.pdf"):
        assert shown in page
    assert PHONE not in page
    detail = assignee.get(f"/api/v1/consultations/{pk}").json()
    assert (detail["requester_name"], detail["description"], detail["notes"], detail["contact_phone"]) == (
        NAME,
        DESCRIPTION,
        NOTES,
        MASKED_PHONE,
    )
    assert [m["body"] for m in assignee.get(f"/api/v1/consultations/{pk}/messages").json()] == [
        MESSAGE,
        REPLY,
    ]
    assert assignee.get(f"/api/v1/consultations/{pk}/attachments/{attachment_id}").content == PDF
    assert assignee.post(f"/consultations/{pk}/phone/").content.decode().count(PHONE) == 1


def test_lists_never_carry_the_requesters_words_even_for_the_assignee(
    setting: tuple[dict[str, Client], Consultation, int, int, int],
) -> None:
    clients, consultation, _attachment, _upcoming, _held = setting

    page = clients["counsellor"].get("/consultations/conversations/").content.decode()
    api_list = clients["counsellor"].get("/api/v1/consultations").content.decode()

    assert consultation.reference in page
    assert consultation.reference in api_list
    for secret in SECRETS:
        assert secret not in page
        assert secret not in api_list


def test_a_professional_the_request_was_reassigned_from_loses_it(
    setting: tuple[dict[str, Client], Consultation, int, int, int],
) -> None:
    clients, consultation, _attachment, _upcoming, _held = setting
    other = Volunteer.objects.get(user__username="p-counsellor-2")
    Consultation.objects.filter(pk=consultation.pk).update(assigned_to=other)

    before = clients["counsellor"].get(f"/consultations/{consultation.pk}/")
    after = clients["other_counsellor"].get(f"/consultations/{consultation.pk}/")

    assert before.status_code == 404
    assert after.status_code == 200
    body = after.content.decode()
    assert DESCRIPTION in body
    # The earlier professional's reply is not the new one's: labelled as such, never as "我".
    assert '<strong class="guanai-sender">此前的志愿者</strong>' in body


def test_what_the_assignee_opens_is_in_the_audit_trail_and_the_trail_holds_no_words(
    setting: tuple[dict[str, Client], Consultation, int, int, int],
) -> None:
    clients, consultation, attachment_id, _upcoming, _held = setting
    first_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assignee = clients["counsellor"]
    pk = consultation.pk

    assignee.get(f"/consultations/{pk}/")
    assignee.post(f"/consultations/{pk}/phone/")
    assignee.get(f"/consultations/{pk}/attachments/{attachment_id}/")
    assignee.get(f"/api/v1/consultations/{pk}")
    assignee.get(f"/api/v1/consultations/{pk}/messages")
    assignee.get(f"/api/v1/consultations/{pk}/attachments/{attachment_id}")

    opened = AuditEvent.objects.filter(id__gt=first_id).order_by("id")
    events = list(opened.values_list("action", "target_id", "actor_username"))
    assert events == [
        ("consultation.view", str(pk), "p-counsellor"),
        ("personal_data.unmask", str(pk), "p-counsellor"),
        ("consultation.attachment_view", str(pk), "p-counsellor"),
        ("consultation.view", str(pk), "p-counsellor"),
        ("consultation.view", str(pk), "p-counsellor"),
        ("consultation.attachment_view", str(pk), "p-counsellor"),
    ]
    trail = str(list(AuditEvent.objects.values_list("detail", "changed_fields")))
    for secret in SECRETS:
        assert secret not in trail


def test_authorization_matrix_of_every_page_and_operation(
    setting: tuple[dict[str, Client], Consultation, int, int, int],
) -> None:
    clients, consultation, attachment_id, upcoming, held = setting
    pk = consultation.pk
    page = f"/consultations/{pk}"
    api = f"/api/v1/consultations/{pk}"
    free_hour = "2026-11-30T15:00:00+08:00"

    def page_status(persona: str, ok: int) -> int:
        if persona == "anonymous":
            return 302  # to the sign-in page
        if persona in PROFESSIONALS:
            return 404  # as if the request did not exist
        return 403 if persona != "counsellor" else ok

    def api_status(persona: str, ok: int) -> int:
        if persona == "anonymous":
            return 401
        if persona in PROFESSIONALS:
            return 404
        return 403 if persona != "counsellor" else ok

    # (method, path, form or JSON, status for the assignee); the assignee's writes come last, closing last.
    pages: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("GET", f"{page}/", None, 200),
        ("GET", f"{page}/attachments/{attachment_id}/", None, 200),
        ("POST", f"{page}/phone/", {}, 200),
        ("POST", f"{page}/reply/", {"body": "好的"}, 302),
        ("POST", f"{page}/notes/", {"notes": "补记"}, 302),
        ("POST", f"{page}/appointments/", {"starts_at": free_hour, "mode": "phone"}, 302),
        ("POST", f"{page}/appointments/{upcoming}/cancel/", {}, 302),
        ("POST", f"{page}/appointments/{held}/done/", {}, 302),
        # A psychological request is not referred to legal aid: refused, and nothing changes.
        ("POST", f"{page}/referral/", {"referred_to": "法律援助中心", "facts": "案情"}, 409),
    ]
    apis: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("GET", api, None, 200),
        ("GET", f"{api}/messages", None, 200),
        ("GET", f"{api}/attachments/{attachment_id}", None, 200),
        ("GET", f"{api}/free-slots", None, 200),
        ("POST", f"{api}/phone", None, 200),
        ("PUT", f"{api}/notes", {"notes": "API 补记"}, 200),
        ("POST", f"{api}/appointments", {"starts_at": "2026-11-30T16:00:00+08:00", "mode": "video"}, 201),
        (
            "POST",
            f"{api}/referral",
            {"referred_to": "法律援助中心", "facts": "案情", "requester_is_minor_without_income": True},
            409,
        ),
    ]
    checks: list[Check] = []
    for persona in (*OUTSIDERS, "counsellor"):
        must_not = SECRETS if persona != "counsellor" else ()
        checks.append(
            Check(
                persona,
                "GET",
                "/consultations/conversations/",
                page_status(persona, 200) if persona not in PROFESSIONALS else 200,
                must_not_contain=must_not,
            )
        )
        checks.append(
            Check(
                persona,
                "GET",
                "/consultations/appointments/",
                page_status(persona, 200) if persona not in PROFESSIONALS else 200,
                must_not_contain=must_not,
            )
        )
        checks.append(
            Check(
                persona,
                "GET",
                "/api/v1/consultations",
                api_status(persona, 200) if persona not in PROFESSIONALS else 200,
                must_not_contain=SECRETS,
            )
        )
        for method, path, form, ok in pages:
            checks.append(
                Check(persona, method, path, page_status(persona, ok), form=form, must_not_contain=must_not)
            )
        for method, path, data, ok in apis:
            checks.append(
                Check(persona, method, path, api_status(persona, ok), data=data, must_not_contain=must_not)
            )
    # The API's multipart reply, then closing on either face: the page's with a stale version first.
    for persona in OUTSIDERS:
        checks.append(
            Check(
                persona,
                "POST",
                f"{api}/messages",
                api_status(persona, 201),
                form={"body": "好的"},
                must_not_contain=SECRETS,
            )
        )
        checks.append(
            Check(
                persona,
                "POST",
                f"{api}/appointments/{upcoming}/cancel",
                api_status(persona, 200),
                must_not_contain=SECRETS,
            )
        )
        checks.append(
            Check(
                persona,
                "POST",
                f"{api}/close",
                api_status(persona, 200),
                data={"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": 1},
                must_not_contain=SECRETS,
            )
        )
        checks.append(
            Check(
                persona,
                "POST",
                f"{page}/close/",
                page_status(persona, 302),
                form={"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": "1"},
                must_not_contain=SECRETS,
            )
        )
    checks.append(Check("counsellor", "POST", f"{api}/messages", 201, form={"body": "API 回复"}))
    version = Consultation.objects.get(pk=pk).version
    checks.append(
        Check(
            "counsellor",
            "POST",
            f"{page}/close/",
            409,
            form={
                "outcome": "advice",
                "summary": "已答复",
                "service_hours": "1",
                "version": str(version - 1),
            },
        )
    )
    checks.append(
        Check(
            "counsellor",
            "POST",
            f"{api}/close",
            200,
            data={"outcome": "advice", "summary": "已答复", "service_hours": "1", "version": version},
        )
    )
    checks.append(
        Check(
            "counsellor",
            "POST",
            f"{page}/close/",
            409,
            form={
                "outcome": "advice",
                "summary": "已答复",
                "service_hours": "1",
                "version": str(version + 1),
            },
        )
    )

    count = assert_authorization_matrix(clients, checks)

    assert count == 8 * 20 + 7 * 4 + 4
    consultation.refresh_from_db()
    assert (consultation.state, consultation.outcome) == (State.CLOSED, Outcome.ADVICE)
    assert consultation.notes == "API 补记"
