"""GET /api/v1/collectives (steps and cost of one collective), POST /api/v1/collectives/
nccl-tests (a pasted nccl-tests table, fitted) and GET /api/v1/communication (the bill of one
training step)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json, encode_json
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.schemas.collectives import CollectiveResponse
from app.schemas.query import query_model, to_query

router = api_router("collectives")

CollectiveParams = query_model(CollectiveQuery)


@router.get(
    "/collectives",
    response_model=CollectiveResponse,
    summary="One collective as explicit steps, with its time, algbw and busbw",
    description="Ring, hierarchical, tree and recursive-doubling all-reduce; ring and "
    "hierarchical all-gather and reduce-scatter; ring (pipelined) and tree broadcast; direct "
    "and pairwise all-to-all. `steps` lists every transfer `{src, dst, chunk, bytes, op}` (a "
    "step's transfers run at once); `time` is the alpha-beta model on the GPU preset's "
    "achievable link figures (override with `bandwidth`, `latency`, `network_bandwidth`, "
    "`network_latency`); `sweep` is time against message size for every algorithm.",
)
def get_collectives(request: Request, params: Annotated[CollectiveParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(CollectiveQuery, params)
    return cached_json(request, query, lambda: encode_json(compute_collective(query).payload()))
