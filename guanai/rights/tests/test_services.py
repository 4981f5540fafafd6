"""Registering a data-subject request with its deadline, and each way of answering it: a copy of the
child's data, a correction, an erasure (or its refusal while the data are still needed), a written
refusal; the reminders of the deadline."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from openpyxl import load_workbook

from guanai.audit.models import AuditEvent
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.photos import photo_file
from guanai.minors.models import Consent, Guardian, Minor
from guanai.minors.services import MinorInput, minor_update
from guanai.minors.tests.factories import COUNTY_A_PREFIX, GuardianFactory, make_id_number
from guanai.minors.vocabulary import Status as MinorStatus
from guanai.notifications.models import Notification
from guanai.pairings.models import Visit
from guanai.pairings.tests.factories import (
    MandatoryReportFactory,
    PairingFactory,
    VisitFactory,
    jpeg_with_gps,
)
from guanai.pairings.visits import PHOTO_SUBDIRECTORY, store_photo
from guanai.pairings.vocabulary import PairingState, ReportState
from guanai.rights.models import DataSubjectRequest
from guanai.rights.services import (
    ErasureBlocked,
    SubjectRequestInput,
    due_date,
    subject_request_complete,
    subject_request_copy,
    subject_request_erase,
    subject_request_refuse,
    subject_request_register,
    subject_request_reminders_send,
)
from guanai.rights.tests.conftest import (
    CONSENT_BY,
    GUARDIAN_NAME,
    GUARDIAN_PHONE,
    TODAY,
    ZHANG_ADDRESS,
    ZHANG_ID,
    Family,
)
from guanai.rights.vocabulary import Kind, RequesterRole, Status, Verification

pytestmark = pytest.mark.django_db

REQUESTER = "张建华"
REQUESTER_PHONE = "13957154321"
ASKED = "请删除我孩子张三明的全部信息"


def _input(kind: str = Kind.ACCESS, **changes: Any) -> SubjectRequestInput:
    values: dict[str, Any] = {
        "requester_role": RequesterRole.GUARDIAN,
        "requester_name": REQUESTER,
        "requester_contact": REQUESTER_PHONE,
        "verification": Verification.HOUSEHOLD_REGISTER,
        "kind": kind,
        "description": ASKED,
        "received_on": TODAY,
    }
    return SubjectRequestInput(**{**values, **changes})


def _register(family: Family, kind: str = Kind.ACCESS, **changes: Any) -> DataSubjectRequest:
    return subject_request_register(
        actor=family.county_a, minor_id=family.zhang.pk, data=_input(kind, **changes)
    )


def _raw_rows(table: str, column: str, value: int) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {column} = %s", [value])  # noqa: S608 - fixed names
        return list(cursor.fetchall())


def _raw(table: str, columns: str, pk: int) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        row: tuple[Any, ...] = cursor.fetchone()
        return row


# --- Registering and the deadline -------------------------------------------------------------------


def test_register_sets_the_deadline_fifteen_days_after_receipt(family: Family) -> None:
    subject_request = _register(family, received_on=datetime.date(2026, 11, 25))

    assert subject_request.due_on == datetime.date(2026, 12, 10)
    assert subject_request.status == Status.RECEIVED
    assert subject_request.minor_version_at_receipt == family.zhang.version
    assert subject_request.received_by == family.county_a.user


@override_settings(GUANAI_SUBJECT_REQUEST_DAYS=30)
def test_the_deadline_follows_the_setting() -> None:
    assert due_date(datetime.date(2026, 12, 1)) == datetime.date(2026, 12, 31)


def test_register_stores_the_requester_and_the_request_encrypted(family: Family) -> None:
    subject_request = _register(family)

    name, contact, description = _raw(
        "rights_datasubjectrequest", "requester_name, requester_contact, description", subject_request.pk
    )
    assert REQUESTER not in name
    assert REQUESTER_PHONE not in contact
    assert "张三明" not in description
    subject_request.refresh_from_db()
    assert (subject_request.requester_name, subject_request.description) == (REQUESTER, ASKED)


def test_a_child_under_fourteen_cannot_ask_in_person(family: Family) -> None:
    family.zhang.birth_date = datetime.date(2013, 1, 1)
    family.zhang.save(update_fields=["birth_date"])

    with pytest.raises(ValidationFailed) as refusal:
        _register(family, requester_role=RequesterRole.CHILD)

    assert refusal.value.fields == {"requester_role": ["未满 14 周岁的儿童，由监护人代为提出请求"]}


def test_a_child_of_fourteen_may_ask_in_person(family: Family) -> None:
    subject_request = _register(family, requester_role=RequesterRole.CHILD)

    assert subject_request.requester_role == RequesterRole.CHILD


def test_a_request_cannot_be_received_tomorrow(family: Family) -> None:
    with pytest.raises(ValidationFailed) as refusal:
        _register(family, received_on=datetime.date(2026, 12, 2))

    assert refusal.value.fields == {"received_on": ["收到日期不能晚于今天"]}


def test_another_countys_staff_cannot_register_for_the_child(family: Family) -> None:
    with pytest.raises(NotFoundError):
        subject_request_register(actor=family.county_b, minor_id=family.zhang.pk, data=_input())


def test_a_volunteer_cannot_register_a_request(family: Family, personas: dict[str, Any]) -> None:
    from guanai.accounts.selectors import actor_for_user

    with pytest.raises(PermissionDeniedError):
        subject_request_register(
            actor=actor_for_user(personas["volunteer"]), minor_id=family.zhang.pk, data=_input()
        )


# --- The copy ---------------------------------------------------------------------------------------


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(io.BytesIO(content))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets
    }


def test_the_copy_holds_the_childs_data_in_the_clear(family: Family) -> None:
    pairing = PairingFactory.create(minor=family.zhang)
    VisitFactory.create(pairing=pairing, note='=HYPERLINK("http://x")孩子说想念妈妈')
    subject_request = _register(family)

    copy = subject_request_copy(actor=family.county_a, request_id=subject_request.pk)

    sheets = _sheets(copy.content)
    assert list(sheets) == ["基本信息", "监护人", "同意记录", "结对与走访"]
    record = {row[0]: row[1] for row in sheets["基本信息"][2:-1]}
    assert record["姓名"] == "张三明"
    assert record["公民身份号码"] == ZHANG_ID
    assert record["现住址"] == ZHANG_ADDRESS
    assert record["就读学校"] == "千岛湖镇第三小学"
    assert record["父亲情况（外出务工地点、患病、服刑、失联等）"] == "在宁波务工"
    assert sheets["监护人"][2] == [GUARDIAN_NAME, "父亲", GUARDIAN_PHONE, "监护人", "具备"]
    assert sheets["同意记录"][2][0] == CONSENT_BY
    visit_row = sheets["结对与走访"][3]
    assert visit_row[0] == "走访"
    # A formula typed into a record stays text in the copy.
    assert visit_row[6] == '\'=HYPERLINK("http://x")孩子说想念妈妈'
    watermark = sheets["基本信息"][0][0]
    assert watermark.startswith("导出人：p-county-a（county_a_admin）")
    assert sheets["基本信息"][-1][0] == watermark
    subject_request.refresh_from_db()
    assert subject_request.copy_produced_at is not None


def test_downloading_the_copy_is_an_audit_event_without_personal_values(family: Family) -> None:
    subject_request = _register(family)

    subject_request_copy(actor=family.county_a, request_id=subject_request.pk)

    event = AuditEvent.objects.get(action="subject_request.copy_downloaded")
    assert event.target_id == str(subject_request.pk)
    assert event.region_code == family.zhang.region_id
    assert set(event.detail) == {"kind", "minor_id", "bytes"}
    assert event.detail["kind"] == "access"


def test_the_copy_needs_the_unmask_permission(family: Family, personas: dict[str, Any]) -> None:
    from guanai.accounts.selectors import actor_for_user
    from guanai.core.access import Role
    from guanai.core.testing import create_persona

    liaison = create_persona(
        "p-liaison", Role.VILLAGE_LIAISON, family.zhang.region_id, display_name="liaison"
    )
    subject_request = _register(family)

    with pytest.raises(PermissionDeniedError):
        subject_request_copy(actor=actor_for_user(liaison), request_id=subject_request.pk)


def test_an_access_request_is_completed_only_once_the_copy_was_produced(family: Family) -> None:
    subject_request = _register(family)

    with pytest.raises(ConflictError) as refusal:
        subject_request_complete(actor=family.county_a, request_id=subject_request.pk)
    assert refusal.value.message == "请先生成并下载副本，交申请人后再办结"

    subject_request_copy(actor=family.county_a, request_id=subject_request.pk)
    completed = subject_request_complete(actor=family.county_a, request_id=subject_request.pk)

    assert completed.status == Status.COMPLETED
    assert completed.handled_by == family.county_a.user
    assert completed.handled_at is not None


def test_a_deletion_request_has_no_copy(family: Family) -> None:
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ConflictError):
        subject_request_copy(actor=family.county_a, request_id=subject_request.pk)


# --- Correction -------------------------------------------------------------------------------------


def test_a_correction_is_completed_after_the_record_was_updated(family: Family) -> None:
    subject_request = _register(family, Kind.CORRECTION, description="学校已改为千岛湖镇初级中学")

    with pytest.raises(ConflictError) as refusal:
        subject_request_complete(actor=family.county_a, request_id=subject_request.pk, note="已更正学校")
    assert refusal.value.message == "儿童信息自收到请求以来尚未修改，请先修改后再办结"

    zhang = family.zhang
    minor_update(
        actor=family.county_a,
        minor_id=zhang.pk,
        version=zhang.version,
        data=MinorInput(
            name=zhang.name,
            region_code=zhang.region_id,
            id_number=ZHANG_ID,
            address=ZHANG_ADDRESS,
            school="千岛湖镇初级中学",
            grade=zhang.grade,
            categories=zhang.categories,
            household_type=zhang.household_type,
        ),
    )
    with pytest.raises(ValidationFailed) as missing:
        subject_request_complete(actor=family.county_a, request_id=subject_request.pk, note=" ")
    assert missing.value.fields == {"note": ["请说明更正或补充了哪些信息"]}

    completed = subject_request_complete(
        actor=family.county_a, request_id=subject_request.pk, note="已更正学校"
    )

    assert completed.status == Status.COMPLETED
    assert completed.outcome_note == "已更正学校"
    assert Minor.objects.get(pk=zhang.pk).school == "千岛湖镇初级中学"
    event = AuditEvent.objects.get(action="subject_request.completed")
    assert event.changed_fields == ["status", "outcome_note"]
    assert AuditEvent.objects.filter(action="minor.update", target_id=str(zhang.pk)).count() == 1


# --- Refusal ----------------------------------------------------------------------------------------


def test_a_refusal_needs_written_reasons(family: Family) -> None:
    subject_request = _register(family)

    with pytest.raises(ValidationFailed) as refusal:
        subject_request_refuse(actor=family.county_a, request_id=subject_request.pk, reasons="  ")

    assert refusal.value.fields == {"reasons": ["请写明不予办理的理由，答复函将告知申请人"]}
    subject_request.refresh_from_db()
    assert subject_request.status == Status.RECEIVED


def test_a_refusal_keeps_its_reasons_and_closes_the_request(family: Family) -> None:
    subject_request = _register(family)

    refused = subject_request_refuse(
        actor=family.county_a, request_id=subject_request.pk, reasons="申请人未能提供监护关系证明"
    )

    assert refused.status == Status.REFUSED
    assert refused.refusal_reasons == "申请人未能提供监护关系证明"
    (raw,) = _raw("rights_datasubjectrequest", "refusal_reasons", subject_request.pk)
    assert "监护关系" not in raw
    with pytest.raises(ConflictError):
        subject_request_complete(actor=family.county_a, request_id=subject_request.pk)


def test_a_village_liaison_may_refuse_a_correction_but_not_a_deletion(family: Family) -> None:
    from guanai.accounts.selectors import actor_for_user
    from guanai.core.access import Role
    from guanai.core.testing import create_persona

    liaison = actor_for_user(
        create_persona("p-liaison", Role.VILLAGE_LIAISON, family.zhang.region_id, display_name="liaison")
    )
    deletion = _register(family, Kind.DELETION)
    correction = _register(family, Kind.CORRECTION)

    with pytest.raises(PermissionDeniedError):
        subject_request_refuse(actor=liaison, request_id=deletion.pk, reasons="申请人未能证明监护关系")
    refused = subject_request_refuse(actor=liaison, request_id=correction.pk, reasons="所述信息无误")

    assert DataSubjectRequest.objects.get(pk=deletion.pk).status == Status.RECEIVED
    assert refused.status == Status.REFUSED
    assert not AuditEvent.objects.filter(
        action="subject_request.refused", target_id=str(deletion.pk)
    ).exists()


def test_another_countys_staff_cannot_refuse(family: Family) -> None:
    subject_request = _register(family)

    with pytest.raises(NotFoundError):
        subject_request_refuse(actor=family.county_b, request_id=subject_request.pk, reasons="理由")


# --- Erasure ----------------------------------------------------------------------------------------


def test_erasure_leaves_no_personal_data_in_the_childs_rows(family: Family) -> None:
    zhang = family.zhang
    pairing = PairingFactory.create(
        minor=zhang, state=PairingState.CLOSED, close_note="孩子随母亲迁往宁波", explanation=["同村"]
    )
    visit = VisitFactory.create(pairing=pairing, note="张三明说想念妈妈")
    report = MandatoryReportFactory.create(
        visit=VisitFactory.create(pairing=pairing, note="发现张三明身上有伤"),
        state=ReportState.CLOSED,
        outcome="police",
        outcome_note="已报告千岛湖派出所",
    )
    subject_request = _register(family, Kind.DELETION)

    erased = subject_request_erase(
        actor=family.county_a, request_id=subject_request.pk, confirmation=str(zhang.pk)
    )

    assert erased.status == Status.COMPLETED
    personal = [
        "张三明",
        "zhangsanming",
        ZHANG_ID,
        ZHANG_ADDRESS,
        "千岛湖镇第三小学",
        "八年级",
        "畲族",
        "在宁波务工",
        "父母长期在外务工",
        GUARDIAN_NAME,
        GUARDIAN_PHONE,
        "孩子随母亲迁往宁波",
    ]
    rows = (
        _raw_rows("minors_minor", "id", zhang.pk)
        + _raw_rows("minors_guardian", "minor_id", zhang.pk)
        + _raw_rows("minors_consent", "minor_id", zhang.pk)
        + _raw_rows("pairings_pairing", "minor_id", zhang.pk)
        + _raw_rows("pairings_visit", "pairing_id", pairing.pk)
        + _raw_rows("pairings_mandatoryreport", "minor_id", zhang.pk)
    )
    text = repr(rows)
    assert [value for value in personal if value in text] == []
    name, pinyin, initials, id_number, id_index, address, birth, status, household = _raw(
        "minors_minor",
        "name, name_pinyin, name_initials, id_number, id_number_index, address, birth_date, status, "
        "household_region_id",
        zhang.pk,
    )
    assert (name, pinyin, initials, id_number, id_index, address) == ("已删除", "", "", None, None, "")
    assert str(birth).startswith("2011-01-01")
    assert (status, household) == ("closed", None)
    assert _raw_rows("minors_guardian", "minor_id", zhang.pk) == []
    assert _raw("pairings_visit", "note, photo", visit.pk) == ("", "")
    assert _raw("pairings_mandatoryreport", "outcome_note, outcome", report.pk) == ("", "police")
    assert _raw("pairings_pairing", "close_note, state", pairing.pk) == ("", "closed")
    consent = Consent.objects.get(minor=zhang)
    assert (consent.given_by, consent.withdrawn_on) == ("", TODAY)
    kept = Minor.objects.get(pk=zhang.pk)
    assert (kept.region_id, kept.gender, kept.categories, kept.status) == (
        zhang.region_id,
        zhang.gender,
        zhang.categories,
        MinorStatus.CLOSED,
    )
    assert kept.closed_reason == f"依个人信息删除请求删除（请求 #{subject_request.pk}）"
    assert Visit.objects.filter(pairing=pairing).count() == 2
    kept_request = DataSubjectRequest.objects.get(pk=subject_request.pk)
    assert (kept_request.description, kept_request.requester_name) == ("（已随儿童信息一并删除）", REQUESTER)
    assert (kept_request.requester_contact, kept_request.verification, kept_request.received_on) == (
        "",
        Verification.HOUSEHOLD_REGISTER,
        TODAY,
    )
    assert (erased.description, erased.requester_contact) == ("（已随儿童信息一并删除）", "")
    assert REQUESTER_PHONE not in repr(_raw_rows("rights_datasubjectrequest", "id", subject_request.pk))


def _merged_away(family: Family, **fields: Any) -> Minor:
    """A second record of 张三明, merged into `family.zhang` by `duplicate_merge`: closed, its data kept."""
    from guanai.minors.models import DuplicateFlag
    from guanai.minors.services import duplicate_merge
    from guanai.minors.tests.factories import MinorFactory

    values: dict[str, Any] = {
        "name": "张三明",
        "region_id": family.zhang.region_id,
        "address": "浙江省杭州市淳安县千岛湖镇富城村旧址12号",
        "school": "富城村小学",
        "facts": {"mother_situation": "在义乌务工"},
    }
    other = MinorFactory.create(**{**values, **fields})
    GuardianFactory.create(minor=other, name="李桂兰", relationship="母亲", phone="13957199999")
    flag = DuplicateFlag.objects.create(
        first=other, second=family.zhang, reason=DuplicateFlag.Reason.NAME_AND_BIRTH
    )
    duplicate_merge(actor=family.county_a, flag_id=flag.pk, keep_id=family.zhang.pk)
    other.refresh_from_db()
    assert other.status == MinorStatus.CLOSED
    return other


def test_erasure_also_anonymises_the_records_merged_into_the_childs(family: Family) -> None:
    other = _merged_away(family, id_number=make_id_number(COUNTY_A_PREFIX, datetime.date(2011, 3, 8), 13))
    pairing = PairingFactory.create(minor=other, state=PairingState.CLOSED, close_note="旧记录的结对")
    visit = VisitFactory.create(pairing=pairing, note="张三明在旧记录里的走访")
    subject_request = _register(family, Kind.DELETION)

    subject_request_erase(
        actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
    )

    name, pinyin, id_number, id_index, address, school, facts, birth, status = _raw(
        "minors_minor",
        "name, name_pinyin, id_number, id_number_index, address, school, facts, birth_date, status",
        other.pk,
    )
    assert (name, pinyin, id_number, id_index, address, school) == ("已删除", "", None, None, "", "")
    assert facts in ({}, "{}")
    assert str(birth).endswith("-01-01")
    assert status == "closed"
    rows = repr(
        _raw_rows("minors_minor", "id", other.pk)
        + _raw_rows("minors_guardian", "minor_id", other.pk)
        + _raw_rows("pairings_pairing", "minor_id", other.pk)
        + _raw_rows("pairings_visit", "pairing_id", pairing.pk)
    )
    for value in ("张三明", "旧址12号", "富城村小学", "在义乌务工", "李桂兰", "13957199999", "旧记录"):
        assert value not in rows
    assert _raw("pairings_visit", "note", visit.pk) == ("",)
    erased = AuditEvent.objects.filter(action="minor.erased").order_by("pk")
    assert [(event.target_id, event.detail) for event in erased] == [
        (str(family.zhang.pk), {"request_id": subject_request.pk}),
        (str(other.pk), {"request_id": subject_request.pk, "merged_into": family.zhang.pk}),
    ]


def test_an_open_pairing_of_a_merged_record_blocks_the_erasure(family: Family) -> None:
    other = _merged_away(family)
    PairingFactory.create(minor=other, state=PairingState.ACTIVE)
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ErasureBlocked):
        subject_request_erase(
            actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
        )

    assert Minor.objects.get(pk=other.pk).name == "张三明"
    assert Minor.objects.get(pk=family.zhang.pk).name == "张三明"


def test_erasure_deletes_the_visit_photos_once_committed(
    family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    pairing = PairingFactory.create(minor=family.zhang, state=PairingState.CLOSED)
    name = store_photo(jpeg_with_gps())
    VisitFactory.create(pairing=pairing, photo=name)
    subject_request = _register(family, Kind.DELETION)
    photo = photo_file(name, folder=PHOTO_SUBDIRECTORY)
    assert photo is not None
    assert photo.exists()

    with django_capture_on_commit_callbacks(execute=True):
        subject_request_erase(
            actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
        )

    assert not photo.exists()


def test_erasure_events_name_fields_not_values(family: Family) -> None:
    subject_request = _register(family, Kind.DELETION)

    subject_request_erase(
        actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
    )

    events = AuditEvent.objects.filter(
        action__in=["subject_request.received", "minor.erased", "subject_request.completed"]
    ).order_by("pk")
    assert [event.action for event in events] == [
        "subject_request.received",
        "minor.erased",
        "subject_request.completed",
    ]
    stored = repr([(event.changed_fields, event.detail) for event in events])
    for value in ("张三明", ZHANG_ID, REQUESTER, REQUESTER_PHONE, ASKED, GUARDIAN_PHONE, ZHANG_ADDRESS):
        assert value not in stored
    erased = events[1]
    assert erased.target_type == "minors.minor"
    assert erased.detail == {"request_id": subject_request.pk}
    assert "id_number" in erased.changed_fields


def test_erasure_is_refused_while_a_pairing_is_open(family: Family) -> None:
    PairingFactory.create(minor=family.zhang, state=PairingState.ACTIVE)
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ErasureBlocked) as refusal:
        subject_request_erase(
            actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
        )

    assert refusal.value.code == "erasure_blocked"
    assert refusal.value.message == "该儿童尚有未解除的结对，志愿者仍在关爱服务中；请先解除结对。"
    zhang = Minor.objects.get(pk=family.zhang.pk)
    assert (zhang.name, zhang.id_number, zhang.status) == ("张三明", ZHANG_ID, MinorStatus.ACTIVE)
    assert Guardian.objects.filter(minor=zhang).count() == 1
    subject_request.refresh_from_db()
    assert subject_request.status == Status.RECEIVED
    blocked = AuditEvent.objects.get(action="minor.erasure_blocked")
    assert (blocked.outcome, blocked.detail) == ("denied", {"request_id": subject_request.pk})


def test_erasure_is_refused_while_a_mandatory_report_is_open(family: Family) -> None:
    pairing = PairingFactory.create(minor=family.zhang, state=PairingState.CLOSED)
    MandatoryReportFactory.create(visit=VisitFactory.create(pairing=pairing))
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ErasureBlocked) as refusal:
        subject_request_erase(
            actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
        )

    assert refusal.value.message == (
        "该儿童尚有未办结的强制报告（《未成年人保护法》第十一条），处置完毕前须保留相关信息。"
    )
    assert Minor.objects.get(pk=family.zhang.pk).name == "张三明"


def test_erasure_needs_the_record_number_typed(family: Family) -> None:
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ValidationFailed) as refusal:
        subject_request_erase(actor=family.county_a, request_id=subject_request.pk, confirmation="")

    assert refusal.value.fields == {"confirmation": ["请输入儿童记录编号以确认删除"]}
    assert Minor.objects.get(pk=family.zhang.pk).name == "张三明"


def test_only_a_deletion_request_erases(family: Family) -> None:
    subject_request = _register(family, Kind.ACCESS)

    with pytest.raises(ConflictError) as refusal:
        subject_request_erase(
            actor=family.county_a, request_id=subject_request.pk, confirmation=str(family.zhang.pk)
        )

    assert refusal.value.message == "只有删除请求可以删除儿童信息"


def test_a_deletion_request_is_not_completed_without_erasing(family: Family) -> None:
    subject_request = _register(family, Kind.DELETION)

    with pytest.raises(ConflictError):
        subject_request_complete(actor=family.county_a, request_id=subject_request.pk)


# --- Reminders --------------------------------------------------------------------------------------


def test_reminders_go_to_the_county_once_per_stage(family: Family) -> None:
    due_soon = _register(family, received_on=datetime.date(2026, 11, 18))  # last day 3 December
    overdue = _register(family, received_on=datetime.date(2026, 11, 15))  # last day 30 November
    tomorrow = _register(family, received_on=datetime.date(2026, 11, 17))  # last day 2 December
    later = _register(family, received_on=datetime.date(2026, 11, 25))  # last day 10 December

    counts = subject_request_reminders_send(today=TODAY)

    assert counts == {"due_soon": 2, "overdue": 1, "notified": 3}
    notes = Notification.objects.filter(user=family.county_a.user).order_by("pk")
    assert [note.topic for note in notes] == [
        f"subject-request:{overdue.pk}:overdue",
        f"subject-request:{tomorrow.pk}:due_soon",
        f"subject-request:{due_soon.pk}:due_soon",
    ]
    assert notes[0].title == "个人信息请求已超过答复期限"
    assert notes[0].body == (
        f"富城村村民委员会的一件个人信息查阅请求（编号 {overdue.pk}）应于11月30日前答复，"
        "现已超期，请尽快办理。"
    )
    assert not any("张三明" in note.body or REQUESTER in note.body for note in notes)
    assert not Notification.objects.filter(topic__startswith=f"subject-request:{later.pk}:").exists()
    assert not Notification.objects.filter(user=family.county_b.user).exists()
    again = subject_request_reminders_send(today=TODAY)
    assert again["notified"] == 0
