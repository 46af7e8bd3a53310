"""Randomised sign-up races: 200 attempts at once for an activity of 12 places.

Each round opens a new campaign with two activities of 12 places in the same
slot, ``A1`` and ``A2``, and fires 200 attempts through :func:`apkit.signup.enrol`
in a random order: most students try ``A1`` once, some try it twice, some ask
for ``A1`` and ``A2`` at once (a move, whichever commits last wins). Twelve
threads of this process and two worker processes (started with "spawn", each
with its own store and four threads) run them at the same time. After each
round, on SQLite and on PostgreSQL:

- no activity holds more than its capacity;
- no student holds two places in one slot;
- no confirmed sign-up is lost: each student's place is the activity of their
  last confirmed change (changes of one student are serialised by the lock on
  their row, so audit ids give their order), and a student with no confirmed
  change has no place;
- every attempt ended as a place, an unchanged place, or a clean
  ``CapacityError`` (refusal "full"), never another error.

``APKIT_RELIABILITY_ROUNDS`` sets the rounds (6 by default, to keep the folder
within a few minutes on 2 cores); ``APKIT_RELIABILITY_FULL=1`` runs 100.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from apkit.errors import CapacityError
from apkit.model import AuditEntry, Enrolment
from apkit.signup import enrol
from apkit.store import Store
from tests.factories import SchoolBuilder
from tests.reliability import summary

pytestmark = pytest.mark.reliability

ATTEMPTS = 200
CAPACITY = 12
STUDENTS = 180
THREADS = 12
PROCESSES = 2
PROCESS_THREADS = 4
PROCESS_SHARE = 0.2
ROUNDS = 6  # by default; 100 under APKIT_RELIABILITY_FULL=1

_worker_store: Store | None = None


def _attempt(store: Store, campaign: int, student: int, activity: int) -> tuple:
    """Enrol once; return the outcome as plain, picklable data."""
    try:
        result = enrol(store, campaign, student, activity, actor=f"élève {student}")
    except CapacityError as exc:
        return ("full", student, activity, None, exc.capacity, exc.enrolled)
    except Exception as exc:  # noqa: BLE001 - any other error is the failure shown
        return ("error", student, activity, repr(exc))
    return (result.status, student, result.activity_id, result.audit_id)


def _run_threads(store: Store, campaign: int, attempts: list, threads: int) -> list:
    barrier = threading.Barrier(min(threads, len(attempts)) or 1)

    def work(pair: tuple[int, int]) -> tuple:
        try:
            barrier.wait(timeout=0.5)
        except threading.BrokenBarrierError:
            pass  # the first ones are released together; the rest just go
        return _attempt(store, campaign, *pair)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, attempts))


def _worker_init(url: str) -> None:
    global _worker_store
    _worker_store = Store(url, upgrade=False)


def _worker_run(campaign: int, attempts: list) -> list:
    assert _worker_store is not None
    return _run_threads(_worker_store, campaign, attempts, PROCESS_THREADS)


def _plan(rng: random.Random, students: list[int], first: int, second: int) -> list:
    """Return 200 (student, activity) attempts in a random order."""
    attempts: list[tuple[int, int]] = []
    pool = rng.sample(students, len(students))
    while len(attempts) < ATTEMPTS:
        student = pool.pop()
        kind = rng.random()
        if kind < 0.15:
            attempts += [(student, first), (student, first)]  # tries twice
        elif kind < 0.30:
            pair = [(student, first), (student, second)]  # moves between the two
            rng.shuffle(pair)
            attempts += pair
        else:
            attempts.append((student, first))
    attempts = attempts[:ATTEMPTS]
    rng.shuffle(attempts)
    return attempts


def _round_campaign(builder: SchoolBuilder, block: int, number: int) -> tuple:
    period = builder.period(f"R{number:03d}", start_month=1 + number % 12)
    campaign = builder.campaign(period, block)
    first = builder.activity(campaign, "A1", capacity=CAPACITY, slot=1)
    second = builder.activity(campaign, "A2", capacity=CAPACITY, slot=1)
    return campaign, first, second


def _check_round(store: Store, campaign: int, outcomes: list) -> Counter:
    errors = [o for o in outcomes if o[0] == "error"]
    assert errors == []
    kinds = Counter(o[0] for o in outcomes)
    assert set(kinds) <= {"enrolled", "moved", "unchanged", "full"}
    for outcome in outcomes:
        if outcome[0] == "full":
            assert outcome[4:] == (CAPACITY, CAPACITY)

    last: dict[int, tuple[int, int]] = {}
    for status, student, activity, audit_id, *_ in outcomes:
        if status in ("enrolled", "moved"):
            if student not in last or last[student][0] < audit_id:
                last[student] = (audit_id, activity)
    with store.read() as session:
        statement = select(Enrolment.student_id, Enrolment.slot, Enrolment.activity_id)
        rows = session.execute(statement.where(Enrolment.campaign_id == campaign)).all()
        audited = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.campaign_id == campaign)
        )
    per_activity = Counter(row.activity_id for row in rows)
    assert max(per_activity.values(), default=0) <= CAPACITY
    pairs = Counter((row.student_id, row.slot) for row in rows)
    duplicates = sum(1 for count in pairs.values() if count > 1)
    assert duplicates == 0
    assert {row.student_id: row.activity_id for row in rows} == {
        student: activity for student, (_, activity) in last.items()
    }
    assert audited == kinds["enrolled"] + kinds["moved"]
    kinds["duplicates"] = duplicates
    return kinds


def _school(store: Store) -> tuple[SchoolBuilder, int, list[int]]:
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1", "2de2"))
    half = STUDENTS // 2
    students = builder.students("2de1", half) + builder.students("2de2", half)
    return builder, block, students


def test_signup_rounds_never_overfill(store, request):
    backend = request.node.callspec.params["store"]
    builder, block, students = _school(store)
    rng = random.Random(20260904)
    totals: Counter = Counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        PROCESSES, mp_context=context, initializer=_worker_init, initargs=(store.url,)
    ) as processes:
        for number in range(1, summary.rounds(default=ROUNDS) + 1):
            campaign, first, second = _round_campaign(builder, block, number)
            attempts = _plan(rng, students, first, second)
            cut = int(len(attempts) * PROCESS_SHARE)
            shares = [attempts[i:cut:PROCESSES] for i in range(PROCESSES)]
            futures = [processes.submit(_worker_run, campaign, s) for s in shares]
            outcomes = _run_threads(store, campaign, attempts[cut:], THREADS)
            for future in futures:
                outcomes += future.result(timeout=300)
            assert len(outcomes) == ATTEMPTS
            totals += _check_round(store, campaign, outcomes)
            totals["rounds"] += 1

    counts = {
        "rounds": totals["rounds"],
        "attempts": totals["rounds"] * ATTEMPTS,
        "enrolled": totals["enrolled"],
        "moved": totals["moved"],
        "unchanged": totals["unchanged"],
        "refused_full": totals["full"],
        "duplicates": totals["duplicates"],
    }
    print(f"\nconcurrent sign-up ({backend}): {counts}")
    summary.add(f"concurrent sign-up ({backend})", **counts)
    assert totals["full"] > 0  # the races did reach a full activity
