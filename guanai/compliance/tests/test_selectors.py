"""Reads: who sees which assessments and incidents, and the filters."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from guanai.accounts.selectors import actor_for_user
from guanai.compliance.models import PrivacyIncident
from guanai.compliance.selectors import (
    AssessmentFilters,
    IncidentFilters,
    assessment_get,
    assessment_list,
    incident_get,
    incident_list,
    incidents_overdue_count,
    record_region_choices,
)
from guanai.compliance.services import incident_contain
from guanai.compliance.tests.factories import make_assessment, make_incident
from guanai.compliance.vocabulary import Conclusion, IncidentKind, IncidentStatus, ProcessingKind
from guanai.core.access import Actor
from guanai.core.errors import NotFoundError, ValidationFailed
from guanai.core.testing import COUNTY_A, COUNTY_B

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


def test_the_province_security_admin_and_the_auditor_see_every_county(
    admin: Actor, actors: dict[str, Actor]
) -> None:
    in_a = make_incident(admin, region_code=COUNTY_A)
    in_b = make_incident(admin, region_code=COUNTY_B)
    assessment = make_assessment(admin, today=TODAY, region_code=COUNTY_B)
    for actor in (admin, actors["auditor"]):
        assert set(incident_list(actor=actor)) == {in_a, in_b}
        assert list(assessment_list(actor=actor)) == [assessment]
        assert incident_get(actor=actor, incident_id=in_b.pk) == in_b


def test_another_countys_security_admin_sees_only_their_county(
    admin: Actor, county_b_security_admin: Any
) -> None:
    in_a = make_incident(admin, region_code=COUNTY_A)
    in_b = make_incident(admin, region_code=COUNTY_B)
    of_a = make_assessment(admin, today=TODAY, region_code=COUNTY_A)
    county_b = actor_for_user(county_b_security_admin)
    assert list(incident_list(actor=county_b)) == [in_b]
    assert list(assessment_list(actor=county_b)) == []
    with pytest.raises(NotFoundError):
        incident_get(actor=county_b, incident_id=in_a.pk)
    with pytest.raises(NotFoundError):
        assessment_get(actor=county_b, assessment_id=of_a.pk)
    with pytest.raises(NotFoundError):
        incident_list(actor=county_b, filters=IncidentFilters(region=COUNTY_A))
    assert record_region_choices(actor=county_b) == [(COUNTY_B, "建德市")]


def test_another_provinces_security_admin_sees_nothing(
    admin: Actor, other_province_security_admin: Any
) -> None:
    incident = make_incident(admin)
    make_assessment(admin, today=TODAY)
    outsider = actor_for_user(other_province_security_admin)
    assert list(incident_list(actor=outsider)) == []
    assert list(assessment_list(actor=outsider)) == []
    assert incidents_overdue_count(actor=outsider, now=timezone.now() + datetime.timedelta(days=9)) == 0
    with pytest.raises(NotFoundError):
        incident_get(actor=outsider, incident_id=incident.pk)


def test_staff_without_the_permission_see_nothing_even_in_their_region(
    admin: Actor, actors: dict[str, Actor]
) -> None:
    incident = make_incident(admin)
    make_assessment(admin, today=TODAY)
    for name in ("province_admin", "county_a_admin", "system_admin", "township_worker"):
        assert list(incident_list(actor=actors[name])) == []
        assert list(assessment_list(actor=actors[name])) == []
        with pytest.raises(NotFoundError):
            incident_get(actor=actors[name], incident_id=incident.pk)


def test_the_lists_filter(admin: Actor) -> None:
    leak = make_incident(admin, region_code=COUNTY_A)
    loss = make_incident(
        admin,
        region_code=COUNTY_B,
        kind=IncidentKind.LOSS,
        discovered_at=timezone.now() - datetime.timedelta(minutes=5),
        remedial_measures="已挂失",
    )
    incident_contain(actor=admin, incident_id=loss.pk)
    assert list(incident_list(actor=admin, filters=IncidentFilters(kind=IncidentKind.LOSS))) == [loss]
    assert list(incident_list(actor=admin, filters=IncidentFilters(status=IncidentStatus.OPEN))) == [leak]
    assert list(incident_list(actor=admin, filters=IncidentFilters(region=COUNTY_A))) == [leak]

    old = make_assessment(admin, today=TODAY, assessed_on=datetime.date(2022, 5, 1), title="旧的导出评估")
    new = make_assessment(
        admin,
        today=TODAY,
        processing_kind=ProcessingKind.SHARING,
        conclusion=Conclusion.CONDITIONAL,
        conclusion_note="学校须签订保密协议",
    )
    rows = assessment_list(actor=admin, filters=AssessmentFilters(expired=True), today=TODAY)
    assert list(rows) == [old]
    rows = assessment_list(actor=admin, filters=AssessmentFilters(expired=False), today=TODAY)
    assert list(rows) == [new]
    assert list(assessment_list(actor=admin, filters=AssessmentFilters(processing_kind="sharing"))) == [new]
    assert list(assessment_list(actor=admin, filters=AssessmentFilters(conclusion="conditional"))) == [new]
    assert list(assessment_list(actor=admin, filters=AssessmentFilters(q="导出"))) == [old]


def test_the_record_regions_are_the_province_its_cities_and_counties(admin: Actor) -> None:
    assert [code for code, _name in record_region_choices(actor=admin)] == [
        "330000000000",
        "330100000000",
        "330127000000",
        "330182000000",
        "330200000000",
        "330212000000",
    ]


def test_the_region_filter_takes_short_codes_and_refuses_malformed_ones(admin: Actor) -> None:
    leak = make_incident(admin, region_code=COUNTY_A)
    make_incident(admin, region_code=COUNTY_B)
    assert list(incident_list(actor=admin, filters=IncidentFilters(region="330127"))) == [leak]
    for malformed in ("3301270", "淳安县"):
        with pytest.raises(ValidationFailed) as failure:
            incident_list(actor=admin, filters=IncidentFilters(region=malformed))
        assert failure.value.fields == {"region": ["区划代码应为 2、4、6、9 或 12 位数字"]}
    with pytest.raises(NotFoundError):
        assessment_list(actor=admin, filters=AssessmentFilters(region="11"))


def test_overdue_incidents_are_those_not_reported_past_their_reporting_time(admin: Actor) -> None:
    late = make_incident(admin, discovered_at=timezone.now() - datetime.timedelta(hours=25))
    recent = make_incident(admin, discovered_at=timezone.now() - datetime.timedelta(hours=1))
    now = timezone.now()
    assert list(PrivacyIncident.objects.overdue(now)) == [late]
    assert list(PrivacyIncident.objects.not_overdue(now)) == [recent]
