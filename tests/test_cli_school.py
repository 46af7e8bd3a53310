"""The set-up and import commands, through apkit.cli.main and once as a process."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from apkit.cli import main
from apkit.store import Store
from tests.conftest import ROOT, SCHOOL, new_database_url
from tests.test_school import row_counts

COMMANDS = [
    "import-school",
    "import-roster",
    "import-teachers",
    "import-preferences",
    "summary",
    "load-sample",
]


@pytest.fixture
def database(database_url):
    return database_url


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, database, *argv):
    code, out, _ = run(capsys, "--json", "--database", database, *argv)
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_in_french(capsys, command):
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert out.startswith(f"utilisation : apkit {command}")
    assert re.search(r"-h, --help +afficher cette aide et quitter", out)
    assert "show this help" not in out


def test_import_school_text(capsys, database):
    code, out, _ = run(capsys, "--database", database, "import-school", str(SCHOOL))
    assert code == 0
    assert out.splitlines() == [
        "Organisation 2025-2026 lue dans school.",
        "Ajouts : 3 barrettes, 12 classes, 27 enseignants, 5 périodes, "
        "3 campagnes, 50 ateliers.",
    ]


def test_import_school_json_twice(capsys, database):
    first = run_json(capsys, database, "import-school", str(SCHOOL))
    assert first["school_year"] == "2025-2026"
    assert first["added"]["campaigns"] == 3
    second = run_json(capsys, database, "import-school", str(SCHOOL))
    assert second["added"] == {}
    assert second["updated"] == {}


def test_import_school_error_exit_code(capsys, database, tmp_path):
    folder = tmp_path / "vide"
    folder.mkdir()
    code, out, err = run(capsys, "--database", database, "import-school", str(folder))
    assert code == 2
    assert out == ""
    assert err == (
        "apkit : vide : fichier blocks.csv manquant ; ajoutez blocks.csv au dossier "
        "(voir data/school/README.md)\n"
    )


def test_import_roster_dry_run_then_real(capsys, database):
    run_json(capsys, database, "import-school", str(SCHOOL))
    roster = str(SCHOOL / "students.csv")
    dry = run_json(capsys, database, "import-roster", roster, "--dry-run")
    assert dry["dry_run"] is True
    assert dry["counts"]["added"] == 360
    assert run_json(capsys, database, "summary")["students"] == 0
    real = run_json(capsys, database, "import-roster", roster)
    assert real["counts"]["added"] == 360
    again = run_json(capsys, database, "import-roster", roster)
    assert again["counts"]["unchanged"] == 360


def test_import_roster_unknown_class_writes_nothing(capsys, tmp_path):
    store = Store(new_database_url(tmp_path))
    database = store.url
    run_json(capsys, database, "import-school", str(SCHOOL))
    before = row_counts(store)
    path = tmp_path / "eleves.csv"
    text = (SCHOOL / "students.csv").read_text(encoding="utf-8")
    path.write_text(text.replace(";2de12;", ";2de13;"), encoding="utf-8")
    code, out, err = run(
        capsys, "--json", "--database", database, "import-roster", str(path)
    )
    assert code == 2
    assert json.loads(out)["type"] == "RosterError"
    assert "2de13" in err
    assert row_counts(store) == before
    store.dispose()


def test_import_roster_one_class(capsys, database, tmp_path):
    run_json(capsys, database, "import-school", str(SCHOOL))
    lines = (SCHOOL / "students.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].replace(";class_name", "")
    rows = [
        ";".join(r.split(";")[:3] + r.split(";")[4:]) for r in lines if ";2de5;" in r
    ]
    path = tmp_path / "liste.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run_json(
        capsys, database, "import-roster", str(path), "--class-name", "2de5"
    )
    assert result["counts"]["added"] == 29
    summary = run_json(capsys, database, "summary")
    block_b = next(b for b in summary["blocks"] if b["block"] == "B")
    assert block_b["classes"]["2de5"] == 29


def test_import_teachers_and_preferences(capsys, database):
    run_json(capsys, database, "import-school", str(SCHOOL))
    teachers = run_json(
        capsys, database, "import-teachers", str(SCHOOL / "teachers.csv")
    )
    assert len(teachers["unchanged"]) == 27
    run_json(capsys, database, "import-roster", str(SCHOOL / "students.csv"))
    code, out, _ = run(
        capsys,
        "--database",
        database,
        "import-preferences",
        str(SCHOOL / "preferences_p1.csv"),
        "--period",
        "P1",
    )
    assert code == 0
    assert out == "Vœux : 1986 lignes pour 331 élèves, 331 élèves mis à jour.\n"


def test_load_sample_and_summary(capsys, database):
    assert run_json(capsys, database, "load-sample") == {"loaded": True}
    assert run_json(capsys, database, "load-sample") == {"loaded": False}
    code, out, _ = run(capsys, "--database", database, "summary")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Élèves présents : 360 ; enseignants : 27."
    assert "  A : 118 élèves ; 2de1 (30), 2de2 (29), 2de3 (30), 2de4 (29)" in lines
    assert "  P1 Période 1 : du 15/09/2025 au 17/10/2025" in lines
    assert "  P1, barrette C : en préparation, 17 ateliers" in lines


def test_summary_json_on_both_backends(capsys, store):
    run_json(capsys, store.url, "load-sample")
    summary = run_json(capsys, store.url, "summary")
    assert [b["students"] for b in summary["blocks"]] == [118, 117, 125]
    assert summary["teachers"] == 27
    assert [p["period"] for p in summary["periods"]] == ["P1", "P2", "P3", "P4", "P5"]
    assert summary["campaigns"][0] == {
        "period": "P1",
        "block": "A",
        "status": "draft",
        "activities": 17,
    }


def test_apkit_executable(tmp_path):
    apkit = ROOT / ".venv" / "bin" / "apkit"
    database = new_database_url(tmp_path)
    loaded = subprocess.run(
        [apkit, "--json", "--database", database, "load-sample"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(loaded.stdout) == {"loaded": True}
    summary = subprocess.run(
        [apkit, "--database", database, "summary"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert summary.stdout.startswith("Élèves présents : 360 ; enseignants : 27.")


def test_import_roster_partial_file(capsys, database, tmp_path):
    run_json(capsys, database, "import-school", str(SCHOOL))
    run_json(capsys, database, "import-roster", str(SCHOOL / "students.csv"))
    lines = (SCHOOL / "students.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "deux.csv"
    two = [r for r in lines if ";2de5;" in r][:2]
    path.write_text("\n".join([lines[0], *two]) + "\n", encoding="utf-8")

    code, out, err = run(capsys, "--database", database, "import-roster", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(
        "apkit : deux.csv : 358 élèves sur 360 présents seraient marqués partis"
    )
    assert "--partial" in err and "--allow-departures" in err
    assert run_json(capsys, database, "summary")["students"] == 360

    code, out, _ = run(
        capsys, "--database", database, "import-roster", str(path), "--dry-run"
    )
    assert code == 0
    assert out.splitlines()[1] == (
        "Attention : 358 élèves sur 360 présents seraient marqués partis : "
        "la liste ne semble pas complète"
    )
    partial = run_json(capsys, database, "import-roster", str(path), "--partial")
    assert partial["counts"]["left"] == 27
    confirmed = run_json(
        capsys, database, "import-roster", str(path), "--allow-departures"
    )
    assert confirmed["counts"]["left"] == 360 - 29
    assert run_json(capsys, database, "summary")["students"] == 2


def test_import_school_damaged_workbook(capsys, database):
    path = ROOT / "tests" / "data" / "setup" / "truncated.xlsx"
    code, out, err = run(capsys, "--database", database, "import-school", str(path))
    assert (code, out) == (2, "")
    assert err == (
        "apkit : truncated.xlsx : classeur illisible : fichier abîmé ou qui n'est "
        "pas un classeur .xlsx/.ods ; enregistrez-le de nouveau depuis le tableur\n"
    )
