"""Benchmark the quantization lab: every preset on 2^20 values, in process and over HTTP.

In process, for each preset on the same 2^20 float32 values (seeded N(0, 1)): the quantize step
(`quantize(x, scheme)`: scales, elements, codes, dequantized values) against a bare
`x.astype(fmt).astype(float32)` round trip of the same array in the same run, and their ratio;
for MXINT8, whose elements are int8 × 2^-6 (no ml_dtypes type), the bare round trip is
`(x · 64).astype(int8).astype(float32)`: numpy's own SIMD integer cast, far faster than any
ml_dtypes cast, so that ratio says little. Then the report around it
(metrics, histograms, code table, block detail, every preset). Over HTTP (a live uvicorn): the
full GET /api/v1/quantize?scheme=P&n=1048576 uncached (a new seed per request), the same
request cached, and POST /api/v1/quantize with 262,144 values. Times are the median (p50) of
repeated runs in milliseconds, and for the in-process pair also the minimum (the least disturbed
run); the 1-minute load average is printed beside them, since a shared 2-core machine inflates
every figure. Targets (issue 9): the quantize step within 2× of the bare cast and under
150 ms per preset.

    .venv/bin/python bench/bench_quantize.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import harness
import httpx
import numpy as np

from app.core.limits import limit
from app.core.numerics.formats import dtype_of
from app.core.numerics.quantize import INT_ELEMENTS, PRESETS, quantize
from app.core.numerics.quantize_lab import QuantizeOptions, quantize_report
from app.core.numerics.tensors import generate

N = 1 << 20
REPEAT = 9


def samples_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> list[float]:
    fn()  # warm: value tables, first-touch pages
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p50_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    return round(statistics.median(samples_ms(fn, repeat)), 2)


def bare_round_trip(x: np.ndarray, fmt: str) -> Callable[[], Any]:
    if fmt in INT_ELEMENTS:
        step = np.float32(INT_ELEMENTS[fmt].step)
        return lambda: (x / step).astype(np.int8).astype(np.float32)
    dt = dtype_of(fmt)
    return lambda: x.astype(dt).astype(np.float32)


def bench_in_process() -> dict[str, Any]:
    x = generate("normal", N, seed=0)
    out: dict[str, Any] = {}
    for name, scheme in PRESETS.items():
        # interleaved, so that both see the same load; the minimum is the least disturbed run
        bare: list[float] = []
        step: list[float] = []
        for _ in range(REPEAT):
            bare += samples_ms(bare_round_trip(x, scheme.format), 1)
            step += samples_ms(lambda s=scheme: quantize(x, s), 1)
        report = p50_ms(lambda n=name: quantize_report(QuantizeOptions(scheme=n), x), repeat=3)
        out[name] = {
            "bare_cast_ms": {"p50": round(statistics.median(bare), 2), "min": round(min(bare), 2)},
            "quantize_ms": {"p50": round(statistics.median(step), 2), "min": round(min(step), 2)},
            "ratio_p50": round(statistics.median(step) / statistics.median(bare), 2),
            "ratio_min": round(min(step) / min(bare), 2),
            "report_with_all_presets_ms": report,
        }
    return out


def timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> float:
    start = time.perf_counter()
    r = client.request(method, url, **kwargs)
    r.read()
    assert r.status_code == 200, r.text[:200]
    return (time.perf_counter() - start) * 1000


def bench_http(base: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    values = generate("laplace", limit("quantize_posted_values"), seed=1).tolist()
    body = json.dumps({"scheme": "nvfp4", "values": values}).encode()
    with httpx.Client(base_url=base, timeout=120) as client:
        client.get("/api/v1/limits")
        for name in PRESETS:
            url = f"/api/v1/quantize?scheme={name}&n={N}"
            fresh = [timed(client, "GET", f"{url}&seed={seed}") for seed in range(1, 4)]
            cached = [timed(client, "GET", f"{url}&seed=1") for _ in range(20)]
            out[name] = {
                "get_uncached_ms": round(statistics.median(fresh), 1),
                "get_cached_ms": round(statistics.median(cached), 2),
            }
        headers = {"content-type": "application/json"}
        posts = [
            timed(client, "POST", "/api/v1/quantize", content=body, headers=headers)
            for _ in range(3)
        ]
        out["post_262144_values"] = {
            "body_bytes": len(body),
            "p50_ms": round(statistics.median(posts), 1),
        }
    return out


def main() -> None:
    result: dict[str, Any] = {"bench": "quantize", "n": N, "load_before": harness.load_average()}
    result["in_process"] = bench_in_process()
    with harness.live_server() as base:
        result["http"] = bench_http(base)
    result["load_after"] = harness.load_average()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
