"""Step four of the memory pipeline: the verdict, from the fullest pipeline stage.

Every stage is computed (`memory_stages`); the headline numbers are those of the fullest, and
the verdict compares its total with the GPU's capacity less the stated overhead (CUDA
context, NCCL buffers, allocator fragmentation: bytes no term counts). The report also
carries what the page draws beside the bars: the layer anatomy, the simulated schedule
(bubble and activations over time), the accounting convention, the published layout the
query reproduces (if any) and links to the same layout in /pipeline and /mesh.
`memory_advice` then searches for changes that lower the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from app.core.parallel.memory_anatomy import LayerAnatomy
from app.core.parallel.memory_query import MemoryQuery, MemorySetup, resolve
from app.core.parallel.memory_schedule import STRIP_BUCKETS
from app.core.parallel.memory_stages import StageMemory, anatomies, stage_memory
from app.core.parallel.memory_terms import Mode, Term
from app.core.parallel.presets import PARALLEL_PRESETS
from app.core.symbolic import explain

Verdict = Literal["fits", "tight", "over"]

LEFT_OUT = (
    "Not counted: buffers that live inside one op (matmul workspaces, all-to-all staging), "
    "RNG state, the bf16 logits before their fp32 upcast, CUDA-graph pools and allocator "
    "fragmentation — the overhead stands for them. Routing is assumed balanced (dropless "
    "routing can put more tokens on a hot rank)."
)


def verdict(total: int, capacity: int, overhead: int) -> Verdict:
    """``over`` past capacity, ``tight`` when less than `overhead` stays free, else ``fits``.

    For example ``verdict(78, 80, 4) == "tight"`` and ``verdict(70, 80, 4) == "fits"``.
    """
    if total > capacity:
        return "over"
    return "tight" if capacity - total < overhead else "fits"


@dataclass(frozen=True)
class Advice:
    """One change to the query (or a combination), the total it leads to, and its cost."""

    change: str
    params: dict[str, int | str | bool]
    total: int
    fits: bool
    verdict: Verdict
    world_size: int
    cost: str
    rank: int


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
    overhead: int
    usable: int
    headroom: int
    utilisation: float
    fits: bool
    verdict: Verdict
    worst_stage: int
    terms: tuple[Term, ...]
    per_stage: tuple[StageMemory, ...]
    weights: dict[str, str]
    weights_default: str
    convention: dict[str, str]
    accounting: str
    anatomy: dict[str, Any] | None
    schedule: dict[str, Any] | None
    layout: dict[str, Any] | None
    links: dict[str, str]
    advice: tuple[Advice, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _notes(setup: MemorySetup) -> list[str]:
    q, m = setup.query, setup.model
    if m is None:
        return [
            "params= only: model states are computed; activations and KV cache need an architecture"
        ]
    if q.mode == "inference":
        notes = ["Inference: weights and KV cache only; transient activations are not modelled."]
        if m.sliding_window:
            notes.append(
                f"Sliding-window layers cache at most {m.sliding_window:,} tokens; the others "
                "the whole context."
            )
        return notes
    notes = []
    if q.cp > 1:
        notes.append(f"CP: every activation uses s = seq_len/cp = {setup.tokens:,} tokens.")
    if m.is_moe and q.anatomy == "model":
        notes.append(
            "MoE: each GPU's experts receive k·s·b token copies per microbatch on average"
            + (
                " (dropless, balanced routing)."
                if q.capacity_factor is None
                else f", padded to capacity factor {q.capacity_factor:g}."
            )
        )
    if q.anatomy == "gpt":
        notes.append(
            "Korthikanti's GPT layer (4h GELU MLP, multi-head attention, dropout), "
            "not the model's own layer: anatomy=model counts its real tensors."
        )
    return notes


def _accounting(setup: MemorySetup) -> str:
    """Which framework's accounting the numbers follow, in one sentence."""
    q = setup.query
    if q.mode == "inference":
        return (
            "Inference: the weights as each tensor class is stored (block scales included) "
            "and the KV cache, layer by layer; no optimizer, no activations."
        )
    parts = [f"Model states: {setup.convention.title}"]
    if setup.model is not None and q.mode == "train":
        kernel = "FlashAttention" if q.attention == "flash" else "eager attention"
        layer = "the model's own layer" if q.anatomy == "model" else "Korthikanti's GPT layer"
        parts.append(
            f"activations: {layer} with {kernel} (Megatron-Core / TransformerEngine "
            "kernels), logits " + q.logits
        )
    return "; ".join(parts) + "."


def _anatomy(setup: MemorySetup) -> dict[str, Any] | None:
    if setup.model is None or setup.query.mode != "train":
        return None

    def layer(a: LayerAnatomy) -> dict[str, Any]:
        return {
            "kind": a.kind,
            "bytes": round(a.total.value),
            "recomputed": [{"name": k.name, "bytes": round(k.expr.value)} for k in a.dropped],
            "tensors": [
                {
                    "name": k.name,
                    "part": k.part,
                    "bytes": round(k.expr.value),
                    "formula": explain(k.expr) if setup.formulas else "",
                    "source": k.source,
                }
                for k in a.kept
            ],
        }

    return {
        "anatomy": setup.query.anatomy,
        "attention": setup.query.attention,
        "recompute": setup.query.recompute,
        "layers": [layer(a) for a in anatomies(setup) if a is not None],
        "left_out": LEFT_OUT,
    }


def _schedule(setup: MemorySetup) -> dict[str, Any] | None:
    plan = setup.plan
    if plan is None:
        return None
    return {
        "name": plan.schedule,
        "title": plan.title,
        "source": plan.source,
        "stages": plan.stages,
        "chunks": plan.chunks,
        "microbatches": plan.microbatches,
        "simulated": plan.simulated,
        "bubble_fraction": plan.bubble_fraction,
        "makespan": plan.makespan,
        "peak": list(plan.peak),
        "first_in_flight": plan.first_in_flight,
        "last_in_flight": plan.last_in_flight,
        "strip_buckets": STRIP_BUCKETS,
        "strip": [list(r) for r in plan.strip],
    }


def _links(setup: MemorySetup) -> dict[str, str]:
    """The same layout in /pipeline (schedule, stages, microbatches, chunks) and /mesh.

    With a preset model the /pipeline link also carries the model, GPU, tp, cp, sequence,
    microbatch size and recomputation, so /pipeline shows the schedule in seconds.
    """
    q = setup.query
    out: dict[str, str] = {}
    if setup.plan is not None and q.pp > 1:
        p = setup.plan
        args: dict[str, object] = {
            "schedule": p.schedule,
            "stages": p.stages,
            "microbatches": p.microbatches,
        }
        if p.chunks > 1:
            args["chunks"] = p.chunks
        if setup.model is not None and q.model is not None:
            args.update(model=setup.model.name, gpu=setup.gpu.name, tp=q.tp, cp=q.cp)
            args.update(seq_len=q.seq_len, micro_batch=q.micro_batch, recompute=q.recompute)
        out["pipeline"] = "/pipeline?" + urlencode(args)
    axes = []
    dp, ep = q.dp, q.ep
    if ep > 1 and dp % ep == 0:
        axes += [("dp", dp // ep), ("ep", ep)]
    else:
        axes.append(("dp", dp))
    axes += [("pp", q.pp), ("cp", q.cp), ("tp", q.tp)]
    shown = [f"{k}:{v}" for k, v in axes if v > 1] or ["dp:1"]
    out["mesh"] = "/mesh?" + urlencode(
        {"axes": ",".join(shown), "gpus_per_node": setup.gpu.gpus_per_node}, safe=":,"
    )
    return out


def _layout(effective: dict[str, Any]) -> dict[str, Any] | None:
    """The parallel preset whose every memory-query parameter the query has, if any."""

    def same(k: str, v: str) -> bool:
        mine = effective.get(k)
        if isinstance(mine, bool):
            return str(mine).lower() == v
        return mine is not None and str(mine) == v

    for p in PARALLEL_PRESETS.values():
        if all(same(k, v) for k, v in parse_qsl(p.memory_query())):
            return {
                "name": p.name,
                "title": p.title,
                "provenance": p.provenance,
                "source": p.source,
                "notes": p.notes,
                "assumed": p.assumed,
            }
    return None


def _per_layer(setup: MemorySetup) -> int:
    dense, moe = anatomies(setup)
    a = dense or moe
    return round(a.total.value) if a is not None else 0


def memory_report(q: MemoryQuery, formulas: bool = True) -> MemoryReport:
    """Every stage of `q`, the fullest one's numbers and the verdict (no advice yet).

    ``formulas=False`` leaves every term's formula empty: the bytes are the same.
    """
    setup = replace(resolve(q, timeline=formulas), formulas=formulas)
    stages = tuple(stage_memory(setup, st) for st in setup.stages)
    worst = max(stages, key=lambda x: (x.total, -x.stage))
    capacity, overhead = setup.gpu.memory_bytes, setup.overhead
    m = setup.model
    eff = setup.effective()
    return MemoryReport(
        mode=q.mode,
        model=m.name if m is not None else "params",
        gpu=setup.gpu.name,
        query=eff,
        world_size=setup.world_size,
        gpus_per_stage=setup.gpus_per_stage,
        microbatches=setup.microbatches,
        params_total=m.total_params if m is not None else round(q.params or 0),
        parameters=worst.parameters,
        gradients=worst.gradients,
        optimizer_states=worst.optimizer_states,
        activations=worst.activations,
        activations_per_layer=_per_layer(setup) if q.mode == "train" else 0,
        kv_cache=worst.kv_cache,
        total=worst.total,
        capacity=capacity,
        overhead=overhead,
        usable=capacity - overhead,
        headroom=capacity - worst.total,
        utilisation=worst.total / capacity,
        fits=worst.total <= capacity,
        verdict=verdict(worst.total, capacity, overhead),
        worst_stage=worst.stage,
        terms=worst.terms,
        per_stage=stages,
        weights={c: w.name for c, w in setup.states.weights.items()},
        weights_default="as the checkpoint ships" if q.mode == "inference" and m else "bfloat16",
        convention={
            "name": setup.convention.name,
            "title": setup.convention.title,
            "source": setup.convention.source,
        },
        accounting=_accounting(setup),
        anatomy=_anatomy(setup) if formulas else None,
        schedule=_schedule(setup),
        layout=_layout(eff) if formulas else None,
        links=_links(setup),
        notes=tuple(_notes(setup)),
    )
