"""Step three of the memory pipeline: every term one GPU of a pipeline stage holds, and totals.

- model states (`memory_states`): weights class by class, gradients and optimizer states,
  under the query's accounting convention;
- in training, activations: the layer anatomy's bytes per layer (`memory_anatomy`) × the
  rank's layers × the microbatches it holds at its peak in the simulated schedule
  (`memory_schedule`), plus the embedding's inputs with the first virtual stage and the LM
  head's inputs and logits with the last;
- in inference, the KV cache, layer by layer (a sliding-window layer caches at most its
  window).

Each term is one `app.core.symbolic` expression (its bytes and formula cannot disagree), and
a stage's totals are sums of its rounded terms, so the bars add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.core.parallel.memory_anatomy import LayerAnatomy, layer_anatomy
from app.core.parallel.memory_layout import StageLayout, StageRole
from app.core.parallel.memory_query import MemorySetup
from app.core.parallel.memory_states import (
    ParameterCount,
    StageHolding,
    even_split,
    model_states,
    weights_expr,
    weights_source,
)
from app.core.parallel.memory_states import parameter_count as count_parameters
from app.core.parallel.memory_terms import (
    SEGMENTS,
    SRC_KV,
    SRC_MEGATRON_EMB,
    SRC_MLA,
    Segment,
    Term,
    term,
)
from app.core.symbolic import Const, Expr, Quantity, define, minimum, number

SRC_SCHEDULE = "microbatches in flight: the pipeline simulator's peak (GET /api/v1/pipeline)"
SRC_LOGITS = {
    "fp32": "the loss upcasts the s·b·V logits to fp32 and keeps them for its backward "
    "(Megatron-LM theoretical_memory_usage.py counts 4·s·b·V)",
    "bf16": "the loss reads the logits in bf16 (no upcast): 2 bytes per logit",
    "chunked": "a fused, chunked LM head + cross-entropy (Liger Kernel, Cut Cross-Entropy) never "
    "holds the full logits; it keeps the gradient of its input",
}
SRC_WINDOW = "sliding-window attention: a window layer caches at most `window` tokens"


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


def _term(
    setup: MemorySetup, name: str, segment: Segment, expr: Expr, source: str, note: str = ""
) -> Term:
    return term(name, segment, expr, source, note, formula=setup.formulas)


def holding(setup: MemorySetup, st: StageLayout) -> StageHolding:
    """What a GPU of stage `st` holds; tied embeddings keep a head copy only with pp > 1."""
    m = setup.model
    tied = m is not None and m.tied_embeddings and setup.query.pp == 1
    return StageHolding(
        st.dense_layers,
        st.moe_layers,
        st.has_embedding,
        st.has_lm_head and not tied,
        st.has_lm_head,
    )


def stage_parameters(setup: MemorySetup, st: StageLayout) -> ParameterCount:
    """Ψ of one GPU of stage `st`, by class (see `memory_states.parameter_count`)."""
    q, m = setup.query, setup.model
    if m is None:
        return even_split(round(q.params or 0), q.tp, q.pp)
    return count_parameters(m, holding(setup, st), q.tp, q.ep)


parameter_count = stage_parameters  # the name other modules (communication) import


# ---------------------------------------------------------------- model states


def state_terms(setup: MemorySetup, count: ParameterCount) -> list[Term]:
    q = setup.query
    conv = setup.convention
    nd = setup.data_parallel
    source = f"{conv.source}; ZeRO-{q.zero}" + (f", N_d = dp·cp = {nd}" if q.zero else "")
    return [
        _term(setup, s.name, s.segment, s.expr, source, s.note)
        for s in model_states(conv.name, setup.states, count, nd, q.ep, q.zero)
    ]


def inference_weight_terms(setup: MemorySetup, count: ParameterCount) -> list[Term]:
    """The weights alone, each class at the storage cost of its dtype (block scales included)."""
    st = setup.states
    uniform = st.uniform
    if uniform is not None:
        source, note = (
            weights_source(uniform),
            f"{uniform.name} weights at {number(uniform.bits)} bits",
        )
    else:
        used = {cls for _, cls, _ in count.parts}
        source = "; ".join(sorted({weights_source(st.weights[c]) for c in used}))
        note = ", ".join(f"{c} {st.weights[c].name}" for c in st.weights if c in used)
    expr = weights_expr(st, count, setup.data_parallel, setup.query.ep, False)
    return [_term(setup, "parameters", "parameters", expr, source, note)]


# ---------------------------------------------------------------- activations


def anatomies(setup: MemorySetup) -> tuple[LayerAnatomy | None, LayerAnatomy | None]:
    """The dense and the MoE layer's anatomy (None where the model has no such layer)."""
    m = setup.model
    if m is None:
        return None, None
    shape, kind = setup.shape(), setup.query.anatomy
    dense = layer_anatomy(shape, "dense", kind) if m.n_dense_layers else None
    moe = layer_anatomy(shape, "moe", kind) if m.n_moe_layers else None
    return dense, moe


def _bare(q: Quantity) -> Quantity:
    return Quantity(q.name, q.value, None, q.note)


def activation_terms(setup: MemorySetup, st: StageLayout, peak: float) -> list[Term]:
    """Kept activations: per-layer bytes × layers × microbatches in flight, plus the ends."""
    q, m, plan = setup.query, setup.model, setup.plan
    if m is None or plan is None:
        return []
    in_flight = Quantity(
        "m",
        Fraction(peak).limit_denominator(64),
        note=f"microbatches in flight on this rank at its peak ({plan.schedule})",
    )
    dense, moe = anatomies(setup)
    parts: list[Expr] = []
    show = (lambda a: a.total) if q.anatomy == "gpt" else (lambda a: _bare(a.total))
    if st.dense_layers and dense is not None:
        parts.append(show(dense) * Quantity("L_dense", st.dense_layers))
    if st.moe_layers and moe is not None:
        parts.append(show(moe) * Quantity("L_moe", st.moe_layers))
    terms: list[Term] = []
    if parts:
        expr = (parts[0] if len(parts) == 1 else parts[0] + parts[1]) * in_flight
        src = f"layer anatomy ({q.anatomy}, {q.attention} attention); {SRC_SCHEDULE}"
        terms.append(_term(setup, "activations", "activations", expr, src))
    if st.has_embedding:
        terms.append(_embedding_term(setup, plan.first_in_flight))
    if st.has_lm_head:
        terms.append(_output_term(setup, plan.last_in_flight))
    return terms


def _seq(setup: MemorySetup, width: Expr) -> Expr:
    q = setup.query
    s, b = Quantity("s", setup.tokens), Quantity("b", q.micro_batch)
    e = s * b * width
    return e / Quantity("t", q.tp) if q.sequence_parallel and q.tp > 1 else e


def _embedding_term(setup: MemorySetup, n: float) -> Term:
    """Input ids (int64, on every TP rank) and, with dropout, the embedding's dropout mask."""
    q, m = setup.query, setup.model
    assert m is not None
    s, b = Quantity("s", setup.tokens), Quantity("b", q.micro_batch)
    expr: Expr = 8 * s * b
    what = "input token ids (int64)"
    if setup.dropout or q.anatomy == "gpt":
        expr = expr + _seq(setup, Quantity("h", m.hidden))
        what += " and the embedding dropout mask"
    n_first = Quantity(
        "m_first",
        Fraction(n).limit_denominator(64),
        note="microbatches the first stage holds at once",
    )
    return _term(
        setup,
        "embedding_activations",
        "activations",
        expr * n_first,
        f"{SRC_MEGATRON_EMB} ({what}); {SRC_SCHEDULE}",
        what,
    )


def _output_term(setup: MemorySetup, n: float) -> Term:
    """The final norm's and LM head's inputs and, per `logits`, what the loss keeps."""
    q, m = setup.query, setup.model
    assert m is not None
    s, b, t = Quantity("s", setup.tokens), Quantity("b", q.micro_batch), Quantity("t", q.tp)
    h, v = Quantity("h", m.hidden), Quantity("V", m.vocab)
    if q.anatomy == "gpt":  # Megatron-LM: inputs to the output layer counted at 4 bytes
        inputs: Expr = 4 * _seq(setup, h)
    else:
        stats = 8 if m.norm == "layernorm" else 4
        inputs = 2 * _seq(setup, h) + stats * _seq(setup, Const(1))
        if q.recompute != "selective":
            inputs = inputs + 2 * _seq(setup, h)  # the LM head's input (the norm output)
    vt = v / t if q.tp > 1 else v
    if q.logits == "fp32":
        expr = inputs + 4 * s * b * vt
    elif q.logits == "bf16":
        expr = inputs + 2 * s * b * vt
    else:
        expr = inputs + 2 * _seq(setup, h)
    n_last = Quantity(
        "m_last",
        Fraction(n).limit_denominator(64),
        note="microbatches the last stage holds at once",
    )
    note = f"final norm and LM head inputs, logits {q.logits}"
    return _term(
        setup,
        "output_activations",
        "activations",
        expr * n_last,
        f"{SRC_LOGITS[q.logits]}; {SRC_SCHEDULE}",
        note,
    )


# ---------------------------------------------------------------- KV cache


def kv_cache_terms(setup: MemorySetup, st: StageLayout) -> list[Term]:
    """Keys and values of every cached token of the stage's layers (MLA: one latent).

    Full-attention layers cache every token; sliding-window layers at most the window. For
    example Llama 3 70B in bf16: 2 × 2 × 128 × 8 × 80 = 327,680 bytes per token.
    """
    q, m = setup.query, setup.model
    if m is None:
        return []
    kv_bytes = Quantity("bytes", Fraction(setup.kv.bits) / 8)
    tokens = Quantity("tokens", setup.tokens)
    if st.window_layers:
        win = minimum(Quantity("window", m.sliding_window), tokens)
        cached: Expr = (
            Quantity("L_full", st.layers - st.window_layers) * tokens
            + Quantity("L_window", st.window_layers) * win
        )
        source = f"{SRC_KV}; {SRC_WINDOW}"
    else:
        cached, source = Quantity("L", st.layers) * tokens, SRC_KV
    cached = cached * Quantity("B", q.batch)
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
    return [_term(setup, "kv_cache", "kv_cache", expr, source, "K and V per cached token")]


# ---------------------------------------------------------------- one stage


def stage_memory(setup: MemorySetup, st: StageLayout) -> StageMemory:
    """Every term of one GPU of stage `st`, and their totals by segment."""
    q = setup.query
    count = stage_parameters(setup, st)
    in_flight: float | None = None
    if q.mode == "train":
        assert setup.plan is not None
        in_flight = setup.plan.peak[st.stage]
        terms = state_terms(setup, count) + activation_terms(setup, st, in_flight)
    else:
        terms = inference_weight_terms(setup, count) + kv_cache_terms(setup, st)
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
        microbatches_in_flight=in_flight,
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
