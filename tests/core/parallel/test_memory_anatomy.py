"""Layer anatomy, schedules, conventions, sliding windows and shipped dtypes of the memory model.

The hand counts below list, op by op, the tensors autograd saves for the backward pass of a
small layer (what `torch.autograd.graph.saved_tensors_hooks` would report for a plain
PyTorch layer with FlashAttention and a fused SwiGLU), independently of the code under test.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from urllib.parse import parse_qsl

import pytest

from app.core.parallel import memory_schedule
from app.core.parallel.memory import LayerShape, MemoryQuery, compute_memory, layer_anatomy
from app.core.parallel.memory_query import resolve
from app.core.parallel.memory_report import memory_report
from app.core.parallel.memory_schedule import plan_schedule, schedule_plan
from app.core.parallel.memory_terms import activation_per_layer
from app.core.parallel.pipeline import SCHEDULES, simulate_pipeline
from app.core.parallel.presets import MODELS, PARALLEL_PRESETS
from app.schemas.memory import MemoryQueryParams
from app.schemas.query import to_query

BF16, FP32, I64, I32 = 2, 4, 8, 4

# A small Llama-style layer: RMSNorm, GQA (4 query heads, 2 KV heads), RoPE, SwiGLU.
S, B, H, A, KV, D, F = 16, 2, 64, 4, 2, 16, 176
SHAPE = LayerShape(
    tokens=S,
    keys=S,
    micro_batch=B,
    tp=1,
    sequence_parallel=False,
    recompute="none",
    attention="flash",
    hidden=H,
    heads=A,
    kv_heads=KV,
    head_dim=D,
    ffn=F,
)


def _llama_hand_count(t: int = 1, sp: bool = False) -> int:
    """Saved tensors of one Llama layer forward, op by op, in bytes on one of t TP ranks."""
    seq = S * B // (t if sp else 1)  # tokens of the sequence-domain tensors on this rank
    a, kv, f = A // t, KV // t, F // t  # heads and ffn columns on this rank
    saved = [
        # RMSNorm(x): keeps x and its fp32 rstd
        ("attn norm input x", seq * H, BF16),
        ("attn norm rstd", seq, FP32),
        # q_proj, k_proj, v_proj(norm(x)): each keeps its input, one shared tensor
        ("QKV input", seq * H, BF16),
        # RoPE keeps nothing per token; flash_attn(q, k, v) keeps q, k, v, out and lse
        ("q", S * B * a * D, BF16),
        ("k", S * B * kv * D, BF16),
        ("v", S * B * kv * D, BF16),
        ("out (also o_proj's input)", S * B * a * D, BF16),
        ("softmax_lse [b, a, s]", B * a * S, FP32),
        # RMSNorm(h)
        ("mlp norm input", seq * H, BF16),
        ("mlp norm rstd", seq, FP32),
        # gate_proj, up_proj(norm(h)): one shared input
        ("gate/up input", seq * H, BF16),
        # fused silu(g) * u keeps g and u; down_proj keeps its input silu(g) * u
        ("g", S * B * f, BF16),
        ("u", S * B * f, BF16),
        ("silu(g) * u", S * B * f, BF16),
    ]
    return sum(n * size for _, n, size in saved)


def _total(shape: LayerShape, kind: str = "dense") -> int:
    a = layer_anatomy(shape, kind, "model")  # type: ignore[arg-type]
    assert sum(k.expr.value for k in a.kept) == a.total.value
    return round(a.total.value)


def test_llama_layer_equals_the_hand_count_of_saved_tensors() -> None:
    assert _total(SHAPE) == _llama_hand_count()


def test_llama_layer_with_tp_and_sequence_parallel() -> None:
    tp2 = replace(SHAPE, tp=2)
    assert _total(tp2) == _llama_hand_count(t=2)
    assert _total(replace(tp2, sequence_parallel=True)) == _llama_hand_count(t=2, sp=True)


def test_selective_and_full_recompute_keep_their_meaning() -> None:
    selective = _total(replace(SHAPE, recompute="selective"))
    dropped = 2 * (S * B * H * BF16) + S * B * F * BF16  # both norm outputs, the SwiGLU output
    assert selective == _llama_hand_count() - dropped
    assert _total(replace(SHAPE, recompute="full")) == S * B * H * BF16  # the layer input


def test_eager_attention_keeps_the_scores_flash_does_not() -> None:
    eager = _total(replace(SHAPE, attention="eager"))
    lse, probs = B * A * S * FP32, B * A * S * S * BF16
    assert eager - _total(SHAPE) == probs - lse


def test_moe_layer_equals_the_hand_count() -> None:
    """A small MoE layer (8 experts, top-2, one shared expert, expert ffn 32), dropless."""
    e, k, fe = 8, 2, 32
    moe = replace(SHAPE, experts=e, top_k=k, expert_ffn=fe, shared_experts=1)
    r = k * S * B  # token copies routed to this rank's experts (balanced routing)
    attention = _llama_hand_count() - (S * B * H * 2 * BF16 + S * B * FP32 + 3 * S * B * F * BF16)
    saved = [
        ("moe norm input", S * B * H, BF16),
        ("moe norm rstd", S * B, FP32),
        ("router / dispatch input (norm output)", S * B * H, BF16),
        ("softmax(router logits) in fp32", S * B * e, FP32),
        ("topk indices", S * B * k, I64),
        ("topk weights", S * B * k, FP32),
        ("permuted tokens (fc1 input)", r * H, BF16),
        ("row map of the permutation", r, I32),
        ("fc1 output: gate and up", r * 2 * fe, BF16),
        ("weighted swiglu output (fc2 input)", r * fe, BF16),
        ("shared expert gate and up", S * B * 2 * fe, BF16),
        ("shared expert swiglu output", S * B * fe, BF16),
    ]
    assert _total(moe, "moe") == attention + sum(n * size for _, n, size in saved)
    padded = replace(moe, capacity_factor=Fraction(5, 4))
    grown = _total(padded, "moe") - _total(moe, "moe")
    assert grown == Fraction(1, 4) * r * (H * BF16 + I32 + 3 * fe * BF16)


def test_mla_layer_per_token() -> None:
    """DeepSeek-V3's attention (MLA, 128 heads, no TP) per token, counted by hand."""
    m = MODELS["deepseek-v3"]
    shape = resolve(MemoryQuery(model="deepseek-v3", seq_len=1)).shape()
    a = layer_anatomy(shape, "moe", "model")
    attn = sum(k.expr.value for k in a.kept if k.part == "attention")
    h, heads = m.hidden, m.heads
    want = (
        h * BF16
        + FP32  # norm input, rstd
        + h * BF16  # q_a / kv_a input
        + 1536 * BF16
        + FP32
        + 1536 * BF16  # q latent + rstd, q_b input
        + 512 * BF16
        + FP32
        + 64 * BF16
        + 512 * BF16  # kv latent + rstd, rope key, kv_b input
        + heads * (192 + 192 + 128 + 128) * BF16  # Q, K, V, O
        + heads * FP32  # logsumexp
    )
    assert attn == want


@pytest.mark.parametrize(
    ("recompute", "sp", "t"),
    [
        ("none", False, 1),
        ("none", False, 8),
        ("none", True, 8),
        ("selective", False, 8),
        ("selective", True, 8),
        ("full", False, 8),
        ("full", True, 8),
    ],
)
def test_gpt_anatomy_with_eager_attention_is_table2(recompute: str, sp: bool, t: int) -> None:
    """Korthikanti §4.1's tensors add up to Table 2 (GPT-3 175B: s 2048, h 12288, a 96)."""
    shape = LayerShape(
        tokens=2048,
        keys=2048,
        micro_batch=1,
        tp=t,
        sequence_parallel=sp,
        recompute=recompute,  # type: ignore[arg-type]
        attention="eager",
        hidden=12288,
        heads=96,
        kv_heads=96,
        head_dim=128,
        ffn=4 * 12288,
    )
    a = layer_anatomy(shape, "dense", "gpt")
    table2 = activation_per_layer(2048, 1, 12288, 96, t, sp, recompute)  # type: ignore[arg-type]
    assert sum(k.expr.value for k in a.kept) == table2.value == a.total.value


def test_swiglu_with_ffn_16h_is_not_a_4h_gelu_layer() -> None:
    """The issue's example: ffn = 16h. Table 2's 4h GELU layer undercounts such a layer."""
    wide = replace(SHAPE, ffn=16 * H, heads=A, kv_heads=A)
    gpt = layer_anatomy(replace(wide, attention="eager", dropout=True), "dense", "gpt")
    model = layer_anatomy(replace(wide, attention="eager", dropout=True), "dense", "model")
    assert model.total.value > Fraction(3, 2) * gpt.total.value


# ---------------------------------------------------------------- schedules


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_in_flight_is_the_simulators_peak(schedule: str) -> None:
    p, m = 4, 8
    q = MemoryQuery(model="llama3-8b", pp=p, microbatches=m, schedule=schedule, seq_len=1024)
    r = compute_memory(q)
    sim = simulate_pipeline(schedule, p, m)
    assert [s.microbatches_in_flight for s in r.per_stage] == [
        x.peak_activations for x in sim.per_rank
    ]
    a = r.activations_per_layer
    for st in r.per_stage:
        act = next(t for t in st.terms if t.name == "activations")
        assert act.bytes == round(a * st.layers * Fraction(st.microbatches_in_flight or 0))
    assert r.schedule is not None
    assert r.schedule["bubble_fraction"] == sim.bubble_fraction


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_the_advices_short_simulation_equals_the_full_one(schedule: str) -> None:
    """Past the steady state a run of any length gives the same peaks, and the makespan grows
    by each microbatch's busy time: a short run, stretched or shrunk, equals the full one."""
    v = 2 if schedule in ("interleaved_1f1b", "zbv", "dualpipev") else 1
    for p in (4, 8):
        for m, ran in ((8 * p, None), (4 * p, 6 * p)):
            plan_schedule.cache_clear()
            memory_schedule._DONE.clear()
            if ran is not None:
                plan_schedule(schedule, p, ran, v)  # a longer run is at hand, as after a report
            short = schedule_plan(schedule, p, m, v, False)
            full = plan_schedule(schedule, p, m, v)
            assert short.peak == full.peak
            assert (short.first_in_flight, short.last_in_flight) == (
                full.first_in_flight,
                full.last_in_flight,
            )
            assert short.bubble_fraction == pytest.approx(full.bubble_fraction, abs=1e-12)
            assert short.makespan == pytest.approx(full.makespan, abs=1e-9)


def test_v_schedules_put_embedding_and_head_on_rank_0() -> None:
    r = compute_memory(MemoryQuery(model="llama3-8b", pp=4, schedule="zbv", seq_len=1024))
    assert r.per_stage[0].role == "ends"
    assert r.per_stage[0].has_embedding and r.per_stage[0].has_lm_head
    assert not any(s.has_lm_head for s in r.per_stage[1:])


def test_global_batch_derives_microbatches() -> None:
    q = MemoryQuery(
        model="llama3-8b", dp=4, pp=2, seq_len=4096, micro_batch=2, global_batch=4 * 2 * 4096 * 16
    )
    assert compute_memory(q).microbatches == 16


# ---------------------------------------------------------------- logits, KV, dtypes


def test_logits_options() -> None:
    q = MemoryQuery(model="llama3-8b", seq_len=1024, tp=2)
    out = {
        lg: next(
            t
            for t in compute_memory(replace(q, logits=lg)).terms  # type: ignore[arg-type]
            if t.name == "output_activations"
        ).bytes
        for lg in ("fp32", "bf16", "chunked")
    }
    v_half = 1024 * 128256 // 2  # logits per TP rank
    assert out["fp32"] - out["bf16"] == 2 * v_half
    assert out["bf16"] - out["chunked"] == 2 * v_half - 2 * 1024 * 4096


def test_gpt_oss_kv_cache_is_the_per_layer_sum() -> None:
    """36 layers alternate 128-token sliding windows and full attention (config.json)."""
    m = MODELS["gpt-oss-120b"]
    tokens = 131_072
    per_token_layer = 2 * 2 * m.head_dim * m.kv_heads  # K and V, bf16
    want = sum(
        per_token_layer * (min(128, tokens) if m.layer_kind(i) == "sliding" else tokens)
        for i in range(m.layers)
    )
    r = compute_memory(MemoryQuery(model="gpt-oss-120b", mode="inference", seq_len=tokens))
    assert r.kv_cache == want == 18 * tokens * 2048 + 18 * 128 * 2048


def test_shipped_checkpoints() -> None:
    """gpt-oss: experts MXFP4 (4.25 bits), the rest bf16; DeepSeek-V3: FP8 with an fp32 scale
    per 128×128 block on the attention and MLP weights, bf16 embeddings, norms and router."""
    pc = MODELS["gpt-oss-120b"].param_counts()
    experts = pc.routed_expert_params
    r = compute_memory(MemoryQuery(model="gpt-oss-120b", mode="inference", seq_len=1))
    assert r.parameters == round(Fraction(17, 32) * experts + 2 * (pc.total - experts))
    m = MODELS["deepseek-v3"]
    pc = m.param_counts()
    fp8 = (
        pc.dense_layers * (pc.attention_per_layer + pc.dense_mlp_per_layer)
        + pc.moe_layers * (pc.attention_per_layer + pc.shared_expert_per_layer)
        + pc.routed_expert_params
    )
    rest = pc.total - fp8
    r = compute_memory(MemoryQuery(model="deepseek-v3", mode="inference", seq_len=1))
    assert r.parameters == round(Fraction(8 + Fraction(32, 128 * 128), 8) * fp8 + 2 * rest)


def test_training_weights_default_to_bf16_and_classes_can_differ() -> None:
    q = MemoryQuery(model="gpt-oss-120b", seq_len=1)
    assert resolve(q).states.uniform is not None
    mixed = resolve(replace(q, dtype_mlp="mxfp4")).states.weights
    assert mixed["mlp"].name == "mxfp4" and mixed["attention"].name == "bfloat16"


# ---------------------------------------------------------------- conventions


def test_deepspeed_estimators() -> None:
    """estimate_zero2: 4Ψ + 16Ψ/N; estimate_zero3: 18Ψ/N + 4·Ψ_L, Ψ_L the largest module
    (Llama 3 8B: the 128,256 × 4,096 embedding)."""
    psi, n, big = MODELS["llama3-8b"].total_params, 8, 128256 * 4096
    q = MemoryQuery(model="llama3-8b", dp=n, convention="deepspeed", seq_len=1)
    for zero, want in (
        (2, 4 * psi + 16 * psi // n),
        (1, 4 * psi + 16 * psi // n),
        (3, 18 * psi // n + 4 * big),
    ):
        r = compute_memory(replace(q, zero=zero))
        assert abs(r.parameters + r.gradients + r.optimizer_states - want) <= 2


def test_megatron_distributed_optimizer_is_6_plus_12_over_d() -> None:
    psi, d = MODELS["llama3-8b"].total_params, 8
    r = compute_memory(
        MemoryQuery(model="llama3-8b", dp=d, zero=1, convention="megatron", seq_len=1)
    )
    assert r.parameters + r.gradients + r.optimizer_states == 6 * psi + 12 * psi // d


def test_fsdp_full_shard() -> None:
    """fp32 shards 4 + 4 + 8 bytes per parameter over N, plus two gathered bf16 units and one
    unit's bf16 gradients (Llama 3 8B: the largest unit is the LM head with the final norm)."""
    psi, n, unit = MODELS["llama3-8b"].total_params, 8, 128256 * 4096 + 4096
    r = compute_memory(MemoryQuery(model="llama3-8b", dp=n, zero=3, convention="fsdp", seq_len=1))
    want = Fraction(16 * psi, n) + 2 * 2 * unit + 2 * unit
    assert abs(r.parameters + r.gradients + r.optimizer_states - want) <= 3


def test_bf16_moments_shrink_adam_to_8_bytes() -> None:
    psi = MODELS["llama3-8b"].total_params
    r = compute_memory(MemoryQuery(model="llama3-8b", optimizer_dtype="bf16", seq_len=1))
    assert r.optimizer_states == 8 * psi


# ---------------------------------------------------------------- verdict and presets


def test_overhead_decides_fits_barely() -> None:
    q = MemoryQuery(params=5.2e9, gpu="h100-sxm")  # 16 bytes each: 83.2 GB of 85.9 GB
    assert compute_memory(q).verdict == "tight"
    assert compute_memory(replace(q, overhead=2.0)).verdict == "fits"
    assert compute_memory(replace(q, overhead=0)).verdict == "fits"


def _preset_query(name: str) -> MemoryQuery:
    p = PARALLEL_PRESETS[name]
    return to_query(MemoryQuery, MemoryQueryParams(**dict(parse_qsl(p.memory_query()))))


@pytest.mark.parametrize("name", sorted(PARALLEL_PRESETS))
def test_every_preset_layout_fits_its_gpu(name: str) -> None:
    p = PARALLEL_PRESETS[name]
    r = memory_report(_preset_query(name))
    assert r.verdict == "fits", (name, r.total / 1e9)
    assert r.world_size == p.world_size and r.gpu == p.gpu
    assert r.layout is not None and r.layout["name"] == name
    assert r.layout["provenance"] == p.provenance and r.layout["source"] == p.source


def test_published_layouts_are_the_ones_the_issue_names() -> None:
    published = {n for n, p in PARALLEL_PRESETS.items() if p.provenance == "published"}
    assert {"llama3-405b-8k", "llama3-405b-16k", "llama3-405b-128k", "deepseek-v3"} <= published
    ds = resolve(_preset_query("deepseek-v3"))
    assert (ds.query.pp, ds.query.ep, ds.query.tp, ds.query.zero) == (16, 64, 1, 1)
    models = {p.model for p in PARALLEL_PRESETS.values()}
    assert models == set(MODELS)  # one layout for every model preset
    assert all(p.source for p in PARALLEL_PRESETS.values())
    assert PARALLEL_PRESETS["mixtral-8x7b-64"].provenance == "illustrative"
