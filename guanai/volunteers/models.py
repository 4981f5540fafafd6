from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Self, TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor, Permission, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import BlindIndexField, EncryptedTextField
from guanai.minors.vocabulary import Gender
from guanai.volunteers.vocabulary import (
    CHECK_VALIDITY_DAYS,
    CheckResult,
    HoursSource,
    HoursState,
    Source,
    Status,
    TeamKind,
    TeamRole,
)


class VolunteerQuerySet(RegionScopedQuerySet["Volunteer"]):
    def visible_to(self, actor: Actor) -> Self:
        """Volunteers whose home village lies inside the actor's region, for staff who keep them."""
        if not actor.has(Permission.VOLUNTEER_VIEW):
            return self.none()
        return self.filter(access.scope_q(actor, "region_id"))


class Volunteer(RegionScoped, models.Model):
    """A 五老 volunteer: a retired cadre, veteran, expert, teacher or model worker (DOMAIN.md §7,
    志愿服务条例 art.15: identity, skills, availability and contact; service, training and honours)."""

    user = models.OneToOneField(
        "accounts.User",
        verbose_name=_("登录账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    name = models.CharField(_("姓名"), max_length=50)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, editable=False)
    name_initials = models.CharField(_("姓名首字母"), max_length=50, editable=False)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_number = EncryptedTextField(
        _("公民身份号码"),
        null=True,
        blank=True,
        mask="id_number",
        unmask_permission=Permission.VOLUNTEER_UNMASK,
    )
    id_number_index = BlindIndexField(source="id_number", unique=True, null=True, blank=True, editable=False)
    phone = EncryptedTextField(
        _("联系电话"),
        blank=True,
        default="",
        mask="phone",
        normaliser="phone",
        unmask_permission=Permission.VOLUNTEER_UNMASK,
    )
    # Not unique: an elderly couple often shares one phone.
    phone_index = BlindIndexField(source="phone", null=True, blank=True, editable=False, db_index=True)
    categories = models.PositiveIntegerField(_("五老类别"), default=0)
    former_unit = models.CharField(_("原工作单位"), max_length=100, blank=True)
    former_title = models.CharField(_("原职务（职称）"), max_length=100, blank=True)
    specialties = models.PositiveIntegerField(_("专长"), default=0)
    law_licence_number = models.CharField(_("律师执业证号"), max_length=30, blank=True)
    psychology_certificate = models.CharField(_("心理咨询资质证书"), max_length=50, blank=True)
    teaching_subjects = models.CharField(_("辅导学科"), max_length=100, blank=True)
    specialty_note = models.CharField(_("专长说明"), max_length=200, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("居住村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    availability = models.PositiveIntegerField(_("可服务时间"), default=0)
    max_children = models.PositiveSmallIntegerField(_("最多结对人数"), default=3)
    # Maintained by the pairing module: the number of open pairings (拟结对 and 结对中), so that "capacity
    # left" is a column test and one place is never proposed twice.
    paired_count = models.PositiveSmallIntegerField(_("在结对人数"), default=0, editable=False)
    # Health is sensitive personal information (个人信息保护法 art.28): encrypted like the ID number.
    health_note = EncryptedTextField(
        _("健康状况（本人申报）"),
        blank=True,
        default="",
        mask="text",
        unmask_permission=Permission.VOLUNTEER_UNMASK,
    )
    dialects = models.CharField(_("方言"), max_length=100, blank=True)
    check_date = models.DateField(_("背景审查日期"), null=True, blank=True)
    check_result = models.CharField(_("背景审查结果"), max_length=10, choices=CheckResult.choices, blank=True)
    check_by = models.CharField(_("审查单位（人）"), max_length=100, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.APPLYING)
    status_reason = models.CharField(_("状态变更原因"), max_length=200, blank=True)
    status_changed_on = models.DateField(_("状态变更日期"), null=True, blank=True)
    joined_on = models.DateField(_("加入日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.STAFF)
    # Returned sign-ups: the township's reason, shown to the applicant; cleared when resubmitted.
    return_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    # 个人信息保护法: appearing by name on the list of the most active volunteers is the volunteer's choice.
    shows_on_honour_roll = models.BooleanField(_("同意在光荣榜展示"), default=False)
    # Confirmed service hours, kept by the hours services (F() updates), for the star filter and ranking.
    hours_total = models.DecimalField(
        _("累计服务时长"), max_digits=9, decimal_places=1, default=Decimal("0"), editable=False
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = VolunteerQuerySet.as_manager()
    # The region's name, on the rows that the lists and the detail read (regions.selectors.with_region_name).
    region_name: str

    class Meta:
        verbose_name = _("五老志愿者")
        verbose_name_plural = _("五老志愿者")
        ordering = ["region_id", "name_pinyin", "id"]
        indexes = [
            models.Index(fields=["region", "status", "name_pinyin"], name="volunteer_region_status_name"),
            models.Index(fields=["name_pinyin"], name="volunteer_pinyin"),
            models.Index(fields=["name_initials"], name="volunteer_initials"),
            models.Index(fields=["status", "check_date"], name="volunteer_status_check"),
            models.Index(fields=["region", "hours_total"], name="volunteer_region_hours"),
            # Every column the list filters and sorts on, so that a page of ids is found by an index-only
            # scan of the region's range; measured in bench/bench_volunteer_list.py.
            models.Index(
                fields=[
                    "region",
                    "name_pinyin",
                    "id",
                    "name",
                    "name_initials",
                    "categories",
                    "specialties",
                    "availability",
                    "status",
                    "check_date",
                    "max_children",
                    "paired_count",
                    "hours_total",
                ],
                name="volunteer_list_covering",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(max_children__lte=20), name="volunteer_max_children_sane"),
            models.CheckConstraint(
                condition=Q(status__in=["applying", "active"]) | ~Q(status_reason=""),
                name="volunteer_inactive_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def check_valid_on(self, day: datetime.date) -> bool:
        """A clear background check dated within the last twelve months (未成年人保护法 art.62)."""
        if self.check_date is None or self.check_result != CheckResult.CLEAR:
            return False
        return (
            day - self.check_date <= datetime.timedelta(days=CHECK_VALIDITY_DAYS) and self.check_date <= day
        )

    @property
    def capacity_left(self) -> int:
        return max(self.max_children - self.paired_count, 0)


_PartT = TypeVar("_PartT", bound=models.Model)


class VolunteerPartQuerySet(RegionScopedQuerySet[_PartT]):
    """Rows that belong to a volunteer (hours, training, honours, certificates): visible when the
    volunteer is."""

    def visible_to(self, actor: Actor) -> Self:
        if not actor.has(Permission.VOLUNTEER_VIEW):
            return self.none()
        return self.filter(access.scope_q(actor, "volunteer__region_id"))


class Team(RegionScoped, models.Model):
    """A team of elders (五老关爱团, 讲师团, …) belonging to a committee; its region is the committee's."""

    committee = models.ForeignKey(
        "committees.Committee", verbose_name=_("所属关工委"), on_delete=models.PROTECT, related_name="teams"
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("所在区划"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=TeamKind.choices)
    description = models.CharField(_("简介"), max_length=500, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    is_active = models.BooleanField(_("在运行"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegionScopedQuerySet["Team"].as_manager()

    class Meta:
        verbose_name = _("五老队伍")
        verbose_name_plural = _("五老队伍")
        ordering = ["region_id", "kind", "name", "id"]
        indexes = [models.Index(fields=["region", "kind"], name="team_region_kind")]
        constraints = [models.UniqueConstraint(fields=["committee", "name"], name="team_name_per_committee")]

    def __str__(self) -> str:
        return self.name


class TeamMembership(RegionScoped, models.Model):
    region_scope_field = "team__region_id"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=10, choices=TeamRole.choices, default=TeamRole.MEMBER)
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("离开日期"), null=True, blank=True)

    objects = RegionScopedQuerySet["TeamMembership"].as_manager()

    class Meta:
        verbose_name = _("队伍成员")
        verbose_name_plural = _("队伍成员")
        ordering = ["team_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"], condition=Q(left_on__isnull=True), name="team_member_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.volunteer_id} ({self.role})"


class TeamActivity(RegionScoped, models.Model):
    """An activity a team organised (a lecture, a holiday class, a café patrol). Its organiser records
    the hours of each participating volunteer (谁组织谁记录)."""

    region_scope_field = "team__region_id"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(_("活动名称"), max_length=100)
    held_on = models.DateField(_("活动日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    description = models.CharField(_("活动内容"), max_length=1000, blank=True)
    children_reached = models.PositiveIntegerField(_("受益青少年人数"), default=0)
    hours = models.DecimalField(
        _("每人服务时长（小时）"), max_digits=4, decimal_places=1, default=Decimal("0")
    )
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RegionScopedQuerySet["TeamActivity"].as_manager()

    class Meta:
        verbose_name = _("队伍活动")
        verbose_name_plural = _("队伍活动")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ServiceHours(RegionScoped, models.Model):
    """One record of service time. Recorded by the organiser (confirmed at once) or claimed by the
    volunteer (pending until the organiser confirms). Automatic records of later modules name their
    origin in `source_key` ("visit:123"), which is unique, so that recording twice is harmless."""

    region_scope_field = "volunteer__region_id"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="service_hours")
    served_on = models.DateField(_("服务日期"))
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=4, decimal_places=1)
    description = models.CharField(_("服务内容"), max_length=300)
    source = models.CharField(_("来源"), max_length=12, choices=HoursSource.choices)
    source_key = models.CharField(max_length=60, null=True, blank=True, unique=True, editable=False)
    organiser = models.CharField(_("组织单位"), max_length=100, blank=True)
    activity = models.ForeignKey(
        TeamActivity, on_delete=models.SET_NULL, null=True, blank=True, related_name="hours_records"
    )
    state = models.CharField(_("状态"), max_length=10, choices=HoursState.choices)
    return_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    confirmed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VolunteerPartQuerySet["ServiceHours"].as_manager()

    class Meta:
        verbose_name = _("服务时长")
        verbose_name_plural = _("服务时长")
        ordering = ["-served_on", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "state", "served_on"], name="hours_volunteer_state_day"),
            models.Index(fields=["state", "served_on"], name="hours_state_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0) & Q(hours__lte=24), name="hours_within_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.served_on} {self.hours}"


class HoursCorrection(models.Model):
    """A correction of a confirmed record: what it was, what it became and why (DOMAIN.md §7:
    volunteers may ask for corrections; the record keeps the truth of what happened)."""

    record = models.ForeignKey(ServiceHours, on_delete=models.CASCADE, related_name="corrections")
    hours_before = models.DecimalField(max_digits=4, decimal_places=1)
    hours_after = models.DecimalField(max_digits=4, decimal_places=1)
    served_on_before = models.DateField()
    served_on_after = models.DateField()
    reason = models.CharField(_("更正原因"), max_length=200)
    corrected_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    corrected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("时长更正")
        verbose_name_plural = _("时长更正")
        ordering = ["record_id", "id"]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.hours_before} → {self.hours_after}"


class Training(RegionScoped, models.Model):
    region_scope_field = "volunteer__region_id"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="trainings")
    course = models.CharField(_("课程"), max_length=100)
    attended_on = models.DateField(_("培训日期"))
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1)
    provider = models.CharField(_("举办单位"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VolunteerPartQuerySet["Training"].as_manager()

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = _("培训记录")
        ordering = ["-attended_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive")]

    def __str__(self) -> str:
        return self.course


class Honour(RegionScoped, models.Model):
    region_scope_field = "volunteer__region_id"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="honours")
    title = models.CharField(_("荣誉名称"), max_length=100)
    awarded_by = models.CharField(_("授予单位"), max_length=100)
    awarded_on = models.DateField(_("授予日期"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VolunteerPartQuerySet["Honour"].as_manager()

    class Meta:
        verbose_name = _("所获荣誉")
        verbose_name_plural = _("所获荣誉")
        ordering = ["-awarded_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Certificate(RegionScoped, models.Model):
    """A service certificate (志愿服务证明, free of charge). Its verification code is printed on the PDF;
    the public page shows what was certified, with the name masked, so a third party can check it."""

    region_scope_field = "volunteer__region_id"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    code = models.CharField(_("验证码"), max_length=20, unique=True)
    hours = models.DecimalField(_("证明时长"), max_digits=9, decimal_places=1)
    star_level = models.PositiveSmallIntegerField(_("星级"))
    period_start = models.DateField(_("起始日期"), null=True, blank=True)
    period_end = models.DateField(_("截止日期"))
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    issued_at = models.DateTimeField(_("出具时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    objects = VolunteerPartQuerySet["Certificate"].as_manager()

    class Meta:
        verbose_name = _("服务证明")
        verbose_name_plural = _("服务证明")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.code


class Invitation(RegionScoped, models.Model):
    """An invitation link a committee sends to elders: signing up through it places the applicant in the
    committee's region for the township to review. Only the SM3 digest of the token is stored."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    digest = models.CharField(max_length=64, unique=True)
    note = models.CharField(_("说明"), max_length=100, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    max_uses = models.PositiveIntegerField(_("可用次数"), default=50)
    used_count = models.PositiveIntegerField(_("已用次数"), default=0)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = RegionScopedQuerySet["Invitation"].as_manager()

    class Meta:
        verbose_name = _("报名邀请")
        verbose_name_plural = _("报名邀请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.region_id} {self.note}"
