"""Synthetic historical requests for online help, for benchmarks and demos — never for tests' expectations.

`generate_consultations` spreads made-up requests over the villages and townships of a region and over the
last `days` days, with what a province's desk would see: a little more psychological help than legal
(55 / 45), topics weighted as such desks report them (study pressure, emotional distress and school
bullying the most), about 3 % urgent (every 自伤或轻生念头 request, some of domestic violence and
emotional distress), asked mostly by the child, then a guardian or a teacher, more from urban communities
than villages, more in the evening than at night. Each request runs its course up to `now`: an urgent one is
accepted in minutes (one in ten after its GUANAI_CRISIS_ACCEPT_MINUTES, escalated to the county, a few to
the province), an ordinary one in hours; a first reply follows (about one in twenty after
GUANAI_CONSULTATION_REPLY_HOURS); most are closed within days with an outcome, and about half of those
rated, mostly 4 or 5. Recent requests are still waiting or accepted, with their clocks running or overdue;
a few ordinary ones wait with nobody assigned. The requests of each county are given to a pool of
professionals of that county — the active lawyers and counsellors found there, topped up with synthetic
ones (volunteers of the volunteers' generator with a licence or a certificate and weekly duty slots
covering the county) when there are too few. The same seed, region, `now` and database state give the same
requests.

What would identify a requester is placeholder text: every request of a topic has the same made-up
description, the same placeholder name or phone when it leaves one, the same summary per outcome. By
default these encrypted columns are **not encrypted per row**: each distinct placeholder is encrypted once
per batch and that ciphertext is stored in every row of the batch that carries the placeholder (SM4-GCM
with its own nonce, the column's associated data; the rows decrypt normally). Measured on PostgreSQL
(bench/RESULTS.md), encrypting every value makes the generation about a fifth slower (4,660 against 5,730
requests/s, some 40 s more per million) for nothing a benchmark reads: the rows are as large either way,
since a ciphertext's length follows its plaintext's, and each still decrypts on its own.
`encrypt_each_row=True` encrypts every value as the field does, to measure that cost.

The batches follow each other in time (each covers the next slice of the period, its rows sorted by
`created_at`), so that the table's rows lie in the order requests arrive, as in a real desk's table: a
month's requests sit on neighbouring pages rather than spread over the whole table, which is what the
period queries of the supervisors' view meet in production. Each batch is written in one transaction: by
COPY on PostgreSQL (psycopg's `copy`), by one prepared INSERT run for every row on SQLite — not through
model instances and `bulk_create`, whose instances and compiled statement cost more than the database's
own work at a million rows (and which would stamp `created_at`, an `auto_now_add` field, with the present
moment). Values are converted per column as the fields would (datetimes, JSON, encryption when asked).
References are "ZS" and eight characters of the codes' alphabet counting up (never a real request's
"ZX…"); the retrieval digest is one that no reference and code hash to, so no synthetic request can be
opened with a code.

Every request is made up; none may enter a real desk (the command refuses unless told otherwise).
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.consultations.codes import ALPHABET
from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.vocabulary import (
    TOPICS_BY_KIND,
    ContactPreference,
    Kind,
    Outcome,
    Requester,
    State,
    Topic,
)
from guanai.core import region_codes
from guanai.core.crypto import EncryptedTextField, encrypt_text
from guanai.core.errors import ValidationFailed
from guanai.minors.generation import _Village, _villages, _weighted_table
from guanai.volunteers.generation import _VolunteerGenerator
from guanai.volunteers.models import Volunteer
from guanai.volunteers.vocabulary import CheckResult, Source, Specialty, Status

REFERENCE_PREFIX = "ZS"
REFERENCE_LENGTH = 8
# No retrieval code hashes to this (the intake compares against the same value for unknown references).
NO_RETRIEVAL = "0" * 64
_INSERT_CHUNK = 1000

# --- Reference tables -------------------------------------------------------------------------------------

KIND_WEIGHTS: dict[str, float] = {Kind.LEGAL: 45, Kind.PSYCHOLOGICAL: 55}
TOPIC_WEIGHTS: dict[str, float] = {
    Topic.SCHOOL_BULLYING: 25,
    Topic.GUARDIANSHIP: 18,
    Topic.DOMESTIC_VIOLENCE: 12,
    Topic.ONLINE_HARM: 15,
    Topic.LABOUR_RIGHTS: 6,
    Topic.SUSPECTED_OFFENCE: 7,
    Topic.LEGAL_OTHER: 17,
    Topic.STUDY_PRESSURE: 30,
    Topic.PARENT_CHILD: 21,
    Topic.EMOTIONAL_DISTRESS: 25,
    Topic.PEER_RELATIONS: 12,
    Topic.SELF_HARM: 3,
    Topic.PSYCHOLOGICAL_OTHER: 9,
}
# Besides 自伤或轻生念头 (always urgent), the share of a topic's requests whose words signal a crisis.
URGENT_SHARE: dict[str, float] = {Topic.DOMESTIC_VIOLENCE: 0.15, Topic.EMOTIONAL_DISTRESS: 0.04}
REQUESTER_WEIGHTS: dict[str, float] = {
    Requester.SELF: 56,
    Requester.GUARDIAN: 30,
    Requester.TEACHER: 10,
    Requester.OTHER: 4,
}
# Requests by hour of the day (Asia/Shanghai): after school and in the evening most.
HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.0, 3.0, 2.8,
    2.5, 2.8, 3.0, 3.0, 3.0, 3.2, 3.6, 4.2, 4.6, 4.4, 3.5, 2.0,
)  # fmt: skip
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.8, 0.85)
TOWNSHIP_SHARE = 0.25  # requests placed at a township rather than a village or community
PHONE_SHARE = 0.3
NAME_SHARE = 0.4
RATED_SHARE = 0.45
RATING_WEIGHTS = {5: 55, 4: 25, 3: 10, 2: 6, 1: 4}
UNROUTED_SHARE = 0.03  # an ordinary request waiting with nobody to give it to
OUTCOME_WEIGHTS: dict[str, dict[str, float]] = {
    Kind.LEGAL: {
        Outcome.ADVICE: 78,
        Outcome.LEGAL_AID: 9,
        Outcome.HOTLINE_12355: 3,
        Outcome.POLICE: 3,
        Outcome.SCHOOL: 4,
        Outcome.NO_RESPONSE: 3,
    },
    Kind.PSYCHOLOGICAL: {
        Outcome.ADVICE: 80,
        Outcome.HOTLINE_12355: 5,
        Outcome.HOSPITAL: 4,
        Outcome.SCHOOL: 6,
        Outcome.POLICE: 1,
        Outcome.NO_RESPONSE: 4,
    },
}
# Minutes, as (median, spread) of a log-normal: to accept, then from accepting to the first reply.
ACCEPT_URGENT = (4.0, 0.7)
ACCEPT_ORDINARY = (150.0, 1.0)
REPLY_URGENT = (3.0, 0.6)
REPLY_ORDINARY = (45.0, 1.2)
# Days from the first reply to closing.
CLOSE_DAYS = (2.5, 0.9)
# Professionals per county when the county has too few: lawyers, counsellors; duty slots each.
POOL_SIZE: dict[str, int] = {Kind.LEGAL: 3, Kind.PSYCHOLOGICAL: 4}
SLOTS_PER_PROFESSIONAL = 5

DESCRIPTIONS: dict[str, str] = {
    Topic.SCHOOL_BULLYING: (
        "（合成数据）孩子说最近在学校总被几个同学推搡、起外号，还被拿走零花钱，不敢告诉老师，想知道该怎么办。"
    ),
    Topic.GUARDIANSHIP: (
        "（合成数据）父母离婚后孩子跟着奶奶生活，父亲不给抚养费，想问抚养费可以怎么要，孩子跟谁生活由谁决定。"
    ),
    Topic.DOMESTIC_VIOLENCE: (
        "（合成数据）家里大人喝酒后经常打骂孩子，身上有淤青，孩子很害怕回家，想知道可以向哪里求助。"
    ),
    Topic.ONLINE_HARM: (
        "（合成数据）孩子在网上认识的人一直要她发照片，不发就说要把聊天记录发给同学，现在很害怕。"
    ),
    Topic.LABOUR_RIGHTS: (
        "（合成数据）十六岁，暑假在饭店打工一个月，老板说试用期不给工资，想问这样合法吗，可以怎么讨回工资。"
    ),
    Topic.SUSPECTED_OFFENCE: (
        "（合成数据）孩子和同学打架，对方受了伤，派出所让家长过去，想问孩子会不会留案底，家长应该怎么做。"
    ),
    Topic.LEGAL_OTHER: ("（合成数据）想咨询未成年人在网上给游戏充值的钱能不能要回来，需要准备哪些材料。"),
    Topic.STUDY_PRESSURE: (
        "（合成数据）马上要期末考试了，每天学到很晚还是记不住，晚上睡不好，一想到考试就心慌。"
    ),
    Topic.PARENT_CHILD: (
        "（合成数据）和爸妈一说话就吵架，他们只关心成绩，不听我说什么，我觉得家里待着很压抑。"
    ),
    Topic.EMOTIONAL_DISTRESS: (
        "（合成数据）最近一段时间总是提不起精神，什么都不想做，经常一个人哭，也不知道为什么。"
    ),
    Topic.PEER_RELATIONS: ("（合成数据）换了新班级以后一直交不到朋友，课间总是一个人，觉得同学都不喜欢我。"),
    Topic.SELF_HARM: ("（合成数据）觉得活着没有意思，最近有伤害自己的想法，不知道该和谁说。"),
    Topic.PSYCHOLOGICAL_OTHER: ("（合成数据）想了解怎么帮助孩子适应住校生活，孩子住校后总说想家。"),
}
PLACEHOLDER_NAME = "（合成）"
PLACEHOLDER_PHONE = "13800000000"
SUMMARIES: dict[str, str] = {
    outcome: f"（合成数据）已与求助人沟通，{label}。" for outcome, label in Outcome.choices
}
SIGNALS: dict[str, list[str]] = {
    Topic.SELF_HARM: ["topic:self_harm"],
    Topic.DOMESTIC_VIOLENCE: ["被打"],
    Topic.EMOTIONAL_DISTRESS: ["不想活了"],
}


def _totals(weights: dict[Any, float]) -> tuple[list[Any], list[float]]:
    return list(weights), _weighted_table(weights.values())


_KINDS = _totals(KIND_WEIGHTS)
_TOPICS = {kind: _totals({topic: TOPIC_WEIGHTS[topic] for topic in TOPICS_BY_KIND[kind]}) for kind in Kind}
_REQUESTERS = _totals(REQUESTER_WEIGHTS)
_HOURS = _totals(dict(enumerate(HOUR_WEIGHTS)))
_RATINGS = _totals({rating: float(weight) for rating, weight in RATING_WEIGHTS.items()})
_OUTCOMES = {kind: _totals(weights) for kind, weights in OUTCOME_WEIGHTS.items()}


def reference_for(sequence: int) -> str:
    """ "ZS" and `sequence` in base 31 over the codes' alphabet, eight characters: ZS22222223 is 1. The
    alphabet's characters are in ASCII order, so references sort like their numbers."""
    base = len(ALPHABET)
    characters = []
    for _position in range(REFERENCE_LENGTH):
        sequence, digit = divmod(sequence, base)
        characters.append(ALPHABET[digit])
    if sequence:
        raise ValueError("reference sequence out of range")
    return REFERENCE_PREFIX + "".join(reversed(characters))


def sequence_of(reference: str) -> int:
    value = 0
    for character in reference[len(REFERENCE_PREFIX) :]:
        value = value * len(ALPHABET) + ALPHABET.index(character)
    return value


def _next_sequence() -> int:
    last = Consultation.objects.filter(reference__startswith=REFERENCE_PREFIX).aggregate(
        last=Max("reference")
    )
    return sequence_of(last["last"]) + 1 if last["last"] else 1


# --- The places and the professionals ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    code: str
    county: str  # six digits


def _places(villages: Sequence[_Village]) -> tuple[list[_Place], list[float], list[_Place], list[float]]:
    """Villages (urban communities weighted above rural villages: more requests come from where the
    internet is) and townships (weighted by their number of villages)."""
    village_places = [_Place(village.code, village.code[:6]) for village in villages]
    village_totals = _weighted_table(2.0 if village.is_rural else 3.0 for village in villages)
    townships: dict[str, int] = {}
    for village in villages:
        township = region_codes.parent_code(village.code) or village.code
        townships[township] = townships.get(township, 0) + 1
    township_places = [_Place(code, code[:6]) for code in townships]
    return village_places, village_totals, township_places, _weighted_table(townships.values())


def _existing_professionals(region_code: str) -> dict[tuple[str, str], list[int]]:
    """Active volunteers with a licence (lawyers) or a certificate (counsellors) living in the region, by
    (county, kind)."""
    pool: dict[tuple[str, str], list[int]] = {}
    rows = (
        Volunteer.objects.filter(region_codes.within_q("region_id", region_code), status=Status.ACTIVE)
        .values_list("pk", "region_id", "specialties", "law_licence_number", "psychology_certificate")
        .order_by("pk")
    )
    for pk, region_id, specialties, licence, certificate in rows:
        county = str(region_id)[:6]
        if specialties & Specialty.LAW and licence.strip():
            pool.setdefault((county, Kind.LEGAL), []).append(pk)
        if specialties & Specialty.PSYCHOLOGY and certificate.strip():
            pool.setdefault((county, Kind.PSYCHOLOGICAL), []).append(pk)
    return pool


def _professional_pool(
    *, region_code: str, villages: Sequence[_Village], seed: int, today: datetime.date
) -> dict[tuple[str, str], list[int]]:
    """The professionals of each county of the region by kind; synthetic ones (with duty slots covering
    their county) added where a county has fewer than `POOL_SIZE`."""
    pool = _existing_professionals(region_code)
    by_county: dict[str, list[_Village]] = {}
    for village in villages:
        by_county.setdefault(village.code[:6], []).append(village)
    missing = {
        (county, kind): size - len(pool.get((county, kind), []))
        for county in sorted(by_county)
        for kind, size in POOL_SIZE.items()
        if len(pool.get((county, kind), [])) < size
    }
    if not missing:
        return pool
    # No made-up hour totals: a total is the sum of its records (the demo's volunteers have real ones).
    generator = _VolunteerGenerator(region_code=region_code, seed=seed, today=today, with_hours=False)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    made: list[tuple[str, str]] = []
    elders = []
    for (county, kind), count in missing.items():
        # The volunteers' generator draws from the county's villages only.
        generator.villages = by_county[county]
        generator.village_totals = _weighted_table(1.0 for _village in by_county[county])
        for _number in range(count):
            elder = generator.elder()
            volunteer = elder.volunteer
            # One profession each: the volunteers' generator may have drawn either already.
            volunteer.specialties &= ~int(Specialty.LAW | Specialty.PSYCHOLOGY)
            volunteer.law_licence_number = volunteer.psychology_certificate = ""
            if kind == Kind.LEGAL:
                volunteer.specialties |= int(Specialty.LAW)
                volunteer.law_licence_number = (
                    f"1{county[:4]}{today.year - rng.randint(3, 30)}1{rng.randrange(10**7):07d}"
                )
            else:
                volunteer.specialties |= int(Specialty.PSYCHOLOGY)
                volunteer.psychology_certificate = f"心理咨询师（二级）{rng.randrange(10**15, 10**16)}"
            volunteer.status, volunteer.status_reason, volunteer.status_changed_on = Status.ACTIVE, "", None
            volunteer.joined_on = volunteer.joined_on or today - datetime.timedelta(
                days=rng.randrange(30, 3000)
            )
            volunteer.check_date = today - datetime.timedelta(days=rng.randrange(300))
            volunteer.check_result = CheckResult.CLEAR
            volunteer.source = Source.STAFF
            made.append((county, kind))
            elders.append(elder)
    # An ID number stored already (an earlier run, the demo) is drawn again: its blind index is unique.
    generator.avoid_stored_volunteers(elders)
    with transaction.atomic():
        created = Volunteer.objects.bulk_create([elder.volunteer for elder in elders])
        slots = []
        for (county, kind), volunteer in zip(made, created, strict=True):
            pool.setdefault((county, kind), []).append(volunteer.pk)
            parts = rng.sample([(day, part) for day in range(7) for part in range(4)], SLOTS_PER_PROFESSIONAL)
            slots += [
                DutySlot(
                    volunteer_id=volunteer.pk,
                    kind=kind,
                    region_id=county.ljust(region_codes.CODE_LENGTH, "0"),
                    weekday=day,
                    part=part,
                )
                for day, part in parts
            ]
        DutySlot.objects.bulk_create(slots)
    return pool


# --- One request ------------------------------------------------------------------------------------------


class _RequestGenerator:
    def __init__(
        self,
        *,
        seed: int,
        now: datetime.datetime,
        days: int,
        pool: dict[tuple[str, str], list[int]],
        villages: Sequence[_Village],
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.now = now
        self.days = days
        self.pool = pool
        self.village_places, self.village_totals, self.township_places, self.township_totals = _places(
            villages
        )
        self.accept_minutes = int(settings.GUANAI_CRISIS_ACCEPT_MINUTES)
        self.reply_minutes = int(settings.GUANAI_CONSULTATION_REPLY_HOURS) * 60
        self.notice = str(settings.GUANAI_CONSULTATION_NOTICE_VERSION)
        self.window = (0.0, 1.0)
        # Days of the period weighted by weekday, for drawing a day.
        local_today = timezone.localdate(now)
        self.first_day = local_today - datetime.timedelta(days=days - 1)
        self.day_totals = _weighted_table(
            WEEKDAY_WEIGHTS[(self.first_day + datetime.timedelta(days=offset)).weekday()]
            for offset in range(days)
        )

    def weighted(self, table: tuple[list[Any], list[float]]) -> Any:
        values, totals = table
        return values[bisect.bisect(totals, self.rng.random() * totals[-1])]

    def log_normal(self, median_and_spread: tuple[float, float]) -> float:
        median, spread = median_and_spread
        return median * math.exp(self.rng.gauss(0.0, spread))

    def moment(self) -> datetime.datetime:
        """A moment of the period, before now, in its local day and hour; inside the `window` (a fraction of
        the period, weighted by weekday), so that successive batches follow each other in time."""
        tz = ZoneInfo(settings.TIME_ZONE)
        low, high = self.window
        for _attempt in range(20):
            fraction = low + self.rng.random() * (high - low)
            offset = bisect.bisect(self.day_totals, fraction * self.day_totals[-1])
            day = self.first_day + datetime.timedelta(days=offset)
            hour = self.weighted(_HOURS)
            moment = datetime.datetime(
                day.year, day.month, day.day, hour, self.rng.randrange(60), self.rng.randrange(60), tzinfo=tz
            )
            if moment < self.now:
                return moment
        return self.now - datetime.timedelta(seconds=self.rng.randrange(1, 3600))

    def place(self) -> _Place:
        if self.rng.random() < TOWNSHIP_SHARE:
            return self.township_places[
                bisect.bisect(self.township_totals, self.rng.random() * self.township_totals[-1])
            ]
        return self.village_places[
            bisect.bisect(self.village_totals, self.rng.random() * self.village_totals[-1])
        ]

    def professional(self, county: str, kind: str) -> int | None:
        candidates = self.pool.get((county, kind)) or self.pool.get((county, Kind.PSYCHOLOGICAL))
        if not candidates:
            return None
        return candidates[self.rng.randrange(len(candidates))]

    def request(self, texts: dict[str, Any]) -> dict[str, Any]:
        """One request's columns by attribute name (those left out take the field's default), but its
        reference."""
        rng = self.rng
        kind = self.weighted(_KINDS)
        topic = self.weighted(_TOPICS[kind])
        is_urgent = topic == Topic.SELF_HARM or rng.random() < URGENT_SHARE.get(topic, 0.0)
        place = self.place()
        created = self.moment()
        requester = self.weighted(_REQUESTERS)
        age = rng.randint(10, 17) if requester == Requester.SELF else rng.randint(6, 17)
        by_phone = rng.random() < PHONE_SHARE
        named = rng.random() < NAME_SHARE
        row: dict[str, Any] = {
            "retrieval_digest": NO_RETRIEVAL,
            "kind": kind,
            "topic": topic,
            "requester": requester,
            "requester_age": age if rng.random() < 0.9 else None,
            "region_id": place.code,
            "requester_name": texts["name"] if named else "",
            "contact_phone": texts["phone"] if by_phone else "",
            "contact_preference": ContactPreference.PHONE if by_phone else ContactPreference.ONLINE,
            "description": texts["description"][topic],
            "consent_version": self.notice,
            "guardian_consent": (by_phone or named) and age < 14,
            "is_urgent": is_urgent,
            "crisis_signals": SIGNALS.get(topic, ["被打"]) if is_urgent else [],
            "state": State.WAITING,
            "created_at": created,
            "updated_at": created,
            "last_message_at": created,
        }
        self.run_course(row, place, created, texts)
        return row

    def run_course(
        self, row: dict[str, Any], place: _Place, created: datetime.datetime, texts: dict[str, Any]
    ) -> None:
        """What has happened to the request by now: assigned, accepted, answered, closed and rated, each
        step only once its moment has come; a step still ahead leaves its clock running (or overdue)."""
        rng, now, limit = self.rng, self.now, self.accept_minutes
        is_urgent = row["is_urgent"]
        professional = self.professional(place.county, row["kind"])
        reply_due = created + datetime.timedelta(minutes=self.reply_minutes)
        accept_after = self.log_normal(ACCEPT_URGENT if is_urgent else ACCEPT_ORDINARY)
        accepted = created + datetime.timedelta(minutes=accept_after)
        waiting = accepted > now or professional is None
        if is_urgent:
            # Nobody is assigned until someone accepts; past its minutes a crisis goes to the county, past
            # twice its minutes to the province.
            elapsed = (now - created).total_seconds() / 60 if waiting else accept_after
            level = 0 if elapsed <= limit else 1 if elapsed <= 2 * limit else 2
            if level:
                row["accept_breached"] = True
                row["escalation_level"] = level
                row["escalated_at"] = created + datetime.timedelta(minutes=level * limit)
            if waiting:
                row["accept_due_at"] = created + datetime.timedelta(minutes=(level + 1) * limit)
        elif not waiting or rng.random() >= UNROUTED_SHARE:
            row["assigned_to_id"], row["assigned_at"] = professional, created
        if waiting:
            row["reply_due_at"] = reply_due
            row["reply_breached"] = reply_due <= now
            return
        if is_urgent:
            row["assigned_to_id"], row["assigned_at"] = professional, accepted
        row["state"] = State.ACCEPTED
        row["accepted_at"] = accepted
        reply_after = self.log_normal(REPLY_URGENT if is_urgent else REPLY_ORDINARY)
        replied = accepted + datetime.timedelta(minutes=reply_after)
        if replied > now:
            row["reply_due_at"] = reply_due
            row["reply_breached"] = reply_due <= now
            return
        row["first_reply_at"] = row["last_message_at"] = replied
        row["reply_breached"] = replied > reply_due
        closed = replied + datetime.timedelta(days=self.log_normal(CLOSE_DAYS))
        if closed > now:
            return
        outcome = self.weighted(_OUTCOMES[row["kind"]])
        row.update(
            state=State.CLOSED,
            closed_at=closed,
            updated_at=closed,
            outcome=outcome,
            summary=texts["summary"][outcome],
            service_hours=Decimal(rng.randrange(5, 31)) / 10,
        )
        if rng.random() < RATED_SHARE:
            rated = closed + datetime.timedelta(hours=rng.uniform(0.1, 48))
            if rated <= now:
                row["rating"], row["rated_at"] = self.weighted(_RATINGS), rated


# --- Writing ----------------------------------------------------------------------------------------------


def _encrypted_context(name: str) -> str:
    field = Consultation._meta.get_field(name)
    assert isinstance(field, EncryptedTextField)
    return field.context


def _batch_texts(*, encrypt_each_row: bool) -> dict[str, Any]:
    """The placeholders of one batch: their ciphertexts (each distinct text of each column encrypted once,
    stored as is in every row carrying it), or the texts themselves for the writer to encrypt per row."""

    def sealed(name: str, text: str) -> str:
        return text if encrypt_each_row else encrypt_text(text, context=_encrypted_context(name))

    return {
        "name": sealed("requester_name", PLACEHOLDER_NAME),
        "phone": sealed("contact_phone", PLACEHOLDER_PHONE),
        "description": {topic: sealed("description", text) for topic, text in DESCRIPTIONS.items()},
        "summary": {outcome: sealed("summary", text) for outcome, text in SUMMARIES.items()},
    }


def _unchanged(value: Any) -> Any:
    return value


_Writer = tuple[str, str, Any, Callable[[Any], Any]]


def _column_writers(*, encrypt_each_row: bool) -> list[_Writer]:
    """(attribute name, column, default, conversion to what the database takes) per column but the id: what
    the fields' `get_db_prep_save` would do with these values, done only where it changes something."""
    operations = connection.ops
    writers: list[_Writer] = []
    for field in Consultation._meta.concrete_fields:
        if field.primary_key:
            continue
        convert: Callable[[Any], Any] = _unchanged
        if isinstance(field, EncryptedTextField):
            if encrypt_each_row:
                context = field.context
                convert = functools.partial(_encrypted_or_empty, context=context)
        elif isinstance(field, models.DateTimeField):
            convert = functools.partial(_datetime_value, operations=operations)
        elif isinstance(field, models.JSONField):
            convert = json.dumps
        writers.append((field.attname, str(field.column), field.get_default(), convert))
    return writers


def _encrypted_or_empty(value: str, *, context: str) -> str:
    return encrypt_text(value, context=context) if value else value


def _datetime_value(value: datetime.datetime | None, *, operations: Any) -> Any:
    return None if value is None else operations.adapt_datetimefield_value(value)


def _write(rows: Sequence[dict[str, Any]], *, encrypt_each_row: bool) -> None:
    """The rows in one go: COPY on PostgreSQL, one prepared INSERT run for every row elsewhere (SQLite).
    Not through model instances and `bulk_create`: at a million rows, building the instances and the
    compiled INSERT costs more than the database's work, and `created_at` (auto_now_add) would be stamped
    with the present moment."""
    writers = _column_writers(encrypt_each_row=encrypt_each_row)
    values = [
        tuple(convert(row.get(name, default)) for name, _column, default, convert in writers) for row in rows
    ]
    quote = connection.ops.quote_name
    table = quote(Consultation._meta.db_table)
    columns = ", ".join(quote(column) for _name, column, _default, _convert in writers)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            placeholders = ", ".join(["%s"] * len(writers))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608


def generate_consultations(
    *,
    count: int,
    region_code: str = "330000000000",
    days: int = 365,
    seed: int = 0,
    batch_size: int = 10_000,
    progress: Callable[[int], object] | None = None,
    now: datetime.datetime | None = None,
    encrypt_each_row: bool = False,
) -> int:
    """Create `count` synthetic requests made in the villages and townships of `region_code` over the
    `days` days up to `now`; returns the number created. Each batch is written in one transaction, so an
    interruption leaves whole batches; `progress` is called with the number of requests of each batch."""
    if count <= 0:
        return 0
    if not 1 <= days <= 3660:
        raise ValidationFailed(fields={"days": [_("天数应在 1 到 3660 之间")]})
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(_("区划代码“%(code)s”无效") % {"code": region_code}) from error
    now = now or timezone.now()
    villages = _villages(code)
    if not villages:
        raise ValidationFailed(
            _("区划 %(code)s 下没有村（社区）数据：请先运行 python manage.py load_regions") % {"code": code}
        )
    pool = _professional_pool(region_code=code, villages=villages, seed=seed, today=timezone.localdate(now))
    generator = _RequestGenerator(seed=seed, now=now, days=days, pool=pool, villages=villages)
    sequence = itertools.count(_next_sequence())
    batches = math.ceil(count / batch_size)
    created = 0
    for batch in range(batches):
        # Each batch takes the next slice of the period and is written in time order, as requests arrive:
        # the table's rows then lie in the order of `created_at`, as a real desk's do (a period's requests
        # on neighbouring pages, not spread over the whole table).
        generator.window = (batch / batches, (batch + 1) / batches)
        texts = _batch_texts(encrypt_each_row=encrypt_each_row)
        rows = sorted(
            (generator.request(texts) for _number in range(min(batch_size, count - created))),
            key=lambda row: row["created_at"],
        )
        for row in rows:
            row["reference"] = reference_for(next(sequence))
        with transaction.atomic():
            _write(rows, encrypt_each_row=encrypt_each_row)
        created += len(rows)
        if progress is not None:
            progress(len(rows))
    return created
