"""GET /api/v1/memory: per-GPU memory, term by term, for training or inference."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.schemas.memory import MemoryQueryParams, MemoryResponse
from app.schemas.query import to_query

router = api_router("memory")


@router.get(
    "/memory",
    response_model=MemoryResponse,
    summary="Per-GPU memory for training or inference, term by term with formulas",
    description="Give `model=` (a preset), a custom architecture (`layers`, `hidden`, `heads`, "
    "optional `kv_heads`, `ffn`, `vocab`), or only `params` (model states only). Training: ZeRO "
    "stages 0–3 with mixed-precision Adam over N_d = dp·cp; activations per layer times layers "
    "per stage times microbatches in flight. Inference: weights in `dtype` plus the KV cache. "
    "Headline numbers are the fullest pipeline stage; `per_stage` has every stage; `advice` "
    "lists changes that lower the total; `query` echoes every parameter used (defaults filled "
    "in), and `verdict`, `world_size`, each stage's `role` and `microbatches_in_flight` and "
    "each term's `segment` are what the page draws.",
)
def get_memory(request: Request, params: Annotated[MemoryQueryParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(MemoryQuery, params)
    return cached_json(request, query, lambda: compute_memory(query))
