"""The pages of the sign-up (public, phone-sized, 长辈模式 on by default), the township's review queue,
invitations, and 我的 — a volunteer's own page. Thin: parse, call a service or a read of
`guanai.volunteers.signup`, render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, permission_required, public, request_actor
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    RateLimited,
    ValidationFailed,
)
from guanai.core.masking import mask, mask_field
from guanai.regions.models import Region
from guanai.volunteers.models import Volunteer
from guanai.volunteers.services import (
    AlreadyRegistered,
    honour_roll_consent_set,
    hours_claim,
)
from guanai.volunteers.signup import (
    SIGNUP_NOTICE_VERSION,
    InvitationUnusable,
    SmsNotSent,
    VerifiedMobile,
    invitation_create,
    invitation_list,
    invitation_resolve,
    invitation_revoke,
    invitation_state,
    mine_overview,
    province_root,
    region_chooser,
    signup_applications,
    signup_applications_of,
    signup_approve,
    signup_resubmit,
    signup_return,
    signup_start_verification,
    signup_state,
    signup_submit,
    signup_verify,
)
from guanai.volunteers.signup_forms import (
    CATEGORY_CHOICES,
    SPECIALTY_CHOICES,
    ClaimForm,
    InvitationForm,
    MobileCodeForm,
    ResubmitForm,
    ReturnForm,
    SignupForm,
    availability_keys,
    members,
)
from guanai.volunteers.vocabulary import (
    ELDER_CATEGORY_LABELS,
    SPECIALTY_LABELS,
    Source,
    availability_label,
)
from guanai.web.preferences import ELDER_MODE_SESSION_KEY

PAGE_SIZE = 50
VERIFIED_SESSION_KEY = "volunteer_signup_verified"
# Service errors that belong to another field of the form than the one the service names.
FIELD_ALIASES = {"birth_date": "id_number", "gender": "id_number"}


def _public_page(request: HttpRequest) -> dict[str, Any]:
    """The public pages are for elders on phones: 长辈模式 is on unless the person switched it off
    (the switch in the page header remembers the choice in the session)."""
    return {"elder_mode": bool(request.session.get(ELDER_MODE_SESSION_KEY, True))}


def _put_errors(form: Form, error: DomainError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
    for key, texts in error.fields.items():
        name = FIELD_ALIASES.get(key, key)
        for text in texts:
            form.add_error(name if name in form.fields else None, text)


def _labels(value: int, labels: dict[Any, Any]) -> list[str]:
    return [str(label) for flag, label in labels.items() if value & flag]


# --- The code sent by SMS ------------------------------------------------------------------------


def _send_code(request: HttpRequest, phone: str) -> dict[str, Any]:
    """Send a sign-up code and say so (or why not), for the slot beside the phone field."""
    try:
        mobile = signup_start_verification(mobile=phone, request=request)
    except (ValidationFailed, RateLimited, SmsNotSent) as error:
        return {"error": error.summary}
    return {"sent_to": mask("mobile", mobile)}


@require_POST
@public
def send_code(request: HttpRequest) -> HttpResponse:
    """获取验证码 (htmx): the answer replaces the slot under the phone field, an error included (htmx
    swaps only 2xx answers)."""
    status = _send_code(request, request.POST.get("phone", ""))
    return render(request, "volunteers/signup/partials/_code_status.html", {"code_status": status})


# --- The village chooser -------------------------------------------------------------------------


def _root(code: str) -> Region:
    try:
        full = region_codes.normalise_code(code)
    except ValueError:
        return province_root()
    return Region.objects.filter(code=full).first() or province_root()


@require_GET
@public
def regions(request: HttpRequest) -> HttpResponse:
    """The county → township → village selects, refilled when one of them changes (htmx). The regions
    are public reference data; the sign-up itself checks an invitation's region."""
    chooser = region_chooser(
        root=_root(request.GET.get("root", "")),
        county=request.GET.get("county", ""),
        township=request.GET.get("township", ""),
        village=request.GET.get("region_code", ""),
    )
    return render(request, "volunteers/signup/partials/_region_chooser.html", {"chooser": chooser})


def _chooser_from(data: Any, root: Region) -> Any:
    return region_chooser(
        root=root,
        county=data.get("county", ""),
        township=data.get("township", ""),
        village=data.get("region_code", ""),
    )


# --- Signing up ----------------------------------------------------------------------------------


def _signup(request: HttpRequest, token: str | None) -> HttpResponse:
    page = _public_page(request)
    invitation = None
    if token is not None:
        try:
            invitation = invitation_resolve(token=token)
        except InvitationUnusable as error:
            context = {**page, "message": error.message}
            return render(request, "volunteers/signup/invitation_unusable.html", context, status=410)
    root = invitation.region if invitation is not None else province_root()
    form = SignupForm(request.POST or None)
    show_errors = True
    code_status: dict[str, Any] | None = None
    if request.method == "POST":
        action = request.POST.get("action", "submit")
        if action == "send_code":  # the button without JavaScript: the whole form comes back filled in
            code_status = _send_code(request, request.POST.get("phone", ""))
            show_errors = False
        elif action == "refresh":  # the village chooser without JavaScript
            show_errors = False
        elif form.is_valid():
            try:
                signup_submit(
                    data=form.to_input(),
                    code=form.cleaned_data["code"],
                    invitation_token=token,
                    request=request,
                )
            except InvitationUnusable as error:
                context = {**page, "message": error.message}
                return render(request, "volunteers/signup/invitation_unusable.html", context, status=410)
            except (AlreadyRegistered, ValidationFailed) as error:
                _put_errors(form, error)
            else:
                return HttpResponseRedirect(reverse("volunteer_signup:done"))
    context = {
        **page,
        "form": form,
        "show_errors": show_errors,
        "code_status": code_status,
        "chooser": _chooser_from(request.POST, root),
        "invitation": invitation,
        "notice_version": SIGNUP_NOTICE_VERSION,
    }
    return render(request, "volunteers/signup/form.html", context)


@require_http_methods(["GET", "POST"])
@public
def signup(request: HttpRequest) -> HttpResponse:
    return _signup(request, None)


@require_http_methods(["GET", "POST"])
@public
def signup_invited(request: HttpRequest, token: str) -> HttpResponse:
    return _signup(request, token)


@require_GET
@public
def done(request: HttpRequest) -> HttpResponse:
    return render(request, "volunteers/signup/done.html", _public_page(request))


# --- Looking up one's applications ---------------------------------------------------------------


def _verified(request: HttpRequest) -> VerifiedMobile | None:
    stored = request.session.get(VERIFIED_SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    verified_at = parse_datetime(str(stored.get("verified_at", "")))
    if verified_at is None:
        return None
    verified = VerifiedMobile(phone_index=str(stored.get("phone_index", "")), verified_at=verified_at)
    if not verified.is_fresh:
        request.session.pop(VERIFIED_SESSION_KEY, None)
        return None
    return verified


def _remember(request: HttpRequest, verified: VerifiedMobile) -> None:
    request.session[VERIFIED_SESSION_KEY] = {
        "phone_index": verified.phone_index,
        "verified_at": verified.verified_at.isoformat(),
    }


def _application_row(volunteer: Volunteer) -> dict[str, Any]:
    state, label = signup_state(volunteer)
    return {"volunteer": volunteer, "state": state, "state_label": label}


@require_http_methods(["GET", "POST"])
@public
def status(request: HttpRequest) -> HttpResponse:
    """查询报名进度: prove the mobile number with a code, then see each application as 申请中, 已通过 or
    已退回 with the township's reason, and correct a returned one."""
    page = _public_page(request)
    if request.method == "POST" and request.POST.get("action") == "forget":
        request.session.pop(VERIFIED_SESSION_KEY, None)
        return HttpResponseRedirect(reverse("volunteer_signup:status"))
    verified = _verified(request)
    form = MobileCodeForm(request.POST or None)
    code_status: dict[str, Any] | None = None
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            code_status = _send_code(request, request.POST.get("phone", ""))
        elif form.is_valid():
            try:
                verified = signup_verify(mobile=form.cleaned_data["phone"], code=form.cleaned_data["code"])
            except ValidationFailed as error:
                _put_errors(form, error)
            else:
                _remember(request, verified)
                return HttpResponseRedirect(reverse("volunteer_signup:status"))
    applications = (
        [_application_row(volunteer) for volunteer in signup_applications_of(verified=verified)]
        if verified is not None
        else None
    )
    context = {
        **page,
        "form": form,
        "show_errors": request.POST.get("action") != "send_code",
        "code_status": code_status,
        "applications": applications,
    }
    return render(request, "volunteers/signup/status.html", context)


def _resubmit_initial(volunteer: Volunteer) -> dict[str, Any]:
    return {
        "name": volunteer.name,
        "id_number": volunteer.id_number or "",
        "county": volunteer.region_id[:6].ljust(12, "0"),
        "township": volunteer.region_id[:9].ljust(12, "0"),
        "region_code": volunteer.region_id,
        "categories": members(volunteer.categories, CATEGORY_CHOICES),
        "specialties": members(volunteer.specialties, SPECIALTY_CHOICES),
        "law_licence_number": volunteer.law_licence_number,
        "psychology_certificate": volunteer.psychology_certificate,
        "teaching_subjects": volunteer.teaching_subjects,
        "availability": availability_keys(volunteer.availability),
        "max_children": volunteer.max_children,
        "shows_on_honour_roll": volunteer.shows_on_honour_roll,
    }


@require_http_methods(["GET", "POST"])
@public
def resubmit(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """Correct a returned application and send it again; only after the mobile is proved."""
    page = _public_page(request)
    verified = _verified(request)
    if verified is None:
        messages.info(request, _("请先用手机号和验证码查询报名，再修改。"))
        return HttpResponseRedirect(reverse("volunteer_signup:status"))
    volunteer = signup_applications_of(verified=verified).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError()
    if signup_state(volunteer)[0] != "returned":
        messages.info(request, _("该报名不是“已退回”状态，不需要修改。"))
        return HttpResponseRedirect(reverse("volunteer_signup:status"))
    initial = _resubmit_initial(volunteer)
    form = ResubmitForm(request.POST or None, initial=initial)
    show_errors = True
    if request.method == "POST":
        if request.POST.get("action") == "refresh":
            show_errors = False
        elif form.is_valid():
            try:
                signup_resubmit(
                    verified=verified, volunteer_id=volunteer.pk, data=form.to_input(), request=request
                )
            except (AlreadyRegistered, ValidationFailed, ConflictError) as error:
                _put_errors(form, error)
            else:
                messages.success(request, _("已重新提交，请等待乡镇（街道）关工委审核。"))
                return HttpResponseRedirect(reverse("volunteer_signup:status"))
    root = _root(volunteer.region_id[:9]) if volunteer.source == Source.INVITATION else province_root()
    context = {
        **page,
        "form": form,
        "show_errors": show_errors,
        "volunteer": volunteer,
        "masked_phone": mask_field(volunteer, "phone"),
        "chooser": _chooser_from(request.POST if request.method == "POST" else initial, root),
        "notice_version": SIGNUP_NOTICE_VERSION,
    }
    return render(request, "volunteers/signup/resubmit.html", context)


# --- The township's review -----------------------------------------------------------------------


def _review_row(volunteer: Volunteer) -> dict[str, Any]:
    today = timezone.localdate()
    birth = volunteer.birth_date
    return {
        "volunteer": volunteer,
        "id_number": mask_field(volunteer, "id_number"),
        "phone": mask_field(volunteer, "phone"),
        "age": today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)),
        "categories": _labels(volunteer.categories, ELDER_CATEGORY_LABELS),
        "specialties": _labels(volunteer.specialties, SPECIALTY_LABELS),
        "availability": availability_label(volunteer.availability),
    }


@require_GET
@permission_required(Permission.VOLUNTEER_MANAGE)
def applications(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    pending = signup_applications(actor=actor)
    page = Paginator(pending.filter(return_reason=""), PAGE_SIZE).get_page(request.GET.get("page"))
    returned = list(pending.exclude(return_reason="")[:PAGE_SIZE])
    context = {
        "page": page,
        "rows": [_review_row(volunteer) for volunteer in page.object_list],
        "returned": [_review_row(volunteer) for volunteer in returned],
        "return_form": ReturnForm(),
    }
    return render(request, "volunteers/signup/applications.html", context)


@require_POST
@permission_required(Permission.VOLUNTEER_MANAGE)
def approve(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    try:
        volunteer = signup_approve(actor=request_actor(request), volunteer_id=volunteer_id, request=request)
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        if volunteer.user is not None:
            messages.success(
                request, _("已通过：%(name)s。本人可用手机号和短信验证码登录。") % {"name": volunteer.name}
            )
        else:
            messages.warning(
                request,
                _("已通过：%(name)s。未开通登录账号：没有手机号，或该手机号已用于另一位志愿者的账号。")
                % {"name": volunteer.name},
            )
    return HttpResponseRedirect(reverse("volunteer_signup:applications"))


@require_POST
@permission_required(Permission.VOLUNTEER_MANAGE)
def return_application(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        volunteer = signup_return(
            actor=request_actor(request), volunteer_id=volunteer_id, reason=reason, request=request
        )
    except (ValidationFailed, ConflictError) as error:
        messages.error(request, error.summary)
    else:
        messages.success(request, _("已退回：%(name)s，已短信通知本人。") % {"name": volunteer.name})
    return HttpResponseRedirect(reverse("volunteer_signup:applications"))


# --- Invitations ---------------------------------------------------------------------------------


def _invitation_regions(actor: Actor) -> list[tuple[str, str]]:
    """The actor's own region and the regions one level below it."""
    if actor.region_code is None:
        return []
    rows = Region.objects.filter(code=actor.region_code) | Region.objects.filter(parent_id=actor.region_code)
    return list(rows.order_by("code").values_list("code", "name"))


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_MANAGE)
def invitations(request: HttpRequest) -> HttpResponse:
    """Create an invitation link (shown once, never stored), list them, revoke one."""
    actor = request_actor(request)
    regions = _invitation_regions(actor)
    form = InvitationForm(request.POST or None, regions=regions)
    created: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = invitation_create(
                actor=actor,
                region_code=form.cleaned_data["region_code"],
                note=form.cleaned_data["note"],
                days=form.cleaned_data["days"],
                max_uses=form.cleaned_data["max_uses"],
                request=request,
            )
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            link = request.build_absolute_uri(reverse("volunteer_signup:signup_invited", args=[token]))
            created = {"invitation": invitation, "link": link}
            form = InvitationForm(regions=regions)
    page = Paginator(invitation_list(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "form": form,
        "created": created,
        "page": page,
        "rows": [(invitation, invitation_state(invitation, now=now)) for invitation in page.object_list],
    }
    return render(request, "volunteers/signup/invitations.html", context)


@require_POST
@permission_required(Permission.VOLUNTEER_MANAGE)
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation_revoke(actor=request_actor(request), invitation_id=invitation_id, request=request)
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已撤销该邀请链接，之后不能再用它报名。"))
    return HttpResponseRedirect(reverse("volunteer_signup:invitations"))


# --- 我的 -----------------------------------------------------------------------------------------


def _no_record(request: HttpRequest, error: NotFoundError) -> HttpResponse:
    return render(request, "volunteers/mine/no_record.html", {"message": error.message})


def _mine(request: HttpRequest, claim_form: ClaimForm) -> HttpResponse:
    actor = request_actor(request)
    try:
        overview = mine_overview(actor=actor)
    except NotFoundError as error:
        return _no_record(request, error)
    volunteer = overview.volunteer
    context = {
        "overview": overview,
        "volunteer": volunteer,
        "this_month": _this_month(overview.totals.by_month),
        "profile": {
            "id_number": mask_field(volunteer, "id_number"),
            "phone": mask_field(volunteer, "phone"),
            "categories": _labels(volunteer.categories, ELDER_CATEGORY_LABELS),
            "specialties": _labels(volunteer.specialties, SPECIALTY_LABELS),
            "availability": availability_label(volunteer.availability),
        },
        "claim_form": claim_form,
    }
    return render(request, "volunteers/mine/mine.html", context)


def _this_month(by_month: list[tuple[int, int, Any]]) -> Any:
    today = timezone.localdate()
    return next((hours for year, month, hours in by_month if (year, month) == (today.year, today.month)), 0)


@require_GET
@permission_required(Permission.VOLUNTEER_SELF)
def mine(request: HttpRequest) -> HttpResponse:
    return _mine(request, ClaimForm())


@require_POST
@permission_required(Permission.VOLUNTEER_SELF)
def claim(request: HttpRequest) -> HttpResponse:
    """申报服务时长: it counts once the organiser confirms it."""
    form = ClaimForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        served_on: datetime.date = data["served_on"]
        try:
            hours_claim(
                actor=request_actor(request),
                served_on=served_on,
                hours=data["hours"],
                description=data["description"],
                organiser=data["organiser"],
                request=request,
            )
        except NotFoundError as error:
            return _no_record(request, error)
        except ConflictError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("volunteer_signup:mine"))
        except ValidationFailed as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("已提交，等组织单位确认后计入服务时长。"))
            return HttpResponseRedirect(reverse("volunteer_signup:mine") + "#my-claims")
    return _mine(request, form)


@require_POST
@permission_required(Permission.VOLUNTEER_SELF)
def honour_roll(request: HttpRequest) -> HttpResponse:
    shows = request.POST.get("shows") == "1"
    try:
        honour_roll_consent_set(actor=request_actor(request), shows=shows, request=request)
    except NotFoundError as error:
        return _no_record(request, error)
    messages.success(
        request, _("已设置：在光荣榜上展示我的姓名。") if shows else _("已设置：不在光荣榜上展示我的姓名。")
    )
    return HttpResponseRedirect(reverse("volunteer_signup:mine") + "#my-honour-roll")
