"""The coordinator's notebook helpers: roster upload, feasibility, period actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

import apkit
from apkit import roster
from apkit.errors import FeasibilityError, RosterError
from apkit.model import Activity, Campaign, CampaignStatus, Publication, Student
from apkit.sample import ensure_sample_school
from apkit.store import Store
from apkit.widgets import coordination
from tests.conftest import SCHOOL, clone_database_url, new_database_url


def _upload_value(name: str, content: bytes) -> tuple[dict, ...]:
    """Return a value shaped like the one ipywidgets 8's FileUpload receives."""
    return (
        {
            "name": name,
            "type": "text/csv",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        },
    )


def _student_count(store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Student))


@pytest.fixture
def set_up(database_store):
    """A school with its blocks, classes, teachers and periods, but no student."""
    apkit.import_school(database_store, apkit.load_school(SCHOOL), actor="test")
    return database_store


@pytest.fixture(scope="module")
def sample_template(tmp_path_factory):
    url = new_database_url(tmp_path_factory.mktemp("sample"))
    store = Store(url)
    ensure_sample_school(store)
    store.dispose()
    return url


@pytest.fixture
def sample(sample_template, tmp_path):
    store = Store(clone_database_url(sample_template, tmp_path))
    yield store
    store.dispose()


def test_upload_previews_without_writing(set_up):
    upload = coordination.roster_upload(set_up)
    content = (SCHOOL / "students.csv").read_bytes()
    upload.upload.value = _upload_value("students.csv", content)

    assert upload.status.kind == "info"
    assert "students.csv : 360 élèves, 0 lignes écartées" in upload.preview.value
    assert upload.preview.value.count("<tr") == coordination.PREVIEW_ROWS + 1
    assert "360 ajoutés" in upload.diff.value
    assert "Simulation, rien n&#x27;est enregistré." in upload.diff.value
    assert upload.import_button.disabled is False
    assert _student_count(set_up) == 0


def test_upload_imports_on_click(set_up):
    upload = coordination.roster_upload(set_up, actor="coordination:test")
    content = (SCHOOL / "students.csv").read_bytes()
    upload.upload.value = _upload_value("students.csv", content)
    upload.import_button.click()

    assert _student_count(set_up) == 360
    assert upload.status.kind == "ok"
    assert upload.status.message == "Liste importée."
    assert "Simulation" not in upload.diff.value
    assert upload.import_button.layout.display == "none"
    assert upload.roster is None


def test_upload_same_roster_changes_nothing(set_up):
    apkit.import_roster(set_up, roster.load(SCHOOL / "students.csv"), actor="test")
    upload = coordination.roster_upload(set_up)
    content = (SCHOOL / "students.csv").read_bytes()
    upload.upload.value = _upload_value("students.csv", content)
    assert upload.status.message == "Cette liste ne change rien à la base."
    assert upload.import_button.disabled is True


def test_upload_bad_class_shows_french_error(set_up, tmp_path):
    content = (
        "student_id;last_name;first_name;class_name;birth_date;sex\n"
        "X1;DUPONT;Léa;2de1;01/02/2010;F\n"
        "X2;MARTIN;Hugo;2de13;03/04/2010;M\n"
    ).encode()
    bad = tmp_path / "eleves.csv"
    bad.write_bytes(content)
    with pytest.raises(RosterError) as expected:
        roster.load(bad, classes=coordination.school_classes(set_up))

    upload = coordination.roster_upload(set_up)
    upload.upload.value = _upload_value("eleves.csv", content)

    assert upload.status.kind == "error"
    assert upload.status.message == str(expected.value)
    assert "eleves.csv" in upload.status.message
    assert upload.preview.value == ""
    assert upload.import_button.disabled is True
    assert _student_count(set_up) == 0


def test_upload_unreadable_file_shows_error(set_up):
    upload = coordination.roster_upload(set_up)
    upload.upload.value = _upload_value("notes.xlsx", b"not a workbook at all")
    assert upload.status.kind == "error"
    assert "notes.xlsx" in upload.status.message
    assert "Traceback" not in upload.status.message
    assert _student_count(set_up) == 0


def test_upload_keeps_only_base_name(set_up):
    upload = coordination.roster_upload(set_up)
    content = (SCHOOL / "students.csv").read_bytes()
    upload.upload.value = _upload_value("../../etc/students.csv", content)
    assert upload.roster is not None
    assert upload.roster.path.name == "students.csv"
    assert upload.roster.path.parent.name.startswith("apkit-upload-")


def test_upload_displays_as_widget(set_up):
    bundle = coordination.roster_upload(set_up)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_import_before_upload_asks_for_file(set_up):
    upload = coordination.roster_upload(set_up)
    assert upload.import_roster() is None
    assert upload.status.message == "Choisissez d'abord un fichier."


def test_feasibility_table_finds_block_c_shortfall(sample):
    table = coordination.feasibility_table(sample, "P1")
    shortfalls = table[table["Bloquant"] == "non"]
    assert list(shortfalls["Barrette"]) == ["C"]
    assert list(shortfalls["Heure"]) == ["2"]
    assert set(table["Bloquant"]) == {"non"}


def test_open_period_blocked_by_shortfall(sample):
    with pytest.raises(FeasibilityError):
        coordination.open_period(sample, "P1", actor="test")
    table = coordination.campaigns_table(sample, "P1")
    assert table.loc[table["Barrette"] == "C", "Statut"].item() == "en préparation"


def test_open_close_publish_period(sample, tmp_path):
    opened = coordination.open_period(sample, "P1", actor="test", allow_shortfall=True)
    assert list(opened["Statut"]) == ["ouverte"] * 3
    closed = coordination.close_period(sample, "P1", actor="test")
    assert list(closed["Statut"]) == ["fermée"] * 3

    published = coordination.publish_period(sample, "P1", tmp_path, actor="test")

    assert list(published["Barrette"]) == ["A", "B", "C"]
    assert all(published["Fichiers"] > 0)
    for folder in published["Dossier"]:
        assert Path(folder).parent == tmp_path
        assert (Path(folder) / "publication.json").is_file()
    with sample.read() as session:
        statuses = set(session.scalars(select(Campaign.status)))
        publications = session.scalar(select(func.count()).select_from(Publication))
    assert statuses == {CampaignStatus.PUBLISHED}
    assert publications == 3
    again = coordination.publish_period(sample, "P1", tmp_path, actor="test")
    assert again.empty


def test_corrections_table_lists_moves(sample):
    coordination.open_period(sample, "P1", actor="test", allow_shortfall=True)
    with sample.read() as session:
        activity = session.scalars(
            select(Activity).where(Activity.code == "P1-A01")
        ).one()
        campaign_id, activity_id = activity.campaign_id, activity.id
        student_id = session.scalars(
            select(Student.id).where(Student.source_id == "STU101")
        ).one()
    apkit.move_student(
        sample,
        campaign_id,
        student_id,
        activity_id,
        actor="coordination:test",
        role="coordinator",
        reason="demande de la famille",
    )
    table = coordination.corrections_table(sample, "P1")
    moves = table[table["Auteur"] == "coordination:test"]
    assert len(moves) == 1
    assert moves["Élève"].item() == "ALEXIS Teddy"
    assert moves["Motif"].item() == "demande de la famille"
    assert list(table.columns) == [
        "Date",
        "Auteur",
        "Action",
        "Élève",
        "Motif",
        "Annulé",
    ]


def test_review_lists_unplaced(sample):
    coordination.open_period(sample, "P1", actor="test", allow_shortfall=True)
    view = coordination.review(sample, "P1")
    assert "Élèves non inscrits : 720" in view.children[2].value


def test_allocate_period_reports_each_block(sample):
    coordination.open_period(sample, "P1", actor="test", allow_shortfall=True)
    coordination.close_period(sample, "P1", actor="test")
    table = coordination.allocate_period(sample, "P1", actor="test", seed=7)

    assert list(table["Barrette"]) == ["A", "B", "C"]
    assert list(table["Élèves"]) == [118, 117, 125]
    hours = table["Heures placées"] + table["Heures non placées"]
    assert list(hours) == [236, 234, 250]
    block_c = table[table["Barrette"] == "C"]
    assert block_c["Heures non placées"].item() >= 5
    ranked = table[["Vœu 1", "Vœu 2", "Vœu 3 ou suivant", "Hors vœux"]].sum(axis=1)
    assert list(ranked) == list(table["Heures placées"])


def _two_students() -> bytes:
    lines = (SCHOOL / "students.csv").read_text(encoding="utf-8").splitlines()
    two = [r for r in lines if ";2de5;" in r][:2]
    return ("\n".join([lines[0], *two]) + "\n").encode()


def test_upload_of_partial_list_needs_confirmation(set_up):
    apkit.import_roster(set_up, roster.load(SCHOOL / "students.csv"), actor="test")
    upload = coordination.roster_upload(set_up)
    assert upload.confirm.layout.display == "none"
    upload.upload.value = _upload_value("deux.csv", _two_students())

    warning = "358 élèves sur 360 présents seraient marqués partis"
    assert upload.status.kind == "error"
    assert upload.status.message.startswith(warning)
    assert f"Attention : {warning}" in upload.diff.value
    assert upload.confirm.layout.display == ""
    assert upload.import_button.disabled is True
    upload.import_button.click()
    assert _student_count(set_up) == 360
    assert upload.roster is not None

    upload.confirm.value = True
    assert upload.import_button.disabled is False
    upload.import_button.click()
    assert upload.status.message == "Liste importée."
    with set_up.read() as session:
        present = select(func.count()).where(Student.left_on.is_(None))
        assert session.scalar(present) == 2


def test_unticked_confirmation_refuses_import(set_up):
    apkit.import_roster(set_up, roster.load(SCHOOL / "students.csv"), actor="test")
    upload = coordination.roster_upload(set_up)
    upload.upload.value = _upload_value("deux.csv", _two_students())
    upload.import_button.disabled = False
    upload.import_button.click()

    assert upload.status.kind == "error"
    assert "--allow-departures" in upload.status.message
    with set_up.read() as session:
        present = select(func.count()).where(Student.left_on.is_(None))
        assert session.scalar(present) == 360
