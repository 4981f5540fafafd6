"""Who sees which requests, and the deadline clock: due on its last day, overdue the day after."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.mentoring.tests.factories import sealed_minor
from guanai.rights.selectors import (
    SubjectRequestFilters,
    subject_request_get,
    subject_request_list,
    subject_requests_due,
)
from guanai.rights.services import due_date
from guanai.rights.tests.conftest import TODAY, Family
from guanai.rights.tests.factories import DataSubjectRequestFactory
from guanai.rights.vocabulary import Status

pytestmark = pytest.mark.django_db

DAYS = 15


def test_the_last_day_is_fifteen_calendar_days_after_receipt() -> None:
    assert due_date(datetime.date(2026, 11, 16)) == datetime.date(2026, 12, 1)
    assert due_date(datetime.date(2026, 12, 20)) == datetime.date(2027, 1, 4)


def test_a_request_is_due_on_day_n_and_overdue_on_day_n_plus_one(family: Family) -> None:
    received = TODAY - datetime.timedelta(days=DAYS)
    on_time = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=received, due_on=due_date(received)
    )
    late_received = TODAY - datetime.timedelta(days=DAYS + 1)
    late = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=late_received, due_on=due_date(late_received)
    )

    clock = subject_requests_due(actor=family.county_a, today=TODAY)

    assert clock.overdue == [late]
    assert clock.due_soon == [on_time]
    overdue = subject_request_list(
        actor=family.county_a, filters=SubjectRequestFilters(overdue=True), today=TODAY
    )
    assert list(overdue) == [late]


def test_the_clock_leaves_out_handled_and_distant_requests(family: Family) -> None:
    DataSubjectRequestFactory.create(
        minor=family.zhang,
        received_on=datetime.date(2026, 11, 1),
        due_on=datetime.date(2026, 11, 16),
        status=Status.REFUSED,
        refusal_reasons="理由",
        handled_at=datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC),
    )
    DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 20), due_on=datetime.date(2026, 12, 5)
    )
    soon = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 19), due_on=datetime.date(2026, 12, 4)
    )

    clock = subject_requests_due(actor=family.county_a, today=TODAY)

    assert (clock.overdue, clock.due_soon) == ([], [soon])


def test_another_countys_staff_do_not_see_the_request(family: Family) -> None:
    subject_request = DataSubjectRequestFactory.create(minor=family.zhang)

    assert list(subject_request_list(actor=family.county_b)) == []
    with pytest.raises(NotFoundError):
        subject_request_get(actor=family.county_b, request_id=subject_request.pk)
    assert subject_request_get(actor=family.province, request_id=subject_request.pk) == subject_request
    assert subject_request_get(actor=family.township, request_id=subject_request.pk) == subject_request


def test_a_sealed_records_requests_are_invisible(family: Family) -> None:
    sealed = DataSubjectRequestFactory.create(minor=sealed_minor())
    ordinary = DataSubjectRequestFactory.create(minor=family.zhang, due_on=TODAY)

    assert list(subject_request_list(actor=family.province)) == [ordinary]
    with pytest.raises(NotFoundError):
        subject_request_get(actor=family.county_a, request_id=sealed.pk)
    clock = subject_requests_due(actor=family.county_a, today=TODAY)
    assert clock.due_soon == [ordinary]


def test_the_list_needs_the_registry_manage_permission(personas: dict[str, Any]) -> None:
    from guanai.accounts.selectors import actor_for_user

    with pytest.raises(PermissionDeniedError):
        subject_request_list(actor=actor_for_user(personas["auditor"]))
