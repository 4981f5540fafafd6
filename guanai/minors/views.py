"""The registry's pages: finding children, a child's record, registering and editing, duplicates,
exports and their approvals, and the roster import. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import HiddenInput
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai import audit
from guanai.audit.selectors import audit_trail_for
from guanai.core.access import Actor, Permission, permission_required, request_actor
from guanai.core.cached import CachedCountPaginator
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    ValidationFailed,
)
from guanai.core.masking import mask, unmask_field
from guanai.core.region_codes import RegionLevel
from guanai.core.region_codes import level_of as region_level
from guanai.imports.cells import cell_text
from guanai.imports.headers import column_letter
from guanai.imports.models import ImportBatch
from guanai.imports.reading import RosterReadError
from guanai.minors import display
from guanai.minors.export_views import ExportPages
from guanai.minors.exports import MINORS, XLSX_CONTENT_TYPE
from guanai.minors.forms import (
    CloseForm,
    ConsentForm,
    ConsentFormSet,
    ExportForm,
    GuardianForm,
    GuardianFormSet,
    ImportMappingForm,
    ImportUploadForm,
    MinorFilterForm,
    MinorForm,
    TransferRequestForm,
    fact_field_name,
)
from guanai.minors.importing import roster_preview, write_template
from guanai.minors.models import Minor
from guanai.minors.selectors import MinorFilters, duplicate_flags_open, minor_get, minor_list, minor_rows
from guanai.minors.services import (
    AlreadyRegistered,
    ConsentInput,
    GuardianInput,
    MinorInput,
    consent_withdraw,
    duplicate_dismiss,
    duplicate_merge,
    import_error_report_path,
    import_progress,
    import_upload_path,
    import_upload_store,
    minor_check,
    minor_close,
    minor_import_get,
    minor_import_start,
    minor_register,
    minor_update,
    transfer_request_create,
)
from guanai.minors.vocabulary import FACTS, Category, ConsentScope, Need, RiskLevel, Status, members
from guanai.regions.models import Region
from guanai.web.forms import region_filter_choices, village_choices

PAGE_SIZE = 50
UNMASKABLE_FIELDS = ("id_number", "address")


# --- Finding children -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MinorRow:
    """One line of the list, as the actor may see it."""

    minor: Minor
    name: str
    id_number: str
    age: int
    categories: list[str]


def _rows(minors: Any, actor: Actor) -> list[MinorRow]:
    return [
        MinorRow(
            minor=minor,
            name=display.shown_name(minor, actor),
            id_number=display.masked_id_number(minor),
            age=display.age(minor),
            categories=display.category_labels(minor.categories),
        )
        for minor in minors
    ]


def _filters(request: HttpRequest, actor: Actor) -> tuple[MinorFilterForm, MinorFilters]:
    form = MinorFilterForm(request.GET or None, regions=region_filter_choices(actor))
    if not form.is_bound:
        return form, MinorFilters()
    form.is_valid()  # a field with an error is left out of the filters and shown beside the field
    return form, form.to_filters()


@require_GET
@permission_required(Permission.MINOR_VIEW)
def minor_list_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form, filters = _filters(request, actor)
    error = ""
    try:
        minors = minor_list(actor=actor, filters=filters)
    except (ValidationFailed, NotFoundError) as failure:
        error = failure.summary
        minors = minor_list(actor=actor)
    page = CachedCountPaginator(minors.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": _rows(minor_rows(list(page.object_list)), actor),
        "error": error,
        "export_params": [
            (key, values) for key, values in request.GET.lists() if key not in {"page", "format"}
        ],
        "may_manage": actor.has(Permission.MINOR_MANAGE),
        "may_export": actor.has(Permission.MINOR_EXPORT),
        "may_import": actor.has(Permission.MINOR_IMPORT),
    }
    template = "minors/partials/_table.html" if getattr(request, "htmx", False) else "minors/list.html"
    return render(request, template, context)


# --- One child ------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.MINOR_VIEW)
def minor_detail_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    audit.record(actor=actor, action="minor.view", target=minor, request=request)
    trail = audit_trail_for(actor=actor, target=minor) if actor.has(Permission.RECORD_HISTORY_VIEW) else None
    context = {
        "minor": minor,
        "name": display.shown_name(minor, actor),
        "id_number": display.masked_id_number(minor),
        "address": display.masked_address(minor),
        "age": display.age(minor),
        "categories": display.category_labels(minor.categories),
        "needs": display.need_labels(minor.needs),
        "facts": [(FACTS[key], value) for key, value in minor.facts.items() if key in FACTS],
        "guardians": [(guardian, display.masked_phone(guardian)) for guardian in minor.guardians.all()],
        "consents": [(consent, _scope_labels(consent.scope)) for consent in minor.consents.all()],
        "trail": trail,
        "close_form": CloseForm(),
        "may_unmask": actor.has(Permission.MINOR_UNMASK),
        "may_manage": actor.has(Permission.MINOR_MANAGE),
        "may_pair": actor.has(Permission.PAIRING_MANAGE),
        "may_see_pairings": actor.has(Permission.PAIRING_VIEW),
    }
    return render(request, "minors/detail.html", context)


def _scope_labels(scopes: list[str]) -> list[str]:
    return [str(ConsentScope(scope).label) for scope in scopes if scope in ConsentScope.values]


@require_POST
@permission_required(Permission.MINOR_UNMASK)
def minor_unmask(request: HttpRequest, minor_id: int, field: str) -> HttpResponse:
    """One field in the clear, for the htmx button; an audit event each time."""
    if field not in UNMASKABLE_FIELDS:
        raise NotFoundError()
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    value = unmask_field(actor=actor, instance=minor, field_name=field, request=request)
    return render(request, "minors/partials/_unmasked.html", {"value": value})


@require_POST
@permission_required(Permission.MINOR_UNMASK)
def guardian_unmask(request: HttpRequest, minor_id: int, guardian_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    guardian = next((g for g in minor.guardians.all() if g.pk == guardian_id), None)
    if guardian is None:
        raise NotFoundError()
    value = unmask_field(actor=actor, instance=guardian, field_name="phone", request=request)
    return render(request, "minors/partials/_unmasked.html", {"value": value})


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def minor_close_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    form = CloseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        minor_close(actor=actor, minor_id=minor_id, reason=reason, request=request)
    except (ValidationFailed, ConflictError) as failure:
        messages.error(request, failure.summary)
    else:
        messages.success(request, _("已结案。"))
    return HttpResponseRedirect(reverse("minors:detail", args=[minor_id]))


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def consent_withdraw_page(request: HttpRequest, minor_id: int, consent_id: int) -> HttpResponse:
    actor = request_actor(request)
    minor = minor_get(actor=actor, minor_id=minor_id)
    if not any(consent.pk == consent_id for consent in minor.consents.all()):
        raise NotFoundError()
    consent_withdraw(actor=actor, consent_id=consent_id)
    messages.success(request, _("已记录撤回同意。"))
    return HttpResponseRedirect(reverse("minors:detail", args=[minor_id]))


# --- Registering and editing ----------------------------------------------------------------------


@dataclass
class MinorForms:
    form: MinorForm
    guardians: Any  # GuardianFormSet
    consents: Any  # ConsentFormSet

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.guardians.is_valid(), self.consents.is_valid()]
        return all(results)

    def all_forms(self) -> list[Any]:
        return [self.form, *self.guardians.forms, *self.consents.forms]


def _forms(request: HttpRequest, actor: Actor, minor: Minor | None) -> MinorForms:
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {}
    guardians_initial: list[dict[str, Any]] = []
    # Someone who sees names masked (a village liaison) edits without ever receiving the name either.
    masked_name = (
        "" if minor is None or actor.has(Permission.MINOR_UNMASK) else display.shown_name(minor, actor)
    )
    if minor is not None:
        initial = {
            "version": minor.version,
            "name": "" if masked_name else minor.name,
            "birth_date": minor.birth_date,
            "gender": minor.gender,
            "ethnicity": minor.ethnicity,
            "region_code": minor.region_id,
            "household_type": minor.household_type,
            "household_region_code": minor.household_region_id or "",
            "school": minor.school,
            "grade": minor.grade,
            "categories": [int(flag) for flag in members(Category, minor.categories)],
            "special_kind": minor.special_kind,
            "needs": [int(flag) for flag in members(Need, minor.needs)],
            "risk_level": minor.risk_level,
            "risk_reason": minor.risk_reason,
            "last_verified_on": minor.last_verified_on,
            **{fact_field_name(key): value for key, value in minor.facts.items() if key in FACTS},
        }
        guardians_initial = [
            {
                "guardian_id": guardian.pk,
                "name": guardian.name,
                "relationship": guardian.relationship,
                "is_entrusted_carer": guardian.is_entrusted_carer,
                "can_care": guardian.can_care,
                "care_note": guardian.care_note,
                "masked_phone": display.masked_phone(guardian),
            }
            for guardian in minor.guardians.all()
        ]
    form = MinorForm(
        data,
        initial=initial,
        villages=village_choices(actor),
        masked_id_number=display.masked_id_number(minor) if minor else "",
        masked_address=display.masked_address(minor) if minor else "",
        masked_name=masked_name,
    )
    form.fields["version"].required = minor is not None
    guardians = GuardianFormSet(data, prefix="guardians", initial=guardians_initial)
    # Father and mother are the common case of a new registration; an edit offers one blank row.
    guardians.extra = 1 if guardians_initial else 2
    return MinorForms(form=form, guardians=guardians, consents=ConsentFormSet(data, prefix="consents"))


def _input(
    forms: MinorForms, minor: Minor | None
) -> tuple[MinorInput, list[GuardianForm], list[ConsentForm]]:
    """The service's input from valid forms; blank ID number, address and phones keep the registered
    values (which never reach the page). Also the guardian and consent forms in the order of the input,
    to put the service's "guardians.1.phone" errors where they belong."""
    data = forms.form.cleaned_data
    phones = {guardian.pk: guardian.phone for guardian in minor.guardians.all()} if minor else {}
    guardian_forms = [
        form for form in forms.guardians.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
    consent_forms = [form for form in forms.consents.forms if form.cleaned_data]
    guardians = [
        GuardianInput(
            name=form.cleaned_data["name"],
            relationship=form.cleaned_data["relationship"],
            phone=form.cleaned_data["phone"] or phones.get(form.cleaned_data.get("guardian_id") or 0, ""),
            is_entrusted_carer=form.cleaned_data["is_entrusted_carer"],
            can_care=form.cleaned_data["can_care"],
            care_note=form.cleaned_data["care_note"],
        )
        for form in guardian_forms
    ]
    consents = [
        ConsentInput(
            given_by=form.cleaned_data["given_by"],
            relationship=form.cleaned_data["relationship"],
            notice_version=form.cleaned_data["notice_version"],
            given_on=form.cleaned_data["given_on"],
            scope=list(form.cleaned_data["scope"]),
            is_guardian=form.cleaned_data["is_guardian"],
        )
        for form in consent_forms
    ]
    guardians_changed = minor is None or forms.guardians.has_changed()
    payload = MinorInput(
        name=data["name"] or (minor.name if minor else ""),
        region_code=data["region_code"],
        id_number=data["id_number"] or ((minor.id_number or "") if minor else ""),
        birth_date=data["birth_date"],
        gender=data["gender"],
        ethnicity=data["ethnicity"],
        household_region_code=data["household_region_code"],
        household_type=data["household_type"],
        address=data["address"] or (minor.address if minor else ""),
        school=data["school"],
        grade=data["grade"],
        categories=sum(data["categories"]),
        special_kind=data["special_kind"],
        facts=forms.form.facts(),
        needs=sum(data["needs"]),
        risk_level=data["risk_level"],
        risk_reason=data["risk_reason"],
        last_verified_on=data["last_verified_on"],
        guardians=guardians if guardians_changed else None,
        consents=consents or None,
    )
    return payload, guardian_forms, consent_forms


def _put_errors(
    error: DomainError, form: MinorForm, guardian_forms: list[GuardianForm], consent_forms: list[ConsentForm]
) -> None:
    """The service's field errors ("name", "guardians.0.phone", "consents.1") onto the forms."""
    if not error.fields:
        form.add_error(None, error.message)
    for key, texts in error.fields.items():
        parts = key.split(".")
        groups: dict[str, list[Any]] = {"guardians": list(guardian_forms), "consents": list(consent_forms)}
        rows = groups.get(parts[0], [])
        if rows and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            field = parts[2] if len(parts) > 2 and parts[2] in row.fields else None
            for text in texts:
                row.add_error(field, text)
            continue
        for text in texts:
            form.add_error(key if key in form.fields else None, text)


# The fields compared to tell an editor what someone else changed meanwhile (never a masked value).
CONFLICT_FIELDS = (
    "name", "birth_date", "gender", "ethnicity", "region_code", "household_type", "school", "grade",
    "categories", "special_kind", "needs", "risk_level", "risk_reason", "last_verified_on",
)  # fmt: skip


def _conflicting_fields(form: MinorForm, current: Minor) -> list[str]:
    data = form.cleaned_data
    saved = {
        "name": current.name,
        "birth_date": current.birth_date,
        "gender": current.gender,
        "ethnicity": current.ethnicity,
        "region_code": current.region_id,
        "household_type": current.household_type,
        "school": current.school,
        "grade": current.grade,
        "categories": current.categories,
        "special_kind": current.special_kind,
        "needs": current.needs,
        "risk_level": current.risk_level,
        "risk_reason": current.risk_reason,
        "last_verified_on": current.last_verified_on,
    }
    tried = {name: data.get(name) for name in CONFLICT_FIELDS}
    tried["name"] = tried["name"] or current.name  # left blank: the name is kept
    tried["categories"], tried["needs"] = sum(data.get("categories") or []), sum(data.get("needs") or [])
    labels = [str(form.fields[name].label) for name in CONFLICT_FIELDS if tried[name] != saved[name]]
    if current.facts != form.facts():
        labels.append(_("情况说明"))
    return labels


def _error_slots(forms: MinorForms, shown: set[str]) -> list[tuple[str, list[str]]]:
    """Every error slot of the page for the inline check: the errors of the fields already filled in
    (or just left), and empty slots for the others so that errors put right disappear."""
    slots: list[tuple[str, list[str]]] = []
    for form in forms.all_forms():
        errors = form.errors if form.is_bound else {}
        if form.prefix:  # a guardian or consent row: its own errors, such as "须填写姓名和与儿童关系"
            slots.append((form.add_prefix("__all__"), [str(text) for text in form.non_field_errors()]))
        for name, field in form.fields.items():
            if isinstance(field.widget, HiddenInput) or name == "DELETE":
                continue
            html_name = form.add_prefix(name)
            texts = [str(text) for text in errors.get(name, [])] if html_name in shown else []
            slots.append((html_name, texts))
    return slots


def _minor_form_page(request: HttpRequest, actor: Actor, minor: Minor | None) -> HttpResponse:
    forms = _forms(request, actor, minor)
    already: AlreadyRegistered | None = None
    transfer_form: TransferRequestForm | None = None
    conflict: dict[str, Any] | None = None
    validating = bool(getattr(request, "htmx", False)) and request.POST.get("_validate") == "1"
    if request.method == "POST" and forms.is_valid():
        data, guardian_forms, consent_forms = _input(forms, minor)
        try:
            if validating:
                minor_check(actor=actor, data=data, minor_id=minor.pk if minor else None)
            elif minor is None:
                created = minor_register(actor=actor, data=data, request=request)
                messages.success(request, _("已登记。"))
                return HttpResponseRedirect(reverse("minors:detail", args=[created.pk]))
            else:
                minor_update(
                    actor=actor,
                    minor_id=minor.pk,
                    version=forms.form.cleaned_data["version"],
                    data=data,
                    request=request,
                )
                messages.success(request, _("已保存。"))
                return HttpResponseRedirect(reverse("minors:detail", args=[minor.pk]))
        except AlreadyRegistered as error:
            already = error
            transfer_form = TransferRequestForm(initial={"id_number": data.id_number})
            _put_errors(error, forms.form, guardian_forms, consent_forms)
        except ConflictError as error:
            assert minor is not None
            current = minor_get(actor=actor, minor_id=minor.pk)
            conflict = {
                "message": error.message,
                "fields": _conflicting_fields(forms.form, current),
                "version": current.version,
            }
        except ValidationFailed as error:
            _put_errors(error, forms.form, guardian_forms, consent_forms)
    if validating:
        trigger = getattr(request.htmx, "trigger_name", None) or ""  # type: ignore[attr-defined]
        shown = {key for key in request.POST if request.POST.get(key, "").strip()} | {trigger}
        context = {
            "slots": _error_slots(forms, shown),
            "non_field_errors": forms.form.non_field_errors(),
            "already": already,
            "transfer_form": transfer_form,
        }
        return render(request, "minors/partials/_form_errors.html", context)
    context = {
        "minor": minor,
        "name": display.shown_name(minor, actor) if minor else "",
        "forms": forms,
        "form": forms.form,
        "guardian_formset": forms.guardians,
        "consent_formset": forms.consents,
        "existing_consents": list(minor.consents.all()) if minor else [],
        "already": already,
        "transfer_form": transfer_form,
        "conflict": conflict,
    }
    return render(request, "minors/form.html", context, status=409 if conflict else 200)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MINOR_MANAGE)
def minor_create_page(request: HttpRequest) -> HttpResponse:
    return _minor_form_page(request, request_actor(request), None)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MINOR_MANAGE)
def minor_edit_page(request: HttpRequest, minor_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _minor_form_page(request, actor, minor_get(actor=actor, minor_id=minor_id))


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def transfer_request_page(request: HttpRequest) -> HttpResponse:
    """The answer to "已在某县登记": ask that county to hand the record over."""
    actor = request_actor(request)
    form = TransferRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("缺少身份证号，无法申请转移。"))
        return HttpResponseRedirect(reverse("minors:create"))
    try:
        transfer = transfer_request_create(
            actor=actor, id_number=form.cleaned_data["id_number"], reason=form.cleaned_data["reason"]
        )
    except ValidationFailed as failure:
        messages.error(request, failure.summary)
        return HttpResponseRedirect(reverse("minors:create"))
    county = Region.objects.filter(code=transfer.from_region_id).values_list("name", flat=True).first()
    messages.success(
        request, _("已向%(county)s提交转移申请，待该县处理。") % {"county": county or transfer.from_region_id}
    )
    return HttpResponseRedirect(reverse("minors:list"))


# --- Duplicates -----------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.MINOR_MANAGE)
def duplicates_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    page = Paginator(duplicate_flags_open(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    flags = [(flag, _rows([flag.first, flag.second], actor)) for flag in page.object_list]
    return render(request, "minors/duplicates.html", {"page": page, "flags": flags})


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def duplicate_merge_page(request: HttpRequest, flag_id: int) -> HttpResponse:
    keep = request.POST.get("keep", "")
    try:
        kept = duplicate_merge(
            actor=request_actor(request),
            flag_id=flag_id,
            keep_id=int(keep) if keep.isdigit() else None,
            request=request,
        )
    except ValidationFailed as failure:
        messages.error(request, failure.summary)
        return HttpResponseRedirect(reverse("minors:duplicates"))
    messages.success(request, _("已合并，保留的记录见下。"))
    return HttpResponseRedirect(reverse("minors:detail", args=[kept.pk]))


@require_POST
@permission_required(Permission.MINOR_MANAGE)
def duplicate_dismiss_page(request: HttpRequest, flag_id: int) -> HttpResponse:
    duplicate_dismiss(actor=request_actor(request), flag_id=flag_id, request=request)
    messages.success(request, _("已标记为不是同一人。"))
    return HttpResponseRedirect(reverse("minors:duplicates"))


# --- Exports (guanai.minors.export_views) -----------------------------------------------------------


def describe_filters(filters: MinorFilters) -> str:
    """An approval's filters in words, for the approver to judge the request."""
    parts: list[str] = []
    if filters.region:
        parts.append(_("区域 %(code)s") % {"code": filters.region})
    if filters.categories:
        parts.append("、".join(display.category_labels(filters.categories)))
    if filters.needs:
        parts.append(_("需求：%(needs)s") % {"needs": "、".join(display.need_labels(filters.needs))})
    if filters.risk_level in RiskLevel.values:
        parts.append(_("风险等级：%(level)s") % {"level": RiskLevel(filters.risk_level).label})
    if filters.min_age is not None or filters.max_age is not None:
        parts.append(
            _("年龄 %(low)s–%(high)s 岁")
            % {"low": filters.min_age if filters.min_age is not None else 0, "high": filters.max_age or 17}
        )
    if filters.school:
        parts.append(_("学校含“%(school)s”") % {"school": filters.school})
    if filters.status in Status.values:
        parts.append(str(Status(filters.status).label))
    if filters.verification_overdue:
        parts.append(_("年度核查已到期"))
    if filters.q:
        parts.append(_("含搜索条件"))
    return "；".join(parts) or _("全部")


EXPORT_PAGES: ExportPages[MinorFilters] = ExportPages(
    dataset=MINORS,
    namespace="minors",
    title=gettext_lazy("导出申请"),
    intro=gettext_lazy(
        "超过 1000 行的导出须由上一级管理员批准；批准后可下载一次。"
        "导出文件中身份证号、住址均脱敏，并带有导出人和导出时间。"
    ),
    export_form=lambda request, actor: ExportForm(request.POST, regions=region_filter_choices(actor)),
    describe_filters=describe_filters,
)


@require_POST
@permission_required(Permission.MINOR_EXPORT)
def export_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as a file; above the threshold, the approval request filed instead."""
    return EXPORT_PAGES.export(request)


@require_GET
@permission_required(Permission.MINOR_EXPORT)
def exports_page(request: HttpRequest) -> HttpResponse:
    return EXPORT_PAGES.requests(request)


@require_POST
@permission_required(Permission.MINOR_EXPORT)
def export_download_page(request: HttpRequest, approval_id: int) -> HttpResponse | StreamingHttpResponse:
    """An approved request, exported once."""
    return EXPORT_PAGES.download(request, approval_id)


@require_POST
@permission_required(Permission.EXPORT_APPROVE)
def export_decide_page(request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
    return EXPORT_PAGES.decide(request, approval_id, decision)


# --- The roster import: upload → columns → dry run → import → report ------------------------------

IMPORT_SESSION_KEY = "minor_imports"
IMPORT_SESSIONS_KEPT = 5
PREVIEW_ROWS = 8
ERRORS_SHOWN = 200
# Columns whose cells the preview masks: it shows the uploaded file, and still only what a list would.
PREVIEW_MASKS = {
    "id_number": "id_number",
    "guardian_phone": "phone",
    "carer_phone": "phone",
    "address": "address",
}


def _import_regions(actor: Actor) -> list[tuple[str, str]]:
    """The regions one may import into: one's own from county level down, and the regions below it
    (for a province or city: its counties)."""
    if actor.region_code is None:
        return []
    level = region_level(actor.region_code)
    if level < RegionLevel.COUNTY:
        regions = Region.objects.within(actor.region_code).filter(level=RegionLevel.COUNTY)
    else:
        regions = Region.objects.within(actor.region_code).filter(level__in=[level, level + 1])
    return list(regions.order_by("code").values_list("code", "name"))


def _import_sessions(request: HttpRequest) -> dict[str, dict[str, Any]]:
    sessions: dict[str, dict[str, Any]] = request.session.get(IMPORT_SESSION_KEY, {})
    return sessions


def _import_session(request: HttpRequest, token: str) -> dict[str, Any]:
    state = _import_sessions(request).get(token)
    if state is None:
        raise NotFoundError()
    return state


def _import_session_save(request: HttpRequest, token: str, state: dict[str, Any]) -> None:
    sessions = _import_sessions(request)
    sessions[token] = state
    # Only the newest few wizards are remembered; their files go by `purge_import_files`.
    request.session[IMPORT_SESSION_KEY] = dict(list(sessions.items())[-IMPORT_SESSIONS_KEPT:])


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MINOR_IMPORT)
def import_page(request: HttpRequest) -> HttpResponse:
    """Step 1: upload a roster and say which region it is for."""
    actor = request_actor(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, regions=_import_regions(actor))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            token = import_upload_store(actor=actor, upload=upload, region_code=form.cleaned_data["region"])
        except ValidationFailed as failure:
            form.add_error("file", failure.summary)
        else:
            state = {"file_name": upload.name, "region": form.cleaned_data["region"], "mapping": None}
            _import_session_save(request, token, state)
            return HttpResponseRedirect(reverse("minors:import_mapping", args=[token]))
    batches = ImportBatch.objects.visible_to(actor).filter(kind="minors").select_related("region")[:20]
    return render(request, "minors/import_upload.html", {"form": form, "batches": batches})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MINOR_IMPORT)
def import_mapping_page(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: the header found and the first rows; adjust which column is which, then a dry run."""
    actor = request_actor(request)
    state = _import_session(request, token)
    try:
        preview = roster_preview(str(import_upload_path(token)), limit=PREVIEW_ROWS)
    except RosterReadError as failure:
        return render(request, "minors/import_unreadable.html", {"message": failure.message, "state": state})
    except FileNotFoundError as failure:
        raise NotFoundError() from failure
    if not preview.mapping:
        message = _(
            "没有找到表头：表格前面几行里没有“姓名”“身份证号”等列名。请检查文件，或下载空白模板填写。"
        )
        return render(request, "minors/import_unreadable.html", {"message": message, "state": state})
    columns = [
        (index, f"{column_letter(index)}　{header}" if header else column_letter(index))
        for index, header in enumerate(preview.columns)
    ]
    initial = {key: str(index) for key, index in (state.get("mapping") or preview.mapping).items()}
    form = ImportMappingForm(request.POST or None, initial=initial, fields=preview.fields, columns=columns)
    if request.method == "POST" and form.is_valid():
        state["mapping"] = form.mapping()
        batch = minor_import_start(
            actor=actor,
            token=token,
            file_name=state["file_name"],
            region_code=state["region"],
            dry_run=True,
            mapping=state["mapping"],
        )
        state["dry_run_batch"] = batch.pk
        _import_session_save(request, token, state)
        return HttpResponseRedirect(reverse("minors:import_batch", args=[batch.pk]))
    mapped = {index: key for key, index in preview.mapping.items()}
    rows = [
        (row.number, [_preview_cell(value, mapped.get(index)) for index, value in enumerate(row.cells)])
        for row in preview.rows
    ]
    context = {
        "form": form,
        "state": state,
        "token": token,
        "header_rows": preview.header_rows,
        "columns": columns,
        "rows": rows,
    }
    return render(request, "minors/import_mapping.html", context)


def _preview_cell(value: Any, key: str | None) -> str:
    text = cell_text(value)
    kind = PREVIEW_MASKS.get(key or "")
    return mask(kind, text) if kind else text


@require_POST
@permission_required(Permission.MINOR_IMPORT)
def import_commit_page(request: HttpRequest, token: str) -> HttpResponse:
    """Step 4: import for real, with the columns of the dry run."""
    actor = request_actor(request)
    state = _import_session(request, token)
    if state.get("batch"):
        return HttpResponseRedirect(reverse("minors:import_batch", args=[state["batch"]]))
    if not state.get("dry_run_batch"):
        return HttpResponseRedirect(reverse("minors:import_mapping", args=[token]))
    batch = minor_import_start(
        actor=actor,
        token=token,
        file_name=state["file_name"],
        region_code=state["region"],
        dry_run=False,
        mapping=state.get("mapping"),
        keep_file=False,
    )
    state["batch"] = batch.pk
    _import_session_save(request, token, state)
    return HttpResponseRedirect(reverse("minors:import_batch", args=[batch.pk]))


def _batch_context(request: HttpRequest, actor: Actor, batch: ImportBatch) -> dict[str, Any]:
    token = next(
        (
            token
            for token, state in _import_sessions(request).items()
            if state.get("dry_run_batch") == batch.pk and not state.get("batch")
        ),
        None,
    )
    finished = batch.status in {ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED}
    progress = None if finished else import_progress(batch_id=batch.pk)
    is_uploader = actor.user is not None and batch.created_by_id == actor.user.pk
    return {
        "batch": batch,
        "finished": finished,
        "progress": progress,
        "errors": batch.errors[:ERRORS_SHOWN],
        "more_errors": max(batch.error_count - ERRORS_SHOWN, 0),
        "commit_token": token if batch.status == ImportBatch.Status.SUCCEEDED and batch.is_dry_run else None,
        "error_report": is_uploader and import_error_report_path(batch.pk).exists(),
    }


@require_GET
@permission_required(Permission.MINOR_IMPORT)
def import_batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Steps 3 and 5: a run's progress (polled by htmx until it ends), then its report."""
    actor = request_actor(request)
    batch = minor_import_get(actor=actor, batch_id=batch_id)
    context = _batch_context(request, actor, batch)
    template = (
        "minors/partials/_import_batch.html"
        if getattr(request, "htmx", False)
        else "minors/import_batch.html"
    )
    return render(request, template, context)


@require_GET
@permission_required(Permission.MINOR_IMPORT)
def import_errors_download(request: HttpRequest, batch_id: int) -> FileResponse:
    """The refused rows with a 错误原因 column, to correct and import again: for whoever uploaded them."""
    actor = request_actor(request)
    batch = minor_import_get(actor=actor, batch_id=batch_id)
    path = import_error_report_path(batch.pk)
    if actor.user is None or batch.created_by_id != actor.user.pk or not path.exists():
        raise NotFoundError()
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"refused-rows-{batch.pk}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


@require_GET
@permission_required(Permission.MINOR_IMPORT)
def import_template_download(request: HttpRequest) -> FileResponse:
    """The blank roster, with the standard header and drop-down lists."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/template.xlsx"
        write_template(path)
        with open(path, "rb") as written:
            shutil.copyfileobj(written, handle)
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename="minors-roster-template.xlsx", content_type=XLSX_CONTENT_TYPE
    )
