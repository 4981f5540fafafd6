"""factory_boy factories for pairings, visits and mandatory reports. Rows are made directly (no lifecycle
service): an active pairing started 60 days ago whose next contact is due by the monthly policy."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

import factory
from django.utils import timezone

from guanai.minors.models import Minor
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, VILLAGE_A, MinorFactory
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.vocabulary import Condition, PairingState, ReportState, VisitMode
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory

MONTHLY = datetime.timedelta(days=30)


class PairingFactory(factory.django.DjangoModelFactory[Pairing]):
    class Meta:
        model = Pairing

    minor = factory.SubFactory(MinorFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    state = PairingState.ACTIVE
    started_on = factory.LazyAttribute(
        lambda o: (
            timezone.localdate() - datetime.timedelta(days=60) if o.state != PairingState.PROPOSED else None
        )
    )
    last_contact_on = None
    next_contact_due = factory.LazyAttribute(
        lambda o: (o.last_contact_on or o.started_on) + MONTHLY if o.state == PairingState.ACTIVE else None
    )
    close_reason = factory.LazyAttribute(lambda o: "other" if o.state == PairingState.CLOSED else "")
    closed_on = factory.LazyAttribute(
        lambda o: timezone.localdate() if o.state == PairingState.CLOSED else None
    )


class VisitFactory(factory.django.DjangoModelFactory[Visit]):
    class Meta:
        model = Visit

    pairing = factory.SubFactory(PairingFactory)
    visited_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    mode = VisitMode.HOME
    duration_minutes = 60
    activities = 1  # 谈心聊天
    note = "孩子近况良好"
    study = Condition.GOOD
    health = Condition.GOOD
    emotion = Condition.GOOD
    safety = Condition.GOOD
    concerns = 0


class MandatoryReportFactory(factory.django.DjangoModelFactory[MandatoryReport]):
    """An open report of a visit that found neglect, due in 24 hours."""

    class Meta:
        model = MandatoryReport

    visit = factory.SubFactory(VisitFactory, concerns=2, safety=Condition.CONCERN)
    minor = factory.LazyAttribute(lambda o: o.visit.pairing.minor)
    concerns = factory.LazyAttribute(lambda o: o.visit.concerns)
    state = ReportState.OPEN
    deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=24))


# --- A small world for the visit tests: the persona volunteer's pairing, another volunteer's, and one in
# county B ---------------------------------------------------------------------------------------------


@dataclass
class VisitWorld:
    me: Volunteer  # the "volunteer" persona's record
    child: Minor  # 张小明, 富城村 (千岛湖镇, 淳安县), paired with me
    pairing: Pairing
    other_user: Any  # another volunteer, with an account
    other_volunteer: Volunteer
    other_child: Minor  # 王小红, 青城社区 (千岛湖镇), paired with the other volunteer
    other_pairing: Pairing
    child_b: Minor  # 赵小刚, 白沙社区 (新安江街道, 建德市), county B
    pairing_b: Pairing


def volunteer_account(username: str, region_code: str = VILLAGE_A) -> Any:
    """A user holding the volunteer role in a village, as the personas are made."""
    from guanai.accounts.services import role_assign, user_create
    from guanai.core.access import Role
    from guanai.regions.models import Region

    user = user_create(username=username, password=None, display_name=username)
    role_assign(
        user=user,
        role=Role.VOLUNTEER,
        region=Region.objects.get(code=region_code),
        valid_from=datetime.date(2020, 1, 1),
    )
    return user


def build_visit_world(personas: dict[str, Any]) -> VisitWorld:
    me = VolunteerFactory.create(name="王建国", user=personas["volunteer"], region_id=VILLAGE_A)
    child = MinorFactory.create(name="张小明", region_id=VILLAGE_A)
    other_user = volunteer_account("p-volunteer-2")
    other_volunteer = VolunteerFactory.create(name="李秀英", user=other_user, region_id=COMMUNITY_A)
    other_child = MinorFactory.create(name="王小红", region_id=COMMUNITY_A)
    volunteer_b = VolunteerFactory.create(name="赵德明", region_id=COMMUNITY_B)
    child_b = MinorFactory.create(name="赵小刚", region_id=COMMUNITY_B)
    return VisitWorld(
        me=me,
        child=child,
        pairing=PairingFactory.create(minor=child, volunteer=me),
        other_user=other_user,
        other_volunteer=other_volunteer,
        other_child=other_child,
        other_pairing=PairingFactory.create(minor=other_child, volunteer=other_volunteer),
        child_b=child_b,
        pairing_b=PairingFactory.create(minor=child_b, volunteer=volunteer_b),
    )


# --- Photos as phones make them -------------------------------------------------------------------------

GPS_LATITUDE = (29.0, 36.0, 18.0)  # 千岛湖
GPS_LONGITUDE = (119.0, 2.0, 24.0)
CAMERA = "GuanaiTestCam"


def jpeg_with_gps(size: tuple[int, int] = (64, 48), *, orientation: int = 1) -> bytes:
    """A JPEG as a phone saves it: EXIF with the camera, an orientation and the GPS position."""
    from PIL import ExifTags, Image

    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: GPS_LONGITUDE,
    }
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes())
    return output.getvalue()


def png_with_alpha(size: tuple[int, int] = (40, 30)) -> bytes:
    from PIL import Image

    image = Image.new("RGBA", size, (0, 0, 255, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def gif_image() -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("P", (10, 10)).save(output, format="GIF")
    return output.getvalue()
