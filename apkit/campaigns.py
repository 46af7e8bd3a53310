"""Campaigns: finding them, checking their offer, and moving them through their status.

A campaign goes draft -> open -> closed -> published, and a closed campaign may be
opened again. Opening runs :func:`check_feasibility` first. A teacher or a room
used twice in one slot, or a group whose minimum size exceeds its capacity, always
blocks opening. Too few places block it unless the coordinator accepts them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from apkit import audit
from apkit.errors import CampaignError, FeasibilityError, NotFoundError
from apkit.french import plural
from apkit.model import (
    Activity,
    ActivityEligibility,
    Block,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Division,
    Period,
    Preference,
    Student,
    UnrankedPolicy,
    utcnow,
)
from apkit.store import Store, lock

log = logging.getLogger(__name__)

# Allowed status changes; closed -> open reopens a campaign for late changes.
TRANSITIONS = {
    (CampaignStatus.DRAFT, CampaignStatus.OPEN),
    (CampaignStatus.CLOSED, CampaignStatus.OPEN),
    (CampaignStatus.OPEN, CampaignStatus.CLOSED),
    (CampaignStatus.CLOSED, CampaignStatus.PUBLISHED),
}

STATUS_LABELS = {
    CampaignStatus.DRAFT: "en préparation",
    CampaignStatus.OPEN: "ouverte",
    CampaignStatus.CLOSED: "fermée",
    CampaignStatus.PUBLISHED: "publiée",
}

MODE_LABELS = {
    CampaignMode.LIVE: "inscription directe",
    CampaignMode.PREFERENCES: "vœux classés",
    CampaignMode.ROTATION: "rotation",
}


@dataclass(frozen=True)
class FeasibilityProblem:
    """One finding of :func:`check_feasibility`.

    ``kind`` is ``"shortfall"``, ``"teacher_twice"``, ``"room_twice"`` or
    ``"min_size"``; ``slot`` is ``None`` for a problem that concerns no one slot.
    """

    kind: str
    message: str
    slot: int | None = None
    activities: tuple[str, ...] = ()
    missing: int = 0

    @property
    def waivable(self) -> bool:
        """Whether the coordinator may open the campaign anyway (a shortfall only)."""
        return self.kind == "shortfall"


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign as listed by :func:`list_campaigns`."""

    id: int
    period: str
    block: str
    mode: str
    status: str
    activities: int
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    slots: list[int] = field(default_factory=list)


def is_active(student: Student, on: dt.date | None = None) -> bool:
    """Tell whether the student is still at school on ``on`` (today by default)."""
    on = on or dt.date.today()
    return student.left_on is None or student.left_on > on


def block_students(session: Session, block_id: int) -> list[Student]:
    """Return the active students of a block, in id order, with their division."""
    statement = (
        select(Student)
        .join(Division, Student.division_id == Division.id)
        .where(Division.block_id == block_id)
        .options(selectinload(Student.division))
        .order_by(Student.id)
    )
    return [s for s in session.scalars(statement) if is_active(s)]


def named_students(session: Session, activity_ids: list[int]) -> dict[int, set[int]]:
    """Return, for each activity, the students named individually as allowed."""
    statement = select(ActivityEligibility).where(
        ActivityEligibility.activity_id.in_(activity_ids)
    )
    named: dict[int, set[int]] = defaultdict(set)
    for row in session.scalars(statement):
        named[row.activity_id].add(row.student_id)
    return named


def is_eligible(activity: Activity, student: Student, named: set[int]) -> bool:
    """Tell whether the student may join the activity.

    An activity with no class listed and no student named is open to the whole
    block. Otherwise the student's class must be listed, or the student named.
    """
    if not activity.eligible_divisions and not named:
        return True
    class_name = student.division.name if student.division else None
    return class_name in activity.eligible_divisions or student.id in named


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    """Return the campaign with its period and block.

    Raises
    ------
    NotFoundError
        If no campaign has this id.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"Campagne introuvable : n° {campaign_id}")
    return campaign


def campaign_label(campaign: Campaign) -> str:
    """Return the French name of a campaign, such as ``P1, barrette A``."""
    return f"{campaign.period.code}, barrette {campaign.block.name}"


def find_campaign(session: Session, period_code: str, block_name: str) -> Campaign:
    """Return the campaign of one period and one block.

    Raises
    ------
    NotFoundError
        If the period, the block or the campaign does not exist.
    """
    period = session.scalar(select(Period).where(Period.code == period_code))
    if period is None:
        codes = ", ".join(session.scalars(select(Period.code).order_by(Period.code)))
        raise NotFoundError(
            f"Période introuvable : « {period_code} » ; "
            f"périodes connues : {codes or '-'}"
        )
    block = session.scalar(select(Block).where(Block.name == block_name))
    if block is None:
        names = ", ".join(session.scalars(select(Block.name).order_by(Block.name)))
        raise NotFoundError(
            f"Barrette introuvable : « {block_name} » ; "
            f"barrettes connues : {names or '-'}"
        )
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.period_id == period.id, Campaign.block_id == block.id
        )
    )
    if campaign is None:
        raise NotFoundError(
            f"Aucune campagne pour la période {period_code} et la barrette "
            f"{block_name} ; importez d'abord ses ateliers"
        )
    return campaign


def list_campaigns(store: Store) -> list[CampaignSummary]:
    """Return every campaign, by period start date then block name."""
    with store.read() as session:
        statement = (
            select(Campaign)
            .join(Period, Campaign.period_id == Period.id)
            .join(Block, Campaign.block_id == Block.id)
            .options(selectinload(Campaign.activities))
            .order_by(Period.start_date, Period.code, Block.name)
        )
        return [_summary(campaign) for campaign in session.scalars(statement)]


def default_period_code(store: Store, today: dt.date | None = None) -> str | None:
    """Return the period a dashboard opens on, among the latest school year's.

    Periods with data are those with at least one campaign holding an activity
    that is not cancelled. In order: the period containing ``today`` if it has
    data, the last period with data started by ``today``, the first period with
    data, and without any data the last period started (the first one before the
    year begins). ``None`` when there is no period.
    """
    today = today or dt.date.today()
    with store.read() as session:
        columns = (Period.id, Period.code, Period.school_year, Period.start_date,
                   Period.end_date)  # fmt: skip
        periods = list(session.execute(select(*columns).order_by(Period.start_date)))
        statement = (
            select(Campaign.period_id)
            .join(Activity, Activity.campaign_id == Campaign.id)
            .where(Activity.cancelled.is_(False))
            .distinct()
        )
        with_data = set(session.scalars(statement))
    if not periods:
        return None
    periods = [p for p in periods if p.school_year == periods[-1].school_year]
    started = [p for p in periods if p.start_date <= today]
    filled = [p for p in periods if p.id in with_data]
    for period in started[-1:]:
        if period.end_date >= today and period.id in with_data:
            return period.code
    started_filled = [p for p in started if p.id in with_data]
    candidates = started_filled[-1:] or filled[:1] or started[-1:] or periods[:1]
    return candidates[0].code


def _summary(campaign: Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=campaign.id,
        period=campaign.period.code,
        block=campaign.block.name,
        mode=str(campaign.mode),
        status=str(campaign.status),
        activities=sum(1 for a in campaign.activities if not a.cancelled),
        opened_at=campaign.opened_at,
        closed_at=campaign.closed_at,
        published_at=campaign.published_at,
        slots=list(range(1, campaign.block.slot_count + 1)),
    )


def check_feasibility(store: Store, campaign_id: int) -> list[FeasibilityProblem]:
    """Check that a campaign's offer fits its block, slot by slot.

    Reports, in this order, slot by slot: fewer usable places than active
    students, and a teacher or a room used by two activities at once. A two-hour
    project counts in both its slots, and a restricted activity only for the
    students allowed in. Then come the activities whose minimum size exceeds
    their capacity.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        return feasibility_problems(session, get_campaign(session, campaign_id))


def feasibility_problems(
    session: Session, campaign: Campaign
) -> list[FeasibilityProblem]:
    """Return the problems of :func:`check_feasibility` inside an open session."""
    students = block_students(session, campaign.block_id)
    activities = [a for a in campaign.activities if not a.cancelled]
    named = named_students(session, [a.id for a in activities])
    problems: list[FeasibilityProblem] = []
    for slot in range(1, campaign.block.slot_count + 1):
        in_slot = [a for a in activities if slot in a.slots]
        where = f"Barrette {campaign.block.name}, heure {slot}"
        shortfall = _shortfall(where, slot, students, in_slot, named)
        if shortfall is not None:
            problems.append(shortfall)
        problems.extend(_clashes(where, slot, in_slot))
    problems.extend(_min_size_problems(activities))
    return problems


def _shortfall(
    where: str,
    slot: int,
    students: list[Student],
    activities: list[Activity],
    named: dict[int, set[int]],
) -> FeasibilityProblem | None:
    places = sum(a.capacity for a in activities)
    usable = _usable_places(students, activities, named)
    missing = len(students) - usable
    if missing <= 0:
        return None
    message = (
        f"{where} : {plural(len(students), 'élève')} pour {plural(places, 'place')}"
    )
    if usable < places and places >= len(students):
        message += (
            ", mais les restrictions d'inscription n'en laissent que "
            f"{plural(usable, 'utilisable')}"
        )
    message += f", il manque {plural(missing, 'place')}"
    codes = tuple(a.code for a in activities)
    return FeasibilityProblem(
        "shortfall", message, slot=slot, activities=codes, missing=missing
    )


def _usable_places(
    students: list[Student], activities: list[Activity], named: dict[int, set[int]]
) -> int:
    """Return the maximum number of students seated, eligibility included (max flow)."""
    # Imported here so that the sign-up page, which imports this module, starts
    # without loading SciPy.
    import numpy as np
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    if not students or not activities:
        return 0
    # Nodes: 0 source, 1..S students, then one per activity, then the sink.
    source, sink = 0, 1 + len(students) + len(activities)
    first_activity = 1 + len(students)
    edges: list[tuple[int, int, int]] = []
    for i, student in enumerate(students, start=1):
        edges.append((source, i, 1))
        for j, activity in enumerate(activities, start=first_activity):
            if is_eligible(activity, student, named.get(activity.id, set())):
                edges.append((i, j, 1))
    for j, activity in enumerate(activities, start=first_activity):
        edges.append((j, sink, activity.capacity))
    tails, heads, capacities = zip(*edges, strict=True)
    graph = csr_array(
        (np.array(capacities, dtype=np.int32), (np.array(tails), np.array(heads))),
        shape=(sink + 1, sink + 1),
    )
    return int(maximum_flow(graph, source, sink).flow_value)


def _clashes(
    where: str, slot: int, activities: list[Activity]
) -> list[FeasibilityProblem]:
    by_teacher: dict[int, list[Activity]] = defaultdict(list)
    by_room: dict[str, list[Activity]] = defaultdict(list)
    for activity in activities:
        if activity.teacher_id is not None:
            by_teacher[activity.teacher_id].append(activity)
        if activity.room.strip():
            by_room[activity.room.strip()].append(activity)

    problems = []
    for group in by_teacher.values():
        if len(group) > 1:
            teacher = group[0].teacher
            name = f"{teacher.last_name} {teacher.first_name}" if teacher else "?"
            codes = tuple(a.code for a in group)
            problems.append(
                FeasibilityProblem(
                    "teacher_twice",
                    f"{where} : {name} anime {len(group)} ateliers à la fois "
                    f"({', '.join(codes)}) ; gardez-en un seul dans cette heure",
                    slot=slot,
                    activities=codes,
                )
            )
    for room, group in by_room.items():
        if len(group) > 1:
            codes = tuple(a.code for a in group)
            problems.append(
                FeasibilityProblem(
                    "room_twice",
                    f"{where} : la salle {room} est attribuée à {len(group)} "
                    f"ateliers ({', '.join(codes)}) ; changez la salle de l'un d'eux",
                    slot=slot,
                    activities=codes,
                )
            )
    return problems


def _min_size_problems(activities: list[Activity]) -> list[FeasibilityProblem]:
    return [
        FeasibilityProblem(
            "min_size",
            f"Atelier {a.code} « {a.title} » : effectif minimum {a.min_size} "
            f"supérieur à la capacité {a.capacity} ; il ne pourrait jamais ouvrir",
            slot=None,
            activities=(a.code,),
        )
        for a in activities
        if a.min_size > a.capacity
    ]


def open_campaign(
    store: Store,
    campaign_id: int,
    *,
    actor: str,
    allow_shortfall: bool = False,
    mode: CampaignMode | str | None = None,
) -> list[FeasibilityProblem]:
    """Open a draft or closed campaign for sign-up, after checking its offer.

    Returns the problems accepted as warnings (shortfalls under
    ``allow_shortfall``), which are also written to the audit entry. A ``mode``
    is set first, as :func:`set_campaign_mode` does, in the same transaction:
    when opening is refused, the mode is left unchanged too.

    Raises
    ------
    FeasibilityError
        If a check blocks opening; ``problems`` lists every message.
    CampaignError
        If the campaign's status does not allow opening it, or ``mode`` is unknown.
    NotFoundError
        If the campaign does not exist.
    """
    target = (
        None
        if mode is None
        else _parsed(CampaignMode, mode, "Mode inconnu", MODE_LABELS)
    )
    with store.write() as session:
        campaign = _locked_campaign(session, campaign_id)
        _check_transition(campaign, CampaignStatus.OPEN)
        if target is not None:
            _apply_mode(session, campaign, target, actor)
        problems = feasibility_problems(session, campaign)
        blocking = [p for p in problems if not (p.waivable and allow_shortfall)]
        if blocking:
            raise FeasibilityError([p.message for p in blocking])
        warnings = [p.message for p in problems]
        _change_status(session, campaign, CampaignStatus.OPEN, actor, warnings)
        campaign.opened_at = utcnow()
    for problem in problems:
        log.warning("campaign %s opened despite: %s", campaign_id, problem.message)
    return problems


def set_campaign_mode(
    store: Store,
    campaign_id: int,
    mode: CampaignMode | str,
    *,
    actor: str,
    max_choices: int | None = None,
    unranked_policy: UnrankedPolicy | str | None = None,
) -> CampaignSummary:
    """Choose how a campaign fills its activities: live, preferences or rotation.

    ``max_choices`` and ``unranked_policy`` are kept as they are when ``None``.
    The change is allowed while the campaign is in preparation, or closed and
    never published; a call that changes nothing is accepted in any status. The
    change is written to the audit log.

    Raises
    ------
    CampaignError
        If the mode, the number of choices or the policy is unknown or invalid,
        if the campaign is open or published, or if students already ranked more
        choices than ``max_choices``.
    NotFoundError
        If the campaign does not exist.
    """
    target = _parsed(CampaignMode, mode, "Mode inconnu", MODE_LABELS)
    policy = None
    if unranked_policy is not None:
        policy = _parsed(
            UnrankedPolicy,
            unranked_policy,
            "Règle inconnue pour les élèves sans vœu",
            UNRANKED_LABELS,
        )
    with store.write() as session:
        campaign = _locked_campaign(session, campaign_id)
        _apply_mode(session, campaign, target, actor, max_choices, policy)
        return _summary(campaign)


def _apply_mode(
    session: Session,
    campaign: Campaign,
    target: CampaignMode,
    actor: str,
    max_choices: int | None = None,
    policy: UnrankedPolicy | None = None,
) -> None:
    before = _mode_json(campaign)
    after = {
        "mode": str(target),
        "max_choices": before["max_choices"] if max_choices is None else max_choices,
        "unranked_policy": str(policy) if policy else before["unranked_policy"],
    }
    if after == before:
        return
    _check_mode_change(session, campaign, after["max_choices"])
    campaign.mode = target
    campaign.max_choices = after["max_choices"]
    campaign.unranked_policy = UnrankedPolicy(after["unranked_policy"])
    audit.record(
        session,
        actor=actor,
        action="campaign_mode",
        campaign_id=campaign.id,
        before=before,
        after=after,
    )


UNRANKED_LABELS = {
    UnrankedPolicy.FILL: "placer dans les places restantes",
    UnrankedPolicy.LEAVE: "laisser sans atelier",
}


def _parsed(kind: type, value: object, what: str, labels: dict) -> object:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(f"{k} ({label})" for k, label in labels.items())
        raise CampaignError(
            f"{what} : « {value} » ; valeurs possibles : {known}"
        ) from None


def _mode_json(campaign: Campaign) -> dict:
    return {
        "mode": str(campaign.mode),
        "max_choices": campaign.max_choices,
        "unranked_policy": str(campaign.unranked_policy),
    }


def _check_mode_change(session: Session, campaign: Campaign, max_choices: int) -> None:
    status = CampaignStatus(campaign.status)
    if status not in (CampaignStatus.DRAFT, CampaignStatus.CLOSED) or (
        campaign.published_at is not None
    ):
        raise CampaignError(
            f"Campagne {campaign_label(campaign)} {STATUS_LABELS[status]} : son mode "
            "ne peut changer qu'en préparation, ou fermée et jamais publiée ; "
            "fermez-la d'abord"
        )
    if max_choices < 1:
        raise CampaignError(
            f"Nombre de vœux invalide : {max_choices} ; donnez au moins 1"
        )
    ranked = session.scalar(
        select(func.max(Preference.rank)).where(Preference.campaign_id == campaign.id)
    )
    if ranked is not None and ranked > max_choices:
        raise CampaignError(
            f"Campagne {campaign_label(campaign)} : des élèves ont déjà classé "
            f"{ranked} vœux, plus que les {max_choices} demandés ; gardez au moins "
            f"{ranked} vœux"
        )


def close_campaign(store: Store, campaign_id: int, *, actor: str) -> None:
    """Close an open campaign: sign-up and preferences stop.

    Raises
    ------
    CampaignError
        If the campaign is not open.
    NotFoundError
        If the campaign does not exist.
    """
    with store.write() as session:
        campaign = _locked_campaign(session, campaign_id)
        _check_transition(campaign, CampaignStatus.CLOSED)
        _change_status(session, campaign, CampaignStatus.CLOSED, actor)
        campaign.closed_at = utcnow()


def mark_published(store: Store, campaign_id: int, *, actor: str) -> None:
    """Record that a closed campaign's results were published (status only).

    Raises
    ------
    CampaignError
        If the campaign is not closed.
    NotFoundError
        If the campaign does not exist.
    """
    with store.write() as session:
        campaign = _locked_campaign(session, campaign_id)
        _check_transition(campaign, CampaignStatus.PUBLISHED)
        _change_status(session, campaign, CampaignStatus.PUBLISHED, actor)
        campaign.published_at = utcnow()


def _locked_campaign(session: Session, campaign_id: int) -> Campaign:
    # Lock first so that two coordinators changing the status never interleave.
    locked = lock(session, Campaign, [campaign_id])
    if not locked:
        raise NotFoundError(f"Campagne introuvable : n° {campaign_id}")
    return locked[0]


def _check_transition(campaign: Campaign, target: CampaignStatus) -> None:
    current = CampaignStatus(campaign.status)
    if (current, target) in TRANSITIONS:
        return
    allowed = sorted(STATUS_LABELS[t] for s, t in TRANSITIONS if s == current)
    then = f" ; statuts possibles : {', '.join(allowed)}" if allowed else ""
    raise CampaignError(
        f"Campagne {campaign_label(campaign)} {STATUS_LABELS[current]} : elle ne peut "
        f"pas passer au statut « {STATUS_LABELS[target]} »{then}"
    )


def _change_status(
    session: Session,
    campaign: Campaign,
    target: CampaignStatus,
    actor: str,
    warnings: list[str] | None = None,
) -> None:
    before = {"status": str(campaign.status)}
    campaign.status = target
    after: dict = {"status": str(target)}
    if warnings:
        after["warnings"] = warnings
    audit.record(
        session,
        actor=actor,
        action=f"campaign_{target}",
        campaign_id=campaign.id,
        before=before,
        after=after,
    )
