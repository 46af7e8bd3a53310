"""Measure the allocation against first come first served and serial dictatorship.

Run from the project root:

    .venv/bin/python benchmarks/allocation.py [--sizes 100 1000 10000 100000]

Seeded instances of the plain model (one slot, no minimum size): about 1.1
places per student in groups of 10 to 17, one activity in eight twice as popular
as the others, each student ranking 3 to 5 activities. Then the sample school
(``data/school``, period 1) with every constraint: two-hour projects, minimum
sizes, the same workshop in both hours, students with no preference.

For each instance and method the script measures the wall time and CPU time of
the call (the median of ``--repeat`` runs for the sample school) and the peak
memory traced by ``tracemalloc`` during a second call. It scores the % of
(student, slot) pairs with their first choice, the % within their first three,
the pairs placed outside the choices they gave, the pairs unplaced and the worst
rank given. It prints one markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from apkit.allocation import Allocation, Offer, Problem, solve
from apkit.allocation.baselines import (
    first_come_first_served,
    random_serial_dictatorship,
)

SCHOOL = Path(__file__).resolve().parents[1] / "data" / "school"
METHODS: dict[str, Callable[[Problem], Allocation]] = {
    "apkit (optimum)": solve,
    "premier arrivé, premier servi": first_come_first_served,
    "dictature séquentielle aléatoire": random_serial_dictatorship,
}


def plain_instance(students: int, seed: int = 1) -> Problem:
    """Build a seeded plain-model instance with skewed popularity."""
    rng = np.random.default_rng(seed)
    capacities = rng.integers(10, 18, size=max(3, round(students * 1.1 / 13.5)))
    while capacities.sum() < students * 1.1:
        capacities = np.append(capacities, rng.integers(10, 18))
    count = len(capacities)
    weights = np.ones(count)
    weights[rng.permutation(count)[: max(1, count // 8)]] = 2.0
    draws = rng.choice(count, size=(students, 12), p=weights / weights.sum())
    lengths = rng.integers(3, 6, size=students)
    offers = tuple(
        Offer(f"A{i:05d}", (1,), int(c), title=f"A{i:05d}")
        for i, c in enumerate(capacities)
    )
    preferences = {}
    for student in range(students):
        ranked = list(dict.fromkeys(draws[student].tolist()))[: lengths[student]]
        preferences[(student, 1)] = tuple(offers[i].key for i in ranked)
    return Problem(tuple(range(students)), (1,), offers, preferences, seed=seed)


def school_instances(seed: int = 1) -> list[Problem]:
    """Build the sample school's three blocks of period 1 as problems."""
    read = {"sep": ";", "dtype": str, "encoding": "utf-8"}
    students = pd.read_csv(SCHOOL / "students.csv", **read)
    blocks = pd.read_csv(SCHOOL / "blocks.csv", **read)
    activities = pd.read_csv(SCHOOL / "activities_p1.csv", **read)
    preferences = pd.read_csv(SCHOOL / "preferences_p1.csv", **read)
    students = students.merge(blocks, on="class_name")
    problems = []
    for block, members in students.groupby("block"):
        offers = tuple(
            Offer(
                row.activity_id,
                (1, 2) if row.slot == "1+2" else (int(row.slot),),
                int(row.capacity),
                int(row.min_size),
                row.title,
                row.teacher_id,
            )
            for row in activities[activities.block == block].itertuples()
        )
        chosen = preferences[preferences.student_id.isin(members.student_id)]
        chosen = chosen.assign(rank=chosen["rank"].astype(int)).sort_values("rank")
        ranked = {
            (student, int(slot)): tuple(group.activity_id)
            for (student, slot), group in chosen.groupby(["student_id", "slot"])
        }
        problems.append(
            Problem(tuple(members.student_id), (1, 2), offers, ranked, seed=seed)
        )
    return problems


def measure(method: Callable[[Problem], Allocation], problems: list[Problem]) -> dict:
    """Time one method on the problems, trace its memory, and score the result."""
    start, start_cpu = time.perf_counter(), time.process_time()
    results = [method(problem) for problem in problems]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    tracemalloc.start()
    for problem in problems:
        method(problem)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    placements = [p for result in results for p in result.placements.values()]
    ranked = {where for problem in problems for where in problem.preferences}
    ranks = [p.rank for p in placements if p.rank is not None]
    return {
        "time_s": elapsed,
        "cpu_s": cpu,
        "peak_mb": peak / 1e6,
        "first": 100 * sum(r == 1 for r in ranks) / len(placements),
        "top3": 100 * sum(r <= 3 for r in ranks) / len(placements),
        "outside": sum(
            p.offer is not None and p.rank is None and (p.student, p.slot) in ranked
            for p in placements
        ),
        "unplaced": sum(p.offer is None for p in placements),
        "worst": max(ranks, default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[100, 1_000, 10_000, 100_000]
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of the sample school"
    )
    args = parser.parse_args()

    print("| instance | method | time | CPU time | peak memory | 1st choice | top 3 "
          "| outside list | unplaced | worst rank |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        problems = [plain_instance(size)]
        for name, method in METHODS.items():
            _print_row(f"plain, {size:,} students", name, measure(method, problems))
    school = school_instances()
    for name, method in METHODS.items():
        runs = [measure(method, school) for _ in range(args.repeat)]
        row = runs[-1] | {
            "time_s": statistics.median(r["time_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        }
        _print_row("sample school, every constraint", name, row)


def _print_row(instance: str, method: str, row: dict) -> None:
    peak = f"{row['peak_mb']:.1f} MB"
    print(
        f"| {instance} | {method} | {row['time_s']:.3f} s | {row['cpu_s']:.3f} s "
        f"| {peak} "
        f"| {row['first']:.1f} % | {row['top3']:.1f} % | {row['outside']} "
        f"| {row['unplaced']} | {row['worst']} |"
    )


if __name__ == "__main__":
    main()
