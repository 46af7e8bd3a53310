"""Data protection: what apkit holds on one student, and the purge of a finished year.

:func:`export_student` gathers everything stored on one student, for a request of
access under the GDPR (article 15). :func:`purge_school_year` deletes a finished
school year: its periods, campaigns, activities, enrolments, preferences,
publications, messages and audit entries, and the students who left before the
year ended and have no history in a later year. The roster of current students,
the divisions, the blocks and the teachers are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import CompoundSelect, delete, func, or_, select, union, update
from sqlalchemy.orm import Session

from apkit import audit
from apkit.errors import ApkitError, NotFoundError
from apkit.model import (
    AccessCode,
    Activity,
    ActivityEligibility,
    AuditEntry,
    Block,
    Campaign,
    Division,
    Enrolment,
    LoginFailure,
    MessageLog,
    Period,
    Preference,
    Publication,
    Role,
    Student,
    Teacher,
)
from apkit.store import Store

log = logging.getLogger(__name__)

SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")


class PurgeError(ApkitError, ValueError):
    """A school year that cannot be purged: unknown, badly written or not finished.

    Attributes
    ----------
    school_year
        The year as given, such as ``"2025-2026"``.
    """

    def __init__(self, message: str, *, school_year: str) -> None:
        self.school_year = school_year
        super().__init__(message)


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted by :func:`purge_school_year`, by kind."""

    school_year: str
    periods: int
    campaigns: int
    activities: int
    enrolments: int
    preferences: int
    audit_entries: int
    publications: int
    messages: int
    students: int
    access_codes: int
    login_failures: int


# Export


def export_student(store: Store, student_id: int | str) -> dict[str, Any]:
    """Gather everything the database stores on one student, ready for JSON.

    Access codes are listed with their role, label and dates, but never their
    lookup prefix or hash, because the export may be handed over by e-mail.

    Parameters
    ----------
    store
        The school's database.
    student_id
        The database id (an ``int``) or the roster's identifier (a ``str`` such as
        ``"STU001"``).

    Returns
    -------
    dict
        Sections ``identite``, ``classe``, ``inscriptions``, ``choix``,
        ``autorisations``, ``journal``, ``codes_acces`` and ``messages``; dates and
        times are ISO 8601 strings.

    Raises
    ------
    NotFoundError
        If no student has this id.
    """
    with store.read() as session:
        student = _find_student(session, student_id)
        labels = _code_labels(session, student.id)
        return {
            "identite": _identity(student),
            "classe": _division(session, student),
            "inscriptions": _enrolments(session, student.id),
            "choix": _preferences(session, student.id),
            "autorisations": _eligibility(session, student.id),
            "journal": _audit_entries(session, student.id, labels),
            "codes_acces": _access_codes(session, student.id),
            "messages": _messages(session, student.email),
        }


def _find_student(session: Session, student_id: int | str) -> Student:
    if isinstance(student_id, int):
        student = session.get(Student, student_id)
    else:
        query = select(Student).where(Student.source_id == student_id.strip())
        student = session.scalar(query)
    if student is None:
        raise NotFoundError(
            f"Élève introuvable : « {student_id} » ; donnez l'identifiant du "
            "fichier élèves (par exemple STU001)"
        )
    return student


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _identity(student: Student) -> dict[str, Any]:
    return {
        "identifiant": student.source_id,
        "nom": student.last_name,
        "prenom": student.first_name,
        "date_naissance": _iso(student.birth_date),
        "sexe": student.sex,
        "courriel": student.email,
        "arrivee": _iso(student.arrived_on),
        "depart": _iso(student.left_on),
    }


def _division(session: Session, student: Student) -> dict[str, Any] | None:
    if student.division_id is None:
        return None
    division = session.get_one(Division, student.division_id)
    block = session.get(Block, division.block_id) if division.block_id else None
    return {"classe": division.name, "barrette": block.name if block else None}


def _campaign_columns():
    return (Period.school_year, Period.code, Block.name)


def _enrolments(session: Session, student_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Enrolment, Activity, Teacher, *_campaign_columns())
        .join(Activity, Enrolment.activity_id == Activity.id)
        .outerjoin(Teacher, Activity.teacher_id == Teacher.id)
        .join(Campaign, Enrolment.campaign_id == Campaign.id)
        .join(Period, Campaign.period_id == Period.id)
        .join(Block, Campaign.block_id == Block.id)
        .where(Enrolment.student_id == student_id)
        .order_by(Period.start_date, Block.name, Enrolment.slot)
    )
    return [
        {
            "annee": year,
            "periode": period,
            "barrette": block,
            "heure": enrolment.slot,
            "activite": activity.code,
            "intitule": activity.title,
            "professeur": f"{teacher.last_name} {teacher.first_name}"
            if teacher
            else None,
            "salle": activity.room,
            "origine": enrolment.source.value,
            "motif": enrolment.reason,
            "date": _iso(enrolment.created_at),
        }
        for enrolment, activity, teacher, year, period, block in rows
    ]


def _preferences(session: Session, student_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Preference, Activity.code, *_campaign_columns())
        .join(Activity, Preference.activity_id == Activity.id)
        .join(Campaign, Preference.campaign_id == Campaign.id)
        .join(Period, Campaign.period_id == Period.id)
        .join(Block, Campaign.block_id == Block.id)
        .where(Preference.student_id == student_id)
        .order_by(Period.start_date, Block.name, Preference.slot, Preference.rank)
    )
    return [
        {
            "annee": year,
            "periode": period,
            "barrette": block,
            "heure": preference.slot,
            "rang": preference.rank,
            "activite": code,
            "date": _iso(preference.updated_at),
        }
        for preference, code, year, period, block in rows
    ]


def _eligibility(session: Session, student_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Activity.code, Activity.title)
        .join(ActivityEligibility, ActivityEligibility.activity_id == Activity.id)
        .where(ActivityEligibility.student_id == student_id)
        .order_by(Activity.id)
    )
    return [{"activite": code, "intitule": title} for code, title in rows]


def _code_labels(session: Session, student_id: int) -> set[str]:
    query = select(AccessCode.label).where(AccessCode.student_id == student_id)
    return set(session.scalars(query))


def _audit_entries(
    session: Session, student_id: int, labels: set[str]
) -> list[dict[str, Any]]:
    # The student is named either as the entry's subject or as its actor, which
    # apkit.access writes as "student:<label of their code>".
    actors = [f"{Role.STUDENT.value}:{label}" for label in labels]
    query = (
        select(AuditEntry)
        .where(or_(AuditEntry.student_id == student_id, AuditEntry.actor.in_(actors)))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [
        {
            "date": _iso(entry.at),
            "auteur": entry.actor,
            "action": entry.action,
            "avant": entry.before,
            "apres": entry.after,
            "motif": entry.reason,
        }
        for entry in session.scalars(query)
    ]


def _access_codes(session: Session, student_id: int) -> list[dict[str, Any]]:
    query = (
        select(AccessCode)
        .where(AccessCode.student_id == student_id)
        .order_by(AccessCode.created_at)
    )
    return [
        {
            "role": code.role.value,
            "libelle": code.label,
            "cree_le": _iso(code.created_at),
            "revoque_le": _iso(code.revoked_at),
        }
        for code in session.scalars(query)
    ]


def _messages(session: Session, email: str | None) -> list[dict[str, Any]]:
    if not email:
        return []
    query = select(MessageLog).where(MessageLog.recipient == email)
    return [
        {
            "date": _iso(message.at),
            "objet": message.subject,
            "statut": message.status,
        }
        for message in session.scalars(query.order_by(MessageLog.at))
    ]


# Purge


def purge_school_year(
    store: Store,
    school_year: str,
    *,
    actor: str,
    force: bool = False,
    today: dt.date | None = None,
    preview: bool = False,
) -> PurgeReport:
    """Delete a finished school year and the leavers it concerned, in one transaction.

    A student is deleted when they left (``left_on``) on or before the year's last
    day and have no enrolment, preference or audit entry in a campaign that is
    kept. An audit entry ``purge_year`` with the counts, naming nobody, records the
    purge.

    Parameters
    ----------
    store
        The school's database.
    school_year
        The year as written in the periods, such as ``"2025-2026"``.
    actor
        Who runs the purge, for the audit log.
    force
        Purge even though the year's last period has not ended yet.
    today
        The current date; by default the computer's.
    preview
        Count what would be deleted, then roll the transaction back.

    Returns
    -------
    PurgeReport
        The number of rows deleted, by kind.

    Raises
    ------
    PurgeError
        If the year is badly written, has no period, or ends on or after ``today``
        without ``force``; nothing is deleted then.
    """
    _check_year_format(school_year)
    today = today or dt.date.today()
    # A read session always ends in a rollback, which is what a preview needs.
    with store.read() if preview else store.write() as session:
        year_end = _year_end(session, school_year)
        if year_end >= today and not force:
            raise PurgeError(
                f"L'année {school_year} n'est pas terminée : sa dernière période finit "
                f"le {year_end:%d/%m/%Y} ; attendez cette date ou forcez (--force)",
                school_year=school_year,
            )
        counts = _purge(session, school_year, year_end)
        report = PurgeReport(school_year=school_year, **counts)
        audit.record(session, actor=actor, action="purge_year", after=asdict(report))
    if preview:
        return report
    log.info("school year %s purged by %s: %s", school_year, actor, counts)
    return report


def _check_year_format(school_year: str) -> None:
    match = SCHOOL_YEAR.fullmatch(school_year)
    if match is None or int(match.group(2)) != int(match.group(1)) + 1:
        raise PurgeError(
            f"Année scolaire invalide : « {school_year} » ; écrivez-la comme "
            "« 2025-2026 »",
            school_year=school_year,
        )


def _year_end(session: Session, school_year: str) -> dt.date:
    query = select(func.max(Period.end_date)).where(Period.school_year == school_year)
    year_end = session.scalar(query)
    if year_end is None:
        raise PurgeError(
            f"Aucune période de l'année {school_year} dans la base ; vérifiez l'année "
            "(par exemple 2025-2026)",
            school_year=school_year,
        )
    return year_end


def _ids(session: Session, query) -> list[int]:
    return list(session.scalars(query))


def _delete(session: Session, entity, condition) -> int:
    statement = delete(entity).where(condition)
    options = {"synchronize_session": False}
    result = session.execute(statement, execution_options=options)
    return getattr(result, "rowcount", 0) or 0


def _clear_undone_by(session: Session, audit_ids) -> None:
    # An entry that stays may point at an undo entry being deleted.
    statement = (
        update(AuditEntry)
        .where(AuditEntry.undone_by.in_(audit_ids))
        .values(undone_by=None)
    )
    session.execute(statement, execution_options={"synchronize_session": False})


def _purge(session: Session, school_year: str, year_end: dt.date) -> dict[str, int]:
    period_ids = _ids(
        session, select(Period.id).where(Period.school_year == school_year)
    )
    campaign_ids = _ids(
        session, select(Campaign.id).where(Campaign.period_id.in_(period_ids))
    )
    leaver_ids = _leavers_without_later_history(session, campaign_ids, year_end)
    counts = _purge_campaigns(session, campaign_ids)
    student_counts = _purge_students(session, leaver_ids)
    counts["audit_entries"] += student_counts.pop("audit_entries")
    counts.update(student_counts)
    counts["login_failures"] = _delete(
        session,
        LoginFailure,
        LoginFailure.at < dt.datetime.combine(year_end, dt.time.max),
    )
    counts["periods"] = _delete(session, Period, Period.id.in_(period_ids))
    return counts


def _leavers_without_later_history(
    session: Session, purged_campaign_ids: list[int], year_end: dt.date
) -> list[int]:
    kept_ids = select(Campaign.id).where(~Campaign.id.in_(purged_campaign_ids))
    with_history: CompoundSelect = union(
        select(Enrolment.student_id).where(Enrolment.campaign_id.in_(kept_ids)),
        select(Preference.student_id).where(Preference.campaign_id.in_(kept_ids)),
        select(AuditEntry.student_id).where(
            AuditEntry.student_id.is_not(None), AuditEntry.campaign_id.in_(kept_ids)
        ),
    )
    query = select(Student.id).where(
        Student.left_on.is_not(None),
        Student.left_on <= year_end,
        Student.id.not_in(with_history),
    )
    return _ids(session, query)


def _purge_campaigns(session: Session, campaign_ids: list[int]) -> dict[str, int]:
    activity_ids = select(Activity.id).where(Activity.campaign_id.in_(campaign_ids))
    publication_ids = select(Publication.id).where(
        Publication.campaign_id.in_(campaign_ids)
    )
    audit_ids = select(AuditEntry.id).where(AuditEntry.campaign_id.in_(campaign_ids))
    _clear_undone_by(session, audit_ids)
    counts = {
        "messages": _delete(
            session, MessageLog, MessageLog.publication_id.in_(publication_ids)
        ),
        "publications": _delete(
            session, Publication, Publication.campaign_id.in_(campaign_ids)
        ),
        "audit_entries": _delete(
            session, AuditEntry, AuditEntry.campaign_id.in_(campaign_ids)
        ),
        "preferences": _delete(
            session, Preference, Preference.campaign_id.in_(campaign_ids)
        ),
        "enrolments": _delete(
            session, Enrolment, Enrolment.campaign_id.in_(campaign_ids)
        ),
    }
    _delete(
        session, ActivityEligibility, ActivityEligibility.activity_id.in_(activity_ids)
    )
    counts["activities"] = _delete(
        session, Activity, Activity.campaign_id.in_(campaign_ids)
    )
    counts["campaigns"] = _delete(session, Campaign, Campaign.id.in_(campaign_ids))
    return counts


def _purge_students(session: Session, student_ids: list[int]) -> dict[str, int]:
    labels = select(AccessCode.label).where(AccessCode.student_id.in_(student_ids))
    actors = [f"{Role.STUDENT.value}:{label}" for label in session.scalars(labels)]
    # An entry whose actor is one of these students and whose student_id is empty
    # (a log-in, for instance) concerns them alone. Two students of the same name
    # share a label, so an entry about another student is kept.
    naming = or_(
        AuditEntry.student_id.in_(student_ids),
        AuditEntry.actor.in_(actors) & AuditEntry.student_id.is_(None),
    )
    _clear_undone_by(session, select(AuditEntry.id).where(naming))
    audit_count = _delete(session, AuditEntry, naming)
    _delete(
        session, ActivityEligibility, ActivityEligibility.student_id.in_(student_ids)
    )
    return {
        "audit_entries": audit_count,
        "access_codes": _delete(
            session, AccessCode, AccessCode.student_id.in_(student_ids)
        ),
        "students": _delete(session, Student, Student.id.in_(student_ids)),
    }
