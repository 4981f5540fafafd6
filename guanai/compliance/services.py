"""Writes of the impact assessments and the personal-information incidents (个人信息保护法 art. 55–57).

Every write needs PRIVACY_MANAGE (the security administrator) and a record inside the actor's region
(else 404), validates with messages per field, and ends with one audit event that names the fields
written, never their values.

Assessments are not edited: a later assessment supersedes an earlier one and both are kept; one is
deleted only once its three years (art. 56) have passed. Incidents are never deleted. An incident goes
open → contained → closed; the steps between (the report to the authority, the notice to the people
affected or the recorded reason for not giving it, the authority requiring it after all) are recorded
with who did them and when. Two security administrators may work on one incident: every write locks the
row, and an edit of its facts carries the version it was based on.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guanai import audit
from guanai.compliance.models import ImpactAssessment, PrivacyIncident
from guanai.compliance.selectors import RECORD_LEVELS
from guanai.compliance.vocabulary import (
    ALL_DATA_CATEGORIES,
    ASSESSMENT_KEEP_YEARS,
    REASON_MIN_LENGTH,
    TEXT_MAX_LENGTH,
    AuthorityChannel,
    Conclusion,
    IncidentKind,
    IncidentStatus,
    IndividualsChannel,
    IndividualsDecision,
    LegalBasis,
    ProcessingKind,
)
from guanai.core.access import Actor, Permission
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.regions.models import Region

Errors = dict[str, list[str]]


def _require_manager(actor: Actor) -> None:
    if actor.user is None or not actor.has(Permission.PRIVACY_MANAGE):
        raise PermissionDeniedError()


def _fail_if(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _required_text(errors: Errors, name: str, value: str, *, max_length: int = TEXT_MAX_LENGTH) -> str:
    value = (value or "").strip()
    if not value:
        _add(errors, name, _("此项为必填项"))
    elif len(value) > max_length:
        _add(errors, name, _("不能超过%(count)d个字") % {"count": max_length})
    return value


def _optional_text(errors: Errors, name: str, value: str, *, max_length: int = TEXT_MAX_LENGTH) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        _add(errors, name, _("不能超过%(count)d个字") % {"count": max_length})
    return value


def _choice(errors: Errors, name: str, value: str, values: list[str]) -> None:
    if value not in values:
        _add(errors, name, _("请从列表中选择"))


def _region(errors: Errors, actor: Actor, region_code: str) -> None:
    """The record's region is one of `record_region_choices`: the actor's region or a city or county in it."""
    is_record_region = (
        actor.region_code is not None
        and Region.objects.within(actor.region_code)
        .filter(code=region_code, level__in=RECORD_LEVELS)
        .exists()
    )
    if not is_record_region:
        _add(errors, "region_code", _("请选择您辖区内的省、市或县级区划"))


def _local(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "Y年n月j日 H:i")


def keep_until_for(assessed_on: datetime.date) -> datetime.date:
    """Three years after the assessment (art. 56: kept at least three years); an assessment of 29
    February is kept until 1 March, so never less than three years."""
    year = assessed_on.year + ASSESSMENT_KEEP_YEARS
    try:
        return assessed_on.replace(year=year)
    except ValueError:
        return datetime.date(year, 3, 1)


# --- Impact assessments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentInput:
    region_code: str
    title: str
    processing_kind: str
    processing_description: str
    purpose: str
    legal_basis: str
    data_categories: str
    involves_sensitive_data: bool
    involves_children_under_14: bool
    risks: str
    measures: str
    conclusion: str
    assessors: str
    assessed_on: datetime.date
    conclusion_note: str = ""
    supersedes_id: int | None = None


def _superseded(actor: Actor, data: AssessmentInput, errors: Errors) -> ImpactAssessment | None:
    """The earlier assessment the new one replaces, locked so that it gets one successor only."""
    if data.supersedes_id is None:
        return None
    earlier = (
        ImpactAssessment.objects.visible_to(actor).select_for_update().filter(pk=data.supersedes_id).first()
    )
    if earlier is None:
        raise NotFoundError(fields={"supersedes_id": [_("要替代的评估不存在，或不在您的管辖范围内")]})
    if ImpactAssessment.objects.filter(supersedes=earlier).exists():
        _add(errors, "supersedes_id", _("该评估已被另一份评估替代"))
    if earlier.region_id != data.region_code:
        _add(errors, "supersedes_id", _("替代的评估须属于同一区划"))
    if data.assessed_on < earlier.assessed_on:
        _add(errors, "assessed_on", _("替代评估的日期不能早于原评估的日期"))
    return earlier


@transaction.atomic
def assessment_create(
    *,
    actor: Actor,
    data: AssessmentInput,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> ImpactAssessment:
    """Record an impact assessment (art. 55), kept three years from its date (art. 56); with
    `supersedes_id`, it replaces an earlier assessment of the same region, which is kept too."""
    _require_manager(actor)
    today = today or timezone.localdate()
    errors: Errors = {}
    _region(errors, actor, data.region_code)
    title = _required_text(errors, "title", data.title, max_length=100)
    assessors = _required_text(errors, "assessors", data.assessors, max_length=200)
    texts = {
        name: _required_text(errors, name, getattr(data, name))
        for name in ("processing_description", "purpose", "data_categories", "risks", "measures")
    }
    conclusion_note = _optional_text(errors, "conclusion_note", data.conclusion_note)
    _choice(errors, "processing_kind", data.processing_kind, ProcessingKind.values)
    _choice(errors, "legal_basis", data.legal_basis, LegalBasis.values)
    _choice(errors, "conclusion", data.conclusion, Conclusion.values)
    if data.assessed_on > today:
        _add(errors, "assessed_on", _("评估日期不能晚于今天"))
    if data.involves_children_under_14 and not data.involves_sensitive_data:
        _add(
            errors,
            "involves_sensitive_data",
            _("不满十四周岁未成年人的个人信息属于敏感个人信息，请同时勾选“涉及敏感个人信息”"),
        )
    if data.conclusion in {Conclusion.CONDITIONAL, Conclusion.REJECTED} and not conclusion_note:
        _add(errors, "conclusion_note", _("请说明须落实的条件或不得开展的理由"))
    earlier = _superseded(actor, data, errors)
    _fail_if(errors)
    assert actor.user is not None
    assessment = ImpactAssessment(
        region_id=data.region_code,
        title=title,
        processing_kind=data.processing_kind,
        legal_basis=data.legal_basis,
        involves_sensitive_data=data.involves_sensitive_data,
        involves_children_under_14=data.involves_children_under_14,
        conclusion=data.conclusion,
        conclusion_note=conclusion_note,
        assessors=assessors,
        assessed_on=data.assessed_on,
        keep_until=keep_until_for(data.assessed_on),
        supersedes=earlier,
        recorded_by=actor.user,
        **texts,
    )
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError as error:  # another assessment superseded the same one meanwhile
        raise ConflictError(fields={"supersedes_id": [_("该评估已被另一份评估替代")]}) from error
    audit.record(
        actor=actor,
        action="assessment.create",
        target=assessment,
        changes=[f.name for f in fields(AssessmentInput) if f.name != "supersedes_id" or earlier],
        detail={"supersedes": earlier.pk} if earlier is not None else None,
        request=request,
    )
    return assessment


@transaction.atomic
def assessment_delete(
    *,
    actor: Actor,
    assessment_id: int,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> None:
    """Delete an assessment whose keeping time has passed; before `keep_until` it is refused (art. 56)."""
    _require_manager(actor)
    assessment = (
        ImpactAssessment.objects.visible_to(actor).select_for_update().filter(pk=assessment_id).first()
    )
    if assessment is None:
        raise NotFoundError()
    day = today or timezone.localdate()
    if assessment.is_kept_on(day):
        raise ConflictError(
            _("评估报告至少保存三年：本评估须保存至%(date)s，此前不能删除")
            % {"date": date_format(assessment.keep_until, "Y年n月j日")}
        )
    audit.record(actor=actor, action="assessment.delete", target=assessment, request=request)
    assessment.delete()


# --- Incidents ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentInput:
    region_code: str
    kind: str
    discovered_at: datetime.datetime
    description: str
    data_categories: list[int] = field(default_factory=list)
    affected_count: int = 0
    affected_minors_count: int = 0
    causes: str = ""
    remedial_measures: str = ""
    possible_harm: str = ""


# The facts of an incident an edit may change (its region stays where it was reported).
INCIDENT_FACTS = (
    "kind",
    "discovered_at",
    "description",
    "data_categories",
    "affected_count",
    "affected_minors_count",
    "causes",
    "remedial_measures",
    "possible_harm",
)


def report_due_at(discovered_at: datetime.datetime) -> datetime.datetime:
    """When the report to the authority falls due: GUANAI_INCIDENT_REPORT_HOURS after the discovery."""
    return discovered_at + datetime.timedelta(hours=settings.GUANAI_INCIDENT_REPORT_HOURS)


def _incident_values(data: IncidentInput, now: datetime.datetime, errors: Errors) -> dict[str, object]:
    _choice(errors, "kind", data.kind, IncidentKind.values)
    if data.discovered_at > now:
        _add(errors, "discovered_at", _("发现时间不能晚于现在"))
    categories = sum(set(data.data_categories))
    if not data.data_categories:
        _add(errors, "data_categories", _("请至少选择一种涉及的个人信息"))
    elif categories & ~ALL_DATA_CATEGORIES:
        _add(errors, "data_categories", _("请从列表中选择"))
    if data.affected_count < 0:
        _add(errors, "affected_count", _("人数不能为负数"))
    if data.affected_minors_count < 0:
        _add(errors, "affected_minors_count", _("人数不能为负数"))
    elif data.affected_minors_count > data.affected_count:
        _add(errors, "affected_minors_count", _("未成年人人数不能超过涉及总人数"))
    return {
        "kind": data.kind,
        "discovered_at": data.discovered_at,
        "description": _required_text(errors, "description", data.description),
        "data_categories": categories,
        "affected_count": data.affected_count,
        "affected_minors_count": data.affected_minors_count,
        "causes": _optional_text(errors, "causes", data.causes),
        "remedial_measures": _optional_text(errors, "remedial_measures", data.remedial_measures),
        "possible_harm": _optional_text(errors, "possible_harm", data.possible_harm),
    }


def _counts(incident: PrivacyIncident) -> dict[str, object]:
    """What an incident's audit event may say: its kind and counts, never what happened."""
    return {
        "kind": incident.kind,
        "affected_count": incident.affected_count,
        "affected_minors_count": incident.affected_minors_count,
    }


@transaction.atomic
def incident_report(
    *,
    actor: Actor,
    data: IncidentInput,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Record a personal-information incident (art. 57); the clock for its report to the authority runs
    from its discovery."""
    _require_manager(actor)
    now = now or timezone.now()
    errors: Errors = {}
    _region(errors, actor, data.region_code)
    values = _incident_values(data, now, errors)
    _fail_if(errors)
    assert actor.user is not None
    incident = PrivacyIncident.objects.create(
        region_id=data.region_code,
        report_due_at=report_due_at(data.discovered_at),
        reported_at=now,
        reported_by=actor.user,
        **values,
    )
    audit.record(
        actor=actor,
        action="incident.report",
        target=incident,
        changes=[name for name in INCIDENT_FACTS if values[name] not in ("", 0)],
        detail=_counts(incident),
        request=request,
    )
    return incident


def _locked_incident(actor: Actor, incident_id: int) -> PrivacyIncident:
    """The incident, locked for a write; a closed one is not written any more."""
    _require_manager(actor)
    incident = PrivacyIncident.objects.visible_to(actor).select_for_update().filter(pk=incident_id).first()
    if incident is None:
        raise NotFoundError()
    if incident.is_closed:
        raise ConflictError(_("该事件已结案，不能再修改"))
    return incident


def _save_step(incident: PrivacyIncident, names: list[str]) -> None:
    incident.version += 1
    incident.save(update_fields=[*names, "version", "updated_at"])


@transaction.atomic
def incident_update(
    *,
    actor: Actor,
    incident_id: int,
    version: int,
    data: IncidentInput,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Correct or complete the facts of an incident not yet closed; `version` is the one the edit was
    based on, and a change made meanwhile by someone else is a conflict (nothing is overwritten).

    The reporting time stays as it was set when the incident was reported (a later change of
    GUANAI_INCIDENT_REPORT_HOURS does not move it); only a corrected discovery time moves it."""
    incident = _locked_incident(actor, incident_id)
    if incident.version != version:
        raise ConflictError()
    errors: Errors = {}
    values = _incident_values(data, now or timezone.now(), errors)
    if incident.authority_notified_at is not None and data.discovered_at > incident.authority_notified_at:
        _add(errors, "discovered_at", _("发现时间不能晚于向主管部门报告的时间"))
    _fail_if(errors)
    changed = [name for name in INCIDENT_FACTS if getattr(incident, name) != values[name]]
    if not changed:
        return incident
    if "discovered_at" in changed:
        values["report_due_at"] = report_due_at(data.discovered_at)
        changed.append("report_due_at")
    for name, value in values.items():
        setattr(incident, name, value)
    _save_step(incident, [*values])
    audit.record(
        actor=actor,
        action="incident.update",
        target=incident,
        changes=changed,
        detail=_counts(incident),
        request=request,
    )
    return incident


def _moment(
    errors: Errors, name: str, moment: datetime.datetime, incident: PrivacyIncident, now: datetime.datetime
) -> None:
    if moment > now:
        _add(errors, name, _("时间不能晚于现在"))
    elif moment < incident.discovered_at:
        _add(
            errors,
            name,
            _("时间不能早于事件的发现时间（%(time)s）") % {"time": _local(incident.discovered_at)},
        )


@transaction.atomic
def incident_notify_authority(
    *,
    actor: Actor,
    incident_id: int,
    notified_at: datetime.datetime,
    channel: str,
    authority_name: str,
    reference: str = "",
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Record the report to the 网信 authority or the competent department: when, how, to whom and its
    reference. It stops the clock."""
    incident = _locked_incident(actor, incident_id)
    if incident.authority_notified_at is not None:
        raise ConflictError(_("已记录向主管部门报告"))
    errors: Errors = {}
    _moment(errors, "notified_at", notified_at, incident, now or timezone.now())
    _choice(errors, "channel", channel, AuthorityChannel.values)
    authority_name = _required_text(errors, "authority_name", authority_name, max_length=100)
    reference = _optional_text(errors, "reference", reference, max_length=60)
    _fail_if(errors)
    incident.authority_notified_at = notified_at
    incident.authority_channel = channel
    incident.authority_name = authority_name
    incident.authority_reference = reference
    incident.authority_notified_by = actor.user
    _save_step(
        incident,
        [
            "authority_notified_at",
            "authority_channel",
            "authority_name",
            "authority_reference",
            "authority_notified_by",
        ],
    )
    audit.record(
        actor=actor,
        action="incident.authority_notified",
        target=incident,
        changes=["authority_notified_at", "authority_channel", "authority_name", "authority_reference"],
        detail={"late": notified_at > incident.report_due_at},
        request=request,
    )
    return incident


@transaction.atomic
def incident_notify_individuals(
    *,
    actor: Actor,
    incident_id: int,
    notified_at: datetime.datetime,
    channel: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Record the notice to the people affected or their guardians: when, how and who recorded it. Also
    after a decision not to notify (the authority may require it, or the decision is revisited): that
    decision's reason, who made it and when stay."""
    incident = _locked_incident(actor, incident_id)
    if incident.individuals_decision == IndividualsDecision.NOTIFIED:
        raise ConflictError(_("已记录通知个人或其监护人"))
    now = now or timezone.now()
    errors: Errors = {}
    _moment(errors, "notified_at", notified_at, incident, now)
    _choice(errors, "channel", channel, IndividualsChannel.values)
    _fail_if(errors)
    names = [
        "individuals_decision",
        "individuals_notified_at",
        "individuals_channel",
        "individuals_notified_by",
    ]
    if incident.individuals_decision == IndividualsDecision.PENDING:
        # Notifying is itself the decision; a decision not to notify made before keeps its who and when.
        incident.individuals_decided_at = now
        incident.individuals_decided_by = actor.user
        names += ["individuals_decided_at", "individuals_decided_by"]
    incident.individuals_decision = IndividualsDecision.NOTIFIED
    incident.individuals_notified_at = notified_at
    incident.individuals_channel = channel
    incident.individuals_notified_by = actor.user
    _save_step(incident, names)
    audit.record(
        actor=actor,
        action="incident.individuals_notified",
        target=incident,
        changes=["individuals_decision", "individuals_notified_at", "individuals_channel"],
        request=request,
    )
    return incident


@transaction.atomic
def incident_decide_not_to_notify(
    *,
    actor: Actor,
    incident_id: int,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Record the decision not to notify the people affected (art. 57 para 2): allowed only once remedial
    measures are recorded, with a reason saying how they avoid the harm."""
    incident = _locked_incident(actor, incident_id)
    if incident.individuals_decision != IndividualsDecision.PENDING:
        raise ConflictError(_("已就是否通知个人作出记录"))
    errors: Errors = {}
    reason = _required_text(errors, "reason", reason)
    if reason and len(reason) < REASON_MIN_LENGTH:
        _add(
            errors,
            "reason",
            _("请具体说明所采取的措施如何有效避免危害（至少%(count)d个字）") % {"count": REASON_MIN_LENGTH},
        )
    if not incident.remedial_measures:
        _add(errors, "reason", _("须先记录已采取的补救措施：只有措施能够有效避免危害时才可以不通知个人"))
    _fail_if(errors)
    incident.individuals_decision = IndividualsDecision.NOT_NOTIFIED
    incident.individuals_not_notified_reason = reason
    incident.individuals_decided_at = now or timezone.now()
    incident.individuals_decided_by = actor.user
    _save_step(
        incident,
        [
            "individuals_decision",
            "individuals_not_notified_reason",
            "individuals_decided_at",
            "individuals_decided_by",
        ],
    )
    audit.record(
        actor=actor,
        action="incident.individuals_not_notified",
        target=incident,
        changes=["individuals_decision", "individuals_not_notified_reason"],
        request=request,
    )
    return incident


@transaction.atomic
def incident_require_notice(
    *,
    actor: Actor,
    incident_id: int,
    required_at: datetime.datetime,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Record that the authority, finding that harm may follow, requires the notice decided against
    (art. 57 para 2): the incident then cannot be closed until the people are notified."""
    incident = _locked_incident(actor, incident_id)
    if incident.individuals_decision != IndividualsDecision.NOT_NOTIFIED or incident.notice_required_at:
        raise ConflictError(_("只有在决定不通知个人之后，才能记录主管部门要求通知"))
    errors: Errors = {}
    _moment(errors, "required_at", required_at, incident, now or timezone.now())
    _fail_if(errors)
    incident.notice_required_at = required_at
    incident.notice_required_by = actor.user
    _save_step(incident, ["notice_required_at", "notice_required_by"])
    audit.record(
        actor=actor,
        action="incident.notice_required",
        target=incident,
        changes=["notice_required_at"],
        request=request,
    )
    return incident


@transaction.atomic
def incident_contain(
    *,
    actor: Actor,
    incident_id: int,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Open → contained: the remedial measures have stopped the incident."""
    incident = _locked_incident(actor, incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise ConflictError(_("只有处置中的事件可以标记为已控制"))
    if not incident.remedial_measures:
        raise ValidationFailed(fields={"remedial_measures": [_("请先记录已采取的补救措施")]})
    incident.status = IncidentStatus.CONTAINED
    incident.contained_at = now or timezone.now()
    incident.contained_by = actor.user
    _save_step(incident, ["status", "contained_at", "contained_by"])
    audit.record(actor=actor, action="incident.contain", target=incident, changes=["status"], request=request)
    return incident


@transaction.atomic
def incident_close(
    *,
    actor: Actor,
    incident_id: int,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> PrivacyIncident:
    """Contained → closed, once the authority has been told and the people affected have been notified
    (or not, with a recorded reason the authority has not overruled)."""
    incident = _locked_incident(actor, incident_id)
    if incident.status != IncidentStatus.CONTAINED:
        raise ConflictError(_("只有已控制的事件可以结案"))
    missing: list[str] = []
    if incident.authority_notified_at is None:
        missing.append(_("尚未记录向主管部门报告"))
    if incident.individuals_decision == IndividualsDecision.PENDING:
        missing.append(_("尚未记录是否通知个人或其监护人"))
    elif (
        incident.notice_required_at is not None
        and incident.individuals_decision != IndividualsDecision.NOTIFIED
    ):
        missing.append(_("主管部门已要求通知个人，尚未记录通知"))
    if missing:
        raise ValidationFailed(
            _("不能结案：%(reasons)s") % {"reasons": "；".join(missing)}, fields={"status": missing}
        )
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now or timezone.now()
    incident.closed_by = actor.user
    _save_step(incident, ["status", "closed_at", "closed_by"])
    audit.record(actor=actor, action="incident.close", target=incident, changes=["status"], request=request)
    return incident
