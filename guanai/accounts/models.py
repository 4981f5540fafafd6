from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Actor, Permission, RegionScoped, RegionScopedQuerySet, Role
from guanai.core.crypto import BlindIndexField, EncryptedTextField

mobile_validator = RegexValidator(r"^1\d{10}$", _("手机号码应为以 1 开头的 11 位数字"))


class UserQuerySet(models.QuerySet["User"]):
    def visible_to(self, actor: Actor) -> UserQuerySet:
        """Users holding an assignment inside the actor's region."""
        return self.filter(pk__in=RoleAssignment.objects.visible_to(actor).values("user_id"))


class GuanaiUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Django's user manager (create_user, normalisation) with the region-scoped queryset."""


class User(AbstractUser):
    """An account. People sign in with their username or their mobile number."""

    # Stored encrypted (SM4-GCM), found by its blind index, shown masked unless an account manager unmasks it.
    mobile = EncryptedTextField(
        _("手机号码"),
        null=True,
        blank=True,
        mask="mobile",
        unmask_permission=Permission.ACCOUNT_MANAGE,
        validators=[mobile_validator],
    )
    mobile_index = BlindIndexField(source="mobile", unique=True, null=True, blank=True, editable=False)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    elder_mode = models.BooleanField(_("长辈模式"), default=False)
    language = models.CharField(_("界面语言"), max_length=10, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects = GuanaiUserManager()  # type: ignore[misc]  # same manager as AbstractUser, wider queryset

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class PasswordHistory(models.Model):
    """Hashes of a user's earlier passwords, so that none of the last five is used again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class SmsCode(models.Model):
    """A one-time code sent by SMS for signing in. Only digests are stored: of the mobile number (keyed,
    so the table reveals no numbers) and of the code."""

    mobile_digest = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self) -> str:
        return f"{self.mobile_digest[:8]}… @ {self.created_at:%Y-%m-%d %H:%M}"


END_REASON_MAX_LENGTH = 500  # RoleAssignment.end_reason


def not_ended_q(day: object) -> Q:
    """Assignments that have not ended by `day` (running, or starting later): an ended one is history."""
    return Q(valid_to__isnull=True) | Q(valid_to__gte=day)


class RoleAssignmentQuerySet(RegionScopedQuerySet["RoleAssignment"]):
    def valid_on(self, day: object) -> RoleAssignmentQuerySet:
        return self.filter(Q(valid_from__lte=day), not_ended_q(day))

    def not_ended(self, day: object) -> RoleAssignmentQuerySet:
        return self.filter(not_ended_q(day))


class RoleAssignment(RegionScoped, models.Model):
    """A user holds a role in a region (or in a committee, which lies in a region) for a period."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("用户")
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("行政区划")
    )
    committee = models.ForeignKey(
        "committees.Committee",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("所属关工委"),
    )
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The periodic review of who holds which role (等保 2.0 least privilege): when an administrator last
    # confirmed this person still needs it. An approved grant counts as reviewed by its approver.
    reviewed_at = models.DateTimeField(_("最近复核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("复核人"),
    )
    # Why an administrator ended the assignment before its date (`role_end`): kept with the assignment, since
    # the audit event names fields only.
    end_reason = models.CharField(_("结束理由"), max_length=END_REASON_MAX_LENGTH, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        ordering = ["user_id", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["region", "role"], name="assignment_region_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region_id}"

    def has_ended(self, day: datetime.date) -> bool:
        return self.valid_to is not None and self.valid_to < day


class RoleGrantRequest(RegionScoped, models.Model):
    """A request to give a person a role, approved by an administrator one level up before the role is
    assigned (儿童个人信息网络保护规定 art. 15; 未成年人网络保护条例 art. 36–37). The rules are in
    `guanai.accounts.services.role_grant_request_create` and `role_grant_request_decide`."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        DECLINED = "declined", _("已拒绝")
        WITHDRAWN = "withdrawn", _("已撤回")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("授予对象"))
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("行政区划")
    )
    committee = models.ForeignKey(
        "committees.Committee",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属关工委"),
    )
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    reason = models.TextField(_("申请理由"), max_length=500)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("审批人")
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), max_length=500, blank=True)
    assignment = models.ForeignKey(
        RoleAssignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("角色分配"),
    )

    objects = RegionScopedQuerySet["RoleGrantRequest"].as_manager()

    class Meta:
        verbose_name = _("角色授予申请")
        verbose_name_plural = _("角色授予申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="grant_request_period_ordered",
            ),
            # Two account managers filing the same request at once: the second is refused here.
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(state="pending"),
                name="grant_request_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["region", "state"], name="grant_request_region_state")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.role} · {self.region_id} ({self.state})"


class ApiToken(models.Model):
    """A bearer token for API clients. Only its SM3 digest is stored; the token is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=12)
    name = models.CharField(_("用途"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
