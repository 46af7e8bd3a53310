"""The full model of one part as an integer program, solved by HiGHS.

Variables: one integer per arc (how many of the unit take that offer; 0 or 1 for
one student), one binary per offer with a minimum size (the offer runs), and in
stage 2 one continuous variable per place, whose cost grows with the place's
number so that the cheapest solution fills groups evenly.

Stage 1 maximises the (student, slot) pairs placed, then the pairs placed within
the students' own choices. Stage 2 keeps both counts as constraints, allows ranks
up to a bound W, and minimises the sum of ranks, then the spread of group sizes,
then a seeded lottery of tiny costs; W starts at 1 and grows until stage 2 is
feasible, which gives the lowest possible worst rank. Splitting the goals into
stages keeps every weight a small number, so the solver's tolerances never blur
one goal into another. A single model with one binary per rank level for the
worst rank was measured 5 to 10 times slower on the sample school.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from apkit.allocation.flow import Network
from apkit.allocation.parts import Part, PartSolution, empty_solution
from apkit.allocation.problem import AllocationError

log = logging.getLogger(__name__)

MILP_OPTIONS = {"mip_rel_gap": 0.0, "presolve": True}
INFEASIBLE = 2  # scipy.optimize.milp's status code


class _Rows:
    """Sparse constraint rows built one at a time."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, cols, values, lower: float, upper: float) -> None:
        row = len(self.lower)
        self.rows.extend([row] * len(cols))
        self.cols.extend(int(c) for c in cols)
        self.values.extend(float(v) for v in values)
        self.lower.append(lower)
        self.upper.append(upper)

    def constraint(self, width: int) -> LinearConstraint:
        matrix = coo_array(
            (self.values, (self.rows, self.cols)), shape=(len(self.lower), width)
        ).tocsr()
        return LinearConstraint(matrix, self.lower, self.upper)


def solve_part(part: Part, rng: np.random.Generator) -> PartSolution:
    """Solve one part exactly with the two stages described in the module docstring.

    Raises
    ------
    AllocationError
        If HiGHS returns no optimal solution. Placing no one is always feasible,
        so this means the solver failed.
    """
    arcs = part.arc_arrays()
    n_arcs = len(arcs["unit"])
    runs_index = _run_variables(part)
    if n_arcs == 0:
        return empty_solution(part, runs_index)
    totals = _totals(arcs, _stage1(part, arcs, runs_index)[:n_arcs])
    candidates = sorted({int(w) for w in arcs["worst"]} | {1})
    for worst in candidates[_first_possible(part, arcs, candidates, totals[1]) :]:
        solution = _stage2(part, arcs, runs_index, totals, worst, rng)
        if solution is not None:
            log.debug("part %s: totals %s, worst rank %s", part.slots, totals, worst)
            return solution
    raise AllocationError(
        f"Répartition impossible pour les heures {part.slots} : aucun rang ne "
        "permet de placer autant d'élèves qu'à la première étape"
    )


def _first_possible(part: Part, arcs, candidates: list[int], ranked: int) -> int:
    """Index of the first worst rank that a relaxation does not rule out.

    Each slot alone, without minimum sizes, is a maximum flow of the students
    with choices over the arcs up to that rank. If the flows of all slots
    together place fewer (student, slot) pairs within their choices than stage
    1 did, no solution of the full model can, so stage 2 need not be tried.
    """
    for index, worst in enumerate(candidates):
        reachable = sum(_ranked_flow(part, arcs, slot, worst) for slot in part.slots)
        if reachable >= ranked:
            return index
    return len(candidates) - 1


def _ranked_flow(part: Part, arcs, slot: int, worst: int) -> int:
    units = [
        i for i, unit in enumerate(part.units) if unit.ranked and slot in unit.slots
    ]
    keep = [
        arc
        for arc in range(len(part.arc_unit))
        if arcs["worst"][arc] <= worst
        and slot in part.offers[part.arc_offer[arc]].slots
        and part.arc_ranks[arc][part.offers[part.arc_offer[arc]].slots.index(slot)] > 0
    ]
    node = {unit: 2 + k for k, unit in enumerate(units)}
    base = 2 + len(units)
    tails = [0] * len(units) + [node[part.arc_unit[a]] for a in keep]
    heads = list(node.values()) + [base + part.arc_offer[a] for a in keep]
    capacities = [1] * (len(units) + len(keep))
    tails += [base + o for o in range(len(part.offers))]
    heads += [1] * len(part.offers)
    capacities += list(part.seats)
    network = Network(
        nodes=base + len(part.offers),
        tails=np.array(tails, dtype=int),
        heads=np.array(heads, dtype=int),
        capacities=np.array(capacities, dtype=np.int64),
        costs=np.zeros(len(tails), dtype=np.int64),
    )
    return network.max_flow(np.ones(len(tails), dtype=bool))


def _run_variables(part: Part) -> dict[int, int]:
    """Offers whose running is decided by the model, numbered from 0."""
    offers = [
        i
        for i, offer in enumerate(part.offers)
        if offer.min_size > 0 and part.fixed_count[i] == 0
    ]
    return {offer: k for k, offer in enumerate(offers)}


def _common_rows(
    part: Part, arcs: dict[str, np.ndarray], runs_index: dict[int, int], run_base: int
) -> _Rows:
    rows = _Rows()
    by_unit_slot: dict[tuple[int, int], list[int]] = {}
    for arc, (unit, offer) in enumerate(zip(arcs["unit"], arcs["offer"], strict=True)):
        for slot in part.offers[offer].slots:
            by_unit_slot.setdefault((int(unit), slot), []).append(arc)
    for (unit, _slot), members in by_unit_slot.items():
        rows.add(members, [1] * len(members), 0, arcs["size"][unit])
    for members in part.repeat_groups():
        unit = arcs["unit"][members[0]]
        rows.add(members, [1] * len(members), 0, arcs["size"][unit])

    seats = part.seats
    for offer in range(len(part.offers)):
        members = list(np.flatnonzero(arcs["offer"] == offer))
        ones = [1] * len(members)
        if offer in runs_index:
            run = run_base + runs_index[offer]
            rows.add(members + [run], ones + [-seats[offer]], -np.inf, 0)
            minimum = part.offers[offer].min_size
            rows.add(members + [run], ones + [-minimum], 0, np.inf)
        elif members:
            rows.add(members, ones, 0, seats[offer])
    return rows


def _stage1(part, arcs, runs_index) -> np.ndarray:
    n_arcs = len(arcs["unit"])
    width = n_arcs + len(runs_index)
    rows = _common_rows(part, arcs, runs_index, n_arcs)
    # One more pair placed outweighs every pair placed within the choices.
    placed_weight = float(np.sum(arcs["ranked"] * _arc_sizes(arcs))) + 1
    cost = np.zeros(width)
    cost[:n_arcs] = -(placed_weight * arcs["placed"] + arcs["ranked"])
    upper = np.concatenate([_arc_sizes(arcs), np.ones(len(runs_index))])
    solution = _solve(cost, rows.constraint(width), upper, part)
    if solution is None:
        raise AllocationError(
            f"Répartition impossible pour les heures {part.slots} : le solveur "
            "n'a pas trouvé de solution ; vérifiez les placements fixés"
        )
    return solution


def _stage2(part, arcs, runs_index, totals, worst, rng) -> PartSolution | None:
    n_arcs = len(arcs["unit"])
    seats = part.seats
    balance_offers = [(o, k) for o in range(len(part.offers)) for k in range(seats[o])]
    width = n_arcs + len(runs_index) + len(balance_offers)
    rows = _common_rows(part, arcs, runs_index, n_arcs)
    rows.add(range(n_arcs), arcs["placed"], totals[0], np.inf)
    rows.add(range(n_arcs), arcs["ranked"], totals[1], np.inf)
    balance_base = n_arcs + len(runs_index)
    for offer in range(len(part.offers)):
        members = list(np.flatnonzero(arcs["offer"] == offer))
        seat_vars = [
            balance_base + i for i, (o, _k) in enumerate(balance_offers) if o == offer
        ]
        rows.add(members + seat_vars, [1] * len(members) + [-1] * len(seat_vars), 0, 0)

    # Weights: the whole balance term stays below one rank, the whole lottery
    # below the smallest step of the balance term.
    capacity = np.array([max(o.capacity, 1) for o in part.offers], dtype=float)
    steps = np.array(
        [(part.fixed_count[o] + k + 1) / capacity[o] for o, k in balance_offers]
    )
    balance_weight = 0.5 / (steps.sum() + 1)
    lottery_weight = balance_weight / (capacity.max() ** 2 * (n_arcs + 1))
    cost = np.zeros(width)
    cost[:n_arcs] = arcs["cost"] + lottery_weight * rng.random(n_arcs)
    cost[balance_base:] = balance_weight * steps
    upper = np.concatenate(
        [_arc_sizes(arcs), np.ones(len(runs_index)), np.ones(len(balance_offers))]
    )
    upper[:n_arcs][arcs["worst"] > worst] = 0
    integral = np.concatenate(
        [np.ones(n_arcs + len(runs_index)), np.zeros(len(balance_offers))]
    )
    solution = _solve(cost, rows.constraint(width), upper, part, integral)
    if solution is None:
        return None
    flows = np.round(solution[:n_arcs]).astype(int)
    runs = np.ones(len(part.offers), dtype=bool)
    for offer, k in runs_index.items():
        runs[offer] = solution[n_arcs + k] > 0.5
    return PartSolution(flows=flows, runs=runs)


def _arc_sizes(arcs: dict[str, np.ndarray]) -> np.ndarray:
    return arcs["size"][arcs["unit"]].astype(float)


def _totals(arcs: dict[str, np.ndarray], flows: np.ndarray) -> tuple[int, int]:
    flows = np.round(flows)
    return int(flows @ arcs["placed"]), int(flows @ arcs["ranked"])


def _solve(cost, constraint, upper, part: Part, integral=None) -> np.ndarray | None:
    """Return HiGHS's optimal solution, or ``None`` if the model is infeasible."""
    integrality = np.ones(len(cost)) if integral is None else integral
    result = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(np.zeros(len(cost)), upper),
        constraints=[constraint],
        options=MILP_OPTIONS,
    )
    if result.status == INFEASIBLE:
        return None
    if result.x is None or result.status != 0:
        raise AllocationError(
            f"Répartition impossible pour les heures {part.slots} : le solveur "
            f"indique « {result.message} » ; vérifiez les placements fixés"
        )
    return result.x
