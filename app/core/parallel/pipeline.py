"""Pipeline-parallel schedules: validate the request, build the orders, simulate, summarise.

`simulate_pipeline("1f1b", stages=4, microbatches=8)` returns a `PipelineResult` holding every
op's rank, stage, microbatch, kind and times, the makespan, the bubble fraction
``1 − Σ busy / (ranks · makespan)``, per-rank busy/idle time and activations in flight, and
the paper's closed form for comparison where one exists.

Cost convention (ARCHITECTURE.md, issue 3): `forward`, `backward_input` and `backward_weight`
are the cost of one microbatch through one rank's whole share of the model; a chunk (one of
the v model pieces a rank holds) costs that divided by v. Schedules without a split backward
run one B of cost (I + W)/v. `stage_costs` multiplies every op of a stage (e.g. the embedding
on the first stage, the LM head on the last). DualPipeV's overlapped F&B span lasts
`forward_backward` (a per-chunk cost, default the chunk's F + B).

Activations are counted in microbatches of the rank's whole share: a chunk's forward adds 1/v
when it starts, and the chunk's last backward op (B, or W when the backward is split) takes it
away when it ends. So 1F1B holds p on rank 0, GPipe m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidInput, UnknownName
from app.core.limits import limit
from app.core.parallel import pipeline_orders as orders_mod
from app.core.parallel.pipeline_closed_form import closed_form
from app.core.parallel.pipeline_orders import Generator
from app.core.parallel.pipeline_result import PipelineResult, RankStats, rank_stats
from app.core.parallel.pipeline_sim import StageCosts, simulate

__all__ = [
    "SCHEDULES",
    "PipelineResult",
    "RankStats",
    "ScheduleSpec",
    "parse_stage_costs",
    "simulate_pipeline",
]


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    title: str
    generator: Generator
    placement: str  # "loop" or "v"
    split_backward: bool
    default_chunks: int
    source: str


SCHEDULES: dict[str, ScheduleSpec] = {
    s.name: s
    for s in (
        ScheduleSpec(
            "gpipe",
            "GPipe: all forwards, then all backwards",
            orders_mod.gpipe,
            "loop",
            False,
            1,
            "Huang et al. 2019, GPipe, arXiv 1811.06965",
        ),
        ScheduleSpec(
            "1f1b",
            "1F1B (PipeDream-Flush), as in Megatron-LM",
            orders_mod.one_f_one_b,
            "loop",
            False,
            1,
            "Narayanan et al. 2021, arXiv 2104.04473 §2.2; Megatron-LM schedules.py",
        ),
        ScheduleSpec(
            "interleaved_1f1b",
            "Interleaved 1F1B with v model chunks per rank",
            orders_mod.interleaved_1f1b,
            "loop",
            False,
            2,
            "Narayanan et al. 2021, arXiv 2104.04473 §2.2; Megatron-LM "
            "forward_backward_pipelining_with_interleaving",
        ),
        ScheduleSpec(
            "zb_h1",
            "ZB-H1: 1F1B with the weight backward deferred into the bubbles",
            orders_mod.zb_h1,
            "loop",
            True,
            1,
            "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1; "
            "order of Megatron-DeepSpeed ZeroBubbleH1Pipeline (exact semantics)",
        ),
        ScheduleSpec(
            "zb_h2",
            "ZB-H2: extra warm-up forwards, weight backwards moved to the tail",
            orders_mod.zb_h2,
            "loop",
            True,
            1,
            "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1 "
            "(order reconstructed from the paper's description)",
        ),
        ScheduleSpec(
            "zbv",
            "ZB-V: V-shaped placement of 2 chunks per rank, zero bubble at 1F1B memory",
            orders_mod.zbv,
            "v",
            True,
            2,
            "Qi et al. 2023, arXiv 2401.10241 §6; torch.distributed.pipelining "
            "ScheduleZBVZeroBubble",
        ),
        ScheduleSpec(
            "dualpipev",
            "DualPipeV: V-shaped DualPipe with overlapped forward & backward spans",
            orders_mod.dualpipev,
            "v",
            True,
            2,
            "DeepSeek-AI 2024, arXiv 2412.19437 §3.2.1; deepseek-ai/DualPipe dualpipev.py",
        ),
    )
}


def _check_cost(field: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(field, "must be a finite number")
    if value < 0:
        raise InvalidInput(field, f"must be ≥ 0 (got {value:g}); costs are durations")
    if value > limit("pipeline_cost"):
        raise InvalidInput(field, f"must be at most {limit('pipeline_cost'):g} (got {value:g})")
    return value


def parse_stage_costs(
    text: str | Sequence[float] | None, num_stages: int, field: str = "stage_costs"
) -> list[float] | None:
    """Per-stage multipliers from ``"1.5,1,1,2"`` (one per stage, 0..p·v−1), or None."""
    if text is None:
        return None
    if isinstance(text, str):
        if not text.strip():
            return None
        try:
            values = [float(x) for x in text.split(",")]
        except ValueError:
            raise InvalidInput(
                field, "give comma-separated numbers, one per stage, e.g. 1.2,1,1,1.5"
            ) from None
    else:
        values = [float(x) for x in text]
    if len(values) != num_stages:
        raise InvalidInput(
            field,
            f"needs exactly {num_stages} multipliers (one per stage = stages × chunks), "
            f"got {len(values)}",
        )
    for v in values:
        if not math.isfinite(v) or v < 0 or v > limit("pipeline_stage_multiplier"):
            raise InvalidInput(
                field,
                f"multipliers must be finite, ≥ 0 and at most "
                f"{limit('pipeline_stage_multiplier')} (got {v:g})",
            )
    return values


def simulate_pipeline(
    schedule: str,
    stages: int,
    microbatches: int,
    chunks: int | None = None,
    forward: float = 1.0,
    backward_input: float = 1.0,
    backward_weight: float = 1.0,
    p2p: float = 0.0,
    forward_backward: float | None = None,
    stage_costs: str | Sequence[float] | None = None,
) -> PipelineResult:
    """Build the orders of `schedule` and simulate them.

    For example ``simulate_pipeline("gpipe", 4, 8).makespan == 33.0``: (m + p − 1)(F + B)
    = 11 × 3 with F = 1 and B = I + W = 2.
    """
    spec = SCHEDULES.get(schedule)
    if spec is None:
        raise UnknownName("schedule", schedule, SCHEDULES, field="schedule")
    p, m = int(stages), int(microbatches)
    if not 1 <= p <= limit("pipeline_stages"):
        raise InvalidInput("stages", f"must be between 1 and {limit('pipeline_stages')}")
    if not 1 <= m <= limit("pipeline_microbatches"):
        raise InvalidInput(
            "microbatches", f"must be between 1 and {limit('pipeline_microbatches')}"
        )
    v = spec.default_chunks if chunks is None else int(chunks)
    _check_chunks(spec, p, m, v)
    fwd = _check_cost("forward", forward)
    b_in = _check_cost("backward_input", backward_input)
    b_w = _check_cost("backward_weight", backward_weight)
    lat = _check_cost("p2p", p2p)
    fb = None if forward_backward is None else _check_cost("forward_backward", forward_backward)
    num_stages = p * v
    mult = parse_stage_costs(stage_costs, num_stages)
    if fwd + b_in + b_w == 0:
        raise InvalidInput("forward", "forward, backward_input and backward_weight cannot all be 0")
    if mult is not None and max(mult) == 0:
        raise InvalidInput("stage_costs", "at least one stage multiplier must be positive")
    per_mb = 3 if spec.split_backward else 2
    ops = num_stages * m * per_mb
    if ops > limit("pipeline_ops"):
        raise InvalidInput(
            "microbatches",
            f"{p} stages × {v} chunks × {m} microbatches make {ops:,} ops, over the limit of "
            f"{limit('pipeline_ops'):,}; use fewer microbatches or stages",
        )

    stage_rank = orders_mod.rank_of_stage(spec.placement, p, v)
    stage_chunk = orders_mod.chunk_of_stage(spec.placement, p, v)
    costs = _stage_costs(spec, stage_rank, v, fwd, b_in, b_w, fb, mult)
    orders = spec.generator(p, m, v)
    timeline = simulate(orders, stage_rank, m, costs, lat)

    makespan = max(timeline.end) if timeline.end else 0.0
    busy = timeline.rank_busy
    bubble = 1.0 - sum(busy) / (p * makespan) if makespan > 0 else 0.0
    per_rank = rank_stats(timeline, p, v, makespan)
    parameters: dict[str, Any] = {
        "schedule": schedule,
        "stages": p,
        "microbatches": m,
        "chunks": v,
        "forward": fwd,
        "backward_input": b_in,
        "backward_weight": b_w,
        "p2p": lat,
        "forward_backward": fb,
        "stage_costs": mult,
    }
    cf = closed_form(schedule, p, m, v, fwd, b_in, b_w, fb)
    if cf is not None and (lat > 0 or (mult is not None and len(set(mult)) > 1)):
        cf = cf.not_applicable("the closed form assumes p2p = 0 and equal stage costs")
    return PipelineResult(
        schedule=schedule,
        title=spec.title,
        source=spec.source,
        stages=p,
        microbatches=m,
        chunks=v,
        placement=spec.placement,
        parameters=parameters,
        stage_to_rank=stage_rank,
        stage_to_chunk=stage_chunk,
        timeline=timeline,
        makespan=makespan,
        bubble_fraction=bubble,
        per_rank=per_rank,
        closed_form=cf,
    )


def _check_chunks(spec: ScheduleSpec, p: int, m: int, v: int) -> None:
    name = spec.name
    if not 1 <= v <= limit("pipeline_chunks"):
        raise InvalidInput("chunks", f"must be between 1 and {limit('pipeline_chunks')}")
    if spec.placement == "v" and v != 2:
        raise InvalidInput(
            "chunks", f"{name} places exactly 2 chunks per rank (a V); set chunks=2 (got {v})"
        )
    if name == "interleaved_1f1b":
        if v < 2:
            raise InvalidInput(
                "chunks",
                f"interleaved_1f1b needs at least 2 chunks per rank (got {v}); use 1f1b for 1",
            )
        if m % p:
            # Megatron-LM's interleaved schedule asserts this too ("number of microbatches
            # is not divisible by pipeline-model-parallel-size"): with a short last group
            # the fixed warm-up count can make ranks wait on each other forever.
            lo = max(p, m - m % p)
            raise InvalidInput(
                "microbatches",
                f"interleaved_1f1b needs microbatches to be a multiple of stages ({p}), as in "
                f"Megatron-LM; got {m}, try {lo} or {lo + p}",
            )
    elif spec.placement == "loop" and v != 1:
        raise InvalidInput(
            "chunks",
            f"{name} holds one model chunk per rank; set chunks=1 "
            f"(or use interleaved_1f1b, zbv or dualpipev for more)",
        )
    if name == "dualpipev" and m < 2 * p:
        raise InvalidInput(
            "microbatches",
            f"dualpipev needs at least 2 × stages = {2 * p} microbatches (got {m})",
        )


def _stage_costs(
    spec: ScheduleSpec,
    stage_rank: list[int],
    v: int,
    fwd: float,
    b_in: float,
    b_w: float,
    fb: float | None,
    mult: list[float] | None,
) -> StageCosts:
    n = len(stage_rank)
    k = [1.0] * n if mult is None else mult
    cf = [fwd / v * x for x in k]
    ci = [b_in / v * x for x in k]
    cw = [b_w / v * x for x in k]
    cb = [(b_in + b_w) / v * x for x in k]
    pairs: dict[tuple[int, int], float] | None = None
    if spec.name == "dualpipev":
        pairs = {}
        for fs in range(n):
            for bs in (fs, n - 1 - fs):
                # the two chunks a rank holds: stage s and 2p − 1 − s
                pairs[(fs, bs)] = cf[fs] + cb[bs] if fb is None else fb * (k[fs] + k[bs]) / 2
    return StageCosts(cf, cb, ci, cw, pairs)
