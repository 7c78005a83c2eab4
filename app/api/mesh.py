"""Device meshes and shard maps (JAX `Mesh` / `NamedSharding` semantics).

Each route parses its query model, normalises it (the cache key, echoed as `query`) and hands it
to one core call; the shared response path encodes, caches and tags the result.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.limits import limit
from app.core.parallel.mesh_query import MeshQuery, ShardingQuery, compute_mesh, compute_sharding
from app.core.parallel.sharding_model import ModelShardingQuery, compute_model_sharding
from app.schemas.mesh import MeshResponse, ModelShardingResponse, ShardingResponse
from app.schemas.query import query_model, to_query

router = api_router("parallelism")

MeshParams = query_model(MeshQuery)
ShardingParams = query_model(ShardingQuery)
ModelShardingParams = query_model(ModelShardingQuery)


@router.get(
    "/mesh",
    response_model=MeshResponse,
    summary="Device mesh: ranks, coordinates, groups and nodes",
    description="JAX `Mesh` semantics: rank r has the coordinates of r in "
    "`numpy.arange(world).reshape(sizes)` (last axis fastest). A group along an axis is the "
    f"set of ranks agreeing on every other coordinate. Up to {limit('mesh_ranks'):,} ranks. "
    "`degrees` are the parallel degrees as /api/v1/memory counts them (dp includes the ep "
    "axis: EP is carved out of DP); `query` echoes every parameter used.",
)
def get_mesh(request: Request, params: Annotated[MeshParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(MeshQuery, params).normalised()
    return cached_json(request, query, lambda: compute_mesh(query))


@router.get(
    "/sharding",
    response_model=ShardingResponse,
    summary="Shard map: which device holds which slice of a tensor",
    description="JAX `NamedSharding` semantics. `spec` has one entry per dimension: a mesh "
    "axis, several joined by `+` (major to minor), or `_` (unsharded); axes not named "
    f"replicate. Up to {limit('sharding_devices'):,} devices and {limit('tensor_rank')} "
    "dimensions; indivisible dimensions are a 422. `query` echoes every parameter used.",
)
def get_sharding(request: Request, params: Annotated[ShardingParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(ShardingQuery, params).normalised()
    return cached_json(request, query, lambda: compute_sharding(query))


@router.get(
    "/sharding/model",
    response_model=ModelShardingResponse,
    summary="Every weight of one transformer layer under TP / DP (FSDP) / EP",
    description="Megatron-style specs over the stage mesh `dp:dp/ep,ep:ep,tp:tp` (`axes`): "
    "q/k/v, gate and up column-parallel (split `out`), o and down row-parallel (split `in`), "
    "embedding vocab-parallel, experts split over ep; zero=3 adds FSDP over the data axes. "
    "`dp` counts every data-parallel rank, as /api/v1/memory does. Each `spec` can be passed "
    "to /api/v1/sharding with `axes` to draw that weight.",
)
def get_model_sharding(
    request: Request,
    params: Annotated[ModelShardingParams, Query()],  # type: ignore[valid-type]
) -> Response:
    query = to_query(ModelShardingQuery, params).normalised()
    return cached_json(request, query, lambda: compute_model_sharding(query))
