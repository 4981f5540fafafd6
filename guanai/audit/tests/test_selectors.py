from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import timezone

from guanai.audit.models import AuditEvent
from guanai.audit.selectors import AuditEventFilters, audit_event_list, audit_trail_for
from guanai.audit.services import audit_record
from guanai.committees.models import Committee
from guanai.core.access import Actor, audit_scope_q
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed

pytestmark = pytest.mark.django_db


def moment(day: int, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, 3, day, hour, 0))


@pytest.fixture
def events(actors: dict[str, Actor], county_committees: dict[str, Committee]) -> dict[str, AuditEvent]:
    """A few days of events across both counties, the province, no region, and another province."""
    made: dict[str, AuditEvent] = {}

    def on(name: str, when: datetime.datetime, **kwargs: Any) -> None:
        with time_machine.travel(when, tick=False):
            made[name] = audit_record(**kwargs)

    on("login_a", moment(1), actor=None, action="auth.login", username="p-county-a")
    on(
        "failed",
        moment(1, 10),
        actor=None,
        action="auth.login_failed",
        username="p-county-x",
        outcome="failed",
    )
    on(
        "create_a",
        moment(2),
        actor=actors["county_a_admin"],
        action="committee.create",
        target=county_committees["a"],
        changes=["name"],
    )
    on(
        "create_b",
        moment(3),
        actor=actors["county_b_admin"],
        action="committee.create",
        target=county_committees["b"],
        changes=["name"],
    )
    on(
        "province_edit_a",
        moment(4),
        actor=actors["province_admin"],
        action="committee.update",
        target=county_committees["a"],
        changes=["phone"],
    )
    on("unmask_a", moment(5), actor=actors["township_worker"], action="personal_data.unmask")
    on("elsewhere", moment(6), actor=None, action="auth.login", region_code="110000000000")
    return made


def names(made: dict[str, AuditEvent], rows: Any) -> list[str]:
    by_id = {event.pk: name for name, event in made.items()}
    return [by_id[event.pk] for event in rows]


def search(reader: Actor, made: dict[str, AuditEvent], **filters: Any) -> list[str]:
    return names(made, audit_event_list(actor=reader, filters=AuditEventFilters(**filters)))


def test_the_auditor_reads_the_whole_province_newest_first(
    actors: dict[str, Actor], events: dict[str, AuditEvent]
) -> None:
    assert search(actors["auditor"], events) == [
        "unmask_a",
        "province_edit_a",
        "create_b",
        "create_a",
        "failed",
        "login_a",
    ]


def test_filters_by_actor_exact_and_prefix(actors: dict[str, Actor], events: dict[str, AuditEvent]) -> None:
    auditor = actors["auditor"]
    assert search(auditor, events, actor="p-county-a") == ["create_a", "login_a"]
    assert search(auditor, events, actor="p-county*") == ["create_b", "create_a", "failed", "login_a"]


def test_filters_by_action_exact_and_by_area(actors: dict[str, Actor], events: dict[str, AuditEvent]) -> None:
    auditor = actors["auditor"]
    assert search(auditor, events, action="auth.login") == ["login_a"]
    assert search(auditor, events, action="auth.") == ["failed", "login_a"]
    assert search(auditor, events, action="committee.*") == ["province_edit_a", "create_b", "create_a"]


def test_filters_by_object(
    actors: dict[str, Actor], events: dict[str, AuditEvent], county_committees: dict[str, Committee]
) -> None:
    a = str(county_committees["a"].pk)
    auditor = actors["auditor"]
    assert search(auditor, events, target_type="committees.committee", target_id=a) == [
        "province_edit_a",
        "create_a",
    ]
    assert search(auditor, events, target_type="Committees.Committee") == [
        "province_edit_a",
        "create_b",
        "create_a",
    ]


def test_filters_by_region_in_short_form(actors: dict[str, Actor], events: dict[str, AuditEvent]) -> None:
    auditor = actors["auditor"]
    assert search(auditor, events, region="330127") == ["unmask_a", "province_edit_a", "create_a"]
    assert search(auditor, events, region="330182") == ["create_b"]


def test_a_region_outside_the_actors_answers_not_found(
    actors: dict[str, Actor], events: dict[str, AuditEvent]
) -> None:
    with pytest.raises(NotFoundError):
        search(actors["auditor"], events, region="11")
    with pytest.raises(ValidationFailed) as caught:
        search(actors["auditor"], events, region="33x")
    assert list(caught.value.fields) == ["region"]


def test_filters_by_time_from_included_to_excluded(
    actors: dict[str, Actor], events: dict[str, AuditEvent]
) -> None:
    auditor = actors["auditor"]
    assert search(auditor, events, since=moment(2), until=moment(4)) == ["create_b", "create_a"]
    # Naive times are Beijing time.
    assert search(auditor, events, since=datetime.datetime(2026, 3, 5, 9, 0)) == ["unmask_a"]


def test_only_audit_readers_may_search(actors: dict[str, Actor], events: dict[str, AuditEvent]) -> None:
    for persona in ("province_admin", "county_a_admin", "system_admin", "volunteer"):
        with pytest.raises(PermissionDeniedError):
            audit_event_list(actor=actors[persona])


def test_the_scope_of_a_county_leaves_out_other_counties_and_region_less_events(
    actors: dict[str, Actor], events: dict[str, AuditEvent]
) -> None:
    in_scope = AuditEvent.objects.filter(audit_scope_q(actors["county_a_admin"])).order_by("id")
    assert names(events, in_scope) == ["create_a", "province_edit_a", "unmask_a"]
    township = AuditEvent.objects.filter(audit_scope_q(actors["township_worker"]))
    assert names(events, township) == ["unmask_a"]
    assert not AuditEvent.objects.filter(audit_scope_q(Actor(user=None))).exists()


def test_a_county_admin_sees_who_changed_a_record_of_their_county(
    actors: dict[str, Actor], events: dict[str, AuditEvent], county_committees: dict[str, Committee]
) -> None:
    trail = audit_trail_for(actor=actors["county_a_admin"], target=county_committees["a"])
    assert names(events, trail) == ["province_edit_a", "create_a"]
    html = render_to_string("audit/partials/_trail.html", {"trail": trail})
    for text in ("2026年3月4日 09:00", "p-province", "省级管理员", "新建关工委", "办公电话", "成功"):
        assert text in html


def test_the_trail_of_another_countys_record_answers_not_found(
    actors: dict[str, Actor], events: dict[str, AuditEvent], county_committees: dict[str, Committee]
) -> None:
    with pytest.raises(NotFoundError):
        audit_trail_for(actor=actors["county_a_admin"], target=county_committees["b"])
    with pytest.raises(NotFoundError):  # the county's committee lies above the township
        audit_trail_for(actor=actors["township_worker"], target=county_committees["a"])


def test_the_trail_needs_the_record_history_permission(
    actors: dict[str, Actor], events: dict[str, AuditEvent], county_committees: dict[str, Committee]
) -> None:
    for persona in ("volunteer", "lawyer", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            audit_trail_for(actor=actors[persona], target=county_committees["a"])


def test_the_trail_is_limited_to_the_newest(
    actors: dict[str, Actor], county_committees: dict[str, Committee]
) -> None:
    committee = county_committees["a"]
    made = [
        audit_record(actor=actors["county_a_admin"], action="committee.view", target=committee)
        for _ in range(5)
    ]
    trail = audit_trail_for(actor=actors["county_a_admin"], target=committee, limit=3)
    assert [event.pk for event in trail] == [event.pk for event in reversed(made[-3:])]
