"""GET /api/v1/pipeline: simulate a pipeline schedule and return its ops and summary.

A schedule at p = 32, m = 256 has 16k–49k ops; the generic `json_response` path (to_jsonable
on every dict) would spend more time than the simulation. So this router writes the JSON
itself from the result's columns, formatting each distinct time once (times repeat across
ops), and memoises a few recent bodies. The ETag is a hash of the normalised parameters, so a
revalidation is answered with 304 before anything is computed.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from threading import Lock
from typing import Annotated, Any

import numpy as np
from fastapi import Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.errors import UnknownName
from app.core.limits import limit
from app.core.parallel.pipeline import SCHEDULES, PipelineResult, simulate_pipeline
from app.core.parallel.pipeline_orders import KIND_NAMES
from app.schemas.pipeline import PipelineResponse

router = api_router("parallelism")

FORMATS = ("json", "columns", "chrome_trace")
_VERSION = "pipeline-1"  # bump when the output for the same parameters changes
_CACHE_SIZE = 8
_CACHE_BYTES = 64 * 1024 * 1024  # a p = 64, m = 512 ZB-V body is about 18 MB
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = Lock()


@router.get(
    "/pipeline",
    response_model=PipelineResponse,
    summary="Simulate a pipeline-parallel schedule",
    description=(
        "Builds the per-rank op order of `schedule` (gpipe, 1f1b, interleaved_1f1b, zb_h1, "
        "zb_h2, zbv, dualpipev) and simulates it with the given costs. `format=columns` "
        "returns `ops` as parallel arrays (smaller, faster for large schedules); "
        "`format=chrome_trace` returns Chrome trace / Perfetto JSON (1 cost unit = 1 ms)."
    ),
)
def get_pipeline(
    request: Request,
    schedule: Annotated[
        str,
        Query(description="Schedule name: " + ", ".join(SCHEDULES), examples=["1f1b"]),
    ] = "1f1b",
    stages: Annotated[
        int,
        Query(
            ge=1,
            le=limit("pipeline_stages"),
            description="Pipeline ranks (devices) p.",
            examples=[4],
        ),
    ] = 4,
    microbatches: Annotated[
        int,
        Query(
            ge=1,
            le=limit("pipeline_microbatches"),
            description="Microbatches m per iteration.",
            examples=[8],
        ),
    ] = 8,
    chunks: Annotated[
        int | None,
        Query(
            ge=1,
            le=limit("pipeline_chunks"),
            description="Model chunks per rank v; default 2 for interleaved_1f1b, zbv and "
            "dualpipev (zbv and dualpipev need exactly 2), 1 for the others.",
            examples=[2],
        ),
    ] = None,
    forward: Annotated[
        float,
        Query(
            ge=0,
            description="Cost of one microbatch's forward through one rank's whole share.",
            examples=[1.0],
        ),
    ] = 1.0,
    backward_input: Annotated[
        float,
        Query(ge=0, description="Cost of the backward for inputs (I), same share.", examples=[1.0]),
    ] = 1.0,
    backward_weight: Annotated[
        float,
        Query(
            ge=0, description="Cost of the backward for weights (W), same share.", examples=[1.0]
        ),
    ] = 1.0,
    p2p: Annotated[
        float,
        Query(ge=0, description="Latency of a send between two ranks.", examples=[0.0]),
    ] = 0.0,
    forward_backward: Annotated[
        float | None,
        Query(
            ge=0,
            description="dualpipev only: duration of one overlapped F&B span (per chunk); "
            "default the chunk's F + B, i.e. (forward + backward_input + backward_weight)/2.",
            examples=[1.2],
        ),
    ] = None,
    stage_costs: Annotated[
        str | None,
        Query(
            description="Optional per-stage multipliers, comma-separated, one per stage "
            "(stages × chunks of them), e.g. 1.3,1,1,1.6 for a heavy embedding and LM head.",
            examples=["1.3,1,1,1.6"],
        ),
    ] = None,
    format: Annotated[
        str,
        Query(description="json (default), columns or chrome_trace.", examples=["json"]),
    ] = "json",
) -> Response:
    if format not in FORMATS:
        raise UnknownName("format", format, FORMATS, field="format")
    key = (
        format,
        schedule,
        stages,
        microbatches,
        chunks,
        forward,
        backward_input,
        backward_weight,
        p2p,
        forward_backward,
        stage_costs,
    )

    def compute() -> bytes:
        result = simulate_pipeline(
            schedule,
            stages,
            microbatches,
            chunks=chunks,
            forward=forward,
            backward_input=backward_input,
            backward_weight=backward_weight,
            p2p=p2p,
            forward_backward=forward_backward,
            stage_costs=stage_costs,
        )
        if format == "chrome_trace":
            return _dumps(result.chrome_trace())
        return encode_pipeline(result, columns=format == "columns")

    return cached_json(request, key, compute)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def encode_pipeline(result: PipelineResult, *, columns: bool = False) -> bytes:
    """The JSON of `result.payload()` (or its columnar variant), written without dicts.

    ``json.loads(encode_pipeline(r)) == r.payload()``; each distinct time is formatted once.
    """
    tl = result.timeline
    n = len(tl.kind)
    times = np.concatenate([np.asarray(tl.start), np.asarray(tl.end)])
    uniq, inv = np.unique(times, return_inverse=True)
    # round() per distinct time, not np.round(times, 9): that is off by an ulp for large
    # times (3000000003.5 -> 3000000003.5000005, after the makespan); see round_times
    rounded = [round(x, 9) for x in uniq.tolist()]
    ustr = [repr(x) for x in rounded]
    tstr = dict(zip(rounded, ustr, strict=True))
    sstr = [ustr[i] for i in inv.tolist()]
    start_s, end_s = sstr[:n], sstr[n:]

    # The header may hold non-ASCII text (formulas); everything after it is ASCII, so it is
    # joined and encoded on its own (ASCII strings join and encode as plain byte copies).
    head = _dumps(result.payload_header())
    parts = []

    parts.append('"per_rank":[')
    cstr: dict[float, str] = {}
    ranks = []
    for st in result.per_rank:
        acts = ",".join(
            f"[{tstr.get(t) or repr(t)},{cstr.get(c) or cstr.setdefault(c, repr(c))}]"
            for t, c in zip(st.activation_times, st.activation_counts, strict=True)
        )
        ranks.append(
            f'{{"rank":{st.rank},"busy":{round(st.busy, 9)!r},"idle":{round(st.idle, 9)!r},'
            f'"peak_activations":{st.peak_activations!r},"activations":[{acts}]}}'
        )
    parts.append(",".join(ranks))
    parts.append("]")

    chunk_of = result.stage_to_chunk
    if columns:
        parts.append(',"ops":{')
        parts.append(
            ",".join(
                [
                    f'"rank":{_dumps(tl.rank).decode()}',
                    f'"stage":{_dumps(tl.stage).decode()}',
                    f'"chunk":{_dumps([chunk_of[s] for s in tl.stage]).decode()}',
                    f'"microbatch":{_dumps(tl.microbatch).decode()}',
                    f'"kind":{_dumps([KIND_NAMES[k] for k in tl.kind]).decode()}',
                    f'"start":[{",".join(start_s)}]',
                    f'"end":[{",".join(end_s)}]',
                    f'"overlapped":{_dumps(tl.overlapped).decode()}',
                ]
            )
        )
        parts.append("}}")
    else:
        stage_rank = result.stage_to_rank
        # every op of one (stage, kind) shares its rank, chunk and kind: one prefix each
        prefix = [
            [
                f'{{"rank":{stage_rank[s]},"stage":{s},"chunk":{chunk_of[s]},'
                f'"kind":"{KIND_NAMES[k]}","microbatch":'
                for k in range(len(KIND_NAMES))
            ]
            for s in range(len(stage_rank))
        ]
        mb_s = [str(i) for i in range(result.microbatches)]
        tails = ("}", ',"overlapped":true}')
        ops = [
            f'{prefix[s][k]}{mb_s[mb]},"start":{a},"end":{b}{tails[ov]}'
            for s, k, mb, a, b, ov in zip(
                tl.stage, tl.kind, tl.microbatch, start_s, end_s, tl.overlapped, strict=True
            )
        ]
        parts.append(',"ops":[')
        parts.append(",".join(ops))
        parts.append("]}")
    return b"".join((head[:-1], b",", "".join(parts).encode("ascii")))
