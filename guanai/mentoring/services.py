"""Writes to mentoring cases: open a case from a sealed record, change its officer, assign and release
mentors, keep the plan, the monthly reviews and the community-correction details, close it with an
outcome — and break-the-glass access for those who state a lawful reason.

Who may write what:
- opening a case and changing its officer: MENTORING_MANAGE, for a youth or case in the actor's region —
  done without seeing the case (the youth is found by ID number, the case by its reference);
- the plan, the mentors, the correction details and closing: the case's officer;
- a monthly review: the officer or a current mentor;
- break-the-glass: MENTORING_BREAK_GLASS, for a case in the actor's region, given its reference.

Every write checks this here and ends with one audit event. Events and notifications name the case by its
reference, never the youth.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guanai import audit
from guanai.audit.services import Outcome
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.crypto import blind_index
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.mentoring.models import AccessGrant, CaseGoal, CaseMentor, CaseReview, MentoringCase
from guanai.mentoring.selectors import (
    case_by_reference_in_region,
    is_officer_of_county,
    mentoring_team_q,
)
from guanai.mentoring.vocabulary import (
    ACCESS_GRANT_DURATION,
    REASON_TEXT_MIN_LENGTH,
    REFERENCE_ALPHABET,
    REFERENCE_PREFIX,
    REFERENCE_RANDOM_LENGTH,
    CaseOutcome,
    CaseState,
    GoalStatus,
    LawfulBasis,
)
from guanai.minors.models import Minor
from guanai.minors.validation import FieldError, clean_id_number
from guanai.minors.vocabulary import Status as MinorStatus
from guanai.notifications.models import Notification
from guanai.notifications.services import notify
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import Status as VolunteerStatus

GOAL_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 2000
REASON_TEXT_MAX_LENGTH = 500


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


def _user_id(actor: Actor) -> int:
    if actor.user is None:
        raise PermissionDeniedError()
    return int(actor.user.pk)


def _visible_case(actor: Actor, case_id: int) -> MentoringCase:
    """The case, locked for the write, if the actor may see it; NotFoundError otherwise."""
    case = MentoringCase.objects.visible_to(actor).select_for_update().filter(pk=case_id).first()
    if case is None:
        raise NotFoundError()
    return case


def _officer_case(actor: Actor, case_id: int, *, must_be_open: bool = True) -> MentoringCase:
    """A case the actor is the officer of. Someone else who may see it (a mentor, a break-the-glass
    reader) is refused (403): they know it exists; someone who may not gets 404."""
    case = _visible_case(actor, case_id)
    if case.officer_id != _user_id(actor):
        raise PermissionDeniedError(_("只有本案承办人可以进行此操作"))
    if must_be_open and not case.is_open:
        raise ConflictError(_("该案件已结案"))
    return case


def _is_current_mentor(actor: Actor, case: MentoringCase) -> bool:
    return CaseMentor.objects.filter(
        case=case, volunteer__user_id=_user_id(actor), ended_on__isnull=True
    ).exists()


def _case_link(case: MentoringCase) -> str:
    return reverse("mentoring:detail", args=[case.pk])


def _county_of(region_code: str) -> str:
    return region_code[:6].ljust(12, "0")


def _new_reference(today: datetime.date) -> str:
    while True:
        random_part = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM_LENGTH))
        reference = f"{REFERENCE_PREFIX}-{today.year}-{random_part}"
        if not MentoringCase.objects.filter(reference=reference).exists():
            return reference


def _local_text(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "Y年n月j日 H:i")


# --- Opening a case -----------------------------------------------------------------------------------


def sealed_record_not_found() -> NotFoundError:
    """One answer for every ID number that does not lead to a sealed record in the actor's region —
    whether nobody has it, a child of the ordinary registry has it, or a youth of another region: the
    form gives no hint which."""
    message = _("在您的管辖范围内没有该身份证号的特殊青少年（封存）记录。请核对号码。")
    return NotFoundError(message, fields={"id_number": [message]})


def sealed_minor_find(*, actor: Actor, id_number: str, lock: bool = False) -> Minor:
    """The sealed record (特殊青少年, in the registry) with this ID number in the actor's region, found by
    the blind index of the number: staff cannot list sealed records, so they name the youth this way."""
    _require(actor, Permission.MENTORING_MANAGE)
    try:
        cleaned = clean_id_number(id_number)
    except FieldError as error:
        raise ValidationFailed(fields={"id_number": [error.message]}) from error
    if actor.region_code is None:
        raise sealed_record_not_found()
    minors = Minor.objects.filter(
        id_number_index=blind_index(Minor, "id_number", cleaned), is_sealed=True, status=MinorStatus.ACTIVE
    ).exclude(special_kind="")
    minors = minors.filter(region_codes.within_q("region_id", actor.region_code))
    minor = (minors.select_for_update() if lock else minors).first()
    if minor is None:
        raise sealed_record_not_found()
    return minor


def _officer_notify(case: MentoringCase, *, title: str, body: str) -> None:
    """Tell the case's (new) officer, with a link to the case: once per case and officer."""
    notify(
        users=[case.officer],
        kind=Notification.Kind.NOTICE,
        title=title,
        body=body,
        link=_case_link(case),
        topic=f"mentoring_case_officer:{case.pk}:{case.officer_id}",
    )


def _check_officer(officer_id: int | None, county_code: str) -> int:
    if officer_id is None or not is_officer_of_county(user_id=officer_id, county_code=county_code):
        raise ValidationFailed(
            fields={"officer_id": [_("承办人须为本县（市、区）在职的县级或乡镇（街道）工作人员")]}
        )
    return officer_id


@transaction.atomic
def case_open(
    *,
    actor: Actor,
    id_number: str,
    officer_id: int | None,
    mentor_ids: Iterable[int] = (),
    request: HttpRequest | None = None,
) -> MentoringCase:
    """Open a case for the sealed youth with this ID number, with its officer and first mentors. The
    person opening it does not see it afterwards unless they are its officer."""
    _require(actor, Permission.MENTORING_MANAGE)
    minor = sealed_minor_find(actor=actor, id_number=id_number, lock=True)
    county = _county_of(minor.region_id)
    officer_id = _check_officer(officer_id, county)
    if MentoringCase.objects.filter(minor=minor, state=CaseState.OPEN).exists():
        raise ConflictError(_("该青少年已有进行中的帮教案件，请联系其承办人"))
    today = timezone.localdate()
    case = MentoringCase.objects.create(
        reference=_new_reference(today),
        minor=minor,
        region_id=county,
        officer_id=officer_id,
        opened_by=actor.user,
    )
    mentors = [_mentor_add(actor, case, volunteer_id, today) for volunteer_id in dict.fromkeys(mentor_ids)]
    _officer_notify(
        case,
        title=_("您承办的帮教案件 %(reference)s 已立案") % {"reference": case.reference},
        body=_("请制定帮教计划并按月记录评估。案件信息依法封存，请勿外传。"),
    )
    audit.record(
        actor=actor,
        action="mentoring.open",
        target=case,
        changes=["minor", "officer", *(["mentors"] if mentors else [])],
        detail={"mentors": len(mentors)},
        request=request,
    )
    return case


@transaction.atomic
def case_officer_change(
    *, actor: Actor, reference: str, officer_id: int | None, request: HttpRequest | None = None
) -> MentoringCase:
    """Give a case another officer (the former one has left, for example). Done by MENTORING_MANAGE in
    the case's region with the case's reference, without seeing the case."""
    _require(actor, Permission.MENTORING_MANAGE)
    found = case_by_reference_in_region(actor=actor, reference=reference)
    if found is None:
        message = _("在您的管辖范围内没有该编号的帮教案件")
        raise NotFoundError(message, fields={"reference": [message]})
    case = MentoringCase.objects.select_for_update().get(pk=found.pk)
    if not case.is_open:
        raise ConflictError(_("该案件已结案"))
    officer_id = _check_officer(officer_id, case.region_id)
    if officer_id == case.officer_id:
        raise ValidationFailed(fields={"officer_id": [_("所选人员已是本案承办人")]})
    former = case.officer
    case.officer_id = officer_id
    case.version += 1
    case.save(update_fields=["officer", "version", "updated_at"])
    case.refresh_from_db(fields=["officer"])
    _officer_notify(
        case,
        title=_("您已成为帮教案件 %(reference)s 的承办人") % {"reference": case.reference},
        body=_("案件信息依法封存，请勿外传。"),
    )
    notify(
        users=[former],
        kind=Notification.Kind.NOTICE,
        title=_("帮教案件 %(reference)s 已移交他人承办") % {"reference": case.reference},
        body=_("您已不能再查看该案件。"),
    )
    audit.record(
        actor=actor,
        action="mentoring.officer_changed",
        target=case,
        changes=["officer"],
        detail={"from_user": former.pk, "to_user": officer_id},
        request=request,
    )
    return case


# --- Mentors ------------------------------------------------------------------------------------------


def mentor_refusals(volunteer: Volunteer, *, county_code: str, today: datetime.date) -> list[str]:
    """Why this volunteer may not mentor a case of the county now; empty when they may. A mentor is a
    current member of a mentoring team (帮教团) of the county or above it, 在岗, with a clear background
    check of the last twelve months (未成年人保护法 art.62), and has an account to see the case with."""
    reasons: list[str] = []
    if not Volunteer.objects.filter(pk=volunteer.pk).filter(mentoring_team_q(county_code)).exists():
        reasons.append(_("不是本县（市、区）或上级帮教团的在队成员"))
    if volunteer.user_id is None:
        reasons.append(_("尚未开通登录账号，无法查看案件"))
    if volunteer.status != VolunteerStatus.ACTIVE:
        reasons.append(_("当前状态为“%(status)s”") % {"status": VolunteerStatus(volunteer.status).label})
    if not volunteer.check_valid_on(today):
        reasons.append(_("没有一年内“无不良记录”的背景审查"))
    return reasons


def _mentor_add(actor: Actor, case: MentoringCase, volunteer_id: int, today: datetime.date) -> CaseMentor:
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise ValidationFailed(fields={"volunteer_id": [_("志愿者不存在")]})
    refusals = mentor_refusals(volunteer, county_code=case.region_id, today=today)
    if refusals:
        raise ValidationFailed(
            fields={
                "volunteer_id": [
                    _("%(name)s不能担任帮教人：") % {"name": volunteer.name} + "；".join(refusals)
                ]
            }
        )
    if CaseMentor.objects.filter(case=case, volunteer=volunteer, ended_on__isnull=True).exists():
        raise ConflictError(_("该志愿者已是本案帮教人"))
    mentor = CaseMentor.objects.create(
        case=case, volunteer=volunteer, started_on=today, assigned_by=actor.user
    )
    notify(
        users=[volunteer.user],
        kind=Notification.Kind.NOTICE,
        title=_("您已被指派为帮教案件 %(reference)s 的帮教人") % {"reference": case.reference},
        body=_("请按月与帮教对象联系并记录评估。帮教对象的信息依法保密，请勿外传。"),
        link=_case_link(case),
        topic=f"mentoring_case_mentor:{mentor.pk}",
    )
    return mentor


def _mentor_end(mentor: CaseMentor, today: datetime.date) -> None:
    """The assignment ends today (or on its first day, for one that starts later): the volunteer no
    longer sees the case."""
    mentor.ended_on = max(today, mentor.started_on)
    mentor.save(update_fields=["ended_on"])


@transaction.atomic
def mentor_assign(
    *, actor: Actor, case_id: int, volunteer_id: int, request: HttpRequest | None = None
) -> CaseMentor:
    case = _officer_case(actor, case_id)
    mentor = _mentor_add(actor, case, volunteer_id, timezone.localdate())
    audit.record(
        actor=actor,
        action="mentoring.mentor_assigned",
        target=case,
        changes=["mentors"],
        detail={"volunteer": volunteer_id},
        request=request,
    )
    return mentor


@transaction.atomic
def mentor_unassign(
    *, actor: Actor, case_id: int, mentor_id: int, request: HttpRequest | None = None
) -> CaseMentor:
    """End a mentor's assignment today: from now on the volunteer no longer sees the case."""
    case = _officer_case(actor, case_id, must_be_open=False)
    mentor = CaseMentor.objects.select_for_update().filter(pk=mentor_id, case=case).first()
    if mentor is None:
        raise NotFoundError()
    if not mentor.is_current:
        raise ConflictError(_("该帮教人已解除"))
    _mentor_end(mentor, timezone.localdate())
    audit.record(
        actor=actor,
        action="mentoring.mentor_removed",
        target=case,
        changes=["mentors"],
        detail={"volunteer": mentor.volunteer_id},
        request=request,
    )
    return mentor


# --- The plan -----------------------------------------------------------------------------------------


def _goal_text(description: str) -> str:
    text = description.strip()
    if not text:
        raise ValidationFailed(fields={"description": [_("请填写帮教目标")]})
    if len(text) > GOAL_MAX_LENGTH:
        raise ValidationFailed(fields={"description": [_("帮教目标不超过 500 个字")]})
    return text


@transaction.atomic
def goal_add(
    *,
    actor: Actor,
    case_id: int,
    description: str,
    due_on: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> CaseGoal:
    case = _officer_case(actor, case_id)
    goal = CaseGoal.objects.create(
        case=case, description=_goal_text(description), due_on=due_on, created_by=actor.user
    )
    audit.record(
        actor=actor,
        action="mentoring.goal_added",
        target=case,
        changes=["goals"],
        detail={"goal": goal.pk},
        request=request,
    )
    return goal


@transaction.atomic
def goal_update(
    *, actor: Actor, case_id: int, goal_id: int, status: str, request: HttpRequest | None = None
) -> CaseGoal:
    case = _officer_case(actor, case_id)
    goal = CaseGoal.objects.select_for_update().filter(pk=goal_id, case=case).first()
    if goal is None:
        raise NotFoundError()
    if status not in GoalStatus.values:
        raise ValidationFailed(fields={"status": [_("请选择进展")]})
    goal.status = status
    goal.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="mentoring.goal_updated",
        target=case,
        changes=["goals.status"],
        detail={"goal": goal.pk},
        request=request,
    )
    return goal


# --- Monthly reviews ----------------------------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    actor: Actor,
    case_id: int,
    month: datetime.date,
    progress_note: str,
    request: HttpRequest | None = None,
) -> CaseReview:
    """The month's review by the officer or a current mentor; one per case and month, for a month from
    the case's opening to the current one."""
    case = _visible_case(actor, case_id)
    if case.officer_id != _user_id(actor) and not _is_current_mentor(actor, case):
        raise PermissionDeniedError(_("只有本案承办人或帮教人可以记录评估"))
    if not case.is_open:
        raise ConflictError(_("该案件已结案"))
    first_day = month.replace(day=1)
    this_month = timezone.localdate().replace(day=1)
    opened_month = timezone.localtime(case.opened_at).date().replace(day=1)
    if first_day > this_month:
        raise ValidationFailed(fields={"month": [_("不能为以后的月份记录评估")]})
    if first_day < opened_month:
        raise ValidationFailed(fields={"month": [_("不能早于立案的月份")]})
    note = progress_note.strip()
    if not note:
        raise ValidationFailed(fields={"progress_note": [_("请填写帮教进展")]})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed(fields={"progress_note": [_("帮教进展不超过 2000 个字")]})
    taken = ConflictError(_("%(month)s的月度评估已经记录") % {"month": date_format(first_day, "Y年n月")})
    if CaseReview.objects.filter(case=case, month=first_day).exists():
        raise taken
    try:
        with transaction.atomic():
            review = CaseReview.objects.create(
                case=case, month=first_day, progress_note=note, recorded_by_id=_user_id(actor)
            )
    except IntegrityError as error:
        raise taken from error
    audit.record(
        actor=actor,
        action="mentoring.review",
        target=case,
        changes=["reviews"],
        detail={"month": first_day.strftime("%Y-%m")},
        request=request,
    )
    return review


# --- Community correction and closing -----------------------------------------------------------------


def _check_version(case: MentoringCase, version: int) -> None:
    if case.version != version:
        raise ConflictError(
            _("该案件已被他人修改（当前版本 %(current)d，您编辑的是版本 %(yours)d），请刷新后重试。")
            % {"current": case.version, "yours": version}
        )


@transaction.atomic
def correction_update(
    *,
    actor: Actor,
    case_id: int,
    version: int,
    agency: str,
    officer_name: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    request: HttpRequest | None = None,
) -> MentoringCase:
    """The community-correction details (社区矫正): the agency, its officer and the period."""
    case = _officer_case(actor, case_id)
    _check_version(case, version)
    errors: dict[str, list[str]] = {}
    if len(agency.strip()) > 100:
        errors["agency"] = [_("不超过 100 个字")]
    if len(officer_name.strip()) > 50:
        errors["officer_name"] = [_("不超过 50 个字")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("矫正期止不能早于矫正期起")]
    if errors:
        raise ValidationFailed(fields=errors)
    values = {
        "correction_agency": agency.strip(),
        "correction_officer_name": officer_name.strip(),
        "correction_starts_on": starts_on,
        "correction_ends_on": ends_on,
    }
    changed = [name for name, value in values.items() if getattr(case, name) != value]
    for name, value in values.items():
        setattr(case, name, value)
    case.version += 1
    case.save(update_fields=[*values, "version", "updated_at"])
    audit.record(
        actor=actor, action="mentoring.correction_updated", target=case, changes=changed, request=request
    )
    return case


@transaction.atomic
def case_close(
    *,
    actor: Actor,
    case_id: int,
    version: int,
    outcome: str,
    note: str,
    request: HttpRequest | None = None,
) -> MentoringCase:
    """Close the case with its outcome. The mentors' assignments end with it; the officer keeps the
    closed case."""
    case = _officer_case(actor, case_id)
    _check_version(case, version)
    errors: dict[str, list[str]] = {}
    if outcome not in CaseOutcome.values:
        errors["outcome"] = [_("请选择结案情况")]
    text = note.strip()
    if not text:
        errors["note"] = [_("请填写结案说明")]
    elif len(text) > NOTE_MAX_LENGTH:
        errors["note"] = [_("结案说明不超过 2000 个字")]
    if errors:
        raise ValidationFailed(fields=errors)
    today = timezone.localdate()
    ended = CaseMentor.objects.filter(case=case, ended_on__isnull=True)
    for mentor in ended.select_for_update():
        _mentor_end(mentor, today)
    case.state, case.outcome, case.outcome_note = CaseState.CLOSED, outcome, text
    case.closed_at, case.closed_by = timezone.now(), actor.user
    case.version += 1
    case.save(
        update_fields=["state", "outcome", "outcome_note", "closed_at", "closed_by", "version", "updated_at"]
    )
    audit.record(
        actor=actor,
        action="mentoring.close",
        target=case,
        changes=["state", "outcome", "outcome_note"],
        request=request,
    )
    return case


# --- Break-the-glass ----------------------------------------------------------------------------------


def access_grant_request(
    *,
    actor: Actor,
    reference: str,
    reason_code: str,
    reason_text: str,
    request: HttpRequest | None = None,
) -> AccessGrant:
    """Three hours' access to a sealed case for a user with MENTORING_BREAK_GLASS in whose region the
    case lies. The user cannot see the case, so they name it by the reference the officer gave them. The
    lawful basis is recorded in the audit trail (its code, never the youth's name) and the officer is
    told at once. A reference that names no case of the actor's region is refused like one that does not
    exist, and the attempt is recorded too."""
    _require(actor, Permission.MENTORING_BREAK_GLASS)
    errors: dict[str, list[str]] = {}
    if reason_code not in LawfulBasis.values:
        errors["reason_code"] = [_("请选择法定事由")]
    text = reason_text.strip()
    if len(text) < REASON_TEXT_MIN_LENGTH:
        errors["reason_text"] = [
            _("请具体说明查阅事由（不少于 %(n)d 个字），如案号、来函文号") % {"n": REASON_TEXT_MIN_LENGTH}
        ]
    elif len(text) > REASON_TEXT_MAX_LENGTH:
        errors["reason_text"] = [_("不超过 500 个字")]
    if errors:
        raise ValidationFailed(fields=errors)
    found = case_by_reference_in_region(actor=actor, reference=reference)
    if found is None:
        # Recorded outside any transaction of this service, so that the refusal stays in the trail.
        audit.record(
            actor=actor,
            action="mentoring.break_glass",
            outcome=Outcome.DENIED,
            detail={"reason_code": reason_code},
            request=request,
        )
        message = _("在您的管辖范围内没有该编号的帮教案件，请向案件承办人核对编号")
        raise NotFoundError(message, fields={"reference": [message]})
    with transaction.atomic():
        case = MentoringCase.objects.select_for_update().get(pk=found.pk)
        user_id = _user_id(actor)
        if case.officer_id == user_id or _is_current_mentor(actor, case):
            raise ValidationFailed(fields={"reference": [_("您是本案承办人或帮教人，可直接查看，无需申请")]})
        now = timezone.now()
        running = AccessGrant.objects.filter(
            user_id=user_id, case=case, revoked_at__isnull=True, expires_at__gt=now
        ).first()
        if running is not None:
            raise ConflictError(
                _("您已有该案件的查阅授权，有效期至 %(until)s") % {"until": _local_text(running.expires_at)}
            )
        grant = AccessGrant.objects.create(
            user_id=user_id,
            case=case,
            reason_code=reason_code,
            reason_text=text,
            granted_at=now,
            expires_at=now + ACCESS_GRANT_DURATION,
        )
        notify(
            users=[case.officer],
            kind=Notification.Kind.ALERT,
            title=_("帮教案件 %(reference)s 被依法查阅") % {"reference": case.reference},
            body=_(
                "%(user)s 以“%(basis)s”为由获得 3 小时查阅授权，至 %(until)s。如有异议，可在案件页面撤销。"
            )
            % {
                "user": str(actor.user),
                "basis": LawfulBasis(reason_code).label,
                "until": _local_text(grant.expires_at),
            },
            link=_case_link(case),
            topic=f"mentoring_break_glass:{grant.pk}",
        )
        audit.record(
            actor=actor,
            action="mentoring.break_glass",
            target=case,
            detail={
                "reason_code": reason_code,
                "grant": grant.pk,
                "expires_at": grant.expires_at.isoformat(),
            },
            request=request,
        )
    return grant


@transaction.atomic
def access_grant_revoke(*, actor: Actor, grant_id: int, request: HttpRequest | None = None) -> AccessGrant:
    """End a running grant early: its holder when done, or the case's officer who objects."""
    user_id = _user_id(actor)
    grant = AccessGrant.objects.select_for_update().select_related("case").filter(pk=grant_id).first()
    if grant is None or user_id not in (grant.user_id, grant.case.officer_id):
        raise NotFoundError()
    if not grant.is_active_at(timezone.now()):
        raise ConflictError(_("该授权已结束"))
    grant.revoked_at, grant.revoked_by = timezone.now(), actor.user
    grant.save(update_fields=["revoked_at", "revoked_by"])
    if user_id != grant.user_id:
        notify(
            users=[grant.user],
            kind=Notification.Kind.NOTICE,
            title=_("您对帮教案件 %(reference)s 的查阅授权已被承办人撤销")
            % {"reference": grant.case.reference},
            topic=f"mentoring_break_glass_revoked:{grant.pk}",
        )
    audit.record(
        actor=actor,
        action="mentoring.break_glass_revoked",
        target=grant.case,
        detail={"grant": grant.pk},
        request=request,
    )
    return grant
