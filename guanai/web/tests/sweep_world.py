"""The world of the authorization sweep: one object of every kind in each of two counties (淳安县, county
A; 建德市, county B), each carrying its county's marker text in a field that a page would show, and the
ids the sweep fills path parameters with.

A page or an answer that contains "甲县标记" shows county A's data; "乙县标记", county B's. No marker is put
where it is public by design (a published knowledge article, the honour roll), so any occurrence in a
body seen by someone outside the county is a leak."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanai.accounts.models import RoleAssignment, RoleGrantRequest, User
from guanai.accounts.selectors import actor_for_user
from guanai.cafes.models import CafeFinding
from guanai.cafes.services import InspectionInput, inspection_record
from guanai.cafes.tests.factories_cafes import TOWNSHIP_A, TOWNSHIP_B, InternetCafeFactory
from guanai.committees.tests.factories import CommitteeFactory, CommitteeMemberFactory
from guanai.compliance.models import ImpactAssessment, PrivacyIncident
from guanai.compliance.services import keep_until_for, report_due_at
from guanai.compliance.vocabulary import Conclusion, DataCategory, IncidentKind, LegalBasis, ProcessingKind
from guanai.consultations.attachments import PDF_TYPE, CleanFile, attachment_write
from guanai.consultations.models import Appointment, Attachment
from guanai.consultations.tests.factories import ArticleFactory, ConsultationFactory, MessageFactory
from guanai.consultations.vocabulary import AppointmentMode, ArticleState, Sender
from guanai.core.access import Role
from guanai.core.testing import COUNTY_A, COUNTY_B
from guanai.dashboards.models import ReportJob
from guanai.imports.models import ImportBatch
from guanai.mentoring.models import AccessGrant, CaseGoal
from guanai.mentoring.services import case_open
from guanai.mentoring.tests.factories import sealed_minor, team_member
from guanai.mentoring.vocabulary import LawfulBasis
from guanai.minors.models import DuplicateFlag, ExportApproval
from guanai.minors.tests.factories import (
    COMMUNITY_B,
    VILLAGE_A,
    ConsentFactory,
    GuardianFactory,
    MinorFactory,
)
from guanai.minors.tests.ids import id_number
from guanai.pairings.services import proposal_run_create
from guanai.pairings.tests.factories import (
    MandatoryReportFactory,
    PairingFactory,
    VisitFactory,
    jpeg_with_gps,
    volunteer_account,
)
from guanai.rights.tests.factories import DataSubjectRequestFactory
from guanai.volunteers.certificates import certificate_issue
from guanai.volunteers.signup import invitation_create
from guanai.volunteers.tests.factories import (
    ServiceHoursFactory,
    TeamFactory,
    TeamMembershipFactory,
    VolunteerFactory,
)
from guanai.volunteers.vocabulary import HoursState, TeamKind

MARKER_A = "甲县标记"
MARKER_B = "乙县标记"
COUNTIES = (COUNTY_A, COUNTY_B)


@dataclass
class CountyObjects:
    """The ids (path parameter name → value) of one county's objects, and its marker."""

    county: str
    marker: str
    ids: dict[str, int | str] = field(default_factory=dict)


@dataclass
class World:
    counties: dict[str, CountyObjects]  # county code → its objects


def _county_objects(
    *, county: str, marker: str, village: str, township: str, users: dict[str, Any], officer: Any
) -> CountyObjects:
    ids: dict[str, int | str] = {}
    staff = actor_for_user(officer)
    county_committee = CommitteeFactory.create(region_id=county, name=f"{marker}县关工委")
    township_committee = CommitteeFactory.create(region_id=township, name=f"{marker}镇关工委")
    CommitteeMemberFactory.create(committee=county_committee, name=f"{marker}委员")
    ids["committee_id"] = county_committee.pk

    volunteer = VolunteerFactory.create(
        name=f"{marker}五老",
        region_id=village,
        user=users.get("volunteer"),
        former_unit=f"{marker}原单位",
        teaching_subjects=f"{marker}科目",
    )
    ids["volunteer_id"] = volunteer.pk
    team = TeamFactory.create(committee=township_committee, name=f"{marker}关爱团")
    TeamMembershipFactory.create(team=team, volunteer=volunteer)
    ids["team_id"] = team.pk
    cafe_team = TeamFactory.create(
        committee=township_committee, name=f"{marker}监督员队", kind=TeamKind.CAFE_SUPERVISORS
    )
    TeamMembershipFactory.create(team=cafe_team, volunteer=volunteer)
    hours = ServiceHoursFactory.create(
        volunteer=volunteer, description=f"{marker}服务", state=HoursState.PENDING
    )
    ids["record_id"] = hours.pk
    # A certificate of confirmed hours (issued by the service, with its verification code).
    ServiceHoursFactory.create(volunteer=volunteer, description=f"{marker}已确认服务")
    ids["certificate_id"] = certificate_issue(actor=staff, volunteer_id=volunteer.pk).pk
    invitation, _token = invitation_create(actor=staff, region_code=township, note=f"{marker}邀请")
    ids["invitation_id"] = invitation.pk

    minor = MinorFactory.create(
        name=f"{marker}儿童", region_id=village, school=f"{marker}小学", address=f"{marker}村12号"
    )
    ids["minor_id"] = minor.pk
    twin = MinorFactory.create(name=f"{marker}儿童", region_id=village, school=f"{marker}小学")
    ids["flag_id"] = DuplicateFlag.objects.create(
        first=minor, second=twin, reason=DuplicateFlag.Reason.NAME_AND_BIRTH
    ).pk
    # A finished roster import with a refused row (its error report file is made only by a real run).
    ids["batch_id"] = ImportBatch.objects.create(
        kind="minors",
        region_id=village,
        created_by=officer,
        file_name=f"{marker}名单.xlsx",
        status=ImportBatch.Status.SUCCEEDED,
        rows=2,
        created=1,
        error_count=1,
        errors=[{"row": 3, "column": "name", "code": "required", "message": f"{marker}错误"}],
    ).pk
    # An export of the registry awaiting approval (儿童个人信息网络保护规定 art.15).
    ids["approval_id"] = ExportApproval.objects.create(
        requested_by=officer, region_id=county, filters={"q": marker}, file_format="xlsx", row_count=2
    ).pk
    ids["guardian_id"] = GuardianFactory.create(minor=minor, name=f"{marker}监护人").pk
    # A guardian's request for a copy of the child's data (个人信息保护法 art.45), open, with its deadline.
    ids["subject_request_id"] = DataSubjectRequestFactory.create(
        minor=minor, kind="copy", description=f"{marker}请求复制孩子的信息"
    ).pk
    ids["consent_id"] = ConsentFactory.create(minor=minor, given_by=f"{marker}祖母").pk

    pairing = PairingFactory.create(minor=minor, volunteer=volunteer)
    ids["pairing_id"] = pairing.pk
    ids["run_id"] = proposal_run_create(actor=staff, region_code=township).pk
    visit = VisitFactory.create(pairing=pairing, note=f"{marker}走访")
    ids["visit_id"] = visit.pk
    report_visit = VisitFactory.create(pairing=pairing, note=f"{marker}报告走访", concerns=2)
    ids["report_id"] = MandatoryReportFactory.create(visit=report_visit).pk

    cafe = InternetCafeFactory.create(region_id=township, name=f"{marker}网咖", address=f"{marker}路1号")
    ids["cafe_id"] = cafe.pk
    inspection = inspection_record(
        actor=staff,
        cafe_id=cafe.pk,
        data=InspectionInput(
            inspected_on=timezone.localdate(),
            duration_minutes=60,
            minors_found=2,
            id_checks_done=True,
            notices_posted=True,
            other_problem=True,
            finding_description=f"{marker}发现",
            team_id=cafe_team.pk,
            inspector_ids=[volunteer.pk],
        ),
        photos=[SimpleUploadedFile("巡查.jpg", jpeg_with_gps(), content_type="image/jpeg")],
    )
    ids["inspection_id"] = inspection.pk
    ids["photo_id"] = inspection.photos.get().pk
    ids["finding_id"] = CafeFinding.objects.get(inspection=inspection).pk

    sealed_id = id_number(county=county[:6], birth="20100611", sequence=17)
    # A sealed youth (特殊青少年), reached only through the mentoring case opened for them.
    sealed_minor(
        name=f"{marker}封存", id_number=sealed_id, region_id=village, school=f"{marker}中学", address=""
    )
    mentors = TeamFactory.create(committee=county_committee, name=f"{marker}帮教团", kind=TeamKind.MENTORING)
    mentor = team_member(
        mentors,
        name=f"{marker}帮教",
        region_id=village,
        user=volunteer_account(f"sweep-mentor-{county}", village),
    )
    case = case_open(actor=staff, id_number=sealed_id, officer_id=officer.pk, mentor_ids=[mentor.pk])
    ids["case_id"] = case.pk
    ids["mentor_id"] = case.mentors.get().pk
    ids["goal_id"] = CaseGoal.objects.create(case=case, description=f"{marker}目标", created_by=officer).pk

    now = timezone.now()
    # Break-the-glass access to the case, for its officer (the account of a lawful basis names people).
    ids["grant_id"] = AccessGrant.objects.create(
        user=officer,
        case=case,
        reason_code=LawfulBasis.JUDICIAL_NEED,
        reason_text=f"{marker}查阅事由",
        granted_at=now,
        expires_at=now + datetime.timedelta(hours=3),
    ).pk

    consultation = ConsultationFactory.create(
        region_id=village, description=f"{marker}咨询：最近考试压力很大。", requester_name=f"{marker}小林"
    )
    message = MessageFactory.create(consultation=consultation, body=f"{marker}留言")
    # A file sent with the message, stored as the desk stores it (private media, owner-only).
    clean = CleanFile(data=f"%PDF-1.4 {marker}附件".encode(), content_type=PDF_TYPE, original_name="证明.pdf")
    ids["attachment_id"] = Attachment.objects.create(
        message=message,
        stored_name=attachment_write(clean),
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=clean.size,
    ).pk
    ids["appointment_id"] = Appointment.objects.create(
        consultation=consultation,
        volunteer=volunteer,
        mode=AppointmentMode.PHONE,
        starts_at=now + datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=1, hours=1),
        booked_by=Sender.REQUESTER,
        note=f"{marker}预约",
    ).pk
    ids["consultation_id"] = consultation.pk
    ids["pk"] = consultation.pk
    ids["reference"] = consultation.reference
    ids["article_id"] = ArticleFactory.create(
        author=volunteer, question=f"{marker}草稿问题", state=ArticleState.DRAFT, published_at=None
    ).pk
    ids["job_id"] = ReportJob.objects.create(
        kind=ReportJob.Kind.ANNUAL_XLSX,
        region_id=county,
        period="2026",
        requested_by=officer,
        status=ReportJob.Status.FAILED,
        message=f"{marker}任务",
    ).pk
    # An impact assessment and a personal-information incident of the county (the security admin's).
    ids["assessment_id"] = ImpactAssessment.objects.create(
        region_id=county,
        title=f"{marker}评估",
        processing_kind=ProcessingKind.IMPORT,
        processing_description=f"{marker}花名册导入",
        purpose="建立档案",
        legal_basis=LegalBasis.CONSENT,
        data_categories="姓名、住址",
        involves_sensitive_data=True,
        involves_children_under_14=True,
        risks="误发",
        measures="双人核对",
        conclusion=Conclusion.ACCEPTABLE,
        assessors=f"{marker}评估人",
        assessed_on=timezone.localdate(),
        keep_until=keep_until_for(timezone.localdate()),
        recorded_by=officer,
    ).pk
    ids["incident_id"] = PrivacyIncident.objects.create(
        region_id=county,
        kind=IncidentKind.LEAK,
        discovered_at=now - datetime.timedelta(hours=30),
        report_due_at=report_due_at(now - datetime.timedelta(hours=30)),
        description=f"{marker}事件经过",
        data_categories=DataCategory.NAME,
        affected_count=3,
        affected_minors_count=2,
        remedial_measures=f"{marker}补救措施",
        reported_by=officer,
    ).pk
    # A staff account of the county (a 网宣员 of the village) and a pending request to make them its
    # liaison, awaiting approval one level up (儿童个人信息网络保护规定 art. 15).
    clerk = User.objects.create(username=f"sweep-clerk-{county}", display_name=f"{marker}网宣员")
    ids["assignment_id"] = RoleAssignment.objects.create(
        user=clerk, role=Role.PUBLICIST, region_id=village, valid_from=datetime.date(2020, 1, 1)
    ).pk
    ids["grant_request_id"] = RoleGrantRequest.objects.create(
        user=clerk,
        role=Role.VILLAGE_LIAISON,
        region_id=village,
        valid_from=timezone.localdate(),
        reason=f"{marker}授权理由",
        requested_by=officer,
    ).pk
    ids["user_id"] = officer.pk
    ids["code"] = county  # a region code (/regions/<code>/); a certificate code of that name does not exist
    return CountyObjects(county=county, marker=marker, ids=ids)


def build_world(personas: dict[str, Any]) -> World:
    """County A's objects hang on the personas of 淳安县 (the volunteer persona is its 五老, its admin the
    officer of its mentoring case); county B's on its own admin."""
    county_a = _county_objects(
        county=COUNTY_A,
        marker=MARKER_A,
        village=VILLAGE_A,
        township=TOWNSHIP_A,
        users={"volunteer": personas["volunteer"]},
        officer=personas["county_a_admin"],
    )
    county_b = _county_objects(
        county=COUNTY_B,
        marker=MARKER_B,
        village=COMMUNITY_B,
        township=TOWNSHIP_B,
        users={},
        officer=personas["county_b_admin"],
    )
    return World(counties={COUNTY_A: county_a, COUNTY_B: county_b})
