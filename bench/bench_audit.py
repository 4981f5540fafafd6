"""What the audit hash chain costs per written event, against the raw limit measured in the same run.

    .venv/bin/python bench/bench_audit.py                    # SQLite, in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai .venv/bin/python bench/bench_audit.py
                                                             # PostgreSQL, in a database bench_guanai_audit

"raw" writes the same row with `AuditEvent.objects.create` and a constant hash: no lock on the chain head,
no HMAC, no head update — the most an append-only table with these indexes can take. "chain" writes it
through `audit_record`, as services do. Both commit each event on its own, as a request would, and are
run in alternating blocks so that both see a table of the same size. BENCH_EVENTS sets N (default 5000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
BLOCK = 500
WARM_UP = 200


def main() -> None:
    settings = connection.settings_dict
    original_name = settings["NAME"]
    with tempfile.TemporaryDirectory() as directory:
        if connection.vendor == "sqlite":
            settings["TEST"]["NAME"] = str(Path(directory) / "bench_audit.sqlite3")
            where = "SQLite (a temporary file; WAL, synchronous=NORMAL as configured)"
        else:
            settings["TEST"]["NAME"] = "bench_guanai_audit"
            where = f"{connection.display_name} ({settings['HOST']}, database bench_guanai_audit)"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            run(where)
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)


def run(where: str) -> None:
    from guanai.accounts.models import RoleAssignment, User
    from guanai.audit import chain
    from guanai.audit.models import AuditEvent
    from guanai.audit.selectors import audit_chain_verify
    from guanai.audit.services import audit_record
    from guanai.core.access import Actor, Role

    user = User.objects.create(username="bench-county-admin")
    actor = Actor(
        user=user, assignment=RoleAssignment(user=user, role=Role.COUNTY_ADMIN, region_id="330127000000")
    )
    request = RequestFactory().post("/committees/1/", REMOTE_ADDR="203.0.113.20")
    request.META["HTTP_USER_AGENT"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36"
    raw_hash = "0" * 64

    def chained(index: int) -> None:
        audit_record(
            actor=actor,
            action="committee.update",
            target_type="committees.committee",
            target_id=index,
            changes=["name", "phone"],
            request=request,
            detail={"source": "bench"},
        )

    def raw(index: int) -> None:
        AuditEvent.objects.create(
            actor_user_id=user.pk,
            actor_username=user.username,
            actor_role=Role.COUNTY_ADMIN,
            actor_region="330127000000",
            action="committee.update",
            target_type="committees.committee",
            target_id=str(index),
            region_code="330127000000",
            changed_fields=["name", "phone"],
            ip="203.0.113.20",
            user_agent=request.META["HTTP_USER_AGENT"],
            detail={"source": "bench"},
            previous_hash=raw_hash,
            hash=raw_hash,
        )

    for index in range(WARM_UP):
        raw(index)
        chained(index)
    seconds = {"raw": 0.0, "chain": 0.0}
    writers: dict[str, Callable[[int], None]] = {"raw": raw, "chain": chained}
    for start in range(0, EVENTS, BLOCK):
        for name, write in writers.items():
            began = time.perf_counter()
            for index in range(start, min(start + BLOCK, EVENTS)):
                write(index)
            seconds[name] += time.perf_counter() - began

    # The HMAC-SM3 over the canonical JSON alone, without the database.
    sample = AuditEvent.objects.exclude(hash=raw_hash).order_by("-id").first()
    assert sample is not None
    began = time.perf_counter()
    for _ in range(EVENTS):
        chain.event_hash(sample)
    hashing = time.perf_counter() - began

    # The chain check, once the unchained rows are gone.
    AuditEvent.objects.filter(hash=raw_hash)._raw_delete(AuditEvent.objects.db)
    began = time.perf_counter()
    verdict = audit_chain_verify()
    verifying = time.perf_counter() - began
    assert verdict.is_intact, verdict

    raw_rate = EVENTS / seconds["raw"]
    chain_rate = EVENTS / seconds["chain"]
    print(f"database: {where}")
    print(f"events written each way: {EVENTS} (after {WARM_UP} to warm up), one transaction per event")
    print(f"raw insert, no chain (the limit): {raw_rate:8.0f} events/s  {1e6 / raw_rate:7.1f} µs/event")
    print(f"audit_record, hash chain:         {chain_rate:8.0f} events/s  {1e6 / chain_rate:7.1f} µs/event")
    print(f"ratio chain / raw:                {chain_rate / raw_rate:8.2f}")
    print(f"  of which HMAC-SM3 + canonical JSON: {1e6 * hashing / EVENTS:5.1f} µs/event")
    verify_rate = verdict.count / verifying
    print(f"audit_verify:                     {verify_rate:8.0f} events/s ({verdict.count} events)")


if __name__ == "__main__":
    main()
