"""The visit pages: the volunteer's children and phone form, the private photo, the overdue list and the
mandatory reports, with the authorization matrix of every page."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix, count_queries, verified_client
from guanai.minors.tests.factories import VILLAGE_A, MinorFactory
from guanai.pairings.models import MandatoryReport, Visit
from guanai.pairings.tests.factories import (
    MandatoryReportFactory,
    PairingFactory,
    VisitWorld,
    jpeg_with_gps,
)
from guanai.pairings.visits import visit_record
from guanai.pairings.vocabulary import ReportOutcome, ReportState
from guanai.volunteers.models import ServiceHours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "private_media")]

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
DAY = TODAY.date()


@pytest.fixture
def world(visit_world: VisitWorld) -> VisitWorld:
    return visit_world


@pytest.fixture
def other_client(world: VisitWorld) -> Client:
    return verified_client(world.other_user)


def form(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "visited_on": f"{DAY:%Y-%m-%d}",
        "mode": "home",
        "duration_minutes": "60",
        "activities": ["1", "4"],
        "note": "陪孩子写作业",
        "study": "good",
        "health": "good",
        "emotion": "fair",
        "safety": "good",
    }
    data.update(values)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- 我的结对儿童 ----------------------------------------------------------------------------------------


def test_my_children_lists_the_overdue_first_with_their_names_masked(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    on_time = PairingFactory.create(
        minor=MinorFactory.create(name="钱多多", region_id=VILLAGE_A),
        volunteer=world.me,
        next_contact_due=datetime.date(2026, 12, 20),
    )

    response = clients["volunteer"].get("/visits/mine/")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f'id="child-{world.pairing.pk}"') < body.index(f'id="child-{on_time.pk}"')
    assert "张*明" in body
    assert "钱*多" in body
    assert "张小明" not in body
    assert "王*红" not in body  # another volunteer's child
    assert "⚠ 已逾期 30 天（应在 10月31日 前联系）" in body
    assert "下次请在 2026年12月20日 前联系" in body
    assert f'href="/visits/new/{world.pairing.pk}/"' in body
    assert "有 1 名儿童已超过约定时间没有联系" in body


def test_my_children_costs_the_same_queries_however_many(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    volunteer = actor_for_user(personas["volunteer"])
    visit_record(
        actor=volunteer, pairing_id=world.pairing.pk, visited_on=DAY, mode="home", duration_minutes=30
    )
    with count_queries() as few:
        assert clients["volunteer"].get("/visits/mine/").status_code == 200
    for _ in range(3):
        pairing = PairingFactory.create(minor=MinorFactory.create(region_id=VILLAGE_A), volunteer=world.me)
        visit_record(
            actor=volunteer, pairing_id=pairing.pk, visited_on=DAY, mode="phone", duration_minutes=10
        )
    with count_queries() as many:
        assert clients["volunteer"].get("/visits/mine/").status_code == 200
    assert len(many) == len(few)


# --- The visit form -------------------------------------------------------------------------------------


def test_the_visit_form_is_made_for_a_phone(clients: dict[str, Client], world: VisitWorld) -> None:
    response = clients["volunteer"].get(f"/visits/new/{world.pairing.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert "勾选下面任何一项，都会立即启动强制报告" in body
    assert 'max="2026-11-30"' in body
    assert 'value="2026-11-30"' in body  # today by default
    for name in ("study", "health", "emotion", "safety"):
        assert f'name="{name}" value="concern"' in body
    assert body.count('type="checkbox" name="concerns"') == 4
    assert body.count('type="checkbox" name="activities"') == 7
    assert 'accept="image/jpeg,image/png"' in body
    assert "btn-lg w-100 py-3" in body  # full-width targets of at least 60 px
    assert "张*明" in body


def test_a_visit_recorded_on_the_phone_form(
    clients: dict[str, Client], world: VisitWorld, private_media: Path
) -> None:
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")

    response = clients["volunteer"].post(f"/visits/new/{world.pairing.pk}/", form(photo=photo), follow=True)

    assert response.redirect_chain == [("/visits/mine/", 302)]
    assert messages_of(response) == ["走访已记录，时长已计入您的志愿服务时长。谢谢您！"]
    visit = Visit.objects.get()
    assert (visit.activities, visit.emotion, visit.note, visit.duration_minutes) == (
        5,
        "fair",
        "陪孩子写作业",
        60,
    )
    assert b"Exif" not in (private_media / visit.photo).read_bytes()
    assert ServiceHours.objects.get().source_key == f"visit:{visit.pk}"
    assert not MandatoryReport.objects.exists()


def test_a_ticked_concern_tells_the_volunteer_that_a_report_has_started(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    response = clients["volunteer"].post(
        f"/visits/new/{world.pairing.pk}/", form(concerns=["1"], safety="concern"), follow=True
    )

    assert response.redirect_chain == [("/visits/mine/", 302)]
    assert messages_of(response) == [
        "走访已记录，并已启动强制报告：乡镇（街道）和县关工委已收到提醒，会尽快处置。"
        "如孩子正面临危险，请立即拨打 110。"
    ]
    assert MandatoryReport.objects.get().concerns == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"duration_minutes": "0"}, "时长应为 1 到 1440 分钟"),
        ({"visited_on": "2026-12-01"}, "走访日期不能晚于今天"),
        ({"visited_on": "2026-09-01"}, "走访日期不能早于结对日期（2026-10-01）"),
        ({"mode": ""}, "请选择走访方式"),
        ({"safety": ""}, "请选择良好、一般或需关注"),
        (
            {"photo": SimpleUploadedFile("a.jpg", b"not a photo", content_type="image/jpeg")},
            "请上传 JPG 或 PNG 格式的照片",
        ),
    ],
)
def test_a_wrong_visit_is_shown_again_with_the_error_beside_its_field(
    clients: dict[str, Client], world: VisitWorld, values: dict[str, Any], message: str
) -> None:
    response = clients["volunteer"].post(f"/visits/new/{world.pairing.pk}/", form(**values))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Visit.objects.exists()


def test_the_same_visit_sent_twice_is_refused(clients: dict[str, Client], world: VisitWorld) -> None:
    assert clients["volunteer"].post(f"/visits/new/{world.pairing.pk}/", form()).status_code == 302

    response = clients["volunteer"].post(f"/visits/new/{world.pairing.pk}/", form())

    assert response.status_code == 409
    assert "这次走访已经记录过了" in response.content.decode()
    assert Visit.objects.count() == 1
    assert ServiceHours.objects.count() == 1


def test_a_closed_pairing_shows_why_no_visit_can_be_recorded(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    world.pairing.state, world.pairing.close_reason = "closed", "moved_away"
    world.pairing.save(update_fields=["state", "close_reason"])

    response = clients["volunteer"].get(f"/visits/new/{world.pairing.pk}/")

    assert response.status_code == 200
    assert "该结对未开始或已解除，不能记录走访。" in response.content.decode()
    assert 'id="visit-form"' not in response.content.decode()
    assert clients["volunteer"].post(f"/visits/new/{world.pairing.pk}/", form()).status_code == 409


def test_the_photo_is_served_privately(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld, private_media: Path
) -> None:
    visit = visit_record(
        actor=actor_for_user(personas["volunteer"]),
        pairing_id=world.pairing.pk,
        visited_on=DAY,
        mode="home",
        duration_minutes=30,
        photo=SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg"),
    )

    response = clients["township_worker"].get(f"/visits/{visit.pk}/photo")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == (private_media / visit.photo).read_bytes()  # type: ignore[attr-defined]
    assert (
        AuditEvent.objects.filter(
            action="visit.photo_view", actor_user_id=personas["township_worker"].pk
        ).count()
        == 1
    )
    assert clients["township_worker"].get(f"/visits/{visit.pk + 1}/photo").status_code == 404


# --- Overdue follow-ups ---------------------------------------------------------------------------------


def test_the_overdue_page_counts_per_township_and_lists_the_longest_overdue_first(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    response = clients["county_a_admin"].get("/pairings/overdue/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="count-330127100000"><td>千岛湖镇</td><td class="text-end" data-count="2">2</td>' in body
    assert "建德市" not in body
    assert "赵小刚" not in body
    assert "张小明" in body  # the county admin holds MINOR_UNMASK
    assert "逾期 30 天" in body
    assert response.context["total"] == 2

    village = clients["township_worker"].get("/pairings/overdue/?region=330127100219")
    assert [row.pairing.pk for row in village.context["rows"]] == [world.pairing.pk]
    assert 'id="count-330127100219"' in village.content.decode()


def test_the_overdue_page_costs_the_same_queries_however_many(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    with count_queries() as few:
        assert clients["county_a_admin"].get("/pairings/overdue/").status_code == 200
    for _ in range(4):
        PairingFactory.create(minor=MinorFactory.create(region_id=VILLAGE_A))
    with count_queries() as many:
        response = clients["county_a_admin"].get("/pairings/overdue/")
    assert response.context["total"] == 6
    assert len(many) == len(few)


# --- Mandatory reports ----------------------------------------------------------------------------------


def test_the_reports_page_puts_the_open_first_and_the_overdue_in_red_with_words(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    closed = MandatoryReportFactory.create(
        visit__pairing=world.pairing,
        visit__mode="phone",
        state=ReportState.CLOSED,
        outcome=ReportOutcome.SCHOOL,
        deadline=TODAY - datetime.timedelta(days=3),
    )
    due = MandatoryReportFactory.create(
        visit__pairing=world.other_pairing, deadline=TODAY + datetime.timedelta(hours=3)
    )
    late = MandatoryReportFactory.create(
        visit__pairing=world.pairing, deadline=TODAY - datetime.timedelta(hours=2)
    )

    response = clients["township_worker"].get("/mandatory-reports/")

    assert response.status_code == 200
    assert [row.report.pk for row in response.context["rows"]] == [late.pk, due.pk, closed.pk]
    body = response.content.decode()
    assert f'<tr id="report-{late.pk}" class="table-danger">' in body
    assert f'<tr id="report-{due.pk}">' in body
    assert body.count("已超期，待处置") == 1
    assert "有 1 份强制报告已超过处置期限！" in body
    assert "已办结：已告知学校" in body
    only_open = clients["township_worker"].get("/mandatory-reports/?state=open")
    assert [row.report.pk for row in only_open.context["rows"]] == [late.pk, due.pk]


def test_the_reports_page_costs_the_same_queries_however_many(
    clients: dict[str, Client], world: VisitWorld
) -> None:
    MandatoryReportFactory.create(visit__pairing=world.pairing)
    with count_queries() as few:
        assert clients["county_a_admin"].get("/mandatory-reports/").status_code == 200
    for _ in range(4):
        MandatoryReportFactory.create(
            visit__pairing=PairingFactory.create(minor=MinorFactory.create(region_id=VILLAGE_A))
        )
    with count_queries() as many:
        response = clients["county_a_admin"].get("/mandatory-reports/")
    assert len(response.context["rows"]) == 5
    assert len(many) == len(few)


def test_a_report_is_closed_on_its_page_with_an_outcome_only(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld
) -> None:
    visit_record(
        actor=actor_for_user(personas["volunteer"]),
        pairing_id=world.pairing.pk,
        visited_on=DAY,
        mode="home",
        duration_minutes=40,
        note="孩子手臂有淤青",
        concerns=1,
    )
    report = MandatoryReport.objects.get()
    page = f"/mandatory-reports/{report.pk}/"

    shown = clients["county_a_admin"].get(page)
    assert shown.status_code == 200
    assert "孩子手臂有淤青" in shown.content.decode()  # read by the one who handles it, and logged
    assert (
        AuditEvent.objects.filter(action="personal_data.unmask", target_id=str(report.visit_id)).count() == 1
    )
    assert "疑似遭受虐待或暴力" in shown.content.decode()

    missing = clients["county_a_admin"].post(page, {"note": "已报警"})
    assert missing.status_code == 200
    assert "请选择处置结果" in missing.content.decode()
    assert MandatoryReport.objects.get().state == ReportState.OPEN

    closed = clients["county_a_admin"].post(page, {"outcome": "police", "note": "已报警"}, follow=True)
    assert closed.redirect_chain == [(page, 302)]
    assert messages_of(closed) == ["已办结，处置结果已登记。"]
    report.refresh_from_db()
    assert (report.state, report.outcome, report.closed_by) == (
        "closed",
        "police",
        personas["county_a_admin"],
    )
    assert 'id="report-close-form"' not in closed.content.decode()
    assert clients["county_a_admin"].post(page, {"outcome": "school"}).status_code == 409


# --- Who may open what ----------------------------------------------------------------------------------


def test_authorization_matrix_of_the_visit_pages(
    clients: dict[str, Client], personas: dict[str, Any], world: VisitWorld, other_client: Client
) -> None:
    clients = {**clients, "other_volunteer": other_client}
    visit = visit_record(
        actor=actor_for_user(personas["volunteer"]),
        pairing_id=world.pairing.pk,
        visited_on=DAY - datetime.timedelta(days=1),
        mode="home",
        duration_minutes=30,
        concerns=2,
        photo=SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg"),
    )
    report = MandatoryReport.objects.get()
    record_page = f"/visits/new/{world.pairing.pk}/"
    photo = f"/visits/{visit.pk}/photo"
    report_page = f"/mandatory-reports/{report.pk}/"
    visit_form = {key: value for key, value in form().items() if not isinstance(value, list)}
    close_form = {"outcome": "police", "note": "已报警"}
    staff_pages = ["/pairings/overdue/", "/mandatory-reports/", report_page]
    name = ("张小明", "张*明")

    checks = [
        Check("anonymous", "GET", path, 302) for path in ["/visits/mine/", record_page, photo, *staff_pages]
    ]
    checks += [
        Check("anonymous", "POST", record_page, 302, form=visit_form),
        Check("anonymous", "POST", report_page, 302, form=close_form),
    ]
    for persona in ("auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=name)
            for path in ["/visits/mine/", record_page, photo, *staff_pages]
        ]
        checks += [
            Check(persona, "POST", record_page, 403, form=visit_form),
            Check(persona, "POST", report_page, 403, form=close_form),
        ]
    # Volunteers: their own children and visits; nothing of anyone else's, nothing of the staff's.
    checks += [
        Check("volunteer", "GET", "/visits/mine/", 200),
        Check("volunteer", "GET", record_page, 200),
        Check("other_volunteer", "GET", "/visits/mine/", 200, must_not_contain=name),
        Check("lawyer", "GET", "/visits/mine/", 200, must_not_contain=name),
    ]
    for persona in ("other_volunteer", "lawyer"):
        checks += [
            Check(persona, "GET", record_page, 404, must_not_contain=name),
            Check(persona, "POST", record_page, 404, form=visit_form),
            Check(persona, "GET", photo, 404),
        ]
    for persona in ("volunteer", "other_volunteer", "lawyer", "counsellor"):
        checks += [Check(persona, "GET", path, 403, must_not_contain=name) for path in staff_pages]
        checks += [Check(persona, "POST", report_page, 403, form=close_form)]
    # Staff: their region; county B sees nothing of county A.
    for persona in ("province_admin", "county_a_admin", "township_worker"):
        checks += [Check(persona, "GET", path, 200) for path in [record_page, *staff_pages]]
        checks += [Check(persona, "GET", "/visits/mine/", 403)]
    checks += [
        Check("county_b_admin", "GET", record_page, 404, must_not_contain=name),
        Check("county_b_admin", "POST", record_page, 404, form=visit_form),
        Check("county_b_admin", "GET", photo, 404),
        Check("county_b_admin", "GET", report_page, 404, must_not_contain=name),
        Check("county_b_admin", "POST", report_page, 404, form=close_form),
        Check("county_b_admin", "GET", "/pairings/overdue/", 200, must_not_contain=name),
        Check("county_b_admin", "GET", "/mandatory-reports/", 200, must_not_contain=name),
        Check("county_b_admin", "GET", "/pairings/overdue/?region=330127000000", 200, must_not_contain=name),
        Check("county_a_admin", "GET", "/visits/999999/photo", 404),
        Check("county_a_admin", "GET", "/mandatory-reports/999999/", 404),
        Check("volunteer", "GET", "/visits/new/999999/", 404),
        Check("county_a_admin", "DELETE", report_page, 405),
        Check("county_a_admin", "POST", photo, 405),
    ]

    assert assert_authorization_matrix(clients, checks) == len(checks)
    # The photo streams (the matrix helper reads whole bodies): the ones allowed to see it, apart.
    for persona in ("volunteer", "province_admin", "county_a_admin", "township_worker"):
        response = clients[persona].get(photo)
        assert (persona, response.status_code, response["Content-Type"]) == (persona, 200, "image/jpeg")
        assert b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert Visit.objects.count() == 1
    assert MandatoryReport.objects.get().state == ReportState.OPEN
