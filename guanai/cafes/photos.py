"""Inspection photos: checked, stripped of every piece of metadata, and kept privately.

A phone's photo carries EXIF: the camera, the time and, often, the GPS position of the person who took it
(here a 五老 volunteer). `guanai.core.photos` decodes it, turns it upright as the camera meant and
re-encodes it from its pixels alone as a JPEG. Files live under `settings.MEDIA_ROOT` (the private media
root, never served by the web server) in `cafes/inspections/<inspection id>/`, readable by the owner only,
and are sent only by a page that checks the viewer's region (`guanai.cafes.views.photo_file_page`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy

from guanai.core import photos
from guanai.core.photos import CleanPhoto

__all__ = ["PHOTOS_PER_INSPECTION", "CleanPhoto", "photo_clean", "photo_delete", "photo_file", "photo_store"]

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTOS_PER_INSPECTION = 6
PHOTO_DIRECTORY = "cafes"
PHOTO_RULES = photos.PhotoRules(
    max_bytes=PHOTO_MAX_BYTES,
    decoders=("JPEG", "PNG", "WEBP"),
    not_a_photo=gettext_lazy("无法识别的图片，请上传 JPG、PNG 或 WebP 格式的照片"),
    too_large=gettext_lazy("照片不能超过 15 MB"),
    too_many_pixels=gettext_lazy("照片像素过大（不超过 5000 万像素）"),
    empty=gettext_lazy("照片文件是空的"),
)


def photo_clean(upload: Any, *, field_name: str = "photos") -> CleanPhoto:
    """The upload as a clean JPEG, or ValidationFailed on `field_name` when it is not a photo this
    platform takes (a JPEG, PNG or WebP image of at most 15 MB and 50 megapixels)."""
    return photos.photo_clean(upload, rules=PHOTO_RULES, field_name=field_name)


def photo_store(*, inspection_id: int, photo: CleanPhoto) -> str:
    """Write a clean photo privately; returns its path relative to the private media root."""
    return photos.photo_store(photo.data, folder=f"{PHOTO_DIRECTORY}/inspections/{int(inspection_id)}")


def photo_file(relative_path: str) -> Path:
    """The file of a stored photo; refuses any path that would leave the photo directory."""
    path = photos.photo_file(relative_path, folder=PHOTO_DIRECTORY)
    if path is None:
        raise ValueError(f"not a café photo: {relative_path!r}")
    return path


def photo_delete(relative_path: str) -> None:
    photo_file(relative_path).unlink(missing_ok=True)
