from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.accounts.models import User

pytestmark = pytest.mark.django_db


def test_home_shows_real_counts_in_scope(clients: dict[str, Client], personas: Any) -> None:
    from guanai.committees.tests.factories import CommitteeFactory

    CommitteeFactory(region_id="330127000000", name="淳安县关心下一代工作委员会")
    CommitteeFactory(region_id="330127100000", name="千岛湖镇关心下一代工作委员会")
    CommitteeFactory(region_id="330182000000", name="建德市关心下一代工作委员会")
    response = clients["county_a_admin"].get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts.committees_total == 2
    assert counts.regions_total == 4  # 淳安县, 千岛湖镇, 青城社区, 富城村
    assert counts.users == 5  # county A admin, township worker, volunteer, lawyer, counsellor
    html = response.content.decode()
    assert 'data-count="committees">2<' in html
    assert 'id="region-breadcrumb"' in html
    assert html.index("浙江省") < html.index("杭州市") < html.index("淳安县")


def test_the_auditor_sees_no_counts_of_committees(clients: dict[str, Client]) -> None:
    counts = clients["auditor"].get("/").context["counts"]
    assert counts.committees_total is None
    assert counts.users is None


def test_anonymous_visitors_are_sent_to_login(clients: dict[str, Client]) -> None:
    response = clients["anonymous"].get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_language_switch_changes_the_interface_and_is_remembered(
    clients: dict[str, Client], personas: Any
) -> None:
    client = clients["county_a_admin"]
    assert "关工委组织" in client.get("/").content.decode()
    response = client.post("/preferences/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Committees" in html
    assert "关工委组织" not in html
    personas["county_a_admin"].refresh_from_db()
    assert personas["county_a_admin"].language == "en"
    client.post("/preferences/language/", {"language": "zh-hant", "next": "/"})
    assert "關工委組織" in client.get("/").content.decode()


def test_an_unknown_language_is_ignored(clients: dict[str, Client], personas: Any) -> None:
    client = clients["county_a_admin"]
    client.post("/preferences/language/", {"language": "xx", "next": "/"})
    assert '<html lang="zh-hans"' in client.get("/").content.decode()


def test_an_offsite_next_is_not_followed(clients: dict[str, Client]) -> None:
    response = clients["county_a_admin"].post(
        "/preferences/language/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_elder_mode_is_remembered_per_user(clients: dict[str, Client], personas: Any) -> None:
    client = clients["volunteer"]
    assert 'class="elder-mode"' not in client.get("/").content.decode()
    response = client.post("/preferences/elder-mode/", {"enabled": "1", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=personas["volunteer"].pk).elder_mode is True
    # A new session of the same user keeps it.
    other = Client()
    other.force_login(personas["volunteer"])
    assert 'class="elder-mode"' in other.get("/").content.decode()
    client.post("/preferences/elder-mode/", {"enabled": "0"})
    assert User.objects.get(pk=personas["volunteer"].pk).elder_mode is False


def test_elder_mode_switched_on_before_login_carries_over(regions: None) -> None:
    from guanai.accounts.services import user_create

    user = user_create(username="laowang", password="Chayuan-2024x")
    client = Client()
    response = client.post("/preferences/elder-mode/", {"enabled": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert 'class="elder-mode"' in client.get("/login/").content.decode()
    client.post("/login/", {"username": "laowang", "password": "Chayuan-2024x"})
    user.refresh_from_db()
    assert user.elder_mode is True


def test_elder_mode_switch_is_on_every_page(clients: dict[str, Client]) -> None:
    for persona, path in (
        ("anonymous", "/login/"),
        ("county_a_admin", "/"),
        ("county_a_admin", "/committees/"),
    ):
        assert 'id="elder-mode-switch"' in clients[persona].get(path).content.decode(), path


def test_health_check_is_public(clients: dict[str, Client]) -> None:
    assert clients["anonymous"].get("/healthz").json() == {"status": "ok"}


def test_unknown_pages_answer_404_in_chinese(clients: dict[str, Client]) -> None:
    response = clients["county_a_admin"].get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
