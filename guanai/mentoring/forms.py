"""The forms of the mentoring pages. They parse what a person typed; the case's rules are the services'."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanai.accounts.models import User
from guanai.mentoring.vocabulary import ACCESS_GRANT_DURATION, CaseOutcome, GoalStatus, LawfulBasis
from guanai.volunteers.models import Volunteer
from guanai.web.forms import (
    CHECK,
    CONTROL,
    SELECT,
    DescribedErrors,
    date_field,
    select_field,
    text_area_field,
    text_field,
)

GRANT_HOURS = int(ACCESS_GRANT_DURATION.total_seconds() // 3600)


def _user_choices(users: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(user.pk), f"{user}（{user.username}）") for user in users]


def _volunteer_choices(volunteers: Iterable[Volunteer]) -> list[tuple[str, str]]:
    return [(str(volunteer.pk), f"{volunteer.name}（{volunteer.region.name}）") for volunteer in volunteers]


def reference_field() -> forms.CharField:
    return text_field(
        _("案件编号"),
        max_length=30,
        required=True,
        help_text=_("由案件承办人提供，如 BJ-2026-7KQ4M9XT"),
        autocomplete="off",
    )


class CaseOpenForm(DescribedErrors, forms.Form):
    id_number = text_field(
        _("公民身份号码"),
        max_length=30,
        required=True,
        help_text=_("特殊青少年的记录已封存，不能在名册中查看；请输入其身份证号查找。"),
        autocomplete="off",
    )
    officer_id = forms.TypedChoiceField(
        label=_("承办人"),
        coerce=int,
        widget=forms.Select(attrs=SELECT),
        help_text=_("本县（市、区）的县级或乡镇（街道）工作人员"),
    )
    mentor_ids = forms.TypedMultipleChoiceField(
        label=_("帮教人（可不选，立案后由承办人指派）"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
        help_text=_("帮教团成员，背景审查在有效期内"),
    )

    def __init__(
        self, *args: Any, officers: Iterable[User], mentors: Iterable[Volunteer], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer_id"].choices = [("", _("请选择")), *_user_choices(officers)]  # type: ignore[attr-defined]
        choices = _volunteer_choices(mentors)
        if choices:
            self.fields["mentor_ids"].choices = choices  # type: ignore[attr-defined]
        else:
            del self.fields["mentor_ids"]  # nothing to tick: the officer assigns mentors later


class OfficerChangeForm(DescribedErrors, forms.Form):
    reference = reference_field()
    officer_id = forms.TypedChoiceField(label=_("新承办人"), coerce=int, widget=forms.Select(attrs=SELECT))

    def __init__(self, *args: Any, officers: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer_id"].choices = [("", _("请选择")), *_user_choices(officers)]  # type: ignore[attr-defined]


class BreakGlassForm(DescribedErrors, forms.Form):
    reference = reference_field()
    reason_code = forms.ChoiceField(
        label=_("法定事由"), choices=LawfulBasis.choices, widget=forms.RadioSelect(attrs=CHECK)
    )
    reason_text = text_area_field(
        _("具体说明"),
        max_length=500,
        rows=3,
        required=True,
        help_text=_("如办案机关、案号、来函文号；不少于 10 个字"),
    )
    confirmed = forms.BooleanField(
        label=_("我确认以上事由属实，知悉本次查阅将通知案件承办人并记入审计日志"),
        widget=forms.CheckboxInput(attrs=CHECK),
    )


class ReviewForm(DescribedErrors, forms.Form):
    prefix = "review"  # one of several forms on the case's page: distinct ids
    month = forms.DateField(
        label=_("评估月份"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={**CONTROL, "type": "month"}, format="%Y-%m"),
    )
    progress_note = text_area_field(
        _("帮教进展"),
        max_length=2000,
        rows=4,
        required=True,
        help_text=_("本月联系情况、表现与变化、下一步安排"),
    )


class GoalForm(DescribedErrors, forms.Form):
    prefix = "goal"  # one of several forms on the case's page: distinct ids
    description = text_area_field(_("帮教目标"), max_length=500, rows=2, required=True)
    due_on = date_field(_("预期完成日期"), required=False)


class GoalStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("进展"), choices=GoalStatus.choices, widget=forms.Select(attrs=SELECT))


class MentorForm(DescribedErrors, forms.Form):
    prefix = "mentor"  # one of several forms on the case's page: distinct ids
    volunteer_id = forms.TypedChoiceField(label=_("帮教人"), coerce=int, widget=forms.Select(attrs=SELECT))

    def __init__(self, *args: Any, candidates: Iterable[Volunteer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer_id"].choices = [("", _("请选择")), *_volunteer_choices(candidates)]  # type: ignore[attr-defined]


class CorrectionForm(DescribedErrors, forms.Form):
    prefix = "correction"  # one of several forms on the case's page: distinct ids
    version = forms.IntegerField(widget=forms.HiddenInput)
    agency = text_field(_("社区矫正机构"), max_length=100)
    officer_name = text_field(_("矫正工作人员"), max_length=50)
    starts_on = date_field(_("矫正期起"), required=False)
    ends_on = date_field(_("矫正期止"), required=False)


class CloseForm(DescribedErrors, forms.Form):
    prefix = "close"  # one of several forms on the case's page: distinct ids
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = select_field(_("结案情况"), CaseOutcome.choices, required=True)
    note = text_area_field(_("结案说明"), max_length=2000, rows=3, required=True)
