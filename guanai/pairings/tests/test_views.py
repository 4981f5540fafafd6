"""The pairing pages: the list, proposing for a region and accepting from the preview, a pairing's page
(start, close, rematch in one click), pairing a child by hand from the suggestions, declaring a
conflict; and who may open what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.pairings.models import ConflictDeclaration, Pairing, ProposalRun, ProposedPair
from guanai.pairings.services import pairing_close, pairing_create, proposal_run_create
from guanai.pairings.tests.pairing_world import TODAY, World, actor, child, elder
from guanai.pairings.vocabulary import CloseReason, PairingState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def text(response: Any) -> str:
    return str(response.content.decode())


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- The list -------------------------------------------------------------------------------------------


def test_the_list_shows_the_pairings_of_the_actors_region(
    clients: dict[str, Client], personas: dict[str, Any], world: World, liaison: Client
) -> None:
    county_a = actor(personas, "county_a_admin")
    zhang = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    li = pairing_create(
        actor=county_a, minor_id=world.li.pk, volunteer_id=world.counsellor.pk, activate=False
    )
    pairing_create(
        actor=actor(personas, "county_b_admin"), minor_id=world.wang.pk, volunteer_id=world.jiande.pk
    )

    page = clients["county_a_admin"].get("/pairings/")

    assert page.status_code == 200
    assert [row.pairing.pk for row in page.context["rows"]] == [li.pk, zhang.pk]
    body = text(page)
    assert "张三明" in body
    assert "李四妹" in body
    assert "王小五" not in body
    assert 'href="/pairings/propose/"' in body
    proposed = clients["county_a_admin"].get("/pairings/?state=proposed", headers={"HX-Request": "true"})
    assert [row.pairing.pk for row in proposed.context["rows"]] == [li.pk]
    assert "<html" not in text(proposed)  # the table alone, for htmx
    assert [
        row.pairing.pk
        for row in clients["county_a_admin"].get(f"/pairings/?minor={world.zhang.pk}").context["rows"]
    ] == [zhang.pk]
    # The village liaison sees the village's pairing with the child's name masked, and no proposing.
    village = liaison.get("/pairings/")
    assert [row.child_name for row in village.context["rows"]] == ["张*明"]
    assert "张三明" not in text(village)
    assert "/pairings/propose/" not in text(village)


def test_the_list_takes_a_constant_number_of_queries(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    client = clients["county_a_admin"]
    pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    client.get("/pairings/")
    with count_queries() as few:
        client.get("/pairings/")
    for sequence in range(40, 46):
        minor = child(f"儿童{sequence}", sequence=sequence)
        pairing_create(
            actor=county_a, minor_id=minor.pk, volunteer_id=elder(f"五老{sequence}", sequence=sequence).pk
        )
    with count_queries() as many:
        client.get("/pairings/")
    assert len(many) == len(few)


# --- Proposing and accepting ----------------------------------------------------------------------------


def test_proposing_for_a_township_and_accepting_the_selected(
    clients: dict[str, Client], world: World
) -> None:
    client = clients["county_a_admin"]
    form = client.get("/pairings/propose/")
    assert form.status_code == 200
    assert form.context["form"].fields["region"].choices == [
        ("", "请选择"),
        ("330127000000", "淳安县"),
        ("330127100000", "\u3000千岛湖镇"),
    ]

    created = client.post("/pairings/propose/", {"region": "330127100000"})

    run = ProposalRun.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/pairings/proposals/{run.pk}/"
    preview = client.get(created["Location"])
    body = text(preview)
    assert "千岛湖镇的结对建议" in body
    assert "同村；专长匹配：教学辅导；异性别（10 岁及以上宜同性别）；当前无结对" in body
    zhang_pair = ProposedPair.objects.get(run=run, minor=world.zhang)
    assert f'name="pair_ids" value="{zhang_pair.pk}"' in body

    accepted = client.post(
        f"/pairings/proposals/{run.pk}/accept/",
        {"pair_ids": [str(zhang_pair.pk)], "scope": "selected", "activate": "on"},
        follow=True,
    )

    assert messages_of(accepted) == ["已建立 1 对结对。"]
    pairing = Pairing.objects.get()
    assert (pairing.minor_id, pairing.state, pairing.started_on) == (
        world.zhang.pk,
        PairingState.ACTIVE,
        TODAY,
    )
    assert f'href="/pairings/{pairing.pk}/"' in text(accepted)
    assert f'name="pair_ids" value="{zhang_pair.pk}"' not in text(accepted)


def test_accepting_all_reports_the_stale_ones(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    client = clients["county_a_admin"]
    run = proposal_run_create(actor=actor(personas, "county_a_admin"), region_code="330127")
    world.teacher.status, world.teacher.status_reason = "suspended", "住院"
    world.teacher.save()

    accepted = client.post(f"/pairings/proposals/{run.pk}/accept/", {"scope": "all"}, follow=True)

    assert messages_of(accepted) == [
        "已建立 1 对结对。",
        "张三明 与 王建国 未结对：志愿者当前状态为“暂停”",
    ]
    assert list(Pairing.objects.values_list("minor_id", "state")) == [(world.li.pk, PairingState.PROPOSED)]


def test_accepting_nothing_selected_pairs_nobody(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    run = proposal_run_create(actor=actor(personas, "county_a_admin"), region_code="330127")
    response = clients["county_a_admin"].post(
        f"/pairings/proposals/{run.pk}/accept/", {"scope": "selected"}, follow=True
    )
    assert messages_of(response) == ["请勾选要采纳的建议"]
    assert Pairing.objects.count() == 0


def test_a_region_outside_ones_own_cannot_be_chosen(clients: dict[str, Client], world: World) -> None:
    response = clients["township_worker"].post("/pairings/propose/", {"region": "330127000000"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "region": ["选择一个有效的选项。 330127000000 不在可用的选项中。"]
    }
    assert ProposalRun.objects.count() == 0


# --- One pairing ------------------------------------------------------------------------------------------


def test_a_pairing_is_started_then_closed_and_the_child_rematched_in_one_click(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    client = clients["county_a_admin"]
    pairing = pairing_create(
        actor=actor(personas, "county_a_admin"),
        minor_id=world.zhang.pk,
        volunteer_id=world.teacher.pk,
        activate=False,
    )
    detail = client.get(f"/pairings/{pairing.pk}/")
    assert detail.status_code == 200
    assert "开始结对" in text(detail)

    started = client.post(f"/pairings/{pairing.pk}/activate/", follow=True)
    assert messages_of(started) == ["已开始结对。"]
    assert Pairing.objects.get(pk=pairing.pk).state == PairingState.ACTIVE

    closed = client.post(
        f"/pairings/{pairing.pk}/close/",
        {"reason": CloseReason.VOLUNTEER_UNABLE, "note": "身体原因"},
        follow=True,
    )

    assert messages_of(closed) == ["已解除结对。", "以下为该儿童的重新匹配建议，可一键结对。"]
    assert [s.volunteer.pk for s in closed.context["rematch"]] == [world.counsellor.pk]
    body = text(closed)
    assert "志愿者无法继续：身体原因" in body
    assert f'id="pair-with-{world.counsellor.pk}"' in body
    assert f'id="pair-with-{world.teacher.pk}"' not in body

    rematched = client.post(
        f"/pairings/new/{world.zhang.pk}/", {"volunteer": world.counsellor.pk, "activate": "on"}
    )

    second = Pairing.objects.exclude(pk=pairing.pk).get()
    assert rematched.status_code == 302
    assert rematched["Location"] == f"/pairings/{second.pk}/"
    assert (second.minor_id, second.volunteer_id, second.state) == (
        world.zhang.pk,
        world.counsellor.pk,
        "active",
    )
    history = client.get(f"/pairings/{second.pk}/").context["history"]
    assert [p.pk for p in history] == [second.pk, pairing.pk]


def test_closing_without_a_reason_is_refused(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    pairing = pairing_create(
        actor=actor(personas, "county_a_admin"), minor_id=world.zhang.pk, volunteer_id=world.teacher.pk
    )
    response = clients["county_a_admin"].post(f"/pairings/{pairing.pk}/close/", {"reason": ""}, follow=True)
    assert messages_of(response) == ["请选择解除原因"]
    assert Pairing.objects.get(pk=pairing.pk).state == PairingState.ACTIVE


def test_a_goal_reached_offers_no_rematch(
    clients: dict[str, Client], personas: dict[str, Any], world: World
) -> None:
    county_a = actor(personas, "county_a_admin")
    pairing = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    pairing_close(actor=county_a, pairing_id=pairing.pk, reason=CloseReason.GOAL_REACHED)
    detail = clients["county_a_admin"].get(f"/pairings/{pairing.pk}/")
    assert detail.context["rematch"] == []
    assert "重新匹配建议" not in text(detail)


# --- Pairing a child by hand ----------------------------------------------------------------------------


def test_the_child_page_suggests_the_best_volunteers(clients: dict[str, Client], world: World) -> None:
    page = clients["county_a_admin"].get(f"/pairings/new/{world.zhang.pk}/")

    assert page.status_code == 200
    assert [s.volunteer.pk for s in page.context["suggestions"]] == [world.teacher.pk, world.counsellor.pk]
    body = text(page)
    assert "有效的同意记录" in body
    assert f'<option value="{world.teacher.pk}">王建国（富城村村民委员会）</option>' in body
    assert "周德明" not in body  # another county's volunteer is not offered


def test_a_refused_pair_is_explained_beside_the_choice(clients: dict[str, Client], world: World) -> None:
    no_consent = child("赵无同意", sequence=44, consent=False)

    response = clients["county_a_admin"].post(
        f"/pairings/new/{no_consent.pk}/", {"volunteer": world.teacher.pk}
    )

    assert response.status_code == 422
    assert response.context["form"].errors == {"volunteer": ["没有监护人对结对关爱的同意记录"]}
    assert "没有同意记录：须先在儿童档案中登记监护人对结对关爱的同意" in text(response)
    assert Pairing.objects.count() == 0


def test_a_conflict_is_declared_from_the_childs_page(clients: dict[str, Client], world: World) -> None:
    client = clients["county_a_admin"]
    declared = client.post(
        f"/pairings/new/{world.zhang.pk}/conflicts/",
        {"conflict-volunteer": world.teacher.pk, "conflict-reason": "亲属关系"},
        follow=True,
    )
    assert messages_of(declared) == ["已记录利益冲突申报。"]
    assert ConflictDeclaration.objects.filter(minor=world.zhang, volunteer=world.teacher).count() == 1
    assert [s.volunteer.pk for s in declared.context["suggestions"]] == [world.counsellor.pk]
    again = client.post(
        f"/pairings/new/{world.zhang.pk}/conflicts/",
        {"conflict-volunteer": world.teacher.pk, "conflict-reason": "再次"},
    )
    assert again.status_code == 422
    assert again.context["conflict_form"].non_field_errors() == ["已申报过该志愿者与该儿童的利益冲突"]


# --- Who may open what ------------------------------------------------------------------------------------


def test_authorization_matrix_of_the_pages(
    clients: dict[str, Client], personas: dict[str, Any], world: World, liaison: Client
) -> None:
    county_a = actor(personas, "county_a_admin")
    run = proposal_run_create(actor=county_a, region_code="330127")
    active = pairing_create(actor=county_a, minor_id=world.zhang.pk, volunteer_id=world.teacher.pk)
    proposed = pairing_create(
        actor=county_a, minor_id=world.li.pk, volunteer_id=world.counsellor.pk, activate=False
    )
    other = child("冯另一", sequence=88)
    clients = {**clients, "liaison": liaison}
    reads = ["/pairings/", f"/pairings/proposals/{run.pk}/", f"/pairings/{active.pk}/"]
    manage_pages = ["/pairings/propose/", f"/pairings/new/{other.pk}/"]
    posts: list[tuple[str, dict[str, str]]] = [
        ("/pairings/propose/", {"region": "330127000000"}),
        (f"/pairings/proposals/{run.pk}/accept/", {"scope": "all"}),
        (f"/pairings/{proposed.pk}/activate/", {}),
        (f"/pairings/{active.pk}/close/", {"reason": "goal_reached"}),
        (f"/pairings/new/{other.pk}/", {"volunteer": str(world.counsellor.pk)}),
        (
            f"/pairings/new/{other.pk}/conflicts/",
            {"conflict-volunteer": str(world.teacher.pk), "conflict-reason": "x"},
        ),
    ]
    checks: list[Check] = []
    for path in reads + manage_pages:
        checks.append(Check("anonymous", "GET", path, 302))
    for path, form in posts:
        checks.append(Check("anonymous", "POST", path, 302, form=form))
    for persona in ("volunteer", "lawyer", "counsellor", "auditor", "system_admin"):
        checks += [
            Check(persona, "GET", path, 403, must_not_contain=("张三明",)) for path in reads + manage_pages
        ]
        checks += [Check(persona, "POST", path, 403, form=form) for path, form in posts]
    # Another county's administrator: county A's pages do not exist for them.
    for path in reads[1:] + manage_pages[1:]:
        checks.append(Check("county_b_admin", "GET", path, 404, must_not_contain=("张三明", "冯另一")))
    for path, form in posts[1:]:
        checks.append(Check("county_b_admin", "POST", path, 404, form=form))
    checks += [
        Check("county_b_admin", "GET", "/pairings/", 200, must_not_contain=("张三明", "李四妹")),
        # The township's form offers only its own township: another region is a form error, nothing run.
        Check("township_worker", "POST", "/pairings/propose/", 200, form={"region": "330127000000"}),
        Check("county_a_admin", "GET", "/pairings/999999/", 404),
        Check("county_a_admin", "GET", "/pairings/new/999999/", 404),
        Check("county_a_admin", "GET", f"/pairings/{active.pk}/close/", 405),
    ]
    # The village liaison reads the village's pairings, manages none.
    checks += [Check("liaison", "GET", path, 403) for path in manage_pages]
    checks += [Check("liaison", "POST", path, 403, form=form) for path, form in posts]
    checks += [
        Check("liaison", "GET", "/pairings/", 200, must_not_contain=("张三明",)),
        Check("liaison", "GET", f"/pairings/{active.pk}/", 200, must_not_contain=("张三明",)),
        Check("liaison", "GET", f"/pairings/{proposed.pk}/", 404),
        Check("liaison", "GET", f"/pairings/proposals/{run.pk}/", 404),
    ]
    checks += [
        Check(persona, "GET", path, 200)
        for persona in ("county_a_admin", "province_admin")
        for path in reads + manage_pages
    ]
    checks += [Check("township_worker", "GET", path, 200) for path in [reads[0], reads[2], *manage_pages]]
    assert assert_authorization_matrix(clients, checks) == len(checks)
