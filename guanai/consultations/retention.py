"""Keeping the consent notice's promise: a finished request's personal data is kept for
settings.GUANAI_CONSULTATION_RETENTION_YEARS years after it ends, then erased (个人信息保护法 art.19 and
art.47: once the period agreed is over, the personal information is deleted).

The request row itself stays, as anonymous metadata, because the supervisors' figures and the annual
report count requests by kind, topic, who asked, region, times, service clocks, outcome, rating and hours.
Everything that could identify or describe the requester goes:

- the request: the name, the phone, the child's age, the description (NOT NULL: replaced by
  `ERASED_MARKER`, encrypted like any value), the professional's summary and notes, the rating's comment
  and the crisis signals (names of the triage rules the words matched: health information about the
  child, PIPL art.28; `is_urgent` stays for the crisis figures);
- every message, with its attachments' rows; the stored files are deleted once the transaction has
  committed (a rolled-back batch must not lose the files of rows that are still there);
- appointments stay (hours and modes are counted) without their note; a legal-aid referral stays (the
  institution, the exemption) with its facts replaced by the marker;
- the retrieval digest becomes `PURGED_DIGEST`, which no reference and code hash to, so the request can
  no longer be opened with its old code. That value is also how a purged row is recognised (no model
  field is needed): a second run finds nothing to do.

Only closed requests are erased. A request still waiting or accepted years later is left alone: it is not
a finished case (a waiting one is most likely never a real request at all, but only a person should decide
to close it), and erasing the words of an open conversation would break it.

Rows are taken in batches of `BATCH_SIZE`, each in its own short transaction, locked with
`select_for_update(skip_locked=True)` where the database supports it (PostgreSQL): a request a
professional's page is writing at that moment is skipped and erased by the next run, and two runs at once
never erase the same request twice. Each run writes one audit event, "consultation.purged", with the
counts only.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanai import audit
from guanai.audit.services import Outcome as AuditOutcome
from guanai.consultations import attachments
from guanai.consultations.models import Appointment, Attachment, Consultation, LegalAidReferral, Message
from guanai.consultations.vocabulary import State

BATCH_SIZE = 500
# The stored retrieval digest of an erased request. Digests are HMAC-SM3 in hex: 64 hex characters that
# are all "0" only with probability 2^-256, so no reference and code open an erased request.
PURGED_DIGEST = "0" * 64
# What the counts of a run are called (the task's result, the command's output, the audit event).
COUNT_NAMES = ("consultations", "messages", "attachments", "appointments", "referrals")


def retention_years() -> int:
    return int(getattr(settings, "GUANAI_CONSULTATION_RETENTION_YEARS", 3))


def erased_marker() -> str:
    """What an erased description or referral's facts read, in the desk's language whatever language
    the task runs in: it is stored, not shown in the reader's language."""
    with override("zh-hans"):
        return _("（已按保存期限删除）")


def retention_cutoff(*, now: datetime.datetime) -> datetime.datetime:
    """The moment `retention_years()` calendar years before `now`, in Asia/Shanghai: a request closed
    before it has been kept long enough. 29 February counts back to 28 February."""
    local = timezone.localtime(now)
    year = local.year - retention_years()
    try:
        return local.replace(year=year)
    except ValueError:
        return local.replace(year=year, day=28)


def _expired_q(cutoff: datetime.datetime) -> Q:
    return Q(state=State.CLOSED, closed_at__lt=cutoff) & ~Q(retrieval_digest=PURGED_DIGEST)


def consultations_expired_counts(*, now: datetime.datetime) -> dict[str, int]:
    """What `consultations_purge_expired` would erase at `now`, counted without changing anything (the
    command's --dry-run)."""
    expired = Consultation.objects.filter(_expired_q(retention_cutoff(now=now))).values("pk")
    return {
        "consultations": expired.count(),
        "messages": Message.objects.filter(consultation__in=expired).count(),
        "attachments": Attachment.objects.filter(message__consultation__in=expired).count(),
        "appointments": Appointment.objects.filter(consultation__in=expired).exclude(note="").count(),
        "referrals": LegalAidReferral.objects.filter(consultation__in=expired).count(),
    }


def _locked_batch(cutoff: datetime.datetime, after_id: int) -> list[int]:
    """The ids of the next expired requests after `after_id`, locked until the batch's transaction ends;
    requests another transaction holds are skipped (where the database can skip them)."""
    rows = Consultation.objects.filter(_expired_q(cutoff), pk__gt=after_id).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows.values_list("pk", flat=True)[:BATCH_SIZE])


def _erase(ids: list[int], *, now: datetime.datetime, marker: str) -> dict[str, int]:
    """Erase the personal data of the locked requests `ids`; the files go after the commit."""
    stored_names = list(
        Attachment.objects.filter(message__consultation_id__in=ids).values_list("stored_name", flat=True)
    )
    # Only the ids are loaded: the bodies would be decrypted for nothing. Attachments cascade.
    _total, deleted = Message.objects.filter(consultation_id__in=ids).only("pk").delete()
    appointments = Appointment.objects.filter(consultation_id__in=ids).exclude(note="").update(note="")
    referrals = LegalAidReferral.objects.filter(consultation_id__in=ids).update(facts=marker)
    consultations = Consultation.objects.filter(pk__in=ids).update(
        requester_name="",
        contact_phone="",
        requester_age=None,
        description=marker,
        summary="",
        notes="",
        rating_comment="",
        crisis_signals=[],
        retrieval_digest=PURGED_DIGEST,
        updated_at=now,
        # An edit form opened on the request before the erasure is stale now.
        version=F("version") + 1,
    )
    if stored_names:
        # robust: a file that cannot be removed is logged, not a reason to stop; a file left behind has
        # no row any more, and `attachments.attachments_sweep_orphans` removes it.
        transaction.on_commit(functools.partial(attachments.attachments_delete, stored_names), robust=True)
    return {
        "consultations": consultations,
        "messages": deleted.get(Message._meta.label, 0),
        "attachments": deleted.get(Attachment._meta.label, 0),
        "appointments": appointments,
        "referrals": referrals,
    }


def consultations_purge_expired(*, now: datetime.datetime, operator: str = "") -> dict[str, int]:
    """Erase the personal data of every request closed more than `retention_years()` years before `now`
    and not erased yet (see the module's documentation), batch by batch; returns the counts (keys
    `COUNT_NAMES`). Idempotent: a second run erases nothing. `operator` names who ran it from a command,
    for the audit event."""
    cutoff = retention_cutoff(now=now)
    marker = erased_marker()
    counts = dict.fromkeys(COUNT_NAMES, 0)
    after_id = 0
    try:
        while True:
            with transaction.atomic():
                ids = _locked_batch(cutoff, after_id)
                if not ids:
                    break
                for name, value in _erase(ids, now=now, marker=marker).items():
                    counts[name] += value
            after_id = ids[-1]
    except Exception:
        # The batches committed so far are erased: the trail says so, and that the run did not finish.
        _record(counts, cutoff=cutoff, operator=operator, outcome=AuditOutcome.FAILED)
        raise
    _record(counts, cutoff=cutoff, operator=operator, outcome=AuditOutcome.SUCCESS)
    return counts


def _record(counts: dict[str, int], *, cutoff: datetime.datetime, operator: str, outcome: str) -> None:
    """One event per run, also when nothing was due: the trail shows that the promise is being kept.
    Counts and the cutoff only; nothing of any request."""
    detail: dict[str, Any] = {
        "count": counts["consultations"],
        **{name: counts[name] for name in COUNT_NAMES if name != "consultations"},
        "retention_years": retention_years(),
        "closed_before": cutoff.isoformat(),
        "operator": operator,
    }
    audit.record(actor=None, action="consultation.purged", outcome=outcome, detail=detail)
