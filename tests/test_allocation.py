"""The pure solver: invariants on generated schools, brute force, specific cases."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from apkit.allocation import (
    AllocationError,
    Offer,
    Problem,
    Reason,
    solve,
)
from apkit.allocation.baselines import (
    first_come_first_served,
    random_serial_dictatorship,
)
from apkit.allocation.engine import optimise
from apkit.allocation.flow import Network, min_cost_max_flow, solve_plain
from apkit.allocation.milp import solve_part
from apkit.allocation.parts import split_parts

TITLES = ["Débat", "Python", "Théâtre"]
TEACHERS = ["T1", "T2", "T3"]


@st.composite
def problems(draw, *, tiny: bool = False, fixed: bool = True) -> Problem:
    """Draw a small school: projects, minimum sizes, history and eligibility."""
    slots = tuple(range(1, draw(st.integers(1, 2)) + 1))
    students = tuple(
        f"E{i}" for i in range(draw(st.integers(1, 5) if tiny else st.integers(5, 30)))
    )
    offers = []
    for i in range(draw(st.integers(1, 3) if tiny else st.integers(2, 6))):
        project = len(slots) == 2 and draw(st.integers(0, 3)) == 0
        where = slots if project else (draw(st.sampled_from(slots)),)
        restricted = draw(st.integers(0, 4)) == 0
        offers.append(
            Offer(
                key=f"A{i}",
                slots=where,
                capacity=draw(st.integers(0, 3) if tiny else st.integers(0, 9)),
                min_size=draw(st.sampled_from([0, 0, 2, 3])),
                title=draw(st.sampled_from(TITLES)),
                teacher=draw(st.sampled_from(TEACHERS)),
                eligible=frozenset(draw(st.sets(st.sampled_from(students))))
                if restricted
                else None,
            )
        )
    preferences = {}
    for student in students:
        for slot in slots:
            here = [o.key for o in offers if slot in o.slots]
            if here and draw(st.integers(0, 4)) > 0:
                order = draw(st.permutations(here))
                preferences[(student, slot)] = tuple(order[: draw(st.integers(1, 3))])
    taken = {
        s: frozenset(
            draw(st.sets(st.sampled_from([o.repeat_key for o in offers]), max_size=1))
        )
        for s in students
    }
    seen = {
        s: frozenset(draw(st.sets(st.sampled_from(TEACHERS), max_size=2)))
        for s in students
    }
    chosen_fixed = {}
    if fixed and not tiny:
        for student in draw(st.sets(st.sampled_from(students), max_size=3)):
            offer = draw(st.sampled_from(offers))
            for slot in offer.slots:
                chosen_fixed[(student, slot)] = offer.key
    return Problem(
        students=students,
        slots=slots,
        offers=tuple(offers),
        preferences=preferences,
        fixed=chosen_fixed,
        taken=taken,
        seen_teachers=seen,
        unranked_policy=draw(st.sampled_from(["fill", "leave"])),
        seed=draw(st.integers(0, 1000)),
        rotation=draw(st.integers(0, 5)) == 0,
    )


def check_invariants(problem: Problem, allocation) -> None:
    placements = allocation.placements
    assert set(placements) == {(s, t) for s in problem.students for t in problem.slots}
    fill = allocation.fill()
    fixed_fill = Counter((key, slot) for (_s, slot), key in problem.fixed.items())
    for offer in problem.offers:
        for slot in offer.slots:
            enrolled = fill[(offer.key, slot)]
            assert enrolled <= max(offer.capacity, fixed_fill[(offer.key, slot)])
            if offer.key in allocation.cancelled:
                assert enrolled == 0
            elif fixed_fill[(offer.key, slot)] == 0 and enrolled > 0:
                assert enrolled >= offer.min_size
    for (student, slot), placement in placements.items():
        assert placement.student == student
        assert placement.slot == slot
        if placement.offer is None:
            assert placement.reason in (Reason.NO_PLACE, Reason.NO_PREFERENCE)
            continue
        offer = problem.offer(placement.offer)
        assert slot in offer.slots
        for other in offer.slots:
            assert placements[(student, other)].offer == offer.key
        if placement.fixed:
            assert problem.fixed[(student, slot)] == offer.key
            continue
        assert offer.admits(student)
        assert offer.repeat_key not in problem.taken.get(student, frozenset())
        choices = problem.preferences.get((student, slot))
        if placement.rank is not None and not problem.rotation:
            assert choices[placement.rank - 1] == offer.key
        for other_slot in problem.slots:
            other = placements[(student, other_slot)].offer
            if other is not None and other != offer.key:
                assert problem.offer(other).repeat_key != offer.repeat_key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solve_invariants_on_generated_schools(problem):
    allocation = solve(problem)
    check_invariants(problem, allocation)
    assert solve(problem) == allocation


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_baselines_invariants_without_minimum_sizes(problem):
    for method in (first_come_first_served, random_serial_dictatorship):
        allocation = method(problem)
        assert set(allocation.placements) == {
            (s, t) for s in problem.students for t in problem.slots
        }
        fill = allocation.fill()
        fixed_fill = Counter((key, slot) for (_s, slot), key in problem.fixed.items())
        for (key, slot), enrolled in fill.items():
            capacity = problem.offer(key).capacity
            assert enrolled <= max(capacity, fixed_fill[(key, slot)])


def _options(problem: Problem, student, slots: tuple[int, ...]) -> list[dict]:
    """Every acceptable way to place one student in ``slots``, with ranks."""
    per_slot = [[None] + [o for o in problem.offers if t in o.slots] for t in slots]
    options = []
    for combo in itertools.product(*per_slot):
        chosen = dict(zip(slots, combo, strict=True))
        if _acceptable(problem, student, chosen):
            options.append(chosen)
    return options


def _rank(problem: Problem, student, offer: Offer, slot: int) -> int | None:
    if problem.rotation:
        return 2 if offer.teacher in problem.seen_teachers.get(student, ()) else 1
    choices = problem.preferences.get((student, slot))
    if not choices:
        return 0 if problem.unranked_policy == "fill" else None
    return choices.index(offer.key) + 1 if offer.key in choices else None


def _acceptable(problem: Problem, student, chosen: dict) -> bool:
    offers = [o for o in chosen.values() if o is not None]
    for slot, offer in chosen.items():
        if offer is None:
            continue
        if any(chosen.get(t) != offer for t in offer.slots):
            return False
        if offer.capacity == 0 or not offer.admits(student):
            return False
        if offer.repeat_key in problem.taken.get(student, frozenset()):
            return False
        if _rank(problem, student, offer, slot) is None:
            return False
    keys = [o.repeat_key for o in {o.key: o for o in offers}.values()]
    return len(keys) == len(set(keys))


def _score(problem: Problem, rows: list[tuple]) -> tuple[int, int, int, int]:
    """(placed, placed within choices, minus worst rank, minus sum of ranks)."""
    ranks = [_rank(problem, s, offer, t) for s, t, offer in rows]
    in_list = [r for r in ranks if r]
    return (len(rows), len(in_list), -max(in_list, default=0), -sum(in_list))


def _brute_force(problem: Problem, slots: tuple[int, ...]) -> tuple:
    options = [_options(problem, s, slots) for s in problem.students]
    best = None
    for combo in itertools.product(*options):
        fill = Counter()
        rows = []
        for student, chosen in zip(problem.students, combo, strict=True):
            for slot, offer in chosen.items():
                if offer is not None:
                    fill[offer.key] += 1 if slot == offer.slots[0] else 0
                    rows.append((student, slot, offer))
        if any(
            fill[o.key] > o.capacity or 0 < fill[o.key] < o.min_size
            for o in problem.offers
        ):
            continue
        score = _score(problem, rows)
        best = score if best is None or score > best else best
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(tiny=True, fixed=False))
def test_optimise_matches_brute_force_on_tiny_schools(problem):
    assigned, _cancelled, _methods = optimise(problem)
    for part in split_parts(problem):
        rows = [
            (s, t, problem.offer(key))
            for (s, t), (key, _rank) in assigned.items()
            if t in part.slots
        ]
        assert _score(problem, rows) == _brute_force(problem, part.slots)


def _plain(students: int, offers: int, seed: int, policy: str = "fill") -> Problem:
    rng = np.random.default_rng(seed)
    catalogue = tuple(
        Offer(f"A{i}", (1,), int(rng.integers(0, 8)), title=f"A{i}")
        for i in range(offers)
    )
    preferences = {}
    for student in range(students):
        if rng.random() < 0.8:
            order = rng.permutation(offers)[: rng.integers(1, offers + 1)]
            preferences[(student, 1)] = tuple(f"A{i}" for i in order)
    return Problem(
        tuple(range(students)), (1,), catalogue, preferences, unranked_policy=policy
    )


@pytest.mark.parametrize("seed", range(12))
def test_flow_matches_milp_on_plain_problems(seed):
    problem = _plain(30, 5, seed, "fill" if seed % 2 else "leave")
    (part,) = split_parts(problem)
    arcs = part.arc_arrays()

    def score(flows):
        worst = arcs["worst"][flows > 0]
        return (
            int(flows @ arcs["placed"]),
            int(flows @ arcs["ranked"]),
            int(worst.max(initial=0)),
            int(flows @ arcs["cost"]),
        )

    flow = solve_plain(part, np.random.default_rng(0)).flows
    milp = solve_part(part, np.random.default_rng(0)).flows
    assert score(flow) == score(milp)


def test_solve_seed_reproducible():
    offers = (Offer("A", (1,), 1), Offer("B", (1,), 5))
    preferences = {(s, 1): ("A", "B") for s in range(4)}
    winners = set()
    for seed in range(20):
        problem = Problem(tuple(range(4)), (1,), offers, preferences, seed=seed)
        first = solve(problem)
        assert solve(problem) == first
        winners |= {p.student for p in first.placements.values() if p.offer == "A"}
    assert len(winners) > 1


def test_solve_minimum_size_closes_activity():
    offers = (Offer("A", (1,), 10, min_size=3), Offer("B", (1,), 10))
    preferences = {(0, 1): ("A", "B"), (1, 1): ("A", "B"), (2, 1): ("B",)}
    allocation = solve(Problem((0, 1, 2), (1,), offers, preferences))
    assert allocation.cancelled == frozenset({"A"})
    assert allocation.placements[(0, 1)].offer == "B"
    assert allocation.placements[(0, 1)].reason == Reason.FIRST_CHOICE_CLOSED
    assert allocation.methods == ("milp",)


def test_solve_minimum_size_reached_runs_activity():
    offers = (Offer("A", (1,), 10, min_size=3), Offer("B", (1,), 10))
    preferences = {(s, 1): ("A", "B") for s in range(3)}
    allocation = solve(Problem((0, 1, 2), (1,), offers, preferences))
    assert allocation.cancelled == frozenset()
    assert allocation.rank_counts() == Counter({1: 3})


def test_solve_history_and_eligibility_reasons():
    offers = (
        Offer("A", (1,), 5, title="Débat", teacher="T1"),
        Offer("B", (1,), 5, title="Python", teacher="T2", eligible=frozenset({1})),
        Offer("C", (1,), 5, title="Théâtre", teacher="T3"),
    )
    preferences = {(0, 1): ("A", "C"), (2, 1): ("B", "C"), (1, 1): ("B",)}
    problem = Problem(
        (0, 1, 2), (1,), offers, preferences, taken={0: frozenset({("Débat", "T1")})}
    )
    allocation = solve(problem)
    assert allocation.placements[(0, 1)].offer == "C"
    assert allocation.placements[(0, 1)].reason == Reason.FIRST_CHOICE_TAKEN
    assert allocation.placements[(2, 1)].reason == Reason.FIRST_CHOICE_NOT_ELIGIBLE
    assert allocation.placements[(1, 1)].rank == 1


def test_solve_lowest_worst_rank_before_sum():
    offers = tuple(Offer(key, (1,), 1) for key in "ABCD")
    # The lowest sum of ranks is 6 (0 D, 1 C, 2 B, 3 A) with a rank 3; the rule
    # gives worst rank 2 and sum 7 (0 A, 1 C, 2 D, 3 B).
    preferences = {
        (0, 1): ("C", "A", "D", "B"),
        (1, 1): ("C",),
        (2, 1): ("B", "D", "A"),
        (3, 1): ("A", "B"),
    }
    allocation = solve(Problem((0, 1, 2, 3), (1,), offers, preferences))
    ranks = [allocation.placements[(s, 1)].rank for s in range(4)]
    assert ranks == [2, 1, 2, 2]
    assert allocation.placements[(0, 1)].reason == Reason.FIRST_CHOICE_FULL


@pytest.mark.parametrize("slots", [1, 2])
def test_solve_unranked_policy_fill_and_leave(slots):
    # With two slots and a project the part goes to the integer program, with one
    # slot to the flow; both fill the least-filled group first.
    offers = [Offer("A", (1,), 3), Offer("B", (1,), 3)]
    if slots == 2:
        offers.append(Offer("P", (1, 2), 3, min_size=1))
    preferences = {(0, 1): ("A",), (1, 1): ("A",)}
    problem = Problem((0, 1, 2), tuple(range(1, slots + 1)), tuple(offers), preferences)
    filled = solve(problem)
    assert filled.placements[(2, 1)].reason == Reason.NO_PREFERENCE_PLACED
    assert filled.placements[(2, 1)].offer in {"B", "P"}
    left = solve(
        Problem(
            (0, 1, 2), (1,), tuple(offers[:2]), preferences, unranked_policy="leave"
        )
    )
    assert left.placements[(2, 1)].offer is None
    assert left.placements[(2, 1)].reason == Reason.NO_PREFERENCE


def test_solve_students_who_ranked_come_before_others():
    offers = (Offer("A", (1,), 1), Offer("B", (1,), 1))
    # Student 0 ranked only A, which student 1 (ranked A) takes; B is left to the
    # student with no choice unless student 0 takes their place.
    preferences = {(0, 1): ("A",), (1, 1): ("A",)}
    allocation = solve(Problem((0, 1, 2), (1,), offers, preferences, seed=3))
    placed = {p.student for p in allocation.placements.values() if p.offer}
    assert placed == {0, 1}
    assert allocation.placements[(2, 1)].reason == Reason.NO_PLACE
    outside = [p for p in allocation.placements.values() if p.rank is None and p.offer]
    assert [p.reason for p in outside] == [Reason.OUTSIDE_CHOICES]


def test_solve_keeps_fixed_placement_over_capacity():
    offers = (Offer("A", (1,), 1), Offer("B", (1,), 2))
    problem = Problem(
        (0, 1, 2), (1,), offers, {(2, 1): ("A",)}, fixed={(0, 1): "A", (1, 1): "A"}
    )
    allocation = solve(problem)
    assert allocation.placements[(0, 1)].fixed
    assert allocation.placements[(0, 1)].reason == Reason.FIXED
    assert allocation.fill()[("A", 1)] == 2
    assert allocation.placements[(2, 1)].offer == "B"


def test_solve_project_keeps_students_in_both_slots():
    offers = (
        Offer("P", (1, 2), 2, min_size=2, title="Projet"),
        Offer("A", (1,), 3, title="Débat"),
        Offer("B", (2,), 3, title="Python"),
    )
    preferences = {}
    for s in range(3):
        preferences[(s, 1)] = ("P", "A")
        preferences[(s, 2)] = ("P", "B")
    allocation = solve(Problem((0, 1, 2), (1, 2), offers, preferences))
    in_project = {p.student for p in allocation.placements.values() if p.offer == "P"}
    assert len(in_project) == 2
    for student in in_project:
        assert allocation.placements[(student, 2)].offer == "P"


def test_solve_same_workshop_not_given_twice():
    offers = (
        Offer("A1", (1,), 5, title="Débat", teacher="T1"),
        Offer("A2", (2,), 5, title="Débat", teacher="T1"),
        Offer("B", (2,), 5, title="Python", teacher="T2"),
    )
    allocation = solve(Problem((0, 1, 2, 3), (1, 2), offers, {}))
    for student in range(4):
        first = allocation.placements[(student, 1)].offer
        second = allocation.placements[(student, 2)].offer
        assert (first, second) == ("A1", "B")


def test_solve_rotation_prefers_unseen_teacher():
    offers = (
        Offer("A", (1,), 2, title="Débat", teacher="T1"),
        Offer("B", (1,), 2, title="Python", teacher="T2"),
    )
    seen = {0: frozenset({"T1"}), 1: frozenset({"T1"}), 2: frozenset({"T2"})}
    problem = Problem((0, 1, 2), (1,), offers, {}, seen_teachers=seen, rotation=True)
    allocation = solve(problem)
    assert [allocation.placements[(s, 1)].offer for s in range(3)] == ["B", "B", "A"]
    assert all(p.reason is None for p in allocation.placements.values())


def test_solve_rotation_reports_seen_teacher_when_full():
    offers = (Offer("A", (1,), 1, teacher="T1"), Offer("B", (1,), 1, teacher="T2"))
    seen = {0: frozenset({"T1"}), 1: frozenset({"T1"})}
    problem = Problem((0, 1), (1,), offers, {}, seen_teachers=seen, rotation=True)
    reasons = Counter(p.reason for p in solve(problem).placements.values())
    assert reasons == Counter({None: 1, Reason.TEACHER_SEEN: 1})


def test_problem_unknown_offer_rejected():
    with pytest.raises(
        AllocationError, match="choix de l'élève 0 : atelier inconnu « Z »"
    ):
        Problem((0,), (1,), (Offer("A", (1,), 1),), {(0, 1): ("Z",)})


def test_problem_offer_in_wrong_slot_rejected():
    with pytest.raises(AllocationError, match="l'atelier A n'a pas lieu à l'heure 2"):
        Problem((0,), (1, 2), (Offer("A", (1,), 1),), {(0, 2): ("A",)})


def test_problem_invalid_policy_rejected():
    with pytest.raises(AllocationError, match="« remplir » ; valeurs permises : fill"):
        Problem((0,), (1,), (), unranked_policy="remplir")


def test_problem_unknown_student_rejected():
    with pytest.raises(AllocationError, match="élève inconnu « 9 » dans les choix"):
        Problem((0,), (1,), (Offer("A", (1,), 1),), {(9, 1): ("A",)})


def test_problem_negative_seed_rejected():
    with pytest.raises(AllocationError, match="Graine invalide : -1"):
        Problem((0,), (1,), (), seed=-1)


def test_problem_unknown_slot_rejected():
    with pytest.raises(AllocationError, match="atelier A : heure 3 inconnue"):
        Problem((0,), (1, 2), (Offer("A", (3,), 1),))


def test_first_come_first_served_places_outside_choices():
    offers = (Offer("A", (1,), 1), Offer("B", (1,), 1))
    preferences = {(0, 1): ("A",), (1, 1): ("A",)}
    allocation = first_come_first_served(Problem((0, 1), (1,), offers, preferences))
    assert Counter(p.reason for p in allocation.placements.values()) == Counter(
        {None: 1, Reason.OUTSIDE_CHOICES: 1}
    )
    dictatorship = random_serial_dictatorship(
        Problem((0, 1), (1,), offers, preferences)
    )
    assert len(dictatorship.unplaced) == 1


@pytest.mark.parametrize("seed", range(20))
def test_min_cost_max_flow_matches_linprog(seed):
    rng = np.random.default_rng(seed)
    nodes = int(rng.integers(4, 9))
    pairs = set()
    for _ in range(int(rng.integers(4, 20))):
        tail, head = (int(x) for x in rng.integers(0, nodes, 2))
        if tail != head and head != 0 and tail != 1 and (head, tail) not in pairs:
            pairs.add((tail, head))
    tails = np.array([t for t, _h in sorted(pairs)], dtype=int)
    heads = np.array([h for _t, h in sorted(pairs)], dtype=int)
    capacities = rng.integers(1, 4, len(tails)).astype(np.int64)
    costs = rng.integers(0, 5, len(tails)).astype(np.int64)
    network = Network(nodes, tails, heads, capacities, costs)

    flow = min_cost_max_flow(network, np.ones(len(tails), dtype=bool))

    incidence = np.zeros((nodes, len(tails)))
    incidence[tails, np.arange(len(tails))] -= 1
    incidence[heads, np.arange(len(tails))] += 1
    inner = incidence[2:]
    bounds = list(zip(np.zeros(len(tails)), capacities, strict=True))
    best_value = -linprog(-incidence[1], A_eq=inner, b_eq=np.zeros(nodes - 2),
                          bounds=bounds).fun  # fmt: skip
    best_cost = linprog(costs, A_eq=np.vstack([inner, incidence[1]]),
                        b_eq=np.append(np.zeros(nodes - 2), best_value),
                        bounds=bounds).fun  # fmt: skip
    assert np.all(inner @ flow == 0)
    assert np.all((flow >= 0) & (flow <= capacities))
    assert incidence[1] @ flow == pytest.approx(best_value)
    assert costs @ flow == pytest.approx(best_cost)
