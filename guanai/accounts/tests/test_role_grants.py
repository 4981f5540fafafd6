"""Staff access is granted on request and approval one level up, ended at once and reviewed periodically
(儿童个人信息网络保护规定 art. 15; 未成年人网络保护条例 art. 36–37; 等保 2.0 least privilege)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from guanai.accounts.models import RoleAssignment, RoleGrantRequest, User
from guanai.accounts.selectors import actor_for_user, role_assignments, role_review_due_count
from guanai.accounts.services import (
    role_assign,
    role_end,
    role_grant_request_create,
    role_grant_request_decide,
    role_grant_request_withdraw,
    role_review,
    user_create,
)
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_A, count_queries, create_persona, database_fingerprint, verified_client
from guanai.regions.models import Region

pytestmark = pytest.mark.django_db

PROVINCE = "330000000000"
CITY = "330100000000"  # 杭州市, above county A (淳安县)
TOWNSHIP_A = "330127100000"
REASON = "负责千岛湖镇困境儿童台账的日常维护"


@pytest.fixture
def staff(personas: dict[str, Any]) -> dict[str, Any]:
    city = create_persona("p-city", Role.CITY_ADMIN, CITY, display_name="city_admin")
    peer = create_persona("p-county-a-2", Role.COUNTY_ADMIN, COUNTY_A, display_name="county_a_admin_2")
    newcomer = user_create(username="new-staff", password=None, display_name="新同事")
    return {**personas, "city_admin": city, "county_a_peer": peer, "newcomer": newcomer}


def act(user: User) -> Actor:
    return actor_for_user(user)


def ask(staff: dict[str, Any], requester: str = "county_a_admin", **overrides: Any) -> RoleGrantRequest:
    arguments: dict[str, Any] = {
        "username": "new-staff",
        "role": Role.TOWNSHIP_ADMIN,
        "region_code": TOWNSHIP_A,
        "reason": REASON,
    }
    arguments.update(overrides)
    return role_grant_request_create(actor=act(staff[requester]), **arguments)


def events(after: int = 0) -> list[tuple[str, str, list[str], dict[str, Any]]]:
    return [
        (e.action, e.actor_username, e.changed_fields, e.detail)
        for e in AuditEvent.objects.filter(id__gt=after, action__startswith="account.").order_by("id")
    ]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- Request and approval ------------------------------------------------------------------------------


def test_an_approved_request_creates_exactly_one_assignment_counting_from_the_next_request(
    staff: dict[str, Any],
) -> None:
    newcomer = staff["newcomer"]
    client = Client()
    client.force_login(newcomer)
    assert client.get("/account/users/").status_code == 403  # no role yet (and that answer is remembered)
    grant = ask(staff)
    assert client.get("/account/users/").status_code == 403  # a request grants nothing
    start = last_event_id()

    decided = role_grant_request_decide(
        actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=True
    )

    assignment = RoleAssignment.objects.get(user=newcomer)
    assert (assignment.role, assignment.region_id, assignment.valid_from, assignment.valid_to) == (
        "township_admin",
        TOWNSHIP_A,
        timezone.localdate(),
        None,
    )
    assert (decided.state, decided.decided_by, decided.assignment) == (
        "approved",
        staff["city_admin"],
        assignment,
    )
    assert (assignment.reviewed_by, assignment.reviewed_at is not None) == (staff["city_admin"], True)
    assert client.get("/account/users/").status_code == 200
    assert events(start) == [
        (
            "account.role_assigned",
            "p-city",
            ["role", "region", "valid_from", "valid_to"],
            {
                "user_id": newcomer.pk,
                "role": "township_admin",
                "valid_from": timezone.localdate().isoformat(),
                "valid_to": None,
            },
        ),
        (
            "account.role_request_approved",
            "p-city",
            ["state"],
            {"user_id": newcomer.pk, "role": "township_admin"},
        ),
    ]
    # Deciding again is refused, and nothing more is assigned.
    with pytest.raises(ConflictError) as error:
        role_grant_request_decide(actor=act(staff["province_admin"]), grant_request_id=grant.pk, approve=True)
    assert error.value.message == "该申请已批准，不能再办理"
    assert RoleAssignment.objects.filter(user=newcomer).count() == 1


def test_the_request_is_an_audit_event_naming_fields_never_the_reason(staff: dict[str, Any]) -> None:
    start = last_event_id()
    grant = ask(staff)
    assert (grant.state, grant.requested_by, grant.reason) == ("pending", staff["county_a_admin"], REASON)
    assert events(start) == [
        (
            "account.role_requested",
            "p-county-a",
            ["user", "role", "region", "valid_from", "valid_to", "reason"],
            {"user_id": staff["newcomer"].pk, "role": "township_admin"},
        )
    ]
    event = AuditEvent.objects.get(action="account.role_requested")
    assert (event.region_code, event.target_type, event.target_id) == (
        TOWNSHIP_A,
        "accounts.rolegrantrequest",
        str(grant.pk),
    )
    role_grant_request_decide(
        actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=False, note="另有人选，暂不需要"
    )
    trail = str(list(AuditEvent.objects.values_list("detail", "changed_fields")))
    assert REASON not in trail
    assert "另有人选" not in trail


@pytest.mark.parametrize(
    ("decider", "exception", "message"),
    [
        ("county_a_admin", PermissionDeniedError, "不能审批自己提出的角色申请"),
        ("county_b_admin", NotFoundError, "对象不存在，或不在您的管辖范围内"),
        ("township_worker", PermissionDeniedError, "您当前的角色无权进行此操作"),
    ],
)
def test_a_township_grant_is_not_decided_by_its_requester_below_or_by_another_county(
    staff: dict[str, Any], decider: str, exception: type[Exception], message: str
) -> None:
    grant = ask(staff)
    before = database_fingerprint()
    with pytest.raises(exception) as error:
        role_grant_request_decide(actor=act(staff[decider]), grant_request_id=grant.pk, approve=True)
    assert error.value.message == message  # type: ignore[attr-defined]
    assert database_fingerprint() == before


def test_a_county_grant_is_not_decided_at_the_same_level_nor_below(staff: dict[str, Any]) -> None:
    grant = ask(staff, requester="city_admin", role=Role.COUNTY_ADMIN, region_code=COUNTY_A)
    before = database_fingerprint()
    with pytest.raises(PermissionDeniedError) as error:
        role_grant_request_decide(actor=act(staff["county_a_peer"]), grant_request_id=grant.pk, approve=True)
    assert error.value.message == "角色申请须由上一级管理员审批"
    with pytest.raises(NotFoundError):  # a township admin sees nothing above their township
        role_grant_request_decide(
            actor=act(staff["township_worker"]), grant_request_id=grant.pk, approve=True
        )
    assert database_fingerprint() == before
    # The city made the request, so the province decides.
    role_grant_request_decide(actor=act(staff["province_admin"]), grant_request_id=grant.pk, approve=True)
    assert RoleAssignment.objects.filter(user=staff["newcomer"], role="county_admin").count() == 1


def test_the_grantee_never_approves_their_own_role(staff: dict[str, Any]) -> None:
    grant = ask(staff, username="p-city")  # the city admin would also be a township admin
    before = database_fingerprint()
    with pytest.raises(PermissionDeniedError) as error:
        role_grant_request_decide(actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=True)
    assert error.value.message == "不能审批授予自己的角色"
    assert database_fingerprint() == before


def test_a_province_grant_is_decided_by_another_province_account_manager(staff: dict[str, Any]) -> None:
    grant = ask(staff, requester="system_admin", role=Role.PROVINCE_ADMIN, region_code=PROVINCE)
    with pytest.raises(PermissionDeniedError) as error:
        role_grant_request_decide(actor=act(staff["system_admin"]), grant_request_id=grant.pk, approve=True)
    assert error.value.message == "不能审批自己提出的角色申请"
    with pytest.raises(NotFoundError):
        role_grant_request_decide(actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=True)
    role_grant_request_decide(actor=act(staff["province_admin"]), grant_request_id=grant.pk, approve=True)
    assert list(RoleAssignment.objects.filter(user=staff["newcomer"]).values_list("role", "region_id")) == [
        ("province_admin", PROVINCE)
    ]


def test_the_separated_administrators_are_granted_only_with_a_province_administrators_approval(
    staff: dict[str, Any],
) -> None:
    auditor_grant = ask(staff, requester="province_admin", role=Role.AUDITOR, region_code=PROVINCE)
    before = database_fingerprint()
    with pytest.raises(PermissionDeniedError) as error:
        role_grant_request_decide(
            actor=act(staff["system_admin"]), grant_request_id=auditor_grant.pk, approve=True
        )
    assert error.value.message == "系统管理员、安全管理员和审计管理员的角色只能由省级管理员办理"
    assert database_fingerprint() == before
    security_grant = ask(staff, requester="system_admin", role=Role.SECURITY_ADMIN, region_code=PROVINCE)
    province = staff["province_admin"]
    role_grant_request_decide(actor=act(province), grant_request_id=security_grant.pk, approve=True)
    assert list(RoleAssignment.objects.filter(user=staff["newcomer"]).values_list("role", flat=True)) == [
        "security_admin"
    ]
    # The same person never holds two of the three (checked again on approval).
    role_grant_request_withdraw(actor=act(province), grant_request_id=auditor_grant.pk)
    with pytest.raises(ValidationFailed) as refused:
        ask(staff, requester="province_admin", role=Role.AUDITOR, region_code=PROVINCE)
    assert refused.value.fields == {
        "role": ["系统管理员、安全管理员和审计管理员须由不同人员担任：该用户已是安全管理员"]
    }


def test_declining_needs_a_reason(staff: dict[str, Any]) -> None:
    grant = ask(staff)
    with pytest.raises(ValidationFailed) as error:
        role_grant_request_decide(
            actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=False, note=" "
        )
    assert error.value.fields == {"note": ["请填写拒绝理由"]}
    assert RoleGrantRequest.objects.get().state == "pending"
    start = last_event_id()
    role_grant_request_decide(
        actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=False, note="岗位已满"
    )
    declined = RoleGrantRequest.objects.get()
    assert (declined.state, declined.decision_note, declined.assignment) == ("declined", "岗位已满", None)
    assert not RoleAssignment.objects.filter(user=staff["newcomer"]).exists()
    assert events(start) == [
        (
            "account.role_request_declined",
            "p-city",
            ["state", "decision_note"],
            {"user_id": staff["newcomer"].pk, "role": "township_admin"},
        )
    ]


def test_a_second_pending_request_for_the_same_role_and_region_is_refused(staff: dict[str, Any]) -> None:
    ask(staff)
    with pytest.raises(ConflictError) as error:
        ask(staff, requester="province_admin", reason="另一个理由")
    assert error.value.message == "该用户在该区划已有同一角色的待审批申请"
    assert RoleGrantRequest.objects.count() == 1
    # Withdrawn, it may be asked again.
    role_grant_request_withdraw(
        actor=act(staff["county_a_admin"]), grant_request_id=RoleGrantRequest.objects.get().pk
    )
    ask(staff, requester="province_admin", reason="另一个理由")
    assert list(RoleGrantRequest.objects.order_by("id").values_list("state", flat=True)) == [
        "withdrawn",
        "pending",
    ]


@pytest.mark.parametrize(
    ("requester", "overrides", "exception", "expected"),
    [
        (
            "county_a_admin",
            {"region_code": "330182001000"},
            ValidationFailed,
            {"region": ["该区划不在您的管辖范围内"]},
        ),
        ("county_a_admin", {"reason": "  "}, ValidationFailed, {"reason": ["请说明此人需要该角色的理由"]}),
        ("county_a_admin", {"username": "nobody"}, ValidationFailed, {"username": ["用户不存在或已停用"]}),
        (
            "county_a_admin",
            {"region_code": COUNTY_A},
            ValidationFailed,
            {"region": ["乡镇(街道)管理员 只能分配在乡镇(街道)级区划"]},
        ),
        (
            "county_a_admin",
            {"valid_from": datetime.date(2020, 1, 1)},
            ValidationFailed,
            {"valid_from": ["生效日期不能早于今天"]},
        ),
        ("township_worker", {}, PermissionDeniedError, {}),
        ("auditor", {}, PermissionDeniedError, {}),
    ],
)
def test_a_request_is_refused_outside_the_requesters_powers_or_the_assignments_rules(
    staff: dict[str, Any],
    requester: str,
    overrides: dict[str, Any],
    exception: type[Exception],
    expected: Any,
) -> None:
    with pytest.raises(exception) as error:
        ask(staff, requester=requester, **overrides)
    assert error.value.fields == expected  # type: ignore[attr-defined]
    assert not RoleGrantRequest.objects.exists()


def test_a_role_already_held_is_not_requested_again(staff: dict[str, Any]) -> None:
    with pytest.raises(ConflictError) as error:
        ask(staff, username="p-township")
    assert error.value.message == "该用户已持有该角色"


# --- Ending ----------------------------------------------------------------------------------------------


def test_ending_a_role_counts_from_the_next_request_and_is_audited(staff: dict[str, Any]) -> None:
    worker = staff["township_worker"]
    client = Client()
    client.force_login(worker)
    for _ in range(2):  # the second is answered from the remembered assignments
        assert client.get("/account/users/").status_code == 200
    assignment = RoleAssignment.objects.get(user=worker)
    start = last_event_id()
    role_end(actor=act(staff["county_a_admin"]), assignment_id=assignment.pk, reason="调离乡镇关工委")
    assert client.get("/account/users/").status_code == 403
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = RoleAssignment.objects.get(pk=assignment.pk)
    assert (ended.valid_to, ended.end_reason) == (yesterday, "调离乡镇关工委")
    assert events(start) == [
        (
            "account.role_ended",
            "p-county-a",
            ["valid_to", "end_reason"],
            {"user_id": worker.pk, "role": "township_admin"},
        )
    ]
    assert "调离" not in str(list(AuditEvent.objects.values_list("detail", "changed_fields")))
    with pytest.raises(ConflictError) as error:
        role_end(actor=act(staff["county_a_admin"]), assignment_id=assignment.pk, reason="再次结束")
    assert error.value.message == "该角色已结束"
    # The same role may be granted again later: a new assignment, the ended one kept as history.
    grant = ask(staff, username="p-township")
    role_grant_request_decide(actor=act(staff["city_admin"]), grant_request_id=grant.pk, approve=True)
    assert RoleAssignment.objects.filter(user=worker).count() == 2
    assert client.get("/account/users/").status_code == 200


def test_a_role_granted_today_ends_as_a_period_of_yesterday(staff: dict[str, Any]) -> None:
    today = timezone.localdate()
    assignment = role_assign(
        user=staff["newcomer"], role=Role.VOLUNTEER, region=Region.objects.get(code=TOWNSHIP_A)
    )
    assert assignment.valid_from == today
    role_end(actor=act(staff["county_a_admin"]), assignment_id=assignment.pk, reason="误授")
    ended = RoleAssignment.objects.get(pk=assignment.pk)
    yesterday = today - datetime.timedelta(days=1)
    assert (ended.valid_from, ended.valid_to) == (yesterday, yesterday)
    assert not RoleAssignment.objects.valid_on(today).filter(pk=assignment.pk).exists()


def test_ending_needs_a_reason_and_never_ones_own_last_account_managing_role(staff: dict[str, Any]) -> None:
    admin = staff["county_a_admin"]
    own = RoleAssignment.objects.get(user=admin)
    with pytest.raises(ValidationFailed) as missing:
        role_end(
            actor=act(admin),
            assignment_id=RoleAssignment.objects.get(user=staff["township_worker"]).pk,
            reason="",
        )
    assert missing.value.fields == {"reason": ["请填写结束角色的理由"]}
    with pytest.raises(ConflictError) as error:
        role_end(actor=act(admin), assignment_id=own.pk, reason="离任")
    assert error.value.message == "这是您唯一的账号管理角色，不能自行结束；请由其他管理员办理"
    assert RoleAssignment.objects.get(pk=own.pk).valid_to is None
    role_end(actor=act(staff["county_a_peer"]), assignment_id=own.pk, reason="离任")  # a colleague may
    assert RoleAssignment.objects.get(pk=own.pk).valid_to is not None


def test_the_separated_roles_are_ended_only_by_a_province_administrator(staff: dict[str, Any]) -> None:
    auditor = RoleAssignment.objects.get(user=staff["auditor"])
    with pytest.raises(PermissionDeniedError) as error:
        role_end(actor=act(staff["system_admin"]), assignment_id=auditor.pk, reason="不需要了")
    assert error.value.message == "系统管理员、安全管理员和审计管理员的角色只能由省级管理员办理"
    role_end(actor=act(staff["province_admin"]), assignment_id=auditor.pk, reason="换届")
    assert RoleAssignment.objects.get(pk=auditor.pk).valid_to is not None


# --- The periodic review -----------------------------------------------------------------------------


def start_of_day(day: datetime.date, hour: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@override_settings(GUANAI_ROLE_REVIEW_DAYS=180)
def test_a_review_is_due_after_more_than_the_review_period(staff: dict[str, Any]) -> None:
    county = act(staff["county_a_admin"])
    worker = RoleAssignment.objects.get(user=staff["township_worker"])
    today = timezone.localdate()
    due = {a.pk for a in role_assignments(actor=county, due_only=True)}
    assert worker.pk in due  # never reviewed
    RoleAssignment.objects.filter(pk=worker.pk).update(
        reviewed_at=start_of_day(today - datetime.timedelta(days=180)), reviewed_by=staff["county_a_admin"]
    )
    assert worker.pk not in {a.pk for a in role_assignments(actor=county, due_only=True)}  # exactly N days
    RoleAssignment.objects.filter(pk=worker.pk).update(
        reviewed_at=start_of_day(today - datetime.timedelta(days=181), hour=23)
    )
    assert worker.pk in {a.pk for a in role_assignments(actor=county, due_only=True)}  # N + 1 days


def test_reviewing_confirms_the_role_and_restarts_its_clock(staff: dict[str, Any]) -> None:
    county = act(staff["county_a_admin"])
    worker = RoleAssignment.objects.get(user=staff["township_worker"])
    in_county = {
        a.user.username for a in role_assignments(actor=county, due_only=True)
    }  # every persona of the county, never reviewed
    assert in_county == {
        "p-county-a",
        "p-county-a-2",
        "p-township",
        "p-volunteer",
        "p-lawyer",
        "p-counsellor",
    }
    assert role_review_due_count(actor=county) == 6
    start = last_event_id()
    reviewed = role_review(actor=county, assignment_id=worker.pk)
    assert reviewed.reviewed_by == staff["county_a_admin"]
    assert role_review_due_count(actor=county) == 5
    assert events(start) == [
        (
            "account.role_reviewed",
            "p-county-a",
            ["reviewed_at", "reviewed_by"],
            {"user_id": staff["township_worker"].pk, "role": "township_admin"},
        )
    ]
    with pytest.raises(PermissionDeniedError) as error:
        role_review(actor=county, assignment_id=RoleAssignment.objects.get(user=staff["county_a_admin"]).pk)
    assert error.value.message == "不能复核自己的角色"


# --- Another county, pages, buttons -------------------------------------------------------------------


def test_another_countys_admin_gets_404_on_every_service_and_page(staff: dict[str, Any]) -> None:
    grant = ask(staff)
    worker = RoleAssignment.objects.get(user=staff["township_worker"])
    outsider = act(staff["county_b_admin"])
    client = verified_client(staff["county_b_admin"])
    before = database_fingerprint()
    calls = [
        lambda: role_grant_request_decide(actor=outsider, grant_request_id=grant.pk, approve=True),
        lambda: role_grant_request_decide(actor=outsider, grant_request_id=grant.pk, approve=False, note="x"),
        lambda: role_grant_request_withdraw(actor=outsider, grant_request_id=grant.pk),
        lambda: role_end(actor=outsider, assignment_id=worker.pk, reason="x"),
        lambda: role_review(actor=outsider, assignment_id=worker.pk),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()
    pages = [
        ("get", f"/account/roles/requests/{grant.pk}/", {}),
        ("post", f"/account/roles/requests/{grant.pk}/", {"decision": "approve"}),
        ("post", f"/account/roles/requests/{grant.pk}/withdraw/", {}),
        ("get", f"/account/roles/{worker.pk}/end/", {}),
        ("post", f"/account/roles/{worker.pk}/end/", {"reason": "x"}),
        ("get", f"/account/roles/{worker.pk}/review/", {}),
        ("post", f"/account/roles/{worker.pk}/review/", {}),
    ]
    for method, path, data in pages:
        assert getattr(client, method)(path, data).status_code == 404, (method, path)
    for path in ("/account/roles/", "/account/roles/review/", "/account/roles/requests/"):
        html = client.get(path).content.decode()
        assert "p-township" not in html, path
        assert "新同事" not in html, path
    assert database_fingerprint() == before


def test_only_those_who_may_decide_see_the_buttons_and_the_page_decides(staff: dict[str, Any]) -> None:
    grant = ask(staff)
    requester = verified_client(staff["county_a_admin"])
    city = verified_client(staff["city_admin"])
    listing = requester.get("/account/roles/requests/").content.decode()
    assert REASON in listing
    assert 'id="grant-approve"' not in requester.get(f"/account/roles/requests/{grant.pk}/").content.decode()
    assert 'id="grant-withdraw"' in requester.get(f"/account/roles/requests/{grant.pk}/").content.decode()
    assert requester.post(f"/account/roles/requests/{grant.pk}/", {"decision": "approve"}).status_code == 403
    page = city.get(f"/account/roles/requests/{grant.pk}/").content.decode()
    assert 'id="grant-approve"' in page
    assert 'id="grant-decline"' in page
    refused = city.post(f"/account/roles/requests/{grant.pk}/", {"decision": "decline", "note": ""})
    assert refused.status_code == 400
    assert "请填写拒绝理由" in refused.content.decode()
    response = city.post(f"/account/roles/requests/{grant.pk}/", {"decision": "approve"})
    assert (response.status_code, response["Location"]) == (302, "/account/roles/requests/")
    assert RoleGrantRequest.objects.get().state == "approved"
    assert RoleAssignment.objects.filter(user=staff["newcomer"]).count() == 1


def test_the_request_form_end_and_review_pages_act_through_the_services(staff: dict[str, Any]) -> None:
    client = verified_client(staff["county_a_admin"])
    assert client.get("/account/roles/requests/new/").status_code == 200
    response = client.post(
        "/account/roles/requests/new/",
        {"username": "new-staff", "role": "township_admin", "region": TOWNSHIP_A, "reason": REASON},
    )
    grant = RoleGrantRequest.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/account/roles/requests/{grant.pk}/")
    again = client.post(
        "/account/roles/requests/new/",
        {"username": "new-staff", "role": "township_admin", "region": TOWNSHIP_A, "reason": REASON},
    )
    assert "该用户在该区划已有同一角色的待审批申请" in again.content.decode()
    worker = RoleAssignment.objects.get(user=staff["township_worker"])
    roles_page = client.get("/account/roles/?role=township_admin&due=on").content.decode()
    assert "p-township" in roles_page
    assert "p-volunteer" not in roles_page
    assert client.post(f"/account/roles/{worker.pk}/review/").status_code == 302
    assert "p-township" not in client.get("/account/roles/review/").content.decode()
    assert "请填写结束角色的理由" not in client.get(f"/account/roles/{worker.pk}/end/").content.decode()
    assert client.post(f"/account/roles/{worker.pk}/end/", {"reason": ""}).status_code == 200
    assert RoleAssignment.objects.get(pk=worker.pk).valid_to is None
    assert client.post(f"/account/roles/{worker.pk}/end/", {"reason": "调离"}).status_code == 302
    assert RoleAssignment.objects.get(pk=worker.pk).valid_to is not None


def test_the_home_page_counts_the_roles_due_for_review(staff: dict[str, Any]) -> None:
    html = verified_client(staff["county_a_admin"]).get("/").content.decode()
    assert 'data-count="roles-due-for-review">6<' in html
    assert "roles-due-for-review" not in verified_client(staff["auditor"]).get("/").content.decode()


def test_the_role_pages_use_a_fixed_number_of_queries(staff: dict[str, Any]) -> None:
    client = verified_client(staff["county_a_admin"])
    pages = ("/account/roles/", "/account/roles/review/", "/account/roles/requests/")
    for page in pages:
        client.get(page)  # warm the session and the remembered assignments
    ask(staff)
    with count_queries() as few:
        for page in pages:
            assert client.get(page).status_code == 200
    for index in range(5):
        user = user_create(username=f"clerk-{index}", password=None, display_name=f"办事员{index}")
        role_assign(user=user, role=Role.VOLUNTEER, region=Region.objects.get(code=TOWNSHIP_A))
        ask(staff, username=f"clerk-{index}")
    client.get(pages[0])  # the assignments' table changed: remembered again once
    with count_queries() as many:
        for page in pages:
            assert client.get(page).status_code == 200
    assert len(many) == len(few)
