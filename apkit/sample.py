"""The embedded sample school, loaded into an empty database for demos and tests.

``data/school/`` holds an invented lycée (360 students, 3 blocks, 27 teachers,
5 periods, the activities and preferences of period 1); its README.md describes
the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select, text

from apkit import roster
from apkit.directory import apply_roster
from apkit.model import Student
from apkit.preference_import import apply_preferences
from apkit.school import load_school
from apkit.school_store import apply_setup
from apkit.store import Store

log = logging.getLogger(__name__)

SAMPLE_SCHOOL = Path(__file__).resolve().parents[1] / "data" / "school"
SAMPLE_ACTOR = "exemple"
SAMPLE_PERIOD = "P1"


def ensure_sample_school(store: Store, folder: Path = SAMPLE_SCHOOL) -> bool:
    """Load the sample school into a database that has no student yet.

    The set-up, the roster and the period 1 preferences go in one transaction,
    so a failure leaves the database as it was.

    Parameters
    ----------
    store
        The database to fill.
    folder
        The sample's folder; ``data/school/`` by default.

    Returns
    -------
    bool
        True when the sample was loaded, False when the database already held
        students and nothing was changed.

    Raises
    ------
    RosterError
        When a sample file cannot be read (a ``SetupError`` for the set-up).
    """
    setup = load_school(folder)
    students = roster.load(folder / "students.csv")
    with store.write() as session:
        if not store.is_sqlite:
            # SQLite's BEGIN IMMEDIATE already serialises writers; on PostgreSQL
            # this keeps two first starts from both seeing an empty table.
            session.execute(text("LOCK TABLE students IN SHARE ROW EXCLUSIVE MODE"))
        if session.scalar(select(func.count()).select_from(Student)):
            return False
        apply_setup(session, setup, actor=SAMPLE_ACTOR)
        apply_roster(session, students, actor=SAMPLE_ACTOR)
        preferences = folder / f"preferences_{SAMPLE_PERIOD.lower()}.csv"
        if preferences.is_file():
            apply_preferences(session, preferences, SAMPLE_PERIOD, actor=SAMPLE_ACTOR)
    log.info("sample school loaded from %s into %r", folder, store)
    return True
