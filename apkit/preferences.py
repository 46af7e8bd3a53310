"""Ranked preferences: each student's choices, slot by slot, for the allocation.

A two-hour project is ranked in both its slots at the same rank or not at all:
ranking it in one slot records it in the other, and dropping it from one slot
drops it from the other. A choice the student made is never dropped silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit import audit
from apkit.campaigns import MODE_LABELS, STATUS_LABELS, campaign_label, get_campaign
from apkit.errors import CampaignError
from apkit.model import (
    Activity,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Preference,
    Student,
    utcnow,
)
from apkit.signup import (
    activity_label,
    check_eligible,
    check_student,
    get_activity,
    lock_student,
)
from apkit.store import Store

# One slot's choices: rank -> activity id.
Ranking = dict[int, int]


@dataclass(frozen=True)
class Choice:
    """One ranked choice of a student; rank 1 is the first choice."""

    slot: int
    rank: int
    activity_id: int
    activity_code: str
    updated_at: dt.datetime


def get_preferences(store: Store, campaign_id: int, student_id: int) -> list[Choice]:
    """Return the student's choices in a campaign, by slot then rank.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        return _choices(session, campaign_id, student_id)


def _choices(session: Session, campaign_id: int, student_id: int) -> list[Choice]:
    statement = (
        select(Preference, Activity.code)
        .join(Activity, Preference.activity_id == Activity.id)
        .where(Preference.campaign_id == campaign_id)
        .where(Preference.student_id == student_id)
        .order_by(Preference.slot, Preference.rank)
    )
    return [
        Choice(row.slot, row.rank, row.activity_id, code, row.updated_at)
        for row, code in session.execute(statement)
    ]


def set_preferences(
    store: Store,
    campaign_id: int,
    student_id: int,
    slot: int,
    activity_ids: list[int],
    *,
    actor: str | None = None,
) -> list[Choice]:
    """Replace the student's ranked choices for one slot and return all their choices.

    ``activity_ids`` is in rank order, at most ``max_choices`` long; an empty list
    withdraws the slot's choices. A project at rank r is also set at rank r in its
    other slot, where the other choices keep their order in the free ranks. No
    choice is ever dropped: when they no longer fit, nothing is written and the
    student must first remove a choice there. Unchanged rows keep their time.

    Raises
    ------
    CampaignError
        If the campaign is not open or not in preferences mode, the slot does not
        exist, the list is too long or repeats an activity, an activity is of
        another campaign, cancelled or not held in this slot, or a project no
        longer leaves room for the choices of its other slot.
    EligibilityError
        If the student left, is of another block, or may not join an activity.
    NotFoundError
        If the campaign, the student or an activity does not exist.
    """
    with store.write() as session:
        student = lock_student(session, student_id)
        campaign = get_campaign(session, campaign_id)
        _check_open_for_preferences(campaign)
        check_student(campaign, student)
        chosen = _checked_choices(session, campaign, student, slot, activity_ids)

        activities = {a.id: a for a in campaign.activities}
        current = _rankings(session, campaign.id, student.id)
        updated = dict(current)
        updated[slot] = {rank: a.id for rank, a in enumerate(chosen, start=1)}
        for other in range(1, campaign.block.slot_count + 1):
            if other != slot:
                updated[other] = _follow_projects(
                    current.get(other, {}), updated[slot], slot, other, activities,
                    campaign.max_choices,
                )  # fmt: skip

        changed = _write_rankings(session, campaign, student, current, updated)
        if changed:
            audit.record(
                session,
                actor=actor or f"élève {student.source_id}",
                action="preferences",
                campaign_id=campaign.id,
                student_id=student.id,
                before=_ranking_json(current, activities),
                after=_ranking_json(updated, activities),
            )
        return _choices(session, campaign.id, student.id)


def _check_open_for_preferences(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(
            f"La campagne {campaign_label(campaign)} n'est pas ouverte "
            f"(statut : {STATUS_LABELS[campaign.status]}) ; "
            "les vœux ne peuvent plus être modifiés"
        )
    if campaign.mode != CampaignMode.PREFERENCES:
        raise CampaignError(
            f"La campagne {campaign_label(campaign)} ne se fait pas par vœux "
            f"(mode : {MODE_LABELS[campaign.mode]})"
        )


def _checked_choices(
    session: Session,
    campaign: Campaign,
    student: Student,
    slot: int,
    activity_ids: list[int],
) -> list[Activity]:
    if not 1 <= slot <= campaign.block.slot_count:
        raise CampaignError(
            f"Heure {slot} inexistante : la barrette {campaign.block.name} a "
            f"{campaign.block.slot_count} heures d'AP"
        )
    if len(activity_ids) > campaign.max_choices:
        raise CampaignError(
            f"Trop de vœux pour l'heure {slot} : {len(activity_ids)} donnés, "
            f"{campaign.max_choices} au plus"
        )
    chosen: list[Activity] = []
    for activity_id in activity_ids:
        activity = get_activity(session, campaign, activity_id)
        if activity in chosen:
            raise CampaignError(
                f"L'atelier {activity_label(activity)} est classé deux fois à "
                f"l'heure {slot} ; chaque vœu doit être différent"
            )
        if slot not in activity.slots:
            held = " et ".join(str(s) for s in activity.slots)
            raise CampaignError(
                f"L'atelier {activity_label(activity)} n'a pas lieu à l'heure {slot} "
                f"(heure {held}) ; classez-le pour son heure"
            )
        check_eligible(session, activity, student)
        chosen.append(activity)
    return chosen


def _rankings(
    session: Session, campaign_id: int, student_id: int
) -> dict[int, Ranking]:
    statement = select(Preference).where(
        Preference.campaign_id == campaign_id, Preference.student_id == student_id
    )
    rankings: dict[int, Ranking] = {}
    for row in session.scalars(statement):
        rankings.setdefault(row.slot, {})[row.rank] = row.activity_id
    return rankings


def _follow_projects(
    other_ranking: Ranking,
    ranking: Ranking,
    slot: int,
    other: int,
    activities: dict[int, Activity],
    max_choices: int,
) -> Ranking:
    """Return ``other``'s ranking with the projects shared with ``slot`` in step."""

    def shared(activity_id: int) -> bool:
        slots = activities[activity_id].slots
        return slot in slots and other in slots

    fixed = {rank: aid for rank, aid in ranking.items() if shared(aid)}
    free = [
        aid
        for _, aid in sorted(other_ranking.items())
        if not shared(aid) and aid not in fixed.values()
    ]
    if len(fixed) + len(free) > max_choices:
        project = activities[next(iter(fixed.values()))]
        raise CampaignError(
            f"Le projet « {project.title} » occupe aussi l'heure {other}, qui a "
            f"déjà {len(free)} choix : retire d'abord un choix de l'heure {other} "
            f"({max_choices} choix au maximum)"
        )
    result: Ranking = {}
    for rank in range(1, max_choices + 1):
        if rank in fixed:
            result[rank] = fixed[rank]
        elif free:
            result[rank] = free.pop(0)
    return result


def _write_rankings(
    session: Session,
    campaign: Campaign,
    student: Student,
    current: dict[int, Ranking],
    updated: dict[int, Ranking],
) -> bool:
    stale, fresh = [], []
    for slot in sorted(set(current) | set(updated)):
        old, new = current.get(slot, {}), updated.get(slot, {})
        stale += [(slot, r, a) for r, a in old.items() if new.get(r) != a]
        fresh += [(slot, r, a) for r, a in new.items() if old.get(r) != a]
    if not stale and not fresh:
        return False

    rows = session.scalars(
        select(Preference).where(
            Preference.campaign_id == campaign.id, Preference.student_id == student.id
        )
    )
    for row in rows:
        if (row.slot, row.rank, row.activity_id) in stale:
            session.delete(row)
    # Deletes go first, or a rank moving to another activity breaks a unique key.
    session.flush()
    now = utcnow()
    session.add_all(
        Preference(
            campaign_id=campaign.id,
            student_id=student.id,
            slot=slot,
            rank=rank,
            activity_id=activity_id,
            updated_at=now,
        )
        for slot, rank, activity_id in fresh
    )
    session.flush()
    return True


def _ranking_json(
    rankings: dict[int, Ranking], activities: dict[int, Activity]
) -> dict[str, list[str]]:
    return {
        str(slot): [activities[aid].code for _, aid in sorted(ranking.items())]
        for slot, ranking in sorted(rankings.items())
        if ranking
    }
