"""Seconds of continuous-batching steps, decode-only stretches in closed form.

Within a stretch of decode-only steps the batch keeps its d sequences and every cache grows by
one token per step, so step j reads R₀ + d·j cached tokens. Only the attention ops depend on
that; each is max(a + b·j, c + e·j) on the roofline (compute or memory bound), whose sum over
j is two arithmetic series either side of the crossing. Every other op, and the collectives,
cost the same each step (memoised by d). This is `CostModel.latency` of the same rows,
computed in a few scalar operations instead of one evaluation per step.

For sliding-window models the keys a step reads are Σ min(cache + 1, window), not linear in j;
`StepCost` is then not used and the engine evaluates the rows.
"""

from __future__ import annotations

import math

import numpy as np

from app.core.inference.cost import CostModel
from app.core.inference.ops import FEATURES, INDEX


def _lin_sum(a: float, b: float, lo: int, hi: int) -> float:
    """Σ_{j=lo}^{hi−1} (a + b·j)."""
    if hi <= lo:
        return 0.0
    return (hi - lo) * a + b * (hi * (hi - 1) - lo * (lo - 1)) / 2


def max_affine_sum(a: float, b: float, c: float, e: float, m: int) -> float:
    """Σ_{j=0}^{m−1} max(a + b·j, c + e·j), for b, e ≥ 0.

    For example ``max_affine_sum(0, 1, 2, 0, 4)`` is 2 + 2 + 2 + 3 = 9.
    """
    if b == e:
        return _lin_sum(max(a, c), b, 0, m)
    # h(j) = (a + b·j) − (c + e·j) changes sign once, at j* = (c − a) / (b − e)
    star = (c - a) / (b - e)
    j0 = min(m, max(0, math.ceil(star)))
    if b > e:  # the first line wins from j0 on
        return _lin_sum(c, e, 0, j0) + _lin_sum(a, b, j0, m)
    return _lin_sum(a, b, 0, j0) + _lin_sum(c, e, j0, m)


class StepCost:
    """Decode-only step times of a cost model without sliding-window layers."""

    def __init__(self, cost: CostModel) -> None:
        self.cost = cost
        stacked, total = cost.stacked
        n = len(total)
        per_read = stacked[INDEX["pairs_full_decode"]] + stacked[INDEX["reads_full_decode"]]
        self.n = n
        self.total = total
        self.compute_per_read = per_read[:n] * total
        self.memory_per_read = per_read[n:] * total
        self.varying = np.nonzero((self.compute_per_read > 0) | (self.memory_per_read > 0))[0]
        self.fixed = np.setdiff1d(np.arange(n), self.varying)
        self._memo: dict[int, tuple[float, list[tuple[float, float, float, float]]]] = {}

    def _at(self, d: int) -> tuple[float, list[tuple[float, float, float, float]]]:
        """(seconds of the ops that do not read the cache, plus collectives; for each op that
        does, its compute and memory seconds at zero reads and per read), for d decoders."""
        hit = self._memo.get(d)
        if hit is None:
            x = np.zeros((1, len(FEATURES)))
            x[0, INDEX["one"]] = 1
            x[0, INDEX["tokens_decode"]] = d
            x[0, INDEX["sequences"]] = d
            x = self.cost.with_experts(x)
            stacked, total = self.cost.stacked
            y = (x @ stacked)[0]
            comp, mem = y[: self.n] * total, y[self.n :] * total
            fixed = float(np.maximum(comp, mem)[self.fixed].sum())
            fixed += self.cost.comm_latency(float(d)) if self.cost.comms else 0.0
            vary = [
                (float(comp[i]), float(self.compute_per_read[i]), float(mem[i]),
                 float(self.memory_per_read[i]))
                for i in self.varying.tolist()
            ]  # fmt: skip
            hit = self._memo[d] = (fixed, vary)
        return hit

    def total_time(self, d: int, reads0: float, m: int) -> float:
        """Seconds of m decode steps of d sequences reading reads0, reads0 + d, … tokens."""
        fixed, vary = self._at(d)
        out = m * fixed
        for c0, c1, m0, m1 in vary:
            out += max_affine_sum(c0 + c1 * reads0, c1 * d, m0 + m1 * reads0, m1 * d, m)
        return out

    def step_time(self, d: int, reads: float) -> float:
        fixed, vary = self._at(d)
        return fixed + sum(max(c0 + c1 * reads, m0 + m1 * reads) for c0, c1, m0, m1 in vary)

    def steps_until(self, d: int, reads0: float, k: int, delta: float) -> int:
        """The fewest steps m ≤ k whose total time reaches `delta` (k if none does)."""
        if self.total_time(d, reads0, k) < delta:
            return k
        # each step is no faster than the first and no slower than the last
        lo = max(1, math.ceil(delta / self.step_time(d, reads0 + d * (k - 1))))
        hi = min(k, max(lo, math.ceil(delta / self.step_time(d, reads0))))
        lo = min(lo, hi)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.total_time(d, reads0, mid) >= delta:
                hi = mid
            else:
                lo = mid + 1
        return lo
