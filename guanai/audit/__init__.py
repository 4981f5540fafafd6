"""The audit trail. Services write events explicitly:

    from guanai import audit
    audit.record(actor=actor, action="committee.create", target=committee, changes=["name", "phone"])

See `guanai.audit.services.audit_record` for every argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanai.audit.models import AuditEvent


def record(**kwargs: Any) -> AuditEvent:
    from guanai.audit.services import audit_record

    return audit_record(**kwargs)
