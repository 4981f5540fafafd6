"""The morning reminder of the requests' deadlines, as Celery runs it."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from guanai.notifications.models import Notification
from guanai.rights.tasks import deadline_reminders
from guanai.rights.tests.conftest import Family
from guanai.rights.tests.factories import DataSubjectRequestFactory

pytestmark = pytest.mark.django_db


def test_the_reminder_runs_every_morning() -> None:
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "rights.deadline_reminders"
    ]
    assert len(entries) == 1


def test_the_task_reminds_of_an_overdue_request_once(family: Family) -> None:
    overdue = DataSubjectRequestFactory.create(
        minor=family.zhang, received_on=datetime.date(2026, 11, 10), due_on=datetime.date(2026, 11, 25)
    )

    assert deadline_reminders.delay().get() == {"due_soon": 0, "overdue": 1, "notified": 1}
    assert deadline_reminders.delay().get() == {"due_soon": 0, "overdue": 1, "notified": 0}
    assert list(Notification.objects.values_list("topic", flat=True)) == [
        f"subject-request:{overdue.pk}:overdue"
    ]
