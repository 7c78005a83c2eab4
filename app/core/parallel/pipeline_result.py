"""The outcome of one simulated schedule: ops, per-rank statistics, JSON and trace views.

`PipelineResult.payload()` is the JSON body of GET /api/v1/pipeline as plain values;
`chrome_trace()` is the same schedule as Chrome trace / Perfetto JSON. Activations are counted
in microbatches of the rank's whole share: a chunk's forward adds 1/v when it starts and its
last backward op (B, or W when split) removes it when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.parallel.pipeline_closed_form import ClosedForm
from app.core.parallel.pipeline_orders import KIND_NAMES, B, F, W
from app.core.parallel.pipeline_sim import Timeline

UNITS = "cost units: the unit of forward, backward_input, backward_weight and p2p as given"


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
    schedule: str
    title: str
    source: str
    stages: int  # ranks (p)
    microbatches: int
    chunks: int
    placement: str
    parameters: dict[str, Any]
    stage_to_rank: list[int]
    stage_to_chunk: list[int]
    timeline: Timeline
    makespan: float
    bubble_fraction: float
    per_rank: list[RankStats]
    closed_form: ClosedForm | None

    @property
    def op_count(self) -> int:
        return len(self.timeline.kind)

    def payload(self) -> dict[str, Any]:
        """The JSON body of GET /api/v1/pipeline, already made of plain JSON values."""
        tl = self.timeline
        chunk_of = self.stage_to_chunk
        start = round_times(tl.start).tolist()
        end = round_times(tl.end).tolist()
        ops: list[dict[str, Any]] = [
            {
                "rank": r,
                "stage": s,
                "chunk": chunk_of[s],
                "microbatch": mb,
                "kind": KIND_NAMES[k],
                "start": t0,
                "end": t1,
            }
            for r, s, mb, k, t0, t1 in zip(
                tl.rank, tl.stage, tl.microbatch, tl.kind, start, end, strict=True
            )
        ]
        for i in np.flatnonzero(np.asarray(tl.overlapped, dtype=bool)).tolist():
            ops[i]["overlapped"] = True
        return {
            **self.payload_header(),
            "per_rank": [
                {
                    "rank": st.rank,
                    "busy": _r(st.busy),
                    "idle": _r(st.idle),
                    "peak_activations": st.peak_activations,
                    "activations": st.activations,
                }
                for st in self.per_rank
            ],
            "ops": ops,
        }

    def payload_header(self) -> dict[str, Any]:
        """Every field of `payload` except the big ones, ``per_rank`` and ``ops``."""
        return {
            "schedule": self.schedule,
            "title": self.title,
            "source": self.source,
            "parameters": self.parameters,
            "ranks": self.stages,
            "num_stages": len(self.stage_to_rank),
            "chunks": self.chunks,
            "placement": self.placement,
            "stage_to_rank": self.stage_to_rank,
            "units": UNITS,
            "op_count": self.op_count,
            "makespan": _r(self.makespan),
            "bubble_fraction": _r(self.bubble_fraction),
            "closed_form": None if self.closed_form is None else self.closed_form.as_dict(),
        }

    def chrome_trace(self) -> dict[str, Any]:
        """Chrome trace / Perfetto JSON: one "X" event per op, pid = tid = rank.

        Time scale: 1 cost unit = 1 ms, so ts and dur (microseconds) are cost × 1000.
        """
        tl = self.timeline
        events: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": r, "tid": r, "args": {"name": f"rank {r}"}}
            for r in range(self.stages)
        ]
        chunk_of = self.stage_to_chunk
        for r, s, mb, k, t0, t1, ov in zip(
            tl.rank,
            tl.stage,
            tl.microbatch,
            tl.kind,
            tl.start,
            tl.end,
            tl.overlapped,
            strict=True,
        ):
            kind = KIND_NAMES[k]
            events.append(
                {
                    "name": f"{kind}{mb}" if self.chunks == 1 else f"{kind}{mb}.c{chunk_of[s]}",
                    "cat": kind,
                    "ph": "X",
                    "pid": r,
                    "tid": r,
                    "ts": round(t0 * 1000.0, 6),
                    "dur": round((t1 - t0) * 1000.0, 6),
                    "args": {
                        "stage": s,
                        "chunk": chunk_of[s],
                        "microbatch": mb,
                        "overlapped": ov,
                    },
                }
            )
        return {
            "traceEvents": events,
            "displayTimeUnit": "ms",
            "otherData": {
                "schedule": self.schedule,
                "time_scale": "1 cost unit = 1 ms; ts and dur are in microseconds",
                "makespan": _r(self.makespan),
                "bubble_fraction": _r(self.bubble_fraction),
                "parameters": self.parameters,
            },
        }


def _r(x: float) -> float:
    return round(x, 9)


def round_times(times: Any) -> npt.NDArray[np.float64]:
    """Times rounded to 9 decimals exactly as ``round(t, 9)`` rounds one (hides 0.1 + 0.2 noise).

    ``np.round(t, 9)`` scales by 1e9 and is not correctly rounded for large times:
    ``np.round(3000000003.5, 9) == 3000000003.5000005``, an op ending after the makespan
    (which is ``round(makespan, 9)``). Python's ``round`` is correctly rounded, hence monotone;
    it runs once per distinct time, and schedules repeat times a lot.
    For example ``round_times([0.1 + 0.2, 3000000003.5]).tolist() == [0.3, 3000000003.5]``.
    """
    a = np.asarray(times, dtype=np.float64)
    uniq, inv = np.unique(a, return_inverse=True)
    rounded = np.array([round(t, 9) for t in uniq.tolist()], dtype=np.float64)
    return rounded[inv].reshape(a.shape)


def rank_stats(timeline: Timeline, p: int, v: int, makespan: float) -> list[RankStats]:
    rank = np.asarray(timeline.rank, dtype=np.int64)
    kind = np.asarray(timeline.kind, dtype=np.int64)
    start = np.asarray(timeline.start, dtype=np.float64)
    end = np.asarray(timeline.end, dtype=np.float64)
    acq = kind == F
    rel = (kind == B) | (kind == W)
    ev_rank = np.concatenate([rank[acq], rank[rel]])
    ev_t = np.concatenate([start[acq], end[rel]])
    ev_d = np.concatenate([np.ones(int(acq.sum())), -np.ones(int(rel.sum()))])
    # releases before acquisitions at the same instant
    order = np.lexsort((ev_d, ev_t, ev_rank))
    ev_rank, ev_t, ev_d = ev_rank[order], ev_t[order], ev_d[order]
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
        ts = ev_t[lo:hi]
        cs = level[lo:hi]
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
