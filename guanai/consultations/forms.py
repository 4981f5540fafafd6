"""Form pieces both faces of a conversation use — the requester's pages (public_forms) and the
professional's (professional_forms): the attachments control and the booking of an appointment. Each face
gives them its own look (the public pages are large, for phones and 长辈模式)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.consultations.attachments import MAX_FILES
from guanai.consultations.conversation import APPOINTMENT_NOTE_MAX_LENGTH
from guanai.consultations.vocabulary import AppointmentMode

ACCEPTED_FILES = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"
WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Up to MAX_FILES files in one control; what each file is, and its size, the service checks."""

    def __init__(self, *, control: Mapping[str, str], **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={**control, "accept": ACCEPTED_FILES}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        files = [single(item, initial) for item in items if item]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("每条留言最多附 %(count)d 个文件") % {"count": MAX_FILES})
        return files


def slot_label(slot: datetime.datetime) -> str:
    """11月30日（周一）14:00, in Asia/Shanghai."""
    local = timezone.localtime(slot)
    return _("%(month)d月%(day)d日（%(weekday)s）%(time)s") % {
        "month": local.month,
        "day": local.day,
        "weekday": WEEKDAYS[local.weekday()],
        "time": f"{local:%H:%M}",
    }


class BookingForm(forms.Form):
    """An appointment in one of the professional's free hours (`conversation.free_slots`)."""

    starts_at = forms.ChoiceField(
        label=_("选择时间"),
        error_messages={
            "required": _("请选择预约时间"),
            "invalid_choice": _("这个时间已经不能预约，请重新选择"),
        },
    )
    mode = forms.ChoiceField(
        label=_("方式"),
        choices=AppointmentMode.choices,
        initial=AppointmentMode.PHONE,
        error_messages={"required": _("请选择电话、视频或面谈")},
    )
    note = forms.CharField(label=_("备注（选填）"), required=False, max_length=APPOINTMENT_NOTE_MAX_LENGTH)

    def __init__(self, *args: Any, slots: list[datetime.datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot_choices: list[tuple[str, str]] = [(slot.isoformat(), slot_label(slot)) for slot in slots]
        self.show_slots(self.fields["starts_at"].widget, self.slot_choices)

    def show_slots(self, widget: forms.Widget, choices: list[tuple[str, str]]) -> None:
        """Offer `choices` as the start times, shown by `widget`."""
        field = self.fields["starts_at"]
        assert isinstance(field, forms.ChoiceField)
        field.widget = widget
        field.choices = choices  # also the widget's

    def starts_at_value(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.cleaned_data["starts_at"])
