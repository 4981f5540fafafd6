from __future__ import annotations

from typing import Self, TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor, Permission, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import BlindIndexField, EncryptedTextField
from guanai.minors.vocabulary import (
    ConsentScope,
    Gender,
    HouseholdType,
    RiskLevel,
    SpecialKind,
    Status,
)


class MinorQuerySet(RegionScopedQuerySet["Minor"]):
    def visible_to(self, actor: Actor) -> Self:
        """Children whose current village lies inside the actor's region. Sealed records (特殊青少年) are
        left out of the registry entirely: they are reached only through their mentoring case."""
        return self.filter(access.minor_visibility_q(actor))


class Minor(RegionScoped, models.Model):
    """A child in the registry (困难青少年). One record per child across the province: the blind index of
    the ID number is unique."""

    name = models.CharField(_("姓名"), max_length=50)
    # For search by full pinyin (zhangsanming) and initials (zsm); derived from the name on save.
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, db_index=True, editable=False)
    name_initials = models.CharField(_("姓名首字母"), max_length=50, db_index=True, editable=False)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    id_number = EncryptedTextField(
        _("公民身份号码"),
        null=True,
        blank=True,
        mask="id_number",
        unmask_permission=Permission.MINOR_UNMASK,
    )
    id_number_index = BlindIndexField(source="id_number", unique=True, null=True, blank=True, editable=False)
    household_region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("户籍地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    household_type = models.CharField(_("户口性质"), max_length=8, choices=HouseholdType.choices, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("现居村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    address = EncryptedTextField(
        _("现住址"), blank=True, default="", mask="address", unmask_permission=Permission.MINOR_UNMASK
    )
    school = models.CharField(_("就读学校"), max_length=100, blank=True)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    categories = models.PositiveIntegerField(_("类别"), default=0)
    special_kind = models.CharField(
        _("特殊青少年类型"), max_length=20, choices=SpecialKind.choices, blank=True
    )
    facts = models.JSONField(_("情况说明"), default=dict, blank=True)
    needs = models.PositiveIntegerField(_("需求"), default=0)
    risk_level = models.CharField(
        _("风险等级"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    risk_reason = models.CharField(_("风险原因"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    closed_reason = models.CharField(_("结案原因"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    last_verified_on = models.DateField(_("最近年度核查"), null=True, blank=True)
    is_sealed = models.BooleanField(_("已封存"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = MinorQuerySet.as_manager()
    # The region's name, on the rows that the lists and the detail read (regions.selectors.with_region_name).
    region_name: str

    class Meta:
        verbose_name = _("未成年人")
        verbose_name_plural = _("未成年人")
        ordering = ["region_id", "name_pinyin", "id"]
        indexes = [
            # The list of a region: scope by code range, then the common filters and the sort.
            models.Index(fields=["region", "status", "name_pinyin"], name="minor_region_status_name"),
            models.Index(fields=["region", "birth_date"], name="minor_region_birth"),
            models.Index(fields=["name", "birth_date"], name="minor_name_birth"),
            models.Index(fields=["name_pinyin", "birth_date"], name="minor_pinyin_birth"),
            models.Index(fields=["status", "birth_date"], name="minor_status_birth"),
            models.Index(fields=["status", "last_verified_on"], name="minor_status_verified"),
            # Every column the list filters and sorts on, so that the page of ids is found by an
            # index-only scan of the region's range (filters evaluated in the index, no heap visit per
            # child); only the 50 rows of the page are then read. Sealed records are never listed.
            # Measured in bench/bench_minor_list.py.
            models.Index(
                fields=[
                    "region",
                    "name_pinyin",
                    "id",
                    "name",
                    "name_initials",
                    "categories",
                    "needs",
                    "status",
                    "risk_level",
                    "gender",
                    "birth_date",
                    "last_verified_on",
                ],
                condition=Q(is_sealed=False),
                name="minor_list_covering",
            ),
            # The same list in name order, with what the scope, the status and a search by part of a name
            # test: a county's search for 王 reads the index up to its first twenty 王s (about half of it,
            # in pinyin order) without visiting the table for every entry (8.3 ms to 2.0 ms for a county
            # of 20,000; bench/RESULTS.md, "Load").
            models.Index(
                fields=["name_pinyin", "id"],
                include=["name", "region", "status"],
                condition=Q(is_sealed=False),
                name="minor_name_order_covering",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(closed_reason=""), name="minor_closed_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.name


_PartT = TypeVar("_PartT", bound=models.Model)


class MinorPartQuerySet(RegionScopedQuerySet[_PartT]):
    """Rows that belong to a child (guardians, consents): visible when the child is."""

    def visible_to(self, actor: Actor) -> Self:
        return self.filter(access.minor_visibility_q(actor, prefix="minor__"))


class Guardian(RegionScoped, models.Model):
    """A guardian (监护人) or an entrusted carer (被委托人) of a child."""

    region_scope_field = "minor__region_id"

    minor = models.ForeignKey(
        Minor, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("儿童")
    )
    name = models.CharField(_("姓名"), max_length=50)
    relationship = models.CharField(_("与儿童关系"), max_length=20)
    phone = EncryptedTextField(
        _("联系电话"),
        blank=True,
        default="",
        mask="phone",
        normaliser="phone",
        unmask_permission=Permission.MINOR_UNMASK,
    )
    phone_index = BlindIndexField(source="phone", null=True, blank=True, editable=False, db_index=True)
    is_entrusted_carer = models.BooleanField(_("被委托照护人"), default=False)
    can_care = models.BooleanField(_("具备监护（照护）能力"), default=True)
    care_note = models.CharField(_("监护能力说明"), max_length=200, blank=True)

    objects = MinorPartQuerySet["Guardian"].as_manager()

    class Meta:
        verbose_name = _("监护人")
        verbose_name_plural = _("监护人")
        ordering = ["minor_id", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.relationship}）"


class Consent(RegionScoped, models.Model):
    """Consent on record (个人信息保护法 art.31): for a child under 14 it is the guardian's."""

    region_scope_field = "minor__region_id"

    minor = models.ForeignKey(
        Minor, on_delete=models.CASCADE, related_name="consents", verbose_name=_("儿童")
    )
    given_by = models.CharField(_("同意人"), max_length=50)
    relationship = models.CharField(_("与儿童关系"), max_length=20)
    is_guardian = models.BooleanField(_("监护人同意"), default=True)
    notice_version = models.CharField(_("告知书版本"), max_length=20)
    scope = models.JSONField(_("同意范围"), default=list)
    given_on = models.DateField(_("同意日期"))
    withdrawn_on = models.DateField(_("撤回日期"), null=True, blank=True)

    objects = MinorPartQuerySet["Consent"].as_manager()

    class Meta:
        verbose_name = _("同意记录")
        verbose_name_plural = _("同意记录")
        ordering = ["minor_id", "-given_on", "id"]

    def __str__(self) -> str:
        return f"{self.given_by} {self.given_on}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None

    def covers(self, scope: ConsentScope | str) -> bool:
        return self.is_active and str(scope) in self.scope


class TransferRequest(models.Model):
    """A county asks the county where a child is registered to hand the record over."""

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        ACCEPTED = "accepted", _("已接收")
        DECLINED = "declined", _("已拒绝")

    minor = models.ForeignKey(Minor, on_delete=models.CASCADE, related_name="transfer_requests")
    from_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    to_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("转移申请")
        verbose_name_plural = _("转移申请")

    def __str__(self) -> str:
        return f"{self.minor_id}: {self.from_region_id} → {self.to_region_id}"


class DuplicateFlag(models.Model):
    """Two records that look like the same child without an ID match, for a person to review."""

    class Reason(models.TextChoices):
        NAME_AND_BIRTH = "name_birth", _("姓名拼音与出生日期相同")
        GUARDIAN_PHONE = "guardian_phone", _("监护人电话相同")

    class State(models.TextChoices):
        OPEN = "open", _("待核实")
        MERGED = "merged", _("已合并")
        DISMISSED = "dismissed", _("不是同一人")

    first = models.ForeignKey(Minor, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Minor, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_once")]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id}"


class ExportApprovalQuerySet(models.QuerySet["ExportApproval"]):
    def to_decide_by(self, actor: Actor) -> Self:
        """Requests an approver may decide: made in a region strictly inside the approver's (one level
        up or more; never one's own region)."""
        if actor.region_code is None or not actor.has(Permission.EXPORT_APPROVE):
            return self.none()
        return self.filter(access.above_q(actor, "region_id"))


class ExportApproval(models.Model):
    """An export of more than the threshold of rows waits for an administrator one level up
    (儿童个人信息网络保护规定 art.15: no copying or downloading without approval). Approved, it allows one
    export of the same filters by the same person in the same region, and is then used."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        DECLINED = "declined", _("已拒绝")
        USED = "used", _("已导出")

    requested_by = models.ForeignKey(
        "accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("申请人所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    filters = models.JSONField(_("筛选条件"), default=dict)
    file_format = models.CharField(_("文件格式"), max_length=8)
    row_count = models.PositiveIntegerField(_("行数"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    used_at = models.DateTimeField(_("导出时间"), null=True, blank=True)

    objects = ExportApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出审批")
        verbose_name_plural = _("导出审批")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region", "state"], name="export_approval_region_state"),
            models.Index(fields=["requested_by", "state"], name="export_approval_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.row_count} ({self.state})"
