"""MoE routing: the invariants of top-k gating, capacity and the all-to-all volumes, checked
from the routes themselves (not from the counts the core derives from them), and the
all-to-all times against the collectives' closed forms."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.collective_cost import Link, Links, Placement
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.core.parallel.moe import (
    MoeQuery,
    capacity,
    compute_moe,
    dispatch_bytes_per_rank,
    expert_buffer_bytes,
    token_bytes,
)
from app.core.parallel.moe_dispatch import flat_exchange, hierarchical_exchange

LAYOUTS = st.fixed_dictionaries(
    {
        "ep": st.sampled_from([1, 2, 4, 8]),
        "per_rank_experts": st.sampled_from([1, 2, 4]),
        "top_k": st.integers(1, 4),
        "tokens_per_rank": st.sampled_from([1, 3, 16, 40]),
        "capacity_factor": st.sampled_from([0.5, 1.0, 1.25, 2.0]),
        "skew": st.sampled_from([0.0, 1.0, 3.0]),
        "popularity": st.sampled_from(["normal", "zipf"]),
        "seed": st.integers(0, 1000),
    }
)


def _query(d: dict[str, object], **over: object) -> MoeQuery:
    ep, per = int(d["ep"]), int(d["per_rank_experts"])  # type: ignore[call-overload]
    experts = ep * per
    kw: dict[str, object] = {
        "ep": ep,
        "experts": experts,
        "top_k": min(int(d["top_k"]), experts),  # type: ignore[call-overload]
        "tokens": ep * int(d["tokens_per_rank"]),  # type: ignore[call-overload]
        "capacity_factor": d["capacity_factor"],
        "skew": d["skew"],
        "popularity": d["popularity"],
        "seed": d["seed"],
        "hidden": 64,
        "routes": True,
        "gpus_per_node": 2,
    }
    kw.update(over)
    return MoeQuery(**kw)  # type: ignore[arg-type]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(LAYOUTS)
def test_every_token_goes_to_exactly_k_distinct_experts(d: dict[str, object]) -> None:
    q = _query(d)
    res = compute_moe(q)
    chosen: dict[int, list[int]] = defaultdict(list)
    for t, e in zip(res.routed.token.tolist(), res.routed.expert.tolist(), strict=True):
        chosen[t].append(e)
    k = res.layer.top_k
    assert sorted(chosen) == list(range(q.tokens))
    assert all(len(v) == k and len(set(v)) == k for v in chosen.values())


@settings(derandomize=True, max_examples=40, deadline=None)
@given(LAYOUTS)
def test_dropless_drops_nothing(d: dict[str, object]) -> None:
    res = compute_moe(_query(d, dropless=True))
    assert res.dropped == 0
    assert bool(res.routed.kept.all())
    assert int(res.dispatch_tokens.sum()) == res.query.tokens * res.layer.top_k


@settings(derandomize=True, max_examples=60, deadline=None)
@given(LAYOUTS)
def test_dropped_copies_are_the_overflow_over_capacity(d: dict[str, object]) -> None:
    q = _query(d)
    res = compute_moe(q)
    r, lay = res.routed, res.layer
    cap = math.ceil(q.capacity_factor * q.tokens * lay.top_k / lay.experts - 1e-9)
    assert res.capacity == cap
    for e in range(lay.experts):
        mine = r.expert == e
        load = int(mine.sum())
        assert int((~r.kept[mine]).sum()) == max(0, load - cap)
        # GShard Algorithm 1: a later choice is dropped before an earlier one
        kept_choices = r.choice[mine & r.kept]
        dropped_choices = r.choice[mine & ~r.kept]
        if kept_choices.size and dropped_choices.size:
            assert kept_choices.max() <= dropped_choices.min()


@settings(derandomize=True, max_examples=60, deadline=None)
@given(LAYOUTS)
def test_all_to_all_bytes_sum_to_the_routed_tokens(d: dict[str, object]) -> None:
    q = _query(d)
    res = compute_moe(q)
    lay = res.layer
    per_rank, per_expert = q.tokens // q.ep, lay.experts // q.ep
    expected = np.zeros((q.ep, q.ep), dtype=np.int64)
    for t, e, kept in zip(
        res.routed.token.tolist(), res.routed.expert.tolist(), res.routed.kept.tolist(), strict=True
    ):
        if kept:
            expected[t // per_rank, e // per_expert] += 1
    np.testing.assert_array_equal(res.dispatch_tokens, expected)
    kept = q.tokens * lay.top_k - res.dropped
    hidden_bytes = 64 * 2  # bf16
    payload = res.payload()
    assert int(np.sum(payload["dispatch_bytes"])) == kept * hidden_bytes
    assert int(np.sum(payload["combine_bytes"])) == kept * hidden_bytes
    flat = res.flat[0]
    assert flat.intra_node_bytes + flat.network_bytes == kept * hidden_bytes - int(
        np.trace(expected) * hidden_bytes
    )


def test_a_seeded_run_reproduces_and_another_seed_does_not() -> None:
    a = compute_moe(MoeQuery(seed=7, routes=True))
    b = compute_moe(MoeQuery(seed=7, routes=True))
    c = compute_moe(MoeQuery(seed=8, routes=True))
    np.testing.assert_array_equal(a.routed.expert, b.routed.expert)
    np.testing.assert_array_equal(a.routed.gate, b.routed.gate)
    assert a.payload()["dispatch_tokens"].tolist() == b.payload()["dispatch_tokens"].tolist()
    assert not np.array_equal(a.routed.expert, c.routed.expert)


def test_capacity_is_the_gshard_switch_rule() -> None:
    # Switch Transformer §2.2: capacity = (tokens per batch / experts) × capacity factor
    assert capacity(1024, 2, 16, 1.25) == 160
    assert capacity(1000, 1, 10, 1.1) == 110  # not 111: 1.1 × 100 is 110.00000000000001
    assert capacity(3, 1, 2, 1.0) == 2  # ceil(1.5)


def test_gumbel_top_k_draws_first_choices_with_zipf_odds() -> None:
    # With popularity=zipf the expert ranked i is picked first with probability
    # ∝ 1 / (1 + i)^skew (Gumbel-max). 65,536 tokens: counts within 5 standard deviations.
    q = MoeQuery(tokens=65536, experts=8, top_k=1, ep=1, popularity="zipf", skew=1.0, seed=3)
    res = compute_moe(q)
    counts = np.bincount(res.routed.expert, minlength=8)
    ordered = np.sort(counts)[::-1]
    p = 1 / np.arange(1, 9)
    p /= p.sum()
    sd = np.sqrt(q.tokens * p * (1 - p))
    assert np.all(np.abs(ordered - q.tokens * p) < 5 * sd)


def test_skew_zero_routes_uniformly() -> None:
    res = compute_moe(MoeQuery(tokens=32768, experts=16, top_k=2, ep=4, skew=0.0, dropless=True))
    load = res.routed.expert_load
    mean = 32768 * 2 / 16
    assert np.all(np.abs(load - mean) < 5 * np.sqrt(mean))


def test_node_limited_routing_keeps_each_token_on_at_most_m_nodes() -> None:
    q = MoeQuery(tokens=2048, experts=64, top_k=8, ep=16, gpus_per_node=4, max_nodes=2, skew=0.5)
    res = compute_moe(q)
    nodes: dict[int, set[int]] = defaultdict(set)
    for t, e in zip(res.routed.token.tolist(), res.routed.expert.tolist(), strict=True):
        nodes[t].add(e // 4 // 4)  # 4 experts per rank, 4 ranks per node
    assert max(len(v) for v in nodes.values()) <= 2
    unlimited = compute_moe(MoeQuery(**{**q.__dict__, "max_nodes": None}))
    assert unlimited.hierarchical[0].network_bytes > res.hierarchical[0].network_bytes


def test_node_limited_routing_needs_room_for_k_experts() -> None:
    with pytest.raises(InvalidInput) as e:
        compute_moe(MoeQuery(experts=16, top_k=8, ep=16, gpus_per_node=2, max_nodes=2))
    assert e.value.field == "max_nodes"


def test_expert_choice_fills_every_expert_and_tokens_get_any_number() -> None:
    q = MoeQuery(
        tokens=512, experts=8, top_k=2, ep=4, routing="expert_choice", capacity_factor=0.5, skew=2.0
    )
    res = compute_moe(q)
    cap = capacity(512, 2, 8, 0.5)
    assert np.bincount(res.routed.expert, minlength=8).tolist() == [cap] * 8
    per_token = np.bincount(res.routed.token, minlength=512)
    assert per_token.min() == 0 and per_token.max() > 2
    hist = res.payload()["experts_per_token"]
    assert int(np.sum(hist)) == 512
    assert res.dropped == 0
    assert res.payload()["imbalance"] == 1.0


def test_a_model_preset_gives_experts_top_k_and_hidden() -> None:
    # DeepSeek-V3 config.json: 256 routed experts, 8 per token, 1 shared, hidden 7168
    res = compute_moe(MoeQuery(model="DeepSeek-V3", tokens=1024, ep=8))
    lay = res.layer
    assert (lay.experts, lay.top_k, lay.shared_experts, lay.hidden) == (256, 8, 1, 7168)
    assert compute_moe(MoeQuery(model="mixtral-8x7b", top_k=1, ep=2)).layer.top_k == 1
    with pytest.raises(InvalidInput):
        compute_moe(MoeQuery(model="llama3-8b"))
    with pytest.raises(UnknownName):
        compute_moe(MoeQuery(model="mixtral-9x9b"))


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"ep": 3}, "ep"),
        ({"tokens": 1023}, "tokens"),
        ({"top_k": 17}, "top_k"),
        ({"tokens": 65536, "experts": 128}, "tokens"),
    ],
)
def test_bad_layouts_name_their_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        compute_moe(MoeQuery(**over))  # type: ignore[arg-type]
    assert e.value.field == field


def test_routes_beyond_the_limit_are_null_with_a_note() -> None:
    res = compute_moe(MoeQuery(tokens=65536, top_k=2, experts=32, routes=True))
    assert res.payload()["routes"] is None
    assert any("Routes are listed up to" in n for n in res.notes)


def _links(b_intra: float, b_net: float, a_intra: float = 0.0, a_net: float = 0.0) -> Links:
    return Links(
        Link("intra_node", b_intra, a_intra, "test"), Link("network", b_net, a_net, "test")
    )


def test_flat_time_is_the_busiest_rank_over_the_link() -> None:
    # ranks 0 and 1 on two nodes: rank 0 sends 2 copies and receives 3, rank 1 the reverse;
    # the busiest end moves 3 × 100 bytes over a 1 GB/s NIC after 1 µs
    matrix = np.array([[1, 2], [3, 0]])
    ex = flat_exchange(matrix, 100, Placement(2, 1), _links(1e12, 1e9, a_net=1e-6))
    assert ex.time == pytest.approx(1e-6 + 300 / 1e9)
    assert (ex.network_bytes, ex.intra_node_bytes) == (500, 0)


@pytest.mark.parametrize(("ranks", "local"), [(8, 8), (16, 8), (32, 8)])
def test_uniform_flat_exchange_is_the_direct_all_to_all(ranks: int, local: int) -> None:
    # every pair 1,000 copies of 256 bytes: the direct all-to-all of ranks × 256,000 bytes
    matrix = np.full((ranks, ranks), 1000)
    q = CollectiveQuery(op="all_to_all", algorithm="direct", ranks=ranks, bytes=ranks * 256_000)
    coll = compute_collective(q)
    ex = flat_exchange(matrix, 256, Placement(ranks, local), coll.resolved.links)
    assert ex.time == pytest.approx(coll.time, rel=1e-12)


def test_hierarchical_sends_a_token_once_per_node() -> None:
    # token 0 on rank 0 (node 0) goes to ranks 2 and 3 (both on node 1); token 1 on rank 1
    # goes to rank 2. Network: two tokens cross once each; NVLink fans out three copies.
    token, src, dst = np.array([0, 0, 1]), np.array([0, 0, 1]), np.array([2, 3, 2])
    place = Placement(4, 2)
    d, c = hierarchical_exchange(token, src, dst, place, _links(1e9, 1e9), (10, 10))
    assert d.network_bytes == 20
    # relay for node 1 on node 0 is local index 1 % 2 = rank 1: token 0 gathers there (10 B);
    # relay on node 1 is 0 % 2 → rank 2, which forwards token 0 to rank 3 (10 B)
    assert d.intra_node_bytes == 20
    assert [s.bytes for s in d.steps] == [10, 20, 10]
    assert c.network_bytes == d.network_bytes and c.intra_node_bytes == d.intra_node_bytes
    flat = flat_exchange(np.array([[0, 0, 1, 1], [0, 0, 1, 0], [0] * 4, [0] * 4]), 10, place,
                         _links(1e9, 1e9))  # fmt: skip
    assert flat.network_bytes == 30


def test_hierarchical_inside_one_node_is_the_flat_exchange() -> None:
    res = compute_moe(MoeQuery(ep=8, experts=16, tokens=1024, gpus_per_node=8))
    assert res.hierarchical[0].time == pytest.approx(res.flat[0].time)
    assert res.hierarchical[0].network_bytes == res.flat[0].network_bytes == 0


def test_memory_and_bill_helpers() -> None:
    # Mixtral: 4,096 tokens × 2 experts × 4096 × 2 bytes
    assert dispatch_bytes_per_rank(4096, 2, 4096, 2) == 67_108_864
    # DeepSeek-V3 shape, capacity factor 1 over 64 ranks of 4,096 tokens: 4 experts × 8,192 slots
    assert expert_buffer_bytes(4096, 8, 256, 64, 7168, 2, 1.0) == 4 * 8192 * 7168 * 2
    assert expert_buffer_bytes(4096, 8, 256, 64, 7168, 2) == 4096 * 8 * 7168 * 2
    assert token_bytes(4096, 8.25) == 4224  # mxfp8: 8 bits + an 8-bit scale per 32
