"""Schemathesis over the whole OpenAPI document, in process (WSGI), as anonymous and as a county admin:
no 5xx, and every response matches the status codes and schema its operation declares.

Every operation gets a few derandomized examples that fit its schema (positive) and a few that do not
(negative: huge integers, wrong types, missing bodies), so that odd input is answered 4xx, never 500."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok

from config.wsgi import application
from guanai.consultations.tests.factories import ConsultationFactory, MessageFactory
from guanai.core.testing import ANONYMOUS
from guanai.minors.tests.factories import GuardianFactory, MinorFactory
from guanai.pairings.tests.factories import PairingFactory, VisitFactory
from guanai.volunteers.tests.factories import ServiceHoursFactory, VolunteerFactory

# Per operation and persona: examples that fit the schema, examples that do not, and examples that fit
# with the path naming seeded rows (so that detail pages answer real bodies). 125 operations x 2 personas
# take about a minute of CPU on SQLite. GUANAI_FUZZ_SCALE=10 digs ten times deeper (locally).
_SCALE = int(os.environ.get("GUANAI_FUZZ_SCALE", "1"))
POSITIVE, NEGATIVE, SEEDED = "positive", "negative", "seeded"
EXAMPLES = {POSITIVE: 4 * _SCALE, NEGATIVE: 3 * _SCALE, SEEDED: 2 * _SCALE}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Werkzeug's test client leaves REMOTE_ADDR out; every real server (and Django's test client) sets it.
ENVIRON = {"REMOTE_ADDR": "127.0.0.1"}


@contextmanager
def _in_test_transaction() -> Iterator[None]:
    """The WSGI application called in process, the way Django's test client calls it.

    Django closes the connection at the start and end of every request when it is not in autocommit,
    which on PostgreSQL is the test's own transaction: the client unhooks that, and so does this.
    Thousands of expected 4xx would each log a warning: only errors (500s) are logged."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security.csrf")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _seed() -> dict[str, Any]:
    """Real rows in county A, so that lists and details return bodies to check; returns path values."""
    minors = MinorFactory.create_batch(3)
    guardian = GuardianFactory.create(minor=minors[0])
    volunteers = VolunteerFactory.create_batch(2)
    hours = ServiceHoursFactory.create(volunteer=volunteers[0])
    pairing = PairingFactory.create(minor=minors[0], volunteer=volunteers[0])
    visit = VisitFactory.create(pairing=pairing)
    consultations = ConsultationFactory.create_batch(2)
    for consultation in consultations:
        MessageFactory.create(consultation=consultation)
    return {
        "minor_id": minors[0].pk,
        "guardian_id": guardian.pk,
        "volunteer_id": volunteers[0].pk,
        "record_id": hours.pk,
        "pairing_id": pairing.pk,
        "visit_id": visit.pk,
        "consultation_id": consultations[0].pk,
        "reference": consultations[0].reference,
        "code": "330127",
    }


def _fuzz(operation: Any, *, headers: dict[str, str], seeded: dict[str, Any], failures: list[str]) -> int:
    """Runs one operation's examples; returns how many cases were generated."""
    generated = 0
    names = set(re.findall(r"{(\w+)}", operation.path))
    for kind, count in EXAMPLES.items():
        if kind == SEEDED:
            if not names or not names <= set(seeded):
                continue
            strategy = operation.as_strategy(path_parameters={name: seeded[name] for name in names})
        else:
            strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(kind))
        try:
            generated += _run(
                strategy, count, headers=headers, failures=failures, label=f"{operation.label} [{kind}]"
            )
        except Unsatisfiable:
            # An operation without parameters or body has nothing to get wrong: no negative case.
            assert kind == NEGATIVE, operation.label
    return generated


def _run(strategy: Any, count: int, *, headers: dict[str, str], failures: list[str], label: str) -> int:
    generated = 0

    @given(case=strategy)
    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal generated
        generated += 1
        response = case.call(headers=headers, environ_base=ENVIRON)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failure:  # every failure is collected and reported at once
            failures.append(f"{label}: {failure}")

    run()
    return generated


@pytest.mark.django_db
def test_every_operation_answers_as_declared_to_anonymous_and_a_county_admin(
    personas: dict[str, Any],
) -> None:
    from guanai.accounts.services import api_token_issue

    seeded = _seed()
    _, token = api_token_issue(user=personas["county_a_admin"], name="fuzz")
    as_persona = {ANONYMOUS: {}, "county_a_admin": {"Authorization": f"Bearer {token}"}}

    failures: list[str] = []
    counts: dict[str, int] = {}
    started = time.monotonic()
    with _in_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
        results = list(schema.get_all_operations())
        # An operation schemathesis cannot read is a defect of the document itself.
        assert all(isinstance(result, Ok) for result in results), [
            result.err() for result in results if isinstance(result, Err)
        ]
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        for persona, headers in as_persona.items():
            counts[persona] = sum(
                _fuzz(operation, headers=headers, seeded=seeded, failures=failures)
                for operation in operations
            )
    total = sum(counts.values())
    print(
        f"schemathesis: {total} cases over {len(operations)} operations "
        f"({', '.join(f'{name} {n}' for name, n in counts.items())}) in {time.monotonic() - started:.1f}s"
    )

    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
    assert len(operations) >= 125
    # Every operation was called at least once per persona (one without parameters has one case).
    assert all(n >= len(operations) for n in counts.values())
    assert total >= 2 * len(operations)
