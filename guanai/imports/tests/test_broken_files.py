"""Broken files, for every roster importer (issue 9, point 3): not a zip, truncated, empty, a PDF, a PNG
or a Word document named .xlsx, a 50 MB file, a sheet of formulas, formula-looking text in name columns.

Each is refused — through the service and through its command — with the Chinese reason of the shared
reader, and nothing of it is stored: no child, no volunteer, no audit event. The ImportBatch of the
attempt is kept, FAILED with that reason and no counts, as `guanai.imports.running` documents.

Formula cells are never evaluated: the reader takes the value Excel cached (none, for a file written
by a program), so a formula name is an empty name. Text that merely looks like a formula (a CSV cell
=HYPERLINK(...)) is a value like any other and is stored as the text it is; every path that writes it
into a workbook again (the error report, the registry's export) puts an apostrophe in front.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook, load_workbook

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor
from guanai.core.errors import ValidationFailed
from guanai.imports.models import ImportBatch
from guanai.imports.reading import RosterReadError
from guanai.imports.results import ImportResult
from guanai.imports.tests.commands import call_import_command, frozen_today  # noqa: F401 - an autouse fixture
from guanai.minors import services as minor_services
from guanai.minors.exports import minors_export
from guanai.minors.importing import minor_roster_import
from guanai.minors.models import Minor
from guanai.minors.selectors import MinorFilters
from guanai.minors.tests.ids import id_number
from guanai.minors.tests.rosters import child, township_roster, write_xlsx
from guanai.volunteers.importing import volunteer_roster_import
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.rosters import elder, elder_id
from guanai.volunteers.tests.rosters import roster as volunteer_roster

pytestmark = pytest.mark.django_db

COUNTY = "330127"  # 淳安县, where the county_a_admin persona works

NOT_A_SPREADSHEET = "无法识别的文件类型：请上传 .xlsx、.xls 或 .csv 格式的花名册。"
DAMAGED_ZIP = "文件不完整或已损坏（无法解压），请重新保存或重新上传。"
EMPTY = "文件是空的。"
WORD = "这是 Word 文档，不是表格：请上传 .xlsx、.xls 或 .csv 格式的花名册。"

Importer = Callable[..., ImportResult]
IMPORTERS: dict[str, Importer] = {"minors": minor_roster_import, "volunteers": volunteer_roster_import}
COMMANDS = {"minors": "import_minors", "volunteers": "import_volunteers"}


# --- The files ---------------------------------------------------------------------------------------


def real_xlsx(kind: str) -> bytes:
    """A valid roster of one row, of the kind's own layout."""
    buffer = io.BytesIO()
    rows = (
        township_roster([child("张三明", id_number=id_number(sequence=1))])
        if kind == "minors"
        else volunteer_roster([elder("王建国", id_number=elder_id(1))])
    )
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    workbook.save(buffer)
    return buffer.getvalue()


def random_bytes(size: int) -> bytes:
    return random.Random(9).randbytes(size)


def minimal_pdf() -> bytes:
    # As PDF writers save it: the binary comment on line 2 marks the file as binary, a compressed stream.
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Length 12 /Filter /FlateDecode >>\nstream\nx\x9c\x03\x00\x00\x00\x00\x01\x00\x00\n"
        b"endstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" + bytes(
        64
    )


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buffer.getvalue()


# name → (content, the code and message of the refusal). The kind is passed for the truncated file.
BROKEN: dict[str, tuple[Callable[[str], bytes], str, str]] = {
    "not a zip": (lambda kind: random_bytes(64 * 1024), "unsupported_type", NOT_A_SPREADSHEET),
    "truncated": (lambda kind: real_xlsx(kind)[: len(real_xlsx(kind)) // 2], "damaged_file", DAMAGED_ZIP),
    "empty": (lambda kind: b"", "empty_file", EMPTY),
    "pdf": (lambda kind: minimal_pdf(), "unsupported_type", NOT_A_SPREADSHEET),
    "png": (lambda kind: png(), "unsupported_type", NOT_A_SPREADSHEET),
    "docx": (lambda kind: docx(), "unsupported_type", WORD),
}


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def county_admin(personas: dict[str, Any]) -> Actor:
    return actor_for_user(personas["county_a_admin"])


def stored() -> tuple[int, int, int]:
    """Children, volunteers and audit events: what an import would leave."""
    return Minor.objects.count(), Volunteer.objects.count(), AuditEvent.objects.count()


def assert_failed_batch(kind: str, message: str, file_name: str) -> None:
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.status, batch.message, batch.file_name) == (kind, "failed", message, file_name)
    assert (batch.rows, batch.created, batch.updated, batch.unchanged, batch.error_count, batch.errors) == (
        0,
        0,
        0,
        0,
        0,
        [],
    )


# --- Through the service and the command -------------------------------------------------------------


@pytest.mark.parametrize("kind", IMPORTERS)
@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_file_is_refused_by_the_service(
    personas: dict[str, Any], tmp_path: Path, kind: str, broken: str
) -> None:
    content, code, message = BROKEN[broken]
    path = write(tmp_path, "花名册.xlsx", content(kind))
    before = stored()

    with pytest.raises(RosterReadError) as caught:
        IMPORTERS[kind](actor=county_admin(personas), path_or_file=path, region_code=COUNTY, dry_run=False)

    assert (caught.value.code, caught.value.message) == (code, message)
    assert stored() == before
    assert_failed_batch(kind, message, "花名册.xlsx")


@pytest.mark.parametrize("kind", IMPORTERS)
@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_upload_is_refused_by_the_service(personas: dict[str, Any], kind: str, broken: str) -> None:
    """The same file as a file object, as an upload hands it over."""
    content, code, message = BROKEN[broken]
    upload = io.BytesIO(content(kind))
    upload.name = "花名册.xlsx"
    before = stored()

    with pytest.raises(RosterReadError) as caught:
        IMPORTERS[kind](actor=county_admin(personas), path_or_file=upload, region_code=COUNTY, dry_run=True)

    assert (caught.value.code, caught.value.message) == (code, message)
    assert stored() == before
    assert_failed_batch(kind, message, "花名册.xlsx")


@pytest.mark.parametrize("kind", COMMANDS)
@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_file_is_refused_by_the_command(
    regions: None, tmp_path: Path, kind: str, broken: str
) -> None:
    content, _code, message = BROKEN[broken]
    path = write(tmp_path, "花名册.xlsx", content(kind))
    before = stored()

    with pytest.raises(CommandError) as caught:
        call_import_command(COMMANDS[kind], str(path), "--region", COUNTY, "--json")

    assert str(caught.value) == f"无法读取文件 花名册.xlsx：{message}"
    assert stored() == before
    assert_failed_batch(kind, message, "花名册.xlsx")


@pytest.mark.parametrize("kind", COMMANDS)
def test_a_missing_file_is_refused_by_the_command_before_anything(
    regions: None, tmp_path: Path, kind: str
) -> None:
    with pytest.raises(CommandError) as caught:
        call_import_command(COMMANDS[kind], str(tmp_path / "无.xlsx"), "--region", COUNTY)

    assert str(caught.value) == f"找不到文件：{tmp_path / '无.xlsx'}"
    assert stored() == (0, 0, 0)
    assert not ImportBatch.objects.exists()


# --- 50 MB -------------------------------------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.parametrize("kind", IMPORTERS)
def test_fifty_megabytes_of_noise_are_refused_from_their_first_bytes(
    personas: dict[str, Any], tmp_path: Path, kind: str
) -> None:
    """The reader decides by the first 64 KB: 50 MB of noise named .xlsx is never parsed. (The file is
    read once whole, for the batch's SHA-256.)"""
    path = tmp_path / "大文件.xlsx"
    with open(path, "wb") as handle:
        chunk = random_bytes(1024 * 1024)
        for _ in range(50):
            handle.write(chunk)
    assert path.stat().st_size == FIFTY_MB
    before = stored()

    with pytest.raises(RosterReadError) as caught:
        IMPORTERS[kind](actor=county_admin(personas), path_or_file=path, region_code=COUNTY, dry_run=False)

    assert (caught.value.code, caught.value.message) == ("unsupported_type", NOT_A_SPREADSHEET)
    assert stored() == before
    assert_failed_batch(kind, NOT_A_SPREADSHEET, "大文件.xlsx")


def test_an_upload_over_the_limit_is_refused_before_it_is_kept(
    personas: dict[str, Any], tmp_path: Path, settings: Any
) -> None:
    """The import page keeps no file over IMPORT_UPLOAD_MAX_BYTES (100 MB): refused by its size, unread."""
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "大文件.xlsx"
    with open(path, "wb") as handle:  # sparse: the size is what counts, the content is never read
        handle.truncate(minor_services.IMPORT_UPLOAD_MAX_BYTES + 1)
    before = stored()

    with open(path, "rb") as handle, pytest.raises(ValidationFailed) as caught:
        minor_services.import_upload_store(
            actor=county_admin(personas), upload=File(handle, name="大文件.xlsx"), region_code=COUNTY
        )

    assert caught.value.fields == {"file": ["文件超过 100 MB，请分成几个文件导入"]}
    assert list(minor_services.import_directory().iterdir()) == []
    assert stored() == before
    assert not ImportBatch.objects.exists()


# --- Formulas ----------------------------------------------------------------------------------------


def formula_sheet(path: Path) -> Path:
    """Every cell a formula, as a program writes it: no cached values."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in range(1, 6):
        sheet.append([f"=ROW()*{column}+{row}" for column in range(1, 10)])
    workbook.save(path)
    return path


@pytest.mark.parametrize("kind", IMPORTERS)
def test_a_sheet_of_formulas_is_empty(personas: dict[str, Any], tmp_path: Path, kind: str) -> None:
    """Formulas are not evaluated: without the values Excel caches, the sheet holds nothing."""
    path = formula_sheet(tmp_path / "公式.xlsx")
    before = stored()

    with pytest.raises(RosterReadError) as caught:
        IMPORTERS[kind](actor=county_admin(personas), path_or_file=path, region_code=COUNTY, dry_run=False)

    assert (caught.value.code, caught.value.message) == ("no_rows", "表格是空的，没有任何内容。")
    assert stored() == before
    assert_failed_batch(kind, "表格是空的，没有任何内容。", "公式.xlsx")


FORMULAS = ['=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)"]
# Names are stored without their spaces (张 三 is 张三), formulas too.
STORED = ['=HYPERLINK("http://evil","x")', "=cmd|'/Ccalc'!A0", "+1+1", "@SUM(1)"]


def formula_names_xlsx(path: Path) -> Path:
    """The four formulas typed into the name column of a real roster, as Excel stores them (+1+1 typed
    is the formula =+1+1), without cached values."""
    formulas = [formula if formula.startswith("=") else "=" + formula for formula in FORMULAS]
    rows = township_roster(
        [child("张三明", id_number=id_number(sequence=1))]
        + [
            child(formula, id_number=id_number(sequence=3 + 2 * index))
            for index, formula in enumerate(formulas)
        ]
    )
    return write_xlsx(path, rows)


def test_formula_cells_in_the_name_column_are_never_evaluated(
    personas: dict[str, Any], tmp_path: Path
) -> None:
    """A formula cell holds no name (its cached value is empty): the row is refused, the rest imported."""
    path = formula_names_xlsx(tmp_path / "公式.xlsx")

    result = minor_roster_import(
        actor=county_admin(personas), path_or_file=path, region_code=COUNTY, dry_run=False
    )

    assert (result.rows, result.created) == (5, 1)
    assert [(error.row, error.column, error.code) for error in result.errors] == [
        (row, "姓名", "name_required") for row in (6, 7, 8, 9)
    ]
    assert list(Minor.objects.values_list("name", flat=True)) == ["张三明"]


def formula_text_csv(path: Path, kind: str) -> Path:
    """The formulas as text in the name columns of a CSV file: values, not formulas, to the reader."""
    if kind == "minors":
        rows = township_roster(
            [
                child(
                    formula,
                    id_number=id_number(sequence=1 + 2 * index),
                    guardian=(FORMULAS[(index + 1) % 4], "父亲", "13905710001"),
                )
                for index, formula in enumerate(FORMULAS)
            ]
        )
    else:
        rows = volunteer_roster(
            [elder(formula, id_number=elder_id(1 + 2 * index)) for index, formula in enumerate(FORMULAS)]
        )
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if cell is None else cell for cell in row] for row in rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", IMPORTERS)
def test_formula_text_is_stored_as_text(personas: dict[str, Any], tmp_path: Path, kind: str) -> None:
    path = formula_text_csv(tmp_path / "公式.csv", kind)

    result = IMPORTERS[kind](
        actor=county_admin(personas), path_or_file=path, region_code=COUNTY, dry_run=False
    )

    assert (result.rows, result.created, result.errors) == (4, 4, [])
    model = Minor if kind == "minors" else Volunteer
    assert sorted(model.objects.values_list("name", flat=True)) == sorted(STORED)


def test_formula_text_goes_back_into_excel_as_text(personas: dict[str, Any], tmp_path: Path) -> None:
    """The registry's export: every formula-looking value is written with the apostrophe, so Excel shows it
    as text (and the roster reader drops the apostrophe again)."""
    actor = county_admin(personas)
    minor_roster_import(
        actor=actor,
        path_or_file=formula_text_csv(tmp_path / "公式.csv", "minors"),
        region_code=COUNTY,
        dry_run=False,
    )

    export = minors_export(actor=actor, filters=MinorFilters(), file_format="xlsx")

    workbook = load_workbook(io.BytesIO(b"".join(export.chunks)))  # type: ignore[union-attr]
    cells = [cell for row in workbook.worksheets[0].iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    for formula in STORED:
        assert "'" + formula in texts
        assert formula not in texts


@pytest.mark.parametrize("kind", COMMANDS)
def test_the_error_report_writes_formula_text_as_text(regions: None, tmp_path: Path, kind: str) -> None:
    """Refused rows go back into a workbook: their formula-looking names stay text there too."""
    path = formula_text_csv(tmp_path / "公式.csv", kind)
    content = path.read_text(encoding="utf-8").replace("富城村", "不存在村")
    path.write_text(content, encoding="utf-8")
    report = tmp_path / "错误.xlsx"

    _out, _err = call_import_command(
        COMMANDS[kind], str(path), "--region", COUNTY, "--error-report", str(report)
    )

    assert stored()[:2] == (0, 0)
    workbook = load_workbook(report)
    cells = [cell for row in workbook.worksheets[0].iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    assert {"'" + formula for formula in FORMULAS} <= texts
    assert not set(FORMULAS) & texts


# --- Through the import page -------------------------------------------------------------------------


def test_a_broken_upload_is_refused_by_the_import_page(
    clients: dict[str, Client], tmp_path: Path, settings: Any
) -> None:
    """The page keeps the upload, then step 2 reads it: the reason, and no batch, child or event."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = clients["county_a_admin"]
    events = AuditEvent.objects.count()
    upload = SimpleUploadedFile(
        "花名册.xlsx", real_xlsx("minors")[:1000], content_type="application/octet-stream"
    )

    response = client.post("/minors/import/", {"file": upload, "region": "330127000000"})
    assert response.status_code == 302
    page = client.get(response["Location"])

    assert page.status_code == 200
    assert page.templates[0].name == "minors/import_unreadable.html"
    assert DAMAGED_ZIP in page.content.decode()
    assert (Minor.objects.count(), ImportBatch.objects.count(), AuditEvent.objects.count()) == (0, 0, events)
