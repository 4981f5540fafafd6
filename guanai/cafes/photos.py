"""Inspection photos: checked, stripped of every piece of metadata, and kept privately.

A phone's photo carries EXIF: the camera, the time and, often, the GPS position of the person who took it
(here a 五老 volunteer). The photo is decoded, turned upright as the camera meant (the orientation lives in
the EXIF that is about to go), and re-encoded from its pixels alone as a JPEG: no EXIF, GPS, XMP, ICC
profile, comment or embedded thumbnail survives. Files live under `settings.MEDIA_ROOT` (the private media
root, never served by the web server) in `cafes/inspections/<inspection id>/`, readable by the owner only,
and are sent only by a page that checks the viewer's region (`guanai.cafes.views.photo_file`).
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from guanai.core.errors import ValidationFailed

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTO_MAX_PIXELS = 50_000_000  # a 50-megapixel camera; larger is refused before it is decoded
PHOTO_MAX_SIDE = 2560  # stored photos are scaled down to this many pixels on their longer side
PHOTOS_PER_INSPECTION = 6
# The decoders that may see the bytes; a JPEG decoder may answer "MPO" (the JPEG of some phone cameras).
DECODERS = ("JPEG", "PNG", "WEBP")
ACCEPTED_FORMATS = frozenset({*DECODERS, "MPO"})
JPEG_QUALITY = 85
PHOTO_DIRECTORY = "cafes"


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: JPEG bytes of its pixels only."""

    data: bytes
    width: int
    height: int


def _refused(message: str, field_name: str) -> ValidationFailed:
    return ValidationFailed(fields={field_name: [message]})


def _read(upload: Any, field_name: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise _refused(_("照片不能超过 15 MB"), field_name)
    if hasattr(upload, "seek"):
        upload.seek(0)
    raw: bytes = upload.read(PHOTO_MAX_BYTES + 1)
    if len(raw) > PHOTO_MAX_BYTES:
        raise _refused(_("照片不能超过 15 MB"), field_name)
    if not raw:
        raise _refused(_("照片文件是空的"), field_name)
    return raw


def photo_clean(upload: Any, *, field_name: str = "photos") -> CleanPhoto:
    """The upload as a clean JPEG, or ValidationFailed on `field_name` when it is not a photo this
    platform takes (a JPEG, PNG or WebP image of at most 15 MB and 50 megapixels)."""
    raw = _read(upload, field_name)
    not_a_photo = _refused(_("无法识别的图片，请上传 JPG、PNG 或 WebP 格式的照片"), field_name)
    try:
        with warnings.catch_warnings():
            # Pillow warns of a "decompression bomb" when it opens one: refuse it instead of decoding.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoders of these formats ever see the bytes (never EPS, PSD and the like).
            with Image.open(io.BytesIO(raw), formats=DECODERS) as opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise not_a_photo
                if opened.width * opened.height > PHOTO_MAX_PIXELS:
                    raise _refused(_("照片像素过大（不超过 5000 万像素）"), field_name)
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                pixels = upright.convert("RGB")
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise not_a_photo from error
    except Exception as error:  # bytes from anyone: a truncated file, malformed EXIF, a decoder's complaint
        raise not_a_photo from error
    pixels.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    # A fresh image made of the pixels alone carries nothing else of the original.
    clean = Image.frombytes("RGB", pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(data=out.getvalue(), width=clean.width, height=clean.height)


def _root() -> Path:
    return (Path(settings.MEDIA_ROOT) / PHOTO_DIRECTORY).resolve()


def photo_store(*, inspection_id: int, photo: CleanPhoto) -> str:
    """Write a clean photo privately; returns its path relative to the private media root."""
    directory = _root() / "inspections" / str(int(inspection_id))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{secrets.token_hex(16)}.jpg"
    descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stored:
        stored.write(photo.data)
    return f"{PHOTO_DIRECTORY}/inspections/{int(inspection_id)}/{name}"


def photo_file(relative_path: str) -> Path:
    """The file of a stored photo; refuses any path that would leave the photo directory."""
    path = (Path(settings.MEDIA_ROOT) / relative_path).resolve()
    if not path.is_relative_to(_root()):
        raise ValueError(f"not a café photo: {relative_path!r}")
    return path


def photo_delete(relative_path: str) -> None:
    photo_file(relative_path).unlink(missing_ok=True)
