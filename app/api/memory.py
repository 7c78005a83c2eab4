"""GET /api/v1/memory: per-GPU memory, term by term, for training or inference."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.errors import UnknownName
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.parallel.memory_options import memory_options
from app.core.parallel.presets import GPU_NAMES, MODEL_NAMES
from app.schemas.memory import MemoryOptionsResponse, MemoryQueryParams, MemoryResponse
from app.schemas.query import to_query

router = api_router("memory")


@router.get(
    "/memory",
    response_model=MemoryResponse,
    summary="Per-GPU memory for training or inference, term by term with formulas",
    description="Give `model=` (a preset), a custom architecture (`layers`, `hidden`, `heads`, "
    "optional `kv_heads`, `ffn`, `vocab`, `mlp`, `norm`), or only `params` (model states "
    "only). Training: weights, gradients and optimizer states under an accounting "
    "`convention` (ZeRO paper, Megatron, DeepSpeed, FSDP), sharded over N_d = dp·cp by ZeRO "
    "stage; activations from the layer's own tensors (`anatomy`, `attention`) × layers × the "
    "microbatches each rank holds at its peak in the simulated `schedule` (the simulation of "
    "GET /api/v1/pipeline). Inference: weights per tensor class as the checkpoint ships them, "
    "and the KV cache (sliding-window layers cache their window). Headline numbers are the "
    "fullest pipeline stage; `verdict` keeps `overhead` GB free; `advice` lists changes in "
    "the order a practitioner tries them, with their cost; `query` echoes every parameter "
    "used (defaults filled in).",
)
def get_memory(request: Request, params: Annotated[MemoryQueryParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(MemoryQuery, params)
    return cached_json(request, _cache_key(query), lambda: compute_memory(query))


def _cache_key(q: MemoryQuery) -> MemoryQuery:
    """The query with its model and GPU spelled as their registries spell them: `Llama3-70B`
    and `llama3-70b` give the same body (the echo is canonical), so they share one entry and
    one ETag. A name no registry knows stays as typed (compute_memory answers its 404)."""
    model, gpu = q.model, q.gpu
    with suppress(UnknownName):
        model = MODEL_NAMES.resolve(model) if model else model
    with suppress(UnknownName):
        gpu = GPU_NAMES.resolve(gpu)
    return replace(q, model=model, gpu=gpu)


@router.get(
    "/memory/options",
    response_model=MemoryOptionsResponse,
    summary="The memory query's assumptions as labelled choices with their defaults",
    description="What /memory draws its assumption controls from: attention kernel, layer "
    "anatomy, recompute, logits, accounting convention, gradient and Adam-moment dtypes, "
    "pipeline schedule, overhead, and the weight storage dtypes.",
)
def get_memory_options(request: Request) -> Response:
    return cached_json(request, "options", memory_options)
