"""Masks for personal data, as commonly shown in China, and the one way to see a value unmasked.

    name       张*  张*丰  欧**娜
    id_number  330127********023X (18 characters); other lengths keep the first and last two
    mobile     138****5678
    phone      0571-****5678 (area code and last four kept)
    address    浙江省杭州市淳安县千岛湖镇**** (cut after the township; without one, after the county)
    text       **** (nothing of the value, not even its length)

Values leave the server masked. `unmask_field` returns one field of one record in the clear when the
actor holds the field's unmask permission and may see the record, and writes an audit event either way.
Templates: `{% load masking %}` then `{{ value|mask:"mobile" }}` or `{{ record|mask_field:"id_number" }}`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.db import models
from django.http import HttpRequest

from guanai.core.access import Actor
from guanai.core.crypto import MASK_KINDS, encrypted_field, normalise_mobile
from guanai.core.errors import NotFoundError, PermissionDeniedError

STARS = "****"
UNMASK_ACTION = "personal_data.unmask"


def mask_name(value: str) -> str:
    name = value.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str) -> str:
    number = value.strip()
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) > 4:
        return number[:2] + "*" * (len(number) - 4) + number[-2:]
    return "*" * len(number)


def mask_mobile(value: str) -> str:
    digits = normalise_mobile(value)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + STARS + digits[-4:]
    return mask_phone(value)


_SEPARATED_AREA_CODE = re.compile(r"\(?(0\d{2,3})[)\s-]+(\d[\d\s-]*)")


def mask_phone(value: str) -> str:
    number = unicodedata.normalize("NFKC", value).strip()
    digits = normalise_mobile(number)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + STARS + digits[-4:]
    if match := _SEPARATED_AREA_CODE.fullmatch(number):
        area, local = match.group(1), re.sub(r"[^0-9]", "", match.group(2))
    elif number.isascii() and number.isdigit() and number.startswith("0"):
        # Written without a separator: Beijing, Tianjin and the 02x cities have 3-digit area codes.
        area_length = 3 if number[1:2] in {"1", "2"} else 4
        area, local = number[:area_length], number[area_length:]
    else:
        area, local = "", ""
    if area and 7 <= len(local) <= 8:
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return _keep_last_four(number)


def _keep_last_four(value: str) -> str:
    return "*" * (len(value) - 4) + value[-4:] if len(value) > 4 else "*" * len(value)


# One administrative division: a short name and its suffix. `州` of 杭州市 and `旗` of 红旗街道 are part
# of the name, not suffixes.
_DIVISION = re.compile(
    r"(.{1,12}?)(特别行政区|自治区|自治州|自治县|自治旗|地区|街道|苏木|省|市|州(?!市)|盟|县|区|旗(?!街道|镇|乡)|镇|乡)"
)
# What a division's name never holds: house numbers, roads, villages, buildings.
_NOT_A_DIVISION = re.compile(r"[\d路巷弄号村幢栋楼室]|小区|社区|花园|大厦|广场|公寓")
_MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}
_PROVINCE, _PREFECTURE, _COUNTY, _TOWNSHIP = 1, 2, 3, 4
_SUFFIX_LEVELS = {
    "特别行政区": _PROVINCE,
    "自治区": _PROVINCE,
    "省": _PROVINCE,
    "自治州": _PREFECTURE,
    "地区": _PREFECTURE,
    "州": _PREFECTURE,
    "盟": _PREFECTURE,
    "自治县": _COUNTY,
    "自治旗": _COUNTY,
    "县": _COUNTY,
    "区": _COUNTY,
    "旗": _COUNTY,
    "街道": _TOWNSHIP,
    "苏木": _TOWNSHIP,
    "镇": _TOWNSHIP,
    "乡": _TOWNSHIP,
}


def mask_address(value: str) -> str:
    """Keep the divisions down to the township (镇, 乡, 街道), or down to the county when there is no
    township, then ****. Each kept division must lie below the one before it, so a 小区 or a 社区 after
    the county is never mistaken for one."""
    address = value.strip()
    if not address:
        return ""
    position = deepest = 0
    while deepest < _TOWNSHIP and (match := _DIVISION.match(address, position)):
        if _NOT_A_DIVISION.search(match.group(0)):
            break
        suffix = match.group(2)
        if suffix == "市":
            level = _PROVINCE if match.group(0) in _MUNICIPALITIES and deepest == 0 else max(deepest + 1, 2)
            level = min(level, _COUNTY)
        else:
            level = _SUFFIX_LEVELS[suffix]
        if level <= deepest:
            break
        position, deepest = match.end(), level
    return address[:position] + STARS


def mask_text(value: str) -> str:
    return STARS if value else ""


MASKS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "id_number": mask_id_number,
    "mobile": mask_mobile,
    "phone": mask_phone,
    "address": mask_address,
    "text": mask_text,
}
assert set(MASKS) == set(MASK_KINDS)


def mask(kind: str, value: Any) -> str:
    """`value` masked as `kind` (one of MASKS); None and "" give ""."""
    try:
        masker = MASKS[kind]
    except KeyError:
        raise ValueError(f"unknown mask {kind!r}; expected one of {', '.join(MASKS)}") from None
    if value is None or value == "":
        return ""
    return masker(str(value))


def mask_field(instance: models.Model, field_name: str) -> str:
    """An EncryptedTextField of a record, masked the way the field declares."""
    field = encrypted_field(type(instance), field_name)
    return mask(field.mask, getattr(instance, field.attname))


def unmask_field(
    *, actor: Actor, instance: models.Model, field_name: str, request: HttpRequest | None = None
) -> str:
    """One field of one record in the clear — an explicit action, recorded in the audit trail.

    Refused (PermissionDeniedError) unless the actor holds the field's `unmask_permission`; a record
    outside the actor's region (when the model's queryset has `visible_to`) answers NotFoundError, like
    one that does not exist. Refusals are recorded too, with the outcome "denied".
    """
    from guanai import audit
    from guanai.audit.services import Outcome

    field = encrypted_field(type(instance), field_name)

    def record(outcome: str) -> None:
        audit.record(
            actor=actor,
            action=UNMASK_ACTION,
            target=instance,
            changes=[field_name],
            outcome=outcome,
            request=request,
        )

    if field.unmask_permission is None or not actor.has(field.unmask_permission):
        record(Outcome.DENIED)
        raise PermissionDeniedError()
    queryset = type(instance)._default_manager.all()
    visible_to = getattr(queryset, "visible_to", None)
    if visible_to is not None and not visible_to(actor).filter(pk=instance.pk).exists():
        record(Outcome.DENIED)
        raise NotFoundError()
    record(Outcome.SUCCESS)
    value = getattr(instance, field.attname)
    return "" if value is None else str(value)
