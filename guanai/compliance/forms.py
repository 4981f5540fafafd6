"""The forms of the compliance pages. They parse what a person typed; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.compliance.selectors import AssessmentFilters, IncidentFilters
from guanai.compliance.vocabulary import (
    TEXT_MAX_LENGTH,
    AuthorityChannel,
    Conclusion,
    DataCategory,
    IncidentKind,
    IncidentStatus,
    IndividualsChannel,
    LegalBasis,
    ProcessingKind,
)
from guanai.web.forms import (
    CHECK,
    CONTROL,
    DescribedErrors,
    RegionFilterForm,
    bit_set_field,
    date_field,
    region_filter_field,
    search_field,
    select_field,
    text_area_field,
    text_field,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def datetime_field(label: Any, *, help_text: Any = "") -> forms.DateTimeField:
    """A date and time in the browser's picker, read in Asia/Shanghai."""
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_FORMAT],
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={**CONTROL, "type": "datetime-local"}, format=DATETIME_FORMAT),
    )


def _check(label: Any, help_text: Any = "") -> forms.BooleanField:
    return forms.BooleanField(
        label=label, required=False, help_text=help_text, widget=forms.CheckboxInput(attrs=CHECK)
    )


def _count(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, widget=forms.NumberInput(attrs={**CONTROL, "min": 0}))


class _WithRegion(DescribedErrors, forms.Form):
    """A record's form with the region it belongs to, first among its fields."""

    field_order = ["region_code"]
    region_code = forms.ChoiceField(label=_("所属区划"), widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = regions  # type: ignore[attr-defined]


class AssessmentForm(_WithRegion):
    title = text_field(
        _("评估事项"), max_length=100, required=True, help_text=_("如：2026年困难儿童花名册导入")
    )
    processing_kind = select_field(_("处理活动类型"), ProcessingKind.choices, required=True)
    processing_description = text_area_field(
        _("处理活动说明"),
        max_length=TEXT_MAX_LENGTH,
        rows=3,
        required=True,
        help_text=_("处理哪些人的信息、由谁处理、如何处理、向谁提供。请勿填写具体个人的信息。"),
    )
    purpose = text_area_field(_("处理目的"), max_length=TEXT_MAX_LENGTH, rows=2, required=True)
    legal_basis = select_field(_("处理依据"), LegalBasis.choices, required=True)
    data_categories = text_area_field(
        _("涉及的个人信息种类"),
        max_length=TEXT_MAX_LENGTH,
        rows=2,
        required=True,
        help_text=_("如：姓名、身份证件号码、住址、就读学校、家庭情况"),
    )
    involves_sensitive_data = _check(_("涉及敏感个人信息"))
    involves_children_under_14 = _check(
        _("涉及不满十四周岁未成年人的个人信息"), _("不满十四周岁未成年人的个人信息属于敏感个人信息")
    )
    risks = text_area_field(_("发现的风险"), max_length=TEXT_MAX_LENGTH, rows=4, required=True)
    measures = text_area_field(_("采取的保护措施"), max_length=TEXT_MAX_LENGTH, rows=4, required=True)
    conclusion = select_field(_("评估结论"), Conclusion.choices, required=True)
    conclusion_note = text_area_field(
        _("结论说明"),
        max_length=TEXT_MAX_LENGTH,
        rows=2,
        help_text=_("结论为“落实措施后方可开展”或“不得开展”时必填"),
    )
    assessors = text_field(_("评估人员"), max_length=200, required=True, help_text=_("参与评估的人员及单位"))
    assessed_on = date_field(_("评估日期"))
    supersedes_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AssessmentFilterForm(RegionFilterForm):
    q = search_field(_("评估事项"))
    processing_kind = select_field(_("处理活动类型"), ProcessingKind.choices, blank=_("全部"))
    conclusion = select_field(_("评估结论"), Conclusion.choices, blank=_("全部"))
    region = region_filter_field()
    kept = select_field(
        _("保存期限"), [("kept", _("保存期内")), ("expired", _("保存期已满"))], blank=_("全部")
    )

    def to_filters(self) -> AssessmentFilters:
        """The selector's filters from the valid fields; a field with an error is left out."""
        if not self.is_bound:
            return AssessmentFilters()
        self.is_valid()
        data = self.cleaned_data
        return AssessmentFilters(
            processing_kind=data.get("processing_kind", ""),
            conclusion=data.get("conclusion", ""),
            region=data.get("region", ""),
            q=data.get("q", ""),
            expired={"kept": False, "expired": True}.get(data.get("kept", "")),
        )


class IncidentFactsForm(DescribedErrors, forms.Form):
    """What an incident's record says happened; its region is chosen when it is reported, never edited."""

    kind = select_field(_("事件类型"), IncidentKind.choices, required=True)
    discovered_at = datetime_field(_("发现时间"))
    description = text_area_field(
        _("事件经过"),
        max_length=TEXT_MAX_LENGTH,
        rows=4,
        required=True,
        help_text=_("加密保存。请尽量不写儿童的姓名等个人信息。"),
    )
    data_categories = bit_set_field(_("涉及的个人信息种类"), DataCategory.choices)
    affected_count = _count(_("涉及人数"))
    affected_minors_count = _count(_("其中未成年人人数"))
    causes = text_area_field(_("原因"), max_length=TEXT_MAX_LENGTH, rows=3)
    remedial_measures = text_area_field(_("已采取的补救措施"), max_length=TEXT_MAX_LENGTH, rows=3)
    possible_harm = text_area_field(_("可能造成的危害"), max_length=TEXT_MAX_LENGTH, rows=3)


class IncidentForm(_WithRegion, IncidentFactsForm):
    """A new incident: its facts and its region."""


class IncidentEditForm(IncidentFactsForm):
    """An edit of an incident's facts, based on the version shown."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class IncidentFilterForm(RegionFilterForm):
    status = select_field(_("状态"), IncidentStatus.choices, blank=_("全部"))
    kind = select_field(_("事件类型"), IncidentKind.choices, blank=_("全部"))
    region = region_filter_field()
    overdue = select_field(
        _("报告期限"), [("yes", _("逾期未报告")), ("no", _("已报告或未逾期"))], blank=_("全部")
    )

    def to_filters(self) -> IncidentFilters:
        """The selector's filters from the valid fields; a field with an error is left out."""
        if not self.is_bound:
            return IncidentFilters()
        self.is_valid()
        data = self.cleaned_data
        return IncidentFilters(
            status=data.get("status", ""),
            kind=data.get("kind", ""),
            region=data.get("region", ""),
            overdue={"yes": True, "no": False}.get(data.get("overdue", "")),
        )


class AuthorityNoticeForm(DescribedErrors, forms.Form):
    notified_at = datetime_field(_("报告时间"))
    channel = select_field(_("报告方式"), AuthorityChannel.choices, required=True)
    authority_name = text_field(
        _("报告对象"), max_length=100, required=True, help_text=_("如：省委网信办、省教育厅")
    )
    reference = text_field(_("报告编号或回执"), max_length=60)


class IndividualsNoticeForm(DescribedErrors, forms.Form):
    notified_at = datetime_field(_("通知时间"))
    channel = select_field(_("通知方式"), IndividualsChannel.choices, required=True)


class NotNotifyForm(DescribedErrors, forms.Form):
    reason = text_area_field(
        _("不通知的理由"),
        max_length=TEXT_MAX_LENGTH,
        rows=3,
        required=True,
        help_text=_("说明已采取的措施如何能够有效避免危害。主管部门认为可能造成危害的，仍有权要求通知。"),
    )


class NoticeRequiredForm(DescribedErrors, forms.Form):
    required_at = datetime_field(_("主管部门要求通知的时间"))
