"""GET /api/v1/moe (tokens routed to experts on EP ranks, and their all-to-alls) and
GET /api/v1/context (ring attention tile by tile over CP ranks, and Ulysses beside it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.parallel.context import ContextQuery, compute_context
from app.core.parallel.moe import MoeQuery, compute_moe
from app.schemas.moe import ContextResponse, MoeResponse
from app.schemas.query import query_model, to_query

router = api_router("moe")

MoeParams = query_model(MoeQuery)
ContextParams = query_model(ContextQuery)


@router.get(
    "/moe",
    response_model=MoeResponse,
    summary="Tokens routed to experts on EP ranks: load, capacity, drops and all-to-alls",
    description="Top-k gating of seeded router logits (`skew` tilts them toward popular "
    "experts, `popularity=zipf` for Zipf-like odds) or expert-choice routing; `model=` takes "
    "experts, top-k, hidden and shared experts from a preset. `capacity` is GShard's "
    "ceil(capacity_factor · tokens · top_k / experts); copies past it are `dropped` unless "
    "`dropless`. `dispatch_bytes` is the ep × ep matrix of the dispatch all-to-all (diagonal: "
    "tokens that stay local); `all_to_all` prices it flat and hierarchical on the GPU's "
    "links. `max_nodes` limits each token to that many nodes (DeepSeek-V3).",
)
def get_moe(request: Request, params: Annotated[MoeParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(MoeQuery, params)
    return cached_json(request, query, lambda: compute_moe(query).payload())


@router.get(
    "/context",
    response_model=ContextResponse,
    summary="Ring attention over CP ranks, tile by tile, and Ulysses' all-to-alls",
    description="`tiles` lists every (query block, key block) tile with the rank and ring "
    "step that computes it (`num_blocks` = cp for contiguous placement, 2·cp for zig-zag); "
    "tiles the causal mask excludes are not computed. `per_rank` and `balance` give the work "
    "and idle time of both placements; `volumes` the bytes and time of the ring's K/V passes "
    "and of Ulysses' all-to-alls per layer.",
)
def get_context(request: Request, params: Annotated[ContextParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(ContextQuery, params)
    return cached_json(request, query, lambda: compute_context(query).payload())
