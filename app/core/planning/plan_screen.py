"""A first estimate of every candidate's step time, in numpy, to rank thousands at once.

The estimate follows the step-time model of `/communication` (`communication.py`) with two
simplifications, and the planner prices its finalists with that model exactly:

- the pipeline ranks are taken as equal (the model's total over pp), where the exact model
  gives the LM head and uneven layer splits to their own ranks;
- the bubble is the schedule's closed form on those equal costs (Narayanan et al. 2021,
  Qi et al. 2023, the DualPipe README; see `pipeline_closed_form`), with the one-iteration
  bound (p − 1)·F where the paper's own figure needs more than one iteration (ZB-H2), and the
  simulator's steady figures for ZB-H1 and ZB-V when the weight backward outlasts the forward
  (p − 1)·max(F, B/2) and (p − 1)·max(F, B/2)/2, which the tests check against the simulator.

Everything else is the model's own: FLOPs per layer from `flops.py`; the collectives each
axis runs from `communication_terms` (built once per distinct layer, pipeline send and
data-parallel group, then scaled by the layers and microbatches of each candidate); their times
from the collectives' alpha-beta tables (`collective_algorithms`); and the same overlap rule
(an overlapped collective is exposed only where it outlasts the compute of its pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.parallel.collective_algorithms import (
    default_algorithm,
    phase_table,
    resolve_links,
)
from app.core.parallel.collective_cost import Placement
from app.core.parallel.communication import CommunicationQuery
from app.core.parallel.communication_terms import (
    Call,
    RankShare,
    data_parallel_calls,
    layer_calls,
    pipeline_calls,
)
from app.core.parallel.flops import head_flops, layer_flops
from app.core.parallel.memory_layout import stage_layouts
from app.core.parallel.memory_query import MemoryQuery, MemorySetup, resolve
from app.core.parallel.memory_stages import parameter_count
from app.core.parallel.network import NetworkCalibration
from app.core.parallel.presets import ModelPreset
from app.core.planning.plan_space import RECOMPUTE, Space, Structure

FloatArray = npt.NDArray[np.float64]

OVERLAP = {
    f.name.removeprefix("overlap_"): bool(f.default)
    for f in fields(CommunicationQuery)
    if f.name.startswith("overlap_")
}
"""The step-time model's overlap assumptions (its defaults), which the planner keeps."""
CP_ALGORITHM: str = str(
    next(f.default for f in fields(CommunicationQuery) if f.name == "cp_algorithm")
)


@dataclass(frozen=True)
class Pricing:
    """What prices a collective on this cluster."""

    cal: NetworkCalibration
    gpus_per_node: int
    nvls: bool
    given: Any
    """The query's link overrides (a LinkQuery)."""

    _seen: dict[tuple[str, Placement, int], float] = field(
        default_factory=dict, compare=False, repr=False
    )

    def time(self, call: Call) -> float:
        """Seconds of `call.count` calls, as /communication prices them."""
        place = call.group.placement(self.gpus_per_node)
        key = (call.collective, place, call.buffer_bytes)
        if key not in self._seen:
            self._seen[key] = self._one(*key)
        return call.count * self._seen[key]

    def _one(self, op: str, place: Placement, size: int) -> float:
        use_nvls = self.nvls and op == "all_reduce" and not place.spans_nodes
        links = resolve_links(self.cal, nvls=use_nvls, given=self.given)
        if op == "send_recv":  # one send to the neighbouring stage
            hop = links.network if place.local == 1 else links.intra_node
            return hop.latency + size / hop.bandwidth
        table = phase_table(op, default_algorithm(op, place), place, 0, place.ranks)
        return table.time(size, links)


@dataclass(frozen=True)
class Passes:
    """Seconds per layer per microbatch: exposed as is, or pooled behind the pass's compute."""

    exposed_f: float = 0.0
    exposed_b: float = 0.0
    pooled_f: float = 0.0
    pooled_b: float = 0.0


def _passes(calls: list[Call], pricing: Pricing) -> Passes:
    acc = {"exposed_f": 0.0, "exposed_b": 0.0, "pooled_f": 0.0, "pooled_b": 0.0}
    for c in calls:
        kind = "pooled" if OVERLAP[c.overlap] else "exposed"
        acc[f"{kind}_{c.phase[0]}"] += pricing.time(c)
    return Passes(**acc)


@dataclass(frozen=True)
class StepCall:
    """A data-parallel collective after the pipeline: `count` calls of `seconds` each."""

    seconds: float
    count: int
    overlapped: bool
    window: str
    """The pass it hides behind: backward (gradients) or forward (parameters)."""


@dataclass(frozen=True)
class DataParallel:
    per_mb: Passes
    after: tuple[StepCall, ...]


class Screen:
    """Estimates for the candidates of one `Space` (see the module docstring)."""

    def __init__(
        self,
        model: ModelPreset,
        base: MemoryQuery,
        pricing: Pricing,
        peak: float,
        efficiency: float,
    ) -> None:
        self.model = model
        self.base = base
        self.pricing = pricing
        self.rate = peak * efficiency
        self._layers: dict[tuple[int, ...], tuple[Passes, Passes]] = {}
        self._sends: dict[tuple[int, ...], float] = {}
        self._dp: dict[tuple[int, ...], DataParallel] = {}
        self._shares: dict[Structure, tuple[MemorySetup, RankShare]] = {}

    def _setup(self, **degrees: Any) -> MemorySetup:
        fields_ = {f.name: getattr(self.base, f.name) for f in fields(MemoryQuery)}
        return resolve(MemoryQuery(**(fields_ | degrees)))

    def layer(self, tp: int, cp: int, ep: int, mb: int, rec: int) -> tuple[Passes, Passes]:
        """Collectives of one dense and one MoE layer, one microbatch."""
        key = (tp, cp, ep, mb, rec)
        if key not in self._layers:
            setup = self._setup(
                tp=tp,
                cp=cp,
                ep=ep,
                dp=ep,
                pp=1,
                chunks=1,
                micro_batch=mb,
                recompute=RECOMPUTE[rec],
                sequence_parallel=tp > 1,
            )
            dense = layer_calls(setup, RankShare(1, 0, 0, 0), 1, CP_ALGORITHM)
            moe = layer_calls(setup, RankShare(0, 1, 0, 0), 1, CP_ALGORITHM)
            self._layers[key] = (_passes(dense, self.pricing), _passes(moe, self.pricing))
        return self._layers[key]

    def send(self, s: Structure, mb: int) -> float:
        """Seconds of one pipeline send of one microbatch's activations."""
        key = (s.tp, s.cp, s.dp, mb)
        if key not in self._sends:
            setup = self._setup(tp=s.tp, cp=s.cp, dp=s.dp, ep=1, pp=2, chunks=1, micro_batch=mb)
            (first, *_) = pipeline_calls(setup, 1)
            self._sends[key] = self.pricing.time(first)
        return self._sends[key]

    def data_parallel(self, s: Structure, zero: int) -> DataParallel:
        """Gradient reductions and parameter gathers of the fullest pipeline rank."""
        key = (s.tp, s.cp, s.pp, s.dp, s.ep, zero)
        if key not in self._dp:
            if s not in self._shares:
                setup = self._setup(tp=s.tp, cp=s.cp, pp=s.pp, dp=s.dp, ep=s.ep, chunks=1)
                # the first rank holds the embedding, the last the LM head: one is fullest
                shares = [_share(setup, r) for r in sorted({0, s.pp // 2, s.pp - 1})]
                self._shares[s] = (setup, max(shares, key=lambda x: x.psi_dense + x.psi_expert))
            base, share = self._shares[s]
            setup = replace(base, query=replace(base.query, zero=zero))
            per_mb, after = [], []
            for c in data_parallel_calls(setup, share, 1):
                if c.per_microbatch:
                    per_mb.append(c)
                else:
                    window = "backward" if c.overlap == "dp" else "forward"
                    after.append(
                        StepCall(
                            self.pricing.time(c) / c.count, c.count, OVERLAP[c.overlap], window
                        )
                    )
            self._dp[key] = DataParallel(_passes(per_mb, self.pricing), tuple(after))
        return self._dp[key]

    def estimate(self, space: Space) -> dict[str, FloatArray]:
        """Per candidate: compute, exposed communication, bubble and step (seconds)."""
        return _estimate(self, space)


def _share(setup: MemorySetup, rank: int) -> RankShare:
    st = setup.stages[rank]
    count = parameter_count(setup, st)
    if count.expert is not None and setup.query.ep > 1:
        dense = int(count.dense.value) if count.dense is not None else 0
        return RankShare(st.dense_layers, st.moe_layers, dense, int(count.expert.value))
    return RankShare(st.dense_layers, st.moe_layers, int(count.psi.value), 0)


def _fullest_rank(
    m: ModelPreset, p: int, v: int, f_dense: float, f_moe: float
) -> tuple[int, int, int]:
    """(dense layers, MoE layers, holds the LM head) of the rank with the most compute: the
    pipeline runs at its pace (the last rank also holds the head)."""
    head = head_flops(m)
    stages = stage_layouts(m.layers, m.n_dense_layers, p, v)
    st = max(
        stages, key=lambda s: s.dense_layers * f_dense + s.moe_layers * f_moe + head * s.has_lm_head
    )
    return st.dense_layers, st.moe_layers, int(st.has_lm_head)


def _per_layer_compute(model: ModelPreset, seq_len: int) -> tuple[float, float, float, float]:
    """Forward FLOPs per token: dense layer, MoE layer, their attention parts, and the head."""
    dense, moe = layer_flops(model, False, seq_len), layer_flops(model, True, seq_len)
    return dense.forward, moe.forward, dense.attention, moe.attention


def _lookup(keys: list[npt.NDArray[np.int64]], build: Any) -> tuple[Any, npt.NDArray[np.int64]]:
    """Call `build(*row)` once per distinct row of `keys`; return the results and each
    candidate's index into them."""
    # one int64 per row (mixed radix over the columns' ranges): a 1-D unique sorts fast
    code = np.zeros(len(keys[0]), dtype=np.int64)
    for k in keys:
        code = code * (int(k.max()) + 1) + k
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return [build(*(int(k[i]) for k in keys)) for i in first], inverse.reshape(-1)


def _bubble(
    names: tuple[str, ...], col: dict[str, Any], f: FloatArray, b: FloatArray
) -> FloatArray:
    """The schedule's idle time per rank on equal stages of forward f and backward b."""
    p1 = (col["pp"] - 1).astype(np.float64)
    v = col["chunks"].astype(np.float64)
    name = np.array(names, dtype=object)[col["schedule"]]
    half = np.maximum(f, b / 2)
    forms = {
        "gpipe": f + b,  # (p − 1)(F + B), Narayanan et al. 2021 §2.2.1
        "1f1b": f + b,
        "interleaved_1f1b": (f + b) / v,  # divided by v, §2.2.2
        "zb_h1": half,  # F + I − W when W ≤ F; the weight pass sets it beyond (simulated)
        "zb_h2": f,  # the one-iteration bound (p − 1)·F
        "zbv": half / 2,  # V placement: per-chunk figure of ZB-H1 (simulated)
        "dualpipev": f / 2 + b / 4,  # (p − 1)(F&B + B − 3W) per chunk, DualPipe README
    }
    out = np.zeros_like(f)
    for key, form in forms.items():
        mask = name == key
        out[mask] = p1[mask] * form[mask]
    return out


def _estimate(screen: Screen, space: Space) -> dict[str, FloatArray]:
    """Vectorised step time of every candidate (module docstring); long because each term of
    the step model is one array expression here, kept in the model's order."""
    col = space.columns
    m = screen.model
    seq = screen.base.seq_len
    f_dense, f_moe, a_dense, a_moe = _per_layer_compute(m, seq)
    tokens = col["micro_batch"] * (seq / col["cp"])
    per_second = screen.rate * col["tp"]
    pp = col["pp"].astype(np.float64)
    ranks, ri = _lookup(
        [col["pp"], col["chunks"]], lambda p, v: _fullest_rank(m, p, v, f_dense, f_moe)
    )
    l_dense, l_moe, head = (np.array(x, dtype=np.float64)[ri] for x in zip(*ranks, strict=True))
    fwd = tokens * (l_dense * f_dense + l_moe * f_moe + head * head_flops(m)) / per_second
    attention = tokens * (l_dense * a_dense + l_moe * a_moe) / per_second
    rec = col["recompute"]
    extra = np.where(
        rec == RECOMPUTE.index("full"),
        fwd,
        np.where(rec == RECOMPUTE.index("selective"), attention, 0.0),
    )
    bwd = 2 * fwd + extra

    layers, li = _lookup([col["tp"], col["cp"], col["ep"], col["micro_batch"], rec], screen.layer)
    lt = np.array(
        [
            [
                getattr(p, k)
                for p in pair
                for k in ("exposed_f", "exposed_b", "pooled_f", "pooled_b")
            ]
            for pair in layers
        ]
    ).reshape(-1, 8)[li]
    structures = space.structures
    dps, di = _lookup(
        [col["structure"], col["zero"]], lambda s, z: screen.data_parallel(structures[s], z)
    )
    dpt = np.array(
        [
            [d.per_mb.exposed_f, d.per_mb.exposed_b, d.per_mb.pooled_f, d.per_mb.pooled_b]
            for d in dps
        ]
    ).reshape(-1, 4)[di]
    exp_f = l_dense * lt[:, 0] + l_moe * lt[:, 4] + dpt[:, 0]
    exp_b = l_dense * lt[:, 1] + l_moe * lt[:, 5] + dpt[:, 1]
    pool_f = l_dense * lt[:, 2] + l_moe * lt[:, 6] + dpt[:, 2]
    pool_b = l_dense * lt[:, 3] + l_moe * lt[:, 7] + dpt[:, 3]
    exp_f = exp_f + np.maximum(0.0, pool_f - fwd)
    exp_b = exp_b + np.maximum(0.0, pool_b - bwd)

    after = np.zeros_like(fwd)
    for k, d in enumerate(dps):
        mask = di == k
        for c in d.after:
            window = bwd[mask] if c.window == "backward" else fwd[mask]
            each = np.maximum(0.0, c.seconds - window) if c.overlapped else c.seconds
            after[mask] += c.count * each

    sends, si = _lookup(
        [col["structure"], col["micro_batch"]],
        lambda s, mb: screen.send(structures[s], mb) if structures[s].pp > 1 else 0.0,
    )
    p2p = np.array(sends, dtype=np.float64)[si]
    mbs = col["microbatches"].astype(np.float64)
    bubble = _bubble(space.schedules, col, fwd + exp_f, bwd + exp_b) + 2 * (pp - 1) * p2p
    compute = mbs * (fwd + bwd)
    exposed = mbs * (exp_f + exp_b) + after
    return {
        "compute": compute,
        "exposed": exposed,
        "bubble": bubble,
        "step": compute + exposed + bubble,
    }
