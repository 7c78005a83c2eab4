"""Benchmark: the serving endpoints' computations (issue 12).

Measures, best of ROUNDS in process (`*_cpu_ms` as process CPU time, less sensitive to other
load on a shared machine),
- `batching_10k`: GET /inference/batching's computation for a 10,000-request stream (the
  batching_requests limit; default traffic, trace off): both simulations, continuous and
  static, with every step costed on the roofline, and the JSON encoding. Target: 500 ms.
- `roofline_largest_preset`: GET /inference for the largest preset (by parameters) — prefill
  and decode op by op, the curve, the layout and the same figures at every TP degree the model
  splits into — and the JSON encoding. Target: 100 ms.
- `kv_every_engine`: GET /inference/kv for the largest preset under each engine rule.
Prints one JSON line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import harness

from app.api.encoding import encode_json
from app.core.inference.batching import BatchingQuery, compute_batching
from app.core.inference.kv import ENGINES, KVQuery, compute_kv, kv_payload
from app.core.inference.roofline import InferenceQuery, compute_inference
from app.core.parallel.presets import MODELS

ROUNDS = 3
TARGET_BATCHING_MS = 500
TARGET_ROOFLINE_MS = 100


def _best(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, best wall ms, best CPU ms) over ROUNDS calls."""
    wall = cpu = float("inf")
    out = None
    for _ in range(ROUNDS):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return out, round(wall * 1e3, 1), round(cpu * 1e3, 1)


def main() -> None:
    largest = max(MODELS.values(), key=lambda m: m.total_params).name
    stream = BatchingQuery(requests=10_000, trace=False)
    body, batch_ms, batch_cpu = _best(lambda: encode_json(compute_batching(stream)))
    summary = json.loads(body)["continuous"]["summary"]
    roof_q = InferenceQuery(model=largest)
    roof, roof_ms, roof_cpu = _best(lambda: encode_json(compute_inference(roof_q)))
    tps = [p["tp"] for p in json.loads(roof)["tp_sweep"]]
    kv = {}
    for engine in ENGINES:
        q = KVQuery(model=largest, tp=8, pp=2, dtype="fp8", engine=engine)
        _, ms, cpu = _best(lambda q=q: encode_json(kv_payload(compute_kv(q))))
        kv[engine] = {"ms": ms, "cpu_ms": cpu}
    print(
        json.dumps(
            {
                "bench": "inference",
                "load_average_1min": harness.load_average(),
                "batching_10k": {
                    "ms": batch_ms,
                    "cpu_ms": batch_cpu,
                    "target_ms": TARGET_BATCHING_MS,
                    "steps": summary["steps"],
                    "bytes": len(body),
                },
                "roofline_largest_preset": {
                    "model": largest,
                    "tp": tps,
                    "ms": roof_ms,
                    "cpu_ms": roof_cpu,
                    "target_ms": TARGET_ROOFLINE_MS,
                    "bytes": len(roof),
                },
                "kv_every_engine": kv,
            }
        )
    )


if __name__ == "__main__":
    main()
