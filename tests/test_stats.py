"""Statistics: fill rates, demand, satisfaction, unplaced by class, choice history."""

from __future__ import annotations

import pytest

from apkit import stats
from apkit.errors import NotFoundError
from tests.report_school import FORMULA_LAST, SCRIPT_TITLE, build_report_school


@pytest.fixture
def school(store):
    return store, build_report_school(store)


def test_fill_rates_per_activity(school):
    store, _ids = school
    frame = stats.fill_rates(store, "P1")
    assert list(frame.columns) == stats.FILL_COLUMNS
    columns = ["Heure", "Atelier", "Places", "Minimum", "Inscrits", "Premiers vœux"]
    assert frame[columns].values.tolist() == [
        ["1", "Débat et argumentation", 4, 2, 3, 2],
        ["1", "Méthodologie", 3, 2, 3, 1],
        ["1 et 2", SCRIPT_TITLE, 3, 1, 2, 5],
        ["2", "Choisir ses spécialités", 4, 2, 4, 2],
        ["2", "Théâtre", 4, 3, 0, 3],
    ]
    assert frame["Taux de remplissage"].round(4).tolist() == [
        0.75,
        1.0,
        0.6667,
        1.0,
        0.0,
    ]
    assert frame["Fermé"].tolist() == [False, False, False, False, True]
    assert frame["Catégorie"].tolist()[:2] == ["Approfondissement", "Soutien"]


def test_fill_rates_unknown_block(school):
    store, _ids = school
    with pytest.raises(NotFoundError, match="Barrette « B » introuvable"):
        stats.fill_rates(store, "P1", "B")


def test_block_fill_counts_open_places_only(school):
    store, _ids = school
    frame = stats.block_fill(store, "P1")
    assert frame.drop(columns="Taux de remplissage").values.tolist() == [
        ["A", 1, 10, 10, 8, 2],
        ["A", 2, 10, 7, 6, 4],
    ]
    assert frame["Taux de remplissage"].round(4).tolist() == [0.8, 0.8571]


def test_slot_outcomes_rank_sources(school):
    store, ids = school
    frame = stats.slot_outcomes(store, ["P1"]).set_index(["student_id", "Heure"])
    students = ids["students"]
    assert frame.loc[(students["ecuyer"], 1), "Résultat"] == "Vœu 1"
    assert frame.loc[(students["minus"], 1), "Résultat"] == "Vœu 3 ou suivant"
    assert frame.loc[(students["zola"], 1), "Résultat"] == "Hors vœux"
    assert frame.loc[(students["delacruz"], 1), "Résultat"] == "Non inscrit"
    assert students["gone"] not in frame.index.get_level_values(0)


def test_satisfaction_counts_per_period(school):
    store, _ids = school
    table = stats.satisfaction(store)
    assert list(table.index) == ["P1", "P2"]
    assert list(table.columns) == [*stats.OUTCOMES, "Total"]
    assert table.loc["P1"].tolist() == [8, 3, 1, 2, 6, 20]
    assert table.loc["P2"].tolist() == [2, 1, 0, 1, 16, 20]


def test_satisfaction_shares_sum_to_one(school):
    store, _ids = school
    shares = stats.satisfaction_shares(stats.satisfaction(store, ["P1"]))
    assert shares.loc["P1"].round(2).tolist() == [0.4, 0.15, 0.05, 0.1, 0.3]
    assert shares.sum(axis=1).round(9).tolist() == [1.0]


def test_unplaced_by_class_natural_order(school):
    store, _ids = school
    table = stats.unplaced_by_class(store, "P1")
    assert list(table.index) == ["2de1", "2de2"]
    assert list(table.columns) == ["Heure 1", "Heure 2"]
    assert table.values.tolist() == [[0, 1], [2, 3]]


def test_natural_key_orders_class_numbers():
    classes = ["2de10", "2de2", "2de1", "1re3"]
    assert sorted(classes, key=stats.natural_key) == ["1re3", "2de1", "2de2", "2de10"]


def test_choice_history_per_student(school):
    store, _ids = school
    frame = stats.choice_history(store).set_index("Nom")
    dupont = frame.loc["DUPONT"]
    assert dupont["Heures placées"] == 4
    assert dupont["Vœux 1 obtenus"] == 3
    assert dupont["Part de vœux 1"] == 0.75
    assert [dupont[c] for c in stats.CATEGORY_LABELS.values()] == [1, 1, 2, 0]
    assert not dupont["Jamais soutien"]
    assert not dupont["Jamais orientation"]
    assert frame.loc["DE LA CRUZ", "Heures placées"] == 0
    assert frame.loc["DE LA CRUZ", "Part de vœux 1"] == 0.0
    assert frame.loc["D'ALMEIDA", "Projet"] == 1


def test_students_never_orientation(school):
    store, _ids = school
    never = stats.students_never(store, "orientation")
    assert never["Nom"].tolist() == [
        FORMULA_LAST,
        "D'ALMEIDA",
        "DE LA CRUZ",
        "DESCŒURS",
        "ÉLUARD",
    ]


def test_students_never_soutien(school):
    store, _ids = school
    never = stats.students_never(store, "soutien")
    assert "DUPONT" not in never["Nom"].tolist()
    assert "EBERT" in never["Nom"].tolist()


def test_students_never_unknown_category(school):
    store, _ids = school
    with pytest.raises(
        ValueError, match="Catégorie « sport » inconnue ; attendu : soutien"
    ):
        stats.students_never(store, "sport")
