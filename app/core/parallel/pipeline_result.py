"""The outcome of one simulated schedule: makespan, bubble, per-rank statistics, closed form.

`summarise` turns a `Timeline` into a `PipelineResult`. Activations are counted in
microbatches of the rank's whole share: a chunk's forward adds 1/v when it starts and its
last backward op (B, or W when split) removes it when it ends, so 1F1B holds p on rank 0 and
GPipe m. The JSON shapes of a result are in `pipeline_payload`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.core.parallel.pipeline_closed_form import ClosedForm, closed_form
from app.core.parallel.pipeline_orders import KINDS
from app.core.parallel.pipeline_query import PipelineQuery, parse_stage_costs
from app.core.parallel.pipeline_schedules import ScheduleSpec
from app.core.parallel.pipeline_sim import Timeline

STAGE_ROLES = {
    "first": "the first stage: it also holds the embedding",
    "middle": "transformer layers only",
    "last": "the last stage: it also holds the LM head and the loss",
    "only": "the whole model on one stage",
}


@dataclass(frozen=True)
class RankStats:
    """Busy and idle time of one rank and its activations in flight as a step function.

    From ``activation_times[k]`` until the next time, ``activation_counts[k]`` microbatches'
    activations are held (in units of the rank's whole share; a chunk counts 1/v).
    """

    rank: int
    busy: float
    idle: float
    peak_activations: float
    activation_times: list[float]
    activation_counts: list[float]

    @property
    def activations(self) -> list[list[float]]:
        """The steps as ``[[t, count], ...]``, the JSON shape."""
        return [[t, c] for t, c in zip(self.activation_times, self.activation_counts, strict=True)]


@dataclass(frozen=True)
class PipelineResult:
    query: PipelineQuery  # resolved: every default filled in
    spec: ScheduleSpec
    stage_to_rank: list[int]
    stage_to_chunk: list[int]
    timeline: Timeline
    makespan: float
    bubble_fraction: float
    per_rank: list[RankStats]
    closed_form: ClosedForm | None

    @property
    def schedule(self) -> str:
        return self.spec.name

    @property
    def stages(self) -> int:
        """Ranks p (the API calls them stages, as Megatron's pipeline size)."""
        return self.query.stages

    @property
    def microbatches(self) -> int:
        return self.query.microbatches

    @property
    def chunks(self) -> int:
        assert self.query.chunks is not None  # resolved
        return self.query.chunks

    @property
    def op_count(self) -> int:
        return len(self.timeline.kind)

    @property
    def peak_rank(self) -> int:
        """The rank holding the most activations (the lowest such rank)."""
        return max(self.per_rank, key=lambda s: (s.peak_activations, -s.rank)).rank

    @property
    def stage_roles(self) -> list[str]:
        n = len(self.stage_to_rank)
        if n == 1:
            return ["only"]
        return ["first"] + ["middle"] * (n - 2) + ["last"]


def summarise(
    query: PipelineQuery,
    spec: ScheduleSpec,
    stage_to_rank: list[int],
    stage_to_chunk: list[int],
    timeline: Timeline,
) -> PipelineResult:
    """Makespan, bubble fraction ``1 − Σ busy / (ranks · makespan)``, ranks and closed form."""
    p, v = query.stages, len(stage_to_rank) // query.stages
    makespan = max(timeline.end) if timeline.end else 0.0
    busy = timeline.rank_busy
    bubble = 1.0 - sum(busy) / (p * makespan) if makespan > 0 else 0.0
    return PipelineResult(
        query=query,
        spec=spec,
        stage_to_rank=stage_to_rank,
        stage_to_chunk=stage_to_chunk,
        timeline=timeline,
        makespan=makespan,
        bubble_fraction=bubble,
        per_rank=rank_stats(timeline, p, v, makespan),
        closed_form=_closed_form(query, v),
    )


def _closed_form(q: PipelineQuery, v: int) -> ClosedForm | None:
    cf = closed_form(
        q.schedule,
        q.stages,
        q.microbatches,
        v,
        *q.costs[:3],
        q.forward_backward,
    )
    mult = parse_stage_costs(q.stage_costs, q.stages * v)
    if cf is not None and (q.costs[3] > 0 or (mult is not None and len(set(mult)) > 1)):
        cf = cf.not_applicable("the closed form assumes p2p = 0 and equal stage costs")
    return cf


def round_times(times: object) -> npt.NDArray[np.float64]:
    """Times rounded to 9 decimals exactly as ``round(t, 9)`` rounds one (hides 0.1 + 0.2 noise).

    ``np.round(t, 9)`` scales by 1e9 and is not correctly rounded for large times:
    ``np.round(3000000003.5, 9) == 3000000003.5000005``, an op ending after the makespan.
    Python's ``round`` is correctly rounded, hence monotone, but slow per element; it is only
    needed where the cheap test below fails. Below 2^23 half an ulp is under 5e-10, so
    ``np.round(t, 9) == t`` proves t is the double nearest a 9-decimal number, which
    ``round(t, 9)`` returns; from 2^23 up an ulp exceeds 1e-9 and ``round(t, 9) == t``.
    For example ``round_times([0.1 + 0.2, 3000000003.5]).tolist() == [0.3, 3000000003.5]``.
    """
    a = np.array(times, dtype=np.float64)
    need = (np.abs(a) < 2.0**23) & (np.round(a, 9) != a)
    if need.any():
        uniq, inv = np.unique(a[need], return_inverse=True)
        a[need] = np.array([round(t, 9) for t in uniq.tolist()], dtype=np.float64)[inv]
    return a


def _activation_events(
    timeline: Timeline,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(rank, time, ±1) of every acquire (a forward starts) and release, sorted by rank, time.

    At the same instant releases come first, so a rank that frees one microbatch and starts
    the next does not count both.
    """
    rank = np.asarray(timeline.rank, dtype=np.int64)
    kind = np.asarray(timeline.kind, dtype=np.int64)
    acq = np.isin(kind, [k.code for k in KINDS if k.forward])
    rel = np.isin(kind, [k.code for k in KINDS if k.frees_activations])
    ev_rank = np.concatenate([rank[acq], rank[rel]])
    ev_t = np.concatenate([np.asarray(timeline.start)[acq], np.asarray(timeline.end)[rel]]).astype(
        np.float64
    )
    ev_d = np.concatenate([np.ones(int(acq.sum())), -np.ones(int(rel.sum()))])
    order = np.lexsort((ev_d, ev_t, ev_rank))
    return ev_rank[order], ev_t[order], ev_d[order]


def rank_stats(timeline: Timeline, p: int, v: int, makespan: float) -> list[RankStats]:
    """Each rank's busy and idle time and its activations in flight as steps."""
    ev_rank, ev_t, ev_d = _activation_events(timeline)
    count = np.cumsum(ev_d)  # every rank releases all it acquires, so this restarts at 0
    # keep the last event of each (rank, time): the level from then on
    last = np.ones(len(ev_t), dtype=bool)
    if len(ev_t) > 1:
        last[:-1] = (ev_rank[1:] != ev_rank[:-1]) | (ev_t[1:] != ev_t[:-1])
    ev_rank, ev_t, level = ev_rank[last], round_times(ev_t[last]), count[last] / v
    bounds = np.searchsorted(ev_rank, np.arange(p + 1))
    stats = []
    for r in range(p):
        lo, hi = int(bounds[r]), int(bounds[r + 1])
        ts, cs = ev_t[lo:hi], level[lo:hi]
        if hi == lo or ts[0] > 0:
            ts = np.concatenate([[0.0], ts])
            cs = np.concatenate([[0.0], cs])
        busy = timeline.rank_busy[r]
        stats.append(
            RankStats(
                rank=r,
                busy=busy,
                idle=makespan - busy,
                peak_activations=float(cs.max()),
                activation_times=ts.tolist(),
                activation_counts=cs.tolist(),
            )
        )
    return stats
