"""Benchmark: GET /api/v1/memory with schedule=zbv at p = 16, m = 128, uncached.

The memory answer simulates its schedule (the simulation of GET /api/v1/pipeline) to read
each rank's microbatches in flight, and its advice computes up to nine more reports. Measures
- `core_ms`: `compute_memory` in process with every cache emptied first (the simulations,
  the advice's reports, the layer anatomies), median and best of ROUNDS; `core_cpu_ms` the
  same as process CPU time, less sensitive to other load on the machine;
- `report_ms`: the report alone (no advice), same conditions;
- `http_first_ms`: the first request for this query to a fresh uvicorn (nothing of it cached;
  the process warmed by the same layout under ZB-H1, whose simulations it cannot reuse), best
  of 3 server starts;
  `http_repeat_ms`: the same request again (the response cache);
- `bytes` and `gzip_bytes`: the body as sent without and with gzip.
Target (issue 8): under 100 ms uncached. Prints one JSON line.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time

import harness
import httpx

from app.api.encoding import encode_json
from app.core.parallel import memory_advice, memory_anatomy, memory_schedule, memory_states
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.parallel.memory_report import memory_report

P, M = 16, 128
PARAMS = {
    "model": "llama3-405b",
    "dp": 64,
    "tp": 8,
    "pp": P,
    "zero": 1,
    "seq_len": 8192,
    "sequence_parallel": "true",
    "schedule": "zbv",
    "microbatches": M,
}
QUERY = MemoryQuery(
    model="llama3-405b", dp=64, tp=8, pp=P, zero=1, seq_len=8192, sequence_parallel=True,
    schedule="zbv", microbatches=M,
)  # fmt: skip
ROUNDS = 5


def _cold() -> None:
    """Empty every cache the memory model keeps."""
    memory_schedule.plan_schedule.cache_clear()
    memory_schedule._DONE.clear()
    memory_advice._report.cache_clear()
    memory_anatomy.layer_anatomy.cache_clear()
    memory_states.counts.cache_clear()


def _timed(fn: object) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(ROUNDS):
        _cold()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return wall, cpu


def _http() -> tuple[list[float], list[float], bytes]:
    firsts, repeats, body = [], [], b""
    for _ in range(3):
        with harness.live_server() as base, httpx.Client(base_url=base, timeout=60) as client:
            # warm the process with a layout of the same size under another schedule (ZB-H1):
            # its simulations share no cache entry with this query's
            client.get(
                "/api/v1/memory", params={**PARAMS, "model": "llama3-70b", "schedule": "zb_h1"}
            )
            t0 = time.perf_counter()
            r = client.get("/api/v1/memory", params=PARAMS)
            t1 = time.perf_counter()
            r.raise_for_status()
            r2 = client.get("/api/v1/memory", params=PARAMS)
            t2 = time.perf_counter()
            firsts.append((t1 - t0) * 1e3)
            repeats.append((t2 - t1) * 1e3)
            body = r2.content
    return firsts, repeats, body


def main() -> None:
    compute_memory(MemoryQuery(model="llama3-8b"))  # imports, numpy warm-up
    core, core_cpu = _timed(lambda: compute_memory(QUERY))
    report, report_cpu = _timed(lambda: memory_report(QUERY))
    firsts, repeats, body = _http()
    raw = encode_json(compute_memory(QUERY))
    out = {
        "bench": "memory",
        "query": f"schedule=zbv, p={P}, m={M} (llama3-405b, dp 64, tp 8, SP)",
        "core_ms": {"median": round(statistics.median(core), 1), "best": round(min(core), 1)},
        "core_cpu_ms": round(statistics.median(core_cpu), 1),
        "report_ms": {"median": round(statistics.median(report), 1), "best": round(min(report), 1)},
        "report_cpu_ms": round(statistics.median(report_cpu), 1),
        "http_first_ms": {
            "best": round(min(firsts), 1),
            "median": round(statistics.median(firsts), 1),
        },
        "http_repeat_ms": round(statistics.median(repeats), 1),
        "bytes": len(raw),
        "gzip_bytes": len(gzip.compress(raw)),
        "target_ms": 100,
        "load_average": harness.load_average(),
    }
    assert body == raw or len(body) > 0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
