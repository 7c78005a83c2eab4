"""GET /api/v1/pipeline (a simulated schedule) and /api/v1/pipeline/schedules (the catalogue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.parallel.pipeline import PipelineQuery, catalogue, pipeline_payload
from app.core.parallel.pipeline_query import resolve_query
from app.schemas.pipeline import PipelineAnyResponse, PipelineCatalogue
from app.schemas.query import query_model, to_query

router = api_router("parallelism")

PipelineParams = query_model(PipelineQuery)


@router.get(
    "/pipeline",
    response_model=PipelineAnyResponse,
    summary="Simulate a pipeline-parallel schedule",
    description="Builds the per-rank op order of `schedule` and simulates it with the given "
    "costs. Every op says which ops it `waits_for`; `query` echoes every parameter used. "
    "`format=json` (PipelineResponse) has one object per op, `format=columns` "
    "(PipelineColumnsResponse) parallel arrays, `format=chrome_trace` (ChromeTraceResponse) "
    "Chrome trace / Perfetto JSON. GET /api/v1/pipeline/schedules lists the schedules and rules.",
)
def get_pipeline(request: Request, params: Annotated[PipelineParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = resolve_query(to_query(PipelineQuery, params))
    return cached_json(request, query, lambda: pipeline_payload(query))


@router.get(
    "/pipeline/schedules",
    response_model=PipelineCatalogue,
    summary="Pipeline schedules, op kinds, dependency rules and parameters",
    description="Everything a client needs before it asks for a schedule: each schedule's "
    "name, label, chunk and microbatch rules (in fields and in words) and the parameters it "
    "reads; the op kinds; which op waits for which; every parameter with its default and "
    "bounds; the formats, cost presets and limits.",
)
def get_schedules(request: Request) -> Response:
    return cached_json(request, "schedules", catalogue)
