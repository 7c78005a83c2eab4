"""What the numerics pages and API clients read instead of hard-coding names and modes.

`dtype_catalogue()` is `GET /api/v1/dtypes`: every dtype name with its aliases, kind and bits
per element, plus the rounding modes and overflow policies the encoder takes. `format_list()`
is `GET /api/v1/formats`: every element format, every block format, and how the /formats page
groups them.
`compare()` is `GET /api/v1/compare`: the formats a comparison shows, defaults filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.numerics.block_format import (
    BLOCK_FORMATS,
    BLOCK_GROUP,
    BlockFormatInfo,
    block_format,
)
from app.core.numerics.dtypes import ALIASES, DTYPES, GROUPS, Dtype, FormatGroup, element_name
from app.core.numerics.formats import FORMATS, FormatInfo
from app.core.numerics.rounding import OVERFLOW_MODES, ROUNDING_MODES, Mode
from app.core.params import effective, param


@dataclass(frozen=True)
class DtypeCatalogue:
    dtypes: tuple[Dtype, ...]
    aliases: dict[str, str]  # alias -> canonical name
    rounding: tuple[Mode, ...]
    overflow: tuple[Mode, ...]


def dtype_catalogue() -> DtypeCatalogue:
    """The one alias table and the encoder's modes, e.g. aliases["fp8"] == "float8_e4m3fn"."""
    return DtypeCatalogue(
        dtypes=tuple(DTYPES.values()),
        aliases=dict(ALIASES),
        rounding=ROUNDING_MODES,
        overflow=OVERFLOW_MODES,
    )


@dataclass(frozen=True)
class FormatList:
    formats: tuple[FormatInfo, ...]
    blocks: tuple[BlockFormatInfo, ...]
    groups: tuple[FormatGroup, ...]


def format_list() -> FormatList:
    """Every element format and every block format in display order, and the groups the
    /formats page shows (the element groups, then the block formats' own group)."""
    blocks = tuple(block_format(name) for name in BLOCK_FORMATS)
    return FormatList(tuple(FORMATS.values()), blocks, (*GROUPS, BLOCK_GROUP))


@dataclass(frozen=True)
class CompareQuery:
    """The parameters of `GET /api/v1/compare` and of the /compare page."""

    formats: str = param(
        "float8_e4m3fn,float8_e5m2,float6_e2m3fn,float4_e2m1fn,bfloat16",
        "Element formats to compare, in order: names or aliases separated by commas.",
        example="fp8,e5m2,e2m3,fp4,bf16",
        max_length=400,
    )


@dataclass(frozen=True)
class Comparison:
    query: dict[str, str]  # the effective query, names canonical
    formats: tuple[FormatInfo, ...]


def compare(query: CompareQuery) -> Comparison:
    """The formats a comparison shows, each once, e.g. ``"FP8,bf16,fp8"`` -> float8_e4m3fn,
    bfloat16. An unknown name raises `UnknownName` (field ``formats``) with a suggestion."""
    names: list[str] = []
    for part in query.formats.split(","):
        if part.strip():
            name = element_name(part.strip(), "formats")
            if name not in names:
                names.append(name)
    echo = {**effective(query), "formats": ",".join(names)}
    return Comparison(echo, tuple(FORMATS[n] for n in names))
