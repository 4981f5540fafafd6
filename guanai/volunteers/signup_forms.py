"""The forms of the sign-up pages, the township's review, invitations and 我的.

Large controls throughout (an elder fills them in on a phone): `form-control-lg` and generous padding, so
that even outside 长辈模式 every field and button is at least 60 px tall. The forms check formats and what
is required; the record's rules are the services'.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.volunteers.forms import CATEGORY_CHOICES, SPECIALTY_CHOICES
from guanai.volunteers.services import VolunteerInput
from guanai.volunteers.vocabulary import ALL_AVAILABILITY, availability_bit
from guanai.web.forms import CHECK, bit_list, bit_set_field, date_input

# Large controls (the staff pages' CONTROL and SELECT, enlarged).
CONTROL = {"class": "form-control form-control-lg py-3"}
SELECT = {"class": "form-select form-select-lg py-3"}


def _bits(days: range, parts: tuple[int, ...]) -> int:
    return sum(availability_bit(day, part) for day in days for part in parts)


# 可服务时间 in a few plain choices instead of a grid of 21 slots; each stands for a set of slots.
AVAILABILITY_OPTIONS: dict[str, tuple[Any, int]] = {
    "weekday_daytime": (_("工作日白天（周一至周五）"), _bits(range(0, 5), (0, 1))),
    "weekend_daytime": (_("周末白天（周六、周日）"), _bits(range(5, 7), (0, 1))),
    "evenings": (_("晚上"), _bits(range(0, 7), (2,))),
    "any_time": (_("什么时候都可以"), ALL_AVAILABILITY),
}
AVAILABILITY_CHOICES = [(key, label) for key, (label, _bits_) in AVAILABILITY_OPTIONS.items()]
MAX_CHILDREN_CHOICES = [(0, _("暂不结对，只参加活动"))] + [(n, _("%(n)d 名") % {"n": n}) for n in range(1, 6)]


def availability_value(keys: list[str]) -> int:
    value = 0
    for key in keys:
        value |= AVAILABILITY_OPTIONS[key][1]
    return value


def availability_keys(value: int) -> list[str]:
    """The plain choices a stored availability covers entirely (for editing a returned sign-up)."""
    if value & ALL_AVAILABILITY == ALL_AVAILABILITY:
        return ["any_time"]
    return [
        key
        for key, (_label, bits) in AVAILABILITY_OPTIONS.items()
        if key != "any_time" and value & bits == bits
    ]


# The chosen check boxes of a bit set (the sign-up pages' name for `bit_list`).
members = bit_list


class SignupForm(forms.Form):
    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=22,
        help_text=_("出生日期和性别按身份证号自动填写"),
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        help_text=_("用于接收验证码和审核结果，通过后用它登录"),
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "tel", "inputmode": "numeric"}),
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    county = forms.CharField(required=False, max_length=12)
    township = forms.CharField(required=False, max_length=12)
    region_code = forms.CharField(
        label=_("居住的村（社区）"),
        max_length=12,
        error_messages={"required": _("请选择您居住的村（社区）")},
    )
    categories = bit_set_field(_("五老类别（可多选）"), CATEGORY_CHOICES)
    specialties = bit_set_field(_("专长（可多选）"), SPECIALTY_CHOICES)
    law_licence_number = forms.CharField(
        label=_("律师执业证号（有法律专长时填写）"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs=CONTROL),
    )
    psychology_certificate = forms.CharField(
        label=_("心理咨询资质证书（有心理专长时填写）"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs=CONTROL),
    )
    teaching_subjects = forms.CharField(
        label=_("能辅导的学科（如语文、数学）"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=CONTROL),
    )
    availability = forms.MultipleChoiceField(
        label=_("什么时候方便服务（可多选）"),
        required=False,
        choices=AVAILABILITY_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )
    max_children = forms.TypedChoiceField(
        label=_("最多结对几名孩子"),
        coerce=int,
        choices=MAX_CHILDREN_CHOICES,
        initial=2,
        widget=forms.Select(attrs=SELECT),
    )
    shows_on_honour_roll = forms.BooleanField(
        label=_("同意在光荣榜上展示我的姓名和服务时长"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上面的个人信息处理告知"),
        error_messages={"required": _("请阅读并同意个人信息处理告知后再提交")},
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def to_input(self) -> VolunteerInput:
        data = self.cleaned_data
        return VolunteerInput(
            name=data["name"],
            region_code=data["region_code"],
            id_number=data["id_number"],
            phone=data.get("phone", ""),
            categories=sum(data["categories"]),
            specialties=sum(data["specialties"]),
            law_licence_number=data["law_licence_number"],
            psychology_certificate=data["psychology_certificate"],
            teaching_subjects=data["teaching_subjects"],
            availability=availability_value(data["availability"]),
            max_children=data["max_children"],
            shows_on_honour_roll=data["shows_on_honour_roll"],
        )


class ResubmitForm(SignupForm):
    """A returned sign-up corrected: the same questions, the phone already proved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["phone"]
        del self.fields["code"]


class MobileCodeForm(forms.Form):
    """Looking up one's applications: the mobile number and the code sent to it."""

    phone = forms.CharField(
        label=_("报名时填写的手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "tel", "inputmode": "numeric"}),
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因（申请人可以看到）"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class InvitationForm(forms.Form):
    region_code = forms.ChoiceField(
        label=_("邀请到的区域"), widget=forms.Select(attrs={"class": "form-select"})
    )
    note = forms.CharField(
        label=_("说明（如“千岛湖镇退休教师”）"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    days = forms.IntegerField(
        label=_("有效天数"),
        initial=30,
        min_value=1,
        max_value=90,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    max_uses = forms.IntegerField(
        label=_("可报名人数"),
        initial=50,
        min_value=1,
        max_value=500,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = regions


class ClaimForm(forms.Form):
    served_on = forms.DateField(
        label=_("服务日期"),
        widget=date_input(CONTROL),
    )
    hours = forms.DecimalField(
        label=_("服务时长（小时）"),
        min_value=Decimal("0.1"),
        max_value=Decimal("24"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "decimal", "step": "0.5"}),
    )
    description = forms.CharField(
        label=_("服务内容（如“入户走访”“假日学校授课”）"),
        max_length=300,
        widget=forms.TextInput(attrs=CONTROL),
    )
    organiser = forms.CharField(
        label=_("组织单位（由其确认）"),
        max_length=100,
        widget=forms.TextInput(attrs=CONTROL),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"served_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
