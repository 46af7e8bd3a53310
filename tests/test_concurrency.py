"""Simultaneous sign-ups: threads and processes racing for the last places.

Forty students sign up at the same moment (a barrier releases them together) for
an activity of 15 places, once from 40 threads sharing one store and once from 4
processes, started with "spawn", each opening its own store. Exactly 15 must get
a place and the 25 others a clean CapacityError, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter

from sqlalchemy import func, select

from apkit import audit
from apkit.corrections import move_student, undo
from apkit.errors import CampaignError, CapacityError
from apkit.model import Enrolment
from apkit.signup import enrol
from apkit.store import Store
from tests.factories import SchoolBuilder

CAPACITY = 15
STUDENTS = 40
PROCESSES = 4
BARRIER_TIMEOUT_S = 60


def _race_school(store: Store) -> tuple[int, int, list[int]]:
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1", "2de2"))
    students = builder.students("2de1", STUDENTS // 2) + builder.students(
        "2de2", STUDENTS - STUDENTS // 2
    )
    campaign = builder.campaign(builder.period(), block)
    activity = builder.activity(campaign, "A1", capacity=CAPACITY, slot=1)
    builder.activity(campaign, "A2", capacity=STUDENTS, slot=1)
    return campaign, activity, students


def _sign_up(store, barrier, campaign, student, activity) -> tuple:
    """Wait for the others, then enrol; return the outcome as plain, picklable data."""
    barrier.wait(BARRIER_TIMEOUT_S)
    try:
        result = enrol(store, campaign, student, activity, actor=f"élève {student}")
    except CapacityError as exc:
        return ("full", student, str(exc), exc.capacity, exc.enrolled)
    except Exception as exc:  # noqa: BLE001 - any other error is the failure shown
        return ("error", student, repr(exc))
    return (result.status, student)


def _run_threads(store, barrier, campaign, requests) -> list[tuple]:
    """Enrol each (student, activity) of ``requests`` from its own thread."""
    outcomes: list[tuple] = []
    append = outcomes.append  # list.append is atomic under the GIL

    def work(student: int, activity: int) -> None:
        append(_sign_up(store, barrier, campaign, student, activity))

    threads = [threading.Thread(target=work, args=pair) for pair in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _process_main(url, barrier, queue, campaign, activity, students) -> None:
    store = Store(url)
    try:
        requests = [(student, activity) for student in students]
        queue.put(_run_threads(store, barrier, campaign, requests))
    finally:
        store.dispose()


def _check_race(store, campaign, activity, outcomes) -> None:
    kinds = Counter(outcome[0] for outcome in outcomes)
    errors = [outcome for outcome in outcomes if outcome[0] == "error"]
    assert errors == []
    assert kinds == {"enrolled": CAPACITY, "full": STUDENTS - CAPACITY}
    for outcome in outcomes:
        if outcome[0] == "full":
            assert outcome[2].startswith("Atelier complet : A1 « Atelier A1 » a 15 ")
            assert outcome[3:] == (CAPACITY, CAPACITY)

    winners = sorted(o[1] for o in outcomes if o[0] == "enrolled")
    with store.read() as session:
        rows = list(session.scalars(select(Enrolment).where(Enrolment.slot == 1)))
        assert sorted(r.student_id for r in rows) == winners
        assert {r.activity_id for r in rows} == {activity}
        assert len(audit.entries(session, campaign_id=campaign)) == CAPACITY


def test_threads_race_for_last_places(store):
    campaign, activity, students = _race_school(store)
    barrier = threading.Barrier(len(students))
    requests = [(student, activity) for student in students]
    outcomes = _run_threads(store, barrier, campaign, requests)
    _check_race(store, campaign, activity, outcomes)


def test_processes_race_for_last_places(store):
    campaign, activity, students = _race_school(store)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(students))
    queue = context.Queue()
    shares = [students[i::PROCESSES] for i in range(PROCESSES)]
    processes = [
        context.Process(
            target=_process_main,
            args=(store.url, barrier, queue, campaign, activity, share),
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    outcomes = [o for _ in processes for o in queue.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    _check_race(store, campaign, activity, outcomes)


def test_same_choice_twice_at_once_keeps_one(store):
    campaign, activity, students = _race_school(store)
    student = students[0]
    barrier = threading.Barrier(10)
    outcomes = _run_threads(store, barrier, campaign, [(student, activity)] * 10)
    assert Counter(o[0] for o in outcomes) == {"enrolled": 1, "unchanged": 9}
    with store.read() as session:
        count = session.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.student_id == student)
        )
        assert count == 1
        assert len(audit.entries(session, student_id=student)) == 1


def test_switching_choices_at_once_keeps_one_place(store):
    # One student flips between A1 and A2 from 8 threads at once: whatever the
    # order, the student ends with exactly one place and every change is audited.
    campaign, first, students = _race_school(store)
    second = first + 1
    student = students[0]
    requests = [(student, first if i % 2 else second) for i in range(8)]
    outcomes = _run_threads(store, threading.Barrier(8), campaign, requests)
    statuses = Counter(o[0] for o in outcomes)
    assert set(statuses) <= {"enrolled", "moved", "unchanged"}
    assert statuses["enrolled"] == 1
    with store.read() as session:
        (row,) = session.scalars(
            select(Enrolment).where(Enrolment.student_id == student)
        )
        entries = audit.entries(session, student_id=student)
        assert len(entries) == statuses["enrolled"] + statuses["moved"]
        assert entries[0].after["enrolments"][0]["activity_id"] == row.activity_id


def test_same_undo_twice_at_once_runs_once(store):
    campaign, first, students = _race_school(store)
    student = students[0]
    enrol(store, campaign, student, first, actor="élève")
    moved = move_student(store, campaign, student, first + 1, actor="c",
                         role="coordinator")  # fmt: skip
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def work() -> None:
        barrier.wait(BARRIER_TIMEOUT_S)
        try:
            undo(store, moved.audit_id, actor="c")
        except CampaignError as exc:
            outcomes.append(str(exc))
        else:
            outcomes.append("undone")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("undone") == 1
    rejected = [o for o in outcomes if o != "undone"]
    assert len(rejected) == 5
    assert all("est déjà annulée" in message for message in rejected)
    with store.read() as session:
        (row,) = session.scalars(
            select(Enrolment).where(Enrolment.student_id == student)
        )
        assert row.activity_id == first
        assert row.source == "signup"
