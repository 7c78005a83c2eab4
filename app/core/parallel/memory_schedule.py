"""Microbatches in flight from the pipeline simulator, so /memory and /pipeline agree.

Part of resolving a memory query (`memory_query`). The schedule decides how many microbatches
of activations a pipeline rank holds at once; rather than a closed form per schedule family,
the memory model runs the same simulation as GET /api/v1/pipeline (`simulate_pipeline` with
its default unit costs F = I = W = 1) and reads, per rank, the peak activations it reports
(in microbatches of the rank's whole share: a chunk counts 1/v). The first and the last
virtual stage (embedding and LM head) are counted on their own, from the same simulated ops:
their microbatches are alive from a forward's start to the end of that stage's last backward
op, the rule the simulator uses for a rank.

For example 1F1B on p = 4 ranks holds 4, 3, 2, 1 microbatches on ranks 0..3 (Narayanan et
al. 2021 §2.2), GPipe holds all m on every rank, and ZB-V holds about 1F1B's peak with both
the embedding and the LM head on rank 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from app.core.errors import InvalidInput
from app.core.names import Registry
from app.core.parallel.pipeline import SCHEDULES, simulate_pipeline
from app.core.parallel.pipeline_orders import F

SCHEDULE_NAMES = Registry("schedule", SCHEDULES)
STRIP_BUCKETS = 96  # time buckets of the activation strip: each holds the peak within it


@dataclass(frozen=True)
class SchedulePlan:
    """One simulated schedule as the memory model needs it.

    `peak[r]` is rank r's peak activations in microbatches of its whole share (the
    simulator's `peak_activations`); `first_in_flight` and `last_in_flight` are the most
    microbatches the first and the last virtual stage hold at once; `strip[r]` is rank r's
    activations over time, the peak within each of `STRIP_BUCKETS` equal slices of the
    makespan.
    """

    schedule: str
    title: str
    source: str
    stages: int
    chunks: int
    microbatches: int
    stage_to_rank: tuple[int, ...]
    peak: tuple[float, ...]
    first_in_flight: float
    last_in_flight: float
    bubble_fraction: float
    makespan: float
    strip: tuple[tuple[float, ...], ...]
    simulated: bool = True


def resolve_schedule(name: str) -> str:
    """The schedule's registry name, e.g. ``resolve_schedule("ZB-V") == "zbv"``."""
    return SCHEDULE_NAMES.resolve(name, "schedule")


def default_microbatches(schedule: str, p: int, v: int) -> int:
    """The fewest microbatches at which no rank's warm-up is cut short (the default).

    1F1B, GPipe and ZB-H1: p. Interleaved 1F1B: rank 0 warms up with 2(p − 1) + (v − 1)p + 1
    chunk forwards, rounded up to a multiple of p microbatches (Megatron-LM requires one).
    ZB-H2 warms up with up to 2p − 1 forwards and the V schedules run two chunks per rank: 2p.
    For example ``default_microbatches("interleaved_1f1b", 4, 2) == 8``.
    """
    if p == 1:
        return 1
    if schedule == "interleaved_1f1b":
        chunks = 2 * (p - 1) + (v - 1) * p + 1
        return p * -(-chunks // (p * v))
    if schedule in ("zb_h2", "zbv", "dualpipev"):
        return 2 * p
    return p


def _in_flight_of_stage(
    stage: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray, mb: np.ndarray, s: int
) -> float:
    """Most microbatches virtual stage `s` holds: from an F's start to its last backward's end."""
    mine = stage == s
    fwd = mine & (kind == F)
    back = mine & (kind != F)
    # the last backward op of each microbatch releases it
    bm, be = mb[back], end[back]
    order = np.lexsort((be, bm))
    bm, be = bm[order], be[order]
    last = np.ones(len(bm), dtype=bool)
    last[:-1] = bm[1:] != bm[:-1]
    t = np.concatenate([start[fwd], be[last]])
    d = np.concatenate([np.ones(int(fwd.sum())), -np.ones(int(last.sum()))])
    o = np.lexsort((d, t))  # releases before acquisitions at the same instant
    return float(np.cumsum(d[o]).max()) if len(o) else 0.0


def _strip(times: list[float], counts: list[float], makespan: float) -> tuple[float, ...]:
    """The step function's peak within each of STRIP_BUCKETS equal time slices."""
    if makespan <= 0:
        return (0.0,) * STRIP_BUCKETS
    t = np.asarray(times, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    edges = np.linspace(0.0, makespan, STRIP_BUCKETS + 1)
    # level at each bucket's start, then the peak of every step starting inside the bucket
    at_start = c[np.clip(np.searchsorted(t, edges[:-1], side="right") - 1, 0, len(c) - 1)]
    out = at_start.copy()
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, STRIP_BUCKETS - 1)
    np.maximum.at(out, idx, c)
    return tuple(np.round(out, 6).tolist())


def _simulated(schedule: str, p: int, v: int | None, at_least: int) -> int | None:
    """A microbatch count ≥ `at_least` already simulated for this schedule, p and v, if any."""
    done = [m for m in _DONE.get((schedule, p, v), ()) if m >= at_least]
    return min(done) if done else None


_DONE: dict[tuple[str, int, int | None], set[int]] = {}


@lru_cache(maxsize=64)  # a layout's stages, its advice and the next request ask again
def plan_schedule(schedule: str, p: int, m: int, v: int | None) -> SchedulePlan:
    """Simulate `schedule` on p ranks with m microbatches (v chunks, None: its default).

    Without a pipeline (p = 1) nothing is simulated: each microbatch's backward ends before
    the next forward starts (gradient accumulation), so one is in flight. The simulator's
    `InvalidInput` names its own fields; they are renamed to this query's (`pp`).
    """
    spec = SCHEDULES[schedule]
    if p == 1:
        chunks = 1 if v is None else v
        return SchedulePlan(
            schedule,
            spec.title,
            spec.source,
            1,
            chunks,
            m,
            (0,) * chunks,
            (1.0,),
            1.0,
            1.0,
            0.0,
            0.0,
            ((1.0,) * STRIP_BUCKETS,),
            simulated=False,
        )
    try:
        result = simulate_pipeline(schedule, p, m, chunks=v)
    except InvalidInput as e:
        field = {"stages": "pp"}.get(e.field, e.field)
        raise InvalidInput(field, e.msg) from None
    if len(_DONE) > 256:
        _DONE.clear()  # only a hint: a miss costs one more (capped) simulation
    _DONE.setdefault((schedule, p, v), set()).add(m)
    tl = result.timeline
    stage = np.asarray(tl.stage, dtype=np.int64)
    kind = np.asarray(tl.kind, dtype=np.int64)
    start = np.asarray(tl.start, dtype=np.float64)
    end = np.asarray(tl.end, dtype=np.float64)
    mb = np.asarray(tl.microbatch, dtype=np.int64)
    n = len(result.stage_to_rank)
    return SchedulePlan(
        schedule=schedule,
        title=spec.title,
        source=spec.source,
        stages=p,
        chunks=result.chunks,
        microbatches=m,
        stage_to_rank=tuple(result.stage_to_rank),
        peak=tuple(r.peak_activations for r in result.per_rank),
        first_in_flight=_in_flight_of_stage(stage, kind, start, end, mb, 0),
        last_in_flight=_in_flight_of_stage(stage, kind, start, end, mb, n - 1),
        bubble_fraction=result.bubble_fraction,
        makespan=result.makespan,
        strip=tuple(
            _strip(r.activation_times, r.activation_counts, result.makespan)
            for r in result.per_rank
        ),
    )


def schedule_plan(schedule: str, p: int, m: int, v: int, timeline: bool = True) -> SchedulePlan:
    """The plan of `schedule` with m microbatches; without `timeline`, a cheaper equal one.

    Past `default_microbatches` every schedule but GPipe is in its steady state: each rank's
    peak and the first and last stages' counts no longer grow, and each further microbatch
    adds its busy time F + I + W to the makespan with no new idle time (the tests check both
    against full simulations of all seven schedules). So the advice, which needs only those
    numbers, simulates `default_microbatches` and extends the makespan; only the report the
    page draws simulates all m (for the activation strip). For example ZB-V on 32 ranks with
    256 microbatches simulates 64.
    """
    steady = m if schedule == "gpipe" else default_microbatches(schedule, p, v)
    if timeline or m <= steady or p == 1:
        return plan_schedule(schedule, p, m, v)
    done = _simulated(schedule, p, v, steady)  # any steady-state run will do, e.g. the report's
    base = plan_schedule(schedule, p, done if done is not None else steady, v)
    if base.microbatches == m:
        return base
    busy = (1 - base.bubble_fraction) * base.makespan / base.microbatches  # per rank, per mb
    makespan = base.makespan + (m - base.microbatches) * busy
    return replace(
        base,
        microbatches=m,
        makespan=makespan,
        bubble_fraction=1 - m * busy / makespan,
        strip=(),
    )
