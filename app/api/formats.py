"""Number formats: the registry, value tables, decode and encode (issue 2).

Value tables are the one large payload (65,536 entries for bf16/fp16, ~2 MB of JSON): their
bytes, a gzipped copy and both ETags are built once per format and served from memory.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request, Response

from app.api.common import api_router, cached_json
from app.core.numerics.codec import (
    Decoded,
    Encoded,
    decode,
    encode,
    parse_code,
    parse_value,
)
from app.core.numerics.formats import FORMATS, canonical_name, get_format, value_table
from app.schemas.numerics import (
    DecodeResponse,
    EncodeResponse,
    FormatInfoModel,
    FormatsResponse,
    ValuesResponse,
)

router = api_router("formats")

FormatName = Annotated[
    str,
    Path(
        description="ml_dtypes name of the format (aliases such as bf16 or e4m3 also work).",
        examples=["float8_e4m3fn"],
    ),
]


def _with_class(result: Decoded | Encoded) -> dict[str, Any]:
    """The dataclass as a dict with the contract's key `class` in place of `cls`."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        key = "class" if field.name == "cls" else field.name
        out[key] = getattr(result, field.name)
    return out


@router.get(
    "/formats",
    response_model=FormatsResponse,
    summary="Every number format",
    description="The registry: bit layout, range, precision, special codes and overflow policy "
    "of every ml_dtypes format, plus float16 and float32 for reference.",
)
def list_formats(request: Request) -> Response:
    return cached_json(request, "formats", lambda: {"formats": list(FORMATS.values())})


@router.get(
    "/formats/{name}",
    response_model=FormatInfoModel,
    summary="One number format",
    description="Unknown names answer 404 listing the valid ones.",
)
def format_info(request: Request, name: FormatName) -> Response:
    info = get_format(name)
    return cached_json(request, info.name, lambda: info)


@router.get(
    "/formats/{name}/values",
    response_model=ValuesResponse,
    summary="Every code of a format and its value",
    description="All 2^bits codes with value and class, for formats of at most 16 bits "
    "(float32 answers 422). Built once per format; revalidate with If-None-Match.",
)
def format_values(request: Request, name: FormatName) -> Response:
    canonical = canonical_name(name)
    value_table(canonical)  # raises InvalidInput("name") past the value_table_bits limit
    return cached_json(request, canonical, lambda: _values(canonical))


def _values(name: str) -> dict[str, Any]:
    table = value_table(name)
    return {
        "name": name,
        "codes": table.codes,
        "values": table.values,
        "classes": table.class_names(),
    }


@router.get(
    "/formats/{name}/decode",
    response_model=DecodeResponse,
    summary="Take one code apart",
    description="Sign, exponent and mantissa fields, class, value, its exact decimal expansion "
    "and the formula evaluated step by step.",
)
def format_decode(
    request: Request,
    name: FormatName,
    code: Annotated[
        str,
        Query(
            description="The code: decimal (57), hex (0x39) or binary (0b00111001).",
            examples=["0x39"],
            max_length=40,
        ),
    ],
) -> Response:
    canonical = canonical_name(name)  # an unknown format is a 404 before any 422
    parsed = parse_code(code)
    return cached_json(request, (canonical, parsed), lambda: _with_class(decode(canonical, parsed)))


@router.get(
    "/formats/{name}/encode",
    response_model=EncodeResponse,
    summary="Round a real into a format",
    description="One rounding from float64 (ml_dtypes rounds through float32 first; the "
    "response's `ml_dtypes_code` and `note` show when that differs). Returns the code, value, "
    "errors and both neighbours.",
)
def format_encode(
    request: Request,
    name: FormatName,
    value: Annotated[
        str,
        Query(
            description='A decimal, a hex float (0x1.8p-3), or "nan", "inf", "-inf".',
            examples=["1.0625"],
            max_length=400,
        ),
    ],
    rounding: Annotated[
        Literal["nearest_even", "toward_zero", "up", "down", "stochastic"],
        Query(description="Rounding mode.", examples=["nearest_even"]),
    ] = "nearest_even",
    overflow: Annotated[
        Literal["native", "saturate"],
        Query(
            description="Past max: what ml_dtypes does (native) or clamp to ±max (saturate).",
            examples=["native"],
        ),
    ] = "native",
    seed: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description="Seed for stochastic rounding (default 0, echoed in the response).",
            examples=[0],
        ),
    ] = None,
) -> Response:
    canonical = canonical_name(name)
    key = (canonical, value, rounding, overflow, seed)
    return cached_json(
        request,
        key,
        lambda: _with_class(encode(canonical, parse_value(value), rounding, overflow, seed)),
    )
