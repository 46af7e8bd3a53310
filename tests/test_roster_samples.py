"""Every sample in tests/data/formats loads exactly as expected.json describes.

Each entry's rows are compared one by one, in file order. A row's
``nom``/``prenom``/``naissance``/``classe``/``sexe`` are compared only when the
file holds that fact: a WIMS class file has no birth date, sex or division,
and a teacher's spreadsheet has no sex column (expected.json still gives the
person's canonical identity for cross-file matching, which the spreadsheet
test checks through folded names).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from apkit.names import name_key
from apkit.roster import load, load_teachers
from tests.conftest import FORMATS

EXPECTED = json.loads((FORMATS / "expected.json").read_text(encoding="utf-8"))
SCHOOL_CLASSES = ["205", "1G4", "TG3"]

STUDENT_FILES = [
    name
    for name, entry in EXPECTED.items()
    if entry.get("students") and "sheets" not in entry
]
SHEET_FILES = [name for name, entry in EXPECTED.items() if "sheets" in entry]
SPREADSHEET_FILES = {"tableur/liste_2nde5_prof_enregistre_csv_excel.csv"}

# Facts that a format does not carry, so the loader cannot return them.
NOT_IN_FILE = {
    "wims/wims_import_depuis_pronote2wims_205.csv": {"naissance", "sexe"},
    "wims/wims_export_classe_spe_maths.csv": {"naissance", "sexe"},
}
# Names of excluded pupils, read from the SIECLE files (expected.json gives keys).
EXCLUDED_NAMES = {"E17": "HÅKANSSON Elias", "E22": "KANTÉ Adama"}
EXCLUDED_REASONS = {
    "DATE_SORTIE": (
        r"^a quitté l'établissement le 07/11/2025 \(encore rattaché à 1G4\)$"
    ),
    "no STRUCTURES_ELEVE": r"^aucune structure : pas encore affecté à une classe ; "
    r"pas de CODE_SEXE non plus$",
    "empty row": r"^ligne vide$",
    "footer": r"^pied de tableau \(total ou moyenne\), pas un élève$",
}
# Rows that are no pupil and that expected.json describes in its notes only.
STRUCTURAL_DROPS = {
    "wims/wims_export_classe_spe_maths.csv": {
        2: "ligne de description des champs (export WIMS)",
        3: "ligne vide",
    },
}
EXTRA_FIELDS = {
    "ine": "ine",
    "groupes": "groups",
    "login": "login",
    "nom_usage": "usage_name",
    "prenoms": "first_names",
    "naissance_brute": "raw_birth_date",
    "sexe_brut": "raw_sex",
}


def expected_students(name: str) -> list[dict]:
    rows = EXPECTED[name]["students"]
    if len(rows) == 1 and "same_as" in rows[0]:
        return EXPECTED[rows[0]["same_as"]]["students"]
    return rows


def siecle_identity() -> dict[str, dict]:
    """Return the canonical SIECLE rows by key, to match spreadsheet rows to."""
    return {
        row["key"]: row for row in EXPECTED["siecle/ElevesSansAdresses.xml"]["students"]
    }


def assert_identity(row, wanted: dict, skipped: set[str], where: str) -> None:
    assert row.last_name == wanted["nom"], where
    assert row.first_name == wanted["prenom"], where
    if "naissance" not in skipped:
        assert row.birth_date == dt.date.fromisoformat(wanted["naissance"]), where
    if "sexe" not in skipped:
        assert row.sex == wanted["sexe"], where
    assert row.class_name == wanted["classe"], where


def assert_extras(row, wanted: dict, where: str) -> None:
    for key, column in EXTRA_FIELDS.items():
        if key in wanted:
            assert row[column] == wanted[key], f"{where}: {key}"
    if "average0" in wanted:
        assert row.extra["average0"] == wanted["average0"], where
    if "classe_source" in wanted:
        assert row.class_source == "file_name", where


@pytest.mark.parametrize("name", STUDENT_FILES)
def test_sample_students_row_by_row(name):
    roster = load(FORMATS / name, classes=SCHOOL_CLASSES)

    wanted_rows = expected_students(name)
    rows = list(roster.students.itertuples(index=False))
    assert len(rows) == len(wanted_rows)
    skipped = NOT_IN_FILE.get(name, set())
    for row, wanted in zip(
        roster.students.to_dict("records"), wanted_rows, strict=True
    ):
        where = f"{name} {wanted['key']}"
        row = _Row(row)
        if name in SPREADSHEET_FILES:
            assert_sheet_row(row, wanted, where)
            continue
        assert_identity(row, wanted, skipped, where)
        assert_extras(row, wanted, where)
        assert row.student_id, where
    assert roster.students.student_id.is_unique


def expected_excluded(name: str) -> list[tuple[str, str]]:
    """Return (dropped text, reason pattern) pairs; a copy shares its source's."""
    rows = EXPECTED[name]["students"]
    if len(rows) == 1 and "same_as" in rows[0]:
        name = rows[0]["same_as"]
    found = []
    for excluded in EXPECTED[name].get("excluded", []):
        pattern = next(
            pattern
            for marker, pattern in EXCLUDED_REASONS.items()
            if excluded["reason"].startswith(marker)
        )
        if "key" in excluded:
            text = EXCLUDED_NAMES[excluded["key"]]
        else:
            text = excluded["row"].strip("'")
        found.append((text, pattern))
    return found


@pytest.mark.parametrize("name", STUDENT_FILES)
def test_sample_excluded_rows_dropped(name):
    roster = load(FORMATS / name, classes=SCHOOL_CLASSES)

    dropped = roster.dropped.to_dict("records")
    structural = STRUCTURAL_DROPS.get(name, {})
    assert {d["line"]: d["reason"] for d in dropped if d["line"] in structural} == (
        structural
    )
    pupils = [drop for drop in dropped if drop["line"] not in structural]
    wanted = expected_excluded(name)
    if name not in SPREADSHEET_FILES:
        assert len(pupils) == len(wanted), pupils
    for text, pattern in wanted:
        matches = [drop for drop in dropped if drop["text"] == text]
        assert len(matches) == 1, f"{name}: {text}"
        assert re.search(pattern, matches[0]["reason"]), matches[0]["reason"]


def assert_sheet_row(row, wanted: dict, where: str) -> None:
    identity = siecle_identity()[wanted["key"]]
    assert wanted["nom"] == identity["nom"], where
    if "texte_prenom" in wanted:
        assert row.last_name == wanted["texte_nom"].strip(), where
        assert row.first_name == wanted["texte_prenom"], where
    else:
        assert row.raw_name == wanted["texte_nom"], where
    assert row.raw_class == wanted["texte_classe"], where
    assert row.class_name == wanted["classe"], where
    assert row.birth_date == dt.date.fromisoformat(wanted["naissance"]), where
    known_keys = {
        name_key(identity["nom"], identity["prenom"]),
        name_key(identity["nom_usage"] or identity["nom"], identity["prenom"]),
    }
    assert name_key(row.last_name, row.first_name) in known_keys, where


@pytest.mark.parametrize("name", SHEET_FILES)
def test_sample_workbook_sheets_row_by_row(name):
    roster = load(FORMATS / name, classes=SCHOOL_CLASSES)

    sheets = EXPECTED[name]["sheets"]
    student_sheets = {
        sheet: rows for sheet, rows in sheets.items() if isinstance(rows, list)
    }
    assert set(roster.students.sheet) == set(student_sheets)
    for sheet, wanted_rows in student_sheets.items():
        rows = roster.students[roster.students.sheet == sheet].to_dict("records")
        assert len(rows) == len(wanted_rows), sheet
        for row, wanted in zip(rows, wanted_rows, strict=True):
            assert_sheet_row(_Row(row), wanted, f"{name} {sheet} {wanted['key']}")
    assert "feuille « Activités » ignorée : pas une liste d'élèves" in roster.warnings


@pytest.mark.parametrize("name", SHEET_FILES + sorted(SPREADSHEET_FILES))
def test_sample_workbook_drops_blank_and_footer_rows(name):
    roster = load(FORMATS / name, classes=SCHOOL_CLASSES)

    dropped = roster.dropped[roster.dropped.sheet.isin(["2nde 5", None])]
    reasons = dict(zip(dropped.line, dropped.reason, strict=True))
    assert reasons == {
        11: "ligne vide",
        16: "ligne vide",
        17: "pied de tableau (total ou moyenne), pas un élève",
    }
    assert "classe « Seconde 5 » lue comme « 205 »" in roster.warnings


def test_sample_sts_teachers_row_by_row():
    name = "stsweb/sts_emp_0999996W_2025.xml"

    roster = load_teachers(FORMATS / name)

    wanted_rows = EXPECTED[name]["teachers"]
    rows = roster.teachers.to_dict("records")
    assert roster.format == "sts-xml"
    assert len(rows) == len(wanted_rows)
    for row, wanted in zip(rows, wanted_rows, strict=True):
        where = wanted["id"]
        assert row["teacher_id"] == wanted["id"], where
        assert row["type"] == wanted["type"], where
        assert row["last_name"] == wanted["nom"], where
        assert row["birth_name"] == wanted["nom_patronymique"], where
        assert row["first_name"] == wanted["prenom"], where
        born = wanted["naissance"]
        assert row["birth_date"] == (dt.date.fromisoformat(born) if born else None), (
            where
        )
        assert row["function"] == wanted["fonction"], where
        assert row["discipline"] == wanted["discipline"], where
        assert row["main_teacher_of"] == wanted["prof_principal"], where
    assert roster.school == {"uai": "0999996W", "school_year": "2025"}


def test_sample_sts_teacher_services():
    roster = load_teachers(FORMATS / "stsweb/sts_emp_0999996W_2025.xml")

    teachers = roster.teachers.set_index("teacher_id")
    subjects = ["ACCOMPAGNEMENT PERSONNALISE", "MATHEMATIQUES"]
    assert teachers.loc["41101", "subjects"] == subjects
    assert teachers.loc["41101", "classes"] == ["205", "AP 205 GR2", "TMATHS"]
    assert "AP 205 GR2" in teachers.loc["41102", "classes"]
    assert "1MATHS-G2" in teachers.loc["41103", "classes"]
    assert "1MATHS-G2" in teachers.loc["90017", "classes"]
    assert teachers.loc["41111", "subjects"] == []
    assert teachers.loc["41111", "classes"] == []
    assert teachers.loc["90017", "birth_date"] is None
    assert teachers.loc["41101", "sex"] == "F"


def test_sample_ent_teachers_count():
    name = "ent/opendigitaleducation_Teacher.csv"

    roster = load_teachers(FORMATS / name)

    teachers = roster.teachers
    assert roster.format == "ent-csv"
    assert len(teachers) == EXPECTED[name]["teachers"]
    first = teachers.iloc[0]
    assert first.last_name == "LEMAIRE-TOURÉ"
    assert first.first_name == "Nadège"
    assert first.birth_date == dt.date(1980, 10, 3)
    assert first.classes == ["205", "TG3"]
    assert first.subjects == ["MATHEMATIQUES"]
    assert first.main_teacher_of == ["205"]


def test_sample_formats_detected():
    formats = {
        name: load(FORMATS / name, classes=SCHOOL_CLASSES).format
        for name in STUDENT_FILES + SHEET_FILES
    }

    assert formats == {
        "siecle/ElevesSansAdresses.xml": "siecle-xml",
        "siecle/ExportXML_ElevesSansAdresses.zip": "siecle-xml",
        "siecle/ElevesSansAdresses_format_avant_2016.xml": "siecle-xml",
        "siecle/ElevesSansAdresses_reenregistre_utf8_bom.xml": "siecle-xml",
        "siecle/EXP_Liste_des_eleves_par_division.csv": "siecle-csv",
        "edt/EXP_ELEVE.xml": "edt-xml",
        "pronote/pronote_liste_eleves_205.csv": "pronote-csv",
        "pronote/pronote_liste_eleves_205_resave_excel.csv": "pronote-csv",
        "wims/wims_import_depuis_pronote2wims_205.csv": "wims-csv",
        "wims/wims_export_classe_spe_maths.csv": "wims-csv",
        "ent/opendigitaleducation_Student.csv": "ent-csv",
        "ent/aaf/ENT_0999996W_Complet_20250915_Eleve_0000.xml": "aaf-xml",
        "tableur/liste_2nde5_prof_enregistre_csv_excel.csv": "csv",
        "tableur/liste_2nde5_prof.xlsx": "xlsx",
        "tableur/liste_2nde5_prof.ods": "ods",
    }


class _Row(dict):
    """A record whose fields read as attributes, for short asserts."""

    __getattr__ = dict.__getitem__
