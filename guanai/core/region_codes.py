"""统计用区划代码: 12 digits — 2 province, 2 city, 2 county, 3 township, 3 village.

A region's subtree is every code that starts with its significant digits. Because every code has
exactly 12 digits, the prefix match is expressed as the closed range [prefix000…, prefix999…], which
both SQLite and PostgreSQL answer from the ordinary b-tree index on the code, whatever the collation.
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CODE_LENGTH = 12
CODE_PATTERN = re.compile(r"[0-9]{12}")  # ASCII digits only: str.isdigit() accepts "３３"


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县(市、区)")
    TOWNSHIP = 4, _("乡镇(街道)")
    VILLAGE = 5, _("村(社区)")


# Number of significant leading digits at each level.
PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


def is_valid_code(code: str) -> bool:
    return bool(CODE_PATTERN.fullmatch(code))


def normalise_code(code: str) -> str:
    """Accept the short forms people type (33, 3301, 330127, 330127100) and pad them to 12 digits."""
    code = code.strip()
    if not re.fullmatch(r"[0-9]+", code) or len(code) not in {2, 4, 6, 9, 12}:
        raise ValueError(code)
    return code.ljust(CODE_LENGTH, "0")


def level_of(code: str) -> RegionLevel:
    """The level a 12-digit code names, read from where its trailing zeros begin."""
    if not is_valid_code(code):
        raise ValueError(code)
    if code[2:] == "0" * 10:
        return RegionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return RegionLevel.CITY
    if code[6:] == "0" * 6:
        return RegionLevel.COUNTY
    if code[9:] == "000":
        return RegionLevel.TOWNSHIP
    return RegionLevel.VILLAGE


def significant_prefix(code: str) -> str:
    return code[: PREFIX_LENGTH[level_of(code)]]


def parent_code(code: str) -> str | None:
    level = level_of(code)
    if level == RegionLevel.PROVINCE:
        return None
    parent_level = RegionLevel(level - 1)
    return code[: PREFIX_LENGTH[parent_level]].ljust(CODE_LENGTH, "0")


def ancestor_codes(code: str) -> list[str]:
    """Codes of the region's ancestors, province first, the region itself excluded."""
    chain: list[str] = []
    current = parent_code(code)
    while current is not None:
        chain.append(current)
        current = parent_code(current)
    return list(reversed(chain))


def subtree_range(code: str) -> tuple[str, str]:
    prefix = significant_prefix(code)
    return prefix.ljust(CODE_LENGTH, "0"), prefix.ljust(CODE_LENGTH, "9")


def within_q(field: str, code: str) -> Q:
    """Q for "the region in `field` lies inside region `code`" (the region itself included)."""
    low, high = subtree_range(code)
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def is_within(code: str, ancestor: str) -> bool:
    low, high = subtree_range(ancestor)
    return low <= code <= high
