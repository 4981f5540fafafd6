from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from guanai import audit
from guanai.accounts.models import SmsCode
from guanai.accounts.tasks import purge_sms_codes
from guanai.audit.tasks import verify_chain

pytestmark = pytest.mark.django_db


def test_the_nightly_check_reports_an_intact_and_a_broken_chain() -> None:
    events = [audit.record(actor=None, action="auth.login_failed", username=f"u{n}") for n in range(3)]
    assert verify_chain.delay().get() == {"intact": True, "count": 3, "broken_event_id": None}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_username = 'x' WHERE id = %s", [events[1].pk])
    result = verify_chain.delay().get()
    assert result["intact"] is False
    assert result["broken_event_id"] == events[1].pk


def test_spent_sms_codes_are_purged() -> None:
    now = timezone.now()
    SmsCode.objects.create(mobile_digest="a", code_digest="b", expires_at=now - datetime.timedelta(days=2))
    SmsCode.objects.create(mobile_digest="c", code_digest="d", expires_at=now - datetime.timedelta(hours=1))
    assert purge_sms_codes.delay().get() == 1
    assert list(SmsCode.objects.values_list("mobile_digest", flat=True)) == ["c"]


def test_both_run_on_a_schedule() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "audit.verify_chain",
        "accounts.purge_sms_codes",
        "minors.daily_care",
        "minors.purge_import_files",
        "volunteers.check_reminders",
        "pairings.overdue_reminders",
        "pairings.close_lapsed",
        "consultations.run_clocks",
        "consultations.purge_expired",
        "consultations.sweep_attachments",
        "dashboards.refresh_snapshots",
        "dashboards.purge_report_files",
        "rights.deadline_reminders",
    }
