"""The forms of the pairing pages: the list's filters, the region of a proposal, accepting proposals,
pairing a child by hand, closing a pairing and declaring a conflict of interest.

Forms parse what a person chose; the rules of a pair are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.region_codes import RegionLevel
from guanai.pairings.selectors import PROPOSAL_LEVELS, PairingFilters
from guanai.pairings.vocabulary import CloseReason, PairingState
from guanai.regions.models import Region
from guanai.web.forms import (
    CHECK,
    SELECT,
    DescribedErrors,
    RegionFilterForm,
    region_filter_field,
    select_field,
    text_area_field,
    text_field,
    with_blank,
)

# --- The list's filters ----------------------------------------------------------------------------


class PairingFilterForm(RegionFilterForm):
    region = region_filter_field()
    state = select_field(_("状态"), PairingState.choices, blank=_("全部状态"))
    # Reached from a child's or a volunteer's page (?minor=, ?volunteer=): kept, not shown.
    minor = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    volunteer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def to_filters(self) -> PairingFilters:
        """The selector's filters from the valid fields; a field with an error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        return PairingFilters(
            region=data.get("region") or None,
            state=data.get("state") or None,
            minor=data.get("minor"),
            volunteer=data.get("volunteer"),
        )


# --- Proposals ---------------------------------------------------------------------------------------


def proposal_region_choices(actor: Actor) -> list[tuple[str, str]]:
    """The regions one may run proposals for: the actor's own (a city, county or township) and the
    counties and townships below it — cities and counties for the province, whose townships are too many
    for a list. Indented by level, in code order, so a township follows its county."""
    if actor.region_code is None:
        return []
    own_level = region_codes.level_of(actor.region_code)
    levels = [level for level in PROPOSAL_LEVELS if level >= own_level]
    if own_level == RegionLevel.PROVINCE:
        levels = [RegionLevel.CITY, RegionLevel.COUNTY]
    rows = (
        Region.objects.within(actor.region_code)
        .filter(level__in=levels)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    shallowest = min(levels, default=RegionLevel.TOWNSHIP)
    return [(code, "\u3000" * (level - shallowest) + name) for code, name, level in rows]


class ProposeForm(DescribedErrors, forms.Form):
    region = forms.ChoiceField(
        label=_("为哪个区域生成结对建议"),
        help_text=_("选择市时可跨县（市、区）匹配；建议只是预览，采纳后才建立结对。"),
        widget=forms.Select(attrs=SELECT),
    )

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = with_blank(regions)  # type: ignore[attr-defined]


class AcceptForm(forms.Form):
    """The checked proposals (or all), and whether the pairings begin at once."""

    SELECTED = "selected"
    ALL = "all"

    pair_ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    scope = forms.ChoiceField(choices=[(SELECTED, _("采纳所选")), (ALL, _("全部采纳"))])
    activate = forms.BooleanField(
        label=_("立即开始结对（结对中）"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def __init__(self, *args: Any, pair_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pair_ids"].choices = [(pk, pk) for pk in pair_ids]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == self.SELECTED and not data.get("pair_ids"):
            raise forms.ValidationError(_("请勾选要采纳的建议"))
        return data


# --- One pairing -------------------------------------------------------------------------------------


def _volunteer_select(choices: list[tuple[int, str, str]]) -> forms.Select:
    return forms.Select(
        attrs=SELECT, choices=with_blank([(pk, f"{name}（{village}）") for pk, name, village in choices])
    )


class PairingCreateForm(DescribedErrors, forms.Form):
    # A number with a select of the volunteers at hand: "结对" beside a suggestion posts its id too.
    volunteer = forms.IntegerField(label=_("志愿者"), min_value=1)
    activate = forms.BooleanField(
        label=_("立即开始结对（结对中）"),
        required=False,
        initial=True,
        help_text=_("不勾选则为拟结对，待志愿者与家庭见面后再开始。"),
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def __init__(self, *args: Any, volunteers: list[tuple[int, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].widget = _volunteer_select(volunteers)
        self.describe_errors()


class ConflictForm(DescribedErrors, forms.Form):
    prefix = "conflict"  # beside the pairing form on one page: distinct names and ids

    volunteer = forms.IntegerField(label=_("志愿者"), min_value=1)
    reason = text_field(
        _("利益冲突原因"), max_length=200, required=True, help_text=_("如：亲属关系、两家有纠纷。")
    )

    def __init__(self, *args: Any, volunteers: list[tuple[int, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].widget = _volunteer_select(volunteers)
        self.describe_errors()


class CloseForm(DescribedErrors, forms.Form):
    reason = forms.ChoiceField(
        label=_("解除原因"), choices=with_blank(CloseReason.choices), widget=forms.Select(attrs=SELECT)
    )
    note = text_area_field(_("说明（原因为“其他”时必填）"), max_length=300, rows=2)
