from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db.models import Q
from django.test import Client

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.minors.models import Minor
from guanai.minors.services import GuardianInput, MinorInput, minor_register
from guanai.minors.tests.ids import id_number
from guanai.minors.vocabulary import Category, Need

pytestmark = pytest.mark.django_db


def register(personas: dict[str, Any], persona: str, **values: Any) -> Minor:
    return minor_register(actor=actor_for_user(personas[persona]), data=MinorInput(**values))


@pytest.fixture
def children(personas: dict[str, Any]) -> dict[str, Minor]:
    return {
        "a1": register(
            personas,
            "county_a_admin",
            name="张三明",
            region_code="330127100219",
            id_number=id_number(sequence=1),
            household_type="rural",
            categories=Category.LEFT_BEHIND,
            needs=Need.STUDY,
            school="富城小学",
            address="浙江省杭州市淳安县千岛湖镇富城村8号",
            guardians=[GuardianInput(name="张建国", relationship="祖父", phone="13905710041")],
        ),
        "a2": register(
            personas,
            "county_a_admin",
            name="李小红",
            region_code="330127100001",
            id_number=id_number(birth="20100315", sequence=2),
            categories=Category.MIGRANT | Category.HARDSHIP,
            needs=Need.PSYCHOLOGICAL,
            risk_level="high",
            risk_reason="情绪低落",
        ),
        "b1": register(
            personas,
            "county_b_admin",
            name="王五",
            region_code="330182001020",
            id_number=id_number(county="330182", birth="20140602", sequence=3),
            categories=Category.HARDSHIP,
        ),
    }


def names(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/minors/{query}")
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def test_lists_are_scoped_and_masked_by_role(clients: dict[str, Client], children: Any) -> None:
    assert names(clients["county_a_admin"]) == ["李小红", "张三明"]  # sorted by pinyin
    assert names(clients["county_b_admin"]) == ["王五"]
    assert names(clients["township_worker"]) == ["李小红", "张三明"]
    assert sorted(names(clients["province_admin"])) == sorted(["李小红", "张三明", "王五"])
    item = clients["county_a_admin"].get("/api/v1/minors/?q=zsm").json()["items"][0]
    assert item["id_number"] == "330127********" + id_number(sequence=1)[-4:]
    assert item["category_labels"] == ["农村留守儿童"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=zsm", ["张三明"]),
        ("?q=zhangsanming", ["张三明"]),
        ("?q=zhang", ["张三明"]),
        ("?q=三明", ["张三明"]),
        ("?q=" + id_number(sequence=1), ["张三明"]),
        ("?q=" + id_number(sequence=1).lower(), ["张三明"]),
        ("?q=13905710041", ["张三明"]),
        ("?q=13905710042", []),
        ("?categories=1", ["张三明"]),
        ("?categories=96", ["李小红"]),
        ("?categories=33", []),
        ("?needs=2", ["李小红"]),
        ("?risk_level=high", ["李小红"]),
        ("?gender=female", ["李小红"]),
        ("?school=富城", ["张三明"]),
        ("?region=330127100001", ["李小红"]),
        ("?min_age=16", ["李小红"]),
        ("?max_age=15", ["张三明"]),
        ("?sort=-name", ["张三明", "李小红"]),
        ("?verification_overdue=true", ["李小红", "张三明"]),
    ],
)
def test_filters_and_search(
    clients: dict[str, Client], children: Any, query: str, expected: list[str]
) -> None:
    assert names(clients["county_a_admin"], query) == expected


def test_the_list_takes_a_constant_number_of_queries(
    clients: dict[str, Client], personas: Any, children: Any
) -> None:
    client = clients["county_a_admin"]
    client.get("/api/v1/minors/")
    with count_queries() as few:
        client.get("/api/v1/minors/")
    for sequence in range(21, 61, 2):
        register(
            personas,
            "county_a_admin",
            name=f"测试{sequence}",
            region_code="330127100219",
            id_number=id_number(birth="20150505", sequence=sequence),
        )
    with count_queries() as many:
        body = client.get("/api/v1/minors/").json()
    assert body["count"] == 22
    assert len(many) == len(few)


def test_create_update_conflict_and_close_through_the_api(clients: dict[str, Client], children: Any) -> None:
    client = clients["county_a_admin"]
    payload = {
        "name": "赵六",
        "region_code": "330127100219",
        "id_number": id_number(birth="20160808", sequence=5),
        "categories": 65,
        "household_type": "rural",
        "guardians": [{"name": "赵大", "relationship": "父亲", "phone": "0571-65010001"}],
    }
    created = client.post("/api/v1/minors/", json.dumps(payload), content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["birth_date"], body["gender"], body["version"]) == ("2016-08-08", "male", 1)
    assert body["guardians"][0]["phone"] == "0571-****0001"
    minor_id = body["id"]
    ok = client.patch(
        f"/api/v1/minors/{minor_id}",
        json.dumps({"version": 1, "school": "富城小学"}),
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert (ok.json()["school"], ok.json()["version"]) == ("富城小学", 2)
    stale = client.patch(
        f"/api/v1/minors/{minor_id}",
        json.dumps({"version": 1, "school": "别的学校"}),
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert Minor.objects.get(pk=minor_id).school == "富城小学"
    again = client.post("/api/v1/minors/", json.dumps(payload), content_type="application/json")
    assert again.status_code == 409
    other_county = clients["county_b_admin"].post(
        "/api/v1/minors/",
        json.dumps({**payload, "region_code": "330182001020"}),
        content_type="application/json",
    )
    assert other_county.status_code == 409
    assert other_county.json() == {
        "code": "already_registered",
        "message": "该儿童已在淳安县登记，可向该县申请转移。",
        "fields": {"id_number": ["已在淳安县登记"]},
    }
    closed = client.post(
        f"/api/v1/minors/{minor_id}/close", json.dumps({"reason": "迁出"}), content_type="application/json"
    )
    assert closed.json()["status"] == "closed"


def test_a_bad_field_is_a_field_error(clients: dict[str, Client], children: Any) -> None:
    response = clients["county_a_admin"].post(
        "/api/v1/minors/",
        json.dumps(
            {
                "name": "钱七",
                "region_code": "330127100219",
                "id_number": id_number(sequence=7),
                "birth_date": "2012-01-01",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["birth_date"]
    assert not Minor.objects.filter(name="钱七").exists()


def test_unmask_and_view_are_audited(clients: dict[str, Client], children: Any) -> None:
    client = clients["county_a_admin"]
    minor = children["a1"]
    detail = client.get(f"/api/v1/minors/{minor.pk}").json()
    assert detail["address"] == "浙江省杭州市淳安县千岛湖镇****"
    revealed = client.post(
        f"/api/v1/minors/{minor.pk}/unmask",
        json.dumps({"field": "id_number"}),
        content_type="application/json",
    )
    assert revealed.json() == {"field": "id_number", "value": id_number(sequence=1)}
    guardian = detail["guardians"][0]["id"]
    phone = client.post(f"/api/v1/minors/{minor.pk}/guardians/{guardian}/unmask")
    assert phone.json() == {"field": "phone", "value": "13905710041"}
    actions = list(
        AuditEvent.objects.filter(
            Q(target_type="minors.minor", target_id=str(minor.pk))
            | Q(target_type="minors.guardian", target_id=str(guardian))
        )
        .exclude(action="minor.create")
        .order_by("id")
        .values_list("action", "changed_fields")
    )
    assert actions == [
        ("minor.view", []),
        ("personal_data.unmask", ["id_number"]),
        ("personal_data.unmask", ["phone"]),
    ]


def test_authorization_matrix(clients: dict[str, Client], children: Any) -> None:
    a, b = children["a1"].pk, children["b1"].pk
    unmask = {"field": "id_number"}
    patch = {"version": 1, "school": "x"}
    checks = [
        Check("county_a_admin", "GET", f"/api/v1/minors/{a}", 200),
        Check("county_a_admin", "GET", f"/api/v1/minors/{b}", 404, must_not_contain=("王五",)),
        Check("county_b_admin", "GET", f"/api/v1/minors/{a}", 404, must_not_contain=("张三明",)),
        Check("county_b_admin", "PATCH", f"/api/v1/minors/{a}", 404, data=patch),
        Check("county_b_admin", "POST", f"/api/v1/minors/{a}/close", 404, data={"reason": "x"}),
        Check("county_b_admin", "POST", f"/api/v1/minors/{a}/unmask", 404, data=unmask),
        Check("township_worker", "GET", f"/api/v1/minors/{b}", 404),
        Check("volunteer", "GET", "/api/v1/minors/", 403),
        Check("volunteer", "GET", f"/api/v1/minors/{a}", 403),
        Check("lawyer", "GET", f"/api/v1/minors/{a}", 403),
        Check("auditor", "GET", "/api/v1/minors/", 403),
        Check("system_admin", "GET", "/api/v1/minors/", 403),
        Check("system_admin", "POST", f"/api/v1/minors/{a}/unmask", 403, data=unmask),
        Check("anonymous", "GET", "/api/v1/minors/", 401),
        Check("anonymous", "POST", "/api/v1/minors/", 401, data={"name": "x", "region_code": "330127100219"}),
        Check("province_admin", "GET", f"/api/v1/minors/{b}", 200),
        Check("county_a_admin", "GET", "/api/v1/minors/?region=330182", 404),
        Check(
            "county_a_admin",
            "POST",
            "/api/v1/minors/",
            422,
            data={"name": "x", "region_code": "330182001020", "birth_date": "2015-01-01", "gender": "male"},
        ),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_a_liaison_sees_names_masked(regions: None, personas: Any, children: Any) -> None:
    from guanai.accounts.services import role_assign, user_create
    from guanai.core.access import Role
    from guanai.core.testing import verified_client
    from guanai.regions.models import Region

    user = user_create(username="p-liaison", password=None)
    role_assign(
        user=user,
        role=Role.VILLAGE_LIAISON,
        region=Region.objects.get(code="330127100219"),
        valid_from=datetime.date(2020, 1, 1),
    )
    assert names(verified_client(user)) == ["张*明"]
