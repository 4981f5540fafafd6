from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanai.core import access
from guanai.core.access import Actor
from guanai.core.region_codes import RegionLevel


class RegionQuerySet(models.QuerySet["Region"]):
    def visible_to(self, actor: Actor) -> RegionQuerySet:
        return self.filter(access.region_visibility_q(actor))

    def within(self, code: str) -> RegionQuerySet:
        """The region `code` and everything below it (a prefix match on the code)."""
        from guanai.core.region_codes import within_q

        return self.filter(within_q("code", code))


class Region(models.Model):
    """A unit of the 2023 统计用区划代码. The code is the primary key, so the b-tree index that backs it
    also answers "inside region R" (a range on the code, see `guanai.core.region_codes`)."""

    code = models.CharField(
        _("区划代码"), max_length=12, primary_key=True, validators=[RegexValidator(r"^\d{12}$")]
    )
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=100, db_index=True)
    level = models.PositiveSmallIntegerField(_("级别"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "short_name"], name="region_parent_short_name")]

    def __str__(self) -> str:
        return self.name
