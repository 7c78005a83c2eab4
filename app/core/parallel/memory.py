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

This module assembles the report from the fullest stage and searches for advice; the query
and its validation live in `memory_query`, each stage's layers and terms in `memory_stages`,
and the dtypes, activation formula and sources in `memory_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from app.core.errors import InvalidInput
from app.core.parallel.memory_query import MemoryQuery, _check, _resolve_model
from app.core.parallel.memory_stages import (
    StageMemory,
    _params_only,
    _stage_memory,
    _stages,
    layers_per_stage,
)
from app.core.parallel.memory_terms import (
    Mode,
    Recompute,
    Term,
    WeightDtype,
    _label,
    activation_bytes_per_layer,
    dtype_names,
    resolve_dtype,
)
from app.core.parallel.presets import ModelPreset, get_gpu

# The query, stage and term types live in memory_query / memory_stages / memory_terms; every
# public name stays importable from here.
__all__ = [
    "Advice",
    "MemoryQuery",
    "MemoryReport",
    "Mode",
    "Recompute",
    "StageMemory",
    "Term",
    "WeightDtype",
    "activation_bytes_per_layer",
    "compute_memory",
    "dtype_names",
    "layers_per_stage",
    "resolve_dtype",
]


@dataclass(frozen=True)
class Advice:
    change: str
    params: dict[str, int | str | bool]
    total: int
    fits: bool


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
