"""The forms of the queue, the reassignment and the duty roster pages.

Forms parse what a person typed; the rules (who may accept, whether the declaration was made, which
professional may take a request, which coverage region and lead slots a supervisor may set) are the
services' (`guanai.consultations.routing`, `guanai.consultations.duty`), whose errors are put back on the
fields (`guanai.web.forms.put_errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.consultations.duty import PARTS, WEEKDAYS
from guanai.consultations.routing import REASON_MAX_LENGTH
from guanai.consultations.vocabulary import DeclineReason, Kind
from guanai.web.forms import CHECK, SELECT, DescribedErrors, text_area_field, with_blank


class AcceptForm(DescribedErrors, forms.Form):
    # Not required here: the service refuses a missing declaration with its own message (422).
    declares_no_conflict = forms.BooleanField(
        label=_("我确认与求助人不存在利益冲突（如亲属、同事、代理过对方当事人等）"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )


class DeclineForm(DescribedErrors, forms.Form):
    reason = forms.ChoiceField(
        label=_("退回原因"),
        choices=with_blank(DeclineReason.choices),
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("请选择退回原因"), "invalid_choice": _("请选择退回原因")},
    )


class ReassignForm(DescribedErrors, forms.Form):
    volunteer_id = forms.TypedChoiceField(
        label=_("转交给"),
        coerce=int,
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("请选择志愿者"), "invalid_choice": _("请选择志愿者")},
    )
    reason = text_area_field(_("转交原因"), max_length=REASON_MAX_LENGTH, rows=3, required=True)

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer_id"].choices = with_blank(candidates)  # type: ignore[attr-defined]
        self.fields["reason"].help_text = _("只写工作上的原因，不写求助人的姓名、联系方式或求助内容。")
        self.fields["reason"].error_messages["required"] = _("请填写转交原因")


class RosterFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=with_blank(Kind.choices, _("全部类别")),
        widget=forms.Select(attrs=SELECT),
    )


def cell_key(weekday: int, part: int) -> str:
    return f"{weekday}-{part}"


CELL_CHOICES = [(cell_key(day, part), cell_key(day, part)) for day in WEEKDAYS for part in PARTS]


class DutyGridForm(DescribedErrors, forms.Form):
    """One professional's week of one kind: the chosen cells ("weekday-part"), the coverage region and,
    for a province supervisor, whether these are lead slots."""

    kind = forms.ChoiceField(choices=Kind.choices, widget=forms.HiddenInput)
    region = forms.ChoiceField(
        label=_("服务地区"),
        widget=forms.Select(attrs=SELECT),
        help_text=_("来自这一地区（含下辖地区）的求助会分派给值班的志愿者"),
        error_messages={"required": _("请选择服务地区"), "invalid_choice": _("服务地区须在您的辖区之内")},
    )
    cells = forms.MultipleChoiceField(
        label=_("值班时段"), required=False, choices=CELL_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    is_lead = forms.BooleanField(
        label=_("省级值班负责人（紧急求助最后一级上报的接收人）"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def __init__(
        self, *args: Any, regions: list[tuple[str, str]], may_name_leads: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = with_blank(regions)  # type: ignore[attr-defined]
        if not may_name_leads:
            del self.fields["is_lead"]

    def service_cells(self) -> list[tuple[int, int, bool]]:
        is_lead = bool(self.cleaned_data.get("is_lead"))
        cells = []
        for key in self.cleaned_data["cells"]:
            day, part = key.split("-")
            cells.append((int(day), int(part), is_lead))
        return cells
