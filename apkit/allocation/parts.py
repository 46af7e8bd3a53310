"""Cut a problem into independent parts and list each part's possible placements.

Two slots depend on each other when a two-hour project spans them, or when the
same activity (same title and teacher) is offered in both, since a student may
take it only once. Otherwise each slot is solved alone, which is exact because no
constraint links it to another.

Within a part, a *unit* is one student, or several students with no preference
at all who may join exactly the same offers: they are interchangeable, so the
solvers place a count of them and :func:`split_group` names who goes where. An
*arc* is one way to place a unit: into one offer, which fills one slot or, for a
project, two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from apkit.allocation.problem import Offer, Problem, RepeatKey, StudentKey


@dataclass
class Unit:
    students: list[StudentKey]
    slots: tuple[int, ...]
    ranked: bool

    @property
    def size(self) -> int:
        return len(self.students)


@dataclass
class Part:
    """One independent part: its slots, offers, units and arcs as arrays."""

    slots: tuple[int, ...]
    offers: list[Offer]
    units: list[Unit] = field(default_factory=list)
    arc_unit: list[int] = field(default_factory=list)
    arc_offer: list[int] = field(default_factory=list)
    # Rank obtained in each slot of the offer; 0 in a slot with no preference.
    arc_ranks: list[tuple[int, ...]] = field(default_factory=list)
    fixed_count: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def seats(self) -> np.ndarray:
        """Places left in each offer once the fixed placements are counted."""
        capacity = np.array([offer.capacity for offer in self.offers], dtype=int)
        return np.maximum(capacity - self.fixed_count, 0)

    @property
    def is_plain(self) -> bool:
        """One slot, no minimum size: a transportation problem."""
        return len(self.slots) == 1 and all(o.min_size == 0 for o in self.offers)

    def arc_arrays(self) -> dict[str, np.ndarray]:
        """Return per-arc cost (sum of ranks), worst rank, slots and ranked slots."""
        ranks = self.arc_ranks
        return {
            "unit": np.array(self.arc_unit, dtype=int),
            "offer": np.array(self.arc_offer, dtype=int),
            "cost": np.array([sum(r) for r in ranks], dtype=int),
            "worst": np.array([max(r) if r else 0 for r in ranks], dtype=int),
            "placed": np.array([len(r) for r in ranks], dtype=int),
            "ranked": np.array([sum(1 for x in r if x) for r in ranks], dtype=int),
            "size": np.array([u.size for u in self.units], dtype=int),
        }

    def repeat_groups(self) -> list[list[int]]:
        """Arcs of one unit that share a repeat key, so at most one unit each."""
        by_key: dict[tuple[int, RepeatKey], list[int]] = defaultdict(list)
        projects: dict[int, list[int]] = defaultdict(list)
        for arc, (unit, offer) in enumerate(
            zip(self.arc_unit, self.arc_offer, strict=True)
        ):
            by_key[(unit, self.offers[offer].repeat_key)].append(arc)
            if len(self.offers[offer].slots) > 1:
                projects[unit].append(arc)
        groups = []
        for (unit, _key), arcs in by_key.items():
            if len(arcs) < 2:
                continue
            # A group of students split over the two hours must also leave room
            # for those of them in a project, who are busy in both hours.
            extra = projects[unit] if self.units[unit].size > 1 else []
            groups.append(arcs + [a for a in extra if a not in arcs])
        return groups


@dataclass
class PartSolution:
    flows: np.ndarray  # units sent along each arc
    runs: np.ndarray  # whether each offer runs


def empty_solution(part: Part, runs_index: dict[int, int]) -> PartSolution:
    """Return the solution of a part where no student can be placed."""
    runs = np.array([i not in runs_index for i in range(len(part.offers))], dtype=bool)
    return PartSolution(flows=np.zeros(0, dtype=int), runs=runs)


def split_parts(problem: Problem) -> list[Part]:
    """Cut the problem into independent parts, each with its units and arcs."""
    parent = {slot: slot for slot in problem.slots}

    def root(slot: int) -> int:
        while parent[slot] != slot:
            slot = parent[slot]
        return slot

    first_slot_of: dict[RepeatKey, int] = {}
    for offer in problem.offers:
        linked = list(offer.slots)
        if offer.repeat_key in first_slot_of:
            linked.append(first_slot_of[offer.repeat_key])
        first_slot_of.setdefault(offer.repeat_key, offer.slots[0])
        for slot in linked[1:]:
            parent[root(slot)] = root(linked[0])

    groups: dict[int, list[int]] = defaultdict(list)
    for slot in problem.slots:
        groups[root(slot)].append(slot)
    parts = []
    for slots in groups.values():
        offers = [o for o in problem.offers if o.slots[0] in slots]
        part = Part(slots=tuple(sorted(slots)), offers=offers)
        _add_units(problem, part)
        parts.append(part)
    return parts


def _add_units(problem: Problem, part: Part) -> None:
    fixed_students: dict[int, set[StudentKey]] = defaultdict(set)
    index = {offer.key: i for i, offer in enumerate(part.offers)}
    for (student, slot), key in problem.fixed.items():
        if slot in part.slots:
            fixed_students[index[key]].add(student)
    part.fixed_count = np.array(
        [len(fixed_students[i]) for i in range(len(part.offers))], dtype=int
    )

    groups: dict[tuple, list[StudentKey]] = defaultdict(list)
    for student in problem.students:
        free = tuple(t for t in part.slots if (student, t) not in problem.fixed)
        if not free:
            continue
        ranked = problem.rotation or any(
            (student, t) in problem.preferences for t in free
        )
        arcs = [
            (i, ranks)
            for i in _candidates(problem, part, index, student, free)
            if (ranks := _ranks(problem, student, part.offers[i], free)) is not None
        ]
        if not ranked and len(free) == len(part.slots) <= 2:
            groups[(free, tuple(arcs))].append(student)
        else:
            _add_unit(part, Unit([student], free, ranked), arcs)
    for (free, arcs), students in groups.items():
        _add_unit(part, Unit(students, free, False), list(arcs))


def _candidates(
    problem: Problem,
    part: Part,
    index: dict,
    student: StudentKey,
    free: tuple[int, ...],
) -> list[int]:
    """Offers worth checking for a student: their choices, or every offer."""
    every = problem.rotation or (
        problem.unranked_policy == "fill"
        and any((student, t) not in problem.preferences for t in free)
    )
    if every:
        return list(range(len(part.offers)))
    chosen = {
        index[key] for t in free for key in problem.preferences.get((student, t), ())
    }
    return sorted(chosen)


def _add_unit(part: Part, unit: Unit, arcs: list[tuple[int, tuple[int, ...]]]) -> None:
    part.units.append(unit)
    for offer, ranks in arcs:
        part.arc_unit.append(len(part.units) - 1)
        part.arc_offer.append(offer)
        part.arc_ranks.append(ranks)


def _ranks(
    problem: Problem, student: StudentKey, offer: Offer, free: tuple[int, ...]
) -> tuple[int, ...] | None:
    """Rank in each slot of ``offer`` for ``student``, or ``None`` if not acceptable."""
    if not set(offer.slots) <= set(free) or offer.capacity <= 0:
        return None
    if not offer.admits(student):
        return None
    if offer.repeat_key in problem.taken.get(student, frozenset()):
        return None
    for slot in problem.slots:
        fixed = problem.fixed.get((student, slot))
        if fixed is not None and problem.offer(fixed).repeat_key == offer.repeat_key:
            return None
    ranks = []
    for slot in offer.slots:
        choices = problem.preferences.get((student, slot))
        if problem.rotation:
            seen = offer.teacher in problem.seen_teachers.get(student, frozenset())
            ranks.append(2 if seen else 1)
        elif choices:
            if offer.key not in choices:
                return None
            ranks.append(choices.index(offer.key) + 1)
        elif problem.unranked_policy == "fill":
            ranks.append(0)
        else:
            return None
    return tuple(ranks)


def split_group(
    part: Part, unit: Unit, counts: dict[int, int], rng: np.random.Generator
) -> dict[StudentKey, list[int]]:
    """Name which students of a group take which offers, given the counts per offer.

    Projects go first, then the offers of the first slot. Those of the second
    slot are then matched so that no student takes the same activity twice. The
    repeat-key constraints of the model guarantee that this matching exists.
    """
    students = list(unit.students)
    rng.shuffle(students)
    taken: dict[StudentKey, list[int]] = {s: [] for s in students}
    items = [o for o, n in counts.items() for _ in range(n)]
    projects = [o for o in items if len(part.offers[o].slots) > 1]
    position = 0
    for offer in projects:
        taken[students[position]].append(offer)
        position += 1
    for slot in part.slots:
        singles = [o for o in items if part.offers[o].slots == (slot,)]
        free = [
            s
            for s in students
            if not any(slot in part.offers[o].slots for o in taken[s])
        ]
        _match_slot(part, singles, free, taken)
    return taken


def _match_slot(
    part: Part,
    offers: list[int],
    students: list[StudentKey],
    taken: dict[StudentKey, list[int]],
) -> None:
    if not offers:
        return
    cost = np.zeros((len(offers), len(students)))
    for i, offer in enumerate(offers):
        key = part.offers[offer].repeat_key
        for j, student in enumerate(students):
            if any(part.offers[o].repeat_key == key for o in taken[student]):
                cost[i, j] = 1
    rows, cols = linear_sum_assignment(cost)
    if len(rows) < len(offers) or cost[rows, cols].sum() > 0:
        raise AssertionError("group of students could not be split over the offers")
    for i, j in zip(rows, cols, strict=True):
        taken[students[j]].append(offers[i])
