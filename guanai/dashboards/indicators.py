"""The committees' indicators (issue 8, points 1, 3 and 4): figures for a region's subtree, broken down
one level below it (province → city → county → township → village), each beside the same month a year
earlier.

Every figure is counted by a grouped query on the leading digits of the region code (`Substr` to the
child level), so the number of queries does not depend on the number of child regions. A region's total
is the sum of its rows: the rows of its child regions, plus a row for records filed at the region's own
code (or under a code absent from the region table), so the parent always equals the sum of its children.

Sealed records (特殊青少年) are left out of every children's figure, at every level (as the registry and the
overdue counts do), which keeps those figures additive down to the village. They are counted only in
`sealed_children` and `mentoring_cases` (open 帮教 cases), which exist at county level and above, with
rows only for child regions at county level or above.

Small-number protection: below county level, a count of 1–4 in a sensitive figure (`SENSITIVE`) is
returned as "<5". So that a suppressed cell cannot be recovered by subtraction within one response:
- across the rows of a figure (whose sum is the shown total), when exactly one cell is suppressed the
  smallest other non-zero cell is withheld too (None when it is 5 or more: "withheld", not "<5");
- within a row, the risk levels partition the children: the same rule applies to the three risk cells;
- the coverage share of a row is withheld (None) when its eligible or paired count is suppressed.

Year-earlier figures: visits, open mandatory reports and pairings active on a day are reconstructed
exactly from their dates. Children, volunteers and teams keep no history of their status: a year earlier
they are those registered by then (created or joined) and still active now, an approximation. Overdue
pairings and star levels depend on current due days and hours, so their year-earlier value is None.

Known limit: counts at county level and above are never suppressed (the rule), so when a county's own
total of a sensitive figure is 1–4 and a single township holds it, the breakdown shows where it lies.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from guanai.consultations.models import Consultation
from guanai.consultations.vocabulary import Kind
from guanai.core import access, region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.region_codes import PREFIX_LENGTH, RegionLevel
from guanai.mentoring.models import MentoringCase
from guanai.minors.models import Consent, Minor
from guanai.minors.vocabulary import Category, ConsentScope, Need, RiskLevel
from guanai.minors.vocabulary import Status as MinorStatus
from guanai.pairings.contact import overdue_q
from guanai.pairings.models import MandatoryReport, Pairing, Visit
from guanai.pairings.vocabulary import PairingState, ReportState
from guanai.regions.models import Region
from guanai.volunteers.models import Team, Volunteer
from guanai.volunteers.vocabulary import ElderCategory, Specialty, star_thresholds
from guanai.volunteers.vocabulary import Status as VolunteerStatus

SUPPRESSED: Literal["<5"] = "<5"
CONSULTATION_PARTS = ("reply_measured", "reply_on_time", "ratings", "rating_sum")
Cell = int | Literal["<5"]
SMALL_LIMIT = 5  # counts 1..4 are suppressed

PERIOD_PATTERN = re.compile(r"([0-9]{4})(?:-(0[1-9]|1[0-2]))?")

RISK_KEYS = tuple(f"children.risk.{level}" for level in RiskLevel.values)
# Figures whose small counts identify children (their groups, needs, risks, reports, sealed records).
SENSITIVE_PREFIXES = ("children", "eligible", "paired", "open_reports", "sealed_children", "mentoring_cases")
# Figures of sealed records, never counted below county level (未成年人保护法 art.103, 预防未成年人犯罪法).
COUNTY_ONLY = ("sealed_children", "mentoring_cases")


def is_sensitive(key: str) -> bool:
    return key.split(".")[0] in SENSITIVE_PREFIXES


@dataclass(frozen=True)
class Period:
    """A month ("2026-05") or a whole year ("2026"). Flows (visits, requests) are counted over it; stocks
    (children, volunteers, pairings, open reports) as of its last day."""

    year: int
    month: int | None = None

    @property
    def is_year(self) -> bool:
        return self.month is None

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> datetime.date:
        month = self.month or 12
        return datetime.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def start(self) -> datetime.datetime:
        """The first instant of the period (Asia/Shanghai)."""
        return timezone.make_aware(datetime.datetime.combine(self.first_day, datetime.time()))

    @property
    def end(self) -> datetime.datetime:
        """The first instant after the period (Asia/Shanghai)."""
        following = self.last_day + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(following, datetime.time()))

    def year_earlier(self) -> Period:
        return Period(self.year - 1, self.month)

    def months(self) -> list[Period]:
        """The months of the period, in order (the month itself for a month)."""
        if self.month is not None:
            return [self]
        return [Period(self.year, month) for month in range(1, 13)]

    def __str__(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"


def parse_period(value: str) -> Period:
    """A month ("YYYY-MM") or a whole year ("YYYY")."""
    match = PERIOD_PATTERN.fullmatch(value or "")
    if match is None or int(match.group(1)) < 2000:
        raise ValidationFailed(fields={"period": [_("统计期应为 YYYY-MM（月）或 YYYY（年）格式")]})
    return Period(int(match.group(1)), int(match.group(2)) if match.group(2) else None)


class Figure(NamedTuple):
    # A named tuple rather than a dataclass: a county's response holds thousands, made in a tight loop.
    current: Cell | None
    year_earlier: Cell | None


@dataclass(frozen=True)
class Share:
    """Paired ÷ eligible, withheld (None) when there is nothing to divide or a count is suppressed."""

    current: float | None
    year_earlier: float | None


@dataclass(frozen=True)
class Service:
    """One kind of online help: the share of measured replies on time and the average rating (1–5)."""

    reply_on_time_share: float | None
    average_rating: float | None


@dataclass
class AreaIndicators:
    code: str
    name: str
    level: int
    is_own_level: bool
    figures: dict[str, Figure]
    coverage: Share
    service: dict[str, Service] = field(default_factory=dict)


@dataclass
class Indicators:
    region_code: str
    region_name: str
    level: int
    period: str
    year_earlier_period: str
    total: AreaIndicators
    children: list[AreaIndicators] = field(default_factory=list)
    source: str = "live"  # "snapshot" when both periods were read from the daily snapshots
    as_of: datetime.date | None = None  # the day the counts were made for (the snapshot's, or today)


# --- Counting -------------------------------------------------------------------------------------------

Counts = dict[str, dict[str, int]]  # area code (12 digits) → figure key → count


def _area_code(area: str) -> str:
    return area.ljust(region_codes.CODE_LENGTH, "0")


def _merge(counts: Counts, rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        area = _area_code(str(row.pop("area")))
        target = counts.setdefault(area, {})
        for key, value in row.items():
            target[key.replace("__", ".")] = target.get(key.replace("__", "."), 0) + int(value or 0)


def _bit_counts(prefix: str, column: str, flags: Iterable[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Aliases holding one bit of `column` each, and the counts of the rows that have it."""
    bits = [int(flag) for flag in flags]
    key = prefix.replace("_", "__")
    aliases = {f"{prefix}_bit_{bit}": F(column).bitand(bit) for bit in bits}
    counts = {f"{key}__{bit}": Count("pk", filter=Q(**{f"{prefix}_bit_{bit}__gt": 0})) for bit in bits}
    return aliases, counts


def _grouped(rows: QuerySet[Any], code_field: str, length: int) -> QuerySet[Any]:
    return rows.annotate(area=Substr(code_field, 1, length)).values("area").order_by()


def _pairing_active_on(day: datetime.date, prefix: str = "") -> Q:
    """Pairings active on `day`: started by then and not closed before it."""
    return (
        Q(**{f"{prefix}state__in": [PairingState.ACTIVE, PairingState.CLOSED]})
        & Q(**{f"{prefix}started_on__lte": day})
        & (Q(**{f"{prefix}closed_on__isnull": True}) | Q(**{f"{prefix}closed_on__gt": day}))
    )


def _count(code: str, length: int, period: Period, *, is_current: bool, today: datetime.date) -> Counts:
    counts: Counts = {}
    day = min(period.last_day, today)
    in_region = region_codes.within_q("region_id", code)

    # Children: active, never sealed, registered by the end of the period. Eligible: a pairing consent
    # on record, given by then and not withdrawn (the JSON list of scopes read as text, which works alike
    # on SQLite and PostgreSQL). Paired: a pairing active on the period's last day (or today).
    consent = (
        Consent.objects.annotate(scope_text=Cast("scope", TextField()))
        .filter(
            minor_id=OuterRef("pk"),
            withdrawn_on__isnull=True,
            given_on__lte=day,
            scope_text__contains=f'"{ConsentScope.PAIRING}"',
        )
        .order_by()
    )
    paired = Pairing.objects.filter(_pairing_active_on(day), minor_id=OuterRef("pk")).order_by()
    category_aliases, category_counts = _bit_counts("children_category", "categories", Category)
    need_aliases, need_counts = _bit_counts("children_need", "needs", Need)
    minors = Minor.objects.filter(
        in_region, status=MinorStatus.ACTIVE, is_sealed=False, created_at__lt=period.end
    ).alias(**category_aliases, **need_aliases, has_consent=Exists(consent), is_paired=Exists(paired))
    _merge(
        counts,
        _grouped(minors, "region_id", length).annotate(
            children=Count("pk"),
            **category_counts,
            **need_counts,
            **{
                f"children__risk__{level}": Count("pk", filter=Q(risk_level=level))
                for level in RiskLevel.values
            },
            eligible=Count("pk", filter=Q(has_consent=True)),
            paired=Count("pk", filter=Q(has_consent=True, is_paired=True)),
        ),
    )

    # Sealed children: counted only for the totals at county level and above (see the module's notes).
    if is_county_or_above(code):
        sealed = Minor.objects.filter(
            in_region, status=MinorStatus.ACTIVE, is_sealed=True, created_at__lt=period.end
        )
        _merge(counts, _grouped(sealed, "region_id", length).annotate(sealed_children=Count("pk")))
        # Mentoring cases belong to the county (their region is always a county's code): open at the
        # period's end, counted only at county level and above, like the sealed records they serve.
        cases = MentoringCase.objects.filter(in_region, opened_at__lt=period.end).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=period.end)
        )
        _merge(counts, _grouped(cases, "region_id", length).annotate(mentoring_cases=Count("pk")))

    minor_in_region = region_codes.within_q("minor__region_id", code)
    visits = Visit.objects.filter(
        region_codes.within_q("pairing__minor__region_id", code),
        pairing__minor__is_sealed=False,
        visited_on__gte=period.first_day,
        visited_on__lte=period.last_day,
    )
    _merge(counts, _grouped(visits, "pairing__minor__region_id", length).annotate(visits=Count("pk")))

    if is_current:
        overdue = Pairing.objects.filter(minor_in_region, overdue_q(day), minor__is_sealed=False)
        _merge(counts, _grouped(overdue, "minor__region_id", length).annotate(overdue=Count("pk")))

    reports = MandatoryReport.objects.filter(
        minor_in_region, minor__is_sealed=False, opened_at__lt=period.end
    )
    reports = reports.filter(Q(state=ReportState.OPEN, closed_at__isnull=True) | Q(closed_at__gte=period.end))
    _merge(counts, _grouped(reports, "minor__region_id", length).annotate(open_reports=Count("pk")))

    elder_aliases, elder_counts = _bit_counts("volunteers_category", "categories", ElderCategory)
    specialty_aliases, specialty_counts = _bit_counts("volunteers_specialty", "specialties", Specialty)
    star_counts: dict[str, Any] = {}
    if is_current:
        limits = (0, *star_thresholds())
        for stars, low in enumerate(limits):
            band = Q(hours_total__gte=low)
            if stars + 1 < len(limits):
                band &= Q(hours_total__lt=limits[stars + 1])
            star_counts[f"volunteers__star__{stars}"] = Count("pk", filter=band)
    volunteers = Volunteer.objects.filter(in_region, status=VolunteerStatus.ACTIVE).filter(
        Q(joined_on__isnull=True) | Q(joined_on__lte=period.last_day)
    )
    _merge(
        counts,
        _grouped(volunteers.alias(**elder_aliases, **specialty_aliases), "region_id", length).annotate(
            volunteers=Count("pk"), **elder_counts, **specialty_counts, **star_counts
        ),
    )

    # Online help by kind: requests made in the month, replies measured and on time (as in
    # guanai.consultations.statistics), and the ratings with their sum (the average is sum ÷ ratings).
    consultations = Consultation.objects.filter(
        in_region,
        created_at__gte=period.start,
        created_at__lt=period.end,
    )
    measured = Q(first_reply_at__isnull=False) | Q(reply_breached=True)
    on_time = Q(first_reply_at__isnull=False, reply_breached=False)
    by_kind: dict[str, Any] = {}
    for kind in Kind.values:
        of_kind = Q(kind=kind)
        by_kind[f"consultations__{kind}"] = Count("pk", filter=of_kind)
        by_kind[f"consultations__{kind}__reply_measured"] = Count("pk", filter=of_kind & measured)
        by_kind[f"consultations__{kind}__reply_on_time"] = Count("pk", filter=of_kind & on_time)
        by_kind[f"consultations__{kind}__ratings"] = Count("rating", filter=of_kind)
        by_kind[f"consultations__{kind}__rating_sum"] = Sum("rating", filter=of_kind)
    _merge(counts, _grouped(consultations, "region_id", length).annotate(**by_kind))

    teams = Team.objects.filter(in_region, is_active=True, created_at__lt=period.end)
    _merge(counts, _grouped(teams, "region_id", length).annotate(teams=Count("pk")))
    return counts


def is_county_or_above(code: str) -> bool:
    return region_codes.level_of(code) <= RegionLevel.COUNTY


def figure_keys(*, code: str, is_current: bool) -> list[str]:
    """Every figure of a region, in display order."""
    keys = ["children"]
    keys += [f"children.category.{int(flag)}" for flag in Category]
    keys += [f"children.need.{int(flag)}" for flag in Need]
    keys += list(RISK_KEYS)
    keys += ["eligible", "paired", "visits", "overdue", "open_reports"]
    keys += ["volunteers"]
    keys += [f"volunteers.category.{int(flag)}" for flag in ElderCategory]
    keys += [f"volunteers.specialty.{int(flag)}" for flag in Specialty]
    keys += [f"volunteers.star.{stars}" for stars in range(6)]
    keys += ["teams"]
    for kind in Kind.values:
        keys.append(f"consultations.{kind}")
        keys += [f"consultations.{kind}.{part}" for part in CONSULTATION_PARTS]
    if is_county_or_above(code):
        keys += list(COUNTY_ONLY)
    return keys


def _summed(counts: Counts, keys: list[str]) -> dict[str, int]:
    total = dict.fromkeys(keys, 0)
    for figures in counts.values():
        for key, value in figures.items():
            if key in total:
                total[key] += value
    return total


# --- Small-number protection ----------------------------------------------------------------------------


def _is_small(value: int) -> bool:
    return 0 < value < SMALL_LIMIT


def _protect_group(values: list[int], shown: list[bool]) -> list[bool]:
    """Which cells of a group with a known sum stay shown: when exactly one non-zero cell is hidden, the
    smallest other non-zero cell is hidden too, so that no subtraction recovers it."""
    shown = list(shown)
    hidden = [index for index, keep in enumerate(shown) if not keep and values[index] > 0]
    if len(hidden) == 1:
        candidates = [index for index, keep in enumerate(shown) if keep and values[index] > 0]
        if candidates:
            shown[min(candidates, key=lambda index: values[index])] = False
    return shown


def _protected_rows(
    rows: list[dict[str, int]], levels: Sequence[int], keys: list[str]
) -> list[dict[str, Cell | None]]:
    """The cells of rows (each at a level) with small sensitive counts below county level suppressed."""
    # Only sensitive cells are ever hidden: the hidden keys of each row, then each row's cells in the order
    # of `keys`, with the hidden ones replaced by "<5" or None.
    sensitive = [key for key in keys if is_sensitive(key)]
    values = [[row.get(key, 0) for key in sensitive] for row in rows]
    hidden: list[set[str]] = [set() for _ in rows]
    for index, row in enumerate(rows):
        if levels[index] <= RegionLevel.COUNTY:
            continue
        risks = [row.get(key, 0) for key in RISK_KEYS]
        keep_risk = _protect_group(risks, [not _is_small(value) for value in risks])
        hidden[index].update(key for key, keep in zip(RISK_KEYS, keep_risk, strict=True) if not keep)
        hidden[index].update(
            key for key, value in zip(sensitive, values[index], strict=True) if _is_small(value)
        )
    # Across the rows of each figure: their sum is shown as the total.
    if any(level > RegionLevel.COUNTY for level in levels):
        for column, key in enumerate(sensitive):
            column_values = [row_values[column] for row_values in values]
            kept = _protect_group(column_values, [key not in row_hidden for row_hidden in hidden])
            for row_hidden, keep in zip(hidden, kept, strict=True):
                if keep:
                    row_hidden.discard(key)
                else:
                    row_hidden.add(key)
    protected: list[dict[str, Cell | None]] = []
    for row, row_hidden in zip(rows, hidden, strict=True):
        cells: dict[str, Cell | None] = {key: row.get(key, 0) for key in keys}
        for key in row_hidden:
            cells[key] = _cell(row.get(key, 0), shown=False)
        protected.append(cells)
    return protected


def _cell(value: int, *, shown: bool) -> Cell | None:
    """A shown count, "<5" for a small one, None for a larger one withheld to protect a small one."""
    if shown:
        return value
    return SUPPRESSED if _is_small(value) else None


def share_of(numerator: Cell | float | None, denominator: Cell | float | None) -> float | None:
    """Count ÷ count to 4 places; withheld (None) when a part is suppressed, withheld, not a count or 0."""
    if not isinstance(numerator, int) or not isinstance(denominator, int) or denominator == 0:
        return None
    return round(numerator / denominator, 4)


# --- The selector ---------------------------------------------------------------------------------------


def indicator_region(*, actor: Actor | None, region_code: str) -> str:
    """The region asked for, when it lies inside the actor's own subtree (anything else answers 404).
    No actor is the command line (`annual_report`, `statistical_returns`), run by the operator."""
    if actor is not None and (actor.region_code is None or not actor.has(Permission.DASHBOARD_VIEW)):
        raise NotFoundError()
    try:
        code = region_codes.normalise_code(region_code)
    except ValueError as error:
        raise ValidationFailed(fields={"region": [_("区划代码应为 2、4、6、9 或 12 位数字")]}) from error
    if actor is not None and (
        not access.can_see_region(actor, code) or not region_codes.is_within(code, actor.region_code or "")
    ):
        raise NotFoundError()
    return code


def indicators_for(
    *, actor: Actor | None, region_code: str, period: str, today: datetime.date | None = None
) -> Indicators:
    """The indicators of a region (inside the actor's) for a month "YYYY-MM" or a year "YYYY", with its
    child regions."""
    code = indicator_region(actor=actor, region_code=region_code)
    month = parse_period(period)
    today = today or timezone.localdate()
    regions = list(Region.objects.filter(Q(code=code) | Q(parent_id=code)).order_by("code"))
    own = next((item for item in regions if item.code == code), None)
    if own is None:
        raise NotFoundError()
    level = region_codes.level_of(code)
    child_level = RegionLevel(min(level + 1, RegionLevel.VILLAGE))
    length = PREFIX_LENGTH[child_level] if level < RegionLevel.VILLAGE else region_codes.CODE_LENGTH
    # Months are read from the daily snapshots when both were built (one query), years counted live.
    from guanai.dashboards.snapshots import snapshot_counts_for

    stored = snapshot_counts_for(code=code, length=length, periods={month: True, month.year_earlier(): False})
    if month in stored and month.year_earlier() in stored:
        current, earlier = stored[month].counts, stored[month.year_earlier()].counts
        source, as_of = "snapshot", stored[month].computed_for
    else:
        current = _count(code, length, month, is_current=True, today=today)
        earlier = _count(code, length, month.year_earlier(), is_current=False, today=today)
        source, as_of = "live", today
    keys = figure_keys(code=code, is_current=True)
    # Sealed children get no row below county level.
    row_keys = [key for key in keys if key not in COUNTY_ONLY or child_level <= RegionLevel.COUNTY]

    def counted(counts: Counts) -> set[str]:
        """The areas with something to show in a row: sealed records alone make no row below county
        level (their counts are not shown there, and an empty row would tell where they are)."""
        return {
            area
            for area, figures in counts.items()
            if any(value and key in row_key_set for key, value in figures.items())
        }

    row_key_set = set(row_keys)
    names = {item.code: item.name for item in regions if item.code != code}
    with_counts = counted(current) | counted(earlier)
    areas = sorted(set(names) | (with_counts - {code}))
    if code in with_counts:
        areas.append(code)
    if level == RegionLevel.VILLAGE:
        areas = []

    def rows_for(counts: Counts) -> list[dict[str, int]]:
        rows = []
        for area in areas:
            row = dict.fromkeys(row_keys, 0)
            for key, value in counts.get(area, {}).items():
                if key in row:
                    row[key] = value
            rows.append(row)
        return rows

    row_levels = [level if area == code else child_level for area in areas]
    now_rows = _protected_rows(rows_for(current), row_levels, row_keys)
    then_rows = _protected_rows(rows_for(earlier), row_levels, row_keys)
    total_now = _protected_rows([_summed(current, keys)], [level], keys)[0]
    total_then = _protected_rows([_summed(earlier, keys)], [level], keys)[0]
    without_history = {"overdue", *(f"volunteers.star.{stars}" for stars in range(6))}

    def area(
        area_code: str,
        name: str,
        area_level: int,
        now: dict[str, Cell | None],
        then: dict[str, Cell | None],
        own_level: bool,
    ) -> AreaIndicators:
        figures = {
            key: Figure(value, None if key in without_history else then[key]) for key, value in now.items()
        }
        service = {
            kind: Service(
                reply_on_time_share=share_of(
                    now[f"consultations.{kind}.reply_on_time"], now[f"consultations.{kind}.reply_measured"]
                ),
                average_rating=share_of(
                    now[f"consultations.{kind}.rating_sum"], now[f"consultations.{kind}.ratings"]
                ),
            )
            for kind in Kind.values
        }
        return AreaIndicators(
            service=service,
            code=area_code,
            name=name,
            level=area_level,
            is_own_level=own_level,
            figures=figures,
            coverage=Share(
                current=share_of(now["paired"], now["eligible"]),
                year_earlier=share_of(then["paired"], then["eligible"]),
            ),
        )

    children = [
        area(
            item,
            _("%(region)s本级") % {"region": own.name} if item == code else names.get(item, item),
            row_levels[index],
            now_rows[index],
            then_rows[index],
            item == code,
        )
        for index, item in enumerate(areas)
    ]
    return Indicators(
        region_code=code,
        region_name=own.name,
        level=level,
        period=str(month),
        year_earlier_period=str(month.year_earlier()),
        total=area(code, own.name, level, total_now, total_then, True),
        children=children,
        source=source,
        as_of=as_of,
    )
