"""What a request sees and what a GPU delivers: TTFT, time per output token, throughput,
the critical batch and the latency–throughput curve.

- TTFT = the prefill pass of the batch's prompts (its LM head gives the first token); time
  spent queueing before the prefill is left out.
- TPOT = one decode step of the batch through every pipeline stage.
- Throughput: with pp stages and pp batches in flight a replica emits `batch` tokens every
  slowest-stage time; per GPU divide by the replica's tp·pp GPUs, for the cluster multiply by
  the dp replicas.
- Critical batch (JAX scaling book, "All about inference"): a matmul of B tokens against
  D × F weights stored in w_b bytes does 2·B·D·F FLOPs on D·F·w_b bytes, so it is compute
  bound once B ≥ (peak / bandwidth) · w_b / 2; with bf16 weights that is the ridge point
  (989e12 / 3.35e12 = 295 on an H100), with 8-bit weights and bf16 compute half of it.
  `critical_batch_step` is where the whole decode step (attention's KV reads included) turns
  compute bound at this context, if it ever does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.inference.cost import CostModel, PassCost, decode_features, prefill_features
from app.core.limits import limit

CURVE_MAX_BATCH = 4096


@dataclass(frozen=True)
class RequestFigures:
    batch: int
    context: int
    ttft: float
    tpot: float
    tokens_per_second_per_replica: float
    tokens_per_second_per_gpu: float
    tokens_per_second: float  # the cluster: dp replicas
    prefill_tokens_per_second_per_gpu: float
    tokens_per_second_per_user: float


def figures(cost: CostModel, pre: PassCost, dec: PassCost, i: int, batch: int,
            context: int) -> RequestFigures:  # fmt: skip
    """The request figures of pass `i` of a prefill and a decode costing."""
    s = cost.serving
    gpus = s.replica_gpus
    replica = batch / float(dec.bottleneck[i])
    return RequestFigures(
        batch=batch,
        context=context,
        ttft=float(pre.latency[i]),
        tpot=float(dec.latency[i]),
        tokens_per_second_per_replica=replica,
        tokens_per_second_per_gpu=replica / gpus,
        tokens_per_second=replica * s.query.dp,
        prefill_tokens_per_second_per_gpu=batch * context / float(pre.bottleneck[i]) / gpus,
        tokens_per_second_per_user=1.0 / float(dec.latency[i]),
    )


def critical_batch(cost: CostModel) -> float:
    """(peak / bandwidth) · w_b / 2: where a weight-bound matmul turns compute bound."""
    return cost.ridge * cost.serving.weight_bytes / 2


def _step_ratio(cost: CostModel, batches: np.ndarray, context: int) -> np.ndarray:
    """Compute over memory time of whole decode steps (collectives left out)."""
    p = cost.evaluate(decode_features(batches, context, cost.serving.window))
    return p.compute_time.sum(axis=1) / p.memory_time.sum(axis=1)


def critical_batch_step(cost: CostModel, context: int) -> int | None:
    """The smallest batch whose decode step at `context` is compute bound, if any up to the
    inference_batch limit (bisection on the step's compute/memory ratio, which grows with B)."""
    top = limit("inference_batch")
    grid = 2 ** np.arange(0, top.bit_length(), dtype=np.float64)
    ratio = _step_ratio(cost, grid, context)
    above = np.nonzero(ratio >= 1)[0]
    if len(above) == 0:
        return None
    if above[0] == 0:
        return 1
    lo, hi = int(grid[above[0] - 1]), int(grid[above[0]])  # ratio(lo) < 1 <= ratio(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _step_ratio(cost, np.array([float(mid)]), context)[0] >= 1:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class CurvePoint:
    batch: int
    tpot: float
    ttft: float
    tokens_per_second_per_gpu: float
    tokens_per_second_per_user: float
    compute_bound: bool
    fits: bool
    meets_slo: bool


@dataclass(frozen=True)
class Curve:
    context: int
    slo: float
    max_concurrency: float
    points: tuple[CurvePoint, ...]
    slo_batch: int | None
    slo_tokens_per_second_per_gpu: float | None


def curve_batches(batch: int) -> np.ndarray:
    """Powers of two up to CURVE_MAX_BATCH, and the query's batch."""
    grid = {1 << k for k in range(CURVE_MAX_BATCH.bit_length())}
    return np.array(sorted(grid | {batch}), dtype=np.float64)


def latency_throughput(cost: CostModel, batches: np.ndarray, pre: PassCost, dec: PassCost,
                       context: int, slo: float, max_concurrency: float) -> Curve:  # fmt: skip
    """TPOT and throughput per GPU at each batch; the SLO picks the largest batch that meets it
    and whose KV cache (pp batches in flight) fits."""
    s = cost.serving
    ratio = dec.compute_time.sum(axis=1) / dec.memory_time.sum(axis=1)
    points = []
    for i, b in enumerate(batches.astype(int).tolist()):
        f = figures(cost, pre, dec, i, b, context)
        fits = b * s.query.pp <= max_concurrency
        points.append(CurvePoint(
            b, f.tpot, f.ttft, f.tokens_per_second_per_gpu, f.tokens_per_second_per_user,
            bool(ratio[i] >= 1), bool(fits), bool(fits and f.tpot <= slo),
        ))  # fmt: skip
    ok = [p for p in points if p.meets_slo]
    best = max(ok, key=lambda p: p.batch) if ok else None
    return Curve(
        context, slo, max_concurrency, tuple(points),
        best.batch if best else None, best.tokens_per_second_per_gpu if best else None,
    )  # fmt: skip


def passes(cost: CostModel, batches: np.ndarray, context: int) -> tuple[PassCost, PassCost]:
    """Prefill of `context`-token prompts and a decode step at `context`, for every batch."""
    w = cost.serving.window
    return (
        cost.evaluate(prefill_features(batches, context, w)),
        cost.evaluate(decode_features(batches, context, w)),
    )
