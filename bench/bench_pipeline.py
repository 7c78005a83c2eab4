"""Benchmark: pipeline schedules, the JSON encoders before and after issue 7, and HTTP.

1. `encoders`: for 1F1B, interleaved 1F1B and ZB-V at p = 32, m = 256 and p = 64, m = 512:
   `core_ms` (query → orders → simulation → result, in process), and per format (json =
   records, columns) the time and body size of
   - `old`: the hand-written row writer the router used before issue 7 (kept below, in the
     benchmark only, to measure against; it writes the old fields, without `waits_for`);
   - `new`: `pipeline_payload` shapes written by the API's one encoder (`encode_json`,
     orjson), which also carry each op's `waits_for` and the new header fields.
   Old and new alternate, best of ROUNDS each, so load from other work hits both alike.
2. `http`: every schedule at p = 32, m = 256 through a real uvicorn: the first (uncached)
   GET, best of HTTP_ROUNDS server starts with the median beside it, and a repeat GET (from
   the response cache). Target (issue 3): under 300 ms for the first request.

Prints one JSON line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import harness
import httpx
import numpy as np

from app.api.encoding import encode_json
from app.core.parallel import pipeline_payload as shapes
from app.core.parallel.pipeline import SCHEDULES, PipelineQuery, run_pipeline
from app.core.parallel.pipeline_orders import KIND_NAMES
from app.core.parallel.pipeline_result import PipelineResult

SIZES = ((32, 256), (64, 512))
ENCODED = ("1f1b", "interleaved_1f1b", "zbv")
ROUNDS = 5
HTTP_P, HTTP_M, HTTP_ROUNDS = 32, 256, 3


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def old_encode(result: PipelineResult, *, columns: bool = False) -> bytes:
    """The router's JSON writer before issue 7, unchanged but for reading the new result.

    It formatted each distinct time once and wrote every op from a per-(stage, kind) prefix.
    """
    tl = result.timeline
    n = len(tl.kind)
    uniq, inv = np.unique(np.concatenate([tl.start, tl.end]), return_inverse=True)
    rounded = [round(x, 9) for x in uniq.tolist()]
    ustr = [repr(x) for x in rounded]
    tstr = dict(zip(rounded, ustr, strict=True))
    sstr = [ustr[i] for i in inv.tolist()]
    start_s, end_s = sstr[:n], sstr[n:]
    head = _dumps({k: v for k, v in shapes.header(result).items() if k != "kinds"})
    cstr: dict[float, str] = {}
    ranks = []
    for st in result.per_rank:
        acts = ",".join(
            f"[{tstr.get(t) or repr(t)},{cstr.get(c) or cstr.setdefault(c, repr(c))}]"
            for t, c in zip(st.activation_times, st.activation_counts, strict=True)
        )
        ranks.append(
            f'{{"rank":{st.rank},"busy":{round(st.busy, 9)!r},"idle":{round(st.idle, 9)!r},'
            f'"peak_activations":{st.peak_activations!r},"activations":[{acts}]}}'
        )
    parts = ['"per_rank":[', ",".join(ranks), "]"]
    chunk_of = result.stage_to_chunk
    if columns:
        cols = [
            f'"rank":{_dumps(tl.rank).decode()}',
            f'"stage":{_dumps(tl.stage).decode()}',
            f'"chunk":{_dumps([chunk_of[s] for s in tl.stage]).decode()}',
            f'"microbatch":{_dumps(tl.microbatch).decode()}',
            f'"kind":{_dumps([KIND_NAMES[k] for k in tl.kind]).decode()}',
            f'"start":[{",".join(start_s)}]',
            f'"end":[{",".join(end_s)}]',
            f'"overlapped":{_dumps(tl.overlapped).decode()}',
        ]
        parts += [',"ops":{', ",".join(cols), "}}"]
    else:
        stage_rank = result.stage_to_rank
        prefix = [
            [
                f'{{"rank":{stage_rank[s]},"stage":{s},"chunk":{chunk_of[s]},'
                f'"kind":"{KIND_NAMES[k]}","microbatch":'
                for k in range(len(KIND_NAMES))
            ]
            for s in range(len(stage_rank))
        ]
        mb_s = [str(i) for i in range(result.microbatches)]
        tails = ("}", ',"overlapped":true}')
        ops = [
            f'{prefix[s][k]}{mb_s[mb]},"start":{a},"end":{b}{tails[ov]}'
            for s, k, mb, a, b, ov in zip(
                tl.stage, tl.kind, tl.microbatch, start_s, end_s, tl.overlapped, strict=True
            )
        ]
        parts += [',"ops":[', ",".join(ops), "]}"]
    return b"".join((head[:-1], b",", "".join(parts).encode("ascii")))


def _timed(f: Callable[[], bytes]) -> tuple[float, float, int]:
    t0, c0 = time.perf_counter(), time.process_time()
    size = len(f())
    return (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3, size


def _encoders() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for p, m in SIZES:
        for name in ENCODED:
            q = PipelineQuery(schedule=name, stages=p, microbatches=m)
            t0 = time.perf_counter()
            result = run_pipeline(q)
            core = (time.perf_counter() - t0) * 1e3
            row: dict[str, Any] = {"ops": result.op_count, "core_ms": round(core, 1)}
            for fmt, columns in (("json", False), ("columns", True)):
                shape = shapes.columns if columns else shapes.records
                runs: dict[str, list[tuple[float, float, int]]] = {"old": [], "new": []}
                old = partial(old_encode, result, columns=columns)
                new = partial(lambda r, s: encode_json(s(r)), result, shape)
                for _ in range(ROUNDS):
                    runs["old"].append(_timed(old))
                    runs["new"].append(_timed(new))
                for who, samples in runs.items():
                    row[f"{fmt}_{who}_ms"] = round(min(s[0] for s in samples), 1)
                    row[f"{fmt}_{who}_cpu_ms"] = round(min(s[1] for s in samples), 1)
                    row[f"{fmt}_{who}_bytes"] = samples[0][2]
            figures[f"{name} p={p} m={m}"] = row
    return figures


def _http_round(firsts: dict[str, list[float]], repeats: dict[str, list[float]]) -> None:
    with harness.live_server() as base, httpx.Client(base_url=base, timeout=60.0) as client:
        client.get("/api/v1/pipeline", params={"stages": 2, "microbatches": 2})  # warm
        for name in SCHEDULES:
            q = {"schedule": name, "stages": HTTP_P, "microbatches": HTTP_M}
            t0 = time.perf_counter()
            r = client.get("/api/v1/pipeline", params=q)
            t1 = time.perf_counter()
            r.raise_for_status()
            r2 = client.get("/api/v1/pipeline", params=q)
            t2 = time.perf_counter()
            assert r2.content == r.content
            firsts[name].append((t1 - t0) * 1e3)
            repeats[name].append((t2 - t1) * 1e3)


def _http() -> dict[str, Any]:
    # Each server start gives one honest first (uncached) request per schedule; take the best
    # of a few starts so that other load on a shared machine does not decide the figure.
    firsts: dict[str, list[float]] = {name: [] for name in SCHEDULES}
    repeats: dict[str, list[float]] = {name: [] for name in SCHEDULES}
    for _ in range(HTTP_ROUNDS):
        _http_round(firsts, repeats)
    return {
        name: {
            "first_ms": round(min(firsts[name]), 1),
            "first_median_ms": harness.percentiles(firsts[name], 1)["p50"],
            "repeat_ms": round(min(repeats[name]), 1),
        }
        for name in SCHEDULES
    }


def main() -> None:
    encoders = _encoders()
    http = _http()
    print(
        json.dumps(
            {
                "bench": "pipeline",
                "load_average_1min": harness.load_average(),
                "encoders": encoders,
                "http": {"stages": HTTP_P, "microbatches": HTTP_M, "schedules": http},
                "worst_http_first_ms": max(f["first_ms"] for f in http.values()),
                "target_ms": 300,
            }
        )
    )


if __name__ == "__main__":
    main()
