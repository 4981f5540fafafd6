"""factory_boy factories for the online services, and `make_professional`: a lawyer or counsellor with an
account, a role and a volunteer record of the right specialty (licence or certificate)."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.utils import timezone

from guanai.accounts.services import role_assign, user_create
from guanai.consultations.codes import retrieval_digest
from guanai.consultations.models import Article, Consultation, DutySlot, Message
from guanai.consultations.vocabulary import (
    KIND_OF_TOPIC,
    ArticleState,
    ContactPreference,
    Kind,
    Requester,
    Sender,
    State,
    Topic,
)
from guanai.core.access import Role
from guanai.core.testing import COUNTY_A
from guanai.minors.tests.factories import COMMUNITY_A
from guanai.regions.models import Region
from guanai.volunteers.models import Volunteer
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import Specialty

# Every request made by the factory can be read with this code and its reference.
RETRIEVAL_CODE = "K7M2Q9TA"


def make_professional(
    *,
    username: str,
    kind: str,
    region: str = COUNTY_A,
    user: Any = None,
    home: str = COMMUNITY_A,
    **volunteer_fields: Any,
) -> Volunteer:
    """A professional volunteer: `user` (made when not given, with the lawyer or counsellor role at
    `region`) linked to a volunteer record living in `home` with the specialty of `kind`."""
    role = Role.LAWYER if kind == Kind.LEGAL else Role.COUNSELLOR
    if user is None:
        user = user_create(username=username, password=None, display_name=username)
        role_assign(
            user=user, role=role, region=Region.objects.get(code=region), valid_from=datetime.date(2020, 1, 1)
        )
    if kind == Kind.LEGAL:
        fields: dict[str, Any] = {
            "specialties": int(Specialty.LAW),
            "law_licence_number": "13301200010000001",
        }
    else:
        fields = {"specialties": int(Specialty.PSYCHOLOGY), "psychology_certificate": "心理咨询师二级 2010"}
    fields.update(volunteer_fields)
    volunteer: Volunteer = VolunteerFactory.create(
        user=user, region_id=home, name=f"专业{username}", **fields
    )
    return volunteer


class DutySlotFactory(factory.django.DjangoModelFactory[DutySlot]):
    class Meta:
        model = DutySlot

    volunteer = factory.SubFactory(VolunteerFactory)
    kind = Kind.PSYCHOLOGICAL
    region_id = COUNTY_A
    weekday = 0
    part = 0
    is_lead = False


def on_duty_all_week(
    volunteer: Volunteer, *, kind: str, region: str = COUNTY_A, is_lead: bool = False
) -> None:
    """Every part of every day of the week."""
    DutySlot.objects.bulk_create(
        DutySlot(volunteer=volunteer, kind=kind, region_id=region, weekday=day, part=part, is_lead=is_lead)
        for day in range(7)
        for part in range(4)
    )


class ConsultationFactory(factory.django.DjangoModelFactory[Consultation]):
    class Meta:
        model = Consultation

    reference = factory.Sequence(lambda n: f"ZXT{n:07d}")
    retrieval_digest = factory.LazyAttribute(lambda o: retrieval_digest(o.reference, RETRIEVAL_CODE))
    topic = Topic.STUDY_PRESSURE
    kind = factory.LazyAttribute(lambda o: KIND_OF_TOPIC[o.topic])
    requester = Requester.SELF
    requester_age = 15
    region_id = COMMUNITY_A
    requester_name = "小林"
    contact_phone = "13900001111"
    contact_preference = ContactPreference.ONLINE
    description = "最近考试压力很大，晚上睡不着。"
    consent_version = "2026-11"
    guardian_consent = False
    state = State.WAITING


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    consultation = factory.SubFactory(ConsultationFactory)
    sender = Sender.REQUESTER
    body = "谢谢老师。"


class ArticleFactory(factory.django.DjangoModelFactory[Article]):
    class Meta:
        model = Article

    kind = Kind.PSYCHOLOGICAL
    topic = Topic.STUDY_PRESSURE
    question = factory.Sequence(lambda n: f"考试前总是紧张怎么办？{n}")
    answer = "紧张是正常的反应。可以试试规律作息、适度运动，把大目标拆成小目标。"
    keywords = "考试 紧张 焦虑 失眠"
    search_text = factory.LazyAttribute(lambda o: f"{o.question}\n{o.keywords}\n{o.answer}".lower())
    author = factory.SubFactory(VolunteerFactory)
    state = ArticleState.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
