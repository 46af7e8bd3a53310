"""Ranked preferences from CSV: the sample file, re-import and invalid rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from apkit.errors import CampaignError, RosterError
from apkit.model import Campaign, CampaignStatus, Preference, Student
from apkit.preference_import import import_preferences
from apkit.sample import ensure_sample_school
from tests.conftest import SCHOOL
from tests.test_school import row_counts

HEADER = "student_id;slot;rank;activity_id"
SAMPLE = SCHOOL / "preferences_p1.csv"


@pytest.fixture
def sample(store):
    ensure_sample_school(store)
    return store


def write(tmp_path, *rows, header=HEADER):
    path = tmp_path / "voeux.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_sample_preferences_stored(sample):
    with sample.read() as session:
        alexis = session.scalar(select(Student).where(Student.source_id == "STU101"))
        ranked = session.scalars(
            select(Preference)
            .where(Preference.student_id == alexis.id)
            .order_by(Preference.slot, Preference.rank)
        ).all()
        assert [(p.slot, p.rank) for p in ranked] == [
            (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)
        ]  # fmt: skip
    assert row_counts(sample)["preferences"] == 1986


def test_reimport_same_file_changes_nothing(sample):
    before = row_counts(sample)
    result = import_preferences(sample, SAMPLE, "P1", actor="test")
    assert (result.rows, result.students, result.changed_students) == (1986, 331, 0)
    assert row_counts(sample) == before


def test_reimport_replaces_listed_student(sample, tmp_path):
    path = write(
        tmp_path,
        "STU101;1;1;P1-A01",
        "STU101;1;2;P1-A02",
        "STU101;2;1;P1-A10",
    )
    result = import_preferences(sample, path, "P1", actor="test")
    assert result.changed_students == 1
    assert row_counts(sample)["preferences"] == 1986 - 6 + 3
    assert "1 élève mis à jour" in result.summary()


BAD_FILES = {
    "unknown_student": (
        ["STU999;1;1;P1-A01"],
        "voeux.csv:2 : colonne « student_id » : élève inconnu (valeur : « STU999 ») ; "
        "corrigez l'identifiant ou importez d'abord la liste des élèves",
    ),
    "rank_too_high": (
        ["STU101;1;1;P1-A01", "STU101;1;4;P1-A02"],
        "voeux.csv:3 : colonne « rank » : rang invalide (valeur : « 4 ») ; nombre "
        "entier de 1 à 3 attendu",
    ),
    "slot_unknown": (
        ["STU101;3;1;P1-A01"],
        "voeux.csv:2 : colonne « slot » : heure invalide (valeur : « 3 ») ; nombre "
        "entier de 1 à 2 attendu",
    ),
    "activity_of_other_block": (
        ["STU101;1;1;P1-B01"],
        "voeux.csv:2 : colonne « activity_id » : atelier inconnu dans la campagne P1, "
        "barrette A (valeur : « P1-B01 ») ; choisissez un atelier de la barrette de "
        "l'élève",
    ),
    "activity_in_other_slot": (
        ["STU101;2;1;P1-A01"],
        "voeux.csv:2 : colonne « activity_id » : atelier absent à l'heure 2 (valeur : "
        "« P1-A01 ») ; vérifiez la colonne slot",
    ),
    "rank_repeated": (
        ["STU101;1;1;P1-A01", "STU101;1;1;P1-A02"],
        "voeux.csv:3 : colonne « rank » : rang déjà donné par cet élève à l'heure 1, "
        "ligne 2 (valeur : « 1 ») ; un élève classe chaque atelier une fois, à un "
        "rang différent",
    ),
    "activity_repeated": (
        ["STU101;1;1;P1-A01", "STU101;1;2;P1-A01"],
        "voeux.csv:3 : colonne « activity_id » : atelier déjà donné par cet élève à "
        "l'heure 1, ligne 2 (valeur : « P1-A01 ») ; un élève classe chaque atelier "
        "une fois, à un rang différent",
    ),
    "project_in_one_slot": (
        ["STU101;1;1;P1-A09", "STU101;2;1;P1-A10"],
        "voeux.csv:2 : colonne « activity_id » : projet sur deux heures classé à une "
        "seule heure ou à deux rangs différents (valeur : « P1-A09 ») ; classez-le aux "
        "deux heures au même rang (ici 1), ou retirez-le",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_invalid_row_writes_nothing(sample, tmp_path, case):
    rows, message = BAD_FILES[case]
    before = row_counts(sample)
    with pytest.raises(RosterError, match=f"^{re.escape(message)}$"):
        import_preferences(sample, write(tmp_path, *rows), "P1", actor="test")
    assert row_counts(sample) == before


def test_missing_column_writes_nothing(sample, tmp_path):
    before = row_counts(sample)
    path = write(tmp_path, "STU101;1;P1-A01", header="student_id;slot;activity_id")
    expected = (
        "voeux.csv:1 : colonne « rank » manquante ; en-tête attendu : "
        "student_id;slot;rank;activity_id"
    )
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}$"):
        import_preferences(sample, path, "P1", actor="test")
    assert row_counts(sample) == before


def test_unknown_period_writes_nothing(sample):
    before = row_counts(sample)
    with pytest.raises(RosterError, match=r"période inconnue \(valeur : « P9 »\)"):
        import_preferences(sample, SAMPLE, "P9", actor="test")
    assert row_counts(sample) == before


def test_student_who_left_rejected(sample, tmp_path):
    with sample.write() as session:
        alexis = session.scalar(select(Student).where(Student.source_id == "STU101"))
        alexis.left_on = alexis.arrived_on
    before = row_counts(sample)
    with pytest.raises(RosterError, match="élève parti de l'établissement"):
        import_preferences(sample, write(tmp_path, "STU101;1;1;P1-A01"), "P1")
    assert row_counts(sample) == before


def test_closed_campaign_writes_nothing(sample, tmp_path):
    with sample.write() as session:
        for campaign in session.scalars(select(Campaign)):
            campaign.status = CampaignStatus.CLOSED
    before = row_counts(sample)
    expected = (
        "La campagne P1, barrette A est fermée : ses vœux ne changent plus ; "
        "rouvrez-la pour importer des vœux"
    )
    with pytest.raises(CampaignError, match=f"^{re.escape(expected)}$"):
        import_preferences(sample, write(tmp_path, "STU101;1;1;P1-A01"), "P1")
    assert row_counts(sample) == before
