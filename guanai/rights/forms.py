from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.rights.selectors import SubjectRequestFilters
from guanai.rights.services import TEXT_MAX_LENGTH, SubjectRequestInput
from guanai.rights.vocabulary import Kind, RequesterRole, Status, Verification

_SELECT = {"class": "form-select"}
_INPUT = {"class": "form-control"}


class SubjectRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("请求类型"), choices=Kind.choices, widget=forms.Select(attrs=_SELECT))
    requester_role = forms.ChoiceField(
        label=_("申请人身份"), choices=RequesterRole.choices, widget=forms.Select(attrs=_SELECT)
    )
    requester_name = forms.CharField(
        label=_("申请人姓名"), max_length=50, widget=forms.TextInput(attrs={**_INPUT, "autocomplete": "off"})
    )
    requester_contact = forms.CharField(
        label=_("联系电话"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={**_INPUT, "autocomplete": "off", "inputmode": "tel"}),
    )
    verification = forms.ChoiceField(
        label=_("身份与监护关系核验"), choices=Verification.choices, widget=forms.Select(attrs=_SELECT)
    )
    description = forms.CharField(
        label=_("请求内容"),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("申请人要求查阅、复制、更正或删除的具体内容。"),
        widget=forms.Textarea(attrs={**_INPUT, "rows": 4}),
    )
    received_on = forms.DateField(
        label=_("收到日期"),
        help_text=_("答复期限自收到之日起计算。"),
        # ISO, as a type="date" control requires: the locale's 2026/12/01 would show an empty box.
        widget=forms.DateInput(attrs={**_INPUT, "type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()

    def to_input(self) -> SubjectRequestInput:
        data = self.cleaned_data
        return SubjectRequestInput(
            requester_role=data["requester_role"],
            requester_name=data["requester_name"],
            requester_contact=data["requester_contact"],
            verification=data["verification"],
            kind=data["kind"],
            description=data["description"],
            received_on=data["received_on"],
        )


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=_("办理情况"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 3}),
    )
    confirmed = forms.BooleanField(
        label=_("我已核对，确认该请求已办结"),
        error_messages={"required": _("请勾选确认后再办结")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class RefuseForm(forms.Form):
    reasons = forms.CharField(
        label=_("不予办理的理由"),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("理由将写入答复函告知申请人（《个人信息保护法》第五十条）。"),
        widget=forms.Textarea(attrs={**_INPUT, "rows": 4}),
    )
    confirmed = forms.BooleanField(
        label=_("确认不予办理，并以答复函告知申请人"),
        error_messages={"required": _("请勾选确认后再决定不予办理")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class EraseForm(forms.Form):
    confirmation = forms.CharField(
        label=_("输入儿童记录编号以确认删除"), max_length=20, widget=forms.TextInput(attrs=_INPUT)
    )
    note = forms.CharField(
        label=_("办理情况"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 3}),
    )


class SubjectRequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部")), *list(Status.choices)],
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    overdue = forms.BooleanField(label=_("仅看已超期"), required=False)

    def to_filters(self) -> SubjectRequestFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return SubjectRequestFilters(status=data.get("status") or None, overdue=bool(data.get("overdue")))
