"""The forms of the visit pages: the volunteer's visit form (made for a phone in elder mode), closing a
mandatory report, and the overdue list's region filter.

Forms parse what a person typed; the rules of a visit as a whole (dates against the pairing, a visit
recorded twice, the photo) are the services' (`guanai.pairings.visits`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.core.errors import DomainError
from guanai.pairings.visits import MAX_DURATION_MINUTES, NOTE_MAX_LENGTH, PHOTO_MAX_BYTES
from guanai.pairings.vocabulary import (
    SAFETY_CONCERN_LABELS,
    VISIT_ACTIVITY_LABELS,
    Condition,
    ReportOutcome,
    VisitMode,
)

CONTROL = {"class": "form-control form-control-lg"}
CHECK = {"class": "form-check-input"}
DATE_FORMAT = "%Y-%m-%d"
ACTIVITY_CHOICES = [(int(flag), label) for flag, label in VISIT_ACTIVITY_LABELS.items()]
CONCERN_CHOICES = [(int(flag), label) for flag, label in SAFETY_CONCERN_LABELS.items()]
CONDITION_FIELDS = ("study", "health", "emotion", "safety")


def _bits(label: Any, choices: list[tuple[int, Any]]) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label=label,
        required=False,
        coerce=int,
        choices=choices,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )


def _condition(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=Condition.choices,
        initial=Condition.GOOD,
        widget=forms.RadioSelect(attrs=CHECK),
        error_messages={"required": _("请选择良好、一般或需关注")},
    )


class VisitForm(forms.Form):
    visited_on = forms.DateField(
        label=_("走访日期"),
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={**CONTROL, "type": "date"}, format=DATE_FORMAT),
        error_messages={"required": _("请填写走访日期"), "invalid": _("日期格式应为 年-月-日")},
    )
    mode = forms.ChoiceField(
        label=_("走访方式"),
        choices=VisitMode.choices,
        initial=VisitMode.HOME,
        widget=forms.RadioSelect(attrs=CHECK),
        error_messages={"required": _("请选择走访方式")},
    )
    duration_minutes = forms.IntegerField(
        label=_("时长（分钟）"),
        min_value=1,
        max_value=MAX_DURATION_MINUTES,
        initial=60,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "numeric"}),
        help_text=_("实际陪伴的时间，不含路上时间；计入您的志愿服务时长"),
        error_messages={
            "required": _("请填写时长"),
            "invalid": _("请填写分钟数"),
            "min_value": _("时长应为 1 到 1440 分钟"),
            "max_value": _("时长应为 1 到 1440 分钟"),
        },
    )
    activities = _bits(_("做了什么（可多选）"), ACTIVITY_CHOICES)
    note = forms.CharField(
        label=_("情况记录"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={**CONTROL, "rows": 4}),
        help_text=_("孩子的近况、需要的帮助等，只有工作人员可以查看"),
    )
    study = _condition(_("学习"))
    health = _condition(_("健康"))
    emotion = _condition(_("情绪"))
    safety = _condition(_("安全"))
    concerns = _bits(_("发现的安全隐患"), CONCERN_CHOICES)
    photo = forms.FileField(
        label=_("照片（可不传）"),
        required=False,
        widget=forms.FileInput(attrs={**CONTROL, "accept": "image/jpeg,image/png"}),
        help_text=_("JPG 或 PNG，不超过 8 MB；保存时会去掉拍摄位置等信息"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["visited_on"].initial = today
        self.fields["visited_on"].widget.attrs["max"] = f"{today:%Y-%m-%d}"
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                field.widget.attrs["aria-describedby"] = f"error-{self.add_prefix(name)}"

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo is not None and photo.size > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("照片不能超过 8 MB"))
        return photo

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "visited_on": data["visited_on"],
            "mode": data["mode"],
            "duration_minutes": data["duration_minutes"],
            "activities": sum(set(data["activities"])),
            "note": data["note"],
            "concerns": sum(set(data["concerns"])),
            "photo": data.get("photo"),
            **{name: data[name] for name in CONDITION_FIELDS},
        }

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CONDITION_FIELDS]


class ReportCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("处置结果"),
        choices=ReportOutcome.choices,
        widget=forms.RadioSelect(attrs=CHECK),
        error_messages={"required": _("请选择处置结果")},
    )
    note = forms.CharField(
        label=_("处置说明"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )


class OverdueFilterForm(forms.Form):
    region = forms.ChoiceField(
        label=_("区域"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("全部辖区")), *regions]  # type: ignore[attr-defined]


def put_errors(form: forms.Form, error: DomainError) -> None:
    """A service's field errors onto the form's fields; the rest on top of the form."""
    if not error.fields:
        form.add_error(None, error.message)
    for name, texts in error.fields.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
