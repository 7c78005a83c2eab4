"""The quantization and arithmetic labs: quantize a tensor, sum in low precision, attention.

GET endpoints are pure functions of their query (cached, tagged); POST /quantize takes the
user's own values and is answered fresh (a body is not a cache key worth keeping).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import Body, Query, Request, Response

from app.api.common import api_router, cached_json
from app.api.encoding import encode_json
from app.core.numerics.attention import AttentionQuery, run_attention
from app.core.numerics.quantize_lab import (
    catalogue,
    quantize_report,
    run_accumulate,
    run_dot,
    run_quantize,
)
from app.core.numerics.quantize_query import (
    AccumulateQuery,
    DotQuery,
    QuantizeOptions,
    QuantizeQuery,
)
from app.schemas.quantize import (
    AccumulateParams,
    AccumulateResponse,
    AttentionParams,
    AttentionResponse,
    DotParams,
    DotResponse,
    QuantizeBody,
    QuantizeParams,
    QuantizePostResponse,
    QuantizeResponse,
    SchemesResponse,
)
from app.schemas.query import to_query

router = api_router("quantize")

QUANTIZE_DOC = (
    "`scheme` is a preset (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8, nvfp4, "
    "deepseek_fp8) or a generic scheme (none, tensor, channel, block) with `format`, "
    "`block_size`, `scale_format`, `scale_rule`; options given with a preset override it, so "
    "`scheme=mxfp4` equals `scheme=block&format=float4_e2m1fn&block_size=32&"
    "scale_format=float8_e8m0fnu`. Elements are saturated to the element max, then rounded to "
    "nearest even. The response has the metrics, histograms of input, dequantized values and "
    "error, the use of every element code, the element grid, the first blocks and `block` in "
    "full, and every preset on the same data."
)


@router.get(
    "/quantize/schemes",
    response_model=SchemesResponse,
    summary="Every name the quantization and arithmetic labs accept",
    description="Presets with their definition, source and bits per element; generic schemes, "
    "element formats, scale formats and rules, data distributions, accumulator formats and "
    "the limits these endpoints enforce.",
)
def get_schemes(request: Request) -> Response:
    return cached_json(request, "schemes", catalogue)


@router.get(
    "/quantize",
    response_model=QuantizeResponse,
    summary="Quantize a seeded tensor with a scheme and see what it costs",
    description=QUANTIZE_DOC,
)
def get_quantize(request: Request, params: Annotated[QuantizeParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(QuantizeQuery, params)
    return cached_json(request, query, lambda: run_quantize(query))


@router.post(
    "/quantize",
    response_model=QuantizePostResponse,
    summary="Quantize your own values",
    description="The GET's scheme and report options in a JSON body, plus `values` (numbers or "
    '"nan", "inf", "-inf"; non-finite values are quantized but left out of the metrics). '
    "Bodies past request_body_bytes are refused with a 413. " + QUANTIZE_DOC,
)
def post_quantize(body: Annotated[QuantizeBody, Body()]) -> Response:
    fields = body.model_dump(exclude={"values"})
    values = np.asarray(body.values, dtype=np.float64)
    with np.errstate(over="ignore"):  # past float32's range: ±inf, counted as non-finite
        x = values.astype(np.float32)
    report = quantize_report(QuantizeOptions(**fields), x)
    return Response(encode_json(report), media_type="application/json")


@router.get(
    "/accumulate",
    response_model=AccumulateResponse,
    summary="A running sum in low precision against the exact sum",
    description="`n` terms rounded to `format`, summed one by one in `accumulator` (default "
    "`format`), with a float32 accumulator and the exact sum beside it; `stalled_at` is the "
    "first term that left the sum unchanged (`format=bfloat16&distribution=ones&n=1000` ends "
    "at 256). Points are decimated to at most 2,000.",
)
def get_accumulate(request: Request, params: Annotated[AccumulateParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(AccumulateQuery, params)
    return cached_json(request, query, lambda: run_accumulate(query))


@router.get(
    "/accumulate/dot",
    response_model=DotResponse,
    summary="Dot-product error against length",
    description="a·b with inputs in `format` and the sum of products in `accumulator`, at every "
    "power-of-two length up to `n`, relative to Σ|a·b|, with a float32 accumulator and the "
    "√L·u bound for comparison.",
)
def get_dot(request: Request, params: Annotated[DotParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(DotQuery, params)
    return cached_json(request, query, lambda: run_dot(query))


@router.get(
    "/attention",
    response_model=AttentionResponse,
    summary="One attention head in low precision against float64",
    description="softmax(Q·Kᵀ/√d)·V with Q, K, V quantized in `format` and the probabilities P "
    "in `p_format` under `scheme` (per tensor or per block), as FP8 attention kernels do; "
    "output and attention-weight errors against sequence length, with and without outlier "
    "channels in K.",
)
def get_attention(request: Request, params: Annotated[AttentionParams, Query()]) -> Response:  # type: ignore[valid-type]
    query = to_query(AttentionQuery, params)
    return cached_json(request, query, lambda: run_attention(query))
