"""The roofline, op by op: FLOPs and bytes counted by hand for a small model, decode at batch 1
as the weights and the cache over the bandwidth, and the critical batch of the JAX scaling
book (peak / bandwidth for bf16 weights, half of it for 8-bit weights with bf16 compute)."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.inference.roofline import InferenceQuery, compute_inference
from app.core.parallel.presets import GPUS, get_model

# A small custom model, counted by hand below: 2 layers, h = 64, 4 heads of d = 16, 2 KV
# heads, ffn 128, vocabulary 100, bf16 everywhere (a = w_b = k_b = 2 bytes).
SMALL = dict(layers=2, hidden=64, heads=4, kv_heads=2, ffn=128, vocab=100)
H, D, Q, KV, F, V, A = 64, 16, 64, 32, 128, 100, 2  # q = heads·d, kv = kv_heads·d


def _by_name(phase: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {o["name"]: o for o in phase["ops"]}


def _hand_prefill(b: int, n: int) -> dict[str, tuple[float, float]]:
    """(FLOPs, bytes) of every op, over both layers, of a prefill of b prompts of n tokens."""
    t = b * n  # tokens
    pairs = b * n * (n + 1) / 2  # causal: query i meets keys 0..i
    layers = 2
    norm = (5 * H * t, 2 * H + 4 * H * A * t)  # fused add + RMSNorm; weights h·2
    qkv_w = H * (Q + 2 * KV)
    return {
        "attn_norm": (layers * norm[0], layers * norm[1]),
        "qkv_proj": (layers * 2 * qkv_w * t,
                     layers * (qkv_w * 2 + t * (H + Q) * A + t * 2 * KV * 2)),
        "attention_scores": (layers * 2 * Q * pairs, layers * (t * Q * A + t * KV * 2)),
        "attention_values": (layers * 2 * Q * pairs, layers * (t * KV * 2 + t * Q * A)),
        "o_proj": (layers * 2 * Q * H * t, layers * (Q * H * 2 + t * (Q + H) * A)),
        "mlp_norm": (layers * norm[0], layers * norm[1]),
        "mlp_gate_up": (layers * 2 * (2 * H * F) * t,
                        layers * (2 * H * F * 2 + t * (H + 2 * F) * A)),
        "mlp_act": (layers * 4 * F * t, layers * 3 * F * A * t),
        "mlp_down": (layers * 2 * F * H * t, layers * (F * H * 2 + t * (F + H) * A)),
        "final_norm": norm,
        "lm_head": (2 * V * H * b, V * H * 2 + b * (H + V) * A),  # last token of each prompt
    }  # fmt: skip


def test_prefill_flops_and_bytes_by_hand() -> None:
    r = compute_inference(InferenceQuery(**SMALL, batch=2, context=8))
    ops = _by_name(r["phases"]["prefill"])
    hand = _hand_prefill(2, 8)
    assert sorted(ops) == sorted(hand)
    for name, (flops, nbytes) in hand.items():
        assert ops[name]["flops"] == pytest.approx(flops, rel=1e-12), name
        assert ops[name]["bytes"] == pytest.approx(nbytes, rel=1e-12), name
        assert ops[name]["intensity"] == pytest.approx(flops / nbytes, rel=1e-12), name


def test_decode_attention_by_hand() -> None:
    # one decode step of 2 sequences with 8 cached tokens: each new token meets 9 keys
    r = compute_inference(InferenceQuery(**SMALL, batch=2, context=8))
    ops = _by_name(r["phases"]["decode"])
    pairs = 2 * 9
    assert ops["attention_scores"]["flops"] == 2 * (2 * Q * pairs)
    assert ops["attention_scores"]["kv_bytes"] == 2 * pairs * KV * 2
    assert ops["attention_scores"]["activation_bytes"] == 2 * 2 * Q * A
    assert ops["qkv_proj"]["kv_bytes"] == 2 * 2 * 2 * KV * 2  # the new K and V written
    assert ops["lm_head"]["flops"] == 2 * V * H * 2


def test_every_op_time_is_the_slower_of_compute_and_memory() -> None:
    r = compute_inference(InferenceQuery(model="llama3-8b", batch=64, context=2048))
    g = GPUS["h100-sxm"]
    for phase in r["phases"].values():
        for o in phase["ops"]:
            c, m = o["flops"] / (g.bf16_tflops * 1e12), o["bytes"] / g.hbm_bandwidth
            assert o["time"] == pytest.approx(max(c, m), rel=1e-12)
            assert o["bound"] == ("compute" if c >= m else "memory")


def test_decode_at_batch_one_is_weights_and_cache_over_bandwidth() -> None:
    m = get_model("llama3-8b")
    c = 4096
    r = compute_inference(InferenceQuery(model="llama3-8b", batch=1, context=c))
    dec = r["phases"]["decode"]
    # every weight but the embedding table (a lookup of one row) is read once
    weights = (m.total_params - m.vocab * m.hidden) * 2
    kv_token = m.layers * 2 * m.kv_heads * m.head_dim * 2
    cache = kv_token * (c + 1) + kv_token  # K, V of c + 1 keys read; the new K, V written
    assert dec["weight_bytes"] == weights
    assert dec["kv_bytes"] == cache
    assert all(o["bound"] == "memory" for o in dec["ops"])
    bandwidth = GPUS["h100-sxm"].hbm_bandwidth
    assert dec["time"] == pytest.approx(dec["bytes"] / bandwidth, rel=1e-12)
    # activations are the only other bytes: under 0.1% at batch 1
    assert dec["time"] == pytest.approx((weights + cache) / bandwidth, rel=1e-3)
    assert r["requests"]["tpot"] == dec["time"]


def test_moe_decode_at_batch_one_reads_the_active_experts() -> None:
    m = get_model("mixtral-8x7b")
    dec = compute_inference(InferenceQuery(model="mixtral-8x7b", context=1))["phases"]["decode"]
    pc = m.param_counts()
    # one token reaches k of E experts: 1 − (1 − k/E) of each layer's expert weights
    read = (pc.active - pc.embedding) * 2
    assert dec["weight_bytes"] == pytest.approx(read, rel=1e-12)


def test_critical_batch_is_the_ridge_for_bf16_and_half_for_8_bit_weights() -> None:
    g = GPUS["h100-sxm"]
    ridge = g.bf16_tflops * 1e12 / g.hbm_bandwidth  # 295.2 on an H100
    bf16 = compute_inference(InferenceQuery())["critical_batch"]
    fp8_weights = compute_inference(InferenceQuery(dtype="fp8"))["critical_batch"]
    fp8_both = compute_inference(InferenceQuery(dtype="fp8", compute_dtype="fp8"))
    assert bf16 == pytest.approx(ridge, rel=1e-12)
    assert fp8_weights == pytest.approx(ridge / 2, rel=1e-12)
    # 8-bit weights and 8-bit compute: the peak doubles with the bytes halved
    assert fp8_both["critical_batch"] == pytest.approx(g.fp8_tflops * 1e12 / g.hbm_bandwidth / 2)


def test_the_big_matmuls_turn_compute_bound_past_the_critical_batch() -> None:
    cb = compute_inference(InferenceQuery())["critical_batch"]
    below = _by_name(compute_inference(InferenceQuery(batch=int(0.9 * cb)))["phases"]["decode"])
    above = _by_name(compute_inference(InferenceQuery(batch=int(1.5 * cb)))["phases"]["decode"])
    for name in ("qkv_proj", "o_proj", "mlp_gate_up", "mlp_down"):
        assert below[name]["bound"] == "memory"
        assert above[name]["bound"] == "compute"
    # decode attention reads the cache for every sequence: memory bound at any batch
    assert above["attention_scores"]["bound"] == "memory"


def test_prefill_is_compute_bound_and_decode_memory_bound() -> None:
    r = compute_inference(InferenceQuery(model="llama3-70b", tp=8, context=4096))
    pre, dec = r["phases"]["prefill"]["time_by_bound"], r["phases"]["decode"]["time_by_bound"]
    assert pre["compute"] > 3 * pre["memory"]  # the rest: norms and SiLU, bandwidth bound
    assert dec["memory"] > 5 * dec["compute"]
    # every matmul meets all the prompt's tokens, except the LM head (the last token only)
    matmuls = [o for o in r["phases"]["prefill"]["ops"] if o["kind"] in ("matmul", "attention")]
    assert {o["name"] for o in matmuls if o["bound"] == "memory"} == {"lm_head"}


def test_tensor_parallel_splits_the_matmuls_and_adds_two_all_reduces_per_layer() -> None:
    one = _by_name(compute_inference(InferenceQuery(model="llama3-70b"))["phases"]["decode"])
    r8 = compute_inference(InferenceQuery(model="llama3-70b", tp=8))
    eight = _by_name(r8["phases"]["decode"])
    assert eight["mlp_gate_up"]["weight_bytes"] == one["mlp_gate_up"]["weight_bytes"] / 8
    assert eight["attn_norm"]["bytes"] == one["attn_norm"]["bytes"]  # norms repeat on each rank
    ar = eight["tp_all_reduce"]
    assert ar["calls"] == 2 * 80 and ar["group_size"] == 8
    assert ar["buffer_bytes"] == 8192 * 2  # one token's hidden state in bf16
    assert r8["world_size"] == r8["replica_gpus"] == 8


def test_mla_caches_one_latent_for_all_heads() -> None:
    m = get_model("deepseek-v3")
    assert m.mla is not None
    r = compute_inference(InferenceQuery(model="deepseek-v3", tp=8, context=1000))
    dec = r["phases"]["decode"]
    latent = (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * 2  # bf16, every TP rank
    assert dec["kv_bytes"] == m.layers * latent * (1000 + 1) + m.layers * latent


def test_pipeline_latency_adds_stages_and_throughput_takes_the_slowest() -> None:
    r = compute_inference(InferenceQuery(model="llama3-70b", tp=4, pp=4, batch=8))
    dec = r["phases"]["decode"]
    assert len(dec["stage_times"]) == 4
    assert dec["time"] == pytest.approx(sum(dec["stage_times"]))
    per_gpu = 8 / max(dec["stage_times"]) / 16
    assert r["requests"]["tokens_per_second_per_gpu"] == pytest.approx(per_gpu)


def test_the_curve_meets_the_slo_with_its_largest_fitting_batch() -> None:
    curve = compute_inference(InferenceQuery(model="llama3-70b", tp=8, slo=0.03))["curve"]
    ok = [p for p in curve["points"] if p["fits"] and p["tpot"] <= 0.03]
    assert curve["slo_batch"] == max(p["batch"] for p in ok)
    tpots = [p["tpot"] for p in curve["points"]]
    assert tpots == sorted(tpots)  # a bigger batch never decodes faster


def test_tp_sweep_lists_every_degree_the_heads_allow() -> None:
    sweep = compute_inference(InferenceQuery(model="llama3-8b"))["tp_sweep"]
    assert [p["tp"] for p in sweep] == [1, 2, 4, 8, 16, 32]  # 32 heads, 8 KV heads repeated
    assert sweep[1]["weights_per_gpu"] < sweep[0]["weights_per_gpu"]


def test_a_layout_that_does_not_divide_names_the_field() -> None:
    with pytest.raises(InvalidInput) as e:
        compute_inference(InferenceQuery(model="llama3-8b", tp=3))
    assert e.value.field == "tp"
    with pytest.raises(InvalidInput) as e:
        compute_inference(InferenceQuery(model="llama3-8b", ep=2, dp=2))
    assert e.value.field == "ep"


def test_sliding_window_layers_read_at_most_the_window() -> None:
    full = compute_inference(InferenceQuery(**SMALL, context=1000))["phases"]["decode"]
    slid = compute_inference(
        InferenceQuery(**SMALL, context=1000, sliding_window=100, full_every=2)
    )["phases"]["decode"]
    ops = _by_name(slid)
    # layer 0 slides (100 keys), layer 1 is full (1001 keys)
    assert ops["attention_scores_sliding"]["kv_bytes"] == 100 * KV * 2
    assert ops["attention_scores"]["kv_bytes"] == 1001 * KV * 2
    assert slid["kv_bytes"] < full["kv_bytes"]
