"""A 16,384-rank mesh and a 4,096-device shard map: HTTP latency, and encode time old vs new.

Two parts, printed as one JSON line:

- `http`: starts uvicorn (app.main:app) on a free port and times the first request, repeated
  requests (served from the response cache) and distinct URLs (each computed from scratch).
- `encode_cpu_ms`: CPU time (best of N, in process, uncached) to build and encode each body two
  ways, side by side. `printf` is the row-template encoder the routers used until the one
  encoder landed (each table row formatted by one ``%d`` template in a single C-level pass);
  it is kept here, and only here, as the reference the new path is measured against. `orjson`
  is the app's path today: the core builds lists / dicts / numpy columns and
  `app.api.common.encode_json` writes them. Both bodies are checked to parse to the same JSON.

    .venv/bin/python bench/bench_parallel.py
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable
from typing import Any

import harness
import httpx
import numpy as np

MESH = {"axes": "dp:128,pp:16,cp:1,tp:8", "gpus_per_node": 8}
SHARD = {"axes": "dp:64,tp:64", "shape": "4096,4096", "spec": "dp,tp"}
REPEAT = 20


# ---------------------------------------------------------------- HTTP


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


def _http() -> dict[str, Any]:
    with harness.live_server() as base, httpx.Client(base_url=base, timeout=30) as client:
        mesh = "/api/v1/mesh"
        return {
            "mesh_16384_records": _measure(client, mesh, MESH, "gpus_per_node"),
            # what the /mesh page asks for: per-rank arrays only (groups follow from strides)
            "mesh_16384_page": _measure(
                client, mesh, {**MESH, "format": "columns", "include": "ranks"}, "gpus_per_node"
            ),
            "sharding_4096": _measure(client, "/api/v1/sharding", SHARD, "shape"),
        }


# ---------------------------------------------------------------- the old printf encoder


def _rows(row: str, table: np.ndarray) -> str:
    """One `row` template per table row, in one pass: ``_rows("[%d]", [[1], [2]]) == "[1],[2]"``."""
    if table.shape[0] == 0:
        return ""
    return ",".join([row] * table.shape[0]) % tuple(table.ravel().tolist())


def _int_list(a: np.ndarray) -> str:
    return "[" + _rows("%d", a.reshape(-1, 1)) + "]"


def _printf_mesh(axes: str, gpus_per_node: int, columns: bool, groups: bool) -> bytes:
    from app.core.parallel.mesh import build_mesh

    mesh = build_mesh(axes, gpus_per_node)
    names = mesh.axis_names
    head = {"world_size": mesh.world_size, "axis_names": list(names)}
    parts = [json.dumps(head, separators=(",", ":"))[:-1]]
    if columns:
        coords = ",".join(f'"{n}":{_int_list(mesh.coords[:, i])}' for i, n in enumerate(names))
        ranks = (
            f'{{"node":{_int_list(mesh.node)},'
            f'"local_rank":{_int_list(mesh.local_rank)},"coords":{{{coords}}}}}'
        )
    else:
        row = '{"rank":%d,"node":%d,"local_rank":%d,"coords":{'
        row += ",".join(f'"{n}":%d' for n in names) + "}}"
        rank = np.arange(mesh.world_size)
        ranks = "[" + _rows(row, np.column_stack([rank, mesh.node, mesh.local_rank, mesh.coords]))
        ranks += "]"
    parts.append('"ranks":' + ranks)
    if groups:
        text = ",".join(
            f'"{k}":[' + _rows("[" + ",".join(["%d"] * v.shape[1]) + "]", v) + "]"
            for k, v in mesh.groups.items()
        )
        parts.append('"groups":{' + text + "}")
    return (",".join(parts) + "}").encode()


def _printf_sharding(axes: str, shape: str, spec: str) -> bytes:
    from app.core.parallel.sharding import shard_map

    sm = shard_map(axes, shape, spec)
    names = [a.name for a in sm.axes]
    ndim = len(sm.shape)
    coords = np.stack(np.unravel_index(np.arange(sm.world_size), [a.size for a in sm.axes]), 1)
    idx = ",".join(["[%d,%d]"] * ndim)
    blk = ",".join(["%d"] * ndim)
    row = '{"rank":%d,"coords":{' + ",".join(f'"{n}":%d' for n in names) + '},"index":['
    row += idx + '],"block":[' + blk + '],"block_id":%d,"replica":%d}'
    se = np.stack([sm.start, sm.stop], axis=2).reshape(sm.world_size, 2 * ndim)
    ids = sm.block_id
    table = np.column_stack([np.arange(sm.world_size), coords, se, sm.block, ids, sm.replica])
    bidx = sm.block_index
    ss = np.asarray(sm.shard_shape)
    bse = np.stack([bidx * ss, (bidx + 1) * ss], axis=2).reshape(len(bidx), 2 * ndim)
    brow = '{"block":[' + blk + '],"index":[' + idx + '],"ranks":['
    brow += ",".join(["%d"] * sm.replication) + "]}"
    btable = np.column_stack([bidx, bse, sm.block_ranks])
    body = '{"devices":[' + _rows(row, table) + '],"blocks":[' + _rows(brow, btable) + "]}"
    return body.encode()


# ---------------------------------------------------------------- the app's encoder


def _orjson_mesh(axes: str, gpus_per_node: int, columns: bool, groups: bool) -> bytes:
    from app.api.encoding import encode_json
    from app.core.parallel.mesh_query import MeshQuery, compute_mesh

    include = "ranks,groups" if groups else "ranks"
    fmt = "columns" if columns else "records"
    return encode_json(compute_mesh(MeshQuery(axes, gpus_per_node, fmt, include)))


def _orjson_sharding(axes: str, shape: str, spec: str) -> bytes:
    from app.api.encoding import encode_json
    from app.core.parallel.mesh_query import ShardingQuery, compute_sharding

    return encode_json(compute_sharding(ShardingQuery(axes, shape, spec)))


def _cpu_ms(build: Callable[[int], bytes], n: int = 15) -> float:
    """Best CPU time of `n` uncached builds (argument i makes each one distinct)."""
    from app.core.parallel.mesh import _cached

    best = float("inf")
    for i in range(n):
        _cached.cache_clear()  # both encoders pay for building the mesh
        gc.collect()
        t = time.process_time()
        build(i)
        best = min(best, time.process_time() - t)
    return round(best * 1000, 2)


def _same_json(old: bytes, new: bytes) -> bool:
    a, b = json.loads(old), json.loads(new)
    return all(a[k] == b[k] for k in a if k not in ("world_size", "axis_names"))


def _encode() -> dict[str, Any]:
    axes, gpn = MESH["axes"], MESH["gpus_per_node"]
    cases: dict[str, tuple[Callable[..., bytes], Callable[..., bytes], Callable[[int], tuple]]] = {
        "mesh_16384_records_groups": (
            _printf_mesh, _orjson_mesh, lambda i: (axes, gpn + i, False, True)
        ),
        "mesh_16384_records": (_printf_mesh, _orjson_mesh, lambda i: (axes, gpn + i, False, False)),
        "mesh_16384_columns_page": (
            _printf_mesh, _orjson_mesh, lambda i: (axes, gpn + i, True, False)
        ),
        "sharding_4096": (
            _printf_sharding,
            _orjson_sharding,
            lambda i: (SHARD["axes"], f"{4096 * (i + 2)},4096", SHARD["spec"]),
        ),
    }  # fmt: skip
    out: dict[str, Any] = {}
    for name, (old, new, args) in cases.items():
        same = _same_json(old(*args(0)), new(*args(0)))
        printf = _cpu_ms(lambda i, old=old, args=args: old(*args(i)))
        orjson_ms = _cpu_ms(lambda i, new=new, args=args: new(*args(i)))
        out[name] = {
            "printf_ms": printf,
            "orjson_ms": orjson_ms,
            "orjson_over_printf": round(orjson_ms / printf, 2),
            "same_json": same,
        }
    return out


def main() -> None:
    encode = _encode()
    http = _http()
    print(
        json.dumps(
            {
                "bench": "parallel",
                "target_ms": 100,
                "load_average_1m": harness.load_average(),
                "cpus": os.cpu_count(),
                "http": http,
                "encode_cpu_ms": encode,
            }
        )
    )


if __name__ == "__main__":
    main()
