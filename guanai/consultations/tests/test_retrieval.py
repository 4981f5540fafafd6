"""The requester's access with the reference and the retrieval code: the right code reads, a wrong code
answers exactly like an unknown reference, every attempt counts against the address, and a retrieval on
the web opens the request's pages for two hours (or until 退出)."""

from __future__ import annotations

import contextlib
import datetime
import re
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client, RequestFactory

from guanai.audit.models import AuditEvent
from guanai.consultations.intake import (
    RequestNotFound,
    RetrievalRateLimited,
    consultation_for_requester,
)
from guanai.consultations.models import Consultation
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import RETRIEVAL_CODE, ConsultationFactory, MessageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions", "frozen_clock")]

RETRIEVE = "/help/my/"
WRONG = "受理编号或查询码不正确"


def _request(ip: str = "198.51.100.20") -> HttpRequest:
    return RequestFactory().get("/", REMOTE_ADDR=ip)


@pytest.fixture
def consultation() -> Consultation:
    made: Consultation = ConsultationFactory.create()
    MessageFactory.create(consultation=made, body="我的第一条留言")
    return made


# --- The service ---------------------------------------------------------------------------------------


def test_the_right_code_gives_the_request(consultation: Consultation) -> None:
    found = consultation_for_requester(
        request=_request(), reference=consultation.reference, code=RETRIEVAL_CODE
    )

    assert found == consultation
    event = AuditEvent.objects.get(action="consultation.requester_access")
    assert (event.outcome, event.target_id) == ("success", str(consultation.pk))


def test_the_code_is_read_whatever_the_case_spaces_and_dashes(consultation: Consultation) -> None:
    typed = f" {RETRIEVAL_CODE[:4].lower()} - {RETRIEVAL_CODE[4:].lower()} "
    found = consultation_for_requester(
        request=_request(), reference=consultation.reference.lower(), code=typed
    )
    assert found == consultation


@pytest.mark.parametrize(
    ("reference", "code"),
    [("own", "WRONG234"), ("ZXNOSUCH99", RETRIEVAL_CODE), ("", RETRIEVAL_CODE), ("own", "")],
    ids=["wrong-code", "unknown-reference", "no-reference", "no-code"],
)
def test_a_wrong_code_and_an_unknown_reference_fail_alike(
    consultation: Consultation, reference: str, code: str
) -> None:
    reference = consultation.reference if reference == "own" else reference

    with pytest.raises(RequestNotFound) as caught:
        consultation_for_requester(request=_request(), reference=reference, code=code)

    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "not_found", WRONG)
    # The failure names no request: a real reference looks like an invented one in the trail too.
    event = AuditEvent.objects.get(action="consultation.requester_access")
    assert (event.outcome, event.target_id, event.ip) == ("failed", "", "198.51.100.20")


def test_every_attempt_counts_and_the_thirty_first_is_refused_even_when_right(
    consultation: Consultation,
) -> None:
    for attempt in range(30):
        with contextlib.suppress(RequestNotFound):
            consultation_for_requester(
                request=_request(),
                reference=consultation.reference,
                code=RETRIEVAL_CODE if attempt % 3 == 0 else "WRONG234",
            )

    with pytest.raises(RetrievalRateLimited) as caught:
        consultation_for_requester(request=_request(), reference=consultation.reference, code=RETRIEVAL_CODE)

    assert (caught.value.status, caught.value.code) == (429, "rate_limited")
    assert caught.value.message == "查询过于频繁，请稍后再试。"
    # Another address is not affected.
    found = consultation_for_requester(
        request=_request("198.51.100.21"), reference=consultation.reference, code=RETRIEVAL_CODE
    )
    assert found == consultation


def test_the_limit_lifts_after_the_hour(consultation: Consultation, settings: Any, time_machine: Any) -> None:
    settings.GUANAI_RETRIEVAL_RATE_PER_IP = "2/h"
    for _attempt in range(2):
        consultation_for_requester(request=_request(), reference=consultation.reference, code=RETRIEVAL_CODE)
    with pytest.raises(RetrievalRateLimited):
        consultation_for_requester(request=_request(), reference=consultation.reference, code=RETRIEVAL_CODE)

    time_machine.move_to(NOW + datetime.timedelta(hours=2), tick=False)

    assert consultation_for_requester(
        request=_request(), reference=consultation.reference, code=RETRIEVAL_CODE
    )


# --- The retrieval page --------------------------------------------------------------------------------


def _error_block(html: str) -> str:
    match = re.search(
        r'<div class="alert alert-danger fs-5" role="alert" id="retrieve-error">(.*?)</div>\n', html, re.S
    )
    return match.group(1) if match else ""


def _retrieve(client: Client, reference: str, code: str = RETRIEVAL_CODE) -> Any:
    return client.post(RETRIEVE, {"reference": reference, "code": code})


def test_the_right_code_opens_the_request(consultation: Consultation) -> None:
    client = Client()
    response = _retrieve(client, consultation.reference)

    assert response.status_code == 302
    assert response["Location"] == f"/help/my/{consultation.reference}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "我的第一条留言" in page.content.decode()


def test_a_wrong_code_says_only_that_and_like_an_unknown_reference(consultation: Consultation) -> None:
    wrong = _retrieve(Client(), consultation.reference, "WRONG234")
    unknown = _retrieve(Client(), "ZXNOSUCH99")

    assert (wrong.status_code, unknown.status_code) == (200, 200)
    assert (
        _error_block(wrong.content.decode())
        == _error_block(unknown.content.decode())
        == f"<div>{WRONG}</div>"
    )
    for response in (wrong, unknown):
        text = response.content.decode()
        assert "我的第一条留言" not in text
        assert "最近考试压力很大" not in text


def test_the_retrieval_page_is_rate_limited(consultation: Consultation) -> None:
    client = Client()
    for _attempt in range(30):
        _retrieve(client, consultation.reference, "WRONG234")

    response = _retrieve(client, consultation.reference)

    assert response.status_code == 429
    assert "查询过于频繁，请稍后再试。" in response.content.decode()
    assert client.get(f"/help/my/{consultation.reference}/").status_code == 302


# --- The session grant ---------------------------------------------------------------------------------


def test_without_the_code_the_request_page_sends_to_the_retrieval_form(consultation: Consultation) -> None:
    response = Client().get(f"/help/my/{consultation.reference}/")

    assert response.status_code == 302
    assert response["Location"] == f"{RETRIEVE}?reference={consultation.reference}"


def test_the_grant_lasts_two_hours_of_use(consultation: Consultation, time_machine: Any) -> None:
    client = Client()
    _retrieve(client, consultation.reference)
    page = f"/help/my/{consultation.reference}/"
    # Used every 20 minutes (a session idles out after 30), it still ends two hours after the retrieval.
    for minutes in range(20, 120, 20):
        time_machine.move_to(NOW + datetime.timedelta(minutes=minutes), tick=False)
        assert client.get(page).status_code == 200
    time_machine.move_to(NOW + datetime.timedelta(minutes=119), tick=False)
    assert client.get(page).status_code == 200

    time_machine.move_to(NOW + datetime.timedelta(minutes=120), tick=False)

    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(RETRIEVE)


def test_an_idle_session_needs_the_code_again(consultation: Consultation, time_machine: Any) -> None:
    client = Client()
    _retrieve(client, consultation.reference)

    time_machine.move_to(NOW + datetime.timedelta(minutes=31), tick=False)

    assert client.get(f"/help/my/{consultation.reference}/").status_code == 302


def test_the_grant_opens_only_its_own_request(consultation: Consultation) -> None:
    other = ConsultationFactory.create()
    client = Client()
    _retrieve(client, consultation.reference)

    assert client.get(f"/help/my/{consultation.reference}/").status_code == 200
    assert client.get(f"/help/my/{other.reference}/").status_code == 302


def test_leaving_drops_the_grant(consultation: Consultation) -> None:
    client = Client()
    _retrieve(client, consultation.reference)

    response = client.post(f"/help/my/{consultation.reference}/leave/")

    assert response.status_code == 302
    assert response["Location"] == "/help/"
    assert client.get(f"/help/my/{consultation.reference}/").status_code == 302


def test_the_retrieval_renews_the_session_key(consultation: Consultation) -> None:
    client = Client()
    client.get(RETRIEVE)
    before = client.session.session_key

    _retrieve(client, consultation.reference)

    assert client.session.session_key != before
