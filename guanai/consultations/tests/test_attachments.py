"""Attachments of messages (guanai.consultations.attachments): accepted by their content (JPEG and PNG
photos re-encoded without EXIF, PDFs), refused otherwise with a message naming what is accepted, size and
count limits, private storage (random names, owner-only), nothing left behind by a refusal or a failed
transaction, and reading them back."""

from __future__ import annotations

import datetime
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from guanai.consultations import conversation
from guanai.consultations.attachments import (
    attachment_open,
    attachments_sweep_orphans,
    stored_path,
)
from guanai.consultations.conversation import message_post
from guanai.consultations.models import Attachment, Message
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.test_conversation import accepted_consultation
from guanai.consultations.vocabulary import Sender
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

ACCEPTED = "只能上传 JPG、PNG 格式的照片或 PDF 文件"
PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
GPS_IFD = 0x8825


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


def photo_with_exif(format: str = "JPEG") -> bytes:
    """A photo as a phone makes it: with the camera, the time and a GPS position (千岛湖) in its EXIF."""
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0132] = "2026:11:29 18:00:00"  # DateTime
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (29.0, 36.0, 0.0), 3: "E", 4: (119.0, 2.0, 0.0)})
    output = io.BytesIO()
    image.save(output, format=format, exif=exif.tobytes())
    return output.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def stored_files(private_media: Path) -> list[Path]:
    root = private_media / "consultations"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_the_sample_photo_really_carries_gps() -> None:
    with Image.open(io.BytesIO(photo_with_exif())) as image:
        assert image.getexif().get_ifd(GPS_IFD)[1] == "N"


def test_a_jpeg_is_stored_without_exif(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="这是伤口的照片",
        files=[upload("IMG_0001.JPG", photo_with_exif(), "image/jpeg")],
    )

    attachment = message.attachments.get()
    assert attachment.content_type == "image/jpeg"
    assert attachment.original_name == "IMG_0001.jpg"
    path = private_media / attachment.stored_name
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
    assert b"PhoneMaker" not in path.read_bytes()
    assert attachment.size == path.stat().st_size


def test_a_png_is_kept_as_a_jpeg_without_its_metadata(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="截图",
        files=[upload("聊天截图.png", photo_with_exif("PNG"), "image/png")],
    )

    attachment = message.attachments.get()
    assert attachment.content_type == "image/jpeg"
    assert attachment.original_name == "聊天截图.jpg"
    with Image.open(private_media / attachment.stored_name) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}


def test_a_pdf_is_stored_as_it_is(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="判决书",
        files=[upload("判决书.pdf", PDF, "application/pdf")],
    )

    attachment = message.attachments.get()
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "判决书.pdf"
    assert attachment.size == len(PDF)
    assert (private_media / attachment.stored_name).read_bytes() == PDF


def test_the_content_decides_not_the_name_or_the_browsers_type(
    counsellor: Volunteer, private_media: Path
) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="文件",
        files=[upload("photo.jpg", PDF, "image/jpeg")],
    )

    attachment = message.attachments.get()
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "photo.pdf"


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "application/pdf"),
        ("notes.pdf", b"just some text pretending to be a PDF", "application/pdf"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        ("image.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    ],
)
def test_anything_else_is_refused_naming_what_is_accepted(
    counsellor: Volunteer, private_media: Path, name: str, data: bytes, content_type: str
) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="请看附件",
            files=[upload(name, data, content_type)],
        )

    stem = name.rsplit(".", 1)[0]
    assert refused.value.fields == {"files": [f"“{stem}”的格式不支持：{ACCEPTED}"]}
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(private_media) == []


def test_a_broken_jpeg_is_refused(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="照片",
            files=[upload("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, "image/jpeg")],
        )

    assert refused.value.fields == {"files": ["照片无法识别，请上传 JPG 或 PNG 格式的照片"]}
    assert stored_files(private_media) == []


def test_a_file_larger_than_the_limit_is_refused(
    counsellor: Volunteer, private_media: Path, settings: Any
) -> None:
    settings.GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES = 1024 * 1024
    consultation = accepted_consultation(counsellor)
    big = PDF + b"%" * (1024 * 1024)

    with pytest.raises(ValidationFailed) as refused:
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="大文件",
            files=[upload("big.pdf", big, "application/pdf")],
        )

    assert refused.value.fields == {"files": ["每个文件不能超过 1 MB"]}
    assert Message.objects.count() == 0
    assert stored_files(private_media) == []


def test_a_file_of_exactly_the_limit_is_accepted(
    counsellor: Volunteer, private_media: Path, settings: Any
) -> None:
    settings.GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES = 4096
    consultation = accepted_consultation(counsellor)
    exact = PDF + b"%" * (4096 - len(PDF))

    message = message_post(
        consultation=consultation,
        sender=Sender.REQUESTER,
        body="刚好",
        files=[upload("exact.pdf", exact, "application/pdf")],
    )

    assert message.attachments.get().size == 4096


def test_an_empty_file_is_refused(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        message_post(
            consultation=consultation, sender=Sender.REQUESTER, body="空", files=[upload("a.pdf", b"")]
        )

    assert refused.value.fields == {"files": ["文件是空的，请重新选择"]}


def test_at_most_three_files_per_message(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed) as refused:
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="四个文件",
            files=[upload(f"{number}.pdf", PDF) for number in range(4)],
        )

    assert refused.value.fields == {"files": ["每条留言最多附 3 个文件"]}
    assert stored_files(private_media) == []


def test_one_refused_file_stores_none_of_the_message(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)

    with pytest.raises(ValidationFailed):
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="三个文件",
            files=[upload("1.pdf", PDF), upload("2.jpg", photo_with_exif()), upload("3.exe", b"MZ\x90\x00")],
        )

    assert Message.objects.count() == 0
    assert stored_files(private_media) == []


def test_three_files_are_stored_privately_under_random_names(
    counsellor: Volunteer, private_media: Path
) -> None:
    consultation = accepted_consultation(counsellor)

    message = message_post(
        consultation=consultation,
        sender=Sender.PROFESSIONAL,
        author=counsellor.user,
        body="资料",
        files=[
            upload("指引.pdf", PDF),
            upload("a.jpg", photo_with_exif()),
            upload("b.png", photo_with_exif("PNG")),
        ],
    )

    attachments = list(message.attachments.order_by("id"))
    assert [a.original_name for a in attachments] == ["指引.pdf", "a.jpg", "b.jpg"]
    files = stored_files(private_media)
    assert len(files) == 3
    for attachment in attachments:
        path = private_media / attachment.stored_name
        assert attachment.stored_name.startswith("consultations/2026/11/")
        assert len(path.stem) == 32
        assert "指引" not in attachment.stored_name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_files_of_a_message_whose_transaction_fails_are_deleted(
    counsellor: Volunteer, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    consultation = accepted_consultation(counsellor)

    def failing_audit(**kwargs: Any) -> None:
        raise RuntimeError("audit trail unavailable")

    # The audit is the service's last write, after the files: its failure rolls the message back.
    monkeypatch.setattr(conversation.audit, "record", failing_audit)
    with pytest.raises(RuntimeError, match="audit trail unavailable"):
        message_post(
            consultation=consultation,
            sender=Sender.REQUESTER,
            body="附件",
            files=[upload("a.pdf", PDF), upload("b.jpg", photo_with_exif())],
        )

    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(private_media) == []


def test_files_of_a_transaction_rolled_back_by_the_caller_are_swept(
    counsellor: Volunteer, private_media: Path
) -> None:
    consultation = accepted_consultation(counsellor)
    kept = message_post(
        consultation=consultation, sender=Sender.REQUESTER, body="保留", files=[upload("k.pdf", PDF)]
    )

    class CallerFailed(Exception):
        pass

    def caller_rolls_back() -> None:
        with transaction.atomic():
            message_post(
                consultation=consultation, sender=Sender.REQUESTER, body="回滚", files=[upload("r.pdf", PDF)]
            )
            raise CallerFailed

    with pytest.raises(CallerFailed):
        caller_rolls_back()

    assert Attachment.objects.count() == 1
    files = stored_files(private_media)
    assert len(files) == 2

    def age_files(minutes: int) -> None:
        # The files' times are the file system's, not the frozen clock's: set them.
        moment = (NOW - datetime.timedelta(minutes=minutes)).timestamp()
        for path in files:
            os.utime(path, (moment, moment))

    age_files(10)
    # Too young to tell from a transaction still running: left alone.
    assert attachments_sweep_orphans(now=NOW) == 0
    age_files(61)

    assert attachments_sweep_orphans(now=NOW) == 1
    assert stored_files(private_media) == [private_media / kept.attachments.get().stored_name]


def test_attachment_open_returns_the_bytes_and_type(counsellor: Volunteer, private_media: Path) -> None:
    consultation = accepted_consultation(counsellor)
    message = message_post(
        consultation=consultation, sender=Sender.REQUESTER, body="PDF", files=[upload("a.pdf", PDF)]
    )

    data, content_type = conversation.attachment_open(attachment=message.attachments.get())

    assert (data, content_type) == (PDF, "application/pdf")


def test_a_stored_name_leading_outside_the_folder_is_never_read(private_media: Path) -> None:
    secret = private_media / "visits" / "secret.jpg"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"secret")

    assert stored_path("consultations/../visits/secret.jpg") is None
    assert stored_path("/etc/passwd") is None
    assert stored_path("consultations/2026/11/x.exe") is None
    with pytest.raises(NotFoundError):
        attachment_open(
            attachment=Attachment(stored_name="consultations/../visits/secret.jpg", content_type="image/jpeg")
        )


def test_a_missing_file_is_not_found(private_media: Path) -> None:
    with pytest.raises(NotFoundError):
        attachment_open(attachment=Attachment(stored_name="consultations/2026/11/" + "0" * 32 + ".pdf"))
