"""Solve a whole problem: part by part, then the students left over, then reasons."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import numpy as np

from apkit.allocation.explain import explain
from apkit.allocation.flow import solve_plain
from apkit.allocation.milp import solve_part
from apkit.allocation.parts import Part, PartSolution, split_group, split_parts
from apkit.allocation.problem import (
    Allocation,
    Offer,
    OfferKey,
    Problem,
    StudentKey,
)

log = logging.getLogger(__name__)

Assigned = dict[tuple[StudentKey, int], tuple[OfferKey, int | None]]
# Random stream of the leftover step, apart from the parts numbered 0, 1, ...
LEFTOVER_STREAM = 2**31


def solve(problem: Problem) -> Allocation:
    """Place every student of the problem, optimally for the documented objective.

    The goals come in this order. Place as many (student, slot) pairs as possible
    and keep every fixed placement. Place as many as possible within their own
    choices. Give the lowest worst rank, then the lowest sum of ranks, within each
    independent part. Spread students evenly over the groups. Break exact ties by
    a lottery seeded with ``problem.seed``. ``docs/allocation.md`` explains why.

    Raises
    ------
    AllocationError
        If the problem is inconsistent (checked when it is built) or the solver
        fails on a part.
    """
    assigned, cancelled, methods = optimise(problem)
    if problem.unranked_policy == "fill" and not problem.rotation:
        _place_leftovers(problem, assigned, cancelled)
    return Allocation(explain(problem, assigned, cancelled), cancelled, methods)


def optimise(problem: Problem) -> tuple[Assigned, frozenset[OfferKey], tuple[str, ...]]:
    """Solve every part exactly; return the placements, closed offers and methods.

    Students whose choices were all full are left out here; :func:`solve` places
    them afterwards.
    """
    assigned: Assigned = {where: (key, None) for where, key in problem.fixed.items()}
    cancelled: set[OfferKey] = set()
    methods = []
    for number, part in enumerate(split_parts(problem)):
        rng = np.random.default_rng([problem.seed, number])
        plain = part.is_plain and not problem.rotation
        solution = solve_plain(part, rng) if plain else solve_part(part, rng)
        methods.append("flow" if plain else "milp")
        _record(part, solution, assigned, rng)
        cancelled.update(
            offer.key
            for offer, runs in zip(part.offers, solution.runs, strict=True)
            if not runs and offer.min_size > 0
        )
    return assigned, frozenset(cancelled), tuple(methods)


def _record(
    part: Part, solution: PartSolution, assigned: Assigned, rng: np.random.Generator
) -> None:
    group_counts: dict[int, dict[int, int]] = defaultdict(dict)
    for arc in np.flatnonzero(solution.flows > 0):
        unit = part.units[part.arc_unit[arc]]
        offer = part.offers[part.arc_offer[arc]]
        if unit.size > 1:
            group_counts[part.arc_unit[arc]][part.arc_offer[arc]] = int(
                solution.flows[arc]
            )
            continue
        for slot, rank in zip(offer.slots, part.arc_ranks[arc], strict=True):
            assigned[(unit.students[0], slot)] = (offer.key, rank or None)
    for unit_index, counts in group_counts.items():
        split = split_group(part, part.units[unit_index], counts, rng)
        for student, offers in split.items():
            for index in offers:
                for slot in part.offers[index].slots:
                    assigned[(student, slot)] = (part.offers[index].key, None)


def _place_leftovers(
    problem: Problem, assigned: Assigned, cancelled: frozenset[OfferKey]
) -> None:
    """Place students whose choices were all full into the places that remain.

    When no place remains, a student who gave choices takes the place of one who
    gave none, so that those who signed up come first.
    """
    leftovers = [
        where
        for where in problem.preferences
        if where not in assigned and where[1] in problem.slots
    ]
    if not leftovers:
        return
    rng = np.random.default_rng([problem.seed, LEFTOVER_STREAM])
    order = rng.permutation(len(leftovers))
    fill = Counter((key, slot) for (_s, slot), (key, _r) in assigned.items())
    for index in order:
        student, slot = leftovers[index]
        offer = _least_filled(problem, student, slot, assigned, fill, cancelled)
        if offer is None:
            _take_place_of_unranked(problem, student, slot, assigned, cancelled)
            continue
        for each_slot in offer.slots:
            assigned[(student, each_slot)] = (offer.key, None)
            fill[(offer.key, each_slot)] += 1


def _acceptable(
    problem: Problem,
    student: StudentKey,
    offer: Offer,
    assigned: Assigned,
    cancelled: frozenset[OfferKey],
) -> bool:
    if offer.key in cancelled or not offer.admits(student):
        return False
    if offer.repeat_key in problem.taken.get(student, frozenset()):
        return False
    for slot in problem.slots:
        held = assigned.get((student, slot))
        if held is None:
            continue
        if slot in offer.slots or problem.offer(held[0]).repeat_key == offer.repeat_key:
            return False
    return True


def _least_filled(problem, student, slot, assigned, fill, cancelled) -> Offer | None:
    best, best_ratio = None, None
    for offer in problem.offers:
        if slot not in offer.slots:
            continue
        if not _acceptable(problem, student, offer, assigned, cancelled):
            continue
        if any(fill[(offer.key, s)] >= offer.capacity for s in offer.slots):
            continue
        ratio = fill[(offer.key, slot)] / offer.capacity
        if best_ratio is None or ratio < best_ratio:
            best, best_ratio = offer, ratio
    return best


def _take_place_of_unranked(problem, student, slot, assigned, cancelled) -> None:
    for (other, other_slot), (key, _rank) in list(assigned.items()):
        if other_slot != slot or (other, slot) in problem.fixed:
            continue
        if (other, slot) in problem.preferences:
            continue
        offer = problem.offer(key)
        if len(offer.slots) > 1:
            continue
        if _acceptable(problem, student, offer, assigned, cancelled):
            del assigned[(other, slot)]
            assigned[(student, slot)] = (key, None)
            log.debug("student %s takes the place of %s in %s", student, other, key)
            return
