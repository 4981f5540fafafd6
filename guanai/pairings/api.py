"""The pairings' API (结对关爱): proposals for a region and their acceptance, suggestions for one child,
pairings and their lifecycle, declared conflicts of interest.

Mounted at the API root: the paths are full (/pairings/…, /minors/{id}/volunteer-suggestions). Thin:
parse, call one selector or service, shape the answer. Children's names are masked for roles that may
not unmask (as in the registry's API); sealed records are never reached.
"""

import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Status

from guanai.core.access import Actor, Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema
from guanai.minors import display
from guanai.minors.models import Minor
from guanai.pairings.matching import Proposal
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.selectors import (
    PairingFilters,
    UnassignedChild,
    pairing_get,
    pairing_list,
    pairings_by_ids,
    proposal_run_get,
    proposal_run_pairs,
    proposal_run_unassigned,
)
from guanai.pairings.services import (
    Suggestion,
    conflict_declare,
    pairing_activate,
    pairing_close,
    pairing_create,
    proposal_accept,
    proposal_run_create,
    suggestions_for_minor,
)
from guanai.pairings.vocabulary import CloseReason, PairingState
from guanai.volunteers.models import Volunteer

router = Router(tags=["pairings"])

StateValue = Literal["proposed", "active", "closed"]
CloseReasonValue = Literal[
    "aged_out", "moved_away", "goal_reached", "volunteer_unable", "consent_withdrawn", "safety", "other"
]


class MinorRef(Schema):
    id: int
    name: str = Field(..., description="无查看原文权限的角色看到的是脱敏姓名")
    gender: str
    age: int
    region_code: str
    region_name: str
    risk_level: str


class VolunteerRef(Schema):
    id: int
    name: str
    gender: str
    region_code: str
    region_name: str
    paired_count: int = Field(..., description="未解除的结对数（拟结对与结对中）")
    max_children: int


class PairingOut(Schema):
    id: int
    state: StateValue
    state_label: str
    minor: MinorRef
    volunteer: VolunteerRef
    explanation: list[str] = Field(..., description="匹配说明：距离、专长、性别、负荷")
    proposed_pair_id: int | None
    started_on: datetime.date | None
    closed_on: datetime.date | None
    close_reason: str
    close_reason_label: str
    close_note: str
    last_contact_on: datetime.date | None
    next_contact_due: datetime.date | None
    created_at: datetime.datetime
    version: int


class PairingPageOut(Schema):
    count: int
    items: list[PairingOut]


class PairingFilter(Schema):
    region: str | None = Field(None, description="辖区内的区划代码（2、4、6、9 或 12 位）")
    state: StateValue | None = None
    volunteer: int | None = Field(None, description="志愿者编号")
    minor: int | None = Field(None, description="儿童编号")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PairingIn(Schema):
    minor_id: int
    volunteer_id: int
    activate: bool = Field(True, description="立即开始结对（结对中）；否则为拟结对，之后再开始")


class CloseIn(Schema):
    reason: CloseReasonValue
    note: str = Field("", max_length=300, description="原因为“其他”时必填")


class SuggestionOut(Schema):
    volunteer: VolunteerRef
    cost: int
    distance_km: float | None = Field(..., description="双方都有坐标时的直线距离（公里）")
    load: int = Field(..., description="志愿者当前结对数")
    is_former_volunteer: bool
    explanation: list[str]


class CloseOut(Schema):
    pairing: PairingOut
    rematch: list[SuggestionOut] = Field(
        ..., description="重新匹配建议：原因为志愿者无法继续、安全顾虑或其他时给出，不含原志愿者"
    )


class MinorSuggestionsOut(Schema):
    minor: MinorRef
    has_pairing_consent: bool
    open_pairing_id: int | None
    suggestions: list[SuggestionOut]


class ProposalsIn(Schema):
    region: str = Field(..., description="市、县（市、区）或乡镇（街道）的区划代码；市级可跨县匹配")


class SummaryOut(Schema):
    children: int
    volunteers: int
    proposed: int
    unassigned: int
    total_cost: int
    seconds: float


class ProposedPairOut(Schema):
    id: int
    minor: MinorRef
    volunteer: VolunteerRef
    cost: int
    distance_km: float | None
    explanation: list[str]
    accepted_at: datetime.datetime | None
    pairing_id: int | None


class UnassignedOut(Schema):
    minor: MinorRef
    reason: str
    reason_label: str


class ProposalRunOut(Schema):
    id: int
    region_code: str
    region_name: str
    created_at: datetime.datetime
    summary: SummaryOut
    proposals: list[ProposedPairOut]
    unassigned: list[UnassignedOut]


class AcceptIn(Schema):
    pair_ids: list[int] | None = Field(None, description="要采纳的建议编号；省略则采纳全部尚未采纳的建议")
    activate: bool = Field(True, description="立即开始结对（须有同意记录，采纳时已复核）")


class RefusedOut(Schema):
    pair_id: int
    minor_id: int
    volunteer_id: int
    reasons: list[str]


class AcceptOut(Schema):
    accepted: list[PairingOut]
    refused: list[RefusedOut] = Field(..., description="采纳时复核不再符合规则的建议，附原因")


class ConflictIn(Schema):
    minor_id: int
    volunteer_id: int
    reason: str = Field(..., min_length=1, max_length=200)


class ConflictOut(Schema):
    id: int
    minor_id: int
    volunteer_id: int
    reason: str
    declared_at: datetime.datetime


# --- Shaping -------------------------------------------------------------------------------------------


def _minor(minor: Minor, actor: Actor) -> MinorRef:
    return MinorRef(
        id=minor.pk,
        name=display.shown_name(minor, actor),
        gender=minor.gender,
        age=display.age(minor),
        region_code=minor.region_id,
        region_name=minor.region.name,
        risk_level=minor.risk_level,
    )


def _volunteer(volunteer: Volunteer) -> VolunteerRef:
    return VolunteerRef(
        id=volunteer.pk,
        name=volunteer.name,
        gender=volunteer.gender,
        region_code=volunteer.region_id,
        region_name=volunteer.region.name,
        paired_count=volunteer.paired_count,
        max_children=volunteer.max_children,
    )


def _pairing(pairing: Pairing, actor: Actor) -> PairingOut:
    return PairingOut(
        id=pairing.pk,
        state=pairing.state,  # type: ignore[arg-type]
        state_label=str(PairingState(pairing.state).label),
        minor=_minor(pairing.minor, actor),
        volunteer=_volunteer(pairing.volunteer),
        explanation=list(pairing.explanation),
        proposed_pair_id=pairing.proposed_pair_id,
        started_on=pairing.started_on,
        closed_on=pairing.closed_on,
        close_reason=pairing.close_reason,
        close_reason_label=str(CloseReason(pairing.close_reason).label) if pairing.close_reason else "",
        close_note=pairing.close_note,
        last_contact_on=pairing.last_contact_on,
        next_contact_due=pairing.next_contact_due,
        created_at=pairing.created_at,
        version=pairing.version,
    )


def _suggestion(proposal: Proposal, volunteer: Volunteer) -> SuggestionOut:
    return SuggestionOut(
        volunteer=_volunteer(volunteer),
        cost=proposal.cost,
        distance_km=proposal.distance_km,
        load=proposal.load,
        is_former_volunteer=proposal.is_former_volunteer,
        explanation=list(proposal.explanation),
    )


def _suggestions(suggestions: list[Suggestion]) -> list[SuggestionOut]:
    return [_suggestion(suggestion.proposal, suggestion.volunteer) for suggestion in suggestions]


def _proposed_pair(pair: ProposedPair, actor: Actor) -> ProposedPairOut:
    pairing = getattr(pair, "pairing", None)
    return ProposedPairOut(
        id=pair.pk,
        minor=_minor(pair.minor, actor),
        volunteer=_volunteer(pair.volunteer),
        cost=pair.cost,
        distance_km=pair.distance_km,
        explanation=list(pair.explanation),
        accepted_at=pair.accepted_at,
        pairing_id=pairing.pk if pairing is not None else None,
    )


def _unassigned(child: UnassignedChild, actor: Actor) -> UnassignedOut:
    return UnassignedOut(
        minor=_minor(child.minor, actor), reason=child.reason, reason_label=child.reason_label
    )


def _run(run: ProposalRun, actor: Actor) -> ProposalRunOut:
    return ProposalRunOut(
        id=run.pk,
        region_code=run.region_id,
        region_name=run.region.name,
        created_at=run.created_at,
        summary=SummaryOut(**run.summary),
        proposals=[_proposed_pair(pair, actor) for pair in proposal_run_pairs(actor=actor, run=run)],
        unassigned=[_unassigned(child, actor) for child in proposal_run_unassigned(actor=actor, run=run)],
    )


def _conflict(declaration: ConflictDeclaration) -> ConflictOut:
    return ConflictOut(
        id=declaration.pk,
        minor_id=declaration.minor_id,
        volunteer_id=declaration.volunteer_id,
        reason=declaration.reason,
        declared_at=declaration.declared_at,
    )


REFUSAL_DESCRIPTION = "违反结对规则时返回 409（code 为 pairing_refused），fields.__all__ 列出全部原因。"


# --- Proposals -----------------------------------------------------------------------------------------


@router.post(
    "/pairings/proposals",
    response=responses(ProposalRunOut, status=201),
    operation_id="pairings_proposals_create",
    summary="为一个市、县或乡镇生成结对建议",
    description=(
        "为辖区内的一个市、县（市、区）或乡镇（街道）运行匹配：未结对、在册、有结对关爱同意记录的儿童，"
        "与在岗、背景审查有效、有空余名额、无利益冲突的志愿者。每条建议附说明（距离、专长、负荷）。"
        "只生成建议，不建立结对；特殊青少年（封存记录）不在其中。"
    ),
)
@requires(Permission.PAIRING_MANAGE)
def pairings_proposals_create(request: HttpRequest, payload: ProposalsIn) -> Status[ProposalRunOut]:
    actor = request_actor(request)
    run = proposal_run_create(actor=actor, region_code=payload.region, request=request)
    return Status(201, _run(proposal_run_get(actor=actor, run_id=run.pk), actor))


@router.get(
    "/pairings/proposals/{int:run_id}",
    response=responses(ProposalRunOut),
    operation_id="pairings_proposals_get",
    summary="一次结对建议的预览",
)
@requires(Permission.PAIRING_VIEW)
def pairings_proposals_get(request: HttpRequest, run_id: int) -> ProposalRunOut:
    actor = request_actor(request)
    return _run(proposal_run_get(actor=actor, run_id=run_id), actor)


@router.post(
    "/pairings/proposals/{int:run_id}/accept",
    response=responses(AcceptOut),
    operation_id="pairings_proposals_accept",
    summary="采纳结对建议（全部或部分）",
    description=(
        "为所选建议建立结对。每一对都在采纳时重新核对规则（同意记录、背景审查、名额、状态、利益冲突）；"
        "不再符合的被拒绝并附原因，其余照常建立。"
    ),
)
@requires(Permission.PAIRING_MANAGE)
def pairings_proposals_accept(
    request: HttpRequest, run_id: int, payload: AcceptIn | None = None
) -> AcceptOut:
    actor = request_actor(request)
    body = payload or AcceptIn.model_validate({})
    acceptance = proposal_accept(
        actor=actor, run_id=run_id, pair_ids=body.pair_ids, activate=body.activate, request=request
    )
    accepted = pairings_by_ids(actor=actor, ids=[pairing.pk for pairing in acceptance.accepted])
    return AcceptOut(
        accepted=[_pairing(pairing, actor) for pairing in accepted],
        refused=[
            RefusedOut(
                pair_id=refusal.proposed_pair.pk,
                minor_id=refusal.proposed_pair.minor_id,
                volunteer_id=refusal.proposed_pair.volunteer_id,
                reasons=refusal.reasons,
            )
            for refusal in acceptance.refused
        ],
    )


@router.get(
    "/minors/{int:minor_id}/volunteer-suggestions",
    response=responses(MinorSuggestionsOut),
    operation_id="pairings_minor_suggestions",
    summary="为一名儿童推荐志愿者（前 5 名）",
    description="没有结对关爱同意记录的儿童不推荐任何志愿者。",
)
@requires(Permission.PAIRING_VIEW)
def pairings_minor_suggestions(request: HttpRequest, minor_id: int) -> MinorSuggestionsOut:
    actor = request_actor(request)
    found = suggestions_for_minor(actor=actor, minor_id=minor_id)
    return MinorSuggestionsOut(
        minor=_minor(found.minor, actor),
        has_pairing_consent=found.has_pairing_consent,
        open_pairing_id=found.open_pairing.pk if found.open_pairing is not None else None,
        suggestions=_suggestions(found.suggestions),
    )


# --- Pairings ------------------------------------------------------------------------------------------


@router.get(
    "/pairings/", response=responses(PairingPageOut), operation_id="pairings_list", summary="结对关爱列表"
)
@requires(Permission.PAIRING_VIEW)
def pairings_list(request: HttpRequest, filters: Query[PairingFilter]) -> PairingPageOut:
    actor = request_actor(request)
    pairings = pairing_list(
        actor=actor,
        filters=PairingFilters(
            region=filters.region, state=filters.state, volunteer=filters.volunteer, minor=filters.minor
        ),
    )
    page = pairings[filters.offset : filters.offset + filters.limit]
    return PairingPageOut(count=pairings.count(), items=[_pairing(pairing, actor) for pairing in page])


@router.post(
    "/pairings/",
    response=responses(PairingOut, status=201),
    operation_id="pairings_create",
    summary="手工建立结对",
    description="与结对建议同样的规则。" + REFUSAL_DESCRIPTION,
)
@requires(Permission.PAIRING_MANAGE)
def pairings_create(request: HttpRequest, payload: PairingIn) -> Status[PairingOut]:
    actor = request_actor(request)
    pairing = pairing_create(
        actor=actor,
        minor_id=payload.minor_id,
        volunteer_id=payload.volunteer_id,
        activate=payload.activate,
        request=request,
    )
    return Status(201, _pairing(pairing_get(actor=actor, pairing_id=pairing.pk), actor))


@router.get(
    "/pairings/{int:pairing_id}",
    response=responses(PairingOut),
    operation_id="pairings_get",
    summary="结对详情",
)
@requires(Permission.PAIRING_VIEW)
def pairings_get(request: HttpRequest, pairing_id: int) -> PairingOut:
    actor = request_actor(request)
    return _pairing(pairing_get(actor=actor, pairing_id=pairing_id), actor)


@router.post(
    "/pairings/{int:pairing_id}/activate",
    response=responses(PairingOut),
    operation_id="pairings_activate",
    summary="开始结对（拟结对 → 结对中）",
    description="须有监护人对结对关爱的同意记录，志愿者仍须符合条件。" + REFUSAL_DESCRIPTION,
)
@requires(Permission.PAIRING_MANAGE)
def pairings_activate(request: HttpRequest, pairing_id: int) -> PairingOut:
    actor = request_actor(request)
    pairing_activate(actor=actor, pairing_id=pairing_id, request=request)
    return _pairing(pairing_get(actor=actor, pairing_id=pairing_id), actor)


@router.post(
    "/pairings/{int:pairing_id}/close",
    response=responses(CloseOut),
    operation_id="pairings_close",
    summary="解除结对",
    description=(
        "原因：aged_out 已满18周岁、moved_away 迁出、goal_reached 目标达成、volunteer_unable 志愿者无法继续、"
        "consent_withdrawn 监护人撤回同意、safety 安全顾虑、other 其他（须填写说明）。"
        "志愿者无法继续、安全顾虑、其他：同时返回重新匹配建议。"
    ),
)
@requires(Permission.PAIRING_MANAGE)
def pairings_close(request: HttpRequest, pairing_id: int, payload: CloseIn) -> CloseOut:
    actor = request_actor(request)
    closure = pairing_close(
        actor=actor, pairing_id=pairing_id, reason=payload.reason, note=payload.note, request=request
    )
    return CloseOut(
        pairing=_pairing(pairing_get(actor=actor, pairing_id=pairing_id), actor),
        rematch=_suggestions(closure.rematch),
    )


@router.post(
    "/pairings/conflicts",
    response=responses(ConflictOut, status=201),
    operation_id="pairings_conflict_declare",
    summary="申报利益冲突",
    description="申报后，该志愿者与该儿童不再被建议、采纳或手工结对。二人有未解除的结对时返回 409。",
)
@requires(Permission.PAIRING_MANAGE)
def pairings_conflict_declare(request: HttpRequest, payload: ConflictIn) -> Status[ConflictOut]:
    declaration = conflict_declare(
        actor=request_actor(request),
        minor_id=payload.minor_id,
        volunteer_id=payload.volunteer_id,
        reason=payload.reason,
        request=request,
    )
    return Status(201, _conflict(declaration))
