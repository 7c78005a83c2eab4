"""The time of a forward pass on one replica: each op on the roofline, collectives on the links.

`CostModel` holds every op's coefficients (`app.core.inference.ops`), how many times each
pipeline stage runs it, the collectives of the layout and the GPU's effective peak and
bandwidth. `evaluate(X)` costs P passes at once (X: P × features):

    op time   = max(FLOPs / (peak · e_c), bytes / (bandwidth · e_m))      (roofline)
    comm time = the alpha-beta time of the collective on the achievable links
                (`app.core.parallel.collective_cost`), the fastest algorithm bitmesh models
                at that size, as NCCL picks its algorithm per size
    stage     = Σ its ops and collectives, run one after another (no overlap assumed)

A pass's latency is the sum of its stages (they run in sequence); with pp stages and pp
batches in flight, a replica finishes a batch every max(stage) seconds.

For example Llama 3 8B in bf16 decoding one token at batch 1 on an H100 (e = 1) is memory
bound in every op: 16.06 GB of weights minus the 1.05 GB embedding table, plus the KV cache,
over 3.35 TB/s ≈ 4.5 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.inference.ops import FEATURES, INDEX, FloatArray, OpSpec, Where, layer_ops
from app.core.inference.setup import ACTIVATION_BYTES, Serving, ServingQuery
from app.core.parallel.collective_algorithms import OPS, LinkQuery, phase_table, resolve_links
from app.core.parallel.collective_cost import Links, PhaseTable, Placement
from app.core.parallel.communication_terms import Group
from app.core.parallel.network import calibration
from app.core.params import param

IntArray = npt.NDArray[np.int64]
ComputeDtype = Literal["bf16", "fp8"]

SRC_ROOFLINE = (
    "Roofline (Williams, Waterman & Patterson 2009); per-op time as LLM-Viewer (Yuan et al. "
    "2024, arXiv 2402.16363) and the JAX scaling book's inference chapter compute it"
)
SRC_TP = "Megatron-LM (arXiv 1909.08053 §3): 2 all-reduces of the layer output per layer"
SRC_EP = "GShard (arXiv 2006.16668): dispatch and combine all-to-all per MoE layer"
SRC_PP = "Pipeline stages pass the hidden states of the batch to the next stage"


@dataclass(frozen=True)
class CostQuery(ServingQuery, LinkQuery):
    """The serving query plus what turns FLOPs and bytes into seconds."""

    compute_dtype: ComputeDtype = param(
        "bf16", "Tensor-core peak the matmuls run at: bf16 or fp8 (dense).", example="fp8"
    )
    compute_efficiency: float = param(
        1.0, "Fraction of the dense peak kernels reach (1: the roofline).", example=0.7,
        ge=0.01, le=1,
    )  # fmt: skip
    memory_efficiency: float = param(
        1.0, "Fraction of the HBM bandwidth kernels reach (1: the roofline).", example=0.8,
        ge=0.01, le=1,
    )  # fmt: skip


@dataclass(frozen=True)
class CommSpec:
    """A collective run `count` times per layer of kind `where` (or per stage boundary)."""

    name: str
    title: str
    collective: str
    group: Group
    where: Where | Literal["boundary"]
    count: int
    bytes_per_token: int
    formula: str
    source: str


def comm_ops(s: Serving) -> tuple[CommSpec, ...]:
    """The collectives of the layout: TP all-reduces, EP all-to-alls, PP sends."""
    q, m = s.query, s.model
    h = m.hidden * ACTIVATION_BYTES
    out = []
    if q.tp > 1:
        out.append(CommSpec(
            "tp_all_reduce", "TP all-reduce (attention and MLP outputs)", "all_reduce",
            Group("tp", q.tp, 1), "all", 2, h, "2 per layer; T·h·a bytes", SRC_TP,
        ))  # fmt: skip
    if q.ep > 1 and m.is_moe:
        out.append(CommSpec(
            "ep_all_to_all", "EP all-to-all (dispatch and combine)", "all_to_all",
            Group("ep", q.ep, q.tp), "moe", 2, h * m.experts_per_token,
            "2 per MoE layer; T·k·h·a bytes sent per rank", SRC_EP,
        ))  # fmt: skip
    if q.pp > 1:
        out.append(CommSpec(
            "pp_send", "Pipeline send to the next stage", "send_recv",
            Group("pp", 2, q.tp * q.dp), "boundary", 1, h, "1 per stage boundary; T·h·a bytes",
            SRC_PP,
        ))  # fmt: skip
    return tuple(out)


@lru_cache(maxsize=256)
def _candidates(op: str, place: Placement) -> tuple[tuple[str, PhaseTable], ...]:
    """(algorithm, cost table) of every algorithm bitmesh models for `op` on `place`."""
    names = [
        a
        for a in OPS[op].algorithms
        if a != "hierarchical" or (place.spans_nodes and place.ranks % place.local == 0)
    ]
    return tuple((a, phase_table(op, a, place, 0, place.ranks)) for a in names)


def comm_time(
    spec: CommSpec, sizes: FloatArray, links: Links, per_node: int
) -> tuple[FloatArray, list[str]]:
    """Seconds of one call at each buffer size, and the algorithm that gives it."""
    place = spec.group.placement(per_node)
    if spec.collective == "send_recv":  # one hop to the next stage
        hop = links.network if place.local == 1 else links.intra_node
        return hop.latency + sizes / hop.bandwidth, ["send_recv"] * len(sizes)
    tables = _candidates(spec.collective, place)
    times = np.stack([t.times(sizes, links) for _, t in tables])
    best = times.argmin(axis=0)
    return times[best, np.arange(len(sizes))], [tables[i][0] for i in best.tolist()]


def _where_count(where: str, s: Serving, first: int, n: int, last: bool) -> int:
    layers = range(first, first + n)
    if where == "all":
        return n
    if where in ("full", "sliding"):
        return sum(1 for i in layers if s.kinds[i] == where)
    if where == "dense":
        return sum(1 for i in layers if not s.is_moe_layer(i))
    if where == "moe":
        return sum(1 for i in layers if s.is_moe_layer(i))
    if where == "head":
        return int(last)
    return int(not last)  # boundary: every stage but the last sends


@dataclass(frozen=True, eq=False)
class PassCost:
    """P passes costed: every op and collective (totals over all stages) and each stage."""

    flops: FloatArray  # (P, ops)
    weight_bytes: FloatArray
    kv_bytes: FloatArray
    activation_bytes: FloatArray
    compute_time: FloatArray
    memory_time: FloatArray
    time: FloatArray
    comm_bytes: FloatArray  # (P, comms): one call's buffer
    comm_time: FloatArray  # (P, comms): all calls of the pass
    comm_algorithm: list[list[str]]  # per comm, per pass
    stage_time: FloatArray  # (P, stages)

    @property
    def bytes(self) -> FloatArray:
        return self.weight_bytes + self.kv_bytes + self.activation_bytes

    @property
    def latency(self) -> FloatArray:
        """Seconds through every stage in turn."""
        return self.stage_time.sum(axis=1)

    @property
    def bottleneck(self) -> FloatArray:
        """The slowest stage: a full pipeline finishes one pass every this many seconds."""
        return self.stage_time.max(axis=1)


@dataclass(frozen=True, eq=False)
class CostModel:
    """A serving setup's ops, collectives and roofline, ready to cost passes."""

    serving: Serving
    ops: tuple[OpSpec, ...]
    comms: tuple[CommSpec, ...]
    coef_flops: FloatArray  # (ops, features)
    coef_weight: FloatArray
    coef_kv: FloatArray
    coef_act: FloatArray
    counts: IntArray  # (stages, ops)
    comm_counts: IntArray  # (stages, comms)
    peak: float  # FLOP/s at the compute efficiency
    bandwidth: float  # bytes/s at the memory efficiency
    links: Links
    gpus_per_node: int

    @cached_property
    def stacked(self) -> tuple[FloatArray, FloatArray]:
        """[FLOPs / peak | bytes / bandwidth] per feature, and each op's count in a pass."""
        nbytes = self.coef_weight + self.coef_kv + self.coef_act
        stacked = np.concatenate([self.coef_flops / self.peak, nbytes / self.bandwidth]).T
        return np.ascontiguousarray(stacked), self.counts.sum(axis=0).astype(np.float64)

    @cached_property
    def _comm_cache(self) -> dict[float, float]:
        return {}

    def comm_latency(self, tokens: float) -> float:
        """Seconds of every collective of a pass of `tokens` tokens (through all stages)."""
        cached = self._comm_cache.get(tokens)
        if cached is None:
            calls = self.comm_counts.sum(axis=0)
            cached = 0.0
            for j, c in enumerate(self.comms):
                t, _ = comm_time(c, np.array([tokens * c.bytes_per_token]), self.links,
                                 self.gpus_per_node)  # fmt: skip
                cached += float(t[0]) * c.count * int(calls[j])
            self._comm_cache[tokens] = cached
        return cached

    def latency(self, x: FloatArray) -> FloatArray:
        """The latency of each pass in `x`, as `evaluate(x).latency`, without the detail."""
        x = self.with_experts(x) if self.serving.model.is_moe else x
        stacked, total = self.stacked
        y = x @ stacked
        n = len(total)
        out = np.maximum(y[:, :n], y[:, n:]) @ total
        if self.comms:
            tokens = x[:, INDEX["tokens_prefill"]] + x[:, INDEX["tokens_decode"]]
            out = out + np.array([self.comm_latency(float(v)) for v in tokens])
        return out

    @property
    def ridge(self) -> float:
        """FLOPs per byte where the roofline bends: peak / bandwidth."""
        return self.peak / self.bandwidth

    def with_experts(self, x: FloatArray) -> FloatArray:
        """X with its `experts` column: the share of local experts the tokens reach."""
        m, q = self.serving.model, self.serving.query
        out = x.copy()
        if m.is_moe:
            tokens = x[:, INDEX["tokens_prefill"]] + x[:, INDEX["tokens_decode"]]
            miss = (1.0 - m.experts_per_token / m.experts) ** (tokens * q.ep)
            out[:, INDEX["experts"]] = 1.0 - miss
        return out

    def evaluate(self, x: FloatArray) -> PassCost:
        """Cost the passes whose features are the rows of `x` (see the module docstring)."""
        x = self.with_experts(np.atleast_2d(np.asarray(x, dtype=np.float64)))
        total = self.counts.sum(axis=0)  # every op over every stage
        flops = x @ self.coef_flops.T
        w, kv, act = x @ self.coef_weight.T, x @ self.coef_kv.T, x @ self.coef_act.T
        compute = flops / self.peak
        memory = (w + kv + act) / self.bandwidth
        per_layer = np.maximum(compute, memory)
        tokens = x[:, INDEX["tokens_prefill"]] + x[:, INDEX["tokens_decode"]]
        c_bytes = np.empty((len(x), len(self.comms)))
        c_time = np.empty_like(c_bytes)
        algorithms = []
        for j, c in enumerate(self.comms):
            c_bytes[:, j] = tokens * c.bytes_per_token
            t, names = comm_time(c, c_bytes[:, j], self.links, self.gpus_per_node)
            c_time[:, j] = t * c.count
            algorithms.append(names)
        stages = per_layer @ self.counts.T + c_time @ self.comm_counts.T
        return PassCost(
            flops * total, w * total, kv * total, act * total, compute * total,
            memory * total, per_layer * total, c_bytes, c_time * self.comm_counts.sum(axis=0),
            algorithms, stages,
        )  # fmt: skip


def _peak(q: CostQuery, s: Serving) -> float:
    tflops = s.gpu.bf16_tflops if q.compute_dtype == "bf16" else s.gpu.fp8_tflops
    if tflops is None:
        raise InvalidInput("compute_dtype", f"{s.gpu.name} has no FP8 tensor cores; use bf16")
    return tflops * 1e12


def build_cost(s: Serving, q: CostQuery) -> CostModel:
    """The cost model of a resolved setup under `q`'s peak, efficiencies and links."""
    cal = calibration(s.gpu.name)
    if q.nvls and cal.intra_node.nvls_bus_bandwidth is None:
        raise InvalidInput("nvls", f"{s.gpu.name} has no NVLink SHARP figure; set nvls=false")
    per_node = q.gpus_per_node if q.gpus_per_node is not None else cal.gpus_per_node
    nvls = cal.intra_node.nvls_bus_bandwidth is not None if q.nvls is None else q.nvls
    # NVLS reduces in the switch: only TP all-reduces inside one node use it
    in_node = q.tp <= per_node
    links = resolve_links(cal, nvls=bool(nvls and in_node), given=q)
    ops = layer_ops(s)
    comms = comm_ops(s)
    last = len(s.stages) - 1
    counts = np.array(
        [[_where_count(o.where, s, st.first, st.layers, st.index == last) for o in ops]
         for st in s.stages], dtype=np.int64,
    )  # fmt: skip
    comm_counts = np.array(
        [[_where_count(c.where, s, st.first, st.layers, st.index == last) for c in comms]
         for st in s.stages], dtype=np.int64,
    ).reshape(len(s.stages), len(comms))  # fmt: skip
    return CostModel(
        s, ops, comms,
        np.stack([o.flops for o in ops]), np.stack([o.weight_bytes for o in ops]),
        np.stack([o.kv_bytes for o in ops]), np.stack([o.activation_bytes for o in ops]),
        counts, comm_counts, _peak(q, s) * q.compute_efficiency,
        s.gpu.hbm_bandwidth * q.memory_efficiency, links, per_node,
    )  # fmt: skip


# ---------------------------------------------------------------- passes as feature rows


def sliding_pairs(n: FloatArray | float, w: int) -> FloatArray:
    """Query–key pairs of a causal prefill of n tokens under a window of w: Σ min(i + 1, w)."""
    n = np.asarray(n, dtype=np.float64)
    if w <= 0:
        return n * (n + 1) / 2
    return np.where(n <= w, n * (n + 1) / 2, w * (w + 1) / 2 + (n - w) * w)


def prefill_features(batch: FloatArray, n: int, window: int) -> FloatArray:
    """Rows of features for a prefill of `batch` prompts of n tokens each (nothing cached)."""
    b = np.asarray(batch, dtype=np.float64)
    x = np.zeros((len(b), len(FEATURES)))
    x[:, INDEX["one"]] = 1
    x[:, INDEX["tokens_prefill"]] = b * n
    x[:, INDEX["sequences"]] = b
    x[:, INDEX["pairs_full_prefill"]] = b * n * (n + 1) / 2
    x[:, INDEX["pairs_sliding_prefill"]] = b * sliding_pairs(float(n), window)
    x[:, INDEX["reads_full_prefill"]] = b * n
    x[:, INDEX["reads_sliding_prefill"]] = b * n
    return x


def prefill_mix(prompts: FloatArray, window: int) -> FloatArray:
    """One row of features for prompts of different lengths prefilled in one pass."""
    p = np.asarray(prompts, dtype=np.float64)
    total = float(p.sum())
    x = np.zeros(len(FEATURES))
    x[INDEX["one"]] = 1
    x[INDEX["tokens_prefill"]] = x[INDEX["reads_full_prefill"]] = total
    x[INDEX["reads_sliding_prefill"]] = total
    x[INDEX["sequences"]] = len(p)
    x[INDEX["pairs_full_prefill"]] = float(p @ (p + 1)) / 2
    if window > 0:
        x[INDEX["pairs_sliding_prefill"]] = float(sliding_pairs(p, window).sum())
    return x


def decode_features(batch: FloatArray, context: int, window: int) -> FloatArray:
    """Rows of features for one decode step of `batch` sequences with `context` cached tokens:
    each new token attends to the cache and itself (context + 1 keys, at most the window)."""
    b = np.asarray(batch, dtype=np.float64)
    keys = context + 1
    slide = min(keys, window) if window > 0 else keys
    x = np.zeros((len(b), len(FEATURES)))
    x[:, INDEX["one"]] = 1
    x[:, INDEX["tokens_decode"]] = b
    x[:, INDEX["sequences"]] = b
    x[:, INDEX["pairs_full_decode"]] = b * keys
    x[:, INDEX["pairs_sliding_decode"]] = b * slide
    x[:, INDEX["reads_full_decode"]] = b * keys
    x[:, INDEX["reads_sliding_decode"]] = b * slide
    return x
