"""Reasons attached to each placement that is not a first choice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from apkit.allocation.problem import (
    OfferKey,
    Placement,
    Problem,
    Reason,
    StudentKey,
)

Assignment = Mapping[tuple[StudentKey, int], tuple[OfferKey, int | None]]


def explain(
    problem: Problem, assigned: Assignment, cancelled: frozenset[OfferKey]
) -> dict[tuple[StudentKey, int], Placement]:
    """Return one placement with its reason for every (student, slot) of the problem."""
    fill = Counter((key, slot) for (_s, slot), (key, _r) in assigned.items())
    placements = {}
    for student in problem.students:
        for slot in problem.slots:
            where = (student, slot)
            offer, rank = assigned.get(where, (None, None))
            reason = _reason(problem, where, offer, rank, fill, cancelled)
            placements[where] = Placement(
                student, slot, offer, rank, reason, fixed=where in problem.fixed
            )
    return placements


def _reason(
    problem: Problem,
    where: tuple[StudentKey, int],
    offer: OfferKey | None,
    rank: int | None,
    fill: Counter,
    cancelled: frozenset[OfferKey],
) -> Reason | None:
    ranked = bool(problem.preferences.get(where)) or problem.rotation
    if where in problem.fixed:
        return Reason.FIXED
    if offer is None:
        if not ranked and problem.unranked_policy == "leave":
            return Reason.NO_PREFERENCE
        return Reason.NO_PLACE
    if problem.rotation:
        return Reason.TEACHER_SEEN if rank == 2 else None
    if not ranked:
        return Reason.NO_PREFERENCE_PLACED
    if rank is None:
        return Reason.OUTSIDE_CHOICES
    if rank == 1:
        return None
    return first_choice_reason(problem, where, fill, cancelled)


def first_choice_reason(
    problem: Problem,
    where: tuple[StudentKey, int],
    fill: Counter,
    cancelled: frozenset[OfferKey],
) -> Reason:
    """Tell why the student's first choice in this slot was not given."""
    student, slot = where
    first = problem.offer(problem.preferences[where][0])
    if first.key in cancelled:
        return Reason.FIRST_CHOICE_CLOSED
    if first.repeat_key in problem.taken.get(student, frozenset()):
        return Reason.FIRST_CHOICE_TAKEN
    if not first.admits(student):
        return Reason.FIRST_CHOICE_NOT_ELIGIBLE
    if fill[(first.key, slot)] >= first.capacity:
        return Reason.FIRST_CHOICE_FULL
    return Reason.FIRST_CHOICE_TRADE_OFF
