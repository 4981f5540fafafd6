"""The pages of data-subject requests: registering from the child's record, the list with its clock,
the actions, the reply letter, and who may open what."""

from __future__ import annotations

import datetime
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from guanai.audit.models import AuditEvent
from guanai.minors.models import Minor
from guanai.pairings.tests.factories import PairingFactory
from guanai.rights.models import DataSubjectRequest
from guanai.rights.tests.conftest import Family
from guanai.rights.tests.factories import DataSubjectRequestFactory
from guanai.rights.vocabulary import Kind, Status

pytestmark = pytest.mark.django_db


def test_the_childs_page_offers_to_register_a_request(family: Family, clients: dict[str, Client]) -> None:
    response = clients["county_a_admin"].get(f"/minors/{family.zhang.pk}/")

    assert f'href="/rights/new/{family.zhang.pk}/"' in response.content.decode()


def test_registering_a_request_from_the_form(family: Family, clients: dict[str, Client]) -> None:
    response = clients["county_a_admin"].post(
        f"/rights/new/{family.zhang.pk}/",
        {
            "kind": "deletion",
            "requester_role": "guardian",
            "requester_name": "张建华",
            "requester_contact": "13957154321",
            "verification": "household_register",
            "description": "请删除孩子的全部信息",
            "received_on": "2026-11-30",
        },
    )

    subject_request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/rights/{subject_request.pk}/"
    assert (subject_request.kind, subject_request.due_on) == (Kind.DELETION, datetime.date(2026, 12, 15))
    page = clients["county_a_admin"].get(response["Location"]).content.decode()
    assert "请删除孩子的全部信息" in page
    assert "2026年12月15日" in page
    assert "139****4321" in page
    assert "13957154321" not in page


def test_the_list_shows_the_overdue_requests_first(family: Family, clients: dict[str, Client]) -> None:
    late = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 15), due_on=datetime.date(2026, 11, 30)
    )

    body = clients["county_a_admin"].get("/rights/?overdue=on").content.decode()

    assert 'id="deadline-clock"' in body
    assert f'href="/rights/{late.pk}/">#{late.pk} 查阅</a>' in body
    assert "已超期" in body


def test_another_countys_admin_gets_404(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)

    client = clients["county_b_admin"]
    assert client.get(f"/rights/{subject_request.pk}/").status_code == 404
    assert (
        client.post(f"/rights/{subject_request.pk}/refuse/", {"reasons": "x", "confirmed": "on"}).status_code
        == 404
    )
    assert client.post(f"/rights/{subject_request.pk}/copy/").status_code == 404
    assert client.get(f"/rights/new/{family.zhang.pk}/").status_code == 404
    assert client.post(f"/rights/{subject_request.pk}/erase/", {"confirmation": "1"}).status_code == 404
    assert client.post(f"/rights/{subject_request.pk}/complete/", {"confirmed": "on"}).status_code == 404
    assert client.get(f"/rights/{subject_request.pk}/letter/").status_code == 404
    assert client.post(f"/rights/{subject_request.pk}/contact/").status_code == 404
    subject_request.refresh_from_db()
    assert subject_request.status == Status.RECEIVED


def test_refusing_from_the_page_then_printing_the_letter(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)
    client = clients["county_a_admin"]

    unconfirmed = client.post(f"/rights/{subject_request.pk}/refuse/", {"reasons": "申请人未能证明监护关系"})
    assert unconfirmed.status_code == 302
    subject_request.refresh_from_db()
    assert subject_request.status == Status.RECEIVED

    client.post(
        f"/rights/{subject_request.pk}/refuse/", {"reasons": "申请人未能证明监护关系", "confirmed": "on"}
    )

    subject_request.refresh_from_db()
    assert subject_request.status == Status.REFUSED
    letter = client.get(f"/rights/{subject_request.pk}/letter/").content.decode()
    assert "王秀英：" in letter
    assert "申请人未能证明监护关系" in letter
    assert "淳安县关心下一代工作委员会" in letter
    assert "张三明" not in letter


def test_downloading_the_copy_from_the_page(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang, kind=Kind.COPY)

    response = clients["county_a_admin"].post(f"/rights/{subject_request.pk}/copy/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="subject-request-{subject_request.pk}-'
    )
    sheet = load_workbook(io.BytesIO(response.content))["基本信息"]
    assert sheet.cell(row=3, column=2).value == "张三明"
    assert AuditEvent.objects.filter(action="subject_request.copy_downloaded").count() == 1


def test_erasing_from_the_page(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang, kind=Kind.DELETION)

    clients["county_a_admin"].post(
        f"/rights/{subject_request.pk}/erase/", {"confirmation": str(family.zhang.pk), "note": ""}
    )

    assert Minor.objects.get(pk=family.zhang.pk).name == "已删除"
    letter = clients["county_a_admin"].get(f"/rights/{subject_request.pk}/letter/").content.decode()
    assert "我们已删除可识别该儿童身份的个人信息" in letter


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("county_a_admin", 200),
        ("township_worker", 200),
        ("province_admin", 200),
        ("volunteer", 403),
        ("lawyer", 403),
        ("auditor", 403),
        ("system_admin", 403),
    ],
)
def test_who_may_open_the_list(family: Family, clients: dict[str, Client], persona: str, status: int) -> None:
    assert clients[persona].get("/rights/").status_code == status


def test_a_deletion_request_shows_why_it_cannot_be_erased_yet(
    family: Family, clients: dict[str, Client]
) -> None:
    PairingFactory.create(minor=family.zhang)
    subject_request = DataSubjectRequestFactory.create(
        minor=family.zhang, kind=Kind.DELETION, received_by=family.county_a.user
    )

    body = clients["county_a_admin"].get(f"/rights/{subject_request.pk}/").content.decode()

    assert 'id="erasure-obstacles"' in body
    assert "该儿童尚有未解除的结对，志愿者仍在关爱服务中；请先解除结对。" in body
    assert "county_a_admin" in body  # who registered it


def test_showing_the_requesters_contact_is_audited(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)

    response = clients["county_a_admin"].post(f"/rights/{subject_request.pk}/contact/")

    assert "13957100001" in response.content.decode()
    event = AuditEvent.objects.get(action="personal_data.unmask")
    assert (event.target_type, event.changed_fields) == ("rights.datasubjectrequest", ["requester_contact"])


def _village_liaison_client(family: Family) -> Client:
    from guanai.core.access import Role
    from guanai.core.testing import create_persona, verified_client

    return verified_client(
        create_persona("p-liaison", Role.VILLAGE_LIAISON, family.zhang.region_id, display_name="联络员")
    )


def test_a_village_liaison_sees_the_requests_texts_masked(family: Family, clients: dict[str, Client]) -> None:
    refused = DataSubjectRequestFactory.create(
        minor=family.zhang,
        kind=Kind.CORRECTION,
        description="孩子张三明的学校写错了",
        status=Status.REFUSED,
        refusal_reasons="张三明的学校信息无误",
        outcome_note="已电话告知张建华",
        handled_at=datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC),
    )

    masked = _village_liaison_client(family).get(f"/rights/{refused.pk}/").content.decode()
    clear = clients["county_a_admin"].get(f"/rights/{refused.pk}/").content.decode()

    for secret in ("孩子张三明的学校写错了", "张三明的学校信息无误", "已电话告知张建华"):
        assert secret not in masked
        assert secret in clear
    assert '<dd class="col-sm-9" id="subject-request-description">****</dd>' in masked
    assert '<dd class="col-sm-9" id="refusal-reasons">****</dd>' in masked
    assert '<dd class="col-sm-9" id="outcome-note">****</dd>' in masked


def test_a_village_liaison_is_not_offered_to_refuse_a_deletion(family: Family) -> None:
    deletion = DataSubjectRequestFactory.create(minor=family.zhang, kind=Kind.DELETION)
    correction = DataSubjectRequestFactory.create(minor=family.zhang, kind=Kind.CORRECTION)
    client = _village_liaison_client(family)

    assert 'id="refuse-form"' not in client.get(f"/rights/{deletion.pk}/").content.decode()
    assert 'id="refuse-form"' in client.get(f"/rights/{correction.pk}/").content.decode()
    client.post(f"/rights/{deletion.pk}/refuse/", {"reasons": "无法核实", "confirmed": "on"})
    deletion.refresh_from_db()
    assert deletion.status == Status.RECEIVED


def test_printing_the_letter_is_audited(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)
    client = clients["county_a_admin"]
    client.post(
        f"/rights/{subject_request.pk}/refuse/", {"reasons": "申请人未能证明监护关系", "confirmed": "on"}
    )

    response = client.get(f"/rights/{subject_request.pk}/letter/")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="subject_request.letter")
    assert (event.target_type, event.target_id, event.actor_user_id) == (
        "rights.datasubjectrequest",
        str(subject_request.pk),
        family.county_a.user.pk if family.county_a.user else None,
    )
    assert "申请人未能证明监护关系" not in repr((event.changed_fields, event.detail))


def test_the_deletion_letter_lists_what_is_kept(family: Family, clients: dict[str, Client]) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang, kind=Kind.DELETION)
    client = clients["county_a_admin"]
    client.post(f"/rights/{subject_request.pk}/erase/", {"confirmation": str(family.zhang.pk)})

    letter = client.get(f"/rights/{subject_request.pk}/letter/").content.decode()

    assert (
        "仅保留不能识别儿童身份的信息：所在村（社区）、出生年份、性别、户口性质、类别、需求、风险等级，"
        "结对和走访的日期与结果，以及结案状态。"
    ) in letter
