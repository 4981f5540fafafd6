from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanai.accounts.models import END_REASON_MAX_LENGTH
from guanai.core.access import Role
from guanai.web.forms import (
    CHECK,
    CONTROL,
    SELECT,
    DescribedErrors,
    RegionFilterForm,
    date_field,
    region_filter_field,
    search_field,
    select_field,
    text_area_field,
    text_field,
)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "form-control"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "form-control"}),
    )
    new_password_again = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "form-control"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("两次输入的新密码不一致"))
        return data


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("验证码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "form-control",
                "autofocus": True,
            }
        ),
    )


class SmsLoginForm(forms.Form):
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=11,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "numeric", "class": "form-control"}
        ),
    )
    sms_code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "form-control"}
        ),
    )


class RoleFilterForm(RegionFilterForm):
    """The filters of the roles page (GET); the regions are those one level below the actor's."""

    q = search_field(_("用户名或姓名"))
    role = select_field(_("角色"), Role.choices, blank=_("全部角色"))
    region = region_filter_field()
    due = forms.BooleanField(label=_("仅显示待复核"), required=False, widget=forms.CheckboxInput(attrs=CHECK))


class RoleGrantRequestForm(DescribedErrors, forms.Form):
    username = text_field(
        _("授予对象的用户名"),
        max_length=150,
        required=True,
        help_text=_("须为已有账号；新人员先由系统管理员创建账号。"),
    )
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices, widget=forms.Select(attrs=SELECT))
    region = forms.RegexField(
        label=_("行政区划代码"),
        regex=r"^\d{12}$",
        help_text=_("12 位区划代码，须在您的管辖范围内，并与角色的层级一致。"),
        error_messages={"invalid": _("请填写 12 位数字的区划代码")},
        widget=forms.TextInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )
    committee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("所属关工委（可选）"), queryset=None, required=False, widget=forms.Select(attrs=SELECT)
    )
    valid_from = date_field(_("生效日期"), required=False)
    valid_to = date_field(_("截止日期（可选）"), required=False)
    reason = text_area_field(
        _("申请理由"),
        max_length=500,
        rows=3,
        required=True,
        help_text=_("说明此人因何工作需要该角色，供上一级管理员审批。"),
    )

    def __init__(self, *args: Any, committees: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        committee_field = self.fields["committee"]
        assert isinstance(committee_field, forms.ModelChoiceField)
        committee_field.queryset = committees


class RoleDecisionForm(DescribedErrors, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("decline", _("拒绝"))])
    note = text_area_field(_("审批意见"), max_length=500, rows=2, help_text=_("拒绝时必须填写理由。"))


class RoleEndForm(DescribedErrors, forms.Form):
    reason = text_area_field(_("结束理由"), max_length=END_REASON_MAX_LENGTH, rows=2, required=True)
