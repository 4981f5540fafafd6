"""The forms of the staff pages that keep the 五老 volunteers and their teams: the list's filters, a
volunteer's record, status, background check, service hours, training, honours, and the teams.

Forms parse what a person typed (formats, dates, numbers); the record's rules are the services', whose
ValidationFailed errors the views put back on the fields named here — so each field is named like the
service's argument. Bit sets (五老类别, 专长, 可服务时间) are check boxes, the availability a grid of seven
days × 上午/下午/晚上; every control is a plain, large Bootstrap control that elder mode enlarges.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.minors.vocabulary import Gender
from guanai.volunteers.selectors import SORTS, VolunteerFilters
from guanai.volunteers.services import VolunteerInput
from guanai.volunteers.vocabulary import (
    DAY_PART_LABELS,
    ELDER_CATEGORY_LABELS,
    SPECIALTY_LABELS,
    STAR_LABELS,
    WEEKDAY_LABELS,
    CheckResult,
    Status,
    TeamKind,
    TeamRole,
    availability_bit,
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
    with_blank,
)

CATEGORY_CHOICES = [(int(flag), label) for flag, label in ELDER_CATEGORY_LABELS.items()]
SPECIALTY_CHOICES = [(int(flag), label) for flag, label in SPECIALTY_LABELS.items()]
# One choice per slot, Monday morning first: the grid template reads them three to a row.
AVAILABILITY_CHOICES = [
    (availability_bit(day, part), f"{WEEKDAY_LABELS[day]}{DAY_PART_LABELS[part]}")
    for day in range(7)
    for part in range(3)
]
SORT_LABELS = {
    "name": _("按姓名拼音"),
    "-name": _("按姓名拼音（倒序）"),
    "hours": _("服务时长从多到少"),
    "check": _("背景审查日期从早到晚"),
    "updated": _("最近更新在前"),
}


def _hours_field(label: Any) -> forms.DecimalField:
    # No upper bound here: the service answers "时长应大于 0、不超过 24 小时" on the field.
    return forms.DecimalField(
        label=label,
        max_digits=6,
        decimal_places=1,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "decimal", "step": "0.5"}),
    )


class AvailabilityGrid:
    """The 7 × 3 grid of a form's availability field, for the template: rows of (day, [options])."""

    availability_field_name = "availability"

    @property
    def availability_rows(self) -> list[tuple[Any, list[Any]]]:
        form: forms.Form = self  # type: ignore[assignment]
        options = list(form[self.availability_field_name])
        return [(WEEKDAY_LABELS[day], options[day * 3 : day * 3 + 3]) for day in range(7)]

    @property
    def day_parts(self) -> tuple[object, ...]:
        return DAY_PART_LABELS


# --- The list's filters ---------------------------------------------------------------------------


class VolunteerFilterForm(AvailabilityGrid, RegionFilterForm):
    q = search_field(_("姓名、拼音、首字母、身份证号或电话"))
    region = region_filter_field()
    status = status_filter_field(Status.choices)
    sort = sort_field(SORT_LABELS, SORTS)
    category = bit_set_field(_("五老类别（同时属于所选各类）"), CATEGORY_CHOICES)
    specialty = bit_set_field(_("专长（同时具备所选各项）"), SPECIALTY_CHOICES)
    availability = bit_set_field(_("可服务时间（所选时段都有空）"), AVAILABILITY_CHOICES)
    has_capacity = forms.BooleanField(
        label=_("仅看尚可结对的"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )
    check_due = forms.BooleanField(
        label=_("仅看背景审查待办（未审查、未通过或 30 天内到期）"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECK),
    )
    star = forms.TypedChoiceField(
        label=_("星级"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=with_blank([(level, label) for level, label in enumerate(STAR_LABELS)], _("全部")),
        widget=forms.Select(attrs=SELECT),
    )
    gender = select_field(_("性别"), Gender.choices, blank=_("全部"))
    team = forms.TypedChoiceField(
        label=_("所在队伍"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs=SELECT),
    )

    def __init__(self, *args: Any, teams: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = with_blank(teams or [], _("全部"))  # type: ignore[attr-defined]

    def to_filters(self) -> VolunteerFilters:
        """The selector's filters from the valid fields; a field with an error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        status = data.get("status") or Status.ACTIVE
        return VolunteerFilters(
            region=data.get("region") or None,
            categories=sum(data.get("category") or []),
            specialties=sum(data.get("specialty") or []),
            availability=sum(data.get("availability") or []),
            has_capacity=bool(data.get("has_capacity")),
            check_due=bool(data.get("check_due")),
            star=data.get("star"),
            gender=data.get("gender") or None,
            status=None if status == STATUS_ALL else status,
            team=data.get("team"),
            q=data.get("q") or None,
            sort=data.get("sort") or "name",
        )

    @property
    def advanced_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("star", "gender", "team")]

    @property
    def has_advanced(self) -> bool:
        """Whether a filter behind "更多筛选条件" is in use (the section then starts open)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        names = (
            "category",
            "specialty",
            "availability",
            "star",
            "gender",
            "team",
            "has_capacity",
            "check_due",
        )
        return any(data.get(name) not in (None, "", [], False) for name in names)


# --- A volunteer's record -------------------------------------------------------------------------

REGISTER_STATUSES = [
    (Status.ACTIVE.value, Status.ACTIVE.label),
    (Status.APPLYING.value, Status.APPLYING.label),
]


class VolunteerForm(DescribedErrors, AvailabilityGrid, forms.Form):
    """A registration, or an edit: then `version` is the version the editor started from, and an empty
    ID number or phone keeps the registered value (those never reach the page)."""

    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    name = text_field(_("姓名"), max_length=50, required=True)
    id_number = text_field(_("公民身份号码"), max_length=30, autocomplete="off", spellcheck="false")
    birth_date = date_field(_("出生日期"), required=False)
    gender = select_field(_("性别"), Gender.choices)
    phone = text_field(_("联系电话"), max_length=30, inputmode="tel", autocomplete="off")
    region_code = forms.CharField(
        label=_("居住村（社区）"),
        max_length=12,
        widget=forms.TextInput(attrs={**CONTROL, "inputmode": "numeric"}),
        help_text=_("村（社区）一级的 12 位区划代码"),
    )
    status = forms.ChoiceField(
        label=_("登记为"),
        choices=REGISTER_STATUSES,
        initial=Status.ACTIVE,
        widget=forms.RadioSelect(attrs=CHECK),
        help_text=_("已熟悉的老同志直接登记为在岗；需要审核的登记为申请中"),
    )
    categories = bit_set_field(_("五老类别（可多选）"), CATEGORY_CHOICES)
    former_unit = text_field(_("原工作单位"), max_length=100)
    former_title = text_field(_("原职务（职称）"), max_length=100)
    specialties = bit_set_field(_("专长（可多选）"), SPECIALTY_CHOICES)
    law_licence_number = text_field(_("律师执业证号"), max_length=30)
    psychology_certificate = text_field(_("心理咨询资质证书"), max_length=50)
    teaching_subjects = text_field(_("辅导学科"), max_length=100)
    specialty_note = text_field(_("专长说明"), max_length=200)
    availability = bit_set_field(_("可服务时间（可多选）"), AVAILABILITY_CHOICES)
    max_children = forms.IntegerField(
        label=_("最多结对人数"),
        initial=3,
        min_value=0,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )
    health_note = text_field(_("健康状况（本人申报）"), max_length=200)
    dialects = text_field(_("方言"), max_length=100)
    latitude = forms.DecimalField(
        label=_("纬度"),
        required=False,
        max_digits=12,
        decimal_places=6,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "decimal", "step": "any"}),
    )
    longitude = forms.DecimalField(
        label=_("经度"),
        required=False,
        max_digits=12,
        decimal_places=6,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "decimal", "step": "any"}),
    )
    check_date = date_field(_("背景审查日期"), required=False)
    check_result = select_field(_("背景审查结果"), CheckResult.choices, blank=_("尚未审查"))
    check_by = text_field(_("审查单位（人）"), max_length=100)
    shows_on_honour_roll = forms.BooleanField(
        label=_("本人同意在光荣榜展示姓名"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )

    def __init__(
        self,
        *args: Any,
        villages: list[Any] | None = None,
        masked_id_number: str = "",
        masked_phone: str = "",
        is_new: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if villages is not None:
            # A select in the actor's scope (grouped by township) where it is short enough to use.
            self.fields["region_code"] = select_field(
                self.fields["region_code"].label, villages, required=True
            )
        if not is_new:
            # The status changes on its own page, with a reason.
            del self.fields["status"]
        self.fields["version"].required = not is_new
        self.fields["id_number"].help_text = _("填写后出生日期与性别按身份证号确定")
        for name, masked in (("id_number", masked_id_number), ("phone", masked_phone)):
            if masked:
                self.fields[name].help_text = _("已登记：%(masked)s。留空则保持不变。") % {"masked": masked}
                self.fields[name].widget.attrs["placeholder"] = masked
        self.describe_errors()  # again: the region field may have been replaced

    def to_input(self, *, id_number: str = "", phone: str = "") -> VolunteerInput:
        """The service's input; a blank ID number or phone is replaced by the given registered value."""
        data = self.cleaned_data
        return VolunteerInput(
            name=data["name"],
            region_code=data["region_code"],
            gender=data["gender"],
            birth_date=data["birth_date"],
            id_number=data["id_number"] or id_number,
            phone=data["phone"] or phone,
            categories=sum(data["categories"]),
            former_unit=data["former_unit"],
            former_title=data["former_title"],
            specialties=sum(data["specialties"]),
            law_licence_number=data["law_licence_number"],
            psychology_certificate=data["psychology_certificate"],
            teaching_subjects=data["teaching_subjects"],
            specialty_note=data["specialty_note"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            availability=sum(data["availability"]),
            max_children=data["max_children"],
            health_note=data["health_note"],
            dialects=data["dialects"],
            check_date=data["check_date"],
            check_result=data["check_result"],
            check_by=data["check_by"],
            shows_on_honour_roll=data["shows_on_honour_roll"],
        )

    @property
    def basic_fields(self) -> list[forms.BoundField]:
        names = [
            "name",
            "id_number",
            "birth_date",
            "gender",
            "phone",
            "region_code",
            "former_unit",
            "former_title",
        ]
        return [self[name] for name in names]

    @property
    def specialty_fields(self) -> list[forms.BoundField]:
        names = ["law_licence_number", "psychology_certificate", "teaching_subjects", "specialty_note"]
        return [self[name] for name in names]

    @property
    def service_fields(self) -> list[forms.BoundField]:
        names = ["max_children", "health_note", "dialects", "latitude", "longitude"]
        return [self[name] for name in names]

    @property
    def check_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("check_date", "check_result", "check_by")]


# --- Status, background check, hours, training and honours ----------------------------------------


class StatusForm(DescribedErrors, forms.Form):
    status = forms.ChoiceField(label=_("新状态"), widget=forms.RadioSelect(attrs=CHECK))
    reason = text_area_field(_("原因"), max_length=200, rows=2, help_text=_("暂停、退出、已故须填写原因"))
    on = date_field(_("变更日期（不填为今天）"), required=False)

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(status, Status(status).label) for status in statuses]  # type: ignore[attr-defined]


class CheckForm(DescribedErrors, forms.Form):
    """The entry or yearly background check (未成年人保护法第六十二条)."""

    checked_on = date_field(_("审查日期"))
    result = forms.ChoiceField(
        label=_("审查结果"),
        required=False,
        choices=CheckResult.choices,
        widget=forms.RadioSelect(attrs=CHECK),
    )
    checked_by = text_field(_("审查单位（人）"), max_length=100)


class HoursForm(DescribedErrors, forms.Form):
    """Service the organiser records (谁组织谁记录): confirmed at once."""

    served_on = date_field(_("服务日期"))
    hours = _hours_field(_("服务时长（小时）"))
    description = text_area_field(_("服务内容"), max_length=300, rows=2)
    organiser = text_field(_("组织单位"), max_length=100)


class HoursReturnForm(DescribedErrors, forms.Form):
    reason = text_field(_("退回原因（志愿者可见）"), max_length=200)


class HoursCorrectForm(DescribedErrors, forms.Form):
    hours = _hours_field(_("更正后的时长（小时）"))
    served_on = date_field(_("更正后的服务日期"))
    reason = text_field(_("更正原因"), max_length=200)


class TrainingForm(DescribedErrors, forms.Form):
    course = text_field(_("课程"), max_length=100)
    attended_on = date_field(_("培训日期"))
    hours = _hours_field(_("学时"))
    provider = text_field(_("举办单位"), max_length=100)


class HonourForm(DescribedErrors, forms.Form):
    title = text_field(_("荣誉名称"), max_length=100)
    awarded_by = text_field(_("授予单位"), max_length=100)
    awarded_on = date_field(_("授予日期"))


# --- Teams ----------------------------------------------------------------------------------------


class TeamFilterForm(RegionFilterForm):
    kind = select_field(_("队伍类型"), TeamKind.choices, blank=_("全部类型"))
    region = region_filter_field()


class TeamForm(DescribedErrors, forms.Form):
    committee_id = forms.TypedChoiceField(
        label=_("所属关工委"), coerce=int, widget=forms.Select(attrs=SELECT)
    )
    name = text_field(_("名称"), max_length=100)
    kind = select_field(_("队伍类型"), TeamKind.choices)
    description = text_area_field(_("简介"), max_length=500, rows=3)
    founded_on = date_field(_("成立日期"), required=False)

    def __init__(self, *args: Any, committees: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee_id"].choices = with_blank(committees)  # type: ignore[attr-defined]


class TeamMemberForm(DescribedErrors, forms.Form):
    # Checked by the service (in the team's region, 在岗 or 暂停), whose message then stands by the field.
    volunteer_id = forms.IntegerField(label=_("志愿者"), widget=forms.Select(attrs=SELECT))
    role = forms.ChoiceField(
        label=_("角色"),
        choices=TeamRole.choices,
        initial=TeamRole.MEMBER,
        widget=forms.RadioSelect(attrs=CHECK),
    )
    joined_on = date_field(_("加入日期（不填为今天）"), required=False)

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer_id"].widget.choices = with_blank(candidates)


class TeamActivityForm(DescribedErrors, forms.Form):
    title = text_field(_("活动名称"), max_length=100)
    held_on = date_field(_("活动日期"))
    hours = _hours_field(_("每人服务时长（小时）"))
    participant_ids = forms.TypedMultipleChoiceField(
        label=_("参加的队员（每人记录服务时长）"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )
    place = text_field(_("地点"), max_length=100)
    description = text_area_field(_("活动内容"), max_length=1000, rows=3)
    children_reached = forms.IntegerField(
        label=_("受益青少年人数"),
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={**CONTROL, "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participant_ids"].choices = members  # type: ignore[attr-defined]


class VolunteerExportForm(VolunteerFilterForm):
    """The list's filters again (hidden fields of the export buttons) and the file format."""

    format = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv")])
