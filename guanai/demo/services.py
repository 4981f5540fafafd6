"""The demo data set: committees down to village level in 淳安县 and 建德市, one account per role, and a
few hundred made-up children in the two counties' registries (`guanai.minors.generation`).

Loaded by `manage.py load_demo` (which `make run` calls), never by a migration. Running it again changes
nothing that exists, except the demo passwords when GUANAI_DEMO_PASSWORD is given.
"""

from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.services import role_assign, user_create
from guanai.committees.models import Committee, CommitteeKind, CommitteeMember, Position
from guanai.committees.services import regional_committee_name
from guanai.core import region_codes
from guanai.core.access import Role
from guanai.core.errors import ValidationFailed
from guanai.core.region_codes import RegionLevel
from guanai.minors.generation import generate_minors
from guanai.minors.models import Minor
from guanai.regions.models import Region

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
    return result
