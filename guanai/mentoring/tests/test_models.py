"""The database keeps the rules even when a service is bypassed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from guanai.core.access import Actor
from guanai.core.testing import count_queries
from guanai.mentoring.models import AccessGrant, CaseMentor, CaseReview, MentoringCase
from guanai.mentoring.services import case_open
from guanai.mentoring.tests.factories import sealed_minor
from guanai.minors.models import Minor
from guanai.minors.tests.ids import id_number
from guanai.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def refused(**values: Any) -> None:
    model = values.pop("model")
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**values)


def test_one_open_case_per_youth_in_the_database(case: MentoringCase) -> None:
    refused(
        model=MentoringCase,
        reference="BJ-2026-TESTTEST",
        minor=case.minor,
        region_id=case.region_id,
        officer=case.officer,
    )


def test_a_closed_case_has_an_outcome_and_an_open_one_none(case: MentoringCase) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MentoringCase.objects.filter(pk=case.pk).update(state="closed")
    with pytest.raises(IntegrityError), transaction.atomic():
        MentoringCase.objects.filter(pk=case.pk).update(outcome="other")
    MentoringCase.objects.filter(pk=case.pk).update(state="closed", outcome="other", closed_at=timezone.now())


def test_periods_are_ordered(case: MentoringCase, mentor: Volunteer) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MentoringCase.objects.filter(pk=case.pk).update(
            correction_starts_on=datetime.date(2026, 5, 1), correction_ends_on=datetime.date(2026, 4, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseMentor.objects.filter(case=case).update(ended_on=datetime.date(2000, 1, 1))
    refused(model=CaseMentor, case=case, volunteer=mentor, started_on=timezone.localdate())  # twice at a time


def test_reviews_are_monthly_and_once(case: MentoringCase) -> None:
    CaseReview.objects.create(
        case=case, month=datetime.date(2026, 4, 1), progress_note="x", recorded_by=case.officer
    )
    refused(
        model=CaseReview,
        case=case,
        month=datetime.date(2026, 4, 1),
        progress_note="y",
        recorded_by=case.officer,
    )
    refused(
        model=CaseReview,
        case=case,
        month=datetime.date(2026, 5, 2),
        progress_note="y",
        recorded_by=case.officer,
    )


def test_a_grant_ends_after_it_begins_and_names_a_lawful_basis(case: MentoringCase) -> None:
    now = timezone.now()
    common = {"model": AccessGrant, "user": case.officer, "case": case, "reason_text": "x", "granted_at": now}
    refused(**common, reason_code="judicial_need", expires_at=now)
    refused(**common, reason_code="curiosity", expires_at=now + datetime.timedelta(hours=3))


def test_the_list_of_ones_cases_takes_a_constant_number_of_queries(
    clients: dict[str, Client], personas: dict[str, Any], actors: dict[str, Actor], case: MentoringCase
) -> None:
    client = clients["township_worker"]
    client.get("/mentoring/")
    with count_queries() as page_few:
        client.get("/mentoring/")
    with count_queries() as api_few:
        client.get("/api/v1/mentoring-cases/")
    for sequence in range(40, 46):
        minor: Minor = sealed_minor(
            id_number=id_number(birth="20090301", sequence=sequence), name=f"封存{sequence}"
        )
        case_open(
            actor=actors["county_a_admin"],
            id_number=str(minor.id_number),
            officer_id=personas["township_worker"].pk,
        )
    with count_queries() as page_many:
        response = client.get("/mentoring/")
    assert response.content.decode().count("BJ-") == 7
    with count_queries() as api_many:
        assert client.get("/api/v1/mentoring-cases/").json()["count"] == 7
    assert len(page_many) == len(page_few)
    assert len(api_many) == len(api_few)
