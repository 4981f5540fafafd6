from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to one user, shown in the site's inbox and, when urgent, also sent by SMS. Alerts
    (a mandatory report), reminders (a visit overdue) and notices (a pairing made) all arrive here."""

    class Kind(models.TextChoices):
        ALERT = "alert", _("紧急提醒")
        REMINDER = "reminder", _("提醒")
        NOTICE = "notice", _("通知")

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=100)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    # What the message is about ("mandatory_report:12"), so that the same event never notifies twice.
    topic = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic"], condition=~models.Q(topic=""), name="notification_once_per_topic"
            )
        ]

    def __str__(self) -> str:
        return self.title
