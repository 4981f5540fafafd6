"""`{% load volunteer_display %}`: a volunteer's star level as symbols and words.

{{ 3|stars }}       ★★★☆☆
{{ 3|star_label }}  三星
"""

from __future__ import annotations

from django import template

from guanai.volunteers.vocabulary import STAR_LABELS

register = template.Library()

MAX_STARS = len(STAR_LABELS) - 1


def _level(value: object) -> int:
    try:
        level = int(str(value))
    except ValueError:
        return 0
    return min(max(level, 0), MAX_STARS)


@register.filter(name="stars")
def stars(value: object) -> str:
    level = _level(value)
    return "★" * level + "☆" * (MAX_STARS - level)


@register.filter(name="star_label")
def star_label(value: object) -> str:
    return str(STAR_LABELS[_level(value)])
