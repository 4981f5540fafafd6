"""The public intake service: validation per field, the guardian's consent for under-14s, the rate limits
per address and per phone (a crisis is never refused without the hotlines), crisis triage at intake, and
that a refused request leaves nothing stored."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import RequestFactory

from guanai.audit.models import AuditEvent
from guanai.consultations import codes
from guanai.consultations.intake import (
    IntakeData,
    IntakeRateLimited,
    consultation_submit,
)
from guanai.consultations.models import Consultation
from guanai.consultations.tests.factories import ConsultationFactory, on_duty_all_week
from guanai.consultations.vocabulary import ContactPreference, Kind, Requester, State, Topic
from guanai.core.errors import ValidationFailed
from guanai.core.testing import COUNTY_A

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions", "frozen_clock")]

ORDINARY = "最近考试压力很大，晚上睡不着。"
CRISIS = "我不想活了，每天都很痛苦，没有人理解我。"
HOTLINE_NUMBERS = ["12355", "110", "120"]


def _request(ip: str = "203.0.113.5") -> HttpRequest:
    return RequestFactory().post("/help/ask/", REMOTE_ADDR=ip)


def _data(**changes: Any) -> IntakeData:
    data = IntakeData(
        kind=Kind.PSYCHOLOGICAL,
        topic=Topic.STUDY_PRESSURE,
        requester=Requester.SELF,
        region_code=COUNTY_A,
        description=ORDINARY,
        consent=True,
    )
    return dataclasses.replace(data, **changes)


def _nothing_stored() -> None:
    assert Consultation.objects.count() == 0
    assert not AuditEvent.objects.filter(action="consultation.submitted").exists()


def _refused(data: IntakeData, request: HttpRequest | None = None) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        consultation_submit(request=request or _request(), data=data)
    return caught.value.fields


# --- A request accepted ----------------------------------------------------------------------------


def test_valid_request_is_stored_with_only_the_digest_of_its_code(settings: Any) -> None:
    result = consultation_submit(
        request=_request(),
        data=_data(
            requester_name=" 小林 ",
            contact_phone="+86 139-0571-0001",
            contact_preference=ContactPreference.PHONE,
            requester_age=15,
        ),
    )

    stored = Consultation.objects.get()
    assert result.consultation == stored
    assert stored.reference.startswith("ZX")
    assert len(stored.reference) == 10
    assert len(result.retrieval_code) == 8
    assert stored.retrieval_digest == codes.retrieval_digest(stored.reference, result.retrieval_code)
    assert result.retrieval_code not in stored.retrieval_digest
    assert (stored.kind, stored.topic, stored.requester, stored.region_id) == (
        Kind.PSYCHOLOGICAL,
        Topic.STUDY_PRESSURE,
        Requester.SELF,
        COUNTY_A,
    )
    assert stored.requester_name == "小林"
    assert stored.contact_phone == "13905710001"
    assert stored.requester_age == 15
    assert stored.description == ORDINARY
    assert stored.consent_version == settings.GUANAI_CONSULTATION_NOTICE_VERSION
    assert stored.guardian_consent is False
    assert stored.state == State.WAITING


def test_a_mobile_typed_in_full_width_digits_is_understood() -> None:
    result = consultation_submit(request=_request(), data=_data(contact_phone="１３９０５７１０００１"))
    assert result.consultation.contact_phone == "13905710001"


def test_submission_is_audited_without_personal_data() -> None:
    result = consultation_submit(
        request=_request(), data=_data(requester_name="小林", contact_phone="13905710001")
    )

    event = AuditEvent.objects.get(action="consultation.submitted")
    assert event.detail == {
        "reference": result.consultation.reference,
        "kind": "psychological",
        "topic": "study_pressure",
        "urgent": False,
        "region": COUNTY_A,
    }
    assert event.target_id == str(result.consultation.pk)
    assert event.ip == "203.0.113.5"
    text = f"{event.detail} {event.changed_fields}"
    for personal in ("小林", "13905710001", "考试压力", result.retrieval_code):
        assert personal not in text


@pytest.mark.parametrize(
    "region_code",
    ["330127000000", "330127", "330127100000", "330127100219"],
    ids=["county", "county-short", "township", "village"],
)
def test_region_at_county_level_or_below_is_accepted(region_code: str) -> None:
    result = consultation_submit(request=_request(), data=_data(region_code=region_code))
    assert result.consultation.region_id == region_code.ljust(12, "0")


def test_legal_request_with_a_legal_topic_is_accepted() -> None:
    result = consultation_submit(request=_request(), data=_data(kind=Kind.LEGAL, topic=Topic.SCHOOL_BULLYING))
    assert (result.consultation.kind, result.consultation.topic) == ("legal", "school_bullying")


def test_a_taken_reference_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    ConsultationFactory.create(reference="ZXTAKEN234")
    drawn = iter(["ZXTAKEN234", "ZXFRESH567"])
    monkeypatch.setattr(codes, "new_reference", lambda: next(drawn))

    result = consultation_submit(request=_request(), data=_data())

    assert result.consultation.reference == "ZXFRESH567"
    assert Consultation.objects.count() == 2


# --- Validation, field by field --------------------------------------------------------------------

LONG_NAME = "小" * 21


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "medical"}, "kind", "请选择求助类别（法律咨询或心理咨询）"),
        ({"kind": ""}, "kind", "请选择求助类别（法律咨询或心理咨询）"),
        ({"topic": ""}, "topic", "请选择问题类型"),
        ({"topic": "astrology"}, "topic", "该问题类型不属于所选的求助类别"),
        ({"kind": Kind.LEGAL, "topic": Topic.STUDY_PRESSURE}, "topic", "该问题类型不属于所选的求助类别"),
        ({"topic": Topic.SCHOOL_BULLYING}, "topic", "该问题类型不属于所选的求助类别"),
        ({"requester": ""}, "requester", "请选择求助人身份"),
        ({"requester": "stranger"}, "requester", "请选择求助人身份"),
        ({"region_code": ""}, "region_code", "请选择所在的县（市、区）"),
        ({"region_code": "abc"}, "region_code", "所在地区不正确，请重新选择"),
        ({"region_code": "330127999000"}, "region_code", "所在地区不正确，请重新选择"),
        ({"region_code": "110000000000"}, "region_code", "所在地区不在本省范围内"),
        ({"region_code": "330000000000"}, "region_code", "请至少选择到县（市、区）"),
        ({"region_code": "330100000000"}, "region_code", "请至少选择到县（市、区）"),
        ({"description": "太难了"}, "description", "请描述遇到的问题，至少 10 个字"),
        ({"description": "  一二三四五六七八九  "}, "description", "请描述遇到的问题，至少 10 个字"),
        ({"description": "字" * 2001}, "description", "问题描述不能超过 2000 个字"),
        ({"requester_age": 5}, "requester_age", "孩子的年龄应在 6 到 17 岁之间"),
        ({"requester_age": 18}, "requester_age", "孩子的年龄应在 6 到 17 岁之间"),
        ({"contact_preference": "letter"}, "contact_preference", "请选择联系方式"),
        (
            {"contact_preference": ContactPreference.PHONE},
            "contact_phone",
            "选择电话回访时请填写手机号",
        ),
        ({"contact_phone": "0571-8888888"}, "contact_phone", "手机号码应为以 1 开头的 11 位数字"),
        ({"contact_phone": "1390571000"}, "contact_phone", "手机号码应为以 1 开头的 11 位数字"),
        ({"contact_phone": "23905710001"}, "contact_phone", "手机号码应为以 1 开头的 11 位数字"),
        ({"requester_name": LONG_NAME}, "requester_name", "称呼不能超过 20 个字"),
        ({"consent": False}, "consent", "请阅读并同意个人信息处理告知后再提交"),
    ],
)
def test_each_field_is_refused_with_its_own_message(
    changes: dict[str, Any], field: str, message: str
) -> None:
    assert _refused(_data(**changes)) == {field: [message]}
    _nothing_stored()


def test_every_problem_is_reported_at_once() -> None:
    fields = _refused(IntakeData(kind="", topic="", requester="", region_code="", description=""))
    assert sorted(fields) == ["consent", "description", "kind", "region_code", "requester", "topic"]


def test_boundaries_of_description_and_age_and_name_are_accepted() -> None:
    consultation_submit(request=_request(), data=_data(description="一二三四五六七八九十", requester_age=6))
    consultation_submit(
        request=_request(),
        data=_data(description="字" * 2000, requester_age=17, requester_name="小" * 20),
    )
    assert Consultation.objects.count() == 2


# --- The guardian's consent (个人信息保护法 art.31) ---------------------------------------------------

GUARDIAN_MESSAGE = (
    "孩子不满 14 周岁，留下电话或称呼需要监护人同意（《个人信息保护法》第三十一条）。"
    "请勾选“监护人已同意”，或者不留电话和称呼、只用查询码在线查看回复。"
)


def test_thirteen_year_old_leaving_a_phone_needs_the_guardians_consent() -> None:
    fields = _refused(_data(requester_age=13, contact_phone="13905710001"))
    assert fields == {"guardian_consent": [GUARDIAN_MESSAGE]}
    _nothing_stored()


def test_thirteen_year_old_leaving_a_name_needs_the_guardians_consent() -> None:
    assert _refused(_data(requester_age=13, requester_name="小林")) == {
        "guardian_consent": [GUARDIAN_MESSAGE]
    }


def test_thirteen_year_old_without_contact_details_needs_no_consent() -> None:
    result = consultation_submit(request=_request(), data=_data(requester_age=13))
    assert result.consultation.requester_age == 13
    assert result.consultation.guardian_consent is False


def test_thirteen_year_old_with_the_guardians_consent_may_leave_a_phone() -> None:
    result = consultation_submit(
        request=_request(), data=_data(requester_age=13, contact_phone="13905710001", guardian_consent=True)
    )
    assert result.consultation.guardian_consent is True
    assert result.consultation.contact_phone == "13905710001"


def test_fifteen_year_old_may_leave_a_phone_without_the_guardian() -> None:
    result = consultation_submit(
        request=_request(), data=_data(requester_age=15, contact_phone="13905710001")
    )
    assert result.consultation.contact_phone == "13905710001"


# --- Crisis triage at intake -----------------------------------------------------------------------


def test_a_crisis_is_urgent_at_once_with_the_hotlines() -> None:
    result = consultation_submit(request=_request(), data=_data(description=CRISIS))

    assert result.urgent is True
    assert [hotline["number"] for hotline in result.hotlines] == HOTLINE_NUMBERS
    stored = Consultation.objects.get()
    assert stored.is_urgent is True
    assert stored.crisis_signals != []
    # Offered to everyone on duty, assigned to nobody until one accepts; the accept clock runs.
    assert stored.assigned_to_id is None
    assert stored.accept_due_at is not None
    assert AuditEvent.objects.get(action="consultation.submitted").detail["urgent"] is True


def test_the_self_harm_topic_is_urgent_whatever_the_words() -> None:
    result = consultation_submit(request=_request(), data=_data(topic=Topic.SELF_HARM))
    assert result.urgent is True
    assert result.consultation.crisis_signals != []


def test_an_ordinary_request_is_not_urgent_and_goes_to_the_professional_on_duty(
    persona_professionals: dict[str, Any],
) -> None:
    counsellor = persona_professionals["counsellor"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)

    result = consultation_submit(request=_request(), data=_data())

    assert result.urgent is False
    assert [hotline["number"] for hotline in result.hotlines] == HOTLINE_NUMBERS
    stored = Consultation.objects.get()
    assert (stored.is_urgent, stored.crisis_signals) == (False, [])
    assert stored.assigned_to == counsellor
    assert stored.reply_due_at is not None


# --- Rate limits -----------------------------------------------------------------------------------


def test_requests_from_one_address_are_limited(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_IP = "2/h"
    consultation_submit(request=_request("203.0.113.5"), data=_data())
    consultation_submit(request=_request("203.0.113.5"), data=_data())

    with pytest.raises(IntakeRateLimited) as caught:
        consultation_submit(request=_request("203.0.113.5"), data=_data())

    assert caught.value.code == "rate_limited"
    assert caught.value.status == 429
    assert caught.value.urgent is False
    assert caught.value.message == "提交过于频繁，请稍后再试。如需马上求助，可以拨打 12355 青少年服务台。"
    assert Consultation.objects.count() == 2
    # Another address is not affected.
    consultation_submit(request=_request("203.0.113.6"), data=_data())
    assert Consultation.objects.count() == 3


def test_requests_for_one_phone_are_limited_whatever_the_address(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_PHONE = "2/d"
    phone = _data(contact_phone="13905710001")
    consultation_submit(request=_request("203.0.113.1"), data=phone)
    consultation_submit(
        request=_request("203.0.113.2"), data=dataclasses.replace(phone, contact_phone="139 0571 0001")
    )

    with pytest.raises(IntakeRateLimited):
        consultation_submit(request=_request("203.0.113.3"), data=phone)

    assert Consultation.objects.count() == 2
    consultation_submit(request=_request("203.0.113.4"), data=_data(contact_phone="13905710002"))
    consultation_submit(request=_request("203.0.113.5"), data=_data())
    assert Consultation.objects.count() == 4


def test_a_limited_crisis_still_gets_the_hotlines(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_IP = "1/h"
    consultation_submit(request=_request(), data=_data())

    with pytest.raises(IntakeRateLimited) as caught:
        consultation_submit(request=_request(), data=_data(description=CRISIS))

    assert caught.value.urgent is True
    assert [hotline["number"] for hotline in caught.value.hotlines] == HOTLINE_NUMBERS
    assert caught.value.message == (
        "提交过于频繁，暂时不能再提交。如果你现在有危险，请立即拨打 110 或 120；12355 青少年服务台可以倾诉。"
    )
    assert Consultation.objects.count() == 1


def test_a_refused_request_does_not_count_against_the_limit(settings: Any) -> None:
    settings.GUANAI_CONSULTATION_RATE_PER_IP = "1/h"
    _refused(_data(description="太短"))
    consultation_submit(request=_request(), data=_data())
    assert Consultation.objects.count() == 1
