"""Memory of one pipeline stage: which layers it holds, and every term they cost.

Ψ counts parameters per GPU after TP, PP and EP (see `app.core.parallel.memory`); the terms
are model states (ZeRO), activations (Korthikanti Table 2 × microbatches in flight) and, for
inference, the KV cache. Totals are sums of the rounded terms, so the bars add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.memory_terms import (
    _BLOCK_FORMATS,
    GRAD_BYTES,
    K_ADAM,
    SRC_1F1B,
    SRC_KORTHIKANTI,
    SRC_KV,
    SRC_MEGATRON_EMB,
    SRC_MLA,
    SRC_ZERO,
    Term,
    _n,
    resolve_dtype,
)
from app.core.parallel.presets import GPUPreset, ModelPreset


@dataclass(frozen=True)
class StageMemory:
    stage: int
    layers: int
    dense_layers: int
    moe_layers: int
    has_embedding: bool
    has_lm_head: bool
    params_per_gpu: int
    parameters: int
    gradients: int
    optimizer_states: int
    activations: int
    kv_cache: int
    total: int
    fits: bool
    terms: tuple[Term, ...]


def layers_per_stage(layers: int, stages: int) -> list[int]:
    """Split `layers` over `stages`, taking any shortfall from the first and last stages.

    Llama 3 (arXiv 2407.21783 §3.3.2) removes one layer each from the first and last stages,
    which hold the embedding and the LM head: ``layers_per_stage(126, 16)`` gives 7, 8 × 14, 7.
    """
    base = -(-layers // stages)
    out = [base] * stages
    deficit = base * stages - layers
    order = [i for pair in zip(range(stages), reversed(range(stages)), strict=True) for i in pair]
    seen: list[int] = []
    for i in order:
        if i not in seen:
            seen.append(i)
    k = 0
    while deficit:
        out[seen[k % stages]] -= 1
        deficit -= 1
        k += 1
    return out


@dataclass(frozen=True)
class _Stage:
    dense: int
    moe: int
    embedding: bool
    lm_head: bool
    final_norm: bool


def _stages(m: ModelPreset, p: int, v: int) -> list[_Stage]:
    """Layers on each pipeline rank; with v chunks, virtual stage k·p + r lives on rank r."""
    chunk_layers = layers_per_stage(m.layers, p * v)
    first = 0
    dense = [0] * p
    moe = [0] * p
    for c, n in enumerate(chunk_layers):
        r = c % p
        idx = range(first, first + n)
        nd = sum(1 for i in idx if i < m.n_dense_layers)
        dense[r] += nd
        moe[r] += n - nd
        first += n
    return [
        _Stage(dense[r], moe[r], embedding=r == 0, lm_head=r == p - 1, final_norm=r == p - 1)
        for r in range(p)
    ]


def _stage_memory(
    q: MemoryQuery,
    m: ModelPreset,
    gpu: GPUPreset,
    st: _Stage,
    r: int,
    act_layer: Fraction,
    act_formula: str,
) -> StageMemory:
    t, p, v = q.tp, q.pp, q.chunks
    pc = m.param_counts()
    w = resolve_dtype(q.dtype)
    wb = Fraction(w.bits) / 8
    vocab_t = -(-m.vocab // t)  # Megatron pads the vocabulary to a multiple of t
    # Non-expert weights on this GPU.
    layer_ne = Fraction(pc.attention_per_layer, t) + pc.norms_per_layer
    dense_ne = st.dense * (layer_ne + Fraction(pc.dense_mlp_per_layer, t))
    moe_ne = st.moe * (layer_ne + pc.router_per_layer + Fraction(pc.shared_expert_per_layer, t))
    emb = vocab_t * m.hidden if st.embedding else 0
    head = 0
    if st.lm_head and (not m.tied_embeddings or p > 1):
        head = vocab_t * m.hidden  # tied + pp > 1: Megatron keeps a copy on the last stage
    norm = m.hidden if st.final_norm else 0
    psi_ne = dense_ne + moe_ne + emb + head + norm
    psi_e = st.moe * Fraction(m.experts // q.ep * pc.expert_params_per_expert, t)
    psi = psi_ne + psi_e
    parts = (
        f"{st.dense} dense + {st.moe} MoE layers"
        + (" + embedding" if emb else "")
        + (" + LM head" if head else "")
    )
    psi_text = f"Ψ = {_n(round(psi))} parameters on this GPU ({parts}; TP {t}, EP {q.ep})"
    terms: list[Term] = []
    nd = q.dp * q.cp
    ned = nd // q.ep
    kv = Fraction(0)
    if q.mode == "train":
        z = q.zero

        def states(per: Fraction, shard: bool) -> tuple[Fraction, str]:
            if not shard:
                return per * psi, f"{_n(per)}·Ψ = {_n(per)} × {_n(round(psi))}"
            if psi_e:
                val = per * (psi_ne / nd + psi_e / ned)
                return val, (
                    f"{_n(per)}·(Ψ_dense/N_d + Ψ_expert/(N_d/ep)) = {_n(per)} × "
                    f"({_n(round(psi_ne))}/{nd} + {_n(round(psi_e))}/{ned})"
                )
            return per * psi / nd, f"{_n(per)}·Ψ/N_d = {_n(per)} × {_n(round(psi))} / {nd}"

        pv, pf = states(wb, z >= 3)
        gv, gf = states(Fraction(GRAD_BYTES), z >= 2)
        ov, of = states(Fraction(K_ADAM), z >= 1)
        zsrc = f"{SRC_ZERO}; ZeRO-{z}" + (f", N_d = dp·cp = {nd}" if z else "")
        terms.append(Term("parameters", round(pv), f"{psi_text}; {w.name}: {pf}", zsrc))
        terms.append(Term("gradients", round(gv), f"16-bit gradients: {gf}", zsrc))
        terms.append(
            Term("optimizer_states", round(ov), f"Adam, K = 12 (fp32 master, m, v): {of}", zsrc)
        )
        # Microbatches in flight on rank r (1F1B: p − r; interleaved: warm-up chunks + 1).
        layers_r = st.dense + st.moe
        if v == 1:
            in_flight = Fraction(p - r)
            if q.microbatches is not None:
                in_flight = min(in_flight, Fraction(q.microbatches))
            layer_mb = layers_r * in_flight
            fl = f"{layers_r} layers × {_n(in_flight)} microbatches in flight (1F1B: p − stage)"
        else:
            chunks_in_flight = 2 * (p - r - 1) + (v - 1) * p + 1
            if q.microbatches is not None:
                chunks_in_flight = min(chunks_in_flight, q.microbatches * v)
            layer_mb = Fraction(layers_r, v) * chunks_in_flight
            in_flight = Fraction(chunks_in_flight, v)
            fl = (
                f"{layers_r}/{v} layers per chunk × {chunks_in_flight} chunks in flight "
                f"(interleaved: 2(p−1−stage) + (v−1)p + 1)"
                + ("; stage 0 = L/p·p·(1 + (p−1)/(p·v))" if r == 0 else "")
            )
        layer_act = act_layer * layer_mb
        terms.append(
            Term(
                "activations",
                round(layer_act),
                f"{act_formula} = {_n(round(act_layer))} B per layer; × {fl}",
                f"{SRC_KORTHIKANTI}; {SRC_1F1B}",
            )
        )
        s = q.seq_len // q.cp
        b = q.micro_batch
        tsp = t if q.sequence_parallel else 1
        if st.embedding:
            e = (8 * s * b + Fraction(s * b * m.hidden, tsp)) * in_flight
            terms.append(
                Term(
                    "embedding_activations",
                    round(e),
                    f"(8sb + sbh/{tsp}) × {_n(in_flight)} in flight = (8·{s}·{b} + "
                    f"{s}·{b}·{m.hidden}/{tsp}) × {_n(in_flight)}",
                    f"{SRC_MEGATRON_EMB} (input ids and embedding dropout mask; Megatron-LM"
                    " divides the whole (8sb + sbh)·p by t, but the int64 input ids are"
                    " replicated on every TP rank, so only the SP-split dropout term is)",
                )
            )
        if st.lm_head:
            o = 4 * s * b * (Fraction(m.hidden, tsp) + Fraction(m.vocab, t))
            terms.append(
                Term(
                    "output_activations",
                    round(o),
                    f"4sb(h/{tsp} + V/t) = 4·{s}·{b}·({m.hidden}/{tsp} + {m.vocab}/{t})",
                    f"{SRC_MEGATRON_EMB} (inputs to the output layer and fp32 logits for the loss)",
                )
            )
        grads, opt = round(gv), round(ov)
        params_b = round(pv)
    else:
        pv = wb * psi
        params_b = round(pv)
        grads = opt = 0
        src = (
            w.source
            if w.name in _BLOCK_FORMATS
            else f"{w.name} stores {_n(w.bits)} bits per element (its ml_dtypes itemsize"
            " for 8- and 16-bit formats; OCP MX v1.0 element widths for FP6/FP4)"
        )
        terms.append(
            Term(
                "parameters",
                params_b,
                f"{psi_text}; {w.name} at {_n(w.bits)} bits: {_n(w.bits)}/8 × {_n(round(psi))}",
                src,
            )
        )
        kvd = resolve_dtype(q.kv_dtype, field="kv_dtype")
        kvb = Fraction(kvd.bits) / 8
        tokens = q.seq_len // q.cp
        layers_r = st.dense + st.moe
        if m.mla is not None:
            width = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
            kv = kvb * width * layers_r * tokens * q.batch
            terms.append(
                Term(
                    "kv_cache",
                    round(kv),
                    f"bytes · (kv_lora_rank + rope_dim) · layers · tokens · batch = {_n(kvb)} × "
                    f"({m.mla.kv_lora_rank} + {m.mla.qk_rope_head_dim}) × {layers_r} × "
                    f"{tokens} × {q.batch} (latent replicated on every TP rank)",
                    SRC_MLA,
                )
            )
        else:
            kvh = m.kv_heads // t if m.kv_heads % t == 0 else 1
            rep = "" if m.kv_heads % t == 0 else f" (tp {t} > kv_heads: heads replicated)"
            kv = 2 * kvb * m.head_dim * kvh * layers_r * tokens * q.batch
            terms.append(
                Term(
                    "kv_cache",
                    round(kv),
                    f"2 · bytes · head_dim · kv_heads/t · layers · tokens/cp · batch = 2 × "
                    f"{_n(kvb)} × {m.head_dim} × {kvh} × {layers_r} × {tokens} × {q.batch}{rep}",
                    SRC_KV,
                )
            )
    # Totals are sums of the rounded terms, so the bars add up exactly.
    act = sum(x.bytes for x in terms if x.name.endswith("activations"))
    kvi = sum(x.bytes for x in terms if x.name == "kv_cache")
    total = sum(x.bytes for x in terms)
    return StageMemory(
        stage=r,
        layers=st.dense + st.moe,
        dense_layers=st.dense,
        moe_layers=st.moe,
        has_embedding=st.embedding,
        has_lm_head=st.lm_head,
        params_per_gpu=round(psi),
        parameters=params_b,
        gradients=grads,
        optimizer_states=opt,
        activations=act,
        kv_cache=kvi,
        total=total,
        fits=total <= gpu.memory_bytes,
        terms=tuple(terms),
    )


def _params_only(q: MemoryQuery, gpu: GPUPreset) -> list[StageMemory]:
    assert q.params is not None
    psi = Fraction(round(q.params)) / (q.tp * q.pp)
    nd = q.dp * q.cp
    w = resolve_dtype(q.dtype)
    wb = Fraction(w.bits) / 8
    z = q.zero
    note = f"Ψ = {_n(round(q.params))}/(t·p) = {_n(round(psi))} per GPU (even split assumed)"
    zsrc = f"{SRC_ZERO}; ZeRO-{z}"
    if q.mode == "inference":
        pv = wb * psi
        terms = [Term("parameters", round(pv), f"{note}; {_n(w.bits)}/8 × Ψ", w.source)]
        gv = ov = Fraction(0)
    else:

        def f(per: Fraction, shard: bool) -> tuple[Fraction, str]:
            if shard:
                return per * psi / nd, f"{_n(per)}·Ψ/N_d = {_n(per)} × {_n(round(psi))} / {nd}"
            return per * psi, f"{_n(per)}·Ψ = {_n(per)} × {_n(round(psi))}"

        pv, pf = f(wb, z >= 3)
        gv, gf = f(Fraction(GRAD_BYTES), z >= 2)
        ov, of = f(Fraction(K_ADAM), z >= 1)
        terms = [
            Term("parameters", round(pv), f"{note}; {pf}", zsrc),
            Term("gradients", round(gv), gf, zsrc),
            Term("optimizer_states", round(ov), f"K = 12: {of}", zsrc),
        ]
    total = round(pv) + round(gv) + round(ov)
    out = []
    for r in range(q.pp):
        out.append(
            StageMemory(
                stage=r,
                layers=0,
                dense_layers=0,
                moe_layers=0,
                has_embedding=r == 0,
                has_lm_head=r == q.pp - 1,
                params_per_gpu=round(psi),
                parameters=round(pv),
                gradients=round(gv),
                optimizer_states=round(ov),
                activations=0,
                kv_cache=0,
                total=total,
                fits=total <= gpu.memory_bytes,
                terms=tuple(terms),
            )
        )
    return out
