"""The audit trail: append-only events, each sealed into a keyed hash chain (see `guanai.audit.chain`).

No foreign keys: an event must read the same after the user or the object it names has changed or gone,
and its hash covers exactly what the row holds.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanai.audit.actions import action_label
from guanai.core.access import Role

HASH_LENGTH = 64  # hex digits of an HMAC-SM3
USER_AGENT_LENGTH = 300


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    DENIED = "denied", _("被拒绝")
    FAILED = "failed", _("失败")


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete audit events through the ORM."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Events are only ever added. Purging old ones (`services.audit_purge`) is the one deletion, and it
    moves the chain's anchor as it goes; anything done below the ORM is caught by `audit_verify`."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only; old ones are removed by audit_purge")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor_user_id = models.BigIntegerField(_("操作人账号 ID"), null=True, blank=True)
    # For a failed sign-in, the name that was typed (the account may not exist).
    actor_username = models.CharField(_("操作人"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=32, blank=True)
    actor_region = models.CharField(_("操作人区划"), max_length=12, blank=True)
    action = models.CharField(_("动作"), max_length=64)
    target_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    target_id = models.CharField(_("对象 ID"), max_length=64, blank=True)
    # The region the event concerns ("" for none, e.g. a failed sign-in): what scopes who may read it.
    region_code = models.CharField(_("所属区划"), max_length=12, blank=True)
    changed_fields = models.JSONField(_("变更字段"), default=list, blank=True)  # names only, never values
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("设备"), max_length=USER_AGENT_LENGTH, blank=True)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    # Small, non-sensitive context (a method, a count, a reason code); never a personal value.
    detail = models.JSONField(_("说明"), default=dict, blank=True)
    previous_hash = models.CharField(_("上一条哈希"), max_length=HASH_LENGTH)
    hash = models.CharField(_("哈希"), max_length=HASH_LENGTH)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-occurred_at", "-id"]
        # One index per search filter, each ending in the time so that "newest first" reads it in order.
        # Action and username are also searched by prefix ("auth."): on PostgreSQL the pattern operator
        # class lets LIKE 'auth.%' use the index whatever the database collation (SQLite ignores it).
        indexes = [
            models.Index(
                fields=["action", "-occurred_at"],
                name="audit_action_time",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["actor_user_id", "-occurred_at"], name="audit_actor_id_time"),
            models.Index(
                fields=["actor_username", "-occurred_at"],
                name="audit_actor_name_time",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["target_type", "target_id", "-occurred_at"], name="audit_target_time"),
            models.Index(fields=["region_code", "-occurred_at"], name="audit_region_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only; old ones are removed by audit_purge")

    @property
    def action_label(self) -> str | Promise:
        return action_label(self.action)

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label) if self.outcome in Outcome.values else self.outcome

    @property
    def actor_role_label(self) -> str:
        return str(Role(self.actor_role).label) if self.actor_role in Role.values else self.actor_role

    @property
    def target_label(self) -> str:
        """The kind of object in words and its id, e.g. "关工委 #12"."""
        if not self.target_type:
            return ""
        model = _model_of(self.target_type)
        kind = str(model._meta.verbose_name) if model is not None else self.target_type
        return f"{kind} #{self.target_id}" if self.target_id else kind

    @property
    def changed_field_labels(self) -> list[str]:
        """The changed fields in words (the target model's verbose names), else as stored."""
        model = _model_of(self.target_type)
        labels: list[str] = []
        for name in self.changed_fields or []:
            field = _field_of(model, str(name))
            labels.append(str(getattr(field, "verbose_name", "") or name))
        return labels


def _model_of(label: str) -> type[models.Model] | None:
    if not label or "." not in label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field_of(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


class AuditChainHead(models.Model):
    """The single row (id 1) every append locks, so that appends line up one after another, and which
    says where the chain ends and where it begins after a purge. Its own `hash` (keyed like the events)
    stops someone who can write to the database from moving the end back over deleted newest events."""

    SINGLETON_ID = 1

    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=HASH_LENGTH)
    # After a purge: the newest purged event and its hash, which the oldest remaining event points to.
    purged_through_id = models.BigIntegerField(null=True, blank=True)
    purged_anchor_hash = models.CharField(max_length=HASH_LENGTH, blank=True)
    hash = models.CharField(max_length=HASH_LENGTH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"audit chain head → {self.last_event_id}"
