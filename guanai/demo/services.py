"""The demo data set: committees down to village level in 淳安县 and 建德市, one account per role, a few
hundred made-up children in the two counties' registries (`guanai.minors.generation`), and the 五老:
about sixty made-up volunteers per county (`guanai.volunteers.generation`) in teams of the county
committee, with confirmed service hours that give them different star levels, plus the volunteer records
of the demo accounts of a volunteer, a lawyer and a counsellor.

Then the work of the last months, so that the overdue list and the dashboards have something true to
show: part of the children paired with the volunteers (the matching engine's proposals, under every hard
rule), visits since each pairing began with their hours credited, some pairings overdue, one open
mandatory report (强制报告) raised through the visit service; internet cafés of 千岛湖镇 with inspections
and an open finding; and, when the registry holds a sealed record (特殊青少年), one mentoring case (帮教)
with the county's demo admin as its officer.

Loaded by `manage.py load_demo` (which `make run` calls), never by a migration. Running it again changes
nothing that exists, except the demo passwords when GUANAI_DEMO_PASSWORD is given.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanai.accounts.models import User
from guanai.accounts.selectors import actor_for_user
from guanai.accounts.services import role_assign, user_create
from guanai.cafes.models import InternetCafe
from guanai.cafes.services import CafeInput, InspectionInput, cafe_register, inspection_record
from guanai.committees.models import Committee, CommitteeKind, CommitteeMember, Position
from guanai.committees.services import regional_committee_name
from guanai.core import region_codes
from guanai.core.access import Role
from guanai.core.crypto import blind_index
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.demo.consultations import load_consultations
from guanai.mentoring.models import MentoringCase
from guanai.mentoring.services import case_open, correction_update, goal_add, goal_update, review_record
from guanai.mentoring.vocabulary import GoalStatus
from guanai.minors.generation import generate_minors, id_number_for
from guanai.minors.models import Consent, Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.vocabulary import ConsentScope, Gender, RiskLevel, SpecialKind
from guanai.minors.vocabulary import Status as MinorStatus
from guanai.pairings.contact import contact_interval_days, next_due, overdue_q, overdue_reminders_send
from guanai.pairings.matching import suggest_for_child
from guanai.pairings.models import Pairing, Visit
from guanai.pairings.selectors import unpaired_children, volunteer_nodes
from guanai.pairings.services import proposals_compute
from guanai.pairings.visits import hours_of, visit_record
from guanai.pairings.vocabulary import Condition, PairingState, SafetyConcern, VisitActivity, VisitMode
from guanai.regions.models import Region
from guanai.volunteers.generation import HOURS_BANDS, generate_volunteers
from guanai.volunteers.models import ServiceHours, Team, TeamMembership, Volunteer
from guanai.volunteers.vocabulary import (
    ALL_AVAILABILITY,
    CheckResult,
    ElderCategory,
    HoursSource,
    HoursState,
    Source,
    Specialty,
    Status,
    TeamKind,
    TeamRole,
    availability_bit,
)

PROVINCE = "330000000000"
CHUNAN = "330127000000"  # 淳安县
JIANDE = "330182000000"  # 建德市
QIANDAOHU = "330127100000"  # 千岛湖镇
FUCHENG = "330127100219"  # 富城村
HANGZHOU = "330100000000"

# (username, display name, role, region code)
DEMO_ACCOUNTS: list[tuple[str, str, Role, str]] = [
    ("demo-province", "省关工委管理员", Role.PROVINCE_ADMIN, PROVINCE),
    ("demo-city", "杭州市关工委管理员", Role.CITY_ADMIN, HANGZHOU),
    ("demo-county-a", "淳安县关工委管理员", Role.COUNTY_ADMIN, CHUNAN),
    ("demo-county-b", "建德市关工委管理员", Role.COUNTY_ADMIN, JIANDE),
    ("demo-township", "千岛湖镇关工委管理员", Role.TOWNSHIP_ADMIN, QIANDAOHU),
    ("demo-village", "富城村联络员", Role.VILLAGE_LIAISON, FUCHENG),
    ("demo-volunteer", "五老志愿者（演示）", Role.VOLUNTEER, FUCHENG),
    ("demo-lawyer", "律师志愿者（演示）", Role.LAWYER, CHUNAN),
    ("demo-counsellor", "心理咨询师（演示）", Role.COUNSELLOR, CHUNAN),
    ("demo-publicist", "五老网宣员（演示）", Role.PUBLICIST, CHUNAN),
    ("demo-auditor", "审计管理员（演示）", Role.AUDITOR, PROVINCE),
    ("demo-security", "安全管理员（演示）", Role.SECURITY_ADMIN, PROVINCE),
    ("demo-sysadmin", "系统管理员（演示）", Role.SYSTEM_ADMIN, PROVINCE),
]

# Made-up children of the demo registry: (county, how many, seed). Fixed seeds: every demo looks the same.
DEMO_MINORS: list[tuple[str, int, int]] = [(CHUNAN, 180, 1), (JIANDE, 120, 2)]

# Made-up 五老 of each demo county: (county, how many, seed), generated like the children.
DEMO_VOLUNTEERS: list[tuple[str, int, int]] = [(CHUNAN, 60, 11), (JIANDE, 60, 12)]
# The teams of each demo county's committee: (kind, name after the county's name, members besides the
# leader).
DEMO_TEAMS: list[tuple[TeamKind, str, int]] = [
    (TeamKind.CARE_GROUP, "五老关爱团", 11),
    (TeamKind.LECTURERS, "五老讲师团", 7),
    (TeamKind.SCIENCE, "科技服务团", 5),
    (TeamKind.CAFE_SUPERVISORS, "网吧义务监督员队", 6),
    (TeamKind.ONLINE_PUBLICISTS, "五老网宣员队", 4),
]
TEAMS_FOUNDED_ON = datetime.date(2019, 5, 4)
HOURS_DESCRIPTIONS = (
    "入户走访留守儿童",
    "假日学校课业辅导",
    "网吧义务监督巡查",
    "法治宣传进校园",
    "红色故事宣讲",
    "爱心圆梦慰问",
    "家庭教育讲座",
    "心理疏导陪伴",
)
HOURS_PER_RECORD = (Decimal("2.0"), Decimal("8.0"))
HOURS_YEARS_BACK = 3
# The demo accounts' background check: within the year, and older than their demo pairings.
LINKED_CHECK_DAYS_AGO = 200


@dataclass(frozen=True)
class DemoVolunteer:
    """The volunteer record of a demo account: who the person is, what they can do, how long they have
    served (confirmed hours)."""

    username: str
    name: str
    birth: datetime.date
    sequence: int  # of the ID number: odd for a man, even for a woman
    village: str | None  # None: the first village of the county of the account
    categories: int
    specialties: int
    former_unit: str
    former_title: str
    hours: Decimal
    law_licence_number: str = ""
    psychology_certificate: str = ""
    teaching_subjects: str = ""
    team: TeamKind = TeamKind.CARE_GROUP


DEMO_LINKED_VOLUNTEERS: list[DemoVolunteer] = [
    DemoVolunteer(
        username="demo-volunteer",
        name="王建国",
        birth=datetime.date(1956, 3, 12),
        sequence=13,
        village=FUCHENG,
        categories=int(ElderCategory.TEACHER | ElderCategory.CADRE),
        specialties=int(Specialty.TEACHING | Specialty.RED_HISTORY),
        former_unit="千岛湖镇中心小学",
        former_title="校长",
        teaching_subjects="语文、历史",
        hours=Decimal("326.5"),
    ),
    DemoVolunteer(
        username="demo-lawyer",
        name="周明华",
        birth=datetime.date(1961, 9, 20),
        sequence=35,
        village=None,
        categories=int(ElderCategory.EXPERT),
        specialties=int(Specialty.LAW),
        former_unit="淳安县法律援助中心",
        former_title="律师",
        law_licence_number="13301198810123456",
        hours=Decimal("128.0"),
        team=TeamKind.LECTURERS,
    ),
    DemoVolunteer(
        username="demo-counsellor",
        name="陈慧芳",
        birth=datetime.date(1963, 11, 5),
        sequence=48,
        village=None,
        categories=int(ElderCategory.EXPERT | ElderCategory.TEACHER),
        specialties=int(Specialty.PSYCHOLOGY | Specialty.TEACHING),
        former_unit="淳安县中学",
        former_title="心理健康教育教师",
        psychology_certificate="国家二级心理咨询师 1911000000200123",
        teaching_subjects="心理健康",
        hours=Decimal("652.0"),
    ),
]

SCHOOL_AND_ENTERPRISE_COMMITTEES: list[tuple[str, str, CommitteeKind]] = [
    (QIANDAOHU, "千岛湖镇中心小学关工委", CommitteeKind.SCHOOL),
    (CHUNAN, "淳安县职业技术学校关工委", CommitteeKind.SCHOOL),
    (CHUNAN, "淳安县供电公司关工委", CommitteeKind.ENTERPRISE),
    (JIANDE, "建德市新安江第一小学关工委", CommitteeKind.SCHOOL),
    (JIANDE, "建德市农商银行关工委", CommitteeKind.ENTERPRISE),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邵"
)
GIVEN = "建国志明丽华秀英国庆海燕桂芳德胜文杰春梅永红立新卫东玉兰振华淑珍金凤宝林红霞小平卫国家富"


@dataclass
class DemoResult:
    committees_created: int = 0
    members_created: int = 0
    minors_created: int = 0
    volunteers_created: int = 0
    volunteers_linked: list[str] = field(default_factory=list)
    teams_created: int = 0
    hours_records_created: int = 0
    pairings_created: int = 0
    pairings_overdue: int = 0  # of those created, overdue on the day of loading
    visits_created: int = 0
    reports_opened: int = 0
    cafes_created: int = 0
    inspections_created: int = 0
    findings_opened: int = 0
    mentoring_cases_created: int = 0
    duty_slots_created: int = 0
    articles_published: int = 0
    consultations_created: int = 0
    # No case could be opened: no sealed record (特殊青少年) in the demo counties' registries.
    no_sealed_record: bool = False
    users_created: list[str] = field(default_factory=list)
    password: str | None = None
    password_generated: bool = False


def generate_password() -> str:
    """A password of the four character classes, 16 characters long."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"Ga{core}-{secrets.randbelow(10)}"


def _people(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - demo names, not secrets


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _positions_for(level: int) -> list[Position]:
    if level <= RegionLevel.COUNTY:
        return [
            Position.DIRECTOR,
            Position.EXECUTIVE_DEPUTY_DIRECTOR,
            Position.SECRETARY_GENERAL,
            Position.MEMBER,
        ]
    if level == RegionLevel.TOWNSHIP:
        return [Position.DIRECTOR, Position.SECRETARY_GENERAL, Position.LIAISON]
    return [Position.DIRECTOR, Position.LIAISON]


def _demo_regions() -> list[Region]:
    """Province, every city and county of Zhejiang, and every township and village of the two counties."""
    upper = Region.objects.within(PROVINCE).filter(level__lte=RegionLevel.COUNTY)
    lower_q = region_codes.within_q("code", CHUNAN) | region_codes.within_q("code", JIANDE)
    lower = Region.objects.filter(lower_q, level__gt=RegionLevel.COUNTY)
    return list(upper.order_by("code")) + list(lower.order_by("code"))


@transaction.atomic
def demo_load(*, password: str | None) -> DemoResult:
    if not Region.objects.filter(code=FUCHENG).exists() or not Region.objects.filter(code=JIANDE).exists():
        raise ValidationFailed("区划数据尚未载入：请先运行 python manage.py load_regions")
    result = DemoResult()
    regions = _demo_regions()
    existing = set(Committee.objects.filter(kind=CommitteeKind.REGIONAL).values_list("region_id", flat=True))
    new_committees = [
        Committee(region=region, name=regional_committee_name(region), kind=CommitteeKind.REGIONAL)
        for region in regions
        if region.code not in existing
    ]
    existing_named = set(Committee.objects.values_list("region_id", "name"))
    new_committees += [
        Committee(region_id=code, name=name, kind=kind)
        for code, name, kind in SCHOOL_AND_ENTERPRISE_COMMITTEES
        if (code, name) not in existing_named
    ]
    Committee.objects.bulk_create(new_committees, batch_size=500)
    result.committees_created = len(new_committees)

    # bulk_create sets primary keys on both SQLite (RETURNING) and PostgreSQL.
    levels = {region.code: region.level for region in regions}
    members: list[CommitteeMember] = []
    for committee in new_committees:
        rng = _people(committee.name)
        for position in _positions_for(levels.get(committee.region_id, RegionLevel.VILLAGE)):
            members.append(CommitteeMember(committee=committee, name=_name(rng), position=position))
    CommitteeMember.objects.bulk_create(members, batch_size=1000)
    result.members_created = len(members)

    # A county whose registry holds anyone already (an earlier demo, or children entered by hand) gets
    # no generated children, so loading the demo again adds none.
    children_made: set[str] = set()
    for county, count, seed in DEMO_MINORS:
        if not Minor.objects.filter(region_codes.within_q("region_id", county)).exists():
            result.minors_created += generate_minors(count=count, region_code=county, seed=seed)
            children_made.add(county)

    generated = password is None
    if generated and User.objects.filter(username=DEMO_ACCOUNTS[0][0]).exists():
        password_to_set = None  # keep the password printed when the demo was first loaded
    else:
        password_to_set = password or generate_password()
    for username, display_name, role, code in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=password_to_set, display_name=display_name)
            result.users_created.append(username)
        elif password_to_set is not None:
            # A demo reset, not a change by the person: the history rule does not apply.
            user.set_password(password_to_set)
            user.password_changed_at = timezone.now()
            user.save(update_fields=["password", "password_changed_at"])
        region = Region.objects.get(code=code)
        home_committee = Committee.objects.filter(region=region, kind=CommitteeKind.REGIONAL).first()
        role_assign(
            user=user, role=role, region=region, committee_id=home_committee.pk if home_committee else None
        )
    result.password = password_to_set
    result.password_generated = generated and password_to_set is not None
    volunteers_made = _load_volunteers(result)
    # The work of the last months is made up only between people the demo made up in this run: never
    # for children or volunteers entered by hand (or by an earlier demo, which has its own history).
    today = timezone.localdate()
    _load_pairings(result, today=today, counties=children_made & volunteers_made)
    if CHUNAN in volunteers_made:  # the café supervision team's members
        _load_cafes(result, today=today)
    _load_mentoring(result, today=today, counties=children_made)
    online = load_consultations(counties=volunteers_made)
    result.duty_slots_created = online.duty_slots_created
    result.articles_published = online.articles_published
    result.consultations_created = online.requests_created
    return result


# --- The 五老 ---------------------------------------------------------------------------------------


def _load_volunteers(result: DemoResult) -> set[str]:
    """Generated volunteers in a county that has none yet, the records of the demo accounts, the
    county committees' teams; confirmed hours for every volunteer made now, so that stars differ.
    Returns the counties whose volunteers were made now."""
    today = timezone.localdate()
    new: list[Volunteer] = []
    made: set[str] = set()
    for county, count, seed in DEMO_VOLUNTEERS:
        in_county = Volunteer.objects.filter(region_codes.within_q("region_id", county))
        if in_county.exists():
            continue  # loaded before (or people entered by hand): no more made-up ones
        created = generate_volunteers(
            count=count, region_code=county, seed=seed, today=today, with_hours=False
        )
        result.volunteers_created += created
        new += list(in_county.order_by("id"))
        made.add(county)
    linked: list[Volunteer] = []
    targets: dict[int, Decimal] = {}
    rng = _people("demo-hours")
    for volunteer in new:
        if volunteer.status != Status.APPLYING:
            low, high, _weight = HOURS_BANDS[_weighted_pick(rng, [weight for *_band, weight in HOURS_BANDS])]
            targets[volunteer.pk] = Decimal(rng.randrange(low * 10, high * 10 + 1)) / 10
    for profile in DEMO_LINKED_VOLUNTEERS:
        volunteer, was_created = _linked_volunteer(profile, today=today)
        linked.append(volunteer)
        if was_created:
            result.volunteers_linked.append(profile.username)
            targets[volunteer.pk] = profile.hours
    for county, _count, _seed in DEMO_VOLUNTEERS:
        result.teams_created += _teams(county, linked=linked)
    result.hours_records_created = _confirmed_hours(
        [volunteer for volunteer in [*new, *linked] if volunteer.pk in targets], targets, rng=rng, today=today
    )
    return made


def _weighted_pick(rng: random.Random, weights: Sequence[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def _first_village(county: str) -> str:
    village = (
        Region.objects.within(county)
        .filter(level=RegionLevel.VILLAGE)
        .order_by("code")
        .values_list("code", flat=True)
    ).first()
    if village is None:
        raise ValidationFailed("区划数据尚未载入：请先运行 python manage.py load_regions")
    return village


def _linked_volunteer(profile: DemoVolunteer, *, today: datetime.date) -> tuple[Volunteer, bool]:
    """The volunteer record of a demo account, created once: in service, with a clear background check
    of the last twelve months (done before the demo pairings began) and the credentials its specialty
    needs."""
    user = User.objects.get(username=profile.username)
    existing = Volunteer.objects.filter(user=user).first()
    if existing is not None:
        return existing, False
    account_region = next(code for name, _display, _role, code in DEMO_ACCOUNTS if name == profile.username)
    village = profile.village or _first_village(account_region)
    # 淳安县 (330127) is a birth place stdnum.cn.ric accepts for any year.
    id_number = id_number_for(village[:6], profile.birth, profile.sequence)
    values = {
        "name": profile.name,
        "gender": Gender.MALE if profile.sequence % 2 else Gender.FEMALE,
        "birth_date": profile.birth,
        "phone": f"1390571{profile.sequence:04d}",
        "categories": profile.categories,
        "specialties": profile.specialties,
        "former_unit": profile.former_unit,
        "former_title": profile.former_title,
        "law_licence_number": profile.law_licence_number,
        "psychology_certificate": profile.psychology_certificate,
        "teaching_subjects": profile.teaching_subjects,
        "region_id": village,
        "availability": ALL_AVAILABILITY
        if profile.specialties & (Specialty.LAW | Specialty.PSYCHOLOGY)
        else sum(availability_bit(day, part) for day in (5, 6) for part in (0, 1)),
        "max_children": 3,
        "health_note": "身体健康",
        "check_date": today - datetime.timedelta(days=LINKED_CHECK_DAYS_AGO),
        "check_result": CheckResult.CLEAR,
        "check_by": "淳安县公安局",
        "status": Status.ACTIVE,
        "status_reason": "",
        "joined_on": datetime.date(2021, 3, 5),
        "status_changed_on": datetime.date(2021, 3, 5),
        "source": Source.STAFF,
        "shows_on_honour_roll": True,
    }
    volunteer = Volunteer.objects.filter(
        id_number_index=blind_index(Volunteer, "id_number", id_number)
    ).first()
    if volunteer is None:
        volunteer = Volunteer(id_number=id_number)
    for key, value in values.items():
        setattr(volunteer, key, value)
    volunteer.user = user
    volunteer.name_pinyin, volunteer.name_initials = pinyin_forms(volunteer.name)
    volunteer.save()
    return volunteer, True


def _teams(county: str, *, linked: list[Volunteer]) -> int:
    """The teams of the county committee that do not exist yet, each with a leader and members drawn
    from the county's volunteers in service; the demo accounts' volunteers join theirs."""
    committee = Committee.objects.filter(region_id=county, kind=CommitteeKind.REGIONAL).first()
    if committee is None:
        return 0
    county_name = Region.objects.get(code=county).name
    existing = set(Team.objects.filter(committee=committee).values_list("name", flat=True))
    wanted = [(kind, f"{county_name}{suffix}", size) for kind, suffix, size in DEMO_TEAMS]
    new_teams = [
        Team(
            committee=committee,
            region_id=committee.region_id,
            name=name,
            kind=kind,
            description=f"{county_name}关工委组织的{kind.label}",
            founded_on=TEAMS_FOUNDED_ON,
        )
        for kind, name, _size in wanted
        if name not in existing
    ]
    if not new_teams:
        return 0
    Team.objects.bulk_create(new_teams)
    serving = list(
        Volunteer.objects.filter(
            region_codes.within_q("region_id", county), status=Status.ACTIVE, user__isnull=True
        ).order_by("id")
    )
    rng = _people(f"demo-teams-{county}")
    sizes = {name: size for _kind, name, size in wanted}
    memberships: list[TeamMembership] = []
    for team in new_teams:
        chosen = rng.sample(serving, min(len(serving), sizes[team.name] + 1))
        for position, volunteer in enumerate(chosen):
            memberships.append(
                TeamMembership(
                    team=team,
                    volunteer=volunteer,
                    role=TeamRole.LEADER if position == 0 else TeamRole.MEMBER,
                    joined_on=max(volunteer.joined_on or TEAMS_FOUNDED_ON, TEAMS_FOUNDED_ON),
                )
            )
        for volunteer, profile in zip(linked, DEMO_LINKED_VOLUNTEERS, strict=True):
            if profile.team == team.kind and region_codes.is_within(volunteer.region_id, county):
                memberships.append(
                    TeamMembership(
                        team=team,
                        volunteer=volunteer,
                        role=TeamRole.MEMBER,
                        joined_on=volunteer.joined_on or TEAMS_FOUNDED_ON,
                    )
                )
    TeamMembership.objects.bulk_create(memberships, batch_size=500)
    return len(new_teams)


def _confirmed_hours(
    volunteers: list[Volunteer], targets: dict[int, Decimal], *, rng: random.Random, today: datetime.date
) -> int:
    """Records of 2 to 8 hours, served on days since the volunteer joined (three years back at most),
    recorded and confirmed by the county committee (谁组织谁记录), until each volunteer's target; the
    volunteer's total is the sum of their records."""
    admins = {
        code[:6]: User.objects.filter(username=username).first()
        for username, _display, role, code in DEMO_ACCOUNTS
        if role == Role.COUNTY_ADMIN
    }
    committees = dict(
        Committee.objects.filter(
            kind=CommitteeKind.REGIONAL, region_id__in=[county for county, *_ in DEMO_VOLUNTEERS]
        ).values_list("region_id", "name")
    )
    earliest = today - datetime.timedelta(days=365 * HOURS_YEARS_BACK)
    now = timezone.now()
    records: list[ServiceHours] = []
    for volunteer in volunteers:
        target = targets[volunteer.pk]
        first_day = max(volunteer.joined_on or earliest, earliest)
        span = max((today - first_day).days, 0)
        total = Decimal("0")
        while total < target:
            low, high = HOURS_PER_RECORD
            hours = min(Decimal(rng.randrange(int(low * 2), int(high * 2) + 1)) / 2, target - total)
            if hours <= 0:
                break
            served_on = first_day + datetime.timedelta(days=rng.randrange(span + 1))
            recorder = admins.get(volunteer.region_id[:6])
            records.append(
                ServiceHours(
                    volunteer=volunteer,
                    served_on=served_on,
                    hours=hours,
                    description=rng.choice(HOURS_DESCRIPTIONS),
                    source=HoursSource.ORGANISER,
                    organiser=committees.get(volunteer.region_id[:6] + "000000", ""),
                    state=HoursState.CONFIRMED,
                    recorded_by=recorder,
                    confirmed_by=recorder,
                    confirmed_at=now,
                )
            )
            total += hours
        volunteer.hours_total += total
    ServiceHours.objects.bulk_create(records, batch_size=1000)
    Volunteer.objects.bulk_update(volunteers, ["hours_total"], batch_size=500)
    return len(records)


# --- Pairings, visits and a mandatory report ----------------------------------------------------------

# Of the matching engine's proposals in a demo county, the share paired when the demo loads: the rest
# stay for staff to propose and accept (the children unpaired, the volunteers with places left).
PAIRED_SHARE = 0.6
# Of the demo pairings, the share whose volunteer stopped calling more than an interval ago.
OVERDUE_SHARE = 0.2
# The oldest demo pairing began this many days ago ("the past months").
PAIRING_DAYS_BACK = 240
# The demo volunteer's children (我的结对儿童 on the phone): the first one overdue, the second not. Chosen
# among children whose guardian consented long enough ago for a history of visits.
LINKED_CHILDREN = 2
LINKED_CONSENT_DAYS_AGO = 120

# (mode, weight when the volunteer lives in the child's village, weight otherwise, minutes from, to)
VISIT_MODES: list[tuple[VisitMode, int, int, int, int]] = [
    (VisitMode.HOME, 50, 30, 40, 120),
    (VisitMode.SCHOOL, 10, 10, 30, 60),
    (VisitMode.PHONE, 20, 35, 10, 30),
    (VisitMode.VIDEO, 5, 15, 15, 40),
    (VisitMode.ACTIVITY, 15, 10, 90, 180),
]
# What else is done besides talking, by mode (a visit picks one or two).
MODE_ACTIVITIES: dict[VisitMode, tuple[VisitActivity, ...]] = {
    VisitMode.HOME: (
        VisitActivity.HOMEWORK,
        VisitActivity.SAFETY_EDUCATION,
        VisitActivity.GUARDIAN_CONTACT,
        VisitActivity.SUPPLIES,
        VisitActivity.HEALTH,
    ),
    VisitMode.SCHOOL: (VisitActivity.HOMEWORK, VisitActivity.SAFETY_EDUCATION),
    VisitMode.PHONE: (VisitActivity.GUARDIAN_CONTACT, VisitActivity.HEALTH),
    VisitMode.VIDEO: (VisitActivity.HOMEWORK, VisitActivity.GUARDIAN_CONTACT),
    VisitMode.ACTIVITY: (VisitActivity.OUTING, VisitActivity.SAFETY_EDUCATION),
}
# How the child is (good, fair, needs attention) by the registry's risk level; safety is never "needs
# attention" in a routine visit: that is a concern, and a concern opens a mandatory report.
CONDITION_WEIGHTS: dict[str, tuple[int, int, int]] = {
    RiskLevel.LOW: (78, 19, 3),
    RiskLevel.MEDIUM: (58, 34, 8),
    RiskLevel.HIGH: (40, 42, 18),
}
SAFETY_WEIGHTS: dict[str, tuple[int, int, int]] = {
    RiskLevel.LOW: (95, 5, 0),
    RiskLevel.MEDIUM: (86, 14, 0),
    RiskLevel.HIGH: (70, 30, 0),
}
CONDITIONS = (Condition.GOOD, Condition.FAIR, Condition.CONCERN)
VISIT_NOTES: dict[Condition, tuple[str, ...]] = {
    Condition.GOOD: (
        "孩子近况良好，学习认真，和爷爷奶奶相处融洽。",
        "一起检查了作业，孩子数学进步明显。",
        "孩子说在学校交了新朋友，心情不错。",
        "叮嘱了防溺水和交通安全，孩子能复述要点。",
        "送去了新学期的文具，监护人表示感谢。",
    ),
    Condition.FAIR: (
        "孩子最近话少，多聊了一会儿，下次继续关注。",
        "作业完成得不太好，已和班主任沟通辅导办法。",
        "监护人年纪大、腿脚不便，家中照料吃力，已请村里帮忙。",
        "孩子感冒刚好，叮嘱按时吃饭、注意添衣。",
    ),
    Condition.CONCERN: (
        "孩子想念在外打工的父母，情绪低落，已联系其母亲每周视频通话。",
        "期中考试成绩下滑明显，约了老师一起商量补课。",
    ),
}
# The one visit that raises a mandatory report, through the visit service (alerting the township and
# the county at once).
REPORT_VISIT_NOTE = "走访发现孩子独自在家多日：祖母住院，家中无人做饭。已请村委会临时照看，并报乡镇关工委。"


@dataclass
class _PlannedPairing:
    """A pair to be written, with what its schedule needs."""

    minor: Minor
    volunteer: Volunteer
    explanation: list[str]
    is_overdue: bool  # meant to be: the schedule decides (a recent consent leaves no time to fall behind)
    raises_report: bool = False
    pairing: Pairing | None = None  # once written

    @property
    def written(self) -> Pairing:
        assert self.pairing is not None, "the pairing is written before its visits"
        return self.pairing


def _demo_user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _county_admin_usernames() -> dict[str, str]:
    """The demo county admins by the six digits of their county."""
    return {
        code[:6]: username for username, _display, role, code in DEMO_ACCOUNTS if role == Role.COUNTY_ADMIN
    }


def _pairing_consent_days(minor_ids: list[int]) -> dict[int, datetime.date]:
    """The day each child's guardian first consented to pairing (an active consent covering it)."""
    days: dict[int, datetime.date] = {}
    for consent in Consent.objects.filter(minor_id__in=minor_ids, withdrawn_on__isnull=True).order_by(
        "given_on", "id"
    ):
        if consent.covers(ConsentScope.PAIRING):
            days.setdefault(consent.minor_id, consent.given_on)
    return days


def _load_pairings(result: DemoResult, *, today: datetime.date, counties: set[str]) -> None:
    """Pair part of the children of the demo `counties` (those whose children and volunteers were made
    in this run, so never twice). The engine proposes under the hard rules (consent on record, a valid
    check, a free place, 在岗, no conflict, no sealed record); the demo volunteer is given their
    children first, so that their phone shows some."""
    admins = {prefix: _demo_user(username) for prefix, username in _county_admin_usernames().items()}
    linked = Volunteer.objects.filter(user__username="demo-volunteer").first()
    planned: list[_PlannedPairing] = []
    for county, _count, _seed in DEMO_MINORS:
        if county not in counties:
            continue
        rng = _people(f"demo-pairings-{county}")
        county_planned: list[_PlannedPairing] = []
        if linked is not None and region_codes.is_within(linked.region_id, county):
            county_planned += _linked_volunteer_children(linked, today=today)
            # Written first: the engine then sees the places they took and leaves the children out.
            _pairings_write(county_planned, created_by=admins.get(county[:6]))
        proposals = proposals_compute(region_code=county, today=today).proposals
        accepted = [proposal for proposal in proposals if rng.random() < PAIRED_SHARE]
        minors = Minor.objects.in_bulk([proposal.child_id for proposal in accepted])
        volunteers = Volunteer.objects.in_bulk([proposal.volunteer_id for proposal in accepted])
        engine_planned = [
            _PlannedPairing(
                minor=minors[proposal.child_id],
                volunteer=volunteers[proposal.volunteer_id],
                explanation=list(proposal.explanation),
                is_overdue=rng.random() < OVERDUE_SHARE,
            )
            for proposal in accepted
        ]
        _pairings_write(engine_planned, created_by=admins.get(county[:6]))
        county_planned += engine_planned
        if county == CHUNAN:
            # The report's pairing: one not overdue in 千岛湖镇 (the demo township admin is alerted too),
            # of a volunteer other than the demo account.
            candidates = [
                plan for plan in engine_planned if not plan.is_overdue and plan.volunteer.user_id is None
            ]
            in_township = [p for p in candidates if region_codes.is_within(p.minor.region_id, QIANDAOHU)]
            if in_township or candidates:
                (in_township or candidates)[0].raises_report = True
        _visits(county_planned, rng=rng, today=today, recorder=admins.get(county[:6]))
        planned += county_planned
    if not planned:
        return
    result.pairings_created = len(planned)
    for plan in planned:
        if plan.raises_report:
            _report_visit(plan, today=today)
            result.reports_opened += 1
    pairing_ids = [plan.written.pk for plan in planned]
    result.visits_created = Visit.objects.filter(pairing_id__in=pairing_ids).count()
    result.pairings_overdue = Pairing.objects.filter(overdue_q(today), pk__in=pairing_ids).count()
    # What the daily task would send: the reminders of the overdue pairings of volunteers with accounts.
    overdue_reminders_send(today=today)


def _linked_volunteer_children(volunteer: Volunteer, *, today: datetime.date) -> list[_PlannedPairing]:
    """The demo volunteer's children: the cheapest pairs for the engine among the unpaired children of
    the volunteer's township (then county) whose guardian consented long enough ago, each explained as
    the engine explains a pair made by hand."""
    nodes = volunteer_nodes(scope=Q(pk=volunteer.pk), today=today)
    if not nodes:
        return []
    node = nodes[0]
    township = region_codes.parent_code(volunteer.region_id) or volunteer.region_id
    consented_before = today - datetime.timedelta(days=LINKED_CONSENT_DAYS_AGO)
    chosen: list[_PlannedPairing] = []
    for area in (township, volunteer.region_id[:6].ljust(region_codes.CODE_LENGTH, "0")):
        children = unpaired_children(region_code=area, today=today)
        consents = _pairing_consent_days([child.id for child in children])
        taken = {plan.minor.pk for plan in chosen}
        ranked = sorted(
            (
                (proposals[0].cost, child.id, child)
                for child in children
                if child.id not in taken
                and consents.get(child.id, today) <= consented_before
                and (proposals := suggest_for_child(child=child, volunteers=[node], limit=1))
            ),
            key=lambda row: (row[0], row[1]),
        )
        for _cost, child_id, child in ranked:
            if len(chosen) == LINKED_CHILDREN or node.capacity_left == 0:
                break
            # Explained with the volunteer's load as it is when this child is paired.
            proposal = suggest_for_child(child=child, volunteers=[node], limit=1)[0]
            chosen.append(
                _PlannedPairing(
                    minor=Minor.objects.get(pk=child_id),
                    volunteer=volunteer,
                    explanation=list(proposal.explanation),
                    is_overdue=not chosen,  # the first one overdue, the second not
                )
            )
            node = dataclasses.replace(node, load=node.load + 1, capacity_left=node.capacity_left - 1)
        if len(chosen) == LINKED_CHILDREN:
            break
    return chosen


def _pairings_write(planned: list[_PlannedPairing], *, created_by: User | None) -> None:
    """The pairings, 结对中, and the volunteers' places taken (paired_count counts open pairings)."""
    pairings = [
        Pairing(
            minor=plan.minor,
            volunteer=plan.volunteer,
            state=PairingState.ACTIVE,
            explanation=plan.explanation,
            created_by=created_by,
        )
        for plan in planned
    ]
    Pairing.objects.bulk_create(pairings, batch_size=500)
    for plan, pairing in zip(planned, pairings, strict=True):
        plan.pairing = pairing
    _paired_counts_recount({plan.volunteer.pk for plan in planned})


def _paired_counts_recount(volunteer_ids: set[int]) -> None:
    """Each volunteer's paired_count set to their open pairings (拟结对 and 结对中)."""
    counts = dict(
        Pairing.objects.exclude(state=PairingState.CLOSED)
        .filter(volunteer_id__in=volunteer_ids)
        .values("volunteer_id")
        .annotate(open=Count("id"))
        .values_list("volunteer_id", "open")
    )
    for volunteer_id in sorted(volunteer_ids):
        Volunteer.objects.filter(pk=volunteer_id).update(paired_count=counts.get(volunteer_id, 0))


def _visit_days(
    *,
    rng: random.Random,
    today: datetime.date,
    interval: int,
    earliest: datetime.date,
    is_overdue: bool,
    until: datetime.date,
) -> tuple[datetime.date, list[datetime.date]]:
    """When a pairing began and the days of its visits. The volunteer keeps in touch within the contact
    interval; an overdue pairing's contact stopped more than an interval ago."""
    if is_overdue:
        started = today - datetime.timedelta(days=rng.randint(interval + 45, PAIRING_DAYS_BACK))
        until = min(until, today - datetime.timedelta(days=interval + rng.randint(3, 25)))
    else:
        started = today - datetime.timedelta(days=rng.randint(45, PAIRING_DAYS_BACK))
    started = min(max(started, earliest), today)
    days: list[datetime.date] = []
    day = started + datetime.timedelta(days=rng.randint(2, 10))
    while day <= until:
        days.append(day)
        day += datetime.timedelta(days=rng.randint(max(interval * 2 // 3, 1), interval))
    return started, days


def _visits(
    planned: list[_PlannedPairing], *, rng: random.Random, today: datetime.date, recorder: User | None
) -> None:
    """Each pairing's start, its visits with the hours they credit (as `visit_record` credits them, one
    confirmed record per visit), and its contact dates. A pairing begins once the guardian consented,
    the volunteer had joined and their background check was done (so the check was valid throughout)."""
    consents = _pairing_consent_days([plan.minor.pk for plan in planned])
    visits: list[Visit] = []
    pairings: list[Pairing] = []
    for plan in planned:
        pairing = plan.written
        volunteer = plan.volunteer
        earliest = max(
            day
            for day in (consents.get(plan.minor.pk), volunteer.joined_on, volunteer.check_date)
            if day is not None
        )
        interval = contact_interval_days(plan.minor.risk_level)
        # The report's visit is made today through the service: the routine ones end the day before.
        until = today - datetime.timedelta(days=1) if plan.raises_report else today
        started, days = _visit_days(
            rng=rng,
            today=today,
            interval=interval,
            earliest=earliest,
            is_overdue=plan.is_overdue,
            until=until,
        )
        same_village = volunteer.region_id == plan.minor.region_id
        visits += [
            _routine_visit(
                pairing,
                day,
                rng=rng,
                risk=plan.minor.risk_level,
                same_village=same_village,
                recorded_by=volunteer.user or recorder,
            )
            for day in days
        ]
        pairing.started_on = started
        pairing.last_contact_on = days[-1] if days else None
        pairing.next_contact_due = next_due(pairing, days[-1] if days else started)
        pairings.append(pairing)
    Pairing.objects.bulk_update(
        pairings, ["started_on", "last_contact_on", "next_contact_due"], batch_size=500
    )
    Visit.objects.bulk_create(visits, batch_size=500)
    _visit_hours(visits)


def _routine_visit(
    pairing: Pairing,
    day: datetime.date,
    *,
    rng: random.Random,
    risk: str,
    same_village: bool,
    recorded_by: User | None,
) -> Visit:
    mode, _near, _far, low, high = VISIT_MODES[
        _weighted_pick(rng, [near if same_village else far for _mode, near, far, *_minutes in VISIT_MODES])
    ]
    extras = MODE_ACTIVITIES[mode]
    activities = VisitActivity.TALK
    for extra in rng.sample(extras, rng.randint(1, min(2, len(extras)))):
        activities |= extra
    weights = CONDITION_WEIGHTS.get(risk, CONDITION_WEIGHTS[RiskLevel.LOW])
    study, health, emotion = (CONDITIONS[_weighted_pick(rng, weights)] for _area in range(3))
    safety = CONDITIONS[_weighted_pick(rng, SAFETY_WEIGHTS.get(risk, SAFETY_WEIGHTS[RiskLevel.LOW]))]
    worst = max((study, health, emotion, safety), key=CONDITIONS.index)
    return Visit(
        pairing=pairing,
        visited_on=day,
        mode=mode,
        duration_minutes=5 * rng.randint(low // 5, high // 5),
        activities=int(activities),
        note=rng.choice(VISIT_NOTES[worst]) if rng.random() < 0.8 else "",
        study=study,
        health=health,
        emotion=emotion,
        safety=safety,
        recorded_by=recorded_by,
    )


def _visit_hours(visits: list[Visit]) -> None:
    """One confirmed record per visit, keyed as `visit_record` keys it, and the volunteers' totals."""
    now = timezone.now()
    records: list[ServiceHours] = []
    totals: dict[int, Decimal] = {}
    volunteer_of = dict(
        Pairing.objects.filter(pk__in={visit.pairing_id for visit in visits}).values_list(
            "pk", "volunteer_id"
        )
    )
    with override("zh-hans"):
        descriptions = {mode: _("走访结对儿童（%(mode)s）") % {"mode": mode.label} for mode in VisitMode}
    for visit in visits:
        hours = hours_of(visit.duration_minutes)
        volunteer_id = volunteer_of[visit.pairing_id]
        records.append(
            ServiceHours(
                volunteer_id=volunteer_id,
                served_on=visit.visited_on,
                hours=hours,
                description=descriptions[VisitMode(visit.mode)],
                source=HoursSource.VISIT,
                source_key=f"visit:{visit.pk}",
                state=HoursState.CONFIRMED,
                recorded_by=visit.recorded_by,
                confirmed_by=visit.recorded_by,
                confirmed_at=now,
            )
        )
        totals[volunteer_id] = totals.get(volunteer_id, Decimal("0")) + hours
    ServiceHours.objects.bulk_create(records, batch_size=1000)
    for volunteer_id, total in sorted(totals.items()):
        Volunteer.objects.filter(pk=volunteer_id).update(hours_total=F("hours_total") + total)


def _report_visit(plan: _PlannedPairing, *, today: datetime.date) -> None:
    """Today's visit that found a child left without care, recorded from the volunteer's paper form by
    the staff of the child's township (or county) through the visit service: it opens the mandatory
    report and alerts the township and county admins, and credits the hour."""
    township_admin = _demo_user("demo-township")
    in_township = region_codes.is_within(plan.minor.region_id, QIANDAOHU)
    recorder = (
        township_admin
        if township_admin is not None and in_township
        else _demo_user(_county_admin_usernames()[plan.minor.region_id[:6]])
    )
    assert recorder is not None
    visit_record(
        actor=actor_for_user(recorder),
        pairing_id=plan.written.pk,
        visited_on=today,
        mode=VisitMode.HOME,
        duration_minutes=60,
        activities=int(VisitActivity.TALK | VisitActivity.GUARDIAN_CONTACT),
        note=REPORT_VISIT_NOTE,
        health=Condition.FAIR,
        emotion=Condition.CONCERN,
        concerns=int(SafetyConcern.NEGLECT | SafetyConcern.NO_CARER),
    )


# --- Internet cafés of 千岛湖镇 ------------------------------------------------------------------------

# (name, address, licence, operator, phone) — made up.
DEMO_CAFES: list[tuple[str, str, str, str, str]] = [
    ("星河网咖", "淳安县千岛湖镇新安东路128号", "浙网文〔2019〕3306-012号", "方志强", "13905716601"),
    ("极速网络会所", "淳安县千岛湖镇环湖北路56号二楼", "浙网文〔2020〕3306-027号", "余建华", "13905716602"),
    ("青柠网吧", "淳安县千岛湖镇睦州路9号", "浙网文〔2018〕3306-005号", "汪丽萍", "13905716603"),
]
# (café, days ago, minutes, minors found, ID checks done, notice posted): the last one finds two
# minors and no ID checks — a finding the county follows up within a week.
DEMO_INSPECTIONS: list[tuple[int, int, int, int, bool, bool]] = [
    (0, 62, 90, 0, True, True),
    (2, 41, 75, 0, True, True),
    (1, 35, 60, 0, True, True),
    (0, 12, 80, 0, True, True),
    (1, 4, 90, 2, False, True),
]
INSPECTORS_PER_VISIT = 2


def _load_cafes(result: DemoResult, *, today: datetime.date) -> None:
    """The cafés of 千岛湖镇, registered by the township's demo admin, and the inspections of the county's
    café supervision team recorded through the café services (crediting the inspectors' hours, opening
    the finding and telling the county). Once: a township with cafés already gets none."""
    if (
        InternetCafe.objects.filter(region_id=QIANDAOHU).exists()
        or not Region.objects.filter(code=QIANDAOHU).exists()
    ):
        return
    staff = _demo_user("demo-township")
    if staff is None:
        return
    actor = actor_for_user(staff)
    cafes = [
        cafe_register(
            actor=actor,
            data=CafeInput(
                region_code=QIANDAOHU,
                name=name,
                address=address,
                licence_number=licence,
                operator=operator,
                phone=phone,
            ),
        )
        for name, address, licence, operator, phone in DEMO_CAFES
    ]
    result.cafes_created = len(cafes)
    team = (
        Team.objects.filter(kind=TeamKind.CAFE_SUPERVISORS, is_active=True, region_id=CHUNAN)
        .order_by("id")
        .first()
    )
    if team is None:
        return
    members = list(
        TeamMembership.objects.filter(team=team, left_on__isnull=True, volunteer__status=Status.ACTIVE)
        .order_by("volunteer_id")
        .values_list("volunteer_id", flat=True)
    )
    if not members:
        return
    for number, (index, days_ago, minutes, minors_found, id_checks, notices) in enumerate(DEMO_INSPECTIONS):
        # Two members go each time, by turns.
        inspectors = sorted(
            {members[(number + offset) % len(members)] for offset in range(INSPECTORS_PER_VISIT)}
        )
        inspection = inspection_record(
            actor=actor,
            cafe_id=cafes[index].pk,
            data=InspectionInput(
                inspected_on=today - datetime.timedelta(days=days_ago),
                duration_minutes=minutes,
                minors_found=minors_found,
                id_checks_done=id_checks,
                notices_posted=notices,
                team_id=team.pk,
                inspector_ids=inspectors,
            ),
        )
        result.inspections_created += 1
        result.findings_opened += int(inspection.has_finding)


# --- A sealed mentoring case ------------------------------------------------------------------------

MENTORING_DAYS_BACK = 100
MENTORING_GOALS: list[tuple[str, int, GoalStatus]] = [
    ("按时到校上课，本学期无旷课", 60, GoalStatus.IN_PROGRESS),
    ("参加职业技能培训并取得结业证书", 180, GoalStatus.PLANNED),
    ("不再与原不良交友群体往来，每月向帮教人报告近况", 120, GoalStatus.IN_PROGRESS),
]
MENTORING_REVIEWS = (
    "立案后首次谈话，了解家庭和交友情况，共同商定帮教计划，本人态度配合。",
    "本月按时到校，班主任反映课堂表现有进步；周末参加社区志愿服务一次。",
    "与监护人沟通家庭教育方法；本人表示愿意报名厨师技能培训。",
    "本月无旷课记录，情绪稳定，继续跟踪。",
)
CORRECTION_AGENCY = "%(county)s司法局社区矫正中心"
CORRECTION_OFFICER = "周立新"


def _load_mentoring(result: DemoResult, *, today: datetime.date, counties: set[str]) -> None:
    """One mentoring case (帮教) for the first sealed record of the demo `counties` (those whose children
    were made in this run), opened by the county's demo admin as its officer through the mentoring
    services, with its plan and a review for each month since it was opened (some three months ago).
    No mentors: they must belong to a mentoring team (帮教团) and have an account, and no demo volunteer
    does both in the youth's county."""
    ordered = [county for county, _count, _seed in DEMO_MINORS if county in counties]
    if not ordered or MentoringCase.objects.filter(region_id__in=ordered).exists():
        return
    minor = None
    for county in ordered:
        minor = (
            Minor.objects.filter(
                region_codes.within_q("region_id", county), is_sealed=True, status=MinorStatus.ACTIVE
            )
            .exclude(special_kind="")
            .order_by("pk")
            .first()
        )
        if minor is not None:
            break
    if minor is None:
        result.no_sealed_record = True
        return
    officer = _demo_user(_county_admin_usernames()[minor.region_id[:6]])
    if officer is None:
        return
    actor = actor_for_user(officer)
    case = case_open(actor=actor, id_number=minor.id_number or "", officer_id=officer.pk)
    opened_on = today - datetime.timedelta(days=MENTORING_DAYS_BACK)
    opened_at = timezone.make_aware(datetime.datetime.combine(opened_on, datetime.time(9, 30)))
    MentoringCase.objects.filter(pk=case.pk).update(opened_at=opened_at)
    for description, due_in_days, status in MENTORING_GOALS:
        goal = goal_add(
            actor=actor,
            case_id=case.pk,
            description=description,
            due_on=opened_on + datetime.timedelta(days=due_in_days),
        )
        if status != GoalStatus.PLANNED:
            goal_update(actor=actor, case_id=case.pk, goal_id=goal.pk, status=status)
    month, number = opened_on.replace(day=1), 0
    while month <= today:
        note = MENTORING_REVIEWS[min(number, len(MENTORING_REVIEWS) - 1)]
        review_record(actor=actor, case_id=case.pk, month=month, progress_note=note)
        month, number = (month + datetime.timedelta(days=32)).replace(day=1), number + 1
    if minor.special_kind == SpecialKind.OFFENCE_OR_DRUGS:
        case.refresh_from_db()
        correction_update(
            actor=actor,
            case_id=case.pk,
            version=case.version,
            agency=CORRECTION_AGENCY % {"county": Region.objects.get(code=case.region_id).name},
            officer_name=CORRECTION_OFFICER,
            starts_on=opened_on,
            ends_on=opened_on + datetime.timedelta(days=365),
        )
    result.mentoring_cases_created = 1
