"""Finding the header and the data rows of a roster, with generic fields (the reader knows no children)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from guanai.imports.cells import cell_text, neutralise_cell, normalise_label
from guanai.imports.headers import Field, RosterTable, column_letter, is_footer
from guanai.imports.reading import RosterReadError, open_roster

FIELDS = (
    Field("name", "姓名", ("志愿者姓名",), required=True),
    Field("phone", "联系电话", ("手机", "联系人/电话")),
    Field("team", "所在队伍", ("队伍",)),
    Field("contact_name", "联系人姓名", ("联系人/姓名",)),
)


def table(rows: list[list[Any]], **options: Any) -> RosterTable:
    text = "\n".join(",".join("" if value is None else str(value) for value in row) for row in rows)
    roster = open_roster(io.BytesIO(text.encode()))
    return RosterTable(roster, FIELDS, **options)


def data(rows: list[list[Any]], **options: Any) -> list[tuple[int, list[Any]]]:
    found = table(rows, **options)
    return [(row.number, row.cells) for row in found.data_rows()]


def test_rows_above_the_header_and_footer_lines_are_left_out() -> None:
    rows = [
        ["千岛湖镇志愿者名册"],
        ["填报单位：千岛湖镇关工委", "", "填报日期：2024年3月1日"],
        ["序号", "姓名", "手机", "队伍"],
        ["1", "王芳", "13905710001", "一队"],
        [],
        ["2", "李强", "13905710002", "二队"],
        ["合计", "2人"],
        ["填表人：王芳", "", "审核人：李强"],
        ["2024年3月1日"],
    ]
    found = table(rows)

    assert found.layout.rows == (3,)
    assert found.layout.mapping == {"name": 1, "phone": 2, "team": 3}
    assert found.layout.ignored == frozenset({0})
    assert [(row.number, row.cells[1]) for row in found.data_rows()] == [(4, "王芳"), (6, "李强")]


def test_a_two_row_merged_header_names_columns_group_slash_sub() -> None:
    rows = [
        ["序号", "姓名", "联系人", "", "队伍"],
        ["", "", "姓名", "电话", ""],
        ["1", "王芳", "李强", "13905710002", "一队"],
    ]
    found = table(rows)

    assert found.layout.rows == (1, 2)
    assert found.layout.columns == ("序号", "姓名", "联系人/姓名", "联系人/电话", "队伍")
    assert found.layout.mapping == {"name": 1, "contact_name": 2, "phone": 3, "team": 4}


def test_a_sub_header_under_an_unknown_group_counts_as_its_plain_name() -> None:
    rows = [["基本情况", "", "队伍"], ["姓名", "手机", ""], ["王芳", "13905710001", "一队"]]
    found = table(rows)

    assert found.layout.mapping == {"name": 0, "phone": 1, "team": 2}
    assert found.layout.columns[:2] == ("基本情况/姓名", "基本情况/手机")


def test_a_sub_header_under_a_known_group_is_not_taken_for_a_plain_field() -> None:
    """联系人/手机 is not the volunteer's own phone."""
    rows = [["姓名", "联系人", ""], ["", "姓名", "手机"], ["王芳", "李强", "13905710002"]]
    found = table(rows)

    assert found.layout.mapping == {"name": 0, "contact_name": 1}


def test_header_text_is_compared_loosely() -> None:
    rows = [["姓 名*", "联系电话：", "队伍（全称）"], ["王芳", "1", "一队"]]
    found = table(rows)

    assert found.layout.mapping == {"name": 0, "phone": 1}


def test_a_repeated_header_below_is_skipped() -> None:
    rows = [["姓名", "手机"], ["王芳", "1"], ["姓名", "手机"], ["李强", "2"]]
    assert [number for number, _cells in data(rows)] == [2, 4]


def test_rows_with_nothing_in_known_columns_are_skipped() -> None:
    rows = [["序号", "姓名", "手机", "备用"], ["1", "王芳", "1", ""], ["2", "", "", "随手写的字"]]
    assert [number for number, _cells in data(rows)] == [2]


def test_no_header_is_a_read_error() -> None:
    with pytest.raises(RosterReadError) as caught:
        table([["标题"], ["1", "2"]])
    assert caught.value.code == "header_not_found"
    assert "“姓名”" in caught.value.message


def test_an_empty_sheet_is_a_read_error() -> None:
    with pytest.raises(RosterReadError) as caught:
        table([[], [""]])
    assert caught.value.code == "no_rows"


def test_a_chosen_mapping_replaces_the_detected_one() -> None:
    rows = [["名", "号", "组"], ["王芳", "1", "一队"]]
    found = table(rows, mapping={"name": 0, "phone": 1})

    assert (found.layout.rows, found.layout.mapping) == ((1,), {"name": 0, "phone": 1})
    assert [row.cells[0] for row in found.data_rows()] == ["王芳"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"name": 0, "age": 1}, "未知的字段"),
        ({"name": 9}, "指向的列不存在"),
        ({"name": 0, "phone": 0}, "同一列不能对应两个字段"),
        ({"phone": 1}, "必须指定“姓名”对应的列"),
    ],
)
def test_a_chosen_mapping_is_checked(mapping: dict[str, int], message: str) -> None:
    with pytest.raises(RosterReadError, match=message):
        table([["名", "号", "组"], ["王芳", "1", "一队"]], mapping=mapping)


@pytest.mark.parametrize(
    ("cells", "footer"),
    [
        (["填表人：王芳"], True),
        (["", "审核人：李强", "", "联系电话：0571-1"], True),
        (["2024年3月1日"], True),
        (["二〇二四年三月一日"], False),
        (["2024.3.1", "2024.3.2"], True),
        (["王芳", "13905710001"], False),
        (["1", "王芳", "13905710001", "一队", "备注"], False),
    ],
)
def test_footer_lines(cells: list[str], footer: bool) -> None:
    assert is_footer(cells) is footer


# --- Cells ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+86 139", "'+86 139"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("张三", "张三"),
        (-5, -5),
        (None, None),
    ],
)
def test_neutralise_cell(value: Any, safe: Any) -> None:
    assert neutralise_cell(value) == safe


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (" 张三 ", "张三"),
        ("'3301", "3301"),
        (13905710001.0, "13905710001"),
        (1.5, "1.5"),
        (None, ""),
        (True, "是"),
    ],
)
def test_cell_text(value: Any, text: str) -> None:
    assert cell_text(value) == text


def test_normalise_label() -> None:
    assert normalise_label("所在村（社区）* ") == "所在村(社区)"
    assert normalise_label("No.") == "no."


def test_column_letter() -> None:
    assert [column_letter(index) for index in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
