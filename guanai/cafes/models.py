"""网吧义务监督: the internet cafés of each township, the inspections of the café supervision teams, the
photos taken, and the findings the county committee follows up."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanai.cafes.vocabulary import (
    MAX_DURATION_MINUTES,
    MAX_MINORS_FOUND,
    FindingOutcome,
    FindingState,
    Problem,
)
from guanai.core import region_codes
from guanai.core.access import (
    Actor,
    Permission,
    RegionScoped,
    RegionScopedQuerySet,
    cafe_inspector_scope_q,
    cafe_staff_scope_q,
)
from guanai.core.crypto import EncryptedTextField


class InternetCafeQuerySet(RegionScopedQuerySet["InternetCafe"]):
    def visible_to(self, actor: Actor) -> Self:
        """Staff see the cafés of their region (a village liaison: of their township); an inspector sees
        the cafés that their supervision teams cover; anyone else none."""
        if actor.has(Permission.CAFE_VIEW):
            return self.filter(cafe_staff_scope_q(actor, "region_id"))
        if actor.has(Permission.CAFE_INSPECT):
            return self.filter(cafe_inspector_scope_q(actor, "region_id"))
        return self.none()


class InternetCafe(RegionScoped, models.Model):
    """An internet café (互联网上网服务营业场所) of a township. Unlicensed cafés (黑网吧) are registered too,
    without a licence number, so that their inspections can be recorded."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所在乡镇（街道）"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("经营地址"), max_length=200)
    licence_number = models.CharField(_("网络文化经营许可证号"), max_length=50, blank=True)
    operator = models.CharField(_("经营者（负责人）"), max_length=50, blank=True)
    # Often the operator's own mobile: encrypted, shown masked, unmasked by those who manage cafés.
    phone = EncryptedTextField(
        _("联系电话"), blank=True, default="", mask="phone", unmask_permission=Permission.CAFE_MANAGE
    )
    is_open = models.BooleanField(_("在营业"), default=True)
    closed_on = models.DateField(_("停业日期"), null=True, blank=True)
    closed_reason = models.CharField(_("停业原因"), max_length=200, blank=True)
    notes = models.CharField(_("备注"), max_length=500, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = InternetCafeQuerySet.as_manager()

    class Meta:
        verbose_name = _("网吧")
        verbose_name_plural = _("网吧")
        ordering = ["region_id", "name", "id"]
        indexes = [models.Index(fields=["region", "is_open", "name"], name="cafe_region_open_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_number"], condition=~Q(licence_number=""), name="cafe_licence_unique"
            ),
            models.CheckConstraint(
                condition=Q(is_open=True) | ~Q(closed_reason=""), name="cafe_closed_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CafeInspectionQuerySet(RegionScopedQuerySet["CafeInspection"]):
    def visible_to(self, actor: Actor) -> Self:
        """Staff see the inspections of the cafés of their region; an inspector those they took part in."""
        if actor.has(Permission.CAFE_VIEW):
            return self.filter(cafe_staff_scope_q(actor, "cafe__region_id"))
        if actor.has(Permission.CAFE_INSPECT) and actor.user is not None:
            return self.filter(inspectors__user=actor.user).distinct()
        return self.none()


class CafeInspection(RegionScoped, models.Model):
    """One inspection (巡查) of a café by members of a café supervision team."""

    region_scope_field = "cafe__region_id"

    cafe = models.ForeignKey(
        InternetCafe, verbose_name=_("网吧"), on_delete=models.PROTECT, related_name="inspections"
    )
    team = models.ForeignKey(
        "volunteers.Team", verbose_name=_("巡查队伍"), on_delete=models.PROTECT, related_name="+"
    )
    inspected_on = models.DateField(_("巡查日期"))
    duration_minutes = models.PositiveSmallIntegerField(_("巡查时长（分钟）"))
    inspectors = models.ManyToManyField(
        "volunteers.Volunteer",
        verbose_name=_("巡查员"),
        through="CafeInspector",
        related_name="cafe_inspections",
    )
    minors_found = models.IntegerField(_("发现未成年人（人）"), default=0)
    id_checks_done = models.BooleanField(_("核对上网人员身份证件"))
    notices_posted = models.BooleanField(_("悬挂未成年人禁入标志"))
    other_problem = models.BooleanField(_("发现其他问题"), default=False)
    # Anything found wrong: minors in the café, no ID checks, no notice, or another problem.
    has_finding = models.BooleanField(_("发现问题"), default=False)
    finding_description = models.CharField(_("问题说明"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = CafeInspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("网吧巡查")
        verbose_name_plural = _("网吧巡查")
        ordering = ["-inspected_on", "-id"]
        indexes = [models.Index(fields=["cafe", "inspected_on"], name="cafe_inspection_cafe_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(minors_found__gte=0) & Q(minors_found__lte=MAX_MINORS_FOUND),
                name="cafe_inspection_minors_found_sane",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0) & Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="cafe_inspection_duration_sane",
            ),
            # A finding is exactly "something was wrong": minors in the café, no ID checks, no notice,
            # or another problem (which the inspector describes).
            models.CheckConstraint(
                condition=(
                    Q(has_finding=True)
                    & (
                        Q(minors_found__gt=0)
                        | Q(id_checks_done=False)
                        | Q(notices_posted=False)
                        | Q(other_problem=True)
                    )
                )
                | (
                    Q(has_finding=False)
                    & Q(minors_found=0)
                    & Q(id_checks_done=True)
                    & Q(notices_posted=True)
                    & Q(other_problem=False)
                ),
                name="cafe_inspection_finding_iff_problem",
            ),
            models.CheckConstraint(
                condition=Q(other_problem=False) | ~Q(finding_description=""),
                name="cafe_inspection_other_problem_described",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cafe_id} {self.inspected_on}"

    @property
    def problems(self) -> int:
        found = Problem(0)
        if self.minors_found > 0:
            found |= Problem.MINORS_PRESENT
        if not self.id_checks_done:
            found |= Problem.NO_ID_CHECKS
        if not self.notices_posted:
            found |= Problem.NO_NOTICE
        if self.other_problem:
            found |= Problem.OTHER
        return int(found)


class CafeInspector(models.Model):
    """A volunteer who took part in an inspection; their time is credited to their service hours."""

    inspection = models.ForeignKey(CafeInspection, on_delete=models.CASCADE, related_name="inspector_rows")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("巡查员")
        verbose_name_plural = _("巡查员")
        ordering = ["inspection_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "volunteer"], name="cafe_inspector_once")
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id}: {self.volunteer_id}"


class CafeInspectionPhotoQuerySet(RegionScopedQuerySet["CafeInspectionPhoto"]):
    def visible_to(self, actor: Actor) -> Self:
        """Photos are seen by staff of the café's region only (an inspector uploads but does not browse)."""
        return self.filter(cafe_staff_scope_q(actor, "inspection__cafe__region_id"))


class CafeInspectionPhoto(RegionScoped, models.Model):
    """A photo taken during an inspection. Stored under the private media root (never served as a static
    file), re-encoded without EXIF, GPS or any other metadata; served only through a page that checks
    the viewer's region and records the view."""

    region_scope_field = "inspection__cafe__region_id"

    inspection = models.ForeignKey(CafeInspection, on_delete=models.PROTECT, related_name="photos")
    # Relative to settings.MEDIA_ROOT, e.g. "cafes/inspections/12/3f9a….jpg".
    path = models.CharField(max_length=200, unique=True, editable=False)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CafeInspectionPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡查照片")
        verbose_name_plural = _("巡查照片")
        ordering = ["inspection_id", "id"]

    def __str__(self) -> str:
        return self.path


class CafeFindingQuerySet(RegionScopedQuerySet["CafeFinding"]):
    def visible_to(self, actor: Actor) -> Self:
        return self.filter(cafe_staff_scope_q(actor, "cafe__region_id"))


class CafeFinding(RegionScoped, models.Model):
    """A problem an inspection found (minors admitted, no ID checks, no notice, or another one described
    by the inspector), followed up by the county committee and closed with an outcome."""

    region_scope_field = "cafe__region_id"

    inspection = models.OneToOneField(CafeInspection, on_delete=models.PROTECT, related_name="finding")
    cafe = models.ForeignKey(InternetCafe, on_delete=models.PROTECT, related_name="findings")
    # The county whose committee follows the finding up (the café's county), for the lists per county.
    county = models.ForeignKey(
        "regions.Region", verbose_name=_("跟进县（市、区）"), on_delete=models.PROTECT, related_name="+"
    )
    problems = models.PositiveSmallIntegerField(_("问题"))  # Problem bits
    state = models.CharField(_("状态"), max_length=8, choices=FindingState.choices, default=FindingState.OPEN)
    deadline = models.DateField(_("处理期限"))
    follow_up_note = models.CharField(_("跟进情况"), max_length=1000, blank=True)
    followed_up_at = models.DateTimeField(_("最近跟进时间"), null=True, blank=True)
    followed_up_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    outcome = models.CharField(_("处理结果"), max_length=30, choices=FindingOutcome.choices, blank=True)
    outcome_note = models.CharField(_("处理说明"), max_length=500, blank=True)
    opened_at = models.DateTimeField(_("上报时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = CafeFindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("网吧巡查问题")
        verbose_name_plural = _("网吧巡查问题")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["county", "state", "deadline"], name="cafe_finding_county_state"),
            models.Index(fields=["cafe", "state"], name="cafe_finding_cafe_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(problems__gt=0), name="cafe_finding_has_problem"),
            # Open: no outcome yet. Closed: an outcome of the list, and when.
            models.CheckConstraint(
                condition=(Q(state=FindingState.OPEN) & Q(outcome="") & Q(closed_at__isnull=True))
                | (
                    Q(state=FindingState.CLOSED)
                    & Q(outcome__in=FindingOutcome.values)
                    & Q(closed_at__isnull=False)
                ),
                name="cafe_finding_closed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cafe_id} {self.opened_at:%Y-%m-%d}"


def teams_covering_q(township_code: str, *, prefix: str = "") -> Q:
    """Teams whose area holds the café's township: a team of the township itself or of a village in it
    (`access.cafe_coverage_code`), or of the county, city or province above it."""
    above = Q(**{f"{prefix}region_id__in": region_codes.ancestor_codes(township_code)})
    return above | region_codes.within_q(f"{prefix}region_id", township_code)
