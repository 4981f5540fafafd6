from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Role


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


def _control(widget: forms.Widget) -> forms.Widget:
    widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")
    return widget


class RoleFilterForm(forms.Form):
    """The filters of the roles page (GET)."""

    q = forms.CharField(label=_("用户名或姓名"), max_length=50, required=False)
    role = forms.ChoiceField(label=_("角色"), required=False)
    region = forms.RegexField(label=_("区划代码"), regex=r"^\d{12}$", required=False)
    due = forms.BooleanField(label=_("仅显示待复核"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [("", _("全部角色")), *Role.choices]
        for name in ("q", "role", "region"):
            _control(self.fields[name].widget)
        self.fields["due"].widget.attrs["class"] = "form-check-input"


class RoleGrantRequestForm(forms.Form):
    username = forms.CharField(
        label=_("授予对象的用户名"),
        max_length=150,
        help_text=_("须为已有账号；新人员先由系统管理员创建账号。"),
    )
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    region = forms.RegexField(
        label=_("行政区划代码"),
        regex=r"^\d{12}$",
        help_text=_("12 位区划代码，须在您的管辖范围内，并与角色的层级一致。"),
        error_messages={"invalid": _("请填写 12 位数字的区划代码")},
    )
    committee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("所属关工委（可选）"), queryset=None, required=False
    )
    valid_from = forms.DateField(
        label=_("生效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("截止日期（可选）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("申请理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明此人因何工作需要该角色，供上一级管理员审批。"),
    )

    def __init__(self, *args: Any, committees: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        committee_field = self.fields["committee"]
        assert isinstance(committee_field, forms.ModelChoiceField)
        committee_field.queryset = committees
        for field in self.fields.values():
            _control(field.widget)


class RoleDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("decline", _("拒绝"))])
    note = forms.CharField(
        label=_("审批意见"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("拒绝时必须填写理由。"),
    )


class RoleEndForm(forms.Form):
    reason = forms.CharField(
        label=_("结束理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
