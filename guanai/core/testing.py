"""Test support shared by every app: a small real region tree, the personas, and the authorization
matrix helper (personas × operations → expected status, and nothing changed on a denial)."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanai.core.access import Role
from guanai.core.region_codes import level_of, parent_code

# Real 2023 codes, so that ID numbers and lookups made from them are real too.
REGION_TREE: list[tuple[str, str]] = [
    ("330000000000", "浙江省"),
    ("330100000000", "杭州市"),
    ("330127000000", "淳安县"),
    ("330127100000", "千岛湖镇"),
    ("330127100001", "青城社区"),
    ("330127100219", "富城村村民委员会"),
    ("330182000000", "建德市"),
    ("330182001000", "新安江街道"),
    ("330182001020", "白沙社区居民委员会"),
    ("330200000000", "宁波市"),
    ("330212000000", "鄞州区"),
    ("110000000000", "北京市"),
]

COUNTY_A = "330127000000"  # 淳安县
COUNTY_B = "330182000000"  # 建德市


def build_region_tree() -> None:
    from guanai.regions.models import Region
    from guanai.regions.names import short_name

    for code, name in REGION_TREE:
        level = level_of(code)
        Region.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short_name(name, level),
                "level": level,
                "parent_id": parent_code(code),
            },
        )


@dataclass(frozen=True)
class PersonaSpec:
    username: str
    role: Role
    region: str


PERSONAS: dict[str, PersonaSpec] = {
    "province_admin": PersonaSpec("p-province", Role.PROVINCE_ADMIN, "330000000000"),
    "county_a_admin": PersonaSpec("p-county-a", Role.COUNTY_ADMIN, COUNTY_A),
    "county_b_admin": PersonaSpec("p-county-b", Role.COUNTY_ADMIN, COUNTY_B),
    "township_worker": PersonaSpec("p-township", Role.TOWNSHIP_ADMIN, "330127100000"),
    "volunteer": PersonaSpec("p-volunteer", Role.VOLUNTEER, "330127100219"),
    "lawyer": PersonaSpec("p-lawyer", Role.LAWYER, COUNTY_A),
    "counsellor": PersonaSpec("p-counsellor", Role.COUNSELLOR, COUNTY_A),
    "auditor": PersonaSpec("p-auditor", Role.AUDITOR, "330000000000"),
    "system_admin": PersonaSpec("p-sysadmin", Role.SYSTEM_ADMIN, "330000000000"),
}
ANONYMOUS = "anonymous"


def create_personas(*, audited: bool = True) -> dict[str, Any]:
    """One user per persona, each with a valid role assignment; returns name → user.

    They are made by the account services, which record each account and role (`account.*` events).
    `audited=False` makes them with the ORM instead, leaving the audit log empty: for the tests that read
    the whole log and must find only the events they record."""
    return {
        name: create_persona(spec.username, spec.role, spec.region, display_name=name, audited=audited)
        for name, spec in PERSONAS.items()
    }


def create_persona(username: str, role: Role, region: str, *, display_name: str, audited: bool = True) -> Any:
    """A user without a password holding `role` at `region` since 2020 (see `create_personas`)."""
    from guanai.accounts.models import RoleAssignment, User
    from guanai.accounts.services import role_assign, user_create
    from guanai.regions.models import Region

    valid_from = datetime.date(2020, 1, 1)
    if not audited:
        user = User(username=username, display_name=display_name)
        user.set_unusable_password()
        user.save()
        RoleAssignment.objects.create(user=user, role=role, region_id=region, valid_from=valid_from)
        return user
    user = user_create(username=username, password=None, display_name=display_name)
    role_assign(user=user, role=role, region=Region.objects.get(code=region), valid_from=valid_from)
    return user


def verified_client(user: Any) -> Client:
    """A client signed in as `user`, with the second factor done when the user's roles require it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from guanai.accounts.selectors import actor_for_user

    client = Client()
    client.force_login(user)
    if actor_for_user(user).requires_second_factor:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def persona_clients(users: dict[str, Any]) -> dict[str, Client]:
    clients: dict[str, Client] = {ANONYMOUS: Client()}
    for name, user in users.items():
        clients[name] = verified_client(user)
    return clients


# --- The database does not change on a denial --------------------------------------------------

# Rows that legitimately change on any request: sessions (saved on every request) and usage stamps.
# The audit trail grows on a denial by design (every refusal is an "access.denied" event); the events
# are append-only and their hash chain is checked by `manage.py audit_verify`.
VOLATILE_MODELS = {"sessions.session", "audit.auditevent", "audit.auditchainhead"}
VOLATILE_FIELDS = {"last_login", "last_used_at", "updated_at"}


def database_fingerprint() -> dict[str, str]:
    """A digest of every row of every model, per model (volatile rows and fields left out)."""
    prints: dict[str, str] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in VOLATILE_MODELS or not model._meta.managed:
            continue
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        rows = model._default_manager.order_by("pk").values_list(*names)
        digest = hashlib.sha256()
        for row in rows.iterator():
            digest.update(json.dumps(row, default=str, ensure_ascii=False).encode())
        prints[label] = digest.hexdigest()
    return prints


@dataclass
class Check:
    """One cell of an authorization matrix: `persona` calling `method path` gets `status`."""

    persona: str
    method: str
    path: str
    status: int
    data: dict[str, Any] | None = None  # sent as a JSON body
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None  # sent as an HTML form
    must_not_contain: tuple[str, ...] = ()


def assert_authorization_matrix(clients: dict[str, Client], checks: Iterable[Check]) -> int:
    """Run every check; each must answer exactly its status, a denial (status ≥ 400) must leave the
    database as it was, and no body may contain a string it must not. Returns the number of checks."""
    failures: list[str] = []
    count = 0
    for check in checks:
        count += 1
        before = database_fingerprint() if check.status >= 400 else None
        client = clients[check.persona]
        call = getattr(client, check.method.lower())
        kwargs: dict[str, Any] = {"headers": check.headers}
        if check.data is not None:
            kwargs.update(data=json.dumps(check.data), content_type="application/json")
        elif check.form is not None:
            kwargs.update(data=check.form)
        response = call(check.path, **kwargs)
        where = f"{check.persona} {check.method} {check.path}"
        if response.status_code != check.status:
            failures.append(f"{where}: expected {check.status}, got {response.status_code}")
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode("utf-8", errors="replace")
        failures += [
            f"{where}: response contains {text!r}" for text in check.must_not_contain if text in body
        ]
        if before is not None:
            after = database_fingerprint()
            changed = sorted(label for label in before if before[label] != after.get(label))
            if changed:
                failures.append(f"{where}: denied but changed {changed}")
    assert not failures, "authorization matrix failed:\n" + "\n".join(failures)
    return count


@contextmanager
def count_queries() -> Iterator[CaptureQueriesContext]:
    """`with count_queries() as queries: ...; assert len(queries) == N`, from an empty cache: what earlier
    requests left there (guanai.core.cached: tokens, role assignments, list totals) would otherwise decide
    how many queries are made."""
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        yield context
