"""Assessments and incidents as the services make them, with values a test may override."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.utils import timezone

from guanai.compliance.models import ImpactAssessment, PrivacyIncident
from guanai.compliance.services import AssessmentInput, IncidentInput, assessment_create, incident_report
from guanai.compliance.vocabulary import Conclusion, DataCategory, IncidentKind, LegalBasis, ProcessingKind
from guanai.core.access import Actor
from guanai.core.testing import COUNTY_A

CHILD_NAME = "王小明"


def assessment_input(**overrides: Any) -> AssessmentInput:
    values: dict[str, Any] = {
        "region_code": COUNTY_A,
        "title": "2026年困难儿童花名册导入",
        "processing_kind": ProcessingKind.IMPORT,
        "processing_description": "各乡镇上报的花名册由县关工委导入系统。",
        "purpose": "建立困难儿童档案，安排结对关爱。",
        "legal_basis": LegalBasis.CONSENT,
        "data_categories": "姓名、身份证件号码、住址、就读学校",
        "involves_sensitive_data": True,
        "involves_children_under_14": True,
        "risks": "花名册在传递中被转发；导入错误导致信息串户。",
        "measures": "花名册经加密渠道报送，导入后删除原件；导入结果由乡镇核对。",
        "conclusion": Conclusion.ACCEPTABLE,
        "assessors": "县关工委办公室 张三、李四",
        "assessed_on": datetime.date(2026, 3, 2),
    }
    values.update(overrides)
    return AssessmentInput(**values)


def make_assessment(
    actor: Actor, *, today: datetime.date | None = None, **overrides: Any
) -> ImpactAssessment:
    return assessment_create(actor=actor, data=assessment_input(**overrides), today=today)


def incident_input(**overrides: Any) -> IncidentInput:
    values: dict[str, Any] = {
        "region_code": COUNTY_A,
        "kind": IncidentKind.LEAK,
        "discovered_at": timezone.now() - datetime.timedelta(hours=2),
        "description": f"乡镇工作人员把含{CHILD_NAME}等12名儿童的名单误发到家长微信群。",
        "data_categories": [DataCategory.NAME, DataCategory.SCHOOL],
        "affected_count": 12,
        "affected_minors_count": 12,
        "causes": "",
        "remedial_measures": "",
        "possible_harm": "",
    }
    values.update(overrides)
    return IncidentInput(**values)


def make_incident(actor: Actor, *, now: datetime.datetime | None = None, **overrides: Any) -> PrivacyIncident:
    return incident_report(actor=actor, data=incident_input(**overrides), now=now)


def replace(data: Any, **changes: Any) -> Any:
    return dataclasses.replace(data, **changes)
