"""Lists as DataFrames: French order, projects, unplaced students, the year table."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from apkit import reports
from apkit.errors import NotFoundError
from apkit.names import sort_key
from tests.report_school import (
    FORMULA_LAST,
    SCRIPT_TITLE,
    TAB_FIRST,
    build_report_school,
)


@pytest.fixture
def school(store):
    return store, build_report_school(store)


def _names(frame) -> list[str]:
    return frame["Nom"].tolist()


def test_sort_key_accents_between_plain_letters():
    expected = ["Dupont", "Ebert", "Écuyer", "Éluard", "Zola"]
    shuffled = expected[::-1]
    random.Random(4).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == expected


def test_sort_key_ignores_case_before_length():
    names = ["DUPONTEL", "dupont", "Dupont", "DUPONT", "Duponte"]
    ordered = sorted(names, key=sort_key)
    assert ordered[:3] == ["dupont", "Dupont", "DUPONT"]
    assert ordered[3:] == ["Duponte", "DUPONTEL"]


def test_sort_key_particles_word_by_word():
    # French word-by-word filing: "D'" and "DE LA" are words, filed before the
    # longer words they start ("nothing before something").
    names = ["DEBAT", "DALMAS", "DE LA CRUZ", "D'ALMEIDA", "DA SILVA", "DELACROIX"]
    assert sorted(names, key=sort_key) == [
        "D'ALMEIDA",
        "DA SILVA",
        "DALMAS",
        "DE LA CRUZ",
        "DEBAT",
        "DELACROIX",
    ]


def test_sort_key_ligature_as_two_letters():
    names = ["DESCOURS", "DESCŒURS", "DESCAMPS"]
    assert sorted(names, key=sort_key) == ["DESCAMPS", "DESCŒURS", "DESCOURS"]


def test_sort_key_first_name_breaks_tie():
    people = [
        ("DUPONT", "Zoé"),
        ("DUPONTEL", "Anne"),
        ("DUPONT", "Émile"),
        ("DUPONT", "Eric"),
    ]
    ordered = sorted(people, key=lambda p: sort_key(*p))
    assert ordered == [
        ("DUPONT", "Émile"),
        ("DUPONT", "Eric"),
        ("DUPONT", "Zoé"),
        ("DUPONTEL", "Anne"),
    ]


def test_activity_list_one_slot(school):
    store, ids = school
    frame = reports.activity_list(store, ids["activities"]["A1"])
    assert list(frame.columns) == ["Nom", "Prénom", "Classe", "Heure"]
    assert frame.values.tolist() == [
        [FORMULA_LAST, "Jean-Luc", "2de1", "1"],
        ["ÉCUYER", "Lætitia", "2de1", "1"],
        ["ZOLA", "+33", "2de2", "1"],
    ]
    assert frame.attrs["Atelier"] == "Méthodologie"
    assert frame.attrs["Enseignant"] == "BERGER Céline"
    assert frame.attrs["Salle"] == "A101"
    assert frame.attrs["Places"] == 3


def test_activity_list_project_both_hours(school):
    store, ids = school
    frame = reports.activity_list(store, ids["activities"]["A3"])
    assert frame.values.tolist() == [
        ["D'ALMEIDA", "Inès", "2de1", "1 et 2"],
        ["ÉLUARD", "Paul", "2de2", "1 et 2"],
    ]
    assert frame.attrs["Heure"] == "1 et 2"
    assert frame.attrs["Atelier"] == SCRIPT_TITLE


def test_activity_list_unknown_id(school):
    store, _ids = school
    with pytest.raises(NotFoundError, match="Atelier n° 9999 introuvable"):
        reports.activity_list(store, 9999)


def test_teacher_lists_every_group(school):
    store, ids = school
    frame = reports.teacher_lists(store, ids["teachers"]["berger"], "P1")
    assert list(frame.columns) == [
        "Barrette", "Heure", "Atelier", "Salle", "Nom", "Prénom", "Classe"
    ]  # fmt: skip
    assert frame[["Heure", "Atelier", "Nom"]].values.tolist() == [
        [1, "Méthodologie", FORMULA_LAST],
        [1, "Méthodologie", "ÉCUYER"],
        [1, "Méthodologie", "ZOLA"],
        [2, "Choisir ses spécialités", "-x"],
        [2, "Choisir ses spécialités", "DUPONT"],
        [2, "Choisir ses spécialités", "EBERT"],
        [2, "Choisir ses spécialités", "ÉCUYER"],
    ]


def test_teacher_lists_other_period(school):
    store, ids = school
    frame = reports.teacher_lists(store, ids["teachers"]["berger"], "P2")
    assert frame[["Atelier", "Nom"]].values.tolist() == [
        ["Remise à niveau", "DUPONT"],
        ["Remise à niveau", "ZOLA"],
    ]


def test_class_list_marks_unplaced(school):
    store, _ids = school
    frame = reports.class_list(store, "2de2", "P1")
    assert list(frame.columns) == [
        "Nom",
        "Prénom",
        "Heure 1",
        "Salle 1",
        "Heure 2",
        "Salle 2",
    ]
    assert frame.values.tolist() == [
        [
            "-x",
            "Chloé",
            "Débat et argumentation",
            "B2",
            "Choisir ses spécialités",
            "A101",
        ],
        ["DE LA CRUZ", "@SUM(A1)", "Non inscrit", "", "Non inscrit", ""],
        ["DESCŒURS", TAB_FIRST, "Non inscrit", "", "Non inscrit", ""],
        ["ÉLUARD", "Paul", SCRIPT_TITLE, "CDI", SCRIPT_TITLE, "CDI"],
        ["ZOLA", "+33", "Méthodologie", "A101", "Non inscrit", ""],
    ]


def test_class_list_leaver_left_out(school):
    store, _ids = school
    assert "VIEUX" not in _names(reports.class_list(store, "2de1", "P1"))


def test_class_list_unknown_class(school):
    store, _ids = school
    with pytest.raises(NotFoundError, match="Classe « 2de13 » introuvable"):
        reports.class_list(store, "2de13", "P1")


def test_block_list_sorted_by_slot_activity_name(school):
    store, _ids = school
    frame = reports.block_list(store, "P1", "A")
    assert len(frame) == 14
    first_slot = frame[frame["Heure"] == 1]
    assert first_slot[["Atelier", "Nom"]].values.tolist() == [
        ["Débat et argumentation", "-x"],
        ["Débat et argumentation", "DUPONT"],
        ["Débat et argumentation", "EBERT"],
        ["Méthodologie", FORMULA_LAST],
        ["Méthodologie", "ÉCUYER"],
        ["Méthodologie", "ZOLA"],
        [SCRIPT_TITLE, "D'ALMEIDA"],
        [SCRIPT_TITLE, "ÉLUARD"],
    ]
    assert frame["Heure"].tolist() == sorted(frame["Heure"])


def test_block_list_unknown_block(school):
    store, _ids = school
    with pytest.raises(
        NotFoundError, match="Barrette « Z » introuvable ; barrettes connues : A"
    ):
        reports.block_list(store, "P1", "Z")


def test_unplaced_list_per_slot(school):
    store, _ids = school
    frame = reports.unplaced_list(store, "P1")
    assert frame.values.tolist() == [
        ["A", 1, "DE LA CRUZ", "@SUM(A1)", "2de2"],
        ["A", 1, "DESCŒURS", TAB_FIRST, "2de2"],
        ["A", 2, FORMULA_LAST, "Jean-Luc", "2de1"],
        ["A", 2, "DE LA CRUZ", "@SUM(A1)", "2de2"],
        ["A", 2, "DESCŒURS", TAB_FIRST, "2de2"],
        ["A", 2, "ZOLA", "+33", "2de2"],
    ]


def test_unplaced_list_unknown_period(school):
    store, _ids = school
    with pytest.raises(
        NotFoundError, match="Période « P9 » introuvable ; périodes connues : P1, P2"
    ):
        reports.unplaced_list(store, "P9")


def test_student_history_table_rows_and_columns(school):
    store, _ids = school
    frame = reports.student_history_table(store)
    assert list(frame.columns) == [
        "Nom", "Prénom", "Classe", "P1 H1", "P1 H2", "P2 H1", "P2 H2"
    ]  # fmt: skip
    assert _names(frame) == [
        "-x", FORMULA_LAST, "D'ALMEIDA", "DE LA CRUZ", "DESCŒURS",
        "DUPONT", "EBERT", "ÉCUYER", "ÉLUARD", "ZOLA",
    ]  # fmt: skip
    dupont = frame[frame["Nom"] == "DUPONT"].iloc[0].tolist()
    assert dupont == [
        "DUPONT", "Émile", "2de1", "Débat et argumentation",
        "Choisir ses spécialités", "Remise à niveau", "Métiers du soin",
    ]  # fmt: skip
    zola = frame[frame["Nom"] == "ZOLA"].iloc[0].tolist()
    assert zola[3:] == ["Méthodologie", "", "Remise à niveau", "Métiers du soin"]


def test_student_history_table_unknown_year(school):
    store, _ids = school
    with pytest.raises(NotFoundError, match="année scolaire « 1999-2000 ».*2025-2026"):
        reports.student_history_table(store, "1999-2000")


def test_student_history_frame_every_slot(school):
    store, ids = school
    frame = reports.student_history_frame(store, ids["students"]["zola"])
    assert frame[["Période", "Heure", "Atelier", "Catégorie"]].values.tolist() == [
        ["P1", 1, "Méthodologie", "soutien"],
        ["P1", 2, "", ""],
        ["P2", 1, "Remise à niveau", "soutien"],
        ["P2", 2, "Métiers du soin", "orientation"],
    ]
    assert frame.attrs == {"Nom": "ZOLA", "Prénom": "+33", "Classe": "2de2"}


def test_placements_columns_and_ranks(school):
    store, _ids = school
    frame = reports.placements(store, ["P1"], "A")
    assert list(frame.columns) == reports.PLACEMENT_COLUMNS
    zola = frame[(frame["Nom"] == "ZOLA")].iloc[0]
    assert zola["Origine"] == "prescribed"
    assert pd.isna(zola["Rang"])
