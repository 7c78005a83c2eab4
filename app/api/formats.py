"""Number formats: the dtype names, the registry, value tables, decode, encode, comparisons,
and one block of a block format (MX, NVFP4).

Every name resolves through the one dtype table (`app.core.numerics.dtypes`), so `bf16`,
`FP8` and `Float8-E4M3FN` work everywhere; query parameters are the core's query dataclasses.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.numerics.block_format import BlockQuery, block_format, block_view, format_or_block
from app.core.numerics.catalogue import CompareQuery, compare, dtype_catalogue, format_list
from app.core.numerics.codec import (
    Decoded,
    DecodeQuery,
    Encoded,
    EncodeQuery,
    decode_query,
    encode_query,
)
from app.core.numerics.formats import ValuesQuery, canonical_name, values_for
from app.core.params import effective
from app.schemas.block_format import BlockParams, BlockViewResponse
from app.schemas.numerics import (
    BlockFormatModel,
    CompareParams,
    CompareResponse,
    DecodeParams,
    DecodeResponse,
    DtypesResponse,
    EncodeParams,
    EncodeResponse,
    FormatInfoModel,
    FormatsResponse,
    ValuesParams,
    ValuesResponse,
)
from app.schemas.query import to_query

router = api_router("formats")

FormatName = Annotated[
    str,
    Path(
        description="ml_dtypes name of the format; aliases (bf16, fp8, e4m3) and other "
        "spellings (BF16, Float8-E4M3FN) also work: see /api/v1/dtypes.",
        examples=["float8_e4m3fn"],
    ),
]


# FastAPI reads each model's fields as query parameters (mypy cannot see a built model as a type)
CompareQuery_ = Annotated[CompareParams, Query()]  # type: ignore[valid-type]
ValuesQuery_ = Annotated[ValuesParams, Query()]  # type: ignore[valid-type]
DecodeQuery_ = Annotated[DecodeParams, Query()]  # type: ignore[valid-type]
EncodeQuery_ = Annotated[EncodeParams, Query()]  # type: ignore[valid-type]
BlockQuery_ = Annotated[BlockParams, Query()]  # type: ignore[valid-type]


def _answer(result: Decoded | Encoded, query: object) -> dict[str, Any]:
    """The dataclass as a dict, the contract's key `class` for `cls`, and the query it used."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        key = "class" if field.name == "cls" else field.name
        out[key] = getattr(result, field.name)
    return {**out, "query": effective(query)}


@router.get(
    "/dtypes",
    response_model=DtypesResponse,
    summary="Every dtype name, its aliases, and the encoder's modes",
    description="The one alias table every endpoint and page uses: element formats (explored "
    "on /formats) and block formats (mxfp8, mxfp6, mxfp4, nvfp4: storage dtypes, e.g. on "
    "/memory), with bits per element; the rounding modes and overflow policies of /encode.",
)
def list_dtypes(request: Request) -> Response:
    return cached_json(request, "dtypes", dtype_catalogue)


@router.get(
    "/formats",
    response_model=FormatsResponse,
    summary="Every number format",
    description="The registry: bit layout, range, precision, special codes and overflow policy "
    "of every ml_dtypes format, plus float16 and float32 for reference, and their groups.",
)
def list_formats(request: Request) -> Response:
    return cached_json(request, "formats", format_list)


@router.get(
    "/compare",
    response_model=CompareResponse,
    summary="Formats side by side",
    description="The formats /compare shows (defaults filled in, names canonical, each once).",
)
def compare_formats(request: Request, params: CompareQuery_) -> Response:
    query = to_query(CompareQuery, params)
    return cached_json(request, query, lambda: compare(query))


@router.get(
    "/formats/{name}",
    response_model=FormatInfoModel | BlockFormatModel,
    summary="One number format",
    description="An element format's FormatInfo (`kind` element), or a block format's "
    "description (`kind` block: mxfp4, nvfp4, ...; one of its blocks is at /block). Unknown "
    "names answer 404 listing the valid ones.",
)
def format_info(request: Request, name: FormatName) -> Response:
    info = format_or_block(name)
    return cached_json(request, info.name, lambda: info)


@router.get(
    "/formats/{name}/block",
    response_model=BlockViewResponse,
    summary="One block of a block format",
    description="Quantizes a tensor (seeded, or the values given) with the block format's "
    "preset and takes one block apart: the shared scale (code, bits, value, how it follows from "
    "the block's amax), each element's code, bits and value, the dequantized values and errors, "
    "and the bits per element.",
)
def format_block(request: Request, name: FormatName, params: BlockQuery_) -> Response:
    query = to_query(BlockQuery, params)
    canonical = block_format(name).name  # a 404 (suggesting a block format) before any 422
    return cached_json(request, (canonical, query), lambda: block_view(canonical, query))


@router.get(
    "/formats/{name}/values",
    response_model=ValuesResponse,
    summary="Every code of a format and its value",
    description="All 2^bits codes with value and class, for formats of at most "
    "value_table_bits bits (float32 answers 422), or a window `start`, `count` of any format.",
)
def format_values(request: Request, name: FormatName, params: ValuesQuery_) -> Response:
    query = to_query(ValuesQuery, params)
    canonical = canonical_name(name)
    table = values_for(canonical, query)  # a window past the limits is a 422 before any body
    return cached_json(
        request,
        (canonical, query),
        lambda: {
            "name": canonical,
            "query": effective(query),
            "codes": table.codes,
            "values": table.values,
            "classes": table.class_names(),
        },
    )


@router.get(
    "/formats/{name}/decode",
    response_model=DecodeResponse,
    summary="Take one code apart",
    description="Sign, exponent and mantissa fields, class, value, its exact decimal "
    "expansion, the formula evaluated step by step, and the neighbouring codes in value order.",
)
def format_decode(request: Request, name: FormatName, params: DecodeQuery_) -> Response:
    query = to_query(DecodeQuery, params)
    canonical = canonical_name(name)  # an unknown format is a 404 before any 422
    return cached_json(
        request, (canonical, query), lambda: _answer(decode_query(canonical, query), query)
    )


@router.get(
    "/formats/{name}/encode",
    response_model=EncodeResponse,
    summary="Round a real into a format",
    description="One rounding from float64 (ml_dtypes rounds through float32 first; the "
    "response's `ml_dtypes_code` and `note` show when that differs). Returns the code, value, "
    "errors, both neighbours, why a tie went where it did, and the query used.",
)
def format_encode(request: Request, name: FormatName, params: EncodeQuery_) -> Response:
    query = to_query(EncodeQuery, params)
    canonical = canonical_name(name)
    return cached_json(
        request, (canonical, query), lambda: _answer(encode_query(canonical, query), query)
    )
