"""Finding the header of a roster and walking its data rows.

Township rosters put a title and a 填报单位 line above the header, often merge two header rows
(监护人情况 over 姓名 / 与儿童关系 / 联系电话), number their rows in a 序号 column and end with 填表人,
审核人 and a date. A caller describes its columns as `Field`s with the header texts it accepts; the
header is the row (or pair of rows) among the first rows that names the most of them.

A column of a two-row header is named "group/sub" (监护人情况/姓名), the group carried right over the
blank cells of a merged range; a field may accept that full name, and a sub-header under a group that no
field knows (基本情况/姓名) also counts as its plain name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from guanai.imports.cells import CellValue, cell_text, is_empty, normalise_label
from guanai.imports.reading import Roster, RosterReadError, SourceRow

HEADER_SCAN_ROWS = 30
# First words of the lines below the data: who filled in and checked the form, when, totals, notes.
FOOTER_MARKERS = tuple(
    normalise_label(marker)
    for marker in (
        "填表人", "填报人", "制表人", "统计人", "审核人", "审批人", "负责人", "单位负责人", "分管领导",
        "联系人", "联系电话", "填表日期", "填报日期", "制表日期", "日期", "合计", "总计", "小计",
        "备注", "说明", "注：", "注:", "签字", "盖章",
    )
)  # fmt: skip
_DATE_ONLY = re.compile(
    r"^(\d{4}|[〇零一二三四五六七八九]{4})\s*[年./-]\s*\d{1,2}\s*[月./-]\s*(\d{1,2}\s*日?)?$"
)
FOOTER_MAX_CELLS = 4


@dataclass(frozen=True)
class Field:
    """A column the caller reads: its key, the header text of the blank template, and every header
    text accepted for it (compared after `normalise_label`; "group/sub" for a two-row header)."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def accepted(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalise_label(text) for text in (self.label, *self.aliases)))


@dataclass(frozen=True)
class HeaderLayout:
    """Where the header is and what each column is called.

    rows     the Excel row numbers of the header (one, or two for a merged two-row header)
    columns  the header text of every column, index 0 = column A ("" under no header)
    mapping  field key → column index
    ignored  columns that are known and carry nothing to import (序号)
    """

    rows: tuple[int, ...]
    columns: tuple[str, ...]
    mapping: dict[str, int]
    ignored: frozenset[int] = frozenset()

    def column_name(self, key: str) -> str:
        index = self.mapping.get(key)
        return self.columns[index] if index is not None and index < len(self.columns) else ""

    @property
    def last_row(self) -> int:
        return self.rows[-1]


@dataclass
class _Candidate:
    rows: tuple[int, ...]
    columns: tuple[str, ...]
    mapping: dict[str, int]
    ignored: frozenset[int]
    score: int = field(default=0)


def _row_texts(row: SourceRow) -> list[str]:
    return [cell_text(value) if isinstance(value, str) else "" for value in row.cells]


def _two_row_names(top: list[str], sub: list[str]) -> list[str]:
    width = max(len(top), len(sub))
    top = top + [""] * (width - len(top))
    sub = sub + [""] * (width - len(sub))
    names: list[str] = []
    group = ""
    for upper, lower in zip(top, sub, strict=True):
        if upper:
            group = upper
        elif not lower:
            group = ""  # a blank column ends a merged range
        if upper and lower and upper != lower:
            names.append(f"{upper}/{lower}")
        elif upper:
            names.append(upper)
        elif lower and group:
            names.append(f"{group}/{lower}")
        else:
            names.append(lower)
    return names


class HeaderMatcher:
    def __init__(self, fields: Sequence[Field], ignore: Iterable[str]) -> None:
        self.fields = fields
        self.by_text: dict[str, str] = {}
        for item in fields:
            for text in item.accepted():
                self.by_text.setdefault(text, item.key)
        self.ignore = {normalise_label(text) for text in ignore}
        # Groups named in accepted texts ("监护人情况" of "监护人情况/姓名"): a sub-header under one of
        # them is never taken for a plain field (监护人情况/身份证号 is not the child's ID number).
        self.known_groups = {text.split("/", 1)[0] for text in self.by_text if "/" in text}

    def match(self, rows: tuple[int, ...], names: list[str]) -> _Candidate:
        mapping: dict[str, int] = {}
        ignored: set[int] = set()
        normalised = [normalise_label(name) for name in names]
        for index, name in enumerate(normalised):
            if name in self.ignore:
                ignored.add(index)
                continue
            key = self.by_text.get(name)
            if key is not None and key not in mapping:
                mapping[key] = index
        for index, name in enumerate(normalised):
            if "/" not in name or index in mapping.values():
                continue
            group, sub = name.split("/", 1)
            key = self.by_text.get(sub)
            if group not in self.known_groups and key is not None and key not in mapping:
                mapping[key] = index
        return _Candidate(rows, tuple(names), mapping, frozenset(ignored), len(mapping) + len(ignored))


def _has_values(row: SourceRow) -> bool:
    return any(not is_empty(value) for value in row.cells)


def detect_header(rows: Sequence[SourceRow], matcher: HeaderMatcher, *, strict: bool = True) -> HeaderLayout:
    """The header among the first rows: the row, or pair of adjacent rows, that names the most fields.

    Strict, a header must name two known columns and every required field, else RosterReadError. Not
    strict (a person maps the columns), the best row is taken whatever it names, the first row when
    none names anything."""
    best: _Candidate | None = None
    for position, row in enumerate(rows):
        top = _row_texts(row)
        single = matcher.match((row.number,), top)
        candidate = single
        following = rows[position + 1] if position + 1 < len(rows) else None
        if following is not None and following.number == row.number + 1 and _is_sub_header(following):
            double = matcher.match((row.number, following.number), _two_row_names(top, _row_texts(following)))
            if double.score > single.score:
                candidate = double
        if best is None or candidate.score > best.score:
            best = candidate
    required = [item for item in matcher.fields if item.required]
    if not strict and best is not None:
        if best.score == 0:
            first = rows[0]
            best = _Candidate((first.number,), tuple(_row_texts(first)), {}, frozenset())
        return HeaderLayout(rows=best.rows, columns=best.columns, mapping=best.mapping, ignored=best.ignored)
    if best is None or best.score < 2 or any(item.key not in best.mapping for item in required):
        names = "、".join(f"“{item.label}”" for item in required) or _("已知的列名")
        raise RosterReadError(
            "header_not_found",
            _("未找到表头：前 %(rows)d 行中没有包含 %(names)s 等列名的一行。")
            % {"rows": HEADER_SCAN_ROWS, "names": names},
        )
    return HeaderLayout(rows=best.rows, columns=best.columns, mapping=best.mapping, ignored=best.ignored)


def _is_sub_header(row: SourceRow) -> bool:
    """A second header row holds text only (a data row has a number or a date somewhere)."""
    values = [value for value in row.cells if not is_empty(value)]
    return bool(values) and all(isinstance(value, str) for value in values)


def is_footer(cells: Sequence[CellValue]) -> bool:
    """A line below the data: 填表人：…, 审核人：…, a date on its own, 合计 …"""
    texts = [cell_text(value) for value in cells if not is_empty(value)]
    if not texts or len(texts) > FOOTER_MAX_CELLS:
        return False
    first = normalise_label(texts[0])
    if first.startswith(FOOTER_MARKERS):
        return True
    return all(_DATE_ONLY.match(text) for text in texts)


class RosterTable:
    """A roster with its header found: `data_rows()` gives the rows below the header that hold
    something to import — blank rows, footer lines and repeated headers are left out."""

    def __init__(
        self,
        roster: Roster,
        fields: Sequence[Field],
        *,
        ignore: Iterable[str] = ("序号",),
        mapping: Mapping[str, int] | None = None,
        strict: bool = True,
    ) -> None:
        self.roster = roster
        self.fields = fields
        self._rows = roster.rows()
        self._buffer: list[SourceRow] = []
        for row in self._rows:
            if _has_values(row):
                self._buffer.append(row)
                if len(self._buffer) >= HEADER_SCAN_ROWS:
                    break
        if not self._buffer:
            raise RosterReadError("no_rows", _("表格是空的，没有任何内容。"))
        self.layout = detect_header(
            self._buffer, HeaderMatcher(fields, ignore), strict=strict and mapping is None
        )
        if mapping is not None:
            self.layout = _with_mapping(self.layout, fields, mapping)

    @property
    def format(self) -> str:
        return self.roster.format

    @property
    def total_rows(self) -> int | None:
        return self.roster.total_rows

    def data_rows(self) -> Iterator[SourceRow]:
        last_header = self.layout.last_row
        useful = sorted(set(self.layout.mapping.values()))
        # Each column's header text, and for a two-row header also its upper and lower part: a header
        # repeated below (rosters pasted together) has the same texts again.
        header_texts: dict[int, set[str]] = {}
        for index in useful:
            text = self.layout.columns[index]
            header_texts[index] = {text, *text.split("/")}

        def wanted(row: SourceRow) -> bool:
            if row.number <= last_header:
                return False
            cells = row.cells
            width = len(cells)
            filled = [index for index in useful if index < width and not is_empty(cells[index])]
            if not filled:
                return False
            # A footer line has a few cells at most: the check is skipped for a full data row.
            if len(filled) <= FOOTER_MAX_CELLS and is_footer(cells):
                return False
            repeated = 0
            for index in filled:
                value = cells[index]
                if isinstance(value, str) and value.strip() in header_texts[index]:
                    repeated += 1
            return repeated * 2 < len(filled)

        for row in self._buffer:
            if wanted(row):
                yield row
        self._buffer = []
        for row in self._rows:
            if wanted(row):
                yield row


def _with_mapping(layout: HeaderLayout, fields: Sequence[Field], mapping: Mapping[str, int]) -> HeaderLayout:
    """The detected header with the mapping a person chose (field key → column index)."""
    keys = {item.key for item in fields}
    width = len(layout.columns)
    unknown = sorted(set(mapping) - keys)
    if unknown:
        raise RosterReadError("bad_mapping", _("未知的字段：%(keys)s") % {"keys": "、".join(unknown)})
    outside = sorted(key for key, index in mapping.items() if not 0 <= index < width)
    if outside:
        raise RosterReadError("bad_mapping", _("字段 %(keys)s 指向的列不存在") % {"keys": "、".join(outside)})
    if len(set(mapping.values())) != len(mapping):
        raise RosterReadError("bad_mapping", _("同一列不能对应两个字段"))
    missing = [item.label for item in fields if item.required and item.key not in mapping]
    if missing:
        raise RosterReadError(
            "bad_mapping", _("必须指定“%(labels)s”对应的列") % {"labels": "、".join(missing)}
        )
    return HeaderLayout(
        rows=layout.rows,
        columns=layout.columns,
        mapping=dict(mapping),
        ignored=layout.ignored - set(mapping.values()),
    )


def column_letter(index: int) -> str:
    """A for 0, Z for 25, AA for 26."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
