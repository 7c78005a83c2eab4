"""Per-GPU memory of training and inference under DP/ZeRO, TP, SP, PP, CP and EP.

Every term is returned with its formula (numbers substituted) and its source, per pipeline
stage; the headline numbers are those of the fullest stage. Conventions:

- Ψ counts parameters per GPU after TP (attention, MLP and vocabulary split t ways, norms and
  routers replicated), PP (the stage's layers; embedding on the first stage, LM head on the
  last) and EP (each GPU holds experts/ep of every MoE layer).
- ZeRO shards over the data-parallel ranks N_d = dp·cp (Megatron's distributed optimizer also
  spans the CP ranks, which hold identical weights); expert weights are data-parallel over
  N_d/ep ranks (Megatron's expert-data-parallel group).
- Activations follow Korthikanti et al. 2022 (arXiv 2205.05198) Table 2 with s = seq_len/cp.

For example Ψ = 7.5B, N_d = 64 (ZeRO paper §5): 120 GB (ZeRO-0), 31.4 GB (1), 16.6 GB (2),
1.88 GB (3) of model states per GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.formats import FORMATS
from app.core.parallel.presets import GPUPreset, ModelPreset, get_gpu, get_model

Mode = Literal["train", "inference"]
Recompute = Literal["none", "selective", "full"]

K_ADAM = 12  # fp32 master weights + momentum + variance: ZeRO paper §3.1 ("K = 12")
GRAD_BYTES = 2  # 16-bit gradients, as in the ZeRO paper's 2Ψ + 2Ψ + KΨ

SRC_ZERO = "Rajbhandari et al. 2019 (ZeRO, arXiv 1910.02054) §3.1 and §5, Figure 1"
SRC_KORTHIKANTI = "Korthikanti et al. 2022 (arXiv 2205.05198) Table 2"
SRC_1F1B = (
    "Narayanan et al. 2021 (arXiv 2104.04473) §2.2; Megatron-LM theoretical_memory_usage.py "
    "(1F1B: first stage holds p microbatches; interleaved: × (1 + (p−1)/(p·v)))"
)
SRC_MEGATRON_EMB = "Megatron-LM megatron/training/theoretical_memory_usage.py"
SRC_KV = "KV cache: 2 · bytes · head_dim · kv_heads · layers · tokens · batch (GQA/MQA)"
SRC_MLA = "DeepSeek-V2 (arXiv 2405.04434) §2.1: MLA caches the kv latent + rope key per token"
SRC_MX = "OCP Microscaling Formats (MX) v1.0: 32 elements share one E8M0 scale (4 + 8/32 bits)"
SRC_NVFP4 = "NVIDIA NVFP4: 16 elements share one E4M3 scale (4 + 8/16 bits) + FP32 per tensor"


@dataclass(frozen=True)
class WeightDtype:
    name: str
    bits: float
    source: str


_BLOCK_FORMATS = {
    "mxfp8": WeightDtype("mxfp8", 8 + 8 / 32, SRC_MX),
    "mxfp6": WeightDtype("mxfp6", 6 + 8 / 32, SRC_MX),
    "mxfp4": WeightDtype("mxfp4", 4 + 8 / 32, SRC_MX),
    "nvfp4": WeightDtype("nvfp4", 4 + 8 / 16, SRC_NVFP4),
}
# "fp4" means a deployable 4-bit format, i.e. with its block scales (MXFP4, as gpt-oss ships).
_ALIASES = {
    "bf16": "bfloat16",
    "fp16": "float16",
    "half": "float16",
    "fp32": "float32",
    "fp8": "float8_e4m3fn",
    "e4m3": "float8_e4m3fn",
    "e5m2": "float8_e5m2",
    "fp4": "mxfp4",
}


def dtype_names() -> list[str]:
    return sorted([*FORMATS, *_BLOCK_FORMATS, *_ALIASES])


def resolve_dtype(name: str, field: str = "dtype") -> WeightDtype:
    """Storage cost of a weight / cache dtype, e.g. ``resolve_dtype("fp4").bits == 4.25``."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key in _BLOCK_FORMATS:
        return _BLOCK_FORMATS[key]
    if key in FORMATS:
        return WeightDtype(key, float(FORMATS[key].bits), "ml_dtypes format registry")
    raise InvalidInput(field, f"unknown dtype {name!r}; choose from {', '.join(dtype_names())}")


@dataclass(frozen=True)
class Term:
    name: str
    bytes: int
    formula: str
    source: str


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


@dataclass(frozen=True)
class Advice:
    change: str
    params: dict[str, int | str | bool]
    total: int
    fits: bool


@dataclass(frozen=True)
class MemoryQuery:
    """Inputs, with the API's names and defaults (issue 4)."""

    model: str | None = None
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    ffn: int | None = None
    vocab: int | None = None
    params: float | None = None
    gpu: str = "h100-sxm"
    dp: int = 1
    tp: int = 1
    pp: int = 1
    cp: int = 1
    ep: int = 1
    chunks: int = 1
    zero: int = 0
    micro_batch: int = 1
    microbatches: int | None = None
    seq_len: int = 4096
    batch: int = 1
    recompute: Recompute = "none"
    sequence_parallel: bool = False
    dtype: str = "bfloat16"
    kv_dtype: str = "bfloat16"
    mode: Mode = "train"


@dataclass(frozen=True)
class MemoryReport:
    mode: Mode
    model: str
    gpu: str
    world_size: int
    params_total: int
    parameters: int
    gradients: int
    optimizer_states: int
    activations: int
    activations_per_layer: int
    kv_cache: int
    total: int
    capacity: int
    fits: bool
    worst_stage: int
    terms: tuple[Term, ...]
    per_stage: tuple[StageMemory, ...]
    advice: tuple[Advice, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _n(x: int | float | Fraction) -> str:
    """Readable number for formulas: 7500000000 -> '7,500,000,000', 2.5 -> '2.5'."""
    if isinstance(x, Fraction):
        x = int(x) if x.denominator == 1 else float(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.6g}"


# ---------------------------------------------------------------- activations (Korthikanti)


def activation_bytes_per_layer(
    s: int, b: int, h: int, a: int, t: int, sequence_parallel: bool, recompute: Recompute
) -> tuple[Fraction, str]:
    """Activation bytes of one transformer layer (16-bit activations), Korthikanti Table 2.

    For example GPT-3 175B (s=2048, b=1, h=12288, a=96) with t=8, no recompute, no SP:
    sbh(10 + 24/t + 5as/(ht)) = 25,165,824 × (10 + 3 + 10) = 578,813,952 bytes.
    """
    sbh = s * b * h
    attn = Fraction(5 * a * s, h)
    if recompute == "full":
        if sequence_parallel:
            return Fraction(2 * sbh, t), f"2sbh/t = 2 × {_n(sbh)} / {t}"
        return Fraction(2 * sbh), f"2sbh = 2 × {_n(sbh)}"
    if recompute == "selective":
        if sequence_parallel:
            return Fraction(34 * sbh, t), f"34·sbh/t = 34 × {_n(sbh)} / {t}"
        v = sbh * (10 + Fraction(24, t))
        return v, f"sbh(10 + 24/t) = {_n(sbh)} × (10 + 24/{t})"
    if sequence_parallel:
        v = Fraction(sbh, t) * (34 + attn)
        return v, f"(sbh/t)(34 + 5as/h) = ({_n(sbh)}/{t}) × (34 + 5·{a}·{s}/{h})"
    v = sbh * (10 + Fraction(24, t) + attn / t)
    return v, f"sbh(10 + 24/t + 5as/(ht)) = {_n(sbh)} × (10 + 24/{t} + 5·{a}·{s}/({h}·{t}))"


def _label(sp: bool, recompute: Recompute, t: int) -> str:
    parts = ["TP" if t > 1 else "no TP"]
    if sp:
        parts.append("SP")
    parts.append({"none": "no recompute", "selective": "selective", "full": "full"}[recompute])
    return " + ".join(parts)


# ---------------------------------------------------------------- model and layout


def _custom_model(q: MemoryQuery) -> ModelPreset:
    assert q.layers is not None and q.hidden is not None and q.heads is not None
    if q.hidden % q.heads:
        raise InvalidInput("heads", f"hidden ({q.hidden}) must be a multiple of heads")
    kv = q.kv_heads if q.kv_heads is not None else q.heads
    if q.heads % kv:
        raise InvalidInput("kv_heads", f"heads ({q.heads}) must be a multiple of kv_heads ({kv})")
    return ModelPreset(
        name="custom",
        title="custom",
        layers=q.layers,
        hidden=q.hidden,
        ffn=q.ffn if q.ffn is not None else 4 * q.hidden,
        heads=q.heads,
        kv_heads=kv,
        head_dim=q.hidden // q.heads,
        vocab=q.vocab if q.vocab is not None else 32000,
        tied_embeddings=False,
    )


def _resolve_model(q: MemoryQuery) -> ModelPreset | None:
    custom = [n for n in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab") if getattr(q, n)]
    if q.model is not None:
        if custom:
            raise InvalidInput(custom[0], "give either model= or a custom architecture, not both")
        if q.params is not None:
            raise InvalidInput("params", "give either model= or params=, not both")
        return get_model(q.model)
    if custom:
        for need in ("layers", "hidden", "heads"):
            if getattr(q, need) is None:
                raise InvalidInput(need, "a custom architecture needs layers, hidden and heads")
        if q.params is not None:
            raise InvalidInput("params", "give either a custom architecture or params=, not both")
        return _custom_model(q)
    if q.params is None:
        raise InvalidInput(
            "model",
            "give model= (a preset), a custom architecture (layers, hidden, heads) or params=",
        )
    return None


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


def _check(q: MemoryQuery, m: ModelPreset | None) -> None:
    world = q.dp * q.tp * q.pp * q.cp
    if world > limit("mesh_ranks"):
        # blame the largest degree: with the others at their default 1, it is the one given
        degrees = {"dp": q.dp, "tp": q.tp, "pp": q.pp, "cp": q.cp}
        field = max(degrees, key=lambda k: degrees[k])
        raise InvalidInput(
            field,
            f"dp·tp·pp·cp = {world} exceeds {limit('mesh_ranks')} GPUs; lower {field} "
            f"({degrees[field]}) or another degree",
        )
    if q.chunks > 1 and q.pp == 1:
        raise InvalidInput("chunks", "interleaving (chunks > 1) needs pp > 1")
    if q.ep > 1 and (q.dp * q.cp) % q.ep:
        raise InvalidInput(
            "ep",
            f"ep ({q.ep}) must divide dp·cp ({q.dp * q.cp}): experts are spread over "
            "data-parallel ranks (Megatron convention)",
        )
    if q.seq_len % q.cp:
        raise InvalidInput("cp", f"cp ({q.cp}) must divide seq_len ({q.seq_len})")
    if m is None:
        if q.ep > 1:
            raise InvalidInput("ep", "expert parallelism needs a model architecture, not params=")
        return
    if q.pp * q.chunks > m.layers:
        raise InvalidInput(
            "pp" if q.chunks == 1 else "chunks",
            f"pp·chunks = {q.pp * q.chunks} exceeds the model's {m.layers} layers",
        )
    if m.heads % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the {m.heads} attention heads")
    if m.mla is None and m.kv_heads % q.tp and (q.mode == "train" or q.tp % m.kv_heads):
        raise InvalidInput(
            "tp",
            f"tp ({q.tp}) must divide the {m.kv_heads} KV heads"
            + ("" if q.mode == "train" else " (or be a multiple of them)"),
        )
    if m.ffn % q.tp and m.n_dense_layers:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide ffn ({m.ffn})")
    if m.is_moe and m.expert_ffn % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the expert ffn ({m.expert_ffn})")
    if q.ep > 1 and not m.is_moe:
        raise InvalidInput("ep", f"{m.name} is dense: expert parallelism needs an MoE model")
    if m.is_moe and m.experts % q.ep:
        raise InvalidInput("ep", f"ep ({q.ep}) must divide the {m.experts} experts")


# ---------------------------------------------------------------- per stage


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


def _candidates(
    q: MemoryQuery, m: ModelPreset | None
) -> list[tuple[str, dict[str, int | str | bool]]]:
    cands: list[tuple[str, dict[str, int | str | bool]]] = []
    if q.mode == "train":
        if q.dp * q.cp > 1:
            cands += [(f"raise zero to {z}", {"zero": z}) for z in range(q.zero + 1, 4)]
        if m is not None:
            if q.recompute == "none":
                cands.append(("recompute=selective", {"recompute": "selective"}))
            if q.recompute != "full":
                cands.append(("recompute=full", {"recompute": "full"}))
            if q.tp > 1 and not q.sequence_parallel:
                cands.append(("sequence_parallel=true", {"sequence_parallel": True}))
            if q.micro_batch > 1:
                cands.append(
                    (f"micro_batch={q.micro_batch // 2}", {"micro_batch": q.micro_batch // 2})
                )
            if q.seq_len % (2 * q.cp) == 0:
                cands.append((f"cp={2 * q.cp}", {"cp": 2 * q.cp}))
    else:
        for d in ("float8_e4m3fn", "mxfp4"):
            if resolve_dtype(d).bits < resolve_dtype(q.dtype).bits:
                cands.append((f"dtype={d}", {"dtype": d}))
        if m is not None and resolve_dtype(q.kv_dtype, "kv_dtype").bits > 8:
            cands.append(("kv_dtype=float8_e4m3fn", {"kv_dtype": "float8_e4m3fn"}))
        if q.batch > 1:
            cands.append((f"batch={q.batch // 2}", {"batch": q.batch // 2}))
    cands.append((f"tp={2 * q.tp}", {"tp": 2 * q.tp}))
    cands.append((f"pp={2 * q.pp}", {"pp": 2 * q.pp}))
    if m is not None and m.is_moe and (q.dp * q.cp) % (2 * q.ep) == 0:
        cands.append((f"ep={2 * q.ep}", {"ep": 2 * q.ep}))
    return cands


@lru_cache(maxsize=256)
def _without_advice(q: MemoryQuery) -> MemoryReport | None:
    try:
        return _compute(q, with_advice=False)
    except InvalidInput:
        return None


def _try(q: MemoryQuery, change: dict[str, int | str | bool]) -> MemoryReport | None:
    return _without_advice(replace(q, **change))  # type: ignore[arg-type]


def _describe(changes: dict[str, int | str | bool]) -> str:
    return ", ".join(
        f"raise zero to {v}" if k == "zero" else f"{k}={str(v).lower()}" for k, v in changes.items()
    )


def _advice(q: MemoryQuery, m: ModelPreset | None, total: int, fits: bool) -> list[Advice]:
    """Single changes that lower the total; if none fits, also a greedy combination that does.

    For example Llama 3 70B on dp 8 × tp 8 at 8K tokens needs both ZeRO and recomputation:
    the combined advice reads "raise zero to 3, recompute=full".
    """
    out: list[Advice] = []
    for label, change in _candidates(q, m):
        rep = _try(q, change)
        if rep is not None and rep.total < total:
            out.append(Advice(label, change, rep.total, rep.fits))
    out.sort(key=lambda a: a.total)
    out = out[:8]
    if not fits and out and not any(a.fits for a in out):
        cur = q
        changes: dict[str, int | str | bool] = {}
        best_total = total
        for _ in range(5):
            step = None
            for label, change in _candidates(cur, m):
                rep = _try(cur, change)
                if rep is not None and rep.total < best_total:
                    best_total, step = rep.total, (label, change, rep)
            if step is None:
                break
            changes.update(step[1])
            cur = replace(cur, **step[1])  # type: ignore[arg-type]
            if step[2].fits:
                out.insert(0, Advice(_describe(changes), dict(changes), step[2].total, True))
                break
    return out


def _compute(q: MemoryQuery, with_advice: bool) -> MemoryReport:
    gpu = get_gpu(q.gpu)
    m = _resolve_model(q)
    _check(q, m)
    resolve_dtype(q.dtype)
    resolve_dtype(q.kv_dtype, field="kv_dtype")
    notes: list[str] = []
    if m is None:
        stages = _params_only(q, gpu)
        act_layer = Fraction(0)
        notes.append(
            "params= only: model states are computed; activations and KV cache need an architecture"
        )
        params_total = round(q.params or 0)
    else:
        s = q.seq_len // q.cp
        act_layer, act_formula = activation_bytes_per_layer(
            s, q.micro_batch, m.hidden, m.heads, q.tp, q.sequence_parallel, q.recompute
        )
        act_formula = f"{_label(q.sequence_parallel, q.recompute, q.tp)}: {act_formula}"
        stages = [
            _stage_memory(q, m, gpu, st, r, act_layer, act_formula)
            for r, st in enumerate(_stages(m, q.pp, q.chunks))
        ]
        params_total = m.total_params
        if q.mode == "train":
            notes.append(
                "Activations use Korthikanti Table 2 (GPT layer: 4h MLP, multi-head attention, "
                "dropout); SwiGLU / GQA layers differ by a few sbh."
            )
            if q.cp > 1:
                notes.append(f"CP: every activation term uses s = seq_len/cp = {s}.")
            if m.is_moe:
                notes.append(
                    "MoE layers are counted like dense layers in Table 2; routing buffers for "
                    f"the top-{m.experts_per_token} token copies are not modelled."
                )
            if m.mla is not None:
                notes.append("MLA attention is counted as multi-head attention in Table 2.")
        else:
            notes.append(
                "Inference: weights and KV cache only; transient activations are not modelled."
            )
    worst = max(stages, key=lambda x: (x.total, -x.stage))
    report = MemoryReport(
        mode=q.mode,
        model=m.name if m is not None else "params",
        gpu=gpu.name,
        world_size=q.dp * q.tp * q.pp * q.cp,
        params_total=params_total,
        parameters=worst.parameters,
        gradients=worst.gradients,
        optimizer_states=worst.optimizer_states,
        activations=worst.activations,
        activations_per_layer=round(act_layer),
        kv_cache=worst.kv_cache,
        total=worst.total,
        capacity=gpu.memory_bytes,
        fits=worst.total <= gpu.memory_bytes,
        worst_stage=worst.stage,
        terms=worst.terms,
        per_stage=tuple(stages),
        advice=(),
        notes=tuple(notes),
    )
    if with_advice:
        report = replace(report, advice=tuple(_advice(q, m, report.total, report.fits)))
    return report


def compute_memory(q: MemoryQuery) -> MemoryReport:
    """Per-GPU memory for `q`; headline numbers are the fullest pipeline stage's.

    For example ``compute_memory(MemoryQuery(params=7.5e9, dp=64, zero=3)).total``
    is (2 + 2 + 12) × 7.5e9 / 64 = 1,875,000,000 bytes.
    """
    return _compute(q, with_advice=True)
