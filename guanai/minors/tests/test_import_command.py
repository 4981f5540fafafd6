"""`manage.py import_minors`: the JSON answer, the exit codes, the error report, the template."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from openpyxl import load_workbook

from guanai.imports.reading import open_roster
from guanai.imports.tests.commands import call_import_command, frozen_today  # noqa: F401 - an autouse fixture
from guanai.minors.importing import minor_roster_import, roster_preview, write_error_report, write_template
from guanai.minors.models import Minor
from guanai.minors.tests.ids import id_number
from guanai.minors.tests.rosters import FIRST_DATA_ROW, child, township_roster, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


def import_minors(*args: str) -> tuple[str, str]:
    return call_import_command("import_minors", *args)


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    rows = township_roster(
        [
            child("张三明", id_number=id_number(sequence=1)),
            child("李小红", id_number="330127201207210010"),
            child("王五", id_number=id_number(sequence=3), categories="困境儿童"),
        ]
    )
    return write_xlsx(tmp_path / "花名册.xlsx", rows)


def test_json_prints_exactly_the_result(regions: None, roster: Path) -> None:
    out, _err = import_minors(str(roster), "--region", "330127", "--json")

    assert json.loads(out) == {
        "rows": 3,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "errors": [
            {
                "row": FIRST_DATA_ROW + 1,
                "column": "公民身份号码",
                "code": "id_number_invalid",
                "message": "身份证号校验位不正确",
            },
            {
                "row": FIRST_DATA_ROW + 2,
                "column": "儿童类别",
                "code": "plight_class_missing",
                "message": "“困境儿童”须注明类别：一类（家庭贫困）、二类（自身残疾）或三类（监护缺失或不当）",
            },
        ],
    }
    assert Minor.objects.count() == 1


def test_a_dry_run_counts_and_writes_nothing(regions: None, roster: Path) -> None:
    out, _err = import_minors(str(roster), "--region", "330127", "--dry-run", "--json")

    assert (json.loads(out)["created"], Minor.objects.count()) == (1, 0)
    out, _err = import_minors(str(roster), "--region", "330127", "--json")
    out, _err = import_minors(str(roster), "--region", "330127", "--json", "--dry-run")
    assert (json.loads(out)["created"], json.loads(out)["unchanged"]) == (0, 1)


def test_the_summary_names_rows_and_reasons(regions: None, roster: Path) -> None:
    out, _err = import_minors(str(roster), "--region", "330127")

    assert "导入完成：共 3 行，新增 1，更新 0，未变 0，拒绝 2 行。" in out
    assert f"第 {FIRST_DATA_ROW + 1} 行 【公民身份号码】 身份证号校验位不正确（id_number_invalid）" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "文件是空的", id="empty"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, "文件不完整或已损坏", id="not a zip"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "无法识别的文件类型", id="wrong type"),
        pytest.param(b"<html><table><tr><td>1</td></tr></table></html>", "网页", id="html named .xls"),
        pytest.param("标题\n1,2,3\n".encode(), "未找到表头", id="no header"),
    ],
)
def test_a_file_that_cannot_be_read_exits_non_zero(
    regions: None, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "花名册.xls"
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        import_minors(str(path), "--region", "330127", "--json")
    assert "无法读取文件 花名册.xls" in str(caught.value)
    assert reason in str(caught.value)


def test_a_truncated_workbook_exits_non_zero(regions: None, roster: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(roster.read_bytes()[: len(roster.read_bytes()) // 2])
    with pytest.raises(CommandError, match="文件不完整或已损坏"):
        import_minors(str(truncated), "--region", "330127")


def test_an_unknown_region_exits_non_zero(regions: None, roster: Path) -> None:
    with pytest.raises(CommandError):
        import_minors(str(roster), "--region", "339999")


def test_the_error_report_holds_the_refused_rows_and_imports_again(
    regions: None, roster: Path, tmp_path: Path
) -> None:
    report = tmp_path / "errors.xlsx"
    import_minors(str(roster), "--region", "330127", "--error-report", str(report))

    sheet = load_workbook(report).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["序号", "姓名", "性别", "出生日期"]
    assert rows[0][-2:] == ["原表行号", "错误原因"]
    assert rows[0][8] == "监护人情况/姓名"
    assert [row[1] for row in rows[1:]] == ["李小红", "王五"]
    assert rows[1][-2:] == [FIRST_DATA_ROW + 1, "【公民身份号码】身份证号校验位不正确"]
    assert rows[1][10] == "13905710001"

    # Corrected in place, the report imports as it is: the two added columns are ignored.
    fixed = [list(row) for row in rows]
    fixed[1][4] = id_number(sequence=2)
    fixed[2][6] = "困境儿童（三类）"
    corrected = write_xlsx(tmp_path / "corrected.xlsx", fixed, merges=())
    out, _err = import_minors(str(corrected), "--region", "330127", "--json")
    assert json.loads(out) == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "errors": []}


def test_the_error_report_neutralises_formulas(regions: None, tmp_path: Path) -> None:
    rows = township_roster([child('=HYPERLINK("http://x")', id_number="1", village="@SUM(1)")])
    path = write_csv(tmp_path / "r.csv", rows)
    result = minor_roster_import(actor=None, path_or_file=path, region_code="330127", dry_run=True)
    report = tmp_path / "errors.xlsx"
    with open_roster(path) as source:
        assert write_error_report(result, source.rows(), report) == 1

    with zipfile.ZipFile(report) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    values = list(load_workbook(report).active.iter_rows(values_only=True))[1]
    assert (values[1], values[5]) == ('\'=HYPERLINK("http://x")', "'@SUM(1)")


def test_the_template_has_the_standard_header_and_drop_downs(regions: None, tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    write_template(template)

    workbook = load_workbook(template)
    sheet = workbook.active
    assert sheet is not None
    header = [cell.value for cell in sheet[3]]
    assert header[:6] == ["序号", "姓名*", "性别", "出生日期", "民族", "公民身份号码"]
    assert str(sheet["A2"].value).startswith("填写说明")
    lists = {
        str(validation.sqref).split(":")[0]: validation
        for validation in sheet.data_validations.dataValidation
    }
    column = {name: chr(65 + header.index(name)) for name in ("性别", "儿童类别", "风险等级", "户口性质")}
    assert lists[f"{column['性别']}4"].formula1 == '"男,女"'
    assert lists[f"{column['风险等级']}4"].formula1 == '"低,中,高"'
    assert lists[f"{column['户口性质']}4"].formula1 == '"农业户口,非农业户口"'
    assert "困境儿童（三类监护缺失或不当）" in lists[f"{column['儿童类别']}4"].formula1
    assert lists[f"{column['儿童类别']}4"].showErrorMessage is False  # several categories may be typed
    assert sheet["F4"].number_format == "@"  # the ID number stays text

    # Filled in, the template imports.
    filled = [[cell.value for cell in row] for row in sheet.iter_rows(max_row=3)]
    filled.append([1, "张三明", "男", None, "汉族", id_number(sequence=1), "农业户口", "千岛湖镇", "富城村"])
    result = minor_roster_import(
        actor=None,
        path_or_file=write_xlsx(tmp_path / "filled.xlsx", filled, merges=()),
        region_code="330127",
        dry_run=False,
    )
    assert (result.created, result.errors) == (1, [])


def test_preview_shows_the_detected_mapping_and_first_rows(regions: None, roster: Path) -> None:
    preview = roster_preview(roster, limit=2)

    assert preview.header_rows == (3, 4)
    assert preview.mapping["guardian_phone"] == 10
    assert preview.columns[10] == "监护人情况/联系电话"
    assert [row.number for row in preview.rows] == [FIRST_DATA_ROW, FIRST_DATA_ROW + 1]
    assert preview.rows[0].cells[1] == "张三明"
    assert preview.fields["village"] == "所在村（社区）"


def test_preview_of_an_unrecognised_header_offers_the_first_row(regions: None, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [["名", "证号"], ["张三明", id_number(sequence=1)]], merges=())
    preview = roster_preview(path)

    assert (preview.columns, preview.mapping, preview.header_rows) == (["名", "证号"], {}, (1,))


def test_every_choice_of_the_template_is_understood() -> None:
    from guanai.minors.importing import TEMPLATE_COLUMNS, parse_categories, parse_needs

    choices = {column.header: column.choices for column in TEMPLATE_COLUMNS if column.choices}
    assert all(parse_categories(choice)[0] for choice in choices["儿童类别"])
    assert len({parse_categories(choice) for choice in choices["儿童类别"]}) == len(choices["儿童类别"])
    assert [parse_needs(choice) for choice in choices["需求"]] == [1, 2, 4, 8, 16, 32, 64]
