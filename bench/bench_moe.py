"""Benchmark: GET /api/v1/moe and /api/v1/context computed in process, at defaults and at the
limits.

Measures, per case (best of ROUNDS; `*_cpu_ms` as process CPU time, less sensitive to other
load on a shared machine):
- `compute_ms`: routing (or tiling), capacity, the all-to-all step lists and their cost;
- `encode_ms`: the payload through the API's JSON encoder (orjson), and `bytes` of the body.
Cases: the page's default batch (routes listed), DeepSeek-V3 on 64 GPUs with node-limited
routing (4M router logits, the `moe_router_cells` limit), a 65,536-token batch with every copy
listed (the `moe_routes` limit), and ring attention at cp 4 and at the `context_cp` limit.
Prints one JSON line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import harness

from app.api.encoding import encode_json
from app.core.limits import limit
from app.core.parallel.context import ContextQuery, compute_context
from app.core.parallel.moe import MoeQuery, compute_moe

ROUNDS = 3

CASES: dict[str, Callable[[], Any]] = {
    "moe/default+routes": lambda: compute_moe(MoeQuery(routes=True)),
    "moe/deepseek-v3/ep64/max_nodes4": lambda: compute_moe(
        MoeQuery(model="deepseek-v3", tokens=16384, ep=64, max_nodes=4, gpus_per_node=8)
    ),
    "moe/65536 tokens/routes": lambda: compute_moe(
        MoeQuery(tokens=limit("moe_tokens"), experts=32, top_k=1, ep=32, routes=True)
    ),
    "context/cp4": lambda: compute_context(ContextQuery()),
    "context/cp_limit/non-causal": lambda: compute_context(
        ContextQuery(cp=limit("context_cp"), seq_len=131072, causal=False)
    ),
}


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
    out: dict[str, Any] = {"bench": "moe", "load": harness.load_average()}
    for name, fn in CASES.items():
        res, ms, cpu = _best(fn)
        body, enc_ms, enc_cpu = _best(lambda res=res: encode_json(res.payload()))
        out[name] = {
            "compute_ms": ms,
            "compute_cpu_ms": cpu,
            "encode_ms": enc_ms,
            "encode_cpu_ms": enc_cpu,
            "bytes": len(body),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
