"""Recording visits: who may, what is checked, the contact dates, the hours credited once, the mandatory
report and its alert (exact recipients, no child's name by SMS), closing a report, and the photo kept
without its EXIF and GPS position."""

from __future__ import annotations

import datetime
import io
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.accounts.sms import ConsoleSmsBackend
from guanai.audit.models import AuditEvent
from guanai.core.access import Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.minors.vocabulary import RiskLevel
from guanai.notifications.models import Notification
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.tests.factories import (
    CAMERA,
    MandatoryReportFactory,
    VisitWorld,
    gif_image,
    jpeg_with_gps,
    png_with_alpha,
)
from guanai.pairings.visits import (
    photo_directory,
    report_close,
    report_list,
    reports_overdue,
    visit_list,
    visit_photo_attach,
    visit_photo_path,
    visit_record,
)
from guanai.pairings.vocabulary import Condition, PairingState, ReportOutcome, ReportState, SafetyConcern
from guanai.regions.models import Region
from guanai.volunteers.models import ServiceHours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
DAY = TODAY.date()


@pytest.fixture
def world(visit_world: VisitWorld) -> VisitWorld:
    return visit_world


def actor(personas: dict[str, Any], name: str) -> Any:
    return actor_for_user(personas[name])


def record(who: Any, pairing: Pairing, **values: Any) -> Visit:
    arguments: dict[str, Any] = {
        "visited_on": DAY,
        "mode": "home",
        "duration_minutes": 60,
        "activities": 1 | 2,
        "note": "孩子期中考试进步明显",
    }
    arguments.update(values)
    return visit_record(actor=who, pairing_id=pairing.pk, **arguments)


# --- Recording ------------------------------------------------------------------------------------------


def test_volunteer_records_a_visit_of_their_pairing_and_the_contact_dates_move_on(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    visit = record(actor(personas, "volunteer"), world.pairing, visited_on=DAY - datetime.timedelta(days=2))

    visit.refresh_from_db()
    assert (visit.mode, visit.duration_minutes, visit.activities) == ("home", 60, 3)
    assert visit.note == "孩子期中考试进步明显"
    assert visit.recorded_by == personas["volunteer"]
    assert (visit.study, visit.health, visit.emotion, visit.safety) == ("good", "good", "good", "good")
    world.pairing.refresh_from_db()
    assert world.pairing.last_contact_on == datetime.date(2026, 11, 28)
    assert world.pairing.next_contact_due == datetime.date(2026, 12, 28)  # monthly: 30 days
    event = AuditEvent.objects.get(action="visit.record")
    assert (event.target_id, event.region_code, event.actor_user_id) == (
        str(visit.pk),
        world.child.region_id,
        personas["volunteer"].pk,
    )
    assert "note" in event.changed_fields
    assert "张小明" not in str(event.detail)
    assert not MandatoryReport.objects.exists()


def test_a_high_risk_child_is_due_again_in_fourteen_days(personas: dict[str, Any], world: VisitWorld) -> None:
    world.child.risk_level = RiskLevel.HIGH
    world.child.save(update_fields=["risk_level"])

    record(actor(personas, "volunteer"), world.pairing)

    world.pairing.refresh_from_db()
    assert world.pairing.next_contact_due == datetime.date(2026, 12, 14)


def test_a_visit_recorded_late_does_not_move_the_contact_dates_back(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    volunteer = actor(personas, "volunteer")
    record(volunteer, world.pairing, visited_on=DAY)
    record(volunteer, world.pairing, visited_on=DAY - datetime.timedelta(days=10))

    world.pairing.refresh_from_db()
    assert (world.pairing.last_contact_on, world.pairing.next_contact_due) == (
        DAY,
        datetime.date(2026, 12, 30),
    )
    assert Visit.objects.filter(pairing=world.pairing).count() == 2


def test_the_duration_is_credited_to_the_volunteers_hours_once(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    volunteer = actor(personas, "volunteer")
    visit = record(volunteer, world.pairing, duration_minutes=50)

    hours = ServiceHours.objects.get(volunteer=world.me)
    assert (hours.hours, hours.source, hours.source_key, hours.state) == (
        Decimal("0.8"),
        "visit",
        f"visit:{visit.pk}",
        "confirmed",
    )
    assert hours.served_on == DAY
    assert hours.description == "走访结对儿童（入户）"
    # The same visit sent again (a second tap, a resent form) is refused and credits nothing more.
    with pytest.raises(ConflictError):
        record(volunteer, world.pairing, duration_minutes=50)
    world.me.refresh_from_db()
    assert world.me.hours_total == Decimal("0.8")
    assert ServiceHours.objects.filter(volunteer=world.me).count() == 1
    assert Visit.objects.filter(pairing=world.pairing).count() == 1


def test_a_short_call_counts_a_tenth_of_an_hour(personas: dict[str, Any], world: VisitWorld) -> None:
    record(actor(personas, "volunteer"), world.pairing, mode="phone", duration_minutes=1)

    world.me.refresh_from_db()
    assert world.me.hours_total == Decimal("0.1")


def test_another_mode_the_same_day_is_a_second_visit(personas: dict[str, Any], world: VisitWorld) -> None:
    volunteer = actor(personas, "volunteer")
    record(volunteer, world.pairing, mode="phone", duration_minutes=15)
    record(volunteer, world.pairing, mode="home", duration_minutes=90)

    world.me.refresh_from_db()
    assert world.me.hours_total == Decimal("1.8")  # 0.3 + 1.5


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"visited_on": datetime.date(2026, 12, 1)}, "visited_on", "走访日期不能晚于今天"),
        ({"visited_on": datetime.date(2026, 9, 30)}, "visited_on", "走访日期不能早于结对日期（2026-10-01）"),
        ({"duration_minutes": 0}, "duration_minutes", "时长应为 1 到 1440 分钟"),
        ({"duration_minutes": 1441}, "duration_minutes", "时长应为 1 到 1440 分钟"),
        ({"mode": "letter"}, "mode", "请选择走访方式"),
        ({"activities": 128}, "activities", "未知的走访内容"),
        ({"activities": -1}, "activities", "未知的走访内容"),
        ({"concerns": 16}, "concerns", "未知的安全隐患"),
        ({"emotion": "bad"}, "emotion", "请选择良好、一般或需关注"),
        ({"note": "很" * 2001}, "note", "情况记录不能超过 2000 字"),
    ],
)
def test_a_visit_is_checked_before_anything_is_written(
    personas: dict[str, Any], world: VisitWorld, values: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        record(actor(personas, "volunteer"), world.pairing, **values)

    assert raised.value.fields == {field: [message]}
    assert not Visit.objects.exists()
    assert not ServiceHours.objects.exists()
    world.pairing.refresh_from_db()
    assert world.pairing.last_contact_on is None


def test_a_volunteer_cannot_record_a_visit_of_someone_elses_pairing(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    volunteer = actor(personas, "volunteer")
    for pairing in (world.other_pairing, world.pairing_b):
        with pytest.raises(NotFoundError):
            record(volunteer, pairing)
    with pytest.raises(NotFoundError):
        visit_record(actor=volunteer, pairing_id=999999, visited_on=DAY, mode="home", duration_minutes=30)
    assert not Visit.objects.exists()


def test_staff_record_for_pairings_of_their_region_only(personas: dict[str, Any], world: VisitWorld) -> None:
    visit = record(actor(personas, "township_worker"), world.other_pairing, mode="phone", duration_minutes=30)

    assert visit.recorded_by == personas["township_worker"]
    world.other_volunteer.refresh_from_db()
    assert world.other_volunteer.hours_total == Decimal("0.5")  # the volunteer's visit, whoever typed it
    with pytest.raises(NotFoundError):
        record(actor(personas, "county_b_admin"), world.pairing)
    for name in ("auditor", "system_admin"):
        with pytest.raises(PermissionDeniedError):
            record(actor(personas, name), world.pairing)


@pytest.mark.parametrize("state", [PairingState.PROPOSED, PairingState.CLOSED])
def test_only_an_active_pairing_takes_visits(personas: dict[str, Any], world: VisitWorld, state: str) -> None:
    Pairing.objects.filter(pk=world.pairing.pk).update(
        state=state, close_reason="other" if state == PairingState.CLOSED else ""
    )

    with pytest.raises(ConflictError):
        record(actor(personas, "volunteer"), world.pairing)
    assert not Visit.objects.exists()


def test_visits_are_listed_to_their_volunteer_and_to_staff_of_the_region(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    mine = record(actor(personas, "volunteer"), world.pairing)
    other = record(actor_for_user(world.other_user), world.other_pairing)
    in_b = record(actor(personas, "county_b_admin"), world.pairing_b)

    def ids(name: str) -> set[int]:
        return set(visit_list(actor=actor(personas, name)).values_list("pk", flat=True))

    assert ids("volunteer") == {mine.pk}
    assert set(visit_list(actor=actor_for_user(world.other_user)).values_list("pk", flat=True)) == {other.pk}
    assert ids("township_worker") == {mine.pk, other.pk}
    assert ids("county_a_admin") == {mine.pk, other.pk}
    assert ids("county_b_admin") == {in_b.pk}
    assert ids("province_admin") == {mine.pk, other.pk, in_b.pk}
    with pytest.raises(PermissionDeniedError):
        visit_list(actor=actor(personas, "auditor"))


# --- Mandatory reports ----------------------------------------------------------------------------------


@pytest.fixture
def admins(personas: dict[str, Any]) -> dict[str, Any]:
    """Everyone who might wrongly be alerted, with a mobile number each."""
    Region.objects.create(
        code="330127101000", name="文昌镇", short_name="文昌", level=4, parent_id="330127000000"
    )
    people = {
        "township": personas["township_worker"],
        "county": personas["county_a_admin"],
        "county_b": personas["county_b_admin"],
        "province": personas["province_admin"],
        "volunteer": personas["volunteer"],
    }
    other_township = user_create(username="p-wenchang", password=None)
    role_assign(user=other_township, role=Role.TOWNSHIP_ADMIN, region=Region.objects.get(code="330127101000"))
    people["other_township"] = other_township
    expired = user_create(username="p-county-a-former", password=None)
    role_assign(
        user=expired,
        role=Role.COUNTY_ADMIN,
        region=Region.objects.get(code="330127000000"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2026, 6, 30),
    )
    people["expired"] = expired
    inactive = user_create(username="p-county-a-left", password=None)
    role_assign(user=inactive, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330127000000"))
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    people["inactive"] = inactive
    second_county_admin = user_create(username="p-county-a-deputy", password=None)
    role_assign(
        user=second_county_admin, role=Role.COUNTY_ADMIN, region=Region.objects.get(code="330127000000")
    )
    people["county_deputy"] = second_county_admin
    for number, user in enumerate(people.values(), start=1):
        user.mobile = f"139000000{number:02d}"
        user.save()
    return people


def test_a_safety_concern_opens_a_mandatory_report_and_alerts_the_childs_township_and_county_admins(
    personas: dict[str, Any],
    world: VisitWorld,
    admins: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ConsoleSmsBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        visit = record(
            actor(personas, "volunteer"),
            world.pairing,
            concerns=SafetyConcern.NEGLECT | SafetyConcern.NO_CARER,
            safety=Condition.GOOD,
            note="张小明的祖母住院，家中无人",
        )

    report = MandatoryReport.objects.get()
    assert (report.visit_id, report.minor_id, report.state) == (visit.pk, world.child.pk, ReportState.OPEN)
    assert report.concerns == 10
    assert report.deadline == TODAY + datetime.timedelta(hours=24)
    visit.refresh_from_db()
    assert visit.safety == Condition.CONCERN  # a ticked concern is a safety concern
    alerted = {
        notification.user_id
        for notification in Notification.objects.filter(topic=f"mandatory_report:{report.pk}", kind="alert")
    }
    assert alerted == {admins["township"].pk, admins["county"].pk, admins["county_deputy"].pk}
    notification = Notification.objects.get(user=admins["township"])
    assert notification.link == f"/mandatory-reports/{report.pk}/"
    assert notification.title == "强制报告：结对儿童存在安全隐患"
    assert notification.body == (
        f"淳安县千岛湖镇一名结对儿童在走访中发现：疏于照料、无人照料。请于12月1日10:00前核实处置并登记结果"
        f"（报告编号 {report.pk}）。"
    )
    texts = dict(ConsoleSmsBackend.outbox)
    assert set(texts) == {"13900000001", "13900000002", "13900000009"}  # township, county, deputy
    for text in texts.values():
        assert text.startswith("【智慧关工委】强制报告：结对儿童存在安全隐患：淳安县千岛湖镇一名结对儿童")
        assert "张小明" not in text
        assert "小明" not in text
        assert "富城村" not in text
    event = AuditEvent.objects.get(action="report.open")
    assert event.target_id == str(report.pk)
    assert event.detail == {"visit": visit.pk, "concerns": 10, "notified": 3}


def test_the_report_deadline_is_configurable(
    personas: dict[str, Any], world: VisitWorld, settings: Any
) -> None:
    settings.GUANAI_MANDATORY_REPORT_HOURS = 4

    record(actor(personas, "volunteer"), world.pairing, concerns=SafetyConcern.SELF_HARM)

    assert MandatoryReport.objects.get().deadline == TODAY + datetime.timedelta(hours=4)


def test_a_safety_condition_without_a_ticked_concern_opens_no_report(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    record(actor(personas, "volunteer"), world.pairing, safety=Condition.CONCERN, concerns=0)

    assert not MandatoryReport.objects.exists()
    assert not Notification.objects.exists()


def test_a_report_in_county_b_alerts_county_b_only(
    personas: dict[str, Any], world: VisitWorld, admins: dict[str, Any]
) -> None:
    record(actor(personas, "county_b_admin"), world.pairing_b, concerns=SafetyConcern.ABUSE)

    assert set(Notification.objects.values_list("user_id", flat=True)) == {admins["county_b"].pk}


def test_closing_a_report_requires_an_outcome(personas: dict[str, Any], world: VisitWorld) -> None:
    record(actor(personas, "volunteer"), world.pairing, concerns=SafetyConcern.ABUSE)
    report = MandatoryReport.objects.get()
    township = actor(personas, "township_worker")

    with pytest.raises(ValidationFailed) as raised:
        report_close(actor=township, report_id=report.pk, outcome="", note="已联系派出所")
    assert raised.value.fields == {"outcome": ["请选择处置结果"]}
    report.refresh_from_db()
    assert (report.state, report.outcome, report.closed_at) == (ReportState.OPEN, "", None)

    closed = report_close(actor=township, report_id=report.pk, outcome=ReportOutcome.POLICE, note="已报警")
    closed.refresh_from_db()
    assert (closed.state, closed.outcome, closed.outcome_note) == ("closed", "police", "已报警")
    assert (closed.closed_at, closed.closed_by) == (TODAY, personas["township_worker"])
    event = AuditEvent.objects.get(action="report.close")
    assert (event.target_id, event.detail) == (str(report.pk), {"outcome": "police", "after_deadline": False})
    with pytest.raises(ConflictError):
        report_close(actor=township, report_id=report.pk, outcome=ReportOutcome.SCHOOL)


def test_only_report_managers_of_the_region_close_reports(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    record(actor(personas, "volunteer"), world.pairing, concerns=SafetyConcern.ABUSE)
    report = MandatoryReport.objects.get()

    with pytest.raises(NotFoundError):
        report_close(actor=actor(personas, "county_b_admin"), report_id=report.pk, outcome="police")
    for name in ("volunteer", "auditor", "lawyer"):
        with pytest.raises(PermissionDeniedError):
            report_close(actor=actor(personas, name), report_id=report.pk, outcome="police")
    assert MandatoryReport.objects.get().state == ReportState.OPEN


def test_overdue_reports_are_the_open_ones_past_their_deadline(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    late = MandatoryReportFactory.create(
        visit__pairing=world.pairing, deadline=TODAY - datetime.timedelta(hours=1)
    )
    due_later = MandatoryReportFactory.create(
        visit__pairing=world.other_pairing, deadline=TODAY + datetime.timedelta(hours=5)
    )
    closed_late = MandatoryReportFactory.create(
        visit__pairing=world.pairing,
        visit__mode="phone",
        deadline=TODAY - datetime.timedelta(hours=30),
        state=ReportState.CLOSED,
        outcome=ReportOutcome.UNFOUNDED,
    )
    in_b = MandatoryReportFactory.create(
        visit__pairing=world.pairing_b, deadline=TODAY - datetime.timedelta(hours=2)
    )
    county_a = actor(personas, "county_a_admin")

    assert list(reports_overdue(actor=county_a).values_list("pk", flat=True)) == [late.pk]
    assert list(report_list(actor=county_a).values_list("pk", flat=True)) == [
        late.pk,
        due_later.pk,
        closed_late.pk,
    ]
    assert list(reports_overdue(actor=actor(personas, "county_b_admin")).values_list("pk", flat=True)) == [
        in_b.pk
    ]


# --- Photos ---------------------------------------------------------------------------------------------


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_photo_is_kept_privately_without_its_exif_and_gps_position(
    personas: dict[str, Any], world: VisitWorld, private_media: Path
) -> None:
    from PIL import ExifTags, Image

    original = jpeg_with_gps((64, 48), orientation=6)
    with Image.open(io.BytesIO(original)) as source:  # the upload does carry a position
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    visit = record(actor(personas, "volunteer"), world.pairing, photo=upload(original))

    visit.refresh_from_db()
    assert visit.photo.startswith("visits/2026/11/")
    assert visit.photo.endswith(".jpg")
    stored = private_media / visit.photo
    assert stored.parent.parent.parent == photo_directory() == private_media / "visits"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    content = stored.read_bytes()
    assert b"Exif" not in content
    assert CAMERA.encode() not in content
    with Image.open(stored) as kept:
        assert kept.format == "JPEG"
        assert len(kept.getexif()) == 0
        assert "exif" not in kept.info
        assert "icc_profile" not in kept.info
        assert kept.size == (48, 64)  # turned upright before the orientation tag went
    assert visit_photo_path(actor=actor(personas, "volunteer"), visit_id=visit.pk) == stored.resolve()


def test_a_transparent_png_is_kept_as_a_jpeg_on_white(personas: dict[str, Any], world: VisitWorld) -> None:
    from PIL import Image

    visit = record(
        actor(personas, "volunteer"), world.pairing, photo=upload(png_with_alpha(), "a.png", "image/png")
    )

    with Image.open(Path(visit_photo_path(actor=actor(personas, "volunteer"), visit_id=visit.pk))) as kept:
        assert (kept.format, kept.mode, kept.size) == ("JPEG", "RGB", (40, 30))
        red, green, blue = kept.getpixel((5, 5))  # type: ignore[misc]
        assert min(red, green, blue) >= 250


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an image at all", "请上传 JPG 或 PNG 格式的照片"),
        (gif_image(), "请上传 JPG 或 PNG 格式的照片"),
        (jpeg_with_gps()[:200], "请上传 JPG 或 PNG 格式的照片"),
        (b"\xff" * (8 * 1024 * 1024 + 1), "照片不能超过 8 MB"),
    ],
    ids=["text", "gif", "truncated", "too-large"],
)
def test_anything_but_a_jpeg_or_png_photo_is_refused_and_nothing_is_written(
    personas: dict[str, Any], world: VisitWorld, private_media: Path, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        record(actor(personas, "volunteer"), world.pairing, photo=upload(content))

    assert raised.value.fields == {"photo": [message]}
    assert not Visit.objects.exists()
    assert not any(path.is_file() for path in private_media.rglob("*"))


def test_a_failed_visit_leaves_no_photo_behind(
    personas: dict[str, Any], world: VisitWorld, private_media: Path
) -> None:
    volunteer = actor(personas, "volunteer")
    record(volunteer, world.pairing)

    with pytest.raises(ConflictError):
        record(volunteer, world.pairing, photo=upload(jpeg_with_gps()))
    assert [path.name for path in private_media.rglob("*.jpg")] == []


def test_the_photo_of_a_visit_is_added_by_whoever_may_record_it(
    personas: dict[str, Any], world: VisitWorld, private_media: Path
) -> None:
    visit = record(actor(personas, "volunteer"), world.pairing)

    with pytest.raises(NotFoundError):
        visit_photo_attach(
            actor=actor_for_user(world.other_user), visit_id=visit.pk, photo=upload(jpeg_with_gps())
        )
    with pytest.raises(NotFoundError):
        visit_photo_attach(
            actor=actor(personas, "county_b_admin"), visit_id=visit.pk, photo=upload(jpeg_with_gps())
        )
    assert Visit.objects.get().photo == ""

    attached = visit_photo_attach(
        actor=actor(personas, "volunteer"), visit_id=visit.pk, photo=upload(jpeg_with_gps())
    )
    assert (private_media / attached.photo).is_file()
    assert AuditEvent.objects.filter(action="visit.photo", target_id=str(visit.pk)).count() == 1


def test_a_visit_photo_is_shown_to_its_volunteer_and_staff_of_the_region_only(
    personas: dict[str, Any], world: VisitWorld
) -> None:
    visit = record(actor(personas, "volunteer"), world.pairing, photo=upload(jpeg_with_gps()))

    for name in ("volunteer", "township_worker", "county_a_admin", "province_admin"):
        assert visit_photo_path(actor=actor(personas, name), visit_id=visit.pk).is_file()
    with pytest.raises(NotFoundError):
        visit_photo_path(actor=actor_for_user(world.other_user), visit_id=visit.pk)
    with pytest.raises(NotFoundError):
        visit_photo_path(actor=actor(personas, "county_b_admin"), visit_id=visit.pk)
    with pytest.raises(PermissionDeniedError):
        visit_photo_path(actor=actor(personas, "auditor"), visit_id=visit.pk)
    assert AuditEvent.objects.filter(action="visit.photo_view", target_id=str(visit.pk)).count() == 4
