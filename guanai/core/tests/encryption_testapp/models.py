"""A model with encrypted fields, installed only by config/settings_test.py."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from guanai.core.access import Permission, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import BlindIndexField, EncryptedTextField


class SecretThing(RegionScoped, models.Model):
    region_scope_field: ClassVar[str] = "region_code"

    name = models.CharField(max_length=50, blank=True)
    region_code = models.CharField(max_length=12, default="330127000000")
    id_number = EncryptedTextField(
        null=True, blank=True, mask="id_number", unmask_permission=Permission.ACCOUNT_MANAGE
    )
    id_number_index = BlindIndexField(source="id_number", unique=True)
    address = EncryptedTextField(blank=True, mask="address")
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegionScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name
