"""Real, checksummed resident ID numbers for tests (GB 11643-1999, real county codes)."""

from __future__ import annotations

from stdnum.cn import ric


def id_number(county: str = "330127", birth: str = "20120721", sequence: int = 1) -> str:
    """sequence: 1..999; odd for a boy, even for a girl."""
    body = f"{county}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")
