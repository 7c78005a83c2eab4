"""Plan a training layout: every TP × PP × DP/ZeRO × CP × EP × schedule × recompute choice for
a model on a cluster, ranked by step time, each checked against memory.

1. `plan_space` enumerates the candidates the constraints allow, feasible by divisibility;
2. `plan_screen` estimates every candidate's step time at once (numpy);
3. walking the candidates fastest first, /memory's model (`memory_report`) keeps those that fit
   until `top` are found. A layout that does not fit also rules out the variants of it that
   keep more (a lower ZeRO stage, less recomputation), without asking the model again;
4. the finalists — the `top` found, plus the leaner variants of the best three, which trade
   step time for memory — are priced exactly by the step-time model of /communication (its
   pipeline simulated with their own costs), and sorted by that step time.

Each layout carries the /memory query that reproduces its memory and links to /memory,
/communication, /pipeline and /mesh with its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.collective_algorithms import LinkQuery
from app.core.parallel.communication import CommunicationQuery
from app.core.parallel.flops import training_flops_per_token
from app.core.parallel.memory_query import MemoryQuery, resolve
from app.core.parallel.memory_report import MemoryReport
from app.core.parallel.network import calibration
from app.core.parallel.pipeline_schedules import SCHEDULE_NAMES, SCHEDULES
from app.core.parallel.presets import GPUPreset, ModelPreset
from app.core.params import param
from app.core.planning.plan_neighbours import neighbours
from app.core.planning.plan_screen import Pricing, Screen
from app.core.planning.plan_search import Memory, Priced, Walk, finalists, shortfall, walk
from app.core.planning.plan_space import (
    NO_PIPELINE,
    RECOMPUTE,
    ZERO_STAGES,
    Constraints,
    Rejected,
    Space,
    enumerate_space,
)
from app.core.planning.query_fields import MODEL_FIELDS, ModelQuery, declared


@dataclass(frozen=True)
class PlanQuery(ModelQuery, LinkQuery):
    """A model, a cluster, a batch and the choices the planner may make."""

    gpus: int = param(
        64, "GPUs to lay the model out on.", example=1024, ge=1, le=limit("mesh_ranks")
    )
    global_batch_tokens: int = param(
        1 << 20,
        "Tokens per optimizer step (a multiple of seq_len).",
        example=4194304,
        ge=1,
        le=limit("throughput_batch_tokens"),
    )
    compute_dtype: Literal["bf16", "fp8"] = declared(CommunicationQuery, "compute_dtype")
    compute_efficiency: float = declared(CommunicationQuery, "compute_efficiency")
    max_tp: int | None = param(
        None,
        "Largest TP degree (default: GPUs per node).",
        example=8,
        ge=1,
        le=limit("parallel_degree"),
    )
    max_pp: int | None = param(
        None,
        "Largest pipeline degree (default: the layers).",
        example=16,
        ge=1,
        le=limit("pipeline_stages"),
    )
    max_cp: int = param(
        1,
        "Largest context-parallel degree (1: no CP).",
        example=8,
        ge=1,
        le=limit("parallel_degree"),
    )
    max_ep: int | None = param(
        None,
        "Largest expert-parallel degree (default: the experts).",
        example=8,
        ge=1,
        le=limit("parallel_degree"),
    )
    max_chunks: int = param(
        4,
        "Most model chunks per rank for interleaved schedules.",
        example=4,
        ge=1,
        le=limit("pipeline_chunks"),
    )
    max_micro_batch: int = param(
        4, "Largest micro batch (sequences) to try.", example=8, ge=1, le=limit("plan_micro_batch")
    )
    schedules: str = param(
        "all",
        "Pipeline schedules allowed, comma separated (or all).",
        example="1f1b,interleaved_1f1b,zb_h1",
        max_length=200,
    )
    zero_stages: str = param(
        ",".join(map(str, ZERO_STAGES)),
        "ZeRO stages allowed, comma separated.",
        example="1,3",
        max_length=20,
    )
    recompute: str = param(
        ",".join(RECOMPUTE),
        "Recomputation allowed: none, selective, full (comma separated).",
        example="selective,full",
        max_length=40,
    )
    top: int = param(
        20,
        "Fastest fitting layouts to price exactly and return.",
        example=10,
        ge=1,
        le=limit("plan_layouts"),
    )


def _split(text: str, field: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise InvalidInput(field, "name at least one option")
    return items


def _schedules(text: str) -> tuple[str, ...]:
    names = (
        list(SCHEDULES)
        if text.strip().lower() == "all"
        else [SCHEDULE_NAMES.resolve(n, "schedules") for n in _split(text, "schedules")]
    )
    return (NO_PIPELINE, *dict.fromkeys(names))


def _zero(text: str) -> tuple[int, ...]:
    out = []
    names = {str(z): z for z in ZERO_STAGES}
    for item in _split(text, "zero_stages"):
        if item not in names:
            raise InvalidInput("zero_stages", f"{item!r} is not a ZeRO stage ({', '.join(names)})")
        out.append(names[item])
    return tuple(sorted(set(out)))


def _recompute(text: str) -> tuple[str, ...]:
    items = [i.lower() for i in _split(text, "recompute")]
    bad = [i for i in items if i not in RECOMPUTE]
    if bad:
        raise InvalidInput("recompute", f"{bad[0]!r} is not one of {', '.join(RECOMPUTE)}")
    return tuple(r for r in RECOMPUTE if r in items)


@dataclass(frozen=True)
class PlanSetup:
    query: PlanQuery
    model: ModelPreset
    gpu: GPUPreset
    base: MemoryQuery
    constraints: Constraints
    peak: float


def _base_memory(q: PlanQuery) -> MemoryQuery:
    return MemoryQuery(**{n: getattr(q, n) for n in (*MODEL_FIELDS, "gpu", "seq_len")})


def plan_setup(q: PlanQuery) -> PlanSetup:
    """Check `q` and resolve what it names (the model, the GPU and the constraints)."""
    base = _base_memory(q)
    resolved = resolve(base)
    model, gpu = resolved.model, resolved.gpu
    assert model is not None  # the query has no params= (an architecture is needed)
    if q.global_batch_tokens % q.seq_len:
        raise InvalidInput(
            "global_batch_tokens",
            f"{q.global_batch_tokens:,} tokens are not whole {q.seq_len}-token sequences",
        )
    tflops = gpu.bf16_tflops if q.compute_dtype == "bf16" else gpu.fp8_tflops
    if tflops is None:
        raise InvalidInput("compute_dtype", f"{gpu.name} has no FP8 tensor cores; use bf16")
    per_node = q.gpus_per_node or calibration(gpu.name).gpus_per_node
    c = Constraints(
        gpus=q.gpus,
        gpus_per_node=per_node,
        seq_len=q.seq_len,
        sequences=q.global_batch_tokens // q.seq_len,
        max_tp=q.max_tp or per_node,
        max_pp=min(q.max_pp or model.layers, limit("pipeline_stages")),
        max_cp=q.max_cp,
        max_ep=q.max_ep or max(1, model.experts),
        max_chunks=q.max_chunks,
        max_micro_batch=q.max_micro_batch,
        schedules=_schedules(q.schedules),
        zero=_zero(q.zero_stages),
        recompute=_recompute(q.recompute),
    )
    base = MemoryQuery(
        **{f.name: getattr(base, f.name) for f in fields(MemoryQuery)} | {"gpu": gpu.name}
    )
    return PlanSetup(q, model, gpu, base, c, tflops * 1e12)


@dataclass(frozen=True, eq=False)
class PlanResult:
    setup: PlanSetup
    space: Space
    walk: Walk
    memory_checks: int
    layouts: tuple[Priced, ...]
    infeasible: tuple[Rejected, ...]

    @property
    def flops_per_token(self) -> int:
        """Model FLOPs per token, as the step-time model counts them (`flops.py`)."""
        return training_flops_per_token(self.setup.model, self.setup.query.seq_len)

    def payload(self) -> dict[str, Any]:
        from app.core.planning.plan_payload import plan_payload

        return plan_payload(self)


def _no_layout(space: Space) -> InvalidInput:
    example = f"; for example {space.rejected[0].detail}" if space.rejected else ""
    return InvalidInput("gpus", f"no layout of these GPUs is feasible{example}")


def plan(q: PlanQuery) -> PlanResult:
    """Rank every feasible layout of `q` by step time (see the module docstring).

    For example Llama 3 8B on one node of 8 H100s fits without a pipeline: the fastest layouts
    have pp = 1, since a pipeline would only add its bubble.
    """
    setup = plan_setup(q)
    space = enumerate_space(setup.model, setup.constraints, setup.gpu.name)
    if space.size == 0:
        raise _no_layout(space)
    cal = calibration(setup.gpu.name)
    nvls = cal.intra_node.nvls_bus_bandwidth is not None if q.nvls is None else q.nvls
    pricing = Pricing(cal, setup.constraints.gpus_per_node, nvls, q)
    screen = Screen(setup.model, setup.base, pricing, setup.peak, q.compute_efficiency)
    estimates = screen.estimate(space)
    estimate = estimates["step"]
    # fastest first; among equal estimates the higher ZeRO stage (less memory), then as listed
    order = np.lexsort((np.arange(space.size), -space.columns["zero"], estimate))
    memory = Memory(setup, limit("plan_memory_checks"))
    found = walk(space, order, estimate, memory, q.top)
    if not found.fits:
        raise _no_fit(found, space)
    priced = sorted(
        finalists(setup, space, found, memory, estimates),
        key=lambda p: (p.step_time, not p.exact, p.memory.total, p.index),
    )
    near = neighbours(setup, space, priced[0], memory)
    faster = [_over(space, i, rep) for i, rep in found.over if estimate[i] < priced[0].step_time]
    seen: set[tuple[Any, ...]] = set()
    rejected = []
    for r in faster[:6] + near:  # one entry per layout (a neighbour may be a faster misfit)
        key = tuple(sorted(r.layout.items()))
        if key not in seen:
            seen.add(key)
            rejected.append(r)
    return PlanResult(setup, space, found, memory.asked, tuple(priced), tuple(rejected))


def _over(space: Space, i: int, rep: MemoryReport) -> Rejected:
    return Rejected(space.layout(i), "memory", "zero", shortfall(rep))


def _no_fit(found: Walk, space: Space) -> InvalidInput:
    why = "" if not found.over else f"; the fastest needs {found.over[0][1].total / 1e9:.1f} GB"
    more = " (memory check budget spent: narrow the constraints)" if found.exhausted else ""
    return InvalidInput("gpus", f"no layout of {space.size:,} candidates fits in memory{why}{more}")


@dataclass(frozen=True)
class PlanExample:
    name: str
    title: str
    query: str


def plan_examples() -> list[PlanExample]:
    """Plans to start from: one node, a 64-GPU pod, a thousand GPUs, an MoE."""
    return [
        PlanExample(
            "llama3-70b-64",
            "Llama 3 70B on 64 H100s, 8K context, 4M-token batches",
            "model=llama3-70b&gpus=64&seq_len=8192&global_batch_tokens=4194304",
        ),
        PlanExample("llama3-8b-8", "Llama 3 8B on one node of 8 H100s", "model=llama3-8b&gpus=8"),
        PlanExample(
            "llama3-70b-1024",
            "Llama 3 70B on 1,024 H100s, context parallelism open",
            "model=llama3-70b&gpus=1024&seq_len=8192&global_batch_tokens=4194304&max_cp=16",
        ),
        PlanExample(
            "mixtral-8x7b-64",
            "Mixtral 8x7B on 64 H100s, expert parallelism open",
            "model=mixtral-8x7b&gpus=64&global_batch_tokens=2097152",
        ),
    ]
