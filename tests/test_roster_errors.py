"""Malformed roster files: each raises RosterError saying where, what and what to do.

The fixtures in tests/data/roster are named by case. Messages are pinned, and
the error's attributes (path, line, column, value) are checked too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from apkit.errors import RosterError
from apkit.roster import load, load_teachers
from apkit.roster.encoding import MAX_BYTES, decode_text, utf16_byte_order
from tests.conftest import DATA, FORMATS

BAD = DATA / "roster"
SCHOOL_CLASSES = ["2de1", "2de2"]

# (file, load keywords, pinned message, line, column, value)
STUDENT_CASES = [
    (
        "empty.csv",
        {},
        r"^empty\.csv : fichier vide ; exportez de nouveau",
        None,
        None,
        None,
    ),
    (
        "blank_lines_only.csv",
        {},
        r"^blank_lines_only\.csv : fichier vide : aucune cellule remplie ; exportez",
        None,
        None,
        None,
    ),
    (
        "empty.xlsx",
        {},
        r"^empty\.xlsx : fichier vide : aucune cellule remplie",
        None,
        None,
        None,
    ),
    (
        "binary_named.csv",
        {},
        r"^binary_named\.csv : ce fichier n'est pas un fichier texte \(octets "
        r"binaires\) ; exportez la liste en CSV, XLSX ou ODS",
        None,
        None,
        None,
    ),
    (
        "legacy.xls",
        {},
        r"^legacy\.xls : format Excel 97-2003 \(\.xls\) non pris en charge ; "
        r"ouvrez-le dans un tableur et enregistrez-le en \.xlsx",
        None,
        None,
        None,
    ),
    (
        "truncated.xlsx",
        {},
        r"^truncated\.xlsx : classeur illisible ou tronqué ; ouvrez-le dans un "
        r"tableur et enregistrez-le de nouveau$",
        None,
        None,
        None,
    ),
    (
        "truncated.xml",
        {},
        r"^truncated\.xml:376 : XML mal formé ou tronqué \(unclosed token: line 376, "
        r"column 39\) ; téléchargez de nouveau l'export",
        376,
        None,
        None,
    ),
    (
        "zip_without_xml.zip",
        {},
        r"^zip_without_xml\.zip : l'archive ne contient aucun fichier \.xml \(contenu "
        r": LISEZMOI\.txt\) ; indiquez l'archive ElevesSansAdresses\.zip",
        None,
        None,
        None,
    ),
    (
        "damaged.zip",
        {},
        r"^damaged\.zip : archive zip illisible ou tronquée ; téléchargez de nouveau",
        None,
        None,
        None,
    ),
    (
        "siecle_empty_member.zip",
        {},
        r"^siecle_empty_member\.zip : le fichier XML de l'archive est vide",
        None,
        None,
        None,
    ),
    (
        "unknown_class.csv",
        {"classes": SCHOOL_CLASSES},
        r"^unknown_class\.csv:3 : colonne « class_name » : classe inconnue de "
        r"l'établissement \(essayé : « 2de13 », « 2de13 » sans casse ni espaces, "
        r"niveau 2, numéro 13 ; classes connues : 2de1, 2de2\) \(valeur : « 2de13 »\) "
        r"; corrigez la ligne ou ajoutez la classe",
        3,
        "class_name",
        "2de13",
    ),
    (
        "ambiguous_class.csv",
        {"classes": ["205", "2de5"]},
        r"^ambiguous_class\.csv:2 : colonne « class_name » : classe ambiguë : elle "
        r"peut désigner 205, 2de5 \(valeur : « Seconde 5 »\) ; écrivez la classe comme",
        2,
        "class_name",
        "Seconde 5",
    ),
    (
        "duplicate_id.csv",
        {},
        r"^duplicate_id\.csv:4 : colonne « student_id » : identifiant déjà pris par "
        r"MARTIN Léa à la ligne 2 \(valeur : « S001 »\) ; supprimez la ligne en double",
        4,
        "student_id",
        "S001",
    ),
    (
        "duplicate_pupil.csv",
        {},
        r"^duplicate_pupil\.csv:4 : même nom, prénom et date de naissance qu'à la "
        r"ligne 2 \(valeur : « martin-lea-2010-03-12 »\) ; supprimez la ligne en "
        r"double",
        4,
        None,
        "martin-lea-2010-03-12",
    ),
    (
        "missing_column.csv",
        {},
        r"^missing_column\.csv:1 : colonne « Prénom » : colonne introuvable "
        r"\(colonnes trouvées : « Nom », « Classe », « Date de naissance », « Sexe "
        r"»\) ; renommez la colonne ou passez mapping=\{'votre en-tête': "
        r"'first_name'\}$",
        1,
        "Prénom",
        None,
    ),
    (
        "no_header.csv",
        {},
        r"^no_header\.csv : colonne « Nom » : colonne introuvable \(colonnes trouvées "
        r": « MARTIN », « Léa », « 2de1 », « 12/03/2010 »\) ; renommez la colonne",
        None,
        "Nom",
        None,
    ),
    (
        "no_class.csv",
        {},
        r"^no_class\.csv : aucune colonne de classe, et le nom du fichier n'indique "
        r"pas la classe ; ajoutez une colonne « Classe ».* ou passez class_name='205'$",
        None,
        None,
        None,
    ),
    (
        "unreadable_date.csv",
        {},
        r"^unreadable_date\.csv:3 : colonne « birth_date » : date illisible \(valeur "
        r": « 31/02/2010 »\) ; écrivez la date sous la forme jj/mm/aaaa \(ou chargez "
        r"avec on_bad_rows='warn' ou 'skip'\)$",
        3,
        "birth_date",
        "31/02/2010",
    ),
    (
        "unreadable_date.xlsx",
        {},
        r"^unreadable_date\.xlsx:3 : colonne « Date de naissance » : date illisible "
        r"\(valeur : « le 5 juin »\)",
        3,
        "Date de naissance",
        "le 5 juin",
    ),
    (
        "unknown_sex.csv",
        {},
        r"^unknown_sex\.csv:3 : colonne « sex » : sexe inconnu \(valeur : « X »\) ; "
        r"écrivez F ou M",
        3,
        "sex",
        "X",
    ),
    (
        "row_without_name.csv",
        {},
        r"^row_without_name\.csv:3 : colonne « last_name » : ligne sans nom d'élève "
        r"\(valeur : « S002;;;2de1;05/06/2010;M »\) ; complétez le nom ou supprimez",
        3,
        "last_name",
        "S002;;;2de1;05/06/2010;M",
    ),
    (
        "unclosed_quote.csv",
        {},
        r"^unclosed_quote\.csv:2 : CSV illisible \(unexpected end of data\) ; "
        r"vérifiez les guillemets de cette ligne$",
        2,
        None,
        None,
    ),
    (
        "wrong_extension.xml",
        {},
        r"^wrong_extension\.xml : le contenu ne correspond pas à l'extension \.xml ; "
        r"vérifiez que le fichier n'est pas abîmé ou mal renommé$",
        None,
        None,
        None,
    ),
    (
        "unknown_root.xml",
        {},
        r"^unknown_root\.xml : format XML inconnu \(racine CARNET\) \(valeur : « "
        r"CARNET »\) ; formats lus : SIECLE ElevesSansAdresses\.xml",
        None,
        None,
        "CARNET",
    ),
    (
        "xml_entities.xml",
        {},
        r"^xml_entities\.xml : XML refusé : il déclare des entités",
        None,
        None,
        None,
    ),
    (
        "wrong_root_sts.xml",
        {},
        r"^wrong_root_sts\.xml : c'est l'export EDT vers STS \(racine EDT_STS\), sans "
        r"liste d'élèves \(valeur : « EDT_STS »\) ; exportez les élèves de SIECLE",
        None,
        None,
        "EDT_STS",
    ),
    (
        "siecle_without_eleve_id.xml",
        {},
        r"^siecle_without_eleve_id\.xml:16 : colonne « ELEVE_ID » : élève sans "
        r"attribut ELEVE_ID \(valeur : « ROUX Hugo »\) ; utilisez l'export SIECLE",
        16,
        "ELEVE_ID",
        "ROUX Hugo",
    ),
    (
        "siecle_unreadable_date.xml",
        {},
        r"^siecle_unreadable_date\.xml:16 : colonne « DATE_NAISS » : date illisible "
        r"\(valeur : « 2010-13-45 »\)",
        16,
        "DATE_NAISS",
        "2010-13-45",
    ),
    (
        "siecle_unknown_sex.xml",
        {},
        r"^siecle_unknown_sex\.xml:10 : colonne « CODE_SEXE » : sexe inconnu \(valeur "
        r": « 3 »\)",
        10,
        "CODE_SEXE",
        "3",
    ),
    (
        "siecle_unknown_class.xml",
        {"classes": SCHOOL_CLASSES},
        r"^siecle_unknown_class\.xml:10 : colonne « CODE_STRUCTURE » : classe "
        r"inconnue de l'établissement \(essayé : « 2DE 14 », « 2de14 » sans casse ni "
        r"espaces, niveau 2, numéro 14 ; classes connues : 2de1, 2de2\)",
        10,
        "CODE_STRUCTURE",
        "2DE 14",
    ),
]


@pytest.mark.parametrize(
    ("name", "options", "message", "line", "column", "value"),
    STUDENT_CASES,
    ids=[case[0] for case in STUDENT_CASES],
)
def test_load_bad_file_rejected(name, options, message, line, column, value):
    with pytest.raises(RosterError, match=message) as caught:
        load(BAD / name, **options)

    error = caught.value
    assert error.path == BAD / name
    assert error.line == line
    assert error.column == column
    assert error.value == value
    assert error.hint


TEACHER_CASES = [
    (
        "wrong_root_sts.xml",
        r"^wrong_root_sts\.xml : c'est l'export EDT vers STS \(racine EDT_STS\), pas "
        r"l'export STS-Web des emplois du temps \(valeur : « EDT_STS »\) ; dans "
        r"STS-Web, menu Mise à jour > Exports > Emplois du temps, téléchargez "
        r"sts_emp_<UAI>_<année>\.xml$",
        None,
        None,
    ),
    (
        "teachers_missing_column.csv",
        r"^teachers_missing_column\.csv:1 : colonne « Prénom » : colonne introuvable "
        r"\(colonnes trouvées : « teacher_id », « last_name », « email »\)",
        1,
        "Prénom",
    ),
    (
        "students_as_teachers.csv",
        r"^students_as_teachers\.csv:1 : colonne « DIV\. » : ce fichier semble lister "
        r"des élèves \(colonne « DIV\. »\), pas des enseignants ; chargez-le avec "
        r"apkit\.roster\.load$",
        1,
        "DIV.",
    ),
]


@pytest.mark.parametrize(
    ("name", "message", "line", "column"),
    TEACHER_CASES,
    ids=[case[0] for case in TEACHER_CASES],
)
def test_load_teachers_bad_file_rejected(name, message, line, column):
    with pytest.raises(RosterError, match=message) as caught:
        load_teachers(BAD / name)

    assert caught.value.path == BAD / name
    assert caught.value.line == line
    assert caught.value.column == column


def test_load_teachers_rejects_student_export():
    with pytest.raises(
        RosterError,
        match=r"^ElevesSansAdresses\.xml : ce fichier liste des élèves \(racine "
        r"BEE_ELEVES\), pas des enseignants",
    ):
        load_teachers(FORMATS / "siecle/ElevesSansAdresses.xml")


def test_load_rejects_course_export():
    with pytest.raises(
        RosterError,
        match=r"^EXP_COURS\.xml : c'est l'export EDT des cours \(EXP_COURS\), pas "
        r"celui des élèves ; dans EDT, exportez le type de données « Élèves » en XML$",
    ):
        load(FORMATS / "edt/EXP_COURS.xml")


def test_load_rejects_nomenclature_file():
    with pytest.raises(
        RosterError,
        match=r"^Nomenclature\.xml : c'est le fichier Nomenclature\.xml de SIECLE, "
        r"sans liste d'élèves .*; chargez ElevesSansAdresses\.xml et passez ce "
        r"fichier en nomenclature=$",
    ):
        load(FORMATS / "siecle/Nomenclature.xml")


def test_load_huge_file_rejected_before_reading(tmp_path):
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)

    with pytest.raises(
        RosterError,
        match=r"^huge\.csv : fichier trop volumineux pour une liste d'élèves \(52 Mo, "
        r"maximum 52 Mo\) ; vérifiez que c'est bien l'export",
    ) as caught:
        load(huge)

    assert caught.value.path == huge


def test_load_missing_file_rejected(tmp_path):
    with pytest.raises(
        RosterError,
        match=r"^absent\.csv : fichier introuvable ; vérifiez le chemin",
    ):
        load(tmp_path / "absent.csv")


def test_load_folder_rejected(tmp_path):
    with pytest.raises(RosterError, match=r"ce chemin est un dossier, pas un fichier"):
        load(tmp_path)


def test_load_unknown_mapping_field_rejected():
    with pytest.raises(
        RosterError,
        match=r"^champ inconnu dans mapping : surname \(valeur : « surname »\) ; "
        r"choisissez parmi : student_id, ine",
    ):
        load(BAD / "missing_column.csv", mapping={"Nom": "surname"})


UNICODE_TEXT = (
    "student_id\tlast_name\tfirst_name\tclass_name\tbirth_date\r\n"
    "S1\tÉLOÏSE\tLéa\t2de1\t17/04/2010\r\n"
    "S2\tCŒUR\tPaul\t2de2\t01/01/2010\r\n"
)


@pytest.mark.parametrize(
    "data",
    [UNICODE_TEXT.encode("utf-16-le"), UNICODE_TEXT.encode("utf-16-be")],
    ids=["little-endian", "big-endian"],
)
def test_load_utf16_text_with_bom(tmp_path, data):
    # Excel's « Texte Unicode »: UTF-16 with a BOM, tab-separated.
    bom = b"\xff\xfe" if data[0] else b"\xfe\xff"
    path = tmp_path / "eleves.txt"
    path.write_bytes(bom + data)
    loaded = load(path, classes=SCHOOL_CLASSES)
    students = loaded.students
    assert students["last_name"].tolist() == ["ÉLOÏSE", "CŒUR"]
    assert students["class_name"].tolist() == ["2de1", "2de2"]
    assert students["line"].tolist() == [2, 3]
    assert loaded.warnings == []


# Samples of two encodings (UTF-8 with a BOM, cp1252), re-encoded below.
UTF16_SAMPLES = [
    "pronote/pronote_liste_eleves_205.csv",
    "pronote/pronote_liste_eleves_205_resave_excel.csv",
]


@pytest.mark.parametrize("byte_order", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("sample", UTF16_SAMPLES)
def test_load_utf16_without_bom(tmp_path, sample, byte_order):
    original = FORMATS / sample
    text = decode_text(original.read_bytes()).text
    path = tmp_path / original.name
    path.write_bytes(text.encode(byte_order))
    expected = load(original, classes=["205"])
    loaded = load(path, classes=["205"])
    assert loaded.encoding == byte_order
    assert len(loaded.students) == len(expected.students) > 0
    pd.testing.assert_frame_equal(loaded.students, expected.students)
    assert loaded.warnings == expected.warnings


def test_load_utf16_without_bom_truncated(tmp_path):
    path = tmp_path / "eleves.txt"
    path.write_bytes(UNICODE_TEXT.encode("utf-16-le") + b"S")
    loaded = load(path, classes=SCHOOL_CLASSES)
    assert loaded.students["last_name"].tolist() == ["ÉLOÏSE", "CŒUR"]
    assert any("tronqué" in warning for warning in loaded.warnings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("élève;classe".encode("utf-16-le"), "utf-16-le"),
        ("élève;classe".encode("utf-16-be"), "utf-16-be"),
        ("élève;classe".encode(), None),
        ("ab".encode("utf-16-le"), None),
        (bytes(range(256)) * 2, None),
    ],
    ids=["le", "be", "utf-8", "too-short", "binary"],
)
def test_utf16_byte_order(data, expected):
    assert utf16_byte_order(data) == expected


def test_load_nul_bytes_still_binary(tmp_path):
    # Mostly NUL bytes look like UTF-16 but decode to NUL characters: binary.
    path = tmp_path / "zeros.csv"
    path.write_bytes(b"\0" * 64 + b"A\0B\0")
    with pytest.raises(RosterError, match=r"n'est pas un fichier texte"):
        load(path)
