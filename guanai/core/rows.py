"""The rows of one page of a list, read by their ids.

The registries find a page's ids first (an index-only scan of the region's range at province scale:
bench/RESULTS.md, "Minors list at province scale"), then read those rows. Reading them costs more than
finding them: every column read is converted and every encrypted one decrypted, row by row. So a list reads
only the columns it shows, and the model's default ordering is dropped: the ids already carry the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def rows_in_order(queryset: QuerySet[M], ids: Sequence[int]) -> list[M]:
    """The rows of `queryset` with these ids, in the ids' order (one query); ids gone since are left out."""
    found = queryset.order_by().in_bulk(list(ids))
    return [found[pk] for pk in ids if pk in found]
