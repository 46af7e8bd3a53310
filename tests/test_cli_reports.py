"""The ``apkit list``, ``workbook``, ``attendance`` and ``charts`` commands."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pypdf
import pytest

from apkit import reports
from apkit.cli import main
from tests.report_school import FORMULA_LAST, SCRIPT_TITLE, build_report_school


@pytest.fixture
def school(database_store):
    build_report_school(database_store)
    return database_store


def _run(store, capsys, *argv: str) -> dict:
    code = main(["--database", store.url, "--json", *argv])
    output = capsys.readouterr().out
    assert code == 0, output
    return json.loads(output)


def _read_csv(path):
    return pd.read_csv(
        path, encoding="utf-8-sig", sep=";", dtype=str, keep_default_na=False
    )


def test_list_activity_csv(school, capsys, tmp_path):
    result = _run(
        school,
        capsys,
        "list",
        "activity",
        "A3",
        "--period",
        "P1",
        "--output",
        str(tmp_path),
    )
    path = tmp_path / "P1_A3_Projet_radio_script_alert_1_script.csv"
    assert result == {"files": [str(path.resolve())], "rows": 2}
    assert _read_csv(path).values.tolist() == [
        ["D'ALMEIDA", "Inès", "2de1", "1 et 2"],
        ["ÉLUARD", "Paul", "2de2", "1 et 2"],
    ]


def test_list_teacher_xlsx(school, capsys, tmp_path):
    result = _run(
        school,
        capsys,
        "list",
        "teacher",
        "T1",
        "--period",
        "P1",
        "--format",
        "xlsx",
        "--output",
        str(tmp_path),
    )
    path = tmp_path / "P1_BERGER_Celine.xlsx"
    assert result["files"] == [str(path.resolve())]
    sheet = openpyxl.load_workbook(path)["BERGER Céline"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Barrette",
        "Heure",
        "Atelier",
        "Salle",
        "Nom",
        "Prénom",
        "Classe",
    )
    assert rows[1] == ("A", 1, "Méthodologie", "A101", FORMULA_LAST, "Jean-Luc", "2de1")
    assert len(rows) == 8


def test_list_class_block_unplaced_history(school, capsys, tmp_path):
    folder = tmp_path / "listes"
    out = str(folder)
    _run(school, capsys, "list", "class", "2de2", "--period", "P1", "--output", out)
    _run(school, capsys, "list", "block", "A", "--period", "P1", "--output", out)
    _run(school, capsys, "list", "unplaced", "--period", "P1", "--output", out)
    _run(school, capsys, "list", "history", "--output", out)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "P1_barrette_A.csv",
        "P1_classe_2de2.csv",
        "P1_non_inscrits.csv",
        "historique_2025-2026.csv",
    ]
    history = _read_csv(folder / "historique_2025-2026.csv")
    expected = reports.student_history_table(school)
    assert list(history.columns) == list(expected.columns)
    assert history["Nom"].tolist()[:3] == ["'-x", "'" + FORMULA_LAST, "D'ALMEIDA"]
    unplaced = _read_csv(folder / "P1_non_inscrits.csv")
    assert unplaced["Nom"].tolist() == [
        "DE LA CRUZ",
        "DESCŒURS",
        "'" + FORMULA_LAST,
        "DE LA CRUZ",
        "DESCŒURS",
        "ZOLA",
    ]


def test_workbook_command(school, capsys, tmp_path):
    path = tmp_path / "classeur.xlsx"
    result = _run(school, capsys, "workbook", "--period", "P1", "--output", str(path))
    assert result == {"files": [str(path)]}
    assert "A - heure 2" in openpyxl.load_workbook(path).sheetnames


def test_attendance_command(school, capsys, tmp_path):
    result = _run(
        school,
        capsys,
        "attendance",
        "--period",
        "P1",
        "--teacher",
        "T3",
        "--output",
        str(tmp_path),
    )
    path = tmp_path / "emargement_P1_DE_LA_CRUZ_Ana.pdf"
    assert result == {"files": [str(path.resolve())], "groups": 1}
    text = pypdf.PdfReader(path).pages[0].extract_text()
    assert f"Atelier : {SCRIPT_TITLE} (A3)" in text


def test_charts_command(school, capsys, tmp_path):
    result = _run(
        school,
        capsys,
        "charts",
        "--period",
        "P1",
        "--format",
        "svg",
        "--student",
        "S-dupont",
        "--output",
        str(tmp_path),
    )
    names = [p.rsplit("/", 1)[1] for p in result["files"]]
    assert names == [
        "remplissage_P1_A.svg",
        "demande_P1_A.svg",
        "barrettes_P1.svg",
        "satisfaction_P1.svg",
        "non_inscrits_P1.svg",
        "parcours_DUPONT_Emile.svg",
    ]
    assert all(
        (tmp_path / name).read_text().lstrip().startswith("<?xml") for name in names
    )


def test_list_unknown_activity(school, capsys, tmp_path):
    code = main(
        [
            "--database",
            school.url,
            "list",
            "activity",
            "ZZ",
            "--period",
            "P1",
            "--output",
            str(tmp_path / "listes"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "Atelier « ZZ » introuvable dans la période P1" in captured.err
    assert not (tmp_path / "listes").exists()


def test_charts_unknown_student(school, capsys, tmp_path):
    code = main(
        [
            "--database",
            school.url,
            "charts",
            "--period",
            "P1",
            "--student",
            "S-personne",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "Élève « S-personne » introuvable" in capsys.readouterr().err
