"""Model mode of the shard map: every weight of one transformer layer under TP, DP (FSDP) and EP.

A request goes through four named steps: `_stage_mesh` (check the degrees against the model and
lay out one pipeline stage's mesh), `_weights` (each weight's shape, Megatron spec and style),
`_shard` (its shard shape and bytes on one device, FSDP added under ZeRO-3) and `_totals`
(bytes per device for one layer of each kind).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory_layout import layers_per_stage
from app.core.parallel.memory_terms import resolve_dtype
from app.core.parallel.mesh import Axis, format_axes
from app.core.parallel.presets import ModelPreset, get_model
from app.core.parallel.sharding import parse_spec, partition_spec
from app.core.params import effective, param

PARTS = ("embedding", "attention", "mlp", "moe", "norm", "head")
"""Every `part` a weight can have, in the order a layer is read (stable colours on a page)."""
TITLES = {
    "dense_layer": "one dense layer",
    "moe_layer": "one MoE layer",
    "embedding": "embedding",
    "head": "LM head",
}
"""What each key of `bytes_per_rank` counts."""


@dataclass(frozen=True)
class ModelShardingQuery:
    """GET /api/v1/sharding/model. Degrees mean what they mean on /api/v1/memory."""

    model: str = param(
        "llama3-8b",
        "Model preset (see /api/v1/presets/models; case and dashes do not matter).",
        example="llama3-70b",
        max_length=60,
    )
    tp: int = param(1, "Tensor-parallel degree.", example=4, ge=1, le=limit("parallel_degree"))
    dp: int = param(
        1,
        "Data-parallel degree: every data-parallel rank, as /api/v1/memory counts them; ep "
        "divides it (EP is carved out of DP, Megatron convention).",
        example=2,
        ge=1,
        le=limit("mesh_ranks"),
    )
    ep: int = param(
        1, "Expert-parallel degree (MoE models).", example=1, ge=1, le=limit("parallel_degree")
    )
    pp: int = param(1, "Pipeline stages.", example=1, ge=1, le=limit("pipeline_stages"))
    zero: int = param(0, "ZeRO stage (3 = FSDP: weights split over dp too).", example=0, ge=0, le=3)
    dtype: str = param(
        "bfloat16", "Weight dtype (a format name or alias, mxfp4 or nvfp4).", max_length=40
    )

    def normalised(self) -> ModelShardingQuery:
        """Model and dtype spelt the core's way (``Llama3-8B`` -> ``llama3-8b``)."""
        return replace(self, model=get_model(self.model).name, dtype=resolve_dtype(self.dtype).name)


@dataclass(frozen=True)
class WeightShard:
    name: str
    part: str
    """embedding, attention, mlp, moe, norm or head."""
    layers: int
    """How many layers of the model hold this weight (1 for embedding / head)."""
    shape: tuple[int, ...]
    spec: str
    partition_spec: str
    """`spec` as JAX writes it, e.g. ``P(None, 'tp')``."""
    style: str
    """column, row, vocab, expert or replicated (Megatron-LM terms)."""
    shard_shape: tuple[int, ...]
    bytes: int
    bytes_per_rank: int


@dataclass(frozen=True)
class ModelLayout:
    model: str
    axes: str
    dtype: str
    bits_per_element: float
    pp: int
    layers_per_stage: tuple[int, ...]
    weights: tuple[WeightShard, ...]
    bytes_per_rank: dict[str, int]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Weight:
    """A weight before sharding: spec entries per dimension ("_", "tp", "ep" or "dp+ep")."""

    name: str
    part: str
    layers: int
    shape: tuple[int, ...]
    spec: tuple[str, ...]
    style: str


def _stage_mesh(m: ModelPreset, tp: int, dp: int, ep: int, pp: int) -> tuple[Axis, ...]:
    """One pipeline stage's mesh ``dp:dp/ep,ep:ep,tp:tp``, after checking the degrees fit."""
    if m.heads % tp:
        raise InvalidInput("tp", f"tp ({tp}) must divide the {m.heads} attention heads")
    if m.mla is None and m.kv_heads % tp:
        raise InvalidInput("tp", f"tp ({tp}) must divide the {m.kv_heads} KV heads")
    if ep > 1 and not m.is_moe:
        raise InvalidInput("ep", f"{m.name} is dense: expert parallelism needs an MoE model")
    if m.is_moe and m.experts % ep:
        raise InvalidInput("ep", f"ep ({ep}) must divide the {m.experts} experts")
    if dp % ep:
        raise InvalidInput("ep", f"ep ({ep}) must divide dp ({dp}): EP is carved out of DP")
    if pp > m.layers:
        raise InvalidInput("pp", f"pp ({pp}) exceeds the model's {m.layers} layers")
    axes = [Axis("dp", dp // ep)] + ([Axis("ep", ep)] if ep > 1 else []) + [Axis("tp", tp)]
    return tuple(axes)


def _attention(m: ModelPreset) -> Iterator[_Weight]:
    """Attention weights of one layer: q, k, v column-parallel, o row-parallel (MLA likewise)."""
    h, n = m.hidden, m.layers

    def w(name: str, part: str, shape: tuple[int, ...], spec: str, style: str) -> _Weight:
        return _Weight(name, part, n, shape, tuple(spec.split(",")), style)

    if m.mla is not None:
        a = m.mla
        # Megatron-Core MLA: down-projections replicated ("duplicated"), up-projections
        # column-parallel by heads, output row-parallel.
        yield w("q_a_proj", "attention", (h, a.q_lora_rank), "_,_", "replicated")
        yield w("q_a_norm", "norm", (a.q_lora_rank,), "_", "replicated")
        yield w("q_b_proj", "attention", (a.q_lora_rank, m.heads * a.qk_head_dim), "_,tp", "column")
        kv_a = (h, a.kv_lora_rank + a.qk_rope_head_dim)
        yield w("kv_a_proj", "attention", kv_a, "_,_", "replicated")
        yield w("kv_a_norm", "norm", (a.kv_lora_rank,), "_", "replicated")
        kv_b = (a.kv_lora_rank, m.heads * (a.qk_nope_head_dim + a.v_head_dim))
        yield w("kv_b_proj", "attention", kv_b, "_,tp", "column")
        yield w("o_proj", "attention", (m.heads * a.v_head_dim, h), "tp,_", "row")
        return
    q, kv = m.heads * m.head_dim, m.kv_heads * m.head_dim
    for name, width in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
        yield w(name, "attention", (h, width), "_,tp", "column")
    if m.attention_bias:
        for name, width in (("q_bias", q), ("k_bias", kv), ("v_bias", kv)):
            yield w(name, "attention", (width,), "tp", "column")
    if m.qk_norm:
        yield w("q_norm", "norm", (m.head_dim,), "_", "replicated")
        yield w("k_norm", "norm", (m.head_dim,), "_", "replicated")
    if m.attention_sinks:
        yield w("sinks", "attention", (m.heads,), "tp", "column")
    yield w("o_proj", "attention", (q, h), "tp,_", "row")
    if m.attention_bias:
        yield w("o_bias", "attention", (h,), "_", "replicated")


def _mlp(m: ModelPreset, ep: int) -> Iterator[_Weight]:
    """Dense SwiGLU layers, then the MoE router, routed experts (over ep) and shared experts."""
    h, nd, nm = m.hidden, m.n_dense_layers, m.n_moe_layers
    if nd:
        yield _Weight("gate_proj", "mlp", nd, (h, m.ffn), ("_", "tp"), "column")
        yield _Weight("up_proj", "mlp", nd, (h, m.ffn), ("_", "tp"), "column")
        yield _Weight("down_proj", "mlp", nd, (m.ffn, h), ("tp", "_"), "row")
    if nm:
        e, f = m.experts, m.expert_ffn
        espec = "ep" if ep > 1 else "_"
        yield _Weight("router", "moe", nm, (h, e), ("_", "_"), "replicated")
        yield _Weight("experts.gate_proj", "moe", nm, (e, h, f), (espec, "_", "tp"), "expert")
        yield _Weight("experts.up_proj", "moe", nm, (e, h, f), (espec, "_", "tp"), "expert")
        yield _Weight("experts.down_proj", "moe", nm, (e, f, h), (espec, "tp", "_"), "expert")
        if m.shared_experts:
            sf = m.shared_experts * f
            yield _Weight("shared.gate_proj", "moe", nm, (h, sf), ("_", "tp"), "column")
            yield _Weight("shared.up_proj", "moe", nm, (h, sf), ("_", "tp"), "column")
            yield _Weight("shared.down_proj", "moe", nm, (sf, h), ("tp", "_"), "row")


def padded_vocab(m: ModelPreset, tp: int) -> int:
    """Megatron pads the vocabulary to a multiple of tp: ``padded_vocab(llama3, 3) == 128256``."""
    return -(-m.vocab // tp) * tp


def _weights(m: ModelPreset, tp: int, ep: int) -> Iterator[_Weight]:
    """Every weight of the model, once per kind of layer, in reading order.

    Matrices are [in, out] (``y = x @ W``): column-parallel layers (q, k, v, gate, up) split
    `out` over tp, row-parallel layers (o, down) split `in` (Shoeybi et al. 2019, arXiv
    1909.08053 §3); embeddings split the vocabulary; experts split over ep (dim 0).
    """
    h, vocab = m.hidden, padded_vocab(m, tp)
    yield _Weight("embedding", "embedding", 1, (vocab, h), ("tp", "_"), "vocab")
    yield _Weight("attn_norm", "norm", m.layers, (h,), ("_",), "replicated")
    yield from _attention(m)
    yield _Weight("mlp_norm", "norm", m.layers, (h,), ("_",), "replicated")
    yield from _mlp(m, ep)
    yield _Weight("final_norm", "norm", 1, (h,), ("_",), "replicated")
    if not m.tied_embeddings:
        yield _Weight("lm_head", "head", 1, (h, vocab), ("_", "tp"), "column")


def _fsdp(w: _Weight, sizes: dict[str, int]) -> tuple[str, ...]:
    """ZeRO-3 / FSDP: the data axes on the first dimension nothing else splits (if it divides).

    Experts are already split over ep, so they take only the dp axis.
    """
    data = "dp" if w.style == "expert" or "ep" not in sizes else "dp+ep"
    n = int(np.prod([sizes[a] for a in data.split("+")]))
    for d, entry in enumerate(w.spec):
        if entry == "_" and w.shape[d] % n == 0 and n > 1:
            return (*w.spec[:d], data, *w.spec[d + 1 :])
    return w.spec


def _shard(w: _Weight, sizes: dict[str, int], fsdp: bool, bits: float) -> WeightShard:
    """The weight's shard on one device and its bytes, whole and per device."""
    spec = _fsdp(w, sizes) if fsdp else w.spec
    shard = []
    for d, entry in enumerate(spec):
        n = 1 if entry == "_" else int(np.prod([sizes[a] for a in entry.split("+")]))
        if w.shape[d] % n:
            field = "tp" if "tp" in entry else ("ep" if entry == "ep" else "dp")
            raise InvalidInput(
                field, f"{w.name}: dimension {d} (size {w.shape[d]}) does not split {n} ways"
            )
        shard.append(w.shape[d] // n)
    elems = int(np.prod(w.shape, dtype=np.int64))
    per = int(np.prod(shard, dtype=np.int64))
    return WeightShard(
        name=w.name,
        part=w.part,
        layers=w.layers,
        shape=w.shape,
        spec=",".join(spec),
        partition_spec=partition_spec(parse_spec(",".join(spec))),
        style=w.style,
        shard_shape=tuple(shard),
        bytes=round(elems * bits / 8),
        bytes_per_rank=round(per * bits / 8),
    )


def _totals(weights: list[WeightShard], m: ModelPreset) -> dict[str, int]:
    """Bytes per device: the embedding, the LM head and one layer of each kind (see TITLES)."""

    def layer(skip: str) -> int:
        parts = {"attention", "norm", "mlp", "moe"} - {skip}
        return sum(w.bytes_per_rank for w in weights if w.part in parts and w.name != "final_norm")

    totals = {
        p: sum(w.bytes_per_rank for w in weights if w.part == p) for p in ("embedding", "head")
    }
    if m.n_dense_layers:
        totals["dense_layer"] = layer(skip="moe")
    if m.n_moe_layers:
        totals["moe_layer"] = layer(skip="mlp")
    return totals


def _notes(m: ModelPreset, axes: tuple[Axis, ...], q: ModelShardingQuery) -> list[str]:
    world = q.dp * q.tp
    notes = [
        "Matrices are [in, out]; column-parallel splits out, row-parallel splits in.",
        f"Mesh for one pipeline stage: {format_axes(axes)} ({world} GPUs); pp={q.pp} stages "
        f"hold layers {layers_per_stage(m.layers, q.pp)}.",
    ]
    if q.ep > 1:
        notes.append(
            f"dp={q.dp} counts every data-parallel rank, as /api/v1/memory does: the stage mesh "
            f"splits them into dp:{q.dp // q.ep} × ep:{q.ep}, and /api/v1/mesh reports this "
            f"mesh's degrees as dp {q.dp}, ep {q.ep}."
        )
    if q.zero >= 3:
        notes.append("zero=3: weights also split over the data-parallel axes (FSDP).")
    if m.mla is not None:
        notes.append("MLA down-projections are replicated over tp (Megatron-Core 'duplicated').")
    if padded_vocab(m, q.tp) != m.vocab:
        notes.append(
            f"Vocabulary padded from {m.vocab} to {padded_vocab(m, q.tp)} to split over tp."
        )
    return notes


def model_layout(query: ModelShardingQuery) -> ModelLayout:
    """Megatron-style specs for every weight of one transformer layer (and the embeddings).

    With zero=3 (FSDP) weights are also split over the data-parallel axes on a dimension tp
    leaves alone. For example llama3-8b, tp=4: q_proj [4096, 4096] has spec ``_,tp`` and shard
    [4096, 1024].
    """
    q = query.normalised()
    m = get_model(q.model)
    axes = _stage_mesh(m, q.tp, q.dp, q.ep, q.pp)
    sizes = {a.name: a.size for a in axes}
    bits = resolve_dtype(q.dtype).bits
    weights = [_shard(w, sizes, q.zero >= 3, bits) for w in _weights(m, q.tp, q.ep)]
    return ModelLayout(
        model=m.name,
        axes=format_axes(axes),
        dtype=q.dtype,
        bits_per_element=bits,
        pp=q.pp,
        layers_per_stage=tuple(layers_per_stage(m.layers, q.pp)),
        weights=tuple(weights),
        bytes_per_rank=_totals(weights, m),
        notes=tuple(_notes(m, axes, q)),
    )


def compute_model_sharding(query: ModelShardingQuery) -> dict[str, object]:
    """The /api/v1/sharding/model payload: the layout, the query it answers, part names."""
    q = query.normalised()
    layout = model_layout(q)
    return {
        "query": effective(q),
        **{k: getattr(layout, k) for k in layout.__dataclass_fields__},
        "parts": PARTS,
        "titles": TITLES,
    }
