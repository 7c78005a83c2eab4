"""Every op of one transformer forward pass, per GPU, as linear functions of what the pass holds.

An op's FLOPs and bytes are linear in a few features of the pass (`FEATURES`): the tokens it
processes (prefill and decode tokens apart, since MLA computes them differently), the sequences
that produce a logit, the query–key pairs attention scores and the KV-cache tokens it reads
(full and sliding-window layers apart), a constant (the weights) and the fraction of this
GPU's experts that any token reaches. So one set of coefficients costs a prefill, a decode
step or a mixed continuous-batching step, vectorised over as many passes as wanted.

Per GPU of one tensor-parallel group (t = tp, a = 2-byte activations, w_b and k_b the weight
and KV bytes per element, d = head_dim), per layer:

- norms: fused residual add + RMSNorm, 5·h FLOPs per token; reads x and the residual, writes
  both (4·h·a per token) and the h norm weights;
- linear layers (Megatron split: QKV and gate/up by columns, O and down by rows): 2 FLOPs per
  weight per token; the weights once per pass plus each token's input and output;
- attention (FlashAttention: the scores stay on chip): QKᵀ and PV, 2·d FLOPs per query–key
  pair per head; Q, K, V and O read or written once; a causal prefill of n tokens has
  n(n+1)/2 pairs, a decode step c + 1 per sequence; a window w caps a query's keys at w.
  GQA heads share their K and V reads; MLA (DeepSeek-V2 §2.1) decompresses the latent for a
  prefill and absorbs the up-projection into the query and output for decode, where attention
  runs over the 512 + 64 latent, read once for all heads;
- MoE: the router (replicated, 16-bit), k routed experts per token and the shared experts; the
  weights read are those of the experts any of the T·ep tokens of the EP group reaches, in
  expectation 1 − (1 − k/E)^(T·ep) of them under uniform routing;
- the LM head (vocabulary split over TP) for one token per sequence.

Biases, attention sinks, q/k norms and the embedding lookup (a gather of T rows) are left out:
together under 0.1% of a pass's bytes for every preset. Softmax and activation FLOPs are
counted but run on the vector units; the roofline puts every FLOP under the tensor-core peak,
as LLM-Viewer and the JAX scaling book do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.core.inference.setup import ACTIVATION_BYTES, NORM_BYTES, Serving

FloatArray = npt.NDArray[np.float64]
Kind = Literal["norm", "matmul", "attention", "elementwise"]
Where = Literal["all", "full", "sliding", "dense", "moe", "head"]

FEATURES = (
    "one",
    "experts",
    "tokens_prefill",
    "tokens_decode",
    "sequences",
    "pairs_full_prefill",
    "pairs_full_decode",
    "pairs_sliding_prefill",
    "pairs_sliding_decode",
    "reads_full_prefill",
    "reads_full_decode",
    "reads_sliding_prefill",
    "reads_sliding_decode",
)
INDEX = {name: i for i, name in enumerate(FEATURES)}
# shorthands: a coefficient given for "T" applies to prefill and decode tokens alike
_SHORT = {
    "T": ("tokens_prefill", "tokens_decode"),
    "Tp": ("tokens_prefill",),
    "Td": ("tokens_decode",),
    "S": ("sequences",),
    "one": ("one",),
    "experts": ("experts",),
    "Pf": ("pairs_full_prefill", "pairs_full_decode"),
    "Pfp": ("pairs_full_prefill",),
    "Pfd": ("pairs_full_decode",),
    "Ps": ("pairs_sliding_prefill", "pairs_sliding_decode"),
    "Rf": ("reads_full_prefill", "reads_full_decode"),
    "Rfp": ("reads_full_prefill",),
    "Rfd": ("reads_full_decode",),
    "Rs": ("reads_sliding_prefill", "reads_sliding_decode"),
}


def _vec(coef: dict[str, float]) -> FloatArray:
    out = np.zeros(len(FEATURES))
    for key, value in coef.items():
        for name in _SHORT[key]:
            out[INDEX[name]] += value
    return out


@dataclass(frozen=True, eq=False)
class OpSpec:
    """One op of a layer (or of the head): its coefficients per feature, per GPU."""

    name: str
    title: str
    kind: Kind
    where: Where
    flops: FloatArray
    weight_bytes: FloatArray
    kv_bytes: FloatArray
    activation_bytes: FloatArray
    formula: str


def _op(
    name: str,
    title: str,
    kind: Kind,
    where: Where,
    formula: str,
    *,
    flops: dict[str, float],
    weight: dict[str, float] | None = None,
    kv: dict[str, float] | None = None,
    act: dict[str, float] | None = None,
) -> OpSpec:
    return OpSpec(
        name, title, kind, where, _vec(flops), _vec(weight or {}), _vec(kv or {}), _vec(act or {}),
        formula,
    )  # fmt: skip


@dataclass(frozen=True)
class Dims:
    """The per-GPU sizes the coefficients use (t = tp)."""

    h: int
    t: int
    heads: int  # per GPU
    d: int
    kv_heads: int  # per GPU (one replicated head when tp > kv_heads)
    wb: float
    kb: float
    a: int = ACTIVATION_BYTES


def _norm(name: str, title: str, where: Where, x: Dims) -> OpSpec:
    return _op(
        name, title, "norm", where, "5·h FLOPs per token; 4·h·a bytes per token + h weights",
        flops={"T": 5 * x.h}, weight={"one": NORM_BYTES * x.h}, act={"T": 4 * x.h * x.a},
    )  # fmt: skip


def _linear(
    name: str, title: str, where: Where, weights: float, width_in: float, width_out: float,
    x: Dims, formula: str, tokens: str = "T",
) -> OpSpec:  # fmt: skip
    return _op(
        name, title, "matmul", where, f"{formula}: 2 FLOPs per weight per token; weights·w_b + "
        "tokens·(in + out)·a bytes",
        flops={tokens: 2 * weights}, weight={"one": weights * x.wb},
        act={tokens: (width_in + width_out) * x.a},
    )  # fmt: skip


def _gqa_attention(x: Dims, kind: Literal["full", "sliding"]) -> list[OpSpec]:
    """QKᵀ and PV over the cache; `kind` "full" or "sliding" picks the pair/read features."""
    pairs, reads = ("Pf", "Rf") if kind == "full" else ("Ps", "Rs")
    suffix = "" if kind == "full" else "_sliding"
    label = "" if kind == "full" else " (sliding-window layers)"
    q, kv = x.heads * x.d, x.kv_heads * x.d
    return [
        _op(
            "attention_scores" + suffix, "Attention scores QKᵀ" + label, "attention", kind,
            "2·d FLOPs per query–key pair per head; Q read (T·a·heads·d), K read once per "
            "KV head from the cache",
            flops={pairs: 2 * q}, act={"T": q * x.a}, kv={reads: kv * x.kb},
        ),
        _op(
            "attention_values" + suffix, "Attention values PV" + label, "attention", kind,
            "2·d FLOPs per query–key pair per head; V read once per KV head, O written",
            flops={pairs: 2 * q}, act={"T": q * x.a}, kv={reads: kv * x.kb},
        ),
    ]  # fmt: skip


def _gqa_block(s: Serving, x: Dims) -> list[OpSpec]:
    q, kv = x.heads * x.d, x.kv_heads * x.d
    qkv = _op(
        "qkv_proj", "QKV projection", "matmul", "all",
        "2·h·(q + 2·kv)/t FLOPs per token; weights·w_b + T·(h + q)·a, K and V written to "
        "the cache in the KV dtype",
        flops={"T": 2 * x.h * (q + 2 * kv)}, weight={"one": x.h * (q + 2 * kv) * x.wb},
        act={"T": (x.h + q) * x.a}, kv={"T": 2 * kv * x.kb},
    )  # fmt: skip
    ops = [qkv]
    if "full" in s.kinds:
        ops += _gqa_attention(x, "full")
    if "sliding" in s.kinds:
        ops += _gqa_attention(x, "sliding")
    ops.append(_linear("o_proj", "Output projection", "all", q * x.h, q, x.h, x, "(heads·d/t)·h"))
    return ops


def _mla_block(s: Serving, x: Dims) -> list[OpSpec]:
    mla = s.model.mla
    assert mla is not None
    hl, a, kb = x.heads, x.a, x.kb
    qr, kvr, dn, dr, dv = (
        mla.q_lora_rank, mla.kv_lora_rank, mla.qk_nope_head_dim, mla.qk_rope_head_dim,
        mla.v_head_dim,
    )  # fmt: skip
    q_w = x.h * qr + qr * hl * (dn + dr)
    kvb_w = kvr * hl * (dn + dv)
    return [
        _linear("q_proj", "Q projection (down, up)", "all", q_w, x.h + 2 * qr, hl * (dn + dr),
                x, "h·q_lora (replicated) + q_lora·heads·(nope + rope)/t"),
        _op(
            "kv_a_proj", "KV latent projection", "matmul", "all",
            "h·(kv_lora + rope) weights, replicated on every TP rank; the latent and rope key "
            "are written to the cache",
            flops={"T": 2 * x.h * (kvr + dr)}, weight={"one": x.h * (kvr + dr) * x.wb},
            act={"T": x.h * a}, kv={"T": (kvr + dr) * kb},
        ),
        _op(
            "kv_b_proj", "KV up-projection (decompressed for prefill, absorbed for decode)",
            "matmul", "all",
            "kv_lora·heads·(nope + v)/t weights; prefill decompresses every key token's "
            "latent, decode applies them to the query and the output (absorbed)",
            flops={"Rfp": 2 * kvb_w, "Td": 2 * kvb_w}, weight={"one": kvb_w * x.wb},
            act={"Rfp": hl * (dn + dv) * a, "Td": hl * (dn + dv + 2 * kvr) * a},
            kv={"Rfp": kvr * kb},
        ),
        _op(
            "attention_scores", "Attention scores QKᵀ (MLA)", "attention", "full",
            "prefill: 2·(nope + rope) per pair per head over decompressed keys; decode: "
            "2·(kv_lora + rope) per pair per head over the cached latent, read once",
            flops={"Pfp": 2 * hl * (dn + dr), "Pfd": 2 * hl * (kvr + dr)},
            act={"Tp": hl * (dn + dr) * a, "Rfp": hl * dn * a, "Td": hl * (kvr + dr) * a},
            kv={"Rfp": dr * kb, "Rfd": (kvr + dr) * kb},
        ),
        _op(
            "attention_values", "Attention values PV (MLA)", "attention", "full",
            "prefill: 2·v per pair per head over decompressed values; decode: 2·kv_lora per "
            "pair per head over the latent already read for the scores",
            flops={"Pfp": 2 * hl * dv, "Pfd": 2 * hl * kvr},
            act={"Rfp": hl * dv * a, "Tp": hl * dv * a, "Td": hl * kvr * a},
        ),
        _linear("o_proj", "Output projection", "all", hl * dv * x.h, hl * dv, x.h, x,
                "(heads·v/t)·h"),
    ]  # fmt: skip


def _dense_mlp(s: Serving, x: Dims) -> list[OpSpec]:
    f = s.model.ffn // x.t
    return [
        _linear("mlp_gate_up", "MLP gate and up", "dense", 2 * x.h * f, x.h, 2 * f, x,
                "h·2·ffn/t"),
        _op("mlp_act", "SiLU(gate)·up", "elementwise", "dense",
            "4 FLOPs per element (ffn/t per token); reads 2, writes 1 element",
            flops={"T": 4 * f}, act={"T": 3 * f * x.a}),
        _linear("mlp_down", "MLP down", "dense", f * x.h, f, x.h, x, "(ffn/t)·h"),
    ]  # fmt: skip


def _moe(s: Serving, x: Dims) -> list[OpSpec]:
    m = s.model
    k, fe, local = m.experts_per_token, m.expert_ffn // x.t, m.experts // s.query.ep
    ops = [
        _op(
            "router", "Router", "matmul", "moe", "E·h weights (16-bit, replicated)",
            flops={"T": 2 * m.experts * x.h}, weight={"one": m.experts * x.h * NORM_BYTES},
            act={"T": (x.h + m.experts) * x.a},
        ),
        _op(
            "experts_gate_up", "Routed experts gate and up", "matmul", "moe",
            "k tokens' worth per token of h·2·ffn_e/t weights; the weights of the experts "
            "reached: E/ep · (1 − (1 − k/E)^(T·ep)) of them",
            flops={"T": k * 4 * x.h * fe}, weight={"experts": local * 2 * x.h * fe * x.wb},
            act={"T": k * (x.h + 2 * fe) * x.a},
        ),
        _op(
            "experts_act", "SiLU(gate)·up (experts)", "elementwise", "moe",
            "4 FLOPs per element ((k + shared)·ffn_e/t per token); reads 2, writes 1",
            flops={"T": 4 * (k + m.shared_experts) * fe},
            act={"T": 3 * (k + m.shared_experts) * fe * x.a},
        ),
        _op(
            "experts_down", "Routed experts down", "matmul", "moe",
            "k tokens' worth per token of (ffn_e/t)·h weights; the experts reached",
            flops={"T": k * 2 * fe * x.h}, weight={"experts": local * fe * x.h * x.wb},
            act={"T": k * (fe + x.h) * x.a},
        ),
    ]  # fmt: skip
    if m.shared_experts:
        fs = m.shared_experts * fe
        ops += [
            _linear("shared_gate_up", "Shared experts gate and up", "moe", 2 * x.h * fs, x.h,
                    2 * fs, x, "h·2·shared·ffn_e/t"),
            _linear("shared_down", "Shared experts down", "moe", fs * x.h, fs, x.h, x,
                    "(shared·ffn_e/t)·h"),
        ]  # fmt: skip
    return ops


def _head(s: Serving, x: Dims) -> list[OpSpec]:
    v = s.model.vocab // x.t if s.model.vocab % x.t == 0 else -(-s.model.vocab // x.t)
    return [
        _norm("final_norm", "Final norm", "head", x),
        _linear("lm_head", "LM head (last token of each sequence)", "head", v * x.h, x.h, v, x,
                "(vocab/t)·h, one token per sequence", tokens="S"),
    ]  # fmt: skip


def layer_ops(s: Serving) -> tuple[OpSpec, ...]:
    """Every op of the model in pass order; `where` says which layers (or the head) run it.

    For example Llama 3 8B at tp = 1: attn_norm, qkv_proj, attention_scores,
    attention_values, o_proj, mlp_norm, mlp_gate_up, mlp_act, mlp_down, final_norm, lm_head.
    """
    m, q = s.model, s.query
    x = Dims(m.hidden, q.tp, m.heads // q.tp, m.head_dim, s.kv_heads_per_gpu,
             s.weight_bytes, s.kv_bytes)  # fmt: skip
    ops = [_norm("attn_norm", "Attention norm", "all", x)]
    ops += _mla_block(s, x) if m.mla is not None else _gqa_block(s, x)
    ops.append(_norm("mlp_norm", "MLP norm", "all", x))
    if m.n_dense_layers:
        ops += _dense_mlp(s, x)
    if m.is_moe:
        ops += _moe(s, x)
    ops += _head(s, x)
    return tuple(ops)
