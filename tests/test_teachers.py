"""Teachers into the database: first import, re-import and bad rows."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from apkit import roster
from apkit.errors import RosterError
from apkit.model import Teacher
from apkit.teachers import import_teachers
from tests.conftest import SCHOOL
from tests.test_school import row_counts


def test_import_teachers_and_reimport(store):
    teachers = roster.load_teachers(SCHOOL / "teachers.csv")
    changes = import_teachers(store, teachers, actor="test")
    assert len(changes.added) == 27
    before = row_counts(store)
    again = import_teachers(store, teachers, actor="test")
    assert len(again.unchanged) == 27
    assert row_counts(store) == before


def test_import_teachers_updates_and_matches_name(store, tmp_path):
    import_teachers(store, roster.load_teachers(SCHOOL / "teachers.csv"), actor="t")
    text = (SCHOOL / "teachers.csv").read_text(encoding="utf-8")
    text = text.replace("T01;BAKOWSKI", "STS-77;BAKOWSKI")
    text = text.replace("sylvie.bellamy@example.org", "s.bellamy@example.org")
    path = tmp_path / "enseignants.csv"
    path.write_text(text, encoding="utf-8")
    changes = import_teachers(store, roster.load_teachers(path), actor="test")
    assert changes.added == []
    assert sorted(changes.updated) == ["STS-77", "T02"]
    with store.read() as session:
        bakowski = session.scalar(
            select(Teacher).where(Teacher.last_name == "BAKOWSKI")
        )
        assert bakowski.source_id == "STS-77"
    assert row_counts(store)["teachers"] == 27


def test_import_teachers_bad_row_writes_nothing(store):
    before = row_counts(store)
    rows = [
        {"teacher_id": "T1", "last_name": "MARTIN", "first_name": "Léa", "line": 2},
        {"teacher_id": "T2", "last_name": "", "first_name": "Paul", "line": 3},
    ]
    expected = "^colonne « last_name » : nom manquant ; complétez la ligne$"
    with pytest.raises(RosterError, match=expected):
        import_teachers(store, pd.DataFrame(rows), actor="test")
    assert row_counts(store) == before
