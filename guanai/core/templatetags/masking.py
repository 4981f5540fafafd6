"""`{% load masking %}`: `{{ value|mask:"mobile" }}` and `{{ record|mask_field:"id_number" }}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from guanai.core import masking

register = template.Library()


@register.filter(name="mask")
def mask(value: Any, kind: str) -> str:
    return masking.mask(kind, value)


@register.filter(name="mask_field")
def mask_field(instance: models.Model | None, field_name: str) -> str:
    return "" if instance is None else masking.mask_field(instance, field_name)
