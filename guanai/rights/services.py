"""Writes of data-subject requests (个人信息保护法 art.44–47, 50; 未成年人网络保护条例 art.34): register a
request with its deadline, answer it (a copy of the child's data, a correction, an erasure) or refuse it
with written reasons, and remind the county of requests whose deadline is near or past.

Every write checks the actor's permission here, reaches the request only through
`DataSubjectRequest.objects.visible_to(actor)` (another county's request, or a sealed record's, answers
404 like one that does not exist), and ends with one audit event that names fields, never values.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanai import audit
from guanai.audit.services import Outcome
from guanai.core.access import Actor, Permission, may_answer_subject_request
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.minors.models import Consent, DuplicateFlag, Guardian, Minor, TransferRequest
from guanai.minors.validation import age_on
from guanai.minors.vocabulary import Status as MinorStatus
from guanai.rights.models import DataSubjectRequest
from guanai.rights.vocabulary import (
    COPY_KINDS,
    DUE_SOON_DAYS,
    Kind,
    RequesterRole,
    Status,
    Verification,
)

# Text long enough for what a requester asks and for a letter's reasons; a page's textarea says so.
TEXT_MAX_LENGTH = 2000
# A request may be registered some days after it arrived (by post); its clock runs from its arrival.
RECEIVED_AT_MOST_DAYS_AGO = 30
ERASED_NAME = "已删除"
ERASED_TEXT = "（已随儿童信息一并删除）"


class ErasureBlocked(ConflictError):
    """The child's data are still needed (see `minor_erase`): the erasure is refused, with the reason."""

    code = "erasure_blocked"


def request_days() -> int:
    """Calendar days within which a request is answered (settings.GUANAI_SUBJECT_REQUEST_DAYS)."""
    return int(settings.GUANAI_SUBJECT_REQUEST_DAYS)


def due_date(received_on: datetime.date) -> datetime.date:
    """The last day to answer a request received on `received_on`: N calendar days later. On that day the
    request is still in time; the day after, it is overdue."""
    return received_on + datetime.timedelta(days=request_days())


def _require(actor: Actor, *permissions: Permission) -> None:
    if not all(actor.has(permission) for permission in permissions):
        raise PermissionDeniedError()


def _require_answerer(actor: Actor, kind: str) -> None:
    """Who may answer a request of `kind` is decided in one place (`access.may_answer_subject_request`)."""
    if not may_answer_subject_request(actor, kind):
        raise PermissionDeniedError()


def _text(value: str, field: str, *, required: bool, message: str) -> str:
    text = value.strip()
    if required and not text:
        raise ValidationFailed(fields={field: [message]})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationFailed(fields={field: [_("不能超过 %(count)d 个字") % {"count": TEXT_MAX_LENGTH}]})
    return text


def _open_request(actor: Actor, request_id: int) -> DataSubjectRequest:
    """The open request, locked; another county's (or none) is not found, a handled one is a conflict."""
    subject_request = (
        DataSubjectRequest.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("minor")
        .filter(pk=request_id)
        .first()
    )
    if subject_request is None:
        raise NotFoundError()
    if not subject_request.is_open:
        raise ConflictError(
            _("该请求已%(status)s，不能再办理") % {"status": Status(subject_request.status).label}
        )
    return subject_request


def _finish(subject_request: DataSubjectRequest, actor: Actor, *, status: str, fields: list[str]) -> None:
    subject_request.status = status
    subject_request.handled_by = actor.user
    subject_request.handled_at = timezone.now()
    subject_request.save(update_fields=[*fields, "status", "handled_by", "handled_at"])


def _detail(subject_request: DataSubjectRequest, **more: Any) -> dict[str, Any]:
    """What an event says about a request: its kind and the child's record, never a value."""
    return {"kind": subject_request.kind, "minor_id": subject_request.minor_id, **more}


# --- Registering ------------------------------------------------------------------------------------


@dataclass
class SubjectRequestInput:
    requester_role: str
    requester_name: str
    verification: str
    kind: str
    description: str
    received_on: datetime.date
    requester_contact: str = ""


@transaction.atomic
def subject_request_register(
    *, actor: Actor, minor_id: int, data: SubjectRequestInput, request: Any = None
) -> DataSubjectRequest:
    """Record a request received from a guardian, or from the child if 14 or over on the day it arrived,
    with its last day to answer (`due_date`)."""
    _require(actor, Permission.MINOR_MANAGE)
    minor = Minor.objects.visible_to(actor).filter(pk=minor_id).first()
    if minor is None:
        raise NotFoundError()
    errors: dict[str, list[str]] = {}
    if data.requester_role not in RequesterRole.values:
        errors["requester_role"] = [_("请选择申请人身份")]
    if data.verification not in Verification.values:
        errors["verification"] = [_("请选择身份与监护关系的核验方式")]
    if data.kind not in Kind.values:
        errors["kind"] = [_("请选择请求类型")]
    today = timezone.localdate()
    if data.received_on > today:
        errors["received_on"] = [_("收到日期不能晚于今天")]
    elif data.received_on < today - datetime.timedelta(days=RECEIVED_AT_MOST_DAYS_AGO):
        errors["received_on"] = [_("收到日期不能早于 %(days)d 天前") % {"days": RECEIVED_AT_MOST_DAYS_AGO}]
    elif data.requester_role == RequesterRole.CHILD and age_on(minor.birth_date, data.received_on) < 14:
        errors["requester_role"] = [_("未满 14 周岁的儿童，由监护人代为提出请求")]
    if errors:
        raise ValidationFailed(fields=errors)
    name = _text(data.requester_name, "requester_name", required=True, message=_("请填写申请人姓名"))
    if len(name) > 50:
        raise ValidationFailed(fields={"requester_name": [_("姓名不能超过 50 个字")]})
    contact = data.requester_contact.strip()[:50]
    description = _text(data.description, "description", required=True, message=_("请填写请求内容"))
    subject_request = DataSubjectRequest.objects.create(
        minor=minor,
        requester_role=data.requester_role,
        requester_name=name,
        requester_contact=contact,
        verification=data.verification,
        kind=data.kind,
        description=description,
        received_on=data.received_on,
        due_on=due_date(data.received_on),
        minor_version_at_receipt=minor.version,
        received_by=actor.user,
    )
    audit.record(
        actor=actor,
        action="subject_request.received",
        target=subject_request,
        changes=["requester_role", "requester_name", "verification", "kind", "description", "received_on"]
        + (["requester_contact"] if contact else []),
        detail=_detail(subject_request, due_on=subject_request.due_on.isoformat()),
        request=request,
    )
    return subject_request


# --- Answering: the copy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectCopy:
    filename: str
    content_type: str
    content: bytes


def subject_request_copy(*, actor: Actor, request_id: int, request: Any = None) -> SubjectCopy:
    """The copy of everything the system holds about the child of an access or copy request, as a
    workbook (`guanai.rights.copies`), for the handler to hand over. Values are in the clear, so it needs
    MINOR_UNMASK; every download is an audit event, and the first one stamps the request as produced.
    A handled request's copy can still be downloaded (a lost print), a refused one's cannot."""
    from guanai.rights.copies import subject_copy_workbook

    _require_answerer(actor, Kind.COPY)
    with transaction.atomic():
        subject_request = (
            DataSubjectRequest.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("minor")
            .filter(pk=request_id)
            .first()
        )
        if subject_request is None:
            raise NotFoundError()
        if subject_request.kind not in COPY_KINDS:
            raise ConflictError(_("只有查阅、复制请求需要提供副本"))
        if subject_request.status == Status.REFUSED:
            raise ConflictError(_("该请求已不予办理，不能提供副本"))
        content = subject_copy_workbook(actor=actor, subject_request=subject_request)
        if subject_request.copy_produced_at is None:
            subject_request.copy_produced_at = timezone.now()
            subject_request.save(update_fields=["copy_produced_at"])
        audit.record(
            actor=actor,
            action="subject_request.copy_downloaded",
            target=subject_request,
            detail=_detail(subject_request, bytes=len(content)),
            request=request,
        )
    return SubjectCopy(
        filename=f"subject-request-{subject_request.pk}-{timezone.localdate():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        content=content,
    )


# --- Answering: completing --------------------------------------------------------------------------


@transaction.atomic
def subject_request_complete(
    *, actor: Actor, request_id: int, note: str = "", request: Any = None
) -> DataSubjectRequest:
    """Mark an access, copy or correction request as answered.

    - access, copy: the copy must have been produced (`subject_request_copy`) — it is what answers them;
    - correction: the child's record must have been saved since the request arrived (the normal update,
      `guanai.minors.services.minor_update`, which records which fields changed), and the note says what
      was corrected or added;
    - deletion is answered by `subject_request_erase`, never here."""
    _require(actor, Permission.MINOR_MANAGE)
    subject_request = _open_request(actor, request_id)
    note = _text(note, "note", required=False, message="")
    if subject_request.kind == Kind.DELETION:
        raise ConflictError(_("删除请求须通过“删除儿童信息”办理"))
    _require_answerer(actor, subject_request.kind)
    if subject_request.kind in COPY_KINDS and subject_request.copy_produced_at is None:
        raise ConflictError(_("请先生成并下载副本，交申请人后再办结"))
    if subject_request.kind == Kind.CORRECTION:
        if subject_request.minor.version <= subject_request.minor_version_at_receipt:
            raise ConflictError(_("儿童信息自收到请求以来尚未修改，请先修改后再办结"))
        if not note:
            raise ValidationFailed(fields={"note": [_("请说明更正或补充了哪些信息")]})
    subject_request.outcome_note = note
    _finish(subject_request, actor, status=Status.COMPLETED, fields=["outcome_note"])
    audit.record(
        actor=actor,
        action="subject_request.completed",
        target=subject_request,
        changes=["status"] + (["outcome_note"] if note else []),
        detail=_detail(subject_request, minor_version=subject_request.minor.version),
        request=request,
    )
    return subject_request


@transaction.atomic
def subject_request_refuse(
    *, actor: Actor, request_id: int, reasons: str, request: Any = None
) -> DataSubjectRequest:
    """Refuse a request, with the reasons written for the requester (个人信息保护法 art.50: a refusal is
    explained); they are printed in the reply letter. Only who may answer the request's kind may refuse
    it (`access.may_answer_subject_request`): refusing an erasure is as much a decision as erasing, and
    the letter that tells the requester is printed by the same people."""
    _require(actor, Permission.MINOR_MANAGE)
    subject_request = _open_request(actor, request_id)
    _require_answerer(actor, subject_request.kind)
    subject_request.refusal_reasons = _text(
        reasons, "reasons", required=True, message=_("请写明不予办理的理由，答复函将告知申请人")
    )
    _finish(subject_request, actor, status=Status.REFUSED, fields=["refusal_reasons"])
    audit.record(
        actor=actor,
        action="subject_request.refused",
        target=subject_request,
        changes=["status", "refusal_reasons"],
        detail=_detail(subject_request),
        request=request,
    )
    return subject_request


# --- Answering: erasure -----------------------------------------------------------------------------


def erasure_obstacles(minor: Minor) -> list[str]:
    """Why the child's data cannot be erased now (empty: they can). See `minor_erase`."""
    from guanai.mentoring.models import MentoringCase
    from guanai.pairings.models import MandatoryReport, Pairing
    from guanai.pairings.vocabulary import PairingState, ReportState

    obstacles = []
    if Pairing.objects.filter(minor=minor).exclude(state=PairingState.CLOSED).exists():
        obstacles.append(_("该儿童尚有未解除的结对，志愿者仍在关爱服务中；请先解除结对。"))
    if MandatoryReport.objects.filter(minor=minor, state=ReportState.OPEN).exists():
        obstacles.append(
            _("该儿童尚有未办结的强制报告（《未成年人保护法》第十一条），处置完毕前须保留相关信息。")
        )
    if MentoringCase.objects.filter(minor=minor).exists():
        obstacles.append(
            _(
                "该儿童有帮教案件，案卷依法封存保管（《预防未成年人犯罪法》《刑事诉讼法》第二百八十六条），不能删除。"
            )
        )
    return obstacles


def merged_records(minor: Minor) -> list[Minor]:
    """The records merged into `minor` (`guanai.minors.services.duplicate_merge` keeps one record of a
    pair and closes the other, which still holds the child's data), and those merged into them, locked.
    A MERGED flag's closed side is the one merged away; an active partner is the record this one was
    merged into, not a copy of it, and is left alone."""
    found: dict[int, Minor] = {}
    frontier = [minor.pk]
    while frontier:
        flags = DuplicateFlag.objects.filter(state=DuplicateFlag.State.MERGED).filter(
            Q(first_id__in=frontier) | Q(second_id__in=frontier)
        )
        partners = {pk for pair in flags.values_list("first_id", "second_id") for pk in pair}
        partners -= {minor.pk, *found}
        records = (
            Minor.objects.select_for_update()
            .filter(pk__in=partners)
            .exclude(status=MinorStatus.ACTIVE)
            .order_by("pk")
        )
        frontier = []
        for record in records:
            found[record.pk] = record
            frontier.append(record.pk)
    return [found[pk] for pk in sorted(found)]


def _anonymise(minor: Minor, subject_request: DataSubjectRequest, now: datetime.datetime) -> list[str]:
    """Clear one record and the rows naming it (see `minor_erase`); returns its visits' photo names."""
    from guanai.pairings.models import ConflictDeclaration, MandatoryReport, Pairing, ProposedPair, Visit

    minor.name, minor.name_pinyin, minor.name_initials = ERASED_NAME, "", ""
    minor.id_number = None
    minor.birth_date = minor.birth_date.replace(month=1, day=1)
    minor.ethnicity = ""
    minor.household_region = None
    minor.address = ""
    minor.school, minor.grade = "", ""
    minor.facts = {}
    minor.risk_reason = ""
    if minor.status == MinorStatus.ACTIVE or not minor.closed_at:
        minor.status, minor.closed_at = MinorStatus.CLOSED, now
    minor.closed_reason = _("依个人信息删除请求删除（请求 #%(id)d）") % {"id": subject_request.pk}
    minor.version += 1
    minor.save()
    Guardian.objects.filter(minor=minor).delete()
    Consent.objects.filter(minor=minor).update(given_by="")
    Consent.objects.filter(minor=minor, withdrawn_on__isnull=True).update(withdrawn_on=timezone.localdate())
    Pairing.objects.filter(minor=minor).update(close_note="", explanation=[])
    visits = Visit.objects.filter(pairing__minor=minor)
    photo_names = list(visits.exclude(photo="").values_list("photo", flat=True))
    visits.update(note="", photo="")
    MandatoryReport.objects.filter(minor=minor).update(outcome_note="")
    TransferRequest.objects.filter(minor=minor).update(reason="")
    TransferRequest.objects.filter(minor=minor, state=TransferRequest.State.OPEN).update(
        state=TransferRequest.State.DECLINED, decided_at=now
    )
    DataSubjectRequest.objects.filter(minor=minor).update(
        description=ERASED_TEXT, outcome_note="", requester_contact=""
    )
    ProposedPair.objects.filter(minor=minor).delete()
    ConflictDeclaration.objects.filter(minor=minor).delete()
    DuplicateFlag.objects.filter(Q(first=minor) | Q(second=minor)).filter(
        state=DuplicateFlag.State.OPEN
    ).delete()
    return photo_names


def minor_erase(
    *, minor: Minor, subject_request: DataSubjectRequest, merged: list[Minor] | None = None
) -> list[str]:
    """Anonymise a child's record in place and close it; returns the names of what was cleared.

    The records merged into it (`merged_records`; pass them locked, or they are looked up) hold the same
    child's data: they are checked and anonymised the same way, and any of them blocks the erasure as the
    record itself would.

    Refused (ErasureBlocked, with the reasons) while the law or the work still needs the data
    (个人信息保护法 art.47: deletion when the purpose is achieved or consent withdrawn, unless a law
    requires keeping them):
    - an open pairing (proposed or active): a volunteer is caring for the child; it is closed first, with
      its reason, which is itself a decision someone takes;
    - an open mandatory report (未成年人保护法 art.11): the authorities may still need who and where;
    - any mentoring case, open or closed: its file is sealed and kept by law, not deleted.

    What identifies the child or the guardians is cleared: the name (and its pinyin), the ID number and
    its blind index, the address, ethnicity, household region, school, grade, the notes (情况说明, risk
    reason); the guardians are deleted with their phones and blind indexes; consents keep their date,
    notice version and scope (the record that processing was lawful) without the name of who gave them;
    the notes and photos of visits, the explanations and notes of pairings, the outcome notes of closed
    mandatory reports and the reasons of transfer requests are cleared; matching previews, conflict
    declarations and open duplicate flags naming the child are deleted. The child's data-subject
    requests keep who asked (the requester's name), how they were verified, the kind, the dates and any
    written refusal with its reasons (the record that the request was answered, 个人信息保护法 art.50),
    but lose the requester's contact, what was asked and the notes of how they were handled, which may
    repeat the child's data.

    What statistics need, without identifying the child, stays: the village, the birth year (the date
    becomes 1 January), gender, household type, categories, needs, risk level, the pairings' and visits'
    dates and outcomes, and the closed status with its reason."""
    from guanai.core import photos
    from guanai.pairings.visits import PHOTO_SUBDIRECTORY

    records = [minor, *(merged_records(minor) if merged is None else merged)]
    obstacles = [obstacle for record in records for obstacle in erasure_obstacles(record)]
    if obstacles:
        raise ErasureBlocked(" ".join(dict.fromkeys(obstacles)))
    now = timezone.now()
    photo_names = [name for record in records for name in _anonymise(record, subject_request, now)]
    subject_request.description, subject_request.requester_contact = ERASED_TEXT, ""

    def delete_photos() -> None:
        for name in photo_names:
            photos.photo_delete(name, folder=PHOTO_SUBDIRECTORY)

    # Only once the erasure is committed: a rolled-back erasure keeps its photos.
    transaction.on_commit(delete_photos)
    return [
        *("name", "id_number", "birth_date", "ethnicity", "household_region", "address", "school"),
        *("grade", "facts", "risk_reason", "status", "guardians", "consents.given_by", "visits.note"),
        *("visits.photo", "pairings.close_note", "mandatory_reports.outcome_note"),
        *("subject_requests.description", "subject_requests.outcome_note"),
        "subject_requests.requester_contact",
    ]


def subject_request_erase(
    *, actor: Actor, request_id: int, confirmation: str, note: str = "", request: Any = None
) -> DataSubjectRequest:
    """Answer a deletion request by erasing the child's record (`minor_erase`). Irreversible, so the
    handler types the record's number as confirmation, and holds MINOR_UNMASK besides MINOR_MANAGE
    (the administrators who see the record in the clear decide; a village liaison, who sees it masked,
    does not). A refused erasure (ErasureBlocked) is recorded ("minor.erasure_blocked", outside the
    rolled-back transaction) and the request stays open: the handler refuses it in writing with those
    reasons (`subject_request_refuse`), or erases once the obstacle is gone."""
    _require_answerer(actor, Kind.DELETION)
    try:
        with transaction.atomic():
            subject_request = _open_request(actor, request_id)
            if subject_request.kind != Kind.DELETION:
                raise ConflictError(_("只有删除请求可以删除儿童信息"))
            if confirmation.strip() != str(subject_request.minor_id):
                raise ValidationFailed(fields={"confirmation": [_("请输入儿童记录编号以确认删除")]})
            minor = Minor.objects.select_for_update().get(pk=subject_request.minor_id)
            merged = merged_records(minor)
            cleared = minor_erase(minor=minor, subject_request=subject_request, merged=merged)
            subject_request.outcome_note = _text(note, "note", required=False, message="")
            _finish(subject_request, actor, status=Status.COMPLETED, fields=["outcome_note"])
            audit.record(
                actor=actor,
                action="minor.erased",
                target=minor,
                changes=cleared,
                detail={"request_id": subject_request.pk},
                request=request,
            )
            for record in merged:
                audit.record(
                    actor=actor,
                    action="minor.erased",
                    target=record,
                    changes=cleared,
                    detail={"request_id": subject_request.pk, "merged_into": minor.pk},
                    request=request,
                )
            audit.record(
                actor=actor,
                action="subject_request.completed",
                target=subject_request,
                changes=["status"] + (["outcome_note"] if subject_request.outcome_note else []),
                detail=_detail(subject_request, erased=True),
                request=request,
            )
    except ErasureBlocked:
        audit.record(
            actor=actor,
            action="minor.erasure_blocked",
            target=subject_request.minor,
            outcome=Outcome.DENIED,
            detail={"request_id": subject_request.pk},
            request=request,
        )
        raise
    return subject_request


# --- The clock's reminders --------------------------------------------------------------------------


def subject_request_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Daily (`tasks.deadline_reminders`): remind the county's administrators of each open request whose
    last day is within DUE_SOON_DAYS, and again once it is overdue. A notification's topic is unique per
    request and stage, so a second run on the same day (or a retried task) sends nothing more. The text
    names the village, the kind and the request's number, never the child or the requester (it may go by
    SMS through a gateway)."""
    from django.urls import reverse

    from guanai.cafes.services import county_admins
    from guanai.notifications.models import Notification
    from guanai.notifications.services import notify

    today = today or timezone.localdate()
    counts = {"due_soon": 0, "overdue": 0, "notified": 0}
    staff_by_county: dict[str, list[Any]] = {}
    due = (
        DataSubjectRequest.objects.open()
        .filter(due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
        .select_related("minor__region")
        .order_by("due_on", "pk")
    )
    for subject_request in due:
        overdue = subject_request.is_overdue_on(today)
        stage = "overdue" if overdue else "due_soon"
        counts[stage] += 1
        facts = {
            "place": subject_request.minor.region.name,
            "kind": Kind(subject_request.kind).label,
            "number": subject_request.pk,
            "due": f"{subject_request.due_on.month}月{subject_request.due_on.day}日",
        }
        with override("zh-hans"):
            if overdue:
                title = _("个人信息请求已超过答复期限")
                body = _(
                    "%(place)s的一件个人信息%(kind)s请求（编号 %(number)d）应于%(due)s前答复，"
                    "现已超期，请尽快办理。"
                )
            else:
                title = _("个人信息请求即将到期")
                body = _(
                    "%(place)s的一件个人信息%(kind)s请求（编号 %(number)d）应于%(due)s前答复，请及时办理。"
                )
            body %= facts
        # The county's administrators holding the role today answer for its requests; asked once a county.
        county = subject_request.minor.region_id[:6].ljust(12, "0")
        if county not in staff_by_county:
            staff_by_county[county] = list(county_admins(county, on=today))
        counts["notified"] += len(
            notify(
                users=staff_by_county[county],
                kind=Notification.Kind.REMINDER,
                title=title,
                body=body,
                link=reverse("rights:detail", args=[subject_request.pk]),
                topic=f"subject-request:{subject_request.pk}:{stage}",
                sms=False,
            )
        )
    return counts
