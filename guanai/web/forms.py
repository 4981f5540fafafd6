"""The forms of the web layer, and the pieces every app's forms share.

The shared pieces: the Bootstrap classes of the controls, dates as the browser's date picker sends them,
selects that start with a blank choice, the regions and villages an actor may choose from, bit sets
(类别, 专长, 可服务时间…) as check boxes, the filters every list has (region, status, sort), the link from
each control to its error slot (`error-<name>`, read by screen readers), and a service's errors put back
on the fields of the form that called it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Actor
from guanai.core.errors import DomainError
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region

CONTROL = {"class": "form-control"}
SELECT = {"class": "form-select"}
CHECK = {"class": "form-check-input"}
DATE_FORMAT = "%Y-%m-%d"
PLEASE_CHOOSE = _("请选择")
# The status filter's choice for "any status" (a list otherwise shows the records in use).
STATUS_ALL = "all"


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或手机号"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "class": "form-control"}
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "form-control"}),
    )
    error_messages = {
        "invalid_login": _("用户名（或手机号）与密码不匹配，请重新输入。"),
        "inactive": _("该账号已停用。"),
    }


# --- Fields ------------------------------------------------------------------------------------------


def with_blank(choices: Any, label: Any = PLEASE_CHOOSE) -> list[tuple[Any, Any]]:
    """A select's choices after a blank first one ("请选择", or "全部" for a filter)."""
    return [("", label), *choices]


def date_input(control: Mapping[str, str] = CONTROL) -> forms.DateInput:
    return forms.DateInput(attrs={**control, "type": "date"}, format=DATE_FORMAT)


def date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, input_formats=[DATE_FORMAT], widget=date_input())


def text_field(
    label: Any, *, max_length: int, required: bool = False, help_text: Any = "", **attrs: Any
) -> forms.CharField:
    """A one-line text box; optional unless `required`; `attrs` such as autocomplete="off"."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs={**CONTROL, **attrs}),
    )


def text_area_field(label: Any, *, max_length: int, rows: int, **options: Any) -> forms.CharField:
    """A text box of `rows` lines; optional unless `required=True` is among `options`."""
    options.setdefault("required", False)
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={**CONTROL, "rows": rows}), **options
    )


def bit_set_field(label: Any, choices: Sequence[tuple[int, Any]]) -> forms.TypedMultipleChoiceField:
    """A bit set as check boxes, one per bit; the chosen bits add up to the stored value (`sum`)."""
    return forms.TypedMultipleChoiceField(
        label=label,
        required=False,
        coerce=int,
        choices=choices,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )


def bit_list(value: int, choices: Sequence[tuple[int, Any]]) -> list[int]:
    """The chosen check boxes of a bit set, for a form's initial value."""
    return [bit for bit, _label in choices if value & bit]


def select_field(
    label: Any, choices: Sequence[tuple[Any, Any]], *, blank: Any = PLEASE_CHOOSE, required: bool = False
) -> forms.ChoiceField:
    """A select of `choices` after a blank one (`blank`: "请选择", or "全部" for a filter)."""
    return forms.ChoiceField(
        label=label, required=required, choices=with_blank(choices, blank), widget=forms.Select(attrs=SELECT)
    )


# --- Regions to choose from ----------------------------------------------------------------------------

# Above this many villages in the actor's scope a form asks for the village code instead of a list.
VILLAGE_SELECT_LIMIT = 1500


def region_filter_choices(actor: Actor) -> list[tuple[str, str]]:
    """The regions one level below the actor's, to narrow a list to one of them."""
    if actor.region_code is None:
        return []
    return list(
        Region.objects.filter(parent_id=actor.region_code).order_by("code").values_list("code", "name")
    )


def village_choices(actor: Actor) -> list[Any] | None:
    """The villages in the actor's scope for a select, grouped by township; None when there are too
    many to choose from a list (the form then asks for the code)."""
    if actor.region_code is None:
        return []
    rows = list(
        Region.objects.within(actor.region_code)
        .filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        .order_by("code")
        .values_list("code", "name", "level", "parent_id")[: VILLAGE_SELECT_LIMIT + 200]
    )
    villages = [(code, name, parent) for code, name, level, parent in rows if level == RegionLevel.VILLAGE]
    if len(villages) > VILLAGE_SELECT_LIMIT or len(rows) > VILLAGE_SELECT_LIMIT + 199:
        return None
    townships = {code: name for code, name, level, _parent in rows if level == RegionLevel.TOWNSHIP}
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, parent in villages:
        groups.setdefault(parent, []).append((code, name))
    if len(groups) <= 1:
        return [(code, name) for code, name, _parent in villages]
    return [(townships.get(parent, parent), choices) for parent, choices in groups.items()]


# --- A list's filters --------------------------------------------------------------------------------


def search_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={**CONTROL, "type": "search", "autocomplete": "off"}),
    )


def region_filter_field() -> forms.ChoiceField:
    """The regions one level below the actor's (`region_filter_choices`, given to `RegionFilterForm`)."""
    return forms.ChoiceField(label=_("区域"), required=False, widget=forms.Select(attrs=SELECT))


def status_filter_field(choices: Sequence[tuple[str, Any]]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[*choices, (STATUS_ALL, _("全部状态"))],
        widget=forms.Select(attrs=SELECT),
    )


def sort_field(labels: Mapping[str, Any], sorts: Iterable[str]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[(key, labels[key]) for key in sorts],
        widget=forms.Select(attrs=SELECT),
    )


class RegionFilterForm(forms.Form):
    """A list's filters whose `region` field (declared by the subclass) offers the given regions, those
    one level below the actor's, after "全部辖区"."""

    def __init__(self, *args: Any, regions: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = with_blank(regions or [], _("全部辖区"))  # type: ignore[attr-defined]


# --- Errors ------------------------------------------------------------------------------------------


class DescribedErrors:
    """Links each control to its error slot (`error-<name>`), so that a screen reader reads the error.

    A form that replaces or adds fields after construction calls `describe_errors()` again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.describe_errors()

    def describe_errors(self) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        for name, field in form.fields.items():
            if not isinstance(field.widget, forms.HiddenInput | forms.CheckboxSelectMultiple):
                field.widget.attrs["aria-describedby"] = f"error-{form.add_prefix(name)}"


def put_errors(form: forms.Form, error: DomainError, *, aliases: Mapping[str, str] | None = None) -> None:
    """A service's field errors onto the form's fields (named like the service's arguments, or as
    `aliases` maps them); an error of no field of the form, or one without fields, on top of the form."""
    if not error.fields:
        form.add_error(None, error.message)
    for key, texts in error.fields.items():
        name = (aliases or {}).get(key, key)
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
