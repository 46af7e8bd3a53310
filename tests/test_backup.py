"""Backup and restore on SQLite and PostgreSQL, with real files and pg_dump."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import select, text

from apkit.backup import BackupError, backup, inspect_backup, restore
from apkit.cli import main
from apkit.model import (
    Activity,
    Block,
    Campaign,
    CampaignStatus,
    Division,
    Enrolment,
    EnrolmentSource,
    Period,
    Student,
    Teacher,
)
from apkit.store import Store


def _build_school(store: Store) -> int:
    """Add one block, 4 students and 2 activities; return the campaign id."""
    with store.write() as session:
        block = Block(name="A")
        division = Division(name="2de1", block=block)
        teacher = Teacher(source_id="T01", last_name="MARTIN", first_name="Claire")
        period = Period(
            code="P1",
            name="Période 1",
            school_year="2025-2026",
            start_date=dt.date(2025, 9, 15),
            end_date=dt.date(2025, 10, 17),
        )
        campaign = Campaign(period=period, block=block, status=CampaignStatus.CLOSED)
        activities = [
            Activity(
                campaign=campaign,
                code=code,
                title=title,
                teacher=teacher,
                room="B12",
                capacity=12,
                first_slot=1,
            )
            for code, title in [("A1", "Méthodologie"), ("A2", "Théâtre")]
        ]
        students = [
            Student(
                source_id=f"STU00{n}",
                last_name=name,
                first_name="Léa",
                name_key=f"{name.lower()} lea",
                division=division,
            )
            for n, name in enumerate(["DUPONT", "NGUYEN", "ÉLOI", "KOWALSKI"], 1)
        ]
        session.add_all([campaign, *activities, *students])
        session.flush()
        for index, student in enumerate(students):
            session.add(
                Enrolment(
                    campaign_id=campaign.id,
                    student_id=student.id,
                    slot=1,
                    activity_id=activities[index % 2].id,
                    source=EnrolmentSource.ALLOCATION,
                )
            )
        return campaign.id


def _enrolments(store: Store) -> set[tuple[str, int, str]]:
    with store.read() as session:
        rows = session.execute(
            select(Student.source_id, Enrolment.slot, Activity.code)
            .join(Enrolment.student)
            .join(Enrolment.activity)
        )
        return {tuple(row) for row in rows}


def test_restore_brings_back_enrolments(store, tmp_path):
    _build_school(store)
    before = _enrolments(store)
    archive = tmp_path / "apkit.sauvegarde"

    info = backup(store, archive)

    with store.write() as session:
        session.execute(text("DELETE FROM enrolments"))
        session.execute(text("UPDATE students SET last_name = 'EFFACÉ'"))
    assert _enrolments(store) == set()

    restored = restore(store, archive)

    assert _enrolments(store) == before
    assert len(before) == 4
    assert restored.revision == info.revision
    with store.read() as session:
        names = set(session.scalars(select(Student.last_name)))
    assert "EFFACÉ" not in names


def test_backup_reports_backend_and_revision(store, tmp_path):
    archive = tmp_path / "apkit.sauvegarde"
    info = backup(store, archive)
    assert info.backend == ("sqlite" if store.is_sqlite else "postgresql")
    assert info.revision == "0001"
    assert info.size == archive.stat().st_size > 0
    assert not (tmp_path / "apkit.sauvegarde.partiel").exists()


def test_sqlite_backup_is_one_file_while_in_use(sqlite_store, tmp_path):
    _build_school(sqlite_store)
    archive = tmp_path / "copie.sqlite"
    # Another connection holds an open read transaction during the backup.
    with sqlite_store.read() as session:
        session.execute(select(Student)).all()
        backup(sqlite_store, archive)
    assert not (tmp_path / "copie.sqlite-wal").exists()
    connection = sqlite3.connect(archive)
    try:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        count = connection.execute("SELECT count(*) FROM enrolments").fetchone()[0]
    finally:
        connection.close()
    assert mode == "delete"
    assert count == 4


def test_restore_rejected_while_campaign_open(store, tmp_path):
    campaign_id = _build_school(store)
    archive = tmp_path / "apkit.sauvegarde"
    backup(store, archive)
    with store.write() as session:
        session.get(Campaign, campaign_id).status = CampaignStatus.OPEN
        session.execute(text("DELETE FROM enrolments"))

    with pytest.raises(BackupError, match=r"1 campagne\(s\) ouverte\(s\)") as caught:
        restore(store, archive)
    assert caught.value.path == archive
    assert _enrolments(store) == set()

    restore(store, archive, force=True)
    assert len(_enrolments(store)) == 4


def test_restore_rejects_other_backend(sqlite_store, postgres_store, tmp_path):
    archive = tmp_path / "apkit.sqlite"
    backup(sqlite_store, archive)
    with pytest.raises(
        BackupError, match="est une sauvegarde sqlite, mais la base est"
    ):
        restore(postgres_store, archive)


def test_restore_rejects_unknown_revision(sqlite_store, tmp_path):
    archive = tmp_path / "apkit.sqlite"
    backup(sqlite_store, archive)
    connection = sqlite3.connect(archive)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    with pytest.raises(BackupError, match="a le schéma « 9999 », inconnu"):
        restore(sqlite_store, archive)


def test_inspect_backup_rejects_other_file(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("pas une base", encoding="utf-8")
    with pytest.raises(BackupError, match="n'est pas une sauvegarde apkit") as caught:
        inspect_backup(other)
    assert caught.value.path == other
    with pytest.raises(BackupError, match="Sauvegarde introuvable"):
        inspect_backup(tmp_path / "absent.sqlite")


def test_cli_backup_and_restore(sqlite_store, tmp_path, capsys):
    _build_school(sqlite_store)
    archive = tmp_path / "sauvegarde.sqlite"
    database = ["--database", sqlite_store.url]

    assert main([*database, "backup", str(archive)]) == 0
    assert f"Sauvegarde écrite : {archive}" in capsys.readouterr().out
    with sqlite_store.write() as session:
        session.execute(text("DELETE FROM enrolments"))

    assert main([*database, "restore", str(archive)]) == 0
    assert "Base restaurée depuis" in capsys.readouterr().out
    assert len(_enrolments(sqlite_store)) == 4

    assert main([*database, "restore", str(tmp_path / "absent.sqlite")]) == 2
    assert "Sauvegarde introuvable" in capsys.readouterr().err
