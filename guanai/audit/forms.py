from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanai.audit.reports import FIRST_YEAR
from guanai.audit.selectors import AuditEventFilters


class _SummarisedForm(forms.Form):
    def error_summary(self) -> str:
        return "；".join(
            f"{self.fields[name].label}：{message}" if name in self.fields else str(message)
            for name, messages in self.errors.items()
            for message in messages
        )


class AuditEventFilterForm(_SummarisedForm):
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


class AuditReportForm(_SummarisedForm):
    """The yearly compliance report's choices: the year (this year by default) and the region (the
    auditor's by default)."""

    year = forms.IntegerField(label=_("年度"), required=False, min_value=FIRST_YEAR, max_value=9999)
    region = forms.CharField(label=_("区划代码"), required=False, max_length=12)

    def year_or_this_year(self) -> int:
        year: int | None = self.cleaned_data.get("year")
        return year if year is not None else timezone.localdate().year

    def region_code(self) -> str:
        return str(self.cleaned_data.get("region") or "")
