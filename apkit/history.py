"""Students over the year: their groups period by period, the unplaced, name search.

The history lists the groups a student has been in,, one row per period
and slot, so the school's summary table and the no-repeat rule of
:func:`apkit.corrections.place_unplaced` read the same facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from apkit.campaigns import block_students, get_campaign
from apkit.errors import NotFoundError
from apkit.model import (
    Activity,
    Campaign,
    CampaignMode,
    Division,
    Enrolment,
    Period,
    Preference,
    Student,
)
from apkit.names import fold, sort_key
from apkit.store import Store

UNPLACED_REASONS = {
    "no_preference": "aucun vœu",
    "preferences_unmet": "vœux donnés, sans place",
    "not_signed_up": "pas inscrit",
    "not_placed": "non placé",
}


@dataclass(frozen=True)
class HistoryRow:
    """One period and slot of a student's year; ``activity_id`` is None if unplaced."""

    period_code: str
    period_name: str
    slot: int
    campaign_id: int | None
    activity_id: int | None = None
    activity_code: str | None = None
    title: str | None = None
    teacher: str | None = None
    room: str | None = None
    source: str | None = None
    locked: bool = False


@dataclass(frozen=True)
class StudentRow:
    """A student as listed by :func:`find_students`."""

    student_id: int
    source_id: str
    last_name: str
    first_name: str
    class_name: str | None
    block: str | None
    left_on: dt.date | None


@dataclass(frozen=True)
class UnplacedStudent:
    """A student with no place in one slot of a campaign.

    ``reason`` is one of :data:`UNPLACED_REASONS` keys; ``reason_text`` its French.
    """

    student_id: int
    source_id: str
    last_name: str
    first_name: str
    class_name: str
    slot: int
    reason: str

    @property
    def reason_text(self) -> str:
        return UNPLACED_REASONS[self.reason]


def teacher_name(activity: Activity) -> str | None:
    """Return ``LAST First`` of the activity's teacher, or None."""
    if activity.teacher is None:
        return None
    return f"{activity.teacher.last_name} {activity.teacher.first_name}"


def student_history(
    store: Store, student_id: int, *, school_year: str | None = None
) -> list[HistoryRow]:
    """Return the student's places in every period of the year, period by period.

    Every slot of the student's block appears, placed or not, so the rows make a
    complete table. ``school_year`` defaults to the latest one of the periods.

    Raises
    ------
    NotFoundError
        If the student does not exist.
    """
    with store.read() as session:
        student = session.get(Student, student_id)
        if student is None:
            raise NotFoundError(f"Élève introuvable : n° {student_id}")
        school_year = school_year or session.scalar(
            select(func.max(Period.school_year))
        )
        periods = session.scalars(
            select(Period)
            .where(Period.school_year == school_year)
            .order_by(Period.start_date)
        )
        by_period = _enrolments_by_period(session, student_id, school_year)
        block_id = student.division.block_id if student.division else None
        rows: list[HistoryRow] = []
        for period in periods:
            rows += _period_rows(
                session, period, block_id, by_period.get(period.id, [])
            )
        return rows


def _enrolments_by_period(
    session: Session, student_id: int, school_year: str | None
) -> dict[int, list[Enrolment]]:
    statement = (
        select(Enrolment, Campaign.period_id)
        .join(Campaign, Enrolment.campaign_id == Campaign.id)
        .join(Period, Campaign.period_id == Period.id)
        .where(Enrolment.student_id == student_id, Period.school_year == school_year)
        .options(selectinload(Enrolment.activity).selectinload(Activity.teacher))
    )
    held: dict[int, list[Enrolment]] = {}
    for enrolment, period_id in session.execute(statement):
        held.setdefault(period_id, []).append(enrolment)
    return held


def _period_rows(
    session: Session, period: Period, block_id: int | None, held: list[Enrolment]
) -> list[HistoryRow]:
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.period_id == period.id, Campaign.block_id == block_id
        )
    )
    if held:
        campaign = session.get_one(Campaign, held[0].campaign_id)
    campaign_id = campaign.id if campaign else None
    slot_count = campaign.block.slot_count if campaign else 0
    by_slot = {enrolment.slot: enrolment for enrolment in held}
    rows = []
    for slot in sorted(set(range(1, slot_count + 1)) | set(by_slot)):
        enrolment = by_slot.get(slot)
        if enrolment is None:
            rows.append(HistoryRow(period.code, period.name, slot, campaign_id))
            continue
        activity = enrolment.activity
        rows.append(
            HistoryRow(
                period.code,
                period.name,
                slot,
                enrolment.campaign_id,
                activity.id,
                activity.code,
                activity.title,
                teacher_name(activity),
                activity.room,
                str(enrolment.source),
                enrolment.locked,
            )
        )
    return rows


def earlier_activities(
    session: Session, student_id: int, period: Period
) -> set[tuple[str, int | None]]:
    """Return (folded title, teacher id) of the student's groups in earlier periods.

    Only periods of the same school year that start before ``period`` count.
    """
    statement = (
        select(Activity.title, Activity.teacher_id)
        .join(Enrolment, Enrolment.activity_id == Activity.id)
        .join(Campaign, Enrolment.campaign_id == Campaign.id)
        .join(Period, Campaign.period_id == Period.id)
        .where(Enrolment.student_id == student_id)
        .where(Period.school_year == period.school_year)
        .where(Period.start_date < period.start_date)
    )
    return {(fold(title), teacher) for title, teacher in session.execute(statement)}


def unplaced_students(
    store: Store, campaign_id: int, *, slot: int | None = None
) -> list[UnplacedStudent]:
    """Return the active students of the block with no place in a slot.

    Rows come in French alphabetical order, then by slot. Students who gave no
    preference for the slot are reported with the reason ``"no_preference"``.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        return unplaced_in_session(session, campaign, slot=slot)


def unplaced_in_session(
    session: Session, campaign: Campaign, *, slot: int | None = None
) -> list[UnplacedStudent]:
    """Return :func:`unplaced_students` inside an open session."""
    placed = {
        (student_id, number)
        for student_id, number in session.execute(
            select(Enrolment.student_id, Enrolment.slot).where(
                Enrolment.campaign_id == campaign.id
            )
        )
    }
    ranked = {
        (student_id, number)
        for student_id, number in session.execute(
            select(Preference.student_id, Preference.slot).where(
                Preference.campaign_id == campaign.id
            )
        )
    }
    slots = [slot] if slot is not None else range(1, campaign.block.slot_count + 1)
    students = sorted(
        block_students(session, campaign.block_id),
        key=lambda s: sort_key(s.last_name, s.first_name),
    )
    return [
        UnplacedStudent(
            student.id,
            student.source_id,
            student.last_name,
            student.first_name,
            student.division.name if student.division else "",
            number,
            _unplaced_reason(campaign, (student.id, number) in ranked),
        )
        for student in students
        for number in slots
        if (student.id, number) not in placed
    ]


def _unplaced_reason(campaign: Campaign, ranked: bool) -> str:
    if campaign.mode == CampaignMode.PREFERENCES:
        return "preferences_unmet" if ranked else "no_preference"
    if campaign.mode == CampaignMode.LIVE:
        return "not_signed_up"
    return "not_placed"


def find_students(
    store: Store, query: str, *, block_id: int | None = None, limit: int = 50
) -> list[StudentRow]:
    """Find students whose name contains every word of ``query``.

    Case, accents, hyphens and apostrophes are ignored (``"dhaussy anne"`` finds
    D'HAUSSY Anne-Claire); results come in French alphabetical order.
    """
    words = fold(query).split()
    if not words:
        return []
    statement = select(Student).options(
        selectinload(Student.division).selectinload(Division.block)
    )
    # Also match against the key without spaces, so "legoff" finds LE GOFF.
    joined = func.replace(Student.name_key, " ", "")
    for word in words:
        statement = statement.where(
            or_(
                Student.name_key.contains(word, autoescape=True),
                joined.contains(word, autoescape=True),
            )
        )
    if block_id is not None:
        statement = statement.join(Division).where(Division.block_id == block_id)
    with store.read() as session:
        students = sorted(
            session.scalars(statement),
            key=lambda s: sort_key(s.last_name, s.first_name),
        )
        return [_student_row(student) for student in students[:limit]]


def _student_row(student: Student) -> StudentRow:
    division = student.division
    return StudentRow(
        student.id,
        student.source_id,
        student.last_name,
        student.first_name,
        division.name if division else None,
        division.block.name if division and division.block else None,
        student.left_on,
    )
