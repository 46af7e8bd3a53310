"""Tests of apkit.roster on generic spreadsheets: the school's own CSV first."""

from __future__ import annotations

import datetime as dt

import pytest

from apkit.errors import RosterError
from apkit.roster import STUDENT_COLUMNS, load
from tests.conftest import SCHOOL


def test_load_school_students_csv():
    roster = load(SCHOOL / "students.csv")

    students = roster.students
    assert roster.format == "csv"
    assert roster.encoding == "utf-8"
    assert len(students) == 360
    assert list(students.columns[: len(STUDENT_COLUMNS)]) == list(STUDENT_COLUMNS)
    assert roster.dropped.empty
    assert roster.warnings == []
    first = students.iloc[0]
    assert first.student_id == "STU101"
    assert first.id_source == "student_id"
    assert first.last_name == "ALEXIS"
    assert first.first_name == "Teddy"
    assert first.class_name == "2de1"
    assert first.birth_date == dt.date(2010, 4, 17)
    assert first.sex == "M"
    assert first.line == 2
    assert students.student_id.is_unique
    assert set(students.sex) == {"F", "M"}
    assert students.class_name.nunique() == 12


def test_load_school_students_with_classes():
    classes = [f"2de{number}" for number in range(1, 13)]

    roster = load(SCHOOL / "students.csv", classes=classes)

    assert set(roster.students.class_name) == set(classes)


def test_load_rejects_unknown_policy():
    with pytest.raises(
        RosterError, match=r"valeur invalide pour on_bad_rows.*error, warn, skip"
    ):
        load(SCHOOL / "students.csv", on_bad_rows="ignore")
