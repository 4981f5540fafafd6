"""How a case's youth is shown. Only on the case itself (its page and its API detail), to those who may
see the case, is the name given in full; everywhere else — the list of one's cases included — the name is
masked (张*明). The ID number and the address are always masked: the case never unmasks them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from guanai.core.masking import mask
from guanai.mentoring.models import MentoringCase
from guanai.minors import display as minor_display
from guanai.minors.vocabulary import SpecialKind


@dataclass(frozen=True)
class YouthOnCase:
    """The youth as the case's page shows them to its officer, mentors and break-the-glass readers."""

    name: str
    gender: str
    gender_label: str
    birth_date: datetime.date
    age: int
    id_number: str  # masked
    address: str  # masked
    village: str
    school: str
    special_kind: str
    special_kind_label: str


def youth_on_case(case: MentoringCase) -> YouthOnCase:
    minor = case.minor
    kind = minor.special_kind
    return YouthOnCase(
        name=minor.name,
        gender=minor.gender,
        gender_label=str(minor.get_gender_display()),
        birth_date=minor.birth_date,
        age=minor_display.age(minor),
        id_number=minor_display.masked_id_number(minor),
        address=minor_display.masked_address(minor),
        village=minor.region.name,
        school=minor.school,
        special_kind=kind,
        special_kind_label=str(SpecialKind(kind).label) if kind in SpecialKind.values else "",
    )


def masked_youth_name(case: MentoringCase) -> str:
    return mask("name", case.minor.name)
