"""The inbox: a user sees and marks only their own notifications; alerts also go by SMS."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.accounts.sms import ConsoleSmsBackend
from guanai.core.testing import ANONYMOUS, Check, assert_authorization_matrix
from guanai.notifications.models import Notification
from guanai.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_notify_once_per_topic_and_user(personas: dict[str, Any]) -> None:
    users = [personas["township_worker"], personas["county_a_admin"], personas["county_a_admin"]]
    first = notify(users=users, kind="notice", title="新的结对", topic="pairing:1")
    again = notify(users=users, kind="notice", title="新的结对", topic="pairing:1")
    assert sorted(n.user.username for n in first) == ["p-county-a", "p-township"]
    assert again == []
    assert Notification.objects.count() == 2


def test_an_alert_goes_by_sms_after_the_commit_a_notice_does_not(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    me = personas["township_worker"]
    me.mobile = "13900001111"
    me.save()
    ConsoleSmsBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[me], kind="notice", title="新的结对")
        (alert,) = notify(users=[me], kind="alert", title="强制报告", body="请在24小时内处置")
        assert ConsoleSmsBackend.outbox == []
    assert ConsoleSmsBackend.outbox == [("13900001111", "【智慧关工委】强制报告：请在24小时内处置")]
    alert.refresh_from_db()
    assert alert.sms_sent_at is not None


def test_the_inbox_shows_unread_first_and_only_ones_own(
    personas: dict[str, Any], clients: dict[str, Client]
) -> None:
    me = personas["township_worker"]
    (old,) = notify(users=[me], kind="notice", title="旧通知", body="已读的")
    (new,) = notify(
        users=[me], kind="alert", title="强制报告", body="请在24小时内处置", link="/mandatory-reports/"
    )
    notify(users=[personas["county_b_admin"]], kind="notice", title="别人的通知")
    Notification.objects.filter(pk=old.pk).update(read_at=new.created_at)
    page = clients["township_worker"].get("/notifications/").content.decode()
    assert page.index("强制报告") < page.index("旧通知")
    assert "别人的通知" not in page
    assert 'href="/mandatory-reports/"' in page


def test_marking_read_touches_only_ones_own(personas: dict[str, Any], clients: dict[str, Client]) -> None:
    (mine,) = notify(users=[personas["township_worker"]], kind="notice", title="一")
    (theirs,) = notify(users=[personas["county_b_admin"]], kind="notice", title="二")
    response = clients["township_worker"].post("/notifications/read/", {"id": theirs.pk})
    assert response.status_code == 302
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    clients["township_worker"].post("/notifications/read/", {"id": mine.pk})
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    clients["county_b_admin"].post("/notifications/read/")
    assert Notification.objects.get(pk=theirs.pk).read_at is not None


def test_authorization_matrix_of_the_inbox(clients: dict[str, Client]) -> None:
    checks = [
        Check(ANONYMOUS, "GET", "/notifications/", 302),
        Check(ANONYMOUS, "POST", "/notifications/read/", 302),
    ]
    checks += [Check(persona, "GET", "/notifications/", 200) for persona in clients if persona != ANONYMOUS]
    assert assert_authorization_matrix(clients, checks) == len(checks)
