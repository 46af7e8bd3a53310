"""Crash safety: ``kill -9`` at random points of three long writes.

Each trial copies a prepared SQLite database, starts a child process that runs
one write, waits a random delay, and sends it SIGKILL. The child reports when
its write transaction began and when it committed (an engine ``begin`` listener
and a session ``after_commit`` listener set two events), so each kill is
counted as landing before, during or after the transaction. Then the database
must be entirely as before or entirely as after the complete write (compared
row by row with both snapshots), with no group over capacity, no (student,
slot) twice, and ``PRAGMA integrity_check`` = ok.

The writes: (a) a roster import of 3,000 students
(:func:`apkit.directory.import_roster`); (b) the allocation of the sample
school's block A (:func:`apkit.allocation.allocate`); (c) the placement of the
students left without a place in hour 2 (:func:`apkit.corrections.place_unplaced`).

Children come from a "forkserver" that has imported apkit once, so a trial
costs the write, not an interpreter start. ``APKIT_RELIABILITY_ROUNDS`` sets the
trials per write (6 by default); ``APKIT_RELIABILITY_FULL=1`` runs 50.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from apkit import roster
from apkit.allocation import allocate
from apkit.corrections import place_unplaced
from apkit.directory import import_roster
from apkit.model import (
    Activity,
    AuditEntry,
    Campaign,
    CampaignStatus,
    Enrolment,
    Student,
)
from apkit.sample import ensure_sample_school
from apkit.store import Store
from tests.reliability import summary

pytestmark = pytest.mark.reliability

CAMPAIGN = 1  # P1, block A of the sample school
ROSTER_SIZE = 3000
SEED = 7
TRIALS = 6  # per write by default; 50 under APKIT_RELIABILITY_FULL=1
PG_TRIALS = 2  # per write on PostgreSQL; 10 under APKIT_RELIABILITY_FULL=1
CHILD_TIMEOUT_S = 120
PRELOAD = ["apkit.directory", "apkit.allocation", "apkit.corrections", "apkit.roster"]


def _child(kind: str, url: str, roster_path: str, began, committed) -> None:
    """Run one write in a fresh store, setting ``began`` and ``committed``."""
    store = Store(url, upgrade=False)

    @event.listens_for(store.engine, "begin")
    def _began(connection) -> None:
        if connection.get_execution_options().get("apkit_write"):
            began.set()

    @event.listens_for(Session, "after_commit")
    def _committed(session) -> None:
        if began.is_set():
            committed.set()

    if kind == "roster":
        students = roster.load(roster_path)
        import_roster(store, students, actor="import")
    elif kind == "allocation":
        allocate(store, CAMPAIGN, seed=SEED, actor="répartition")
    else:
        place_unplaced(store, CAMPAIGN, actor="coordinateur", slot=2)
    store.dispose()


def state(url: str) -> dict:
    """Return the rows a write may change, without timestamps."""
    store = Store(url, upgrade=False)
    try:
        with store.read() as session:
            students = session.execute(
                select(
                    Student.source_id,
                    Student.last_name,
                    Student.division_id,
                    Student.left_on,
                ).order_by(Student.source_id)
            ).all()
            enrolments = session.execute(
                select(
                    Enrolment.student_id,
                    Enrolment.slot,
                    Enrolment.activity_id,
                    Enrolment.source,
                    Enrolment.locked,
                ).order_by(Enrolment.student_id, Enrolment.slot)
            ).all()
            audit = session.execute(
                select(AuditEntry.action, AuditEntry.student_id).order_by(AuditEntry.id)
            ).all()
            status = session.scalar(
                select(Campaign.status).where(Campaign.id == CAMPAIGN)
            )
            integrity = "ok"  # PostgreSQL has no such check; its WAL replays
            if store.is_sqlite:
                integrity = session.execute(text("PRAGMA integrity_check")).scalar()
            capacities = dict(
                session.execute(select(Activity.id, Activity.capacity)).all()
            )
    finally:
        store.dispose()
    return {
        "students": students,
        "enrolments": enrolments,
        "audit": audit,
        "status": status,
        "integrity": integrity,
        "capacities": capacities,
    }


def check_invariants(found: dict) -> None:
    """Check integrity, one place per (student, slot), and capacities."""
    assert found["integrity"] == "ok"
    rows = found["enrolments"]
    pairs = Counter((row.student_id, row.slot) for row in rows)
    assert [pair for pair, count in pairs.items() if count > 1] == []

    # A place forced over capacity by a teacher is allowed; nothing else is.
    forced = {row.activity_id for row in rows if row.source == "forced"}
    per_group = Counter((row.activity_id, row.slot) for row in rows)
    over = [
        group
        for group, count in per_group.items()
        if count > found["capacities"][group[0]] and group[0] not in forced
    ]
    assert over == []


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Prepared databases: the sample school, allocated, and with hour 2 emptied."""
    folder = tmp_path_factory.mktemp("crash")
    sample = folder / "sample.sqlite"
    store = Store(sqlite_url(sample))
    ensure_sample_school(store)
    store.dispose()

    roster_path = folder / "roster.csv"
    existing = pd.read_csv(
        Path(__file__).parents[2] / "data/school/students.csv", sep=";"
    )
    classes = sorted(existing["class_name"].unique())
    rows = [
        {
            "student_id": f"GEN{i:05d}",
            "last_name": f"NOM{i:05d}",
            "first_name": f"Prénom{i % 97}",
            "class_name": classes[i % len(classes)],
            "birth_date": f"{1 + i % 28:02d}/{1 + i % 12:02d}/2010",
            "sex": "FM"[i % 2],
        }
        for i in range(ROSTER_SIZE - len(existing))
    ]
    frame = pd.concat([existing, pd.DataFrame(rows)])
    frame.to_csv(roster_path, sep=";", index=False)

    allocated = folder / "allocated.sqlite"
    shutil.copy(sample, allocated)
    _unplace_hour_two(sqlite_url(allocated))
    return roster_path, {
        "roster": sqlite_url(sample),
        "allocation": sqlite_url(sample),
        "correction": sqlite_url(allocated),
    }


def _unplace_hour_two(url: str) -> None:
    """Allocate block A, then empty hour 2 and close the campaign for corrections."""
    store = Store(url, upgrade=False)
    allocate(store, CAMPAIGN, seed=SEED, actor="répartition")
    with store.write() as session:
        session.execute(
            delete(Enrolment).where(
                Enrolment.campaign_id == CAMPAIGN, Enrolment.slot == 2
            )
        )
        session.execute(
            update(Campaign)
            .where(Campaign.id == CAMPAIGN)
            .values(status=CampaignStatus.CLOSED)
        )
    store.dispose()


@pytest.fixture(scope="module")
def pg_templates(templates, postgres_server):
    """The same prepared databases on PostgreSQL."""
    roster_path, _ = templates
    sample = postgres_server.new_database()
    store = Store(sample)
    ensure_sample_school(store)
    store.dispose()
    allocated = postgres_server.clone(sample)
    _unplace_hour_two(allocated)
    yield roster_path, {"roster": sample, "allocation": sample, "correction": allocated}
    postgres_server.drop(sample)
    postgres_server.drop(allocated)


class Copies:
    """Copies of a template database, as files (SQLite) or databases (PostgreSQL)."""

    def __init__(self, folder: Path, server=None) -> None:
        self.folder = folder
        self.server = server

    def make(self, template: str, name: str) -> str:
        if self.server is not None:
            return self.server.clone(template)
        path = self.folder / f"{name}.sqlite"
        shutil.copy(make_url(template).database, path)
        return sqlite_url(path)

    def remove(self, url: str) -> None:
        if self.server is not None:
            self.server.drop(url)
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_child(context, kind, url, roster_path, kill) -> tuple[str, float]:
    """Run the write and kill it as ``kill`` says; return where, and the write's time.

    ``kill`` is None (let it finish), ``("start", s)`` (kill ``s`` seconds after
    the start) or ``("begin", s)`` (``s`` seconds after the transaction began).
    """
    began, committed = context.Event(), context.Event()
    process = context.Process(
        target=_child, args=(kind, url, str(roster_path), began, committed)
    )
    process.start()
    if kill is None:
        assert began.wait(CHILD_TIMEOUT_S)
        opened = time.monotonic()
        process.join(CHILD_TIMEOUT_S)
        assert process.exitcode == 0
        assert committed.is_set()
        return "complete", time.monotonic() - opened
    anchor, delay = kill
    if anchor == "start":
        process.join(delay)
    elif began.wait(CHILD_TIMEOUT_S):
        time.sleep(delay)
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    process.join(CHILD_TIMEOUT_S)
    if committed.is_set():
        return "after", 0.0
    return ("during" if began.is_set() else "before"), 0.0


KINDS = ["roster", "allocation", "correction"]


@pytest.mark.parametrize("kind", KINDS)
def test_kill_leaves_before_or_after(templates, context, tmp_path, kind):
    roster_path, urls = templates
    trials = summary.rounds(default=TRIALS, full=50)
    run_trials(
        context, Copies(tmp_path), urls[kind], roster_path, kind, "sqlite", trials
    )


@pytest.mark.postgres
@pytest.mark.parametrize("kind", KINDS)
def test_kill_leaves_before_or_after_pg(pg_templates, context, postgres_server, kind):
    roster_path, urls = pg_templates
    trials = summary.rounds(default=PG_TRIALS, full=10)
    copies = Copies(Path(), postgres_server)
    run_trials(context, copies, urls[kind], roster_path, kind, "postgres", trials)


def run_trials(context, copies, template, roster_path, kind, backend, trials) -> None:
    """Kill ``trials`` runs of the write at random points and check each database."""
    before = state(template)
    complete = copies.make(template, "complete")
    _, duration = run_child(context, kind, complete, roster_path, None)
    after = state(complete)
    copies.remove(complete)
    assert after != before
    check_invariants(before)
    check_invariants(after)

    rng = random.Random(f"{kind}-{backend}-{SEED}")
    landed: Counter = Counter()
    outcomes: Counter = Counter()
    for trial in range(trials):
        url = copies.make(template, f"trial{trial}")
        # Even trials kill inside the write (before 90 % of its usual time),
        # odd ones anywhere from the start to well after the commit.
        anchor = "begin" if trial % 2 == 0 else "start"
        span = duration * (3 if anchor == "start" else 0.9)
        where, _ = run_child(
            context, kind, url, roster_path, (anchor, rng.uniform(0, span))
        )
        found = state(url)
        copies.remove(url)
        check_invariants(found)
        outcome = "before" if found == before else "after" if found == after else None
        assert outcome is not None, f"trial {trial}: partial write after a kill {where}"
        if where == "before":
            assert outcome == "before"
        landed[where] += 1
        outcomes[outcome] += 1

    counts = {
        "trials": sum(landed.values()),
        "killed_before": landed["before"],
        "killed_during": landed["during"],
        "killed_after": landed["after"],
        "found_before": outcomes["before"],
        "found_after": outcomes["after"],
    }
    print(f"\ncrash safety ({kind}, {backend}, write {duration:.1f} s): {counts}")
    summary.add(f"crash safety ({kind}, {backend})", **counts)
    assert landed["during"] > 0  # at least one kill hit the open transaction
