"""School set-up: loading and checking CSV folders and workbooks, then importing."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from apkit.errors import CampaignError, SetupError
from apkit.model import (
    Activity,
    AuditEntry,
    Base,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Division,
    Period,
    Preference,
    Student,
    Teacher,
)
from apkit.school import import_school, load_school
from apkit.store import Store
from tests.conftest import DATA, ROOT, SCHOOL

SETUP_CASES = DATA / "setup"
TEMPLATE = ROOT / "data" / "modele_organisation"
SETUP_FILES = ("blocks.csv", "teachers.csv", "periods.csv", "activities_p1.csv")


def row_counts(store: Store) -> dict[str, int]:
    """Count the rows of every table of the model."""
    with store.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def setup_folder(tmp_path, case: str | None = None):
    """Copy the sample set-up into tmp_path, with the files of one case over it."""
    folder = tmp_path / "setup"
    folder.mkdir()
    for name in SETUP_FILES:
        shutil.copy(SCHOOL / name, folder / name)
    if case is not None:
        for path in (SETUP_CASES / case).iterdir():
            shutil.copy(path, folder / path.name)
    return folder


# One malformed file each, with the exact message it must produce.
MALFORMED = {
    "unknown_teacher": "activities_p1.csv:3 : colonne « teacher_id » : enseignant "
    "inconnu (valeur : « T99 ») ; ajoutez-le à teachers.csv ou corrigez la ligne",
    "unknown_block": "activities_p1.csv:3 : colonne « block » : barrette inconnue "
    "(valeur : « D ») ; barrettes connues : A, B, C ; ajoutez-la à blocks.csv ou "
    "corrigez la ligne",
    "class_in_two_blocks": "blocks.csv:7 : colonne « class_name » : classe déjà dans "
    "la barrette A, ligne 5 (valeur : « 2de4 ») ; une classe appartient à une seule "
    "barrette ; supprimez l'une des deux lignes",
    "duplicate_activity_id": "activities_p1.csv:4 : colonne « activity_id » : "
    "identifiant d'atelier déjà utilisé pour la période P1, ligne 2 (valeur : "
    "« P1-A01 ») ; donnez à chaque atelier un identifiant unique dans sa période",
    "capacity_unlimited": "activities_p1.csv:3 : colonne « capacity » : nombre de "
    "places illimité non accepté (valeur : « illimité ») ; indiquez un nombre de "
    "places ; pour un atelier sans limite, mettez l'effectif de la barrette (par "
    "exemple 130)",
    "capacity_fraction": "activities_p1.csv:3 : colonne « capacity » : nombre entier "
    "positif ou nul attendu (valeur : « 12,5 ») ; écrivez un nombre entier, comme 15",
    "capacity_negative": "activities_p1.csv:3 : colonne « capacity » : nombre entier "
    "positif ou nul attendu (valeur : « -3 ») ; écrivez un nombre entier, comme 15",
    "min_size_over_capacity": "activities_p1.csv:3 : colonne « min_size » : effectif "
    "minimum supérieur aux 6 places (valeur : « 8 ») ; baissez l'effectif minimum ou "
    "augmentez les places",
    "bad_slot": "activities_p1.csv:3 : colonne « slot » : heure invalide (valeur : "
    "« 3 ») ; écrivez 1 ou 2 pour une heure, 1+2 pour un projet sur les deux heures",
    "missing_column": "activities_p1.csv:1 : colonne « capacity » manquante dans "
    "l'en-tête ; en-têtes attendus : activity_id;block;slot;title;teacher_id;capacity",
    "unknown_eligible_class": "activities_p1.csv:3 : colonne « eligible_classes » : "
    "classe de la barrette B, pas de A (valeur : « 2de5 ») ; classes de la barrette : "
    "2de1, 2de2, 2de3, 2de4 ; séparez-les par des virgules",
    "duplicate_teacher_id": "teachers.csv:4 : colonne « teacher_id » : identifiant en "
    "double, déjà ligne 2 (valeur : « T01 ») ; donnez un identifiant unique à chaque "
    "ligne",
    "bad_email": "teachers.csv:3 : colonne « email » : adresse électronique invalide "
    "(valeur : « sylvie.bellamy-example.org ») ; écrivez une adresse complète "
    "(prenom.nom@exemple.fr) ou laissez la case vide",
    "periods_reversed": "periods.csv:3 : colonne « end_date » : la période finit le "
    "03/11/2025, avant son début (valeur : « 03/11/2025 ») ; vérifiez l'ordre des "
    "dates (début puis fin, jj/mm/aaaa)",
    "periods_overlapping": "periods.csv:4 : colonne « start_date » : la période P3 "
    "commence le 15/12/2025, pendant la période P2 (jusqu'au 19/12/2025) (valeur : "
    "« 15/12/2025 ») ; les périodes ne doivent pas se chevaucher ; corrigez les dates",
    "bad_date": "periods.csv:3 : colonne « end_date » : date invalide (valeur : "
    "« 31/02/2026 ») ; écrivez la date au format jj/mm/aaaa, par exemple 15/09/2025",
    "unknown_period_file": "activities_p9.csv : période inconnue (valeur : « p9 ») ; "
    "périodes connues : P1, P2, P3, P4, P5 ; ajoutez-la à periods.csv ou corrigez le "
    "nom du fichier (activities_p1.csv)",
}
# Where each case's error points: (file name, line, column).
LOCATIONS = {
    "unknown_teacher": ("activities_p1.csv", 3, "teacher_id"),
    "class_in_two_blocks": ("blocks.csv", 7, "class_name"),
    "capacity_unlimited": ("activities_p1.csv", 3, "capacity"),
    "periods_overlapping": ("periods.csv", 4, "start_date"),
    "unknown_period_file": ("activities_p9.csv", None, None),
}


def test_malformed_cases_all_pinned():
    on_disk = {p.name for p in SETUP_CASES.iterdir() if p.is_dir()}
    valid = {"tolerated_values", "excel_cp1252", "teacher_twice"}
    assert on_disk - valid == set(MALFORMED)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_load_school_malformed(tmp_path, case):
    with pytest.raises(SetupError, match=f"^{re.escape(MALFORMED[case])}$"):
        load_school(setup_folder(tmp_path, case))


@pytest.mark.parametrize("case", sorted(LOCATIONS))
def test_load_school_error_attributes(tmp_path, case):
    with pytest.raises(SetupError) as caught:
        load_school(setup_folder(tmp_path, case))
    name, line, column = LOCATIONS[case]
    assert caught.value.path.name == name
    assert caught.value.line == line
    assert caught.value.column == column


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be"], ids=["bom", "le", "be"]
)
def test_load_school_utf16_rejected(tmp_path, encoding):
    folder = setup_folder(tmp_path)
    blocks = folder / "blocks.csv"
    blocks.write_bytes(blocks.read_text(encoding="utf-8-sig").encode(encoding))
    expected = (
        "blocks.csv : fichier enregistré en UTF-16 (« texte Unicode ») ; "
        "enregistrez-le en « CSV UTF-8 (délimité par des points-virgules) »"
    )
    with pytest.raises(SetupError, match=f"^{re.escape(expected)}$") as caught:
        load_school(folder)
    assert caught.value.path.name == "blocks.csv"


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_import_malformed_setup_writes_nothing(store, tmp_path, case):
    import_school(store, load_school(SCHOOL), actor="test")
    before = row_counts(store)
    folder = setup_folder(tmp_path, case)
    with pytest.raises(SetupError):
        import_school(store, load_school(folder), actor="test")
    assert row_counts(store) == before


def test_load_sample_school():
    setup = load_school(SCHOOL)
    assert setup.school_year == "2025-2026"
    assert [b.name for b in setup.blocks] == ["A", "B", "C"]
    assert setup.blocks[0].classes == ("2de1", "2de2", "2de3", "2de4")
    assert len(setup.teachers) == 27
    assert [p.period_id for p in setup.periods] == ["P1", "P2", "P3", "P4", "P5"]
    assert setup.periods[0].start_date == dt.date(2025, 9, 15)
    assert len(setup.activities) == 50
    assert setup.warnings == []


def test_load_two_hour_project():
    setup = load_school(SCHOOL)
    project = next(a for a in setup.activities if a.activity_id == "P1-A09")
    assert (project.first_slot, project.slot_span) == (1, 2)
    assert project.slots == (1, 2)
    assert project.teacher_id == "T06"
    assert (project.capacity, project.min_size) == (20, 10)


def test_load_tolerated_numbers(tmp_path):
    setup = load_school(setup_folder(tmp_path, "tolerated_values"))
    capacities = {a.activity_id: (a.capacity, a.min_size) for a in setup.activities}
    assert capacities == {"P1-A01": (15, 8), "P1-A02": (10, 0), "P1-A03": (12, 6)}


def test_load_excel_cp1252_crlf(tmp_path):
    setup = load_school(setup_folder(tmp_path, "excel_cp1252"))
    titles = [a.title for a in setup.activities]
    assert titles == ["Choisir ses spécialités", "Débat et argumentation"]
    assert setup.activities[1].capacity == 15


def test_teacher_twice_is_warning(tmp_path):
    setup = load_school(setup_folder(tmp_path, "teacher_twice"))
    assert setup.warnings == [
        "P1, barrette A, heure 1 : l'enseignant T08 a 2 ateliers en même temps",
        "P1, barrette A, heure 2 : la salle A101 a 2 ateliers en même temps",
    ]


def test_load_missing_folder(tmp_path):
    with pytest.raises(SetupError, match="introuvable"):
        load_school(tmp_path / "absent")


def test_load_folder_without_blocks(tmp_path):
    folder = setup_folder(tmp_path)
    (folder / "blocks.csv").unlink()
    with pytest.raises(SetupError, match=r"fichier blocks\.csv manquant"):
        load_school(folder)


def _fill_xlsx(path):
    """Fill a copy of the xlsx template with the sample school, as a user would."""
    workbook = openpyxl.load_workbook(path)
    for sheet_name, csv_name in (
        ("Barrettes", "blocks.csv"),
        ("Enseignants", "teachers.csv"),
        ("Périodes", "periods.csv"),
    ):
        frame = pd.read_csv(SCHOOL / csv_name, sep=";", dtype=str)
        rows = [
            [dt.datetime.strptime(v, "%d/%m/%Y") if "/" in v else v for v in values]
            for values in frame.itertuples(index=False)
        ]
        _write_rows(workbook[sheet_name], rows)
    activities = pd.read_csv(SCHOOL / "activities_p1.csv", sep=";", dtype=str)
    rows = [
        ["P1", a.activity_id, a.block, a.slot, a.title, a.category,
         a.teacher_id, a.room, int(a.capacity), int(a.min_size)]
        for a in activities.itertuples(index=False)
    ]  # fmt: skip
    _write_rows(workbook["Ateliers"], rows)
    workbook.save(path)


def _write_rows(sheet, rows):
    # Start under the header: append() would go below the template's formatted rows.
    for row_index, values in enumerate(rows, start=2):
        for column_index, value in enumerate(values, start=1):
            sheet.cell(row=row_index, column=column_index, value=value)


def test_filled_xlsx_template_loads(tmp_path):
    path = tmp_path / "organisation.xlsx"
    shutil.copy(TEMPLATE.with_suffix(".xlsx"), path)
    _fill_xlsx(path)
    loaded = load_school(path)
    expected = load_school(SCHOOL)
    assert loaded.blocks == expected.blocks
    assert loaded.teachers == expected.teachers
    assert loaded.periods == expected.periods
    assert loaded.activities == expected.activities
    assert loaded.school_year == "2025-2026"


def test_filled_ods_template_loads(tmp_path):
    template = pd.read_excel(TEMPLATE.with_suffix(".ods"), sheet_name=None)
    sheets = {}
    for sheet_name, csv_name in (
        ("Barrettes", "blocks.csv"),
        ("Enseignants", "teachers.csv"),
        ("Périodes", "periods.csv"),
    ):
        frame = pd.read_csv(SCHOOL / csv_name, sep=";", dtype=str)
        frame.columns = template[sheet_name].columns
        sheets[sheet_name] = frame
    activities = pd.read_csv(SCHOOL / "activities_p1.csv", sep=";", dtype=str)
    activities.insert(0, "période", "P1")
    columns = list(template["Ateliers"].columns)
    activities.columns = columns[: len(activities.columns)]
    sheets["Ateliers"] = activities
    path = tmp_path / "organisation.ods"
    with pd.ExcelWriter(path, engine="odf") as writer:
        template["Notice"].to_excel(writer, sheet_name="Notice", index=False)
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    loaded = load_school(path)
    expected = load_school(SCHOOL)
    assert loaded.periods == expected.periods
    assert loaded.activities == expected.activities


def test_xlsx_error_names_sheet(tmp_path):
    path = tmp_path / "organisation.xlsx"
    shutil.copy(TEMPLATE.with_suffix(".xlsx"), path)
    _fill_xlsx(path)
    workbook = openpyxl.load_workbook(path)
    workbook["Ateliers"]["G3"] = "T99"
    workbook.save(path)
    expected = (
        "organisation.xlsx[Ateliers]:3 : colonne « enseignant » : enseignant inconnu "
        "(valeur : « T99 ») ; ajoutez-le à la feuille Enseignants ou corrigez la ligne"
    )
    with pytest.raises(SetupError, match=f"^{re.escape(expected)}$") as caught:
        load_school(path)
    assert caught.value.line == 3
    assert caught.value.column == "enseignant"


def test_blank_template_reports_no_block():
    with pytest.raises(SetupError, match=r"\[Barrettes\] : aucune barrette"):
        load_school(TEMPLATE.with_suffix(".xlsx"))


def test_workbook_missing_sheet(tmp_path):
    path = tmp_path / "organisation.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Barrettes"
    workbook.save(path)
    with pytest.raises(SetupError, match="feuille « Enseignants » manquante"):
        load_school(path)


def test_import_school_sample(store):
    changes = import_school(store, load_school(SCHOOL), actor="test")
    assert changes.added["blocks"] == 3
    assert changes.added["campaigns"] == 3
    counts = row_counts(store)
    assert counts["blocks"] == 3
    assert counts["divisions"] == 12
    assert counts["teachers"] == 27
    assert counts["periods"] == 5
    assert counts["campaigns"] == 3
    assert counts["activities"] == 50
    with store.read() as session:
        period = session.scalar(select(Period).where(Period.code == "P1"))
        assert period.school_year == "2025-2026"
        campaign = session.scalars(select(Campaign)).first()
        assert campaign.status == CampaignStatus.DRAFT
        assert campaign.mode == CampaignMode.PREFERENCES
        assert campaign.max_choices == 3
        project = session.scalar(select(Activity).where(Activity.code == "P1-A09"))
        assert (project.first_slot, project.slot_span) == (1, 2)
        assert session.get(Teacher, project.teacher_id).source_id == "T06"
        division = session.scalar(select(Division).where(Division.name == "2de10"))
        assert division.block.name == "C"


def test_import_school_twice_changes_nothing(store):
    setup = load_school(SCHOOL)
    import_school(store, setup, actor="test")
    before = row_counts(store)
    changes = import_school(store, setup, actor="test")
    assert not changes.changed
    assert changes.summary() == "Organisation déjà à jour : rien n'a changé."
    assert row_counts(store) == before


def _edit_activities(folder, edit):
    path = folder / "activities_p1.csv"
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    frame = edit(frame)
    frame.to_csv(path, sep=";", index=False)


def test_import_updates_draft_campaign(store, tmp_path):
    import_school(store, load_school(SCHOOL), actor="test")
    folder = setup_folder(tmp_path)

    def edit(frame):
        frame.loc[frame.activity_id == "P1-A01", "capacity"] = "25"
        return frame[frame.activity_id != "P1-A02"]

    _edit_activities(folder, edit)
    changes = import_school(store, load_school(folder), actor="test")
    assert changes.updated["activities"] == 1
    assert changes.removed["activities"] == 1
    with store.read() as session:
        codes = set(session.scalars(select(Activity.code)))
        assert "P1-A02" not in codes
        a01 = session.scalar(select(Activity).where(Activity.code == "P1-A01"))
        assert a01.capacity == 25
        actions = set(session.scalars(select(AuditEntry.action)))
        assert "activities_updated" in actions


def _set_status(store, block: str, status: CampaignStatus) -> None:
    with store.write() as session:
        for campaign in session.scalars(select(Campaign)):
            if campaign.block.name == block:
                campaign.status = status


def test_import_open_campaign_rejected(store, tmp_path):
    import_school(store, load_school(SCHOOL), actor="test")
    _set_status(store, "B", CampaignStatus.OPEN)
    before = row_counts(store)
    folder = setup_folder(tmp_path)

    def edit(frame):
        # Block A's change comes first in the file and must be rolled back too.
        frame.loc[frame.activity_id == "P1-A01", "capacity"] = "25"
        frame.loc[frame.activity_id == "P1-B01", "capacity"] = "25"
        return frame

    _edit_activities(folder, edit)
    expected = (
        "La campagne P1, barrette B est ouverte : ses ateliers ne sont pas réécrits "
        "par un import (1 différence : P1-B01) ; modifiez ces ateliers depuis la "
        "campagne, ou remettez dans le fichier l'offre actuelle de la campagne"
    )
    with pytest.raises(CampaignError, match=f"^{re.escape(expected)}$"):
        import_school(store, load_school(folder), actor="test")
    assert row_counts(store) == before
    with store.read() as session:
        a01 = session.scalar(select(Activity).where(Activity.code == "P1-A01"))
        assert a01.capacity == 18


def test_import_open_campaign_unchanged_accepted(store):
    setup = load_school(SCHOOL)
    import_school(store, setup, actor="test")
    _set_status(store, "A", CampaignStatus.PUBLISHED)
    before = row_counts(store)
    assert not import_school(store, setup, actor="test").changed
    assert row_counts(store) == before


def test_import_removing_ranked_activity_rejected(store, tmp_path):
    import_school(store, load_school(SCHOOL), actor="test")
    with store.write() as session:
        activity = session.scalar(select(Activity).where(Activity.code == "P1-A02"))
        division = session.scalar(select(Division).where(Division.name == "2de1"))
        student = Student(source_id="S1", last_name="A", first_name="B",
                          name_key="a b", division_id=division.id)  # fmt: skip
        session.add(student)
        session.flush()
        session.add(Preference(campaign_id=activity.campaign_id, student_id=student.id,
                               slot=1, rank=1, activity_id=activity.id))  # fmt: skip
    before = row_counts(store)
    folder = setup_folder(tmp_path)
    _edit_activities(folder, lambda frame: frame[frame.activity_id != "P1-A02"])
    with pytest.raises(
        CampaignError, match=r"L'atelier P1-A02 .* 1 vœu ou inscription d'élève le cite"
    ):
        import_school(store, load_school(folder), actor="test")
    assert row_counts(store) == before


def test_import_moves_class_to_other_block(store, tmp_path):
    import_school(store, load_school(SCHOOL), actor="test")
    folder = setup_folder(tmp_path)
    blocks = (folder / "blocks.csv").read_text().replace("B;2de5", "A;2de5")
    (folder / "blocks.csv").write_text(blocks)
    changes = import_school(store, load_school(folder), actor="test")
    assert changes.updated["divisions"] == 1
    with store.read() as session:
        division = session.scalar(select(Division).where(Division.name == "2de5"))
        assert division.block.name == "A"


def test_import_moving_ranked_activity_rejected(store, tmp_path):
    import_school(store, load_school(SCHOOL), actor="test")
    with store.write() as session:
        activity = session.scalar(select(Activity).where(Activity.code == "P1-A02"))
        division = session.scalar(select(Division).where(Division.name == "2de1"))
        student = Student(source_id="S1", last_name="A", first_name="B",
                          name_key="a b", division_id=division.id)  # fmt: skip
        session.add(student)
        session.flush()
        session.add(Preference(campaign_id=activity.campaign_id, student_id=student.id,
                               slot=1, rank=1, activity_id=activity.id))  # fmt: skip
    before = row_counts(store)
    folder = setup_folder(tmp_path)

    def edit(frame):
        frame.loc[frame.activity_id == "P1-A02", "slot"] = "2"
        return frame

    _edit_activities(folder, edit)
    expected = (
        "L'atelier P1-A02 (P1, barrette A) change d'heure mais 1 vœu ou inscription "
        "d'élève le cite ; gardez-le tel quel dans le fichier, ou supprimez "
        "d'abord ces vœux et inscriptions"
    )
    with pytest.raises(CampaignError, match=f"^{re.escape(expected)}$"):
        import_school(store, load_school(folder), actor="test")
    assert row_counts(store) == before


# Damaged workbooks in tests/data/setup, made from data/modele_organisation.*:
# truncated.* keep the first 3000 bytes, corrupt.* have 200 bytes flipped in
# the middle, garbage.xlsx has an xl/workbook.xml that is no XML, and
# not_a_workbook.* are an XML roster renamed.
BAD_WORKBOOKS = [
    "truncated.xlsx",
    "truncated.ods",
    "corrupt.xlsx",
    "corrupt.ods",
    "garbage.xlsx",
    "not_a_workbook.xlsx",
    "not_a_workbook.ods",
]


@pytest.mark.parametrize("name", BAD_WORKBOOKS)
def test_load_school_damaged_workbook(name):
    expected = (
        f"{name} : classeur illisible : fichier abîmé ou qui n'est pas un classeur "
        ".xlsx/.ods ; enregistrez-le de nouveau depuis le tableur"
    )
    with pytest.raises(SetupError, match=f"^{re.escape(expected)}$") as caught:
        load_school(SETUP_CASES / name)
    assert caught.value.path == SETUP_CASES / name
    assert caught.value.line is None
