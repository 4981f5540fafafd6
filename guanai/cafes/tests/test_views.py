"""The pages of 网吧义务监督: the staff's café list, record and forms, the inspector's phone form (elder
mode, 是 / 否 buttons), the findings with their follow-up and closing — and who may open what."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanai.audit.models import AuditEvent
from guanai.cafes.models import CafeFinding, CafeInspection, CafeInspectionPhoto, InternetCafe
from guanai.cafes.services import inspection_record
from guanai.cafes.tests.conftest import World, inspection_input, jpeg_with_gps
from guanai.core.testing import ANONYMOUS, Check, assert_authorization_matrix, count_queries
from guanai.notifications.models import Notification
from guanai.volunteers.models import ServiceHours

pytestmark = pytest.mark.django_db


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def field_errors(page: str, name: str) -> list[str]:
    match = re.search(
        rf'<div id="error-{name}" class="invalid-feedback d-block" aria-live="polite">(.*?)</div>\n', page
    )
    assert match is not None, f"no error slot for {name}"
    return re.findall(r"<div>([^<]*)</div>", match.group(1))


def cafe_rows(page: str) -> list[tuple[str, ...]]:
    table = page[page.index('id="cafe-list"') :]
    return re.findall(
        r'<td><a href="/cafes/\d+/">([^<]+)</a></td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*'
        r'<td class="text-nowrap">([^<]+)</td>\s*<td>(\d+)</td>',
        table,
    )


def offered_inspectors(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="inspector_ids" value="(\d+)"', page)]


@pytest.fixture
def finding_a(world: World) -> CafeFinding:
    inspection = inspection_record(
        actor=world.actor("volunteer"),
        cafe_id=world.cafe_a.pk,
        data=inspection_input(minors_found=1),
        photos=[SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg")],
    )
    return CafeFinding.objects.get(inspection=inspection)


# --- Staff pages ------------------------------------------------------------------------------------


def test_the_cafe_list_of_a_county(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    client = all_clients["county_a_admin"]
    assert cafe_rows(html(client.get("/cafes/"))) == [
        ("星空网咖", "千岛湖镇", "浙网文〔2019〕1234-056号", "2026年11月30日", "1"),
        ("极速网吧", "千岛湖镇", "无证", "从未巡查", "0"),
    ]
    assert [row[0] for row in cafe_rows(html(client.get("/cafes/?inspection_due=on")))] == ["极速网吧"]
    assert [row[0] for row in cafe_rows(html(client.get("/cafes/?has_open_findings=on")))] == ["星空网咖"]
    assert '<option value="330127100000">千岛湖镇</option>' in html(client.get("/cafes/"))
    assert [row[0] for row in cafe_rows(html(all_clients["county_b_admin"].get("/cafes/")))] == [
        "建德网鱼网咖"
    ]
    assert 'id="cafe-create"' not in html(all_clients["village_liaison"].get("/cafes/"))


def test_the_list_page_reads_in_a_constant_number_of_queries(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    client = all_clients["province_admin"]
    client.get("/cafes/")
    with count_queries() as queries:
        html(client.get("/cafes/?status=all"))
    baseline = len(queries)
    inspection_record(actor=world.actor("volunteer"), cafe_id=world.cafe_a2.pk, data=inspection_input())
    with count_queries() as queries:
        html(client.get("/cafes/?status=all"))
    assert len(queries) == baseline


def test_registering_a_cafe_through_the_page(world: World, all_clients: dict[str, Client]) -> None:
    client = all_clients["township_worker"]
    form = html(client.get("/cafes/new/"))
    assert '<option value="330127100000">千岛湖镇</option>' in form
    assert "新安江街道" not in form
    valid = {
        "region_code": "330127100000",
        "name": "蓝海网咖",
        "address": "千岛湖镇梦姑路12号",
        "licence_number": "浙网文〔2021〕3456-078号",
        "phone": "13957100456",
    }
    page = html(
        client.post("/cafes/new/", {**valid, "licence_number": world.cafe_a.licence_number, "phone": "123"})
    )
    assert field_errors(page, "licence_number") == ["该许可证号已登记"]
    assert field_errors(page, "phone") == ["电话号码格式不正确：手机为 11 位数字，固定电话须带区号"]
    response = client.post("/cafes/new/", valid)
    cafe = InternetCafe.objects.get(name="蓝海网咖")
    assert response.status_code == 302
    assert response["Location"] == f"/cafes/{cafe.pk}/"
    detail = html(client.get(f"/cafes/{cafe.pk}/"))
    assert '<span id="cafe-phone">139****0456' in detail
    assert "13957100456" not in detail


def test_editing_keeps_the_version_and_refuses_a_stale_one(
    world: World, all_clients: dict[str, Client]
) -> None:
    client = all_clients["township_worker"]
    form = html(client.get(f"/cafes/{world.cafe_a.pk}/edit/"))
    assert '<input type="hidden" name="version" value="1"' in form
    data = {
        "region_code": "330127100000",
        "name": "星空网咖",
        "address": world.cafe_a.address,
        "licence_number": world.cafe_a.licence_number,
        "operator": "陈国强",
        "phone": "13857100123",
        "notes": "周末人多",
        "version": "1",
    }
    assert client.post(f"/cafes/{world.cafe_a.pk}/edit/", data).status_code == 302
    stale = html(client.post(f"/cafes/{world.cafe_a.pk}/edit/", data))
    assert "该网吧信息已被他人修改（当前版本 2，您编辑的是版本 1），请刷新后重新修改。" in stale
    world.cafe_a.refresh_from_db()
    assert (world.cafe_a.notes, world.cafe_a.version) == ("周末人多", 2)


def test_closing_a_cafe_through_the_page(world: World, all_clients: dict[str, Client]) -> None:
    client = all_clients["county_a_admin"]
    page = html(client.post(f"/cafes/{world.cafe_a2.pk}/close/", {"reason": ""}))
    assert field_errors(page, "reason") == ["这个字段是必填项。"]
    assert client.post(f"/cafes/{world.cafe_a2.pk}/close/", {"reason": "已取缔"}).status_code == 302
    world.cafe_a2.refresh_from_db()
    assert (world.cafe_a2.is_open, world.cafe_a2.closed_reason) == (False, "已取缔")


def test_unmasking_the_phone_is_recorded(world: World, all_clients: dict[str, Client]) -> None:
    response = all_clients["county_a_admin"].post(f"/cafes/{world.cafe_a.pk}/unmask/phone/")
    assert html(response) == '<span class="guanai-unmasked" id="cafe-phone">13857100123</span>\n'
    event = AuditEvent.objects.get(action="personal_data.unmask")
    assert (event.target_id, event.changed_fields, event.outcome) == (
        str(world.cafe_a.pk),
        ["phone"],
        "success",
    )


def test_the_cafe_record_lists_its_inspections(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    page = html(all_clients["township_worker"].get(f"/cafes/{world.cafe_a.pk}/"))
    table = page[page.index('id="cafe-inspections"') :]
    assert f'<a href="/cafes/inspections/{finding_a.inspection_id}/">2026年11月30日</a>' in table
    assert f'<a href="/cafes/findings/{finding_a.pk}/">待处理</a>' in table
    detail = html(all_clients["township_worker"].get(f"/cafes/inspections/{finding_a.inspection_id}/"))
    photo = CafeInspectionPhoto.objects.get()
    assert f'src="/cafes/inspections/{finding_a.inspection_id}/photos/{photo.pk}/"' in detail
    assert '<dd class="col-sm-9" id="inspection-problems">接纳未成年人上网</dd>' in detail


def test_staff_record_a_teams_inspection_from_its_paper_form(
    world: World, all_clients: dict[str, Client]
) -> None:
    client = all_clients["township_worker"]
    page = html(client.get(f"/cafes/{world.cafe_a.pk}/inspections/new/"))
    # By pinyin: 李秀英, 王建国 (not 周桂兰, of the care team).
    assert offered_inspectors(page) == [world.li.pk, world.wang.pk]
    posted = {
        "inspected_on": "2026-11-28",
        "duration_minutes": "120",
        "minors_present": "no",
        "id_checks_done": "yes",
        "notices_posted": "yes",
        "other_problem": "no",
        "team_id": str(world.team_a.pk),
    }
    refused = html(client.post(f"/cafes/{world.cafe_a.pk}/inspections/new/", posted))
    assert field_errors(refused, "inspector_ids") == ["请选择参加巡查的队员"]
    response = client.post(
        f"/cafes/{world.cafe_a.pk}/inspections/new/", {**posted, "inspector_ids": [world.li.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/cafes/{world.cafe_a.pk}/"
    inspection = CafeInspection.objects.get()
    assert (list(inspection.inspectors.all()), inspection.duration_minutes, inspection.has_finding) == (
        [world.li],
        120,
        False,
    )


# --- The inspector's phone --------------------------------------------------------------------------


def test_the_inspector_sees_the_cafes_of_their_team_least_recently_inspected_first(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    page = html(all_clients["volunteer"].get("/cafes/inspect/"))
    assert "我的队伍：千岛湖镇网吧义务监督员队" in page
    assert re.findall(r'id="inspect-(\d+)"', page) == [str(world.cafe_a2.pk), str(world.cafe_a.pk)]
    assert "建德网鱼网咖" not in page
    outsider = html(all_clients["outsider"].get("/cafes/inspect/"))
    assert 'id="no-team"' in outsider
    assert 'id="inspect-' not in outsider


def test_the_inspection_form_is_made_of_large_yes_no_buttons(
    world: World, all_clients: dict[str, Client]
) -> None:
    client = all_clients["volunteer"]
    client.post("/preferences/elder-mode/", {"enabled": "1", "next": "/cafes/inspect/"})
    page = html(client.get(f"/cafes/{world.cafe_a.pk}/inspect/"))
    assert '<html lang="zh-hans" class="elder-mode">' in page
    assert 'href="/static/cafes/cafes.css"' in page
    for name in ("minors_present", "id_checks_done", "notices_posted", "other_problem"):
        question = page[page.index(f'id="question-{name}"') :]
        question = question[: question.index("</fieldset>")]
        assert re.findall(
            r'<label class="btn btn-outline-primary" for="id_[a-z_]+_\d">([^<]+)</label>', question
        ) == [
            "是",
            "否",
        ], name
        assert question.count('class="btn-check"') == 2
    assert 'enctype="multipart/form-data"' in page
    assert f'<input type="hidden" name="team_id" value="{world.team_a.pk}"' in page
    # The co-inspectors offered are the other members of the team; the volunteer counts themselves.
    assert offered_inspectors(page) == [world.li.pk]
    css = Path(finders.find("cafes/cafes.css") or "").read_text(encoding="utf-8")
    assert re.search(r"\.cafes-choices \.btn \{[^}]*min-height: 60px;[^}]*min-width: 96px;", css)
    assert re.search(r"\.cafes-submit \{[^}]*min-height: 60px;", css)


def test_an_inspector_records_an_inspection_on_the_phone(
    world: World, all_clients: dict[str, Client]
) -> None:
    client = all_clients["volunteer"]
    url = f"/cafes/{world.cafe_a.pk}/inspect/"
    answers = {
        "inspected_on": "2026-11-30",
        "duration_minutes": "90",
        "minors_present": "yes",
        "id_checks_done": "no",
        "notices_posted": "yes",
        "other_problem": "no",
        "team_id": str(world.team_a.pk),
    }
    page = html(client.post(url, {**answers, "minors_present": ""}))
    assert field_errors(page, "minors_present") == ["请选择“是”或“否”"]
    page = html(client.post(url, answers))
    assert field_errors(page, "minors_found") == ["请填写发现的未成年人人数"]
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(
        url, {**answers, "minors_found": "2", "inspector_ids": [world.li.pk], "photos": photo}
    )
    assert response.status_code == 302
    assert response["Location"] == "/cafes/inspect/"
    inspection = CafeInspection.objects.get()
    assert (inspection.minors_found, inspection.id_checks_done, inspection.has_finding) == (2, False, True)
    assert CafeInspectionPhoto.objects.filter(inspection=inspection).count() == 1
    assert (
        ServiceHours.objects.filter(source_key__startswith=f"cafe_inspection:{inspection.pk}:").count() == 2
    )
    assert [n.user.username for n in Notification.objects.all()] == ["p-county-a"]
    home = html(client.get("/cafes/inspect/"))
    assert "已记录巡查，每位巡查员计入服务时长 1.5 小时。发现的问题已报县关工委跟进。" in home
    assert "发现问题，已报县关工委" in home


# --- Findings ---------------------------------------------------------------------------------------


def test_the_findings_list_with_counts_per_county(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    page = html(all_clients["province_admin"].get("/cafes/findings/"))
    counties = page[page.index('id="county-findings"') :]
    assert re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", counties) == [
        ("淳安县", "1", "0")
    ]
    assert f'<a href="/cafes/findings/{finding_a.pk}/">星空网咖</a>' in page
    assert "共 0 个问题" in html(all_clients["county_b_admin"].get("/cafes/findings/"))


def test_a_finding_is_followed_up_and_closed_only_with_an_outcome(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    client = all_clients["county_a_admin"]
    url = f"/cafes/findings/{finding_a.pk}/"
    page = html(client.get(url))
    assert 'id="close-form"' in page
    assert 'name="close-outcome" value="penalised"' in page
    assert 'id="close-form"' not in html(all_clients["village_liaison"].get(url))
    assert client.post(f"{url}follow-up/", {"follow_up-note": "已约谈经营者"}).status_code == 302
    refused = html(client.post(f"{url}close/", {"close-note": "已处理"}))
    assert field_errors(refused, "close-outcome") == ["请选择处理结果"]
    finding_a.refresh_from_db()
    assert (finding_a.state, finding_a.follow_up_note) == ("open", "已约谈经营者")
    response = client.post(
        f"{url}close/", {"close-outcome": "no_problem_found", "close-note": "复查无未成年人"}
    )
    assert response.status_code == 302
    closed = html(client.get(url))
    assert '<dd class="col-sm-9" id="finding-state">已办结：经核实无问题</dd>' in closed
    assert 'id="close-form"' not in closed


# --- Who may open what ------------------------------------------------------------------------------


def test_authorization_matrix_of_the_pages(
    world: World, all_clients: dict[str, Client], finding_a: CafeFinding
) -> None:
    a, a2, b, f = world.cafe_a.pk, world.cafe_a2.pk, world.cafe_b.pk, finding_a.pk
    inspection = finding_a.inspection_id
    photo = CafeInspectionPhoto.objects.get().pk
    # The photo itself (a file response) is served to the same people: guanai/cafes/tests/test_photos.py.
    pages = [
        "/cafes/",
        "/cafes/findings/",
        f"/cafes/{a}/",
        f"/cafes/findings/{f}/",
        f"/cafes/inspections/{inspection}/",
    ]
    views = [*pages, f"/cafes/inspections/{inspection}/photos/{photo}/"]
    manages = ["/cafes/new/", f"/cafes/{a}/edit/", f"/cafes/{a}/close/", f"/cafes/{a}/inspections/new/"]
    answers = {
        "inspected_on": "2026-11-30",
        "duration_minutes": "60",
        "minors_present": "no",
        "id_checks_done": "yes",
        "notices_posted": "yes",
        "other_problem": "no",
    }
    not_staff = ("volunteer", "lawyer", "counsellor", "outsider", "auditor", "system_admin")
    checks = [
        *[
            Check(p, "GET", path, 200)
            for p in ("province_admin", "county_a_admin", "township_worker")
            for path in pages
        ],
        *[Check("village_liaison", "GET", path, 200) for path in pages],
        *[Check(p, "GET", path, 200) for p in ("county_a_admin", "township_worker") for path in manages],
        *[Check(p, "GET", path, 403) for p in not_staff for path in views + manages],
        *[Check("village_liaison", "GET", path, 403) for path in manages],
        *[Check(ANONYMOUS, "GET", path, 302) for path in views + manages],
        # Another county's café, inspection, photo and finding answer as if they did not exist.
        *[
            Check("county_b_admin", "GET", path, 404, must_not_contain=("星空网咖",))
            for path in views[2:] + manages[1:]
        ],
        Check("township_worker", "GET", f"/cafes/{b}/", 404, must_not_contain=("建德网鱼网咖",)),
        Check("village_liaison", "GET", f"/cafes/{b}/", 404),
        Check(
            "county_a_admin", "GET", "/cafes/?region=330182000000", 200, must_not_contain=("建德网鱼网咖",)
        ),
        # Writes of staff pages.
        Check("county_b_admin", "POST", f"/cafes/{a}/unmask/phone/", 404),
        Check("county_b_admin", "POST", f"/cafes/{a}/close/", 404, form={"reason": "x"}),
        Check(
            "county_b_admin", "POST", f"/cafes/findings/{f}/close/", 404, form={"close-outcome": "penalised"}
        ),
        Check("county_b_admin", "POST", f"/cafes/findings/{f}/follow-up/", 404, form={"follow_up-note": "x"}),
        Check("county_b_admin", "POST", f"/cafes/{a}/inspections/new/", 404, form=answers),
        *[
            Check(p, "POST", path, 403, form=form)
            for p in ("village_liaison", "volunteer", "auditor")
            for path, form in (
                (f"/cafes/{a}/unmask/phone/", {}),
                (f"/cafes/{a}/close/", {"reason": "x"}),
                (f"/cafes/findings/{f}/close/", {"close-outcome": "penalised"}),
                (f"/cafes/findings/{f}/follow-up/", {"follow_up-note": "x"}),
                ("/cafes/new/", {"region_code": "330127100000", "name": "x", "address": "y"}),
            )
        ],
        # The inspector's pages: members of a team covering the café only.
        Check("volunteer", "GET", "/cafes/inspect/", 200),
        Check("outsider", "GET", "/cafes/inspect/", 200, must_not_contain=("星空网咖",)),
        Check("lawyer", "GET", "/cafes/inspect/", 200, must_not_contain=("星空网咖",)),
        Check("volunteer", "GET", f"/cafes/{a}/inspect/", 200),
        Check("volunteer", "GET", f"/cafes/{b}/inspect/", 404, must_not_contain=("建德网鱼网咖",)),
        Check("outsider", "GET", f"/cafes/{a}/inspect/", 404),
        Check("outsider", "POST", f"/cafes/{a}/inspect/", 404, form=answers),
        Check("volunteer", "POST", f"/cafes/{b}/inspect/", 404, form=answers),
        *[
            Check(p, method, f"/cafes/{a}/inspect/", 403, form=answers if method == "POST" else None)
            for p in (
                "province_admin",
                "county_a_admin",
                "township_worker",
                "village_liaison",
                "auditor",
                "system_admin",
            )
            for method in ("GET", "POST")
        ],
        *[Check(p, "GET", "/cafes/inspect/", 403) for p in ("township_worker", "village_liaison", "auditor")],
        Check(ANONYMOUS, "GET", "/cafes/inspect/", 302),
        Check(ANONYMOUS, "POST", f"/cafes/{a}/inspect/", 302, form=answers),
        # What they may do, last.
        Check("volunteer", "POST", f"/cafes/{a2}/inspect/", 302, form=answers),
        Check("county_a_admin", "POST", f"/cafes/{a}/unmask/phone/", 200),
        Check(
            "township_worker", "POST", f"/cafes/findings/{f}/close/", 302, form={"close-outcome": "penalised"}
        ),
    ]
    assert assert_authorization_matrix(all_clients, checks) == len(checks)
    assert CafeInspection.objects.filter(cafe_id=a2).count() == 1
    assert CafeFinding.objects.get(pk=f).outcome == "penalised"
