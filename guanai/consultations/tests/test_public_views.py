"""The public pages of online help (/help/): the home page with the hotlines, the form, the reference and
code shown once, the crisis block, and the requester's own pages — writing back with attachments,
booking, rating, downloading — for whoever holds the code, and for nobody else whoever they are."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.consultations import codes
from guanai.consultations.models import Appointment, Attachment, Consultation, Message
from guanai.consultations.tests.factories import (
    RETRIEVAL_CODE,
    ConsultationFactory,
    MessageFactory,
    on_duty_all_week,
)
from guanai.consultations.vocabulary import Kind, Outcome, Sender, State
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix
from guanai.volunteers.models import Volunteer
from guanai.web.preferences import ELDER_MODE_SESSION_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions", "frozen_clock")]

FORM = {
    "kind": "psychological",
    "topic": "study_pressure",
    "requester": "self",
    "county": COUNTY_A,
    "township": "",
    "description": "最近考试压力很大，晚上睡不着。",
    "contact_preference": "online",
    "consent": "on",
    "action": "submit",
}
CRISIS_SENTENCE = "如果你现在有危险，请立即拨打 110 或 120；12355 青少年服务台可以倾诉"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _text(response: Any) -> str:
    return str(response.content.decode())


def _granted_client(consultation: Consultation) -> Client:
    client = Client()
    response = client.post("/help/my/", {"reference": consultation.reference, "code": RETRIEVAL_CODE})
    assert response.status_code == 302
    return client


@pytest.fixture
def accepted(persona_professionals: dict[str, Volunteer]) -> Consultation:
    counsellor = persona_professionals["counsellor"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    consultation: Consultation = ConsultationFactory.create(
        state=State.ACCEPTED,
        assigned_to=counsellor,
        accepted_at=datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC),
        notes="来访者提到父母离异，需要持续关注。",
        summary="内部小结：建议转介学校心理老师。",
    )
    return consultation


# --- The home page -------------------------------------------------------------------------------------


def test_home_shows_both_services_the_hotlines_and_the_ways_in() -> None:
    response = Client().get("/help/")

    assert response.status_code == 200
    text = _text(response)
    for number in ("12355", "110", "120"):
        assert f'href="tel:{number}"' in text
    assert 'href="/help/ask/?kind=legal"' in text
    assert 'href="/help/ask/?kind=psychological"' in text
    assert 'href="/help/my/"' in text
    assert 'href="/knowledge/"' in text


def test_public_pages_are_in_elder_mode_unless_switched_off() -> None:
    client = Client()
    assert '<html lang="zh-hans" class="elder-mode">' in _text(client.get("/help/"))

    session = client.session
    session[ELDER_MODE_SESSION_KEY] = False
    session.save()

    assert '<html lang="zh-hans" class="">' in _text(client.get("/help/"))


# --- The form ------------------------------------------------------------------------------------------


def test_the_topics_follow_the_kind() -> None:
    legal = _text(Client().get("/help/ask/?kind=legal"))
    assert '<option value="school_bullying">校园欺凌</option>' in legal
    assert 'value="study_pressure"' not in legal

    psychological = _text(Client().get("/help/ask/?kind=psychological"))
    assert '<option value="study_pressure">学习压力</option>' in psychological
    assert 'value="school_bullying"' not in psychological

    none = _text(Client().get("/help/ask/"))
    assert "请先选择求助类别" in none


def test_the_topic_select_is_refilled_for_a_kind() -> None:
    response = Client().get("/help/ask/topics/?kind=legal")

    assert response.status_code == 200
    text = _text(response)
    assert text.strip().startswith('<div id="topic-field">')
    assert '<option value="domestic_violence">家庭暴力</option>' in text
    assert 'value="self_harm"' not in text


def test_the_region_chooser_goes_from_county_to_township_without_villages() -> None:
    response = Client().get(f"/help/ask/regions/?county={COUNTY_A}")

    text = _text(response)
    assert '<optgroup label="杭州市">' in text
    assert f'<option value="{COUNTY_A}" selected>淳安县</option>' in text
    assert '<option value="330127100000">千岛湖镇</option>' in text
    assert 'name="region_code"' not in text
    assert "330127100219" not in text


def test_the_form_carries_the_notice_and_the_knowledge_suggestions() -> None:
    text = _text(Client().get("/help/ask/?kind=psychological"))

    assert 'id="consent-notice"' in text
    assert "只有接手你求助的志愿律师或心理咨询志愿者能看到" in text
    assert "保存多久：求助结束后保存 3 年" in text
    assert "不满 14 周岁的孩子：如果要留下电话或称呼，需要监护人同意" in text
    assert 'hx-get="/knowledge/suggest/"' in text
    assert 'hx-trigger="keyup changed delay:600ms, input changed delay:600ms"' in text
    assert 'hx-target="#suggestions"' in text
    assert 'href="tel:12355"' in text


def test_a_request_shows_its_reference_and_code_once() -> None:
    client = Client()
    response = client.post("/help/ask/?kind=psychological", FORM)

    assert response.status_code == 302
    assert response["Location"] == "/help/done/"
    stored = Consultation.objects.get()
    done = _text(client.get("/help/done/"))
    assert "请抄下或截图保存" in done
    assert f'<dd class="fs-2 fw-bold font-monospace" id="reference">{stored.reference}</dd>' in done
    code = done.split('id="retrieval-code">')[1].split("<")[0]
    assert stored.retrieval_digest == codes.retrieval_digest(stored.reference, code)
    assert 'id="crisis"' not in done

    again = _text(client.get("/help/done/"))
    assert code not in again
    assert 'id="codes-shown"' in again
    # The requester who just asked may open the request without typing the code.
    assert client.get(f"/help/my/{stored.reference}/").status_code == 200


def test_a_crisis_shows_the_hotlines_first() -> None:
    client = Client()
    client.post("/help/ask/", {**FORM, "description": "我不想活了，每天都很痛苦。"})

    done = _text(client.get("/help/done/"))

    assert 'role="alert" id="crisis"' in done
    assert CRISIS_SENTENCE in done
    assert done.index('id="crisis"') < done.index('id="codes"')
    assert done.index('href="tel:110"') < done.index('id="reference"')
    assert Consultation.objects.get().is_urgent is True


def test_a_township_is_taken_over_the_county() -> None:
    Client().post("/help/ask/", {**FORM, "township": "330127100000"})
    assert Consultation.objects.get().region_id == "330127100000"


def test_refused_form_shows_the_field_errors_and_stores_nothing() -> None:
    response = Client().post(
        "/help/ask/",
        {**FORM, "requester_age": "13", "contact_phone": "13905710001", "county": "", "description": "短"},
    )

    assert response.status_code == 200
    text = _text(response)
    assert "还有几处需要改一下" in text
    assert "孩子不满 14 周岁，留下电话或称呼需要监护人同意（《个人信息保护法》第三十一条）" in text
    assert '<div id="id_county_error"><div>请选择所在的县（市、区）</div></div>' in text
    assert '<div id="id_description_error"><div>请描述遇到的问题，至少 10 个字</div></div>' in text
    assert Consultation.objects.count() == 0


def test_a_topic_of_the_other_kind_is_refused_on_the_page() -> None:
    text = _text(Client().post("/help/ask/", {**FORM, "kind": "legal"}))
    assert '<div id="id_topic_error"><div>该问题类型不属于所选的求助类别</div></div>' in text
    assert Consultation.objects.count() == 0


def test_refreshing_the_lists_without_javascript_submits_nothing() -> None:
    response = Client().post("/help/ask/", {**FORM, "kind": "legal", "action": "refresh"})

    assert response.status_code == 200
    text = _text(response)
    assert '<option value="school_bullying">校园欺凌</option>' in text
    assert "还有几处需要改一下" not in text
    assert Consultation.objects.count() == 0


def test_a_limited_crisis_on_the_page_still_shows_the_hotlines(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_IP = "1/h"
    Client().post("/help/ask/", FORM)

    response = Client().post("/help/ask/", {**FORM, "description": "我想死，活着没有意思。"})

    assert response.status_code == 429
    text = _text(response)
    assert 'role="alert" id="crisis"' in text
    assert CRISIS_SENTENCE in text
    assert "提交过于频繁，暂时不能再提交" in text
    assert Consultation.objects.count() == 1


# --- The requester's pages -----------------------------------------------------------------------------


def test_the_request_page_shows_state_and_thread_but_no_notes_or_names(accepted: Consultation) -> None:
    MessageFactory.create(consultation=accepted, body="老师我该怎么办？")
    MessageFactory.create(
        consultation=accepted,
        sender=Sender.PROFESSIONAL,
        author=accepted.assigned_to.user if accepted.assigned_to else None,
        body="先试试每天固定时间睡觉。",
    )

    response = _granted_client(accepted).get(f"/help/my/{accepted.reference}/")

    text = _text(response)
    assert "心理志愿者已经接手，正在为你处理" in text
    assert "最近考试压力很大，晚上睡不着。" in text
    assert "老师我该怎么办？" in text
    assert "先试试每天固定时间睡觉。" in text
    assert 'href="tel:120"' in text
    assert accepted.assigned_to is not None
    assert accepted.assigned_to.name not in text
    for hidden in ("父母离异", "内部小结", "13900001111", "小林"):
        assert hidden not in text
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_requester_writes_back_with_an_attachment_and_the_clock_starts(
    accepted: Consultation, private_media: Path
) -> None:
    client = _granted_client(accepted)
    upload = SimpleUploadedFile("成绩单.pdf", PDF, content_type="application/pdf")

    response = client.post(
        f"/help/my/{accepted.reference}/messages/", {"body": "这是我的成绩单。", "attachments": [upload]}
    )

    assert response.status_code == 302
    message = Message.objects.get(consultation=accepted)
    assert (message.sender, message.body) == (Sender.REQUESTER, "这是我的成绩单。")
    accepted.refresh_from_db()
    assert accepted.reply_due_at == datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)
    attachment = Attachment.objects.get()
    download = client.get(f"/help/my/{accepted.reference}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    # Nobody else downloads it: without the grant, the retrieval form.
    assert Client().get(f"/help/my/{accepted.reference}/attachments/{attachment.pk}/").status_code == 302


def test_an_attachment_of_another_request_is_not_found(accepted: Consultation, private_media: Path) -> None:
    other = ConsultationFactory.create()
    client = _granted_client(other)
    client.post(
        f"/help/my/{other.reference}/messages/",
        {"body": "附件", "attachments": [SimpleUploadedFile("a.pdf", PDF)]},
    )
    theirs = Attachment.objects.get()

    response = _granted_client(accepted).get(f"/help/my/{accepted.reference}/attachments/{theirs.pk}/")

    assert response.status_code == 404


def test_more_than_three_attachments_are_refused(accepted: Consultation, private_media: Path) -> None:
    files = [SimpleUploadedFile(f"{n}.pdf", PDF) for n in range(4)]

    response = _granted_client(accepted).post(
        f"/help/my/{accepted.reference}/messages/", {"body": "四个文件", "attachments": files}
    )

    assert response.status_code == 200
    assert "每条留言最多附 3 个文件" in _text(response)
    assert not Message.objects.exists()


def test_booking_and_cancelling_on_the_page(accepted: Consultation) -> None:
    client = _granted_client(accepted)
    page = _text(client.get(f"/help/my/{accepted.reference}/"))
    assert "11月30日（周一）12:00" in page
    first = "2026-11-30T12:00:00+08:00"

    response = client.post(
        f"/help/my/{accepted.reference}/appointments/", {"starts_at": first, "mode": "video"}
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.mode, appointment.booked_by, appointment.state) == ("video", "requester", "booked")
    cancelled = client.post(f"/help/my/{accepted.reference}/appointments/{appointment.pk}/cancel/")
    assert cancelled.status_code == 302
    appointment.refresh_from_db()
    assert appointment.state == "cancelled"


def test_no_booking_before_a_professional_accepts() -> None:
    waiting = ConsultationFactory.create()
    client = _granted_client(waiting)
    assert 'id="booking-form"' not in _text(client.get(f"/help/my/{waiting.reference}/"))

    client.post(
        f"/help/my/{waiting.reference}/appointments/",
        {"starts_at": "2026-11-30T12:00:00+08:00", "mode": "phone"},
    )

    assert not Appointment.objects.exists()


def test_rating_only_after_the_request_is_closed(accepted: Consultation) -> None:
    client = _granted_client(accepted)
    assert 'id="rating-form"' not in _text(client.get(f"/help/my/{accepted.reference}/"))
    client.post(f"/help/my/{accepted.reference}/rating/", {"rating": "5"})
    accepted.refresh_from_db()
    assert accepted.rating is None

    Consultation.objects.filter(pk=accepted.pk).update(state=State.CLOSED, outcome=Outcome.HOTLINE_12355)
    page = _text(client.get(f"/help/my/{accepted.reference}/"))
    assert "已结束：转介12355" in page
    assert '<p class="mb-0" id="outcome-words">转介12355</p>' in page
    assert 'id="rating-form"' in page
    assert 'id="message-form"' not in page

    response = client.post(f"/help/my/{accepted.reference}/rating/", {"rating": "4", "comment": "谢谢"})

    assert response.status_code == 302
    accepted.refresh_from_db()
    assert (accepted.rating, accepted.rating_comment) == (4, "谢谢")
    assert 'id="rating-form"' not in _text(client.get(f"/help/my/{accepted.reference}/"))


def test_a_later_crisis_message_shows_the_crisis_block(accepted: Consultation) -> None:
    client = _granted_client(accepted)

    client.post(f"/help/my/{accepted.reference}/messages/", {"body": "我想割腕，真的撑不下去了。"})

    accepted.refresh_from_db()
    assert accepted.is_urgent is True
    assert CRISIS_SENTENCE in _text(client.get(f"/help/my/{accepted.reference}/"))


# --- Everyone is the same here -----------------------------------------------------------------------


def test_authorization_matrix_of_the_public_pages(clients: dict[str, Client], accepted: Consultation) -> None:
    """Every persona and the anonymous may use the public pages; being signed in as staff gives nothing
    more: the requester's pages send everyone without the code to the retrieval form."""
    MessageFactory.create(consultation=accepted, body="我的秘密留言")
    reference = accepted.reference
    back = f"/help/my/?reference={reference}"
    checks: list[Check] = []
    for persona in clients:
        checks += [
            Check(persona, "GET", "/help/", 200),
            Check(persona, "GET", "/help/ask/?kind=legal", 200),
            Check(persona, "GET", "/help/ask/topics/?kind=legal", 200),
            Check(persona, "GET", f"/help/ask/regions/?county={COUNTY_A}", 200),
            Check(persona, "GET", "/help/done/", 200),
            Check(persona, "GET", "/help/my/", 200),
            Check(persona, "GET", f"/help/my/{reference}/", 302, must_not_contain=("我的秘密留言",)),
            Check(persona, "GET", f"/help/my/{reference}/attachments/1/", 302),
            Check(persona, "POST", f"/help/my/{reference}/messages/", 302, form={"body": "冒充"}),
            Check(persona, "POST", f"/help/my/{reference}/appointments/", 302, form={"mode": "phone"}),
            Check(persona, "POST", f"/help/my/{reference}/appointments/1/cancel/", 302),
            Check(persona, "POST", f"/help/my/{reference}/rating/", 302, form={"rating": "1"}),
            Check(persona, "POST", f"/help/my/{reference}/leave/", 302),
            Check(persona, "POST", "/help/ask/", 200, form={**FORM, "consent": ""}),
        ]
    assert assert_authorization_matrix(clients, checks) == 14 * len(clients)
    for persona, client in clients.items():
        response = client.get(f"/help/my/{reference}/")
        assert response["Location"] == back, persona
    assert list(Message.objects.values_list("body", flat=True)) == ["我的秘密留言"]
    assert not Appointment.objects.exists()
    accepted.refresh_from_db()
    assert accepted.rating is None
