from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.audit.selectors import AuditEventFilters


class AuditEventFilterForm(forms.Form):
    """The search form of the audit page: the selector's filters, with whole days for the period."""

    actor = forms.CharField(label=_("操作人"), required=False, max_length=151)
    action = forms.CharField(label=_("动作"), required=False, max_length=65)
    target_type = forms.CharField(label=_("对象类型"), required=False, max_length=100)
    target_id = forms.CharField(label=_("对象 ID"), required=False, max_length=64)
    region = forms.CharField(label=_("区划代码"), required=False, max_length=12)
    since = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> AuditEventFilters:
        data = self.cleaned_data
        since: datetime.date | None = data.get("since")
        until: datetime.date | None = data.get("until")
        return AuditEventFilters(
            actor=data.get("actor", ""),
            action=data.get("action", ""),
            target_type=data.get("target_type", ""),
            target_id=data.get("target_id", ""),
            region=data.get("region", ""),
            since=datetime.datetime.combine(since, datetime.time.min) if since else None,
            # The end date is included: up to the start of the next day.
            until=datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
            if until
            else None,
        )

    def error_summary(self) -> str:
        return "；".join(
            f"{self.fields[name].label}：{message}" if name in self.fields else str(message)
            for name, messages in self.errors.items()
            for message in messages
        )
