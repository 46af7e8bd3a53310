"""The plain model (one slot, no minimum size) as a min-cost maximum flow.

The network is source -> unit -> offer -> sink, with one student (or a group of
interchangeable students) per unit and the places left as the offers' capacities.
The goals are the full model's, in the same order: place as many as possible,
then as many as possible within their choices, then the lowest worst rank, then
the lowest sum of ranks.

The first three are maximum flows, computed with SciPy's ``maximum_flow``
(Dinic): the counts with every arc, then, for each candidate worst rank, with
the arcs up to that rank. The last is a min-cost maximum flow on the arcs left,
by the primal-dual method. In each phase, Dijkstra on reduced costs (SciPy's
``dijkstra``) sets the node potentials. Then a maximum flow on the arcs of zero
reduced cost augments along every shortest path at once. Costs are small
integers (ranks), so there are few phases: one per distinct length of shortest
augmenting path.

Exact ties fall according to the node numbering, which is shuffled by the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra, maximum_flow

from apkit.allocation.parts import Part, PartSolution, empty_solution

# Largest (students with no choice) x (free places) matrix balanced exactly.
BALANCE_LIMIT = 4_000_000
BALANCE_FORBIDDEN = 1e9


@dataclass
class Network:
    """Arcs of a flow network on ``nodes`` nodes; node 0 is the source, 1 the sink."""

    nodes: int
    tails: np.ndarray
    heads: np.ndarray
    capacities: np.ndarray
    costs: np.ndarray

    def max_flow(self, keep: np.ndarray) -> int:
        graph = csr_array(
            (
                self.capacities[keep].astype(np.int32),
                (self.tails[keep], self.heads[keep]),
            ),
            shape=(self.nodes, self.nodes),
        )
        return int(maximum_flow(graph, 0, 1).flow_value)


def solve_plain(part: Part, rng: np.random.Generator) -> PartSolution:
    """Solve a plain part exactly; see the module docstring for the method."""
    arcs = part.arc_arrays()
    if len(arcs["unit"]) == 0:
        return empty_solution(part, {})
    network, arc_edges = _network(part, arcs, rng)
    ranked_units = np.array([u.ranked for u in part.units], dtype=bool)
    unranked_edge = np.zeros(len(network.tails), dtype=bool)
    unranked_edge[arc_edges] = ~ranked_units[arcs["unit"]]

    everything = np.ones(len(network.tails), dtype=bool)
    placed = network.max_flow(everything)
    ranked = network.max_flow(~unranked_edge)
    worst = _lowest_worst_rank(network, arcs, arc_edges, unranked_edge, placed, ranked)

    allowed = everything.copy()
    allowed[arc_edges] = arcs["worst"] <= worst
    # One more student placed within their choices outweighs any change in ranks.
    outside_cost = worst * (int(ranked_units @ arcs["size"]) + 1) + 1
    network.costs[arc_edges] = np.where(
        ranked_units[arcs["unit"]], arcs["cost"], outside_cost
    )
    flows = min_cost_max_flow(network, allowed)[arc_edges].astype(int)
    return PartSolution(
        flows=_balance_unranked(part, arcs, flows, ranked_units),
        runs=np.ones(len(part.offers), dtype=bool),
    )


def _balance_unranked(part: Part, arcs, flows, ranked_units) -> np.ndarray:
    """Spread the students with no choice over the places left, least-filled first.

    Their arcs all cost the same, so moving them between offers keeps the flow
    optimal. They are assigned to the free places, where each further place of an
    offer costs its fill ratio, so the emptiest groups fill first.
    """
    unranked_arcs = np.flatnonzero(~ranked_units[arcs["unit"]] & (flows > 0))
    if len(unranked_arcs) == 0:
        return flows
    taken = np.bincount(
        arcs["offer"],
        weights=np.where(ranked_units[arcs["unit"]], flows, 0),
        minlength=len(part.offers),
    ).astype(int)
    free = part.seats - taken
    seat_offer = np.repeat(np.arange(len(part.offers)), free)
    if len(seat_offer) * int(flows[unranked_arcs].sum()) > BALANCE_LIMIT:
        # NOTE: above this size the students with no choice keep the flow's
        # places, which fill offers in node order rather than least-filled first.
        return flows
    rank_in_offer = np.arange(len(seat_offer)) - np.repeat(np.cumsum(free) - free, free)
    capacity = np.array([max(o.capacity, 1) for o in part.offers], dtype=float)
    filled = part.fixed_count + taken
    seat_cost = (filled[seat_offer] + rank_in_offer + 1) / capacity[seat_offer]

    units = np.unique(arcs["unit"][unranked_arcs])
    rows = np.repeat(units, [int(flows[arcs["unit"] == u].sum()) for u in units])
    allowed = np.zeros((len(part.units), len(part.offers)), dtype=bool)
    allowed[arcs["unit"], arcs["offer"]] = True
    cost = np.where(allowed[rows][:, seat_offer], seat_cost, BALANCE_FORBIDDEN)
    chosen_rows, chosen_seats = linear_sum_assignment(cost)
    balanced = flows.copy()
    balanced[unranked_arcs] = 0
    arc_of = {
        (int(u), int(o)): a
        for a, (u, o) in enumerate(zip(arcs["unit"], arcs["offer"], strict=True))
    }
    for row, seat in zip(chosen_rows, chosen_seats, strict=True):
        balanced[arc_of[(int(rows[row]), int(seat_offer[seat]))]] += 1
    return balanced


def _network(part: Part, arcs, rng) -> tuple[Network, np.ndarray]:
    n_units, n_offers = len(part.units), len(part.offers)
    numbering = rng.permutation(n_units + n_offers) + 2
    unit_node, offer_node = numbering[:n_units], numbering[n_units:]
    sizes = arcs["size"]
    tails = np.concatenate(
        [np.zeros(n_units, int), unit_node[arcs["unit"]], offer_node]
    )
    heads = np.concatenate(
        [unit_node, offer_node[arcs["offer"]], np.ones(n_offers, int)]
    )
    capacities = np.concatenate([sizes, sizes[arcs["unit"]], part.seats])
    network = Network(
        nodes=n_units + n_offers + 2,
        tails=tails,
        heads=heads,
        capacities=capacities.astype(np.int64),
        costs=np.zeros(len(tails), dtype=np.int64),
    )
    arc_edges = np.arange(n_units, n_units + len(arcs["unit"]))
    return network, arc_edges


def _lowest_worst_rank(network, arcs, arc_edges, unranked_edge, placed, ranked) -> int:
    for worst in sorted({int(w) for w in arcs["worst"]} | {1}):
        keep = np.ones(len(network.tails), dtype=bool)
        keep[arc_edges] = arcs["worst"] <= worst
        if (
            network.max_flow(keep) == placed
            and network.max_flow(keep & ~unranked_edge) == ranked
        ):
            return worst
    return max(int(arcs["worst"].max(initial=1)), 1)


def min_cost_max_flow(network: Network, allowed: np.ndarray) -> np.ndarray:
    """Return a maximum flow of least cost over the ``allowed`` arcs (primal-dual).

    Costs must be non-negative integers. The flow on each arc is returned in the
    network's arc order; arcs not allowed carry none.
    """
    capacities = np.where(allowed, network.capacities, 0)
    flow = np.zeros(len(network.tails), dtype=np.int64)
    potential = np.zeros(network.nodes, dtype=np.int64)
    keys = network.tails * network.nodes + network.heads
    while True:
        residual = _Residual.of(network, capacities, flow)
        if not _raise_potentials(network.nodes, residual, potential):
            return flow
        result = maximum_flow(residual.admissible(network.nodes, potential), 0, 1)
        if result.flow_value == 0:
            return flow
        flow += _net_flow(result.flow, keys, network.nodes)


@dataclass
class _Residual:
    """Arcs that can still carry flow: forward arcs not full, backward arcs used."""

    tails: np.ndarray
    heads: np.ndarray
    capacities: np.ndarray
    costs: np.ndarray

    @classmethod
    def of(cls, network: Network, capacities: np.ndarray, flow: np.ndarray):
        forward = capacities - flow > 0
        backward = flow > 0
        return cls(
            tails=np.concatenate([network.tails[forward], network.heads[backward]]),
            heads=np.concatenate([network.heads[forward], network.tails[backward]]),
            capacities=np.concatenate([(capacities - flow)[forward], flow[backward]]),
            costs=np.concatenate([network.costs[forward], -network.costs[backward]]),
        )

    def reduced_costs(self, potential: np.ndarray) -> np.ndarray:
        return self.costs + potential[self.tails] - potential[self.heads]

    def admissible(self, nodes: int, potential: np.ndarray) -> csr_array:
        """Return the arcs of zero reduced cost as a capacity matrix."""
        tight = self.reduced_costs(potential) == 0
        return csr_array(
            (
                self.capacities[tight].astype(np.int32),
                (self.tails[tight], self.heads[tight]),
            ),
            shape=(nodes, nodes),
        )


def _raise_potentials(nodes: int, residual: _Residual, potential: np.ndarray) -> bool:
    """Add shortest distances to the potentials; tell whether the sink is reachable.

    Dijkstra needs strictly positive weights, so reduced costs are scaled and 1
    is added per arc: a path's length divided by the scale, rounded down, is its
    cost, and among equal costs the path with fewest arcs is shortest.
    """
    scale = nodes + 1
    weights = (residual.reduced_costs(potential) * scale + 1).astype(float)
    graph = csr_array((weights, (residual.tails, residual.heads)), shape=(nodes, nodes))
    distance = dijkstra(graph, indices=0)
    if not np.isfinite(distance[1]):
        return False
    steps = np.floor_divide(
        np.where(np.isfinite(distance), distance, distance[1]), scale
    ).astype(np.int64)
    potential += np.minimum(steps, steps[1])
    return True


def _net_flow(matrix, keys: np.ndarray, nodes: int) -> np.ndarray:
    """Read the net flow from tail to head of each arc in a flow matrix."""
    coo = matrix.tocoo()
    found_keys = coo.row.astype(np.int64) * nodes + coo.col
    order = np.argsort(found_keys)
    found_keys, values = found_keys[order], coo.data[order]
    position = np.clip(
        np.searchsorted(found_keys, keys), 0, max(len(found_keys) - 1, 0)
    )
    if len(found_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64)
    hit = found_keys[position] == keys
    return np.where(hit, values[position], 0).astype(np.int64)
