"""GET /api/v1/collectives (steps and cost of one collective), POST /api/v1/collectives/
nccl-tests (a pasted nccl-tests table, fitted) and GET /api/v1/communication (the bill of one
training step)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.api.encoding import encode_json
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.core.parallel.communication import (
    CommunicationQuery,
    compute_communication,
    examples,
)
from app.core.parallel.nccl_tests import fit_nccl_tests
from app.schemas.collectives import (
    CollectiveResponse,
    CommunicationExamplesResponse,
    CommunicationResponse,
    NcclTestsRequest,
    NcclTestsResponse,
)
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
    return cached_json(request, query, lambda: compute_collective(query).payload())


@router.post(
    "/collectives/nccl-tests",
    response_model=NcclTestsResponse,
    summary="Read a pasted nccl-tests table and fit its bandwidth and latency",
    description="Paste what all_reduce_perf, all_gather_perf, reduce_scatter_perf, "
    "alltoall_perf or broadcast_perf printed. The rows are read (out-of-place columns unless "
    "`in_place`), the ranks taken from the '# Rank' lines or the busbw/algbw ratio, and "
    "t = a + b·S fitted: B = factor/b is the asymptotic busbw, n½ = a/b the size at half of "
    "it. `calibrated_query` reruns /collectives (or /communication) with these figures.",
)
def post_nccl_tests(body: NcclTestsRequest) -> Response:
    result = fit_nccl_tests(body.text, body.op, body.ranks, body.gpu, body.in_place)
    return Response(encode_json(result.payload()), media_type="application/json")


CommunicationParams = query_model(CommunicationQuery)


@router.get(
    "/communication",
    response_model=CommunicationResponse,
    summary="The communication bill of one training step, and its step time",
    description="The memory endpoint's parameters (model, GPU, dp/tp/pp/cp/ep, ZeRO, "
    "sequence parallelism, recomputation, microbatches) plus link overrides, the compute "
    "efficiency and one overlap switch per axis. `bill` lists every collective one GPU runs "
    "in a step (count, buffer in nccl-tests' convention, bytes on the wire, link, time, "
    "exposed time); `step_time` = `compute_time` + `exposed_communication_time` + "
    "`bubble_time`, the bubble from the pipeline simulator with these costs.",
)
def get_communication(
    request: Request,
    params: Annotated[CommunicationParams, Query()],  # type: ignore[valid-type]
) -> Response:
    query = to_query(CommunicationQuery, params)
    return cached_json(request, query, lambda: compute_communication(query).payload())


@router.get(
    "/communication/examples",
    response_model=CommunicationExamplesResponse,
    summary="Published layouts to start a bill from",
    description="Llama 3 405B (8K and 16K H100s) and a 70B layout, with the microbatches their "
    "batch sizes imply.",
)
def get_communication_examples(request: Request) -> Response:
    return cached_json(request, "examples", lambda: {"examples": examples()})
