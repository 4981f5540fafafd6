"""Prepare the load test's database: regions, the demo committees and accounts, a synthetic county's records,
and bearer tokens for a county admin and for every demo volunteer with an active pairing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai_load .venv/bin/python bench/load/prepare.py

The tokens go to var/load/tokens.json (var/ is never committed); they expire after 2 days.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from guanai.accounts.models import User
    from guanai.accounts.services import api_token_issue
    from guanai.pairings.models import Pairing
    from guanai.pairings.vocabulary import PairingState

    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    call_command("load_demo", verbosity=0)  # the demo's 250 online requests come with it
    minors = os.environ.get("LOAD_MINORS", "20000")
    volunteers = os.environ.get("LOAD_VOLUNTEERS", "3000")
    # force: the load database has production settings (GUANAI_DEBUG off) and is made for this test only.
    call_command(
        "generate_province", minors=int(minors), volunteers=int(volunteers), region="330127", force=True
    )

    admin = User.objects.get(username="demo-county-a")
    _token, staff = api_token_issue(user=admin, days=2, name="load test")
    volunteers_out = []
    active = Pairing.objects.filter(state=PairingState.ACTIVE, volunteer__user__isnull=False).select_related(
        "volunteer__user"
    )
    for pairing in active[:200]:
        user = pairing.volunteer.user
        assert user is not None  # filtered above
        _token, raw = api_token_issue(user=user, days=2, name="load test")
        volunteers_out.append({"token": raw, "pairing_id": pairing.pk, "started_on": str(pairing.started_on)})
    target = ROOT / "var" / "load"
    target.mkdir(parents=True, exist_ok=True)
    (target / "tokens.json").write_text(
        json.dumps({"staff": staff, "volunteers": volunteers_out}, ensure_ascii=False), encoding="utf-8"
    )
    count = len(volunteers_out)
    print(f"tokens: 1 staff, {count} volunteers with an active pairing -> {target / 'tokens.json'}")


if __name__ == "__main__":
    main()
