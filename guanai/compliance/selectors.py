"""Reads of the impact assessments and the personal-information incidents. Both belong to a region; an
actor sees those inside their region and only with PRIVACY_VIEW (the security administrator, and the
auditor read-only). What one may not see answers 404, like what does not exist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.compliance.models import ImpactAssessment, PrivacyIncident, PrivacyIncidentQuerySet
from guanai.core import region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region

# Assessments and incidents belong to a committee region from the province down to the county.
RECORD_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
_RowsT = TypeVar("_RowsT", bound=QuerySet[Any])


def _assessments(actor: Actor) -> QuerySet[ImpactAssessment]:
    if not actor.has(Permission.PRIVACY_VIEW):
        return ImpactAssessment.objects.none()
    return ImpactAssessment.objects.visible_to(actor)


def _incidents(actor: Actor) -> PrivacyIncidentQuerySet:
    if not actor.has(Permission.PRIVACY_VIEW):
        return PrivacyIncident.objects.none()
    return PrivacyIncident.objects.visible_to(actor)


def _within_region(rows: _RowsT, actor: Actor, code: str) -> _RowsT:
    """The rows of the region `code` and below; a region outside the actor's is as if it did not exist."""
    try:
        code = region_codes.normalise_code(code)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if not can_see_region(actor, code):
        raise NotFoundError()
    return rows.filter(region_codes.within_q("region_id", code))


@dataclass(frozen=True)
class AssessmentFilters:
    processing_kind: str = ""
    conclusion: str = ""
    region: str = ""
    q: str = ""
    expired: bool | None = None  # True: past keep_until (may be deleted); False: still kept


def assessment_list(
    *, actor: Actor, filters: AssessmentFilters | None = None, today: datetime.date | None = None
) -> QuerySet[ImpactAssessment]:
    filters = filters or AssessmentFilters()
    rows = _assessments(actor).select_related("region", "superseded_by")
    if filters.region:
        rows = _within_region(rows, actor, filters.region)
    if filters.processing_kind:
        rows = rows.filter(processing_kind=filters.processing_kind)
    if filters.conclusion:
        rows = rows.filter(conclusion=filters.conclusion)
    if filters.q:
        rows = rows.filter(title__icontains=filters.q)
    if filters.expired is not None:
        day = today or timezone.localdate()
        rows = rows.filter(keep_until__lte=day) if filters.expired else rows.filter(keep_until__gt=day)
    return rows


def assessment_get(*, actor: Actor, assessment_id: int) -> ImpactAssessment:
    assessment = (
        _assessments(actor)
        .select_related("region", "recorded_by", "supersedes", "superseded_by")
        .filter(pk=assessment_id)
        .first()
    )
    if assessment is None:
        raise NotFoundError()
    return assessment


@dataclass(frozen=True)
class IncidentFilters:
    status: str = ""
    kind: str = ""
    region: str = ""
    overdue: bool | None = None  # True: not reported to the authority past its reporting time


def incident_list(
    *, actor: Actor, filters: IncidentFilters | None = None, now: datetime.datetime | None = None
) -> QuerySet[PrivacyIncident]:
    filters = filters or IncidentFilters()
    rows = _incidents(actor).select_related("region")
    if filters.region:
        rows = _within_region(rows, actor, filters.region)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.overdue is not None:
        moment = now or timezone.now()
        rows = rows.overdue(moment) if filters.overdue else rows.not_overdue(moment)
    return rows


def incident_get(*, actor: Actor, incident_id: int) -> PrivacyIncident:
    incident = (
        _incidents(actor)
        .select_related(
            "region",
            "reported_by",
            "authority_notified_by",
            "individuals_decided_by",
            "individuals_notified_by",
            "notice_required_by",
            "contained_by",
            "closed_by",
        )
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        raise NotFoundError()
    return incident


def incidents_overdue_count(*, actor: Actor, now: datetime.datetime | None = None) -> int:
    """Incidents in the actor's region not reported to the authority past their reporting time."""
    return _incidents(actor).overdue(now or timezone.now()).count()


def record_region_choices(*, actor: Actor) -> list[tuple[str, str]]:
    """The regions an assessment or an incident of the actor may belong to: the actor's region and the
    cities and counties inside it."""
    if actor.region_code is None:
        return []
    return list(
        Region.objects.within(actor.region_code)
        .filter(level__in=RECORD_LEVELS)
        .order_by("code")
        .values_list("code", "name")
    )
