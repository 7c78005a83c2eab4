"""GET /api/v1/inference (the per-op roofline of prefill and decode), /inference/kv (KV capacity
under an engine's rule) and /inference/batching (continuous vs static batching, simulated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.inference.batching import BatchingQuery, compute_batching
from app.core.inference.kv import KVQuery, compute_kv, kv_payload
from app.core.inference.roofline import InferenceQuery, compute_inference
from app.schemas.inference import (
    BatchingParams,
    BatchingResponse,
    InferenceParams,
    InferenceResponse,
    KVParams,
    KVResponse,
)
from app.schemas.query import to_query

router = api_router("inference")


@router.get(
    "/inference",
    response_model=InferenceResponse,
    summary="Every op of prefill and decode on the GPU's roofline, sharded over TP/PP/EP/DP",
    description="The memory endpoint's model, GPU and layout parameters (`model` or a custom "
    "architecture, `gpu`, `tp`, `pp`, `ep`, `dp`, `dtype`, `kv_dtype`), a `batch` and a "
    "`context`. `phases` costs a prefill of `batch` prompts of `context` tokens and one decode "
    "step with `context` tokens cached: each op's FLOPs, bytes, intensity, bound and time "
    "(max of compute and memory time at the `compute_efficiency` and `memory_efficiency`), "
    "collectives on the achievable links; `ops` and `time` are those of `phase`. "
    "`critical_batch` is (peak / bandwidth) · weight bytes / 2; `requests` gives TTFT, TPOT "
    "and throughput; `curve` TPOT against throughput per GPU with the `slo`; `layout` what one "
    "GPU holds and what repeats; `tp_sweep` the same at every TP degree the model allows.",
)
def get_inference(request: Request, params: Annotated[InferenceParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(InferenceQuery, params)
    return cached_json(request, query, lambda: compute_inference(query))


@router.get(
    "/inference/kv",
    response_model=KVResponse,
    summary="KV-cache capacity as vLLM, SGLang or TensorRT-LLM compute it",
    description="vLLM and SGLang take a fraction of total memory (`gpu_memory_utilization` "
    "0.9; `mem_fraction_static` by a rule of the GPU's memory and tp·pp) for weights, cache "
    "and (vLLM) the activation peak; TensorRT-LLM a fraction (`free_gpu_memory_fraction` 0.9) "
    "of what the weights and activation buffers leave. `block_bytes`, `num_blocks`, "
    "`kv_tokens` and `max_concurrency` (requests of `max_model_len` at once) per stage, and "
    "per attention kind (full, sliding window as vLLM V1 groups it, MLA's latent).",
)
def get_kv(request: Request, params: Annotated[KVParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(KVQuery, params)
    return cached_json(request, query, lambda: kv_payload(compute_kv(query)))


@router.get(
    "/inference/batching",
    response_model=BatchingResponse,
    summary="A seeded request stream served with continuous batching over a paged KV pool, "
    "and with static batching",
    description="Poisson arrivals at `rate`, prompt and output lengths from `distribution`, "
    "`seed`. The pool is the engine rule's blocks on one GPU (or `num_blocks`); every step "
    "is costed on the roofline with its own mix of prefill and decode tokens. `continuous` "
    "and `static` give figures (throughput, TTFT, TPOT, preemptions) and, up to the "
    "batching_trace_requests limit, the trace: runs of steps and every block allocated and "
    "freed, by request. `disaggregation` says how many prefill replicas each decode replica "
    "needs for this mix.",
)
def get_batching(request: Request, params: Annotated[BatchingParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(BatchingQuery, params)
    return cached_json(request, query, lambda: compute_batching(query))
