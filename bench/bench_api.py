"""The one response path, before and after, side by side in one run.

"Before" is the tree at BASE (default 5f3f9f4, the last commit before issue 7: stdlib json
with hand-written row templates, three caches, the pure-Python uvicorn stack of h11 and
asyncio). "After" is this tree (orjson, one response cache, uvloop + httptools). Both servers
run here, one after the other, on the same loopback and the same client:

- cached-GET throughput: keep-alive connections repeating one GET for a fixed time, requests
  per second (the client is a raw asyncio socket loop, so the server is what is measured);
- uncached latency of large bodies (a 16,384-rank mesh, a p = 32, m = 256 pipeline), each
  request a new URL so that it is computed and encoded from scratch;
- in-process encode time of the same payloads: the stdlib path (`to_jsonable` + `json.dumps`,
  what the generic path did before) against `encode_json` (orjson).

    .venv/bin/python bench/bench_api.py          # BITMESH_BENCH_BASE=<rev> to compare another
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import harness
import httpx

BASE = os.environ.get("BITMESH_BENCH_BASE", "5f3f9f4")
SECONDS = 3.0
CONNECTIONS = 8
CACHED = {
    "limits": "/api/v1/limits",
    "memory": "/api/v1/memory?model=llama3-70b&tp=8&pp=4&dp=8&zero=1",
    "encode": "/api/v1/formats/float8_e4m3fn/encode?value=464",
}


async def _hammer(port: int, path: str, seconds: float) -> int:
    """Requests answered on one keep-alive connection in `seconds`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        done += 1
    writer.close()
    return done


def _throughput(base: str, path: str) -> float:
    port = int(base.rsplit(":", 1)[1])
    httpx.get(base + path).raise_for_status()  # warm the cache

    async def run() -> int:
        counts = await asyncio.gather(*(_hammer(port, path, SECONDS) for _ in range(CONNECTIONS)))
        return sum(counts)

    return round(asyncio.run(run()) / SECONDS)


def _uncached_ms(base: str) -> dict[str, float]:
    out: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for name, template in {
            "mesh_16384": "/api/v1/mesh?axes=dp:128,pp:16,cp:1,tp:8&gpus_per_node={i}",
            "pipeline_32x256": "/api/v1/pipeline?stages=32&microbatches=256&forward=1.{i}",
        }.items():
            samples = []
            for i in range(1, 9):
                t = time.perf_counter()
                client.get(template.format(i=i)).raise_for_status()
                samples.append((time.perf_counter() - t) * 1000)
            out[name] = harness.percentiles(samples, 1)["p50"]
    return out


def _side(root: Path, args: tuple[str, ...]) -> dict[str, Any]:
    with harness.live_server(root=root, uvicorn_args=args) as base:
        result: dict[str, Any] = {
            f"cached_rps_{k}": _throughput(base, path) for k, path in CACHED.items()
        }
        result["uncached_p50_ms"] = _uncached_ms(base)
    return result


def _encode_times() -> dict[str, Any]:
    """In-process: the stdlib generic path against encode_json, on the same payloads."""
    from app.api.encoding import encode_json, to_jsonable
    from app.core.parallel.memory import MemoryQuery, compute_memory
    from app.core.parallel.pipeline import simulate_pipeline
    from app.core.parallel.pipeline_payload import records

    pipe = records(simulate_pipeline("1f1b", 32, 256))
    payloads = {
        "memory_report": compute_memory(MemoryQuery(model="llama3-70b", tp=8, pp=4, dp=8, zero=1)),
        "pipeline_32x256_records": pipe,
    }
    out: dict[str, Any] = {}
    for name, payload in payloads.items():
        times = {}
        for label, fn in {
            "stdlib_ms": lambda p=payload: json.dumps(
                to_jsonable(p), separators=(",", ":"), default=lambda a: a.tolist()
            ).encode(),
            "orjson_ms": lambda p=payload: encode_json(p),
        }.items():
            samples = []
            for _ in range(7):
                t = time.perf_counter()
                body = fn()
                samples.append((time.perf_counter() - t) * 1000)
            times[label] = harness.percentiles(samples, 2)["p50"]
        times["bytes"] = len(body)
        out[name] = times
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(harness.ROOT), "worktree", "add", "--detach", str(base_tree), BASE],
            check=True,
            capture_output=True,
        )
        try:
            before = _side(base_tree, ("--loop", "asyncio", "--http", "h11"))
        finally:
            subprocess.run(
                ["git", "-C", str(harness.ROOT), "worktree", "remove", "--force", str(base_tree)],
                check=True,
                capture_output=True,
            )
    after = _side(harness.ROOT, ("--loop", "uvloop", "--http", "httptools"))
    print(
        json.dumps(
            {
                "bench": "api",
                "base": BASE,
                "before_h11_asyncio": before,
                "after_httptools_uvloop": after,
                "encode": _encode_times(),
                "load_average": harness.load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
