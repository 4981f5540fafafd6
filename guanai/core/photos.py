"""Photos from phones, checked, stripped of every piece of metadata, and kept privately: the one way the
platform takes an image (a visit's photo, an inspection's photos).

A phone's photo carries EXIF: the camera, the time and, often, the GPS position of the person who took it
(a 五老 volunteer, a child's home). The upload is read up to a size limit, decoded only by the decoders of
the formats an app accepts, refused when it is larger than a camera makes (a "decompression bomb"), turned
upright as the camera meant (the orientation lives in the EXIF that is about to go) and re-encoded from
its pixels alone as a JPEG: no EXIF, GPS, XMP, ICC profile, comment or embedded thumbnail survives.

Files live under `settings.MEDIA_ROOT` (the private media root, never served by the web server), in a
folder of the app's, under random names, readable by the owner only; each app serves them through a page
that checks the viewer's permission and region.

The limits and the wording of a refusal are each app's (`PhotoRules`): the messages stay where the app's
translations find them.
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
from django.utils.functional import Promise
from PIL import Image, ImageOps

from guanai.core.errors import ValidationFailed

MAX_PIXELS = 50_000_000  # a 50-megapixel camera; larger is refused before it is decoded
LONGEST_SIDE = 2560  # enough to see a room or a document; keeps the private store small
JPEG_QUALITY = 85
SUFFIX = ".jpg"


@dataclass(frozen=True)
class PhotoRules:
    """What one kind of upload accepts, and what its refusals say (translatable text of the app's)."""

    max_bytes: int
    # The decoders that may see the bytes (never EPS, PSD and the like); a JPEG decoder may answer "MPO",
    # the JPEG of some phone cameras.
    decoders: tuple[str, ...]
    not_a_photo: str | Promise
    too_large: str | Promise
    too_many_pixels: str | Promise
    empty: str | Promise | None = None  # when None, an empty file is "not a photo"
    max_pixels: int = MAX_PIXELS
    longest_side: int = LONGEST_SIDE

    @property
    def accepted_formats(self) -> frozenset[str]:
        return frozenset({*self.decoders, *(["MPO"] if "JPEG" in self.decoders else [])})


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: JPEG bytes of its pixels only."""

    data: bytes
    width: int
    height: int


def _refused(message: str | Promise, field_name: str) -> ValidationFailed:
    return ValidationFailed(fields={field_name: [str(message)]})


def _read(upload: Any, rules: PhotoRules, field_name: str) -> bytes:
    """The upload's bytes (an uploaded file or bytes), refusing more than `rules.max_bytes` before and
    after reading at most one byte past the limit."""
    size = getattr(upload, "size", None)
    if size is not None and size > rules.max_bytes:
        raise _refused(rules.too_large, field_name)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data: bytes = upload.read(rules.max_bytes + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > rules.max_bytes:
        raise _refused(rules.too_large, field_name)
    if not data:
        raise _refused(rules.empty or rules.not_a_photo, field_name)
    return data


def _flattened(image: Image.Image) -> Image.Image:
    """The image as RGB; transparency becomes white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        with_alpha = image.convert("RGBA")
        background = Image.new("RGB", with_alpha.size, (255, 255, 255))
        background.paste(with_alpha, mask=with_alpha.getchannel("A"))
        return background
    return image.convert("RGB")


def photo_clean(upload: Any, *, rules: PhotoRules, field_name: str) -> CleanPhoto:
    """The upload as a fresh JPEG made from its pixels alone, upright and scaled down to
    `rules.longest_side`; ValidationFailed on `field_name` when it is not a photo `rules` accept."""
    data = _read(upload, rules, field_name)
    not_a_photo = _refused(rules.not_a_photo, field_name)
    try:
        with warnings.catch_warnings():
            # Pillow warns of a "decompression bomb" when it opens one: refuse it instead of decoding.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=rules.decoders) as probe:
                if probe.format not in rules.accepted_formats:
                    raise not_a_photo
                if probe.width * probe.height > rules.max_pixels:
                    raise _refused(rules.too_many_pixels, field_name)
                probe.verify()
            # verify() leaves the image unusable: decode it afresh.
            with Image.open(io.BytesIO(data), formats=rules.decoders) as image:
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                pixels = _flattened(upright)
    except ValidationFailed:
        raise
    except Exception as error:  # bytes from anyone: a truncated file, malformed EXIF, a decoder's complaint
        raise not_a_photo from error
    pixels.thumbnail((rules.longest_side, rules.longest_side))
    # A new image from the raw pixels: nothing of the upload's metadata can come along.
    clean = Image.frombytes("RGB", pixels.size, pixels.tobytes())
    output = io.BytesIO()
    clean.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(data=output.getvalue(), width=clean.width, height=clean.height)


def private_directory(folder: str) -> Path:
    """`folder` (a relative path such as "visits/2026/11") under the private media root, made if new."""
    directory = Path(settings.MEDIA_ROOT) / folder
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def photo_store(data: bytes, *, folder: str) -> str:
    """Write a clean photo's bytes under a random name in `folder`, readable by the owner only; returns
    the name relative to the private media root."""
    name = f"{secrets.token_hex(16)}{SUFFIX}"
    # Created with its mode (never readable by others, not even for a moment); an existing name fails.
    descriptor = os.open(private_directory(folder) / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stored:
        os.fchmod(stored.fileno(), 0o600)  # whatever the process's umask
        stored.write(data)
    return f"{folder}/{name}"


def photo_file(relative_path: str, *, folder: str) -> Path | None:
    """The file of a stored photo (a name `photo_store` returned), or None for an empty name and for any
    name that would lead outside `folder` or is not a stored JPEG."""
    if not relative_path:
        return None
    root = (Path(settings.MEDIA_ROOT) / folder).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative_path).resolve()
    if not path.is_relative_to(root) or path.suffix != SUFFIX:
        return None
    return path


def photo_delete(relative_path: str, *, folder: str) -> None:
    path = photo_file(relative_path, folder=folder)
    if path is not None:
        path.unlink(missing_ok=True)
