from __future__ import annotations

import pytest
from django.test import Client

from guanai.audit.services import audit_record
from guanai.core.access import Actor
from guanai.core.testing import count_queries

pytestmark = pytest.mark.django_db


def test_the_auditor_finds_the_audit_log_in_the_navigation(clients: dict[str, Client]) -> None:
    assert 'href="/audit/"' in clients["auditor"].get("/").content.decode()
    assert 'href="/audit/"' not in clients["county_a_admin"].get("/").content.decode()
    assert 'href="/audit/"' not in clients["system_admin"].get("/").content.decode()


def test_the_page_lists_events_with_labels(clients: dict[str, Client], actors: dict[str, Actor]) -> None:
    audit_record(
        actor=actors["county_a_admin"],
        action="committee.create",
        target_type="committees.committee",
        target_id=7,
        changes=["name", "phone"],
    )
    audit_record(actor=None, action="auth.login_failed", username="who-is-this", outcome="failed")
    html = clients["auditor"].get("/audit/").content.decode()
    for text in (
        "共 2 条审计事件",
        "p-county-a",
        "县级管理员",
        "新建关工委",
        "关工委 #7",
        "名称、办公电话",
        "淳安县",
        "who-is-this",
        "登录失败",
        "失败",
    ):
        assert text in html


def test_the_page_filters_and_answers_htmx_with_the_table_only(
    clients: dict[str, Client], actors: dict[str, Actor]
) -> None:
    audit_record(actor=actors["county_a_admin"], action="committee.create")
    audit_record(actor=None, action="auth.login", username="p-county-a")
    response = clients["auditor"].get("/audit/?action=auth.", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "共 1 条审计事件" in html
    assert "登录" in html
    assert "新建关工委" not in html


def test_bad_filters_are_explained_and_the_whole_log_shown(clients: dict[str, Client]) -> None:
    audit_record(actor=None, action="auth.login", username="someone")
    html = clients["auditor"].get("/audit/?since=not-a-date&region=33").content.decode()
    assert "起始日期：输入一个有效的日期。" in html
    assert "共 1 条审计事件" in html
    html = clients["auditor"].get("/audit/?region=11").content.decode()
    assert "对象不存在，或不在您的管辖范围内" in html


def test_the_period_includes_the_end_date(clients: dict[str, Client]) -> None:
    from django.utils import timezone

    audit_record(actor=None, action="auth.login", username="today")
    today = timezone.localdate().isoformat()
    html = clients["auditor"].get(f"/audit/?since={today}&until={today}").content.decode()
    assert "共 1 条审计事件" in html


def test_fifty_events_a_page_in_a_fixed_number_of_queries(clients: dict[str, Client]) -> None:
    client = clients["auditor"]
    for index in range(5):
        audit_record(actor=None, action="auth.login", username=f"user{index}", region_code="330127100000")
    client.get("/audit/")  # warm the session
    with count_queries() as few:
        client.get("/audit/")
    for index in range(60):
        audit_record(actor=None, action="auth.login", username=f"more{index}", region_code="330182001000")
    with count_queries() as many:
        response = client.get("/audit/")
    assert len(many) == len(few)
    html = response.content.decode()
    assert html.count("<tr>") == 50 + 1  # the header row and fifty events
    assert "第 1 / 2 页" in html
    second = client.get("/audit/?page=2").content.decode()
    assert second.count("<tr>") == 15 + 1
