"""Malformed roster and set-up files: each is refused with its own message, and
nothing is written.

Every case goes through the real path a coordinator takes: ``apkit.roster.load``
then :func:`apkit.directory.import_roster`, or ``apkit.school.load_school`` then
:func:`apkit.school.import_school`, on a SQLite store holding the sample school.
The rows of every table are counted before and after. The small files live in
``tests/reliability/data/`` (written once by hand or by a short script, never
big); huge, wide and zip-bomb files are generated here in ``tmp_path``. A few
cases of ``tests/data/roster/`` and ``tests/data/setup/`` are reused by path.

"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from apkit import roster
from apkit.directory import import_roster
from apkit.errors import ApkitError, RosterError, SetupError
from apkit.model import Base, Division
from apkit.roster import detect
from apkit.roster.encoding import MAX_BYTES
from apkit.sample import ensure_sample_school
from apkit.school import import_school, load_school
from apkit.store import Store
from tests.conftest import DATA, SCHOOL, new_database_url
from tests.reliability import summary

pytestmark = pytest.mark.reliability

HERE = Path(__file__).resolve().parent / "data"
SHARED = DATA / "roster"
SETUP_FILES = ("blocks.csv", "teachers.csv", "periods.csv", "activities_p1.csv")
HEADER = "student_id;last_name;first_name;class_name;birth_date;sex"
UNKNOWN = r"classe inconnue de l'établissement \(essayé : « {0} »"
NOT_TEXT = r" : ce fichier n'est pas un fichier texte \(octets binaires\) ; exportez"
EMPTY = r" : fichier vide : aucune cellule remplie ; exportez de nouveau la liste"
WRONG_EXT = r" : le contenu ne correspond pas à l'extension \.{0} ; vérifiez que"
ENTITIES = r" : XML refusé : il déclare des entités, ce que les exports ne font pas"
BAD_DATE = r":2 : colonne « birth_date » : date illisible \(valeur : « {0} »\)"
NO_NAME_COLUMN = r" : colonne « Nom » : colonne introuvable \(colonnes trouvées : « "
DUPLICATE = r" : colonne « student_id » : identifiant déjà pris par MARTIN Léa"

# (folder, file, pinned message after the file name)
ROSTER_CASES = [
    (HERE, "billion_laughs.xml", ENTITIES),
    (HERE, "external_entity.xml", ENTITIES),
    (SHARED, "xml_entities.xml", ENTITIES),
    (HERE, "blank_sheet.xlsx", EMPTY),
    (HERE, "only_bom.csv", EMPTY),
    (HERE, "only_separators.csv", EMPTY),
    (HERE, "whitespace_only.csv", r" : fichier vide ; exportez de nouveau la liste"),
    (HERE, "empty.xml", r" : fichier vide ; exportez de nouveau la liste"),
    (SHARED, "empty.csv", r" : fichier vide ; exportez de nouveau"),
    (HERE, "date_31_02.csv", BAD_DATE.format("31/02/2010")),
    (HERE, "date_month_13.csv", BAD_DATE.format("12/13/2010")),
    (HERE, "formula_date.csv", BAD_DATE.format("=DATE\\(2010")),
    (HERE, "formula_class.csv", r":2 : CSV illisible \(';' expected after '\"'\)"),
    (HERE, "duplicate_id.xlsx", ":3" + DUPLICATE + r" à la ligne 2 \(valeur : « S001"),
    (HERE, "duplicate_id_again.csv", ":4" + DUPLICATE + r" à la ligne 2"),
    (
        HERE,
        "unknown_class.xlsx",
        ":2 : colonne « class_name » : " + UNKNOWN.format("2de42"),
    ),
    (
        HERE,
        "unknown_class_2de43.csv",
        ":2 : colonne « class_name » : " + UNKNOWN.format("2de43"),
    ),
    (
        SHARED,
        "unknown_class.csv",
        ":3 : colonne « class_name » : " + UNKNOWN.format("2de13"),
    ),
    (HERE, "nul_byte.csv", NOT_TEXT),
    (HERE, "utf32.csv", NOT_TEXT),
    (HERE, "gzip_named.csv", NOT_TEXT),
    (SHARED, "binary_named.csv", NOT_TEXT),
    (HERE, "png_named.xlsx", WRONG_EXT.format("xlsx")),
    (HERE, "random_bytes.xlsx", WRONG_EXT.format("xlsx")),
    (HERE, "text_named.xlsx", WRONG_EXT.format("xlsx")),
    (HERE, "not_xml_at_all.xml", WRONG_EXT.format("xml")),
    (SHARED, "truncated.xlsx", r" : classeur illisible ou tronqué ; ouvrez-le"),
    (SHARED, "legacy.xls", r" : format Excel 97-2003 \(\.xls\) non pris en charge"),
    (HERE, "pdf_named.csv", NO_NAME_COLUMN + "%PDF-1.4 »"),
    (HERE, "json_named.csv", NO_NAME_COLUMN + r"\[\{\"student_id\": \"S001\" »"),
    (HERE, "html_named.csv", r" : format XML inconnu \(racine html\)"),
    (
        HERE,
        "latin1_declared_utf8.xml",
        r":2 : XML mal formé ou tronqué \(not well-formed \(invalid token\)",
    ),
    (
        HERE,
        "mixed_separators.csv",
        r":2 : colonne « last_name » : ligne sans nom d'élève \(valeur : « "
        r"S001,MARTIN,Léa,2de1,12/03/2010,F;;;;; »\)",
    ),
    (
        HERE,
        "sex_unknown_z.csv",
        r":2 : colonne « sex » : sexe inconnu \(valeur : « Z »\)",
    ),
    (
        HERE,
        "empty_archive.zip",
        r" : l'archive ne contient aucun fichier \.xml \(contenu : aucun fichier\)",
    ),
    (
        HERE,
        "nested.zip",
        r" : l'archive ne contient aucun fichier \.xml \(contenu : "
        r"ElevesSansAdresses\.zip\)",
    ),
    (SHARED, "damaged.zip", r" : archive zip illisible ou tronquée ; téléchargez"),
    (
        HERE,
        "path_traversal.zip",
        # The member "../../../tmp/ElevesSansAdresses.xml" is read in memory,
        # never extracted; its pupils' class 1G4 is then unknown to the school.
        ":307 : colonne « CODE_STRUCTURE » : " + UNKNOWN.format("1G4"),
    ),
    (
        HERE,
        "absolute_member.zip",
        ":307 : colonne « CODE_STRUCTURE » : " + UNKNOWN.format("1G4"),
    ),
]

EMPTY_ROSTERS = [
    "header_only.csv",
    "header_only.xlsx",
    "dtd_only.xml",
    "truncated_utf8.csv",
]

# (case folder under data/setup, pinned SetupError message)
SETUP_CASES = [
    (
        HERE / "setup" / "period_31_02",
        r"^periods\.csv:2 : colonne « start_date » : date invalide \(valeur : « "
        r"31/02/2025 »\) ; écrivez la date au format jj/mm/aaaa",
    ),
    (
        HERE / "setup" / "capacity_formula",
        r"^activities_p1\.csv:2 : colonne « capacity » : nombre entier positif ou nul "
        r"attendu \(valeur : « =1\+1 »\)",
    ),
    (
        HERE / "setup" / "capacity_text",
        r"^activities_p1\.csv:2 : colonne « capacity » : nombre entier positif ou nul "
        r"attendu \(valeur : « dix-huit »\)",
    ),
    (
        HERE / "setup" / "slot_zero",
        r"^activities_p1\.csv:2 : colonne « slot » : heure invalide \(valeur : « 0 »\)",
    ),
    (
        HERE / "setup" / "blocks_header_only",
        r"^blocks\.csv : aucune barrette ; ajoutez une ligne par classe$",
    ),
    (
        HERE / "setup" / "class_unknown_block_sheet",
        r"^blocks\.csv:3 : colonne « class_name » : classe déjà listée A, ligne 2 "
        r"\(valeur : « 2de1 »\)",
    ),
    (
        HERE / "setup" / "activities_utf16",
        r"^activities_p1\.csv : fichier enregistré en UTF-16",
    ),
    (
        DATA / "setup" / "capacity_negative",
        r"^activities_p1\.csv:\d+ : colonne « capacity »",
    ),
    (DATA / "setup" / "unknown_block", r"^activities_p1\.csv:\d+ : colonne « block »"),
]

# (case folder under data/setup, pinned SetupError message): bytes that are no CSV
SETUP_BYTES_CASES = [
    ("blocks_binary", r"^blocks\.csv(:\d+)? : fichier binaire ou abîmé"),
    ("periods_empty", r"^periods\.csv : fichier vide"),
    ("teachers_nul_byte", r"^teachers\.csv:\d+ : fichier binaire ou abîmé"),
]


@pytest.fixture(scope="module")
def school_store(tmp_path_factory):
    store = Store(new_database_url(tmp_path_factory.mktemp("bad")))
    ensure_sample_school(store)
    yield store
    store.dispose()


def row_counts(store: Store) -> dict[str, int]:
    """Count the rows of every table of the model."""
    with store.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def school_classes(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(Division.name)))


def import_file(store: Store, path: Path) -> None:
    """Load a roster file against the school's classes and import it."""
    students = roster.load(path, classes=school_classes(store))
    import_roster(store, students, actor="coordinateur")


def assert_rejected(store: Store, path: Path, error: type, message: str) -> ApkitError:
    before = row_counts(store)
    with pytest.raises(error, match=message) as caught:
        import_file(store, path)
    assert row_counts(store) == before
    assert before["students"] > 0
    summary.add("bad input", files_rejected=1)
    return caught.value


@pytest.mark.parametrize(
    ("folder", "name", "message"),
    ROSTER_CASES,
    ids=[f"{case[0].name}/{case[1]}" for case in ROSTER_CASES],
)
def test_bad_roster_rejected(school_store, folder, name, message):
    error = assert_rejected(
        school_store,
        folder / name,
        RosterError,
        "^" + name.replace(".", r"\.") + message,
    )
    assert error.path == folder / name


def test_utf16_roster_without_bom_read():
    # Once refused as binary, this file is UTF-16 text whose BOM was lost.
    loaded = roster.load(HERE / "utf16_no_bom.csv", classes=["2de1", "2de2"])
    columns = ["last_name", "first_name", "class_name"]
    assert loaded.students[columns].values.tolist() == [
        ["MARTIN", "Léa", "2de1"],
        ["ROUX", "Hugo", "2de2"],
    ]


@pytest.mark.parametrize("name", EMPTY_ROSTERS)
def test_empty_roster_rejected(school_store, name):
    # A full import of an empty roster would mark the whole school as left.
    assert_rejected(
        school_store, HERE / name, RosterError, "^" + re.escape(name) + " : aucun élève"
    )


def test_huge_roster_rejected(school_store, tmp_path):
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)
    assert_rejected(
        school_store,
        huge,
        RosterError,
        r"^huge\.csv : fichier trop volumineux pour une liste d'élèves \(52 Mo",
    )


def test_zip_bomb_rejected(school_store, tmp_path, monkeypatch):
    # The real limit is 500 MiB; a 4 MiB bomb against a 1 MiB limit exercises
    # the same check without spending a minute compressing zeros.
    monkeypatch.setattr(detect, "MAX_UNPACKED_BYTES", 1024 * 1024)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ElevesSansAdresses.xml", b"\0" * (4 * 1024 * 1024))
    assert bomb.stat().st_size < 50_000
    assert_rejected(
        school_store,
        bomb,
        RosterError,
        r"^bomb\.zip : archive trop volumineuse une fois décompressée \(4 Mo, "
        r"maximum 1 Mo\)",
    )


def test_zip_many_members_rejected(school_store, tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for number in range(5000):
            archive.writestr(f"m{number}.txt", b"")
    error = assert_rejected(
        school_store,
        many,
        RosterError,
        r"^many\.zip : l'archive ne contient aucun fichier \.xml \(contenu : m0\.txt, ",
    )
    assert "m4999.txt" in str(error)  # finding: the message lists all 5000 names


def test_wide_roster_rejected_by_class(school_store, tmp_path):
    # Extra columns are ignored, not refused: the roster still reads one pupil,
    # and the wide file is refused at import for the class it names. Reading
    # 100,000 columns takes 40 s to 2 min here, so the default run uses 20,000.
    wide = tmp_path / "wide.csv"
    extra = ";".join(f"c{i}" for i in range(100_000 if summary.full_run() else 20_000))
    wide.write_text(f"{HEADER};{extra}\nS001;MARTIN;Léa;2de43;12/03/2010;F\n")
    assert_rejected(
        school_store,
        wide,
        RosterError,
        r"^wide\.csv:2 : colonne « class_name » : " + UNKNOWN.format("2de43"),
    )


def setup_folder(tmp_path: Path, case: Path) -> Path:
    """Copy the sample set-up into tmp_path, with the files of one case over it."""
    folder = tmp_path / "setup"
    folder.mkdir()
    for name in SETUP_FILES:
        shutil.copy(SCHOOL / name, folder / name)
    for path in case.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize(
    ("case", "message"),
    SETUP_CASES,
    ids=[f"{case[0].parent.parent.name}/{case[0].name}" for case in SETUP_CASES],
)
def test_bad_setup_rejected(school_store, tmp_path, case, message):
    before = row_counts(school_store)
    with pytest.raises(SetupError, match=message):
        import_school(
            school_store, load_school(setup_folder(tmp_path, case)), actor="c"
        )
    assert row_counts(school_store) == before
    summary.add("bad input", files_rejected=1)


@pytest.mark.parametrize(("case", "message"), SETUP_BYTES_CASES)
def test_bad_setup_bytes_rejected(school_store, tmp_path, case, message):
    before = row_counts(school_store)
    with pytest.raises(SetupError, match=message):
        setup = load_school(setup_folder(tmp_path, HERE / "setup" / case))
        import_school(school_store, setup, actor="c")
    assert row_counts(school_store) == before
    summary.add("bad input", files_rejected=1)
