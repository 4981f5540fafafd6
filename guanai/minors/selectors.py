"""Reads of the registry. Every read starts from `Minor.objects.visible_to(actor)`."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.core import region_codes
from guanai.core.access import Actor, Permission, can_see_region
from guanai.core.cached import counted_page_ids
from guanai.core.crypto import blind_index
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.rows import rows_in_order
from guanai.minors.models import Consent, DuplicateFlag, Guardian, Minor
from guanai.minors.services import VERIFICATION_INTERVAL
from guanai.minors.validation import FULL_WIDTH
from guanai.minors.vocabulary import Status, with_all_bits
from guanai.regions.selectors import with_region_name

# The longest value a search term can match: name_pinyin (names are 50, ID numbers 18 characters).
SEARCH_MAX_LENGTH = 200

SORTS = {
    "name": ("name_pinyin", "id"),
    "-name": ("-name_pinyin", "-id"),
    "age": ("-birth_date", "id"),
    "-age": ("birth_date", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "risk": ("risk_level", "id"),
}


@dataclass
class MinorFilters:
    region: str | None = None  # a region inside the actor's, in any short form
    categories: int = 0  # every bit must be set
    needs: int = 0
    risk_level: str | None = None
    gender: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    school: str | None = None
    status: str | None = Status.ACTIVE
    verification_overdue: bool = False
    q: str | None = None  # name, pinyin, initials, ID number, guardian phone
    sort: str = "name"


def _birth_bounds(min_age: int | None, max_age: int | None, today: datetime.date) -> Q:
    """Age in whole years between min_age and max_age inclusive, as a range on the birth date."""
    bounds = Q()
    if min_age is not None:
        bounds &= Q(birth_date__lte=_years_before(today, min_age))
    if max_age is not None:
        bounds &= Q(birth_date__gt=_years_before(today, max_age + 1))
    return bounds


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _search(q: str) -> Q:
    """What a typed search means: an ID number (exact, by the blind index), a phone number (a guardian's,
    by its blind index), pinyin or initials (zhangsanming, zsm), or part of a name.

    Control characters are in no name, ID number or phone, and PostgreSQL refuses a NUL in a query: they
    are dropped. A term longer than anything it could match (name_pinyin, 200) matches nothing, without
    asking the database (SQLite refuses a LIKE pattern over 50,000 bytes)."""
    q = "".join(character for character in q if unicodedata.category(character) != "Cc")
    if len(q.strip()) > SEARCH_MAX_LENGTH:
        return Q(pk__in=[])
    typed = q.translate(FULL_WIDTH).strip().lstrip("'").replace(" ", "")
    if re.fullmatch(r"[0-9]{17}[0-9Xx]", typed):
        return Q(id_number_index=blind_index(Minor, "id_number", typed.upper()))
    digits = typed.replace("-", "")
    # ASCII digits only: "٣٣٣٣٣٣٣".isdigit(), and its blind index (of no digits) is None — every guardian
    # without a phone.
    if digits.isascii() and digits.isdigit() and len(digits) >= 7:
        guardians = Guardian.objects.filter(phone_index=blind_index(Guardian, "phone", typed))
        return Q(pk__in=guardians.values("minor_id"))
    if typed.isascii() and typed.isalpha():
        lowered = typed.lower()
        return Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    return Q(name__contains=q.strip())


def minor_list(*, actor: Actor, filters: MinorFilters | None = None) -> QuerySet[Minor]:
    if not actor.has(Permission.MINOR_VIEW):
        raise PermissionDeniedError()
    filters = filters or MinorFilters()
    today = timezone.localdate()
    minors: QuerySet[Minor] = Minor.objects.visible_to(actor)
    if filters.region:
        try:
            code = region_codes.normalise_code(filters.region)
        except ValueError as error:
            raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
        if not can_see_region(actor, code):
            raise NotFoundError()
        minors = minors.filter(region_codes.within_q("region_id", code))
    minors = with_all_bits(minors, "categories", filters.categories)
    minors = with_all_bits(minors, "needs", filters.needs)
    if filters.risk_level:
        minors = minors.filter(risk_level=filters.risk_level)
    if filters.gender:
        minors = minors.filter(gender=filters.gender)
    if filters.min_age is not None or filters.max_age is not None:
        minors = minors.filter(_birth_bounds(filters.min_age, filters.max_age, today))
    if filters.school:
        minors = minors.filter(school__contains=filters.school.strip())
    if filters.status:
        minors = minors.filter(status=filters.status)
    if filters.verification_overdue:
        minors = minors.filter(
            Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=today - VERIFICATION_INTERVAL)
        )
    if filters.q and filters.q.strip():
        minors = minors.filter(_search(filters.q))
    order = SORTS.get(filters.sort, SORTS["name"])
    return minors.select_related("region").order_by(*order)


def minor_get(*, actor: Actor, minor_id: int) -> Minor:
    if not actor.has(Permission.MINOR_VIEW):
        raise PermissionDeniedError()
    minor = (
        with_region_name(
            Minor.objects.visible_to(actor).select_related("region", "household_region"), joined=True
        )
        .prefetch_related(  # type: ignore[type-var]  # the stubs cannot follow the typed manager
            Prefetch("guardians", queryset=Guardian.objects.order_by("id")),
            Prefetch("consents", queryset=Consent.objects.order_by("-given_on", "-id")),
        )
        .filter(pk=minor_id)
        .first()
    )
    if minor is None:
        raise NotFoundError()
    return minor


def duplicate_flags_open(*, actor: Actor) -> QuerySet[DuplicateFlag]:
    """Open duplicate flags where the actor may see both records."""
    visible = Minor.objects.visible_to(actor).values("pk")
    return (
        DuplicateFlag.objects.filter(state=DuplicateFlag.State.OPEN, first__in=visible, second__in=visible)
        .select_related("first__region", "second__region")
        .order_by("-created_at")
    )


# --- Reading a page: ids first --------------------------------------------------------------------
# At province scale the list's filters are answered from the covering index `minor_list_covering`
# without touching the table when only the ids are read; the page's 50 rows are fetched afterwards
# (bench/RESULTS.md, "Minors list at province scale": p95 17.8 ms instead of 61 ms at 1,000,000).


# What the lists show of a child (the API's rows, the page's table): nothing else is read or decrypted.
LIST_FIELDS = (
    *("name", "gender", "birth_date", "id_number", "region", "school", "grade", "categories", "needs"),
    *("risk_level", "status", "last_verified_on", "version"),
)


def minor_rows(ids: Sequence[int]) -> list[Minor]:
    """The rows of a page of ids, in the page's order, with only what a list shows (and `region_name`)."""
    return rows_in_order(with_region_name(Minor.objects.only(*LIST_FIELDS)), ids)


def minor_page(minors: QuerySet[Minor], *, offset: int, limit: int) -> tuple[list[Minor], int]:
    """A page of the list (`minor_rows`) and the number of its rows in all (`counted_page_ids`)."""
    ids, total = counted_page_ids(minors, offset=offset, limit=limit)
    return minor_rows(ids), total
