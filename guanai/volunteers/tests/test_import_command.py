"""`manage.py import_volunteers`: the JSON answer, the summary, the exit codes and the error report."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from openpyxl import load_workbook

from guanai.audit.models import AuditEvent
from guanai.imports.models import ImportBatch
from guanai.imports.tests.commands import call_import_command, frozen_today  # noqa: F401 - an autouse fixture
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.rosters import (
    FIRST_DATA_ROW,
    HEADER_MERGES,
    elder,
    elder_id,
    roster,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def import_volunteers(*args: str) -> tuple[str, str]:
    return call_import_command("import_volunteers", *args)


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    rows = roster(
        [
            elder("王建国", id_number=elder_id(1)),
            elder("李秀英", id_number="330127195807040020", gender="女"),
            elder("赵律", id_number=elder_id(5), specialties="法律"),
        ]
    )
    return write_xlsx(tmp_path / "五老花名册.xlsx", rows, merges=HEADER_MERGES)


def test_json_prints_exactly_the_result(regions: None, roster_file: Path) -> None:
    out, _err = import_volunteers(str(roster_file), "--region", "330127", "--json")

    assert json.loads(out) == {
        "rows": 3,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "errors": [
            {
                "row": FIRST_DATA_ROW + 1,
                "column": "身份证号",
                "code": "id_number_invalid",
                "message": "身份证号校验位不正确",
            },
            {
                "row": FIRST_DATA_ROW + 2,
                "column": "律师执业证号",
                "code": "law_licence_missing",
                "message": "法律专长须填写律师执业证号",
            },
        ],
    }
    assert Volunteer.objects.count() == 1
    assert AuditEvent.objects.filter(action="volunteers.import").count() == 1


def test_a_dry_run_counts_and_writes_nothing(regions: None, roster_file: Path) -> None:
    out, _err = import_volunteers(str(roster_file), "--region", "330127", "--dry-run", "--json")
    assert (json.loads(out)["created"], Volunteer.objects.count()) == (1, 0)

    import_volunteers(str(roster_file), "--region", "330127", "--json")
    out, _err = import_volunteers(str(roster_file), "--region", "330127", "--json", "--dry-run")
    assert (json.loads(out)["created"], json.loads(out)["unchanged"]) == (0, 1)
    assert ImportBatch.objects.filter(kind="volunteers", is_dry_run=True).count() == 2


def test_the_summary_names_rows_and_reasons(regions: None, roster_file: Path) -> None:
    out, err = import_volunteers(str(roster_file), "--region", "330127")

    assert "导入完成：共 3 行，新增 1，更新 0，未变 0，拒绝 2 行。" in out
    assert f"第 {FIRST_DATA_ROW + 1} 行 【身份证号】 身份证号校验位不正确（id_number_invalid）" in out
    assert (
        f"第 {FIRST_DATA_ROW + 2} 行 【律师执业证号】 法律专长须填写律师执业证号（law_licence_missing）"
        in out
    )
    assert "导入完成" not in err  # the progress bar goes to stderr, the summary to stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "文件是空的", id="empty"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, "文件不完整或已损坏", id="not a zip"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "无法识别的文件类型", id="wrong type"),
        pytest.param("标题\n1,2,3\n".encode(), "未找到表头", id="no header"),
    ],
)
def test_a_file_that_cannot_be_read_exits_non_zero(
    regions: None, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "五老花名册.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        import_volunteers(str(path), "--region", "330127", "--json")
    assert "无法读取文件 五老花名册.xlsx" in str(caught.value)
    assert reason in str(caught.value)
    assert Volunteer.objects.count() == 0


def test_a_truncated_workbook_exits_non_zero(regions: None, roster_file: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(roster_file.read_bytes()[: len(roster_file.read_bytes()) // 2])
    with pytest.raises(CommandError, match="文件不完整或已损坏"):
        import_volunteers(str(truncated), "--region", "330127")
    assert Volunteer.objects.count() == 0


def test_a_missing_file_or_an_unknown_region_exits_non_zero(
    regions: None, roster_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="找不到文件"):
        import_volunteers(str(tmp_path / "none.xlsx"), "--region", "330127")
    with pytest.raises(CommandError):
        import_volunteers(str(roster_file), "--region", "339999")
    with pytest.raises(CommandError):
        import_volunteers(str(roster_file), "--region", "330000")  # a province: too wide
    assert Volunteer.objects.count() == 0


def test_the_error_report_holds_the_refused_rows_and_imports_again(
    regions: None, roster_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "errors.xlsx"
    out, _err = import_volunteers(str(roster_file), "--region", "330127", "--error-report", str(report))
    assert f"错误行已写入 {report}" in out

    sheet = load_workbook(report).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["序号", "姓名", "性别", "出生日期", "身份证号"]
    assert rows[0][19:23] == ["背景审查/审查日期", "背景审查/审查结果", "背景审查/审查单位", "状态"]
    assert rows[0][-2:] == ["原表行号", "错误原因"]
    assert [row[1] for row in rows[1:]] == ["李秀英", "赵律"]
    assert rows[1][-2:] == [FIRST_DATA_ROW + 1, "【身份证号】身份证号校验位不正确"]

    # Corrected in place, the report imports as it is: the two added columns are ignored.
    fixed = [list(row) for row in rows]
    fixed[1][4] = elder_id(2, birth="19580704")
    fixed[2][10] = "13301199810123456"
    corrected = write_xlsx(tmp_path / "corrected.xlsx", fixed, merges=())
    out, _err = import_volunteers(str(corrected), "--region", "330127", "--json")
    assert json.loads(out) == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "errors": []}
    assert Volunteer.objects.count() == 3


def test_the_error_report_neutralises_formulas(regions: None, tmp_path: Path) -> None:
    rows = roster([elder('=HYPERLINK("http://x")', id_number="1", dialects="@SUM(1)")])
    path = write_csv(tmp_path / "r.csv", rows)
    report = tmp_path / "errors.xlsx"
    import_volunteers(str(path), "--region", "330127", "--error-report", str(report))

    with zipfile.ZipFile(report) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = load_workbook(report).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))[1]
    assert (values[1], values[18]) == ('\'=HYPERLINK("http://x")', "'@SUM(1)")
