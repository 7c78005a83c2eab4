"""The registry of number formats bitmesh explains, built from ml_dtypes itself.

Every field is computed from ml_dtypes (``finfo`` and an enumeration of every code with
``np.arange(2**bits, dtype=np.uint8).view(dtype)``), never typed in by hand, so the registry
cannot drift from the library that real training stacks use. Tests check the computed fields
against the table in docs/sources.md, "The formats" (OCP OFP8 and MX specifications).

Finfo pitfalls avoided here: ``finfo(float8_e8m0fnu).min`` is positive (the format has no
sign), fp4/fp6 report ``precision`` 0, and e8m0 has no subnormals although ``finfo`` reports a
``smallest_subnormal``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final, Literal

import ml_dtypes
import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput, UnknownName
from app.core.limits import limit

Overflow = Literal["nan", "inf", "saturate"]

#: Value classes, in the order of the int8 codes used by `ValueTable.classes`.
CLASS_NAMES: Final = ("zero", "subnormal", "normal", "inf", "nan")
ZERO, SUBNORMAL, NORMAL, INF, NAN = range(5)


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


@dataclass(frozen=True)
class _Spec:
    dtype: Any
    family: str
    description: str
    source: str
    aliases: tuple[str, ...] = ()


_OFP8 = "OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, 2023; arXiv 2209.05433"
_FNUZ = "Noune et al. 2022, arXiv 2206.02915 (Graphcore/AMD); LLVM APFloat"
_MX = "OCP Microscaling Formats (MX) Specification v1.0, 2023"
_IEEE_LIKE = "ml_dtypes (IEEE 754 conventions: Inf and NaN at the top exponent); LLVM APFloat"

_SPECS: Final[dict[str, _Spec]] = {
    "float8_e4m3fn": _Spec(
        ml_dtypes.float8_e4m3fn,
        "fp8",
        "OCP FP8 E4M3 (NVIDIA H100/B200 FP8 weights and activations); no Inf, NaN at S.1111.111",
        _OFP8,
        ("e4m3", "fp8_e4m3", "e4m3fn"),
    ),
    "float8_e4m3fnuz": _Spec(
        ml_dtypes.float8_e4m3fnuz,
        "fp8",
        "FP8 E4M3 FNUZ (AMD MI300, Graphcore): bias 8, one NaN at 0x80, no -0, no Inf",
        _FNUZ,
        ("e4m3fnuz",),
    ),
    "float8_e4m3b11fnuz": _Spec(
        ml_dtypes.float8_e4m3b11fnuz,
        "fp8",
        "FP8 E4M3 with bias 11, FNUZ (Google TPU; the forward bias of IBM's HFP8)",
        "ml_dtypes; bias 11 as in Sun et al. 2019 (HFP8, NeurIPS)",
        ("e4m3b11fnuz",),
    ),
    "float8_e4m3": _Spec(
        ml_dtypes.float8_e4m3,
        "fp8",
        "IEEE-754-style FP8 E4M3 with Inf and NaN (LLVM Float8E4M3)",
        _IEEE_LIKE,
        ("e4m3_ieee",),
    ),
    "float8_e5m2": _Spec(
        ml_dtypes.float8_e5m2,
        "fp8",
        "OCP FP8 E5M2 (NVIDIA H100 FP8 gradients); IEEE-like with Inf and NaN",
        _OFP8,
        ("e5m2", "fp8_e5m2"),
    ),
    "float8_e5m2fnuz": _Spec(
        ml_dtypes.float8_e5m2fnuz,
        "fp8",
        "FP8 E5M2 FNUZ (AMD MI300, Graphcore): bias 16, one NaN at 0x80, no -0, no Inf",
        _FNUZ,
        ("e5m2fnuz",),
    ),
    "float8_e3m4": _Spec(
        ml_dtypes.float8_e3m4,
        "fp8",
        "IEEE-754-style FP8 E3M4 with Inf and NaN: more precision, less range",
        _IEEE_LIKE,
        ("e3m4",),
    ),
    "float8_e8m0fnu": _Spec(
        ml_dtypes.float8_e8m0fnu,
        "scale",
        "OCP MX E8M0 block scale: powers of two 2^-127..2^127; no sign, no zero, NaN at 0xFF",
        _MX,
        ("e8m0",),
    ),
    "float6_e2m3fn": _Spec(
        ml_dtypes.float6_e2m3fn,
        "fp6",
        "OCP MX FP6 E2M3 element (MXFP6); no Inf, no NaN: casts saturate",
        _MX,
        ("e2m3", "fp6_e2m3"),
    ),
    "float6_e3m2fn": _Spec(
        ml_dtypes.float6_e3m2fn,
        "fp6",
        "OCP MX FP6 E3M2 element (MXFP6); no Inf, no NaN: casts saturate",
        _MX,
        ("e3m2", "fp6_e3m2"),
    ),
    "float4_e2m1fn": _Spec(
        ml_dtypes.float4_e2m1fn,
        "fp4",
        "FP4 E2M1 element of OCP MXFP4 and NVIDIA NVFP4; values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}",
        _MX,
        ("e2m1", "fp4", "fp4_e2m1"),
    ),
    "bfloat16": _Spec(
        ml_dtypes.bfloat16,
        "16-bit",
        "bfloat16: float32's range with 8 significant bits (TPU, A100/H100 mixed precision)",
        "Kalamkar et al. 2019, arXiv 1905.12322; Google Brain bfloat16",
        ("bf16",),
    ),
    "float16": _Spec(
        np.float16,
        "16-bit",
        "IEEE 754 binary16 (half precision; V100-era mixed precision with loss scaling)",
        "IEEE 754-2019 binary16",
        ("fp16", "half"),
    ),
    "float32": _Spec(
        np.float32,
        "32-bit",
        "IEEE 754 binary32 (single precision): the reference every format is compared to",
        "IEEE 754-2019 binary32",
        ("fp32", "single"),
    ),
}


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
    """Every code of a format of at most 16 bits, in code order.

    ``codes[i] == i``; ``values`` are float64 (exact: every such format fits in float64);
    ``classes`` index `CLASS_NAMES`. ``magnitudes`` are the finite values of the codes with
    sign bit 0, which ml_dtypes lays out as 0, 1, 2, ... in increasing order: rounding searches
    them.
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


def _enumerate(spec: _Spec, bits: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    raw = np.arange(2**bits, dtype=_uint_dtype(bits)).view(spec.dtype)
    with np.errstate(invalid="ignore"):  # NaN codes
        values = raw.astype(np.float64)
    return np.arange(2**bits, dtype=np.uint32), values


def _build(name: str, spec: _Spec) -> tuple[FormatInfo, _Fields]:
    finfo = ml_dtypes.finfo(spec.dtype)  # type: ignore[no-untyped-call]
    bits = int(finfo.bits)
    exponent_bits, mantissa_bits = int(finfo.nexp), int(finfo.nmant)
    sign_bits = bits - exponent_bits - mantissa_bits
    fields = _Fields(bits, exponent_bits, mantissa_bits, sign_bits)
    one = _cast_code(spec.dtype, bits, 1.0)
    bias = (one >> mantissa_bits) & ((1 << exponent_bits) - 1)  # exponent field of 1.0
    max_value = float(finfo.max)
    min_normal = float(finfo.tiny)
    eps = float(finfo.eps)
    max_finite_code = _cast_code(spec.dtype, bits, max_value)
    min_normal_code = _cast_code(spec.dtype, bits, min_normal)
    exponent_max = ((max_finite_code >> mantissa_bits) & ((1 << exponent_bits) - 1)) - bias
    exponent_min = ((min_normal_code >> mantissa_bits) & ((1 << exponent_bits) - 1)) - bias
    past_max = _cast_code(spec.dtype, bits, max_value * 2.0)

    if bits <= 16:
        codes, values = _enumerate(spec, bits)
        classes = _classify(fields, codes, values)
        nan = codes[classes == NAN]
        nan_codes: tuple[int, ...] | None = tuple(int(c) for c in nan)
        nan_code_ranges = _runs(nan)
        nan_count = int(nan.size)
        inf_codes = tuple(int(c) for c in codes[classes == INF])
        finite_count = int(np.count_nonzero(np.isfinite(values)))
        zero = classes == ZERO
        has_zero = bool(zero.any())
        has_negative_zero = bool((zero & np.signbit(values)).any())
        sub = values[classes == SUBNORMAL]
        min_subnormal = float(sub[sub > 0].min()) if sub.size else None
        min_subnormal_code = (
            None if min_subnormal is None else int(codes[values == min_subnormal][0])
        )
        signed = bool((values < 0).any())
    else:  # float32: IEEE 754 binary32, counted rather than enumerated
        top = (1 << exponent_bits) - 1
        nan_codes = None
        nan_code_ranges = (
            ((top << mantissa_bits) + 1, (top << mantissa_bits) + (1 << mantissa_bits) - 1),
            (
                (1 << (bits - 1)) + (top << mantissa_bits) + 1,
                (1 << (bits - 1)) + (top << mantissa_bits) + (1 << mantissa_bits) - 1,
            ),
        )
        nan_count = 2 * ((1 << mantissa_bits) - 1)
        inf_codes = (top << mantissa_bits, (1 << (bits - 1)) + (top << mantissa_bits))
        finite_count = 2**bits - 2 * (1 << mantissa_bits)
        has_zero = has_negative_zero = signed = True
        min_subnormal = float(finfo.smallest_subnormal)
        min_subnormal_code = 1

    if past_max in inf_codes:
        overflow: Overflow = "inf"
    elif past_max == max_finite_code:
        overflow = "saturate"
    else:
        overflow = "nan"

    info = FormatInfo(
        name=name,
        bits=bits,
        exponent_bits=exponent_bits,
        mantissa_bits=mantissa_bits,
        bias=bias,
        max=max_value,
        min_normal=min_normal,
        min_subnormal=min_subnormal,
        eps=eps,
        has_inf=bool(inf_codes),
        has_nan=nan_count > 0,
        has_negative_zero=has_negative_zero,
        nan_codes=nan_codes,
        inf_codes=inf_codes,
        finite_count=finite_count,
        overflow=overflow,
        description=spec.description,
        family=spec.family,
        signed=signed,
        has_zero=has_zero,
        min_code=0,
        max_code=2**bits - 1,
        source=spec.source,
        aliases=spec.aliases,
        nan_code_ranges=nan_code_ranges,
        nan_count=nan_count,
        max_finite_code=max_finite_code,
        min_normal_code=min_normal_code,
        min_subnormal_code=min_subnormal_code,
        exponent_min=exponent_min,
        exponent_max=exponent_max,
        sign_bits=sign_bits,
    )
    return info, fields


_BUILT: Final = {name: _build(name, spec) for name, spec in _SPECS.items()}

#: Every format, keyed by its ml_dtypes name, in display order.
FORMATS: Final[dict[str, FormatInfo]] = {name: built[0] for name, built in _BUILT.items()}

_ALIASES: Final = {alias: name for name, spec in _SPECS.items() for alias in spec.aliases}


def canonical_name(name: str) -> str:
    """The ml_dtypes name for `name` or one of its aliases, e.g. "bf16" -> "bfloat16"."""
    if name in FORMATS:
        return name
    lowered = name.lower()
    if lowered in FORMATS:
        return lowered
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    raise UnknownName("format", name, FORMATS, field="name")


def get_format(name: str) -> FormatInfo:
    """The `FormatInfo` of `name` (an ml_dtypes name or alias); `UnknownName` otherwise."""
    return FORMATS[canonical_name(name)]


def fields_of(name: str) -> _Fields:
    """Bit-field layout of a format (internal to app.core.numerics)."""
    return _BUILT[canonical_name(name)][1]


def dtype_of(name: str) -> np.dtype[Any]:
    """The numpy dtype of a format, e.g. ``dtype_of("bfloat16") == ml_dtypes.bfloat16``."""
    return np.dtype(_SPECS[canonical_name(name)].dtype)


@functools.cache
def _value_table(name: str) -> ValueTable:
    info = FORMATS[name]
    codes, values = _enumerate(_SPECS[name], info.bits)
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
            f"{limit('value_table_bits')} bits; decode single codes instead",
        )
    return _value_table(canonical)
