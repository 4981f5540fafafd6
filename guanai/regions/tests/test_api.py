from __future__ import annotations

import pytest
from django.test import Client

from guanai.core.testing import Check, assert_authorization_matrix

pytestmark = pytest.mark.django_db


def test_a_county_admin_sees_their_county_and_the_ancestors_above_it(clients: dict[str, Client]) -> None:
    client = clients["county_a_admin"]
    body = client.get("/api/v1/regions/330127").json()
    assert body["code"] == "330127000000"
    assert body["name"] == "淳安县"
    assert body["level"] == 3
    assert body["parent_code"] == "330100000000"
    assert [r["name"] for r in body["breadcrumb"]] == ["浙江省", "杭州市", "淳安县"]
    assert client.get("/api/v1/regions/330100000000").status_code == 200
    assert client.get("/api/v1/regions/33").status_code == 200


def test_children_of_a_township(clients: dict[str, Client]) -> None:
    body = clients["township_worker"].get("/api/v1/regions/330127100/children").json()
    assert body["count"] == 2
    assert [(r["code"], r["short_name"]) for r in body["items"]] == [
        ("330127100001", "青城社区"),
        ("330127100219", "富城村"),
    ]


def test_children_of_an_ancestor_list_only_what_is_visible(clients: dict[str, Client]) -> None:
    body = clients["county_a_admin"].get("/api/v1/regions/3301/children").json()
    assert [r["name"] for r in body["items"]] == ["淳安县"]
    body = clients["province_admin"].get("/api/v1/regions/3301/children").json()
    assert [r["name"] for r in body["items"]] == ["淳安县", "建德市"]


def test_pagination_of_children(clients: dict[str, Client]) -> None:
    body = clients["province_admin"].get("/api/v1/regions/33/children?limit=1&offset=1").json()
    assert body["count"] == 2
    assert [r["name"] for r in body["items"]] == ["宁波市"]
    response = clients["province_admin"].get("/api/v1/regions/33/children?limit=0")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_authorization_matrix(clients: dict[str, Client]) -> None:
    checks = [
        Check("county_a_admin", "GET", "/api/v1/regions/330182", 404, must_not_contain=("建德",)),
        Check("county_a_admin", "GET", "/api/v1/regions/330182/children", 404, must_not_contain=("新安江",)),
        Check("county_b_admin", "GET", "/api/v1/regions/330127100", 404, must_not_contain=("千岛湖",)),
        Check("county_b_admin", "GET", "/api/v1/regions/330182001", 200),
        Check("township_worker", "GET", "/api/v1/regions/330127", 200),
        Check("township_worker", "GET", "/api/v1/regions/330182", 404),
        Check("volunteer", "GET", "/api/v1/regions/330127100001", 404),
        Check("province_admin", "GET", "/api/v1/regions/110000000000", 404),
        Check("province_admin", "GET", "/api/v1/regions/330212", 200),
        Check("auditor", "GET", "/api/v1/regions/33", 403),
        Check("anonymous", "GET", "/api/v1/regions/33", 401),
        Check("county_a_admin", "GET", "/api/v1/regions/33012x", 404),
        Check("county_a_admin", "GET", "/regions/330182000000/", 404),
        Check("county_a_admin", "GET", "/regions/330127000000/", 200),
        Check("anonymous", "GET", "/regions/330127000000/", 302),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


@pytest.mark.parametrize(
    ("parent", "typed", "expected"),
    [
        ("330127100", "富城村", ["330127100219"]),
        ("330127100", "富城村村民委员会", ["330127100219"]),
        ("330127", "千岛湖镇", ["330127100000"]),
        ("330127", "千岛湖", ["330127100000"]),
        ("3301", "淳安县", ["330127000000"]),
        ("3301", "淳安", ["330127000000"]),
        ("3301", "建德", []),  # exists, but outside the county admin's view
        ("330127100", "没有这个村", []),
    ],
)
def test_children_are_found_by_the_names_people_write(
    clients: dict[str, Client], parent: str, typed: str, expected: list[str]
) -> None:
    response = clients["county_a_admin"].get(f"/api/v1/regions/{parent}/children", {"name": typed})
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["items"]] == expected
