from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.committees.models import Committee
from guanai.core.testing import Check, assert_authorization_matrix, count_queries

pytestmark = pytest.mark.django_db

A_NAMES = {
    "淳安县关心下一代工作委员会",
    "千岛湖镇关心下一代工作委员会",
    "富城村关心下一代工作委员会",
    "千岛湖镇中心小学关工委",
}
B_NAMES = {"建德市关心下一代工作委员会", "新安江街道关心下一代工作委员会"}
UPPER = {"浙江省关心下一代工作委员会", "杭州市关心下一代工作委员会"}


def names(client: Client, query: str = "") -> set[str]:
    response = client.get(f"/api/v1/committees/{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return {item["name"] for item in body["items"]}


def test_each_county_sees_only_its_own_committees(clients: dict[str, Client], committees: Any) -> None:
    assert names(clients["county_a_admin"]) == A_NAMES
    assert names(clients["county_b_admin"]) == B_NAMES
    assert names(clients["province_admin"]) == A_NAMES | B_NAMES | UPPER
    assert names(clients["township_worker"]) == A_NAMES - {"淳安县关心下一代工作委员会"}
    assert names(clients["volunteer"]) == {"富城村关心下一代工作委员会"}


def test_filter_by_region_kind_and_search(clients: dict[str, Client], committees: Any) -> None:
    province = clients["province_admin"]
    assert names(province, "?region=330182") == B_NAMES
    assert names(province, "?region=330127100") == A_NAMES - {"淳安县关心下一代工作委员会"}
    assert names(province, "?kind=school") == {"千岛湖镇中心小学关工委"}
    assert names(province, "?q=新安江") == {"新安江街道关心下一代工作委员会"}


def test_filtering_by_another_countys_region_answers_404(clients: dict[str, Client], committees: Any) -> None:
    response = clients["county_a_admin"].get("/api/v1/committees/?region=330182")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "对象不存在，或不在您的管辖范围内",
        "fields": {},
    }


def test_a_malformed_region_filter_is_a_field_error(clients: dict[str, Client], committees: Any) -> None:
    response = clients["province_admin"].get("/api/v1/committees/?region=33x")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == ["region"]


def test_detail_lists_members_in_position_order_and_the_parent(
    clients: dict[str, Client], committees: Any
) -> None:
    county_a = committees["county_a"]
    response = clients["county_a_admin"].get(f"/api/v1/committees/{county_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert [(m["name"], m["position_label"]) for m in body["members"]] == [
        ("王丽华", "主任"),
        ("方建国", "秘书长"),
    ]
    # 杭州市's committee is above 淳安县 but outside the county admin's view.
    assert body["parent_id"] is None
    body = clients["province_admin"].get(f"/api/v1/committees/{county_a.pk}").json()
    assert body["parent_id"] == committees["city"].pk


def test_list_uses_a_fixed_number_of_queries(clients: dict[str, Client], committees: Any) -> None:
    client = clients["province_admin"]
    client.get("/api/v1/committees/")  # warm the session
    with count_queries() as few:
        client.get("/api/v1/committees/")
    for index in range(20):
        Committee.objects.create(region_id="330182001020", name=f"学校关工委{index}", kind="school")
    with count_queries() as many:
        client.get("/api/v1/committees/")
    assert len(many) == len(few)


def test_authorization_matrix(clients: dict[str, Client], committees: Any) -> None:
    a = committees["county_a"].pk
    b = committees["county_b"].pk
    checks = []
    for persona, own, other in (("county_a_admin", a, b), ("county_b_admin", b, a)):
        checks += [
            Check(persona, "GET", f"/api/v1/committees/{own}", 200),
            Check(persona, "GET", f"/api/v1/committees/{other}", 404),
            Check(persona, "GET", f"/committees/{own}/", 200),
            Check(persona, "GET", f"/committees/{other}/", 404),
        ]
    checks += [
        Check("province_admin", "GET", f"/api/v1/committees/{a}", 200),
        Check("province_admin", "GET", f"/api/v1/committees/{b}", 200),
        Check("anonymous", "GET", f"/api/v1/committees/{a}", 401),
        Check("anonymous", "GET", "/api/v1/committees/", 401),
        Check("anonymous", "GET", f"/committees/{a}/", 302),
        # The auditor reads the audit log and nothing else.
        Check("auditor", "GET", "/api/v1/committees/", 403),
        Check("auditor", "GET", f"/committees/{a}/", 403),
        Check("volunteer", "GET", f"/api/v1/committees/{a}", 404),
        Check("lawyer", "GET", f"/api/v1/committees/{b}", 404, must_not_contain=("建德",)),
        Check("system_admin", "GET", f"/api/v1/committees/{b}", 200),
        Check("county_a_admin", "GET", "/api/v1/committees/999999", 404),
        # Nothing here writes: unsafe methods are not allowed, and nothing changes.
        Check("county_a_admin", "POST", "/api/v1/committees/", 405, data={"name": "x"}),
        Check("county_a_admin", "DELETE", f"/api/v1/committees/{a}", 405),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)


def test_list_page_shows_only_own_county(clients: dict[str, Client], committees: Any) -> None:
    response = clients["county_a_admin"].get("/committees/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in A_NAMES:
        assert name in html
    for name in B_NAMES | UPPER:
        assert name not in html


def test_list_page_answers_htmx_with_the_table_only(clients: dict[str, Client], committees: Any) -> None:
    response = clients["county_b_admin"].get("/committees/?q=新安江", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "新安江街道关心下一代工作委员会" in html
    assert "建德市关心下一代工作委员会" not in html


def test_the_detail_page_shows_who_changed_the_committee_to_admins_only(
    clients: dict[str, Client], personas: Any
) -> None:
    from guanai.accounts.selectors import actor_for_user
    from guanai.committees.services import committee_create, committee_member_add
    from guanai.regions.models import Region

    actor = actor_for_user(personas["county_a_admin"])
    committee = committee_create(
        region=Region.objects.get(code="330127100001"),
        name="青城社区关工委",
        phone="0571-65011111",
        actor=actor,
    )
    committee_member_add(committee=committee, name="余秀英", position="director", actor=actor)
    html = clients["county_a_admin"].get(f"/committees/{committee.pk}/").content.decode()
    assert 'id="audit-trail"' in html
    assert html.count("p-county-a") == 2
    assert "新建关工委" in html
    assert "添加关工委成员" in html
    lawyer = clients["lawyer"].get(f"/committees/{committee.pk}/")  # sees the committee, not its history
    assert lawyer.status_code == 200
    assert 'id="audit-trail"' not in lawyer.content.decode()


def test_the_next_page_keeps_the_filters(clients: dict[str, Client], committees: Any) -> None:
    for index in range(60):
        Committee.objects.create(region_id="330182001020", name=f"白沙学校关工委{index:02d}", kind="school")
    html = (
        clients["county_b_admin"]
        .get("/committees/?kind=school&q=白沙", headers={"HX-Request": "true"})
        .content
    )
    assert (
        'href="/committees/?kind=school&amp;q=%E7%99%BD%E6%B2%99&amp;page=2" id="next-page"' in html.decode()
    )
