"""One event-driven simulator that turns per-rank op orders into start and end times.

Timing rules, the same for every schedule:
- a rank runs its ops strictly in its order, one at a time (an overlapped F&B entry is one
  span lasting its own cost);
- F(s, mb) starts after F(s − 1, mb) ends; the backward (B or I) of (s, mb) after F(s, mb)
  and after the backward of (s + 1, mb); W(s, mb) after I(s, mb);
- a dependency produced on another rank arrives `p2p` later.

Each op starts at max(its rank is free, its dependencies are ready), so the times are the
longest paths of a DAG and do not depend on the order in which ranks are visited. The loop
advances each rank as far as it can and parks it on the first missing dependency; finishing
that dependency wakes it. Every op is visited once: O(ops). If every rank is parked while ops
remain, the orders wait on each other and `ScheduleDeadlock` says where.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.parallel.pipeline_orders import FB, KIND_NAMES, B, F, Order, W


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
    ranks = len(orders)
    stages = len(rank_of_stage)
    mbs = microbatches
    n_keys = stages * mbs
    f_end = [-1.0] * n_keys
    g_end = [-1.0] * n_keys  # input gradient ready: end of B or I
    # the rank parked on a key (each key has at most one waiter from another rank in a
    # schedule that can run; `extra` keeps any further ones so they are never lost)
    wait_f = [-1] * n_keys
    wait_g = [-1] * n_keys
    extra: dict[int, list[int]] = {}
    # p2p added to a dependency that crosses ranks
    lat_f = [
        p2p if s > 0 and rank_of_stage[s - 1] != rank_of_stage[s] else 0.0 for s in range(stages)
    ]
    lat_b = [
        p2p if s + 1 < stages and rank_of_stage[s + 1] != rank_of_stage[s] else 0.0
        for s in range(stages)
    ]
    cost_f, cost_b = costs.forward, costs.backward
    cost_i, cost_w = costs.backward_input, costs.backward_weight
    cost_fb = costs.forward_backward or {}
    last = stages - 1

    starts: list[list[float]] = [[] for _ in range(ranks)]
    ends: list[list[float]] = [[] for _ in range(ranks)]
    busy = [0.0] * ranks
    ptr = [0] * ranks
    free = [0.0] * ranks
    runnable = list(range(ranks - 1, -1, -1))

    while runnable:
        r = runnable.pop()
        order = orders[r]
        n = len(order)
        i = ptr[r]
        t_free = free[r]
        o_start, o_end = starts[r], ends[r]
        work = busy[r]
        wait_key = -1  # 2·index for a forward, 2·index + 1 for an input gradient
        while i < n:
            op = order[i]
            kind = op[0]
            if kind == F:
                s, mb = op[1], op[2]
                idx = s * mbs + mb
                if s > 0:
                    ready = f_end[idx - mbs]
                    if ready < 0.0:
                        wait_key = 2 * (idx - mbs)
                        break
                    ready += lat_f[s]
                else:
                    ready = 0.0
                start = t_free if t_free > ready else ready
                t_free = start + cost_f[s]
                f_end[idx] = t_free
                w = wait_f[idx]
                if w >= 0:
                    runnable.append(w)
                    wait_f[idx] = -1
            elif kind == W:
                s, mb = op[1], op[2]
                idx = s * mbs + mb
                ready = g_end[idx]
                if ready < 0.0:
                    wait_key = 2 * idx + 1
                    break
                start = t_free if t_free > ready else ready
                t_free = start + cost_w[s]
            elif kind != FB:  # B or I
                s, mb = op[1], op[2]
                idx = s * mbs + mb
                ready = f_end[idx]
                if ready < 0.0:
                    wait_key = 2 * idx
                    break
                if s < last:
                    d = g_end[idx + mbs]
                    if d < 0.0:
                        wait_key = 2 * (idx + mbs) + 1
                        break
                    d += lat_b[s]
                    if d > ready:
                        ready = d
                start = t_free if t_free > ready else ready
                t_free = start + (cost_b[s] if kind == B else cost_i[s])
                g_end[idx] = t_free
                w = wait_g[idx]
                if w >= 0:
                    runnable.append(w)
                    wait_g[idx] = -1
            else:
                # overlapped span: the forward's and the backward's dependencies both
                _, fs, fmb, bs, bmb = op
                fi = fs * mbs + fmb
                bi = bs * mbs + bmb
                ready = 0.0
                if fs > 0:
                    d = f_end[fi - mbs]
                    if d < 0.0:
                        wait_key = 2 * (fi - mbs)
                        break
                    ready = d + lat_f[fs]
                d = f_end[bi]
                if d < 0.0:
                    wait_key = 2 * bi
                    break
                if d > ready:
                    ready = d
                if bs < last:
                    d = g_end[bi + mbs]
                    if d < 0.0:
                        wait_key = 2 * (bi + mbs) + 1
                        break
                    d += lat_b[bs]
                    if d > ready:
                        ready = d
                start = t_free if t_free > ready else ready
                t_free = start + cost_fb[(fs, bs)]
                f_end[fi] = t_free
                g_end[bi] = t_free
                for slots, key in ((wait_f, fi), (wait_g, bi)):
                    w = slots[key]
                    if w >= 0:
                        runnable.append(w)
                        slots[key] = -1
            o_start.append(start)
            o_end.append(t_free)
            work += t_free - start
            i += 1
        ptr[r] = i
        free[r] = t_free
        busy[r] = work
        if i < n:
            slots = wait_g if wait_key & 1 else wait_f
            key = wait_key >> 1
            if slots[key] < 0:
                slots[key] = r
            else:
                extra.setdefault(wait_key, []).append(r)
        if not runnable and extra:
            # wake the overflow waiters whose key is now done; they re-park if not
            for wait_key in list(extra):
                done = (g_end if wait_key & 1 else f_end)[wait_key >> 1] >= 0.0
                if done:
                    runnable += extra.pop(wait_key)

    stuck = [r for r in range(ranks) if ptr[r] < len(orders[r])]
    if stuck:
        r = stuck[0]
        op = orders[r][ptr[r]]
        what = (
            f"F&B(stage {op[1]} mb {op[2]}, stage {op[3]} mb {op[4]})"
            if op[0] == FB
            else f"{KIND_NAMES[op[0]]}(stage {op[1]}, microbatch {op[2]})"
        )
        raise ScheduleDeadlock(
            f"ranks {stuck} cannot proceed; rank {r} waits at op {ptr[r]} {what}"
        )
    return _columns(orders, starts, ends, busy)


def _columns(
    orders: list[Order], starts: list[list[float]], ends: list[list[float]], busy: list[float]
) -> Timeline:
    """Spread per-entry times over op columns; an F&B entry becomes its two ops."""
    rank: list[int] = []
    stage: list[int] = []
    mb: list[int] = []
    kind: list[int] = []
    start: list[float] = []
    end: list[float] = []
    overlapped: list[bool] = []
    for r, order in enumerate(orders):
        if not order or max(map(len, order)) == 3:  # no F&B entries
            if order:
                k, s, m = zip(*order, strict=True)
                kind += k
                stage += s
                mb += m
            start += starts[r]
            end += ends[r]
            overlapped += [False] * len(order)
            rank += [r] * len(order)
            continue
        for op, t0, t1 in zip(order, starts[r], ends[r], strict=True):
            if op[0] == FB:
                kind += (F, B)
                stage += (op[1], op[3])
                mb += (op[2], op[4])
                start += (t0, t0)
                end += (t1, t1)
                overlapped += (True, True)
                rank += (r, r)
            else:
                kind.append(op[0])
                stage.append(op[1])
                mb.append(op[2])
                start.append(t0)
                end.append(t1)
                overlapped.append(False)
                rank.append(r)
    return Timeline(rank, stage, mb, kind, start, end, overlapped, busy)
