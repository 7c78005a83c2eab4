"""Pipeline schedules as per-rank op orders, one generator per schedule.

A schedule is only an ORDER: for each rank, the list of ops it runs, one after another. Timing
is not decided here; `pipeline_sim.simulate` turns every order into times with the same rules,
so schedules differ only in what their authors chose to run next.

An op is a tuple ``(kind, stage, microbatch)`` with kind F, B (whole backward), I (backward for
inputs) or W (backward for weights); `stage` is the model chunk index 0..p·v−1. DualPipeV's
overlapped forward-and-backward is one entry ``(FB, f_stage, f_mb, b_stage, b_mb)`` that the
simulator runs as a single span.

Placement (which rank holds which stage):
- "loop" (GPipe, 1F1B, ZB-H1/H2, interleaved 1F1B): stage s on rank s mod p, so rank r holds
  chunks r, r + p, r + 2p, … (Megatron-LM's virtual pipeline, arXiv 2104.04473 §2.2).
- "v" (ZB-V, DualPipeV): chunk 0 runs down ranks 0..p−1 and chunk 1 back up p−1..0, so stage
  s < p is on rank s and stage s ≥ p on rank 2p−1−s (arXiv 2401.10241 §6).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

F, B, I, W, FB = 0, 1, 2, 3, 4  # noqa: E741 (I: the paper's input-gradient backward)


@dataclass(frozen=True)
class OpKind:
    """One kind of op: its letter, what it computes, and what it does to stored activations."""

    code: int
    name: str
    title: str
    forward: bool  # the op runs the forward pass (it stores activations)
    frees_activations: bool  # the microbatch's activations are dropped when it ends


KINDS = (
    OpKind(F, "F", "forward", forward=True, frees_activations=False),
    OpKind(B, "B", "backward", forward=False, frees_activations=True),
    OpKind(I, "I", "backward (inputs)", forward=False, frees_activations=False),
    OpKind(W, "W", "backward (weights)", forward=False, frees_activations=True),
)
KIND_NAMES = tuple(k.name for k in KINDS)

Op = tuple[int, ...]
Order = list[Op]


def rank_of_stage(placement: str, ranks: int, chunks: int) -> list[int]:
    """The rank holding each stage, e.g. ``rank_of_stage("v", 2, 2) == [0, 1, 1, 0]``."""
    if placement == "v":
        return [s if s < ranks else 2 * ranks - 1 - s for s in range(2 * ranks)]
    return [s % ranks for s in range(ranks * chunks)]


def chunk_of_stage(placement: str, ranks: int, chunks: int) -> list[int]:
    """Which of its rank's chunks each stage is (0..v−1)."""
    return [s // ranks for s in range(ranks * chunks)]


def gpipe(p: int, m: int, v: int) -> list[Order]:
    """All forwards, then all backwards (Huang et al. 2019, arXiv 1811.06965).

    Backwards run in microbatch order as in torch.distributed.pipelining's ScheduleGPipe; with
    equal stage costs the makespan is the same for either backward order.
    """
    orders: list[Order] = []
    for r in range(p):
        order: Order = [(F, r, mb) for mb in range(m)]
        order += [(B, r, mb) for mb in range(m)]
        orders.append(order)
    return orders


def one_f_one_b(p: int, m: int, v: int) -> list[Order]:
    """Megatron-LM `forward_backward_pipelining_without_interleaving` (PipeDream-Flush).

    Rank r runs min(p − r − 1, m) warm-up forwards, then alternates one forward and one
    backward, then drains the remaining backwards. The last rank has no warm-up, so it runs
    F0 B0 F1 B1 … starting with microbatch 0.
    """
    orders: list[Order] = []
    for r in range(p):
        warmup = min(p - r - 1, m)
        order: Order = [(F, r, mb) for mb in range(warmup)]
        for i in range(m - warmup):
            order.append((F, r, warmup + i))
            order.append((B, r, i))
        order.extend((B, r, mb) for mb in range(m - warmup, m))
        orders.append(order)
    return orders


def _megatron_table(m: int, v: int, group: int) -> list[tuple[int, int]]:
    """(microbatch, chunk) of each virtual microbatch, in the order a rank runs its forwards.

    Megatron-LM `get_schedule_table`: microbatches go in groups of `group` (= p by default,
    `microbatch_group_size_per_vp_stage`); each group runs through chunk 0, then chunk 1, …;
    the last group takes whatever microbatches remain (bitmesh only uses m a multiple of p).
    """
    table: list[tuple[int, int]] = []
    for first in range(0, m, group):
        last = m if first + group >= m else first + group
        table.extend((mb, c) for c in range(v) for mb in range(first, last))
    return table


def interleaved_1f1b(p: int, m: int, v: int) -> list[Order]:
    """Megatron-LM `forward_backward_pipelining_with_interleaving` (arXiv 2104.04473 §2.2).

    Rank r runs (p − r − 1)·2 + (v − 1)·p warm-up forwards (all of them when m == p), then
    alternates forward and backward over the virtual-microbatch table; backwards visit the
    chunks in reverse (chunk v − 1 first). Requires m to be a multiple of p (the caller
    checks): with a short last group the fixed warm-up can deadlock, e.g. p = 4, m = 5, v = 3.
    """
    table = _megatron_table(m, v, p)
    total = m * v
    orders: list[Order] = []
    for r in range(p):
        # Megatron: all_warmup_microbatches when m == p
        warmup = total if m == p else min((p - r - 1) * 2 + (v - 1) * p, total)

        def fwd(k: int, r: int = r) -> Op:
            mb, c = table[k]
            return (F, c * p + r, mb)

        def bwd(k: int, r: int = r) -> Op:
            mb, c = table[k]
            return (B, (v - 1 - c) * p + r, mb)

        order: Order = [fwd(k) for k in range(warmup)]
        for k in range(total - warmup):
            order.append(fwd(warmup + k))
            order.append(bwd(k))
        order.extend(bwd(k) for k in range(total - warmup, total))
        orders.append(order)
    return orders


def zb_h1(p: int, m: int, v: int) -> list[Order]:
    """ZB-H1 (Qi et al. 2023, arXiv 2401.10241 §3.1, Fig. 3): 1F1B with W passes deferred.

    The order is the "exact semantics" ZB-H1 that the zero-bubble authors contributed to
    Megatron-DeepSpeed (`ZeroBubbleH1Pipeline.steps`): rank r runs p − r − 1 warm-up forwards,
    then r steps of (F, I) that defer their W, then steps of (F, I, W) while forwards remain,
    then (I, W) steps, then the r deferred W. Every W runs the oldest pending one, so at most
    p microbatches are in flight on rank 0, as in 1F1B.
    """
    orders: list[Order] = []
    for r in range(p):
        order: Order = []
        pending: deque[int] = deque()
        f = b = 0
        warmup = min(p - r - 1, m)
        for _ in range(warmup):
            order.append((F, r, f))
            f += 1
        for _ in range(r):
            if f == m:
                break
            order += [(F, r, f), (I, r, b)]
            pending.append(b)
            f += 1
            b += 1
        while f < m:
            order += [(F, r, f), (I, r, b)]
            pending.append(b)
            order.append((W, r, pending.popleft()))
            f += 1
            b += 1
        while b < m:
            order.append((I, r, b))
            pending.append(b)
            order.append((W, r, pending.popleft()))
            b += 1
        order.extend((W, r, mb) for mb in pending)
        orders.append(order)
    return orders


def zb_h2(p: int, m: int, v: int) -> list[Order]:
    """ZB-H2 (Qi et al. 2023, arXiv 2401.10241 §3.1, Fig. 4): more warm-up, W moved to the tail.

    bitmesh's reconstruction from the paper's description (the zero-bubble repository builds
    its 2p-memory schedules with a cost-driven search rather than a fixed order):
    rank r first runs 2(p − r) − 1 forwards, filling the time 1F1B leaves idle before the
    first backward (so rank 0 holds up to 2p − 1 microbatches, the paper's memory figure for
    ZB-H2). Then it alternates (I, F), keeping the W passes while fewer than 2p − 1
    microbatches are in flight and running the oldest W once that cap is reached. After the
    last forward it runs each remaining I followed by one W, and the W left over at the very
    end (rank r is left with 2r + 1), which turns the tail from a trapezoid into a
    parallelogram. With 2W ≤ I and W ≤ F this meets the paper's bubble (p − 1)(F + I − 2W)
    exactly for m ≥ 2p − 1 (tests/core/parallel/test_pipeline.py); with F = I = W it reaches
    the one-iteration lower bound m(F + I + W) + (p − 1)F.
    """
    cap = 2 * p - 1
    orders: list[Order] = []
    for r in range(p):
        order: Order = []
        pending: deque[int] = deque()
        f = b = 0
        in_flight = 0
        for _ in range(min(cap - 2 * r, m)):
            order.append((F, r, f))
            f += 1
            in_flight += 1
        while f < m:
            order.append((I, r, b))
            pending.append(b)
            b += 1
            if in_flight >= cap:
                order.append((W, r, pending.popleft()))
                in_flight -= 1
            order.append((F, r, f))
            f += 1
            in_flight += 1
        while b < m:
            order.append((I, r, b))
            pending.append(b)
            b += 1
            if b < m:
                order.append((W, r, pending.popleft()))
        order.extend((W, r, mb) for mb in pending)
        orders.append(order)
    return orders


def zbv(p: int, m: int, v: int) -> list[Order]:
    """ZB-V (Qi et al. 2023, arXiv 2401.10241 §6), V placement, exactly 2 chunks per rank.

    The handcrafted order of torch.distributed.pipelining `ScheduleZBVZeroBubble`
    (`_calculate_single_rank_operations`): 2(p − r) − 1 forwards of chunk 0; r pairs
    (F chunk 1, F chunk 0); p − r triples (F, I, W) of chunk 1; a steady phase of
    [F0] I0 W0 F1 I1 W1; a cool-down of r pairs (I0, I1) and p − r pairs (I0, W0); then the
    remaining W of chunk 1 and of chunk 0. Built for max(m, 2p − 1) microbatches and then
    filtered to the m that exist, as torch does.
    """
    n = max(m, 2 * p - 1)
    orders: list[Order] = []
    for r in range(p):
        s0, s1 = r, 2 * p - 1 - r
        order: Order = []
        f0 = f1 = b0 = b1 = 0
        for _ in range(2 * (p - r) - 1):
            order.append((F, s0, f0))
            f0 += 1
        for _ in range(r):
            order += [(F, s1, f1), (F, s0, f0)]
            f1 += 1
            f0 += 1
        for _ in range(p - r):
            order += [(F, s1, f1), (I, s1, b1), (W, s1, b1)]
            f1 += 1
            b1 += 1
        while f1 < f0 or f0 < n:
            if f0 < n:
                order.append((F, s0, f0))
                f0 += 1
            order += [(I, s0, b0), (W, s0, b0), (F, s1, f1), (I, s1, b1), (W, s1, b1)]
            b0 += 1
            f1 += 1
            b1 += 1
        w0, w1 = b0, b1
        for _ in range(r):
            order += [(I, s0, b0), (I, s1, b1)]
            b0 += 1
            b1 += 1
        for _ in range(p - r):
            order += [(I, s0, b0), (W, s0, w0)]
            b0 += 1
            w0 += 1
        order.extend((W, s1, mb) for mb in range(w1, b1))
        order.extend((W, s0, mb) for mb in range(w0, b0))
        orders.append(order if n == m else [op for op in order if op[2] < m])
    return orders


def dualpipev(p: int, m: int, v: int) -> list[Order]:
    """DualPipeV (deepseek-ai/DualPipe `dualpipev.py`, `DualPipeV.step`), V placement.

    "Phase" 0 is chunk 0 (stage r) and phase 1 chunk 1 (stage 2p − 1 − r). Eight steps:
    1 nF0: 2(p − r − 1) forwards of chunk 0;  2 nF0F1: r + 1 pairs (F0, F1);
    3 nB1W1F1: p − r − 1 triples (I1 with zero bubble, the oldest W, F1);
    4 nF0B1F1B0: m − 2p + r + 1 pairs of overlapped spans F0&B1, F1&B0 (on the last rank
    the very first F0, B1 are not overlapped);  5 nB1F1B0: p − r − 1 of (B1, F1&B0);
    6 nB1B0: r + 1 pairs (B1, B0), the second half split into I (zero bubble);
    7 nWB0: p − r − 1 pairs (oldest W, I0);  8 nW: the r + 1 remaining W.
    Needs m ≥ 2p. B is a whole backward; an I queues its W, which runs when a W step pops it.
    """
    return [_dualpipev_rank(p, m, r) for r in range(p)]


def _dualpipev_rank(p: int, m: int, r: int) -> Order:
    stage = (r, 2 * p - 1 - r)
    nf = [0, 0]
    nb = [0, 0]
    queue: deque[tuple[int, int]] = deque()
    order: Order = []

    def fwd(c: int) -> None:
        order.append((F, stage[c], nf[c]))
        nf[c] += 1

    def bwd(c: int, zb: bool) -> None:
        order.append((I if zb else B, stage[c], nb[c]))
        if zb:
            queue.append((stage[c], nb[c]))
        nb[c] += 1

    def weight() -> None:
        if queue:
            s, mb = queue.popleft()
            order.append((W, s, mb))

    def fwd_bwd(cf: int, cb: int) -> None:
        order.append((FB, stage[cf], nf[cf], stage[cb], nb[cb]))
        nf[cf] += 1
        nb[cb] += 1

    for _ in range(2 * (p - r - 1)):  # step 1: nF0
        fwd(0)
    for _ in range(r + 1):  # step 2: nF0F1
        fwd(0)
        fwd(1)
    for _ in range(p - r - 1):  # step 3: nB1W1F1
        bwd(1, zb=True)
        weight()
        fwd(1)
    for i in range(m - 2 * p + r + 1):  # step 4: nF0B1F1B0
        if i == 0 and r == p - 1:
            # DualPipe: "We don't overlap these two chunks to further reduce bubble size."
            fwd(0)
            bwd(1, zb=False)
        else:
            fwd_bwd(0, 1)
        fwd_bwd(1, 0)
    for _ in range(p - r - 1):  # step 5: nB1F1B0
        bwd(1, zb=False)
        fwd_bwd(1, 0)
    zb = False
    steps6 = r + 1
    for i in range(steps6):  # step 6: nB1B0, the second half with zero bubble
        if i == steps6 // 2 and r % 2 == 1:
            zb = True
        bwd(1, zb=zb)
        if i == steps6 // 2 and r % 2 == 0:
            zb = True
        bwd(0, zb=zb)
    for _ in range(p - r - 1):  # step 7: nWB0
        weight()
        bwd(0, zb=True)
    for _ in range(r + 1):  # step 8: nW
        weight()
    return order


Generator = Callable[[int, int, int], list[Order]]
