"""Collectives: every algorithm's steps replayed on symbolic data, and the cost model against
the closed forms of nccl-tests' PERFORMANCE.md and measured curves.

The replay below is written from the contract alone (transfers of a step run at once, each
reading the state at the step's start; reduce adds, copy overwrites), not from the generators:
each cell holds a multiset of (rank, chunk) contributions, and a contribution counted twice
fails the test.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.collective_algorithms import (
    OPS,
    phase_table,
    step_list,
    transfer_bytes,
)
from app.core.parallel.collective_cost import Link, Links, Placement, evaluate
from app.core.parallel.collective_steps import OP_NAMES, StepList
from app.core.parallel.collective_view import replay as view_replay
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.core.parallel.network import CALIBRATIONS, calibration
from app.core.parallel.presets import GPUS

Cell = tuple[int, int]  # (rank, chunk)
State = dict[Cell, Counter[tuple[int, int]]]

GiB, MiB = 1 << 30, 1 << 20


def initial_state(op: str, n: int, chunks: int, root: int) -> State:
    state: State = {}
    for r in range(n):
        for c in range(chunks):
            state[(r, c)] = Counter()
    if op in ("all_reduce", "reduce_scatter"):
        for r in range(n):
            for c in range(chunks):
                state[(r, c)][(r, c)] = 1
    elif op == "all_gather":
        for r in range(n):
            state[(r, r)][(r, r)] = 1
    elif op == "broadcast":
        for c in range(chunks):
            state[(root, c)][(root, c)] = 1
    else:  # all_to_all: chunk r·n + d is rank r's block for rank d
        for r in range(n):
            for d in range(n):
                state[(r, r * n + d)][(r, d)] = 1
    return state


def transfers(steps: StepList) -> Iterator[list[tuple[int, int, int, str]]]:
    """The transfers grouped by step, as plain tuples."""
    rows = zip(
        steps.step.tolist(),
        steps.src.tolist(),
        steps.dst.tolist(),
        steps.chunk.tolist(),
        steps.op.tolist(),
        strict=True,
    )
    current: list[tuple[int, int, int, str]] = []
    last = 0
    for s, src, dst, chunk, op in rows:
        assert s >= last, "steps must be sorted"
        if s != last:
            yield current
            current, last = [], s
        current.append((src, dst, chunk, OP_NAMES[op]))
    yield current


def play(op: str, steps: StepList, chunks: int, root: int = 0) -> tuple[State, list[State]]:
    n = steps.ranks
    state = initial_state(op, n, chunks, root)
    history = []
    for group in transfers(steps):
        before = {k: Counter(v) for k, v in state.items()}
        copied: set[Cell] = set()
        for src, dst, chunk, kind in group:
            assert src != dst and 0 <= src < n and 0 <= dst < n
            if kind == "copy":
                assert (dst, chunk) not in copied, "two copies into one cell in a step"
                copied.add((dst, chunk))
                state[(dst, chunk)] = Counter(before[(src, chunk)])
            else:
                state[(dst, chunk)] += before[(src, chunk)]
                twice = [k for k, v in state[(dst, chunk)].items() if v > 1]
                assert not twice, f"contribution reduced twice: {twice}"
        history.append({k: Counter(v) for k, v in state.items()})
    return state, history


def check_promise(op: str, state: State, n: int, chunks: int, root: int) -> None:
    full = {c: Counter({(r, c): 1 for r in range(n)}) for c in range(chunks)}
    for r in range(n):
        if op == "all_reduce":
            assert all(state[(r, c)] == full[c] for c in range(chunks)), r
        elif op == "reduce_scatter":
            assert state[(r, r)] == full[r], r
        elif op == "all_gather":
            assert all(state[(r, c)] == Counter({(c, c): 1}) for c in range(chunks)), r
        elif op == "broadcast":
            assert all(state[(r, c)] == Counter({(root, c): 1}) for c in range(chunks)), r
        else:
            assert all(state[(s, s * n + r)] == Counter({(s, r): 1}) for s in range(n)), r
            assert all(state[(r, s * n + r)] == Counter({(s, r): 1}) for s in range(n)), r


def cases() -> Iterator[tuple[str, str, int, int, int, int]]:
    """(op, algorithm, n, local ranks per node, root, broadcast pieces) for n = 2..16."""
    for n in range(2, 17):
        for op in ("all_reduce", "reduce_scatter", "all_gather"):
            yield op, "ring", n, n, 0, n
            for g in range(1, n + 1):
                if n % g == 0:
                    yield op, "hierarchical", n, g, 0, n
        yield "all_reduce", "tree", n, n, 0, 1
        yield "all_reduce", "tree", n, n, n - 1, 1
        yield "all_reduce", "recursive_doubling", n, n, 0, 1
        for root in {0, n // 2, n - 1}:
            yield "broadcast", "tree", n, n, root, 1
            yield "broadcast", "ring", n, n, root, n
        yield "broadcast", "ring", n, n, 1, 3
        yield "all_to_all", "direct", n, n, 0, n * n
        yield "all_to_all", "pairwise", n, n, 0, n * n


@pytest.mark.parametrize(("op", "algorithm", "n", "g", "root", "chunks"), list(cases()))
def test_replay_keeps_the_promise(
    op: str, algorithm: str, n: int, g: int, root: int, chunks: int
) -> None:
    steps = step_list(op, algorithm, n, g, root, chunks)
    assert steps.num_chunks == chunks
    state, history = play(op, steps, chunks, root)
    check_promise(op, state, n, chunks, root)
    # the drawing data agrees with the symbolic replay after every step
    view = view_replay(op, steps, root, "ring", Placement(n, g))
    bounds = steps.offsets().tolist()
    for s, after in enumerate(history):
        for i in range(bounds[s], bounds[s + 1]):
            dst, chunk = int(steps.dst[i]), int(steps.chunk[i])
            assert view.holds[i] == sum(after[(dst, chunk)].values())


@pytest.mark.parametrize("n", [2, 3, 4, 7, 8, 16])
def test_ring_all_reduce_is_reduce_scatter_then_all_gather(n: int) -> None:
    steps = step_list("all_reduce", "ring", n, n, 0, n)
    # nccl-tests PERFORMANCE.md: 2(n−1) steps, each moving bytes/n per rank
    assert steps.num_steps == 2 * (n - 1)
    assert steps.size == 2 * (n - 1) * n
    ops = steps.op.reshape(2 * (n - 1), n)
    assert (ops[: n - 1] == 1).all() and (ops[n - 1 :] == 0).all()
    nbytes = transfer_bytes(steps, "all_reduce", 1 << 20)
    assert set(nbytes.tolist()) <= {(1 << 20) // n, (1 << 20) // n + 1}


def test_recursive_doubling_takes_log2_steps() -> None:
    # MPICH (Thakur et al. 2005): log2(n) exchanges; a non-power of two folds in and out
    assert step_list("all_reduce", "recursive_doubling", 8, 8, 0, 1).num_steps == 3
    assert step_list("all_reduce", "recursive_doubling", 16, 16, 0, 1).num_steps == 4
    assert step_list("all_reduce", "recursive_doubling", 12, 12, 0, 1).num_steps == 3 + 2


# ---------------------------------------------------------------- cost model

LINKS = Links(Link("intra_node", 4e11, 5e-6, "test"), Link("network", 5e10, 3e-5, "test"))


def test_ring_time_is_the_alpha_beta_closed_form() -> None:
    # t = 2(n−1)(α + S/(nB)) inside a node
    n, size = 8, 8 * 2**27
    table = phase_table("all_reduce", "ring", Placement(n, n), 0, n)
    want = 2 * (n - 1) * (5e-6 + size / (n * 4e11))
    assert table.time(size, LINKS) == pytest.approx(want, rel=1e-12)
    # all-gather and reduce-scatter: (n − 1)(α + S/(nB))
    for op in ("all_gather", "reduce_scatter"):
        t = phase_table(op, "ring", Placement(n, n), 0, n).time(size, LINKS)
        assert t == pytest.approx((n - 1) * (5e-6 + size / (n * 4e11)), rel=1e-12)


@pytest.mark.parametrize(
    ("op", "n", "factor"),
    [
        ("all_reduce", 8, 1.75),
        ("all_reduce", 2, 1.0),
        ("all_gather", 8, 0.875),
        ("reduce_scatter", 4, 0.75),
        ("all_to_all", 16, 15 / 16),
        ("broadcast", 8, 1.0),
    ],
)
def test_bus_factors_are_nccl_tests(op: str, n: int, factor: float) -> None:
    # nccl-tests PERFORMANCE.md "Summary"
    assert OPS[op].bus_factor(n) == pytest.approx(factor)


@pytest.mark.parametrize(
    ("op", "algorithm"),
    [
        ("all_reduce", "ring"),
        ("all_gather", "ring"),
        ("reduce_scatter", "ring"),
        ("all_to_all", "direct"),
        ("all_to_all", "pairwise"),
    ],
)
def test_large_messages_reach_the_bus_bandwidth(op: str, algorithm: str) -> None:
    # busbw = algbw × factor tends to B (the link figure) for bandwidth-optimal algorithms
    n, size = 8, 1 << 44
    t = phase_table(op, algorithm, Placement(n, n), 0, n).time(size, LINKS)
    assert OPS[op].bus_factor(n) * size / t == pytest.approx(4e11, rel=1e-3)


SIZES = [8 << 20, 3 * 5 * 7 * 11 * 13 * 16 * 1024]


@pytest.mark.parametrize(
    ("op", "algorithm", "n", "g"),
    [
        ("all_reduce", "ring", 8, 8),
        ("all_reduce", "ring", 16, 4),
        ("all_reduce", "ring", 12, 8),
        ("all_gather", "ring", 16, 8),
        ("reduce_scatter", "ring", 6, 6),
        ("all_reduce", "hierarchical", 16, 4),
        ("all_reduce", "hierarchical", 32, 8),
        ("all_gather", "hierarchical", 12, 4),
        ("reduce_scatter", "hierarchical", 8, 2),
        ("all_reduce", "tree", 13, 4),
        ("all_reduce", "recursive_doubling", 12, 4),
        ("broadcast", "tree", 16, 8),
        ("broadcast", "ring", 16, 4),
        ("broadcast", "ring", 11, 8),
        ("all_to_all", "direct", 16, 4),
        ("all_to_all", "pairwise", 16, 4),
        ("all_to_all", "pairwise", 8, 8),
        ("all_to_all", "direct", 12, 8),
    ],
)
def test_closed_form_equals_the_sum_of_step_times(op: str, algorithm: str, n: int, g: int) -> None:
    place = Placement(n, g)
    for size in SIZES:
        chunks = n if op != "all_to_all" else n * n
        if algorithm in ("tree", "recursive_doubling"):
            chunks = 1
        steps = step_list(op, algorithm, n, g, 0, chunks)
        per_step = evaluate(steps, place, transfer_bytes(steps, op, size), LINKS)
        table = phase_table(op, algorithm, place, 0, n)
        assert table.steps == steps.num_steps
        assert per_step.sum() == pytest.approx(table.time(size, LINKS), rel=1e-6)


def test_hierarchical_sends_less_over_the_network() -> None:
    # 4 nodes of 8: the flat ring crosses the network every step (2(n−1) steps of S/n),
    # the hierarchical one only in its inter-node rings (2(N−1) steps of S/n)
    n, g, size = 32, 8, 1 << 30
    flat = phase_table("all_reduce", "ring", Placement(n, g), 0, n)
    hier = phase_table("all_reduce", "hierarchical", Placement(n, g), 0, n)
    net = lambda t: sum(r.steps * (r.net or 0) for r in t.rows) * size  # noqa: E731
    assert net(flat) == pytest.approx(2 * (n - 1) / n * size)
    assert net(hier) == pytest.approx(2 * (4 - 1) / n * size)
    assert hier.time(size, LINKS) < flat.time(size, LINKS) / 3


# ---------------------------------------------------------------- achievable, not peak


def test_every_gpu_preset_is_calibrated() -> None:
    assert set(CALIBRATIONS) == set(GPUS)
    for cal in CALIBRATIONS.values():
        for link in (cal.intra_node, cal.network):
            assert 0.5 < link.efficiency <= 1.0, link  # achievable is below the line rate
            assert link.source


def test_h100_figures_are_the_ones_nvidia_quotes() -> None:
    # nccl-tests issue #212: 370 GB/s ring busbw, ~480 GB/s with NVLS; #267: 48–49 GB/s per NIC
    cal = calibration("h100-sxm")
    assert cal.intra_node.bus_bandwidth == 370e9
    assert cal.intra_node.nvls_bus_bandwidth == 480e9
    assert 46e9 <= cal.network.bus_bandwidth <= 49e9


# stas00/ml-engineering network/benchmarks/results/all-reduce-8xH200.md (NVLS; busbw GB/s)
H200_SWEEP = {1 * MiB: 39.93, 16 * MiB: 219.89, 64 * MiB: 346.51, 256 * MiB: 436.15, GiB: 463.58}


def test_a_1_mib_all_reduce_is_latency_bound_and_1_gib_is_not() -> None:
    small = compute_collective(CollectiveQuery(ranks=8, bytes=MiB, gpu="h200", steps=False))
    large = compute_collective(CollectiveQuery(ranks=8, bytes=GiB, gpu="h200", steps=False))
    assert small.latency_time > small.bandwidth_time
    assert large.latency_time < 0.05 * large.bandwidth_time
    # and both are near what 8x H200 measured (the model is a Hockney curve: within 30%)
    for size, measured in H200_SWEEP.items():
        q = CollectiveQuery(ranks=8, bytes=size, gpu="h200", steps=False)
        busbw = compute_collective(q).bus_bandwidth / 1e9
        assert abs(busbw / measured - 1) < 0.3, (size, busbw, measured)


def test_nvls_only_speeds_up_all_reduce_in_one_node() -> None:
    base = CollectiveQuery(ranks=8, bytes=GiB, steps=False)
    on = compute_collective(base)
    off = compute_collective(CollectiveQuery(ranks=8, bytes=GiB, steps=False, nvls=False))
    assert on.bus_bandwidth == pytest.approx(480e9 * on.bandwidth_time / on.time, rel=1e-9)
    assert off.bus_bandwidth < 370e9 < on.bus_bandwidth
    gather = compute_collective(CollectiveQuery(op="all_gather", ranks=8, bytes=GiB, steps=False))
    assert gather.bus_bandwidth < 370e9
    with pytest.raises(InvalidInput) as e:
        compute_collective(CollectiveQuery(gpu="a100-80gb", nvls=True))
    assert e.value.field == "nvls"


def test_overrides_replace_the_calibration() -> None:
    q = CollectiveQuery(ranks=4, bytes=4 << 20, bandwidth=1e11, latency=1e-5, steps=False)
    r = compute_collective(q)
    assert r.time == pytest.approx(6 * (1e-5 + (1 << 20) / 1e11))
    assert r.resolved.links.intra_node.source == "query"


def test_time_only_beyond_the_step_limit_and_time_matches_small() -> None:
    big = compute_collective(CollectiveQuery(ranks=2048, bytes=GiB))
    assert big.steps is None and any("time only" in n for n in big.notes)
    assert big.resolved.algorithm.name == "hierarchical"
    # 256 nodes of 8: 2·7 intra steps of S/8 and 2·255 network steps of S/2048
    cal = calibration("h100-sxm")
    want = 14 * (cal.intra_node.step_latency + GiB / 8 / 370e9) + 510 * (
        cal.network.step_latency + GiB / 2048 / cal.network.bus_bandwidth
    )
    assert big.time == pytest.approx(want, rel=1e-12)


def test_bad_inputs_name_their_field() -> None:
    with pytest.raises(UnknownName):
        compute_collective(CollectiveQuery(op="allreduce_v"))
    with pytest.raises(InvalidInput) as e:
        compute_collective(CollectiveQuery(op="broadcast", root=8, ranks=8))
    assert e.value.field == "root"
    with pytest.raises(InvalidInput) as e:
        compute_collective(CollectiveQuery(op="all_gather", algorithm="tree"))
    assert e.value.field == "algorithm"
    # names as people type them
    r = compute_collective(CollectiveQuery(op="AllGather", algorithm="Ring", steps=False))
    assert (r.resolved.op.name, r.resolved.algorithm.name) == ("all_gather", "ring")


def test_sweep_marks_the_regimes() -> None:
    r = compute_collective(CollectiveQuery(ranks=8, steps=False, nvls=False))
    series = {s["algorithm"]: s for s in r.sweep["series"]}
    assert set(series) == {"ring", "tree", "recursive_doubling"}
    sizes = r.sweep["sizes"]
    ring, rd = series["ring"]["times"], series["recursive_doubling"]["times"]
    # recursive doubling (3 steps) wins small messages, the ring (14 steps of S/8) large ones
    assert rd[0] < ring[0] and ring[-1] < rd[-1]
    cross = sizes[np.argmax(ring < rd)]
    # where 14α + 1.75 S/B = 3α + 3 S/B: S = 11α·B/1.25
    alpha = calibration("h100-sxm").intra_node.step_latency
    assert cross / 2 < 11 * alpha * 370e9 / 1.25 <= cross
    assert math.isclose(series["ring"]["half_bandwidth_bytes"], 8 * alpha * 370e9, rel_tol=1e-9)
