"""Pairing proposals at county and province scale: the matching engine against its whole-graph optimum
and a greedy baseline.

    .venv/bin/python bench/bench_matching.py                 # county, then province
    BENCH_SCALE=county .venv/bin/python bench/bench_matching.py

No database: synthetic children and volunteers are generated in this process (seeded, BENCH_SEED,
default 6) over a made-up province whose villages cluster into townships, townships into counties and
counties into cities, with coordinates for a share of the people (children 60 %, volunteers 70 %)
scattered around their village. Rates: guardian consent 90 %, special youth 1 %, needs 学业 45 % /
心理 20 % / 法律 5 %, risk high 10 % / medium 20 %, a former volunteer for 3 %, a declared conflict for
0.5 %; volunteers 在岗 95 %, background check valid 90 %, mentoring-team members 5 %, 1–5 places of
which some are taken, specialties teaching 30 % / psychology 8 % / law 4 %.

- **County**: one county of 20,000 children and 2,000 volunteers (18 townships × 20 villages):
  `propose` (candidate graph + one flow), then the same graph split (one part: the county) and greedy.
- **Province**: 1,000,000 children and 100,000 volunteers in 90 counties of 11 cities
  (14 townships × 16 villages each): the candidate graph, `solve_split` over 2 worker processes —
  the figure the target is about — then the same graph as one min-cost flow (`solve_whole`) and the
  greedy baseline.

Each reports wall-clock time (split into candidate graph and solving), peak memory (maxrss of this
process and of its largest worker, read after the split solve, before the whole-graph solve), the
number proposed and the total cost against (a) the whole-graph optimum and (b) greedy. Costs are the
engine's integer pair costs (bonuses subtract, so a total may be negative); the gap is given in cost
units and relative to the whole-graph total's magnitude.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()  # the explanations are translated text

import numpy as np  # noqa: E402

from guanai.minors.vocabulary import Need  # noqa: E402
from guanai.pairings.matching import (  # noqa: E402
    CandidateGraph,
    ChildNode,
    MatchResult,
    VolunteerNode,
    candidate_graph,
    greedy_baseline,
    solve_split,
    solve_whole,
)
from guanai.volunteers.vocabulary import Specialty  # noqa: E402

SEED = int(os.environ.get("BENCH_SEED", "6"))
SCALE = os.environ.get("BENCH_SCALE", "all")
WORKERS = 2


@dataclass(frozen=True)
class Geography:
    cities: int
    counties_per_city: tuple[int, ...]
    townships_per_county: int
    villages_per_township: int


def synthetic_region(
    *, geography: Geography, children: int, volunteers: int, seed: int
) -> tuple[list[ChildNode], list[VolunteerNode]]:
    """Made-up children and volunteers over a made-up province (code 33)."""
    random = np.random.default_rng(seed)
    village_codes: list[str] = []
    village_centres: list[tuple[float, float]] = []
    village_township: list[int] = []
    township_index = 0
    for city in range(geography.cities):
        city_lat, city_lon = random.uniform(27.3, 30.8), random.uniform(118.2, 122.2)
        for county in range(geography.counties_per_city[city]):
            county_lat = city_lat + random.normal(0, 0.25)
            county_lon = city_lon + random.normal(0, 0.3)
            for township in range(geography.townships_per_county):
                township_lat = county_lat + random.normal(0, 0.09)  # ≈ 10 km
                township_lon = county_lon + random.normal(0, 0.1)
                for village in range(geography.villages_per_township):
                    village_codes.append(
                        f"33{city + 1:02d}{county + 1:02d}{township + 1:03d}{village + 1:03d}"
                    )
                    village_centres.append(
                        (township_lat + random.normal(0, 0.022), township_lon + random.normal(0, 0.025))
                    )
                    village_township.append(township_index)
                township_index += 1
    centres = np.array(village_centres)
    townships = np.array(village_township)

    def places(count: int, located_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        weights = random.lognormal(0, 0.6, size=len(village_codes))
        villages = random.choice(len(village_codes), size=count, p=weights / weights.sum())
        spread = random.normal(0, 0.005, size=(count, 2))  # ≈ 500 m around the village
        coordinates = np.round(centres[villages] + spread, 6)
        return villages, coordinates, random.random(count) < located_share

    volunteer_villages, volunteer_coordinates, volunteer_located = places(volunteers, 0.7)
    volunteer_ids = np.arange(1, volunteers + 1)
    maximum = random.choice([1, 2, 3, 4, 5], size=volunteers, p=[0.1, 0.25, 0.4, 0.15, 0.1])
    load = np.minimum(random.binomial(maximum, 0.3), maximum)
    specialties = (
        np.where(random.random(volunteers) < 0.30, int(Specialty.TEACHING), 0)
        | np.where(random.random(volunteers) < 0.08, int(Specialty.PSYCHOLOGY), 0)
        | np.where(random.random(volunteers) < 0.04, int(Specialty.LAW), 0)
        | np.where(random.random(volunteers) < 0.10, int(Specialty.HEALTH), 0)
        | np.where(random.random(volunteers) < 0.20, int(Specialty.RED_HISTORY), 0)
    )
    volunteer_male = random.random(volunteers) < 0.6
    active = random.random(volunteers) < 0.95
    check_valid = random.random(volunteers) < 0.90
    mentor = random.random(volunteers) < 0.05
    volunteer_nodes = [
        VolunteerNode(
            id=int(volunteer_ids[index]),
            region_code=village_codes[volunteer_villages[index]],
            gender="male" if volunteer_male[index] else "female",
            capacity_left=int(maximum[index] - load[index]),
            load=int(load[index]),
            is_active=bool(active[index]),
            check_valid=bool(check_valid[index]),
            specialties=int(specialties[index]),
            is_mentoring_team_member=bool(mentor[index]),
            latitude=float(volunteer_coordinates[index, 0]) if volunteer_located[index] else None,
            longitude=float(volunteer_coordinates[index, 1]) if volunteer_located[index] else None,
        )
        for index in range(volunteers)
    ]
    # Volunteers by township, to draw former volunteers and conflicts from the child's township.
    volunteer_township = townships[volunteer_villages]
    by_township_order = np.argsort(volunteer_township, kind="stable")
    township_starts = np.searchsorted(volunteer_township[by_township_order], np.arange(township_index + 1))

    def volunteer_near(village: int) -> int | None:
        township = townships[village]
        start, end = township_starts[township], township_starts[township + 1]
        if start == end:
            return None
        return int(volunteer_ids[by_township_order[random.integers(start, end)]])

    child_villages, child_coordinates, child_located = places(children, 0.6)
    age = random.integers(3, 18, size=children)
    needs = (
        np.where(random.random(children) < 0.45, int(Need.STUDY), 0)
        | np.where(random.random(children) < 0.20, int(Need.PSYCHOLOGICAL), 0)
        | np.where(random.random(children) < 0.05, int(Need.LEGAL), 0)
        | np.where(random.random(children) < 0.10, int(Need.HEALTH), 0)
    )
    risk = random.choice(np.array(["low", "medium", "high"]), size=children, p=[0.7, 0.2, 0.1])
    consent = random.random(children) < 0.9
    special = (random.random(children) < 0.01) & (age >= 12)
    child_male = random.random(children) < 0.52
    has_former = random.random(children) < 0.03
    has_conflict = random.random(children) < 0.005
    child_nodes = []
    for index in range(children):
        village = int(child_villages[index])
        former = volunteer_near(village) if has_former[index] else None
        conflict = volunteer_near(village) if has_conflict[index] else None
        child_nodes.append(
            ChildNode(
                id=index + 1,
                region_code=village_codes[village],
                gender="male" if child_male[index] else "female",
                age=int(age[index]),
                has_pairing_consent=bool(consent[index]),
                needs=int(needs[index]),
                risk=str(risk[index]),
                is_special=bool(special[index]),
                latitude=float(child_coordinates[index, 0]) if child_located[index] else None,
                longitude=float(child_coordinates[index, 1]) if child_located[index] else None,
                former_volunteer_ids=frozenset() if former is None else frozenset({former}),
                conflict_volunteer_ids=frozenset() if conflict is None else frozenset({conflict}),
            )
        )
    return child_nodes, volunteer_nodes


class WorkerMemory(threading.Thread):
    """The peak resident memory (VmHWM) of each process descended from this one, sampled every 0.1 s.

    ru_maxrss of RUSAGE_CHILDREN cannot tell it: a worker is forked before it executes a fresh
    interpreter, and the fork's momentary share of this process's pages counts in its maxrss."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks_kb: dict[int, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            for pid in self.descendants():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), int(line.split()[1]))

    @staticmethod
    def descendants() -> list[int]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    # The parent pid is the 2nd field after the parenthesised command name.
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        found, frontier = [], [os.getpid()]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent]
            found += children
            frontier += children
        return found

    def largest_mb(self) -> list[float]:
        return sorted((peak / 1024 for peak in self.peaks_kb.values()), reverse=True)


def own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe(name: str, result: MatchResult, solve_seconds: float) -> dict[str, object]:
    distances = [proposal.distance_km for proposal in result.proposals if proposal.distance_km is not None]
    return {
        "name": name,
        "proposed": result.proposed,
        "unassigned": len(result.unassigned),
        "total_cost": result.total_cost,
        "objective": result.objective,
        "mean_cost": result.total_cost / max(result.proposed, 1),
        "mean_km": sum(distances) / max(len(distances), 1),
        "solve_seconds": solve_seconds,
        "seconds": result.seconds,
    }


def timed(solve: object, graph: CandidateGraph, **options: int) -> tuple[MatchResult, float]:
    started = time.perf_counter()
    result = solve(graph, **options)  # type: ignore[operator]
    return result, time.perf_counter() - started


def report(
    title: str, graph: CandidateGraph, rows: list[dict[str, object]], memory: tuple[float, list[float]]
) -> None:
    print(f"\n### {title}")
    print(
        f"children {len(graph.children):,} (eligible {len(graph.eligible_children):,}), volunteers "
        f"{len(graph.volunteers):,} (eligible {len(graph.eligible_volunteers):,}, places "
        f"{sum(v.capacity_left for v in graph.eligible_volunteers):,}), candidate edges "
        f"{graph.edges:,}, candidate graph {graph.seconds:.2f} s"
    )
    own, workers = memory
    print(
        f"peak memory up to the end of the split solve: this process {own:,.0f} MB; workers "
        f"{', '.join(f'{peak:,.0f}' for peak in workers) or 'none'} MB; sum {own + sum(workers):,.0f} MB"
    )
    whole = next(row for row in rows if row["name"] == "whole")
    print(
        "| solve | proposed | unassigned | total cost | Δ vs whole | objective | Δ vs whole | mean cost "
        "| mean km | solve s | total s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def gap(row: dict[str, object], key: str) -> str:
        value, reference = int(row[key]), int(whole[key])  # type: ignore[call-overload]
        return f"{value - reference:+,} ({(value - reference) / max(abs(reference), 1) * 100:+.2f} %)"

    for row in rows:
        print(
            f"| {row['name']} | {row['proposed']:,} | {row['unassigned']:,} | {row['total_cost']:,} | "
            f"{gap(row, 'total_cost')} | {row['objective']:,} | {gap(row, 'objective')} | "
            f"{row['mean_cost']:.1f} | {row['mean_km']:.2f} | {row['solve_seconds']:.2f} | "
            f"{row['seconds']:.2f} |"
        )


def run(title: str, geography: Geography, children: int, volunteers: int) -> None:
    started = time.perf_counter()
    child_nodes, volunteer_nodes = synthetic_region(
        geography=geography, children=children, volunteers=volunteers, seed=SEED
    )
    resident = next(
        int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    print(
        f"\n{title}: generated in {time.perf_counter() - started:.1f} s, "
        f"this process then holds {resident / 1024:,.0f} MB"
    )
    graph = candidate_graph(children=child_nodes, volunteers=volunteer_nodes)
    watch = WorkerMemory()
    watch.start()
    split, split_seconds = timed(solve_split, graph, workers=WORKERS)
    watch.stopped.set()
    watch.join()
    memory = (own_peak_mb(), watch.largest_mb())
    whole, whole_seconds = timed(solve_whole, graph)
    greedy, greedy_seconds = timed(greedy_baseline, graph)
    report(
        title,
        graph,
        [
            describe(f"split, {WORKERS} workers", split, split_seconds),
            describe("whole", whole, whole_seconds),
            describe("greedy", greedy, greedy_seconds),
        ],
        memory,
    )
    print(f"peak memory at the end (after the whole-graph solve): this process {own_peak_mb():,.0f} MB")


def main() -> None:
    print(f"seed {SEED}, {os.cpu_count()} CPUs, numpy {np.__version__}, Python {sys.version.split()[0]}")
    if SCALE in {"all", "county"}:
        run("County", Geography(1, (1,), 18, 20), 20_000, 2_000)
    if SCALE in {"all", "province"}:
        counties = (8, 9, 8, 8, 8, 8, 8, 9, 8, 8, 8)  # 90 counties in 11 cities
        run("Province", Geography(11, counties, 14, 16), 1_000_000, 100_000)


if __name__ == "__main__":
    main()
