"""Collectives: which algorithm moves which chunk when, what it costs, and what nccl-tests
would print for it.

`compute_collective(CollectiveQuery(op="all_reduce", ranks=8, bytes=1 << 30))` returns the
explicit steps (`app.core.parallel.collective_steps`), the time from the alpha-beta model
(`app.core.parallel.collective_cost`) on the GPU preset's achievable bandwidths
(`app.core.parallel.network`), and the two bandwidths nccl-tests reports (PERFORMANCE.md):
algbw = S / t and busbw = algbw × factor, factor 2(n−1)/n for all-reduce, (n−1)/n for
all-gather, reduce-scatter and all-to-all, 1 for broadcast. `bytes` is S in nccl-tests'
convention: the all-reduced buffer, the gathered output, the reduce-scatter input, the
broadcast buffer, a rank's all-to-all send buffer.

For example 8 × H100 ring all-reduce of 1 GiB: 14 steps of α + S/(8B) with B = 370 GB/s,
α = 3.1 µs: t = 14 × (3.1 µs + 134.2 MB / 370 GB/s) = 5.12 ms, busbw = 1.75 × 1.074 GB /
5.12 ms = 367 GB/s (370 at the limit); at 1 MiB the same ring reaches 28 GB/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.collective_algorithms import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    OP_NAMES,
    OPS,
    AlgorithmSpec,
    LinkQuery,
    OpSpec,
    default_algorithm,
    phase_table,
    resolve_links,
    step_list,
    sweep_sizes,
    transfer_bytes,
)
from app.core.parallel.collective_cost import (
    FloatArray,
    IntArray,
    Links,
    PhaseTable,
    Placement,
    evaluate,
)
from app.core.parallel.collective_payload import collective_payload
from app.core.parallel.collective_steps import StepList
from app.core.parallel.collective_view import View, replay
from app.core.parallel.network import calibration
from app.core.parallel.presets import get_gpu
from app.core.params import param

Format = Literal["json", "columns"]


@dataclass(frozen=True)
class CollectiveQuery(LinkQuery):
    """Inputs of GET /api/v1/collectives, with their names, defaults and bounds."""

    op: str = param("all_reduce", "Collective: " + ", ".join(OPS) + ".", max_length=40)
    algorithm: str = param(
        "auto",
        "Algorithm (see `catalogue`); auto = ring inside a node, hierarchical across nodes "
        "(when ranks is a multiple of gpus_per_node), direct for all_to_all.",
        example="ring",
        max_length=40,
    )
    ranks: int = param(
        8,
        f"Ranks n. Step lists up to {limit('collective_ranks'):,}; beyond, the time only.",
        example=8,
        ge=2,
        le=limit("mesh_ranks"),
    )
    bytes: int = param(
        64 << 20,
        "Message size S in bytes, nccl-tests' convention (all-reduced buffer, gathered "
        "output, reduce-scatter input, broadcast buffer, all-to-all send buffer per rank).",
        example=1 << 30,
        ge=1,
        le=limit("collective_bytes"),
    )
    gpu: str = param("h100-sxm", "GPU preset: its links' achievable figures.", max_length=40)
    root: int = param(0, "Broadcast root rank.", example=0, ge=0, le=limit("mesh_ranks"))
    chunks: int | None = param(
        None,
        "Pieces of a ring (pipelined) broadcast (default: ranks).",
        example=8,
        ge=1,
        le=limit("collective_chunks"),
    )
    steps: bool = param(True, "List the steps (ranks ≤ the step-list limit).", example=True)
    view: bool = param(
        False,
        "Add per-transfer drawing data: buffer cell at each end, and what the destination "
        "cell holds after the step (contributions summed, and whose data).",
        example=False,
    )
    format: Format = param(
        "json", "json: steps as objects; columns: one array per field.", example="json"
    )


@dataclass(frozen=True)
class Resolved:
    """A checked query: names resolved, placement, links and chunk count."""

    query: CollectiveQuery
    op: OpSpec
    algorithm: AlgorithmSpec
    auto: bool
    gpu: str
    gpus_per_node: int
    place: Placement
    links: Links
    nvls: bool
    chunks: int

    def effective(self) -> dict[str, object]:
        q = self.query
        return {
            "op": self.op.name,
            "algorithm": "auto" if self.auto else self.algorithm.name,
            "ranks": q.ranks,
            "bytes": q.bytes,
            "gpu": self.gpu,
            "gpus_per_node": self.gpus_per_node,
            "nvls": self.nvls,
            "bandwidth": q.bandwidth,
            "latency": q.latency,
            "network_bandwidth": q.network_bandwidth,
            "network_latency": q.network_latency,
            "root": q.root,
            "chunks": self.chunks if self.op.name == "broadcast" else q.chunks,
            "steps": q.steps,
            "view": q.view,
            "format": q.format,
        }


def resolve(q: CollectiveQuery) -> Resolved:
    """Check `q` (422s name the field) and resolve names, placement and links."""
    op = OPS[OP_NAMES.resolve(q.op, "op")]
    algorithm = ALGORITHM_NAMES.resolve(q.algorithm, "algorithm")
    gpu = get_gpu(q.gpu)
    cal = calibration(gpu.name)
    per_node = q.gpus_per_node if q.gpus_per_node is not None else cal.gpus_per_node
    place = Placement(q.ranks, min(q.ranks, per_node))
    auto = algorithm == "auto"
    if auto:
        algorithm = default_algorithm(op.name, place)
    if algorithm not in op.algorithms:
        raise InvalidInput(
            "algorithm", f"{op.name} runs as one of {', '.join(op.algorithms)} (got {algorithm})"
        )
    if algorithm == "hierarchical" and q.ranks % place.local:
        raise InvalidInput(
            "ranks",
            f"hierarchical needs whole nodes: ranks ({q.ranks}) must be a multiple of "
            f"gpus_per_node ({per_node})",
        )
    if q.root >= q.ranks:
        raise InvalidInput("root", f"must be a rank below ranks ({q.ranks})")
    chunks = q.chunks if q.chunks is not None else q.ranks
    if (
        op.name == "broadcast"
        and algorithm == "ring"
        and chunks * (q.ranks - 1) > limit("collective_transfers")
    ):
        raise InvalidInput(
            "chunks",
            f"{chunks} pieces over {q.ranks - 1} links make more than "
            f"{limit('collective_transfers'):,} transfers",
        )
    has_nvls = cal.intra_node.nvls_bus_bandwidth is not None
    nvls = has_nvls if q.nvls is None else q.nvls
    if nvls and not has_nvls:
        raise InvalidInput("nvls", f"{gpu.name} has no NVLink SHARP figure; set nvls=false")
    # NVLS reduces in the switch: it applies to an all-reduce inside one node
    use_nvls = nvls and op.name == "all_reduce" and not place.spans_nodes
    links = resolve_links(cal, nvls=use_nvls, given=q)
    return Resolved(
        q, op, ALGORITHMS[algorithm], auto, gpu.name, per_node, place, links, nvls, chunks
    )


@dataclass(frozen=True, eq=False)
class CollectiveResult:
    """One collective: its resolution, cost, steps (if listed) and the time-vs-size sweep."""

    resolved: Resolved
    table: PhaseTable
    time: float
    latency_time: float
    bandwidth_time: float
    half_bandwidth_bytes: float
    steps: StepList | None
    transfer_bytes: IntArray | None
    step_times: FloatArray | None
    view: View | None
    sweep: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def algorithm_bandwidth(self) -> float:
        return self.resolved.query.bytes / self.time

    @property
    def bus_bandwidth(self) -> float:
        return self.algorithm_bandwidth * self.resolved.op.bus_factor(self.resolved.place.ranks)

    def payload(self) -> dict[str, Any]:
        """The JSON body of GET /api/v1/collectives (see `app.schemas.collectives`)."""
        return collective_payload(self)


def _split(table: PhaseTable, links: Links, size: float) -> tuple[float, float, float]:
    """(latency part, bandwidth part at `size`, half-bandwidth size L/β)."""
    lat, per_byte = table.split(links)
    return lat, per_byte * size, (lat / per_byte if per_byte > 0 else float("inf"))


def _series(r: Resolved, sizes: FloatArray) -> list[dict[str, Any]]:
    """Time and busbw against size for every algorithm of the op that applies here."""
    out = []
    factor = r.op.bus_factor(r.place.ranks)
    for name in r.op.algorithms:
        if name == "hierarchical" and (not r.place.spans_nodes or r.place.ranks % r.place.local):
            continue
        table = phase_table(r.op.name, name, r.place, r.query.root, r.chunks)
        times = table.times(sizes, r.links)
        out.append(
            {
                "algorithm": name,
                "title": ALGORITHMS[name].title,
                "times": times,
                "bus_bandwidth": factor * sizes / times,
                "half_bandwidth_bytes": _split(table, r.links, 1.0)[2],
            }
        )
    return out


def compute_collective(q: CollectiveQuery) -> CollectiveResult:
    """Resolve `q`, cost it, and list its steps when `q.steps` and ranks allow.

    For example ``compute_collective(CollectiveQuery(ranks=8, bytes=1 << 30)).bus_bandwidth``
    is about 474e9 on an H100 node (ring steps at the NVLS figure, 480 GB/s).
    """
    r = resolve(q)
    table = phase_table(r.op.name, r.algorithm.name, r.place, q.root, r.chunks)
    t = table.time(q.bytes, r.links)
    lat, bw, half = _split(table, r.links, q.bytes)
    notes = [
        f"busbw = algbw × {r.op.factor} (nccl-tests PERFORMANCE.md); B is the achievable "
        "bus bandwidth nccl-tests measures, not the line rate.",
    ]
    if r.nvls and r.op.name == "all_reduce" and not r.place.spans_nodes:
        notes.append(
            "NVLink SHARP reduces in the switch: the time uses its measured busbw; the steps "
            "drawn are the ring's. With in-network reduction the true factor is (n−1)/(n+1), "
            "but nccl-tests prints 2(n−1)/n."
        )
    listed = q.steps and q.ranks <= limit("collective_ranks")
    if q.steps and not listed:
        notes.append(
            f"Steps are listed up to {limit('collective_ranks'):,} ranks; this answer is the "
            "time only."
        )
    if listed and q.view and q.ranks > limit("collective_view_ranks"):
        listed = False
        notes.append(
            f"Drawing data (view=true) is sent up to {limit('collective_view_ranks')} ranks; "
            "ask with view=false for the steps, or fewer ranks to see them drawn."
        )
    steps = nbytes = times = view = None
    if listed:
        steps = step_list(r.op.name, r.algorithm.name, q.ranks, r.place.local, q.root, r.chunks)
        if q.format == "json" and steps.size > limit("collective_json_transfers"):
            raise InvalidInput(
                "format",
                f"{steps.size:,} transfers are too many to list as JSON objects (at most "
                f"{limit('collective_json_transfers'):,}): use format=columns, or steps=false",
            )
        nbytes = transfer_bytes(steps, r.op.name, q.bytes)
        times = evaluate(steps, r.place, nbytes, r.links)
        if q.view:
            view = replay(r.op.name, steps, q.root, r.algorithm.layout, r.place)
    sizes = sweep_sizes()
    return CollectiveResult(
        resolved=r,
        table=table,
        time=t,
        latency_time=lat,
        bandwidth_time=bw,
        half_bandwidth_bytes=half,
        steps=steps,
        transfer_bytes=nbytes,
        step_times=times,
        view=view,
        sweep={"sizes": sizes, "series": _series(r, sizes)},
        notes=tuple(notes),
    )
