"""What a roster import did: the refused rows and the counts, and the error report made from them.

Shared by the imports of children (`guanai.minors.importing`) and of volunteers
(`guanai.volunteers.importing`): a refused row is its Excel row number, the header text of the offending
column, a stable code and a Chinese reason, whatever the roster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guanai.imports.headers import HeaderLayout
from guanai.imports.reading import RosterSource, SourceRow, open_roster
from guanai.imports.workbooks import write_refused_rows

# The two columns the error report adds; a roster's importer ignores them, so that a corrected report
# imports as it is.
ERROR_REASON_HEADER = "错误原因"
ORIGINAL_ROW_HEADER = "原表行号"


@dataclass(frozen=True)
class RowError:
    """A refused row: Excel row number, the header text of the offending column, code, Chinese reason."""

    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do).

    rows       data rows read (blank rows, footers and the header not counted)
    created, updated, unchanged   valid rows by outcome; refused rows are those in `errors`
    errors     one entry per problem, a row may have several; ordered by row
    columns    field key → header text of the column it was read from
    header     where the header is and every column's header text (for the error report)
    """

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    header: HeaderLayout | None = None
    dry_run: bool = False
    batch_id: int | None = None

    @property
    def refused_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})

    def as_json(self) -> dict[str, Any]:
        """The shape of `import_minors --json`, `import_volunteers --json` and of the API."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [error.as_dict() for error in self.errors],
        }


def write_error_report(
    result: ImportResult, source_rows: Iterable[SourceRow] | RosterSource, out_path: str | Path
) -> int:
    """A workbook of the refused rows with their original cells and a 错误原因 column, to be corrected
    and imported again; `source_rows` are the rows of the imported file (or the file itself). Returns
    the number of rows written."""
    if result.header is None:
        raise ValueError("the import did not get as far as the header")
    reasons: dict[int, list[str]] = {}
    for error in result.errors:
        prefix = f"【{error.column}】" if error.column else ""
        reasons.setdefault(error.row, []).append(prefix + error.message)
    joined = {row: "；".join(messages) for row, messages in reasons.items()}
    columns = result.header.columns

    def write(rows: Iterable[SourceRow]) -> int:
        return write_refused_rows(
            out_path,
            columns=columns,
            rows=rows,
            reasons=joined,
            reason_header=ERROR_REASON_HEADER,
            row_header=ORIGINAL_ROW_HEADER,
        )

    if isinstance(source_rows, str | Path) or hasattr(source_rows, "read"):
        with open_roster(source_rows) as roster:  # type: ignore[arg-type]
            return write(roster.rows())
    return write(source_rows)  # type: ignore[arg-type]
