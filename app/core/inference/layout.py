"""What one GPU holds when a model is served split over TP, EP, PP and DP, and what repeats.

Weights per GPU come from the same coefficients that cost a pass (`app.core.inference.ops`):
an op's constant bytes are the weights it reads, its `experts` bytes all the local experts;
the embedding table (a lookup, not an op) sits on the first stage, split over TP by
vocabulary as the LM head is. A tied LM head shares the embedding's copy when both sit on one
stage. For example Llama 3 8B in bf16 at tp = 1 holds 16.06 GB: 15.01 GB read every decode
step, plus the 1.05 GB embedding table.

The table `split_or_duplicated` says, per kind of bytes, which degrees divide it and which
repeat it: every DP replica holds the dense weights again, every TP rank the norms, the router
and the hidden states between layers, and under MLA (or when tp exceeds the KV heads) every
TP rank caches the same keys and values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.inference.cost import CostModel
from app.core.inference.ops import INDEX
from app.core.inference.setup import ACTIVATION_BYTES, Serving

# the weight class of each op that reads weights
_CLASSES = {
    "qkv_proj": "attention",
    "q_proj": "attention",
    "kv_a_proj": "attention",
    "kv_b_proj": "attention",
    "o_proj": "attention",
    "mlp_gate_up": "mlp",
    "mlp_down": "mlp",
    "shared_gate_up": "mlp",
    "shared_down": "mlp",
    "experts_gate_up": "experts",
    "experts_down": "experts",
    "router": "norms_router",
    "attn_norm": "norms_router",
    "mlp_norm": "norms_router",
    "final_norm": "norms_router",
    "lm_head": "embedding",
}
WEIGHT_CLASSES = ("attention", "mlp", "experts", "norms_router", "embedding")


def stage_weights(cost: CostModel) -> list[dict[str, float]]:
    """Bytes of weights per GPU of each stage, by class (embedding includes the LM head)."""
    s = cost.serving
    m = s.model
    per_op = cost.coef_weight[:, INDEX["one"]] + cost.coef_weight[:, INDEX["experts"]]
    vocab_rows = -(-m.vocab // s.query.tp)
    table = vocab_rows * m.hidden * s.weight_bytes
    out = []
    for st, counts in zip(s.stages, cost.counts, strict=True):
        by = dict.fromkeys(WEIGHT_CLASSES, 0.0)
        for op, n, b in zip(cost.ops, counts.tolist(), per_op.tolist(), strict=True):
            by[_CLASSES.get(op.name, "attention")] += n * b
        shares_table = m.tied_embeddings and st.has_lm_head
        if st.has_embedding and not shares_table:
            by["embedding"] += table
        out.append(by)
    return out


def per_layer_kv_bytes(s: Serving) -> float:
    """KV bytes per token per layer on one GPU (either layer kind)."""
    m = s.model
    if m.mla is not None:
        return (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * s.kv_bytes
    return 2 * s.kv_heads_per_gpu * m.head_dim * s.kv_bytes


def cached_tokens(s: Serving, layer: int, context: int) -> int:
    """Tokens layer `layer` caches for a sequence of `context` tokens (a window caps it)."""
    if s.kinds[layer] == "sliding" and s.window > 0:
        return min(context, s.window)
    return context


def stage_kv_bytes(s: Serving, context: int) -> list[float]:
    """KV bytes of one sequence of `context` tokens on one GPU of each stage."""
    per = per_layer_kv_bytes(s)
    return [
        per * sum(cached_tokens(s, i, context) for i in range(st.first, st.first + st.layers))
        for st in s.stages
    ]


@dataclass(frozen=True)
class Share:
    """One kind of bytes on one GPU: how many, and which degrees divide or repeat them."""

    name: str
    title: str
    bytes_per_gpu: float
    split_over: tuple[str, ...]
    duplicated_over: tuple[str, ...]
    note: str


def _axes(s: Serving, *names: str) -> tuple[str, ...]:
    q = s.query
    degrees = {"tp": q.tp, "ep": q.ep, "pp": q.pp, "dp": q.dp}
    return tuple(n for n in names if degrees[n] > 1)


def _weight_shares(s: Serving, heaviest: dict[str, float]) -> list[Share]:
    m, q = s.model, s.query
    attn_note = "Q, K, V heads and the output projection split over TP"
    if m.mla is not None:
        attn_note = (
            "heads split over TP; the q and kv down-projections are replicated on every TP rank"
        )
    elif q.tp > m.kv_heads:
        attn_note = (
            f"tp ({q.tp}) > kv_heads ({m.kv_heads}): each K/V head's projection is repeated on "
            f"{q.tp // m.kv_heads} TP ranks"
        )
    rows = [
        Share("attention", "Attention weights", heaviest["attention"], _axes(s, "tp", "pp"),
              _axes(s, "dp"), attn_note),
        Share("mlp", "MLP weights (dense and shared experts)", heaviest["mlp"],
              _axes(s, "tp", "pp"), _axes(s, "dp"), "columns of gate/up, rows of down over TP"),
    ]  # fmt: skip
    if m.is_moe:
        rows.append(Share(
            "experts", "Routed experts", heaviest["experts"], _axes(s, "ep", "tp", "pp"),
            ("dp",) if q.dp > q.ep else (),
            f"{m.experts // q.ep} experts per EP rank, each split over TP; "
            f"{q.dp // q.ep} copies across the {q.dp} replicas",
        ))  # fmt: skip
    rows += [
        Share("norms_router", "Norms and router", heaviest["norms_router"], _axes(s, "pp"),
              _axes(s, "tp", "dp"), "small vectors every TP rank keeps whole"),
        Share("embedding", "Embedding and LM head", heaviest["embedding"], _axes(s, "tp", "pp"),
              _axes(s, "dp"), "split by vocabulary over TP; the first stage holds the "
              "embedding, the last the LM head"),
    ]  # fmt: skip
    return rows


def split_or_duplicated(cost: CostModel, batch: int, context: int) -> list[Share]:
    """Per kind of bytes (weights by class, KV cache, hidden states): the heaviest stage's
    bytes on one GPU, and the degrees that split or repeat them."""
    s = cost.serving
    m, q = s.model, s.query
    weights = stage_weights(cost)
    heaviest = {c: max(w[c] for w in weights) for c in WEIGHT_CLASSES}
    kv = max(stage_kv_bytes(s, context)) * batch * q.pp
    if m.mla is not None:
        kv_dup, kv_split = _axes(s, "tp"), _axes(s, "pp")
        kv_note = "the MLA latent is the same on every TP rank"
    elif q.tp > m.kv_heads:
        kv_dup, kv_split = _axes(s, "tp"), _axes(s, "tp", "pp")
        kv_note = f"each KV head is cached on {q.tp // m.kv_heads} TP ranks"
    else:
        kv_dup, kv_split = (), _axes(s, "tp", "pp")
        kv_note = "KV heads split over TP, layers over PP"
    rows = _weight_shares(s, heaviest)
    rows.append(Share(
        "kv_cache", f"KV cache ({batch} × {context} tokens)", kv, kv_split, kv_dup,
        kv_note + "; each DP replica caches its own sequences"
        + (f"; {q.pp} batches in flight" if q.pp > 1 else ""),
    ))  # fmt: skip
    rows.append(Share(
        "hidden_states", "Hidden states of a decode step",
        float(batch * m.hidden * ACTIVATION_BYTES),
        (), _axes(s, "tp"), "every TP rank holds the whole hidden state after each all-reduce",
    ))  # fmt: skip
    return [r for r in rows if r.bytes_per_gpu > 0 or r.name == "kv_cache"]


def weights_per_gpu(cost: CostModel) -> float:
    """Bytes of weights on the heaviest GPU."""
    return max(float(np.sum(list(w.values()))) for w in stage_weights(cost))
