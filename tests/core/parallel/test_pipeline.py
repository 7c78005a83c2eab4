"""Pipeline schedules against the papers' closed forms and known properties.

Sources: Narayanan et al. 2021 (arXiv 2104.04473) §2.2 for GPipe / 1F1B / interleaved;
Qi et al. 2023 (arXiv 2401.10241) §3.1 for ZB-H1 / ZB-H2; deepseek-ai/DualPipe README for
DualPipe(V). Costs are per microbatch through a rank's whole share (F, I, W; B = I + W).
"""

from __future__ import annotations

import itertools

import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.limits import limit
from app.core.parallel import pipeline_orders as orders
from app.core.parallel import pipeline_payload as shapes
from app.core.parallel.pipeline import SCHEDULES, catalogue, simulate_pipeline
from app.core.parallel.pipeline_query import PipelineQuery, resolve_query
from app.core.parallel.pipeline_schedules import check_sizes, rules_text
from app.core.parallel.pipeline_sim import ScheduleDeadlock, StageCosts, simulate

ONE_CHUNK = ["gpipe", "1f1b", "zb_h1", "zb_h2"]
COSTS = [(1.0, 1.0, 1.0), (1.0, 1.5, 0.5), (2.0, 1.0, 0.5), (0.5, 2.0, 1.0), (1.0, 0.5, 2.0)]


def sim(name: str, p: int, m: int, f: float = 1, i: float = 1, w: float = 1, **kw: object):  # type: ignore[no-untyped-def]
    return simulate_pipeline(name, p, m, forward=f, backward_input=i, backward_weight=w, **kw)  # type: ignore[arg-type]


# --- closed forms with ideal costs (p2p = 0, equal stages) ---------------------------------


@pytest.mark.parametrize("name", ["gpipe", "1f1b"])
@pytest.mark.parametrize(("p", "m"), [(1, 1), (2, 1), (4, 8), (4, 3), (8, 16), (5, 23)])
@pytest.mark.parametrize(("f", "i", "w"), COSTS)
def test_gpipe_and_1f1b_makespan(name: str, p: int, m: int, f: float, i: float, w: float) -> None:
    res = sim(name, p, m, f, i, w)
    # (m + p − 1)(F + B), arXiv 2104.04473 §2.2.1
    assert res.makespan == pytest.approx((m + p - 1) * (f + i + w))
    assert res.bubble_fraction == pytest.approx((p - 1) / (m + p - 1))
    assert res.closed_form is not None and res.closed_form.applies
    assert res.closed_form.makespan == pytest.approx(res.makespan)


def test_gpipe_p4_m8_worked_example() -> None:
    res = simulate_pipeline("gpipe", 4, 8)
    assert res.makespan == 33.0  # 11 × (1 + 2)
    assert res.bubble_fraction == pytest.approx(3 / 11)
    assert res.op_count == 64
    assert [s.busy for s in res.per_rank] == [24.0] * 4


@pytest.mark.parametrize(("p", "m", "v"), [(2, 4, 2), (4, 8, 2), (4, 8, 4), (4, 12, 3), (8, 16, 2)])
@pytest.mark.parametrize(("f", "i", "w"), COSTS)
def test_interleaved_bubble(p: int, m: int, v: int, f: float, i: float, w: float) -> None:
    res = sim("interleaved_1f1b", p, m, f, i, w, chunks=v)
    # arXiv 2104.04473 §2.2.2: bubble (p − 1)(F + B)/v → fraction (p − 1)/(v·m + p − 1)
    assert res.bubble_fraction == pytest.approx((p - 1) / (v * m + p - 1))
    assert res.makespan == pytest.approx(m * (f + i + w) + (p - 1) * (f + i + w) / v)


def test_interleaved_peak_memory_matches_megatron_factor() -> None:
    # Megatron-LM theoretical_memory_usage: rank 0 holds p·(1 + (p − 1)/(p·v)) microbatches
    for p, v in [(4, 2), (8, 2), (4, 4)]:
        res = simulate_pipeline("interleaved_1f1b", p, 4 * p, chunks=v)
        assert res.per_rank[0].peak_activations == pytest.approx(p * (1 + (p - 1) / (p * v)))


@pytest.mark.parametrize(("p", "m"), [(2, 2), (4, 8), (4, 4), (8, 16), (5, 11), (8, 64)])
@pytest.mark.parametrize(
    ("f", "i", "w"), [(1, 1, 1), (1, 1.5, 0.5), (2, 1, 1), (1, 3, 0.25), (1.5, 1.5, 1.5)]
)
def test_zb_h1_makespan(p: int, m: int, f: float, i: float, w: float) -> None:
    res = sim("zb_h1", p, m, f, i, w)
    # arXiv 2401.10241 §3.1: m(F + I + W) + (p − 1)(F + I − W)
    assert res.makespan == pytest.approx(m * (f + i + w) + (p - 1) * (f + i - w))
    assert res.closed_form is not None and res.closed_form.applies
    assert res.per_rank[0].peak_activations == p  # same memory as 1F1B


def test_zb_h1_cuts_1f1b_bubble_to_a_third_when_f_i_w_equal() -> None:
    p, m = 8, 32
    b1 = simulate_pipeline("1f1b", p, m).makespan - m * 3
    bz = simulate_pipeline("zb_h1", p, m).makespan - m * 3
    assert bz == pytest.approx(b1 / 3)


@pytest.mark.parametrize(("p", "m"), [(2, 4), (4, 8), (4, 16), (8, 16), (3, 7), (8, 64)])
def test_zb_h2_beats_zb_h1_with_uneven_costs(p: int, m: int) -> None:
    f, i, w = 1.0, 1.5, 0.5
    h1 = sim("zb_h1", p, m, f, i, w)
    h2 = sim("zb_h2", p, m, f, i, w)
    assert h1.makespan == pytest.approx(m * (f + i + w) + (p - 1) * (f + i - w))
    # the paper's ZB-H2 bubble (p − 1)(F + I − 2W), reached exactly
    assert h2.makespan == pytest.approx(m * (f + i + w) + (p - 1) * (f + i - 2 * w))
    assert h2.makespan < h1.makespan
    assert h2.closed_form is not None and h2.closed_form.applies
    # … at the cost of more activations in flight on rank 0 (2p − 1 against p)
    assert h2.per_rank[0].peak_activations == min(2 * p - 1, m)
    assert h1.per_rank[0].peak_activations == p
    assert h2.per_rank[0].peak_activations > h1.per_rank[0].peak_activations


@pytest.mark.parametrize(("p", "m"), [(1, 3), (2, 4), (4, 8), (4, 5), (8, 16), (6, 40)])
@pytest.mark.parametrize(("f", "i", "w"), COSTS)
def test_zb_h2_and_zbv_at_least_as_good_as_zb_h1(
    p: int, m: int, f: float, i: float, w: float
) -> None:
    h1 = sim("zb_h1", p, m, f, i, w).makespan
    assert sim("zb_h2", p, m, f, i, w).makespan <= h1 + 1e-9
    assert sim("zbv", p, m, f, i, w).makespan <= h1 + 1e-9


@pytest.mark.parametrize(("p", "m"), [(2, 4), (4, 8), (4, 16), (8, 16), (3, 7), (8, 64)])
@pytest.mark.parametrize(("f", "i", "w"), COSTS)
def test_dualpipev_beats_1f1b(p: int, m: int, f: float, i: float, w: float) -> None:
    assert sim("dualpipev", p, m, f, i, w).makespan < sim("1f1b", p, m, f, i, w).makespan


@pytest.mark.parametrize(("p", "m"), [(2, 4), (4, 8), (4, 16), (8, 16), (3, 7), (8, 64)])
@pytest.mark.parametrize(("f", "w"), [(1, 1), (1, 0.5), (2, 1), (1, 0.2), (3, 3)])
def test_dualpipev_matches_dualpipe_readme(p: int, m: int, f: float, w: float) -> None:
    """README bubble (PP − 1)(F&B + B − 3W) with per-chunk costs, PP → p for DualPipeV.

    Convention: forward / backward_input / backward_weight are per rank share, so a chunk
    has F = forward/2, B = (I + W)/2, W = backward_weight/2, and the default overlapped span
    F&B = F + B (no overlap gain). The simulation meets the figure exactly when F = I and
    W ≤ I (the README's own picture has equal F and B cells); every rank then idles exactly
    that long. Outside that range the closed form says it does not apply.
    """
    i = f
    res = sim("dualpipev", p, m, f, i, w)
    fc, bc, wc = f / 2, (i + w) / 2, w / 2
    bubble = (p - 1) * ((fc + bc) + bc - 3 * wc)
    assert res.makespan == pytest.approx(m * (f + i + w) + bubble)
    for st in res.per_rank:
        assert st.idle == pytest.approx(bubble)
    assert res.closed_form is not None and res.closed_form.applies


def test_dualpipev_overlapped_spans() -> None:
    res = simulate_pipeline("dualpipev", 4, 12, forward_backward=1.0)
    tl = res.timeline
    pairs = [j for j, ov in enumerate(tl.overlapped) if ov]
    assert pairs and len(pairs) % 2 == 0
    for a, b in zip(pairs[::2], pairs[1::2], strict=True):
        assert (tl.kind[a], tl.kind[b]) == (orders.F, orders.B)
        assert tl.start[a] == tl.start[b] and tl.end[a] == tl.end[b]
        assert tl.end[a] - tl.start[a] == pytest.approx(1.0)
        assert tl.rank[a] == tl.rank[b]
    # a shorter F&B span than F + B = 1.5 makes the whole iteration shorter
    assert res.makespan < simulate_pipeline("dualpipev", 4, 12).makespan
    assert res.closed_form is not None and not res.closed_form.applies


def test_zbv_near_zero_bubble_with_equal_costs() -> None:
    # arXiv 2401.10241 §6: ZB-V at F = I = W leaves only the ramp of one chunk forward
    for p, m in [(4, 8), (8, 16), (8, 64)]:
        res = simulate_pipeline("zbv", p, m)
        assert res.makespan == pytest.approx(3 * m + (p - 1) * 0.5)
        assert res.per_rank[0].peak_activations == p  # 1F1B's memory


# --- memory and order properties ----------------------------------------------------------


@pytest.mark.parametrize(("p", "m"), [(4, 8), (8, 16), (4, 3), (1, 5)])
def test_peak_activations_1f1b_and_gpipe(p: int, m: int) -> None:
    assert simulate_pipeline("1f1b", p, m).per_rank[0].peak_activations == min(p, m)
    assert simulate_pipeline("1f1b", p, m).per_rank[p - 1].peak_activations == 1
    assert simulate_pipeline("gpipe", p, m).per_rank[0].peak_activations == m


@pytest.mark.parametrize(("p", "m"), [(2, 4), (4, 8), (8, 16), (4, 2)])
def test_1f1b_last_rank_starts_with_microbatch_0(p: int, m: int) -> None:
    """torch 2.13's visualiser drops microbatch 0 from the last rank's 1F1B order."""
    res = simulate_pipeline("1f1b", p, m)
    tl = res.timeline
    last = [
        (orders.KIND_NAMES[k], mb)
        for r, k, mb in zip(tl.rank, tl.kind, tl.microbatch, strict=True)
        if r == p - 1
    ]
    assert last[:2] == [("F", 0), ("B", 0)]
    assert sorted(mb for k, mb in last if k == "F") == list(range(m))
    assert sorted(mb for k, mb in last if k == "B") == list(range(m))


@pytest.mark.parametrize("name", ONE_CHUNK)
@pytest.mark.parametrize(("p", "m"), [(1, 4), (2, 4), (4, 8), (4, 3), (8, 16), (6, 30)])
@pytest.mark.parametrize(("f", "i", "w"), [*COSTS, (0.3, 1.7, 0.25), (3, 0.5, 0.5)])
def test_one_chunk_lower_bound(name: str, p: int, m: int, f: float, i: float, w: float) -> None:
    """No one-chunk schedule beats m(F + I + W) + (p − 1)F: the last rank waits p − 1 F."""
    assert sim(name, p, m, f, i, w).makespan >= m * (f + i + w) + (p - 1) * f - 1e-9


def test_zb_h1_and_h2_closed_forms_flag_their_range() -> None:
    # W > I: the paper's figure would undercut the one-chunk lower bound
    h1 = sim("zb_h1", 4, 8, 1, 0.5, 2)
    assert h1.closed_form is not None and not h1.closed_form.applies
    assert h1.makespan > h1.closed_form.makespan
    h2 = sim("zb_h2", 4, 8, 1, 1, 1)
    assert h2.closed_form is not None and not h2.closed_form.applies
    # at F = I = W ZB-H2 reaches the one-iteration lower bound m(F+I+W) + (p − 1)F
    assert h2.makespan == pytest.approx(8 * 3 + 3 * 1)


def test_closed_form_off_with_p2p_or_uneven_stages() -> None:
    res = simulate_pipeline("gpipe", 4, 8, p2p=0.5)
    assert res.closed_form is not None and not res.closed_form.applies
    # GPipe's critical path crosses each rank boundary twice (forward down, backward up)
    assert res.makespan == pytest.approx(33 + 2 * 3 * 0.5)
    # 1F1B pays the round trip again in the steady phase, so it loses more than GPipe
    assert simulate_pipeline("1f1b", 4, 8, p2p=0.5).makespan > res.makespan
    res = simulate_pipeline("1f1b", 4, 8, stage_costs="2,1,1,1")
    assert res.closed_form is not None and not res.closed_form.applies
    # the slow first stage sets the pace: it works 8 × (2 + 4) = 48 and waits once, from the
    # end of its 4th forward (8) to the first gradient (F0 reaches rank 3 at 5, B0 comes
    # back through ranks 3, 2, 1 by 11)
    assert res.makespan == pytest.approx(48 + 3)
    assert res.per_rank[0].busy == pytest.approx(48)
    assert simulate_pipeline("zbv", 2, 4).closed_form is None


def test_stage_costs_multiply_each_stage() -> None:
    res = simulate_pipeline("gpipe", 2, 1, stage_costs=[1.0, 3.0])
    tl = res.timeline
    durations = {
        (s, orders.KIND_NAMES[k]): e - b
        for s, k, b, e in zip(tl.stage, tl.kind, tl.start, tl.end, strict=True)
    }
    assert durations == {(0, "F"): 1.0, (1, "F"): 3.0, (1, "B"): 6.0, (0, "B"): 2.0}


def test_activation_timeline_steps() -> None:
    res = simulate_pipeline("1f1b", 2, 2)
    # rank 1: F0 1–2, B0 2–4, F1 4–5, B1 5–7; rank 0: F0 0–1, F1 1–2, B0 4–6, B1 7–9
    # → rank 0 holds 1 from 0, 2 from 1, 1 from 6 and 0 from 9
    assert res.per_rank[0].activations == [[0.0, 1.0], [1.0, 2.0], [6.0, 1.0], [9.0, 0.0]]
    # rank 1 starts at 1, so its timeline opens with a zero step at 0
    assert res.per_rank[1].activations[0] == [0.0, 0.0]


def test_chrome_trace_export() -> None:
    res = simulate_pipeline("dualpipev", 2, 4)
    trace = shapes.chrome_trace(res)
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == res.op_count
    first = xs[0]
    assert first["pid"] == first["tid"] == 0
    assert first["ts"] == 0 and first["dur"] == pytest.approx(500.0)  # 0.5 cost units → 500 µs
    assert {e["cat"] for e in xs} == {"F", "B", "I", "W"}
    meta = [e for e in trace["traceEvents"] if e["ph"] == "M"]
    assert [e["args"]["name"] for e in meta] == ["rank 0", "rank 1"]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"schedule": "zbv", "stages": 4, "microbatches": 8, "chunks": 3}, "chunks"),
        ({"schedule": "dualpipev", "stages": 4, "microbatches": 7}, "microbatches"),
        ({"schedule": "interleaved_1f1b", "stages": 4, "microbatches": 8, "chunks": 1}, "chunks"),
        ({"schedule": "interleaved_1f1b", "stages": 4, "microbatches": 6}, "microbatches"),
        ({"schedule": "1f1b", "stages": 4, "microbatches": 8, "chunks": 2}, "chunks"),
        ({"schedule": "1f1b", "stages": 129, "microbatches": 8}, "stages"),
        ({"schedule": "1f1b", "stages": 4, "microbatches": 1025}, "microbatches"),
        ({"schedule": "zbv", "stages": 128, "microbatches": 1024}, "microbatches"),
        ({"schedule": "1f1b", "stages": 4, "microbatches": 8, "forward": -1.0}, "forward"),
        ({"schedule": "1f1b", "stages": 4, "microbatches": 8, "p2p": float("inf")}, "p2p"),
        ({"schedule": "1f1b", "stages": 4, "microbatches": 8, "stage_costs": "1,2"}, "stage_costs"),
        ({"schedule": "1f1b", "stages": 2, "microbatches": 8, "stage_costs": "1,x"}, "stage_costs"),
        (
            {"schedule": "1f1b", "stages": 2, "microbatches": 8, "stage_costs": "1,-1"},
            "stage_costs",
        ),
        (
            {
                "schedule": "1f1b",
                "stages": 2,
                "microbatches": 8,
                "forward": 0.0,
                "backward_input": 0.0,
                "backward_weight": 0.0,
            },
            "forward",
        ),
    ],
)
def test_invalid_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        simulate_pipeline(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    assert err.value.msg


def test_op_limit_message_states_the_limit() -> None:
    with pytest.raises(InvalidInput, match="200,000"):
        simulate_pipeline("zbv", 128, 1024)


def test_unknown_schedule() -> None:
    with pytest.raises(UnknownName) as err:
        simulate_pipeline("pipedream", 4, 8)
    assert err.value.field == "schedule"
    assert err.value.valid == sorted(SCHEDULES)


def test_deadlocked_order_raises_instead_of_hanging() -> None:
    # rank 0 wants B(0, 0) before F(1, 0) has run on rank 1, which waits for F(0, 1)
    bad = [
        [(orders.F, 0, 0), (orders.B, 0, 0), (orders.F, 0, 1), (orders.B, 0, 1)],
        [(orders.F, 1, 1), (orders.F, 1, 0), (orders.B, 1, 0), (orders.B, 1, 1)],
    ]
    costs = StageCosts([1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ScheduleDeadlock, match="cannot proceed"):
        simulate(bad, [0, 1], 2, costs, 0.0)


def test_simulator_worked_example_with_p2p() -> None:
    one = [[(orders.F, 0, 0), (orders.B, 0, 0)], [(orders.F, 1, 0), (orders.B, 1, 0)]]
    costs = StageCosts([1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [1.0, 1.0])
    tl = simulate(one, [0, 1], 1, costs, 0.5)
    got = list(zip(tl.rank, tl.kind, tl.start, tl.end, strict=True))
    assert got == [(0, 0, 0.0, 1.0), (0, 1, 5.0, 7.0), (1, 0, 1.5, 2.5), (1, 1, 2.5, 4.5)]


def test_default_chunks_per_schedule() -> None:
    # interleaving needs v ≥ 2 (Megatron-LM); ZB-V and DualPipeV place exactly 2 as a V
    got = {name: simulate_pipeline(name, 2, 4).chunks for name in SCHEDULES}
    assert got == {
        "gpipe": 1,
        "1f1b": 1,
        "interleaved_1f1b": 2,
        "zb_h1": 1,
        "zb_h2": 1,
        "zbv": 2,
        "dualpipev": 2,
    }


def test_v_placement() -> None:
    assert orders.rank_of_stage("v", 4, 2) == [0, 1, 2, 3, 3, 2, 1, 0]
    assert orders.rank_of_stage("loop", 4, 2) == [0, 1, 2, 3, 0, 1, 2, 3]
    res = simulate_pipeline("zbv", 4, 8)
    assert res.stage_to_rank == [0, 1, 2, 3, 3, 2, 1, 0]
    assert res.stage_to_chunk == [0, 0, 0, 0, 1, 1, 1, 1]


def test_payload_shape() -> None:
    res = simulate_pipeline("dualpipev", 2, 4)
    body = shapes.records(res)
    assert set(body) >= {"ops", "makespan", "bubble_fraction", "per_rank", "closed_form", "units"}
    op = body["ops"][0]
    assert set(op) == {"rank", "stage", "chunk", "microbatch", "kind", "start", "end", "waits_for"}
    assert sum(1 for o in body["ops"] if o.get("overlapped")) % 2 == 0
    assert any(o.get("overlapped") for o in body["ops"])
    assert body["query"]["chunks"] == 2  # resolved for a V schedule
    assert [r["rank"] for r in body["per_rank"]] == [0, 1]
    cols = shapes.columns(res)["ops"]
    assert cols["waits_for"].shape == (len(body["ops"]), 2)


def test_headline_figures_over_the_ranks() -> None:
    # GPipe p = 4, m = 8: every rank busy 8 × 3 = 24 of a 33-unit makespan and rank 0 holds
    # all 8 microbatches; 1F1B peaks at p = 4 on rank 0 (Narayanan et al. 2021 §2.2)
    body = shapes.records(simulate_pipeline("gpipe", 4, 8))
    assert (body["busy_mean"], body["idle_mean"]) == (24.0, 9.0)
    assert (body["peak_activations"], body["peak_rank"]) == (8.0, 0)
    body = shapes.records(simulate_pipeline("1f1b", 4, 8))
    assert (body["peak_activations"], body["peak_rank"]) == (4.0, 0)


def test_query_is_resolved_once_and_echoed() -> None:
    q = resolve_query(PipelineQuery(schedule="ZB-V", stages=2, microbatches=4, format="Columns"))
    assert (q.schedule, q.chunks, q.format) == ("zbv", 2, "columns")
    # stage multipliers are written one way, so equal queries share one cache entry
    a = resolve_query(PipelineQuery(stage_costs="1.30, 1.0,1,1.6"))
    assert a.stage_costs == "1.3,1,1,1.6"
    assert resolve_query(a) == a
    for typed in ("1F1B", "1f1b", " 1f1b", "pipedream-flush"):
        assert resolve_query(PipelineQuery(schedule=typed)).schedule == "1f1b"
    with pytest.raises(UnknownName) as err:
        resolve_query(PipelineQuery(schedule="zb-h3"))
    assert err.value.suggestion in ("zb_h1", "zb_h2")


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rules_in_words_match_the_rules_enforced(name: str) -> None:
    """The hint the page shows says exactly what check_sizes refuses."""
    spec = SCHEDULES[name]
    text = rules_text(spec)
    p = 4
    fixed = spec.chunks.min == spec.chunks.max
    assert (f"v is fixed at {spec.chunks.min}" in text or "v = 1" in text) == fixed
    refuses_m_not_multiple = True
    try:
        check_sizes(spec, p, 4 * p + 1, spec.chunks.default)
        refuses_m_not_multiple = False
    except InvalidInput:
        pass
    if spec.min_microbatches_per_stage == 0:
        assert refuses_m_not_multiple == ("multiple of p" in text)
    else:
        assert f"at least {spec.min_microbatches_per_stage}p" in text
        with pytest.raises(InvalidInput):
            check_sizes(spec, p, spec.min_microbatches_per_stage * p - 1, spec.chunks.default)


def test_catalogue_lists_what_a_client_needs() -> None:
    cat = catalogue()
    by_name = {s["name"]: s for s in cat["schedules"]}
    assert list(by_name) == list(SCHEDULES)
    # chunks is only a parameter where a schedule lets it vary; forward_backward only with F&B
    assert "chunks" in by_name["interleaved_1f1b"]["parameters"]
    assert "chunks" not in by_name["zbv"]["parameters"]
    assert "forward_backward" in by_name["dualpipev"]["parameters"]
    assert "forward_backward" not in by_name["zb_h1"]["parameters"]
    params = {p["name"]: p for p in cat["parameters"]}
    assert params["stages"]["maximum"] == limit("pipeline_stages")
    assert params["chunks"]["default"] is None and params["chunks"]["nullable"]
    assert [k["kind"] for k in cat["kinds"]] == ["F", "B", "I", "W"]
    assert {(tuple(d["waiting"]), d["stage_offset"]) for d in cat["dependencies"]} == {
        (("F",), -1),
        (("B", "I"), 0),
        (("B", "I"), 1),
        (("W",), 0),
    }
    titles = [c["title"] for c in cat["cost_presets"]]
    assert titles == [
        "paper ideal (F = I = W = 1, p2p = 0)",
        "ZB paper (F = 1, I = 1.5, W = 0.5)",
        "with latency (p2p = 0.1)",
    ]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_bench_size_runs(name: str) -> None:
    """p = 32, m = 256 (v = 2 where needed): the issue's benchmark size stays within limits."""
    res = simulate_pipeline(name, 32, 256)
    per_mb = 2 if name in ("gpipe", "1f1b", "interleaved_1f1b") else 3
    v = res.chunks
    expected = 32 * v * 256 * per_mb
    if name == "dualpipev":
        # whole backwards (B) replace I + W for part of the microbatches
        assert 32 * 2 * 256 * 2 <= res.op_count <= expected
    else:
        assert res.op_count == expected
    assert all(a <= b for a, b in itertools.pairwise(res.timeline.start[:100]))


@pytest.mark.parametrize("p", [2, 4, 8])
def test_dualpipev_activation_memory(p: int) -> None:
    """DualPipe README: activation memory PP + 1 (in chunk activations, PP = stages).

    DualPipeV on p ranks has 2p stages; rank 0 holds at most 2p + 1 chunk activations, i.e.
    (2p + 1)/2 in units of the rank's whole share.
    """
    res = simulate_pipeline("dualpipev", p, 4 * p)
    assert res.per_rank[0].peak_activations * 2 == 2 * p + 1


@pytest.mark.parametrize("field", ["forward", "backward_input", "backward_weight", "p2p"])
def test_costs_over_the_limit_are_refused(field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        simulate_pipeline("1f1b", 4, 8, **{field: limit("pipeline_cost") * 10})
    assert err.value.field == field


def test_huge_costs_within_the_limit_stay_finite() -> None:
    big = float(limit("pipeline_cost"))
    result = simulate_pipeline("gpipe", 4, 8, forward=big, backward_input=big, backward_weight=big)
    assert result.makespan == (8 + 4 - 1) * 3 * big
