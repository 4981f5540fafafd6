"""Files a requester or a professional sends with a message: checked, cleaned and kept privately.

What is accepted is decided by the bytes, never by the file's name or the type the browser claims: a JPEG
or PNG photo (decoded only by those two decoders and re-encoded from its pixels by `guanai.core.photos`,
so no EXIF — GPS position, camera, time — survives; a child's photo of a bruise must not carry their
home's position), or a PDF (it starts with "%PDF-"). Anything else is refused with a message naming what
is accepted. At most `MAX_FILES` files per message, each at most
settings.GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES.

Every file is checked before anything is written (`attachments_clean`); the caller writes them inside
its transaction (`attachment_write`) and deletes them if the transaction fails (`attachments_delete`).
The files live under MEDIA_ROOT/consultations/<year>/<month>/ (the private media root, never served by
the web server) under random names, readable by the owner only. `attachments_sweep_orphans` removes the
files of a transaction that an *outer* caller rolled back after the write (Django has no rollback hook).
"""

from __future__ import annotations

import datetime
import os
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanai.consultations.models import Attachment
from guanai.core import photos
from guanai.core.errors import NotFoundError, ValidationFailed

MAX_FILES = 3
FOLDER = "consultations"
FIELD_NAME = "files"
PDF_MAGIC = b"%PDF-"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_TYPE = "application/pdf"
JPEG_TYPE = "image/jpeg"
SUFFIXES = {PDF_TYPE: ".pdf", JPEG_TYPE: ".jpg"}
ORIGINAL_NAME_LENGTH = 120
# A file older than this without its Attachment row belongs to a rolled-back transaction.
ORPHAN_AGE = datetime.timedelta(hours=1)


def max_bytes() -> int:
    return int(settings.GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES)


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def accepted_text() -> str:
    return _("只能上传 JPG、PNG 格式的照片或 PDF 文件")


def _photo_rules() -> photos.PhotoRules:
    limit = max_bytes()
    return photos.PhotoRules(
        max_bytes=limit,
        decoders=("JPEG", "PNG"),
        not_a_photo=gettext_lazy("照片无法识别，请上传 JPG 或 PNG 格式的照片"),
        too_large=_("每个文件不能超过 %(size)s MB") % {"size": _megabytes(limit)},
        too_many_pixels=gettext_lazy("照片像素过大，请上传手机相机直接拍摄的照片"),
        empty=gettext_lazy("文件是空的，请重新选择"),
    )


@dataclass(frozen=True)
class CleanFile:
    """One accepted file, ready to write: its bytes (a photo re-encoded), type and the name to show."""

    data: bytes
    content_type: str
    original_name: str

    @property
    def size(self) -> int:
        return len(self.data)


def _shown_name(upload: Any, content_type: str) -> str:
    """The name the sender gave, without any folder, control characters or a misleading suffix: a
    photo is always kept as a JPEG, so its name ends in .jpg."""
    raw = str(getattr(upload, "name", "") or "")
    name = os.path.basename(raw.replace("\\", "/"))
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    stem, _suffix = os.path.splitext(name)
    stem = stem.strip() or _("附件")
    suffix = SUFFIXES[content_type]
    return stem[: ORIGINAL_NAME_LENGTH - len(suffix)] + suffix


def _read(upload: Any, limit: int) -> bytes:
    """The upload's bytes, refusing more than `limit` before reading (the declared size) and after
    reading at most one byte past the limit (a size that lied)."""
    too_large = ValidationFailed(
        fields={FIELD_NAME: [_("每个文件不能超过 %(size)s MB") % {"size": _megabytes(limit)}]}
    )
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise too_large
    if hasattr(upload, "seek"):
        upload.seek(0)
    data: bytes = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > limit:
        raise too_large
    if not data:
        raise ValidationFailed(fields={FIELD_NAME: [_("文件是空的，请重新选择")]})
    return data


def attachment_clean(upload: Any) -> CleanFile:
    """One upload checked by its content: a PDF kept as it is, a JPEG or PNG re-encoded without its
    metadata; ValidationFailed (on "files") for anything else, an empty file or a file too large."""
    data = _read(upload, max_bytes())
    if data.startswith(PDF_MAGIC):
        return CleanFile(data=data, content_type=PDF_TYPE, original_name=_shown_name(upload, PDF_TYPE))
    if data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC):
        photo = photos.photo_clean(data, rules=_photo_rules(), field_name=FIELD_NAME)
        return CleanFile(
            data=photo.data, content_type=JPEG_TYPE, original_name=_shown_name(upload, JPEG_TYPE)
        )
    name = _shown_name(upload, PDF_TYPE).removesuffix(".pdf")
    raise ValidationFailed(
        fields={
            FIELD_NAME: [
                _("“%(name)s”的格式不支持：%(accepted)s") % {"name": name, "accepted": accepted_text()}
            ]
        }
    )


def attachments_clean(uploads: Sequence[Any]) -> list[CleanFile]:
    """Every upload of a message checked before anything is written: at most MAX_FILES, each accepted
    by `attachment_clean`. The first refusal stops the message (nothing is stored)."""
    uploads = [upload for upload in uploads if upload is not None]
    if len(uploads) > MAX_FILES:
        raise ValidationFailed(
            fields={FIELD_NAME: [_("每条留言最多附 %(count)d 个文件") % {"count": MAX_FILES}]}
        )
    return [attachment_clean(upload) for upload in uploads]


# --- Storage -------------------------------------------------------------------------------------------


def _root() -> Path:
    return (Path(settings.MEDIA_ROOT) / FOLDER).resolve()


def attachment_write(clean: CleanFile) -> str:
    """Write a clean file under a random name in this month's folder, readable by the owner only;
    returns its name relative to the private media root (Attachment.stored_name)."""
    month = timezone.localdate()
    folder = f"{FOLDER}/{month:%Y}/{month:%m}"
    name = f"{secrets.token_hex(16)}{SUFFIXES[clean.content_type]}"
    # Created with its mode (never readable by others, not even for a moment); an existing name fails.
    descriptor = os.open(photos.private_directory(folder) / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stored:
        os.fchmod(stored.fileno(), 0o600)  # whatever the process's umask
        stored.write(clean.data)
    return f"{folder}/{name}"


def stored_path(stored_name: str) -> Path | None:
    """The file of a stored name, or None for any name that would lead outside the attachments' folder
    or does not end as `attachment_write` names files."""
    if not stored_name:
        return None
    path = (Path(settings.MEDIA_ROOT) / stored_name).resolve()
    if not path.is_relative_to(_root()) or path.suffix not in SUFFIXES.values():
        return None
    return path


def attachments_delete(stored_names: Sequence[str]) -> None:
    for name in stored_names:
        path = stored_path(name)
        if path is not None:
            path.unlink(missing_ok=True)


def attachment_open(*, attachment: Attachment) -> tuple[bytes, str]:
    """The bytes and content type of a stored attachment. Callers decide who may read it (the assigned
    professional through `guanai.consultations.selectors`, the requester through their retrieval code)
    and record professional reads in the audit trail; NotFoundError when the file is missing."""
    path = stored_path(attachment.stored_name)
    if path is None or not path.is_file():
        raise NotFoundError()
    return path.read_bytes(), attachment.content_type


def attachments_sweep_orphans(*, now: datetime.datetime | None = None) -> int:
    """Delete stored files that no Attachment row names and that are older than ORPHAN_AGE: those of a
    message whose transaction an outer caller rolled back after the write. Returns how many."""
    root = _root()
    if not root.is_dir():
        return 0
    cutoff = (now or timezone.now()) - ORPHAN_AGE
    candidates: dict[str, Path] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in SUFFIXES.values():
            modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
            if modified < cutoff:
                candidates[path.relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()] = path
    known = set(
        Attachment.objects.filter(stored_name__in=list(candidates)).values_list("stored_name", flat=True)
    )
    removed = 0
    for name, path in candidates.items():
        if name not in known:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
