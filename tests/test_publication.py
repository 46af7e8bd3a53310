"""Publication: the dated folder, the PDFs read back with pypdf, the workbooks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from apkit.cli import main
from apkit.corrections import move_student
from apkit.errors import CampaignError
from apkit.model import Campaign, CampaignStatus, Publication, Teacher
from apkit.publication import publish, update_publication
from tests.factories import small_school

TODAY = dt.date(2026, 12, 4)
BASE_URL = "https://ap.lycee.example.org/"


def _pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture
def school(store):
    """The small school, closed, with every student placed in both slots."""
    school = small_school(store, status=CampaignStatus.CLOSED)
    builder = school.builder
    first, second = school.students[:3], school.students[3:]
    for student_id in first:
        builder.enrolment(school.campaign_id, student_id, school.activities["A1"])
        builder.enrolment(school.campaign_id, student_id, school.activities["B1"])
    for student_id in second[:2]:
        builder.enrolment(school.campaign_id, student_id, school.activities["PRJ"])
    with store.write() as session:
        for teacher in session.scalars(select(Teacher)):
            teacher.email = f"{teacher.last_name.lower()}@example.org"
    return school


def test_publish_writes_every_file(store, school, tmp_path):
    # One publication is checked at length because each takes seconds to write.
    publication = publish(
        store,
        school.campaign_id,
        tmp_path,
        actor="coordination",
        base_url=BASE_URL,
        today=TODAY,
    )

    folder = tmp_path / "2025-2026_P1_A_2026-12-04"
    assert publication.folder == str(folder)
    _check_file_list(publication, folder)
    _check_slips(folder)
    _check_teacher_lists(store, school, publication, folder)
    _check_admin_and_class_files(folder)
    with store.read() as session:
        campaign = session.get(Campaign, school.campaign_id)
        assert campaign.status == CampaignStatus.PUBLISHED
        assert campaign.published_at is not None
        assert session.get(Publication, publication.id).changed is False


def _check_file_list(publication, folder) -> None:
    files = set(publication.files)
    assert {"eleves/fiches_2de1.pdf", "eleves/fiches_2de2.pdf"} <= files
    assert {"classes/2de1.pdf", "classes/2de1.xlsx"} <= files
    assert "administration/classeur_P1.xlsx" in files
    charts = [name for name in files if name.startswith("administration/graphiques/")]
    assert charts
    assert all(name.endswith(".png") for name in charts)
    assert "publication.json" in files
    for name in files:
        assert (folder / name).is_file(), name


def _check_slips(folder) -> None:
    text = _pdf_text(folder / "eleves" / "fiches_2de1.pdf")
    assert "BÉRANGER Thomas – 2de1" in text
    assert "D'HAUSSY Anne-Claire – 2de1" in text
    assert "Atelier A1" in text
    assert "Atelier B1" in text
    assert "PROF1 Prof" in text
    assert "R1" in text
    assert "du 01/09/2025 au 01/10/2025" in text
    assert "voila/render/inscription.ipynb" in text
    assert "?code=" not in text
    assert len(PdfReader(folder / "eleves" / "fiches_2de1.pdf").pages) == 1

    other = _pdf_text(folder / "eleves" / "fiches_2de2.pdf")
    assert other.count("Projet radio") == 4  # two students, both slots
    # DA COSTA has no enrolment.
    assert "DA COSTA Inês – 2de2" in other
    assert "Non inscrit" in other


def _check_teacher_lists(store, school, publication, folder) -> None:
    teacher_files = [n for n in publication.files if n.startswith("enseignants/")]
    assert len(teacher_files) == 10  # five teachers, a PDF and a workbook each
    with store.read() as session:
        source_id = session.get(Teacher, school.teachers[0]).source_id

    stem = f"enseignants/{source_id}_PROF1_Prof"
    text = _pdf_text(folder / f"{stem}.pdf")
    assert "Feuille d'émargement" in text
    assert "BÉRANGER" in text
    assert "ÇAKIR" in text
    sheet = load_workbook(folder / f"{stem}.xlsx").worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    names = [row for row in rows if "BÉRANGER" in row]
    assert len(names) == 1
    assert "Atelier A1" in names[0]


def _check_admin_and_class_files(folder) -> None:
    workbook = load_workbook(folder / "administration" / "classeur_P1.xlsx")
    assert "Synthèse" in workbook.sheetnames
    assert "Non inscrits" in workbook.sheetnames
    unplaced = [[c.value for c in row] for row in workbook["Non inscrits"].iter_rows()]
    assert any("DA COSTA" in row for row in unplaced)

    text = _pdf_text(folder / "classes" / "2de2.pdf")
    assert "Classe 2de2" in text
    assert "LE GOFF" in text
    assert "Projet radio" in text
    sheet = load_workbook(folder / "classes" / "2de2.xlsx").worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert any("LE GOFF" in row and "Projet radio" in row for row in rows)


def test_publish_with_new_codes_prints_links(database_store, tmp_path):
    store = database_store
    school = small_school(store, status=CampaignStatus.CLOSED)
    publish(
        store,
        school.campaign_id,
        tmp_path,
        actor="coordination",
        base_url=BASE_URL,
        new_codes=True,
        today=TODAY,
    )
    text = _pdf_text(
        tmp_path / "2025-2026_P1_A_2026-12-04" / "eleves" / "fiches_2de1.pdf"
    )
    assert text.count("inscription.ipynb?code=") == 3


def test_publish_open_campaign_rejected(store, tmp_path):
    school = small_school(store, status=CampaignStatus.OPEN)
    with pytest.raises(
        CampaignError, match="P1, barrette A est ouverte : seule une campagne fermée"
    ):
        publish(store, school.campaign_id, tmp_path / "out", actor="coordination")
    assert not (tmp_path / "out").exists()
    with store.read() as session:
        assert session.scalars(select(Publication)).all() == []


def test_second_publication_same_day_new_folder(database_store, tmp_path):
    store = database_store
    school = small_school(store, status=CampaignStatus.CLOSED)
    first = publish(
        store, school.campaign_id, tmp_path, actor="coordination", today=TODAY
    )
    second = publish(
        store, school.campaign_id, tmp_path, actor="coordination", today=TODAY
    )
    assert first.folder.endswith("2025-2026_P1_A_2026-12-04")
    assert second.folder.endswith("2025-2026_P1_A_2026-12-04_2")


def test_correction_updates_affected_only(store, school, tmp_path):
    publication = publish(
        store, school.campaign_id, tmp_path, actor="coordination", today=TODAY
    )
    unchanged = update_publication(store, publication.id, actor="coordination")
    assert unchanged.files == publication.files

    moved = school.students[0]  # BÉRANGER, 2de1, from A1 to A2 in slot 1
    move_student(
        store,
        school.campaign_id,
        moved,
        school.activities["A2"],
        actor="coordination",
        role="coordinator",
    )
    with store.read() as session:
        assert session.get(Publication, publication.id).changed is True

    updated = update_publication(store, publication.id, actor="coordination")

    new_files = [name for name in updated.files if name not in publication.files]
    assert new_files, "the update wrote no file"
    assert all(name.startswith("mises_a_jour/1_") for name in new_files)
    kinds = {name.split("/", 2)[2] for name in new_files}
    with store.read() as session:
        source_ids = {
            teacher.id: teacher.source_id
            for teacher in session.scalars(select(Teacher))
        }
        assert session.get(Publication, publication.id).changed is False
    teacher_a1 = source_ids[school.teachers[0]]
    teacher_a2 = source_ids[school.teachers[1]]
    teacher_b1 = source_ids[school.teachers[2]]
    assert f"enseignants/{teacher_a1}_PROF1_Prof.pdf" in kinds
    assert f"enseignants/{teacher_a2}_PROF2_Prof.xlsx" in kinds
    # B1 kept BÉRANGER in slot 2, so its teacher's lists are not rewritten.
    assert f"enseignants/{teacher_b1}_PROF3_Prof.pdf" not in kinds
    assert not any(source_ids[t] in name for t in school.teachers[3:] for name in kinds)
    assert "eleves/fiches_2de1.pdf" in kinds
    assert "eleves/fiches_2de2.pdf" not in kinds
    assert not any(name.startswith("administration") for name in kinds)

    folder = tmp_path / "2025-2026_P1_A_2026-12-04"
    slip = next(folder / name for name in new_files if name.endswith("fiches_2de1.pdf"))
    text = _pdf_text(slip)
    assert "BÉRANGER Thomas" in text
    assert "Atelier A2" in text
    assert "ÇAKIR" not in text
    manifest = json.loads((folder / "publication.json").read_text("utf-8"))
    assert manifest["mises_a_jour"][0]["eleves"] == [moved]
    assert manifest["inscriptions"][str(moved)]["1"] == school.activities["A2"]


def test_cli_publish_update_and_send(database_store, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("APKIT_SMTP_URL", raising=False)
    monkeypatch.delenv("APKIT_MAIL_FROM", raising=False)
    small_school(database_store, status=CampaignStatus.CLOSED)
    database = ["--database", database_store.url]
    output = tmp_path / "pub"

    arguments = ["publish", "--period", "P1", "--block", "A", "--output", str(output)]
    assert main([*database, "--json", *arguments]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["folder"].startswith(str(output))
    assert "eleves/fiches_2de1.pdf" in result["files"]

    assert main([*database, "publish", "--update", str(result["publication"])]) == 0
    assert "mise à jour" in capsys.readouterr().out

    assert main([*database, "publish", "--output", str(output)]) == 2
    assert "indiquez --period et --block" in capsys.readouterr().err

    send = ["send", "--publication", str(result["publication"])]
    assert main([*database, *send]) == 2
    assert "Adresse d'expéditeur manquante" in capsys.readouterr().err
    dry_run = [*send, "--dry-run", str(tmp_path / "eml"), "--sender", "ap@example.org"]
    assert main([*database, *dry_run]) == 0
    # Nobody in the small school has an e-mail address.
    assert capsys.readouterr().out.startswith("Messages écrits dans")
    assert list((tmp_path / "eml").iterdir()) == []
