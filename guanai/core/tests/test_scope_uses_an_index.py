"""Inside region R is a range on the code, which the b-tree indexes answer on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from guanai.committees.models import Committee
from guanai.core import region_codes
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db


def plan(queryset: QuerySet[Any, Any]) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Tiny test tables make a sequential scan cheapest; the question is whether an index *can* serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize("code", ["330000000000", "330127000000", "330127100000"])
def test_regions_inside_a_region_are_read_through_the_primary_key_index(regions: None, code: str) -> None:
    text = plan(Region.objects.filter(region_codes.within_q("code", code)).values("code"))
    assert "regions_region" in text
    if connection.vendor == "sqlite":
        assert "SEARCH" in text
        assert "INDEX" in text.upper()
        assert "code>? AND code<?" in text
    else:
        assert "Index" in text
        assert "Seq Scan" not in text


def test_committees_inside_a_region_are_read_through_the_region_index(regions: None) -> None:
    text = plan(Committee.objects.filter(region_codes.within_q("region_id", "330127000000")).values("id"))
    if connection.vendor == "sqlite":
        assert "USING INDEX" in text
        assert "region_id>? AND region_id<?" in text
    else:
        assert "Index" in text
        assert "Seq Scan" not in text
