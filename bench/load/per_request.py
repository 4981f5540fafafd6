"""What each request of the load mix costs by itself: wall and CPU milliseconds (the best of five rounds)
and queries per request, through Django's test client in this process, against the load test's database
(run.sh prepare first).

    bash bench/load/run.sh per-request            # every request of the mix, 5 rounds of 30
    bash bench/load/run.sh per-request "minors list" "me"

The load test says how many requests a second the machine serves; this says where the time of one goes.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
REPEAT = int(os.environ.get("REPEAT", "30"))


def main(names: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    tokens = json.loads((ROOT / "var" / "load" / "tokens.json").read_text("utf-8"))
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3", HTTP_X_FORWARDED_PROTO="https")
    staff: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {tokens['staff']}"}
    volunteer: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {tokens['volunteers'][0]['token']}"}
    period = f"{datetime.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"
    requests: dict[str, Any] = {
        "me": lambda: client.get("/api/v1/me", **staff),
        "minors list": lambda: client.get("/api/v1/minors/?limit=50&offset=0", **staff),
        "minors search": lambda: client.get("/api/v1/minors/?q=王&limit=20", **staff),
        "minors by township": lambda: client.get("/api/v1/minors/?region=330127100000&limit=50", **staff),
        "volunteers list": lambda: client.get("/api/v1/volunteers/?limit=50", **staff),
        "dashboard indicators": lambda: client.get(
            f"/api/v1/dashboards/indicators?region=330127000000&period={period}", **staff
        ),
        "my visits": lambda: client.get("/api/v1/visits/?limit=20", **volunteer),
    }
    queries: list[str] = []

    def note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    print(f"{'request':22s} {'wall ms':>8s} {'CPU ms':>8s} {'queries':>8s} {'bytes':>8s}")
    for name in names or list(requests):
        send = requests[name]
        first = send()  # warms the process and the cache, as a busy server's are
        assert first.status_code == 200, (name, first.status_code, first.content[:200])
        queries.clear()
        with connection.execute_wrapper(note):
            send()
        # The least disturbed of five rounds: on a shared virtual machine the others' work only ever adds.
        rounds = []
        for _ in range(5):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(REPEAT):
                send()
            rounds.append((time.perf_counter() - wall, time.process_time() - cpu))
        wall_ms, cpu_ms = (min(values) / REPEAT * 1000 for values in zip(*rounds, strict=True))
        print(f"{name:22s} {wall_ms:8.1f} {cpu_ms:8.1f} {len(queries):8d} {len(first.content):8d}")


if __name__ == "__main__":
    main(sys.argv[1:])
