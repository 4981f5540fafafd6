"""`manage.py backup` / `restore` (guanai.core.backup).

The commands run in subprocesses against file databases (pytest-django's SQLite test database lives in
memory and cannot be backed up as a file); the PostgreSQL round trip backs up the test database itself
and restores into a scratch database beside it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import struct
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from guanai.core import backup
from guanai.core.backup import (
    DUMP_SEGMENT,
    MAGIC,
    MANIFEST_SEGMENT,
    BackupError,
    Manifest,
    backup_key,
    backup_read_manifest,
    compute_manifest,
    new_header,
    parse_backup_key,
    read_header,
    read_segment,
    write_segment,
)

ROOT = Path(__file__).resolve().parents[3]
KEY_HEX = "00112233445566778899aabbccddeeff"
OTHER_KEY_HEX = "ffeeddccbbaa99887766554433221100"
WRONG_KEY = "备份密钥不对"
DAMAGED = "备份文件已损坏或被篡改"
TRUNCATED = "备份文件不完整（被截断）"
OTHER_KIND = "这不是本平台的备份文件"


def _environment(database_url: str, key: str = KEY_HEX) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "GUANAI_BACKUP_KEY": key,
    }


def _manage(database_url: str, *arguments: str, key: str = KEY_HEX) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *arguments, "--verbosity", "0"],
        cwd=ROOT,
        env=_environment(database_url, key),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _database_manifest(database_url: str) -> dict[str, Any]:
    """The manifest tables of another database, computed by the code under test in its own process."""
    program = (
        "import django, json; django.setup();"
        "from django.db import connection; from guanai.core.backup import compute_manifest;"
        "m = compute_manifest(connection);"
        "print(json.dumps({t: [e.rows, e.sm3] for t, e in m.tables.items()}))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=_environment(database_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dict(json.loads(done.stdout))


def _file_manifest(path: Path) -> Manifest:
    with override_settings(GUANAI_BACKUP_KEY=KEY_HEX):
        return backup_read_manifest(source=path)[1]


def _as_table_dict(manifest: Manifest) -> dict[str, list[Any]]:
    return {table: [entry.rows, entry.sm3] for table, entry in manifest.tables.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- SQLite: one filled database for the module ------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file database migrated and filled with the demo data set (regions, committees, accounts,
    children, volunteers, pairings, consultations: encrypted columns and many-to-many tables)."""
    path = tmp_path_factory.mktemp("backup") / "source.sqlite3"
    program = (
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('migrate', verbosity=0); call_command('load_regions', verbosity=0);"
        "call_command('load_demo', verbosity=0)"
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=_environment(_sqlite_url(path)),
        capture_output=True,
        check=True,
        timeout=300,
    )
    return path


@pytest.fixture(scope="module")
def sqlite_backup(sqlite_source: Path) -> Path:
    output = sqlite_source.with_name("source.guanai-backup")
    done = _manage(_sqlite_url(sqlite_source), "backup", str(output))
    assert done.returncode == 0, done.stderr
    return output


@pytest.fixture
def changed_target(sqlite_source: Path, tmp_path: Path) -> Path:
    """A copy of the source with one child deleted and one account renamed: what a restore must undo."""
    target = tmp_path / "target.sqlite3"
    # Closed explicitly (a `with` only commits): the last close checkpoints the WAL into the file, so the
    # file's bytes are the whole database and a refused restore must leave them as they are.
    with closing(sqlite3.connect(sqlite_source)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    with closing(sqlite3.connect(target)) as database:
        # As the application opens it (config.settings), so that merely opening it changes no byte.
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("DELETE FROM minors_minor WHERE id = (SELECT MIN(id) FROM minors_minor)")
        database.execute(
            "UPDATE accounts_user SET display_name = 'x' WHERE id = (SELECT MIN(id) FROM accounts_user)"
        )
        database.commit()
    return target


def test_backup_manifest_counts_every_table_of_the_database(sqlite_source: Path, sqlite_backup: Path) -> None:
    manifest = _file_manifest(sqlite_backup)
    with closing(sqlite3.connect(sqlite_source)) as database:
        tables = [
            name
            for (name,) in database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
            )
        ]
        counts = {name: database.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables}  # noqa: S608
        migrations = database.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
    assert {table: entry.rows for table, entry in manifest.tables.items()} == counts
    assert {"django_migrations", "minors_minor", "accounts_user", "accounts_user_groups"} <= set(counts)
    assert counts["minors_minor"] > 0
    assert manifest.vendor == "sqlite"
    assert manifest.migrations == migrations
    assert backup.model_tables() <= set(manifest.tables)
    # The manifest describes the database that was backed up, table by table.
    assert _as_table_dict(manifest) == _database_manifest(_sqlite_url(sqlite_source))


def test_backup_file_holds_no_plain_text(sqlite_backup: Path) -> None:
    data = sqlite_backup.read_bytes()
    assert data.startswith(MAGIC)
    assert b"SQLite format 3" not in data
    assert b"minors_minor" not in data
    assert "淳安".encode() not in data


def test_restore_brings_back_every_table(
    sqlite_source: Path, sqlite_backup: Path, changed_target: Path
) -> None:
    expected = _as_table_dict(_file_manifest(sqlite_backup))
    before = _database_manifest(_sqlite_url(changed_target))
    assert sorted(table for table in expected if before[table] != expected[table]) == [
        "accounts_user",
        "minors_minor",
    ]
    assert before["minors_minor"][0] == expected["minors_minor"][0] - 1

    done = _manage(_sqlite_url(changed_target), "restore", str(sqlite_backup), "--force")

    assert done.returncode == 0, done.stderr
    assert f"{len(expected)} 张表" in done.stdout
    assert _database_manifest(_sqlite_url(changed_target)) == expected


def test_restore_asks_before_overwriting_a_database_with_data(
    sqlite_backup: Path, changed_target: Path
) -> None:
    before = _sha256(changed_target)
    done = _manage(_sqlite_url(changed_target), "restore", str(sqlite_backup))
    assert done.returncode == 1
    assert "已有数据：确认要覆盖请加 --force" in done.stderr
    assert _sha256(changed_target) == before


def test_restore_into_a_new_file_needs_no_confirmation(sqlite_backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.sqlite3"
    done = _manage(_sqlite_url(target), "restore", str(sqlite_backup))
    assert done.returncode == 0, done.stderr
    assert _database_manifest(_sqlite_url(target)) == _as_table_dict(_file_manifest(sqlite_backup))


def _chunk_ends(data: bytes) -> list[int]:
    """The offsets where the header and each chunk of a backup file end."""
    (length,) = struct.unpack(">H", data[len(MAGIC) + 1 : len(MAGIC) + 3])
    offset = len(MAGIC) + 3 + length
    ends = [offset]
    while offset < len(data):
        (size,) = struct.unpack(">I", data[offset : offset + 4])
        offset += 4 + size
        ends.append(offset)
    return ends


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _damaged_copies(data: bytes) -> dict[str, tuple[bytes, str]]:
    ends = _chunk_ends(data)
    header_end, manifest_end = ends[0], ends[1]
    return {
        "flipped byte in the dump": (_flip(data, len(data) // 2), DAMAGED),
        "flipped byte in the manifest": (_flip(data, (header_end + manifest_end) // 2), DAMAGED),
        "flipped vendor in the header": (
            data.replace(b'"vendor": "sqlite"', b'"vendor": "sqlitf"', 1),
            DAMAGED,
        ),
        "cut at a chunk boundary": (data[: ends[3]], TRUNCATED),
        "cut inside a chunk": (data[: len(data) - 100], TRUNCATED),
        "two dump chunks swapped": (
            data[: ends[2]] + data[ends[3] : ends[4]] + data[ends[2] : ends[3]] + data[ends[4] :],
            DAMAGED,
        ),
        "bytes after the end": (data + b"\x00", "结尾有多余数据"),
        "a SQLite database": (b"SQLite format 3\x00" + data[16:4096], OTHER_KIND),
        "empty": (b"", OTHER_KIND),
    }


@pytest.mark.parametrize(
    "damage",
    [
        "flipped byte in the dump",
        "flipped byte in the manifest",
        "flipped vendor in the header",
        "cut at a chunk boundary",
        "cut inside a chunk",
        "two dump chunks swapped",
        "bytes after the end",
        "a SQLite database",
        "empty",
    ],
)
def test_restore_refuses_a_damaged_file_and_changes_nothing(
    sqlite_backup: Path, changed_target: Path, tmp_path: Path, damage: str
) -> None:
    content, message = _damaged_copies(sqlite_backup.read_bytes())[damage]
    damaged = tmp_path / "damaged.guanai-backup"
    damaged.write_bytes(content)
    before = _sha256(changed_target)

    done = _manage(_sqlite_url(changed_target), "restore", str(damaged), "--force")

    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert _sha256(changed_target) == before
    assert sorted(path.name for path in changed_target.parent.iterdir() if path.name.startswith(".")) == []


def test_restore_refuses_a_wrong_key_and_changes_nothing(sqlite_backup: Path, changed_target: Path) -> None:
    before = _sha256(changed_target)
    done = _manage(_sqlite_url(changed_target), "restore", str(sqlite_backup), "--force", key=OTHER_KEY_HEX)
    assert done.returncode == 1
    assert WRONG_KEY in done.stderr
    assert _sha256(changed_target) == before


def test_backup_refuses_to_run_without_a_key_in_production(sqlite_source: Path, tmp_path: Path) -> None:
    output = tmp_path / "none.guanai-backup"
    done = _manage(_sqlite_url(sqlite_source), "backup", str(output), key="")
    assert done.returncode == 1
    assert "未配置备份密钥" in done.stderr
    assert sorted(tmp_path.iterdir()) == []


def test_backup_does_not_overwrite_a_file(sqlite_source: Path, sqlite_backup: Path) -> None:
    before = _sha256(sqlite_backup)
    done = _manage(_sqlite_url(sqlite_source), "backup", str(sqlite_backup))
    assert done.returncode == 1
    assert "已存在，不会覆盖" in done.stderr
    assert _sha256(sqlite_backup) == before


# --- The key ----------------------------------------------------------------------------------------


def test_backup_key_is_hex_or_base64_of_sixteen_bytes() -> None:
    key = bytes(range(16))
    assert parse_backup_key(key.hex()) == key
    assert parse_backup_key(key.hex().upper() + "\n") == key
    assert parse_backup_key(base64.b64encode(key).decode()) == key
    for wrong in ("", "0011", key.hex() + "00", base64.b64encode(bytes(32)).decode(), "z" * 32):
        with pytest.raises(BackupError, match="格式不对"):
            parse_backup_key(wrong)


def test_backup_key_equal_to_a_field_key_is_refused() -> None:
    field_key = os.environ["GUANAI_FIELD_KEYS"].split(":", 1)[1]
    with (
        override_settings(GUANAI_BACKUP_KEY=field_key),
        pytest.raises(BackupError, match="不能与字段加密密钥相同"),
    ):
        backup_key()


def test_debug_without_a_key_generates_one_into_the_key_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUANAI_BACKUP_KEY", raising=False)
    monkeypatch.delenv("GUANAI_BACKUP_KEY_FILE", raising=False)
    with override_settings(DEBUG=True, GUANAI_BACKUP_KEY="", GUANAI_KEY_DIR=str(tmp_path)):
        first = backup_key()
        second = backup_key()
    assert first == second
    assert len(first) == 16
    assert (tmp_path / "backup-key").stat().st_mode & 0o777 == 0o600
    with (
        override_settings(DEBUG=False, GUANAI_BACKUP_KEY=""),
        pytest.raises(BackupError, match="未配置备份密钥"),
    ):
        backup_key()


def test_backup_key_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "key").write_text(KEY_HEX + "\n")
    monkeypatch.setenv("GUANAI_BACKUP_KEY_FILE", str(tmp_path / "key"))
    with override_settings(GUANAI_BACKUP_KEY=""):
        assert backup_key() == bytes.fromhex(KEY_HEX)


# --- The container, in memory ------------------------------------------------------------------------


def _sealed(segments: dict[int, list[bytes]], chunk_bytes: int = 4) -> tuple[bytes, bytes]:
    key = bytes.fromhex(KEY_HEX)
    header = new_header(key=key, vendor="sqlite")
    header = backup.Header(**{**header.__dict__, "chunk_bytes": chunk_bytes})
    header = backup.Header(**{**header.__dict__, "raw": header.encode()})
    output = io.BytesIO()
    output.write(header.raw)
    for segment, chunks in segments.items():
        write_segment(output, iter(chunks), key=key, header=header, segment=segment)
    return key, output.getvalue()


def _open(key: bytes, data: bytes) -> Iterator[bytes]:
    stream = io.BytesIO(data)
    header = read_header(stream, key=key)
    yield b"".join(read_segment(stream, key=key, header=header, segment=MANIFEST_SEGMENT))
    yield b"".join(read_segment(stream, key=key, header=header, segment=DUMP_SEGMENT))
    yield stream.read()


def test_segments_round_trip_in_chunks() -> None:
    key, data = _sealed({MANIFEST_SEGMENT: [b"{}"], DUMP_SEGMENT: [b"0123456789", b"abc"]})
    assert list(_open(key, data)) == [b"{}", b"0123456789abc", b""]
    # 13 bytes in chunks of 4: four chunks, each with a 4-byte length and a 16-byte tag.
    assert len(_chunk_ends(data)) - 1 == 1 + 4


def test_an_empty_dump_still_ends_with_a_final_chunk() -> None:
    key, data = _sealed({MANIFEST_SEGMENT: [b"{}"], DUMP_SEGMENT: []})
    assert list(_open(key, data)) == [b"{}", b"", b""]
    without_dump = data[: _chunk_ends(data)[1]]
    with pytest.raises(BackupError, match="截断"):
        list(_open(key, without_dump))


def test_a_chunk_moved_into_the_other_segment_is_refused() -> None:
    key, data = _sealed({MANIFEST_SEGMENT: [b"abc"], DUMP_SEGMENT: [b"abc"]})
    ends = _chunk_ends(data)
    dump_chunk_as_manifest = data[: ends[0]] + data[ends[1] : ends[2]] + data[ends[1] : ends[2]]
    with pytest.raises(BackupError, match="篡改"):
        list(_open(key, dump_chunk_as_manifest))


def test_a_header_from_another_backup_is_refused() -> None:
    key, first = _sealed({MANIFEST_SEGMENT: [b"{}"], DUMP_SEGMENT: [b"data"]})
    _key, second = _sealed({MANIFEST_SEGMENT: [b"{}"], DUMP_SEGMENT: [b"data"]})
    spliced = second[: _chunk_ends(second)[0]] + first[_chunk_ends(first)[0] :]
    with pytest.raises(BackupError, match="篡改"):
        list(_open(key, spliced))


def test_canonical_values_tell_types_apart() -> None:
    import datetime
    import decimal

    values = [None, True, 1, "1", 1.0, b"1", decimal.Decimal("1"), datetime.date(2026, 1, 1), {"a": 1}]
    canonical = [json.dumps(backup.canonical_value(value), sort_keys=True) for value in values]
    assert len(set(canonical)) == len(values)
    assert backup.canonical_value(uuid.UUID(int=1)) == {"UUID": "00000000-0000-0000-0000-000000000001"}


# --- PostgreSQL: back up the test database, restore into a scratch database ---------------------------


@pytest.fixture
def scratch_postgresql_database() -> Iterator[str]:
    name = f"guanai_backup_scratch_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgresql_url(name: str) -> str:
    settings_dict = connection.settings_dict
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    return (
        f"postgres://{settings_dict['USER']}{password}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{name}"
    )


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="PostgreSQL only (DATABASE_URL=postgres://…)",
)
@pytest.mark.django_db(transaction=True)
def test_postgresql_round_trip_restores_every_table(
    scratch_postgresql_database: str, personas: dict[str, Any], tmp_path: Path
) -> None:
    from guanai.pairings.tests.factories import build_visit_world

    build_visit_world(personas)
    original = compute_manifest(connection)
    assert original.tables["minors_minor"].rows == 3
    assert original.tables["pairings_pairing"].rows == 3
    output = tmp_path / "postgresql.guanai-backup"

    made = _manage(_postgresql_url(connection.settings_dict["NAME"]), "backup", str(output))
    assert made.returncode == 0, made.stderr
    in_file = _file_manifest(output)
    assert in_file.vendor == "postgresql"
    assert _as_table_dict(in_file) == _as_table_dict(original)

    restored = _manage(_postgresql_url(scratch_postgresql_database), "restore", str(output))
    assert restored.returncode == 0, restored.stderr
    assert _database_manifest(_postgresql_url(scratch_postgresql_database)) == _as_table_dict(original)

    # Over a database with data: only with --force, and a damaged file changes nothing.
    asked = _manage(_postgresql_url(scratch_postgresql_database), "restore", str(output))
    assert asked.returncode == 1
    assert "--force" in asked.stderr
    damaged = tmp_path / "damaged.guanai-backup"
    data = output.read_bytes()
    damaged.write_bytes(_flip(data, len(data) - 40))
    refused = _manage(_postgresql_url(scratch_postgresql_database), "restore", str(damaged), "--force")
    assert refused.returncode == 1
    assert DAMAGED in refused.stderr
    assert _database_manifest(_postgresql_url(scratch_postgresql_database)) == _as_table_dict(original)
