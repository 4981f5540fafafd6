"""The load scenario (issue 9, point 6): committee staff browsing and searching the registry and the
volunteers, volunteers recording visits from their phones, the public asking for help, and the dashboards.

Run against gunicorn + PostgreSQL + Redis (see bench/load/run.sh); the weights below are the mix of one busy
weekday afternoon: most requests are staff reading lists.
"""

# ruff: noqa: S311 - the randomness picks simulated users' requests, it protects nothing

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, task

TOKENS = json.loads((Path(__file__).resolve().parents[2] / "var" / "load" / "tokens.json").read_text("utf-8"))
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙胡朱高林何郭")
TOWNSHIPS = ["330127100000", "330127101000", "330127102000", "330127103000"]
PERIOD = f"{datetime.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"  # the committee's month (TIME_ZONE)


def _forwarded() -> dict[str, str]:
    """Each simulated citizen comes from their own address, through the TLS-terminating proxy that gunicorn
    sits behind in production (one trusted proxy)."""
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}


class Staff(FastHttpUser):
    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {TOKENS['staff']}", **_forwarded()}

    @task(5)
    def browse_minors(self) -> None:
        offset = random.choice([0, 0, 0, 50, 100])
        self.client.get(f"/api/v1/minors/?limit=50&offset={offset}", headers=self.headers, name="minors list")

    @task(3)
    def search_minors(self) -> None:
        self.client.get(
            f"/api/v1/minors/?q={random.choice(SURNAMES)}&limit=20",
            headers=self.headers,
            name="minors search",
        )

    @task(2)
    def browse_volunteers(self) -> None:
        self.client.get("/api/v1/volunteers/?limit=50", headers=self.headers, name="volunteers list")

    @task(1)
    def township_minors(self) -> None:
        region = random.choice(TOWNSHIPS)
        url = f"/api/v1/minors/?region={region}&limit=50"
        self.client.get(url, headers=self.headers, name="minors by township")


class Dashboards(FastHttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {TOKENS['staff']}", **_forwarded()}

    @task
    def indicators(self) -> None:
        region = random.choice(["330127000000", *TOWNSHIPS])
        self.client.get(
            f"/api/v1/dashboards/indicators?region={region}&period={PERIOD}",
            headers=self.headers,
            name="dashboard indicators",
        )


class Volunteer(FastHttpUser):
    weight = 2
    wait_time = between(3, 8)

    def on_start(self) -> None:
        me = random.choice(TOKENS["volunteers"])
        self.pairing_id = me["pairing_id"]
        self.started_on = datetime.date.fromisoformat(me["started_on"])
        self.headers = {"Authorization": f"Bearer {me['token']}", **_forwarded()}

    @task(3)
    def my_visits(self) -> None:
        self.client.get("/api/v1/visits/?limit=20", headers=self.headers, name="my visits")

    @task(1)
    def record_visit(self) -> None:
        today = datetime.date.today()
        day = max(self.started_on, today - datetime.timedelta(days=random.randint(0, 20)))
        body = {
            "pairing_id": self.pairing_id,
            "visited_on": day.isoformat(),
            "mode": random.choice(["home", "phone", "school"]),
            "duration_minutes": random.randint(20, 90),
            "activities": 1,
            "note": "聊了学习和生活，孩子情绪平稳。",
        }
        with self.client.post(
            "/api/v1/visits/", json=body, headers=self.headers, name="record visit", catch_response=True
        ) as response:
            # 409: that day's visit of the pairing is already recorded (the simulated volunteers share a few
            # pairings) — the service's answer to a double submission, not an error.
            if response.status_code in (201, 409):
                response.success()
            else:
                response.failure(f"visit answered {response.status_code}")


class Public(FastHttpUser):
    weight = 1
    wait_time = between(5, 15)

    @task
    def ask_for_help(self) -> None:
        body = {
            "kind": "psychological",
            "topic": "study_pressure",
            "requester": "self",
            "region_code": random.choice(TOWNSHIPS),
            "description": "最近学习压力很大，晚上睡不着，想找人聊一聊。",
            "contact_preference": "online",
            "requester_age": 15,
            "consent": True,
        }
        url = "/api/v1/public/consultations"
        with self.client.post(
            url, json=body, headers=_forwarded(), name="public intake", catch_response=True
        ) as response:
            if response.status_code == 201:
                response.success()
            else:
                response.failure(f"intake answered {response.status_code}")
