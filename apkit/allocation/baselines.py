"""Two simple allocators, kept to measure the optimal one against.

Both take the students in a seeded random order and give each, slot by slot, the
best choice that still has a place, as a first-come-first-served sign-up does.
They ignore minimum sizes. They differ on a student whose choices are all full:
first come first served puts them in the least-filled place left (as a student
signing up late picks among what remains), random serial dictatorship leaves
them unplaced.
"""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np

from apkit.allocation.explain import explain
from apkit.allocation.problem import (
    Allocation,
    Offer,
    OfferKey,
    Problem,
    StudentKey,
)

Assigned = dict[tuple[StudentKey, int], tuple[OfferKey, int | None]]


def first_come_first_served(problem: Problem) -> Allocation:
    """Allocate in a random order seeded by ``problem.seed``; see the module."""
    return _serial(problem, outside_choices=True, method="first_come_first_served")


def random_serial_dictatorship(problem: Problem) -> Allocation:
    """Allocate in a random order seeded by ``problem.seed``; see the module."""
    return _serial(problem, outside_choices=False, method="random_serial_dictatorship")


def _serial(problem: Problem, *, outside_choices: bool, method: str) -> Allocation:
    rng = np.random.default_rng(problem.seed)
    assigned: Assigned = {where: (key, None) for where, key in problem.fixed.items()}
    fill = Counter((key, slot) for (_s, slot), (key, _r) in assigned.items())
    students = [problem.students[i] for i in rng.permutation(len(problem.students))]
    places_left = _LeastFilled(problem)
    for student in students:
        for slot in problem.slots:
            if (student, slot) in assigned:
                continue
            choice = _first_free_choice(problem, student, slot, assigned, fill)
            if choice is None and (
                outside_choices or not _has_choices(problem, student, slot)
            ):
                if problem.unranked_policy == "fill":
                    choice = places_left.pick(student, slot, assigned, fill)
            if choice is not None:
                offer, rank = choice
                for each in offer.slots:
                    assigned[(student, each)] = (offer.key, rank)
                    fill[(offer.key, each)] += 1
    return Allocation(explain(problem, assigned, frozenset()), frozenset(), (method,))


def _has_choices(problem: Problem, student: StudentKey, slot: int) -> bool:
    return bool(problem.preferences.get((student, slot)))


def _fits(
    problem: Problem,
    student: StudentKey,
    offer: Offer,
    assigned: Assigned,
    fill: Counter,
) -> bool:
    if not offer.admits(student) or offer.capacity <= 0:
        return False
    if offer.repeat_key in problem.taken.get(student, frozenset()):
        return False
    if any(fill[(offer.key, slot)] >= offer.capacity for slot in offer.slots):
        return False
    for slot in problem.slots:
        held = assigned.get((student, slot))
        if held is None:
            continue
        if slot in offer.slots or problem.offer(held[0]).repeat_key == offer.repeat_key:
            return False
    return True


def _first_free_choice(problem, student, slot, assigned, fill):
    for rank, key in enumerate(problem.preferences.get((student, slot), ()), start=1):
        offer = problem.offer(key)
        if _fits(problem, student, offer, assigned, fill):
            return offer, rank
    return None


class _LeastFilled:
    """Offers of each slot in a heap by fill ratio, for the places left."""

    def __init__(self, problem: Problem) -> None:
        self.heaps: dict[int, list[tuple[float, int]]] = {t: [] for t in problem.slots}
        self.problem = problem
        for index, offer in enumerate(problem.offers):
            if offer.capacity > 0:
                for slot in offer.slots:
                    self.heaps[slot].append((0.0, index))
        for heap in self.heaps.values():
            heapq.heapify(heap)

    def pick(self, student, slot, assigned, fill) -> tuple[Offer, None] | None:
        heap, skipped, found = self.heaps[slot], [], None
        while heap and found is None:
            ratio, index = heapq.heappop(heap)
            offer = self.problem.offers[index]
            current = fill[(offer.key, slot)] / offer.capacity
            if current != ratio:
                if current < 1:
                    heapq.heappush(heap, (current, index))
            elif _fits(self.problem, student, offer, assigned, fill):
                found = offer
            elif current < 1:
                skipped.append((ratio, index))
        for entry in skipped:
            heapq.heappush(heap, entry)
        if found is None:
            return None
        # Its ratio changes once the student is in; the next pick re-files it.
        heapq.heappush(heap, (fill[(found.key, slot)] / found.capacity, index))
        return found, None
