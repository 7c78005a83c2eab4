"""The JSON shapes of a simulated schedule, as plain values and numpy arrays for orjson.

- `records`: the header, `per_rank`, and `ops` as one object per op (format=json);
- `columns`: the same with `ops` as parallel arrays (format=columns), what the page loads;
- `chrome_trace`: Chrome trace / Perfetto JSON, 1 cost unit = 1 ms.

Every time is rounded once, with `round_times`, so the makespan, the ops and the activation
steps agree to the last digit. Arrays stay numpy arrays: the API's encoder writes them
directly, which is what makes a 200k-op schedule cheap to send.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.parallel.pipeline_deps import RULES
from app.core.parallel.pipeline_model import SOURCE as MODEL_SOURCE
from app.core.parallel.pipeline_model import model_costs
from app.core.parallel.pipeline_orders import KIND_NAMES, KINDS
from app.core.parallel.pipeline_query import cost_model
from app.core.parallel.pipeline_result import PipelineResult, round_times
from app.core.params import effective

UNITS = "cost units: the unit of forward, backward_input, backward_weight and p2p as given"
SECONDS = "seconds"
"""The unit when the query names a model and the costs are derived (`pipeline_model`)."""


def units(result: PipelineResult) -> str:
    """The unit of every time in `result`: seconds with a model, else cost units."""
    return UNITS if result.query.model is None else SECONDS


def cost_model_info(result: PipelineResult) -> dict[str, Any] | None:
    """How the costs were derived from the query's model, or None when they were given."""
    cm = cost_model(result.query)
    if cm is None:
        return None
    costs = model_costs(cm)
    return {
        "forward_flops": costs.forward_flops,
        "throughput": costs.throughput,
        "note": costs.note,
        "source": MODEL_SOURCE,
    }


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a few hundred thousand dicts are built.

    Each allocation burst would otherwise trigger collections that rescan the growing list;
    on Python 3.11 that made the records of a 196k-op schedule 2.9× slower to build. None of
    these objects can form a cycle, so nothing is left for the collector to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _r(x: float) -> float:
    return float(round_times([x])[0])


def kinds() -> list[dict[str, Any]]:
    """The op kinds as JSON: letter, title, whether it is a forward and frees activations."""
    return [
        {
            "kind": k.name,
            "title": k.title,
            "forward": k.forward,
            "frees_activations": k.frees_activations,
        }
        for k in KINDS
    ]


def dependency_rules() -> list[dict[str, Any]]:
    """`pipeline_deps.RULES` as JSON."""
    return [asdict(rule) for rule in RULES]


def header(result: PipelineResult) -> dict[str, Any]:
    """Every field of the schedule's JSON except ``per_rank`` and ``ops``."""
    spec = result.spec
    p = result.stages
    busy = sum(s.busy for s in result.per_rank)
    cf = result.closed_form
    return {
        "schedule": spec.name,
        "label": spec.label,
        "title": spec.title,
        "source": spec.source,
        "query": effective(result.query),
        "ranks": p,
        "num_stages": len(result.stage_to_rank),
        "chunks": result.chunks,
        "placement": spec.placement,
        "stage_to_rank": result.stage_to_rank,
        "stage_to_chunk": result.stage_to_chunk,
        "stage_roles": result.stage_roles,
        "kinds": kinds(),
        "units": units(result),
        "cost_model": cost_model_info(result),
        "op_count": result.op_count,
        "makespan": _r(result.makespan),
        "bubble_fraction": _r(result.bubble_fraction),
        "busy_mean": _r(busy / p),
        "idle_mean": _r(result.makespan - busy / p),
        "peak_activations": result.per_rank[result.peak_rank].peak_activations,
        "peak_rank": result.peak_rank,
        "closed_form": None if cf is None else cf.as_dict(),
    }


def per_rank(result: PipelineResult) -> list[dict[str, Any]]:
    """Busy, idle, peak and the activation steps ``[[t, count], ...]`` of each rank."""
    return [
        {
            "rank": st.rank,
            "busy": _r(st.busy),
            "idle": _r(st.idle),
            "peak_activations": st.peak_activations,
            "activations": np.column_stack(
                (np.asarray(st.activation_times), np.asarray(st.activation_counts))
            ),
        }
        for st in result.per_rank
    ]


def _times(result: PipelineResult) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    tl = result.timeline
    return round_times(tl.start), round_times(tl.end)


def columns(result: PipelineResult) -> dict[str, Any]:
    """The schedule with ``ops`` as parallel arrays; ``waits_for`` pairs are padded with −1."""
    tl = result.timeline
    start, end = _times(result)
    stage = np.asarray(tl.stage, dtype=np.int32)
    ops = {
        "rank": np.asarray(tl.rank, dtype=np.int32),
        "stage": stage,
        "chunk": np.asarray(result.stage_to_chunk, dtype=np.int32)[stage],
        "microbatch": np.asarray(tl.microbatch, dtype=np.int32),
        "kind": [KIND_NAMES[k] for k in tl.kind],
        "start": start,
        "end": end,
        "overlapped": np.asarray(tl.overlapped, dtype=bool),
        "waits_for": tl.waits_for.astype(np.int32),
    }
    return {**header(result), "per_rank": per_rank(result), "ops": ops}


def records(result: PipelineResult) -> dict[str, Any]:
    """The schedule with ``ops`` as one object per op (``overlapped`` only where true)."""
    tl = result.timeline
    start, end = (t.tolist() for t in _times(result))
    chunk_of = result.stage_to_chunk
    with _gc_paused():
        # an op waits for 0, 1 or 2 others; the padded pairs lose their −1s
        waits = [w if w[1] >= 0 else [w[0]] if w[0] >= 0 else [] for w in tl.waits_for.tolist()]
        ops = [
            {
                "rank": r,
                "stage": s,
                "chunk": chunk_of[s],
                "microbatch": mb,
                "kind": KIND_NAMES[k],
                "start": t0,
                "end": t1,
                "waits_for": w,
            }
            for r, s, mb, k, t0, t1, w in zip(
                tl.rank, tl.stage, tl.microbatch, tl.kind, start, end, waits, strict=True
            )
        ]
    for i in np.flatnonzero(np.asarray(tl.overlapped, dtype=bool)).tolist():
        ops[i]["overlapped"] = True
    return {**header(result), "per_rank": per_rank(result), "ops": ops}


def chrome_trace(result: PipelineResult) -> dict[str, Any]:
    """Chrome trace / Perfetto JSON: one "X" event per op, pid = tid = rank.

    Time scale: 1 cost unit = 1 ms, so ts and dur (microseconds) are cost × 1000; with a
    model the costs are seconds and ts and dur are seconds × 1e6.
    """
    scale = 1000.0 if result.query.model is None else 1e6
    tl = result.timeline
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": r, "tid": r, "args": {"name": f"rank {r}"}}
        for r in range(result.stages)
    ]
    chunk_of = result.stage_to_chunk
    for r, s, mb, k, t0, t1, ov in zip(
        tl.rank, tl.stage, tl.microbatch, tl.kind, tl.start, tl.end, tl.overlapped, strict=True
    ):
        kind = KIND_NAMES[k]
        events.append(
            {
                "name": f"{kind}{mb}" if result.chunks == 1 else f"{kind}{mb}.c{chunk_of[s]}",
                "cat": kind,
                "ph": "X",
                "pid": r,
                "tid": r,
                "ts": round(t0 * scale, 6),
                "dur": round((t1 - t0) * scale, 6),
                "args": {"stage": s, "chunk": chunk_of[s], "microbatch": mb, "overlapped": ov},
            }
        )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "schedule": result.schedule,
            "time_scale": ("1 cost unit = 1 ms" if scale == 1000.0 else "times in seconds")
            + "; ts and dur are in microseconds",
            "makespan": _r(result.makespan),
            "bubble_fraction": _r(result.bubble_fraction),
            "query": effective(result.query),
        },
    }


SHAPES = {"json": records, "columns": columns, "chrome_trace": chrome_trace}


def payload(result: PipelineResult, fmt: str) -> dict[str, Any]:
    """The JSON body of GET /api/v1/pipeline in format `fmt` (json, columns, chrome_trace)."""
    return SHAPES[fmt](result)
