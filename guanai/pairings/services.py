"""Writes to the pairings (结对关爱): proposal runs, accepting proposals, manual pairing, starting and
closing a pairing with a rematch suggestion, and declared conflicts of interest.

Every write checks the actor's permission and region here and ends with an audit event. The hard rules
(DOMAIN.md §4, §7) are checked again on every write, whatever a proposal said when it was made — consents
are withdrawn, checks expire and places fill between a run and its acceptance:

- the child is in the registry (在册, not sealed) and has no open pairing (the database also holds one
  open pairing per child: `pairing_one_open_per_minor`);
- the child's guardian consented to pairing (结对关爱 consent on record, 个人信息保护法 art.31);
- the volunteer may take a child (`guanai.volunteers.services.pairing_refusals`: 在岗, a clear check of
  less than a year, a free place);
- no declared conflict between them, and no earlier pairing of theirs closed over a safety concern;
- a special youth (特殊青少年) only with a member of a mentoring team — sealed records never reach these
  services (the registry does not list them), the rule is kept for safety;
- both in the same city (a county's staff see only their county; a city's may pair across counties).

**States.** A pairing is created 拟结对 and, when `activate` (the default), started at once in the same
transaction: consent being a hard rule of creation, an accepted proposal is a pairing ready to begin, and
the volunteer can record the first visit. Staff who want the volunteer to meet the family first create it
with `activate=False`; `pairing_activate` later checks the consent and the volunteer again (拟结对 →
结对中 only with consent on record).

**Places.** `Volunteer.paired_count` counts the volunteer's *open* pairings, 拟结对 and 结对中 alike,
so that a volunteer with a place left is not proposed, accepted or created twice over it; it is raised
(F()) when a pairing is created and lowered when it is closed, under a lock on the volunteer's row.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai import audit
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from guanai.minors.models import Minor
from guanai.minors.vocabulary import Category, ConsentScope, Status
from guanai.pairings.contact import next_due
from guanai.pairings.matching import MatchResult, Proposal, propose, suggest_for_child
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.selectors import (
    EXCLUDING_REASONS,
    child_node,
    has_pairing_consent,
    mentoring_member_ids,
    proposal_region,
    region_nodes,
    suggestion_scope,
    volunteer_nodes,
)
from guanai.pairings.vocabulary import REMATCH_REASONS, CloseReason, PairingState
from guanai.regions.models import Region
from guanai.volunteers.models import Volunteer
from guanai.volunteers.services import pairing_refusals
from guanai.volunteers.vocabulary import Status as VolunteerStatus

SUGGESTIONS = 5


class PairingRefused(DomainError):
    """A pair a hard rule forbids now; `reasons` says which, in words."""

    status = 409
    code = "pairing_refused"

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(
            _("不能结对：%(reasons)s") % {"reasons": "；".join(reasons)}, fields={"__all__": list(reasons)}
        )
        self.reasons = list(reasons)


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.has(permission):
        raise PermissionDeniedError()


# --- The hard rules of one pair ---------------------------------------------------------------------


def _is_mentoring_member(volunteer: Volunteer) -> bool:
    return volunteer.pk in mentoring_member_ids(Q(volunteer_id=volunteer.pk))


def pair_refusals(
    *, minor: Minor, volunteer: Volunteer, today: datetime.date, holds_place: bool = False
) -> list[str]:
    """Why `volunteer` may not be paired with `minor` now; empty when they may. `holds_place`: the pair
    already holds one of the volunteer's places (starting a 拟结对 pairing), so a full volunteer is not
    refused for it."""
    reasons: list[str] = []
    if minor.status != Status.ACTIVE:
        reasons.append(_("该儿童不在册（%(status)s）") % {"status": Status(minor.status).label})
    if minor.is_sealed:
        reasons.append(_("特殊青少年的帮教结对在帮教模块办理"))
    if not has_pairing_consent(minor):
        reasons.append(_("没有监护人对结对关爱的同意记录"))
    if not holds_place and Pairing.objects.exclude(state=PairingState.CLOSED).filter(minor=minor).exists():
        reasons.append(_("该儿童已有未解除的结对"))
    if ConflictDeclaration.objects.filter(minor=minor, volunteer=volunteer).exists():
        reasons.append(_("已申报该志愿者与该儿童存在利益冲突"))
    if Pairing.objects.filter(
        minor=minor, volunteer=volunteer, state=PairingState.CLOSED, close_reason__in=EXCLUDING_REASONS
    ).exists():
        reasons.append(_("该志愿者与该儿童的结对曾因安全顾虑解除"))
    if minor.categories & Category.SPECIAL and not _is_mentoring_member(volunteer):
        reasons.append(_("特殊青少年只能由帮教团成员结对"))
    if volunteer.region_id[:4] != minor.region_id[:4]:
        reasons.append(_("志愿者与儿童不在同一市"))
    if holds_place:
        # Its own place is already counted in paired_count: judge the volunteer as if it were free.
        volunteer = Volunteer(
            status=volunteer.status,
            check_date=volunteer.check_date,
            check_result=volunteer.check_result,
            max_children=volunteer.max_children,
            paired_count=max(volunteer.paired_count - 1, 0),
        )
    reasons += pairing_refusals(volunteer, today=today)
    return reasons


def _locked_minor(actor: Actor, minor_id: int) -> Minor | None:
    return Minor.objects.visible_to(actor).select_for_update().filter(pk=minor_id).first()


def _locked_volunteer(actor: Actor, volunteer_id: int) -> Volunteer | None:
    return Volunteer.objects.visible_to(actor).select_for_update().filter(pk=volunteer_id).first()


def _explanation(minor: Minor, volunteer: Volunteer, today: datetime.date) -> list[str]:
    """The engine's explanation of a pair made by hand (distance, fit, load), when it can price it."""
    nodes = volunteer_nodes(scope=Q(pk=volunteer.pk), today=today)
    proposals = suggest_for_child(
        child=child_node(minor=minor, today=today), volunteers=nodes, limit=1, allow_cross_county=True
    )
    return list(proposals[0].explanation) if proposals else []


def _start(pairing: Pairing, today: datetime.date) -> None:
    pairing.state = PairingState.ACTIVE
    pairing.started_on = today
    # The contact policy (monthly; fortnightly for a high-risk child) is the visits module's.
    pairing.next_contact_due = next_due(pairing, today)


def _create(
    *,
    actor: Actor,
    minor: Minor,
    volunteer: Volunteer,
    today: datetime.date,
    explanation: list[str],
    proposed_pair: ProposedPair | None,
    activate: bool,
) -> Pairing:
    """The pairing of a pair whose rules were checked, its place taken on the volunteer."""
    pairing = Pairing(
        minor=minor,
        volunteer=volunteer,
        state=PairingState.PROPOSED,
        proposed_pair=proposed_pair,
        explanation=explanation,
        created_by=actor.user,
    )
    if activate:
        _start(pairing, today)
    try:
        with transaction.atomic():  # a savepoint: the constraint's refusal leaves the transaction usable
            pairing.save()
    except IntegrityError as error:
        # Another open pairing of the child was committed meanwhile (pairing_one_open_per_minor).
        raise PairingRefused([_("该儿童已有未解除的结对")]) from error
    Volunteer.objects.filter(pk=volunteer.pk).update(paired_count=F("paired_count") + 1)
    return pairing


# --- Proposal runs --------------------------------------------------------------------------------


def _proposal_scope(actor: Actor, region_code: str) -> Region:
    code, _allow_cross_county = proposal_region(region_code)
    if actor.region_code is None or not region_codes.is_within(code, actor.region_code):
        raise NotFoundError()
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFoundError()
    return region


def proposals_compute(
    *, region_code: str, today: datetime.date | None = None, workers: int = 1
) -> MatchResult:
    """The engine's proposals for a city, county or township, as the system (no actor, nothing saved)."""
    nodes = region_nodes(region_code=region_code, today=today or timezone.localdate())
    return propose(
        children=nodes.children,
        volunteers=nodes.volunteers,
        allow_cross_county=nodes.allow_cross_county,
        workers=workers,
    )


def proposal_run_save(*, region: Region, result: MatchResult, created_by: Any = None) -> ProposalRun:
    """Keep a result for staff to preview and accept: the run, its proposals with their explanations,
    and the children left unassigned with the reason."""
    run = ProposalRun.objects.create(
        region=region,
        created_by=created_by,
        summary=result.summary(),
        unassigned={str(child_id): reason.value for child_id, reason in result.unassigned.items()},
    )
    ProposedPair.objects.bulk_create(
        [
            ProposedPair(
                run=run,
                minor_id=proposal.child_id,
                volunteer_id=proposal.volunteer_id,
                cost=proposal.cost,
                distance_km=proposal.distance_km,
                explanation=list(proposal.explanation),
            )
            for proposal in result.proposals
        ],
        batch_size=1000,
    )
    return run


def _summary_detail(result: MatchResult) -> dict[str, int]:
    """The run's counts for the audit trail (integers only: no personal value, no float)."""
    summary = result.summary()
    return {
        key: int(summary[key]) for key in ("children", "volunteers", "proposed", "unassigned", "total_cost")
    }


def proposal_run_create(*, actor: Actor, region_code: str, request: Any = None) -> ProposalRun:
    """Run the matching engine for a city, county or township inside the actor's region and keep the
    result. The region of another county answers 404, like a record one may not see.

    The engine runs outside the transaction (seconds for a county: no write lock held meanwhile); the
    run is saved in one. Nothing is paired yet: `proposal_accept` re-checks every pair."""
    _require(actor, Permission.PAIRING_MANAGE)
    region = _proposal_scope(actor, region_code)
    result = proposals_compute(region_code=region.code)
    with transaction.atomic():
        run = proposal_run_save(region=region, result=result, created_by=actor.user)
        audit.record(
            actor=actor,
            action="pairing.proposals",
            target=run,
            region_code=region.code,
            detail=_summary_detail(result),
            request=request,
        )
    return run


def proposals_as_system(
    *, region_code: str, save: bool = False, workers: int = 1
) -> tuple[MatchResult, ProposalRun | None]:
    """The `propose_pairings` command's proposals: any city, county or township, run as the system (no
    actor); kept as a run for staff to preview when `save`, with an audit event without an actor."""
    code, _allow_cross_county = proposal_region(region_code)
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFoundError(_("区划 %(code)s 不存在") % {"code": code})
    result = proposals_compute(region_code=code, workers=workers)
    if not save:
        return result, None
    with transaction.atomic():
        run = proposal_run_save(region=region, result=result)
        audit.record(
            actor=None,
            action="pairing.proposals",
            target=run,
            region_code=code,
            detail=_summary_detail(result),
        )
    return result, run


@dataclass(frozen=True)
class RefusedPair:
    proposed_pair: ProposedPair
    reasons: list[str]


@dataclass(frozen=True)
class Acceptance:
    accepted: list[Pairing]
    refused: list[RefusedPair]


@transaction.atomic
def proposal_accept(
    *,
    actor: Actor,
    run_id: int,
    pair_ids: Iterable[int] | None = None,
    activate: bool = True,
    request: Any = None,
) -> Acceptance:
    """Create the pairings of a run's proposals — `pair_ids`, or every one not yet accepted. Each pair's
    hard rules are checked again now; a pair that no longer holds is refused with the reasons and the
    others go ahead. One audit event per pairing created."""
    _require(actor, Permission.PAIRING_MANAGE)
    run = ProposalRun.objects.visible_to(actor).select_for_update().filter(pk=run_id).first()
    if run is None:
        raise NotFoundError()
    pairs = ProposedPair.objects.filter(run=run).order_by("id")
    if pair_ids is not None:
        wanted = set(pair_ids)
        pairs = pairs.filter(pk__in=wanted)
        found = {pair.pk for pair in pairs}
        if wanted - found:
            raise ValidationFailed(
                fields={
                    "pair_ids": [_("不属于该次结对建议的编号：%(ids)s") % {"ids": sorted(wanted - found)}]
                }
            )
    else:
        pairs = pairs.filter(accepted_at__isnull=True)
    today = timezone.localdate()
    accepted: list[Pairing] = []
    refused: list[RefusedPair] = []
    for pair in pairs:
        if pair.accepted_at is not None:
            refused.append(RefusedPair(pair, [_("该建议已采纳")]))
            continue
        minor = _locked_minor(actor, pair.minor_id)
        volunteer = _locked_volunteer(actor, pair.volunteer_id)
        if minor is None or volunteer is None:
            refused.append(RefusedPair(pair, [_("儿童或志愿者已不在您的管辖范围内")]))
            continue
        reasons = pair_refusals(minor=minor, volunteer=volunteer, today=today)
        if reasons:
            refused.append(RefusedPair(pair, reasons))
            continue
        try:
            pairing = _create(
                actor=actor,
                minor=minor,
                volunteer=volunteer,
                today=today,
                explanation=list(pair.explanation),
                proposed_pair=pair,
                activate=activate,
            )
        except PairingRefused as refusal:
            refused.append(RefusedPair(pair, refusal.reasons))
            continue
        pair.accepted_at = timezone.now()
        pair.save(update_fields=["accepted_at"])
        accepted.append(pairing)
        audit.record(
            actor=actor,
            action="pairing.accept",
            target=pairing,
            changes=["state", "minor", "volunteer"],
            detail={"run": run.pk, "proposed_pair": pair.pk, "state": pairing.state},
            request=request,
        )
    return Acceptance(accepted=accepted, refused=refused)


# --- One pairing ---------------------------------------------------------------------------------


@transaction.atomic
def pairing_create(
    *, actor: Actor, minor_id: int, volunteer_id: int, activate: bool = True, request: Any = None
) -> Pairing:
    """Pair a child with a volunteer by hand (from the child's page, or a rematch), under the same hard
    rules as a proposal. A child or a volunteer the actor may not see answers 404."""
    _require(actor, Permission.PAIRING_MANAGE)
    minor = _locked_minor(actor, minor_id)
    volunteer = _locked_volunteer(actor, volunteer_id)
    if minor is None or volunteer is None:
        raise NotFoundError()
    today = timezone.localdate()
    reasons = pair_refusals(minor=minor, volunteer=volunteer, today=today)
    if reasons:
        raise PairingRefused(reasons)
    pairing = _create(
        actor=actor,
        minor=minor,
        volunteer=volunteer,
        today=today,
        explanation=_explanation(minor, volunteer, today),
        proposed_pair=None,
        activate=activate,
    )
    audit.record(
        actor=actor,
        action="pairing.create",
        target=pairing,
        changes=["state", "minor", "volunteer"],
        detail={"state": pairing.state},
        request=request,
    )
    return pairing


def _locked_pairing(actor: Actor, pairing_id: int) -> Pairing:
    pairing = (
        Pairing.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("minor", "volunteer")
        .filter(pk=pairing_id)
        .first()
    )
    if pairing is None:
        raise NotFoundError()
    return pairing


@transaction.atomic
def pairing_activate(*, actor: Actor, pairing_id: int, request: Any = None) -> Pairing:
    """拟结对 → 结对中, only with the guardian's consent on record and the volunteer still eligible."""
    _require(actor, Permission.PAIRING_MANAGE)
    pairing = _locked_pairing(actor, pairing_id)
    if pairing.state != PairingState.PROPOSED:
        raise ConflictError(
            _("只有拟结对的结对可以开始（当前：%(state)s）") % {"state": pairing.get_state_display()}
        )
    volunteer = Volunteer.objects.select_for_update().get(pk=pairing.volunteer_id)
    today = timezone.localdate()
    reasons = pair_refusals(minor=pairing.minor, volunteer=volunteer, today=today, holds_place=True)
    if reasons:
        raise PairingRefused(reasons)
    _start(pairing, today)
    pairing.version += 1
    pairing.save(update_fields=["state", "started_on", "next_contact_due", "version", "updated_at"])
    audit.record(
        actor=actor,
        action="pairing.activate",
        target=pairing,
        changes=["state", "started_on", "next_contact_due"],
        request=request,
    )
    return pairing


@dataclass(frozen=True)
class Suggestion:
    """A volunteer suggested for a child (推荐), with the engine's explanation."""

    volunteer: Volunteer
    proposal: Proposal


@dataclass(frozen=True)
class Closure:
    pairing: Pairing
    rematch: list[Suggestion]  # for the reasons of REMATCH_REASONS; empty otherwise


@transaction.atomic
def pairing_close(
    *, actor: Actor, pairing_id: int, reason: str, note: str = "", request: Any = None
) -> Closure:
    """拟结对 or 结对中 → 已解除 with one of the seven reasons; the history is kept. After a reason that
    calls for it (志愿者无法继续, 安全顾虑, 其他) the child is offered other volunteers at once."""
    _require(actor, Permission.PAIRING_MANAGE)
    pairing = _locked_pairing(actor, pairing_id)  # first: another region's pairing is not found
    if reason not in CloseReason.values:
        raise ValidationFailed(fields={"reason": [_("请选择解除原因")]})
    note = note.strip()
    if reason == CloseReason.OTHER and not note:
        raise ValidationFailed(fields={"note": [_("原因为“其他”时请填写说明")]})
    if len(note) > 300:
        raise ValidationFailed(fields={"note": [_("说明不超过 300 个字")]})
    if pairing.state == PairingState.CLOSED:
        raise ConflictError(_("该结对已解除"))
    _close(pairing, reason=reason, note=note, day=timezone.localdate())
    audit.record(
        actor=actor,
        action="pairing.close",
        target=pairing,
        changes=["state", "close_reason", "close_note", "closed_on"],
        detail={"reason": reason},
        request=request,
    )
    rematch = rematch_suggestions(actor=actor, pairing=pairing) if reason in REMATCH_REASONS else []
    return Closure(pairing=pairing, rematch=rematch)


def _close(pairing: Pairing, *, reason: str, note: str, day: datetime.date) -> None:
    """Close a locked open pairing and free the volunteer's place."""
    Volunteer.objects.select_for_update().filter(pk=pairing.volunteer_id).first()
    pairing.state = PairingState.CLOSED
    pairing.close_reason = reason
    pairing.close_note = note
    pairing.closed_on = day
    pairing.version += 1
    pairing.save(update_fields=["state", "close_reason", "close_note", "closed_on", "version", "updated_at"])
    Volunteer.objects.filter(pk=pairing.volunteer_id, paired_count__gt=0).update(
        paired_count=F("paired_count") - 1
    )


LAPSE_BATCH = 500


def _lapse_reason(pairing: Pairing) -> tuple[str, str] | None:
    """Why an open pairing can no longer go on, or None: the child aged out or left the registry, the
    guardian withdrew the consent to pairing, or the volunteer withdrew or died (a suspension is not an
    end: the pairing waits)."""
    minor = pairing.minor
    if minor.status == Status.AGED_OUT:
        return CloseReason.AGED_OUT, ""
    if minor.status != Status.ACTIVE:
        return CloseReason.OTHER, str(_("儿童档案已结案"))
    if not any(consent.covers(ConsentScope.PAIRING) for consent in minor.consents.all()):
        return CloseReason.CONSENT_WITHDRAWN, ""
    if pairing.volunteer.status in (VolunteerStatus.WITHDRAWN, VolunteerStatus.DECEASED):
        return CloseReason.VOLUNTEER_UNABLE, str(VolunteerStatus(pairing.volunteer.status).label)
    return None


def pairings_close_lapsed(*, today: datetime.date | None = None) -> dict[str, int]:
    """Daily: close every open pairing that can no longer go on (`_lapse_reason`), as the system, each
    with its reason and an audit event; returns the count per reason. Idempotent: a closed pairing is
    never looked at again."""
    day = today or timezone.localdate()
    closed: dict[str, int] = {}
    last_id = 0
    while True:
        batch = list(
            Pairing.objects.exclude(state=PairingState.CLOSED)
            .filter(pk__gt=last_id)
            .select_related("minor", "volunteer")
            .prefetch_related("minor__consents")
            .order_by("pk")[:LAPSE_BATCH]
        )
        if not batch:
            return closed
        last_id = batch[-1].pk
        for candidate in batch:
            lapse = _lapse_reason(candidate)
            if lapse is None:
                continue
            with transaction.atomic():
                pairing = Pairing.objects.select_for_update().filter(pk=candidate.pk).first()
                if pairing is None or pairing.state == PairingState.CLOSED:
                    continue
                reason, note = lapse
                _close(pairing, reason=reason, note=note[:300], day=day)
                audit.record(
                    actor=None,
                    action="pairing.close",
                    target=pairing,
                    changes=["state", "close_reason", "closed_on"],
                    detail={"reason": reason, "automatic": True},
                )
            closed[reason] = closed.get(reason, 0) + 1


# --- Suggestions (推荐) ------------------------------------------------------------------------------


def _suggestions(
    *, actor: Actor, minor: Minor, limit: int, excluded_volunteer_ids: Iterable[int] = ()
) -> list[Suggestion]:
    today = timezone.localdate()
    code, allow_cross_county = suggestion_scope(actor, minor)
    nodes = volunteer_nodes(scope=region_codes.within_q("region_id", code), today=today)
    proposals = suggest_for_child(
        child=child_node(minor=minor, today=today, excluded_volunteer_ids=excluded_volunteer_ids),
        volunteers=nodes,
        limit=limit,
        allow_cross_county=allow_cross_county,
    )
    volunteers = Volunteer.objects.select_related("region").in_bulk([p.volunteer_id for p in proposals])
    return [Suggestion(volunteer=volunteers[p.volunteer_id], proposal=p) for p in proposals]


def rematch_suggestions(*, actor: Actor, pairing: Pairing, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Other volunteers for the child of a closed pairing (its volunteer left out), while the child has
    no open pairing."""
    _require(actor, Permission.PAIRING_VIEW)
    minor = Minor.objects.visible_to(actor).select_related("region").filter(pk=pairing.minor_id).first()
    if minor is None or Pairing.objects.exclude(state=PairingState.CLOSED).filter(minor=minor).exists():
        return []
    return _suggestions(actor=actor, minor=minor, limit=limit, excluded_volunteer_ids=[pairing.volunteer_id])


@dataclass(frozen=True)
class MinorSuggestions:
    minor: Minor
    has_pairing_consent: bool
    open_pairing: Pairing | None
    suggestions: list[Suggestion]


def suggestions_for_minor(*, actor: Actor, minor_id: int, limit: int = SUGGESTIONS) -> MinorSuggestions:
    """推荐: the `limit` best volunteers for one child at once, from those the actor may pair the child
    with. None without the guardian's consent to pairing (the engine proposes nobody then)."""
    _require(actor, Permission.PAIRING_VIEW)
    minor = Minor.objects.visible_to(actor).select_related("region").filter(pk=minor_id).first()
    if minor is None:
        raise NotFoundError()
    open_pairing = (
        Pairing.objects.exclude(state=PairingState.CLOSED)
        .filter(minor=minor)
        .select_related("volunteer__region")
        .first()
    )
    return MinorSuggestions(
        minor=minor,
        has_pairing_consent=has_pairing_consent(minor),
        open_pairing=open_pairing,
        suggestions=_suggestions(actor=actor, minor=minor, limit=limit),
    )


# --- Conflicts of interest ------------------------------------------------------------------------


@transaction.atomic
def conflict_declare(
    *, actor: Actor, minor_id: int, volunteer_id: int, reason: str, request: Any = None
) -> ConflictDeclaration:
    """Record a conflict of interest between a volunteer and a child (a relative, a dispute between the
    families): the pair is never proposed, accepted or created. An open pairing of the two is closed
    first, with its own reason."""
    _require(actor, Permission.PAIRING_MANAGE)
    minor = _locked_minor(actor, minor_id)
    volunteer = _locked_volunteer(actor, volunteer_id)
    if minor is None or volunteer is None:
        raise NotFoundError()
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写利益冲突的原因")]})
    if len(reason) > 200:
        raise ValidationFailed(fields={"reason": [_("原因不超过 200 个字")]})
    if ConflictDeclaration.objects.filter(minor=minor, volunteer=volunteer).exists():
        raise ConflictError(_("已申报过该志愿者与该儿童的利益冲突"))
    if Pairing.objects.exclude(state=PairingState.CLOSED).filter(minor=minor, volunteer=volunteer).exists():
        raise ConflictError(_("二人有未解除的结对，请先解除结对再申报利益冲突"))
    declaration = ConflictDeclaration.objects.create(
        minor=minor, volunteer=volunteer, reason=reason, declared_by=actor.user
    )
    audit.record(
        actor=actor,
        action="pairing.conflict",
        target=declaration,
        region_code=minor.region_id,
        changes=["volunteer", "minor", "reason"],
        request=request,
    )
    return declaration
