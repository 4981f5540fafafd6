"""The public intake of online help and the requester's access to their request (DOMAIN.md §8).

Nobody needs an account to ask for help: a child, a guardian or a teacher fills in the form, and gets a
reference (受理编号) and a retrieval code (查询码), shown once, with which they read the replies and write
back. Only a keyed digest of the pair is stored (`codes`), so the code cannot be recovered from the
database; it cannot be guessed either, because every attempt counts against the caller's address, and a
wrong code and an unknown reference answer exactly alike.

A request that signals a crisis is urgent at once (triage) and is offered to every professional on duty in
the same transaction (routing); the requester sees the hotlines immediately. The rate limits never hide
this: a crisis refused because the address or the phone sent too many requests still gets the hotlines.

The web pages remember a successful retrieval in the session for two hours, so the requester does not
retype the code on every page; the JSON API takes the code in a header on every call.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import is_ratelimited

from guanai import audit
from guanai.audit.services import Outcome as AuditOutcome
from guanai.consultations import codes, routing, triage
from guanai.consultations.models import Appointment, Consultation, Message
from guanai.consultations.vocabulary import (
    TOPICS_BY_KIND,
    AppointmentState,
    ContactPreference,
    Kind,
    Requester,
    State,
    hotlines,
)
from guanai.core import region_codes
from guanai.core.crypto import hmac_sm3, normalise_mobile
from guanai.core.errors import NotFoundError, RateLimited, ValidationFailed
from guanai.core.keys import key_ring
from guanai.core.region_codes import RegionLevel
from guanai.minors.validation import MOBILE
from guanai.regions.models import Region

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 2000
NAME_MAX = 20
AGE_MIN, AGE_MAX = 6, 17
# 个人信息保护法 art.31: the personal information of a child under 14 is processed with a guardian's consent.
GUARDIAN_CONSENT_BELOW_AGE = 14
REFERENCE_ATTEMPTS = 5
# How long a retrieval on the web lets the requester move between the pages of their request.
SESSION_GRANT_HOURS = 2
SESSION_GRANTS_KEY = "consultation_requester_grants"
# A digest no retrieval digest can equal, compared against when the reference is unknown, so that an
# unknown reference costs the same work as a wrong code.
_NO_DIGEST = "0" * 64


class RequestNotFound(NotFoundError):
    """A wrong retrieval code and an unknown reference: one answer, one message, so that the form cannot
    be used to find out which references exist."""

    default_message = gettext_lazy("受理编号或查询码不正确")


class IntakeRateLimited(RateLimited):
    """Too many requests from one address or for one phone. The hotlines go with it: whoever is refused,
    a child in danger must still see where to call."""

    def __init__(self, *, urgent: bool) -> None:
        if urgent:
            message = _(
                "提交过于频繁，暂时不能再提交。如果你现在有危险，请立即拨打 110 或 120；"
                "12355 青少年服务台可以倾诉。"
            )
        else:
            message = _("提交过于频繁，请稍后再试。如需马上求助，可以拨打 12355 青少年服务台。")
        super().__init__(message)
        self.urgent = urgent
        self.hotlines = hotlines()


class RetrievalRateLimited(RateLimited):
    default_message = gettext_lazy("查询过于频繁，请稍后再试。")


@dataclass(frozen=True)
class IntakeData:
    """What the public form and the API send. Everything arrives as typed; the service cleans it."""

    kind: str
    topic: str
    requester: str
    region_code: str
    description: str
    contact_preference: str = ContactPreference.ONLINE
    contact_phone: str = ""
    requester_name: str = ""
    requester_age: int | None = None
    consent: bool = False
    guardian_consent: bool = False


@dataclass(frozen=True)
class IntakeResult:
    consultation: Consultation
    retrieval_code: str  # shown once; only its digest is kept
    urgent: bool
    hotlines: list[dict[str, str]] = field(default_factory=hotlines)


# --- Validation ------------------------------------------------------------------------------------


def _province_code() -> str:
    return region_codes.normalise_code(settings.GUANAI_PROVINCE_CODE)


def _clean_region(code: str, errors: dict[str, list[str]]) -> Region | None:
    code = code.strip()
    if not code:
        errors["region_code"] = [_("请选择所在的县（市、区）")]
        return None
    try:
        full = region_codes.normalise_code(code)
    except ValueError:
        errors["region_code"] = [_("所在地区不正确，请重新选择")]
        return None
    if not region_codes.is_within(full, _province_code()):
        errors["region_code"] = [_("所在地区不在本省范围内")]
        return None
    if region_codes.level_of(full) < RegionLevel.COUNTY:
        errors["region_code"] = [_("请至少选择到县（市、区）")]
        return None
    region = Region.objects.filter(code=full).first()
    if region is None:
        errors["region_code"] = [_("所在地区不正确，请重新选择")]
    return region


def _clean_phone(data: IntakeData, errors: dict[str, list[str]]) -> str:
    typed = data.contact_phone.strip()
    if not typed:
        if data.contact_preference == ContactPreference.PHONE:
            errors["contact_phone"] = [_("选择电话回访时请填写手机号")]
        return ""
    mobile = normalise_mobile(typed)
    if not (mobile.isascii() and MOBILE.fullmatch(mobile)):
        errors["contact_phone"] = [_("手机号码应为以 1 开头的 11 位数字")]
        return ""
    return mobile


def _validated(data: IntakeData) -> dict[str, Any]:
    """The request's fields, cleaned; ValidationFailed with every field's problem at once."""
    errors: dict[str, list[str]] = {}
    if data.kind not in Kind.values:
        errors["kind"] = [_("请选择求助类别（法律咨询或心理咨询）")]
    if not data.topic:
        errors["topic"] = [_("请选择问题类型")]
    elif data.kind in Kind.values and data.topic not in TOPICS_BY_KIND[data.kind]:
        errors["topic"] = [_("该问题类型不属于所选的求助类别")]
    elif data.kind not in Kind.values and not any(data.topic in topics for topics in TOPICS_BY_KIND.values()):
        errors["topic"] = [_("请选择问题类型")]
    if data.requester not in Requester.values:
        errors["requester"] = [_("请选择求助人身份")]
    region = _clean_region(data.region_code, errors)
    description = data.description.strip()
    if len(description) < DESCRIPTION_MIN:
        errors["description"] = [_("请描述遇到的问题，至少 %(n)d 个字") % {"n": DESCRIPTION_MIN}]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("问题描述不能超过 %(n)d 个字") % {"n": DESCRIPTION_MAX}]
    age = data.requester_age
    if age is not None and not AGE_MIN <= age <= AGE_MAX:
        errors["requester_age"] = [
            _("孩子的年龄应在 %(low)d 到 %(high)d 岁之间") % {"low": AGE_MIN, "high": AGE_MAX}
        ]
    if data.contact_preference not in ContactPreference.values:
        errors["contact_preference"] = [_("请选择联系方式")]
    phone = _clean_phone(data, errors)
    name = data.requester_name.strip()
    if len(name) > NAME_MAX:
        errors["requester_name"] = [_("称呼不能超过 %(n)d 个字") % {"n": NAME_MAX}]
    if not data.consent:
        errors["consent"] = [_("请阅读并同意个人信息处理告知后再提交")]
    leaves_contact = bool(data.contact_phone.strip() or name)
    if age is not None and age < GUARDIAN_CONSENT_BELOW_AGE and leaves_contact and not data.guardian_consent:
        errors["guardian_consent"] = [
            _(
                "孩子不满 14 周岁，留下电话或称呼需要监护人同意（《个人信息保护法》第三十一条）。"
                "请勾选“监护人已同意”，或者不留电话和称呼、只用查询码在线查看回复。"
            )
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    assert region is not None
    return {
        "kind": data.kind,
        "topic": data.topic,
        "requester": data.requester,
        "requester_age": age,
        "region": region,
        "requester_name": name,
        "contact_phone": phone,
        "contact_preference": data.contact_preference,
        "description": description,
        "guardian_consent": data.guardian_consent,
    }


# --- Rate limits -----------------------------------------------------------------------------------


def _phone_key(mobile: str) -> str:
    """The rate limit's key for a phone: a keyed digest, so the cache never holds the number."""
    message = f"consultation-intake-phone\x00{mobile}".encode()
    return hmac_sm3(key_ring().blind_index_key, message).hex()


def _intake_limited(request: HttpRequest, mobile: str) -> bool:
    limited = is_ratelimited(
        request,
        group="consultation-intake-ip",
        key="ip",
        rate=settings.GUANAI_CONSULTATION_RATE_PER_IP,
        increment=True,
    )
    if not limited and mobile:
        digest = _phone_key(mobile)
        limited = is_ratelimited(
            request,
            group="consultation-intake-phone",
            key=lambda _group, _request: digest,
            rate=settings.GUANAI_CONSULTATION_RATE_PER_PHONE,
            increment=True,
        )
    return bool(limited)


# --- Submitting ------------------------------------------------------------------------------------


def _create(values: dict[str, Any], signals: list[str], code: str) -> Consultation:
    """The request under a new reference; a reference already taken (40 random bits: rare) is drawn
    again inside a savepoint, so the surrounding transaction goes on."""
    for attempt in range(REFERENCE_ATTEMPTS):
        reference = codes.new_reference()
        try:
            with transaction.atomic():
                return Consultation.objects.create(
                    reference=reference,
                    retrieval_digest=codes.retrieval_digest(reference, code),
                    consent_version=settings.GUANAI_CONSULTATION_NOTICE_VERSION,
                    is_urgent=bool(signals),
                    crisis_signals=signals,
                    state=State.WAITING,
                    **values,
                )
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def consultation_submit(*, request: HttpRequest, data: IntakeData) -> IntakeResult:
    """A request for help, made without an account: validated (ValidationFailed per field), rate limited
    per address and per phone (IntakeRateLimited, with the hotlines), triaged, stored and routed in one
    transaction. Nothing is stored when it is refused."""
    values = _validated(data)
    signals = triage.crisis_signals(values["description"], topic=values["topic"])
    if _intake_limited(request, values["contact_phone"]):
        raise IntakeRateLimited(urgent=bool(signals))
    code = codes.new_retrieval_code()
    with transaction.atomic():
        consultation = _create(values, signals, code)
        routing.consultation_route(consultation=consultation)
        audit.record(
            actor=None,
            action="consultation.submitted",
            target=consultation,
            detail={
                "reference": consultation.reference,
                "kind": consultation.kind,
                "topic": consultation.topic,
                "urgent": consultation.is_urgent,
                "region": consultation.region_id,
            },
            request=request,
        )
    return IntakeResult(
        consultation=consultation, retrieval_code=code, urgent=consultation.is_urgent, hotlines=hotlines()
    )


# --- The requester's access ------------------------------------------------------------------------


def _retrieval_limited(request: HttpRequest) -> bool:
    return bool(
        is_ratelimited(
            request,
            group="consultation-retrieval-ip",
            key="ip",
            rate=settings.GUANAI_RETRIEVAL_RATE_PER_IP,
            increment=True,
        )
    )


def consultation_for_requester(*, request: HttpRequest, reference: str, code: str) -> Consultation:
    """The request whose reference and retrieval code these are. Every attempt counts against the
    caller's address (RetrievalRateLimited beyond the rate, even with the right code); a wrong code and
    an unknown reference raise the same RequestNotFound after the same work."""
    if _retrieval_limited(request):
        raise RetrievalRateLimited()
    reference = codes.normalise_code(reference)[:32]
    candidate = Consultation.objects.filter(reference=reference).first() if reference else None
    expected = candidate.retrieval_digest if candidate is not None else _NO_DIGEST
    matches = codes.retrieval_matches(reference=reference, code=code[:32], digest=expected)
    if candidate is None or not matches:
        # No target: a failed attempt on a real reference looks like one on an invented reference.
        audit.record(
            actor=None,
            action="consultation.requester_access",
            target_type="consultations.consultation",
            outcome=AuditOutcome.FAILED,
            request=request,
        )
        raise RequestNotFound()
    audit.record(actor=None, action="consultation.requester_access", target=candidate, request=request)
    return candidate


def requester_session_grant(request: HttpRequest, consultation: Consultation) -> None:
    """Let this browser open the request's pages for SESSION_GRANT_HOURS without the code again. The
    session key is renewed, as at a sign-in: what the session may see has grown."""
    grants = _grants(request)
    grants[consultation.reference] = {"id": consultation.pk, "at": timezone.now().isoformat()}
    request.session.cycle_key()
    request.session[SESSION_GRANTS_KEY] = grants


def requester_session_revoke(request: HttpRequest, reference: str) -> None:
    """退出: this browser needs the code again."""
    grants = _grants(request)
    if grants.pop(reference, None) is not None:
        request.session[SESSION_GRANTS_KEY] = grants


def requester_session_consultation(request: HttpRequest, reference: str) -> Consultation | None:
    """The request this browser was granted (and not more than SESSION_GRANT_HOURS ago), else None."""
    grants = _grants(request)
    grant = grants.get(reference)
    if not isinstance(grant, dict):
        return None
    granted_at = parse_datetime(str(grant.get("at", "")))
    expires = datetime.timedelta(hours=SESSION_GRANT_HOURS)
    if granted_at is None or timezone.now() - granted_at >= expires:
        requester_session_revoke(request, reference)
        return None
    consultation_id = grant.get("id")
    if not isinstance(consultation_id, int):
        return None
    return Consultation.objects.filter(pk=consultation_id, reference=reference).first()


def _grants(request: HttpRequest) -> dict[str, Any]:
    stored = request.session.get(SESSION_GRANTS_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


# --- What the requester reads ----------------------------------------------------------------------


def requester_messages(*, consultation: Consultation) -> list[Message]:
    """The conversation, oldest first, with the attachments; the professional's notes are not messages
    and never appear here."""
    return list(
        Message.objects.filter(consultation=consultation)
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def requester_appointments(*, consultation: Consultation) -> list[Appointment]:
    return list(Appointment.objects.filter(consultation=consultation).order_by("starts_at", "id"))


def booked_appointments(*, consultation: Consultation) -> list[Appointment]:
    return [
        appointment
        for appointment in requester_appointments(consultation=consultation)
        if appointment.state == AppointmentState.BOOKED
    ]


def professional_title(consultation: Consultation) -> str:
    """How the requester knows who answers: the specialty, never the professional's name (the thread
    partial names them alike)."""
    if consultation.kind == Kind.LEGAL:
        return _("志愿者律师")
    return _("心理志愿者")


def state_in_words(consultation: Consultation) -> str:
    """Where the request stands, in words a child understands."""
    if consultation.state == State.CLOSED:
        return _("已结束：%(outcome)s") % {"outcome": consultation.get_outcome_display()}
    if consultation.state == State.ACCEPTED:
        return _("%(who)s已经接手，正在为你处理。有新回复时，请用查询码回来查看。") % {
            "who": professional_title(consultation)
        }
    if consultation.is_urgent:
        return _("已作为紧急求助通知正在值班的志愿者，会尽快联系你。")
    return _("已收到，正在等待值班的%(who)s接手，一般会在 24 小时内回复。") % {
        "who": professional_title(consultation)
    }
