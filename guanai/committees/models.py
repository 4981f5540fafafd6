from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.core.access import RegionScoped, RegionScopedQuerySet


class CommitteeKind(models.TextChoices):
    REGIONAL = "regional", _("地方关工委")
    SCHOOL = "school", _("学校关工委")
    ENTERPRISE = "enterprise", _("企业关工委")


class Position(models.TextChoices):
    DIRECTOR = "director", _("主任")
    EXECUTIVE_DEPUTY_DIRECTOR = "executive_deputy_director", _("常务副主任")
    DEPUTY_DIRECTOR = "deputy_director", _("副主任")
    SECRETARY_GENERAL = "secretary_general", _("秘书长")
    MEMBER = "member", _("委员")
    LIAISON = "liaison", _("联络员")


POSITION_ORDER = [position.value for position in Position]


class CommitteeQuerySet(RegionScopedQuerySet["Committee"]):
    pass


class Committee(RegionScoped, models.Model):
    """A 关工委. Each region has one regional committee; schools and enterprises have their own under a
    region. The committee above a regional one is the regional committee of the parent region."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(
        _("类型"), max_length=16, choices=CommitteeKind.choices, default=CommitteeKind.REGIONAL
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="committees", verbose_name=_("行政区划")
    )
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("办公电话"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("在运行"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CommitteeQuerySet.as_manager()

    class Meta:
        verbose_name = _("关工委")
        verbose_name_plural = _("关工委")
        ordering = ["region_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(kind="regional"), name="committee_one_regional_per_region"
            ),
            models.UniqueConstraint(fields=["region", "name"], name="committee_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name


class CommitteeMember(RegionScoped, models.Model):
    """A person holding a position in a committee (班子成员), with office contact details."""

    region_scope_field = "committee__region_id"

    committee = models.ForeignKey(
        Committee, on_delete=models.CASCADE, related_name="members", verbose_name=_("关工委")
    )
    name = models.CharField(_("姓名"), max_length=50)
    position = models.CharField(_("职务"), max_length=32, choices=Position.choices)
    office_phone = models.CharField(_("办公电话"), max_length=20, blank=True)
    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("账号"),
    )
    is_active = models.BooleanField(_("在任"), default=True)

    objects = RegionScopedQuerySet["CommitteeMember"].as_manager()

    class Meta:
        verbose_name = _("关工委成员")
        verbose_name_plural = _("关工委成员")
        ordering = ["committee_id", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_position_display()}）"
