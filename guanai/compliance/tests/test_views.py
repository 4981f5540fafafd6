"""The pages: each renders for the security admin, reads for the auditor, and is refused to everyone else;
another county's records answer 404; the forms go through the services."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanai.compliance.models import ImpactAssessment, PrivacyIncident
from guanai.compliance.services import incident_decide_not_to_notify, incident_notify_individuals
from guanai.compliance.tests.factories import CHILD_NAME, make_assessment, make_incident
from guanai.compliance.vocabulary import DataCategory, IncidentStatus, IndividualsChannel
from guanai.core.access import Actor
from guanai.core.testing import (
    ANONYMOUS,
    COUNTY_A,
    COUNTY_B,
    Check,
    assert_authorization_matrix,
    count_queries,
)

pytestmark = pytest.mark.django_db

PERSONAS_REFUSED = (
    "province_admin",
    "county_a_admin",
    "county_b_admin",
    "township_worker",
    "volunteer",
    "lawyer",
    "counsellor",
    "system_admin",
)


@pytest.fixture
def records(admin: Actor) -> dict[str, int]:
    incident = make_incident(admin, remedial_measures="已撤回")
    assessment = make_assessment(admin, assessed_on=timezone.localdate() - datetime.timedelta(days=10))
    return {"incident": incident.pk, "assessment": assessment.pk}


def _pages(records: dict[str, int]) -> tuple[list[str], list[str]]:
    incident, assessment = records["incident"], records["assessment"]
    reads = [
        "/compliance/incidents/",
        f"/compliance/incidents/{incident}/",
        "/compliance/assessments/",
        f"/compliance/assessments/{assessment}/",
    ]
    writes = [
        "/compliance/incidents/new/",
        f"/compliance/incidents/{incident}/edit/",
        "/compliance/assessments/new/",
        f"/compliance/assessments/new/?supersedes={assessment}",
    ]
    return reads, writes


def test_each_page_renders_for_the_security_admin_and_the_auditor_only_reads(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    reads, writes = _pages(records)
    checks = []
    for path in reads:
        checks += [Check("security_admin", "GET", path, 200), Check("auditor", "GET", path, 200)]
        checks += [Check(name, "GET", path, 403) for name in PERSONAS_REFUSED]
        checks.append(Check(ANONYMOUS, "GET", path, 302))
    for path in writes:
        checks += [Check("security_admin", "GET", path, 200), Check("auditor", "GET", path, 403)]
        checks += [Check(name, "GET", path, 403) for name in PERSONAS_REFUSED]
        checks.append(Check(ANONYMOUS, "GET", path, 302))
    incident = records["incident"]
    for step in ("authority", "individuals", "not-notify", "notice-required", "contain", "close"):
        path = f"/compliance/incidents/{incident}/{step}/"
        checks += [Check(name, "POST", path, 403, form={}) for name in ("auditor", *PERSONAS_REFUSED)]
    checks.append(
        Check("auditor", "POST", f"/compliance/assessments/{records['assessment']}/delete/", 403, form={})
    )
    assert assert_authorization_matrix(all_clients, checks) == len(checks)


def test_another_countys_security_admin_gets_404_for_county_a_records(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    incident, assessment = records["incident"], records["assessment"]
    checks = [
        Check("county_b_security_admin", "GET", f"/compliance/incidents/{incident}/", 404),
        Check("county_b_security_admin", "GET", f"/compliance/incidents/{incident}/edit/", 404),
        Check("county_b_security_admin", "GET", f"/compliance/assessments/{assessment}/", 404),
        Check("county_b_security_admin", "GET", f"/compliance/assessments/new/?supersedes={assessment}", 404),
        Check("county_b_security_admin", "POST", f"/compliance/incidents/{incident}/contain/", 404, form={}),
        Check(
            "county_b_security_admin", "POST", f"/compliance/assessments/{assessment}/delete/", 404, form={}
        ),
        Check(
            "county_b_security_admin",
            "POST",
            f"/compliance/incidents/{incident}/authority/",
            404,
            form={"notified_at": "2026-01-01T10:00", "channel": "written", "authority_name": "网信办"},
        ),
    ]
    assert assert_authorization_matrix(all_clients, checks) == len(checks)
    body = all_clients["county_b_security_admin"].get("/compliance/incidents/").content.decode()
    assert "共 0 起事件" in body


def test_the_security_admin_reports_an_incident_through_the_form(all_clients: dict[str, Client]) -> None:
    client = all_clients["security_admin"]
    discovered = timezone.localtime() - datetime.timedelta(hours=1)
    response = client.post(
        "/compliance/incidents/new/",
        {
            "region_code": COUNTY_A,
            "kind": "leak",
            "discovered_at": discovered.strftime("%Y-%m-%dT%H:%M"),
            "description": f"{CHILD_NAME}的档案被误发",
            "data_categories": [str(DataCategory.NAME.value), str(DataCategory.ADDRESS.value)],
            "affected_count": "1",
            "affected_minors_count": "1",
        },
    )
    incident = PrivacyIncident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/compliance/incidents/{incident.pk}/"
    assert incident.data_categories == DataCategory.NAME | DataCategory.ADDRESS
    assert incident.description == f"{CHILD_NAME}的档案被误发"
    page = client.get(response["Location"]).content.decode()
    assert "姓名、住址" in page
    assert f"{CHILD_NAME}的档案被误发" in page


def test_a_refused_form_is_shown_again_with_the_services_messages(all_clients: dict[str, Client]) -> None:
    response = all_clients["security_admin"].post(
        "/compliance/incidents/new/",
        {
            "region_code": COUNTY_A,
            "kind": "loss",
            "discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "description": "笔记本丢失",
            "affected_count": "2",
            "affected_minors_count": "5",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请至少选择一种涉及的个人信息" in body
    assert "未成年人人数不能超过涉及总人数" in body
    assert PrivacyIncident.objects.count() == 0


def test_a_step_with_errors_shows_the_incident_again_with_them(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    incident = records["incident"]
    response = all_clients["security_admin"].post(
        f"/compliance/incidents/{incident}/not-notify/", {"reason": "已处理好了"}
    )
    assert response.status_code == 200
    assert "请具体说明所采取的措施如何有效避免危害（至少10个字）" in response.content.decode()
    response = all_clients["security_admin"].post(
        f"/compliance/incidents/{incident}/authority/",
        {
            "notified_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "channel": "written",
            "authority_name": "淳安县委网信办",
            "reference": "CA-2026-7",
        },
    )
    assert response.status_code == 302
    page = all_clients["auditor"].get(f"/compliance/incidents/{incident}/").content.decode()
    assert "淳安县委网信办" in page
    assert "CA-2026-7" in page
    assert 'id="authority-form"' not in page  # the auditor reads; no forms


def test_closing_too_early_says_why_on_the_page(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    client = all_clients["security_admin"]
    incident = records["incident"]
    client.post(f"/compliance/incidents/{incident}/contain/")
    response = client.post(f"/compliance/incidents/{incident}/close/", follow=True)
    assert "尚未记录向主管部门报告；尚未记录是否通知个人或其监护人" in response.content.decode()
    assert PrivacyIncident.objects.get(pk=incident).status == IncidentStatus.CONTAINED


def test_an_overdue_incident_is_marked_on_the_list_and_counted_on_the_home_page(
    admin: Actor, all_clients: dict[str, Client]
) -> None:
    late = make_incident(admin, discovered_at=timezone.now() - datetime.timedelta(hours=25))
    make_incident(admin, discovered_at=timezone.now() - datetime.timedelta(hours=1))
    body = all_clients["security_admin"].get("/compliance/incidents/").content.decode()
    assert f'data-overdue="{late.pk}"' in body
    assert body.count("data-overdue=") == 1
    assert "1 起事件已超过报告期限，尚未向主管部门报告。" in body
    home = all_clients["security_admin"].get("/").content.decode()
    assert 'data-count="incidents-overdue">1</p>' in home
    filtered = all_clients["security_admin"].get("/compliance/incidents/?overdue=yes").content.decode()
    assert "共 1 起事件" in filtered
    assert 'data-count="incidents-overdue"' not in all_clients["county_a_admin"].get("/").content.decode()


def test_an_assessment_is_recorded_and_superseded_through_the_form(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    client = all_clients["security_admin"]
    earlier = records["assessment"]
    form = client.get(f"/compliance/assessments/new/?supersedes={earlier}").content.decode()
    assert "原评估仍按期保存" in form
    response = client.post(
        f"/compliance/assessments/new/?supersedes={earlier}",
        {
            "region_code": COUNTY_A,
            "title": "花名册导入（复评）",
            "processing_kind": "import",
            "processing_description": "乡镇上报，县里导入。",
            "purpose": "建立档案。",
            "legal_basis": "consent",
            "data_categories": "姓名、住址",
            "involves_sensitive_data": "on",
            "involves_children_under_14": "on",
            "risks": "误发。",
            "measures": "双人核对。",
            "conclusion": "acceptable",
            "assessors": "县关工委办公室",
            "assessed_on": timezone.localdate().isoformat(),
            "supersedes_id": str(earlier),
        },
    )
    new = ImpactAssessment.objects.get(title="花名册导入（复评）")
    assert response.status_code == 302
    assert new.supersedes_id == earlier
    old_page = client.get(f"/compliance/assessments/{earlier}/").content.decode()
    assert "本评估已被替代" in old_page


def test_deleting_an_assessment_before_three_years_is_refused_on_the_page(
    all_clients: dict[str, Client], records: dict[str, int]
) -> None:
    assessment = records["assessment"]
    path = f"/compliance/assessments/{assessment}/delete/"
    response = all_clients["security_admin"].post(path, follow=True)
    assert "评估报告至少保存三年" in response.content.decode()
    assert ImpactAssessment.objects.filter(pk=assessment).exists()


def test_the_menu_shows_the_module_to_the_security_admin_and_the_auditor(
    all_clients: dict[str, Client], personas: dict[str, Any]
) -> None:
    link = 'href="/compliance/incidents/"'
    assert link in all_clients["security_admin"].get("/").content.decode()
    assert link in all_clients["auditor"].get("/").content.decode()
    assert link not in all_clients["system_admin"].get("/").content.decode()
    assert link not in all_clients["province_admin"].get("/").content.decode()


def test_the_incident_page_shows_who_decided_not_to_notify_and_who_notified_later(
    admin: Actor, all_clients: dict[str, Client], second_security_admin: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user

    incident = make_incident(admin, remedial_measures="已撤回消息并确认删除")
    decided_at = timezone.make_aware(datetime.datetime(2026, 11, 30, 9, 15))
    incident_decide_not_to_notify(
        actor=admin,
        incident_id=incident.pk,
        reason="消息在两分钟内撤回，群成员均已确认删除，未外传。",
        now=decided_at,
    )
    notified_at = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(minutes=5)
    incident_notify_individuals(
        actor=actor_for_user(second_security_admin),
        incident_id=incident.pk,
        notified_at=notified_at,
        channel=IndividualsChannel.PHONE,
    )
    page = all_clients["auditor"].get(f"/compliance/incidents/{incident.pk}/").content.decode()
    assert "2026年11月30日 09:15 决定不通知（决定人：安全管理员）。" in page
    notified = f"{notified_at.year}年{notified_at.month}月{notified_at.day}日 {notified_at:%H:%M}"
    assert f"{notified} 以电话通知（记录人：安全管理员乙）。" in page
    assert "消息在两分钟内撤回" in page


def test_an_assessment_is_named_with_its_date_in_chinese_on_the_pages(
    admin: Actor, all_clients: dict[str, Client]
) -> None:
    earlier = make_assessment(admin, assessed_on=datetime.date(2026, 3, 2))
    later = make_assessment(
        admin, assessed_on=datetime.date(2026, 4, 15), title="花名册导入（复评）", supersedes_id=earlier.pk
    )
    client = all_clients["auditor"]
    assert (
        "花名册导入（复评）（2026年4月15日）"
        in client.get(f"/compliance/assessments/{earlier.pk}/").content.decode()
    )
    page = client.get(f"/compliance/assessments/{later.pk}/").content.decode()
    assert "2026年困难儿童花名册导入（2026年3月2日）" in page


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/compliance/incidents/", lambda admin, region: make_incident(admin, region_code=region)),
        ("/compliance/assessments/", lambda admin, region: make_assessment(admin, region_code=region)),
    ],
)
def test_the_lists_make_as_many_queries_for_five_records_as_for_one(
    admin: Actor, all_clients: dict[str, Client], path: str, make: Any
) -> None:
    client = all_clients["security_admin"]
    make(admin, COUNTY_A)
    client.get(path)  # warm the session
    with count_queries() as one:
        assert client.get(path).status_code == 200
    for region in (COUNTY_A, COUNTY_B, COUNTY_B, COUNTY_A):
        make(admin, region)
    with count_queries() as five:
        assert client.get(path).status_code == 200
    assert len(five) == len(one)
