"""Block formats in the explorer: one MX or NVFP4 block, its shared scale and element codes.

A block format stores `block_size` elements that share one scale (OCP MX v1.0: 32 elements and
an E8M0 power of two; NVIDIA NVFP4: 16 E2M1 elements, an E4M3 scale, and one FP32 scale per
tensor). Each block dtype of the one dtype table (`app.core.numerics.dtypes.BLOCKS`) names a
quantization preset (`app.core.numerics.quantize.PRESETS`); the preset's name is the page,
``/formats/mxfp4``, and the dtype's other names (``mxfp8`` for ``mxfp8_e4m3``) lead to it.

`block_format(name)` describes one (bits per element as the dtype table states them);
`block_view(name, query)` quantizes a tensor with `quantize()` and describes one block with
`block_detail()`, plus the scale worked out step by step. Nothing here re-implements the
quantization: the steps restate the rule for the block's own numbers, and tests check that they
end on the scale `quantize()` chose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput, UnknownName
from app.core.limits import limit
from app.core.names import Registry
from app.core.numerics.codec import parse_value
from app.core.numerics.dtypes import ALIASES, BLOCKS, DTYPES, ELEMENTS, FormatGroup
from app.core.numerics.formats import FORMATS, BitField, FormatInfo, fields_of
from app.core.numerics.quantize import (
    BLOCK_ALIASES,
    E4M3_MAX,
    PRESETS,
    Element,
    Scheme,
    element,
    quantize,
)
from app.core.numerics.quantize_query import SEED_MAX
from app.core.numerics.quantize_report import (
    SCALE_BITS,
    BlockDetail,
    block_detail,
    nominal_bits,
)
from app.core.numerics.tensors import TensorDistribution, generate
from app.core.params import effective, param

#: preset name -> the dtype-table row that stores it (mxfp8_e4m3 -> mxfp8).
_DTYPE_OF: Final = {
    BLOCK_ALIASES[name]: name for name in BLOCKS if BLOCK_ALIASES.get(name) in PRESETS
}
#: The block formats the explorer shows, in the dtype table's order.
BLOCK_FORMATS: Final[tuple[str, ...]] = tuple(_DTYPE_OF)
assert len(BLOCK_FORMATS) == len(BLOCKS), "every block dtype names a quantization preset"

_ELEMENT_ALIASES: Final = {a: n for a, n in ALIASES.items() if n in ELEMENTS}
_BLOCK_ALIASES: Final = {a: p for a, p in BLOCK_ALIASES.items() if a != p}
#: Every name a /formats page answers to: element formats and block formats.
PAGES: Final = Registry(
    "format", (*ELEMENTS, *BLOCK_FORMATS), {**_ELEMENT_ALIASES, **_BLOCK_ALIASES}
)

#: How /formats groups the block formats (after the element groups).
BLOCK_GROUP: Final = FormatGroup(
    "block",
    "Block formats (MX, NVFP4)",
    "Elements that share one scale per block: the scale's bits, every element's code, and "
    "what the block costs per element.",
    ("block",),
    BLOCK_FORMATS,
    "block",
)


def page_name(name: str, field: str = "name") -> tuple[Literal["element", "block"], str]:
    """Which explorer page a name opens: ("element", "bfloat16") for "BF16", ("block",
    "mxfp8_e4m3") for "MXFP8"; `UnknownName` listing both kinds otherwise."""
    canonical = PAGES.resolve(name, field)
    return ("block" if canonical in BLOCK_FORMATS else "element"), canonical


# ---------------------------------------------------------------- the format


@dataclass(frozen=True)
class BlockFormatInfo:
    """One block format, e.g. mxfp4: ``element="float4_e2m1fn", scale="float8_e8m0fnu",
    block_size=32, bits_per_element=4.25`` (4 bits each + one 8-bit scale per 32)."""

    kind: Literal["block"]
    name: str  # the preset, and the page: /formats/{name}
    title: str
    dtype: str  # its row in the dtype table (what /memory stores it as)
    aliases: tuple[str, ...]  # other names of the page (the dtype and its aliases)
    description: str
    source: str
    element: str  # the element format (mxint8: int8 × 2^-6, not a float format)
    element_title: str
    element_bits: int
    element_max: float
    element_format: str | None  # the element's own /formats page (None for MXINT8)
    scale: str  # the shared scale's format
    scale_bits: int
    scale_rule: str | None  # how a power-of-two (E8M0) scale is chosen
    global_scale: bool  # an FP32 scale per tensor above the block scales (NVFP4)
    block_size: int
    bits_per_element: float  # element bits + scale bits / block size, as the dtype table
    storage: str  # that sum in words
    scale_fields: tuple[BitField, ...]
    element_fields: tuple[BitField, ...]  # MXINT8: one two's-complement "integer" field


def _element_fields(elem: Element) -> tuple[BitField, ...]:
    if elem.integer:
        return (BitField("integer", elem.bits - 1, 0),)
    return fields_of(elem.name).layout()


def _storage(scheme: Scheme, elem: Element, bits: float) -> str:
    scale = SCALE_BITS[scheme.scale_format]
    n = scheme.block_size
    total = scale + n * elem.bits
    tensor = " (plus one FP32 scale per tensor)" if scheme.global_scale else ""
    return (
        f"{scale} + {n} × {elem.bits} = {total} bits per block of {n}: "
        f"{bits:g} bits per element{tensor}"
    )


def block_format(name: str) -> BlockFormatInfo:
    """The block format `name` (a preset or a dtype name: "mxfp8" is mxfp8_e4m3)."""
    kind, preset = page_name(name)
    if kind != "block":  # an element format: suggest the block format built on it
        using = [b for b in BLOCK_FORMATS if PRESETS[b].format == preset]
        raise UnknownName("block format", name, BLOCK_FORMATS, suggestion=next(iter(using), None))
    scheme = PRESETS[preset]
    elem = element(scheme.format)
    dtype = DTYPES[_DTYPE_OF[preset]]
    bits = nominal_bits(scheme)
    assert bits == dtype.bits, f"{preset}: quantize says {bits} bits, the dtype table {dtype.bits}"
    return BlockFormatInfo(
        kind="block",
        name=preset,
        title=scheme.title,
        dtype=dtype.name,
        aliases=tuple(a for a in (dtype.name, *dtype.aliases) if a != preset),
        description=dtype.meaning,
        source=scheme.source,
        element=elem.name,
        element_title=elem.title,
        element_bits=elem.bits,
        element_max=elem.max,
        element_format=None if elem.integer else elem.name,
        scale=scheme.scale_format,
        scale_bits=SCALE_BITS[scheme.scale_format],
        scale_rule=scheme.scale_rule if scheme.scale_format == "float8_e8m0fnu" else None,
        global_scale=scheme.global_scale,
        block_size=scheme.block_size,
        bits_per_element=bits,
        storage=_storage(scheme, elem, bits),
        scale_fields=FORMATS[scheme.scale_format].fields,
        element_fields=_element_fields(elem),
    )


def format_or_block(name: str) -> FormatInfo | BlockFormatInfo:
    """What `GET /formats/{name}` describes: an element format's `FormatInfo` or a block
    format's `BlockFormatInfo` (its `kind` says which)."""
    kind, canonical = page_name(name)
    return FORMATS[canonical] if kind == "element" else block_format(canonical)


# ---------------------------------------------------------------- one block


@dataclass(frozen=True)
class BlockQuery:
    """The parameters of `GET /formats/{name}/block` and of a block format's page."""

    values: str | None = param(
        None,
        'The tensor, comma separated (decimals, hex floats, "nan", "inf", "-inf"), at most '
        "quantize_block_elements values; default: a seeded tensor of `blocks` blocks.",
        example="0.3,-1.7,2.9,0.05,-0.6,4.2",
        max_length=limit("query_string_bytes"),
    )
    distribution: TensorDistribution = param(
        "normal", "Shape of the generated tensor (see /api/v1/quantize/schemes).", example="laplace"
    )
    # seed 1: the first block does not hold the tensor's amax, so NVFP4's block scale is not
    # the trivial 448 (a block holding the tensor amax always gets e4m3(448))
    seed: int = param(1, "Seed of the generated tensor.", example=3, ge=0, le=SEED_MAX)
    blocks: int = param(
        8,
        "Blocks in the generated tensor (NVFP4's FP32 tensor scale comes from the whole tensor).",
        example=4,
        ge=1,
        le=limit("quantize_values") // 32,
    )
    block: int = param(0, "The block to show (0 is the first).", example=2, ge=0)


@dataclass(frozen=True)
class TensorInfo:
    source: Literal["generated", "given"]
    n: int
    block_count: int
    amax: float  # largest finite |x| of the tensor
    global_scale: float | None  # NVFP4's FP32 tensor scale, amax / (6 · 448)


@dataclass(frozen=True)
class BlockView:
    query: dict[str, Any]
    format: BlockFormatInfo
    tensor: TensorInfo
    block: BlockDetail
    scale_steps: list[str]  # how the block's scale follows from its amax, in its own numbers


def _values(text: str) -> npt.NDArray[np.float32]:
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise InvalidInput("values", "give at least one number, or leave values out")
    most = limit("quantize_block_elements")
    if len(parts) > most:
        raise InvalidInput("values", f"{len(parts)} values: at most {most}")
    try:
        x = np.array([parse_value(p) for p in parts], dtype=np.float64)
    except InvalidInput as bad:
        raise InvalidInput("values", bad.msg) from None
    with np.errstate(over="ignore"):  # past float32's range: ±Inf, as /quantize stores it
        return x.astype(np.float32)


def _num(x: float) -> str:
    """Shortest text that reads back as x: as a float32 when x is one (the data are float32),
    e.g. 2.7134 rather than 2.71340012550354, else as a float64."""
    text = str(np.float32(x)) if float(np.float32(x)) == x else repr(x)
    return text[:-2] if text.endswith(".0") else text


def _e8m0_steps(elem: Element, b: BlockDetail) -> list[str]:
    """OCP MX v1.0's rule for this block: 2^(floor(log2 amax) − emax_elem), clamped."""
    amax = b.amax if b.amax > 0 else 2.0**-126
    e = math.frexp(amax)[1] - 1
    k = e - elem.emax
    steps = [
        f"amax = {_num(b.amax)}, the block's largest |x|"
        if b.amax > 0
        else "amax = 0 (an all-zero block): it takes 2^-126, as microxcaling does",
        f"floor(log2 amax) = {e}",
        f"emax of the element = {elem.emax} (2^{elem.emax} ≤ its max {_num(elem.max)} "
        f"< 2^{elem.emax + 1})",
        f"shared exponent = {e} − {elem.emax} = {k}",
    ]
    if not -127 <= k <= 127:
        steps.append(f"clamped to E8M0's range −127 … 127: {b.scale_exponent}")
    steps.append(f"scale = 2^{b.scale_exponent} = {_num(b.scale)}")
    steps.append(f"E8M0 code = {b.scale_exponent} + 127 = {b.scale_code} = {b.scale_bits}")
    return steps


def _nvfp4_steps(elem: Element, b: BlockDetail, tensor: TensorInfo) -> list[str]:
    """NVFP4's two levels for this block: the FP32 tensor scale, then the E4M3 block scale."""
    g = tensor.global_scale
    assert g is not None
    target = b.amax / elem.max / g
    return [
        f"tensor amax = {_num(tensor.amax)}",
        f"tensor scale = tensor amax / ({_num(elem.max)} · {_num(E4M3_MAX)}) = {_num(g)} (FP32)",
        f"block amax = {_num(b.amax)}",
        f"block scale = e4m3(block amax / {_num(elem.max)} / tensor scale) = e4m3({target:.6g}) "
        f"= {_num(b.scale)}, code {b.scale_code} = {b.scale_bits}",
        f"multiplier = block scale × tensor scale = {_num(b.multiplier)}",
    ]


def block_view(name: str, query: BlockQuery) -> BlockView:
    """Quantize the query's tensor with the block format's preset; describe block `block`."""
    info = block_format(name)
    scheme = PRESETS[info.name]
    elem = element(scheme.format)
    if query.values is not None:
        x, source = _values(query.values), "given"
    else:
        n = query.blocks * scheme.block_size
        x, source = generate(query.distribution, n, query.seed), "generated"
    q = quantize(x, scheme)
    count = int(np.prod(q.groups.grid))
    if query.block >= count:
        raise InvalidInput("block", f"block {query.block} is outside 0 … {count - 1}")
    detail = block_detail(x, q, query.block)
    finite = x[np.isfinite(x)]
    tensor = TensorInfo(
        source,  # type: ignore[arg-type]
        int(x.size),
        count,
        float(np.abs(finite).max()) if finite.size else 0.0,
        q.scales.global_scale,
    )
    steps = _nvfp4_steps(elem, detail, tensor) if scheme.global_scale else _e8m0_steps(elem, detail)
    steps.append(
        f"each element = {info.element_title} rounding of x / {_num(detail.multiplier)}, "
        f"saturated to ±{_num(elem.max)}; stored values up to ±{_num(detail.max_value)}"
    )
    echo = effective(query)
    if source == "given":  # the generator's parameters were not used
        echo = {k: v for k, v in echo.items() if k not in ("distribution", "seed", "blocks")}
    return BlockView(echo, info, tensor, detail, steps)
