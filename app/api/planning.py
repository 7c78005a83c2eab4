"""GET /api/v1/throughput (a claim under every FLOPs convention), /throughput/gallery
(published runs reproduced), /plan (layouts ranked by step time) and /plan/examples."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.planning.decoder import ThroughputQuery, decode
from app.core.planning.gallery import gallery_payload
from app.core.planning.planner import PlanQuery, plan, plan_examples
from app.schemas.planning import (
    GalleryResponse,
    PlanExamplesResponse,
    PlanResponse,
    ThroughputResponse,
)
from app.schemas.query import query_model, to_query

router = api_router("planning")

ThroughputParams = query_model(ThroughputQuery)
PlanParams = query_model(PlanQuery)


@router.get(
    "/throughput",
    response_model=ThroughputResponse,
    summary="Decode a throughput claim: MFU under every FLOPs convention and peak",
    description="Give a model (preset, custom architecture, or `params` alone), a GPU, "
    "`gpus` and exactly one claim: `tokens_per_second` (global), `tokens_per_second_per_gpu`, "
    "`step_time` with `global_batch_tokens`, `gpu_hours` with `gpu_hours_tokens`, or "
    "`tflops_per_gpu` counted by `tflops_convention`. `conventions` lists FLOPs per token, "
    "achieved TFLOP/s per GPU and MFU under 6N, 6N + attention (full or causal), Megatron's "
    "formula, and — with `recompute` — the recompute-inclusive HFU counts, each with its "
    "formula and source; `peaks` divides by BF16/FP8, dense/sparse; `implied` gives the time "
    "and GPU-hours for `train_tokens`; `time` splits each GPU's time; a stated layout (`tp`, "
    "`pp`, `dp`, ...) is checked in `checks` (degrees × = GPUs, global batch, TP inside a node, "
    "memory by /memory's model).",
)
def get_throughput(request: Request, params: Annotated[ThroughputParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(ThroughputQuery, params)
    return cached_json(request, query, lambda: decode(query).payload())


@router.get(
    "/throughput/gallery",
    response_model=GalleryResponse,
    summary="Published training runs, each reproduced by the convention its authors used",
    description="Llama 3 405B (Table 4), Megatron-LM (Table 1, Table 2, §5.1), MT-NLG 530B, "
    "MosaicML MPT benchmarks and DeepSeek-V3's GPU-hours. Each run's claim goes through "
    "/throughput; `reproduced` is the published figure under the stated convention (within "
    "`tolerance`), `others` the same figure under every other convention of its family.",
)
def get_gallery(request: Request) -> Response:
    return cached_json(request, "gallery", gallery_payload)


@router.get(
    "/plan",
    response_model=PlanResponse,
    summary="Plan a layout: every TP × PP × DP/ZeRO × CP × EP × schedule × recompute choice",
    description="Every layout the constraints allow (`max_tp`, `max_pp`, `max_cp`, "
    "`max_ep`, `max_chunks`, `max_micro_batch`, `schedules`, `zero_stages`, `recompute`) is "
    "screened at once by an estimate of its step time; the fastest are checked by /memory's "
    "model until `top` fit, and those that could win are priced exactly by /communication's "
    "step-time model (pipeline simulated with their own costs). `layouts` are sorted by "
    "`step_time`, each with its degrees, MFU, `memory_per_gpu`, the `memory_query` that "
    "reproduces it on /memory and links to /memory, /communication, /pipeline and /mesh; "
    "`infeasible` lists faster layouts that do not fit and the winner's neighbours that cannot "
    "run, with the reason.",
)
def get_plan(request: Request, params: Annotated[PlanParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(PlanQuery, params)
    return cached_json(request, query, lambda: plan(query).payload())


@router.get(
    "/plan/examples",
    response_model=PlanExamplesResponse,
    summary="Plans to start from",
    description="One node, a 64-GPU pod, 1,024 GPUs with context parallelism open, an MoE.",
)
def get_plan_examples(request: Request) -> Response:
    return cached_json(request, "examples", lambda: {"examples": plan_examples()})
