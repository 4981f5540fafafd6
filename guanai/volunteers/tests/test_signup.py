"""The public sign-up of 五老 volunteers: the code sent by SMS, the township's review (approve with an
account that signs in by SMS code, return with a reason, correct and resubmit), invitations, and who may
reach each page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanai.accounts.models import RoleAssignment, SmsCode, User
from guanai.accounts.selectors import actor_for_user, mobile_digest
from guanai.accounts.services import user_create
from guanai.accounts.sms import ConsoleSmsBackend
from guanai.audit.models import AuditEvent
from guanai.core.access import Actor, Role
from guanai.core.crypto import sm3_hex
from guanai.core.errors import PermissionDeniedError, ValidationFailed
from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.minors.tests.factories import COMMUNITY_A, COMMUNITY_B, COUNTY_A_PREFIX, VILLAGE_A, make_id_number
from guanai.volunteers.models import Invitation, Volunteer
from guanai.volunteers.services import VolunteerInput
from guanai.volunteers.signup import (
    InvitationUnusable,
    _use_invitation,
    invitation_create,
    invitation_resolve,
    signup_code_digest,
    signup_submit,
)
from guanai.volunteers.tests.factories import VolunteerFactory
from guanai.volunteers.vocabulary import (
    ElderCategory,
    Source,
    Specialty,
    Status,
    availability_bit,
)

pytestmark = pytest.mark.django_db

ELDER_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1952, 3, 8), 15)  # a man, born in 淳安县
SPOUSE_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(1954, 10, 2), 26)  # a woman
ELDER_MOBILE = "13905710001"
QIANDAOHU = "330127100000"  # 千岛湖镇
WEEKEND_DAYTIME = sum(availability_bit(day, part) for day in (5, 6) for part in (0, 1))
EVENINGS = sum(availability_bit(day, 2) for day in range(7))


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    ConsoleSmsBackend.outbox.clear()


@pytest.fixture
def actors(personas: dict[str, Any]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


def sent_code(mobile: str = ELDER_MOBILE) -> str:
    """The code in the newest message to `mobile`."""
    message = next(text for number, text in reversed(ConsoleSmsBackend.outbox) if number == mobile)
    match = re.search(r"验证码为 (\d{6})", message)
    assert match is not None, message
    return match.group(1)


def send_code(client: Client, mobile: str = ELDER_MOBILE) -> str:
    response = client.post("/join/code/", {"phone": mobile})
    assert response.status_code == 200
    return response.content.decode()


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "王建国",
        "id_number": ELDER_ID,
        "phone": ELDER_MOBILE,
        "code": "",
        "county": "330127000000",
        "township": QIANDAOHU,
        "region_code": VILLAGE_A,
        "categories": [str(int(ElderCategory.TEACHER)), str(int(ElderCategory.VETERAN))],
        "specialties": [str(int(Specialty.TEACHING)), str(int(Specialty.LAW))],
        "law_licence_number": "13301201010001",
        "psychology_certificate": "",
        "teaching_subjects": "语文",
        "availability": ["weekend_daytime", "evenings"],
        "max_children": "2",
        "shows_on_honour_roll": "on",
        "consent": "on",
        "action": "submit",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def sign_up(client: Client | None = None, **overrides: Any) -> Volunteer:
    """A complete sign-up through the page: code sent, typed in, form submitted."""
    client = client or Client()
    mobile = overrides.get("phone", ELDER_MOBILE)
    send_code(client, mobile)
    response = client.post("/join/", form(code=sent_code(mobile), **overrides))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response["Location"] == "/join/done/"
    return Volunteer.objects.get(name=overrides.get("name", "王建国"))


def errors_of(response: Any) -> dict[str, str]:
    """The text of each error slot that holds an error, by field name."""
    found = re.findall(
        r'id="error-([\w-]+)"[^>]*>(.*?)</div>\s*(?:</div>|</fieldset>|$)', response.content.decode(), re.S
    )
    return {name: re.sub(r"<[^>]+>", "", text).strip() for name, text in found if text.strip()}


# --- The code sent by SMS ------------------------------------------------------------------------


def test_a_code_is_sent_and_only_digests_bound_to_the_sign_up_are_stored(regions: None) -> None:
    page = send_code(Client())
    assert 'id="code-sent"' in page
    assert "验证码已发送到 139****0001，5 分钟内有效" in page
    assert ConsoleSmsBackend.outbox[-1][0] == ELDER_MOBILE
    assert "五老志愿者报名验证码为" in ConsoleSmsBackend.outbox[-1][1]
    code = sent_code()
    stored = SmsCode.objects.get()
    assert stored.mobile_digest == signup_code_digest(ELDER_MOBILE)
    assert stored.mobile_digest != mobile_digest(ELDER_MOBILE)  # not a sign-in code
    assert stored.code_digest == sm3_hex(f"{stored.mobile_digest}:{code}")
    assert ELDER_MOBILE not in stored.mobile_digest
    assert code not in stored.code_digest
    event = AuditEvent.objects.get(action="auth.sms_code_sent")
    assert (event.actor_username, event.detail) == ("", {"purpose": "volunteer_signup"})


def test_a_malformed_number_gets_no_code(regions: None) -> None:
    page = send_code(Client(), "2390571000")
    assert "没有发送：手机号码应为以 1 开头的 11 位数字" in page
    assert ConsoleSmsBackend.outbox == []
    assert SmsCode.objects.count() == 0


def test_the_code_button_works_without_javascript_and_keeps_what_was_typed(regions: None) -> None:
    response = Client().post("/join/", form(action="send_code", consent=None))
    assert response.status_code == 200
    page = response.content.decode()
    assert "验证码已发送到 139****0001" in page
    assert 'value="王建国"' in page
    assert errors_of(response) == {}  # nothing is judged before the form is sent
    assert len(ConsoleSmsBackend.outbox) == 1
    assert Volunteer.objects.count() == 0


def test_sending_is_rate_limited_per_number_together_with_sign_in_codes(regions: None) -> None:
    user_create(username="li", password=None, mobile=ELDER_MOBILE)
    Client().post("/account/sms-login/", {"mobile": ELDER_MOBILE, "action": "send"})
    answers = [send_code(Client(REMOTE_ADDR=f"10.0.0.{n}")) for n in range(5)]
    assert ['id="code-sent"' in answer for answer in answers] == [True] * 4 + [False]
    assert "没有发送：验证码发送过于频繁，请稍后再试。" in answers[-1]
    assert len(ConsoleSmsBackend.outbox) == 5  # one sign-in code and four sign-up codes


def test_sending_is_rate_limited_per_address(regions: None) -> None:
    client = Client(REMOTE_ADDR="10.0.0.9")
    answers = [send_code(client, f"139057100{n:02d}") for n in range(21)]
    assert ['id="code-sent"' in answer for answer in answers] == [True] * 20 + [False]
    assert len(ConsoleSmsBackend.outbox) == 20


def test_a_sign_up_code_does_not_sign_anyone_in(regions: None) -> None:
    user_create(username="zhao", password=None, mobile=ELDER_MOBILE)
    send_code(Client())
    response = Client().post(
        "/account/sms-login/", {"mobile": ELDER_MOBILE, "sms_code": sent_code(), "action": "login"}
    )
    assert response.status_code == 200
    assert "验证码不正确或已过期" in response.content.decode()


# --- Signing up ----------------------------------------------------------------------------------


def test_a_sign_up_is_accepted_with_the_code_and_waits_for_review(regions: None) -> None:
    client = Client()
    send_code(client)
    response = client.post("/join/", form(code=sent_code()))
    assert response.status_code == 302
    assert response["Location"] == "/join/done/"
    volunteer = Volunteer.objects.get()
    assert (volunteer.name, volunteer.region_id, volunteer.status, volunteer.source) == (
        "王建国",
        VILLAGE_A,
        Status.APPLYING,
        Source.SIGNUP,
    )
    assert (volunteer.id_number, volunteer.phone) == (ELDER_ID, ELDER_MOBILE)
    assert (volunteer.birth_date, volunteer.gender) == (datetime.date(1952, 3, 8), "male")
    assert volunteer.categories == ElderCategory.TEACHER | ElderCategory.VETERAN
    assert volunteer.specialties == Specialty.TEACHING | Specialty.LAW
    assert (volunteer.law_licence_number, volunteer.teaching_subjects) == ("13301201010001", "语文")
    assert volunteer.availability == WEEKEND_DAYTIME | EVENINGS
    assert (volunteer.max_children, volunteer.shows_on_honour_roll) == (2, True)
    assert (volunteer.user, volunteer.joined_on, volunteer.reviewed_by, volunteer.created_by) == (
        None,
        None,
        None,
        None,
    )
    assert volunteer.status_changed_on == timezone.localdate()
    event = AuditEvent.objects.get(action="volunteer.signup")
    assert (event.actor_user_id, event.target_id, event.region_code) == (None, str(volunteer.pk), VILLAGE_A)
    assert event.detail == {
        "source": "signup",
        "invitation": None,
        "notice_version": "volunteer-signup-2026-1",
    }
    assert "id_number" in event.changed_fields
    assert ELDER_ID not in str(event.detail)
    done = client.get("/join/done/").content.decode()
    assert "报名已提交，谢谢您！" in done
    assert "审核通过后，我们会给您报名时的手机号发短信" in done


def test_a_sign_up_without_the_code_or_with_a_wrong_one_is_refused(regions: None) -> None:
    client = Client()
    response = client.post("/join/", form())
    assert errors_of(response) == {"code": "请填写短信验证码"}
    send_code(client)
    wrong = "000000" if sent_code() != "000000" else "111111"
    response = client.post("/join/", form(code=wrong))
    assert response.status_code == 200
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    assert Volunteer.objects.count() == 0
    assert SmsCode.objects.get().attempts == 1


def test_a_code_sent_to_another_number_does_not_prove_this_one(regions: None) -> None:
    client = Client()
    send_code(client, "13905710002")
    response = client.post("/join/", form(code=sent_code("13905710002")))
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    assert Volunteer.objects.count() == 0


def test_an_expired_code_is_refused(regions: None) -> None:
    client = Client()
    send_code(client)
    code = sent_code()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=False):
        response = client.post("/join/", form(code=code))
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    assert Volunteer.objects.count() == 0


def test_five_wrong_tries_use_up_the_code(regions: None) -> None:
    client = Client()
    send_code(client)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/join/", form(code=wrong))
    response = client.post("/join/", form(code=code))
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    assert Volunteer.objects.count() == 0
    assert SmsCode.objects.get().attempts == 5


def test_field_errors_are_shown_together_and_leave_the_code_unused(regions: None) -> None:
    client = Client()
    send_code(client)
    code = sent_code()
    response = client.post(
        "/join/",
        form(
            code=code,
            name="",
            region_code="",
            specialties=[str(int(Specialty.PSYCHOLOGY))],
            consent=None,
        ),
    )
    assert errors_of(response) == {
        "name": "这个字段是必填项。",
        "region_code": "请选择您居住的村（社区）",
        "consent": "请阅读并同意个人信息处理告知后再提交",
    }
    response = client.post("/join/", form(code=code, specialties=[str(int(Specialty.PSYCHOLOGY))]))
    assert errors_of(response) == {"psychology_certificate": "心理专长须填写心理咨询资质证书"}
    assert SmsCode.objects.get().used_at is None
    sign_up(client, specialties=[str(int(Specialty.PSYCHOLOGY))], psychology_certificate="心理咨询师二级")


def test_a_person_under_eighteen_cannot_sign_up(regions: None) -> None:
    child_id = make_id_number(COUNTY_A_PREFIX, datetime.date(2012, 5, 1), 17)
    client = Client()
    send_code(client)
    response = client.post("/join/", form(code=sent_code(), id_number=child_id))
    assert errors_of(response) == {"id_number": "志愿者须年满 18 周岁"}


def test_an_id_number_on_record_is_refused_but_only_after_the_code(regions: None) -> None:
    VolunteerFactory.create(id_number=ELDER_ID, region_id=COMMUNITY_A)
    client = Client()
    send_code(client)
    wrong = "000000" if sent_code() != "000000" else "111111"
    response = client.post("/join/", form(code=wrong))
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    assert "已在淳安县登记" not in response.content.decode()
    response = client.post("/join/", form(code=sent_code()))
    assert errors_of(response) == {"id_number": "已在淳安县登记"}
    assert Volunteer.objects.count() == 1


def test_a_public_sign_up_cannot_record_its_own_background_check(regions: None) -> None:
    client = Client()
    send_code(client)
    data = VolunteerInput(
        name="王建国",
        region_code=VILLAGE_A,
        id_number=ELDER_ID,
        phone=ELDER_MOBILE,
        check_date=datetime.date(2026, 1, 1),
        check_result="clear",
        check_by="自己",
        latitude=Decimal("29.6"),
        longitude=Decimal("119.0"),
    )
    volunteer = signup_submit(data=data, code=sent_code())
    assert (volunteer.check_date, volunteer.check_result, volunteer.check_by) == (None, "", "")
    assert (volunteer.latitude, volunteer.longitude) == (None, None)


def test_the_sign_up_page_is_in_elder_mode_unless_switched_off(regions: None) -> None:
    client = Client()
    page = client.get("/join/").content.decode()
    assert '<html lang="zh-hans" class="elder-mode">' in page
    assert "第 1 步：您的姓名和身份证号" in page
    assert "个人信息处理告知" in page
    client.post("/preferences/elder-mode/", {"enabled": "0", "next": "/join/"})
    assert 'class="elder-mode"' not in client.get("/join/").content.decode()


def test_the_village_chooser_fills_each_level_below_the_one_chosen(regions: None) -> None:
    client = Client()
    page = client.get("/join/").content.decode()
    assert re.findall(r'<optgroup label="([^"]+)">', page) == ["杭州市", "宁波市"]
    assert '<option value="330127000000">淳安县</option>' in page
    page = client.get("/join/regions/", {"county": "330127000000"}).content.decode()
    assert re.findall(r'<option value="(\d{12})"', page) == [
        "330127000000",
        "330182000000",
        "330212000000",
        QIANDAOHU,
    ]
    page = client.get(
        "/join/regions/", {"county": "330127000000", "township": QIANDAOHU, "region_code": VILLAGE_A}
    ).content.decode()
    assert f'<option value="{VILLAGE_A}" selected>富城村村民委员会</option>' in page
    assert f'<option value="{COMMUNITY_A}">青城社区</option>' in page
    # A township that is not in the county chosen is dropped, and the villages with it.
    page = client.get(
        "/join/regions/", {"county": "330182000000", "township": QIANDAOHU, "region_code": VILLAGE_A}
    ).content.decode()
    assert '<option value="330182001000">新安江街道</option>' in page
    assert VILLAGE_A not in page


# --- The township's review -----------------------------------------------------------------------


ACCOUNT_FIELDS = ["username", "display_name", "mobile"]
ROLE_FIELDS = ["role", "region", "valid_from", "valid_to"]


def test_approving_gives_an_account_that_signs_in_by_sms_code(
    regions: None,
    clients: dict[str, Client],
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    volunteer = sign_up()
    ConsoleSmsBackend.outbox.clear()
    queue = clients["township_worker"].get("/volunteers/applications/").content.decode()
    assert "待审核 1 人" in queue
    assert "王建国" in queue
    assert ELDER_ID[:6] + "********" + ELDER_ID[-4:] in queue
    assert "139****0001" in queue
    assert ELDER_ID not in queue
    assert ELDER_MOBILE not in queue
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["township_worker"].post(f"/volunteers/applications/{volunteer.pk}/approve/")
    assert response.status_code == 302
    volunteer.refresh_from_db()
    today = timezone.localdate()
    assert (volunteer.status, volunteer.joined_on, volunteer.status_changed_on) == (
        Status.ACTIVE,
        today,
        today,
    )
    assert volunteer.reviewed_by == personas["township_worker"]
    assert volunteer.reviewed_at is not None
    user = volunteer.user
    assert user is not None
    assert (user.username, user.mobile, user.display_name) == (
        f"volunteer-{volunteer.pk}",
        ELDER_MOBILE,
        "王建国",
    )
    assert (user.has_usable_password(), user.elder_mode) == (False, True)
    assert list(RoleAssignment.objects.filter(user=user).values_list("role", "region_id")) == [
        (Role.VOLUNTEER, VILLAGE_A)
    ]
    assert [number for number, _message in ConsoleSmsBackend.outbox] == [ELDER_MOBILE]
    assert "您的五老志愿者报名已通过审核" in ConsoleSmsBackend.outbox[0][1]
    event = AuditEvent.objects.get(action="volunteer.signup_approved")
    assert (event.actor_username, event.target_id, event.detail) == (
        "p-township",
        str(volunteer.pk),
        {"account": "created"},
    )
    # The account and its role are audit events of the approver, with field names and never the number.
    assignment = RoleAssignment.objects.get(user=user)
    account_events = AuditEvent.objects.filter(id__gt=before, action__startswith="account.").order_by("id")
    assert [
        (e.action, e.actor_username, e.target_type, e.target_id, e.region_code, e.changed_fields)
        for e in account_events
    ] == [
        ("account.create", "p-township", "accounts.user", str(user.pk), "330127100000", ACCOUNT_FIELDS),
        (
            "account.role_assigned",
            "p-township",
            "accounts.roleassignment",
            str(assignment.pk),
            VILLAGE_A,
            ROLE_FIELDS,
        ),
    ]
    assert ELDER_MOBILE not in str(list(AuditEvent.objects.values_list("detail", flat=True)))
    # The volunteer signs in with the phone and a code, and finds their page.
    elder = Client()
    elder.post("/account/sms-login/", {"mobile": ELDER_MOBILE, "action": "send"})
    code = re.search(r"验证码为 (\d{6})", ConsoleSmsBackend.outbox[-1][1])
    assert code is not None
    response = elder.post(
        "/account/sms-login/",
        {"mobile": ELDER_MOBILE, "sms_code": code.group(1), "action": "login", "next": "/me/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    page = elder.get("/me/").content.decode()
    assert "王建国，您好！" in page
    assert "累计 0 小时" in page


def test_approving_links_the_account_that_already_has_the_number(
    regions: None, clients: dict[str, Client]
) -> None:
    existing = user_create(username="wang-existing", password=None, mobile=ELDER_MOBILE)
    volunteer = sign_up()
    clients["township_worker"].post(f"/volunteers/applications/{volunteer.pk}/approve/")
    volunteer.refresh_from_db()
    assert volunteer.user == existing
    assert User.objects.filter(mobile_index=mobile_digest(ELDER_MOBILE)).count() == 1
    assert list(existing.assignments.values_list("role", "region_id")) == [(Role.VOLUNTEER, VILLAGE_A)]
    assert existing.elder_mode is False  # an existing account keeps its own preference
    assert AuditEvent.objects.get(action="volunteer.signup_approved").detail == {"account": "linked"}


def test_a_shared_phone_gives_the_second_spouse_no_account(regions: None, clients: dict[str, Client]) -> None:
    husband = sign_up()
    wife = sign_up(name="李秀英", id_number=SPOUSE_ID)
    assert (husband.phone, wife.phone) == (ELDER_MOBILE, ELDER_MOBILE)
    clients["township_worker"].post(f"/volunteers/applications/{husband.pk}/approve/")
    response = clients["township_worker"].post(f"/volunteers/applications/{wife.pk}/approve/", follow=True)
    assert "已通过：李秀英。未开通登录账号" in response.content.decode()
    wife.refresh_from_db()
    assert (wife.status, wife.user) == (Status.ACTIVE, None)
    details = AuditEvent.objects.filter(action="volunteer.signup_approved").order_by("id")
    assert [event.detail for event in details] == [{"account": "created"}, {"account": "mobile_taken"}]


def test_return_with_a_reason_then_the_applicant_corrects_and_resubmits(
    regions: None, clients: dict[str, Client], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = Client()
    volunteer = sign_up(applicant)
    township = clients["township_worker"]
    response = township.post(f"/volunteers/applications/{volunteer.pk}/return/", {"reason": ""}, follow=True)
    assert "请填写退回原因" in response.content.decode()
    # Another county's administrator is not told that a reason is missing: there is no such application.
    other = clients["county_b_admin"].post(f"/volunteers/applications/{volunteer.pk}/return/", {"reason": ""})
    assert other.status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        township.post(
            f"/volunteers/applications/{volunteer.pk}/return/", {"reason": "请选择实际居住的青城社区"}
        )
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.return_reason, volunteer.version) == (
        Status.APPLYING,
        "请选择实际居住的青城社区",
        2,
    )
    assert "需要补充修改" in ConsoleSmsBackend.outbox[-1][1]
    queue = township.get("/volunteers/applications/").content.decode()
    assert "待审核 0 人" in queue
    assert "已退回，等待本人修改" in queue
    # A returned sign-up cannot be approved until it comes back.
    response = township.post(f"/volunteers/applications/{volunteer.pk}/approve/", follow=True)
    assert "该报名已退回，待本人修改后重新提交" in response.content.decode()

    # The applicant looks it up with the phone and a code, sees the reason and corrects it.
    assert applicant.get(f"/join/status/{volunteer.pk}/edit/")["Location"] == "/join/status/"
    applicant.post("/join/status/", {"phone": ELDER_MOBILE, "action": "send_code"})
    response = applicant.post(
        "/join/status/", {"phone": ELDER_MOBILE, "code": sent_code(), "action": "verify"}
    )
    assert response["Location"] == "/join/status/"
    page = applicant.get("/join/status/").content.decode()
    assert 'data-state="returned">已退回</strong>' in page
    assert "退回原因：请选择实际居住的青城社区" in page
    edit = applicant.get(f"/join/status/{volunteer.pk}/edit/").content.decode()
    assert "手机号：139****0001（已验证，不用修改）" in edit
    assert f'<option value="{VILLAGE_A}" selected>' in edit
    response = applicant.post(
        f"/join/status/{volunteer.pk}/edit/", form(phone=None, region_code=COMMUNITY_A, max_children="3")
    )
    assert response.status_code == 302
    assert response["Location"] == "/join/status/"
    volunteer.refresh_from_db()
    assert (volunteer.region_id, volunteer.max_children, volunteer.return_reason, volunteer.version) == (
        COMMUNITY_A,
        3,
        "",
        3,
    )
    assert (volunteer.phone, volunteer.status) == (ELDER_MOBILE, Status.APPLYING)
    event = AuditEvent.objects.filter(action="volunteer.signup").order_by("id").last()
    assert event is not None
    assert event.detail["resubmitted"] is True
    assert sorted(event.changed_fields) == ["max_children", "region"]
    assert 'data-state="applying">申请中</strong>' in applicant.get("/join/status/").content.decode()
    assert "待审核 1 人" in township.get("/volunteers/applications/").content.decode()


def test_the_status_page_shows_each_application_of_the_number(
    regions: None, clients: dict[str, Client], settings: Any
) -> None:
    settings.SESSION_COOKIE_AGE = 3600  # the session outlives the proof of the number
    husband = sign_up()
    sign_up(name="李秀英", id_number=SPOUSE_ID)
    clients["township_worker"].post(f"/volunteers/applications/{husband.pk}/approve/")
    other = sign_up(
        name="赵大爷",
        id_number=make_id_number(COUNTY_A_PREFIX, datetime.date(1950, 1, 1), 31),
        phone="13905710009",
    )
    applicant = Client()
    applicant.post("/join/status/", {"phone": ELDER_MOBILE, "action": "send_code"})
    wrong = "000000" if sent_code() != "000000" else "111111"
    response = applicant.post("/join/status/", {"phone": ELDER_MOBILE, "code": wrong, "action": "verify"})
    assert errors_of(response) == {"code": "验证码不正确或已过期，请重新获取"}
    applicant.post("/join/status/", {"phone": ELDER_MOBILE, "code": sent_code(), "action": "verify"})
    page = applicant.get("/join/status/").content.decode()
    states = re.findall(r'<h2 class="h4">(.+?)</h2>.*?data-state="(\w+)">(.+?)</strong>', page, re.S)
    assert states == [("李秀英", "applying", "申请中"), ("王建国", "approved", "已通过")]
    assert "赵大爷" not in page
    # Someone else's application cannot be opened with this number.
    assert applicant.get(f"/join/status/{other.pk}/edit/").status_code == 404
    # The proof lasts half an hour.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=29), tick=False):
        assert 'id="applications"' in applicant.get("/join/status/").content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31), tick=False):
        page = applicant.get("/join/status/").content.decode()
    assert 'id="status-form"' in page
    assert 'id="applications"' not in page


def test_the_review_queue_reads_a_fixed_number_of_queries(regions: None, clients: dict[str, Client]) -> None:
    VolunteerFactory.create_batch(3, status=Status.APPLYING, source=Source.SIGNUP, joined_on=None)
    client = clients["township_worker"]
    with count_queries() as few:
        assert client.get("/volunteers/applications/").status_code == 200
    VolunteerFactory.create_batch(6, status=Status.APPLYING, source=Source.SIGNUP, region_id=COMMUNITY_A)
    with count_queries() as more:
        page = client.get("/volunteers/applications/").content.decode()
    assert "待审核 9 人" in page
    assert len(more) == len(few)


def test_only_a_sign_up_can_be_returned_to_its_applicant(regions: None, clients: dict[str, Client]) -> None:
    registered = VolunteerFactory.create(status=Status.APPLYING, source=Source.STAFF, joined_on=None)
    township = clients["township_worker"]
    queue = township.get("/volunteers/applications/").content.decode()
    assert f'id="approve-{registered.pk}"' in queue
    assert f'id="return-{registered.pk}"' not in queue
    response = township.post(
        f"/volunteers/applications/{registered.pk}/return/", {"reason": "补充材料"}, follow=True
    )
    assert "只有本人报名的申请可以退回修改" in response.content.decode()
    registered.refresh_from_db()
    assert (registered.return_reason, registered.version) == ("", 1)


# --- Invitations ---------------------------------------------------------------------------------


def test_an_invitation_link_is_shown_once_and_only_its_digest_is_kept(
    regions: None, clients: dict[str, Client]
) -> None:
    client = clients["township_worker"]
    response = client.post(
        "/volunteers/invitations/",
        {"region_code": QIANDAOHU, "note": "退休教师", "days": "30", "max_uses": "20"},
    )
    page = response.content.decode()
    link = re.search(r'value="http://testserver/join/([\w-]+)/" id="invitation-link"', page)
    assert link is not None
    token = link.group(1)
    invitation = Invitation.objects.get()
    assert invitation.digest == sm3_hex(token)
    assert (invitation.region_id, invitation.note, invitation.max_uses, invitation.used_count) == (
        QIANDAOHU,
        "退休教师",
        20,
        0,
    )
    assert invitation.expires_at.date() == (timezone.now() + datetime.timedelta(days=30)).date()
    assert token not in client.get("/volunteers/invitations/").content.decode()
    assert AuditEvent.objects.get(action="volunteer.invitation_created").detail == {
        "days": 30,
        "max_uses": 20,
    }


def test_an_invitation_fixes_the_region_of_the_sign_up(regions: None, actors: dict[str, Actor]) -> None:
    invitation, token = invitation_create(
        actor=actors["township_worker"], region_code=QIANDAOHU, note="退休教师"
    )
    client = Client()
    page = client.get(f"/join/{token}/").content.decode()
    assert "您正在通过千岛湖镇关工委的邀请报名。（退休教师）" in page
    assert 'name="county"' not in page
    assert 'name="township"' not in page
    assert re.findall(r'<option value="(\d{12})"', page) == [COMMUNITY_A, VILLAGE_A]
    send_code(client)
    response = client.post(f"/join/{token}/", form(code=sent_code(), region_code=COMMUNITY_B))
    assert errors_of(response) == {"region_code": "请选择千岛湖镇范围内的村（社区）"}
    response = client.post(f"/join/{token}/", form(code=sent_code(), region_code=COMMUNITY_A))
    assert response["Location"] == "/join/done/"
    volunteer = Volunteer.objects.get()
    assert (volunteer.source, volunteer.region_id) == (Source.INVITATION, COMMUNITY_A)
    invitation.refresh_from_db()
    assert invitation.used_count == 1
    assert AuditEvent.objects.get(action="volunteer.signup").detail["invitation"] == invitation.pk


def test_an_invitation_to_a_village_needs_no_choice(regions: None, actors: dict[str, Actor]) -> None:
    _invitation, token = invitation_create(actor=actors["township_worker"], region_code=VILLAGE_A)
    client = Client()
    page = client.get(f"/join/{token}/").content.decode()
    assert "居住的村（社区）：<strong>富城村村民委员会</strong>" in page
    send_code(client)
    response = client.post(
        f"/join/{token}/", form(code=sent_code(), county=None, township=None, region_code=VILLAGE_A)
    )
    assert response["Location"] == "/join/done/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revoked_at": timezone.now()}, "该邀请链接已被撤销"),
        ({"expires_at": timezone.now() - datetime.timedelta(minutes=1)}, "该邀请链接已过期"),
        ({"used_count": 5}, "该邀请链接的报名名额已满"),
    ],
)
def test_a_revoked_expired_or_used_up_invitation_cannot_be_used(
    regions: None, actors: dict[str, Actor], change: dict[str, Any], message: str
) -> None:
    invitation, token = invitation_create(actor=actors["township_worker"], region_code=QIANDAOHU, max_uses=5)
    Invitation.objects.filter(pk=invitation.pk).update(**change)
    client = Client()
    response = client.get(f"/join/{token}/")
    assert response.status_code == 410
    assert message in response.content.decode()
    send_code(client)
    response = client.post(f"/join/{token}/", form(code=sent_code()))
    assert response.status_code == 410
    assert Volunteer.objects.count() == 0
    assert Client().get("/join/" + "x" * 32 + "/").status_code == 410


def test_the_last_place_of_an_invitation_is_taken_once(regions: None, actors: dict[str, Actor]) -> None:
    invitation, token = invitation_create(actor=actors["township_worker"], region_code=QIANDAOHU, max_uses=1)
    seen_by_both = invitation_resolve(token=token)
    _use_invitation(seen_by_both)
    with pytest.raises(InvitationUnusable, match="名额已满"):
        _use_invitation(seen_by_both)
    invitation.refresh_from_db()
    assert invitation.used_count == 1


def test_revoking_an_invitation(regions: None, clients: dict[str, Client], actors: dict[str, Actor]) -> None:
    invitation, token = invitation_create(actor=actors["township_worker"], region_code=QIANDAOHU)
    response = clients["township_worker"].post(
        f"/volunteers/invitations/{invitation.pk}/revoke/", follow=True
    )
    assert "已撤销该邀请链接" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert '<td class="invitation-state">已撤销</td>' in response.content.decode()
    assert Client().get(f"/join/{token}/").status_code == 410
    assert (
        AuditEvent.objects.filter(action="volunteer.invitation_revoked", target_id=str(invitation.pk)).count()
        == 1
    )


def test_an_invitation_only_for_a_region_of_ones_own(regions: None, actors: dict[str, Actor]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        invitation_create(actor=actors["township_worker"], region_code="330182001000")
    assert refused.value.fields == {"region_code": ["该区域不在您的管辖范围内"]}
    with pytest.raises(ValidationFailed) as refused:
        invitation_create(actor=actors["township_worker"], region_code=QIANDAOHU, days=91, max_uses=0)
    assert refused.value.fields == {
        "days": ["有效天数应在 1 到 90 之间"],
        "max_uses": ["可用次数应在 1 到 500 之间"],
    }
    with pytest.raises(PermissionDeniedError):
        invitation_create(actor=actors["volunteer"], region_code=VILLAGE_A)


# --- Who may reach each page ---------------------------------------------------------------------


def test_authorization_matrix_of_the_sign_up_and_review_pages(
    regions: None, clients: dict[str, Client], actors: dict[str, Actor]
) -> None:
    applying = VolunteerFactory.create(
        name="富城报名人", status=Status.APPLYING, source=Source.SIGNUP, joined_on=None
    )
    elsewhere = VolunteerFactory.create(
        name="白沙报名人", status=Status.APPLYING, source=Source.SIGNUP, joined_on=None, region_id=COMMUNITY_B
    )
    invitation, token = invitation_create(actor=actors["county_b_admin"], region_code="330182001000")
    a, b, i = applying.pk, elsewhere.pk, invitation.pk
    reason = {"reason": "请补充专长说明"}
    public_pages = [
        "/join/",
        f"/join/{token}/",
        "/join/done/",
        "/join/status/",
        "/join/regions/?county=330127000000",
    ]
    checks = [
        Check(persona, "GET", path, 200)
        for persona in ("anonymous", "volunteer", "county_a_admin")
        for path in public_pages
    ]
    checks += [
        Check("anonymous", "POST", "/join/code/", 200, form={"phone": "12"}),
        Check("anonymous", "GET", f"/join/status/{a}/edit/", 302),
        # The review queue and the invitations: VOLUNTEER_MANAGE, inside one's region.
        Check("anonymous", "GET", "/volunteers/applications/", 302),
        Check("volunteer", "GET", "/volunteers/applications/", 403),
        Check("lawyer", "GET", "/volunteers/applications/", 403),
        Check("auditor", "GET", "/volunteers/applications/", 403),
        Check("system_admin", "GET", "/volunteers/applications/", 403),
        Check("township_worker", "GET", "/volunteers/applications/", 200, must_not_contain=(elsewhere.name,)),
        Check("county_b_admin", "GET", "/volunteers/applications/", 200, must_not_contain=(applying.name,)),
        Check("province_admin", "GET", "/volunteers/applications/", 200),
        Check("anonymous", "POST", f"/volunteers/applications/{a}/approve/", 302),
        Check("volunteer", "POST", f"/volunteers/applications/{a}/approve/", 403),
        Check("county_b_admin", "POST", f"/volunteers/applications/{a}/approve/", 404),
        Check("township_worker", "POST", f"/volunteers/applications/{b}/approve/", 404),
        Check("township_worker", "GET", f"/volunteers/applications/{a}/approve/", 405),
        Check("volunteer", "POST", f"/volunteers/applications/{a}/return/", 403, form=reason),
        Check("county_b_admin", "POST", f"/volunteers/applications/{a}/return/", 404, form=reason),
        Check("township_worker", "POST", f"/volunteers/applications/{a}/return/", 302, form=reason),
        Check("county_b_admin", "POST", f"/volunteers/applications/{b}/approve/", 302),
        Check("anonymous", "GET", "/volunteers/invitations/", 302),
        Check("volunteer", "GET", "/volunteers/invitations/", 403),
        Check("counsellor", "GET", "/volunteers/invitations/", 403),
        Check(
            "township_worker", "GET", "/volunteers/invitations/", 200, must_not_contain=(f"invitation-{i}",)
        ),
        Check("county_b_admin", "GET", "/volunteers/invitations/", 200),
        Check(
            "volunteer",
            "POST",
            "/volunteers/invitations/",
            403,
            form={"region_code": VILLAGE_A, "days": "3", "max_uses": "3"},
        ),
        Check("township_worker", "POST", f"/volunteers/invitations/{i}/revoke/", 404),
        Check("volunteer", "POST", f"/volunteers/invitations/{i}/revoke/", 403),
        Check("county_b_admin", "POST", f"/volunteers/invitations/{i}/revoke/", 302),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    applying.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (applying.return_reason, elsewhere.status) == ("请补充专长说明", Status.ACTIVE)
