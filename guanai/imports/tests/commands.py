"""Support for the tests of the roster import commands (`import_minors`, `import_volunteers`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

# The test rosters' ages and dates are written for this day.
ROSTER_DAY = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    """Today is ROSTER_DAY, the clock ticking (a test module that imports this fixture gets it)."""
    with time_machine.travel(ROSTER_DAY, tick=True):
        yield


def call_import_command(name: str, *args: str) -> tuple[str, str]:
    """Run a management command: what it wrote to stdout and to stderr."""
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()
