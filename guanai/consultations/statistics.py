"""Reads of the supervisors' view of online help (issue 7, point 8): volumes, response times, service-level
compliance and satisfaction of a region over a period, by region one level down and by topic; what is open
now; and the metadata list of requests.

Metadata only. Supervisors (CONSULTATION_SUPERVISE: county, city and province admins) see kind, topic,
region, times, state, clocks, the assignee's name and the rating — never the requester's words, name or
contact, the messages or the counselling notes (DOMAIN.md §4, §8). The list reads its rows with `.only()`
the metadata columns, so those encrypted columns are not even fetched, let alone decrypted.

The period is a range of days in Asia/Shanghai (the settings' TIME_ZONE): from 00:00 of `date_from` to
00:00 of the day after `date_to`, on `created_at` — a request counts in the period it was made in, with
whatever has happened to it since. The current month by default.

Response times (minutes from `created_at` to `accepted_at`, and to `first_reply_at`): median and 90th
percentile, computed from a histogram that the database builds. Why a histogram rather than PostgreSQL's
`percentile_cont`: one portable query answers on both databases the platform runs on (SQLite has no
percentile function), so the tests exercise the very code the province runs; a histogram is *additive*, so
one grouped query gives the figures of every child region, every topic and the whole region at once
(percentile_cont would need one ordered aggregate per grouping); and what travels from the database is
bounded by the number of buckets, not the number of requests. The buckets (`BUCKETS`) are whole minutes up
to an hour — exact where the crisis clock (10 minutes) is measured — then widen with the time (5 minutes to
4 hours, 20 minutes to a day, 2 hours to 3 days, 6 hours to a week; one bucket beyond a week), so that a
value is reported within 8.4 % below its true value. The percentiles are interpolated between the buckets'
lower bounds the way percentile_cont interpolates between values: for times under an hour they equal
`percentile_cont` over whole minutes.

Service levels:
- crisis accepted in time: among urgent requests whose accept clock is decided (accepted, or breached),
  the share accepted without `accept_breached`; an urgent request still inside its minutes counts in
  neither part;
- replies in time: among requests that got a first reply or whose reply clock was breached, the share
  without `reply_breached`.
Satisfaction: the average of the ratings given (1–5), their number, and the share of 4 and 5.
Open now (whatever the period): waiting, accepted, unrouted (waiting, nobody assigned, not urgent — an
urgent request waits unassigned by design until someone accepts), urgent waiting, and overdue now (a
crisis past its accept due time, or a message past its reply due time).
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import NotSupportedError, connection
from django.db.models import Count, Func, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.consultations.models import Consultation
from guanai.consultations.vocabulary import KIND_OF_TOPIC, TOPICS_BY_KIND, Kind, State, Topic
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.regions.models import Region

OPEN_STATES = (State.WAITING, State.ACCEPTED)
# The longest period one overview covers: a few years of a province stays one scan of an index.
PERIOD_MAX_DAYS = 3 * 366
SATISFIED_FROM = 4

# (up to this many seconds, bucket width in minutes): a time is counted in the bucket of its lower bound.
BUCKETS: tuple[tuple[int, int], ...] = (
    (3_600, 1),  # under an hour: whole minutes
    (14_400, 5),  # to 4 hours
    (86_400, 20),  # to a day
    (259_200, 120),  # to 3 days
    (604_800, 360),  # to a week
)
# Every time of a week or more is counted here.
OVERFLOW_MINUTES = 10_080


def _shanghai() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- The database's part: minutes between two moments, in buckets -----------------------------------------


class MinutesBucket(Func):
    """The bucket (its lower bound in minutes, `BUCKETS`) of the time from the first moment to the second;
    NULL when either is NULL. Written per database, since neither Django nor SQL has a portable "seconds
    between": PostgreSQL subtracts the timestamps (microseconds, as a double), SQLite goes through Julian
    days (rounded to the millisecond, which removes the floating-point residue of a whole number of
    minutes)."""

    arity = 2
    output_field = IntegerField()

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        (start_sql, start_params), (end_sql, end_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        if connection.vendor == "postgresql":
            # date_part is double precision (EXTRACT is numeric since PostgreSQL 14, slower to compute).
            seconds = f"date_part('epoch', ({end_sql}) - ({start_sql}))"
        elif connection.vendor == "sqlite":
            seconds = f"ROUND((julianday({end_sql}) - julianday({start_sql})) * 86400.0, 3)"
        else:
            raise NotSupportedError(
                f"MinutesBucket is written for PostgreSQL and SQLite, not {connection.vendor}"
            )
        branches = [f"WHEN {seconds} IS NULL THEN NULL", f"WHEN {seconds} < 0 THEN 0"]
        for below, width in BUCKETS:
            branches.append(f"WHEN {seconds} < {below} THEN FLOOR({seconds} / {width * 60}) * {width}")
        sql = f"CAST(CASE {' '.join(branches)} ELSE {OVERFLOW_MINUTES} END AS INTEGER)"
        occurrences = sql.count(seconds)
        return sql, [*end_params, *start_params] * occurrences


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """The `fraction` percentile of the values a histogram {value: count} holds, interpolated between
    neighbouring values as PostgreSQL's percentile_cont does; None for an empty histogram."""
    total = sum(histogram.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    lower_rank = math.floor(position)
    upper_rank = min(lower_rank + 1, total - 1)
    lower = upper = 0
    seen = 0  # values before the current one, in order
    for value in sorted(value for value, count in histogram.items() if count > 0):
        count = histogram[value]
        if seen <= lower_rank < seen + count:
            lower = value
        if seen <= upper_rank < seen + count:
            upper = value
            break
        seen += count
    return float(lower + (position - lower_rank) * (upper - lower))


# --- What the view shows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    """Minutes (lower bounds of `BUCKETS`, interpolated); None when nothing was measured."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, histogram: Mapping[int, int]) -> Percentiles:
        return cls(
            count=sum(histogram.values()),
            median=percentile(histogram, 0.5),
            p90=percentile(histogram, 0.9),
        )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """The figures of the requests of one group (the region, a child region, a kind or a topic) made in
    the period."""

    total: int
    urgent: int
    accept_minutes: Percentiles
    urgent_accept_minutes: Percentiles
    first_reply_minutes: Percentiles
    crisis_decided: int
    crisis_on_time: int
    reply_measured: int
    reply_on_time: int
    ratings: int
    rating_sum: int
    satisfied: int

    @property
    def crisis_compliance(self) -> float | None:
        return _share(self.crisis_on_time, self.crisis_decided)

    @property
    def reply_compliance(self) -> float | None:
        return _share(self.reply_on_time, self.reply_measured)

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None

    @property
    def satisfied_share(self) -> float | None:
        return _share(self.satisfied, self.ratings)


@dataclass
class _Tally:
    """Figures being added up: counts and histograms, which sum across groups."""

    total: int = 0
    urgent: int = 0
    crisis_decided: int = 0
    crisis_on_time: int = 0
    reply_measured: int = 0
    reply_on_time: int = 0
    ratings: int = 0
    rating_sum: int = 0
    satisfied: int = 0
    accept: Counter[int] = field(default_factory=Counter)
    urgent_accept: Counter[int] = field(default_factory=Counter)
    first_reply: Counter[int] = field(default_factory=Counter)

    def add(self, other: _Tally) -> None:
        for name in (
            "total",
            "urgent",
            "crisis_decided",
            "crisis_on_time",
            "reply_measured",
            "reply_on_time",
            "ratings",
            "rating_sum",
            "satisfied",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.accept.update(other.accept)
        self.urgent_accept.update(other.urgent_accept)
        self.first_reply.update(other.first_reply)

    def figures(self) -> Figures:
        return Figures(
            total=self.total,
            urgent=self.urgent,
            accept_minutes=Percentiles.of(self.accept),
            urgent_accept_minutes=Percentiles.of(self.urgent_accept),
            first_reply_minutes=Percentiles.of(self.first_reply),
            crisis_decided=self.crisis_decided,
            crisis_on_time=self.crisis_on_time,
            reply_measured=self.reply_measured,
            reply_on_time=self.reply_on_time,
            ratings=self.ratings,
            rating_sum=self.rating_sum,
            satisfied=self.satisfied,
        )


def _summed(tallies: Iterable[_Tally]) -> _Tally:
    total = _Tally()
    for tally in tallies:
        total.add(tally)
    return total


@dataclass(frozen=True)
class OpenNow:
    waiting: int = 0
    accepted: int = 0
    unrouted: int = 0
    urgent_waiting: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.waiting + self.accepted


@dataclass(frozen=True)
class RegionFigures:
    """A region one level down (or requests filed at the region itself: `is_own_level`)."""

    code: str
    name: str
    is_own_level: bool
    figures: Figures
    open_now: OpenNow


@dataclass(frozen=True)
class KindFigures:
    kind: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class TopicFigures:
    topic: str
    label: str
    kind: str
    figures: Figures


@dataclass(frozen=True)
class Period:
    """Days in Asia/Shanghai, both included."""

    date_from: datetime.date
    date_to: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.date_from, datetime.time.min, tzinfo=_shanghai())

    @property
    def end(self) -> datetime.datetime:
        """00:00 of the day after `date_to` (excluded)."""
        return datetime.datetime.combine(
            self.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=_shanghai()
        )

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


@dataclass(frozen=True)
class ConsultationStatistics:
    region: Region
    period: Period
    overall: Figures
    by_kind: list[KindFigures]
    by_topic: list[TopicFigures]
    by_region: list[RegionFigures]
    open_now: OpenNow
    accept_limit_minutes: int
    reply_limit_hours: int
    child_level: RegionLevel | None  # None for a village: nothing below it


# --- Region and period ----------------------------------------------------------------------------------


def _require_supervisor(actor: Actor) -> str:
    if not actor.has(Permission.CONSULTATION_SUPERVISE):
        raise PermissionDeniedError()
    if actor.region_code is None:
        raise NotFoundError()
    return actor.region_code


def supervision_region_code(*, actor: Actor, region: str | None) -> str:
    """The region a supervisor looks at: their own, or one inside it. A malformed code is a validation
    error; a region outside the actor's answers 404, like one that does not exist."""
    own = _require_supervisor(actor)
    if not region:
        return own
    try:
        code = region_codes.normalise_code(region)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if not region_codes.is_within(code, own):
        raise NotFoundError()
    return code


def month_of(day: datetime.date) -> Period:
    """The calendar month of `day`."""
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return Period(first, following - datetime.timedelta(days=1))


def statistics_period(
    *, date_from: datetime.date | None, date_to: datetime.date | None, today: datetime.date | None = None
) -> Period:
    """The period asked for; the current month (Asia/Shanghai) by default. Given only one end, the other is
    the end or start of that end's month."""
    today = today or timezone.localdate()
    if date_from is None and date_to is None:
        return month_of(today)
    if date_from is None:
        assert date_to is not None
        date_from = month_of(date_to).date_from
    if date_to is None:
        date_to = month_of(date_from).date_to
    if date_from > date_to:
        raise ValidationFailed(fields={"date_to": [_("结束日期不能早于开始日期")]})
    period = Period(date_from, date_to)
    if period.days > PERIOD_MAX_DAYS:
        raise ValidationFailed(
            fields={"date_to": [_("统计期间最长 %(days)d 天") % {"days": PERIOD_MAX_DAYS}]}
        )
    return period


def child_level_of(code: str) -> RegionLevel | None:
    level = region_codes.level_of(code)
    return None if level == RegionLevel.VILLAGE else RegionLevel(level + 1)


def _area_length(code: str) -> int:
    level = child_level_of(code)
    return PREFIX_LENGTH[level] if level is not None else region_codes.CODE_LENGTH


def _area_code(area: str) -> str:
    return area.ljust(region_codes.CODE_LENGTH, "0")


# --- The statistics ---------------------------------------------------------------------------------------


def _in_region(code: str) -> QuerySet[Consultation]:
    return Consultation.objects.filter(region_codes.within_q("region_id", code))


def _period_rows(code: str, period: Period) -> QuerySet[Consultation]:
    return _in_region(code).filter(created_at__gte=period.start, created_at__lt=period.end)


COUNTED_COLUMNS = (
    "area",
    "topic",
    "is_urgent",
    "accept_bucket",
    "total",
    "accept_breached_count",
    "reply_measured",
    "reply_on_time",
    "ratings",
    "rating_sum",
    "satisfied",
)


def counted_rows(code: str, period: Period) -> QuerySet[Any, Any]:
    """The first scan: the period's requests grouped by child region, topic, urgency and accept bucket
    (NULL: not accepted), with the counts of the service levels and the ratings (`COUNTED_COLUMNS`).

    Rows are counted on `created_at` (never NULL) rather than the id, so that both scans read only columns
    an index can hold (see bench/RESULTS.md, "Online help at province scale")."""
    return (
        _period_rows(code, period)
        .annotate(
            area=Substr("region_id", 1, _area_length(code)),
            accept_bucket=MinutesBucket("created_at", "accepted_at"),
        )
        .values("area", "topic", "is_urgent", "accept_bucket")
        .annotate(
            total=Count("created_at"),
            accept_breached_count=Count("created_at", filter=Q(accept_breached=True)),
            reply_measured=Count(
                "created_at", filter=Q(first_reply_at__isnull=False) | Q(reply_breached=True)
            ),
            reply_on_time=Count("created_at", filter=Q(first_reply_at__isnull=False, reply_breached=False)),
            ratings=Count("rating"),
            rating_sum=Sum("rating"),
            satisfied=Count("created_at", filter=Q(rating__gte=SATISFIED_FROM)),
        )
        .values_list(*COUNTED_COLUMNS)
        .order_by()
    )


def replied_rows(code: str, period: Period) -> QuerySet[Any, Any]:
    """The second scan: the period's first replies grouped by child region, topic and bucket."""
    return (
        _period_rows(code, period)
        .filter(first_reply_at__isnull=False)
        .annotate(
            area=Substr("region_id", 1, _area_length(code)),
            reply_bucket=MinutesBucket("created_at", "first_reply_at"),
        )
        .values("area", "topic", "reply_bucket")
        .annotate(total=Count("created_at"))
        .values_list("area", "topic", "reply_bucket", "total")
        .order_by()
    )


@dataclass
class _Tallies:
    by_area: dict[str, _Tally] = field(default_factory=dict)
    by_topic: dict[str, _Tally] = field(default_factory=dict)
    overall: _Tally = field(default_factory=_Tally)

    def of(self, area: str, topic: str) -> tuple[_Tally, _Tally, _Tally]:
        code = _area_code(area)
        if code not in self.by_area:
            self.by_area[code] = _Tally()
        if topic not in self.by_topic:
            self.by_topic[topic] = _Tally()
        return self.by_area[code], self.by_topic[topic], self.overall


def _fetched(rows: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a grouped query straight from the cursor: the ORM writes the SQL, but Django's
    per-value converters (none of which changes a count here) would cost more than the database's own
    work for the thousands of groups of a county's year."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tallies(code: str, period: Period) -> _Tallies:
    """The tallies of each child region, each topic and the whole, from the two grouped scans of the
    period's requests; each grouped row counts in its region's, its topic's and the whole's."""
    tallies = _Tallies()
    for (
        area,
        topic,
        is_urgent,
        bucket,
        total,
        breached,
        reply_measured,
        reply_on_time,
        ratings,
        rating_sum,
        satisfied,
    ) in _fetched(counted_rows(code, period)):
        accepted = bucket is not None
        for tally in tallies.of(area, topic):
            tally.total += total
            tally.reply_measured += reply_measured
            tally.reply_on_time += reply_on_time
            tally.ratings += ratings
            tally.rating_sum += rating_sum or 0
            tally.satisfied += satisfied
            if accepted:
                tally.accept[bucket] += total
            if is_urgent:
                tally.urgent += total
                # Decided: accepted (in time unless breached), or breached while waiting.
                tally.crisis_decided += total if accepted else breached
                if accepted:
                    tally.crisis_on_time += total - breached
                    tally.urgent_accept[bucket] += total
    for area, topic, bucket, total in _fetched(replied_rows(code, period)):
        for tally in tallies.of(area, topic):
            tally.first_reply[bucket] += total
    return tallies


def _overdue_q(now: datetime.datetime) -> Q:
    return Q(state=State.WAITING, accept_due_at__lte=now) | Q(reply_due_at__lte=now)


def _open_now(code: str, now: datetime.datetime) -> dict[str, OpenNow]:
    """What is open now per child region, whenever it was made."""
    rows = (
        _in_region(code)
        .filter(state__in=OPEN_STATES)
        .annotate(area=Substr("region_id", 1, _area_length(code)))
        .values("area")
        .annotate(
            waiting=Count("pk", filter=Q(state=State.WAITING)),
            accepted=Count("pk", filter=Q(state=State.ACCEPTED)),
            unrouted=Count("pk", filter=Q(state=State.WAITING, assigned_to__isnull=True, is_urgent=False)),
            urgent_waiting=Count("pk", filter=Q(state=State.WAITING, is_urgent=True)),
            overdue=Count("pk", filter=_overdue_q(now)),
        )
        .order_by()
    )
    return {
        _area_code(str(row["area"])): OpenNow(
            waiting=int(row["waiting"]),
            accepted=int(row["accepted"]),
            unrouted=int(row["unrouted"]),
            urgent_waiting=int(row["urgent_waiting"]),
            overdue=int(row["overdue"]),
        )
        for row in rows
    }


def _summed_open(values: Iterable[OpenNow]) -> OpenNow:
    items = list(values)
    return OpenNow(
        waiting=sum(item.waiting for item in items),
        accepted=sum(item.accepted for item in items),
        unrouted=sum(item.unrouted for item in items),
        urgent_waiting=sum(item.urgent_waiting for item in items),
        overdue=sum(item.overdue for item in items),
    )


def consultation_statistics(
    *,
    actor: Actor,
    region: str | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> ConsultationStatistics:
    """The supervisor's figures for their region (or `region` inside it) over a period of days (the current
    month by default). Four queries: the region with its children, two grouped scans of the period's
    requests (`_tallies`) and one of those open now."""
    code = supervision_region_code(actor=actor, region=region)
    now = now or timezone.now()
    period = statistics_period(date_from=date_from, date_to=date_to, today=timezone.localdate(now))
    regions = list(Region.objects.filter(Q(code=code) | Q(parent_id=code)).order_by("code"))
    own = next((item for item in regions if item.code == code), None)
    if own is None:
        raise NotFoundError()
    children = [item for item in regions if item.code != code]
    tallies = _tallies(code, period)
    open_now = _open_now(code, now)
    by_area, by_topic = tallies.by_area, tallies.by_topic

    region_rows = [
        RegionFigures(
            code=child.code,
            name=child.name,
            is_own_level=False,
            figures=by_area.get(child.code, _Tally()).figures(),
            open_now=open_now.get(child.code, OpenNow()),
        )
        for child in children
    ]
    # Requests filed at the region itself (a county's own code) or under a code no longer in the region
    # table: shown on a row of their own, so that the rows always add up to the total.
    known = {child.code for child in children}
    for area in sorted((set(by_area) | set(open_now)) - known):
        is_own = area == code
        region_rows.append(
            RegionFigures(
                code=area,
                name=_("%(region)s本级") % {"region": own.name} if is_own else area,
                is_own_level=is_own,
                figures=by_area.get(area, _Tally()).figures(),
                open_now=open_now.get(area, OpenNow()),
            )
        )
    topic_rows = [
        TopicFigures(
            topic=topic,
            label=str(Topic(topic).label),
            kind=KIND_OF_TOPIC[topic],
            figures=by_topic.get(topic, _Tally()).figures(),
        )
        for kind in (Kind.LEGAL, Kind.PSYCHOLOGICAL)
        for topic in TOPICS_BY_KIND[kind]
    ]
    kind_rows = [
        KindFigures(
            kind=kind,
            label=str(Kind(kind).label),
            figures=_summed(by_topic.get(topic, _Tally()) for topic in TOPICS_BY_KIND[kind]).figures(),
        )
        for kind in (Kind.LEGAL, Kind.PSYCHOLOGICAL)
    ]
    return ConsultationStatistics(
        region=own,
        period=period,
        overall=tallies.overall.figures(),
        by_kind=kind_rows,
        by_topic=topic_rows,
        by_region=region_rows,
        open_now=_summed_open(open_now.values()),
        accept_limit_minutes=int(settings.GUANAI_CRISIS_ACCEPT_MINUTES),
        reply_limit_hours=int(settings.GUANAI_CONSULTATION_REPLY_HOURS),
        child_level=child_level_of(code),
    )


def supervision_region_choices(*, actor: Actor, code: str) -> list[tuple[str, str]]:
    """The regions a supervisor may pick beside `code`: the chain from their own region down to `code`,
    then the regions one level below `code` (one query)."""
    own = _require_supervisor(actor)
    chain = [item for item in region_codes.ancestor_codes(code) if region_codes.is_within(item, own)]
    rows = Region.objects.filter(Q(code__in=[*chain, code]) | Q(parent_id=code)).order_by("code")
    above: list[tuple[str, str]] = []
    below: list[tuple[str, str]] = []
    for item_code, name in rows.values_list("code", "name"):
        if item_code in chain or item_code == code:
            above.append((item_code, name))
        else:
            below.append((item_code, f"　{name}"))
    return above + below


# --- The metadata list ------------------------------------------------------------------------------------

# What a supervisor's list reads of a request: never the encrypted columns (name, phone, description,
# summary, notes), nor the retrieval digest.
METADATA_FIELDS: tuple[str, ...] = (
    "id",
    "reference",
    "kind",
    "topic",
    "requester",
    "region",
    "region__name",
    "is_urgent",
    "state",
    "assigned_to",
    "assigned_to__name",
    "assigned_at",
    "accepted_at",
    "escalation_level",
    "escalated_at",
    "accept_due_at",
    "reply_due_at",
    "accept_breached",
    "reply_breached",
    "first_reply_at",
    "closed_at",
    "outcome",
    "rating",
    "created_at",
)


@dataclass(frozen=True)
class SupervisionFilters:
    region: str | None = None
    state: str | None = None
    kind: str | None = None
    topic: str | None = None
    urgent: bool | None = None
    breached: bool | None = None  # a clock was breached (accept or reply), whenever
    overdue: bool | None = None  # a clock is past due now
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def supervision_requests(
    *, actor: Actor, filters: SupervisionFilters | None = None, now: datetime.datetime | None = None
) -> QuerySet[Consultation]:
    """Requests of the actor's region (or `filters.region` inside it), newest first, narrowed by the
    filters. Read a page with `supervision_page` (ids first): the rows come with metadata only."""
    filters = filters or SupervisionFilters()
    code = supervision_region_code(actor=actor, region=filters.region)
    errors: dict[str, list[str]] = {}
    if filters.state and filters.state not in State.values:
        errors["state"] = [_("状态无效")]
    if filters.kind and filters.kind not in Kind.values:
        errors["kind"] = [_("类别无效")]
    if filters.topic and filters.topic not in Topic.values:
        errors["topic"] = [_("问题类型无效")]
    if errors:
        raise ValidationFailed(fields=errors)
    rows = Consultation.objects.visible_to(actor).filter(region_codes.within_q("region_id", code))
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.topic:
        rows = rows.filter(topic=filters.topic)
    if filters.urgent is not None:
        rows = rows.filter(is_urgent=filters.urgent)
    breached = Q(accept_breached=True) | Q(reply_breached=True)
    if filters.breached is True:
        rows = rows.filter(breached)
    elif filters.breached is False:
        rows = rows.exclude(breached)
    if filters.overdue is not None:
        overdue = Q(state__in=OPEN_STATES) & _overdue_q(now or timezone.now())
        rows = rows.filter(overdue) if filters.overdue else rows.exclude(overdue)
    if filters.date_from is not None or filters.date_to is not None:
        period = statistics_period(date_from=filters.date_from, date_to=filters.date_to)
        rows = rows.filter(created_at__gte=period.start, created_at__lt=period.end)
    return rows.order_by("-created_at", "-id")


def supervision_rows(ids: Sequence[int]) -> list[Consultation]:
    """The metadata of a page of ids, in the page's order (one query)."""
    found = (
        Consultation.objects.select_related("region", "assigned_to").only(*METADATA_FIELDS).in_bulk(list(ids))
    )
    return [found[pk] for pk in ids if pk in found]


def supervision_page(requests: QuerySet[Consultation], *, offset: int, limit: int) -> list[Consultation]:
    return supervision_rows(list(requests.values_list("pk", flat=True)[offset : offset + limit]))


def is_overdue(consultation: Consultation, now: datetime.datetime) -> bool:
    """A clock of an open request is past due now."""
    if consultation.state not in OPEN_STATES:
        return False
    accept_late = (
        consultation.state == State.WAITING
        and consultation.accept_due_at is not None
        and consultation.accept_due_at <= now
    )
    reply_late = consultation.reply_due_at is not None and consultation.reply_due_at <= now
    return accept_late or reply_late
