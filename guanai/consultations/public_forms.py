"""The forms of the public pages of online help: asking, retrieving, writing back, booking, rating.

Large controls throughout (a child or an elder fills them in on a phone). The forms only carry what was
typed; every rule of a request (topics of a kind, the region, the guardian's consent…) is the intake
service's, whose field errors land on these fields, so the page and the API say the same thing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.consultations import forms as forms_base
from guanai.consultations.forms import MultipleFileField
from guanai.consultations.intake import (
    AGE_MAX,
    AGE_MIN,
    DESCRIPTION_MAX,
    NAME_MAX,
    IntakeData,
)
from guanai.consultations.vocabulary import (
    TOPICS_BY_KIND,
    AppointmentMode,
    ContactPreference,
    Kind,
    Requester,
    Topic,
)
from guanai.web.forms import CHECK, DescribedErrors

CONTROL = {"class": "form-control form-control-lg py-3"}
SELECT = {"class": "form-select form-select-lg py-3"}
RADIO = {"class": "form-check-input"}


def topic_choices(kind: str) -> list[tuple[str, Any]]:
    """The topics of a kind, for the topic select; none until the kind is chosen."""
    if kind not in TOPICS_BY_KIND:
        return [("", _("请先选择求助类别"))]
    return [("", _("请选择"))] + [(topic, Topic(topic).label) for topic in TOPICS_BY_KIND[kind]]


AGE_CHOICES = [("", _("不填"))] + [
    (str(age), _("%(age)d 岁") % {"age": age}) for age in range(AGE_MIN, AGE_MAX + 1)
]


class IntakeForm(DescribedErrors, forms.Form):
    kind = forms.CharField(
        label=_("求助类别"),
        required=False,
        widget=forms.RadioSelect(attrs=RADIO, choices=Kind.choices),
    )
    topic = forms.CharField(label=_("问题类型"), required=False, widget=forms.Select(attrs=SELECT))
    requester = forms.CharField(
        label=_("谁在求助"),
        required=False,
        widget=forms.RadioSelect(attrs=RADIO, choices=Requester.choices),
    )
    requester_age = forms.IntegerField(
        label=_("孩子的年龄（选填）"),
        required=False,
        help_text=_("如果是为孩子求助，请填孩子的年龄"),
        widget=forms.Select(attrs=SELECT, choices=AGE_CHOICES),
    )
    county = forms.CharField(required=False, max_length=12)
    township = forms.CharField(required=False, max_length=12)
    description = forms.CharField(
        label=_("遇到了什么问题"),
        required=False,
        strip=False,
        help_text=_("10 到 2000 个字。写清楚发生了什么、持续多久、现在最担心什么。"),
        widget=forms.Textarea(attrs={**CONTROL, "rows": 6, "maxlength": DESCRIPTION_MAX}),
    )
    contact_preference = forms.CharField(
        label=_("希望怎样联系你"),
        required=False,
        initial=ContactPreference.ONLINE,
        widget=forms.RadioSelect(attrs=RADIO, choices=ContactPreference.choices),
    )
    contact_phone = forms.CharField(
        label=_("手机号（选择电话回访时必填）"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "tel", "inputmode": "numeric"}),
    )
    requester_name = forms.CharField(
        label=_("怎么称呼你（选填，可以不写真名）"),
        required=False,
        widget=forms.TextInput(attrs={**CONTROL, "maxlength": NAME_MAX, "autocomplete": "off"}),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上面的个人信息处理告知"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )
    guardian_consent = forms.BooleanField(
        label=_("我是孩子的监护人，或已经取得监护人同意（孩子不满 14 周岁并留下电话或称呼时必须勾选）"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def __init__(self, *args: Any, kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = self.data.get("kind", kind) if self.is_bound else kind
        widget = self.fields["topic"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = topic_choices(str(chosen))
        if not self.is_bound and kind in Kind.values:
            self.initial.setdefault("kind", kind)

    def region_code(self) -> str:
        data = self.cleaned_data
        return str(data.get("township") or data.get("county") or "")

    def to_input(self) -> IntakeData:
        data = self.cleaned_data
        return IntakeData(
            kind=data["kind"],
            topic=data["topic"],
            requester=data["requester"],
            region_code=self.region_code(),
            description=data["description"],
            contact_preference=data["contact_preference"] or ContactPreference.ONLINE,
            contact_phone=data["contact_phone"],
            requester_name=data["requester_name"],
            requester_age=data["requester_age"],
            consent=data["consent"],
            guardian_consent=data["guardian_consent"],
        )


class RetrievalForm(DescribedErrors, forms.Form):
    reference = forms.CharField(
        label=_("受理编号"),
        max_length=32,
        error_messages={"required": _("请填写受理编号")},
        widget=forms.TextInput(
            attrs={**CONTROL, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    code = forms.CharField(
        label=_("查询码"),
        max_length=32,
        error_messages={"required": _("请填写查询码")},
        widget=forms.TextInput(
            attrs={**CONTROL, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class MessageForm(DescribedErrors, forms.Form):
    body = forms.CharField(
        label=_("写回复"),
        max_length=2000,
        error_messages={"required": _("请填写要说的话")},
        widget=forms.Textarea(attrs={**CONTROL, "rows": 4}),
    )
    attachments = MultipleFileField(
        control=CONTROL,
        label=_("附件（选填，最多 3 个：照片或 PDF）"),
        required=False,
    )


class BookingForm(DescribedErrors, forms_base.BookingForm):
    """The requester's booking, phone-sized: the free hours in one select, the ways as large radios."""

    def __init__(self, *args: Any, slots: list[datetime.datetime], **kwargs: Any) -> None:
        super().__init__(*args, slots=slots, **kwargs)
        self.show_slots(forms.Select(attrs=SELECT), [("", str(_("请选择"))), *self.slot_choices])
        self.fields["mode"].widget = forms.RadioSelect(attrs=RADIO, choices=AppointmentMode.choices)
        self.fields["note"].widget = forms.TextInput(attrs=CONTROL)


class RatingForm(DescribedErrors, forms.Form):
    rating = forms.TypedChoiceField(
        label=_("你对这次服务满意吗"),
        coerce=int,
        choices=[
            (5, _("5 分 非常满意")),
            (4, _("4 分 满意")),
            (3, _("3 分 一般")),
            (2, _("2 分 不太满意")),
            (1, _("1 分 很不满意")),
        ],
        error_messages={"required": _("请选择满意度")},
        widget=forms.RadioSelect(attrs=RADIO),
    )
    comment = forms.CharField(
        label=_("想说的话（选填）"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=CONTROL),
    )
