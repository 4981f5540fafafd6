"""The queue, reassignment and roster pages (guanai.consultations.duty_views), with the authorization matrix
of every page and form. The clock stands still on Monday 30 November 2026 at 10:00 (a morning part)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from guanai.consultations.models import Consultation, DutySlot
from guanai.consultations.routing import consultation_route
from guanai.consultations.tests.factories import ConsultationFactory, make_professional, on_duty_all_week
from guanai.consultations.vocabulary import Kind, State, Topic
from guanai.core.testing import COUNTY_A, Check, assert_authorization_matrix, count_queries
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# What identifies the requester (ConsultationFactory): never on these pages.
SECRETS = ("小林", "13900001111", "1390000", "考试压力", "睡不着")
TOWNSHIP_A = "330127100000"


@dataclass
class Desk:
    counsellor: Volunteer
    lawyer: Volunteer
    ordinary: Consultation  # assigned to the counsellor
    crisis: Consultation  # offered to the counsellor on duty


def routed(**fields: Any) -> Consultation:
    consultation: Consultation = ConsultationFactory.create(**fields)
    consultation_route(consultation=consultation)
    consultation.refresh_from_db()
    return consultation


@pytest.fixture
def desk(persona_professionals: dict[str, Volunteer]) -> Desk:
    counsellor = persona_professionals["counsellor"]
    lawyer = persona_professionals["lawyer"]
    on_duty_all_week(counsellor, kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(lawyer, kind=Kind.LEGAL)
    ordinary = routed()
    crisis = routed(topic=Topic.SELF_HARM, is_urgent=True, crisis_signals=["suicide"])
    assert ordinary.assigned_to == counsellor
    return Desk(counsellor=counsellor, lawyer=lawyer, ordinary=ordinary, crisis=crisis)


# --- The queue --------------------------------------------------------------------------------------------


def test_the_queue_shows_metadata_urgent_first_and_never_the_requesters_words(
    clients: dict[str, Client], desk: Desk
) -> None:
    response = clients["counsellor"].get("/consultations/queue/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="professional-tabs"' in body
    assert 'aria-current="page" href="/consultations/queue/"' in body
    assert body.index(f'id="queue-{desk.crisis.pk}"') < body.index(f'id="queue-{desk.ordinary.pk}"')
    assert f'id="urgent-{desk.crisis.pk}">紧急<' in body
    assert "有 1 件紧急求助等待受理" in body
    assert desk.ordinary.reference in body
    assert "青城社区" in body
    assert "学习压力" in body
    assert 'name="declares_no_conflict"' in body
    assert 'hx-trigger="every 30s"' in body
    for secret in SECRETS:
        assert secret not in body


def test_htmx_refreshes_the_list_alone(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["counsellor"].get("/consultations/queue/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="queue-list"' in body
    assert "<html" not in body


def test_the_lawyer_sees_no_psychological_request(clients: dict[str, Client], desk: Desk) -> None:
    body = clients["lawyer"].get("/consultations/queue/").content.decode()
    assert 'id="queue-empty"' in body


def test_the_queue_page_makes_the_same_number_of_queries_for_more_requests(
    clients: dict[str, Client], desk: Desk
) -> None:
    with count_queries() as few:
        assert clients["counsellor"].get("/consultations/queue/").status_code == 200
    for _ in range(4):
        ConsultationFactory.create(assigned_to=desk.counsellor, region_id="330127100219")
        routed(topic=Topic.SELF_HARM, is_urgent=True)
    with count_queries() as many:
        response = clients["counsellor"].get("/consultations/queue/")
    assert response.content.decode().count('class="card mb-3') == 10
    assert len(many) == len(few)


def test_accepting_with_the_declaration_opens_the_conversation(
    clients: dict[str, Client], desk: Desk
) -> None:
    response = clients["counsellor"].post(
        f"/consultations/{desk.crisis.pk}/accept/", {"declares_no_conflict": "on"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{desk.crisis.pk}/"
    desk.crisis.refresh_from_db()
    assert (desk.crisis.state, desk.crisis.assigned_to) == (State.ACCEPTED, desk.counsellor)


def test_accepting_without_the_declaration_is_refused(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["counsellor"].post(f"/consultations/{desk.ordinary.pk}/accept/", {})

    assert response.status_code == 422
    assert "请确认与求助人不存在利益冲突" in response.content.decode()
    desk.ordinary.refresh_from_db()
    assert desk.ordinary.state == State.WAITING


def test_accepting_a_crisis_someone_else_accepted_answers_409(clients: dict[str, Client], desk: Desk) -> None:
    other = make_professional(username="c-other", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(other, kind=Kind.PSYCHOLOGICAL)
    from guanai.core.testing import verified_client

    assert (
        verified_client(other.user)
        .post(f"/consultations/{desk.crisis.pk}/accept/", {"declares_no_conflict": "on"})
        .status_code
        == 302
    )
    response = clients["counsellor"].post(
        f"/consultations/{desk.crisis.pk}/accept/", {"declares_no_conflict": "on"}
    )
    assert response.status_code == 409
    assert "这件求助已由其他志愿者受理" in response.content.decode()


def test_declining_passes_the_request_on(clients: dict[str, Client], desk: Desk) -> None:
    response = clients["counsellor"].post(
        f"/consultations/{desk.ordinary.pk}/decline/", {"reason": "conflict"}
    )

    assert response.status_code == 302
    desk.ordinary.refresh_from_db()
    assert desk.ordinary.assigned_to is None
    assert clients["counsellor"].post(f"/consultations/{desk.ordinary.pk}/decline/", {}).status_code == 422


# --- My duty ----------------------------------------------------------------------------------------------


def test_my_duty_shows_the_week_and_that_i_am_on_duty_now(clients: dict[str, Client], desk: Desk) -> None:
    DutySlot.objects.filter(volunteer=desk.counsellor).exclude(weekday=0, part__in=[0, 1]).delete()

    body = clients["counsellor"].get("/consultations/duty/mine/").content.decode()

    assert 'id="on-duty-now"' in body
    assert "现在值班中" in body
    assert 'aria-current="page" href="/consultations/duty/mine/"' in body
    assert body.count("table-success") == 2

    DutySlot.objects.filter(volunteer=desk.counsellor, part=0).delete()
    body = clients["counsellor"].get("/consultations/duty/mine/").content.decode()
    assert "现在值班中" not in body


# --- Rosters ----------------------------------------------------------------------------------------------


def test_the_roster_lists_the_regions_professionals(clients: dict[str, Client], desk: Desk) -> None:
    body = clients["county_a_admin"].get("/consultations/duty/").content.decode()
    assert f'id="roster-{desk.counsellor.pk}-psychological"' in body
    assert f'id="roster-{desk.lawyer.pk}-legal"' in body

    body = clients["county_a_admin"].get("/consultations/duty/?kind=legal").content.decode()
    assert f'id="roster-{desk.counsellor.pk}-psychological"' not in body

    body = clients["county_b_admin"].get("/consultations/duty/").content.decode()
    assert 'id="roster-empty"' in body


def test_the_roster_page_makes_the_same_number_of_queries_for_more_professionals(
    clients: dict[str, Client], desk: Desk
) -> None:
    with count_queries() as few:
        assert clients["county_a_admin"].get("/consultations/duty/").status_code == 200
    for number in range(3):
        on_duty_all_week(
            make_professional(username=f"c-more-{number}", kind=Kind.PSYCHOLOGICAL), kind="psychological"
        )
    with count_queries() as many:
        assert clients["county_a_admin"].get("/consultations/duty/").status_code == 200
    assert len(many) == len(few)


def test_saving_the_grid_replaces_the_slots(clients: dict[str, Client], desk: Desk) -> None:
    path = f"/consultations/duty/{desk.counsellor.pk}/"
    page = clients["county_a_admin"].get(f"{path}?kind=psychological")
    assert page.status_code == 200
    assert page.content.decode().count('name="cells"') == 28
    assert 'name="is_lead"' not in page.content.decode()

    response = clients["county_a_admin"].post(
        path, {"kind": "psychological", "region": TOWNSHIP_A, "cells": ["0-0", "2-3"]}
    )

    assert response.status_code == 302
    slots = DutySlot.objects.filter(volunteer=desk.counsellor).order_by("weekday")
    assert list(slots.values_list("weekday", "part", "region_id")) == [(0, 0, TOWNSHIP_A), (2, 3, TOWNSHIP_A)]


def test_the_province_names_leads_on_the_grid(clients: dict[str, Client], desk: Desk) -> None:
    path = f"/consultations/duty/{desk.counsellor.pk}/"
    assert 'name="is_lead"' in clients["province_admin"].get(path).content.decode()

    response = clients["province_admin"].post(
        path, {"kind": "psychological", "region": "330000000000", "cells": ["0-0"], "is_lead": "on"}
    )

    assert response.status_code == 302
    assert list(DutySlot.objects.filter(volunteer=desk.counsellor).values_list("is_lead", flat=True)) == [
        True
    ]
    response = clients["county_a_admin"].post(
        path, {"kind": "psychological", "region": COUNTY_A, "cells": []}
    )
    assert response.status_code == 409


# --- Reassigning ------------------------------------------------------------------------------------------


def test_the_reassign_page_shows_metadata_only_and_reassigns(clients: dict[str, Client], desk: Desk) -> None:
    other = make_professional(username="c-other", kind=Kind.PSYCHOLOGICAL)
    on_duty_all_week(other, kind=Kind.PSYCHOLOGICAL)
    path = f"/consultations/{desk.ordinary.pk}/reassign/"

    page = clients["county_a_admin"].get(path)

    body = page.content.decode()
    assert page.status_code == 200
    assert desk.ordinary.reference in body
    assert f'<option value="{other.pk}">' in body
    for secret in SECRETS:
        assert secret not in body

    response = clients["county_a_admin"].post(path, {"volunteer_id": str(other.pk), "reason": "均衡工作量"})
    assert response.status_code == 302
    desk.ordinary.refresh_from_db()
    assert desk.ordinary.assigned_to == other

    response = clients["county_a_admin"].post(path, {"volunteer_id": str(other.pk), "reason": ""})
    assert response.status_code == 422


# --- Who may open what ------------------------------------------------------------------------------------


def test_authorization_matrix_of_the_pages(clients: dict[str, Client], desk: Desk) -> None:
    queue = "/consultations/queue/"
    mine = "/consultations/duty/mine/"
    roster = "/consultations/duty/"
    edit = f"/consultations/duty/{desk.counsellor.pk}/"
    reassign = f"/consultations/{desk.ordinary.pk}/reassign/"
    accept = f"/consultations/{desk.crisis.pk}/accept/"
    decline = f"/consultations/{desk.ordinary.pk}/decline/"
    grid = {"kind": "psychological", "region": COUNTY_A, "cells": "0-0"}
    give = {"volunteer_id": str(desk.counsellor.pk), "reason": "调整"}
    yes = {"declares_no_conflict": "on"}
    why = {"reason": "conflict"}
    gets = (queue, mine, roster, edit, reassign)

    checks = [Check("anonymous", "GET", path, 302) for path in gets]
    checks += [
        Check("anonymous", "POST", accept, 302, form=yes),
        Check("anonymous", "POST", decline, 302, form=why),
        Check("anonymous", "POST", edit, 302, form=grid),
        Check("anonymous", "POST", reassign, 302, form=give),
    ]
    for persona in ("volunteer", "township_worker", "auditor", "system_admin"):
        checks += [Check(persona, "GET", path, 403, must_not_contain=SECRETS) for path in gets]
        checks += [
            Check(persona, "POST", accept, 403, form=yes),
            Check(persona, "POST", decline, 403, form=why),
            Check(persona, "POST", edit, 403, form=grid),
            Check(persona, "POST", reassign, 403, form=give),
        ]
    for persona in ("lawyer", "counsellor"):
        checks += [
            Check(persona, "GET", queue, 200, must_not_contain=SECRETS),
            Check(persona, "GET", mine, 200),
            Check(persona, "GET", roster, 403),
            Check(persona, "GET", edit, 403),
            Check(persona, "GET", reassign, 403, must_not_contain=SECRETS),
            Check(persona, "POST", edit, 403, form=grid),
            Check(persona, "POST", reassign, 403, form=give),
        ]
    # The lawyer was never offered the psychological requests: as if they did not exist.
    checks += [
        Check("lawyer", "POST", accept, 404, form=yes),
        Check("lawyer", "POST", decline, 404, form=why),
        Check("counsellor", "POST", "/consultations/999999/accept/", 404, form=yes),
    ]
    for persona in ("county_a_admin", "province_admin"):
        checks += [
            Check(persona, "GET", queue, 403),
            Check(persona, "GET", mine, 403),
            Check(persona, "GET", roster, 200),
            Check(persona, "GET", edit, 200),
            Check(persona, "GET", reassign, 200, must_not_contain=SECRETS),
            Check(persona, "POST", accept, 403, form=yes),
            Check(persona, "POST", decline, 403, form=why),
        ]
    checks += [
        Check("county_b_admin", "GET", roster, 200, must_not_contain=(desk.counsellor.name,)),
        Check("county_b_admin", "GET", edit, 404),
        Check("county_b_admin", "GET", reassign, 404, must_not_contain=SECRETS),
        Check("county_b_admin", "POST", edit, 404, form=grid),
        Check("county_b_admin", "POST", reassign, 404, form=give),
        Check("county_a_admin", "GET", "/consultations/duty/999999/", 404),
        Check("county_a_admin", "GET", "/consultations/999999/reassign/", 404),
        Check("counsellor", "GET", accept, 405),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
