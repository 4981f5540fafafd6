"""The forms of 网吧义务监督's pages. The inspection form is built for a volunteer's phone: every answer is
a large 是 / 否 button (a radio group), nothing has to be typed unless something was wrong."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.cafes.services import CafeInput, InspectionInput
from guanai.cafes.vocabulary import MAX_MINORS_FOUND, FindingOutcome, FindingState
from guanai.web.forms import (
    CHECK,
    CONTROL,
    SELECT,
    STATUS_ALL,
    DescribedErrors,
    RegionFilterForm,
    date_field,
    region_filter_field,
    search_field,
    text_area_field,
    text_field,
    with_blank,
)

YES, NO = "yes", "no"
YES_NO = [(YES, _("是")), (NO, _("否"))]
# The usual lengths of an inspection, as buttons; the API takes any number of minutes.
DURATION_CHOICES = [
    (30, _("半小时")),
    (60, _("1 小时")),
    (90, _("1.5 小时")),
    (120, _("2 小时")),
    (180, _("3 小时")),
    (240, _("4 小时")),
]
BUTTON_RADIO = {"class": "btn-check", "autocomplete": "off"}


def _yes_no_field(label: Any, help_text: Any = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == YES,
        empty_value=None,
        widget=forms.RadioSelect(attrs=BUTTON_RADIO),
        error_messages={"required": _("请选择“是”或“否”")},
    )


# --- Cafés ------------------------------------------------------------------------------------------


class CafeFilterForm(RegionFilterForm):
    q = search_field(_("名称、地址或许可证号"))
    region = region_filter_field()
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("open", _("在营业")), ("closed", _("已停业")), (STATUS_ALL, _("全部状态"))],
        widget=forms.Select(attrs=SELECT),
    )
    has_open_findings = forms.BooleanField(
        label=_("仅看有待处理问题的"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )
    inspection_due = forms.BooleanField(
        label=_("仅看 90 天内未巡查的"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )

    def is_open(self) -> bool | None:
        status = self.cleaned_data.get("status") or "open"
        return {"open": True, "closed": False}.get(status)


class CafeForm(DescribedErrors, forms.Form):
    region_code = forms.ChoiceField(label=_("所在乡镇（街道）"), widget=forms.Select(attrs=SELECT))
    name = text_field(_("名称"), max_length=100, required=True)
    address = text_field(_("经营地址"), max_length=200, required=True)
    licence_number = text_field(
        _("网络文化经营许可证号"),
        max_length=50,
        help_text=_("如：浙网文〔2019〕1234-056号；无证经营的留空"),
        autocomplete="off",
    )
    operator = text_field(_("经营者（负责人）"), max_length=50)
    phone = text_field(_("联系电话"), max_length=30, autocomplete="off", inputmode="tel")
    notes = text_area_field(_("备注"), max_length=500, rows=2)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, townships: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = with_blank(townships)  # type: ignore[attr-defined]

    def to_input(self) -> CafeInput:
        data = self.cleaned_data
        return CafeInput(
            region_code=data["region_code"],
            name=data["name"],
            address=data["address"],
            licence_number=data["licence_number"],
            operator=data["operator"],
            phone=data["phone"],
            notes=data["notes"],
        )


class CafeCloseForm(DescribedErrors, forms.Form):
    reason = text_field(
        _("停业原因"), max_length=200, required=True, help_text=_("如：自行停业、注销、吊销许可证")
    )
    closed_on = date_field(_("停业日期（不填为今天）"), required=False)


# --- Inspections ------------------------------------------------------------------------------------


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one file control (a phone offers its camera and its gallery)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultiplePhotoInput(attrs={**CONTROL, "accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class InspectionForm(DescribedErrors, forms.Form):
    inspected_on = date_field(_("巡查日期"))
    duration_minutes = forms.TypedChoiceField(
        label=_("巡查用了多长时间"),
        help_text=_("计入您的志愿服务时长"),
        choices=DURATION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs=BUTTON_RADIO),
        error_messages={"required": _("请选择巡查时长")},
    )
    minors_present = _yes_no_field(_("有没有未成年人在上网？"))
    minors_found = forms.IntegerField(
        label=_("如有未成年人，发现几名"),
        required=False,
        min_value=1,
        max_value=MAX_MINORS_FOUND,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-lg", "inputmode": "numeric"}),
    )
    id_checks_done = _yes_no_field(_("网吧是否核对上网人员的身份证？"))
    notices_posted = _yes_no_field(_("是否悬挂了“未成年人禁止入内”标志？"))
    other_problem = _yes_no_field(_("有没有发现其他问题？"), _("如超时营业、消防隐患等"))
    finding_description = text_area_field(
        _("问题说明"),
        max_length=500,
        rows=3,
        help_text=_("请说明看到的情况；请勿填写未成年人的姓名"),
    )
    team_id = forms.TypedChoiceField(
        label=_("巡查队伍"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect(attrs=CHECK),
    )
    inspector_ids = forms.TypedMultipleChoiceField(
        label=_("一同巡查的队员"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )
    photos = MultiplePhotoField(
        label=_("照片（可不传，最多 6 张）"),
        required=False,
        help_text=_("照片中的拍摄地点等信息会被自动去除"),
    )

    def __init__(
        self,
        *args: Any,
        teams: list[tuple[int, str]],
        members: list[tuple[int, str]],
        inspectors_label: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {"inspected_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["team_id"].choices = teams  # type: ignore[attr-defined]
        if len(teams) == 1:
            self.fields["team_id"].widget = forms.HiddenInput()
            self.initial.setdefault("team_id", teams[0][0])
        self.fields["inspector_ids"].choices = members  # type: ignore[attr-defined]
        if inspectors_label is not None:
            self.fields["inspector_ids"].label = inspectors_label
        self.describe_errors()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        present, count = data.get("minors_present"), data.get("minors_found")
        if present and not count and "minors_found" not in self.errors:
            self.add_error("minors_found", _("请填写发现的未成年人人数"))
        if present is False:
            data["minors_found"] = 0
        return data

    def to_input(self) -> InspectionInput:
        data = self.cleaned_data
        return InspectionInput(
            inspected_on=data["inspected_on"] or timezone.localdate(),
            duration_minutes=data["duration_minutes"],
            minors_found=data.get("minors_found") or 0,
            id_checks_done=bool(data["id_checks_done"]),
            notices_posted=bool(data["notices_posted"]),
            other_problem=bool(data["other_problem"]),
            finding_description=data.get("finding_description") or "",
            team_id=data.get("team_id"),
            inspector_ids=list(data.get("inspector_ids") or []),
        )


# --- Findings ---------------------------------------------------------------------------------------


class FindingFilterForm(RegionFilterForm):
    region = region_filter_field()
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[*FindingState.choices, (STATUS_ALL, _("全部状态"))],
        widget=forms.Select(attrs=SELECT),
    )
    overdue = forms.BooleanField(
        label=_("仅看已逾期的"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )

    def state_value(self) -> str | None:
        state = self.cleaned_data.get("state") or FindingState.OPEN
        return None if state == STATUS_ALL else state


class FollowUpForm(DescribedErrors, forms.Form):
    prefix = "follow_up"  # beside the closing form on one page
    note = text_area_field(_("跟进情况"), max_length=1000, rows=3, required=True)
    deadline = date_field(_("延长处理期限至（不延长则不填）"), required=False)


class FindingCloseForm(DescribedErrors, forms.Form):
    prefix = "close"
    # Not required here: the service names the missing outcome, for the page as for the API.
    outcome = forms.ChoiceField(
        label=_("处理结果"),
        required=False,
        choices=FindingOutcome.choices,
        widget=forms.RadioSelect(attrs=CHECK),
    )
    note = text_area_field(_("处理说明"), max_length=500, rows=2)
