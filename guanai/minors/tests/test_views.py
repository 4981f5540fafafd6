"""The registry's pages: finding children, a child's record, registering and editing (inline checks,
conflicts, the transfer offer), duplicates, and who may open what."""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.access import Role
from guanai.core.testing import Check, assert_authorization_matrix, count_queries, verified_client
from guanai.minors.models import Consent, DuplicateFlag, Guardian, Minor, TransferRequest
from guanai.minors.services import MinorInput, minor_update
from guanai.minors.tests.factories import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY_A_PREFIX,
    COUNTY_B_PREFIX,
    VILLAGE_A,
    ConsentFactory,
    GuardianFactory,
    MinorFactory,
    make_id_number,
)

pytestmark = pytest.mark.django_db

ZHANG_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(2015, 3, 8), 11)  # a boy, 淳安县
LI_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(2012, 9, 1), 22)  # a girl
WANG_ID = make_id_number(COUNTY_B_PREFIX, datetime.date(2013, 6, 30), 33)  # a boy, 建德市
ZHANG_PHONE = "13957112345"
TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def today(time_machine: Any) -> None:
    """Ages and "verification overdue" depend on the day: the tests run on one."""
    time_machine.move_to(TODAY, tick=False)


@dataclass
class Registry:
    zhang: Minor  # 张三明, 富城村, left-behind, guardian with a phone, a consent
    li: Minor  # 李四妹, 青城社区, plight (poverty), high risk, psychological need, verified this year
    wang: Minor  # 王五, 建德市
    guardian: Guardian


@pytest.fixture
def registry(personas: dict[str, Any]) -> Registry:
    zhang = MinorFactory.create(
        name="张三明",
        id_number=ZHANG_ID,
        region_id=VILLAGE_A,
        categories=1,
        needs=1,
        school="千岛湖镇中心小学",
        address="浙江省杭州市淳安县千岛湖镇富城村12号",
    )
    li = MinorFactory.create(
        name="李四妹",
        id_number=LI_ID,
        region_id=COMMUNITY_A,
        categories=2,
        needs=2,
        risk_level="high",
        risk_reason="家中无人照看",
        school="淳安县第二中学",
        last_verified_on=TODAY.date(),
        household_type="urban",
    )
    wang = MinorFactory.create(
        name="王五",
        id_number=WANG_ID,
        region_id=COMMUNITY_B,
        address="浙江省杭州市建德市新安江街道白沙路1号",
        school="建德市新安江第一小学",
    )
    guardian = GuardianFactory.create(minor=zhang, name="张大山", relationship="父亲", phone=ZHANG_PHONE)
    ConsentFactory.create(minor=zhang, given_by="张大山", relationship="父亲")
    return Registry(zhang=zhang, li=li, wang=wang, guardian=guardian)


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def listed(client: Client, query: str = "") -> list[str]:
    """The names in the list's table, in order."""
    page = html(client.get(f"/minors/{query}", headers={"HX-Request": "true"}))
    table = page[page.index('id="minor-list"') :]
    return re.findall(r'<td><a href="/minors/\d+/">([^<]+)</a></td>', table)


# --- Finding children -------------------------------------------------------------------------------


def test_the_county_admin_sees_own_county_only_with_id_numbers_masked(
    clients: dict[str, Client], registry: Registry
) -> None:
    page = html(clients["county_a_admin"].get("/minors/"))
    assert "张三明" in page
    assert "李四妹" in page
    assert "王五" not in page
    assert ZHANG_ID not in page
    assert ZHANG_ID[:6] + "********" + ZHANG_ID[-4:] in page
    assert listed(clients["county_b_admin"]) == ["王五"]
    assert listed(clients["province_admin"]) == ["李四妹", "王五", "张三明"]  # by pinyin
    assert listed(clients["township_worker"]) == ["李四妹", "张三明"]


def test_a_village_liaison_sees_names_masked(registry: Registry, regions: None) -> None:
    from guanai.accounts.services import role_assign, user_create
    from guanai.regions.models import Region

    liaison = user_create(username="p-liaison", password=None, display_name="联络员")
    role_assign(
        user=liaison,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code=VILLAGE_A),
        valid_from=datetime.date(2020, 1, 1),
    )
    client = verified_client(liaison)
    assert listed(client) == ["张*明"]
    detail = html(client.get(f"/minors/{registry.zhang.pk}/"))
    assert "张三明" not in detail
    assert 'id="unmask-id-number"' not in detail
    assert 'id="audit-trail"' not in detail  # no RECORD_HISTORY_VIEW
    # The liaison keeps the record up to date without the name reaching the page: blank keeps it.
    edit = html(client.get(f"/minors/{registry.zhang.pk}/edit/"))
    assert "张三明" not in edit
    assert 'placeholder="张*明"' in edit
    response = client.post(
        f"/minors/{registry.zhang.pk}/edit/", edit_data(registry.zhang, name="", grade="五年级")
    )
    assert response.status_code == 302
    registry.zhang.refresh_from_db()
    assert (registry.zhang.name, registry.zhang.grade) == ("张三明", "五年级")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zsm", ["张三明"]),
        ("ZSM", ["张三明"]),
        ("zhangsanming", ["张三明"]),
        ("zhang", ["张三明"]),
        ("四妹", ["李四妹"]),
        (LI_ID, ["李四妹"]),
        (ZHANG_PHONE, ["张三明"]),
        (WANG_ID, []),  # another county's child is not found by her ID number either
        ("ws", []),
    ],
)
def test_search_by_name_pinyin_initials_id_number_and_guardian_phone(
    clients: dict[str, Client], registry: Registry, query: str, expected: list[str]
) -> None:
    from urllib.parse import quote

    assert listed(clients["county_a_admin"], f"?q={quote(query)}") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?category=1", ["张三明"]),
        ("?category=2", ["李四妹"]),
        ("?category=1&category=2", []),
        ("?need=2", ["李四妹"]),
        ("?risk_level=high", ["李四妹"]),
        ("?gender=female", ["李四妹"]),
        ("?min_age=13", ["李四妹"]),
        ("?max_age=12", ["张三明"]),
        ("?school=中心小学", ["张三明"]),
        ("?verification_overdue=on", ["张三明"]),
        ("?region=330127100000", ["李四妹", "张三明"]),
        ("?sort=-name", ["张三明", "李四妹"]),
        ("?sort=-age", ["李四妹", "张三明"]),
        ("?status=closed", []),
        ("?status=all", ["李四妹", "张三明"]),
    ],
)
def test_filters_and_sorting(
    clients: dict[str, Client], registry: Registry, query: str, expected: list[str]
) -> None:
    assert listed(clients["county_a_admin"], query) == expected


def test_filtering_by_another_countys_region_shows_a_warning_not_its_children(
    clients: dict[str, Client], registry: Registry
) -> None:
    page = html(clients["county_a_admin"].get("/minors/?region=330182001000"))
    assert "王五" not in page
    # The region select offers only the county's own townships.
    assert "新安江街道" not in page
    assert "千岛湖镇" in page


def test_an_htmx_request_gets_the_table_only(clients: dict[str, Client], registry: Registry) -> None:
    page = html(clients["county_a_admin"].get("/minors/?q=zsm", headers={"HX-Request": "true"}))
    assert "<html" not in page
    assert 'id="minor-count"' in page
    assert "共 1 名儿童" in page


def test_pagination_fifty_a_page(clients: dict[str, Client], personas: dict[str, Any]) -> None:
    MinorFactory.create_batch(60, region_id=COMMUNITY_A)
    client = clients["county_a_admin"]
    first = html(client.get("/minors/"))
    assert "共 60 名儿童" in first
    assert "第 1 / 2 页" in first
    assert len(listed(client)) == 50
    assert len(listed(client, "?page=2")) == 10
    assert 'href="/minors/?page=2"' in first


def test_the_list_uses_a_fixed_number_of_queries(
    clients: dict[str, Client], personas: dict[str, Any]
) -> None:
    client = clients["county_a_admin"]
    MinorFactory.create_batch(5, region_id=COMMUNITY_A)
    client.get("/minors/")  # warm the session
    with count_queries() as few:
        assert html(client.get("/minors/?category=1&sort=-age"))
    MinorFactory.create_batch(55, region_id=VILLAGE_A)
    with count_queries() as many:
        assert html(client.get("/minors/?category=1&sort=-age"))
    assert len(many) == len(few)


# --- One child --------------------------------------------------------------------------------------


def test_the_detail_page_masks_and_records_the_view(clients: dict[str, Client], registry: Registry) -> None:
    zhang = registry.zhang
    page = html(clients["county_a_admin"].get(f"/minors/{zhang.pk}/"))
    assert "张三明" in page
    assert ZHANG_ID not in page
    assert ZHANG_PHONE not in page
    assert "富城村12号" not in page
    assert "浙江省杭州市淳安县千岛湖镇****" in page
    assert "139****2345" in page
    for button in ("unmask-id-number", "unmask-address", f"unmask-guardian-{registry.guardian.pk}"):
        assert f'id="{button}"' in page
    assert 'id="audit-trail"' in page
    assert "查看儿童信息" in page  # this very view, in "who viewed this"
    assert 'id="close-form"' in page
    events = AuditEvent.objects.filter(action="minor.view", target_id=str(zhang.pk))
    assert list(events.values_list("actor_username", "target_type", "region_code")) == [
        ("p-county-a", "minors.minor", VILLAGE_A)
    ]


def test_unmasking_each_field_is_audited(clients: dict[str, Client], registry: Registry) -> None:
    client = clients["county_a_admin"]
    zhang = registry.zhang
    assert ZHANG_ID in html(client.post(f"/minors/{zhang.pk}/unmask/id_number/"))
    assert "富城村12号" in html(client.post(f"/minors/{zhang.pk}/unmask/address/"))
    phone = html(client.post(f"/minors/{zhang.pk}/guardians/{registry.guardian.pk}/unmask/"))
    assert ZHANG_PHONE in phone
    events = AuditEvent.objects.filter(action="personal_data.unmask").order_by("id")
    assert list(events.values_list("target_type", "target_id", "changed_fields", "outcome")) == [
        ("minors.minor", str(zhang.pk), ["id_number"], "success"),
        ("minors.minor", str(zhang.pk), ["address"], "success"),
        ("minors.guardian", str(registry.guardian.pk), ["phone"], "success"),
    ]
    assert client.post(f"/minors/{zhang.pk}/unmask/name/").status_code == 404
    # A guardian of another child through this child's address answers 404.
    other = GuardianFactory.create(minor=registry.li)
    assert client.post(f"/minors/{zhang.pk}/guardians/{other.pk}/unmask/").status_code == 404


def test_closing_a_record_needs_a_reason(clients: dict[str, Client], registry: Registry) -> None:
    client = clients["county_a_admin"]
    zhang = registry.zhang
    response = client.post(f"/minors/{zhang.pk}/close/", {"reason": ""})
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.status == "active"
    client.post(f"/minors/{zhang.pk}/close/", {"reason": "随父母迁往外省"})
    zhang.refresh_from_db()
    assert (zhang.status, zhang.closed_reason, zhang.version) == ("closed", "随父母迁往外省", 2)
    assert "已结案" in html(client.get(f"/minors/{zhang.pk}/"))


def test_withdrawing_a_consent(clients: dict[str, Client], registry: Registry) -> None:
    consent = Consent.objects.get(minor=registry.zhang)
    client = clients["county_a_admin"]
    assert client.post(f"/minors/{registry.li.pk}/consents/{consent.pk}/withdraw/").status_code == 404
    assert client.post(f"/minors/{registry.zhang.pk}/consents/{consent.pk}/withdraw/").status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_on == TODAY.date()
    assert "撤回" in html(client.get(f"/minors/{registry.zhang.pk}/"))


# --- Registering and editing -----------------------------------------------------------------------


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def new_child(**changes: str) -> dict[str, str]:
    data = {
        "name": "赵小花",
        "id_number": make_id_number(COUNTY_A_PREFIX, datetime.date(2016, 4, 2), 44),
        "region_code": VILLAGE_A,
        "address": "浙江省杭州市淳安县千岛湖镇富城村8号",
        "household_type": "rural",
        "school": "富城小学",
        "grade": "三年级",
        "categories": "1",
        "needs": "1",
        "risk_level": "medium",
        "fact_father_situation": "在宁波务工",
        **management("guardians", 2),
        "guardians-0-name": "赵大成",
        "guardians-0-relationship": "父亲",
        "guardians-0-phone": "13800571234",
        "guardians-0-can_care": "on",
        **management("consents", 1),
        "consents-0-given_by": "赵大成",
        "consents-0-relationship": "父亲",
        "consents-0-is_guardian": "on",
        "consents-0-notice_version": "2026-1",
        "consents-0-scope": "registration",
        "consents-0-given_on": "2026-03-01",
    }
    data.update(changes)
    return data


def test_registering_a_child_with_guardian_and_consent(clients: dict[str, Client], personas: Any) -> None:
    client = clients["county_a_admin"]
    assert 'id="minor-form"' in html(client.get("/minors/new/"))
    response = client.post("/minors/new/", new_child())
    assert response.status_code == 302
    child = Minor.objects.get(name="赵小花")
    assert response["Location"] == f"/minors/{child.pk}/"
    assert (child.gender, child.birth_date, child.categories, child.facts) == (
        "female",
        datetime.date(2016, 4, 2),
        1,
        {"father_situation": "在宁波务工"},
    )
    assert [(g.name, g.phone) for g in child.guardians.all()] == [("赵大成", "13800571234")]
    assert [(c.given_by, c.scope) for c in child.consents.all()] == [("赵大成", ["registration"])]
    assert AuditEvent.objects.filter(action="minor.create", target_id=str(child.pk)).count() == 1


def test_the_form_shows_the_services_errors_on_their_fields(
    clients: dict[str, Client], personas: Any
) -> None:
    client = clients["county_a_admin"]
    page = html(client.post("/minors/new/", new_child(gender="male")))
    assert "性别与身份证号不一致" in page
    page = html(client.post("/minors/new/", new_child(**{"guardians-0-phone": "12345"})))
    assert "电话号码格式不正确" in page
    too_old = make_id_number(COUNTY_A_PREFIX, datetime.date(2010, 1, 5), 45)
    page = html(client.post("/minors/new/", new_child(id_number=too_old)))
    assert "农村留守儿童须未满 16 周岁" in page
    assert not Minor.objects.exists()


def test_inline_validation_answers_error_slots_and_saves_nothing(
    clients: dict[str, Client], personas: Any
) -> None:
    client = clients["county_a_admin"]
    headers = {"HX-Request": "true", "HX-Trigger-Name": "id_number"}
    bad = new_child(id_number="330127201604020449", _validate="1")
    page = html(client.post("/minors/new/", bad, headers=headers))
    assert (
        '<div id="error-id_number" class="invalid-feedback d-block" aria-live="polite" hx-swap-oob="true">'
        in page
    )
    assert "身份证号校验位不正确" in page
    assert "<html" not in page
    # A field not yet filled in gets an empty slot, not "required".
    page = html(
        client.post(
            "/minors/new/",
            {"name": "钱", "_validate": "1"},
            headers={"HX-Request": "true", "HX-Trigger-Name": "name"},
        )
    )
    assert 'id="error-region_code"' in page
    assert "这个字段是必填项" not in page
    # The record's own rules run too, without saving.
    page = html(client.post("/minors/new/", new_child(gender="male", _validate="1"), headers=headers))
    assert "性别与身份证号不一致" in page
    page = html(client.post("/minors/new/", new_child(_validate="1"), headers=headers))
    assert "invalid-feedback" in page
    assert "<div>" not in page.replace('<div id="', "")
    assert not Minor.objects.exists()
    assert not AuditEvent.objects.filter(action="minor.create").exists()


def test_an_id_number_registered_in_another_county_names_only_that_county_and_offers_a_transfer(
    clients: dict[str, Client], registry: Registry
) -> None:
    client = clients["county_a_admin"]
    page = html(client.post("/minors/new/", new_child(id_number=WANG_ID)))
    assert "该儿童已在建德市登记，可向该县申请转移。" in page
    assert 'id="transfer-request"' in page
    assert "向建德市申请转入本县" in page
    assert "王五" not in page
    assert "白沙" not in page
    assert "新安江" not in page
    validation = html(
        client.post(
            "/minors/new/",
            new_child(id_number=WANG_ID, _validate="1"),
            headers={"HX-Request": "true", "HX-Trigger-Name": "id_number"},
        )
    )
    assert 'id="transfer-offer" hx-swap-oob="true"' in validation
    assert "已在建德市登记" in validation
    response = client.post("/minors/transfer-requests/", {"id_number": WANG_ID, "reason": "随母亲迁入"})
    assert response.status_code == 302
    transfer = TransferRequest.objects.get()
    assert (transfer.minor_id, transfer.from_region_id, transfer.to_region_id, transfer.reason) == (
        registry.wang.pk,
        "330182000000",
        "330127000000",
        "随母亲迁入",
    )
    assert "已向建德市提交转移申请" in html(client.get("/minors/"))


def edit_data(minor: Minor, **changes: str) -> dict[str, str]:
    guardians = list(minor.guardians.all())
    data = {
        "version": str(minor.version),
        "name": minor.name,
        "id_number": "",
        "region_code": minor.region_id,
        "address": "",
        "household_type": minor.household_type,
        "school": minor.school,
        "grade": minor.grade,
        "categories": [str(flag) for flag in (1, 2, 4, 8, 16, 32, 64, 128) if minor.categories & flag],
        "needs": [str(flag) for flag in (1, 2, 4, 8, 16, 32, 64) if minor.needs & flag],
        "risk_level": minor.risk_level,
        "risk_reason": minor.risk_reason,
        **management("guardians", len(guardians) + 1, len(guardians)),
        **management("consents", 1),
    }
    for index, guardian in enumerate(guardians):
        data |= {
            f"guardians-{index}-guardian_id": str(guardian.pk),
            f"guardians-{index}-name": guardian.name,
            f"guardians-{index}-relationship": guardian.relationship,
            f"guardians-{index}-phone": "",
            f"guardians-{index}-can_care": "on" if guardian.can_care else "",
        }
    data.update(changes)
    return data  # type: ignore[return-value]


def test_editing_keeps_the_masked_values_that_were_left_blank(
    clients: dict[str, Client], registry: Registry
) -> None:
    client = clients["county_a_admin"]
    zhang = registry.zhang
    page = html(client.get(f"/minors/{zhang.pk}/edit/"))
    assert ZHANG_ID not in page
    assert ZHANG_PHONE not in page
    assert "富城村12号" not in page
    assert 'name="version" value="1"' in page
    response = client.post(f"/minors/{zhang.pk}/edit/", edit_data(zhang, school="富城小学", grade="五年级"))
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert (zhang.school, zhang.grade, zhang.version) == ("富城小学", "五年级", 2)
    assert zhang.id_number == ZHANG_ID
    assert zhang.address == "浙江省杭州市淳安县千岛湖镇富城村12号"
    assert [(g.name, g.phone) for g in zhang.guardians.all()] == [("张大山", ZHANG_PHONE)]
    event = AuditEvent.objects.get(action="minor.update")
    assert sorted(event.changed_fields) == ["grade", "school"]


def test_a_save_based_on_an_old_version_shows_the_conflict_and_overwrites_nothing(
    clients: dict[str, Client], registry: Registry, personas: Any
) -> None:
    client = clients["county_a_admin"]
    zhang = registry.zhang
    stale = edit_data(zhang, school="我填写的学校")
    # Someone else saves in between.
    minor_update(
        actor=actor_for_user(personas["township_worker"]),
        minor_id=zhang.pk,
        version=1,
        data=MinorInput(
            name="张三明", region_code=VILLAGE_A, id_number=ZHANG_ID, school="他人改的学校", categories=1
        ),
    )
    response = client.post(f"/minors/{zhang.pk}/edit/", stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert "该记录已被他人修改（当前版本 2，您编辑的是版本 1）" in page
    assert 'value="我填写的学校"' in page  # what the editor tried stays in the form
    assert re.search(r'id="conflict-fields">[^<]*就读学校', page)
    assert f'href="/minors/{zhang.pk}/edit/" id="conflict-reload"' in page
    assert 'name="version" value="1"' in page  # saving again still conflicts until reloaded
    zhang.refresh_from_db()
    assert (zhang.school, zhang.version) == ("他人改的学校", 2)


def test_removing_and_adding_guardians(clients: dict[str, Client], registry: Registry) -> None:
    client = clients["county_a_admin"]
    zhang = registry.zhang
    data = edit_data(
        zhang,
        **{
            "guardians-0-DELETE": "on",
            "guardians-1-name": "李桂芳",
            "guardians-1-relationship": "祖母",
            "guardians-1-phone": "0571-65012345",
            "guardians-1-is_entrusted_carer": "on",
            "guardians-1-can_care": "on",
        },
    )
    assert client.post(f"/minors/{zhang.pk}/edit/", data).status_code == 302
    assert [(g.name, g.phone, g.is_entrusted_carer) for g in zhang.guardians.all()] == [
        ("李桂芳", "0571-65012345", True)
    ]


# --- Duplicates -----------------------------------------------------------------------------------


@pytest.fixture
def duplicate(registry: Registry) -> DuplicateFlag:
    """The same child registered twice, the second time without an ID number."""
    twin = MinorFactory.create(
        name="张三明",
        id_number=None,
        birth_date=registry.zhang.birth_date,
        gender="male",
        region_id=COMMUNITY_A,
    )
    GuardianFactory.create(minor=twin, name="张大山", relationship="父亲", phone="13900000001")
    first, second = sorted((registry.zhang.pk, twin.pk))
    return DuplicateFlag.objects.create(first_id=first, second_id=second, reason="name_birth")


def test_merging_a_duplicate_keeps_the_chosen_record(
    clients: dict[str, Client], registry: Registry, duplicate: DuplicateFlag
) -> None:
    client = clients["county_a_admin"]
    page = html(client.get("/minors/duplicates/"))
    assert f'id="merge-{duplicate.pk}"' in page
    assert "姓名拼音与出生日期相同" in page
    assert ZHANG_ID not in page
    assert html(clients["county_b_admin"].get("/minors/duplicates/")).count("merge-") == 0
    # No record chosen, or one outside the pair: asked again, nothing merged.
    for keep in ("", str(registry.zhang.pk + 1000)):
        response = client.post(f"/minors/duplicates/{duplicate.pk}/merge/", {"keep": keep}, follow=True)
        assert "请选择要保留的记录。" in html(response)
        duplicate.refresh_from_db()
        assert duplicate.state == "open"
    response = client.post(f"/minors/duplicates/{duplicate.pk}/merge/", {"keep": str(registry.zhang.pk)})
    assert response["Location"] == f"/minors/{registry.zhang.pk}/"
    duplicate.refresh_from_db()
    twin = Minor.objects.get(pk=duplicate.second_id)
    assert (duplicate.state, twin.status, twin.closed_reason) == (
        "merged",
        "closed",
        f"合并至 #{registry.zhang.pk}",
    )
    assert registry.zhang.guardians.count() == 2
    assert "没有待核实的疑似重复记录" in html(client.get("/minors/duplicates/"))


def test_dismissing_a_duplicate(clients: dict[str, Client], duplicate: DuplicateFlag) -> None:
    assert clients["county_b_admin"].post(f"/minors/duplicates/{duplicate.pk}/dismiss/").status_code == 404
    response = clients["township_worker"].post(f"/minors/duplicates/{duplicate.pk}/dismiss/")
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == "dismissed"
    event = AuditEvent.objects.get(action="minor.duplicate_dismissed")
    assert (event.target_id, event.detail) == (str(duplicate.first_id), {"other": duplicate.second_id})


# --- Who may open what ----------------------------------------------------------------------------


def test_the_navigation_offers_the_registry_to_those_who_may_see_it(clients: dict[str, Client]) -> None:
    assert 'href="/minors/"' in html(clients["township_worker"].get("/"))
    assert 'href="/minors/"' not in html(clients["volunteer"].get("/"))
    assert 'href="/minors/"' not in html(clients["auditor"].get("/"))


def test_authorization_matrix_of_the_pages(
    clients: dict[str, Client], registry: Registry, duplicate: DuplicateFlag
) -> None:
    a, b = registry.zhang.pk, registry.wang.pk
    guardian = registry.guardian.pk
    consent = Consent.objects.get(minor=registry.zhang).pk
    reads = ["/minors/", f"/minors/{a}/"]
    manage_pages = ["/minors/new/", f"/minors/{a}/edit/", "/minors/duplicates/"]
    secrets = (ZHANG_ID, ZHANG_PHONE, "富城村12号")
    checks: list[Check] = []
    for persona in ("anonymous",):
        checks += [Check(persona, "GET", path, 302) for path in reads + manage_pages]
        checks += [Check(persona, "POST", f"/minors/{a}/unmask/id_number/", 302)]
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=("张三明",)) for path in reads + manage_pages
        ]
        checks += [
            Check(persona, "POST", f"/minors/{a}/unmask/id_number/", 403, must_not_contain=secrets),
            Check(
                persona, "POST", f"/minors/{a}/guardians/{guardian}/unmask/", 403, must_not_contain=secrets
            ),
            Check(persona, "POST", f"/minors/{a}/close/", 403, form={"reason": "x"}),
            Check(persona, "POST", f"/minors/duplicates/{duplicate.pk}/dismiss/", 403),
        ]
    # Another county: every record of county A answers 404, as if it did not exist.
    checks += [
        Check("county_b_admin", "GET", f"/minors/{a}/", 404, must_not_contain=("张三明",)),
        Check("county_b_admin", "GET", f"/minors/{a}/edit/", 404, must_not_contain=("张三明",)),
        Check("county_b_admin", "POST", f"/minors/{a}/edit/", 404, form=edit_data(registry.zhang)),
        Check("county_b_admin", "POST", f"/minors/{a}/unmask/id_number/", 404, must_not_contain=secrets),
        Check("county_b_admin", "POST", f"/minors/{a}/unmask/address/", 404, must_not_contain=secrets),
        Check(
            "county_b_admin",
            "POST",
            f"/minors/{a}/guardians/{guardian}/unmask/",
            404,
            must_not_contain=secrets,
        ),
        Check("county_b_admin", "POST", f"/minors/{a}/close/", 404, form={"reason": "x"}),
        Check("county_b_admin", "POST", f"/minors/{a}/consents/{consent}/withdraw/", 404),
        Check(
            "county_b_admin", "POST", f"/minors/duplicates/{duplicate.pk}/merge/", 404, form={"keep": str(a)}
        ),
        Check("county_b_admin", "POST", f"/minors/duplicates/{duplicate.pk}/dismiss/", 404),
        Check("county_a_admin", "GET", f"/minors/{b}/", 404, must_not_contain=("王五",)),
        Check("township_worker", "GET", f"/minors/{b}/", 404),
        Check("county_a_admin", "GET", "/minors/999999/", 404),
    ]
    for persona in ("province_admin", "county_a_admin", "township_worker"):
        checks += [Check(persona, "GET", path, 200) for path in reads + manage_pages]
    checks += [
        Check("county_b_admin", "GET", f"/minors/{b}/", 200),
        Check("county_a_admin", "GET", f"/minors/{a}/unmask/id_number/", 405),
        Check("county_a_admin", "POST", f"/minors/{a}/unmask/id_number/", 200),
        Check("township_worker", "POST", f"/minors/{a}/guardians/{guardian}/unmask/", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


# --- The roster import ------------------------------------------------------------------------------

IMPORT_ID = make_id_number(COUNTY_A_PREFIX, datetime.date(2014, 2, 3), 55)
IMPORT_PHONE = "13905710001"


def roster_file(name: str = "千岛湖镇花名册.xlsx") -> Any:
    """A small township roster: a title row above the header, a 序号 column, one good row, one refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["淳安县千岛湖镇困境儿童花名册"])
    sheet.append(
        ["序号", "儿童姓名", "身份证号", "所在村（社区）", "儿童类别", "监护人姓名", "与儿童关系", "联系电话"]
    )
    sheet.append([1, "孙小梅", IMPORT_ID, "富城村", "留守儿童", "孙建国", "父亲", IMPORT_PHONE])
    sheet.append([2, "周小兵", "330127201402030550", "富城村", "留守儿童", "周海", "父亲", "13905710002"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


@pytest.fixture
def import_files(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports" / "minors"


def upload(client: Client, region: str = "330127000000") -> str:
    response = client.post("/minors/import/", {"file": roster_file(), "region": region})
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.fullmatch(r"/minors/import/([0-9a-f]{32})/", response["Location"])
    assert match is not None
    return match.group(1)


def test_importing_a_roster_step_by_step(
    clients: dict[str, Client], personas: Any, import_files: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from openpyxl import load_workbook

    from guanai.imports.models import ImportBatch

    client = clients["county_a_admin"]
    page = html(client.get("/minors/import/"))
    assert 'href="/minors/import/template.xlsx"' in page
    assert '<option value="330127000000">淳安县</option>' in page
    assert '<option value="330127100000">千岛湖镇</option>' in page
    token = upload(client)
    # Step 2: the columns as detected, and the first rows with ID numbers and phones masked.
    response = client.get(f"/minors/import/{token}/")
    page = html(response)
    assert "表头在第 2 行" in page
    assert IMPORT_ID not in page
    assert IMPORT_PHONE not in page
    assert IMPORT_ID[:6] + "********" + IMPORT_ID[-4:] in page
    assert "孙小梅" in page
    mapping = response.context["form"].initial
    assert mapping["name"] == "1"
    assert mapping["id_number"] == "2"
    assert mapping["guardian_phone"] == "7"
    # Step 3: a dry run writes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/minors/import/{token}/", mapping)
    dry_run = ImportBatch.objects.get()
    assert response["Location"] == f"/minors/import/batches/{dry_run.pk}/"
    assert (dry_run.is_dry_run, dry_run.status, dry_run.rows, dry_run.created, dry_run.error_count) == (
        True,
        "succeeded",
        2,
        1,
        1,
    )
    assert not Minor.objects.exists()
    page = html(client.get(f"/minors/import/batches/{dry_run.pk}/"))
    assert "将新增 1 人" in page
    assert "<td>4</td><td>身份证号</td>" in page
    assert f'action="/minors/import/{token}/commit/"' in page
    assert f'href="/minors/import/batches/{dry_run.pk}/errors.xlsx"' in page
    # The refused rows as a workbook, for the uploader only.
    response = client.get(f"/minors/import/batches/{dry_run.pk}/errors.xlsx")
    assert response.status_code == 200
    refused = load_workbook(io.BytesIO(streamed(response)))
    values = [[cell.value for cell in row] for row in refused.worksheets[0].iter_rows()]
    assert any("周小兵" in row for row in values)
    assert not any("孙小梅" in row for row in values)
    assert (
        clients["province_admin"].get(f"/minors/import/batches/{dry_run.pk}/errors.xlsx").status_code == 404
    )
    # Step 4: the import itself, with the same columns.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/minors/import/{token}/commit/")
    batch = ImportBatch.objects.exclude(pk=dry_run.pk).get()
    assert response["Location"] == f"/minors/import/batches/{batch.pk}/"
    assert (batch.is_dry_run, batch.status, batch.created, batch.error_count) == (False, "succeeded", 1, 1)
    child = Minor.objects.get()
    assert (child.name, child.id_number, child.region_id) == ("孙小梅", IMPORT_ID, VILLAGE_A)
    assert [guardian.phone for guardian in child.guardians.all()] == [IMPORT_PHONE]
    assert not (import_files / f"upload-{token}").exists()  # the uploaded roster is not kept
    page = html(client.get(f"/minors/import/batches/{batch.pk}/"))
    assert "新增 1 人" in page
    assert "import-commit" not in page
    # Committing twice goes to the same batch.
    assert client.post(f"/minors/import/{token}/commit/")["Location"] == f"/minors/import/batches/{batch.pk}/"
    assert ImportBatch.objects.count() == 2


def test_the_batch_page_polls_while_the_import_runs(
    clients: dict[str, Client], personas: Any, import_files: Any
) -> None:
    from guanai.imports.models import ImportBatch
    from guanai.minors.services import import_progress_set

    batch = ImportBatch.objects.create(
        kind="minors", region_id="330127000000", created_by=personas["county_a_admin"], status="running"
    )
    import_progress_set(batch_id=batch.pk, read=500, total=2000)
    page = html(
        clients["county_a_admin"].get(f"/minors/import/batches/{batch.pk}/", headers={"HX-Request": "true"})
    )
    assert "<html" not in page
    assert f'hx-get="/minors/import/batches/{batch.pk}/" hx-trigger="every 2s"' in page
    assert "已读取 500 / 2000 行" in page
    batch.status = "succeeded"
    batch.save()
    page = html(
        clients["county_a_admin"].get(f"/minors/import/batches/{batch.pk}/", headers={"HX-Request": "true"})
    )
    assert "hx-trigger" not in page


def test_a_file_that_is_not_a_roster_is_refused_with_the_reason(
    clients: dict[str, Client], personas: Any, import_files: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = clients["county_a_admin"]
    for content, reason in (
        (b"PK\x03\x04 a truncated workbook", "文件不完整或已损坏"),
        ("一份通知\n请各乡镇于月底前报送\n".encode(), "没有找到表头"),
    ):
        response = client.post(
            "/minors/import/", {"file": SimpleUploadedFile("a.xlsx", content), "region": "330127000000"}
        )
        token = response["Location"].split("/")[-2]
        page = html(client.get(f"/minors/import/{token}/"))
        assert 'id="import-unreadable"' in page
        assert reason in page


def test_the_blank_template_is_a_workbook_with_the_standard_header(
    clients: dict[str, Client], personas: Any
) -> None:
    from openpyxl import load_workbook

    response = clients["township_worker"].get("/minors/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="minors-roster-template.xlsx"'
    workbook = load_workbook(io.BytesIO(streamed(response)))
    cells = {cell.value for row in workbook.worksheets[0].iter_rows() for cell in row}
    assert {"姓名*", "公民身份号码", "所在村（社区）*", "监护人联系电话"} <= cells


def test_the_import_api_runs_the_roster_and_reports(
    clients: dict[str, Client], personas: Any, import_files: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = clients["county_a_admin"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/minors/imports", {"file": roster_file(), "region": "330127", "dry_run": "true"}
        )
    assert response.status_code == 202, response.content
    # Without a broker the run follows at once (here: when the test's transaction "commits").
    body = client.get(f"/api/v1/minors/imports/{response.json()['id']}").json()
    assert {
        key: body[key] for key in ("status", "dry_run", "rows", "created", "error_count", "region_code")
    } == {
        "status": "succeeded",
        "dry_run": True,
        "rows": 2,
        "created": 1,
        "error_count": 1,
        "region_code": "330127000000",
    }
    assert [(error["row"], error["column"]) for error in body["errors"]] == [(4, "身份证号")]
    assert not Minor.objects.exists()
    assert clients["county_b_admin"].get(f"/api/v1/minors/imports/{body['id']}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/minors/imports", {"file": roster_file(), "region": "330127"})
    assert client.get(f"/api/v1/minors/imports/{response.json()['id']}").json()["created"] == 1
    assert Minor.objects.get().name == "孙小梅"
    # The API's uploads are not kept; the refused rows wait for their download.
    assert sorted(path.name for path in import_files.iterdir()) == [
        f"errors-{body['id']}.xlsx",
        f"errors-{response.json()['id']}.xlsx",
    ]
    response = client.post("/api/v1/minors/imports", {"file": roster_file(), "region": "330182"})
    assert response.status_code == 404  # another county


def test_authorization_matrix_of_the_import(
    clients: dict[str, Client], personas: Any, import_files: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanai.imports.models import ImportBatch

    token = upload(clients["county_a_admin"])
    batch = ImportBatch.objects.create(
        kind="minors", region_id="330127000000", created_by=personas["county_a_admin"], status="succeeded"
    )
    pages = ["/minors/import/", "/minors/import/template.xlsx", f"/minors/import/batches/{batch.pk}/"]
    checks: list[Check] = []
    for persona in ("volunteer", "lawyer", "auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403) for path in pages]
        checks += [
            Check(persona, "GET", f"/minors/import/{token}/", 403),
            Check(persona, "POST", f"/minors/import/{token}/commit/", 403),
            Check(persona, "GET", f"/api/v1/minors/imports/{batch.pk}", 403),
        ]
    checks += [Check("anonymous", "GET", path, 302) for path in pages]
    checks += [
        Check("anonymous", "GET", f"/api/v1/minors/imports/{batch.pk}", 401),
        Check("county_b_admin", "GET", f"/minors/import/batches/{batch.pk}/", 404),
        Check("county_b_admin", "GET", f"/api/v1/minors/imports/{batch.pk}", 404),
        Check("county_b_admin", "GET", f"/minors/import/batches/{batch.pk}/errors.xlsx", 404),
        # Another person's upload is not in one's session: 404, and nothing is run.
        Check("province_admin", "GET", f"/minors/import/{token}/", 404),
        Check("province_admin", "POST", f"/minors/import/{token}/commit/", 404),
        Check("county_a_admin", "GET", "/minors/import/", 200),
        Check("province_admin", "GET", f"/minors/import/batches/{batch.pk}/", 200),
        Check("county_a_admin", "GET", f"/api/v1/minors/imports/{batch.pk}", 200),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_uploaded_rosters_and_error_reports_are_removed_after_a_day(import_files: Any) -> None:
    import os

    from guanai.minors.services import import_directory
    from guanai.minors.tasks import purge_import_files

    directory = import_directory()
    old, fresh = directory / "upload-0123456789abcdef", directory / "errors-7.xlsx"
    old.write_bytes(b"roster")
    fresh.write_bytes(b"report")
    two_days_ago = (TODAY - datetime.timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(fresh, (TODAY.timestamp(), TODAY.timestamp()))
    assert purge_import_files() == 1
    assert sorted(path.name for path in directory.iterdir()) == ["errors-7.xlsx"]


def test_who_may_post_a_roster_to_the_api(
    clients: dict[str, Client], personas: Any, import_files: Any
) -> None:
    from guanai.core.testing import database_fingerprint
    from guanai.imports.models import ImportBatch

    before = database_fingerprint()
    for persona, status in (
        ("anonymous", 401),
        ("volunteer", 403),
        ("lawyer", 403),
        ("auditor", 403),
        ("system_admin", 403),
    ):
        response = clients[persona].post(
            "/api/v1/minors/imports", {"file": roster_file(), "region": "330127"}
        )
        assert response.status_code == status, persona
    response = clients["county_b_admin"].post(
        "/api/v1/minors/imports", {"file": roster_file(), "region": "330127"}
    )
    assert response.status_code == 404
    assert database_fingerprint() == before
    assert not ImportBatch.objects.exists()
    assert not import_files.exists() or not any(import_files.iterdir())  # nothing of the file was kept
