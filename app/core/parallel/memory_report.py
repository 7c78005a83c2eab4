"""Step four of the memory pipeline: the verdict, from the fullest pipeline stage.

Every stage is computed (`memory_stages`); the headline numbers are those of the fullest, and
the verdict compares its total with the GPU's capacity. `memory_advice` then searches for
changes that lower it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.core.parallel.memory_query import MemoryQuery, MemorySetup, resolve
from app.core.parallel.memory_stages import StageMemory, stage_memory
from app.core.parallel.memory_terms import Mode, Term, activation_per_layer

Verdict = Literal["fits", "tight", "over"]

# Above this share of capacity a layout "fits, barely": the CUDA context, NCCL buffers and
# allocator fragmentation often take a few GB that the terms do not count.
TIGHT_FROM = 0.9


def verdict(total: int, capacity: int) -> Verdict:
    """``over`` past capacity, ``tight`` above 90 % of it, else ``fits``.

    For example ``verdict(80, 100) == "fits"`` and ``verdict(95, 100) == "tight"``.
    """
    if total > capacity:
        return "over"
    return "tight" if total > TIGHT_FROM * capacity else "fits"


@dataclass(frozen=True)
class Advice:
    """One change to the query (or a combination) and the total it leads to."""

    change: str
    params: dict[str, int | str | bool]
    total: int
    fits: bool
    world_size: int


@dataclass(frozen=True)
class MemoryReport:
    mode: Mode
    model: str
    gpu: str
    query: dict[str, Any]
    world_size: int
    gpus_per_stage: int
    microbatches: int
    params_total: int
    parameters: int
    gradients: int
    optimizer_states: int
    activations: int
    activations_per_layer: int
    kv_cache: int
    total: int
    capacity: int
    headroom: int
    utilisation: float
    fits: bool
    verdict: Verdict
    worst_stage: int
    terms: tuple[Term, ...]
    per_stage: tuple[StageMemory, ...]
    advice: tuple[Advice, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _notes(setup: MemorySetup) -> list[str]:
    q, m = setup.query, setup.model
    if m is None:
        return [
            "params= only: model states are computed; activations and KV cache need an architecture"
        ]
    if q.mode == "inference":
        return ["Inference: weights and KV cache only; transient activations are not modelled."]
    notes = [
        "Activations use Korthikanti Table 2 (GPT layer: 4h MLP, multi-head attention, "
        "dropout); SwiGLU / GQA layers differ by a few sbh."
    ]
    if q.cp > 1:
        notes.append(f"CP: every activation term uses s = seq_len/cp = {setup.tokens}.")
    if m.is_moe:
        notes.append(
            "MoE layers are counted like dense layers in Table 2; routing buffers for "
            f"the top-{m.experts_per_token} token copies are not modelled."
        )
    if m.mla is not None:
        notes.append("MLA attention is counted as multi-head attention in Table 2.")
    return notes


def _activations_per_layer(setup: MemorySetup) -> int:
    q, m = setup.query, setup.model
    if m is None:
        return 0
    a = activation_per_layer(
        setup.tokens, q.micro_batch, m.hidden, m.heads, q.tp, q.sequence_parallel, q.recompute
    )
    return round(a.value)


def memory_report(q: MemoryQuery, formulas: bool = True) -> MemoryReport:
    """Every stage of `q`, the fullest one's numbers and the verdict (no advice yet).

    ``formulas=False`` leaves every term's formula empty: the bytes are the same.
    """
    setup = replace(resolve(q), formulas=formulas)
    stages = tuple(stage_memory(setup, st) for st in setup.stages)
    worst = max(stages, key=lambda x: (x.total, -x.stage))
    capacity = setup.gpu.memory_bytes
    m = setup.model
    return MemoryReport(
        mode=q.mode,
        model=m.name if m is not None else "params",
        gpu=setup.gpu.name,
        query=setup.effective(),
        world_size=setup.world_size,
        gpus_per_stage=setup.gpus_per_stage,
        microbatches=setup.microbatches,
        params_total=m.total_params if m is not None else round(q.params or 0),
        parameters=worst.parameters,
        gradients=worst.gradients,
        optimizer_states=worst.optimizer_states,
        activations=worst.activations,
        activations_per_layer=_activations_per_layer(setup),
        kv_cache=worst.kv_cache,
        total=worst.total,
        capacity=capacity,
        headroom=capacity - worst.total,
        utilisation=worst.total / capacity,
        fits=worst.total <= capacity,
        verdict=verdict(worst.total, capacity),
        worst_stage=worst.stage,
        terms=worst.terms,
        per_stage=stages,
        notes=tuple(_notes(setup)),
    )
