"""Live sign-up: a student takes a place in an activity, first come, first served.

Every change runs in one :meth:`Store.write` transaction that locks the student's
row, then the activities involved, in id order, before counting places, so a group
never goes over capacity however many students sign up at once. SQLite gets the
same guarantee from its database-wide write lock. Corrections
(:mod:`apkit.corrections`) reuse :func:`replace_enrolments`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apkit import audit
from apkit.campaigns import (
    MODE_LABELS,
    STATUS_LABELS,
    campaign_label,
    get_campaign,
    is_active,
    is_eligible,
)
from apkit.errors import CampaignError, CapacityError, EligibilityError, NotFoundError
from apkit.model import (
    Activity,
    ActivityEligibility,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    Student,
)
from apkit.store import Store, lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupResult:
    """Outcome of a sign-up.

    ``status`` is ``"enrolled"`` (no place before in those slots), ``"moved"``
    (earlier enrolments replaced, listed in ``replaced`` as activity codes),
    ``"removed"`` (by :func:`unenrol`) or ``"unchanged"`` (nothing written).
    """

    status: str
    activity_id: int | None
    activity_code: str | None
    slots: tuple[int, ...]
    replaced: tuple[str, ...] = ()
    places_left: int | None = None
    audit_id: int | None = None


def student_label(student: Student) -> str:
    """Return ``LAST First (class)`` for messages."""
    class_name = student.division.name if student.division else "sans classe"
    return f"{student.last_name} {student.first_name} ({class_name})"


def activity_label(activity: Activity) -> str:
    """Return ``code « title »`` for messages."""
    return f"{activity.code} « {activity.title} »"


def lock_student(session: Session, student_id: int) -> Student:
    """Lock the student's row for the transaction and return it.

    Raises
    ------
    NotFoundError
        If no student has this id.
    """
    locked = lock(session, Student, [student_id])
    if not locked:
        raise NotFoundError(f"Élève introuvable : n° {student_id}")
    return locked[0]


def get_activity(session: Session, campaign: Campaign, activity_id: int) -> Activity:
    """Return an activity of the campaign that is not cancelled.

    Raises
    ------
    NotFoundError
        If no activity has this id.
    CampaignError
        If it belongs to another campaign or is cancelled.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFoundError(f"Atelier introuvable : n° {activity_id}")
    if activity.campaign_id != campaign.id:
        raise CampaignError(
            f"L'atelier {activity_label(activity)} n'appartient pas à la campagne "
            f"{campaign_label(campaign)} ; choisissez un atelier de cette campagne"
        )
    if activity.cancelled:
        raise CampaignError(
            f"L'atelier {activity_label(activity)} est annulé ; choisissez-en un autre"
        )
    return activity


def check_student(campaign: Campaign, student: Student) -> None:
    """Check that the student is still at school and belongs to the campaign's block.

    Raises
    ------
    EligibilityError
        If the student left or is in another block.
    """
    if not is_active(student):
        raise EligibilityError(
            f"{student_label(student)} a quitté l'établissement le "
            f"{student.left_on:%d/%m/%Y} ; aucune inscription n'est possible"
        )
    if student.division is None or student.division.block_id != campaign.block_id:
        raise EligibilityError(
            f"{student_label(student)} n'est pas de la barrette "
            f"{campaign.block.name} ; choisissez la campagne de sa barrette"
        )


def check_eligible(session: Session, activity: Activity, student: Student) -> None:
    """Check that the student may join the activity.

    Raises
    ------
    EligibilityError
        If the activity is restricted to other classes or students.
    """
    named = set(
        session.scalars(
            select(ActivityEligibility.student_id).where(
                ActivityEligibility.activity_id == activity.id
            )
        )
    )
    if is_eligible(activity, student, named):
        return
    classes = ", ".join(activity.eligible_divisions)
    audience = f"aux classes {classes}" if classes else ""
    if named:
        audience += " et " if audience else ""
        audience += "à des élèves désignés"
    raise EligibilityError(
        f"L'atelier {activity_label(activity)} est réservé {audience} ; "
        f"{student_label(student)} n'y a pas accès"
    )


def enrolled_count(session: Session, activity: Activity) -> int:
    """Return how many students hold a place in the activity (a project counts once)."""
    statement = select(func.count(Enrolment.id)).where(
        Enrolment.activity_id == activity.id, Enrolment.slot == activity.first_slot
    )
    return int(session.scalar(statement) or 0)


def enrolled_counts(session: Session, campaign_id: int) -> dict[int, int]:
    """Return the number of students in each activity of a campaign that has any."""
    statement = (
        select(Enrolment.activity_id, func.count(Enrolment.id))
        .join(Activity, Enrolment.activity_id == Activity.id)
        .where(Enrolment.campaign_id == campaign_id)
        .where(Enrolment.slot == Activity.first_slot)
        .group_by(Enrolment.activity_id)
    )
    return {
        activity_id: int(count) for activity_id, count in session.execute(statement)
    }


def student_enrolments(
    session: Session, campaign_id: int, student_id: int
) -> list[Enrolment]:
    """Return the student's enrolments in a campaign, by slot."""
    statement = (
        select(Enrolment)
        .where(Enrolment.campaign_id == campaign_id)
        .where(Enrolment.student_id == student_id)
        .order_by(Enrolment.slot)
    )
    return list(session.scalars(statement))


def snapshot(rows: list[Enrolment]) -> dict[str, Any]:
    """Return enrolments as the JSON an audit entry keeps and :func:`undo` restores."""
    return {
        "enrolments": [
            {
                "slot": row.slot,
                "activity_id": row.activity_id,
                "activity": row.activity.code,
                "source": str(row.source),
                "locked": row.locked,
                "rank": row.rank,
                "reason": row.reason,
            }
            for row in sorted(rows, key=lambda r: r.slot)
        ]
    }


def rows_replaced_by(rows: list[Enrolment], slots: tuple[int, ...]) -> list[Enrolment]:
    """Return the rows a place in ``slots`` replaces, with both halves of a project."""
    hit = {row.activity_id for row in rows if row.slot in slots}
    return [row for row in rows if row.slot in slots or row.activity_id in hit]


def replace_enrolments(
    session: Session,
    campaign: Campaign,
    student: Student,
    activity: Activity,
    *,
    source: EnrolmentSource,
    locked: bool,
    reason: str = "",
    over_capacity: bool = False,
    keep_locked: bool = False,
) -> tuple[list[Enrolment], list[Enrolment]]:
    """Put the student in the activity, replacing what they had in its slots.

    The student's row must already be locked. Returns the rows removed and the
    rows added; both are empty when the student already has this activity.
    With ``over_capacity``, a place taken in a full activity gets the source
    ``FORCED`` instead of ``source``. With ``keep_locked``, a locked place (a
    correction or a prescription) is never replaced.

    Raises
    ------
    CapacityError
        If the activity is full and ``over_capacity`` is false.
    CampaignError
        If a locked place would be replaced under ``keep_locked``, or a
        concurrent writer inserted a place for the same slot.
    """
    current = student_enrolments(session, campaign.id, student.id)
    in_slots = [row for row in current if row.slot in activity.slots]
    if len(in_slots) == activity.slot_span and all(
        row.activity_id == activity.id for row in in_slots
    ):
        return [], []

    removed = rows_replaced_by(current, activity.slots)
    if keep_locked:
        check_not_locked(student, removed)
    lock(session, Activity, sorted({activity.id, *(r.activity_id for r in removed)}))
    enrolled = enrolled_count(session, activity)
    if enrolled >= activity.capacity and not over_capacity:
        raise CapacityError(
            f"Atelier complet : {activity_label(activity)} a {activity.capacity} "
            f"places, toutes prises ; choisissez un autre atelier",
            activity=activity.code,
            capacity=activity.capacity,
            enrolled=enrolled,
        )

    if enrolled >= activity.capacity:
        source = EnrolmentSource.FORCED
    for row in removed:
        session.delete(row)
    added = [
        Enrolment(
            campaign_id=campaign.id,
            student_id=student.id,
            slot=slot,
            activity=activity,
            source=source,
            locked=locked,
            reason=reason,
        )
        for slot in activity.slots
    ]
    _flush_replacement(session, added)
    return removed, added


def check_not_locked(student: Student, rows: list[Enrolment]) -> None:
    """Check that none of the rows is a place fixed by a teacher or the coordinator.

    Raises
    ------
    CampaignError
        If a row is locked.
    """
    for row in rows:
        if row.locked:
            raise CampaignError(
                f"La place de {student_label(student)} à l'heure {row.slot} "
                f"({activity_label(row.activity)}) a été fixée par un enseignant ou "
                "le coordinateur ; eux seuls peuvent la changer"
            )


def _flush_replacement(session: Session, added: list[Enrolment]) -> None:
    # Deletes must reach the database before the inserts, or the unique
    # (campaign, student, slot) constraint would see both rows at once.
    try:
        session.flush()
        session.add_all(added)
        session.flush()
    except IntegrityError as exc:
        raise CampaignError(
            "Inscription modifiée en même temps par une autre action ; réessayez"
        ) from exc


def enrol(
    store: Store, campaign_id: int, student_id: int, activity_id: int, *, actor: str
) -> SignupResult:
    """Sign a student up for an activity of an open live campaign.

    Choosing again moves the student in one step: what they had in the activity's
    slots is replaced, both halves of a project included, unless a teacher or the
    coordinator fixed it (a locked place). Saving the same choice again writes
    nothing and returns ``"unchanged"``.

    Raises
    ------
    CampaignError
        If the campaign is not open, not in live mode, the activity is of
        another campaign or cancelled, or the place to replace is locked.
    EligibilityError
        If the student left, is of another block, or may not join the activity.
    CapacityError
        If the activity is full.
    NotFoundError
        If the campaign, student or activity does not exist.
    """
    with store.write() as session:
        student = lock_student(session, student_id)
        campaign = get_campaign(session, campaign_id)
        check_live_and_open(campaign)
        activity = get_activity(session, campaign, activity_id)
        check_student(campaign, student)
        check_eligible(session, activity, student)

        removed, added = replace_enrolments(
            session,
            campaign,
            student,
            activity,
            source=EnrolmentSource.SIGNUP,
            locked=False,
            keep_locked=True,
        )
        left = activity.capacity - enrolled_count(session, activity)
        if not added:
            return SignupResult(
                "unchanged", activity.id, activity.code, activity.slots, (), left
            )
        entry = audit.record(
            session,
            actor=actor,
            action="enrol",
            campaign_id=campaign.id,
            student_id=student.id,
            before=snapshot(removed),
            after=snapshot(added),
        )
        return SignupResult(
            "moved" if removed else "enrolled",
            activity.id,
            activity.code,
            activity.slots,
            tuple(dict.fromkeys(row.activity.code for row in removed)),
            left,
            entry.id,
        )


def unenrol(
    store: Store,
    campaign_id: int,
    student_id: int,
    *,
    actor: str,
    slot: int | None = None,
) -> SignupResult:
    """Give up the student's place in ``slot`` (a whole project), or in every slot.

    Raises
    ------
    CampaignError
        If the campaign is not open or not in live mode, or the place is locked.
    NotFoundError
        If the campaign or the student does not exist.
    """
    with store.write() as session:
        student = lock_student(session, student_id)
        campaign = get_campaign(session, campaign_id)
        check_live_and_open(campaign)
        current = student_enrolments(session, campaign.id, student.id)
        slots = tuple(r.slot for r in current) if slot is None else (slot,)
        removed = rows_replaced_by(current, slots)
        if not removed:
            return SignupResult("unchanged", None, None, slots)
        check_not_locked(student, removed)

        for row in removed:
            session.delete(row)
        entry = audit.record(
            session,
            actor=actor,
            action="unenrol",
            campaign_id=campaign.id,
            student_id=student.id,
            before=snapshot(removed),
            after=snapshot([]),
        )
        codes = tuple(dict.fromkeys(row.activity.code for row in removed))
        removed_slots = tuple(sorted(r.slot for r in removed))
        return SignupResult(
            "removed", None, None, removed_slots, codes, audit_id=entry.id
        )


def places_left(store: Store, campaign_id: int) -> dict[int, int]:
    """Return the places left in each activity of the campaign, by activity id.

    A cancelled activity has none; a group filled over capacity on purpose
    counts as 0, never below.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        counts = enrolled_counts(session, campaign.id)
        return {
            a.id: 0 if a.cancelled else max(0, a.capacity - counts.get(a.id, 0))
            for a in campaign.activities
        }


def check_live_and_open(campaign: Campaign) -> None:
    """Check that students may sign up themselves now.

    Raises
    ------
    CampaignError
        If the campaign is not open or does not run in live mode.
    """
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(
            f"La campagne {campaign_label(campaign)} n'est pas ouverte "
            f"(statut : {STATUS_LABELS[campaign.status]}) ; "
            "les inscriptions sont impossibles"
        )
    if campaign.mode != CampaignMode.LIVE:
        hint = (
            "enregistrez des vœux classés"
            if campaign.mode == CampaignMode.PREFERENCES
            else "les groupes sont formés par rotation"
        )
        raise CampaignError(
            f"La campagne {campaign_label(campaign)} n'est pas en inscription "
            f"directe (mode : {MODE_LABELS[campaign.mode]}) ; {hint}"
        )
