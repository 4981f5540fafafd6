"""The forms of the registry pages: the list's filters, a child's record with its guardians and consents
inline, closing a record, and the steps of the roster import.

Forms parse and check what a person typed (formats, required fields, and the shared rules of
`guanai.minors.validation` that need only one field); the record's rules as a whole are the services'.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.minors.selectors import SORTS, MinorFilters
from guanai.minors.validation import FieldError, clean_id_number, clean_phone
from guanai.minors.vocabulary import (
    CATEGORY_LABELS,
    FACTS,
    NEED_LABELS,
    ConsentScope,
    Gender,
    HouseholdType,
    RiskLevel,
    SpecialKind,
    Status,
)
from guanai.web.forms import (
    CHECK,
    CONTROL,
    SELECT,
    STATUS_ALL,
    DescribedErrors,
    RegionFilterForm,
    bit_set_field,
    date_field,
    region_filter_field,
    search_field,
    select_field,
    sort_field,
    status_filter_field,
    text_area_field,
    text_field,
)

MAX_AGE = 17

CATEGORY_CHOICES = [(int(flag), label) for flag, label in CATEGORY_LABELS.items()]
NEED_CHOICES = [(int(flag), label) for flag, label in NEED_LABELS.items()]
SORT_LABELS = {
    "name": _("按姓名拼音"),
    "-name": _("按姓名拼音（倒序）"),
    "age": _("年龄从小到大"),
    "-age": _("年龄从大到小"),
    "updated": _("最早更新在前"),
    "-updated": _("最近更新在前"),
    "risk": _("按风险等级"),
}


# --- The list's filters ------------------------------------------------------------------------------


class MinorFilterForm(RegionFilterForm):
    q = search_field(_("姓名、拼音、首字母、身份证号或监护人电话"))
    region = region_filter_field()
    status = status_filter_field(Status.choices)
    sort = sort_field(SORT_LABELS, SORTS)
    category = bit_set_field(_("类别（同时属于所选各类）"), CATEGORY_CHOICES)
    need = bit_set_field(_("需求"), NEED_CHOICES)
    risk_level = select_field(_("风险等级"), RiskLevel.choices, blank=_("全部"))
    gender = select_field(_("性别"), Gender.choices, blank=_("全部"))
    min_age = forms.IntegerField(
        label=_("最小年龄（周岁）"),
        required=False,
        min_value=0,
        max_value=MAX_AGE,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )
    max_age = forms.IntegerField(
        label=_("最大年龄（周岁）"),
        required=False,
        min_value=0,
        max_value=MAX_AGE,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )
    school = text_field(_("就读学校"), max_length=100)
    verification_overdue = forms.BooleanField(
        label=_("仅看年度核查已到期"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("最大年龄不能小于最小年龄"))
        return data

    def to_filters(self) -> MinorFilters:
        """The selector's filters from the valid fields; a field with an error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        status = data.get("status") or Status.ACTIVE
        return MinorFilters(
            region=data.get("region") or None,
            categories=sum(data.get("category") or []),
            needs=sum(data.get("need") or []),
            risk_level=data.get("risk_level") or None,
            gender=data.get("gender") or None,
            min_age=data.get("min_age"),
            max_age=data.get("max_age"),
            school=data.get("school") or None,
            status=None if status == STATUS_ALL else status,
            verification_overdue=bool(data.get("verification_overdue")),
            q=data.get("q") or None,
            sort=data.get("sort") or "name",
        )

    @property
    def advanced_fields(self) -> list[forms.BoundField]:
        """The single-value fields behind "更多筛选条件"."""
        return [self[name] for name in ("risk_level", "gender", "min_age", "max_age", "school")]

    @property
    def has_advanced(self) -> bool:
        """Whether a filter behind "更多筛选条件" is in use (the section then starts open)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        names = ("category", "need", "risk_level", "gender", "min_age", "max_age", "school")
        return any(data.get(name) not in (None, "", []) for name in names) or bool(
            data.get("verification_overdue")
        )


# --- A child's record -----------------------------------------------------------------------------


def fact_field_name(key: str) -> str:
    return f"fact_{key}"


class MinorForm(DescribedErrors, forms.Form):
    """A registration, or an edit (then `version` is the version the editor started from, and an empty
    ID number or address — and the name, for one who sees names masked — keeps the registered value:
    those are never sent to the page)."""

    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    name = text_field(_("姓名"), max_length=50, required=True)
    id_number = text_field(
        _("公民身份号码"),
        max_length=30,
        help_text=_("填写后出生日期与性别按身份证号确定"),
        autocomplete="off",
        spellcheck="false",
    )
    birth_date = date_field(_("出生日期"), required=False)
    gender = select_field(_("性别"), Gender.choices)
    ethnicity = text_field(_("民族"), max_length=20)
    region_code = forms.CharField(
        label=_("现居村（社区）"),
        max_length=12,
        widget=forms.TextInput(attrs={**CONTROL, "inputmode": "numeric"}),
        help_text=_("村（社区）一级的 12 位区划代码"),
    )
    address = text_field(_("现住址"), max_length=200)
    household_type = select_field(_("户口性质"), HouseholdType.choices)
    household_region_code = forms.CharField(
        label=_("户籍地区划代码"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )
    school = text_field(_("就读学校"), max_length=100)
    grade = text_field(_("年级"), max_length=20)
    categories = bit_set_field(_("类别（可多选）"), CATEGORY_CHOICES)
    special_kind = select_field(_("特殊青少年类型"), SpecialKind.choices, blank=_("不适用"))
    needs = bit_set_field(_("需求（可多选）"), NEED_CHOICES)
    risk_level = forms.ChoiceField(
        label=_("风险等级"),
        choices=RiskLevel.choices,
        initial=RiskLevel.LOW,
        widget=forms.Select(attrs=SELECT),
    )
    risk_reason = text_area_field(_("风险原因"), max_length=300, rows=2)
    last_verified_on = date_field(_("最近年度核查日期"), required=False)

    def __init__(
        self,
        *args: Any,
        villages: list[tuple[str, list[tuple[str, str]]]] | None = None,
        masked_id_number: str = "",
        masked_address: str = "",
        masked_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if masked_name:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("已登记：%(masked)s。留空则保持不变。") % {
                "masked": masked_name
            }
            self.fields["name"].widget.attrs["placeholder"] = masked_name
        for key, label in FACTS.items():
            self.fields[fact_field_name(key)] = text_field(str(label), max_length=300)
        if villages is not None:
            # A select in the actor's scope (grouped by township) where it is short enough to use.
            self.fields["region_code"] = select_field(
                self.fields["region_code"].label, villages, required=True
            )
        self.masked_id_number = masked_id_number
        self.masked_address = masked_address
        if masked_id_number:
            self.fields["id_number"].help_text = _("已登记：%(masked)s。留空则保持不变。") % {
                "masked": masked_id_number
            }
            self.fields["id_number"].widget.attrs["placeholder"] = masked_id_number
        if masked_address:
            self.fields["address"].help_text = _("已登记：%(masked)s。留空则保持不变。") % {
                "masked": masked_address
            }
            self.fields["address"].widget.attrs["placeholder"] = masked_address
        self.describe_errors()  # again: the facts' fields were added, the region's may have been replaced

    def clean_id_number(self) -> str:
        value: str = self.cleaned_data.get("id_number", "")
        if not value.strip():
            return ""
        try:
            return clean_id_number(value)
        except FieldError as error:
            raise forms.ValidationError(error.message, code=error.code) from error

    @property
    def fact_fields(self) -> list[forms.BoundField]:
        return [self[fact_field_name(key)] for key in FACTS]

    def facts(self) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(fact_field_name(key), "").strip()
            for key in FACTS
            if self.cleaned_data.get(fact_field_name(key), "").strip()
        }


class GuardianForm(DescribedErrors, forms.Form):
    guardian_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = text_field(_("姓名"), max_length=50, required=True)
    relationship = text_field(_("与儿童关系"), max_length=20, required=True)
    phone = text_field(_("联系电话"), max_length=30, inputmode="tel", autocomplete="off")
    is_entrusted_carer = forms.BooleanField(
        label=_("被委托照护人"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )
    can_care = forms.BooleanField(
        label=_("具备监护（照护）能力"), required=False, initial=True, widget=forms.CheckboxInput(attrs=CHECK)
    )
    care_note = text_field(_("监护能力说明"), max_length=200)

    def __init__(self, *args: Any, masked_phone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.masked_phone = masked_phone or (self.initial or {}).get("masked_phone", "")
        if self.masked_phone:
            self.fields["phone"].help_text = _("已登记：%(masked)s。留空则保持不变。") % {
                "masked": self.masked_phone
            }
            self.fields["phone"].widget.attrs["placeholder"] = self.masked_phone

    def has_changed(self) -> bool:
        """A blank row stays blank whatever its check boxes say: it is skipped, not "required"."""
        if (self.initial or {}).get("guardian_id"):
            return super().has_changed()
        return any(
            str(self[name].data or "").strip() for name in ("name", "relationship", "phone", "care_note")
        )

    def clean_phone(self) -> str:
        value: str = self.cleaned_data.get("phone", "")
        try:
            return clean_phone(value)
        except FieldError as error:
            raise forms.ValidationError(error.message, code=error.code) from error


class ConsentForm(DescribedErrors, forms.Form):
    """A new consent on record; a row left blank (only its check boxes set) is skipped."""

    given_by = text_field(_("同意人"), max_length=50, required=True)
    relationship = text_field(_("与儿童关系"), max_length=20, required=True)
    is_guardian = forms.BooleanField(
        label=_("同意人是监护人"), required=False, initial=True, widget=forms.CheckboxInput(attrs=CHECK)
    )
    notice_version = text_field(_("告知书版本"), max_length=20, required=True)
    scope = forms.MultipleChoiceField(
        label=_("同意范围"),
        choices=ConsentScope.choices,
        initial=[ConsentScope.REGISTRATION.value],
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )
    given_on = date_field(_("同意日期"))

    def has_changed(self) -> bool:
        texts = ("given_by", "relationship", "notice_version", "given_on")
        return any(str(self[name].data or "").strip() for name in texts)


class BaseGuardianFormSet(forms.BaseFormSet):
    def add_fields(self, form: GuardianForm, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = CHECK["class"]


GuardianFormSet = forms.formset_factory(
    GuardianForm, formset=BaseGuardianFormSet, extra=1, can_delete=True, max_num=10
)
ConsentFormSet = forms.formset_factory(ConsentForm, extra=1, max_num=5)


class CloseForm(forms.Form):
    reason = text_field(_("结案原因"), max_length=200, required=True)


class TransferRequestForm(forms.Form):
    id_number = forms.CharField(max_length=30, widget=forms.HiddenInput)
    reason = text_field(_("申请原因（可不填）"), max_length=300)


class ExportForm(MinorFilterForm):
    """The list's filters again (as hidden fields of the export buttons) and the file format."""

    format = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv")])


# --- The roster import ---------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("花名册文件（.xlsx、.xls 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={**CONTROL, "accept": ".xlsx,.xls,.csv"}),
    )
    region = forms.ChoiceField(label=_("导入到"), widget=forms.Select(attrs=SELECT))

    def __init__(self, *args: Any, regions: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = regions or []  # type: ignore[attr-defined]


IGNORE_COLUMN = ""


class ImportMappingForm(forms.Form):
    """Which column each field is read from, as detected and then adjusted: one select per field."""

    def __init__(
        self,
        *args: Any,
        fields: dict[str, str],
        columns: list[tuple[int, str]],
        required: tuple[str, ...] = ("name",),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(IGNORE_COLUMN, _("（不导入）")), *[(str(index), label) for index, label in columns]]
        for key, label in fields.items():
            self.fields[key] = forms.ChoiceField(
                label=label, required=key in required, choices=choices, widget=forms.Select(attrs=SELECT)
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        used: dict[str, str] = {}
        for key, column in data.items():
            if column in (None, IGNORE_COLUMN):
                continue
            if column in used:
                self.add_error(
                    key,
                    _("这一列已对应“%(other)s”，一列只能对应一项")
                    % {"other": self.fields[used[column]].label},
                )
            used.setdefault(column, key)
        return data

    def mapping(self) -> dict[str, int]:
        return {key: int(column) for key, column in self.cleaned_data.items() if column not in (None, "")}
