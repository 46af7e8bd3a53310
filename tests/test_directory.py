"""Rosters and teachers into the database: first import, re-import and bad rows."""

from __future__ import annotations

import datetime as dt
import logging
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from sqlalchemy import select

from apkit import roster
from apkit.directory import import_roster
from apkit.errors import RosterError
from apkit.model import AuditEntry, Division, Student
from apkit.school import import_school, load_school
from tests.conftest import SCHOOL
from tests.test_school import row_counts

LINES = (SCHOOL / "students.csv").read_text(encoding="utf-8").splitlines()
HEADER, ROWS = LINES[0], LINES[1:]
# Classes 2de1 (block A) and 2de5 (block B), plus the two TEIXEIRA Gonçalo.
SMALL = [r for r in ROWS if r.split(";")[3] in ("2de1", "2de5")]
SMALL += [r for r in ROWS if r.startswith(("STU253;", "STU293;"))]
TODAY = dt.date(2025, 11, 3)


@pytest.fixture
def school(store):
    """A store holding the sample set-up and no student."""
    import_school(store, load_school(SCHOOL), actor="test")
    return store


def load_rows(tmp_path, rows, name="eleves.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return roster.load(path)


def replace(rows, student_id, column, value):
    """Return the rows with one cell of one student changed."""
    index = HEADER.split(";").index(column)
    result = []
    for row in rows:
        cells = row.split(";")
        if cells[0] == student_id:
            cells[index] = value
        result.append(";".join(cells))
    return result


def without(rows, student_id):
    return [r for r in rows if not r.startswith(f"{student_id};")]


def student(store, source_id):
    """Return a stored student's columns and class name, or None."""
    with store.read() as session:
        row = session.scalar(select(Student).where(Student.source_id == source_id))
        if row is None:
            return None
        values = {c.key: getattr(row, c.key) for c in Student.__table__.columns}
        values["class_name"] = row.division.name if row.division else None
        return SimpleNamespace(**values)


def test_import_roster_first_time(school, tmp_path):
    changes = import_roster(
        school, load_rows(tmp_path, SMALL), actor="test", today=TODAY
    )
    assert len(changes.added) == len(SMALL) == 61
    assert changes.added.columns.tolist() == [
        "student_id",
        "last_name",
        "first_name",
        "class_name",
    ]
    assert row_counts(school)["students"] == 61
    alexis = student(school, "STU101")
    assert (alexis.last_name, alexis.first_name) == ("ALEXIS", "Teddy")
    assert alexis.class_name == "2de1"
    assert alexis.birth_date == dt.date(2010, 4, 17)
    assert alexis.arrived_on == TODAY
    assert alexis.name_key == "alexis teddy"


def test_reimport_same_roster_changes_nothing(school, tmp_path):
    students = load_rows(tmp_path, SMALL)
    import_roster(school, students, actor="test", today=TODAY)
    before = row_counts(school)
    changes = import_roster(school, students, actor="test", today=TODAY)
    assert len(changes.unchanged) == 61
    assert not changes.changed
    assert row_counts(school) == before


def test_import_empty_roster_rejected(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    before = row_counts(school)
    empty = load_rows(tmp_path, SMALL).students.iloc[0:0]

    with pytest.raises(RosterError, match="aucun élève à importer : la liste est vide"):
        import_roster(school, empty, actor="test", today=TODAY)

    assert row_counts(school) == before


def test_reimport_marks_missing_student_left(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    later = TODAY + dt.timedelta(days=30)
    newer = load_rows(tmp_path, without(SMALL, "STU083"), "newer.csv")
    changes = import_roster(school, newer, actor="test", today=later)
    assert changes.left["student_id"].tolist() == ["STU083"]
    assert changes.left["class_name"].tolist() == ["2de1"]
    assert student(school, "STU083").left_on == later
    assert row_counts(school)["students"] == 61
    assert "Élèves : 0 ajouté, 1 parti, 0 changé de classe" in changes.summary()
    assert "  BÉRANGER Thomas (2de1)" in changes.summary()


def test_reimport_moves_student(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    moved = replace(SMALL, "STU101", "class_name", "2de5")
    changes = import_roster(school, load_rows(tmp_path, moved, "b.csv"), actor="test")
    assert changes.changed_class.to_dict(orient="records") == [
        {
            "student_id": "STU101",
            "last_name": "ALEXIS",
            "first_name": "Teddy",
            "class_name": "2de5",
            "old_class": "2de1",
        }
    ]
    assert student(school, "STU101").class_name == "2de5"
    with school.read() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "student_moved")
        )
        assert entry.before == {"class_name": "2de1"}
        assert entry.after == {"class_name": "2de5"}


def test_reimport_adds_new_student(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    newcomer = "STU999;NGUYEN;Bao Chau;2de5;02/03/2010;F"
    changes = import_roster(
        school, load_rows(tmp_path, [*SMALL, newcomer], "b.csv"), actor="test"
    )
    assert changes.added["student_id"].tolist() == ["STU999"]
    assert len(changes.unchanged) == 61
    assert student(school, "STU999").class_name == "2de5"


def test_reimport_matches_new_id_on_name_and_birth(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    renumbered = replace(SMALL, "STU101", "student_id", "SIECLE-4411")
    changes = import_roster(
        school, load_rows(tmp_path, renumbered, "b.csv"), actor="test"
    )
    assert changes.added.empty
    assert changes.left.empty
    assert changes.updated["student_id"].tolist() == ["SIECLE-4411"]
    assert student(school, "SIECLE-4411").last_name == "ALEXIS"
    assert student(school, "STU101") is None


def test_homonyms_told_apart_by_birth_date(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    renumbered = replace(SMALL, "STU253", "student_id", "NEW253")
    renumbered = replace(renumbered, "STU293", "student_id", "NEW293")
    changes = import_roster(
        school, load_rows(tmp_path, renumbered, "b.csv"), actor="test"
    )
    assert sorted(changes.updated["student_id"]) == ["NEW253", "NEW293"]
    assert student(school, "NEW253").class_name == "2de4"
    assert student(school, "NEW293").class_name == "2de9"


def test_returning_student_cleared_of_left_on(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    import_roster(
        school, load_rows(tmp_path, without(SMALL, "STU083"), "b.csv"), actor="test"
    )
    changes = import_roster(school, load_rows(tmp_path, SMALL, "c.csv"), actor="t")
    assert changes.returned["student_id"].tolist() == ["STU083"]
    assert student(school, "STU083").left_on is None


UNKNOWN_CLASS = (
    "eleves.csv:63 : colonne « class_name » : classe inconnue, dans aucune barrette "
    "(valeur : « 2de13 ») ; ajoutez-la à blocks.csv puis lancez « apkit "
    "import-school », ou autorisez la création des classes (--create-classes)"
)


def test_unknown_class_writes_nothing(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    before = row_counts(school)
    moved = replace(SMALL, "STU101", "class_name", "2de2")
    rows = [*moved, "STU998;MARTIN;Léa;2de13;01/01/2010;F"]
    with pytest.raises(RosterError, match=f"^{re.escape(UNKNOWN_CLASS)}$") as caught:
        import_roster(school, load_rows(tmp_path, rows), actor="test")
    assert caught.value.line == 63
    assert caught.value.value == "2de13"
    assert row_counts(school) == before
    assert student(school, "STU101").class_name == "2de1"


def test_unknown_class_created_when_allowed(school, tmp_path):
    rows = [*SMALL, "STU998;MARTIN;Léa;2de13;01/01/2010;F"]
    changes = import_roster(
        school, load_rows(tmp_path, rows), actor="test", create_classes=True
    )
    assert changes.created_classes == ["2de13"]
    with school.read() as session:
        division = session.scalar(select(Division).where(Division.name == "2de13"))
        assert division.block_id is None
    assert student(school, "STU998").class_name == "2de13"


def test_bad_row_skipped_keeps_stored_student(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    rows = replace(SMALL, "STU101", "class_name", "2de13")
    changes = import_roster(
        school, load_rows(tmp_path, rows, "b.csv"), actor="test", on_bad_rows="skip"
    )
    assert changes.skipped.to_dict(orient="records") == [
        {
            "line": 2,
            "student_id": "STU101",
            "problem": "classe inconnue, dans aucune barrette (« 2de13 »)",
        }
    ]
    assert changes.left.empty
    assert student(school, "STU101").left_on is None
    assert "Lignes ignorées : 1" in changes.summary()


def test_bad_row_warned(school, tmp_path, caplog):
    rows = replace(SMALL, "STU101", "class_name", "2de13")
    with caplog.at_level(logging.WARNING, logger="apkit.directory_rows"):
        changes = import_roster(
            school, load_rows(tmp_path, rows), actor="test", on_bad_rows="warn"
        )
    assert len(changes.added) == 60
    assert "eleves.csv:2: classe inconnue" in caplog.text


def test_invalid_bad_row_policy(school, tmp_path):
    before = row_counts(school)
    with pytest.raises(RosterError, match=r"option on_bad_rows invalide.*« ignore »"):
        import_roster(
            school, load_rows(tmp_path, SMALL), actor="t", on_bad_rows="ignore"
        )
    assert row_counts(school) == before


def test_dry_run_writes_nothing(school, tmp_path):
    before = row_counts(school)
    changes = import_roster(
        school, load_rows(tmp_path, SMALL), actor="test", dry_run=True
    )
    assert len(changes.added) == 61
    assert changes.summary().startswith("Simulation, rien n'est enregistré.")
    assert row_counts(school) == before


def test_partial_roster_leaves_other_classes(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    one_class = [r for r in SMALL if ";2de1;" in r and not r.startswith("STU083;")]
    changes = import_roster(
        school, load_rows(tmp_path, one_class, "b.csv"), actor="test", full=False
    )
    assert changes.left["student_id"].tolist() == ["STU083"]
    assert student(school, "STU253").left_on is None


def test_duplicate_id_in_frame_writes_nothing(school):
    before = row_counts(school)
    frame = pd.DataFrame(
        {
            "student_id": ["S1", "S1"],
            "last_name": ["MARTIN", "DURAND"],
            "first_name": ["Léa", "Paul"],
            "class_name": ["2de1", "2de1"],
            "line": [2, 3],
        }
    )
    expected = (
        "colonne « student_id » : identifiant d'élève en double, déjà ligne 2 "
        "(valeur : « S1 ») ; chaque élève doit apparaître une seule fois"
    )
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}$") as caught:
        import_roster(school, frame, actor="test")
    assert caught.value.line == 3
    assert row_counts(school) == before


def test_missing_column_writes_nothing(school):
    before = row_counts(school)
    frame = pd.DataFrame({"last_name": ["MARTIN"], "first_name": ["Léa"]})
    with pytest.raises(RosterError, match="colonne class_name absente"):
        import_roster(school, frame, actor="test")
    assert row_counts(school) == before


def test_list_without_ids_keeps_stored_ids(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    path = tmp_path / "liste_2de1.csv"
    rows = [r.split(";", 1)[1] for r in SMALL if ";2de1;" in r]
    header = HEADER.split(";", 1)[1]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    changes = import_roster(school, roster.load(path), actor="test", full=False)
    assert len(changes.unchanged) == 30
    assert changes.added.empty
    assert changes.left.empty
    assert student(school, "STU101").last_name == "ALEXIS"


def test_row_dropped_by_loader_not_marked_left(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    unreadable = replace(SMALL, "STU083", "birth_date", "31/02/2010")
    path = tmp_path / "b.csv"
    path.write_text("\n".join([HEADER, *unreadable]) + "\n", encoding="utf-8")
    students = roster.load(path, on_bad_rows="skip")
    assert len(students.dropped) == 1
    changes = import_roster(school, students, actor="test")
    assert changes.left.empty
    assert student(school, "STU083").left_on is None


def test_leaver_dropped_by_loader_marked_left(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    path = tmp_path / "sortie.csv"
    rows = [r + (";05/10/2025" if r.startswith("STU083;") else ";") for r in SMALL]
    path.write_text("\n".join([HEADER + ";date_sortie", *rows]) + "\n", "utf-8")
    students = roster.load(path, today=TODAY)
    assert students.dropped["reason"].tolist() == [
        "a quitté l'établissement le 05/10/2025"
    ]
    changes = import_roster(school, students, actor="test", today=TODAY)
    assert changes.left["student_id"].tolist() == ["STU083"]


def two_students(tmp_path):
    return load_rows(tmp_path, [r for r in SMALL if ";2de5;" in r][:2], "deux.csv")


def test_partial_file_refused_as_full_roster(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    before = row_counts(school)
    expected = (
        "deux.csv : 59 élèves sur 61 présents seraient marqués partis : la liste "
        "ne semble pas complète ; importez l'export complet des élèves, ou "
        "--partial pour n'importer que les classes du fichier, ou "
        "--allow-departures pour confirmer ces départs"
    )
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}$") as caught:
        import_roster(school, two_students(tmp_path), actor="test")
    assert caught.value.path.name == "deux.csv"
    assert row_counts(school) == before
    assert student(school, "STU101").left_on is None


def test_partial_file_dry_run_warns(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    before = row_counts(school)
    changes = import_roster(school, two_students(tmp_path), actor="t", dry_run=True)
    assert len(changes.left) == 59
    assert changes.departure_warning.startswith("59 élèves sur 61 présents")
    lines = changes.summary().splitlines()
    assert lines[0].startswith("Simulation, rien n'est enregistré.")
    assert lines[1] == f"Attention : {changes.departure_warning}"
    assert row_counts(school) == before


def test_departures_allowed_when_confirmed(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    changes = import_roster(
        school, two_students(tmp_path), actor="test", allow_departures=True
    )
    assert len(changes.left) == 59
    assert student(school, "STU101").left_on is not None


def test_few_departures_need_no_confirmation(school, tmp_path):
    import_roster(school, load_rows(tmp_path, SMALL), actor="test", today=TODAY)
    fewer = [r for r in SMALL if not r.startswith(("STU083;", "STU101;"))]
    changes = import_roster(school, load_rows(tmp_path, fewer, "b.csv"), actor="t")
    assert len(changes.left) == 2
    assert changes.departure_warning == ""
