"""Per-GPU memory: ZeRO paper, Korthikanti Table 2, 1F1B / interleaving, KV cache, EP, CP."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.memory import (
    MemoryQuery,
    activation_bytes_per_layer,
    compute_memory,
    layers_per_stage,
    resolve_dtype,
)
from app.core.parallel.presets import MODELS


@pytest.mark.parametrize(
    ("zero", "gb"),
    # ZeRO paper (arXiv 1910.02054) §5 / Figure 1: Ψ = 7.5B, N_d = 64, K = 12.
    [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)],
)
def test_zero_paper_worked_example(zero: int, gb: float) -> None:
    r = compute_memory(MemoryQuery(params=7.5e9, dp=64, zero=zero))
    assert round(r.total / 1e9, 1) == gb
    assert r.activations == 0 and r.kv_cache == 0


def test_zero_exact_bytes() -> None:
    psi, n = 7_500_000_000, 64
    exact = {
        0: 16 * psi,
        1: 2 * psi + 2 * psi + 12 * psi // n,
        2: 2 * psi + (2 + 12) * psi // n,
        3: (2 + 2 + 12) * psi // n,
    }
    for z, want in exact.items():
        r = compute_memory(MemoryQuery(params=psi, dp=n, zero=z))
        assert r.parameters + r.gradients + r.optimizer_states == want


# GPT-3 175B layer (Korthikanti et al. 2022 §4): s = 2048, h = 12288, a = 96, t = 8, b = 1.
# sbh = 25,165,824 and 5as/h = 80. Each row of Table 2 worked by hand:
GPT3 = {"s": 2048, "b": 1, "h": 12288, "a": 96, "t": 8}
TABLE2 = [
    ("none", False, 1, 25_165_824 * (34 + 80)),  # no parallelism: sbh(34 + 5as/h)
    ("none", False, 8, 25_165_824 * (10 + 3 + 10)),  # TP: sbh(10 + 24/t + 5as/(ht))
    ("none", True, 8, 25_165_824 // 8 * (34 + 80)),  # TP + SP: (sbh/t)(34 + 5as/h)
    ("selective", False, 8, 25_165_824 * (10 + 3)),  # TP + selective: sbh(10 + 24/t)
    ("selective", True, 8, 34 * 25_165_824 // 8),  # TP + SP + selective: 34sbh/t
    ("full", False, 8, 2 * 25_165_824),  # full recompute: 2sbh
    ("full", True, 8, 2 * 25_165_824 // 8),  # full recompute with SP: 2sbh/t
]


def _gpt3_layer(recompute: str, sp: bool, t: int) -> tuple[Fraction, str]:
    s, b, h, a = GPT3["s"], GPT3["b"], GPT3["h"], GPT3["a"]
    return activation_bytes_per_layer(s, b, h, a, t, sp, recompute)  # type: ignore[arg-type]


@pytest.mark.parametrize(("recompute", "sp", "t", "expected"), TABLE2)
def test_korthikanti_table2_gpt3(recompute: str, sp: bool, t: int, expected: int) -> None:
    got, formula = _gpt3_layer(recompute, sp, t)
    assert got == expected
    assert "25,165,824" in formula


def _table2(recompute: str, sp: bool, t: int) -> Fraction:
    return _gpt3_layer(recompute, sp, t)[0]


def test_table2_reproduces_the_papers_gpt3_figures() -> None:
    """Korthikanti et al. 2022 on GPT-3 175B (a = 96, s = 2048, h = 12288): the attention term
    5as/h is 80, so selective recomputation saves 80 of 114 sbh, about 70 % of the activation
    memory (§4.2); with sequence parallelism on top, tensor parallelism's activations shrink
    about 5× (the abstract's "reduces activation memory by 5x")."""
    sbh = GPT3["s"] * GPT3["b"] * GPT3["h"]
    attention = _table2("none", False, 1) - _table2("selective", False, 1)
    assert attention == 80 * sbh  # 5as/h = 5 · 96 · 2048 / 12288
    saving = 1 - _table2("selective", True, 8) / _table2("none", True, 8)
    assert round(float(saving), 2) == 0.70
    ratio = _table2("none", False, 8) / _table2("selective", True, 8)
    assert 5 <= ratio < 6
    assert round(_table2("none", False, 1) / 1e9, 2) == 2.87  # GB per layer, no parallelism


def _gpt3(**kw: object) -> MemoryQuery:
    """Korthikanti's GPT-3 175B: their layer (anatomy gpt) with eager attention, as in Table 2."""
    base = MemoryQuery(
        layers=96,
        hidden=12288,
        heads=96,
        vocab=51200,
        seq_len=2048,
        tp=8,
        anatomy="gpt",
        attention="eager",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_activations_per_layer_reported() -> None:
    r = compute_memory(_gpt3(sequence_parallel=True, recompute="selective"))
    assert r.activations_per_layer == 106_954_752


def test_1f1b_first_stage_holds_p_microbatches() -> None:
    p, L = 4, 96
    r = compute_memory(_gpt3(pp=p, sequence_parallel=True, recompute="selective"))
    per_layer = 106_954_752
    for st in r.per_stage:
        layer_term = next(t for t in st.terms if t.name == "activations")
        assert layer_term.bytes == per_layer * (L // p) * (p - st.stage)
    assert r.worst_stage == 0
    # Stage 0 also stores the embedding inputs (8sb) and dropout mask (sbh/t) for p microbatches.
    emb = next(t for t in r.per_stage[0].terms if t.name == "embedding_activations")
    assert emb.bytes == (8 * 2048 + 2048 * 12288 // 8) * p
    out = next(t for t in r.per_stage[-1].terms if t.name == "output_activations")
    assert out.bytes == 4 * 2048 * (12288 // 8 + 51200 // 8)


def test_fewer_microbatches_than_stages() -> None:
    r = compute_memory(_gpt3(pp=4, microbatches=2, recompute="full"))
    act = next(t for t in r.per_stage[0].terms if t.name == "activations")
    assert act.bytes == 2 * 25_165_824 * 24 * 2


def test_interleaving_factor() -> None:
    # Megatron-LM theoretical_memory_usage.py: the first stage holds p·(1 + (p − 1)/(p·v))
    # microbatches of its layers under the interleaved schedule; the simulator agrees.
    p, v, L = 4, 2, 96
    q = _gpt3(pp=p, chunks=v, recompute="full", sequence_parallel=True, schedule="interleaved_1f1b")
    r = compute_memory(q)
    act = next(t for t in r.per_stage[0].terms if t.name == "activations")
    per_layer = 2 * 25_165_824 // 8
    assert r.per_stage[0].microbatches_in_flight == p * (1 + Fraction(p - 1, p * v))
    assert act.bytes == per_layer * (L // p) * p * (1 + Fraction(p - 1, p * v))


def test_cp_divides_the_sequence() -> None:
    a = compute_memory(_gpt3(cp=2, dp=1, attention="flash"))
    b = compute_memory(_gpt3(seq_len=1024, attention="flash"))
    assert a.activations_per_layer == b.activations_per_layer
    # eager attention under CP: each rank's 1,024 queries still meet all 2,048 keys
    e = compute_memory(_gpt3(cp=2, dp=1))
    f = compute_memory(_gpt3(seq_len=1024))
    assert e.activations_per_layer - f.activations_per_layer == 5 * 96 * 1024 * 1024 // 8


def test_layers_per_stage_like_llama3() -> None:
    assert layers_per_stage(126, 16) == [7] + [8] * 14 + [7]
    assert layers_per_stage(32, 4) == [8, 8, 8, 8]
    assert sum(layers_per_stage(61, 16)) == 61


def test_embedding_first_stage_head_last() -> None:
    r = compute_memory(MemoryQuery(model="llama3-8b", pp=4, mode="inference", seq_len=1))
    s = r.per_stage
    assert s[0].has_embedding and not s[0].has_lm_head
    assert s[3].has_lm_head and not s[3].has_embedding
    v_h = 128256 * 4096
    assert s[0].params_per_gpu - s[1].params_per_gpu == v_h
    assert s[3].params_per_gpu - s[1].params_per_gpu == v_h + 4096  # + final norm
    assert sum(x.params_per_gpu for x in s) == MODELS["llama3-8b"].total_params


def test_llama3_70b_kv_cache() -> None:
    q = MemoryQuery(model="llama3-70b", mode="inference", seq_len=1, batch=1)
    assert compute_memory(q).kv_cache == 327_680
    assert compute_memory(replace(q, tp=8)).kv_cache == 327_680 // 8
    assert compute_memory(replace(q, seq_len=8192, batch=4)).kv_cache == 327_680 * 8192 * 4
    assert compute_memory(replace(q, pp=4)).kv_cache == 327_680 // 4
    assert compute_memory(replace(q, kv_dtype="fp8")).kv_cache == 327_680 // 2


def test_kv_cache_mqa_and_tp_beyond_kv_heads() -> None:
    q = MemoryQuery(layers=10, hidden=1024, heads=8, kv_heads=1, mode="inference", seq_len=1)
    assert compute_memory(q).kv_cache == 2 * 2 * 128 * 1 * 10
    # tp 8 > 1 kv head: every rank keeps the one head (replicated).
    assert compute_memory(replace(q, tp=8)).kv_cache == 2 * 2 * 128 * 1 * 10


def test_mla_kv_cache() -> None:
    r = compute_memory(MemoryQuery(model="deepseek-v3", mode="inference", seq_len=1, tp=8))
    assert r.kv_cache == 2 * (512 + 64) * 61


def test_inference_weight_dtypes() -> None:
    assert resolve_dtype("mxfp4").bits == 4.25
    assert resolve_dtype("nvfp4").bits == 4.5
    assert resolve_dtype("fp4").name == "float4_e2m1fn"  # docs/dtypes.md: fp4 is the element
    assert resolve_dtype("bf16").name == "bfloat16"
    assert resolve_dtype("fp8").name == "float8_e4m3fn"
    for dtype, want in (
        ("bf16", 2e9),
        ("fp8", 1e9),
        ("mxfp4", 531_250_000),
        ("nvfp4", 562_500_000),
    ):
        r = compute_memory(MemoryQuery(params=1e9, mode="inference", dtype=dtype))
        assert r.parameters == want


def test_expert_parallel_divides_experts() -> None:
    m = MODELS["mixtral-8x7b"]
    pc = m.param_counts()
    a = compute_memory(MemoryQuery(model="mixtral-8x7b", mode="inference", seq_len=1))
    b = compute_memory(MemoryQuery(model="mixtral-8x7b", mode="inference", seq_len=1, dp=8, ep=8))
    assert a.per_stage[0].params_per_gpu == pc.total
    assert a.per_stage[0].params_per_gpu - b.per_stage[0].params_per_gpu == (
        pc.routed_expert_params * 7 // 8
    )


def test_zero_with_experts_uses_expert_data_parallel() -> None:
    q = MemoryQuery(model="mixtral-8x7b", dp=8, ep=4, zero=1, seq_len=1)
    r = compute_memory(q)
    pc = MODELS["mixtral-8x7b"].param_counts()
    psi_e = 32 * 2 * pc.expert_params_per_expert  # 8 experts / ep 4 per layer
    psi = r.per_stage[0].params_per_gpu
    assert r.optimizer_states == round(12 * (Fraction(psi - psi_e, 8) + Fraction(psi_e, 2)))


def test_terms_sum_to_stage_totals_and_cite_sources() -> None:
    r = compute_memory(
        MemoryQuery(model="llama3-405b", dp=64, tp=8, pp=16, zero=1, seq_len=8192, chunks=2)
    )
    for st in r.per_stage:
        assert sum(t.bytes for t in st.terms) == st.total
        for t in st.terms:
            assert t.source and any(ch.isdigit() for ch in t.formula)
    assert r.total == max(s.total for s in r.per_stage)


def test_advice_when_it_does_not_fit() -> None:
    """Llama 3 70B, dp 8 × tp 8, 8K tokens, ZeRO-0: over. The advice comes in the order a
    practitioner tries it (SP with TP first, full recompute last), keeps the 64 GPUs (a new
    parallel degree halves dp), and ZeRO-3 saves (2 + 2 + 12)Ψ·(1 − 1/8)."""
    q = MemoryQuery(model="llama3-70b", dp=8, tp=8, seq_len=8192)
    r = compute_memory(q)
    assert r.verdict == "over"
    assert all(a.total < r.total for a in r.advice)
    assert [a.rank for a in r.advice] == sorted(a.rank for a in r.advice)
    assert r.advice[0].change == "sequence_parallel=true"
    assert r.advice[-1].change == "recompute=full"
    assert all(a.world_size == 64 for a in r.advice)
    psi = r.per_stage[0].params_per_gpu
    z3 = next(a for a in r.advice if a.change == "raise zero to 3")
    assert z3.total == r.total - 16 * psi + 16 * psi // 8
    assert z3.params == {"zero": 3} and z3.verdict == "fits" and "+50%" in z3.cost
    pp = next(a for a in r.advice if "pp" in a.params)
    assert pp.params == {"pp": 2, "dp": 4} and "bubble" in pp.cost
    cp = next(a for a in r.advice if "cp" in a.params)
    assert cp.params == {"cp": 2, "dp": 4}


def test_a_combination_leads_when_no_single_change_fits() -> None:
    q = MemoryQuery(model="llama3-405b", dp=8, tp=8, pp=4, seq_len=8192)
    r = compute_memory(q)
    assert r.verdict == "over" and not any(a.verdict == "fits" for a in r.advice[1:])
    combo = r.advice[0]
    assert combo.rank == 0 and combo.verdict == "fits"
    again = compute_memory(replace(q, **combo.params))  # type: ignore[arg-type]
    assert again.total == combo.total and again.verdict == "fits"


def test_small_model_fits() -> None:
    r = compute_memory(MemoryQuery(model="llama3-8b", mode="inference", seq_len=8192))
    assert r.fits and r.capacity == 80 * 2**30


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"model": "llama3-70b", "tp": 3}, "tp"),
        ({"model": "llama3-70b", "tp": 16}, "tp"),  # 8 KV heads (training)
        ({"model": "llama3-70b", "ep": 2, "dp": 2}, "ep"),
        ({"model": "mixtral-8x7b", "ep": 4, "dp": 2}, "ep"),
        ({"model": "mixtral-8x7b", "ep": 3, "dp": 3}, "ep"),
        ({"model": "llama3-70b", "cp": 3}, "cp"),
        ({"model": "llama3-70b", "chunks": 2}, "chunks"),
        ({"model": "llama3-8b", "pp": 33}, "pp"),
        ({"model": "llama3-8b", "pp": 8, "chunks": 5}, "chunks"),
        ({"model": "llama3-8b", "layers": 4}, "layers"),
        ({"model": "llama3-8b", "params": 1e9}, "params"),
        ({"layers": 4, "hidden": 64}, "heads"),
        ({"layers": 4, "hidden": 64, "heads": 3}, "heads"),
        ({"layers": 4, "hidden": 64, "heads": 4, "kv_heads": 3}, "kv_heads"),
        ({}, "model"),
        ({"params": 1e9, "dtype": "fp5"}, "dtype"),
        ({"params": 1e9, "kv_dtype": "int3"}, "kv_dtype"),
        ({"params": 1e9, "dp": 65536, "tp": 2}, "dp"),
    ],
)
def test_invalid(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        compute_memory(MemoryQuery(**kw))  # type: ignore[arg-type]
    assert e.value.field == field


def test_unknown_preset_names() -> None:
    with pytest.raises(UnknownName) as e:
        compute_memory(MemoryQuery(model="llama9"))
    assert e.value.field == "model"
    with pytest.raises(UnknownName) as e2:
        compute_memory(MemoryQuery(params=1e9, gpu="tpu-v5"))
    assert e2.value.field == "gpu"


def test_inference_advice_suggests_smaller_dtypes() -> None:
    r = compute_memory(MemoryQuery(model="llama3-405b", mode="inference", seq_len=8192))
    assert not r.fits
    changes = {a.change: a for a in r.advice}
    bf16 = 2 * MODELS["llama3-405b"].total_params
    assert changes["dtype=float8_e4m3fn"].total == r.total - bf16 // 2
    assert changes["dtype=mxfp4"].total < changes["dtype=float8_e4m3fn"].total
    assert r.advice[0].fits and "dtype=mxfp4" in r.advice[0].change  # a combination


# ---------------------------------------------------------------- formulas and values agree

_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def _evaluate(substituted: str) -> float:
    """A formula's numbers-substituted side, evaluated by Python's own arithmetic."""
    text = _NUMBER.sub(lambda m: repr(float(m.group().replace(",", ""))), substituted)
    text = text.replace("×", "*").replace("−", "-")
    assert re.fullmatch(r"[\d.e+*/() \-min,]*", text), text
    return float(eval(text, {"__builtins__": {}, "min": min}))


FORMULA_QUERIES = [
    MemoryQuery(model="llama3-70b", dp=8, tp=8, pp=4, zero=1),
    MemoryQuery(
        model="llama3-70b",
        dp=8,
        tp=8,
        pp=4,
        schedule="zbv",
        convention="deepspeed",
        zero=3,
        logits="bf16",
    ),
    MemoryQuery(
        model="qwen3-235b-a22b",
        dp=16,
        tp=2,
        pp=8,
        ep=16,
        zero=1,
        chunks=4,
        schedule="interleaved_1f1b",
        recompute="selective",
        sequence_parallel=True,
        convention="megatron",
        capacity_factor=1.25,
    ),
    MemoryQuery(
        model="gpt-oss-120b", dp=64, zero=3, convention="fsdp", micro_batch=2, fp8_activations=True
    ),
    MemoryQuery(model="gpt-oss-120b", mode="inference", seq_len=131072, tp=8),
    MemoryQuery(model="deepseek-v3", mode="inference", dtype_embedding="fp8"),
    MemoryQuery(
        layers=12,
        hidden=768,
        heads=12,
        anatomy="gpt",
        attention="eager",
        tp=4,
        pp=2,
        schedule="gpipe",
    ),
    MemoryQuery(model="llama3-405b", dp=64, tp=8, pp=16, chunks=2, zero=3, microbatches=32),
    MemoryQuery(model="deepseek-v3", dp=128, pp=16, ep=64, zero=2, sequence_parallel=True),
    MemoryQuery(model="mixtral-8x7b", mode="inference", tp=16, dtype="nvfp4", batch=4),
    MemoryQuery(model="deepseek-v3", mode="inference", tp=8, kv_dtype="fp8"),
    MemoryQuery(layers=12, hidden=768, heads=12, cp=2, dp=2, recompute="full", tp=4),
    MemoryQuery(params=7.5e9, dp=64, tp=2, pp=2, zero=1),
]


@pytest.mark.parametrize("q", FORMULA_QUERIES)
def test_every_printed_formula_evaluates_to_its_bytes(q: MemoryQuery) -> None:
    """Each term prints "note: symbols = numbers; defined quantities...": the numbers side,
    evaluated independently of the code that built it, gives the term's bytes."""
    for st in compute_memory(q).per_stage:
        for t in st.terms:
            main = t.formula.split("; ")[0].split(": ")[-1]
            numbers = main.split(" = ")[-1]
            assert _evaluate(numbers) == pytest.approx(t.bytes, rel=1e-5, abs=1), t.formula
