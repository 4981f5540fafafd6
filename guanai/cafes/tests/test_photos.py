"""Inspection photos: EXIF and GPS removed, re-encoded, stored privately, served only to staff of the
café's region (and recorded), refused when they are not photos."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, PngImagePlugin

from guanai.audit.models import AuditEvent
from guanai.cafes.models import CafeInspectionPhoto
from guanai.cafes.photos import photo_clean
from guanai.cafes.services import inspection_record
from guanai.cafes.tests.conftest import World, inspection_input, jpeg_with_gps
from guanai.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_the_test_photo_really_carries_gps_and_camera_data() -> None:
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    exif = original.getexif()
    assert exif[0x010F] == "GuanaiTestCam"
    assert exif.get_ifd(0x8825)[1] == "N"
    assert b"GuanaiTestCam" in jpeg_with_gps()


def test_a_stored_photo_has_no_exif_and_no_gps(world: World, private_media: Path) -> None:
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(),
        photos=[upload(jpeg_with_gps())],
    )
    photo = CafeInspectionPhoto.objects.get(inspection=inspection)
    assert photo.path.startswith(f"cafes/inspections/{inspection.pk}/")
    stored = private_media / photo.path
    data = stored.read_bytes()
    assert (photo.size, photo.width, photo.height) == (len(data), 64, 48)
    assert b"Exif" not in data
    assert b"GuanaiTestCam" not in data
    assert b"Model-X1" not in data
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(0x8825) == {}
        assert "exif" not in image.info
        assert "icc_profile" not in image.info
    assert stored.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_the_orientation_is_applied_before_the_exif_goes() -> None:
    # Orientation 6: the camera held upright, the sensor sideways; the picture is turned a quarter.
    clean = photo_clean(upload(jpeg_with_gps(size=(64, 48), orientation=6)))
    assert (clean.width, clean.height) == (48, 64)


def test_png_text_chunks_are_dropped() -> None:
    image = Image.new("RGBA", (20, 10), (0, 0, 255, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "位置：千岛湖镇新安东路88号")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    clean = photo_clean(upload(out.getvalue(), "a.png", "image/png"))
    assert "千岛湖镇".encode() not in clean.data
    with Image.open(io.BytesIO(clean.data)) as stored:
        assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (20, 10))


def test_what_is_not_a_photo_is_refused_and_nothing_is_written(world: World, private_media: Path) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    for data in (b"%PDF-1.7 not an image", gif.getvalue(), jpeg_with_gps()[:200], b""):
        with pytest.raises(ValidationFailed) as refused:
            inspection_record(
                actor=world.actor("volunteer"),
                cafe_id=world.cafe_a.pk,
                data=inspection_input(),
                photos=[upload(jpeg_with_gps()), upload(data, "x.jpg")],
            )
        assert list(refused.value.fields) == ["photos"]
    assert not CafeInspectionPhoto.objects.exists()
    assert not (private_media / "cafes").exists()


def test_at_most_six_photos(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        inspection_record(
            actor=world.actor("volunteer"),
            cafe_id=world.cafe_a.pk,
            data=inspection_input(),
            photos=[upload(jpeg_with_gps()) for _ in range(7)],
        )
    assert refused.value.fields == {"photos": ["每次巡查最多上传 6 张照片"]}


def test_a_refused_inspection_leaves_no_photo_file(world: World, private_media: Path) -> None:
    with pytest.raises(ValidationFailed):
        inspection_record(
            actor=world.actor("volunteer"),
            cafe_id=world.cafe_a.pk,
            data=inspection_input(duration_minutes=0),
            photos=[upload(jpeg_with_gps())],
        )
    files = [path for path in private_media.rglob("*") if path.is_file()] if private_media.exists() else []
    assert files == []


def test_a_photo_is_served_to_staff_of_its_region_only_and_each_view_is_recorded(
    world: World, all_clients: dict[str, Client], private_media: Path
) -> None:
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(),
        photos=[upload(jpeg_with_gps())],
    )
    photo = CafeInspectionPhoto.objects.get()
    url = f"/cafes/inspections/{inspection.pk}/photos/{photo.pk}/"
    response = all_clients["county_a_admin"].get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == (private_media / photo.path).read_bytes()  # type: ignore[attr-defined]
    assert all_clients["county_b_admin"].get(url).status_code == 404
    assert all_clients["volunteer"].get(url).status_code == 403
    assert all_clients["anonymous"].get(url).status_code == 302
    # The photo of another inspection's id answers like one that does not exist.
    assert (
        all_clients["county_a_admin"]
        .get(f"/cafes/inspections/{inspection.pk + 1}/photos/{photo.pk}/")
        .status_code
        == 404
    )
    views = AuditEvent.objects.filter(action="cafe.photo_view")
    assert [(e.actor_username, e.target_id, e.region_code) for e in views] == [
        ("p-county-a", str(photo.pk), "330127100000")
    ]
