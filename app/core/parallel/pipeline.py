"""Pipeline-parallel schedules: query → orders → simulation → result → JSON.

`simulate_pipeline("1f1b", stages=4, microbatches=8)` returns a `PipelineResult` holding every
op's rank, stage, microbatch, kind, times and the ops it waited for, the makespan, the bubble
fraction ``1 − Σ busy / (ranks · makespan)``, per-rank busy/idle time and activations in
flight, and the paper's closed form for comparison where one exists. One request flows
through the modules in one direction:

1. `pipeline_query.resolve_query`: names as typed, defaults filled in, every rule checked;
2. `pipeline_schedules`: the schedule's order generator (`pipeline_orders`) and placement;
3. `pipeline_sim.simulate`: times from the orders and the dependency rules (`pipeline_deps`);
4. `pipeline_result.summarise`: makespan, bubble, per-rank statistics, closed form;
5. `pipeline_payload`: the JSON shapes (records, columns, Chrome trace).

Cost convention (issue 3): `forward`, `backward_input` and `backward_weight` are the cost of
one microbatch through one rank's whole share of the model; a chunk (one of the v model
pieces a rank holds) costs that divided by v. Schedules without a split backward run one B of
cost (I + W)/v. `stage_costs` multiplies every op of a stage (e.g. the embedding on the first
stage, the LM head on the last). DualPipeV's overlapped F&B span lasts `forward_backward` (a
per-chunk cost, default the chunk's F + B). With `model` the costs are seconds, derived from
the model's FLOPs and the GPU's throughput (`pipeline_model`); the simulation is the same.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from app.core.limits import LIMITS
from app.core.parallel import pipeline_orders as orders
from app.core.parallel import pipeline_payload as shapes
from app.core.parallel.pipeline_model import EXPLICIT, MODEL_ONLY
from app.core.parallel.pipeline_model import SOURCE as MODEL_SOURCE
from app.core.parallel.pipeline_query import (
    COST_PRESETS,
    FORMAT_TITLES,
    PipelineQuery,
    parse_stage_costs,
    query_of,
    resolve_query,
)
from app.core.parallel.pipeline_result import STAGE_ROLES, PipelineResult, RankStats, summarise
from app.core.parallel.pipeline_schedules import (
    PLACEMENTS,
    SCHEDULES,
    ScheduleSpec,
    rules_text,
)
from app.core.parallel.pipeline_sim import StageCosts, simulate
from app.core.params import spec_of

__all__ = [
    "SCHEDULES",
    "PipelineQuery",
    "PipelineResult",
    "RankStats",
    "ScheduleSpec",
    "catalogue",
    "pipeline_payload",
    "run_pipeline",
    "simulate_pipeline",
]


def simulate_pipeline(
    schedule: str, stages: int, microbatches: int, **params: Any
) -> PipelineResult:
    """Simulate `schedule` with the `PipelineQuery` parameters given (the rest at default).

    For example ``simulate_pipeline("gpipe", 4, 8).makespan == 33.0``: (m + p − 1)(F + B)
    = 11 × 3 with F = 1 and B = I + W = 2. `stage_costs` may be a list of numbers.
    """
    return run_pipeline(query_of(schedule, stages, microbatches, **params))


def run_pipeline(query: PipelineQuery) -> PipelineResult:
    """Resolve `query`, build its schedule's orders and simulate them."""
    q = resolve_query(query)
    spec = SCHEDULES[q.schedule]
    p, m, v = q.stages, q.microbatches, q.chunks
    assert v is not None  # resolved
    stage_rank = orders.rank_of_stage(spec.placement, p, v)
    stage_chunk = orders.chunk_of_stage(spec.placement, p, v)
    timeline = simulate(spec.generator(p, m, v), stage_rank, m, stage_costs(q, spec), q.costs[3])
    return summarise(q, spec, stage_rank, stage_chunk, timeline)


def pipeline_payload(query: PipelineQuery) -> dict[str, Any]:
    """The JSON body of GET /api/v1/pipeline for `query`, in its `format`."""
    result = run_pipeline(query)
    return shapes.payload(result, result.query.format)


def stage_costs(q: PipelineQuery, spec: ScheduleSpec) -> StageCosts:
    """The duration of each kind of op on each stage of resolved query `q`."""
    assert q.chunks is not None
    v, n = q.chunks, q.stages * q.chunks
    k = parse_stage_costs(q.stage_costs, n) or [1.0] * n
    f, b_in, b_w, _ = q.costs
    cf = [f / v * x for x in k]
    cb = [(b_in + b_w) / v * x for x in k]
    pairs: dict[tuple[int, int], float] | None = None
    if spec.overlapped:
        fb = q.forward_backward
        # a rank overlaps the forward of one of its two chunks with the backward of either:
        # stages s and 2p − 1 − s
        pairs = {
            (fs, bs): cf[fs] + cb[bs] if fb is None else fb * (k[fs] + k[bs]) / 2
            for fs in range(n)
            for bs in (fs, n - 1 - fs)
        }
    return StageCosts(cf, cb, [b_in / v * x for x in k], [b_w / v * x for x in k], pairs)


# ---------------------------------------------------------------- the catalogue


def _schedule_entry(spec: ScheduleSpec) -> dict[str, Any]:
    reads = [f.name for f in dataclasses.fields(PipelineQuery) if spec_of(f)]
    if not spec.overlapped:
        reads.remove("forward_backward")
    if spec.chunks.min == spec.chunks.max:
        reads.remove("chunks")
    return {
        "name": spec.name,
        "label": spec.label,
        "title": spec.title,
        "source": spec.source,
        "placement": spec.placement,
        "split_backward": spec.split_backward,
        "overlapped": spec.overlapped,
        "chunks": dataclasses.asdict(spec.chunks),
        "microbatches_multiple_of_stages": spec.microbatches_multiple_of_stages,
        "min_microbatches_per_stage": spec.min_microbatches_per_stage,
        "rules": rules_text(spec),
        "parameters": reads,
    }


_JSON_TYPES: dict[object, str] = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _parameters() -> list[dict[str, Any]]:
    hints = typing.get_type_hints(PipelineQuery)
    out = []
    for f in dataclasses.fields(PipelineQuery):
        spec = spec_of(f)
        if spec is None:
            continue
        args = typing.get_args(hints[f.name])
        base = next(t for t in (args or (hints[f.name],)) if t is not type(None))
        out.append(
            {
                "name": f.name,
                "type": _JSON_TYPES[base],
                "nullable": type(None) in args,
                "default": f.default,
                "description": spec.description,
                "minimum": spec.ge,
                "maximum": spec.le,
            }
        )
    return out


def catalogue() -> dict[str, Any]:
    """GET /api/v1/pipeline/schedules: everything a client needs before it asks for one."""
    return {
        "schedules": [_schedule_entry(s) for s in SCHEDULES.values()],
        "placements": PLACEMENTS,
        "kinds": shapes.kinds(),
        "dependencies": shapes.dependency_rules(),
        "stage_roles": STAGE_ROLES,
        "parameters": _parameters(),
        "formats": [{"name": k, "title": v} for k, v in FORMAT_TITLES.items()],
        "cost_presets": [
            {"name": c.name, "title": c.title, "values": c.values, "source": c.source}
            for c in COST_PRESETS
        ],
        "limits": {k: v.value for k, v in LIMITS.items() if k.startswith("pipeline_")},
        "units": shapes.UNITS,
        "cost_model": {
            "derives": list(EXPLICIT),
            "reads": list(MODEL_ONLY),
            "units": shapes.SECONDS,
            "source": MODEL_SOURCE,
        },
    }
