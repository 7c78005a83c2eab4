"""Step three of the memory pipeline: every term one GPU of a pipeline stage holds, and totals.

Ψ counts parameters per GPU after TP (attention, MLP and vocabulary split t ways, norms and
routers replicated), PP (the stage's layers; embedding on the first stage, LM head on the
last) and EP (each GPU holds experts/ep of every MoE layer). The terms are

- model states (ZeRO paper §5): weights, 16-bit gradients and Adam's K = 12 bytes per
  parameter, sharded over N_d = dp·cp ranks from ZeRO stages 3, 2 and 1 on; expert weights
  are data-parallel over N_d/ep ranks (Megatron's expert-data-parallel group);
- in training, activations: Korthikanti Table 2 per layer × layers × microbatches in flight,
  plus the embedding inputs on the first stage and the logits on the last;
- in inference, the KV cache.

Each term is one `app.core.symbolic` expression (its bytes and formula cannot disagree), and
a stage's totals are sums of its rounded terms, so the bars add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from operator import add

from app.core.numerics.formats import FORMATS
from app.core.parallel.memory_layout import StageLayout, StageRole, in_flight
from app.core.parallel.memory_query import MemorySetup
from app.core.parallel.memory_terms import (
    GRAD_BYTES,
    K_ADAM,
    SEGMENTS,
    SRC_1F1B,
    SRC_KORTHIKANTI,
    SRC_KV,
    SRC_MEGATRON_EMB,
    SRC_MLA,
    SRC_ZERO,
    Segment,
    Term,
    activation_per_layer,
    term,
)
from app.core.parallel.presets import ModelPreset
from app.core.symbolic import Const, Expr, Quantity, define, number


@dataclass(frozen=True)
class StageMemory:
    """One GPU of pipeline stage `stage`: its layers, role, terms and totals by segment."""

    stage: int
    role: StageRole
    layers: int
    dense_layers: int
    moe_layers: int
    has_embedding: bool
    has_lm_head: bool
    microbatches_in_flight: float | None
    params_per_gpu: int
    parameters: int
    gradients: int
    optimizer_states: int
    activations: int
    kv_cache: int
    total: int
    fits: bool
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class ParameterCount:
    """Ψ of one GPU; with experts, also its parts sharded over N_d and over N_d/ep ranks."""

    psi: Quantity
    dense: Quantity | None = None
    expert: Quantity | None = None

    def by_name(self) -> ParameterCount:
        """The same counts cited by name and value only, without repeating their definitions."""

        def bare(x: Quantity | None) -> Quantity | None:
            return None if x is None else Quantity(x.name, x.value)

        return ParameterCount(
            Quantity(self.psi.name, self.psi.value), bare(self.dense), bare(self.expert)
        )


def _term(
    setup: MemorySetup, name: str, segment: Segment, expr: Expr, source: str, note: str = ""
) -> Term:
    return term(name, segment, expr, source, note, formula=setup.formulas)


def _total(parts: list[Expr]) -> Expr:
    return reduce(add, parts)


# ---------------------------------------------------------------- Ψ


def parameter_count(setup: MemorySetup, st: StageLayout) -> ParameterCount:
    """Ψ on one GPU of stage `st`, as the sum of what the stage holds.

    For example Llama 3 8B on pp 4, first stage: 8 dense layers of attention/t + norms +
    MLP/t, plus the ⌈V/t⌉·h embedding.
    """
    q, m = setup.query, setup.model
    if m is None:  # params= only: an even split over TP and PP
        split = Quantity("P", round(q.params or 0)) / (Quantity("t", q.tp) * Quantity("p", q.pp))
        return ParameterCount(define("Ψ", split, "parameters per GPU, even split assumed"))
    pc = m.param_counts()
    t, h = Quantity("t", q.tp), Quantity("h", m.hidden)
    attn, norm = Quantity("P_attn", pc.attention_per_layer), Quantity("P_norm", pc.norms_per_layer)
    parts: list[Expr] = []
    if st.dense_layers:
        mlp = Quantity("P_mlp", pc.dense_mlp_per_layer)
        parts.append(Quantity("L_dense", st.dense_layers) * (attn / t + norm + mlp / t))
    if st.moe_layers:
        layer = attn / t + norm + Quantity("P_router", pc.router_per_layer)
        if pc.shared_expert_per_layer:
            layer = layer + Quantity("P_shared", pc.shared_expert_per_layer) / t
        parts.append(Quantity("L_moe", st.moe_layers) * layer)
    vocab = Quantity("⌈V/t⌉", -(-m.vocab // q.tp))  # Megatron pads the vocabulary to t
    if st.has_embedding:
        parts.append(vocab * h)
    if _holds_lm_head(m, st, q.pp):
        parts.append(vocab * h)
    if st.has_lm_head:
        parts.append(h)  # the final norm
    holds = f"{_holds(m, st, q.pp)}, TP {q.tp}, EP {q.ep}"
    if not st.moe_layers:
        return ParameterCount(define("Ψ", _total(parts), f"parameters on this GPU: {holds}"))
    dense = define("Ψ_dense", _total(parts), f"non-expert parameters on this GPU: {holds}")
    per_expert = Quantity("P_expert", pc.expert_params_per_expert)
    experts = Quantity("L_moe", st.moe_layers) * Quantity("E", m.experts) / Quantity("ep", q.ep)
    expert = define("Ψ_expert", experts * per_expert / t, "expert parameters on this GPU")
    return ParameterCount(define("Ψ", dense + expert), dense, expert)


def _holds_lm_head(m: ModelPreset, st: StageLayout, p: int) -> bool:
    """Tied embeddings share the head, but with pp > 1 Megatron keeps a copy on the last stage."""
    return st.has_lm_head and (not m.tied_embeddings or p > 1)


def _holds(m: ModelPreset, st: StageLayout, p: int) -> str:
    parts = [f"{st.dense_layers} dense + {st.moe_layers} MoE layers"]
    if st.has_embedding:
        parts.append("embedding")
    if _holds_lm_head(m, st, p):
        parts.append("LM head")
    return " + ".join(parts)


# ---------------------------------------------------------------- model states (ZeRO)


def _states(
    setup: MemorySetup, count: ParameterCount, per_parameter: Fraction, sharded: bool
) -> Expr:
    """per_parameter bytes × Ψ, divided over N_d ranks (expert weights over N_d/ep) if sharded."""
    if not sharded:
        return per_parameter * count.psi
    nd = Quantity("N_d", setup.data_parallel)
    if count.dense is not None and count.expert is not None:
        expert_ranks = nd / Quantity("ep", setup.query.ep)
        return per_parameter * (count.dense / nd + count.expert / expert_ranks)
    return per_parameter * count.psi / nd


def model_state_terms(setup: MemorySetup, count: ParameterCount) -> list[Term]:
    """Weights, gradients and Adam states, each sharded over N_d once ZeRO reaches it.

    ZeRO paper §5: Ψ = 7.5B on N_d = 64 holds 120 GB (stage 0), 31.4 GB (1), 16.6 GB (2),
    1.88 GB (3).
    """
    z, nd = setup.query.zero, setup.data_parallel
    source = f"{SRC_ZERO}; ZeRO-{z}" + (f", N_d = dp·cp = {nd}" if z else "")
    weight_bytes = Fraction(setup.weights.bits) / 8
    cited = count.by_name()  # the parameters term defines Ψ; the others cite it
    return [
        _term(
            setup,
            "parameters",
            "parameters",
            _states(setup, count, weight_bytes, z >= 3),
            source,
            f"{setup.weights.name} weights",
        ),
        _term(
            setup,
            "gradients",
            "gradients",
            _states(setup, cited, Fraction(GRAD_BYTES), z >= 2),
            source,
            "16-bit gradients",
        ),
        _term(
            setup,
            "optimizer_states",
            "optimizer_states",
            _states(setup, cited, Fraction(K_ADAM), z >= 1),
            source,
            f"Adam, K = {K_ADAM} (fp32 master, m, v)",
        ),
    ]


def inference_weight_terms(setup: MemorySetup, count: ParameterCount) -> list[Term]:
    """The weights alone, at the storage cost of their dtype (block scales included)."""
    w = setup.weights
    source = (
        f"{w.name} stores {number(w.bits)} bits per element (its ml_dtypes itemsize for 8- and"
        " 16-bit formats; OCP MX v1.0 element widths for FP6/FP4)"
        if w.name in FORMATS
        else w.source
    )
    expr = Const(Fraction(w.bits)) / 8 * count.psi
    return [
        _term(
            setup,
            "parameters",
            "parameters",
            expr,
            source,
            f"{w.name} weights at {number(w.bits)} bits",
        )
    ]


# ---------------------------------------------------------------- activations


def activation_terms(
    setup: MemorySetup, st: StageLayout, chunks: Quantity, m_r: Quantity
) -> list[Term]:
    """Activations kept for the backward pass: Table 2 per layer × layers × in flight.

    The first stage also keeps the embedding's inputs and dropout mask, the last the inputs
    of the output layer and the fp32 logits (Megatron-LM theoretical_memory_usage.py).
    """
    q, m = setup.query, setup.model
    if m is None:
        return []
    s, b, t = Quantity("s", setup.tokens), Quantity("b", q.micro_batch), Quantity("t", q.tp)
    h = Quantity("h", m.hidden)
    a = activation_per_layer(
        setup.tokens, q.micro_batch, m.hidden, m.heads, q.tp, q.sequence_parallel, q.recompute
    )
    layers = Quantity("L", st.layers)
    per_stage = a * layers * m_r if q.chunks == 1 else a * layers / Quantity("v", q.chunks) * chunks
    terms = [
        _term(setup, "activations", "activations", per_stage, f"{SRC_KORTHIKANTI}; {SRC_1F1B}"),
    ]
    sbh = s * b * h / t if q.sequence_parallel else s * b * h  # SP splits them over t
    if st.has_embedding:
        terms.append(
            _term(
                setup,
                "embedding_activations",
                "activations",
                (8 * s * b + sbh) * m_r,
                f"{SRC_MEGATRON_EMB} (input ids and embedding dropout mask; Megatron-LM"
                " divides the whole (8sb + sbh)·p by t, but the int64 input ids are"
                " replicated on every TP rank, so only the SP-split dropout term is)",
            )
        )
    if st.has_lm_head:
        hidden = h / t if q.sequence_parallel else h
        terms.append(
            _term(
                setup,
                "output_activations",
                "activations",
                4 * s * b * (hidden + Quantity("V", m.vocab) / t),
                f"{SRC_MEGATRON_EMB} (inputs to the output layer and fp32 logits for the loss)",
            )
        )
    return terms


# ---------------------------------------------------------------- KV cache


def kv_cache_terms(setup: MemorySetup, st: StageLayout) -> list[Term]:
    """Keys and values of every cached token of the stage's layers (MLA: one latent).

    For example Llama 3 70B in bf16: 2 × 2 × 128 × 8 × 80 = 327,680 bytes per token.
    """
    q, m = setup.query, setup.model
    if m is None:
        return []
    kv_bytes = Quantity("bytes", Fraction(setup.kv.bits) / 8)
    cached = Quantity("L", st.layers) * Quantity("tokens", setup.tokens) * Quantity("B", q.batch)
    if m.mla is not None:
        width = Quantity("kv_lora_rank", m.mla.kv_lora_rank) + Quantity(
            "rope_dim", m.mla.qk_rope_head_dim
        )
        expr = kv_bytes * width * cached
        return [
            _term(
                setup, "kv_cache", "kv_cache", expr, SRC_MLA, "latent replicated on every TP rank"
            )
        ]
    if m.kv_heads % q.tp == 0:
        heads = define("h_kv", Quantity("kv_heads", m.kv_heads) / Quantity("t", q.tp))
    else:
        note = f"tp {q.tp} > {m.kv_heads} kv_heads: each GPU keeps one head, replicated"
        heads = define("h_kv", Const(1), note)
    expr = 2 * kv_bytes * Quantity("head_dim", m.head_dim) * heads * cached
    return [_term(setup, "kv_cache", "kv_cache", expr, SRC_KV, "K and V per cached token")]


# ---------------------------------------------------------------- one stage


def stage_memory(setup: MemorySetup, st: StageLayout) -> StageMemory:
    """Every term of one GPU of stage `st`, and their totals by segment."""
    q = setup.query
    count = parameter_count(setup, st)
    if q.mode == "train":
        chunks, m_r = in_flight(st.stage, q.pp, q.chunks, q.microbatches)
        terms = model_state_terms(setup, count) + activation_terms(setup, st, chunks, m_r)
        in_flight_r: float | None = float(m_r.value)
    else:
        terms = inference_weight_terms(setup, count) + kv_cache_terms(setup, st)
        in_flight_r = None
    by_segment = {seg: sum(x.bytes for x in terms if x.segment == seg) for seg in SEGMENTS}
    total = sum(by_segment.values())
    return StageMemory(
        stage=st.stage,
        role=st.role,
        layers=st.layers,
        dense_layers=st.dense_layers,
        moe_layers=st.moe_layers,
        has_embedding=st.has_embedding,
        has_lm_head=st.has_lm_head,
        microbatches_in_flight=in_flight_r,
        params_per_gpu=round(count.psi.value),
        total=total,
        fits=total <= setup.gpu.memory_bytes,
        terms=tuple(terms),
        parameters=by_segment["parameters"],
        gradients=by_segment["gradients"],
        optimizer_states=by_segment["optimizer_states"],
        activations=by_segment["activations"],
        kv_cache=by_segment["kv_cache"],
    )
