"""The registry of number formats bitmesh explains, built from ml_dtypes itself.

The names, aliases and descriptions come from the one dtype table (`app.core.numerics.dtypes`);
every number is computed from ml_dtypes (``finfo`` and an enumeration of every code with
``np.arange(2**bits, dtype=np.uint8).view(dtype)``), never typed in by hand, so the registry
cannot drift from the library that real training stacks use. Tests check the computed fields
against the table in docs/sources.md, "The formats" (OCP OFP8 and MX specifications).

Finfo pitfalls avoided here: ``finfo(float8_e8m0fnu).min`` is positive (the format has no
sign), fp4/fp6 report ``precision`` 0, and e8m0 has no subnormals although ``finfo`` reports a
``smallest_subnormal``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import ml_dtypes
import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.dtypes import ELEMENTS, ElementSpec, element_name
from app.core.params import param

Overflow = Literal["nan", "inf", "saturate"]

#: Value classes, in the order of the int8 codes used by `ValueTable.classes`.
CLASS_NAMES: Final = ("zero", "subnormal", "normal", "inf", "nan")
ZERO, SUBNORMAL, NORMAL, INF, NAN = range(5)


@dataclass(frozen=True)
class BitField:
    """One field of the bit layout, e.g. e4m3fn's exponent: ``name="exponent", high=6, low=3``."""

    name: Literal["sign", "exponent", "mantissa", "integer"]  # integer: MXINT8's elements
    high: int  # index of its most significant bit (bit 0 is the code's least significant)
    low: int


@dataclass(frozen=True)
class Binades:
    """The positive finite values binade by binade, as columns (compact: bfloat16 has 261).

    Binade i is [2^exponent[i], 2^(exponent[i]+1)) and holds count[i] values
    2^exponent[i] + j·2^spacing[i], j = 0..count[i]-1; the first `subnormal` binades hold the
    subnormals. E.g. float4_e2m1fn: exponent (-1, 0, 1, 2), count (1, 2, 2, 2), spacing
    (-1, -1, 0, 1), subnormal 1: the values 0.5 | 1, 1.5 | 2, 3 | 4, 6.
    """

    exponent: tuple[int, ...]
    count: tuple[int, ...]
    spacing: tuple[int, ...]  # log2 of the step between consecutive values in the binade
    subnormal: int


@dataclass(frozen=True)
class Landmark:
    """A code worth jumping to, e.g. ``Landmark("max", 126)`` in float8_e4m3fn."""

    label: str
    code: int


@dataclass(frozen=True)
class FormatInfo:
    """Everything the UI needs to know about one format, e.g. float8_e4m3fn:

    ``bits=8, exponent_bits=4, mantissa_bits=3, bias=7, max=448.0, min_normal=2**-6,
    min_subnormal=2**-9, eps=0.125, nan_codes=(127, 255), finite_count=254, overflow="nan"``.
    """

    name: str
    bits: int
    exponent_bits: int
    mantissa_bits: int
    bias: int
    max: float
    min_normal: float
    min_subnormal: float | None  # None: no subnormals (float8_e8m0fnu)
    eps: float  # gap between 1.0 and the next larger value
    has_inf: bool
    has_nan: bool
    has_negative_zero: bool
    nan_codes: tuple[int, ...] | None  # None only for float32 (2**24 - 2 codes): see ranges
    inf_codes: tuple[int, ...]
    finite_count: int  # finite codes, both zeros counted
    overflow: Overflow  # what an ml_dtypes cast gives past max
    description: str
    family: str  # "fp8", "fp6", "fp4", "scale", "16-bit", "32-bit"
    signed: bool
    has_zero: bool
    min_code: int  # the valid code range is min_code..max_code inclusive
    max_code: int
    source: str
    aliases: tuple[str, ...]
    nan_code_ranges: tuple[tuple[int, int], ...]  # inclusive [first, last] runs of NaN codes
    nan_count: int
    max_finite_code: int  # code of +max
    min_normal_code: int  # code of +min_normal
    min_subnormal_code: int | None
    exponent_min: int  # unbiased exponent of min_normal
    exponent_max: int  # unbiased exponent of max
    sign_bits: int  # 1, or 0 for float8_e8m0fnu
    fields: tuple[BitField, ...]  # sign, exponent, mantissa: most significant first
    min_positive: float  # smallest positive value (min_subnormal, else min_normal)
    dynamic_range: float  # log2(max / min_positive), in binades
    values_per_binade: int  # 2^mantissa_bits: values in each full normal binade
    binades: Binades  # every positive finite value, binade by binade
    landmarks: tuple[Landmark, ...]  # ±0, min subnormal, min normal, 1, ±max, +Inf, NaN
    past_max: str  # `overflow` in words, e.g. "→ NaN"
    full_table: bool  # /values lists every code (at most value_table_bits bits); else windows
    kind: Literal["element"] = "element"  # beside block formats, which /formats/{name} also has


def _uint_dtype(bits: int) -> type[np.unsignedinteger[Any]]:
    if bits <= 8:
        return np.uint8
    if bits <= 16:
        return np.uint16
    return np.uint32


def _runs(codes: npt.NDArray[np.uint32]) -> tuple[tuple[int, int], ...]:
    """Inclusive runs of consecutive codes: [125, 126, 127, 253] -> ((125, 127), (253, 253))."""
    if codes.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(codes.astype(np.int64)) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [codes.size - 1]))
    return tuple((int(codes[s]), int(codes[e])) for s, e in zip(starts, ends, strict=True))


def _cast_code(dtype: Any, bits: int, x: float) -> int:
    """The code an ml_dtypes cast of the float32 `x` gives, e.g. (e4m3fn, 8, 1e4) -> 127."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array([x], dtype=np.float32).astype(dtype)
    return int(out.view(_uint_dtype(bits))[0])


@dataclass(frozen=True)
class _Fields:
    """Bit-field layout, shared by formats.py and codec.py."""

    bits: int
    exponent_bits: int
    mantissa_bits: int
    sign_bits: int

    def split(self, codes: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.uint32], ...]:
        sign = codes >> np.uint32(self.bits - 1) if self.sign_bits else np.zeros_like(codes)
        exponent = (codes >> np.uint32(self.mantissa_bits)) & np.uint32(
            (1 << self.exponent_bits) - 1
        )
        mantissa = codes & np.uint32((1 << self.mantissa_bits) - 1)
        return sign, exponent, mantissa

    def exponent_field(self, code: int) -> int:
        """The raw exponent field of one code, e.g. e4m3fn 0x38 (1.0) -> 7."""
        return (code >> self.mantissa_bits) & ((1 << self.exponent_bits) - 1)

    def layout(self) -> tuple[BitField, ...]:
        """The fields, most significant first; e8m0 has no sign and fp4-style no empty field."""
        M, E = self.mantissa_bits, self.exponent_bits
        out = [BitField("sign", self.bits - 1, self.bits - 1)] if self.sign_bits else []
        if E:
            out.append(BitField("exponent", M + E - 1, M))
        if M:
            out.append(BitField("mantissa", M - 1, 0))
        return tuple(out)


def _classify(
    fields: _Fields, codes: npt.NDArray[np.uint32], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.int8]:
    _, exponent, _ = fields.split(codes)
    classes = np.full(codes.shape, NORMAL, dtype=np.int8)
    # A zero exponent field holds subnormals, except in e8m0 where it is the normal 2^-127.
    if fields.mantissa_bits > 0:
        classes[exponent == 0] = SUBNORMAL
    classes[values == 0] = ZERO
    classes[np.isinf(values)] = INF
    classes[np.isnan(values)] = NAN
    return classes


@dataclass(frozen=True)
class ValueTable:
    """Codes of a format in code order, with their values and classes.

    For a full table (formats of at most 16 bits) ``codes[i] == i``; `values` are float64
    (exact: every format here fits in float64); `classes` index `CLASS_NAMES`. `magnitudes`
    are the finite values of the codes with sign bit 0, which ml_dtypes lays out as 0, 1, 2,
    ... in increasing order: rounding searches them (empty for a window).
    """

    name: str
    codes: npt.NDArray[np.uint32]
    values: npt.NDArray[np.float64]
    classes: npt.NDArray[np.int8]
    magnitudes: npt.NDArray[np.float64]

    def class_names(self) -> list[str]:
        """The classes as strings, e.g. ["zero", "subnormal", ...]."""
        names = np.array(CLASS_NAMES)
        return names[self.classes].tolist()


def _view(dtype: Any, codes: npt.NDArray[np.uint32], bits: int) -> npt.NDArray[np.float64]:
    """The values of `codes` (exact in float64), e.g. e4m3fn [56, 57] -> [1.0, 1.125]."""
    raw = codes.astype(_uint_dtype(bits)).view(dtype)
    with np.errstate(invalid="ignore"):  # NaN codes
        return raw.astype(np.float64)


def _enumerate(
    spec: ElementSpec, bits: int
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    codes = np.arange(2**bits, dtype=np.uint32)
    return codes, _view(spec.dtype, codes, bits)


@dataclass(frozen=True)
class _Specials:
    """What an enumeration (or, for float32, IEEE 754's counting rules) says about the codes."""

    nan_codes: tuple[int, ...] | None
    nan_code_ranges: tuple[tuple[int, int], ...]
    nan_count: int
    inf_codes: tuple[int, ...]
    finite_count: int
    has_zero: bool
    has_negative_zero: bool
    signed: bool
    min_subnormal: float | None
    min_subnormal_code: int | None


def _enumerated_specials(spec: ElementSpec, fields: _Fields) -> _Specials:
    """Count every code of a format of at most 16 bits."""
    codes, values = _enumerate(spec, fields.bits)
    classes = _classify(fields, codes, values)
    nan = codes[classes == NAN]
    zero = classes == ZERO
    sub = values[classes == SUBNORMAL]
    min_subnormal = float(sub[sub > 0].min()) if sub.size else None
    return _Specials(
        nan_codes=tuple(int(c) for c in nan),
        nan_code_ranges=_runs(nan),
        nan_count=int(nan.size),
        inf_codes=tuple(int(c) for c in codes[classes == INF]),
        finite_count=int(np.count_nonzero(np.isfinite(values))),
        has_zero=bool(zero.any()),
        has_negative_zero=bool((zero & np.signbit(values)).any()),
        signed=bool((values < 0).any()),
        min_subnormal=min_subnormal,
        min_subnormal_code=(
            None if min_subnormal is None else int(codes[values == min_subnormal][0])
        ),
    )


def _ieee_specials(fields: _Fields, smallest_subnormal: float) -> _Specials:
    """IEEE 754 binary32, counted rather than enumerated (2^32 codes)."""
    bits, M = fields.bits, fields.mantissa_bits
    top = ((1 << fields.exponent_bits) - 1) << M  # exponent field all ones
    negative = 1 << (bits - 1)
    return _Specials(
        nan_codes=None,
        nan_code_ranges=(
            (top + 1, top + (1 << M) - 1),
            (negative + top + 1, negative + top + (1 << M) - 1),
        ),
        nan_count=2 * ((1 << M) - 1),
        inf_codes=(top, negative + top),
        finite_count=2**bits - 2 * (1 << M),
        has_zero=True,
        has_negative_zero=True,
        signed=True,
        min_subnormal=smallest_subnormal,
        min_subnormal_code=1,
    )


def _binades(
    mantissa_bits: int, exponent_min: int, exponent_max: int, max_value: float, subnormals: bool
) -> Binades:
    """Every positive finite value, binade by binade (from the field formula, checked against
    the enumerated values in tests).

    Subnormals m·2^(emin - M) for m = 1..2^M - 1 fill binades emin - M .. emin - 1 with 1, 2,
    4, ... values; normal binades hold 2^M values each; the top one stops at max (fn formats
    give its last codes to NaN, e4m3fn's top binade holds 7).
    """
    M = mantissa_bits
    rows = []
    if subnormals and M > 0:
        rows += [(exponent_min - M + j, 2**j, exponent_min - M) for j in range(M)]
    for k in range(exponent_min, exponent_max + 1):
        count = 2**M if k < exponent_max else round((max_value / 2.0**k - 1) * 2**M) + 1
        rows.append((k, count, k - M))
    exponent, count, spacing = (tuple(column) for column in zip(*rows, strict=True))
    return Binades(exponent, count, spacing, M if subnormals and M > 0 else 0)


def _landmarks(info: FormatInfo, one: int) -> tuple[Landmark, ...]:
    """The codes a reader jumps to, in the order the explorer shows them."""
    sign = (1 << (info.bits - 1)) if info.sign_bits else 0
    marks = [("+0", 0 if info.has_zero else None)]
    marks.append(("−0", sign if info.has_negative_zero else None))
    marks += [("min subnormal", info.min_subnormal_code), ("min normal", info.min_normal_code)]
    marks += [("1", one), ("max", info.max_finite_code)]
    marks.append(("−max", info.max_finite_code | sign if sign else None))
    marks.append(("+∞", info.inf_codes[0] if info.inf_codes else None))
    marks.append(("NaN", info.nan_code_ranges[0][0] if info.nan_code_ranges else None))
    return tuple(Landmark(label, code) for label, code in marks if code is not None)


_PAST_MAX: Final[dict[Overflow, str]] = {
    "nan": "→ NaN",
    "inf": "→ ±∞",
    "saturate": "saturates to ±max",
}


def _build(name: str, spec: ElementSpec) -> tuple[FormatInfo, _Fields]:
    finfo = ml_dtypes.finfo(spec.dtype)  # type: ignore[no-untyped-call]
    bits = int(finfo.bits)
    exponent_bits, mantissa_bits = int(finfo.nexp), int(finfo.nmant)
    fields = _Fields(bits, exponent_bits, mantissa_bits, bits - exponent_bits - mantissa_bits)
    one = _cast_code(spec.dtype, bits, 1.0)
    bias = fields.exponent_field(one)  # the exponent field of 1.0
    max_value, min_normal = float(finfo.max), float(finfo.tiny)
    max_finite_code = _cast_code(spec.dtype, bits, max_value)
    min_normal_code = _cast_code(spec.dtype, bits, min_normal)
    past_max = _cast_code(spec.dtype, bits, max_value * 2.0)
    if bits <= 16:
        sp = _enumerated_specials(spec, fields)
    else:
        sp = _ieee_specials(fields, float(finfo.smallest_subnormal))
    if past_max in sp.inf_codes:
        overflow: Overflow = "inf"
    elif past_max == max_finite_code:
        overflow = "saturate"
    else:
        overflow = "nan"
    exponent_min = fields.exponent_field(min_normal_code) - bias
    exponent_max = fields.exponent_field(max_finite_code) - bias
    min_positive = sp.min_subnormal if sp.min_subnormal is not None else min_normal
    info = FormatInfo(
        name=name,
        bits=bits,
        exponent_bits=exponent_bits,
        mantissa_bits=mantissa_bits,
        bias=bias,
        max=max_value,
        min_normal=min_normal,
        min_subnormal=sp.min_subnormal,
        eps=float(finfo.eps),
        has_inf=bool(sp.inf_codes),
        has_nan=sp.nan_count > 0,
        has_negative_zero=sp.has_negative_zero,
        nan_codes=sp.nan_codes,
        inf_codes=sp.inf_codes,
        finite_count=sp.finite_count,
        overflow=overflow,
        description=spec.description,
        family=spec.family,
        signed=sp.signed,
        has_zero=sp.has_zero,
        min_code=0,
        max_code=2**bits - 1,
        source=spec.source,
        aliases=spec.aliases,
        nan_code_ranges=sp.nan_code_ranges,
        nan_count=sp.nan_count,
        max_finite_code=max_finite_code,
        min_normal_code=min_normal_code,
        min_subnormal_code=sp.min_subnormal_code,
        exponent_min=exponent_min,
        exponent_max=exponent_max,
        sign_bits=fields.sign_bits,
        fields=fields.layout(),
        min_positive=min_positive,
        dynamic_range=math.log2(max_value / min_positive),
        values_per_binade=2**mantissa_bits,
        binades=_binades(
            mantissa_bits, exponent_min, exponent_max, max_value, sp.min_subnormal is not None
        ),
        landmarks=(),
        past_max=_PAST_MAX[overflow],
        full_table=bits <= limit("value_table_bits"),
    )
    return dataclasses.replace(info, landmarks=_landmarks(info, one)), fields


_BUILT: Final = {name: _build(name, spec) for name, spec in ELEMENTS.items()}

#: Every format, keyed by its ml_dtypes name, in display order.
FORMATS: Final[dict[str, FormatInfo]] = {name: built[0] for name, built in _BUILT.items()}


def canonical_name(name: str) -> str:
    """The ml_dtypes name for `name` or one of its aliases, e.g. "BF16" -> "bfloat16".

    Names resolve through the one dtype table; a block format (mxfp4) is not an element format
    and raises `UnknownName` suggesting its element.
    """
    return element_name(name)


def get_format(name: str) -> FormatInfo:
    """The `FormatInfo` of `name` (an ml_dtypes name or alias); `UnknownName` otherwise."""
    return FORMATS[canonical_name(name)]


def fields_of(name: str) -> _Fields:
    """Bit-field layout of a format (internal to app.core.numerics)."""
    return _BUILT[canonical_name(name)][1]


def dtype_of(name: str) -> np.dtype[Any]:
    """The numpy dtype of a format, e.g. ``dtype_of("bfloat16") == ml_dtypes.bfloat16``."""
    return np.dtype(ELEMENTS[canonical_name(name)].dtype)


@functools.cache
def _value_table(name: str) -> ValueTable:
    info = FORMATS[name]
    codes, values = _enumerate(ELEMENTS[name], info.bits)
    classes = _classify(_BUILT[name][1], codes, values)
    magnitudes = values[: info.max_finite_code + 1]
    # ml_dtypes lays out the positive finite values as codes 0..max_finite_code, increasing.
    assert np.all(np.diff(magnitudes) > 0) and not np.signbit(magnitudes).any()
    for array in (codes, values, classes, magnitudes):
        array.setflags(write=False)
    return ValueTable(name, codes, values, classes, magnitudes)


def value_table(name: str) -> ValueTable:
    """Every code of a format of at most ``limit("value_table_bits")`` bits (memoised).

    For example ``value_table("float4_e2m1fn").values[:8]`` is ``[0, 0.5, 1, 1.5, 2, 3, 4, 6]``.
    """
    canonical = canonical_name(name)
    bits = FORMATS[canonical].bits
    if bits > limit("value_table_bits"):
        raise InvalidInput(
            "name",
            f"{canonical} has {bits} bits: value tables are listed only for formats of at most "
            f"{limit('value_table_bits')} bits; ask for a window (start, count) or decode "
            "single codes instead",
        )
    return _value_table(canonical)


@dataclass(frozen=True)
class ValuesQuery:
    """The parameters of `GET /formats/{name}/values`: every code, or a window of codes."""

    start: int | None = param(
        None,
        "First code of a window (any format; float32 too). Omit both for every code.",
        example=0x3F800000,
        ge=0,
        le=2**32 - 1,
    )
    count: int | None = param(
        None,
        "Codes in the window (default and most 2^value_table_bits).",
        example=4097,
        ge=1,
        le=2 ** limit("value_table_bits"),
    )


def values_for(name: str, query: ValuesQuery) -> ValueTable:
    """Every code (no window asked) or the window `start`, `count` of a format."""
    if query.start is None and query.count is None:
        return value_table(name)
    return value_window(name, query.start or 0, query.count or 2 ** limit("value_table_bits"))


def value_window(name: str, start: int, count: int) -> ValueTable:
    """The codes start .. start + count - 1 of any format (clipped to its last code).

    For example ``value_window("float32", 0x3F800000, 2).values`` is ``[1.0, 1 + 2**-23]``.
    `count` is at most 2^value_table_bits.
    """
    canonical = canonical_name(name)
    info = FORMATS[canonical]
    most = 2 ** limit("value_table_bits")
    if not 1 <= count <= most:
        raise InvalidInput("count", f"must be between 1 and {most} (2^value_table_bits)")
    if not info.min_code <= start <= info.max_code:
        raise InvalidInput(
            "start", f"{start} is outside {canonical}'s codes {info.min_code}..{info.max_code}"
        )
    stop = min(start + count, info.max_code + 1)
    if info.bits <= limit("value_table_bits"):
        table = _value_table(canonical)
        codes, values = table.codes[start:stop], table.values[start:stop]
        classes = table.classes[start:stop]
    else:
        codes = np.arange(start, stop, dtype=np.uint64).astype(np.uint32)
        values = _view(ELEMENTS[canonical].dtype, codes, info.bits)
        classes = _classify(_BUILT[canonical][1], codes, values)
    return ValueTable(canonical, codes, values, classes, np.empty(0))
