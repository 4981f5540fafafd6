"""How a child's values leave the server: masked, unless the actor may see them.

Names are shown in full to those who hold MINOR_UNMASK (the administrators who work with the cases)
and masked (张*明) for everyone else; ID numbers, addresses and phones are always masked here and
shown in the clear only through the explicit, audited unmask action (`guanai.core.masking.unmask_field`).
"""

from __future__ import annotations

import datetime

from guanai.core.access import Actor, Permission
from guanai.core.labels import per_language
from guanai.core.masking import mask, mask_field
from guanai.minors.models import Guardian, Minor
from guanai.minors.validation import age_on
from guanai.minors.vocabulary import CATEGORY_LABELS, NEED_LABELS, Category, Need, members


def shown_name(minor: Minor, actor: Actor) -> str:
    return minor.name if actor.has(Permission.MINOR_UNMASK) else mask("name", minor.name)


def masked_id_number(minor: Minor) -> str:
    return mask_field(minor, "id_number") if minor.id_number else ""


def masked_address(minor: Minor) -> str:
    return mask_field(minor, "address") if minor.address else ""


def masked_phone(guardian: Guardian) -> str:
    return mask_field(guardian, "phone") if guardian.phone else ""


@per_language
def category_labels(value: int) -> list[str]:
    return [str(CATEGORY_LABELS[flag]) for flag in members(Category, value)]  # type: ignore[index]


@per_language
def need_labels(value: int) -> list[str]:
    return [str(NEED_LABELS[flag]) for flag in members(Need, value)]  # type: ignore[index]


def age(minor: Minor, today: datetime.date | None = None) -> int:
    """Age in whole years today (`today` given once for the rows of a list)."""
    from django.utils import timezone

    return age_on(minor.birth_date, today or timezone.localdate())
