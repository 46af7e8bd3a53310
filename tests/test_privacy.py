"""Data protection: the export of one student and the purge of a finished year."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from apkit import audit
from apkit.cli import main
from apkit.errors import NotFoundError
from apkit.model import (
    AccessCode,
    Activity,
    ActivityEligibility,
    AuditEntry,
    Block,
    Campaign,
    Division,
    Enrolment,
    EnrolmentSource,
    LoginFailure,
    MessageLog,
    Period,
    Preference,
    Publication,
    Role,
    Student,
    Teacher,
)
from apkit.privacy import PurgeError, export_student, purge_school_year
from apkit.store import Store

OLD_YEAR_END = dt.date(2025, 6, 27)
NEW_YEAR_END = dt.date(2026, 6, 5)


def _period(code: str, year: str, start: dt.date, end: dt.date) -> Period:
    return Period(
        code=code, name=code, school_year=year, start_date=start, end_date=end
    )


def _student(source_id: str, name: str, division: Division, **fields) -> Student:
    return Student(
        source_id=source_id,
        last_name=name,
        first_name="Inès",
        name_key=f"{name.lower()} ines",
        division=division,
        **fields,
    )


def _enrol(session, campaign: Campaign, student: Student, activity: Activity) -> None:
    session.add(
        Enrolment(
            campaign_id=campaign.id,
            student_id=student.id,
            slot=1,
            activity_id=activity.id,
            source=EnrolmentSource.SIGNUP,
        )
    )
    session.add(
        Preference(
            campaign_id=campaign.id,
            student_id=student.id,
            slot=1,
            rank=1,
            activity_id=activity.id,
        )
    )


def _build_two_years(store: Store) -> dict[str, int]:
    """Build 2024-2025 (finished) and 2025-2026, and return the students' ids.

    ``staying`` has history in both years; ``leaver`` left during 2024-2025 and has
    history there only; ``late_leaver`` left in 2025-2026; ``returning`` left in
    2024-2025 but has an enrolment in 2025-2026.
    """
    with store.write() as session:
        block = Block(name="A")
        division = Division(name="2de1", block=block)
        teacher = Teacher(source_id="T01", last_name="ROBERT", first_name="Anne")
        old = _period("2425P1", "2024-2025", dt.date(2024, 9, 16), OLD_YEAR_END)
        new = _period("P1", "2025-2026", dt.date(2025, 9, 15), NEW_YEAR_END)
        campaigns = [Campaign(period=period, block=block) for period in (old, new)]
        activities = [
            Activity(
                campaign=campaign,
                code="A1",
                title="Débat",
                teacher=teacher,
                room="C3",
                capacity=10,
                first_slot=1,
            )
            for campaign in campaigns
        ]
        left = dt.date(2025, 2, 14)
        students = {
            "staying": _student("STU001", "DURAND", division, email="d@example.org"),
            "leaver": _student(
                "STU002", "ZIELIŃSKA", division, left_on=left, email="z@example.org"
            ),
            "late_leaver": _student(
                "STU003", "MOREAU", division, left_on=dt.date(2025, 11, 7)
            ),
            "returning": _student("STU004", "BA", division, left_on=left),
        }
        session.add_all([*activities, *students.values()])
        session.flush()

        for student in students.values():
            _enrol(session, campaigns[0], student, activities[0])
        for key in ("staying", "late_leaver", "returning"):
            _enrol(session, campaigns[1], students[key], activities[1])

        leaver = students["leaver"]
        session.add(
            ActivityEligibility(activity_id=activities[0].id, student_id=leaver.id)
        )
        session.add(
            AccessCode(
                role=Role.STUDENT,
                student_id=leaver.id,
                label="ZIELIŃSKA Inès",
                lookup="ABCD",
                code_hash="scrypt$secret-hash",
            )
        )
        moved = audit.record(
            session,
            actor="prof:ROBERT Anne",
            action="move",
            campaign_id=campaigns[0].id,
            student_id=leaver.id,
            before={"activity": "A0"},
            after={"activity": "A1"},
            reason="erreur",
        )
        undo = audit.record(
            session,
            actor="prof:ROBERT Anne",
            action="undo",
            campaign_id=campaigns[0].id,
            student_id=leaver.id,
        )
        moved.undone_by = undo.id
        audit.record(session, actor="student:ZIELIŃSKA Inès", action="login")
        audit.record(
            session,
            actor="student:ZIELIŃSKA Inès",
            action="signup",
            campaign_id=campaigns[0].id,
        )
        audit.record(
            session, actor="coordination", action="open", campaign_id=campaigns[1].id
        )

        publication = Publication(campaign_id=campaigns[0].id, folder="old", files=[])
        session.add(publication)
        session.flush()
        session.add(
            MessageLog(
                publication_id=publication.id,
                recipient="z@example.org",
                subject="Vos groupes d'AP",
                status="sent",
            )
        )
        session.add(LoginFailure(at=dt.datetime(2025, 3, 1, 8), client="10.0.0.1"))
        session.add(LoginFailure(at=dt.datetime(2025, 10, 1, 8), client="10.0.0.2"))
        ids = {key: student.id for key, student in students.items()}
        ids["old_campaign"], ids["new_campaign"] = campaigns[0].id, campaigns[1].id
        return ids


def _count(store: Store, entity, *conditions) -> int:
    with store.read() as session:
        query = select(func.count()).select_from(entity).where(*conditions)
        return session.scalar(query)


def test_export_student_gathers_everything(store):
    ids = _build_two_years(store)

    exported = export_student(store, "STU002")

    assert exported["identite"]["nom"] == "ZIELIŃSKA"
    assert exported["identite"]["depart"] == "2025-02-14"
    assert exported["identite"]["courriel"] == "z@example.org"
    assert exported["classe"] == {"classe": "2de1", "barrette": "A"}
    assert [row["periode"] for row in exported["inscriptions"]] == ["2425P1"]
    assert exported["inscriptions"][0]["professeur"] == "ROBERT Anne"
    assert exported["inscriptions"][0]["origine"] == "signup"
    assert [row["rang"] for row in exported["choix"]] == [1]
    assert exported["autorisations"] == [{"activite": "A1", "intitule": "Débat"}]
    actions = [entry["action"] for entry in exported["journal"]]
    assert actions == ["move", "undo", "login", "signup"]
    assert exported["codes_acces"][0]["libelle"] == "ZIELIŃSKA Inès"
    assert exported["messages"][0]["statut"] == "sent"

    text = json.dumps(exported, ensure_ascii=False)
    assert "secret-hash" not in text
    assert "ABCD" not in text
    assert export_student(store, ids["leaver"]) == exported


def test_export_student_unknown_id(store):
    with pytest.raises(NotFoundError, match="Élève introuvable : « STU999 »"):
        export_student(store, "STU999")


def test_purge_finished_year(store):
    ids = _build_two_years(store)

    report = purge_school_year(
        store, "2024-2025", actor="coordination", today=dt.date(2025, 9, 1)
    )

    assert report.periods == 1
    assert report.campaigns == 1
    assert report.activities == 1
    assert report.enrolments == 4
    assert report.preferences == 4
    assert report.publications == 1
    assert report.messages == 1
    assert report.students == 1
    assert report.access_codes == 1
    assert report.login_failures == 1
    # move, undo and signup through the campaign; login through the student.
    assert report.audit_entries == 4

    with store.read() as session:
        remaining = set(session.scalars(select(Student.source_id)))
        years = set(session.scalars(select(Period.school_year)))
        kept_audit = list(session.scalars(select(AuditEntry.action)))
    assert remaining == {"STU001", "STU003", "STU004"}
    assert years == {"2025-2026"}
    assert sorted(kept_audit) == ["open", "purge_year"]
    assert _count(store, Enrolment) == 3
    assert _count(store, Enrolment, Enrolment.campaign_id == ids["new_campaign"]) == 3
    assert _count(store, LoginFailure) == 1


def test_purge_records_counts_in_audit(store):
    _build_two_years(store)
    purge_school_year(store, "2024-2025", actor="coordination")
    with store.read() as session:
        query = select(AuditEntry).where(AuditEntry.action == "purge_year")
        actor, student_id, after = session.execute(
            query.with_only_columns(
                AuditEntry.actor, AuditEntry.student_id, AuditEntry.after
            )
        ).one()
    assert actor == "coordination"
    assert student_id is None
    assert after["students"] == 1
    assert after["school_year"] == "2024-2025"


def test_purge_unfinished_year_rejected(store):
    _build_two_years(store)
    with pytest.raises(
        PurgeError, match="L'année 2025-2026 n'est pas terminée"
    ) as caught:
        purge_school_year(
            store, "2025-2026", actor="coordination", today=dt.date(2026, 1, 10)
        )
    assert caught.value.school_year == "2025-2026"
    assert _count(store, Period) == 2
    assert _count(store, Enrolment) == 7


def test_purge_unfinished_year_forced(store):
    _build_two_years(store)
    report = purge_school_year(
        store, "2025-2026", actor="coordination", force=True, today=dt.date(2026, 1, 10)
    )
    assert report.enrolments == 3
    # MOREAU left during 2025-2026 but is kept, because their 2024-2025 history
    # stays until that year is purged too.
    assert report.students == 0
    with store.read() as session:
        remaining = set(session.scalars(select(Student.source_id)))
    assert remaining == {"STU001", "STU002", "STU003", "STU004"}

    again = purge_school_year(store, "2024-2025", actor="coordination")
    # MOREAU left after 2024-2025 ended, so only a purge of a later year deletes them.
    assert again.students == 2
    with store.read() as session:
        remaining = set(session.scalars(select(Student.source_id)))
    assert remaining == {"STU001", "STU003"}


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2025", "Année scolaire invalide : « 2025 »"),
        ("2025-2027", "Année scolaire invalide : « 2025-2027 »"),
        ("2019-2020", "Aucune période de l'année 2019-2020"),
    ],
)
def test_purge_bad_year_rejected(database_store, year, message):
    _build_two_years(database_store)
    with pytest.raises(PurgeError, match=message) as caught:
        purge_school_year(database_store, year, actor="coordination")
    assert caught.value.school_year == year
    assert _count(database_store, Student) == 4


def test_purge_preview_deletes_nothing(store):
    _build_two_years(store)
    preview = purge_school_year(store, "2024-2025", actor="coordination", preview=True)
    assert preview.students == 1
    assert preview.enrolments == 4
    assert _count(store, Student) == 4
    assert _count(store, Enrolment) == 7
    assert _count(store, AuditEntry, AuditEntry.action == "purge_year") == 0


def test_cli_export_and_purge(database_store, tmp_path, capsys):
    _build_two_years(database_store)
    database = ["--database", database_store.url]
    target = tmp_path / "export" / "STU002.json"

    assert main([*database, "export-student", "STU002", "--output", str(target)]) == 0
    exported = json.loads(target.read_text("utf-8"))
    assert exported["identite"]["nom"] == "ZIELIŃSKA"

    assert main([*database, "purge-year", "2024-2025"]) == 0
    preview = capsys.readouterr().out
    assert "rien n'a été supprimé. Relancez avec --yes" in preview
    assert "élèves partis : 1" in preview
    assert _count(database_store, Student) == 4

    assert main([*database, "--json", "purge-year", "2024-2025", "--yes"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["deleted"] is True
    assert result["students"] == 1
    assert _count(database_store, Student) == 3
