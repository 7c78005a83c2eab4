"""Time a 16,384-rank mesh and a 4,096-device shard map through real HTTP (target < 100 ms).

Starts uvicorn (app.main:app) on a free port, measures the first request, the median of
repeated requests (served from the per-URL memo) and the median over distinct URLs (each
computed from scratch), then prints one JSON line and stops the server.

    .venv/bin/python bench/bench_parallel.py
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import harness
import httpx

MESH = {"axes": "dp:128,pp:16,cp:1,tp:8", "gpus_per_node": 8}
SHARD = {"axes": "dp:64,tp:64", "shape": "4096,4096", "spec": "dp,tp"}
REPEAT = 20


def _time(client: httpx.Client, url: str, params: dict[str, Any]) -> tuple[float, int]:
    t = time.perf_counter()
    r = client.get(url, params=params)
    elapsed = time.perf_counter() - t
    r.raise_for_status()
    return elapsed * 1000, len(r.content)


def _measure(client: httpx.Client, url: str, params: dict[str, Any], vary: str) -> dict[str, Any]:
    first, size = _time(client, url, params)
    warm = [_time(client, url, params)[0] for _ in range(REPEAT)]
    cold = []
    for i in range(1, 11):
        p = dict(params)
        if vary == "gpus_per_node":
            p["gpus_per_node"] = 8 + i  # a different body each time: computed from scratch
        else:
            p["shape"] = f"{4096 * (i + 1)},4096"
        cold.append(_time(client, url, p)[0])
    return {
        "first_ms": round(first, 1),
        "p50_ms": harness.percentiles(warm, 1)["p50"],
        "p50_uncached_ms": harness.percentiles(cold, 1)["p50"],
        "bytes": size,
    }


def _server_cpu_ms() -> dict[str, float]:
    """CPU time (not wall time) of building + encoding each body in-process, uncached.

    Wall times above depend on how busy the machine is; this does not.
    """
    from app.api import parallel

    def cpu(fn: Any, n: int = 5) -> float:
        best = float("inf")
        for i in range(n):
            t = time.process_time()
            fn(i)
            best = min(best, time.process_time() - t)
        return round(best * 1000, 1)

    records = frozenset({"ranks", "groups"})
    return {
        "mesh_16384_records": cpu(
            lambda i: parallel._mesh_body.__wrapped__(MESH["axes"], 30 + i, "records", records)
        ),
        "mesh_16384_page": cpu(
            lambda i: parallel._mesh_body.__wrapped__(
                MESH["axes"], 40 + i, "columnar", frozenset({"ranks"})
            )
        ),
        "sharding_4096": cpu(
            lambda i: parallel._sharding_cached.__wrapped__(
                SHARD["axes"], f"{4096 * (i + 20)},4096", SHARD["spec"]
            )
        ),
    }


def main() -> None:
    with harness.live_server() as base, httpx.Client(base_url=base, timeout=30) as client:
        mesh = _measure(client, "/api/v1/mesh", MESH, "gpus_per_node")
        columnar = _measure(client, "/api/v1/mesh", {**MESH, "format": "columnar"}, "gpus_per_node")
        # What the /mesh page asks for: per-rank arrays only (groups follow from coords).
        page = _measure(
            client,
            "/api/v1/mesh",
            {**MESH, "format": "columnar", "include": "ranks"},
            "gpus_per_node",
        )
        shard = _measure(client, "/api/v1/sharding", SHARD, "shape")
    print(
        json.dumps(
            {
                "bench": "parallel",
                "target_ms": 100,
                "load_average_1m": harness.load_average(),
                "cpus": os.cpu_count(),
                "mesh_16384": mesh,
                "mesh_16384_columnar": columnar,
                "mesh_16384_page": page,
                "sharding_4096": shard,
                "server_cpu_ms_uncached": _server_cpu_ms(),
            }
        )
    )


if __name__ == "__main__":
    main()
