"""The forms of the professional's pages: a reply with attachments, the counselling notes, booking an
appointment, closing with an outcome, the legal-aid referral, and the filters of 我的咨询.

Forms parse what a person typed; the rules (who may, the state of the request, the free hours, the file
types) are the services' (`guanai.consultations.conversation`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.consultations import forms as forms_base
from guanai.consultations.conversation import (
    BODY_MAX_LENGTH,
    FACTS_MAX_LENGTH,
    HOURS_MAX,
    HOURS_MIN,
    HOURS_STEP,
    NOTES_MAX_LENGTH,
    REFERRED_TO_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
)
from guanai.consultations.forms import MultipleFileField
from guanai.consultations.vocabulary import AppointmentMode, Kind, Outcome, State
from guanai.core.errors import DomainError

CONTROL = {"class": "form-control"}
SELECT = {"class": "form-select"}
CHECK = {"class": "form-check-input"}


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("回复内容"),
        max_length=BODY_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": _("请填写留言内容"),
            "max_length": _("留言不能超过 %(limit_value)d 字"),
        },
        widget=forms.Textarea(attrs={**CONTROL, "rows": 4}),
    )
    # Named like the requester's form, so that partials/_message_form.html serves both; Django's form
    # metaclass moves declared fields off the class, so `form.files` stays the uploaded files.
    files = MultipleFileField(  # type: ignore[assignment]
        control=CONTROL,
        label=_("附件"),
        required=False,
        help_text=_("选填，最多 3 个：JPG、PNG 照片或 PDF 文件。照片会去除拍摄位置等信息。"),
    )


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("咨询记录（仅本人可见）"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        error_messages={"max_length": _("咨询记录不能超过 %(limit_value)d 字")},
        widget=forms.Textarea(attrs={**CONTROL, "rows": 5}),
    )


class BookingForm(forms_base.BookingForm):
    """The professional's booking: the free hours as a list of radio buttons."""

    def __init__(self, *args: Any, slots: list[datetime.datetime], **kwargs: Any) -> None:
        super().__init__(*args, slots=slots, **kwargs)
        self.show_slots(forms.RadioSelect(attrs=CHECK), self.slot_choices)
        self.fields["mode"].widget = forms.Select(attrs=SELECT, choices=AppointmentMode.choices)
        self.fields["note"].widget = forms.TextInput(attrs=CONTROL)


def _hours_choices() -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    hours = HOURS_MIN
    while hours <= HOURS_MAX:
        text = f"{hours.normalize():f}"
        choices.append((text, _("%(hours)s 小时") % {"hours": text}))
        hours += HOURS_STEP
    return choices


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("处理结果"),
        choices=[("", _("请选择")), *Outcome.choices],
        error_messages={"required": _("请选择处理结果")},
        widget=forms.Select(attrs=SELECT),
    )
    summary = forms.CharField(
        label=_("结案小结"),
        max_length=SUMMARY_MAX_LENGTH,
        error_messages={
            "required": _("请填写结案小结"),
            "max_length": _("结案小结不能超过 %(limit_value)d 字"),
        },
        widget=forms.Textarea(attrs={**CONTROL, "rows": 3}),
    )
    service_hours = forms.TypedChoiceField(
        label=_("服务时长"),
        choices=_hours_choices,
        coerce=Decimal,
        initial="1",
        error_messages={
            "required": _("请选择服务时长"),
            "invalid_choice": _("服务时长应为 0.5 到 8 小时，以半小时为单位"),
        },
        help_text=_("计入您的志愿服务时长"),
        widget=forms.Select(attrs=SELECT),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReferralForm(forms.Form):
    referred_to = forms.CharField(
        label=_("法律援助机构"),
        max_length=REFERRED_TO_MAX_LENGTH,
        error_messages={"required": _("请填写法律援助机构")},
        widget=forms.TextInput(attrs={**CONTROL, "placeholder": _("例如：淳安县法律援助中心")}),
    )
    facts = forms.CharField(
        label=_("案情摘要"),
        max_length=FACTS_MAX_LENGTH,
        error_messages={"required": _("请填写案情摘要")},
        widget=forms.Textarea(attrs={**CONTROL, "rows": 3}),
    )
    requester_is_minor_without_income = forms.BooleanField(
        label=_("求助人是无固定生活来源的未成年人（免予经济困难审查）"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )


class ConversationFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("处理中和近期结束")), (State.ACCEPTED, _("处理中")), (State.CLOSED, _("已结束"))],
        widget=forms.Select(attrs=SELECT),
    )
    kind = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[("", _("全部类别")), *Kind.choices],
        widget=forms.Select(attrs=SELECT),
    )


def put_errors(form: forms.Form, error: DomainError) -> None:
    """A service's field errors onto the form's fields; the rest on top of the form."""
    if not error.fields:
        form.add_error(None, error.message)
    for name, texts in error.fields.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
