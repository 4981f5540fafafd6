"""Routing of online requests to the professionals on duty, the queue, accepting, declining and reassigning,
and the service-level clocks with their escalation (DOMAIN.md §8, issue 7).

Who answers. A *professional* is an active volunteer with an account whose user holds, today, a role that
answers requests (lawyer or counsellor) and who has the specialty of a kind of help: law with a licence
number (legal requests), psychology with a certificate (psychological requests). A duty slot (`DutySlot`) of
a kind counts only for a volunteer qualified for that kind. A slot *covers* a request when the request's
region lies inside the slot's region; a professional is *on duty now* when a slot of theirs is at the
current (weekday, part) of the day in Asia/Shanghai (`vocabulary.duty_slot_at`). Lead slots (`is_lead`, the
province's on-duty leads) are kept for the last step of a crisis' escalation: ordinary routing and the first
two levels of a crisis use the other slots only. A professional who declined a request is never offered it
again (`ConsultationDecline`).

An ordinary request goes to one professional: the least loaded of those on duty now for its kind and region
(load: their open requests, waiting and accepted; ties to whoever was given fewer requests in the last seven
days, then the lowest id). With nobody on duty, to the least loaded professional covering the region at any
time; with nobody at all, it stays unassigned and the county's admins are told once.

An urgent request (a crisis, `triage`) has no assignee until someone accepts: every professional on duty
covering the region is alerted at once — counsellors always (a crisis is psychological first) and
professionals of the request's own kind — and the first to accept wins (the others get 409
`consultation_taken`). If nobody accepts within GUANAI_CRISIS_ACCEPT_MINUTES, `clocks_run` escalates it to
the county (its admins, and every professional with a slot serving the county), then to the province (the
on-duty leads — every lead when none is on duty — and the province's admins). When nobody at all is on duty
for it, a crisis does not wait those minutes: it goes to the county at once.

The reply clock: a requester's message is answered within GUANAI_CONSULTATION_REPLY_HOURS; the intake sets
the first due time, the conversation moves it on with each message, and `clocks_run` marks the breach and
reminds the professional and the county's admins.

Confidentiality: notifications (inbox and SMS, through a gateway) name the county and township, the kind and
the topic and the reference; never the requester's words, name or contact.

Audit actions: consultation.route, consultation.accept, consultation.decline, consultation.reassign,
consultation.escalate.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from guanai import audit
from guanai.consultations.models import Consultation, ConsultationDecline, DutySlot, Message
from guanai.consultations.vocabulary import (
    DeclineReason,
    EscalationLevel,
    Kind,
    Sender,
    State,
    duty_slot_at,
)
from guanai.core import region_codes
from guanai.core.access import ROLE_PERMISSIONS, Actor, Permission, Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import Specialty, Status

logger = logging.getLogger(__name__)

__all__ = [
    "ConsultationTaken",
    "answering_professionals",
    "clocks_run",
    "consultation_accept",
    "consultation_decline",
    "consultation_mark_urgent",
    "consultation_reassign",
    "consultation_route",
    "eligible_professionals",
    "professional_for",
    "professional_queue",
    "qualified_q",
    "reassign_candidates",
    "volunteer_kinds",
    "with_specialty_bits",
]

OPEN_STATES = (State.WAITING, State.ACCEPTED)
RECENT_DAYS = 7
REASON_MAX_LENGTH = 200
CLOCK_BATCH = 500
# Roles whose holders answer requests (lawyer, counsellor): read from the permissions, so that a role given
# the permission later answers too.
ANSWERING_ROLES: tuple[str, ...] = tuple(
    sorted(role for role, granted in ROLE_PERMISSIONS.items() if Permission.CONSULTATION_ANSWER in granted)
)
SPECIALTY_OF_KIND: dict[str, Specialty] = {
    Kind.LEGAL: Specialty.LAW,
    Kind.PSYCHOLOGICAL: Specialty.PSYCHOLOGY,
}


class ConsultationTaken(ConflictError):
    """Another professional accepted the request first."""

    code = "consultation_taken"
    default_message = gettext_lazy("这件求助已由其他志愿者受理")


def accept_minutes() -> int:
    return int(settings.GUANAI_CRISIS_ACCEPT_MINUTES)


def reply_hours() -> int:
    return int(settings.GUANAI_CONSULTATION_REPLY_HOURS)


# --- Who is a professional ------------------------------------------------------------------------------


def volunteer_kinds(volunteer: Volunteer) -> frozenset[str]:
    """The kinds of help a volunteer is qualified to answer: law with a licence number, psychology with a
    certificate."""
    kinds: set[str] = set()
    if volunteer.specialties & Specialty.LAW and volunteer.law_licence_number.strip():
        kinds.add(Kind.LEGAL)
    if volunteer.specialties & Specialty.PSYCHOLOGY and volunteer.psychology_certificate.strip():
        kinds.add(Kind.PSYCHOLOGICAL)
    return frozenset(kinds)


def professional_for(actor: Actor) -> Volunteer | None:
    """The signed-in professional's volunteer record: active, with the legal or psychological specialty
    (and its licence or certificate), the actor acting under a role that answers requests. None otherwise."""
    if actor.user is None or not actor.has(Permission.CONSULTATION_ANSWER):
        return None
    volunteer = Volunteer.objects.filter(user=actor.user, status=Status.ACTIVE).first()
    if volunteer is None or not volunteer_kinds(volunteer):
        return None
    return volunteer


def _require_professional(actor: Actor) -> Volunteer:
    if not actor.has(Permission.CONSULTATION_ANSWER):
        raise PermissionDeniedError()
    volunteer = professional_for(actor)
    if volunteer is None:
        raise PermissionDeniedError(
            _("您的账号尚未关联在岗的律师或心理咨询师志愿者档案，请联系所在县关工委。")
        )
    return volunteer


def answering_professionals(today: datetime.date) -> QuerySet[Volunteer]:
    """Active volunteers with an active account holding, today, a role that answers requests; the two
    specialty bits aliased for `qualified_q`."""
    from guanai.accounts.models import RoleAssignment

    holders = RoleAssignment.objects.valid_on(today).filter(role__in=ANSWERING_ROLES).values("user_id")
    return with_specialty_bits(
        Volunteer.objects.filter(status=Status.ACTIVE, user__is_active=True, user_id__in=holders)
    )


def with_specialty_bits(volunteers: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    """The legal and psychological specialty bits aliased, for `qualified_q`."""
    return volunteers.alias(
        law_bit=F("specialties").bitand(int(Specialty.LAW)),
        psychology_bit=F("specialties").bitand(int(Specialty.PSYCHOLOGY)),
    )


def qualified_q(kind: str) -> Q:
    """Volunteers qualified for `kind`, on a queryset passed through `with_specialty_bits`."""
    if kind == Kind.LEGAL:
        return Q(law_bit=int(Specialty.LAW)) & ~Q(law_licence_number="")
    return Q(psychology_bit=int(Specialty.PSYCHOLOGY)) & ~Q(psychology_certificate="")


def request_kinds(consultation: Consultation) -> tuple[str, ...]:
    """The kinds of professional a request is offered to: its own; a crisis also (first) to counsellors."""
    if consultation.is_urgent:
        return tuple(dict.fromkeys((Kind.PSYCHOLOGICAL, consultation.kind)))
    return (consultation.kind,)


# --- Regions ---------------------------------------------------------------------------------------------


def _covering_codes(code: str) -> list[str]:
    """The regions whose slots cover a request from `code`: the region and its ancestors."""
    return [*region_codes.ancestor_codes(code), code]


def _at_level(code: str, level: RegionLevel) -> str:
    return code[: PREFIX_LENGTH[level]].ljust(region_codes.CODE_LENGTH, "0")


def county_of(code: str) -> str:
    """The county of a region (a region above county level is its own)."""
    if region_codes.level_of(code) <= RegionLevel.COUNTY:
        return code
    return _at_level(code, RegionLevel.COUNTY)


def province_of(code: str) -> str:
    return _at_level(code, RegionLevel.PROVINCE)


def _serving_county_q(county: str) -> Q:
    """Slots serving a county: inside it (a township's) or above it (the city's, the province's)."""
    return region_codes.within_q("region_id", county) | Q(region_id__in=region_codes.ancestor_codes(county))


def _duty_key(now: datetime.datetime) -> tuple[int, int]:
    return duty_slot_at(timezone.localtime(now))


# --- Eligibility ------------------------------------------------------------------------------------------


def eligible_professionals(
    consultation: Consultation,
    *,
    slots: Q,
    now: datetime.datetime,
    kinds: Sequence[str] | None = None,
) -> QuerySet[Volunteer]:
    """Professionals who may be offered `consultation`: qualified for one of its kinds (`request_kinds`)
    and holding a slot of that kind matching `slots` (a Q on DutySlot), who have not declined it."""
    condition = Q(pk__in=[])
    for kind in kinds if kinds is not None else request_kinds(consultation):
        holders = DutySlot.objects.filter(slots, kind=kind).values("volunteer_id")
        condition |= qualified_q(kind) & Q(pk__in=holders)
    declined = ConsultationDecline.objects.filter(consultation_id=consultation.pk).values("volunteer_id")
    return answering_professionals(timezone.localdate(now)).filter(condition).exclude(pk__in=declined)


def _on_duty_slots(code: str, now: datetime.datetime) -> Q:
    weekday, part = _duty_key(now)
    return Q(region_id__in=_covering_codes(code), weekday=weekday, part=part, is_lead=False)


def _covering_slots(code: str) -> Q:
    return Q(region_id__in=_covering_codes(code), is_lead=False)


def _county_slots(code: str) -> Q:
    return _serving_county_q(county_of(code)) & Q(is_lead=False)


def _lead_slots(code: str, now: datetime.datetime | None = None) -> Q:
    slots = Q(region_id__in=_covering_codes(code), is_lead=True)
    if now is not None:
        weekday, part = _duty_key(now)
        slots &= Q(weekday=weekday, part=part)
    return slots


def _count_of(consultations: QuerySet[Consultation]) -> Coalesce:
    """How many of `consultations` each professional has: counted per candidate from the index, rather than
    joining every request a professional was ever given and grouping (which read all of their history, and
    the duty slots again for each of those rows: 10–15 ms for one with 3,400; bench/RESULTS.md, "Load")."""
    counted = consultations.filter(assigned_to=OuterRef("pk")).order_by().values("assigned_to")
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), 0)


def _by_load(professionals: QuerySet[Volunteer], now: datetime.datetime) -> QuerySet[Volunteer]:
    since = now - datetime.timedelta(days=RECENT_DAYS)
    return professionals.annotate(
        open_load=_count_of(Consultation.objects.filter(state__in=OPEN_STATES)),
        recent_load=_count_of(Consultation.objects.filter(assigned_at__gte=since)),
    ).order_by("open_load", "recent_load", "pk")


def reassign_candidates(*, consultation: Consultation, now: datetime.datetime) -> QuerySet[Volunteer]:
    """Professionals a supervisor may give the request to: qualified and covering its region (on duty or
    not), not having declined it; the least loaded first (`open_load`, `recent_load` annotated)."""
    slots = _covering_slots(consultation.region_id) | _lead_slots(consultation.region_id)
    return _by_load(eligible_professionals(consultation, slots=slots, now=now), now).select_related("region")


def _users(volunteers: QuerySet[Volunteer]) -> list[Any]:
    from guanai.accounts.models import User

    return list(User.objects.filter(pk__in=volunteers.values("user_id"), is_active=True).order_by("pk"))


def _admins(role: str, region_code: str, now: datetime.datetime) -> list[Any]:
    from guanai.accounts.models import RoleAssignment, User

    holders = (
        RoleAssignment.objects.valid_on(timezone.localdate(now))
        .filter(role=role, region_id=region_code)
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=holders, is_active=True).order_by("pk"))


def county_admins(region_code: str, now: datetime.datetime) -> list[Any]:
    """The county admins of the request's county, holding the role today."""
    return _admins(Role.COUNTY_ADMIN, county_of(region_code), now)


def province_admins(region_code: str, now: datetime.datetime) -> list[Any]:
    return _admins(Role.PROVINCE_ADMIN, province_of(region_code), now)


# --- The queue --------------------------------------------------------------------------------------------


def _offer_q(volunteer: Volunteer, now: datetime.datetime) -> Q:
    """Urgent requests offered to `volunteer` at their escalation level, whatever their state: level 0
    (本地值班) through a non-lead slot on duty now covering the request; level 1 (county) through any
    non-lead slot serving the request's county; level 2 (province) also through a lead slot covering it.
    A counsellor's slot takes every crisis; a lawyer's, the legal ones."""
    kinds = volunteer_kinds(volunteer)
    weekday, part = _duty_key(now)
    parts: set[tuple[str, int, str]] = set()
    for kind, region, day, day_part, is_lead in volunteer.duty_slots.filter(kind__in=kinds).values_list(
        "kind", "region_id", "weekday", "part", "is_lead"
    ):
        if is_lead:
            parts.add((kind, EscalationLevel.PROVINCE, region))
            continue
        if (day, day_part) == (weekday, part):
            parts.add((kind, EscalationLevel.REGION, region))
        parts.add((kind, EscalationLevel.COUNTY, county_of(region)))
    offered = Q(pk__in=[])
    for kind, level, region in sorted(parts):
        condition = region_codes.within_q("region_id", region) & Q(escalation_level__gte=level)
        if kind != Kind.PSYCHOLOGICAL:
            condition &= Q(kind=kind)
        offered |= condition
    return Q(is_urgent=True) & offered


def professional_queue(*, volunteer: Volunteer, now: datetime.datetime) -> QuerySet[Consultation]:
    """我的待受理: the waiting requests assigned to the professional, and the urgent unassigned ones offered
    to them at the request's escalation level (`_offer_q`), none they declined. Urgent first, then the
    oldest. Region selected (its name is shown); never the requester's words, name or contact, which the
    caller must not show before accepting."""
    declined = ConsultationDecline.objects.filter(volunteer=volunteer).values("consultation_id")
    offered = Q(assigned_to__isnull=True) & _offer_q(volunteer, now) & ~Q(pk__in=declined)
    return (
        Consultation.objects.filter(state=State.WAITING)
        .filter(Q(assigned_to=volunteer) | offered)
        .select_related("region")
        .order_by("-is_urgent", "created_at", "pk")
    )


def _is_offered(consultation: Consultation, volunteer: Volunteer, now: datetime.datetime) -> bool:
    """Whether the request is (or, for an accepted crisis, was) offered to the professional."""
    if consultation.assigned_to_id == volunteer.pk:
        return True
    if not consultation.is_urgent:
        return False
    if ConsultationDecline.objects.filter(consultation=consultation, volunteer=volunteer).exists():
        return False
    return Consultation.objects.filter(pk=consultation.pk).filter(_offer_q(volunteer, now)).exists()


# --- Notifications ----------------------------------------------------------------------------------------


def _place(region_code: str) -> str:
    """County and township names: where a request comes from, not closer (the text goes by SMS)."""
    from guanai.regions.models import Region

    codes = [county_of(region_code)]
    if region_codes.level_of(region_code) >= RegionLevel.TOWNSHIP:
        codes.append(_at_level(region_code, RegionLevel.TOWNSHIP))
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return "".join(names.get(code, "") for code in codes)


def _topic(consultation: Consultation, what: str) -> str:
    return f"consultation:{consultation.pk}:{what}"[:80]


def _describe(consultation: Consultation) -> dict[str, str]:
    return {
        "place": _place(consultation.region_id),
        "kind": str(consultation.get_kind_display()),
        "topic": str(consultation.get_topic_display()),
        "reference": consultation.reference,
    }


def _local(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def _notify_urgent(consultation: Consultation, users: Iterable[Any], *, level: int, to_staff: bool) -> int:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    with override("zh-hans"):
        if level == EscalationLevel.REGION:
            title = _("紧急求助：请立即受理")
        else:
            title = _("紧急求助超时未受理：请立即处置")
        body = _(
            "%(place)s有一件紧急的%(kind)s（%(topic)s），求助人可能处于危险之中。请立即登录咨询服务台受理"
            "（编号 %(reference)s）。"
        ) % _describe(consultation)
    link = (
        reverse("consultations_duty:reassign", args=[consultation.pk])
        if to_staff
        else reverse("consultations_duty:queue")
    )
    created = notify(
        users=users,
        kind=Notification.Kind.ALERT,
        title=title,
        body=body,
        link=link,
        topic=_topic(consultation, f"urgent:{level}"),
        sms=True,
    )
    return len(created)


def _notify_assigned(consultation: Consultation, volunteer: Volunteer, *, reason: str = "") -> int:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    if volunteer.user_id is None:
        return 0
    assert consultation.assigned_at is not None
    with override("zh-hans"):
        title = _("新的求助待您受理")
        body = _("%(place)s有一件%(kind)s（%(topic)s）分派给您，请受理或退回（编号 %(reference)s）。") % (
            _describe(consultation)
        )
        if reason:
            body += _("转交原因：%(reason)s") % {"reason": reason}
    created = notify(
        users=[volunteer.user],
        kind=Notification.Kind.NOTICE,
        title=title,
        body=body,
        link=reverse("consultations_duty:queue"),
        topic=_topic(consultation, f"assigned:{volunteer.pk}:{int(consultation.assigned_at.timestamp())}"),
    )
    return len(created)


def _notify_unrouted(consultation: Consultation, now: datetime.datetime) -> int:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    with override("zh-hans"):
        title = _("有求助无人承办")
        body = _(
            "%(place)s的一件%(kind)s（%(topic)s）没有可分派的值班志愿者，请安排专业志愿者承办"
            "（编号 %(reference)s）。"
        ) % _describe(consultation)
    created = notify(
        users=county_admins(consultation.region_id, now),
        kind=Notification.Kind.REMINDER,
        title=title,
        body=body,
        link=reverse("consultations_duty:reassign", args=[consultation.pk]),
        topic=_topic(consultation, "unrouted"),
    )
    return len(created)


# --- Routing ----------------------------------------------------------------------------------------------


def _save(consultation: Consultation, fields: Iterable[str]) -> None:
    consultation.save(update_fields=[*dict.fromkeys(fields), "updated_at"])


def consultation_route(*, consultation: Consultation, now: datetime.datetime | None = None) -> None:
    """Offer a new or returned request (see the module's docstring) and set its clocks: the reply due
    GUANAI_CONSULTATION_REPLY_HOURS after it was made (the request is itself a message awaiting an answer),
    and for a crisis not yet accepted the accept due GUANAI_CRISIS_ACCEPT_MINUTES from now. A request
    already assigned, accepted or closed is left as it is, so calling it twice changes nothing. The caller
    holds the row: it was just created (intake) or is locked (decline, reassign)."""
    now = now or timezone.now()
    if consultation.state != State.WAITING:
        return
    changed: list[str] = []
    if consultation.reply_due_at is None:
        consultation.reply_due_at = (consultation.created_at or now) + datetime.timedelta(hours=reply_hours())
        changed.append("reply_due_at")
    if consultation.is_urgent:
        if consultation.assigned_to_id is None:
            _route_urgent(consultation, now, changed)
        elif changed:
            _save(consultation, changed)
        return
    if consultation.assigned_to_id is not None:
        if changed:
            _save(consultation, changed)
        return
    _route_ordinary(consultation, now, changed)


def _chosen(professionals: QuerySet[Volunteer], now: datetime.datetime) -> Volunteer | None:
    """The least loaded of `professionals`, with only what assigning reads: their key and their account's
    (to notify) — not their encrypted ID number, phone and health note."""
    return _by_load(professionals, now).select_related("user").only("id", "user__id").first()


def _route_ordinary(consultation: Consultation, now: datetime.datetime, changed: list[str]) -> None:
    on_duty = True
    chosen = _chosen(
        eligible_professionals(consultation, slots=_on_duty_slots(consultation.region_id, now), now=now), now
    )
    if chosen is None:
        on_duty = False
        chosen = _chosen(
            eligible_professionals(consultation, slots=_covering_slots(consultation.region_id), now=now), now
        )
    if chosen is None:
        if changed:
            _save(consultation, changed)
        notified = _notify_unrouted(consultation, now)
        logger.warning(
            "consultation %s: nobody to route it to in %s", consultation.pk, consultation.region_id
        )
        audit.record(
            actor=None,
            action="consultation.route",
            target=consultation,
            detail={"assigned": None, "urgent": False, "notified": notified},
        )
        return
    consultation.assigned_to = chosen
    consultation.assigned_at = now
    _save(consultation, [*changed, "assigned_to", "assigned_at"])
    _notify_assigned(consultation, chosen)
    audit.record(
        actor=None,
        action="consultation.route",
        target=consultation,
        changes=["assigned_to", "assigned_at"],
        detail={"assigned": chosen.pk, "on_duty": on_duty, "urgent": False},
    )


def _route_urgent(consultation: Consultation, now: datetime.datetime, changed: list[str]) -> None:
    if consultation.accept_due_at is None:
        consultation.accept_due_at = now + datetime.timedelta(minutes=accept_minutes())
        changed.append("accept_due_at")
    if changed:
        _save(consultation, changed)
    level = consultation.escalation_level
    recipients = _users(_offered_at(consultation, level, now))
    notified = _notify_urgent(consultation, recipients, level=level, to_staff=False) if recipients else 0
    staff = _staff_at(consultation, level, now)
    if staff:
        notified += _notify_urgent(consultation, staff, level=level, to_staff=True)
    audit.record(
        actor=None,
        action="consultation.route",
        target=consultation,
        detail={"assigned": None, "urgent": True, "level": level, "notified": notified},
    )
    if not recipients and level == EscalationLevel.REGION:
        # Nobody is on duty for this crisis: waiting the accept minutes would help nobody.
        _escalate(consultation, now, breached=False)


def _offered_at(consultation: Consultation, level: int, now: datetime.datetime) -> QuerySet[Volunteer]:
    """The professionals alerted when a crisis reaches `level` (the queue offers it to a wider set: every
    lead, not only those on duty)."""
    code = consultation.region_id
    if level == EscalationLevel.REGION:
        return eligible_professionals(consultation, slots=_on_duty_slots(code, now), now=now)
    if level == EscalationLevel.COUNTY:
        return eligible_professionals(consultation, slots=_county_slots(code), now=now)
    leads = eligible_professionals(consultation, slots=_lead_slots(code, now), now=now)
    if not leads.exists():
        leads = eligible_professionals(consultation, slots=_lead_slots(code), now=now)
    return leads


def _staff_at(consultation: Consultation, level: int, now: datetime.datetime) -> list[Any]:
    if level == EscalationLevel.COUNTY:
        return county_admins(consultation.region_id, now)
    if level == EscalationLevel.PROVINCE:
        return province_admins(consultation.region_id, now)
    return []


def _escalate(consultation: Consultation, now: datetime.datetime, *, breached: bool) -> int:
    """One level up: the crisis' offer lapses (a supervisor's chosen assignee included), the next circle is
    alerted and the accept clock starts again. Returns the number of notifications."""
    level = consultation.escalation_level + 1
    consultation.escalation_level = level
    consultation.escalated_at = now
    consultation.accept_due_at = now + datetime.timedelta(minutes=accept_minutes())
    consultation.assigned_to = None
    consultation.assigned_at = None
    fields = ["escalation_level", "escalated_at", "accept_due_at", "assigned_to", "assigned_at"]
    if breached:
        consultation.accept_breached = True
        fields.append("accept_breached")
    _save(consultation, fields)
    professionals = _users(_offered_at(consultation, level, now))
    notified = _notify_urgent(consultation, professionals, level=level, to_staff=False)
    notified += _notify_urgent(consultation, _staff_at(consultation, level, now), level=level, to_staff=True)
    audit.record(
        actor=None,
        action="consultation.escalate",
        target=consultation,
        changes=fields,
        detail={"level": level, "breached": breached, "notified": notified},
    )
    if not professionals and level < EscalationLevel.PROVINCE:
        # Nobody in the county could take it: the province's lead is the next who can answer.
        notified += _escalate(consultation, now, breached=False)
    return notified


def _system_message(consultation: Consultation, body: str) -> Message:
    return Message.objects.create(consultation=consultation, sender=Sender.SYSTEM, body=body)


def _locked(consultation_id: int, base: QuerySet[Consultation] | None = None) -> Consultation:
    rows = base if base is not None else Consultation.objects.all()
    consultation = rows.select_for_update(of=("self",)).filter(pk=consultation_id).first()
    if consultation is None:
        raise NotFoundError()
    return consultation


@transaction.atomic
def consultation_mark_urgent(*, consultation: Consultation, signals: list[str]) -> None:
    """A later message of the requester signalled a crisis: the request becomes urgent (never the other way)
    and the signals are added to its list. A waiting request nobody accepted is offered again as a crisis
    (its ordinary assignee, if any, loses the single offer and is alerted with the others when on duty);
    an accepted one alerts its professional. Calling it again with signals already recorded does nothing
    more. `consultation` is updated in place."""
    row = _locked(consultation.pk)
    known = list(row.crisis_signals or [])
    added = [signal for signal in dict.fromkeys(signals) if signal not in known]
    was_urgent = row.is_urgent
    if was_urgent and not added:
        consultation.refresh_from_db()
        return
    row.is_urgent = True
    row.crisis_signals = known + added
    _save(row, ["is_urgent", "crisis_signals"])
    now = timezone.now()
    if row.state == State.WAITING and not was_urgent:
        row.assigned_to = None
        row.assigned_at = None
        row.accept_due_at = None
        _save(row, ["assigned_to", "assigned_at", "accept_due_at"])
        consultation_route(consultation=row, now=now)
    elif row.state != State.WAITING and row.assigned_to_id is not None:
        _alert_assignee(row, len(row.crisis_signals))
    consultation.refresh_from_db()


def _alert_assignee(consultation: Consultation, count: int) -> None:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    volunteer = consultation.assigned_to
    if volunteer is None or volunteer.user is None:
        return
    with override("zh-hans"):
        title = _("您承办的求助出现危机信号")
        body = _("求助人的最新留言可能涉及人身危险，请立即查看并回应（编号 %(reference)s）。") % {
            "reference": consultation.reference
        }
    notify(
        users=[volunteer.user],
        kind=Notification.Kind.ALERT,
        title=title,
        body=body,
        link=reverse("consultations_duty:queue"),
        topic=_topic(consultation, f"crisis:{count}"),
        sms=True,
    )


# --- Accepting, declining, reassigning --------------------------------------------------------------------


@transaction.atomic
def consultation_accept(
    *, actor: Actor, consultation_id: int, declares_no_conflict: bool, request: Any = None
) -> Consultation:
    """The professional accepts a request offered to them, declaring that they have no conflict of interest
    with the requester (required: 422 otherwise). The first to accept a crisis wins; a later one gets 409
    `consultation_taken`. A request not offered to them answers 404; accepting one's own accepted request
    again returns it unchanged. The accept clock stops (`accept_breached` when it had run out) and the
    requester reads "志愿者已受理您的求助"."""
    volunteer = _require_professional(actor)
    if declares_no_conflict is not True:
        raise ValidationFailed(fields={"declares_no_conflict": [_("请确认与求助人不存在利益冲突")]})
    now = timezone.now()
    consultation = _locked(consultation_id)
    if not _is_offered(consultation, volunteer, now):
        raise NotFoundError()
    if consultation.state == State.ACCEPTED:
        if consultation.assigned_to_id == volunteer.pk:
            return consultation
        raise ConsultationTaken()
    if consultation.state != State.WAITING:
        raise ConflictError(_("这件求助已经结束"))
    breached = consultation.accept_due_at is not None and now > consultation.accept_due_at
    consultation.state = State.ACCEPTED
    if consultation.assigned_to_id != volunteer.pk:
        consultation.assigned_to = volunteer
        consultation.assigned_at = now
    consultation.accepted_at = now
    consultation.accept_due_at = None
    consultation.accept_breached = consultation.accept_breached or breached
    consultation.version += 1
    _save(
        consultation,
        ["state", "assigned_to", "assigned_at", "accepted_at", "accept_due_at", "accept_breached", "version"],
    )
    with override("zh-hans"):
        _system_message(consultation, _("志愿者已受理您的求助，会尽快回复您。"))
    audit.record(
        actor=actor,
        action="consultation.accept",
        target=consultation,
        changes=["state", "assigned_to", "accepted_at"],
        detail={
            "declares_no_conflict": True,
            "urgent": consultation.is_urgent,
            "level": consultation.escalation_level,
            "accept_breached": consultation.accept_breached,
        },
        request=request,
    )
    return consultation


@transaction.atomic
def consultation_decline(*, actor: Actor, consultation_id: int, reason: str, request: Any = None) -> None:
    """The professional passes on a waiting request offered to them (`DeclineReason`: a conflict of
    interest, unavailable, outside their expertise). It is never offered to them again; one assigned to
    them is routed anew."""
    volunteer = _require_professional(actor)
    if reason not in DeclineReason.values:
        raise ValidationFailed(fields={"reason": [_("请选择退回原因")]})
    now = timezone.now()
    consultation = _locked(consultation_id)
    if consultation.state != State.WAITING or not _is_offered(consultation, volunteer, now):
        raise NotFoundError()
    ConsultationDecline.objects.get_or_create(
        consultation=consultation, volunteer=volunteer, defaults={"reason": reason}
    )
    was_assigned = consultation.assigned_to_id == volunteer.pk
    if was_assigned:
        consultation.assigned_to = None
        consultation.assigned_at = None
        consultation.version += 1
        _save(consultation, ["assigned_to", "assigned_at", "version"])
    audit.record(
        actor=actor,
        action="consultation.decline",
        target=consultation,
        changes=["assigned_to"] if was_assigned else [],
        detail={"reason": reason, "urgent": consultation.is_urgent},
        request=request,
    )
    if was_assigned:
        consultation_route(consultation=consultation, now=now)


@transaction.atomic
def consultation_reassign(
    *, actor: Actor, consultation_id: int, volunteer_id: int, reason: str, request: Any = None
) -> Consultation:
    """A supervisor gives a waiting or accepted request in their region to another professional qualified
    for it and covering its region (`reassign_candidates`). The request waits again, assigned to them: they
    accept it, declaring no conflict, themselves (a crisis within GUANAI_CRISIS_ACCEPT_MINUTES, or it
    escalates). The requester reads that the request was passed on; the reason (required) goes to the new
    professional and into the audit trail, so it names no one."""
    if not actor.has(Permission.CONSULTATION_SUPERVISE):
        raise PermissionDeniedError()
    # The request first: one the supervisor cannot see is not found, whatever the form holds.
    consultation = _locked(consultation_id, Consultation.objects.visible_to(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写转交原因")]})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(fields={"reason": [_("转交原因不能超过 200 字")]})
    now = timezone.now()
    if consultation.state not in OPEN_STATES:
        raise ConflictError(_("已结束的求助不能转交"))
    volunteer = reassign_candidates(consultation=consultation, now=now).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise ValidationFailed(
            fields={"volunteer_id": [_("该志愿者不能承办这件求助（专业、服务地区不符，或已退回过）")]}
        )
    if volunteer.pk == consultation.assigned_to_id:
        raise ValidationFailed(fields={"volunteer_id": [_("这件求助已由该志愿者承办")]})
    previous = consultation.assigned_to_id
    consultation.state = State.WAITING
    consultation.assigned_to = volunteer
    consultation.assigned_at = now
    consultation.accepted_at = None
    consultation.accept_due_at = (
        now + datetime.timedelta(minutes=accept_minutes()) if consultation.is_urgent else None
    )
    consultation.version += 1
    _save(consultation, ["state", "assigned_to", "assigned_at", "accepted_at", "accept_due_at", "version"])
    with override("zh-hans"):
        _system_message(consultation, _("您的求助已转交给另一位志愿者，请耐心等待受理。"))
    _notify_assigned(consultation, volunteer, reason=reason)
    audit.record(
        actor=actor,
        action="consultation.reassign",
        target=consultation,
        changes=["state", "assigned_to", "assigned_at"],
        detail={"from": previous, "to": volunteer.pk, "reason": reason},
        request=request,
    )
    return consultation


# --- The service-level clocks -----------------------------------------------------------------------------


def clocks_run(*, now: datetime.datetime) -> dict[str, int]:
    """Run the clocks once (every minute, `tasks.run_clocks`):

    - a crisis still waiting past its accept due time goes one level up (county, then province; see
      `_escalate`), marked `accept_breached`; at the province it stays, and nobody is alerted twice;
    - a waiting or accepted request past its reply due time is marked `reply_breached`, and its professional
      and the county's admins are reminded once per due time.

    Each request is handled in its own short transaction, re-read under a lock with the same conditions, so
    two workers never escalate or remind twice and running it again changes nothing more."""
    counts = {"escalated_to_county": 0, "escalated_to_province": 0, "reply_breached": 0, "notified": 0}
    accept_due = Q(
        state=State.WAITING,
        is_urgent=True,
        accept_due_at__lte=now,
        escalation_level__lt=EscalationLevel.PROVINCE,
    )
    seen: set[int] = set()
    while True:
        batch = list(
            Consultation.objects.filter(accept_due)
            .exclude(pk__in=seen)
            .order_by("accept_due_at", "pk")
            .values_list("pk", flat=True)[:CLOCK_BATCH]
        )
        if not batch:
            break
        for pk in batch:
            seen.add(pk)
            with transaction.atomic():
                consultation = Consultation.objects.select_for_update().filter(accept_due, pk=pk).first()
                if consultation is None:
                    continue
                counts["notified"] += _escalate(consultation, now, breached=True)
                key = (
                    "escalated_to_county"
                    if consultation.escalation_level == EscalationLevel.COUNTY
                    else "escalated_to_province"
                )
                counts[key] += 1
    reply_due = Q(state__in=OPEN_STATES, reply_due_at__lte=now, reply_breached=False)
    overdue = (
        Consultation.objects.filter(reply_due).order_by("reply_due_at", "pk").values_list("pk", flat=True)
    )
    for pk in list(overdue):
        with transaction.atomic():
            consultation = (
                Consultation.objects.select_for_update(of=("self",))
                .filter(reply_due, pk=pk)
                .select_related("assigned_to__user")
                .first()
            )
            if consultation is None:
                continue
            consultation.reply_breached = True
            _save(consultation, ["reply_breached"])
            counts["reply_breached"] += 1
            counts["notified"] += _remind_reply(consultation, now)
    return counts


def _remind_reply(consultation: Consultation, now: datetime.datetime) -> int:
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    assert consultation.reply_due_at is not None
    topic = _topic(consultation, f"reply:{int(consultation.reply_due_at.timestamp())}")
    facts = {**_describe(consultation), "due": _local(consultation.reply_due_at)}
    notified = 0
    volunteer = consultation.assigned_to
    if volunteer is not None and volunteer.user is not None:
        with override("zh-hans"):
            title = _("求助留言超时未答复")
            body = (
                _("您承办的%(kind)s（编号 %(reference)s）应在%(due)s前答复，现已超时，请尽快回复求助人。")
                % facts
            )
        notified += len(
            notify(
                users=[volunteer.user],
                kind=Notification.Kind.REMINDER,
                title=title,
                body=body,
                link=reverse("consultations_duty:queue"),
                topic=topic,
            )
        )
    with override("zh-hans"):
        title = _("求助留言超时未答复")
        body = (
            _("%(place)s的一件%(kind)s（%(topic)s，编号 %(reference)s）应在%(due)s前答复，现已超时。") % facts
        )
    notified += len(
        notify(
            users=county_admins(consultation.region_id, now),
            kind=Notification.Kind.REMINDER,
            title=title,
            body=body,
            link=reverse("consultations_duty:reassign", args=[consultation.pk]),
            topic=topic,
        )
    )
    return notified
