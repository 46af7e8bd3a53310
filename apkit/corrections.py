"""Corrections after sign-up or allocation: moves, forced moves, placements, undo.

Every correction is ``locked`` so a new allocation run keeps it, and every change
goes into the audit log with who, when, before, after and why, which is what
:func:`undo` restores from. A correction made after publishing marks the latest
publication as changed, so the lists are sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit import audit
from apkit.campaigns import (
    STATUS_LABELS,
    block_students,
    campaign_label,
    get_campaign,
    is_eligible,
    named_students,
)
from apkit.errors import AccessDenied, CampaignError, CapacityError, NotFoundError
from apkit.history import UnplacedStudent, earlier_activities, unplaced_in_session
from apkit.model import (
    Activity,
    AuditEntry,
    Campaign,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    Publication,
    Role,
    Student,
)
from apkit.names import fold
from apkit.signup import (
    activity_label,
    check_eligible,
    check_student,
    enrolled_count,
    enrolled_counts,
    get_activity,
    lock_student,
    replace_enrolments,
    snapshot,
    student_enrolments,
)
from apkit.store import Store, lock

log = logging.getLogger(__name__)

# Audit actions whose before/after hold enrolments that undo can restore.
UNDOABLE_ACTIONS = {"enrol", "unenrol", "move", "force", "place", "undo"}


@dataclass(frozen=True)
class Correction:
    """Outcome of a move, a placement or an undo.

    ``status`` is ``"moved"``, ``"placed"`` (the student had nothing in those
    slots), ``"undone"`` or ``"unchanged"`` (nothing written).
    """

    status: str
    student_id: int
    activity_id: int | None
    activity_code: str | None
    slots: tuple[int, ...]
    source: str | None = None
    replaced: tuple[str, ...] = ()
    audit_id: int | None = None


@dataclass
class PlacementReport:
    """The result of :func:`place_unplaced`: who was placed, who still is not."""

    placed: list[Correction] = field(default_factory=list)
    unplaced: list[UnplacedStudent] = field(default_factory=list)


def move_student(
    store: Store,
    campaign_id: int,
    student_id: int,
    activity_id: int,
    *,
    actor: str,
    role: Role | str,
    reason: str = "",
    force: bool = False,
) -> Correction:
    """Move a student into an activity, replacing what they had in its slots.

    A teacher or the coordinator may move; only the coordinator may pass
    ``force=True``, which goes over capacity (source ``forced``) and past class
    restrictions. The new enrolment is locked against a new allocation run.

    Raises
    ------
    AccessDenied
        If ``role`` is a student's, or ``force`` is asked by a teacher.
    CapacityError
        If the activity is full and ``force`` is false.
    EligibilityError
        If the student left, is of another block, or (without ``force``) may not
        join the activity.
    CampaignError
        If the campaign is still a draft, or the activity is of another campaign
        or cancelled.
    NotFoundError
        If the campaign, student or activity does not exist.
    """
    role = _check_role(role, force)
    with store.write() as session:
        student = lock_student(session, student_id)
        campaign = get_campaign(session, campaign_id)
        check_correctable(campaign)
        activity = get_activity(session, campaign, activity_id)
        check_student(campaign, student)
        if not force:
            check_eligible(session, activity, student)

        removed, added = replace_enrolments(
            session,
            campaign,
            student,
            activity,
            source=EnrolmentSource.CORRECTION,
            locked=True,
            reason=reason,
            over_capacity=force,
        )
        if not added:
            return Correction(
                "unchanged", student.id, activity.id, activity.code, activity.slots
            )
        source = added[0].source
        entry = audit.record(
            session,
            actor=actor,
            action="force" if source == EnrolmentSource.FORCED else "move",
            campaign_id=campaign.id,
            student_id=student.id,
            before=snapshot(removed),
            after=snapshot(added) | {"role": str(role)},
            reason=reason,
        )
        mark_publication_changed(session, campaign)
        return Correction(
            "moved" if removed else "placed",
            student.id,
            activity.id,
            activity.code,
            activity.slots,
            str(source),
            tuple(dict.fromkeys(row.activity.code for row in removed)),
            entry.id,
        )


def _check_role(role: Role | str, force: bool) -> Role:
    try:
        role = Role(role)
    except ValueError:
        raise CampaignError(
            f"Rôle inconnu : « {role} » ; attendu teacher ou coordinator"
        ) from None
    if role == Role.STUDENT:
        raise AccessDenied(
            "Un élève ne peut pas déplacer d'élève ; seuls les enseignants et le "
            "coordinateur corrigent les groupes"
        )
    if role not in (Role.TEACHER, Role.COORDINATOR):
        raise AccessDenied(
            "L'administration consulte les statistiques mais ne déplace pas d'élève ; "
            "seuls les enseignants et le coordinateur corrigent les groupes"
        )
    if force and role != Role.COORDINATOR:
        raise AccessDenied(
            "Seul le coordinateur peut forcer une inscription au-delà des places"
        )
    return role


def check_correctable(campaign: Campaign) -> None:
    """Check that the campaign has left the draft stage.

    Raises
    ------
    CampaignError
        If the campaign is a draft.
    """
    if campaign.status == CampaignStatus.DRAFT:
        raise CampaignError(
            f"La campagne {campaign_label(campaign)} est "
            f"{STATUS_LABELS[campaign.status]} ; ouvrez-la avant de corriger "
            "les groupes"
        )


def mark_publication_changed(session: Session, campaign: Campaign) -> None:
    """Flag the campaign's latest publication, if any, as out of date."""
    if campaign.status != CampaignStatus.PUBLISHED:
        return
    publication = session.scalar(
        select(Publication)
        .where(Publication.campaign_id == campaign.id)
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .limit(1)
    )
    if publication is not None:
        publication.changed = True


def place_unplaced(
    store: Store,
    campaign_id: int,
    *,
    actor: str,
    student_ids: list[int] | None = None,
    slot: int | None = None,
    reason: str = "",
) -> PlacementReport:
    """Place unplaced students, one by one, into the places left.

    Students go in French alphabetical order. Each slot goes to the least-filled
    activity (by share of capacity) that has a place and accepts the student.
    The activity must not repeat one (same title and teacher) that the student
    had in an earlier period of the school year or has in another slot. A
    project needs every one of its slots free and within ``slot``. Each
    placement is locked and audited on its own, so :func:`undo` reverts one at a
    time.

    Raises
    ------
    CampaignError
        If the campaign is still a draft.
    NotFoundError
        If the campaign does not exist.
    """
    with store.write() as session:
        campaign = get_campaign(session, campaign_id)
        check_correctable(campaign)
        in_scope = {s.id for s in block_students(session, campaign.block_id)}
        if student_ids is not None:
            in_scope &= set(student_ids)
        lock(session, Student, sorted(in_scope))
        activities = [a for a in campaign.activities if not a.cancelled]
        lock(session, Activity, [a.id for a in activities])

        todo = [
            row
            for row in unplaced_in_session(session, campaign, slot=slot)
            if row.student_id in in_scope
        ]
        placer = _Placer(session, campaign, activities, slot)
        report = PlacementReport()
        for row in todo:
            correction = placer.place(row, actor=actor, reason=reason)
            if correction is None:
                report.unplaced.append(row)
            elif correction.status == "placed":
                report.placed.append(correction)
        if report.placed:
            mark_publication_changed(session, campaign)
        return report


class _Placer:
    """The state of one :func:`place_unplaced` run: fill counts and rules."""

    def __init__(
        self,
        session: Session,
        campaign: Campaign,
        activities: list[Activity],
        slot: int | None,
    ) -> None:
        self.session = session
        self.campaign = campaign
        self.activities = activities
        self.allowed_slots = {slot} if slot is not None else None
        self.counts = enrolled_counts(session, campaign.id)
        self.named = named_students(session, [a.id for a in activities])

    def place(
        self, row: UnplacedStudent, *, actor: str, reason: str
    ) -> Correction | None:
        """Place one student in one slot; None when no activity fits."""
        student = self.session.get_one(Student, row.student_id)
        enrolments = student_enrolments(self.session, self.campaign.id, student.id)
        taken_slots = {r.slot for r in enrolments}
        if row.slot in taken_slots:
            # Placed earlier in this run, through a two-hour project.
            return Correction("unchanged", student.id, None, None, (row.slot,))
        activity = self._best(student, row.slot, taken_slots, enrolments)
        if activity is None:
            return None

        added = [
            Enrolment(
                campaign_id=self.campaign.id,
                student_id=student.id,
                slot=number,
                activity=activity,
                source=EnrolmentSource.CORRECTION,
                locked=True,
                reason=reason,
            )
            for number in activity.slots
        ]
        self.session.add_all(added)
        self.session.flush()
        self.counts[activity.id] = self.counts.get(activity.id, 0) + 1
        entry = audit.record(
            self.session,
            actor=actor,
            action="place",
            campaign_id=self.campaign.id,
            student_id=student.id,
            before=snapshot([]),
            after=snapshot(added),
            reason=reason,
        )
        return Correction(
            "placed",
            student.id,
            activity.id,
            activity.code,
            activity.slots,
            str(EnrolmentSource.CORRECTION),
            audit_id=entry.id,
        )

    def _best(
        self,
        student: Student,
        slot: int,
        taken_slots: set[int],
        enrolments: list[Enrolment],
    ) -> Activity | None:
        done = earlier_activities(self.session, student.id, self.campaign.period)
        done |= {(fold(r.activity.title), r.activity.teacher_id) for r in enrolments}
        candidates = [
            activity
            for activity in self.activities
            if slot in activity.slots
            and not taken_slots & set(activity.slots)
            and (
                self.allowed_slots is None or set(activity.slots) <= self.allowed_slots
            )
            and self.counts.get(activity.id, 0) < activity.capacity
            and (fold(activity.title), activity.teacher_id) not in done
            and is_eligible(activity, student, self.named.get(activity.id, set()))
        ]
        if not candidates:
            return None
        return min(candidates, key=self._fill_key)

    def _fill_key(self, activity: Activity) -> tuple[float, int, str]:
        count = self.counts.get(activity.id, 0)
        return (count / activity.capacity, count, activity.code)


def undo(store: Store, audit_id: int, *, actor: str, reason: str = "") -> Correction:
    """Revert one change to a student's enrolments, itself audited as ``undo``.

    Any sign-up, move, forced move, placement or undo can be reverted while the
    student's places are still those it left.

    Raises
    ------
    CampaignError
        If the entry is not an enrolment change, was already undone, or was
        superseded by a later change.
    CapacityError
        If a place to restore was taken meanwhile (except a forced one).
    NotFoundError
        If the audit entry does not exist.
    """
    with store.write() as session:
        entry = session.get(AuditEntry, audit_id)
        if entry is None:
            raise NotFoundError(f"Entrée du journal introuvable : n° {audit_id}")
        campaign_id, student_id = _check_enrolment_entry(entry)
        lock_student(session, student_id)
        # Read the entry again under the lock: a concurrent undo may have set it.
        session.refresh(entry)
        _check_undoable(session, entry, campaign_id, student_id)
        campaign = get_campaign(session, campaign_id)

        current, restored = _restore(session, campaign, entry, student_id)
        undo_entry = audit.record(
            session,
            actor=actor,
            action="undo",
            campaign_id=campaign.id,
            student_id=student_id,
            before=snapshot(current),
            after=snapshot(restored) | {"undoes": entry.id},
            reason=reason or f"annulation de l'entrée n° {entry.id}",
        )
        entry.undone_by = undo_entry.id
        mark_publication_changed(session, campaign)
        first = restored[0].activity if restored else None
        return Correction(
            "undone",
            student_id,
            first.id if first else None,
            first.code if first else None,
            tuple(sorted({r.slot for r in current} | {r.slot for r in restored})),
            str(restored[0].source) if restored else None,
            tuple(dict.fromkeys(row.activity.code for row in current)),
            undo_entry.id,
        )


def _check_enrolment_entry(entry: AuditEntry) -> tuple[int, int]:
    """Return the entry's campaign and student ids if it changed enrolments."""
    if (
        entry.action not in UNDOABLE_ACTIONS
        or entry.student_id is None
        or entry.campaign_id is None
    ):
        raise CampaignError(
            f"L'entrée n° {entry.id} ({entry.action}) ne change pas d'inscription ; "
            "elle ne peut pas être annulée"
        )
    return entry.campaign_id, entry.student_id


def _check_undoable(
    session: Session, entry: AuditEntry, campaign_id: int, student_id: int
) -> None:
    if entry.undone_by is not None:
        raise CampaignError(
            f"L'entrée n° {entry.id} est déjà annulée (par l'entrée n° "
            f"{entry.undone_by})"
        )
    slots = _slots(entry.before) | _slots(entry.after)
    current = {
        (r.slot, r.activity_id)
        for r in student_enrolments(session, campaign_id, student_id)
        if r.slot in slots
    }
    if current != _places(entry.after):
        later = _latest_change(session, entry)
        hint = (
            f"annulez d'abord l'entrée n° {later}"
            if later
            else "les groupes ont changé depuis (par exemple par une répartition)"
        )
        raise CampaignError(
            f"L'entrée n° {entry.id} a été dépassée par une modification plus "
            f"récente ; {hint}"
        )


def _slots(state: dict[str, Any] | None) -> set[int]:
    return {e["slot"] for e in (state or {}).get("enrolments", [])}


def _places(state: dict[str, Any] | None) -> set[tuple[int, int]]:
    return {(e["slot"], e["activity_id"]) for e in (state or {}).get("enrolments", [])}


def _latest_change(session: Session, entry: AuditEntry) -> int | None:
    return session.scalar(
        select(AuditEntry.id)
        .where(AuditEntry.campaign_id == entry.campaign_id)
        .where(AuditEntry.student_id == entry.student_id)
        .where(AuditEntry.id > entry.id, AuditEntry.undone_by.is_(None))
        .where(AuditEntry.action.in_(UNDOABLE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def _restore(
    session: Session, campaign: Campaign, entry: AuditEntry, student_id: int
) -> tuple[list[Enrolment], list[Enrolment]]:
    """Put back the entry's ``before`` places; return the rows removed and added."""
    slots = _slots(entry.before) | _slots(entry.after)
    current = [
        r
        for r in student_enrolments(session, campaign.id, student_id)
        if r.slot in slots
    ]
    saved = entry.before.get("enrolments", []) if entry.before else []
    ids = {r.activity_id for r in current} | {e["activity_id"] for e in saved}
    lock(session, Activity, sorted(ids))
    for row in current:
        session.delete(row)
    session.flush()

    restored = [_restored_row(session, campaign, entry, e, student_id) for e in saved]
    session.add_all(restored)
    session.flush()
    return current, restored


def _restored_row(
    session: Session,
    campaign: Campaign,
    entry: AuditEntry,
    saved: dict[str, Any],
    student_id: int,
) -> Enrolment:
    activity = session.get(Activity, saved["activity_id"])
    if activity is None:
        raise NotFoundError(f"Atelier introuvable : {saved['activity']}")
    source = EnrolmentSource(saved["source"])
    # Count once per activity: a project's second slot finds the first one's row.
    if saved["slot"] == activity.first_slot and source != EnrolmentSource.FORCED:
        enrolled = enrolled_count(session, activity)
        if enrolled >= activity.capacity:
            raise CapacityError(
                f"Atelier complet : {activity_label(activity)} a {activity.capacity} "
                f"places, toutes prises depuis ; impossible d'annuler l'entrée "
                f"n° {entry.id}",
                activity=activity.code,
                capacity=activity.capacity,
                enrolled=enrolled,
            )
    return Enrolment(
        campaign_id=campaign.id,
        student_id=student_id,
        slot=saved["slot"],
        activity=activity,
        source=source,
        locked=saved["locked"],
        rank=saved["rank"],
        reason=saved["reason"],
    )
