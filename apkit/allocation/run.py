"""Run the allocation of a stored campaign and read its result back.

:func:`allocate` reads the campaign, its activities, the students' preferences,
the enrolments to keep and the history of earlier periods, then solves. In the
same write transaction it replaces the campaign's other enrolments with the
result, marks the activities closed below their minimum size and writes one
audit entry. Enrolments are kept as they are when they are locked, or come from
a teacher (prescribed), a correction or a forced placement, or, in a live
campaign, from the students' own sign-up.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Hashable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from apkit.allocation.engine import solve
from apkit.allocation.problem import (
    Allocation,
    Offer,
    Problem,
    RepeatKey,
    StudentKey,
)
from apkit.allocation.report import (
    ACTION,
    AllocationReport,
    build_report,
    stored_report,
)
from apkit.audit import record
from apkit.campaigns import block_students, get_campaign, named_students
from apkit.errors import CampaignError
from apkit.model import (
    Activity,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    Period,
    Preference,
    Student,
)
from apkit.names import fold
from apkit.store import Store, lock

log = logging.getLogger(__name__)

KEPT_SOURCES = (
    EnrolmentSource.PRESCRIBED,
    EnrolmentSource.CORRECTION,
    EnrolmentSource.FORCED,
)


def allocate(
    store: Store,
    campaign_id: int,
    *,
    seed: int | None = None,
    actor: str = "coordinateur",
) -> AllocationReport:
    """Allocate a campaign and store the result; return the report.

    Parameters
    ----------
    store
        The school's database.
    campaign_id
        The campaign to allocate.
    seed
        Seed of the tie-breaking lottery; the campaign's own seed by default.
    actor
        Who ran it, for the audit log.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    CampaignError
        If the campaign is already published.
    AllocationError
        If the solver fails; nothing is written then.
    """
    with store.write() as session:
        lock(session, Campaign, [campaign_id])
        campaign = get_campaign(session, campaign_id)
        if campaign.status == CampaignStatus.PUBLISHED:
            raise CampaignError(
                f"Campagne {campaign.period.code}, barrette {campaign.block.name} "
                "déjà publiée : la répartition ne peut plus être relancée ; "
                "corrigez les élèves un par un"
            )
        seed = campaign.seed if seed is None else seed
        students = {s.id: s for s in block_students(session, campaign.block_id)}
        kept = _kept_enrolments(session, campaign)
        problem = build_problem(session, campaign, students, kept, seed)
        allocation = solve(problem)
        _write(session, campaign, allocation, kept)
        report = build_report(session, campaign, students, allocation, seed)
        record(
            session,
            actor=actor,
            action=ACTION,
            campaign_id=campaign.id,
            after=report.audit_summary(),
        )
    log.info(
        "campaign %s allocated with seed %s: %s placed, %s unplaced",
        campaign_id,
        seed,
        report.counts["placed"],
        report.counts["unplaced"],
    )
    return report


def allocation_result(store: Store, campaign_id: int) -> AllocationReport:
    """Read the stored result of a campaign as a report.

    Reasons of the unplaced come from the last allocation's audit entry. A student
    unplaced since then (a correction removed them) shows "aucune inscription".

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        students = {s.id: s for s in block_students(session, campaign.block_id)}
        return stored_report(session, campaign, students)


def _kept_enrolments(session: Session, campaign: Campaign) -> list[Enrolment]:
    sources = list(KEPT_SOURCES)
    if campaign.mode == CampaignMode.LIVE:
        sources.append(EnrolmentSource.SIGNUP)
    rows = session.scalars(
        select(Enrolment).where(Enrolment.campaign_id == campaign.id)
    ).all()
    return [row for row in rows if row.locked or row.source in sources]


def build_problem(
    session: Session,
    campaign: Campaign,
    students: dict[int, Student],
    kept: list[Enrolment],
    seed: int,
) -> Problem:
    """Translate a stored campaign into a :class:`Problem` keyed by database ids."""
    activities = list(campaign.activities)
    named = named_students(session, [a.id for a in activities])
    slots = sorted(
        set(range(1, campaign.block.slot_count + 1))
        | {slot for a in activities for slot in a.slots}
    )
    offers = tuple(_offer(a, students, named.get(a.id, set())) for a in activities)
    preferences: dict[tuple[int, int], list[int]] = defaultdict(list)
    statement = (
        select(Preference)
        .where(Preference.campaign_id == campaign.id)
        .order_by(Preference.student_id, Preference.slot, Preference.rank)
    )
    for row in session.scalars(statement):
        if row.student_id in students:
            preferences[(row.student_id, row.slot)].append(row.activity_id)
    taken, seen = _history(session, campaign, list(students))
    return Problem(
        students=tuple(students),
        slots=tuple(slots),
        offers=offers,
        preferences={where: tuple(keys) for where, keys in preferences.items()},
        fixed={
            (e.student_id, e.slot): e.activity_id
            for e in kept
            if e.student_id in students
        },
        taken=taken,
        seen_teachers=seen,
        unranked_policy=str(campaign.unranked_policy),
        seed=seed,
        rotation=campaign.mode == CampaignMode.ROTATION,
    )


def _offer(activity: Activity, students: dict[int, Student], named: set[int]) -> Offer:
    eligible = None
    if activity.eligible_divisions or named:
        eligible = frozenset(
            sid
            for sid, student in students.items()
            if sid in named
            or (
                student.division
                and student.division.name in activity.eligible_divisions
            )
        )
    return Offer(
        key=activity.id,
        slots=activity.slots,
        capacity=activity.capacity,
        min_size=activity.min_size,
        title=fold(activity.title),
        teacher=activity.teacher_id,
        eligible=eligible,
    )


def _history(
    session: Session, campaign: Campaign, student_ids: list[int]
) -> tuple[
    dict[StudentKey, frozenset[RepeatKey]], dict[StudentKey, frozenset[Hashable]]
]:
    """Return each student's earlier activities (folded title, teacher) and teachers."""
    period = campaign.period
    statement = (
        select(Enrolment.student_id, Activity.title, Activity.teacher_id)
        .join(Activity, Enrolment.activity_id == Activity.id)
        .join(Campaign, Enrolment.campaign_id == Campaign.id)
        .join(Period, Campaign.period_id == Period.id)
        .where(Enrolment.student_id.in_(student_ids))
        .where(Period.school_year == period.school_year)
        .where(Period.start_date < period.start_date)
    )
    taken: dict[int, set] = defaultdict(set)
    seen: dict[int, set] = defaultdict(set)
    for student_id, title, teacher_id in session.execute(statement):
        taken[student_id].add((fold(title), teacher_id))
        if teacher_id is not None:
            seen[student_id].add(teacher_id)
    return (
        {s: frozenset(keys) for s, keys in taken.items()},
        {s: frozenset(teachers) for s, teachers in seen.items()},
    )


def _write(
    session: Session, campaign: Campaign, allocation: Allocation, kept: list[Enrolment]
) -> None:
    kept_ids = [row.id for row in kept]
    session.execute(
        delete(Enrolment).where(
            Enrolment.campaign_id == campaign.id, Enrolment.id.not_in(kept_ids)
        )
    )
    for placement in allocation.placements.values():
        if placement.fixed or placement.offer is None:
            continue
        session.add(
            Enrolment(
                campaign_id=campaign.id,
                student_id=placement.student,
                slot=placement.slot,
                activity_id=placement.offer,
                source=EnrolmentSource.ALLOCATION,
                locked=False,
                rank=placement.rank,
                reason=placement.reason_text,
            )
        )
    for activity in campaign.activities:
        activity.cancelled = activity.id in allocation.cancelled
    session.flush()
