"""Number formats: the registry, value tables, decode and encode (issue 2).

Value tables are the one large payload (65,536 entries for bf16/fp16, ~2 MB of JSON): their
bytes, a gzipped copy and both ETags are built once per format and served from memory.
"""

from __future__ import annotations

import dataclasses
import gzip
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from app.api.common import bytes_response, encode_json, etag_of, json_response
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

router = APIRouter(prefix="/api/v1", tags=["formats"])

FormatName = Annotated[
    str,
    Path(
        description="ml_dtypes name of the format (aliases such as bf16 or e4m3 also work).",
        examples=["float8_e4m3fn"],
    ),
]


@cache
def _formats_body() -> tuple[bytes, str]:
    body = encode_json({"formats": list(FORMATS.values())})
    return body, etag_of(body)


@cache
def _format_body(name: str) -> tuple[bytes, str]:
    body = encode_json(FORMATS[name])
    return body, etag_of(body)


@dataclass(frozen=True)
class _Table:
    """A value table's JSON, serialised and gzipped once, each with its own strong ETag."""

    body: bytes
    etag: str
    gzip_body: bytes
    gzip_etag: str


@cache
def _values_body(name: str) -> _Table:
    table = value_table(name)
    body = encode_json(
        {
            "name": name,
            "codes": table.codes,
            "values": table.values,
            "classes": table.class_names(),
        }
    )
    gz = gzip.compress(body, compresslevel=6, mtime=0)
    return _Table(body, etag_of(body), gz, etag_of(gz)[:-1] + '-gzip"')


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
    body, etag = _formats_body()
    return bytes_response(request, body, etag)


@router.get(
    "/formats/{name}",
    response_model=FormatInfoModel,
    summary="One number format",
    description="Unknown names answer 404 listing the valid ones.",
)
def format_info(request: Request, name: FormatName) -> Response:
    body, etag = _format_body(get_format(name).name)
    return bytes_response(request, body, etag)


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
    cached = _values_body(canonical)
    if "gzip" not in request.headers.get("accept-encoding", ""):
        response = bytes_response(request, cached.body, cached.etag)
    else:  # bf16's 2.3 MB of JSON is several times smaller gzipped: compressed once, kept
        response = bytes_response(request, cached.gzip_body, cached.gzip_etag)
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


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
    return json_response(request, _with_class(decode(canonical, parse_code(code))))


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
    result = encode(canonical, parse_value(value), rounding, overflow, seed)
    return json_response(request, _with_class(result))
