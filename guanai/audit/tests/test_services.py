from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from guanai.audit.models import Outcome
from guanai.audit.services import audit_record
from guanai.committees.models import Committee, CommitteeMember
from guanai.core.access import Actor
from guanai.core.testing import COUNTY_A

pytestmark = pytest.mark.django_db


def test_the_actor_role_region_and_target_are_copied(
    actors: dict[str, Actor], personas: dict[str, Any], county_committees: dict[str, Committee]
) -> None:
    committee = county_committees["a"]
    event = audit_record(
        actor=actors["county_a_admin"], action="committee.create", target=committee, changes=["name", "phone"]
    )
    assert (
        event.actor_user_id,
        event.actor_username,
        event.actor_role,
        event.actor_region,
        event.target_type,
        event.target_id,
        event.region_code,
        event.changed_fields,
        event.outcome,
        event.ip,
        event.user_agent,
    ) == (
        personas["county_a_admin"].pk,
        "p-county-a",
        "county_admin",
        COUNTY_A,
        "committees.committee",
        str(committee.pk),
        COUNTY_A,
        ["name", "phone"],
        "success",
        None,
        "",
    )
    assert event.action_label == "新建关工委"
    assert event.target_label == f"关工委 #{committee.pk}"
    assert event.changed_field_labels == ["名称", "办公电话"]
    assert event.actor_role_label == "县级管理员"


def test_the_region_is_the_targets_even_through_its_committee(
    actors: dict[str, Actor], county_committees: dict[str, Committee]
) -> None:
    member = CommitteeMember.objects.create(
        committee=county_committees["b"], name="徐卫东", position="director"
    )
    event = audit_record(actor=actors["province_admin"], action="committee.member_add", target=member)
    assert (event.target_type, event.region_code, event.actor_region) == (
        "committees.committeemember",
        "330182000000",
        "330000000000",
    )


def test_the_region_given_wins_and_short_forms_are_accepted(actors: dict[str, Actor]) -> None:
    event = audit_record(actor=actors["province_admin"], action="report.export", region_code="330182")
    assert event.region_code == "330182000000"


def test_without_a_target_the_region_is_the_actors_and_without_an_actor_none(
    actors: dict[str, Actor],
) -> None:
    assert audit_record(actor=actors["township_worker"], action="report.export").region_code == "330127100000"
    assert audit_record(actor=None, action="auth.locked_out", username="wang").region_code == ""


def test_a_failed_sign_in_records_the_typed_name_and_the_client() -> None:
    request = RequestFactory().post("/login/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="U" * 500)
    event = audit_record(
        actor=None, action="auth.login_failed", username="nobody", outcome=Outcome.FAILED, request=request
    )
    assert (event.actor_user_id, event.actor_username, event.actor_role, event.ip) == (
        None,
        "nobody",
        "",
        "203.0.113.9",
    )
    assert event.user_agent == "U" * 300
    assert event.outcome_label == "失败"


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert audit_record(actor=None, action="auth.login", request=request).ip == "10.0.0.2"
    with override_settings(GUANAI_TRUSTED_PROXY_COUNT=1):
        assert audit_record(actor=None, action="auth.login", request=request).ip == "198.51.100.7"


def test_an_address_that_is_not_one_is_not_stored() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="unknown")
    assert audit_record(actor=None, action="auth.login", request=request).ip is None


def test_changes_hold_field_names_and_never_values() -> None:
    event = audit_record(actor=None, action="x.update", changes={"name": "王小明", "mobile": "13800138000"})
    assert event.changed_fields == ["name", "mobile"]
    assert audit_record(actor=None, action="x.update", changes=["a", "b", "a"]).changed_fields == ["a", "b"]
    with pytest.raises(ValueError, match="field names only"):
        audit_record(actor=None, action="x.update", changes=["13800138000"])
    with pytest.raises(ValueError, match="field names only"):
        audit_record(actor=None, action="x.update", changes=["王小明"])
    with pytest.raises(TypeError):
        audit_record(actor=None, action="x.update", changes="name")


def test_detail_is_small_and_survives_the_database_unchanged() -> None:
    with pytest.raises(TypeError, match="float"):
        audit_record(actor=None, action="x.y", detail={"ratio": 0.5})
    with pytest.raises(ValueError, match="2000 bytes"):
        audit_record(actor=None, action="x.y", detail={"text": "长" * 1000})
    with pytest.raises(TypeError):
        audit_record(actor=None, action="x.y", detail={1: "a"})  # type: ignore[dict-item]
    event = audit_record(actor=None, action="x.y", detail={"path": "/a\x00b", "count": 3})
    assert event.detail == {"path": "/ab", "count": 3}


def test_an_unknown_outcome_or_an_empty_action_is_refused() -> None:
    with pytest.raises(ValueError, match="maybe"):
        audit_record(actor=None, action="x.y", outcome="maybe")
    with pytest.raises(ValueError, match="needs an action"):
        audit_record(actor=None, action="")


def test_the_package_shortcut_records(actors: dict[str, Actor]) -> None:
    from guanai import audit

    event = audit.record(actor=actors["auditor"], action="auth.logout")
    assert (event.actor_role, event.action_label) == ("auditor", "退出登录")
