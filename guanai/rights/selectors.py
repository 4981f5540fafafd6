"""Reads of data-subject requests. Every read starts from `DataSubjectRequest.objects.visible_to(actor)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, PermissionDeniedError
from guanai.rights.models import DataSubjectRequest, DataSubjectRequestQuerySet
from guanai.rights.vocabulary import DUE_SOON_DAYS


@dataclass
class SubjectRequestFilters:
    status: str | None = None
    overdue: bool = False
    minor_id: int | None = None


def _visible(actor: Actor) -> DataSubjectRequestQuerySet:
    if not actor.has(Permission.MINOR_MANAGE):
        raise PermissionDeniedError()
    return DataSubjectRequest.objects.visible_to(actor)


def subject_request_list(
    *, actor: Actor, filters: SubjectRequestFilters | None = None, today: datetime.date | None = None
) -> QuerySet[DataSubjectRequest]:
    """Requests about children in the actor's region, soonest deadline first."""
    filters = filters or SubjectRequestFilters()
    requests = _visible(actor)
    if filters.status:
        requests = requests.filter(status=filters.status)
    if filters.overdue:
        requests = requests.overdue_on(today or timezone.localdate())
    if filters.minor_id is not None:
        requests = requests.filter(minor_id=filters.minor_id)
    return requests.select_related("minor__region").order_by("due_on", "id")


def subject_request_get(*, actor: Actor, request_id: int) -> DataSubjectRequest:
    subject_request = (
        _visible(actor)
        .select_related("minor__region", "received_by", "handled_by")
        .filter(pk=request_id)
        .first()
    )
    if subject_request is None:
        raise NotFoundError()
    return subject_request


@dataclass(frozen=True)
class DeadlineClock:
    """The open requests an actor should answer first: past their last day, and due within days."""

    overdue: list[DataSubjectRequest]
    due_soon: list[DataSubjectRequest]


def subject_requests_due(*, actor: Actor, today: datetime.date | None = None) -> DeadlineClock:
    """Open requests overdue (last day before today) and due soon (last day from today to DUE_SOON_DAYS
    ahead), for the top of the list page. On its last day a request is due, not overdue."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    rows = list(
        _visible(actor)
        .open()
        .filter(due_on__lte=horizon)
        .select_related("minor__region")
        .order_by("due_on", "id")
    )
    return DeadlineClock(
        overdue=[row for row in rows if row.is_overdue_on(today)],
        due_soon=[row for row in rows if not row.is_overdue_on(today)],
    )
