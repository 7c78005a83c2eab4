"""Device meshes and shard maps (JAX `Mesh` / `NamedSharding` semantics).

Meshes and shard maps are large (16,384 ranks is about 1.7 MB of JSON), so their bodies are
written with row templates instead of a generic walk and kept in the shared response cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.mesh import Mesh, build_mesh, parse_axes
from app.core.parallel.sharding import (
    ShardMap,
    format_spec,
    model_layout,
    parse_shape,
    parse_spec,
    shard_map,
)
from app.schemas.parallel import (
    MeshResponse,
    ModelShardingResponse,
    ShardingResponse,
)

router = api_router("parallelism")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- mesh


def _rows(row: str, table: np.ndarray) -> str:
    """JSON text of one `row` template per table row, formatted in a single C-level pass.

    For example ``_rows("[%d,%d]", np.array([[1, 2], [3, 4]])) == "[1,2],[3,4]"``.
    """
    if table.shape[0] == 0:
        return ""
    return ",".join([row] * table.shape[0]) % tuple(table.ravel().tolist())


def _int_matrix(a: np.ndarray) -> str:
    """``[[0,1],[2,3]]`` for a 2-D integer array (json.dumps is several times slower)."""
    return "[" + _rows("[" + ",".join(["%d"] * a.shape[1]) + "]", a) + "]"


def _int_list(a: np.ndarray) -> str:
    return "[" + _rows("%d", a.reshape(-1, 1)) + "]"


def _mesh_records(mesh: Mesh) -> str:
    row = (
        '{"rank":%d,"node":%d,"local_rank":%d,"coords":{'
        + ",".join(f'"{n}":%d' for n in mesh.axis_names)
        + "}}"
    )
    table = np.column_stack([np.arange(mesh.world_size), mesh.node, mesh.local_rank, mesh.coords])
    return "[" + _rows(row, table) + "]"


def _mesh_columns(mesh: Mesh) -> str:
    coords = ",".join(
        f'"{n}":{_int_list(mesh.coords[:, i])}' for i, n in enumerate(mesh.axis_names)
    )
    return (
        f'{{"node":{_int_list(mesh.node)},'
        f'"local_rank":{_int_list(mesh.local_rank)},"coords":{{{coords}}}}}'
    )


def _mesh_body(axes: str, gpus_per_node: int, fmt: str, include: frozenset[str]) -> bytes:
    """The encoded mesh."""
    mesh = build_mesh(axes, gpus_per_node)
    head = {
        "world_size": mesh.world_size,
        "axis_names": list(mesh.axis_names),
        "shape": list(mesh.shape),
        "gpus_per_node": mesh.gpus_per_node,
        "node_count": mesh.node_count,
        "format": fmt,
        "axis_stats": [asdict(s) for s in mesh.axis_stats],
        "warnings": list(mesh.warnings),
    }
    parts = [_dumps(head)[:-1]]
    if "ranks" in include:
        parts.append(
            '"ranks":' + (_mesh_records(mesh) if fmt == "records" else _mesh_columns(mesh))
        )
    if "groups" in include:
        groups = ",".join(f'"{k}":{_int_matrix(v)}' for k, v in mesh.groups.items())
        parts.append('"groups":{' + groups + "}")
    return (",".join(parts) + "}").encode()


_INCLUDE = frozenset({"ranks", "groups"})


def _parse_include(text: str) -> frozenset[str]:
    items = frozenset(p.strip() for p in text.split(",") if p.strip())
    bad = sorted(items - _INCLUDE)
    if bad:
        raise InvalidInput("include", f"unknown part {bad[0]!r}; choose from ranks, groups")
    return items


@router.get(
    "/mesh",
    response_model=MeshResponse,
    summary="Device mesh: ranks, coordinates, groups and nodes",
    description="JAX `Mesh` semantics: rank r has the coordinates of r in "
    "`numpy.arange(world).reshape(sizes)` (last axis fastest). A group along an axis is the "
    "set of ranks agreeing on every other coordinate. Up to 65,536 ranks; "
    "`format=columnar` sends per-rank arrays instead of one object per rank.",
)
def get_mesh(
    request: Request,
    axes: Annotated[
        str,
        Query(
            max_length=200,
            description="Axes outermost first as name:size, comma separated.",
            examples=["pp:2,dp:2,tp:4", "dp:64,pp:16,cp:1,tp:8"],
        ),
    ],
    gpus_per_node: Annotated[
        int, Query(ge=1, le=limit("gpus_per_node"), description="GPUs per node.", examples=[8])
    ] = 8,
    format: Annotated[
        Literal["records", "columnar"],
        Query(description="records (one object per rank, the contract) or columnar."),
    ] = "records",
    include: Annotated[
        str,
        Query(max_length=40, description="Parts to send: ranks, groups.", examples=["ranks"]),
    ] = "ranks,groups",
) -> Response:
    parsed = parse_axes(axes)
    canonical = ",".join(f"{a.name}:{a.size}" for a in parsed)
    key = (canonical, gpus_per_node, format, _parse_include(include))
    return cached_json(request, key, lambda: _mesh_body(*key))


# ---------------------------------------------------------------- sharding


def _sharding_body(sm: ShardMap) -> bytes:
    names = [a.name for a in sm.axes]
    ndim = len(sm.shape)
    coords = np.stack(np.unravel_index(np.arange(sm.world_size), [a.size for a in sm.axes]), axis=1)
    idx = ",".join(["[%d,%d]"] * ndim)
    blk = ",".join(["%d"] * ndim)
    crd = ",".join(f'"{n}":%d' for n in names)
    row = '{"rank":%d,"coords":{' + crd + '},"index":[' + idx + '],"block":[' + blk
    row += '],"replica":%d}'
    se = np.stack([sm.start, sm.stop], axis=2).reshape(sm.world_size, 2 * ndim)
    table = np.column_stack([np.arange(sm.world_size), coords, se, sm.block, sm.replica])
    bidx = sm.block_index
    ss = np.asarray(sm.shard_shape)
    bse = np.stack([bidx * ss, (bidx + 1) * ss], axis=2).reshape(len(bidx), 2 * ndim)
    ranks = ",".join(["%d"] * sm.replication)
    brow = '{"block":[' + blk + '],"index":[' + idx + '],"ranks":[' + ranks + "]}"
    btable = np.column_stack([bidx, bse, sm.block_ranks])
    head = {
        "axis_names": names,
        "mesh_shape": [a.size for a in sm.axes],
        "world_size": sm.world_size,
        "shape": list(sm.shape),
        "spec": [list(e) for e in sm.spec],
        "spec_text": format_spec(sm.spec),
        "grid": list(sm.grid),
        "shard_shape": list(sm.shard_shape),
        "replicated_axes": list(sm.replicated_axes),
        "replication": sm.replication,
    }
    body = (
        _dumps(head)[:-1]
        + ',"devices":['
        + _rows(row, table)
        + '],"blocks":['
        + _rows(brow, btable)
        + "]}"
    )
    return body.encode()


@router.get(
    "/sharding",
    response_model=ShardingResponse,
    summary="Shard map: which device holds which slice of a tensor",
    description="JAX `NamedSharding` semantics. `spec` has one entry per dimension: a mesh "
    "axis, several joined by `+` (major to minor), or `_` (unsharded); axes not named "
    "replicate. Up to 4,096 devices and 4 dimensions; indivisible dimensions are a 422.",
)
def get_sharding(
    request: Request,
    axes: Annotated[
        str,
        Query(max_length=200, description="Mesh axes, outermost first.", examples=["dp:2,tp:4"]),
    ],
    shape: Annotated[
        str, Query(max_length=100, description="Tensor shape, comma separated.", examples=["16,32"])
    ],
    spec: Annotated[
        str | None,
        Query(
            max_length=200,
            description="One entry per dimension (default: every dimension `_`).",
            examples=["dp,tp", "dp+tp,_"],
        ),
    ] = None,
) -> Response:
    dims = parse_shape(shape)
    parsed_axes = parse_axes(axes)
    parsed_spec = parse_spec(spec) if spec is not None else tuple(() for _ in dims)
    key = (
        ",".join(f"{a.name}:{a.size}" for a in parsed_axes),
        ",".join(map(str, dims)),
        format_spec(parsed_spec),
    )
    return cached_json(request, key, lambda: _sharding_body(shard_map(*key)))


@router.get(
    "/sharding/model",
    response_model=ModelShardingResponse,
    summary="Every weight of one transformer layer under TP / DP (FSDP) / EP",
    description="Megatron-style specs over the stage mesh `dp:dp/ep,ep:ep,tp:tp`: q/k/v, gate "
    "and up column-parallel (split `out`), o and down row-parallel (split `in`), embedding "
    "vocab-parallel, experts split over ep; zero=3 adds FSDP over the data axes. Each `spec` "
    "can be passed to /api/v1/sharding with `axes` to draw that weight.",
)
def get_model_sharding(
    request: Request,
    model: Annotated[str, Query(description="Model preset.", examples=["llama3-8b"])],
    tp: Annotated[
        int, Query(ge=1, le=limit("parallel_degree"), description="Tensor parallel.", examples=[4])
    ] = 1,
    dp: Annotated[
        int,
        Query(
            ge=1, le=limit("mesh_ranks"), description="Data parallel (ep divides it).", examples=[2]
        ),
    ] = 1,
    ep: Annotated[
        int, Query(ge=1, le=limit("parallel_degree"), description="Expert parallel.", examples=[1])
    ] = 1,
    pp: Annotated[
        int, Query(ge=1, le=limit("pipeline_stages"), description="Pipeline stages.", examples=[1])
    ] = 1,
    zero: Annotated[int, Query(ge=0, le=3, description="ZeRO stage (3 = FSDP).", examples=[0])] = 0,
    dtype: Annotated[
        str, Query(max_length=40, description="Weight dtype.", examples=["bfloat16", "mxfp4"])
    ] = "bfloat16",
) -> Response:
    key = (model, tp, dp, ep, pp, zero, dtype)
    return cached_json(request, key, lambda: model_layout(*key))
