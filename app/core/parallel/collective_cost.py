"""The alpha-beta cost of a collective: per step, a latency α plus the bytes of its busiest rank
over the link's bandwidth B.

A step's transfers run at the same time; each rank has one port per link kind (NVLink /
Infinity Fabric inside a node, one NIC per GPU across nodes), full duplex, so a step lasts

    max over the link kinds it uses of  α_link + (most bytes any rank sends or receives
    on that link) / B_link.

Every algorithm's cost is a `PhaseTable`: rows of (number of steps, fraction of the buffer S
that the busiest rank moves per step on each link). For example the ring all-reduce on n
ranks inside a node is one row, 2(n − 1) steps of S/n: t = 2(n − 1)(α + S/(nB)), and its
bus bandwidth 2(n−1)/n · S/t tends to B (nccl-tests PERFORMANCE.md). `evaluate` computes
the same per step from an explicit `StepList` with whole-byte chunks; tests check the two agree.

B is the bus bandwidth nccl-tests reports for large messages (achievable, not the line rate)
and α the per-step latency fitted to measured curves (`app.core.parallel.network`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.core.parallel.collective_steps import StepList
from app.core.parallel.network import LinkKind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Source = Literal["calibration", "query"]


@dataclass(frozen=True)
class Link:
    """One link kind as the cost model uses it: B (bytes/s per GPU) and α (s per step)."""

    kind: LinkKind
    bandwidth: float
    latency: float
    source: str


@dataclass(frozen=True)
class Links:
    intra_node: Link
    network: Link

    def of(self, kind: LinkKind) -> Link:
        return self.intra_node if kind == "intra_node" else self.network


@dataclass(frozen=True)
class Placement:
    """How a group of `ranks` sits on nodes: `local` ranks per node (consecutive), N nodes."""

    ranks: int
    local: int

    @property
    def nodes(self) -> int:
        return -(-self.ranks // self.local)

    @property
    def spans_nodes(self) -> bool:
        return self.nodes > 1

    def node_of(self, rank: IntArray) -> IntArray:
        return rank // self.local


@dataclass(frozen=True)
class Row:
    """`steps` steps in which the busiest rank moves `intra` · S on the intra-node link and
    `net` · S on the network (None: the link is not used in these steps)."""

    steps: int
    intra: float | None
    net: float | None


@dataclass(frozen=True)
class PhaseTable:
    rows: tuple[Row, ...]

    @property
    def steps(self) -> int:
        return sum(r.steps for r in self.rows)

    def times(self, sizes: FloatArray, links: Links) -> FloatArray:
        """Time of the whole collective for each message size in `sizes` (bytes)."""
        total = np.zeros_like(sizes, dtype=np.float64)
        for row in self.rows:
            per_step = np.zeros_like(total)
            for frac, link in ((row.intra, links.intra_node), (row.net, links.network)):
                if frac is not None:
                    per_step = np.maximum(per_step, link.latency + frac * sizes / link.bandwidth)
            total += row.steps * per_step
        return total

    def time(self, size: float, links: Links) -> float:
        return float(self.times(np.array([float(size)]), links)[0])

    def by_link(self, size: float, links: Links) -> tuple[float, float]:
        """(intra-node, network) seconds: each step counted on the link that makes it last."""
        intra = net = 0.0
        for row in self.rows:
            t_intra = (
                links.intra_node.latency + (row.intra or 0.0) * size / links.intra_node.bandwidth
            )
            t_net = links.network.latency + (row.net or 0.0) * size / links.network.bandwidth
            if row.net is not None and (row.intra is None or t_net >= t_intra):
                net += row.steps * t_net
            else:
                intra += row.steps * t_intra
        return intra, net

    def split(self, links: Links) -> tuple[float, float]:
        """(latency part, seconds per byte) of the slowest link in each row, so that
        t(S) ≈ L + β·S for large S; L/β is where half the asymptotic algbw is reached."""
        lat = per_byte = 0.0
        for row in self.rows:
            best = (0.0, 0.0)
            for frac, link in ((row.intra, links.intra_node), (row.net, links.network)):
                if frac is not None and frac / link.bandwidth >= best[1]:
                    best = (link.latency, frac / link.bandwidth)
            lat += row.steps * best[0]
            per_byte += row.steps * best[1]
        return lat, per_byte


def _compress(rows: list[Row]) -> PhaseTable:
    out: list[Row] = []
    for r in rows:
        if r.steps <= 0:
            continue
        if out and (out[-1].intra, out[-1].net) == (r.intra, r.net):
            out[-1] = Row(out[-1].steps + r.steps, r.intra, r.net)
        else:
            out.append(r)
    return PhaseTable(tuple(out))


def ring_table(op: str, place: Placement) -> PhaseTable:
    """One flat ring; across nodes every step has a node-crossing hop (network-bound)."""
    n = place.ranks
    steps = (2 if op == "all_reduce" else 1) * (n - 1)
    intra = 1 / n if place.local > 1 else None
    net = 1 / n if place.spans_nodes else None
    return _compress([Row(steps, intra, net)])


def hierarchical_table(op: str, place: Placement) -> PhaseTable:
    """Rings inside nodes on blocks of S/g, rings across nodes on chunks of S/n."""
    g, nodes, n = place.local, place.nodes, place.ranks
    intra, inter = Row(g - 1, 1 / g, None), Row(nodes - 1, None, 1 / n)
    rows = {
        "reduce_scatter": [intra, inter],
        "all_gather": [inter, intra],
        "all_reduce": [intra, inter, inter, intra],
    }[op]
    return _compress(rows)


def broadcast_ring_table(place: Placement, chunks: int, root: int) -> PhaseTable:
    """Chain from `root`: at step t the links j with t − chunks < j ≤ t carry one piece each."""
    n, k = place.ranks, chunks
    chain = (root + np.arange(n, dtype=np.int64)) % n
    cross = place.node_of(chain[:-1]) != place.node_of(chain[1:])
    before_cross = np.concatenate([[0], np.cumsum(cross)])
    before_intra = np.concatenate([[0], np.cumsum(~cross)])
    t = np.arange(k + n - 2, dtype=np.int64)
    lo, hi = np.maximum(0, t - k + 1), np.minimum(n - 2, t) + 1
    has_net = before_cross[hi] - before_cross[lo] > 0
    has_intra = before_intra[hi] - before_intra[lo] > 0
    rows = [
        Row(1, 1 / k if a else None, 1 / k if b else None)
        for a, b in zip(has_intra.tolist(), has_net.tolist(), strict=True)
    ]
    return _compress(rows)


def all_to_all_table(place: Placement, pairwise: bool) -> PhaseTable:
    """Direct: one step, each rank's n − 1 blocks of S/n split between its links. Pairwise:
    n − 1 steps of one block; step k (r → r + k) has an intra-node pair iff k < g or
    n − k < g, and a network pair whenever the group spans nodes."""
    n, g = place.ranks, place.local
    if not pairwise:
        smallest = n - (place.nodes - 1) * g
        intra = (g - 1) / n if g > 1 else None
        net = (n - smallest) / n if place.spans_nodes else None
        return _compress([Row(1, intra, net)])
    rows = [
        Row(
            1,
            1 / n if (k < g or n - k < g) else None,
            1 / n if place.spans_nodes else None,
        )
        for k in range(1, n)
    ]
    return _compress(rows)


def table_from_steps(steps: StepList, place: Placement) -> PhaseTable:
    """The phase table of an explicit step list whose transfers all carry the whole buffer
    (tree, recursive doubling): per step, the most transfers any rank sends or receives."""
    per = _busiest(steps, place, np.ones(steps.size, dtype=np.int64))
    rows = [
        Row(1, float(a) if a > 0 else None, float(b) if b > 0 else None) for a, b in per.tolist()
    ]
    return _compress(rows)


def _busiest(steps: StepList, place: Placement, weights: IntArray) -> IntArray:
    """(num_steps, 2): per step, the largest sum of `weights` any rank sends or receives on
    the intra-node link (column 0) and on the network (column 1)."""
    n, s = steps.ranks, steps.num_steps
    link = (place.node_of(steps.src) != place.node_of(steps.dst)).astype(np.int64)
    out = np.zeros((s, 2), dtype=np.int64)
    for end in (steps.src, steps.dst):
        key = (steps.step * n + end) * 2 + link
        load = np.bincount(key, weights=weights, minlength=s * n * 2).astype(np.int64)
        out = np.maximum(out, load.reshape(s, n, 2).max(axis=1))
    return out


def evaluate(
    steps: StepList, place: Placement, transfer_bytes: IntArray, links: Links
) -> FloatArray:
    """Seconds of each step of an explicit step list (whole-byte transfers)."""
    busiest = _busiest(steps, place, transfer_bytes).astype(np.float64)
    used = step_links(steps, place)
    times = np.zeros(steps.num_steps, dtype=np.float64)
    for col, link in enumerate((links.intra_node, links.network)):
        t = link.latency + busiest[:, col] / link.bandwidth
        times = np.maximum(times, np.where(used[:, col], t, 0.0))
    return times


def step_links(steps: StepList, place: Placement) -> npt.NDArray[np.bool_]:
    """(num_steps, 2): whether each step uses the intra-node link and the network."""
    return _busiest(steps, place, np.ones(steps.size, dtype=np.int64)) > 0
