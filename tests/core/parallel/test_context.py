"""Ring attention's tiling checked from the contract (each rank owns its blocks; at step j it
holds the K/V of rank (r − j) mod cp), the balance of zig-zag placement, and the ring and
Ulysses volumes against the papers' formulas worked by hand."""

from __future__ import annotations

from collections import Counter

import pytest

from app.core.errors import InvalidInput
from app.core.parallel.context import (
    ContextQuery,
    compute_context,
    kv_in_flight_bytes,
    tiling,
)

CASES = [(cp, causal, p) for cp in (1, 2, 3, 4, 8, 16) for causal in (True, False)
         for p in ("contiguous", "zigzag")]  # fmt: skip


def _owned(cp: int, placement: str) -> list[set[int]]:
    if placement == "contiguous":
        return [{r} for r in range(cp)]
    return [{r, 2 * cp - 1 - r} for r in range(cp)]


@pytest.mark.parametrize(("cp", "causal", "placement"), CASES)
def test_every_needed_tile_is_computed_once_and_no_masked_one(
    cp: int, causal: bool, placement: str
) -> None:
    blocks = cp if placement == "contiguous" else 2 * cp
    t = tiling(blocks * 6, cp, causal, placement)  # type: ignore[arg-type]
    seen = Counter(zip(t.q_block.tolist(), t.k_block.tolist(), strict=True))
    needed = {(q, k) for q in range(blocks) for k in range(blocks) if k <= q or not causal}
    assert set(seen) == needed
    assert max(seen.values()) == 1


@pytest.mark.parametrize(("cp", "causal", "placement"), CASES)
def test_a_rank_computes_its_queries_against_the_kv_it_holds(
    cp: int, causal: bool, placement: str
) -> None:
    blocks = cp if placement == "contiguous" else 2 * cp
    t = tiling(blocks * 4, cp, causal, placement)  # type: ignore[arg-type]
    owned = _owned(cp, placement)
    for r, j, q, k in zip(t.rank.tolist(), t.step.tolist(), t.q_block.tolist(),
                          t.k_block.tolist(), strict=True):  # fmt: skip
        assert q in owned[r]
        assert k in owned[(r - j) % cp]  # received from rank r − 1 at every step


@pytest.mark.parametrize("cp", [2, 3, 4, 8, 16, 32])
def test_zigzag_balances_causal_work_within_one_tile(cp: int) -> None:
    s = 2 * cp * 128
    t = tiling(s, cp, True, "zigzag")
    per_rank = t.work.sum(axis=0)
    assert per_rank.max() - per_rank.min() <= 128 * 128
    # every step after the first has two full tiles on every rank
    assert (t.work[1:] == 2 * 128 * 128).all()


@pytest.mark.parametrize("cp", [2, 4, 8])
def test_contiguous_causal_placement_leaves_early_ranks_idle(cp: int) -> None:
    b = 64
    t = tiling(cp * b, cp, True, "contiguous")
    tri = b * (b + 1) // 2
    # rank r: its diagonal triangle, then r full tiles (keys of ranks 0 .. r − 1)
    assert t.work.sum(axis=0).tolist() == [tri + r * b * b for r in range(cp)]
    assert t.makespan == tri + (cp - 1) * b * b
    assert t.idle.tolist() == [(cp - 1 - r) * b * b for r in range(cp)]
    zig = tiling(cp * b, cp, True, "zigzag")
    assert zig.makespan < t.makespan
    assert zig.idle.sum() == 0


@pytest.mark.parametrize("causal", [True, False])
def test_total_work_is_the_attention_matrix(causal: bool) -> None:
    res = compute_context(ContextQuery(seq_len=4096, cp=8, causal=causal))
    s = 4096
    body = res.payload()
    assert body["total_pairs"] == (s * (s + 1) // 2 if causal else s * s)
    assert body["total_pairs"] + body["skipped_pairs"] == s * s
    assert len(body["tiles"]) == (16 * 17 // 2 if causal else 256)


def test_ring_and_ulysses_volumes_for_llama3_70b() -> None:
    # Llama 3 70B (config.json: 64 heads, 8 KV heads, head_dim 128), s = 131,072 on cp = 16:
    # each rank holds 8,192 tokens.
    res = compute_context(ContextQuery(model="llama3-70b", seq_len=131072, cp=16))
    v = res.payload()["volumes"]
    block = 8192 * (2 * 8 * 128) * 2  # K and V of 8 heads of 128, bf16
    assert v["block_bytes"] == block == 33_554_432
    assert v["ring"]["forward_bytes"] == 15 * block
    assert v["ring"]["backward_bytes"] == 30 * block
    qkv = 8192 * (64 * 128 + 2 * 8 * 128) * 2
    out = 8192 * (64 * 128) * 2
    assert v["ulysses"]["qkv_bytes"] == qkv
    assert v["ulysses"]["output_bytes"] == out
    assert v["ulysses"]["forward_bytes"] == (qkv + out) * 15 // 16
    assert v["ulysses"]["feasible"]
    assert v["kv_in_flight_bytes"] == kv_in_flight_bytes(8192, 2048, 2) == 2 * block


def test_ulysses_volume_falls_with_cp_and_the_ring_does_not() -> None:
    ring, uly = [], []
    for cp in (2, 4, 8):
        v = compute_context(ContextQuery(seq_len=8192, cp=cp)).payload()["volumes"]
        ring.append(v["ring"]["forward_bytes"])
        uly.append(v["ulysses"]["forward_bytes"])
    # ring: (cp − 1)/cp of a whole sequence's K/V; Ulysses: (cp − 1)/cp² of Q, K, V and O
    assert ring == [8192 * 2048 * 2 * (cp - 1) // cp for cp in (2, 4, 8)]
    assert uly[0] > uly[1] > uly[2]


def test_ulysses_needs_heads_divisible_by_cp() -> None:
    v = compute_context(ContextQuery(heads=8, kv_heads=8, cp=16, seq_len=4096)).payload()
    assert not v["volumes"]["ulysses"]["feasible"]
    assert "multiple of cp" in v["volumes"]["ulysses"]["reason"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ContextQuery(seq_len=1000, cp=8, placement="zigzag"), "seq_len"),
        (ContextQuery(heads=32, kv_heads=5), "kv_heads"),
    ],
)
def test_bad_shapes_name_their_field(query: ContextQuery, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        compute_context(query)
    assert e.value.field == field


def test_both_placements_are_compared_when_both_divide() -> None:
    body = compute_context(ContextQuery(seq_len=8192, cp=4, placement="contiguous")).payload()
    by = {b["placement"]: b for b in body["balance"]}
    assert by["zigzag"]["idle_fraction"] == 0
    # contiguous, causal, cp = 4: busy 0.5, 1.5, 2.5, 3.5 tiles of a 3.5-tile makespan
    assert by["contiguous"]["idle_fraction"] == pytest.approx(1 - 8 / 14, abs=1e-3)
    assert body["idle_fraction"] == by["contiguous"]["idle_fraction"]
