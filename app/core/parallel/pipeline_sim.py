"""One event-driven simulator that turns per-rank op orders into start and end times.

Timing rules, the same for every schedule:
- a rank runs its ops strictly in its order, one at a time (an overlapped F&B entry is one
  span lasting its own cost);
- an op starts after every op it waits for (`pipeline_deps.RULES`) has ended, plus `p2p`
  when that op ran on another rank.

Each op starts at max(its rank is free, its dependencies are ready), so the times are the
longest paths of a DAG and do not depend on the order in which ranks are visited. The steps:
`flatten` lays the orders out as op columns (rank by rank, an F&B entry as its two ops),
`dependency_edges` gives each op the ops it waits for, and `_run` advances each rank as far as
it can, parking it on the first op that has not ended; finishing that op wakes it. Every op is
visited once: O(ops). If every rank is parked while ops remain, the orders wait on each other
and `ScheduleDeadlock` says where.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.core.parallel.pipeline_deps import MissingOp, dependency_edges
from app.core.parallel.pipeline_orders import FB, KIND_NAMES, B, F, I, Order, W


class ScheduleDeadlock(RuntimeError):
    """The per-rank orders cannot all run: some rank waits on an op that never comes."""


@dataclass(frozen=True)
class StageCosts:
    """Duration of each kind of op on each stage, already divided by chunks and multiplied."""

    forward: list[float]
    backward: list[float]  # a whole backward, I + W
    backward_input: list[float]
    backward_weight: list[float]
    forward_backward: dict[tuple[int, int], float] | None = None  # (f_stage, b_stage) span


@dataclass(frozen=True)
class Ops:
    """The ops of a set of orders as columns, rank by rank, each rank's ops in its order.

    An overlapped F&B entry is two consecutive ops (F, then B) with `overlapped` set.
    """

    rank: list[int]
    stage: list[int]
    microbatch: list[int]
    kind: list[int]  # F, B, I, W codes
    overlapped: list[bool]
    rank_bounds: list[int]  # rank r's ops are rank_bounds[r]:rank_bounds[r + 1]


@dataclass(frozen=True)
class Timeline:
    """Columns of the simulated ops, rank by rank, each rank's ops in start order."""

    rank: list[int]
    stage: list[int]
    microbatch: list[int]
    kind: list[int]  # F, B, I, W codes
    start: list[float]
    end: list[float]
    overlapped: list[bool]
    rank_busy: list[float]
    waits_for: npt.NDArray[np.int64]  # (ops, 2): indices of the ops each waits for, −1 pads


def flatten(orders: list[Order]) -> Ops:
    """Lay the per-rank orders out as op columns; an F&B entry becomes its F and its B."""
    rank: list[int] = []
    stage: list[int] = []
    mb: list[int] = []
    kind: list[int] = []
    overlapped: list[bool] = []
    bounds = [0]
    for r, order in enumerate(orders):
        if order and max(map(len, order)) == 3:  # no F&B entries: whole columns at once
            k, s, m = zip(*order, strict=True)
            kind += k
            stage += s
            mb += m
            overlapped += [False] * len(order)
        else:
            for op in order:
                pair = op[0] == FB
                kind += (F, B) if pair else (op[0],)
                stage += (op[1], op[3]) if pair else (op[1],)
                mb += (op[2], op[4]) if pair else (op[2],)
                overlapped += (pair, pair) if pair else (False,)
        rank += [r] * (len(kind) - bounds[-1])
        bounds.append(len(kind))
    return Ops(rank, stage, mb, kind, overlapped, bounds)


def durations(ops: Ops, costs: StageCosts) -> list[float]:
    """Each op's cost; an F&B pair's span sits on its F, and its B lasts no extra time."""
    table = {
        F: costs.forward,
        B: costs.backward,
        I: costs.backward_input,
        W: costs.backward_weight,
    }
    spans = costs.forward_backward or {}
    out = [table[k][s] for k, s in zip(ops.kind, ops.stage, strict=True)]
    for i in [j for j, ov in enumerate(ops.overlapped) if ov and ops.kind[j] == F]:
        out[i] = spans[(ops.stage[i], ops.stage[i + 1])]
        out[i + 1] = 0.0
    return out


def simulate(
    orders: list[Order],
    rank_of_stage: list[int],
    microbatches: int,
    costs: StageCosts,
    p2p: float,
) -> Timeline:
    """Times for every op of `orders` (one order per rank) under the module's rules.

    For example two ranks with one stage each, one microbatch, F = 1, B = 2, p2p = 0.5:
    F(0) 0–1, F(1) 1.5–2.5, B(1) 2.5–4.5, B(0) 5–7.
    """
    ops = flatten(orders)
    rank = np.asarray(ops.rank, dtype=np.int64)
    try:
        waits = dependency_edges(
            np.asarray(ops.kind, dtype=np.int64),
            np.asarray(ops.stage, dtype=np.int64),
            np.asarray(ops.microbatch, dtype=np.int64),
            len(rank_of_stage),
            microbatches,
        )
    except MissingOp as err:
        raise ScheduleDeadlock(f"the orders cannot all run: {err}") from None
    # p2p is added to a dependency produced on another rank
    remote = (waits >= 0) & (rank[np.maximum(waits, 0)] != rank[:, None])
    latency = np.where(remote, p2p, 0.0)
    edges = _Edges(
        waits[:, 0].tolist(), waits[:, 1].tolist(), latency[:, 0].tolist(), latency[:, 1].tolist()
    )
    start, end, busy = _run(ops, edges, durations(ops, costs))
    return Timeline(
        ops.rank, ops.stage, ops.microbatch, ops.kind, start, end, ops.overlapped, busy, waits
    )


@dataclass(frozen=True)
class _Edges:
    """Each op's (at most two) dependencies and the latency each adds, as plain lists."""

    first: list[int]  # −1: none
    second: list[int]
    first_latency: list[float]
    second_latency: list[float]

    def ready(self, o: int, end: list[float]) -> tuple[float, int]:
        """(when op o's inputs are all there, −1) or (0, the first input not yet made)."""
        ready = 0.0
        for d, lat in (
            (self.first[o], self.first_latency[o]),
            (self.second[o], self.second_latency[o]),
        ):
            if d < 0:
                break
            if end[d] < 0.0:
                return 0.0, d
            ready = max(ready, end[d] + lat)
        return ready, -1


def _run(
    ops: Ops, edges: _Edges, cost: list[float]
) -> tuple[list[float], list[float], list[float]]:
    """Start and end of every op and each rank's busy time (the module docstring's loop).

    One function on purpose (about 80 lines): it is the hot loop, run once per op, with the
    common case (one op, at most two inputs) written out and every array in a local name.
    """
    n = len(ops.kind)
    ranks = len(ops.rank_bounds) - 1
    bounds = ops.rank_bounds
    pair = [ov and k == F for ov, k in zip(ops.overlapped, ops.kind, strict=True)]
    dep0, dep1, lat0, lat1 = edges.first, edges.second, edges.first_latency, edges.second_latency
    start = [0.0] * n
    end = [-1.0] * n  # −1: not run yet
    # the rank parked on an op (in a schedule that can run each op has at most one waiter
    # from another rank; `extra` keeps any further ones so they are never lost)
    waiter = [-1] * n
    extra: dict[int, list[int]] = {}
    busy = [0.0] * ranks
    ptr = bounds[:-1]
    free = [0.0] * ranks
    runnable = list(range(ranks - 1, -1, -1))

    while runnable:
        r = runnable.pop()
        i, hi, t_free, work = ptr[r], bounds[r + 1], free[r], busy[r]
        blocker = -1
        while i < hi:
            if pair[i]:  # an overlapped F&B span waits for the inputs of both its ops
                ready, blocker = edges.ready(i, end)
                if blocker < 0:
                    ready2, blocker = edges.ready(i + 1, end)
                    ready = max(ready, ready2)
            else:
                ready = 0.0
                d = dep0[i]
                if d >= 0:
                    ready = end[d]
                    if ready < 0.0:
                        blocker = d
                    else:
                        ready += lat0[i]
                        d = dep1[i]
                        if d >= 0:
                            t = end[d]
                            if t < 0.0:
                                blocker = d
                            elif t + lat1[i] > ready:
                                ready = t + lat1[i]
            if blocker >= 0:
                break
            t0 = t_free if t_free > ready else ready
            t_free = t0 + cost[i]
            work += t_free - t0
            for o in (i, i + 1) if pair[i] else (i,):
                start[o] = t0
                end[o] = t_free
                w = waiter[o]
                if w >= 0:
                    runnable.append(w)
                    waiter[o] = -1
            i += 2 if pair[i] else 1
        ptr[r], free[r], busy[r] = i, t_free, work
        if i < hi:
            if waiter[blocker] < 0:
                waiter[blocker] = r
            else:
                extra.setdefault(blocker, []).append(r)
        if not runnable and extra:
            # wake the overflow waiters whose op is now done; they re-park if not
            for op in [op for op in extra if end[op] >= 0.0]:
                runnable += extra.pop(op)
    _raise_if_stuck(ops, ptr, edges, end)
    return start, end, busy


def _raise_if_stuck(ops: Ops, ptr: list[int], edges: _Edges, end: list[float]) -> None:
    stuck = [r for r in range(len(ptr)) if ptr[r] < ops.rank_bounds[r + 1]]
    if not stuck:
        return
    r = stuck[0]
    i = ptr[r]

    def name(o: int) -> str:
        return f"{KIND_NAMES[ops.kind[o]]}(stage {ops.stage[o]}, microbatch {ops.microbatch[o]})"

    entry = [i, i + 1] if ops.overlapped[i] else [i]
    waits = [d for o in entry for d in (edges.first[o], edges.second[o])]
    missing = [d for d in waits if d >= 0 and end[d] < 0.0]
    raise ScheduleDeadlock(
        f"ranks {stuck} cannot proceed; rank {r} waits at op {i - ops.rank_bounds[r]} "
        f"{' & '.join(map(name, entry))} for {', '.join(map(name, missing))}"
    )
