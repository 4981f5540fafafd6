"""Counts for the home page: real rows in the actor's scope, nothing invented."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from guanai.accounts.selectors import role_review_due_count, user_list
from guanai.committees.models import Committee, CommitteeKind
from guanai.compliance.selectors import incidents_overdue_count
from guanai.core.access import Actor, Permission
from guanai.core.region_codes import RegionLevel
from guanai.regions.models import Region


@dataclass(frozen=True)
class HomeCounts:
    committees_by_kind: list[tuple[str, int]]
    committees_total: int | None
    users: int | None
    regions_by_level: list[tuple[str, int]]
    regions_total: int | None
    # Personal-information incidents past their reporting time (the security admin's clock).
    incidents_overdue: int | None = None
    # Role assignments due for their periodic review (the account managers' clock).
    roles_due_for_review: int | None = None


def home_counts(*, actor: Actor) -> HomeCounts:
    committees_by_kind: list[tuple[str, int]] = []
    committees_total = None
    if actor.has(Permission.COMMITTEE_VIEW):
        rows = dict(
            Committee.objects.visible_to(actor).values_list("kind").annotate(n=Count("id")).order_by()
        )
        committees_by_kind = [(str(kind.label), rows.get(kind.value, 0)) for kind in CommitteeKind]
        committees_total = sum(rows.values())
    regions_by_level: list[tuple[str, int]] = []
    regions_total = None
    if actor.has(Permission.REGION_VIEW) and actor.region_code:
        rows = dict(
            Region.objects.within(actor.region_code).values_list("level").annotate(n=Count("code")).order_by()
        )
        regions_by_level = [
            (str(level.label), rows[level.value]) for level in RegionLevel if level.value in rows
        ]
        regions_total = sum(rows.values())
    users = user_list(actor=actor).count() if actor.has(Permission.ACCOUNT_VIEW) else None
    incidents_overdue = incidents_overdue_count(actor=actor) if actor.has(Permission.PRIVACY_VIEW) else None
    roles_due = role_review_due_count(actor=actor) if actor.has(Permission.ACCOUNT_MANAGE) else None
    return HomeCounts(
        committees_by_kind,
        committees_total,
        users,
        regions_by_level,
        regions_total,
        incidents_overdue=incidents_overdue,
        roles_due_for_review=roles_due,
    )
