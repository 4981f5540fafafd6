"""Reading a roster's data rows: a field's cell, the village a row names, and the column a refused row
is reported in.

Shared by the imports of children and of volunteers; each importer's RowReader adds how a row becomes
model values.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from guanai.imports.cells import CellValue, cell_text, is_empty
from guanai.imports.headers import HeaderLayout, column_letter
from guanai.imports.results import RowError
from guanai.regions.models import Region

# Values that a row with an ID number may leave empty: they are read from the ID number.
FROM_ID_NUMBER = ("birth_date", "gender")


class CellProblem(Protocol):
    """Why a cell is refused (`guanai.minors.validation.FieldError`): field, stable code, Chinese reason."""

    @property
    def field(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...


class RosterColumns:
    """The columns of a roster as its header names them: a field's cell and text in a row, and the
    header text a refused row is reported under."""

    def __init__(self, layout: HeaderLayout, labels: Mapping[str, str]) -> None:
        self.layout = layout
        self.labels = labels  # field key → the standard header text
        self.columns = layout.mapping

    def column_name(self, key: str) -> str:
        """The header text of the column a field was read from; its standard label when the file has
        no such column (出生日期 for a row that has neither a birth date nor an ID number)."""
        index = self.columns.get(key)
        if index is None:
            return self.labels.get(key, "")
        name = self.layout.columns[index] if index < len(self.layout.columns) else ""
        return name or _("第 %(column)s 列") % {"column": column_letter(index)}

    def cell(self, cells: Sequence[CellValue], key: str) -> CellValue:
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def text(self, cells: Sequence[CellValue], key: str) -> str:
        value = self.cell(cells, key)
        return "" if is_empty(value) else cell_text(value)

    def error(self, number: int, problem: CellProblem, key: str | None = None) -> RowError:
        column_key = key or problem.field
        if column_key not in self.columns and problem.field in FROM_ID_NUMBER:
            column_key = "id_number"  # derived from the ID number, no column of its own
        return RowError(number, self.column_name(column_key), problem.code, problem.message)


class VillageFinder(Protocol):
    """Finds the villages a roster names inside the import region (`minors.importing.VillageResolver`)."""

    @property
    def region(self) -> Region: ...
    def locate(self, *, village: str, township: str, missing_message: str) -> Region: ...


class RosterRowReader(RosterColumns):
    """A roster of people living in villages of the import region, read on `today`. A subclass sets
    `labels` (field key → standard header text) and `missing_village_message`, and reads a row."""

    labels: Mapping[str, str]
    missing_village_message: Promise  # lazily translated: 请填写村（社区）

    def __init__(self, layout: HeaderLayout, villages: VillageFinder, *, today: datetime.date) -> None:
        super().__init__(layout, self.labels)
        self.villages = villages
        self.today = today
        self.region = villages.region

    def _village(self, cells: Sequence[CellValue]) -> Region:
        """The village of a row (its 村（社区） cell, narrowed by its 乡镇（街道） cell); FieldError."""
        return self.villages.locate(
            village=self.text(cells, "village"),
            township=self.text(cells, "township"),
            missing_message=str(self.missing_village_message),
        )
