"""Fixtures of the online services' tests: a clock standing still on Monday 30 November 2026 at 10:00 in
Asia/Shanghai (a morning duty part), a private media root for attachments, and the persona lawyer and
counsellor made professionals of county A with volunteer records. None is autouse but the clock's users
ask for it (`pytest.mark.usefixtures("frozen_clock")`)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guanai.consultations.tests.factories import make_professional
from guanai.consultations.vocabulary import Kind
from guanai.volunteers.models import Volunteer

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def persona_professionals(personas: dict[str, Any]) -> dict[str, Volunteer]:
    """The persona lawyer and counsellor (county A) as professionals with volunteer records."""
    return {
        "lawyer": make_professional(username="p-lawyer", kind=Kind.LEGAL, user=personas["lawyer"]),
        "counsellor": make_professional(
            username="p-counsellor", kind=Kind.PSYCHOLOGICAL, user=personas["counsellor"]
        ),
    }
