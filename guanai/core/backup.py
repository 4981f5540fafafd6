"""Encrypted backups of the whole database, and their restore (`manage.py backup OUT`, `restore IN`).

The dump
    SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live database, consistent while
    the site runs, into a temporary file beside it (as well protected as the database itself).
    PostgreSQL: `pg_dump --format=custom --snapshot=…` streamed from its standard output; the manifest is
    computed in the REPEATABLE READ transaction whose snapshot pg_dump imports, so the row counts and
    checksums describe exactly the rows of the dump even while the site keeps writing.
    Field-encrypted columns stay encrypted inside the dump; the backup has its own key
    (`GUANAI_BACKUP_KEY`), so a backup stays restorable after the field keys are rotated — restoring it
    then needs the field keys it was written under, which `rotate_keys` keeps in the ring until done.

The file
    header   MAGIC "GUANAIBK", a version byte, a 2-byte length, then JSON: algorithm, database vendor,
             chunk size, a random 7-byte nonce prefix and a key check (HMAC-SM3 of the prefix under the
             backup key, so that a wrong key is told apart from a damaged file; it reveals nothing of the
             key).
    segment 0  the manifest (JSON), segment 1 the dump; each a run of chunks, a chunk being a 4-byte
             length and SM4-GCM ciphertext ‖ tag of at most CHUNK_BYTES of plaintext.

Why chunked SM4-GCM (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, as in age and
Tink) rather than SM4-CTR with one HMAC-SM3 over the whole file: every chunk is authenticated before a
byte of it is used, so a restore can stream the dump into pg_restore without trusting unverified data,
and memory stays at one chunk. The nonce of a chunk is prefix(7) ‖ segment(1) ‖ index(3) ‖ final(1):
reordering chunks, moving one into the other segment, or cutting the file after any chunk changes a
nonce and fails authentication; the header is the associated data of every chunk, so it cannot be
altered either. A nonce prefix is random per backup, and one key encrypts at most 2^24 chunks per
segment (16 TiB), far below GCM's limits.

The manifest holds when and from what the backup was made (vendor, Django and application version,
the migrations applied) and, for every table in the database — the tables of all models, the
auto-created many-to-many tables, django_migrations and whatever else the dump carries — the row count
and an SM3 checksum over the rows in primary-key order in a canonical text form. `table_manifest`
computes it the same way after a restore, and every table must match.

A restore verifies the whole file before it touches the database (a wrong key, a flipped byte, a
truncated file or a file of another kind changes nothing), then: SQLite — the verified copy is checked
against the manifest and written over the live database with the backup API (atomically, also for
other open connections); PostgreSQL — `pg_restore --clean --if-exists --no-owner --single-transaction`
reads the dump streamed again through decryption (a failure rolls everything back).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import decimal
import hmac as stdlib_hmac
import json
import logging
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import django
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from guanai.core import keys
from guanai.core.crypto import hmac_sm3

logger = logging.getLogger(__name__)

BACKUP_KEY = "GUANAI_BACKUP_KEY"
BACKUP_KEY_FILE_NAME = "backup-key"
BACKUP_KEY_BYTES = 16  # SM4
MAGIC = b"GUANAIBK"
FORMAT_VERSION = 1
ALGORITHM = "SM4-GCM-STREAM"
CHUNK_BYTES = 1024 * 1024
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 7
MAX_CHUNKS = 2**24
MANIFEST_SEGMENT = 0
DUMP_SEGMENT = 1
VENDORS = ("sqlite", "postgresql")
_SNAPSHOT_ALIAS = "guanai_backup_snapshot"


class BackupError(Exception):
    """A backup or restore cannot go on; the message is for the operator, in Chinese, without secrets."""


class RestoreMismatch(BackupError):
    """The restored database differs from the manifest in the listed tables."""

    def __init__(self, message: str, *, tables: list[str]) -> None:
        super().__init__(message)
        self.tables = tables


# --- The key ------------------------------------------------------------------------------------


def parse_backup_key(text: str) -> bytes:
    """32 hexadecimal characters or the base64 of 16 bytes (the form of GUANAI_FIELD_KEYS entries).

    Both forms are accepted because they cannot be confused: 32 hex characters decode as base64 to 24
    bytes, never 16. Anything else is refused: a mistyped key must not produce a backup nobody can open.
    """
    text = text.strip()
    if len(text) == 2 * BACKUP_KEY_BYTES and all(char in "0123456789abcdefABCDEF" for char in text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != BACKUP_KEY_BYTES:
        raise BackupError(
            _(
                "%(name)s 格式不对：应为 32 位十六进制字符，或 16 字节密钥的 base64（例如 "
                "`openssl rand -hex 16` 的输出）"
            )
            % {"name": BACKUP_KEY}
        )
    return key


def new_backup_key_text() -> str:
    return secrets.token_hex(BACKUP_KEY_BYTES) + "\n"


def backup_key() -> bytes:
    """The configured backup key: the setting GUANAI_BACKUP_KEY (which config.settings reads from
    GUANAI_BACKUP_KEY or GUANAI_BACKUP_KEY_FILE), else the environment; with DEBUG on and none
    configured, one generated once into GUANAI_KEY_DIR (var/backup-key). In production it is required.
    """
    text = getattr(settings, BACKUP_KEY, "") or _from_environment()
    if not text:
        if not settings.DEBUG:
            raise BackupError(
                _(
                    "未配置备份密钥：请设置 %(name)s 或 %(name)s_FILE（32 位十六进制，"
                    "`openssl rand -hex 16` 可生成），并与备份文件分开保管"
                )
                % {"name": BACKUP_KEY}
            )
        path = keys.local_key_dir() / BACKUP_KEY_FILE_NAME
        if keys.write_new_file(path, new_backup_key_text()):
            logger.warning("GUANAI_DEBUG is on and no backup key is configured: generated %s", path)
        text = path.read_text(encoding="utf-8")
    key = parse_backup_key(text)
    # A backup key equal to a field key would let one leaked secret open both the dump and its columns.
    try:
        field_keys = list(keys.key_ring().field_keys.values())
    except ImproperlyConfigured:
        field_keys = []  # the field keys are checked where they are used; a backup does not need them
    if any(stdlib_hmac.compare_digest(key, field_key) for field_key in field_keys):
        raise BackupError(_("%(name)s 不能与字段加密密钥相同") % {"name": BACKUP_KEY})
    return key


def _from_environment() -> str:
    file_name = os.environ.get(f"{BACKUP_KEY}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8")
        except OSError as error:
            raise BackupError(
                _("%(name)s_FILE 无法读取：%(error)s") % {"name": BACKUP_KEY, "error": error.strerror}
            ) from error
    return os.environ.get(BACKUP_KEY, "")


# --- The container format -------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    vendor: str
    nonce_prefix: bytes
    key_check: str
    chunk_bytes: int = CHUNK_BYTES
    algorithm: str = ALGORITHM
    raw: bytes = b""  # the header as it is in the file: the associated data of every chunk

    def encode(self) -> bytes:
        body = json.dumps(
            {
                "algorithm": self.algorithm,
                "vendor": self.vendor,
                "chunk_bytes": self.chunk_bytes,
                "nonce_prefix": self.nonce_prefix.hex(),
                "key_check": self.key_check,
                "format": "guanai backup",
            },
            sort_keys=True,
        ).encode("ascii")
        return MAGIC + struct.pack(">BH", FORMAT_VERSION, len(body)) + body


def _key_check(key: bytes, nonce_prefix: bytes) -> str:
    return hmac_sm3(key, b"guanai-backup-key-check" + nonce_prefix)[:16].hex()


def new_header(*, key: bytes, vendor: str) -> Header:
    prefix = secrets.token_bytes(NONCE_PREFIX_BYTES)
    header = Header(vendor=vendor, nonce_prefix=prefix, key_check=_key_check(key, prefix))
    return Header(**{**header.__dict__, "raw": header.encode()})


def read_header(stream: IO[bytes], *, key: bytes) -> Header:
    """The header of a backup file; BackupError for a file of another kind or a wrong key."""
    lead = stream.read(len(MAGIC) + 3)
    if len(lead) < len(MAGIC) + 3 or lead[: len(MAGIC)] != MAGIC:
        raise BackupError(_("这不是本平台的备份文件（文件头不对）"))
    version, length = struct.unpack(">BH", lead[len(MAGIC) :])
    if version != FORMAT_VERSION:
        raise BackupError(_("备份文件格式版本 %(version)d 不受支持") % {"version": version})
    body = stream.read(length)
    try:
        fields = json.loads(body)
        header = Header(
            vendor=str(fields["vendor"]),
            nonce_prefix=bytes.fromhex(fields["nonce_prefix"]),
            key_check=str(fields["key_check"]),
            chunk_bytes=int(fields["chunk_bytes"]),
            algorithm=str(fields["algorithm"]),
            raw=lead + body,
        )
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(_("备份文件已损坏（文件头无法解析）")) from error
    if header.algorithm != ALGORITHM or len(header.nonce_prefix) != NONCE_PREFIX_BYTES:
        raise BackupError(_("备份文件的加密算法 %(algorithm)s 不受支持") % {"algorithm": header.algorithm})
    if not 0 < header.chunk_bytes <= 64 * CHUNK_BYTES:
        raise BackupError(_("备份文件已损坏（文件头无法解析）"))
    if not stdlib_hmac.compare_digest(header.key_check, _key_check(key, header.nonce_prefix)):
        raise BackupError(_("备份密钥不对：这份备份不是用当前配置的 %(name)s 加密的") % {"name": BACKUP_KEY})
    return header


def _nonce(header: Header, segment: int, index: int, *, final: bool) -> bytes:
    if index >= MAX_CHUNKS:
        raise BackupError(_("备份太大：超出单个文件的分块上限"))
    return header.nonce_prefix + bytes([segment]) + index.to_bytes(3, "big") + (b"\x01" if final else b"\x00")


def write_segment(
    output: IO[bytes], chunks: Iterator[bytes], *, key: bytes, header: Header, segment: int
) -> int:
    """Encrypt `chunks` (each at most header.chunk_bytes) as one segment; returns the plaintext bytes.

    One chunk is held back so that the last one can be flagged final; an empty input still writes one
    (empty) final chunk, so that a segment cut off entirely is detected too.
    """
    total = 0
    index = 0
    pending: bytes | None = None
    for chunk in _rechunk(chunks, header.chunk_bytes):
        if pending is not None:
            output.write(_seal(pending, key=key, header=header, segment=segment, index=index, final=False))
            index += 1
        pending = chunk
        total += len(chunk)
    output.write(_seal(pending or b"", key=key, header=header, segment=segment, index=index, final=True))
    return total


def _seal(plaintext: bytes, *, key: bytes, header: Header, segment: int, index: int, final: bool) -> bytes:
    encryptor = Cipher(
        algorithms.SM4(key), modes.GCM(_nonce(header, segment, index, final=final))
    ).encryptor()
    encryptor.authenticate_additional_data(header.raw)
    sealed = encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    return struct.pack(">I", len(sealed)) + sealed


def read_segment(stream: IO[bytes], *, key: bytes, header: Header, segment: int) -> Iterator[bytes]:
    """The authenticated plaintext chunks of one segment; a chunk is yielded only after its tag is
    verified. BackupError when the file is damaged, altered or cut short."""
    damaged = _("备份文件已损坏或被篡改（校验失败），未做任何改动")
    truncated = _("备份文件不完整（被截断），未做任何改动")
    index = 0
    while True:
        lead = stream.read(4)
        if len(lead) < 4:
            raise BackupError(truncated)
        (length,) = struct.unpack(">I", lead)
        if not TAG_BYTES <= length <= header.chunk_bytes + TAG_BYTES:
            raise BackupError(damaged)
        sealed = stream.read(length)
        if len(sealed) < length:
            raise BackupError(truncated)
        ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
        for final in (False, True):
            decryptor = Cipher(
                algorithms.SM4(key), modes.GCM(_nonce(header, segment, index, final=final), tag)
            ).decryptor()
            decryptor.authenticate_additional_data(header.raw)
            try:
                plaintext = decryptor.update(ciphertext) + decryptor.finalize()
            except InvalidTag:
                continue
            break
        else:
            raise BackupError(damaged)
        yield plaintext
        if final:
            return
        index += 1


def _rechunk(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def _file_chunks(handle: IO[bytes], progress: tqdm | None = None) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_BYTES):
        if progress is not None:
            progress.update(len(chunk))
        yield chunk


# --- The manifest ---------------------------------------------------------------------------------

_POSTGRES_TEXT_TYPES = {25, 1042, 1043}  # text, char(n), varchar(n): ordered byte-wise, not by collation


@dataclass(frozen=True)
class TableEntry:
    rows: int
    sm3: str


@dataclass
class Manifest:
    created_at: str
    vendor: str
    django_version: str
    app_version: str
    migrations: list[tuple[str, str]]
    tables: dict[str, TableEntry] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "created_at": self.created_at,
                "vendor": self.vendor,
                "django_version": self.django_version,
                "app_version": self.app_version,
                "migrations": [list(item) for item in self.migrations],
                "tables": {name: {"rows": e.rows, "sm3": e.sm3} for name, e in sorted(self.tables.items())},
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            fields = json.loads(data)
            return cls(
                created_at=fields["created_at"],
                vendor=fields["vendor"],
                django_version=fields["django_version"],
                app_version=fields["app_version"],
                migrations=[(app, name) for app, name in fields["migrations"]],
                tables={
                    name: TableEntry(rows=int(entry["rows"]), sm3=str(entry["sm3"]))
                    for name, entry in fields["tables"].items()
                },
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(_("备份文件的清单无法解析")) from error


def canonical_value(value: Any) -> Any:
    """A JSON value that stands for `value` the same way whichever run read it: the text of a row in
    the checksum. Types are tagged where two of them could print alike."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return {type(value).__name__: str(value)}
    if isinstance(value, dict | list):
        return {"json": json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)}
    return {type(value).__name__: str(value)}


def table_entry(connection: BaseDatabaseWrapper, table: str, *, batch_size: int = 2000) -> TableEntry:
    """Row count and SM3 over the canonical rows of `table` in primary-key order (every column, in the
    table's own column order)."""
    quote = connection.ops.quote_name
    columns, primary_key, text_columns = _table_columns(connection, table)
    order = ", ".join(
        quote(name) + (' COLLATE "C"' if name in text_columns else "") for name in primary_key or columns
    )
    selected = ", ".join(quote(name) for name in columns)
    # The names come from the database's own catalogue, quoted; no value is interpolated.
    sql = f"SELECT {selected} FROM {quote(table)} ORDER BY {order}"  # noqa: S608
    digest_input = _Sm3Stream()
    rows = 0
    cursor = connection.chunked_cursor() if connection.vendor == "postgresql" else connection.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(batch_size):
            for row in batch:
                line = json.dumps(
                    [canonical_value(value) for value in row], ensure_ascii=False, separators=(",", ":")
                )
                digest_input.update(line.encode("utf-8") + b"\n")
            rows += len(batch)
    finally:
        cursor.close()
    return TableEntry(rows=rows, sm3=digest_input.hexdigest())


def _table_columns(connection: BaseDatabaseWrapper, table: str) -> tuple[list[str], list[str], set[str]]:
    """The columns of `table` as the database has them (not as the models say: a backup may be older),
    its primary-key columns, and the PostgreSQL text columns, ordered byte-wise rather than by collation
    so that a database created with another locale orders them alike."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # PRAGMA rather than Django's introspection, which cannot parse some CHECK constraints.
            cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
            info = cursor.fetchall()
            primary_key = [row[1] for row in sorted((row for row in info if row[5]), key=lambda row: row[5])]
            return [row[1] for row in info], primary_key, set()
        description = connection.introspection.get_table_description(cursor, table)
        primary_key = connection.introspection.get_primary_key_columns(cursor, table) or []
    text_columns = {column.name for column in description if column.type_code in _POSTGRES_TEXT_TYPES}
    return [column.name for column in description], primary_key, text_columns


class _Sm3Stream:
    """SM3 of everything fed in (crypto.sm3_hex wants the whole input at once)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import hashes

        self._hash = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.finalize().hex()


def database_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """Every table of the database (not views): those of the models, the auto-created many-to-many
    tables, django_migrations, and anything else a dump would carry."""
    with connection.cursor() as cursor:
        return sorted(
            info.name for info in connection.introspection.get_table_list(cursor) if info.type in {"t", "p"}
        )


def model_tables() -> set[str]:
    from django.apps import apps

    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    } | {"django_migrations"}


def compute_manifest(
    connection: BaseDatabaseWrapper, *, tables: list[str] | None = None, show_progress: bool = False
) -> Manifest:
    """The manifest of the database behind `connection`: of `tables`, or of every table."""
    tables = database_tables(connection) if tables is None else tables
    migrations: list[tuple[str, str]] = []
    if "django_migrations" in database_tables(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
            migrations = [(str(app), str(name)) for app, name in cursor.fetchall()]
    manifest = Manifest(
        created_at=timezone.now().isoformat(),
        vendor=connection.vendor,
        django_version=django.get_version(),
        app_version=app_version(),
        migrations=migrations,
    )
    for table in tqdm(
        tables, desc=_("计算校验和"), unit="表", disable=not show_progress or None, file=sys.stderr
    ):
        manifest.tables[table] = table_entry(connection, table)
    return manifest


def app_version() -> str:
    """`git describe` of the checkout when there is one, else the installed package's version."""
    git = shutil.which("git")
    if git and (Path(settings.BASE_DIR) / ".git").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            described = subprocess.run(  # noqa: S603 — fixed arguments, no shell
                [git, "describe", "--always", "--tags", "--dirty"],
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            if described:
                return described
    try:
        return metadata.version("guanai")
    except metadata.PackageNotFoundError:
        return "unknown"


def compare_manifests(expected: Manifest, actual: Manifest) -> list[str]:
    """The tables of `expected` whose rows differ in `actual` (missing tables included), sorted."""
    return sorted(name for name, entry in expected.tables.items() if actual.tables.get(name) != entry)


# --- Backup ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    vendor: str
    tables: int
    rows: int
    dump_bytes: int
    file_bytes: int


def database_vendor(alias: str = DEFAULT_DB_ALIAS) -> str:
    vendor = connections[alias].vendor
    if vendor not in VENDORS:
        raise BackupError(_("不支持备份 %(vendor)s 数据库") % {"vendor": vendor})
    return vendor


def backup_create(*, output: Path, show_progress: bool = False) -> BackupResult:
    """Write an encrypted backup of the default database to `output` (which must not exist).

    The file is written as `output.partial` (mode 0600) and renamed when complete, so that a crash never
    leaves something that looks like a backup.
    """
    key = backup_key()
    vendor = database_vendor()
    if output.exists():
        raise BackupError(_("%(path)s 已存在，不会覆盖") % {"path": output})
    partial = output.with_name(output.name + ".partial")
    header = new_header(key=key, vendor=vendor)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(header.raw)
            if vendor == "sqlite":
                manifest, dump_bytes = _backup_sqlite(
                    handle, key=key, header=header, show_progress=show_progress
                )
            else:
                manifest, dump_bytes = _backup_postgresql(
                    handle, key=key, header=header, show_progress=show_progress
                )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(
        path=output,
        vendor=vendor,
        tables=len(manifest.tables),
        rows=sum(entry.rows for entry in manifest.tables.values()),
        dump_bytes=dump_bytes,
        file_bytes=output.stat().st_size,
    )


def _write_manifest(handle: IO[bytes], manifest: Manifest, *, key: bytes, header: Header) -> None:
    data = manifest.to_json()
    write_segment(
        handle,
        iter([data[start : start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)]),
        key=key,
        header=header,
        segment=MANIFEST_SEGMENT,
    )


def _sqlite_path() -> Path:
    name = str(settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(_("SQLite 内存数据库无法备份：请配置数据库文件"))
    return Path(name)


@contextlib.contextmanager
def _sqlite_snapshot_connection(path: Path) -> Iterator[BaseDatabaseWrapper]:
    """A Django connection to another SQLite file, so that its manifest is computed by the same code
    (and the same introspection) as the live database's."""
    connections.settings[_SNAPSHOT_ALIAS] = {
        **connections.settings[DEFAULT_DB_ALIAS],
        "NAME": str(path),
        "OPTIONS": {},  # no WAL switch on a file that is about to be copied
        "CONN_MAX_AGE": 0,
    }
    try:
        yield connections[_SNAPSHOT_ALIAS]
    finally:
        connections[_SNAPSHOT_ALIAS].close()
        del connections[_SNAPSHOT_ALIAS]
        del connections.settings[_SNAPSHOT_ALIAS]


def _backup_sqlite(
    handle: IO[bytes], *, key: bytes, header: Header, show_progress: bool
) -> tuple[Manifest, int]:
    source_path = _sqlite_path()
    if not source_path.exists():
        raise BackupError(_("数据库文件 %(path)s 不存在") % {"path": source_path})
    descriptor, temporary_name = tempfile.mkstemp(
        dir=source_path.parent, prefix=f".{source_path.name}.backup-"
    )
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        source = sqlite3.connect(source_path)
        target = sqlite3.connect(temporary)
        try:
            # All pages in one step: one read transaction, so the copy is one consistent state.
            source.backup(target)
        finally:
            target.close()
            source.close()
        with _sqlite_snapshot_connection(temporary) as snapshot:
            manifest = compute_manifest(snapshot, show_progress=show_progress)
        _write_manifest(handle, manifest, key=key, header=header)
        size = temporary.stat().st_size
        with (
            temporary.open("rb") as dump,
            tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc=_("加密"),
                disable=not show_progress or None,
                file=sys.stderr,
            ) as progress,
        ):
            dump_bytes = write_segment(
                handle, _file_chunks(dump, progress), key=key, header=header, segment=DUMP_SEGMENT
            )
    finally:
        temporary.unlink(missing_ok=True)
    return manifest, dump_bytes


def postgresql_environment(alias: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """The libpq environment of pg_dump / pg_restore: the password goes there, never on a command line."""
    database = settings.DATABASES[alias]
    environment = {**os.environ}
    for variable, value in (
        ("PGHOST", database.get("HOST")),
        ("PGPORT", database.get("PORT")),
        ("PGUSER", database.get("USER")),
        ("PGPASSWORD", database.get("PASSWORD")),
        ("PGDATABASE", database.get("NAME")),
        ("PGSSLMODE", (database.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            environment[variable] = str(value)
    return environment


def _postgresql_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("找不到 %(tool)s：请安装与数据库服务器版本一致的 PostgreSQL 客户端") % {"tool": name}
        )
    return path


def _backup_postgresql(
    handle: IO[bytes], *, key: bytes, header: Header, show_progress: bool
) -> tuple[Manifest, int]:
    pg_dump = _postgresql_tool("pg_dump")
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        manifest = compute_manifest(connection, show_progress=show_progress)
        _write_manifest(handle, manifest, key=key, header=header)
        # The snapshot stays valid while this transaction is open: pg_dump sees the manifest's rows.
        process = subprocess.Popen(  # noqa: S603 — fixed arguments, no shell
            [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=postgresql_environment(),
        )
        assert process.stdout is not None
        with tqdm(
            unit="B", unit_scale=True, desc="pg_dump", disable=not show_progress or None, file=sys.stderr
        ) as progress:
            try:
                dump_bytes = write_segment(
                    handle,
                    _file_chunks(process.stdout, progress),
                    key=key,
                    header=header,
                    segment=DUMP_SEGMENT,
                )
            finally:
                process.stdout.close()
                errors = process.stderr.read() if process.stderr else b""
                returncode = process.wait()
        if returncode != 0:
            raise BackupError(
                _("pg_dump 失败（退出码 %(code)d）：%(errors)s")
                % {"code": returncode, "errors": errors.decode("utf-8", "replace").strip()}
            )
    return manifest, dump_bytes


# --- Restore --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    tables: int
    rows: int
    extra_tables: list[str]


def backup_read_manifest(*, source: Path) -> tuple[Header, Manifest]:
    """Verify the whole file (every chunk, and that nothing follows the end) and return its manifest."""
    key = backup_key()
    with _open_backup(source) as handle:
        header = read_header(handle, key=key)
        manifest = Manifest.from_json(
            b"".join(read_segment(handle, key=key, header=header, segment=MANIFEST_SEGMENT))
        )
        for _chunk in read_segment(handle, key=key, header=header, segment=DUMP_SEGMENT):
            pass
        _expect_end(handle)
    return header, manifest


@contextlib.contextmanager
def _open_backup(source: Path) -> Iterator[IO[bytes]]:
    try:
        handle = source.open("rb")
    except OSError as error:
        raise BackupError(
            _("无法读取 %(path)s：%(error)s") % {"path": source, "error": error.strerror}
        ) from error
    with handle:
        yield handle


def _expect_end(handle: IO[bytes]) -> None:
    if handle.read(1):
        raise BackupError(_("备份文件已损坏或被篡改（结尾有多余数据），未做任何改动"))


def database_has_tables(alias: str = DEFAULT_DB_ALIAS) -> bool:
    return bool(database_tables(connections[alias]))


def backup_restore(
    *, source: Path, confirm: Callable[[], bool] | None = None, show_progress: bool = False
) -> RestoreResult:
    """Restore the default database from the backup at `source`, then prove it: every table of the
    manifest is recomputed and compared (RestoreMismatch lists those that differ).

    `confirm` is asked when the target already holds tables; None means it may be replaced.
    Everything that can refuse the file does so before the database is touched.
    """
    key = backup_key()
    vendor = database_vendor()
    with _open_backup(source) as handle:
        header = read_header(handle, key=key)
        manifest = Manifest.from_json(
            b"".join(read_segment(handle, key=key, header=header, segment=MANIFEST_SEGMENT))
        )
        # Only now is the header authenticated (it is the associated data of the manifest's chunks).
        if header.vendor != vendor:
            raise BackupError(
                _("这是 %(backup)s 数据库的备份，当前配置的是 %(current)s 数据库")
                % {"backup": header.vendor, "current": vendor}
            )
        if vendor == "sqlite":
            restored = _restore_sqlite(
                handle,
                key=key,
                header=header,
                manifest=manifest,
                confirm=confirm,
                show_progress=show_progress,
            )
        else:
            restored = _restore_postgresql(
                handle, source=source, key=key, header=header, confirm=confirm, show_progress=show_progress
            )
    if not restored:
        raise BackupError(_("已取消，数据库未改动"))
    connection = connections[DEFAULT_DB_ALIAS]
    present = set(database_tables(connection))
    actual = compute_manifest(
        connection, tables=[name for name in manifest.tables if name in present], show_progress=show_progress
    )
    different = compare_manifests(manifest, actual)
    if different:
        raise RestoreMismatch(
            _("恢复后以下 %(count)d 张表与备份清单不一致：%(tables)s")
            % {"count": len(different), "tables": "、".join(different)},
            tables=different,
        )
    return RestoreResult(
        manifest=manifest,
        tables=len(manifest.tables),
        rows=sum(entry.rows for entry in manifest.tables.values()),
        extra_tables=sorted(present - set(manifest.tables)),
    )


def _restore_sqlite(
    handle: IO[bytes],
    *,
    key: bytes,
    header: Header,
    manifest: Manifest,
    confirm: Callable[[], bool] | None,
    show_progress: bool,
) -> bool:
    target_path = _sqlite_path()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(
        dir=target_path.parent, prefix=f".{target_path.name}.restore-"
    )
    temporary = Path(temporary_name)
    try:
        with (
            os.fdopen(descriptor, "wb") as copy,
            tqdm(
                unit="B", unit_scale=True, desc=_("解密"), disable=not show_progress or None, file=sys.stderr
            ) as progress,
        ):
            for chunk in read_segment(handle, key=key, header=header, segment=DUMP_SEGMENT):
                copy.write(chunk)
                progress.update(len(chunk))
        _expect_end(handle)
        # The decrypted copy must itself be what the manifest describes before it replaces anything.
        with _sqlite_snapshot_connection(temporary) as snapshot:
            with snapshot.cursor() as cursor:
                cursor.execute("PRAGMA integrity_check")
                if cursor.fetchone()[0] != "ok":
                    raise BackupError(_("备份中的数据库文件不完整，未做任何改动"))
            copy_manifest = compute_manifest(snapshot, tables=list(manifest.tables))
        if different := compare_manifests(manifest, copy_manifest):
            raise BackupError(
                _("备份中的数据与清单不符（%(tables)s），未做任何改动") % {"tables": "、".join(different)}
            )
        if confirm is not None and database_has_tables() and not confirm():
            return False
        connections.close_all()
        source = sqlite3.connect(temporary)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            # One step, under the target's write lock: other connections see the old database or the new.
            source.backup(target)
        finally:
            target.close()
            source.close()
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _restore_postgresql(
    handle: IO[bytes],
    *,
    source: Path,
    key: bytes,
    header: Header,
    confirm: Callable[[], bool] | None,
    show_progress: bool,
) -> bool:
    pg_restore = _postgresql_tool("pg_restore")
    # First pass: authenticate every chunk without writing anything, so that nothing is restored from a
    # damaged file; the second pass decrypts again straight into pg_restore (no plain dump on disk).
    size = 0
    for chunk in read_segment(handle, key=key, header=header, segment=DUMP_SEGMENT):
        size += len(chunk)
    _expect_end(handle)
    if confirm is not None and database_has_tables() and not confirm():
        return False
    connections.close_all()
    process = subprocess.Popen(  # noqa: S603 — fixed arguments, no shell
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-password",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={settings.DATABASES[DEFAULT_DB_ALIAS]['NAME']}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=postgresql_environment(),
    )
    assert process.stdin is not None
    try:
        with (
            _open_backup(source) as again,
            tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc="pg_restore",
                disable=not show_progress or None,
                file=sys.stderr,
            ) as progress,
        ):
            read_header(again, key=key)
            for _chunk in read_segment(again, key=key, header=header, segment=MANIFEST_SEGMENT):
                pass
            for chunk in read_segment(again, key=key, header=header, segment=DUMP_SEGMENT):
                process.stdin.write(chunk)
                progress.update(len(chunk))
        process.stdin.close()
    except BaseException:
        # Killed before its input ends, pg_restore never commits its single transaction.
        process.kill()
        process.wait()
        raise
    errors = process.stderr.read() if process.stderr else b""
    if process.wait() != 0:
        raise BackupError(
            _("pg_restore 失败（退出码 %(code)d），数据库未改动：%(errors)s")
            % {"code": process.returncode, "errors": errors.decode("utf-8", "replace").strip()}
        )
    return True
