"""The collectives bitmesh knows, the algorithms each runs as, and their steps and costs.

`OPS` and `ALGORITHMS` are the catalogue (names, titles, sources, nccl-tests' bus bandwidth
factor); `step_list` builds an algorithm's explicit steps (`collective_steps`) and
`phase_table` its closed-form cost (`collective_cost`). `resolve_links` gives the two links of
a GPU preset with NVLink SHARP and user overrides applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from app.core.limits import limit
from app.core.names import Registry
from app.core.parallel import collective_steps as steps_mod
from app.core.parallel.collective_cost import (
    FloatArray,
    IntArray,
    Link,
    Links,
    PhaseTable,
    Placement,
    all_to_all_table,
    broadcast_ring_table,
    hierarchical_table,
    ring_table,
    table_from_steps,
)
from app.core.parallel.collective_steps import StepList
from app.core.parallel.network import NetworkCalibration
from app.core.params import param


@dataclass(frozen=True)
class OpSpec:
    name: str
    title: str
    promise: str
    factor: str
    algorithms: tuple[str, ...]

    def bus_factor(self, n: int) -> float:
        """nccl-tests' correction from algbw to busbw (PERFORMANCE.md, "Summary")."""
        if self.name == "all_reduce":
            return 2 * (n - 1) / n
        if self.name == "broadcast":
            return 1.0
        return (n - 1) / n


@dataclass(frozen=True)
class AlgorithmSpec:
    name: str
    title: str
    layout: Literal["ring", "tree"]
    source: str


OPS: dict[str, OpSpec] = {
    o.name: o
    for o in (
        OpSpec(
            "all_reduce",
            "All-reduce",
            "every rank ends with the sum of every rank's buffer",
            "2(n−1)/n",
            ("ring", "hierarchical", "tree", "recursive_doubling"),
        ),
        OpSpec(
            "reduce_scatter",
            "Reduce-scatter",
            "rank c ends with chunk c summed over every rank",
            "(n−1)/n",
            ("ring", "hierarchical"),
        ),
        OpSpec(
            "all_gather",
            "All-gather",
            "every rank ends with every rank's chunk",
            "(n−1)/n",
            ("ring", "hierarchical"),
        ),
        OpSpec(
            "broadcast",
            "Broadcast",
            "every rank ends with the root's buffer",
            "1",
            ("ring", "tree"),
        ),
        OpSpec(
            "all_to_all",
            "All-to-all",
            "rank d ends with block d of every rank's buffer",
            "(n−1)/n",
            ("direct", "pairwise"),
        ),
    )
}

ALGORITHMS: dict[str, AlgorithmSpec] = {
    a.name: a
    for a in (
        AlgorithmSpec(
            "ring",
            "Ring",
            "ring",
            "Patarasuk & Yuan 2009 (bandwidth-optimal all-reduce); NCCL's ring; the broadcast "
            "ring is pipelined in `chunks` pieces",
        ),
        AlgorithmSpec(
            "hierarchical",
            "Hierarchical (rings in nodes, then across)",
            "ring",
            "Two-level ring: reduce-scatter inside each node, then across nodes between ranks "
            "of the same local index over their own NICs (as NCCL's per-NIC channels do)",
        ),
        AlgorithmSpec(
            "tree",
            "Binary tree",
            "tree",
            "Binary tree in heap order from the root, whole buffer per step (level by level)",
        ),
        AlgorithmSpec(
            "recursive_doubling",
            "Recursive doubling",
            "ring",
            "Thakur, Rabenseifner & Gropp 2005 (MPICH): log2(n) exchanges of the whole buffer",
        ),
        AlgorithmSpec("direct", "Direct (all pairs at once)", "ring", "NCCL's all-to-all"),
        AlgorithmSpec(
            "pairwise",
            "Pairwise exchange",
            "ring",
            "n − 1 steps; in step k rank r sends to r + k (MPI's pairwise all-to-all)",
        ),
    )
}

OP_NAMES = Registry("collective", OPS, aliases={"alltoall": "all_to_all", "a2a": "all_to_all"})
ALGORITHM_NAMES = Registry(
    "algorithm", [*ALGORITHMS, "auto"], aliases={"rd": "recursive_doubling", "hier": "hierarchical"}
)


def default_algorithm(op: str, place: Placement) -> str:
    """Ring inside a node; hierarchical across whole nodes; direct all-to-all."""
    if op == "all_to_all":
        return "direct"
    if op == "broadcast":
        return "ring"
    if place.spans_nodes and place.ranks % place.local == 0:
        return "hierarchical"
    return "ring"


@dataclass(frozen=True)
class LinkQuery:
    """The link parameters /collectives and /communication share (one declaration each)."""

    gpus_per_node: int | None = param(
        None,
        "GPUs per node (default: the GPU preset's); ranks fill nodes in order.",
        example=8,
        ge=1,
        le=limit("gpus_per_node"),
    )
    nvls: bool | None = param(
        None,
        "NVLink SHARP (in-switch reduction) for all-reduces inside one node (default: on "
        "where the GPU preset has it).",
        example=True,
    )
    bandwidth: float | None = param(
        None,
        "Override: intra-node bus bandwidth B in bytes/s per GPU (default: the preset's "
        "nccl-tests figure).",
        example=3.7e11,
        ge=1e6,
        le=limit("link_bandwidth"),
    )
    latency: float | None = param(
        None, "Override: intra-node latency α in seconds per algorithm step.", example=3.1e-6,
        ge=0, le=1,
    )  # fmt: skip
    network_bandwidth: float | None = param(
        None,
        "Override: network bus bandwidth in bytes/s per GPU (one NIC per GPU).",
        example=4.7e10,
        ge=1e6,
        le=limit("link_bandwidth"),
    )
    network_latency: float | None = param(
        None, "Override: network latency in seconds per step.", example=3.3e-5, ge=0, le=1
    )

    def overrides(self) -> dict[str, float | None]:
        """The four link figures as given (None: the calibration's)."""
        return {
            "bandwidth": self.bandwidth,
            "latency": self.latency,
            "network_bandwidth": self.network_bandwidth,
            "network_latency": self.network_latency,
        }


def resolve_links(cal: NetworkCalibration, *, nvls: bool, given: LinkQuery | None = None) -> Links:
    """The two links with the calibration's figures, NVLS if asked, overrides on top."""
    ci, cn = cal.intra_node, cal.network
    o = given.overrides() if given is not None else dict.fromkeys(LinkQuery().overrides())
    b_intra = ci.nvls_bus_bandwidth if (nvls and ci.nvls_bus_bandwidth) else ci.bus_bandwidth
    intra_src = "NVLink SHARP busbw, " + ci.source if nvls else ci.source
    intra_given = o["bandwidth"] is not None or o["latency"] is not None
    net_given = o["network_bandwidth"] is not None or o["network_latency"] is not None
    return Links(
        Link(
            "intra_node",
            o["bandwidth"] if o["bandwidth"] is not None else b_intra,
            o["latency"] if o["latency"] is not None else ci.step_latency,
            "query" if intra_given else intra_src,
        ),
        Link(
            "network",
            o["network_bandwidth"] if o["network_bandwidth"] is not None else cn.bus_bandwidth,
            o["network_latency"] if o["network_latency"] is not None else cn.step_latency,
            "query" if net_given else cn.source,
        ),
    )


@lru_cache(maxsize=32)
def step_list(op: str, algorithm: str, ranks: int, local: int, root: int, chunks: int) -> StepList:
    """The explicit steps of `op` by `algorithm` (cached: they do not depend on S)."""
    if algorithm == "ring":
        if op == "broadcast":
            return steps_mod.pipelined_broadcast(ranks, chunks, root)
        return steps_mod.ring(op, ranks)
    if algorithm == "hierarchical":
        return steps_mod.hierarchical(op, ranks, local)
    if algorithm == "tree":
        return steps_mod.tree(op, ranks, root)
    if algorithm == "recursive_doubling":
        return steps_mod.recursive_doubling(ranks)
    return steps_mod.all_to_all(ranks, pairwise=algorithm == "pairwise")


def phase_table(op: str, algorithm: str, place: Placement, root: int, chunks: int) -> PhaseTable:
    """The closed-form cost rows of `op` by `algorithm` on `place`."""
    if algorithm == "ring":
        if op == "broadcast":
            return broadcast_ring_table(place, chunks, root)
        return ring_table(op, place)
    if algorithm == "hierarchical":
        return hierarchical_table(op, place)
    if algorithm in ("direct", "pairwise"):
        return all_to_all_table(place, pairwise=algorithm == "pairwise")
    return table_from_steps(step_list(op, algorithm, place.ranks, place.local, root, 1), place)


def split_bytes(total: int, parts: int) -> IntArray:
    """Whole-byte parts of `total`, the first total mod parts one byte larger."""
    out = np.full(parts, total // parts, dtype=np.int64)
    out[: total % parts] += 1
    return out


def transfer_bytes(steps: StepList, op: str, size: int) -> IntArray:
    """Bytes each transfer carries: its chunk's share of S (an all-to-all block is S/n)."""
    if op == "all_to_all":
        return split_bytes(size, steps.ranks)[steps.chunk % steps.ranks]
    return split_bytes(size, steps.num_chunks)[steps.chunk]


def sweep_sizes() -> FloatArray:
    """Message sizes of the time-vs-size chart: 1 KiB to 16 GiB in powers of two."""
    return np.array([float(1 << k) for k in range(10, 35)])
