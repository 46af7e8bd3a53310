"""Tests of apkit.roster.load and load_teachers: options, policies, formats."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from apkit.errors import RosterError
from apkit.roster import STUDENT_COLUMNS, load, load_teachers
from tests.conftest import DATA, FORMATS, SCHOOL


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


BAD = DATA / "roster"


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("name", "column", "value"),
    [
        ("unreadable_date.csv", "birth_date", "31/02/2010"),
        ("unknown_sex.csv", "sex", "X"),
    ],
)
def test_load_bad_value_warn_keeps_row(name, column, value):
    roster = load(BAD / name, on_bad_rows="warn")

    row = roster.students.set_index("student_id").loc["S002"]
    assert row[column] is None
    assert roster.dropped.empty
    assert len(roster.warnings) == 1
    assert roster.warnings[0].startswith(f"ligne 3, colonne « {column} » : ")
    assert (
        f"(valeur : « {value} ») ; ligne gardée sans cette valeur" in roster.warnings[0]
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("unreadable_date.csv", "date illisible"),
        ("unknown_sex.csv", "sexe inconnu"),
        ("row_without_name.csv", "ligne sans nom d'élève"),
    ],
)
def test_load_bad_value_skip_drops_row(name, reason):
    roster = load(BAD / name, on_bad_rows="skip")

    assert "S002" not in set(roster.students.student_id)
    dropped = roster.dropped.to_dict("records")
    assert [(row["line"], row["reason"]) for row in dropped] == [(3, reason)]
    assert roster.warnings == []


def test_load_row_without_name_warn_keeps_row():
    roster = load(BAD / "row_without_name.csv", on_bad_rows="warn")

    row = roster.students.set_index("student_id").loc["S002"]
    assert row.last_name == ""
    assert row.first_name == ""
    assert "ligne sans nom d'élève" in roster.warnings[0]


def test_load_mapping_names_unknown_headers(tmp_path):
    path = write(
        tmp_path / "eleves.csv",
        "Nom de l'élève;Son prénom;Groupe classe;Anniversaire\n"
        "MARTIN;Léa;2de1;12/03/2010\n",
    )

    roster = load(
        path,
        mapping={
            "Nom de l'élève": "last_name",
            "Son prénom": "first_name",
            "Groupe classe": "class_name",
            "Anniversaire": "birth_date",
        },
    )

    row = roster.students.iloc[0]
    assert (row.last_name, row.first_name, row.class_name) == ("MARTIN", "Léa", "2de1")
    assert row.birth_date == dt.date(2010, 3, 12)
    assert row.id_source == "derived"
    assert row.student_id == "martin-lea-2010-03-12"


def test_load_class_from_argument(tmp_path):
    path = write(tmp_path / "liste.csv", "Élève;Né(e) le\nMARTIN Léa;12/03/2010\n")

    roster = load(path, class_name="2de1")

    row = roster.students.iloc[0]
    assert row.class_name == "2de1"
    assert row.class_source == "argument"
    assert (row.last_name, row.first_name) == ("MARTIN", "Léa")


def test_load_class_from_file_name_matched(tmp_path):
    path = write(
        tmp_path / "pronote_2nde3.csv", "Élève;Né(e) le\nMARTIN Léa;12/03/2010\n"
    )

    roster = load(path, classes=["203", "204"])

    assert roster.students.iloc[0].class_name == "203"
    assert roster.students.iloc[0].class_source == "file_name"


def test_load_keeps_leading_zeros_and_excel_protection(tmp_path):
    path = write(
        tmp_path / "eleves.csv",
        "N° interne;Nom;Prénom;Division;Date de naissance\n"
        '00412;MARTIN;Léa;="203";12/03/2010\n',
    )

    roster = load(path)

    row = roster.students.iloc[0]
    assert row.student_id == "00412"
    assert row.id_source == "student_id"
    assert row.class_name == "203"
    assert row.raw_class == '="203"'


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("12/03/2010", dt.date(2010, 3, 12)),
        ("2/3/2010", dt.date(2010, 3, 2)),
        ("02/06/10", dt.date(2010, 6, 2)),
        ("2010-03-12", dt.date(2010, 3, 12)),
        ("40249", dt.date(2010, 3, 12)),
    ],
)
def test_load_reads_day_first_dates(tmp_path, text, born):
    path = write(
        tmp_path / "eleves.csv", f"Nom;Prénom;Classe;Né le\nMARTIN;Léa;2de1;{text}\n"
    )

    assert load(path).students.iloc[0].birth_date == born


def test_load_cp1252_fallback_never_latin1(tmp_path):
    path = write(
        tmp_path / "eleves.csv",
        "Nom;Prénom;Classe\nN’DIAYE;Chloé;2de1\nDESCŒURS;Noémie;2de1\n",
        "cp1252",
    )

    roster = load(path)

    assert roster.encoding == "cp1252"
    assert list(roster.students.last_name) == ["N’DIAYE", "DESCŒURS"]


def test_load_comma_separated_with_bom(tmp_path):
    path = tmp_path / "eleves.csv"
    path.write_bytes(b"\xef\xbb\xbfNom,Pr\xc3\xa9nom,Classe\nMARTIN,L\xc3\xa9a,2de1\n")

    roster = load(path)

    assert roster.encoding == "utf-8-sig"
    assert roster.students.iloc[0].first_name == "Léa"


def test_load_pronote_leaver_dropped(tmp_path):
    path = write(
        tmp_path / "liste_2de1.csv",
        "Élève;Né(e) le;Sexe;Entrée;Sortie\n"
        "MARTIN Léa;12/03/2010;F;01/09/2025;\n"
        "ROUX Hugo;05/06/2010;G;01/09/2025;07/11/2025\n",
    )

    roster = load(path, today=dt.date(2025, 12, 1))

    assert list(roster.students.last_name) == ["MARTIN"]
    assert roster.dropped.to_dict("records") == [
        {
            "line": 3,
            "sheet": None,
            "text": "ROUX Hugo",
            "reason": "a quitté l'établissement le 07/11/2025",
        }
    ]


def test_load_twins_and_homonyms_kept_apart():
    roster = load(FORMATS / "siecle/ElevesSansAdresses.xml")

    students = roster.students
    twins = students[students.last_name == "FOFANA"]
    assert list(twins.first_name) == ["Mariam", "Moussa"]
    assert twins.birth_date.nunique() == 1
    assert twins.student_id.nunique() == 2
    homonyms = students[
        (students.last_name == "DUBOIS") & (students.first_name == "Nathan")
    ]
    assert list(homonyms.class_name) == ["205", "TG3"]
    assert homonyms.student_id.nunique() == 2


def test_load_siecle_structures_and_future_leaving_date():
    roster = load(BAD / "siecle_structures.xml", today=dt.date(2025, 12, 1))

    students = roster.students
    assert list(students.student_id) == ["11", "15"]
    assert students.iloc[0].groups == ["AP 2DE1 GR1"]
    reasons = dict(zip(roster.dropped.text, roster.dropped.reason, strict=True))
    assert reasons == {
        "ROUX Hugo": "seulement des groupes (ESP2), aucune classe",
        "PETIT Inès": "classe « Inactifs » (élève inactif)",
        "NOËL Œdipe": "plusieurs classes (2de1, 2de2) ; corrigez dans SIECLE",
    }


def test_load_siecle_school_year_checked():
    roster = load(BAD / "siecle_wrong_year.xml")

    assert roster.school["school_year"] == "2026"
    assert roster.warnings == [
        "ANNEE_SCOLAIRE vaut 2026 alors que l'export date du 18/11/2025 "
        "(année 2025-2026) : SIECLE a peut-être déjà basculé d'année ; "
        "vérifiez l'export"
    ]


def test_load_siecle_with_nomenclature():
    roster = load(
        FORMATS / "siecle/ElevesSansAdresses.xml",
        nomenclature=FORMATS / "siecle/Nomenclature.xml",
    )

    first = roster.students.iloc[0]
    assert roster.school["uai"] == "0999996W"
    assert first.options == ["030201", "030602"]
    assert first.option_labels == ["ANGLAIS LV1", "ESPAGNOL LV2"]
    assert first.mef_label == "SECONDE GENERALE ET TECHNOLOGIQUE"


def test_load_teachers_school_spreadsheet():
    roster = load_teachers(SCHOOL / "teachers.csv")

    teachers = roster.teachers
    assert roster.format == "csv"
    assert len(teachers) == 27
    first = teachers.iloc[0]
    assert first.teacher_id == "T01"
    assert first.id_source == "teacher_id"
    assert (first.last_name, first.first_name) == ("BAKOWSKI", "Agnieszka")
    assert first.email == "agnieszka.bakowski@example.org"
    assert teachers.teacher_id.is_unique


def test_load_siecle_bad_date_warn_keeps_pupil():
    roster = load(BAD / "siecle_unreadable_date.xml", on_bad_rows="warn")

    pupil = roster.students.set_index("student_id").loc["12"]
    assert pupil.birth_date is None
    assert pupil.class_name == "2de1"
    assert roster.warnings == [
        "ligne 16, colonne « DATE_NAISS » : date illisible (valeur : « 2010-13-45 ») ; "
        "ligne gardée sans cette valeur"
    ]


def test_load_uncertain_name_split_warned(tmp_path):
    path = write(
        tmp_path / "liste_2de1.csv", "Élève;Né(e) le\nDUPONT JEAN;12/03/2010\n"
    )

    roster = load(path)

    row = roster.students.iloc[0]
    assert (row.last_name, row.first_name) == ("DUPONT", "JEAN")
    assert row.raw_name == "DUPONT JEAN"
    assert roster.warnings == [
        "ligne 2 : « DUPONT JEAN » coupé en nom « DUPONT » et prénom « JEAN » sans "
        "certitude ; vérifiez"
    ]


def test_load_wims_passwords_not_kept():
    roster = load(FORMATS / "wims/wims_import_depuis_pronote2wims_205.csv")

    students = roster.students
    assert "password" not in students.columns
    assert all("password" not in extra for extra in students.extra)
    assert list(students.id_source.unique()) == ["login"]
    assert students.class_name.isna().all()


def test_load_workbook_class_from_sheet_name(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Seconde 3"
    sheet.append(["Nom", "Prénom", "Date de naissance", "Note"])
    sheet.append(["MARTIN", "Léa", 40249, 12.5])
    sheet.append(["ROUX", "Hugo", dt.datetime(2010, 6, 5), None])
    path = tmp_path / "notes.xlsx"
    workbook.save(path)

    roster = load(path, classes=["203", "204"])

    students = roster.students
    assert roster.format == "xlsx"
    assert list(students.class_name) == ["203", "203"]
    assert list(students.class_source) == ["sheet_name", "sheet_name"]
    assert list(students.birth_date) == [dt.date(2010, 3, 12), dt.date(2010, 6, 5)]
    assert list(students.sheet) == ["Seconde 3", "Seconde 3"]
    assert students.iloc[0].extra == {"Note": "12.5"}
    assert list(students.line) == [2, 3]


def test_load_header_only_file_rejected(tmp_path):
    path = write(tmp_path / "eleves.csv", "Nom;Prénom;Classe;Né(e) le\n")

    with pytest.raises(RosterError, match=r"^eleves\.csv : aucun élève trouvé") as err:
        load(path)

    assert err.value.path == path


def test_load_only_dropped_rows_rejected(tmp_path):
    path = write(tmp_path / "eleves.csv", "Nom;Prénom;Classe\nTotal;;\n")

    with pytest.raises(
        RosterError, match="aucun élève retenu : la seule ligne lue a été écartée"
    ):
        load(path)


def test_load_class_column_wins_over_argument():
    roster = load(SCHOOL / "students.csv", class_name="2de5")

    assert roster.students.iloc[0].class_name == "2de1"
    assert roster.warnings == [
        "class_name='2de5' ignoré : la colonne « class_name » donne la classe de "
        "chaque ligne"
    ]


def test_load_utf8_cut_mid_character_warned(tmp_path):
    path = tmp_path / "eleves.csv"
    text = "Nom;Prénom;Classe\nMARTIN;Léa;2de1\nROUX;Zoé;2de1\nPETIT;Inè"
    path.write_bytes(text.encode("utf-8")[:-1])

    roster = load(path)

    assert roster.encoding == "utf-8"
    assert list(roster.students.first_name) == ["Léa", "Zoé"]
    assert roster.dropped.to_dict("records")[0]["reason"] == "aucune classe indiquée"
    assert roster.warnings == [
        "le fichier s'arrête au milieu d'un caractère : il semble tronqué ; vérifiez "
        "la dernière ligne ou téléchargez-le de nouveau"
    ]
