"""The pages of service certificates and recognition: the public verification (/verify/), a volunteer's
certificates for staff, the PDF, 我的服务证明 for the volunteer, and the public honour roll.
Thin: parse, call one service or selector, render."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from guanai.core.access import Permission, permission_required, public, request_actor
from guanai.core.errors import ConflictError, NotFoundError, RateLimited, ValidationFailed
from guanai.volunteers.certificates import (
    certificate_get,
    certificate_issue,
    certificate_pdf,
    certificate_revoke,
    certificate_verify,
    certificates_of,
    honour_roll_public,
    honour_roll_region,
    honour_roll_regions,
    normalised_code,
    star_label,
)
from guanai.volunteers.models import Certificate, Volunteer
from guanai.volunteers.selectors import hours_totals
from guanai.volunteers.services import own_volunteer
from guanai.volunteers.vocabulary import star_level, star_thresholds

CONTROL = {"class": "form-control"}
SELECT = {"class": "form-select"}
HONOUR_ROLL_YEARS = 5  # this year and the four before


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={**CONTROL, "type": "date"}, format="%Y-%m-%d")


class CertificateIssueForm(forms.Form):
    period_start = forms.DateField(
        label=gettext_lazy("起始日期"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy("不填则从第一条服务记录算起"),
    )
    period_end = forms.DateField(
        label=gettext_lazy("截止日期"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy("不填则截至今天"),
    )


class CertificateRevokeForm(forms.Form):
    certificate = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("作废原因"), max_length=200, widget=forms.TextInput(attrs=CONTROL)
    )


class MyCertificateForm(forms.Form):
    ALL, THIS_YEAR = "all", "year"
    scope = forms.ChoiceField(
        label=gettext_lazy("证明范围"),
        choices=[(ALL, gettext_lazy("全部已确认的服务时长")), (THIS_YEAR, gettext_lazy("今年的服务时长"))],
        initial=ALL,
        widget=forms.RadioSelect,
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={**CONTROL, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text=gettext_lazy("证明上印有 12 位验证码，如 7KQM-3XHD-P9WA；不区分大小写"),
    )


class HonourRollForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("地区"), widget=forms.Select(attrs=SELECT))
    year = forms.ChoiceField(label=gettext_lazy("年度"), required=False, widget=forms.Select(attrs=SELECT))

    def __init__(self, *args: Any, regions: list[Any], years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region, year = self.fields["region"], self.fields["year"]
        assert isinstance(region, forms.ChoiceField)
        assert isinstance(year, forms.ChoiceField)
        region.choices = [("", _("请选择")), *regions]
        year.choices = [("", _("累计")), *[(str(value), str(value)) for value in years]]


# --- The public verification ---------------------------------------------------------------------


@require_GET
@public
def verify_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """/verify/: type the code; /verify/<code>/: what the certificate certified, or that there is none.
    Anyone may look, at a limited rate per address."""
    template = "volunteers/certificates/verify.html"
    if code is None:
        form = VerifyForm(request.GET or None)
        if form.is_bound and form.is_valid():
            stored = normalised_code(form.cleaned_data["code"])
            if stored is not None:
                return HttpResponseRedirect(reverse("certificates:verify", args=[stored]))
            form.add_error("code", _("验证码为 12 位字母和数字，请核对后重新输入"))
        return render(request, template, {"form": form})
    form = VerifyForm(initial={"code": code})
    try:
        verification = certificate_verify(code=code, request=request)
    except RateLimited as limited:
        return render(request, template, {"form": form, "error": limited.message}, status=429)
    except NotFoundError as missing:
        return render(request, template, {"form": form, "error": missing.message}, status=404)
    return render(request, template, {"form": form, "verification": verification})


# --- A volunteer's certificates, for staff -------------------------------------------------------


def _with_star_labels(certificates: Iterable[Certificate]) -> list[tuple[Certificate, str]]:
    return [(certificate, star_label(certificate.star_level)) for certificate in certificates]


def _star_context(volunteer: Volunteer) -> dict[str, Any]:
    level = star_level(volunteer.hours_total)
    thresholds = star_thresholds()
    return {
        "star_label": star_label(level),
        "next_star_hours": thresholds[level] if level < len(thresholds) else None,
    }


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_VIEW)
def certificate_list_page(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    actor = request_actor(request)
    volunteer, certificates = certificates_of(actor=actor, volunteer_id=volunteer_id)
    here = reverse("certificates:list", args=[volunteer.pk])
    issue_form = CertificateIssueForm(prefix="issue")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "issue":
            issue_form = CertificateIssueForm(request.POST, prefix="issue")
            if issue_form.is_valid():
                try:
                    issued = certificate_issue(
                        actor=actor,
                        volunteer_id=volunteer.pk,
                        period_start=issue_form.cleaned_data["period_start"],
                        period_end=issue_form.cleaned_data["period_end"],
                        request=request,
                    )
                except ValidationFailed as failure:
                    for field, texts in failure.fields.items():
                        for text in texts:
                            issue_form.add_error(field if field in issue_form.fields else None, text)
                else:
                    messages.success(request, _("已出具服务证明，验证码 %(code)s。") % {"code": issued.code})
                    return HttpResponseRedirect(here)
        elif action == "revoke":
            revoke_form = CertificateRevokeForm(request.POST)
            if not revoke_form.is_valid():
                messages.error(request, _("请填写作废原因。"))
                return HttpResponseRedirect(here)
            certificate_id = revoke_form.cleaned_data["certificate"]
            if not certificates.filter(pk=certificate_id).exists():
                raise NotFoundError()
            try:
                certificate_revoke(
                    actor=actor,
                    certificate_id=certificate_id,
                    reason=revoke_form.cleaned_data["reason"],
                    request=request,
                )
            except (ValidationFailed, ConflictError) as failure:
                messages.error(request, failure.summary)
            else:
                messages.success(request, _("已作废该证明。"))
            return HttpResponseRedirect(here)
        else:
            return render(
                request, "web/error.html", {"status": 400, "message": _("未知的操作。")}, status=400
            )
    context = {
        "volunteer": volunteer,
        "totals": hours_totals(volunteer=volunteer),
        "certificates": _with_star_labels(certificates),
        "issue_form": issue_form,
        "may_manage": actor.has(Permission.VOLUNTEER_MANAGE),
        **_star_context(volunteer),
    }
    return render(
        request,
        "volunteers/certificates/list.html",
        context,
        status=422 if issue_form.is_bound and issue_form.errors else 200,
    )


# --- The PDF, for staff of the region or the volunteer -------------------------------------------


@require_GET
@permission_required(Permission.SIGNED_IN)  # staff of the region or the volunteer: certificate_get decides
def certificate_pdf_download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    actor = request_actor(request)
    certificate = certificate_get(actor=actor, certificate_id=certificate_id)
    response = HttpResponse(
        certificate_pdf(certificate=certificate, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --- 我的服务证明 ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VOLUNTEER_SELF)
def my_certificate_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    try:
        volunteer = own_volunteer(actor)
    except NotFoundError as missing:
        return render(request, "web/error.html", {"status": 404, "message": missing.message}, status=404)
    form = MyCertificateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        today = timezone.localdate()
        start = datetime.date(today.year, 1, 1) if form.cleaned_data["scope"] == form.THIS_YEAR else None
        try:
            issued = certificate_issue(
                actor=actor, volunteer_id=volunteer.pk, period_start=start, request=request
            )
        except ValidationFailed as failure:
            form.add_error(None, failure.summary)
        else:
            messages.success(
                request, _("服务证明已出具，验证码 %(code)s，可下载 PDF。") % {"code": issued.code}
            )
            return HttpResponseRedirect(reverse("certificates:mine"))
    _volunteer, certificates = certificates_of(actor=actor, volunteer_id=volunteer.pk)
    context = {
        "volunteer": volunteer,
        "totals": hours_totals(volunteer=volunteer),
        "certificates": _with_star_labels(certificates),
        "form": form,
        **_star_context(volunteer),
    }
    return render(request, "volunteers/certificates/mine.html", context, status=422 if form.errors else 200)


# --- The public honour roll ----------------------------------------------------------------------


@require_GET
@public
def honour_roll_page(request: HttpRequest) -> HttpResponse:
    """光荣榜: the most active volunteers of a city or county, by year or in all — only those who agreed
    to appear (个人信息保护法: their choice)."""
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year - HONOUR_ROLL_YEARS, -1))
    form = HonourRollForm(request.GET or None, regions=honour_roll_regions(), years=years)
    context: dict[str, Any] = {"form": form, "rows": None, "region": None, "year": None}
    if form.is_bound and form.is_valid():
        try:
            region = honour_roll_region(form.cleaned_data["region"])
        except ValidationFailed as failure:
            form.add_error("region", failure.summary)
        else:
            year = int(form.cleaned_data["year"]) if form.cleaned_data["year"] else None
            context.update(
                region=region, year=year, rows=honour_roll_public(region_code=region.code, year=year)
            )
    return render(request, "volunteers/certificates/honour_roll.html", context)
