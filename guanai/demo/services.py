"""The demo data set: committees down to village level in 淳安县 and 建德市, one account per role, a few
hundred made-up children in the two counties' registries (`guanai.minors.generation`), and the 五老:
about sixty made-up volunteers per county (`guanai.volunteers.generation`) in teams of the county
committee, with confirmed service hours that give them different star levels, plus the volunteer records
of the demo accounts of a volunteer, a lawyer and a counsellor.

Loaded by `manage.py load_demo` (which `make run` calls), never by a migration. Running it again changes
nothing that exists, except the demo passwords when GUANAI_DEMO_PASSWORD is given.
"""

from __future__ import annotations

import datetime
import random
import secrets
import string
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.services import role_assign, user_create
from guanai.committees.models import Committee, CommitteeKind, CommitteeMember, Position
from guanai.committees.services import regional_committee_name
from guanai.core import region_codes
from guanai.core.access import Role
from guanai.core.crypto import blind_index
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.minors.generation import generate_minors, id_number_for
from guanai.minors.models import Minor
from guanai.minors.names import pinyin_forms
from guanai.minors.vocabulary import Gender
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
    for county, count, seed in DEMO_MINORS:
        if not Minor.objects.filter(region_codes.within_q("region_id", county)).exists():
            result.minors_created += generate_minors(count=count, region_code=county, seed=seed)

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
    _load_volunteers(result)
    return result


# --- The 五老 ---------------------------------------------------------------------------------------


def _load_volunteers(result: DemoResult) -> None:
    """Generated volunteers in a county that has none yet, the records of the demo accounts, the
    county committees' teams; confirmed hours for every volunteer made now, so that stars differ."""
    today = timezone.localdate()
    new: list[Volunteer] = []
    for county, count, seed in DEMO_VOLUNTEERS:
        in_county = Volunteer.objects.filter(region_codes.within_q("region_id", county))
        if in_county.exists():
            continue  # loaded before (or people entered by hand): no more made-up ones
        created = generate_volunteers(
            count=count, region_code=county, seed=seed, today=today, with_hours=False
        )
        result.volunteers_created += created
        new += list(in_county.order_by("id"))
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


def _weighted_pick(rng: random.Random, weights: list[float]) -> int:
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
    of this year and the credentials its specialty needs."""
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
        "check_date": today - datetime.timedelta(days=40),
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
