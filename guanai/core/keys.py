"""The key ring: the SM4 keys that encrypt personal-data fields and the key of their blind indexes.

Where the keys come from, first match wins (each name may be a Django setting or an environment variable;
the setting wins, and `NAME_FILE` — a path, for Docker/Kubernetes secrets — wins over `NAME`):

    GUANAI_FIELD_KEYS        "KEYID:BASE64" entries (16-byte SM4 keys), one per line or comma-separated.
                             The LAST entry is the newest: it encrypts; the others only decrypt, until
                             `manage.py rotate_keys` has moved every value to the newest key.
    GUANAI_BLIND_INDEX_KEY   BASE64 of 32 bytes, the HMAC-SM3 key of the blind indexes. It cannot be
                             rotated by `rotate_keys`: every blind index would have to be recomputed.

Keys never live in the repository. In production (DEBUG off) missing keys refuse to start
(`CoreConfig.ready`). With DEBUG on and nothing configured — the embedded demo — the keys are generated
once into `GUANAI_KEY_DIR` (default `var/`, ignored by git): `field-keys` and `blind-index-key`, mode 0600.
`manage.py generate_keys` writes the same files for production use.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

FIELD_KEYS = "GUANAI_FIELD_KEYS"
BLIND_INDEX_KEY = "GUANAI_BLIND_INDEX_KEY"
KEY_DIR = "GUANAI_KEY_DIR"
FIELD_KEY_BYTES = 16  # SM4 has a 128-bit key
BLIND_INDEX_KEY_BYTES = 32
FIELD_KEYS_FILE_NAME = "field-keys"
BLIND_INDEX_KEY_FILE_NAME = "blind-index-key"
# A key id is stored in front of every ciphertext ("k2$..."), so it must not contain "$" or ":".
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class KeyRing:
    field_keys: dict[str, bytes]  # key id → SM4 key, in the order given: the last one is the newest
    blind_index_key: bytes

    @property
    def newest_key_id(self) -> str:
        return next(reversed(self.field_keys))


_ring: KeyRing | None = None


def key_ring() -> KeyRing:
    """The configured key ring, read and validated once per process."""
    global _ring
    if _ring is None:
        _ring = load_key_ring()
    return _ring


def reset_key_ring() -> None:
    global _ring
    _ring = None


@receiver(setting_changed)
def _forget_keys_when_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith((FIELD_KEYS, BLIND_INDEX_KEY, KEY_DIR)) or setting == "DEBUG":
        reset_key_ring()


def load_key_ring() -> KeyRing:
    field_keys_text = _configured(FIELD_KEYS)
    blind_index_text = _configured(BLIND_INDEX_KEY)
    if field_keys_text is None or blind_index_text is None:
        missing = [
            name
            for name, text in ((FIELD_KEYS, field_keys_text), (BLIND_INDEX_KEY, blind_index_text))
            if text is None
        ]
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                f"{' and '.join(missing)} must be set (or {'/'.join(name + '_FILE' for name in missing)}) "
                "when GUANAI_DEBUG is off: personal data is stored encrypted. "
                "`python manage.py generate_keys --dir DIR` writes the key files; keep them outside the "
                "repository."
            )
        directory = local_key_dir()
        if field_keys_text is None:
            field_keys_text = _read_or_create(directory / FIELD_KEYS_FILE_NAME, new_field_keys_text)
        if blind_index_text is None:
            blind_index_text = _read_or_create(
                directory / BLIND_INDEX_KEY_FILE_NAME, new_blind_index_key_text
            )
    return KeyRing(
        field_keys=parse_field_keys(field_keys_text, source=FIELD_KEYS),
        blind_index_key=parse_blind_index_key(blind_index_text, source=BLIND_INDEX_KEY),
    )


def parse_field_keys(text: str, *, source: str = FIELD_KEYS) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for entry in re.split(r"[,\n]", text):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        key_id, separator, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not separator:
            raise ImproperlyConfigured(f"{source}: entry {_redacted(entry)!r} is not KEYID:BASE64KEY")
        if not KEY_ID_PATTERN.match(key_id):
            raise ImproperlyConfigured(
                f"{source}: key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"{source}: key id {key_id!r} appears twice")
        keys[key_id] = _decode_key(encoded, FIELD_KEY_BYTES, f"{source}: key {key_id!r}")
    if not keys:
        raise ImproperlyConfigured(f"{source} holds no key; expected lines of KEYID:BASE64KEY")
    return keys


def parse_blind_index_key(text: str, *, source: str = BLIND_INDEX_KEY) -> bytes:
    return _decode_key(text.strip(), BLIND_INDEX_KEY_BYTES, source)


def format_field_keys(field_keys: dict[str, bytes]) -> str:
    """The file content for `field_keys`, one KEYID:BASE64 a line, oldest first."""
    return "".join(
        f"{key_id}:{base64.b64encode(key).decode('ascii')}\n" for key_id, key in field_keys.items()
    )


def new_field_key_entry(key_id: str) -> str:
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError(f"key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(FIELD_KEY_BYTES)).decode('ascii')}"


def new_field_keys_text() -> str:
    return new_field_key_entry("k1") + "\n"


def new_blind_index_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(BLIND_INDEX_KEY_BYTES)).decode("ascii") + "\n"


def next_key_id(existing: dict[str, bytes]) -> str:
    """k1, k2, …: one more than the highest numbered id in use."""
    numbers = [int(key_id[1:]) for key_id in existing if re.fullmatch(r"k\d+", key_id)]
    return f"k{max(numbers, default=0) + 1}"


def local_key_dir() -> Path:
    configured = getattr(settings, KEY_DIR, None) or os.environ.get(KEY_DIR)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "var"


def field_keys_file() -> Path | None:
    """The file the field keys are read from, if they come from one: GUANAI_FIELD_KEYS_FILE, or with
    DEBUG on and nothing configured, the local `field-keys`."""
    for read in (lambda key: getattr(settings, key, None), os.environ.get):
        if file_name := read(f"{FIELD_KEYS}_FILE"):
            return Path(file_name)
        if read(FIELD_KEYS):
            return None
    return local_key_dir() / FIELD_KEYS_FILE_NAME if settings.DEBUG else None


def write_new_file(path: Path, text: str) -> bool:
    """Write `text` to `path` with mode 0600 unless the file exists; True when it was written.

    The content is written to a temporary file first and then linked into place, so that a process
    starting at the same moment reads either no file or the whole key, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def replace_file(path: Path, text: str) -> None:
    """Replace the content of `path` at once (mode 0600): a reader sees the old file or the new one."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _read_or_create(path: Path, make: Any) -> str:
    if write_new_file(path, make()):
        logger.warning("GUANAI_DEBUG is on and no keys are configured: generated %s for local use", path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ImproperlyConfigured(f"{path} cannot be read: {error}") from error


def _configured(name: str) -> str | None:
    """NAME_FILE or NAME, from the Django settings first, then from the environment; None when unset."""
    for read in (lambda key: getattr(settings, key, None), os.environ.get):
        file_name = read(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8")
            except OSError as error:
                raise ImproperlyConfigured(f"{name}_FILE={file_name} cannot be read: {error}") from error
        value = read(name)
        if value:
            return str(value)
    return None


def _decode_key(encoded: str, length: int, what: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"{what} is not valid base64") from error
    if len(key) != length:
        raise ImproperlyConfigured(f"{what} must decode to {length} bytes, not {len(key)}")
    return key


def _redacted(entry: str) -> str:
    """Enough of a malformed entry to find it, never the whole secret."""
    return entry[:6] + "…" if len(entry) > 6 else entry
