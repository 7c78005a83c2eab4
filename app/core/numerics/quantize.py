"""Scaled quantization: per tensor, per channel and per block (MX, NVFP4, DeepSeek's FP8 tiles).

A scheme divides a tensor into scaling groups (the whole tensor, one row, or a block of
`block_rows × block_size` elements; a row whose length is not a multiple of the block ends in a
short block), computes one scale per group from its absolute maximum (amax), and stores every
element as `format(x / scale)`: saturated to the element's max, then rounded to nearest even.

Scales (docs/sources.md, "Block scaling"):
- `float32`: scale = amax / element_max (the amax maps onto the largest element exactly).
- `float8_e8m0fnu` (a power of two), by `scale_rule`:
  `ocp_floor` (OCP MX v1.0; microsoft/microxcaling `mx_ops.py`):
  2^(floor(log2 amax) − emax_elem), emax_elem being the exponent of the element's largest
  power of two; a block's maximum may clip.
  `ceil`: the smallest power of two with amax / scale ≤ element_max (nothing clips).
  `nearest`: 2^round(log2(amax / element_max)).
  Exponents below −127 clamp to −127 (code 0); an all-zero block takes amax = 2^−126 as
  microxcaling does.
- `float8_e4m3fn`: scale = e4m3(amax / element_max), rounded to nearest even. With
  `global_scale` (NVFP4) the block scale is relative to an FP32 tensor scale
  amax_tensor / (element_max · 448): block_scale = e4m3(amax_block / element_max / global).

Arithmetic runs in float32, as the reference kernels do: x / scale is one float32 division (exact
for a power-of-two scale), then one rounding to the element format. Scale arithmetic runs in
float64 on the (small) array of block maxima so that no power of two is crossed by rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.names import Registry
from app.core.numerics.dtypes import ALIASES, BLOCKS
from app.core.numerics.formats import FORMATS, dtype_of, value_table

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SchemeKind = Literal["none", "tensor", "channel", "block"]
ScaleRule = Literal["ocp_floor", "ceil", "nearest"]
KIND_NOTES: Final = {
    "none": "A plain cast: every element rounded to the format, no scale.",
    "tensor": "One scale for the whole tensor, from its absolute maximum.",
    "channel": "One scale per row of a 2-D tensor (per output channel).",
    "block": "One scale per block of block_rows × block_size elements (MX, NVFP4, DeepSeek).",
}
SCALE_FORMAT_NOTES: Final = {
    "float32": "An FP32 scale, amax / element max: the block's amax lands on the element max.",
    "float8_e8m0fnu": "A power of two in one byte (E8M0, OCP MX), chosen by scale_rule.",
    "float8_e4m3fn": "An FP8 E4M3 scale (NVFP4), rounded to nearest even; with global_scale "
    "relative to an FP32 per-tensor scale.",
}
SCALE_RULE_NOTES: Final = {
    "ocp_floor": "OCP MX v1.0: 2^(floor(log2 amax) − emax of the element); a block's "
    "largest values can clip.",
    "ceil": "The smallest power of two that fits amax under the element max: nothing clips.",
    "nearest": "2^round(log2(amax / element max)).",
}
SCHEME_KINDS: Final = tuple(KIND_NOTES)
SCALE_FORMATS: Final = tuple(SCALE_FORMAT_NOTES)
SCALE_RULES: Final = tuple(SCALE_RULE_NOTES)
E4M3_MAX: Final = 448.0

SRC_MX = "OCP Microscaling Formats (MX) v1.0 §5-6; microsoft/microxcaling mx/mx_ops.py"
SRC_NVFP4 = "NVIDIA NVFP4 (Blackwell): E2M1 in blocks of 16, E4M3 block scale, FP32 tensor scale"
SRC_DEEPSEEK = "DeepSeek-V3 technical report (arXiv 2412.19437) §3.3.2, fine-grained quantization"


@dataclass(frozen=True)
class Element:
    """The grid one element is stored on.

    Float elements are registry formats. Integer elements are symmetric: codes −qmax..qmax
    times `step` (MXINT8's elements are int8 × 2^−6, so its max is 127/64).
    """

    name: str
    title: str
    bits: int
    max: float
    emax: int  # exponent of the largest power of two the grid holds (OCP's emax_elem)
    integer: bool
    qmax: int = 0
    step: float = 1.0

    @property
    def spacing_at_max(self) -> float:
        """Gap below the max: 2 for E2M1 (4, 6), 32 for E4M3 (416, 448), a step for integers."""
        if self.integer:
            return self.step
        return 2.0 ** (self.emax - FORMATS[self.name].mantissa_bits)

    def saturated(self, y: F32) -> npt.NDArray[np.bool_]:
        """Where saturating to ±max changed the stored value.

        Rounding alone sends |y| up to the midpoint above max (max + spacing / 2) back to max,
        so only values past it lose anything; the midpoint itself is a tie that round-to-even
        sends away from max when max's last significand bit is odd (E2M1: 7 is between 6 and
        8, and 8 is even; E4M3: 464 is between 448 and 480, and 448 is even).
        """
        edge = np.float32(self.max + self.spacing_at_max / 2)
        odd = round(self.max / self.spacing_at_max) % 2 == 1
        a = np.abs(y)
        return a >= edge if odd else a > edge


def _float_element(name: str) -> Element:
    info = FORMATS[name]
    return Element(name, name, info.bits, info.max, math.floor(math.log2(info.max)), False)


INT_ELEMENTS: Final = {
    "int8": Element("int8", "INT8, symmetric (−127…127)", 8, 127.0, 6, True, 127, 1.0),
    "int4": Element("int4", "INT4, symmetric (−7…7)", 4, 7.0, 2, True, 7, 1.0),
    "mxint8": Element("mxint8", "INT8 × 2⁻⁶ (MXINT8 element)", 8, 127 / 64, 0, True, 127, 2**-6),
}
ELEMENT_FORMATS: Final = tuple(
    n for n, f in FORMATS.items() if f.signed and f.bits <= 16 and f.has_zero
) + tuple(INT_ELEMENTS)


# Element names resolve through the one dtype table's aliases (fp8, e4m3, bf16, ...)
ELEMENTS: Final = Registry(
    "element format", ELEMENT_FORMATS, {a: n for a, n in ALIASES.items() if n in ELEMENT_FORMATS}
)
SCALES: Final = Registry("scale format", SCALE_FORMATS)


def element(name: str) -> Element:
    """The element grid of a registry format or of int8 / int4 / mxint8."""
    name = ELEMENTS.resolve(name, "format")
    if name in INT_ELEMENTS:
        return INT_ELEMENTS[name]
    return _float_element(name)


@dataclass(frozen=True)
class Scheme:
    """One way of scaling and storing a tensor (a named preset or a generic scheme)."""

    name: str
    kind: SchemeKind
    format: str
    block_size: int = 32
    block_rows: int = 1
    scale_format: str = "float32"
    scale_rule: ScaleRule = "ocp_floor"
    global_scale: bool = False
    title: str = ""
    source: str = ""


def _mx(name: str, fmt: str, title: str) -> Scheme:
    return Scheme(name, "block", fmt, 32, 1, "float8_e8m0fnu", "ocp_floor", False, title, SRC_MX)


PRESETS: Final[dict[str, Scheme]] = {
    s.name: s
    for s in (
        _mx("mxfp8_e4m3", "float8_e4m3fn", "MXFP8 (E4M3)"),
        _mx("mxfp8_e5m2", "float8_e5m2", "MXFP8 (E5M2)"),
        _mx("mxfp6_e2m3", "float6_e2m3fn", "MXFP6 (E2M3)"),
        _mx("mxfp6_e3m2", "float6_e3m2fn", "MXFP6 (E3M2)"),
        _mx("mxfp4", "float4_e2m1fn", "MXFP4 (E2M1)"),
        _mx("mxint8", "mxint8", "MXINT8"),
        Scheme(
            "nvfp4",
            "block",
            "float4_e2m1fn",
            16,
            1,
            "float8_e4m3fn",
            "ocp_floor",
            True,
            "NVFP4",
            SRC_NVFP4,
        ),
        Scheme(
            "deepseek_fp8",
            "block",
            "float8_e4m3fn",
            128,
            1,
            "float32",
            "ocp_floor",
            False,
            "DeepSeek-V3 FP8 (1×128 tiles)",
            SRC_DEEPSEEK + "; block_rows=128 gives its 128×128 weight blocks",
        ),
    )
}


# A block dtype of the dtype table (mxfp8, mxfp6, mxfp4, nvfp4) names the preset it defines
BLOCK_ALIASES: Final = {
    alias: preset.name
    for name, block in BLOCKS.items()
    for alias in (name, *block.aliases)
    for preset in PRESETS.values()
    if (preset.format, preset.scale_format, preset.block_size)
    == (block.element, block.scale, block.block_size)
}
SCHEMES: Final = Registry("scheme", (*PRESETS, *SCHEME_KINDS), BLOCK_ALIASES)


def resolve_scheme(
    scheme: str,
    fmt: str | None = None,
    block_size: int | None = None,
    block_rows: int | None = None,
    scale_format: str | None = None,
    scale_rule: ScaleRule | None = None,
    global_scale: bool | None = None,
) -> Scheme:
    """A preset (options given explicitly override it) or a generic scheme.

    ``resolve_scheme("mxfp4") == resolve_scheme("block", "float4_e2m1fn", 32, 1,
    "float8_e8m0fnu")`` up to the name.
    """
    scheme = SCHEMES.resolve(scheme, "scheme")
    generic = Scheme(scheme, scheme, "float8_e4m3fn")  # type: ignore[arg-type]
    base = PRESETS.get(scheme, generic)
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "format": fmt,
            "block_size": block_size,
            "block_rows": block_rows,
            "scale_format": scale_format,
            "scale_rule": scale_rule,
            "global_scale": global_scale,
        }.items()
        if v is not None
    }
    if fmt is not None:
        changes["format"] = ELEMENTS.resolve(fmt, "format")  # unknown: a 404 naming `format`
    if scale_format is not None:
        changes["scale_format"] = SCALES.resolve(scale_format, "scale_format")
    out = replace(base, **changes)
    if out.global_scale and out.scale_format != "float8_e4m3fn":
        raise InvalidInput("global_scale", "a tensor-level FP32 scale goes with E4M3 block scales")
    return out


# ---------------------------------------------------------------- scaling groups


@dataclass(frozen=True)
class Groups:
    """How a (rows, cols) tensor splits into scaling groups of `rows_per × cols_per`."""

    rows: int
    cols: int
    rows_per: int
    cols_per: int

    @property
    def grid(self) -> tuple[int, int]:
        return -(-self.rows // self.rows_per), -(-self.cols // self.cols_per)

    def to_blocks(self, x: F32) -> F32:
        """(rows, cols) -> (group rows, group cols, elements per group), zero-padded."""
        gr, gc = self.grid
        padded = np.zeros((gr * self.rows_per, gc * self.cols_per), dtype=x.dtype)
        padded[: self.rows, : self.cols] = x
        blocks = padded.reshape(gr, self.rows_per, gc, self.cols_per).transpose(0, 2, 1, 3)
        return blocks.reshape(gr, gc, self.rows_per * self.cols_per)

    def from_blocks(self, b: npt.NDArray[Any]) -> npt.NDArray[Any]:
        gr, gc = self.grid
        full = b.reshape(gr, gc, self.rows_per, self.cols_per).transpose(0, 2, 1, 3)
        return full.reshape(gr * self.rows_per, gc * self.cols_per)[: self.rows, : self.cols]

    def sizes(self) -> I64:
        """Real (unpadded) element count of every group, shape `grid`."""
        gr, gc = self.grid
        r = np.minimum(self.rows_per, self.rows - np.arange(gr) * self.rows_per)
        c = np.minimum(self.cols_per, self.cols - np.arange(gc) * self.cols_per)
        return np.outer(r, c).astype(np.int64)


def groups_of(scheme: Scheme, rows: int, cols: int) -> Groups:
    if scheme.kind in ("none", "tensor"):
        return Groups(rows, cols, rows, cols)
    if scheme.kind == "channel":
        return Groups(rows, cols, 1, cols)
    if scheme.block_rows > rows:
        raise InvalidInput("block_rows", f"block_rows ({scheme.block_rows}) exceeds rows ({rows})")
    return Groups(rows, cols, scheme.block_rows, scheme.block_size)


# ---------------------------------------------------------------- scales


@dataclass(frozen=True)
class Scales:
    """One scale per group: its value, its code in `scale_format` and the group's amax."""

    value: F64  # shape grid; the element multiplier (incl. a global scale)
    code: I64  # code of the stored scale (E8M0 byte, E4M3 byte, or float32 bits)
    stored: F64  # the stored scale itself (without the global factor)
    amax: F64
    global_scale: float | None


def block_amax(blocks: F32) -> F64:
    """The largest finite |x| of every group (0 for a group with no finite element).

    Infinities and NaNs are left out, so one non-finite value does not zero its whole block.
    """
    amax = np.abs(blocks).max(axis=-1)
    if not np.isfinite(amax).all():  # rare: only then pay for the mask
        amax = np.where(np.isfinite(blocks), np.abs(blocks), 0).max(axis=-1)
    return amax.astype(np.float64)


def _e8m0(amax: F64, elem: Element, rule: ScaleRule) -> tuple[F64, I64]:
    """Power-of-two scales by `rule`; exponents clamp to [−127, 127] (E8M0's range)."""
    if rule == "ocp_floor":
        # floor(log2 amax) from frexp is exact (np.log2 in float32 can round up to an integer)
        _, e = np.frexp(np.where(amax > 0, amax, 2.0**-126))
        exp = e.astype(np.int64) - 1 - elem.emax
    else:
        ratio = np.where(amax > 0, amax / elem.max, 2.0**-126)
        m, e = np.frexp(ratio)
        if rule == "ceil":  # smallest 2^k >= ratio: k = e - 1 when ratio is a power of two
            exp = np.where(m == 0.5, e - 1, e).astype(np.int64)
        else:
            exp = np.rint(np.log2(ratio)).astype(np.int64)
    exp = np.clip(exp, -127, 127)
    return np.ldexp(1.0, exp), exp + 127


def _cast_codes(values: npt.NDArray[Any], name: str) -> tuple[F32, npt.NDArray[np.integer[Any]]]:
    """RNE cast to a registry format: (value as float32, code as an unsigned integer).

    The value is read back from the format's value table by code: every format of at most 16
    bits is exact in float32, and a table lookup is several times faster than ml_dtypes'
    conversion back to float.
    """
    dt = dtype_of(name)
    cast = np.asarray(values, dtype=np.float32).astype(dt)
    bits = FORMATS[name].bits
    codes: npt.NDArray[np.integer[Any]] = cast.view(np.uint8 if dt.itemsize == 1 else np.uint16)
    if bits < 8 * dt.itemsize:  # sub-byte types: one element per byte, upper bits zero
        codes = codes & np.array((1 << bits) - 1, dtype=codes.dtype)
    return np.take(_decode_table(name), codes), codes


@cache
def _decode_table(name: str) -> F32:
    with np.errstate(invalid="ignore"):  # NaN codes with payloads (float16) stay NaN
        table = value_table(name).values.astype(np.float32)
    table.setflags(write=False)
    return table


def compute_scales(amax: F64, scheme: Scheme, elem: Element) -> Scales:
    """The scale of every group from its amax (see the module docstring for each rule)."""
    if scheme.kind == "none":
        ones = np.ones_like(amax)
        return Scales(ones, np.zeros_like(amax, dtype=np.int64), ones, amax, None)
    if scheme.scale_format == "float8_e8m0fnu":
        value, code = _e8m0(amax, elem, scheme.scale_rule)
        return Scales(value, code, value, amax, None)
    if scheme.scale_format == "float8_e4m3fn":
        glob = None
        target = amax / elem.max
        if scheme.global_scale:
            # NVFP4: the tensor scale maps the tensor's amax onto element_max · 448
            tensor_amax = float(amax.max()) if amax.size else 0.0
            glob = float(np.float32(tensor_amax / (elem.max * E4M3_MAX))) if tensor_amax else 1.0
            target = target / glob
        stored32, e4m3_code = _cast_codes(np.minimum(target, E4M3_MAX), "float8_e4m3fn")
        stored = stored32.astype(np.float64)
        value = stored * glob if glob is not None else stored
        return Scales(value, e4m3_code.astype(np.int64), stored, amax, glob)
    stored = np.where(amax > 0, (amax / elem.max).astype(np.float32), 1.0).astype(np.float64)
    code = stored.astype(np.float32).view(np.uint32).astype(np.int64)
    return Scales(stored, code, stored, amax, None)


# ---------------------------------------------------------------- elements


@dataclass(frozen=True)
class Quantized:
    """A tensor after quantization: dequantized values, element codes, scales, clipping."""

    scheme: Scheme
    element: Element
    groups: Groups
    scales: Scales
    dequantized: F32  # (rows, cols)
    codes: npt.NDArray[np.integer[Any]]  # (rows, cols) element codes (two's complement for ints)
    clipped: npt.NDArray[np.bool_]  # (rows, cols): saturation to the element max changed it


def _quantize_elements(y: F32, elem: Element) -> tuple[F32, npt.NDArray[np.integer[Any]]]:
    """Saturate to the element max, round to nearest even: (element value, code)."""
    if elem.integer:
        steps = np.clip(y / np.float32(elem.step), -elem.qmax, elem.qmax)
        k = np.rint(np.where(np.isnan(steps), 0, steps)).astype(np.int16)  # NaN stores code 0
        codes = (k & ((1 << elem.bits) - 1)).astype(np.uint8)
        return k.astype(np.float32) * np.float32(elem.step), codes
    return _cast_codes(np.clip(y, -elem.max, elem.max), elem.name)


def element_values(codes: npt.NDArray[np.integer[Any]], elem: Element) -> F32:
    """The element value of each code, before scaling (integers: two's complement × step)."""
    if elem.integer:
        c = np.asarray(codes, dtype=np.int64)
        signed = np.where(c >= 1 << (elem.bits - 1), c - (1 << elem.bits), c)
        return (signed * elem.step).astype(np.float32)
    return np.take(_decode_table(elem.name), np.asarray(codes, dtype=np.intp))


def _dequantize(values: F32, scales: Scales) -> F32:
    """values × scale, rounded once to float32.

    A float32 product is the exact product rounded once, so this equals rounding the exact
    value · scale when the multiplier is a float32 number (E8M0, E4M3 and FP32 scales). NVFP4's
    multiplier block · global is not: (value · block) is exact in float32 (2 + 4 significant
    bits) and the product with the FP32 global scale is then the one rounding.
    """
    if scales.global_scale is None:
        return values * scales.value.astype(np.float32)[..., None]
    partial = values * scales.stored.astype(np.float32)[..., None]
    return partial * np.float32(scales.global_scale)


def block_values(values: npt.ArrayLike, scales: Scales, row: int, col: int) -> F32:
    """Element values × the multiplier of group (row, col), rounded exactly as `quantize`
    rounds a dequantized value (the largest storable value is ``block_values([max], ...)``)."""
    one = Scales(
        scales.value[row : row + 1, col : col + 1],
        scales.code[row : row + 1, col : col + 1],
        scales.stored[row : row + 1, col : col + 1],
        scales.amax[row : row + 1, col : col + 1],
        scales.global_scale,
    )
    v = np.asarray(values, dtype=np.float32).reshape(1, 1, -1)
    return _dequantize(v, one).ravel()


def quantize(x: npt.ArrayLike, scheme: Scheme) -> Quantized:
    """Quantize a 1-D or 2-D tensor (a 1-D one is one row) with `scheme`."""
    arr = np.asarray(x, dtype=np.float32)
    mat = arr.reshape(1, -1) if arr.ndim == 1 else arr
    elem = element(scheme.format)
    groups = groups_of(scheme, *mat.shape)
    blocks = groups.to_blocks(mat)
    scales = compute_scales(block_amax(blocks), scheme, elem)
    scale32 = scales.value.astype(np.float32)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = blocks / scale32
    if not scale32.all():  # a scale that underflowed to 0 (FP32 or E4M3 of a tiny amax)
        y = np.where(scale32 > 0, y, np.float32(0))
    values, codes = _quantize_elements(y, elem)
    clipped = elem.saturated(y)
    return Quantized(
        scheme,
        elem,
        groups,
        scales,
        groups.from_blocks(_dequantize(values, scales)),
        groups.from_blocks(codes),
        groups.from_blocks(clipped),
    )
