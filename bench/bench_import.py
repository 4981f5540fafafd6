"""Importing a county roster (花名册): rows per second against the raw limit, and peak memory at scale.

    .venv/bin/python bench/bench_import.py                    # SQLite, in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_import.py
                                                             # PostgreSQL, in a database bench_guanai_import
    BENCH_MEMORY_ROWS=1000000 .venv/bin/python bench/bench_import.py --memory

(a) Throughput. A roster of BENCH_ROWS children (default 100,000) is written with openpyxl in write-only
mode over the real villages of 淳安县 (the packaged 2023 regions, loaded into the bench database): a title
and 填报单位 above a two-row header (监护人情况 over 姓名 / 与儿童关系 / 联系电话), a 序号 column, footer
lines, dates as Excel dates and as 2012年7月21日 text, short village names with their township, one row in
a hundred refused (a wrong check digit). Then, in the same run and on the same file:

  raw     read with python-calamine and bulk-insert the same rows (children, then their guardians) with no
          validation at all: cells straight into model instances, the village by a dictionary lookup. The
          field types still encrypt the ID number, address and phone and compute the blind indexes: that
          is what storing these rows costs.
  import  `minor_roster_import` as the command and the web call it: header detection, every rule per cell,
          pinyin, matching against the registry by blind index, the duplicate-in-file check, bulk writes
          in one transaction, the audit event.
  again   the same import a second time: every row matched and found unchanged.

Each is run BENCH_ROUNDS times (default 2) on an emptied registry, best time kept.

(b) Memory (--memory). A roster of BENCH_MEMORY_ROWS rows (default 1,000,000) is imported in a child
process (so its peak resident memory, ru_maxrss, is the import's alone); a sheet that large is read by the
streaming reader (`guanai.imports.xlsx_stream`).
"""

from __future__ import annotations

import datetime
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
MEMORY_ROWS = int(os.environ.get("BENCH_MEMORY_ROWS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
COUNTY = "330127"  # 淳安县
COUNTY_CODE = COUNTY.ljust(12, "0")
REFUSED_EVERY = 100

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚方汪"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉梅子轩梓涵一诺欣怡宇航俊浩然佳琪思雨晨阳嘉欣雅婷"
CATEGORIES = [
    "留守儿童",
    "困境儿童（一类）",
    "困难家庭（低保）",
    "留守儿童、困难家庭",
    "新居民子女",
    "困境儿童（三类）",
]
NEEDS = ["学业", "心理", "学业、心理", "经济", "安全", "健康、经济"]
RELATIONSHIPS = ["祖父", "祖母", "父亲", "母亲", "外祖母"]
HEADER_TOP = [
    "序号", "姓名", "性别", "出生日期", "公民身份号码", "户口性质", "乡镇（街道）", "村（社区）", "现住址",
    "就读学校", "年级", "儿童类别", "需求", "监护人情况", None, None,
]  # fmt: skip
HEADER_SUB = [None] * 13 + ["姓名", "与儿童关系", "联系电话"]


def villages() -> list[tuple[str, str, str]]:
    """(township name, village short name, village code) of every village of the county."""
    from guanai.core.region_codes import RegionLevel
    from guanai.regions.models import Region

    townships = dict(
        Region.objects.within(COUNTY_CODE).filter(level=RegionLevel.TOWNSHIP).values_list("code", "name")
    )
    return [
        (townships[parent], short, code)
        for code, short, parent in Region.objects.within(COUNTY_CODE)
        .filter(level=RegionLevel.VILLAGE)
        .values_list("code", "short_name", "parent_id")
        .order_by("code")
    ]


def roster_rows(count: int, places: list[tuple[str, str, str]]) -> Iterator[list[Any]]:
    """Children with valid, distinct ID numbers of the county, born 6 to 15 years ago."""
    from stdnum.cn import ric

    rng = random.Random(20240301)  # noqa: S311 - synthetic children, not secrets
    today = datetime.date.today()
    first_birth = today.replace(year=today.year - 15) + datetime.timedelta(days=1)
    days = (today.replace(year=today.year - 6) - first_birth).days
    for index in range(count):
        birth = first_birth + datetime.timedelta(days=index % days)
        sequence = index // days + 1
        body = f"{COUNTY}{birth:%Y%m%d}{sequence:03d}"
        id_number = body + ric.calc_check_digit(body + "0")
        if index % REFUSED_EVERY == REFUSED_EVERY - 1:
            id_number = body + ("0" if id_number[-1] != "0" else "1")  # a wrong check digit
        gender = "男" if sequence % 2 else "女"
        township, village, _code = places[index % len(places)]
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        written_birth: Any = birth if index % 2 else f"{birth.year}年{birth.month}月{birth.day}日"
        yield [
            index + 1, name, gender, written_birth, id_number, "农业户口", township, village,
            f"{township}{village}{index % 200 + 1}号", f"{township}中心小学", f"{index % 6 + 1}年级",
            CATEGORIES[index % len(CATEGORIES)], NEEDS[index % len(NEEDS)],
            rng.choice(SURNAMES) + rng.choice(GIVEN), rng.choice(RELATIONSHIPS),
            f"139{index:08d}",
        ]  # fmt: skip


def write_roster(path: Path, count: int, places: list[tuple[str, str, str]]) -> float:
    from openpyxl import Workbook

    began = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["淳安县困境儿童花名册"])
    sheet.append(["填报单位：淳安县关工委", None, None, None, None, None, "填报日期：2024年3月1日"])
    sheet.append(HEADER_TOP)
    sheet.append(HEADER_SUB)
    for row in roster_rows(count, places):
        sheet.append(row)
    sheet.append([])
    sheet.append(["填表人：王芳", None, None, "审核人：李强"])
    workbook.save(path)
    return time.perf_counter() - began


def raw_insert(path: Path, places: list[tuple[str, str, str]]) -> int:
    """The limit: calamine rows into model instances and bulk inserts, nothing checked."""
    from python_calamine import CalamineWorkbook

    from guanai.minors.importing import WRITE_BATCH_SIZE
    from guanai.minors.models import Guardian, Minor

    village_codes = {(township, village): code for township, village, code in places}
    workbook = CalamineWorkbook.from_path(str(path))
    sheet = workbook.get_sheet_by_index(0)
    inserted = 0
    chunk: list[tuple[Minor, Guardian]] = []

    def flush() -> None:
        Minor.objects.bulk_create([minor for minor, _guardian in chunk], batch_size=WRITE_BATCH_SIZE)
        for minor, guardian in chunk:
            guardian.minor = minor
        Guardian.objects.bulk_create([guardian for _minor, guardian in chunk], batch_size=WRITE_BATCH_SIZE)
        chunk.clear()

    from django.db import transaction

    with transaction.atomic():
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells: list[Any] = row  # as calamine gives them: no conversion, no check
            if number <= 4 or not isinstance(cells[0], float) or int(cells[0]) % REFUSED_EVERY == 0:
                continue  # the title, header and footer lines, and the rows the import refuses
            birth = cells[3] if isinstance(cells[3], datetime.date) else datetime.date(2012, 7, 21)
            minor = Minor(
                name=cells[1],
                gender="male" if cells[2] == "男" else "female",
                birth_date=birth,
                id_number=cells[4],
                household_type="rural",
                region_id=village_codes[(cells[6], cells[7])],
                address=cells[8],
                school=cells[9],
                grade=cells[10],
                categories=1,
                needs=1,
            )
            chunk.append((minor, Guardian(name=cells[13], relationship=cells[14], phone=str(cells[15]))))
            inserted += 1
            if len(chunk) >= 1000:
                flush()
        if chunk:
            flush()
    workbook.close()
    return inserted


def empty_registry() -> None:
    from guanai.minors.models import Guardian, Minor

    Guardian.objects.all()._raw_delete(Guardian.objects.db)
    Minor.objects.all()._raw_delete(Minor.objects.db)


def timed_import(path: Path) -> tuple[float, Any]:
    from guanai.minors.importing import minor_roster_import

    began = time.perf_counter()
    result = minor_roster_import(actor=None, path_or_file=path, region_code=COUNTY, dry_run=False)
    return time.perf_counter() - began, result


def load_regions() -> float:
    from guanai.regions.services import read_packaged_rows, regions_load

    began = time.perf_counter()
    regions_load(rows=read_packaged_rows())
    return time.perf_counter() - began


def throughput(where: str, directory: Path) -> None:
    import guanai.minors.importing  # noqa: F401 - imported before anything is timed (pypinyin takes ~1 s)

    loading = load_regions()
    places = villages()
    path = directory / "roster.xlsx"
    writing = write_roster(path, ROWS, places)
    print(f"database: {where}")
    print(f"regions loaded in {loading:.1f} s; {len(places)} villages of 淳安县")
    print(f"roster: {ROWS:,} rows, {path.stat().st_size / 1e6:.1f} MB, written in {writing:.1f} s")

    raw_times, import_times, again_times = [], [], []
    result = None
    for _round in range(ROUNDS):
        empty_registry()
        began = time.perf_counter()
        inserted = raw_insert(path, places)
        raw_times.append(time.perf_counter() - began)
        empty_registry()
        seconds, result = timed_import(path)
        import_times.append(seconds)
        seconds, again = timed_import(path)
        again_times.append(seconds)
        assert (again.created, again.updated, again.unchanged) == (0, 0, result.created), again.as_json()
    assert result is not None
    assert result.rows == ROWS, result.rows
    assert len(result.errors) == ROWS // REFUSED_EVERY, result.as_json()["errors"][:3]
    raw_rate = inserted / min(raw_times)
    # Rates count the rows stored (the refused ones are left out of the raw insert too).
    import_rate = result.created / min(import_times)
    again_rate = result.created / min(again_times)
    print(
        f"raw limit (calamine + bulk insert, no validation): {raw_rate:8,.0f} rows/s ({min(raw_times):.1f} s)"
    )
    print(
        f"minor_roster_import, new rows:                    {import_rate:8,.0f} rows/s "
        f"({min(import_times):.1f} s; {result.created:,} created, {len(result.errors):,} refused)"
    )
    again_seconds = min(again_times)
    print(
        f"minor_roster_import, same file again (unchanged): {again_rate:8,.0f} rows/s ({again_seconds:.1f} s)"
    )
    print(f"ratio import / raw: {import_rate / raw_rate:.2f}   (again / raw: {again_rate / raw_rate:.2f})")
    print(f"rounds: {ROUNDS}, best kept; all: raw {raw_times}, import {import_times}, again {again_times}")


def memory(where: str, directory: Path) -> None:
    load_regions()
    places = villages()
    path = directory / "roster-large.xlsx"
    writing = write_roster(path, MEMORY_ROWS, places)
    print(f"database: {where}")
    print(f"roster: {MEMORY_ROWS:,} rows, {path.stat().st_size / 1e6:.1f} MB, written in {writing:.1f} s")
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    connection.close()
    began = time.perf_counter()
    child = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--memory-child", str(path)],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - began
    report = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"import of {report['rows']:,} rows: {seconds:.0f} s ({report['rows'] / seconds:,.0f} rows/s), "
        f"{report['created']:,} created, {report['errors']:,} refused, reader: {report['reader']}"
    )
    print(f"peak resident memory of the importing process (ru_maxrss): {report['peak_mb']:.0f} MB")
    print(f"  of which before the import (Django, regions, the interpreter): {report['baseline_mb']:.0f} MB")


def memory_child(path: Path) -> None:
    """Runs in its own process: import the file, print the peak memory as one JSON line."""
    from guanai.imports.reading import open_roster
    from guanai.minors.importing import minor_roster_import

    with open_roster(path) as roster:
        reader = type(roster).__name__
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = minor_roster_import(actor=None, path_or_file=path, region_code=COUNTY, dry_run=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": result.rows,
                "created": result.created,
                "errors": len(result.errors),
                "peak_mb": peak,
                "baseline_mb": baseline,
                "reader": reader,
            }
        )
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        memory_child(Path(sys.argv[2]))
        return
    settings = connection.settings_dict
    original_name = settings["NAME"]
    with tempfile.TemporaryDirectory() as directory:
        if connection.vendor == "sqlite":
            settings["TEST"]["NAME"] = str(Path(directory) / "bench_import.sqlite3")
            where = f"SQLite {sqlite3.sqlite_version} (a temporary file; WAL, synchronous=NORMAL)"
        else:
            settings["TEST"]["NAME"] = "bench_guanai_import"
            where = f"{connection.display_name} ({settings['HOST']}, database bench_guanai_import)"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            if "--memory" in sys.argv:
                memory(where, Path(directory))
            else:
                throughput(where, Path(directory))
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)


if __name__ == "__main__":
    main()
