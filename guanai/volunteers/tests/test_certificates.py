"""Service certificates: issuing (staff, or the volunteer themself), the public verification with the
name masked, revoking, the rate limit on lookups, the PDF, star levels from configuration, and who may
open which page."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F
from django.test import Client, RequestFactory

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.committees.tests.factories import CommitteeFactory
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimited,
    ValidationFailed,
)
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.minors.tests.factories import COMMUNITY_B, COUNTY_A_PREFIX, COUNTY_B_PREFIX, VILLAGE_A
from guanai.volunteers.certificates import (
    CODE_ALPHABET,
    Verification,
    certificate_issue,
    certificate_revoke,
    certificate_verify,
    new_code,
    normalised_code,
)
from guanai.volunteers.models import Certificate, Volunteer
from guanai.volunteers.tests.factories import ServiceHoursFactory, VolunteerFactory, elder_id_number
from guanai.volunteers.vocabulary import HoursState, star_level

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
ZHANG_ID = elder_id_number(7, COUNTY_A_PREFIX)
WANG_ID = elder_id_number(8, COUNTY_B_PREFIX)


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    time_machine.move_to(TODAY, tick=False)


def serve(volunteer: Volunteer, day: datetime.date, hours: str, state: str = HoursState.CONFIRMED) -> None:
    """A record of service; confirmed ones count in the running total, as the hours services keep it."""
    ServiceHoursFactory.create(volunteer=volunteer, served_on=day, hours=Decimal(hours), state=state)
    if state == HoursState.CONFIRMED:
        Volunteer.objects.filter(pk=volunteer.pk).update(hours_total=F("hours_total") + Decimal(hours))


@dataclass
class Elders:
    zhang: Volunteer  # 张三丰, 富城村 (淳安县), the volunteer persona's own: 80.0 h in 2025, 109.5 h in 2026
    wang: Volunteer  # 王建德, 白沙社区 (建德市): 30.0 h


@pytest.fixture
def elders(personas: dict[str, Any]) -> Elders:
    zhang = VolunteerFactory.create(
        name="张三丰", id_number=ZHANG_ID, region_id=VILLAGE_A, user=personas["volunteer"]
    )
    for day, hours in [
        ("2025-03-02", "24"),
        ("2025-07-15", "24"),
        ("2025-10-01", "20"),
        ("2025-12-31", "12"),
    ]:
        serve(zhang, datetime.date.fromisoformat(day), hours)
    for day, hours in [
        ("2026-01-01", "24"),
        ("2026-04-10", "24"),
        ("2026-06-01", "24"),
        ("2026-09-09", "24"),
    ]:
        serve(zhang, datetime.date.fromisoformat(day), hours)
    serve(zhang, datetime.date(2026, 11, 30), "13.5")
    # Neither a claim waiting for confirmation nor a returned one is certified.
    serve(zhang, datetime.date(2026, 11, 20), "6", state=HoursState.PENDING)
    serve(zhang, datetime.date(2026, 11, 21), "4", state=HoursState.RETURNED)
    wang = VolunteerFactory.create(name="王建德", id_number=WANG_ID, region_id=COMMUNITY_B)
    serve(wang, datetime.date(2026, 5, 5), "24")
    serve(wang, datetime.date(2026, 5, 6), "6")
    zhang.refresh_from_db()
    wang.refresh_from_db()
    return Elders(zhang=zhang, wang=wang)


def actor(personas: dict[str, Any], name: str) -> Any:
    return actor_for_user(personas[name])


def lookup(address: str = "10.0.0.1") -> Any:
    return RequestFactory().get("/verify/", REMOTE_ADDR=address)


def html(response: Any) -> str:
    return str(response.content.decode())


# --- Codes ------------------------------------------------------------------------------------------


def test_a_code_is_twelve_unambiguous_symbols_in_three_groups() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    pattern = re.compile(rf"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}")
    assert all(pattern.fullmatch(code) for code in codes)
    assert not set("01IO") & set(CODE_ALPHABET)


def test_a_typed_code_is_read_whatever_its_case_spaces_and_width() -> None:
    assert normalised_code("7kqm 3xhd p9wa") == "7KQM-3XHD-P9WA"
    assert normalised_code("７ＫＱＭ－３ＸＨＤ－Ｐ９ＷＡ") == "7KQM-3XHD-P9WA"
    assert normalised_code("7KQM3XHDP9WA") == "7KQM-3XHD-P9WA"
    assert normalised_code("7KQM-3XHD-P9W") is None  # eleven symbols
    assert normalised_code("7KQM-3XHD-P9W0") is None  # 0 is not in the alphabet
    assert normalised_code("") is None


# --- Issuing ----------------------------------------------------------------------------------------


def test_staff_certify_all_confirmed_hours_and_the_public_page_shows_exactly_that(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client]
) -> None:
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    assert certificate.hours == Decimal("189.5")
    assert certificate.star_level == 1  # 100 ≤ 189.5 < 300
    assert certificate.period_start is None
    assert certificate.period_end == datetime.date(2026, 11, 30)
    assert certificate.issued_by == personas["county_a_admin"]
    event = AuditEvent.objects.get(action="volunteer.certificate_issued")
    assert event.actor_username == "p-county-a"
    assert event.target_id == str(certificate.pk)
    assert event.region_code == VILLAGE_A
    assert event.detail == {"volunteer": elders.zhang.pk, "by_volunteer": False}

    assert certificate_verify(code=certificate.code, request=lookup()) == Verification(
        code=certificate.code,
        masked_name="张*丰",
        county="淳安县",
        hours=Decimal("189.5"),
        star_level=1,
        star_label="一星",
        period_start=None,
        period_end=datetime.date(2026, 11, 30),
        issued_on=datetime.date(2026, 11, 30),
        is_valid=True,
        revoked_on=None,
    )
    page = html(clients["anonymous"].get(f"/verify/{certificate.code}/"))
    assert '<span class="badge text-bg-success" id="verify-status">有效</span>' in page
    assert '<dd class="col-sm-9" id="verify-name">张*丰</dd>' in page
    assert '<dd class="col-sm-9" id="verify-county">淳安县</dd>' in page
    assert '<dd class="col-sm-9" id="verify-hours">189.5 小时</dd>' in page
    assert '<dd class="col-sm-9" id="verify-star">一星</dd>' in page
    assert '<dd class="col-sm-9" id="verify-period">截至 2026年11月30日 累计</dd>' in page
    assert '<dd class="col-sm-9" id="verify-issued">2026年11月30日</dd>' in page
    assert "张三丰" not in page
    assert ZHANG_ID not in page


def test_a_period_certifies_the_hours_served_in_it_with_the_star_level_reached_by_its_end(
    personas: dict[str, Any], elders: Elders
) -> None:
    staff = actor(personas, "township_worker")
    this_year = certificate_issue(
        actor=staff,
        volunteer_id=elders.zhang.pk,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 11, 30),
    )
    assert (this_year.hours, this_year.star_level) == (Decimal("109.5"), 1)  # 189.5 h by the end: one star
    last_year = certificate_issue(
        actor=staff,
        volunteer_id=elders.zhang.pk,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 12, 31),
    )
    assert (last_year.hours, last_year.star_level) == (Decimal("80.0"), 0)  # 80 h by the end of 2025
    summer = certificate_issue(
        actor=staff,
        volunteer_id=elders.zhang.pk,
        period_start=datetime.date(2026, 4, 10),
        period_end=datetime.date(2026, 6, 1),
    )
    assert summer.hours == Decimal("48.0")  # both ends included


def test_asking_again_for_the_same_statement_gives_the_same_certificate(
    personas: dict[str, Any], elders: Elders
) -> None:
    first = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    again = certificate_issue(actor=actor(personas, "volunteer"), volunteer_id=elders.zhang.pk)
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action="volunteer.certificate_issued").count() == 1
    serve(elders.zhang, datetime.date(2026, 11, 30), "2")  # the statement changed: a new certificate
    changed = certificate_issue(actor=actor(personas, "volunteer"), volunteer_id=elders.zhang.pk)
    assert changed.pk != first.pk
    assert changed.hours == Decimal("191.5")
    assert changed.code != first.code


def test_nothing_to_certify_and_impossible_periods_are_refused(
    personas: dict[str, Any], elders: Elders
) -> None:
    staff = actor(personas, "county_a_admin")
    newcomer = VolunteerFactory.create(name="周新来")
    with pytest.raises(ValidationFailed) as nothing:
        certificate_issue(actor=staff, volunteer_id=newcomer.pk)
    assert nothing.value.fields == {"period_start": ["该期间没有已确认的服务时长，无法出具证明"]}
    with pytest.raises(ValidationFailed) as future:
        certificate_issue(actor=staff, volunteer_id=elders.zhang.pk, period_end=datetime.date(2026, 12, 1))
    assert future.value.fields == {"period_end": ["截止日期不能晚于今天"]}
    with pytest.raises(ValidationFailed) as backwards:
        certificate_issue(
            actor=staff,
            volunteer_id=elders.zhang.pk,
            period_start=datetime.date(2026, 6, 1),
            period_end=datetime.date(2026, 5, 1),
        )
    assert backwards.value.fields == {"period_start": ["起始日期不能晚于截止日期"]}
    assert Certificate.objects.count() == 0


def test_who_may_issue_a_certificate_for_whom(personas: dict[str, Any], elders: Elders) -> None:
    with pytest.raises(NotFoundError):  # another county's volunteer does not exist for county B
        certificate_issue(actor=actor(personas, "county_b_admin"), volunteer_id=elders.zhang.pk)
    with pytest.raises(NotFoundError):  # a volunteer certifies themself, nobody else
        certificate_issue(actor=actor(personas, "volunteer"), volunteer_id=elders.wang.pk)
    with pytest.raises(NotFoundError):  # a lawyer with no volunteer record of their own
        certificate_issue(actor=actor(personas, "lawyer"), volunteer_id=elders.zhang.pk)
    with pytest.raises(PermissionDeniedError):
        certificate_issue(actor=actor(personas, "auditor"), volunteer_id=elders.zhang.pk)
    assert Certificate.objects.count() == 0
    own = certificate_issue(actor=actor(personas, "volunteer"), volunteer_id=elders.zhang.pk)
    assert own.issued_by == personas["volunteer"]
    assert AuditEvent.objects.get(action="volunteer.certificate_issued").detail == {
        "volunteer": elders.zhang.pk,
        "by_volunteer": True,
    }


def test_a_volunteer_issues_this_years_certificate_on_my_page(
    clients: dict[str, Client], elders: Elders
) -> None:
    client = clients["volunteer"]
    page = html(client.get("/me/certificate/"))
    assert '<dd class="col-sm-9" id="hours-total">189.5 小时</dd>' in page
    assert "一星" in page
    response = client.post("/me/certificate/", {"scope": "year"})
    assert response.status_code == 302
    assert response["Location"] == "/me/certificate/"
    certificate = Certificate.objects.get()
    assert (certificate.period_start, certificate.period_end) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 11, 30),
    )
    assert certificate.hours == Decimal("109.5")
    page = html(client.get("/me/certificate/"))
    assert certificate.code in page
    assert f'href="/volunteers/certificates/{certificate.pk}.pdf"' in page
    assert 'id="revoke-' not in page  # only staff revoke


def test_staff_issue_and_revoke_on_the_volunteers_page(clients: dict[str, Client], elders: Elders) -> None:
    client = clients["township_worker"]
    url = f"/volunteers/{elders.zhang.pk}/certificates/"
    refused = client.post(url, {"action": "issue", "issue-period_end": "2026-12-31"})
    assert refused.status_code == 422
    assert "截止日期不能晚于今天" in html(refused)
    response = client.post(
        url, {"action": "issue", "issue-period_start": "2025-01-01", "issue-period_end": "2025-12-31"}
    )
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert certificate.hours == Decimal("80.0")
    page = html(client.get(url))
    assert certificate.code in page
    assert f'id="revoke-{certificate.pk}"' in page
    response = client.post(url, {"action": "revoke", "certificate": certificate.pk, "reason": "时长有误"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoke_reason == "时长有误"
    assert certificate.revoked_at is not None
    assert f'id="revoke-{certificate.pk}"' not in html(client.get(url))


# --- Revoking ---------------------------------------------------------------------------------------


def test_a_revoked_certificate_is_shown_as_void(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client], time_machine: Any
) -> None:
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    time_machine.move_to(TODAY + datetime.timedelta(days=3), tick=False)
    with pytest.raises(ValidationFailed):
        certificate_revoke(actor=actor(personas, "county_a_admin"), certificate_id=certificate.pk, reason=" ")
    for reason in ("x", " "):  # another county's certificate, whatever the form holds
        with pytest.raises(NotFoundError):
            certificate_revoke(
                actor=actor(personas, "county_b_admin"), certificate_id=certificate.pk, reason=reason
            )
    with pytest.raises(PermissionDeniedError):  # the volunteer may not void what the committee certified
        certificate_revoke(actor=actor(personas, "volunteer"), certificate_id=certificate.pk, reason="x")
    certificate_revoke(
        actor=actor(personas, "county_a_admin"), certificate_id=certificate.pk, reason="时长录入有误"
    )
    with pytest.raises(ConflictError):
        certificate_revoke(actor=actor(personas, "county_a_admin"), certificate_id=certificate.pk, reason="x")
    verification = certificate_verify(code=certificate.code, request=lookup())
    assert (verification.is_valid, verification.revoked_on) == (False, datetime.date(2026, 12, 3))
    event = AuditEvent.objects.get(action="volunteer.certificate_revoked")
    assert event.changed_fields == ["revoked_at", "revoke_reason"]
    page = html(clients["anonymous"].get(f"/verify/{certificate.code}/"))
    assert '<span class="badge text-bg-danger" id="verify-status">已作废</span>' in page
    assert "该证明已于 2026年12月3日 作废" in page
    assert "时长录入有误" not in page  # the reason stays with the committee


# --- Looking a code up ------------------------------------------------------------------------------


def test_an_unknown_or_malformed_code_answers_not_found(clients: dict[str, Client], elders: Elders) -> None:
    for path in ("/verify/ABCD-EFGH-JKLM/", "/verify/not-a-code/"):
        response = clients["anonymous"].get(path)
        assert response.status_code == 404
        page = html(response)
        assert '<div class="alert alert-warning" role="alert" id="verify-error">' in page
        assert "未找到该证明，请核对验证码。</div>" in page
    with pytest.raises(NotFoundError):
        certificate_verify(code="ABCD-EFGH-JKLM", request=lookup())


def test_the_form_takes_a_code_as_typed_to_its_page(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client]
) -> None:
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    typed = certificate.code.replace("-", " ").lower()
    response = clients["anonymous"].get("/verify/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{certificate.code}/"
    wrong = clients["anonymous"].get("/verify/", {"code": "12345"})
    assert wrong.status_code == 200
    assert "验证码为 12 位字母和数字，请核对后重新输入" in html(wrong)


def test_lookups_are_rate_limited_per_address(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client], settings: Any
) -> None:
    settings.GUANAI_CERTIFICATE_VERIFY_RATE_PER_IP = "3/h"
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    guesses = ["ABCD-EFGH-JKLM", "ABCD-EFGH-JKLN", "ABCD-EFGH-JKLP"]
    for guess in guesses:
        with pytest.raises(NotFoundError):
            certificate_verify(code=guess, request=lookup("10.0.0.9"))
    with pytest.raises(RateLimited):  # even the right code, once the address has spent its lookups
        certificate_verify(code=certificate.code, request=lookup("10.0.0.9"))
    assert certificate_verify(code=certificate.code, request=lookup("10.0.0.10")).hours == Decimal("189.5")
    for _ in range(3):
        clients["anonymous"].get(f"/verify/{certificate.code}/")
    limited = clients["anonymous"].get(f"/verify/{certificate.code}/")
    assert limited.status_code == 429
    assert "查询过于频繁，请稍后再试。" in html(limited)
    assert "189.5" not in html(limited)


# --- The PDF ----------------------------------------------------------------------------------------


def pdf_text(content: bytes, tmp_path: Any) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(content)
    result = subprocess.run(  # noqa: S603 - a fixed program on a file the test wrote
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    return re.sub(r"[ \t]+", " ", result.stdout)


@pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (Debian package poppler-utils) is not installed: the PDF's text cannot be read",
)
def test_the_pdf_states_the_name_the_masked_id_the_hours_the_committee_and_the_code(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client], tmp_path: Any
) -> None:
    CommitteeFactory.create(region_id="330127100000", name="千岛湖镇关心下一代工作委员会")
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=elders.zhang.pk)
    response = clients["volunteer"].get(f"/volunteers/certificates/{certificate.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="certificate-{certificate.code}.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content, tmp_path)
    assert "志愿服务证明" in text.replace(" ", "")  # the title is letter-spaced
    assert "张三丰" in text
    assert ZHANG_ID[:6] + "********" + ZHANG_ID[-4:] in text
    assert ZHANG_ID not in text
    assert "189.5 小时" in text
    assert "一星" in text
    assert "截至 2026年11月30日" in text
    assert "千岛湖镇关心下一代工作委员会" in text
    assert certificate.code in text
    assert f"http://testserver/verify/{certificate.code}/" in text


@pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (Debian package poppler-utils) is not installed: the PDF's text cannot be read",
)
def test_without_a_registered_committee_the_county_certifies_and_a_void_pdf_says_so(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client], tmp_path: Any
) -> None:
    certificate = certificate_issue(
        actor=actor(personas, "county_a_admin"),
        volunteer_id=elders.zhang.pk,
        period_start=datetime.date(2026, 1, 1),
    )
    certificate_revoke(actor=actor(personas, "county_a_admin"), certificate_id=certificate.pk, reason="重开")
    text = pdf_text(
        clients["county_a_admin"].get(f"/volunteers/certificates/{certificate.pk}.pdf").content, tmp_path
    )
    assert "淳安县关心下一代工作委员会" in text
    assert "2026年1月1日 至 2026年11月30日" in text
    assert "109.5 小时" in text
    assert "本证明已于 2026年11月30日 作废" in text


# --- Star levels from configuration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "stars"),
    [
        ("9.9", 0),
        ("10", 1),
        ("19.9", 1),
        ("20", 2),
        ("29.9", 2),
        ("30", 3),
        ("40", 4),
        ("49.9", 4),
        ("50", 5),
        ("70", 5),
    ],
)
def test_star_levels_follow_the_configured_thresholds(
    personas: dict[str, Any], regions: None, settings: Any, hours: str, stars: int
) -> None:
    settings.GUANAI_STAR_THRESHOLDS = [10, 20, 30, 40, 50]
    volunteer = VolunteerFactory.create()
    remaining = Decimal(hours)
    day = datetime.date(2026, 1, 1)
    while remaining > 0:
        part = min(remaining, Decimal("24"))
        serve(volunteer, day, str(part))
        remaining -= part
        day += datetime.timedelta(days=1)
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=volunteer.pk)
    assert certificate.hours == Decimal(hours)
    assert certificate.star_level == stars
    assert star_level(Decimal(hours)) == stars


def test_the_common_thresholds_by_default(settings: Any) -> None:
    assert settings.GUANAI_STAR_THRESHOLDS == [100, 300, 600, 1000, 1500]
    assert [star_level(Decimal(h)) for h in ("99.9", "100", "299.9", "300", "1499.9", "1500")] == [
        0,
        1,
        1,
        2,
        4,
        5,
    ]


# --- Who may open what ------------------------------------------------------------------------------

STAFF = ("province_admin", "county_a_admin", "township_worker")
NO_VOLUNTEER_WORK = ("auditor", "system_admin")
SELF_WITHOUT_RECORD = ("lawyer", "counsellor")


def test_authorization_matrix_of_the_certificate_pages(
    personas: dict[str, Any], elders: Elders, clients: dict[str, Client]
) -> None:
    a = elders.zhang.pk
    certificate = certificate_issue(actor=actor(personas, "county_a_admin"), volunteer_id=a)
    wang_certificate = certificate_issue(actor=actor(personas, "county_b_admin"), volunteer_id=elders.wang.pk)
    pdf = f"/volunteers/certificates/{certificate.pk}.pdf"
    wang_pdf = f"/volunteers/certificates/{wang_certificate.pk}.pdf"
    listing = f"/volunteers/{a}/certificates/"
    issue = {"action": "issue"}
    revoke = {"action": "revoke", "certificate": str(certificate.pk), "reason": "作废"}
    personal = ("张三丰", ZHANG_ID)
    everyone = ("anonymous", *STAFF, "county_b_admin", "volunteer", *SELF_WITHOUT_RECORD, *NO_VOLUNTEER_WORK)
    checks: list[Check] = []
    # Public: the verification (name masked) for everyone, signed in or not.
    for persona in everyone:
        checks += [
            Check(persona, "GET", "/verify/", 200),
            Check(persona, "GET", f"/verify/{certificate.code}/", 200, must_not_contain=personal),
        ]
    # Signed out: every other page sends to the sign-in page.
    checks += [
        Check("anonymous", "GET", listing, 302),
        Check("anonymous", "POST", listing, 302, form=issue),
        Check("anonymous", "GET", pdf, 302),
        Check("anonymous", "GET", "/me/certificate/", 302),
        Check("anonymous", "POST", "/me/certificate/", 302, form={"scope": "all"}),
    ]
    # Roles that keep no volunteers: the staff page is refused; the PDF too, unless it is one's own.
    for persona in ("volunteer", *SELF_WITHOUT_RECORD, *NO_VOLUNTEER_WORK):
        checks += [
            Check(persona, "GET", listing, 403, must_not_contain=personal),
            Check(persona, "POST", listing, 403, form=issue),
            Check(persona, "POST", listing, 403, form=revoke),
        ]
    checks += [Check(persona, "GET", pdf, 403) for persona in NO_VOLUNTEER_WORK]
    checks += [Check(persona, "GET", pdf, 404, must_not_contain=personal) for persona in SELF_WITHOUT_RECORD]
    checks += [Check("volunteer", "GET", pdf, 200), Check("volunteer", "GET", wang_pdf, 404)]
    # 我的服务证明: a volunteer's own page; a professional without a volunteer record gets 404.
    checks += [Check("volunteer", "GET", "/me/certificate/", 200)]
    for persona in SELF_WITHOUT_RECORD:
        checks += [
            Check(persona, "GET", "/me/certificate/", 404),
            Check(persona, "POST", "/me/certificate/", 404, form={"scope": "all"}),
        ]
    for persona in (*STAFF, "county_b_admin", *NO_VOLUNTEER_WORK):
        checks += [
            Check(persona, "GET", "/me/certificate/", 403),
            Check(persona, "POST", "/me/certificate/", 403, form={"scope": "all"}),
        ]
    # Another county: county A's volunteer and certificates do not exist.
    checks += [
        Check("county_b_admin", "GET", listing, 404, must_not_contain=personal),
        Check("county_b_admin", "POST", listing, 404, form=issue),
        Check("county_b_admin", "POST", listing, 404, form=revoke),
        Check("county_b_admin", "GET", pdf, 404, must_not_contain=personal),
        Check("county_a_admin", "GET", f"/volunteers/{elders.wang.pk}/certificates/", 404),
        Check("township_worker", "GET", wang_pdf, 404),
        Check("county_a_admin", "GET", "/volunteers/999999/certificates/", 404),
        Check("county_a_admin", "GET", "/volunteers/certificates/999999.pdf", 404),
        # A certificate of another volunteer is not revoked through this volunteer's page.
        Check(
            "county_b_admin",
            "POST",
            f"/volunteers/{elders.wang.pk}/certificates/",
            404,
            form={**revoke, "certificate": str(certificate.pk)},
        ),
    ]
    for persona in STAFF:
        checks += [Check(persona, "GET", listing, 200), Check(persona, "GET", pdf, 200)]
    checks += [
        Check("county_b_admin", "GET", wang_pdf, 200),
        Check("county_a_admin", "PUT", listing, 405),
        Check("county_a_admin", "POST", listing, 400, form={"action": "anything"}),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert Certificate.objects.filter(revoked_at__isnull=False).count() == 0
