"""An independent dependency checker, applied to every schedule over many sizes and costs.

The checker does not reuse the simulator: from the ops alone it verifies that
- every (stage, microbatch) has exactly one F and one backward (a B, or an I and a W);
- each op runs on the rank that holds its stage, for exactly its cost;
- each op starts after what it needs, plus p2p when that comes from another rank;
- no rank runs two ops at once, except the two ops of a declared overlapped F&B span;
- no rank idles when its next op could run (ops start as soon as the order allows);
- busy, idle, makespan, bubble fraction and peak activations agree with the ops;
- each op's `waits_for` names exactly the ops these rules make it wait for.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.parallel.pipeline import SCHEDULES, PipelineResult, simulate_pipeline

EPS = 1e-9


def _costs(res: PipelineResult) -> dict[str, list[float]]:
    q = res.query
    v = res.chunks
    n = len(res.stage_to_rank)
    mult = [float(x) for x in q.stage_costs.split(",")] if q.stage_costs else [1.0] * n
    f, i, w = q.forward, q.backward_input, q.backward_weight
    return {
        "F": [f / v * k for k in mult],
        "B": [(i + w) / v * k for k in mult],
        "I": [i / v * k for k in mult],
        "W": [w / v * k for k in mult],
        "mult": mult,
    }


def check_schedule(res: PipelineResult) -> None:
    """Raise AssertionError if `res` breaks any rule in the module docstring."""
    tl = res.timeline
    p, m, v = res.stages, res.microbatches, res.chunks
    n_stages = len(res.stage_to_rank)
    lat = res.query.p2p
    fb = res.query.forward_backward
    costs = _costs(res)
    ops = list(
        zip(tl.rank, tl.stage, tl.microbatch, tl.kind, tl.start, tl.end, tl.overlapped, strict=True)
    )
    by_key: dict[tuple[str, int, int], list[tuple[float, float]]] = defaultdict(list)
    for r, s, mb, k, t0, t1, _ in ops:
        kind = "FBIW"[k]
        by_key[(kind, s, mb)].append((t0, t1))
        assert res.stage_to_rank[s] == r, f"{kind}({s},{mb}) on rank {r}"
        assert 0 <= mb < m
    # exactly one forward and one backward per (stage, microbatch)
    for s in range(n_stages):
        for mb in range(m):
            assert len(by_key[("F", s, mb)]) == 1, ("F", s, mb)
            nb, ni, nw = (len(by_key[(k, s, mb)]) for k in "BIW")
            assert (nb, ni, nw) in ((1, 0, 0), (0, 1, 1)), (s, mb, nb, ni, nw)
    assert len(ops) == sum(len(x) for x in by_key.values())

    def end_of(kind: str, s: int, mb: int) -> float:
        return by_key[(kind, s, mb)][0][1]

    def grad_end(s: int, mb: int) -> float:
        return end_of("B", s, mb) if by_key[("B", s, mb)] else end_of("I", s, mb)

    def hop(a: int, b: int) -> float:
        return lat if res.stage_to_rank[a] != res.stage_to_rank[b] else 0.0

    ready: dict[int, float] = {}
    for idx, (_r, s, mb, k, t0, t1, ov) in enumerate(ops):
        kind = "FBIW"[k]
        need = 0.0
        if kind == "F":
            if s > 0:
                need = end_of("F", s - 1, mb) + hop(s - 1, s)
        elif kind in "BI":
            need = end_of("F", s, mb)
            if s + 1 < n_stages:
                need = max(need, grad_end(s + 1, mb) + hop(s + 1, s))
        else:
            need = end_of("I", s, mb)
        assert t0 >= need - EPS, f"{kind}({s},{mb}) starts {t0} before its input at {need}"
        ready[idx] = need
        if not ov:
            assert abs((t1 - t0) - costs[kind][s]) < 1e-7, (kind, s, t1 - t0)
    # per rank: one op at a time, overlapped pairs share one span; no avoidable idle
    busy = [0.0] * p
    peak = [0.0] * p
    for r in range(p):
        mine = [i for i, op in enumerate(ops) if op[0] == r]
        prev_end = 0.0
        j = 0
        while j < len(mine):
            i = mine[j]
            _, s, mb, k, t0, t1, ov = ops[i]
            need = ready[i]
            if ov:
                i2 = mine[j + 1]
                o2 = ops[i2]
                assert o2[6] and o2[4] == t0 and o2[5] == t1, "overlapped ops come in pairs"
                assert "FBIW"[k] == "F" and "FBIW"[o2[3]] == "B"
                span = (
                    costs["F"][s] + costs["B"][o2[1]]
                    if fb is None
                    else fb * (costs["mult"][s] + costs["mult"][o2[1]]) / 2
                )
                assert abs((t1 - t0) - span) < 1e-7
                need = max(need, ready[i2])
                j += 2
            else:
                j += 1
            assert t0 >= prev_end - EPS, f"rank {r} runs two ops at once at {t0}"
            assert abs(t0 - max(prev_end, need)) < 1e-7, f"rank {r} idles before {t0}"
            busy[r] += t1 - t0
            prev_end = t1
        # activations in flight: +1/v at F start, −1/v at the end of B or W; releases first
        events = []
        for i in mine:
            _, s, mb, k, t0, t1, _ = ops[i]
            if "FBIW"[k] == "F":
                events.append((t0, 1))
            elif "FBIW"[k] in "BW":
                events.append((t1, -1))
        level = 0
        for _, d in sorted(events):
            level += d
            peak[r] = max(peak[r], level / v)
        assert level == 0
    makespan = max(tl.end)
    assert res.makespan == pytest.approx(makespan)
    for r in range(p):
        st_r = res.per_rank[r]
        assert st_r.rank == r
        assert st_r.busy == pytest.approx(busy[r])
        assert st_r.idle == pytest.approx(makespan - busy[r])
        assert st_r.peak_activations == pytest.approx(peak[r])
        assert st_r.activation_counts[-1] == 0
    assert res.bubble_fraction == pytest.approx(1 - sum(busy) / (p * makespan), abs=1e-12)
    check_edges(res)


def check_edges(res: PipelineResult) -> None:
    """Each op's `waits_for` is exactly: F(s−1) for F; F(s) and the B or I of s + 1 for B
    and I; I(s) for W (same microbatch), found here by name, not by the library's rules."""
    tl = res.timeline
    n_stages = len(res.stage_to_rank)
    index = {
        ("FBIW"[k], s, mb): i
        for i, (k, s, mb) in enumerate(zip(tl.kind, tl.stage, tl.microbatch, strict=True))
    }

    def grad(s: int, mb: int) -> int:
        return index.get(("B", s, mb), index.get(("I", s, mb), -1))

    for i, (k, s, mb) in enumerate(zip(tl.kind, tl.stage, tl.microbatch, strict=True)):
        kind = "FBIW"[k]
        if kind == "F":
            want = [index[("F", s - 1, mb)]] if s > 0 else []
        elif kind in "BI":
            want = [index[("F", s, mb)]] + ([grad(s + 1, mb)] if s + 1 < n_stages else [])
        else:
            want = [index[("I", s, mb)]]
        got = [int(d) for d in tl.waits_for[i] if d >= 0]
        assert sorted(got) == sorted(want), f"{kind}({s},{mb}) waits for {got}, not {want}"


def _sizes(name: str, p: int, k: int) -> tuple[int, int | None]:
    """A valid (microbatches, chunks) for `name` at p ranks, k picks among valid sizes."""
    if name == "interleaved_1f1b":
        return p * (1 + k % 4), 2 + k % 3
    if name == "dualpipev":
        return 2 * p + k % 7, None
    return 1 + k % 20, None


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("p", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("k", [0, 1, 2, 3, 6, 9, 14, 19])
def test_every_schedule_respects_dependencies_ideal_costs(name: str, p: int, k: int) -> None:
    m, v = _sizes(name, p, k)
    check_schedule(simulate_pipeline(name, p, m, chunks=v))


costs = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 0.3, 1.7])


@settings(
    max_examples=250, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    name=st.sampled_from(sorted(SCHEDULES)),
    p=st.integers(1, 7),
    k=st.integers(0, 40),
    f=costs,
    i=costs,
    w=costs,
    p2p=st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.5]),
    fb=st.none() | st.sampled_from([0.5, 1.0, 1.5, 3.0]),
    multipliers=st.none() | st.lists(st.sampled_from([0.5, 1.0, 1.25, 2.0]), min_size=16),
)
def test_every_schedule_respects_dependencies_random(
    name: str,
    p: int,
    k: int,
    f: float,
    i: float,
    w: float,
    p2p: float,
    fb: float | None,
    multipliers: list[float] | None,
) -> None:
    if f + i + w == 0:
        f = 1.0
    m, v = _sizes(name, p, k)
    n_stages = p * (v or SCHEDULES[name].chunks.default)
    stage_costs = None
    if multipliers is not None:
        stage_costs = (multipliers * (n_stages // len(multipliers) + 1))[:n_stages]
    res = simulate_pipeline(
        name,
        p,
        m,
        chunks=v,
        forward=f,
        backward_input=i,
        backward_weight=w,
        p2p=p2p,
        forward_backward=fb,
        stage_costs=stage_costs,
    )
    check_schedule(res)


def test_checker_catches_a_broken_timeline() -> None:
    """The checker is not vacuous: shifting one op earlier breaks a dependency."""
    res = simulate_pipeline("1f1b", 3, 4)
    check_schedule(res)
    tl = res.timeline
    i = next(j for j, (r, k) in enumerate(zip(tl.rank, tl.kind, strict=True)) if r == 2 and k == 0)
    tl.start[i] -= 0.5
    tl.end[i] -= 0.5
    with pytest.raises(AssertionError):
        check_schedule(res)


def test_edge_checker_catches_a_wrong_edge() -> None:
    """Pointing one backward at the wrong forward is caught."""
    res = simulate_pipeline("zb_h1", 3, 4)
    check_edges(res)
    tl = res.timeline
    i = next(j for j, k in enumerate(tl.kind) if k == 2)  # an I: waits for its F and a grad
    tl.waits_for[i, 0] = (tl.waits_for[i, 0] + 1) % len(tl.kind)
    with pytest.raises(AssertionError):
        check_edges(res)
