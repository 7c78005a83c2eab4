"""Rounding float64 reals into a format, vectorised, with one rounding.

ml_dtypes converts a float64 through float32, so it rounds twice: ``float8_e4m3fn(1 + 2**-4 +
2**-26)`` gives 1.0 there, while a single correct rounding gives 1.125. bitmesh rounds once,
directly from float64, in `round_array` (vectorised: the bracketing code is read off the
float64 bits, which tests check against a searchsorted over the sorted finite magnitudes). The
codec's `encode` is a one-element call of the same machinery. On float32-exact inputs the two
agree bit for bit (tests check every format).

The rounding works on magnitudes: the codes 0..K with sign bit 0 are the finite non-negative
values in increasing order (K = ``max_finite_code``), and the sign is put back afterwards. One
virtual code V = K + 1 stands for "the next value past max with an unbounded exponent",
max + 2^(emax - mantissa_bits); landing on it is an overflow (IEEE 754-2019 §7.4), which then
becomes NaN, Inf or ±max by the overflow policy.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal, get_args

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.numerics.formats import FORMATS, FormatInfo, canonical_name, dtype_of, value_table

Rounding = Literal["nearest_even", "toward_zero", "up", "down", "stochastic"]
OverflowPolicy = Literal["native", "saturate"]


@dataclass(frozen=True)
class Mode:
    """A rounding mode or overflow policy as the API and the pages name and explain it."""

    name: str
    title: str  # what a picker shows
    explanation: str
    seeded: bool = False  # the mode draws random numbers: the `seed` parameter counts


#: The rounding modes, declared once (the API's `rounding` parameter, the explorer's picker).
ROUNDING_MODES: Final = (
    Mode(
        "nearest_even",
        "nearest, ties to even",
        "The nearest representable value (by distance |x − v|); an exact tie goes to the "
        "neighbour whose last mantissa bit is 0 (IEEE 754 roundTiesToEven, OCP OFP8 §5). E8M0 "
        "has no mantissa to make even: its ties go up, to the larger power of two (ties away "
        "from zero), as ml_dtypes' cast does.",
    ),
    Mode("toward_zero", "toward zero", "Truncate: the neighbour nearer to zero."),
    Mode("up", "up (toward +∞)", "The neighbour above: away from zero for positive inputs."),
    Mode("down", "down (toward −∞)", "The neighbour below: away from zero for negative inputs."),
    Mode(
        "stochastic",
        "stochastic",
        "Up with probability (x − below) / (above − below), else down, so the rounding is "
        "unbiased on average; the draw is seeded (`seed`) so a URL reproduces it.",
        seeded=True,
    ),
)
#: What happens past max, declared once (the API's `overflow` parameter).
OVERFLOW_MODES: Final = (
    Mode(
        "native",
        "native (as ml_dtypes)",
        "Whatever the format does past max, as an ml_dtypes cast: NaN (e4m3fn), ±Inf "
        "(e5m2, bfloat16) or ±max for formats with neither (fp6, fp4).",
    ),
    Mode("saturate", "saturate to ±max", "Clamp to ±max (and ±Inf to ±max), as FP8 GEMMs do."),
)
ROUNDINGS: Final[tuple[str, ...]] = tuple(m.name for m in ROUNDING_MODES)
OVERFLOWS: Final[tuple[str, ...]] = tuple(m.name for m in OVERFLOW_MODES)
assert get_args(Rounding) == ROUNDINGS and get_args(OverflowPolicy) == OVERFLOWS
SEEDED: Final = frozenset(m.name for m in ROUNDING_MODES if m.seeded)
DEFAULT_SEED: Final = 0

F64 = npt.NDArray[np.float64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


# --- per-format rounding tables -------------------------------------------------------------


@dataclass(frozen=True)
class Rounder:
    info: FormatInfo
    ext: F64 | None  # magnitudes + the virtual value (<= 16 bits); None for float32
    table_values: F64 | None  # value of every code (<= 16 bits)
    virtual: float  # max + one step: the first magnitude that is no longer finite
    sign_mask: int
    nan_cast: tuple[int, int]  # ml_dtypes' code for +NaN, -NaN
    inf_cast: tuple[int, int]  # ml_dtypes' code for +Inf, -Inf
    past_max_cast: tuple[int, int]  # ml_dtypes' code for ±2·max

    @property
    def K(self) -> int:
        return self.info.max_finite_code

    def lo_index(self, m: F64) -> I64:
        """Largest magnitude code with value <= m (-1 below the smallest, K + 1 past virtual).

        Read straight off m's float64 bits: the positive codes of every format here follow
        the IEEE layout (exponent field, then mantissa), so truncating m's mantissa to the
        format's width gives the code below m. For example m = 460 in float8_e4m3fn is
        2^8 × 1.796875: field 8 + 7 = 15, top 3 mantissa bits 0b110, code 15 << 3 | 6 = 126.
        `lo_index_by_search` is the same function by binary search (tests compare them).
        """
        info = self.info
        M, bias = info.mantissa_bits, info.bias
        bits = m.view(np.uint64)  # m >= 0: the sign bit is clear
        field = (bits >> 52).astype(np.int64) - (1023 - bias)
        idx = (field << M) | ((bits >> (52 - M)) & ((1 << M) - 1)).astype(np.int64)
        # Below the normal range: subnormal value = mantissa × 2^(1 - bias - M), so the code
        # is floor(m · 2^(M + bias - 1)) (an exact power-of-two scaling). E8M0 has no
        # subnormals: its exponent field 0 is the normal 2^-127 and anything less is -1.
        low = field <= 0 if M > 0 else field < 0
        if low.any():
            idx[low] = np.floor(m[low] * 2.0 ** (M + bias - 1)) if M > 0 else -1
        return np.minimum(idx, self.K + 1)

    def lo_index_by_search(self, m: F64) -> I64:
        """`lo_index` by binary search over the sorted magnitudes (<= 16-bit formats)."""
        assert self.ext is not None
        return np.searchsorted(self.ext, m, side="right").astype(np.int64) - 1

    def magnitude(self, idx: I64) -> F64:
        """Value of magnitude codes 0..K + 1 (K + 1 is the virtual overflow value)."""
        if self.ext is not None:
            return self.ext[idx]
        return np.where(
            idx > self.K, self.virtual, idx.astype(np.uint32).view(np.float32).astype(np.float64)
        )

    def value(self, code: int) -> float:
        if self.table_values is not None:
            return float(self.table_values[code])
        return float(np.uint32(code).view(np.float32))

    def values(self, codes: U32) -> F64:
        if self.table_values is not None:
            return self.table_values[codes]
        return codes.view(np.float32).astype(np.float64)


def _cast_codes(name: str, x: float) -> tuple[int, int]:
    info = FORMATS[name]
    uint = np.uint8 if info.bits <= 8 else np.uint16 if info.bits <= 16 else np.uint32
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array([x, -x], dtype=np.float32).astype(dtype_of(name)).view(uint)
    return int(out[0]), int(out[1])


@functools.cache
def rounder(name: str) -> Rounder:
    info = FORMATS[name]
    virtual = info.max + 2.0 ** (info.exponent_max - info.mantissa_bits)
    if info.bits <= 16:
        table = value_table(name)
        ext: F64 | None = np.append(table.magnitudes, virtual)
        table_values: F64 | None = table.values
    else:
        ext = table_values = None
    return Rounder(
        info=info,
        ext=ext,
        table_values=table_values,
        virtual=virtual,
        sign_mask=(1 << (info.bits - 1)) if info.signed else 0,
        nan_cast=_cast_codes(name, math.nan),
        inf_cast=_cast_codes(name, math.inf),
        past_max_cast=_cast_codes(name, 2.0 * info.max)
        if info.bits <= 16
        else (info.inf_codes[0], info.inf_codes[1]),
    )


# --- rounding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rounded:
    codes: U32
    values: F64
    lo: I64  # magnitude bracket: value(lo) <= |x| < value(lo + 1), clipped to 0..K
    exact: Bools  # |x| is a representable magnitude
    below_min: Bools  # |x| below the smallest magnitude (float8_e8m0fnu only)
    overflowed: Bools  # the rounding went past max (before the overflow policy)


def check_modes(rounding: str, overflow: str) -> None:
    if rounding not in ROUNDINGS:
        raise InvalidInput(
            "rounding", f"unknown rounding {rounding!r}; use one of {', '.join(ROUNDINGS)}"
        )
    if overflow not in OVERFLOWS:
        raise InvalidInput(
            "overflow", f"unknown overflow {overflow!r}; use one of {', '.join(OVERFLOWS)}"
        )


def round_codes(
    r: Rounder,
    x: F64,
    rounding: str,
    overflow: str,
    rng: np.random.Generator | None,
) -> Rounded:
    info = r.info
    K = r.K
    finite = np.isfinite(x)
    all_finite = bool(finite.all())
    neg = np.signbit(x)
    m = np.abs(x) if all_finite else np.where(finite, np.abs(x), 0.0)

    raw = r.lo_index(m)
    below_min = raw < 0  # only E8M0 has no zero to fall back on
    lo = np.minimum(raw, K) if info.has_zero else np.clip(raw, 0, K)
    hi = lo + 1
    lo_v, hi_v = r.magnitude(lo), r.magnitude(hi)
    exact = lo_v == m
    if not info.has_zero:
        exact &= ~below_min

    if rounding == "nearest_even":
        # Values here carry at most 24 significant bits, so the midpoint is exact in float64.
        mid = (lo_v + hi_v) * 0.5
        # Ties to even: consecutive magnitude codes alternate the mantissa's last bit, so the
        # even neighbour is the even code. E8M0 has no mantissa: its ties go up (ties away;
        # docs/dtypes.md, "E8M0 ties"), as ml_dtypes' cast does.
        tie_up = (lo % 2 == 1) if info.mantissa_bits else True
        choose_hi = (m > mid) | ((m == mid) & tie_up)
    elif rounding == "toward_zero":
        choose_hi = np.zeros(m.shape, dtype=bool)
    elif rounding == "up":  # toward +inf: away from zero for positives
        choose_hi = ~neg
    elif rounding == "down":  # toward -inf: away from zero for negatives
        choose_hi = neg
    else:  # stochastic: P(away from zero) = (|x| - below) / (above - below)
        generator = rng if rng is not None else np.random.default_rng(DEFAULT_SEED)
        u = generator.random(m.shape)
        choose_hi = u * (hi_v - lo_v) < (m - lo_v)
    chosen = lo + (choose_hi & ~exact)
    if not info.has_zero:
        chosen[below_min] = 0  # e8m0: nothing below 2^-127 to round to
    codes_u32, overflowed = _finish(r, x, neg, None if all_finite else finite, chosen, overflow)
    return Rounded(codes_u32, r.values(codes_u32), lo, exact, below_min, overflowed)


def _finish(
    r: Rounder, x: F64, neg: Bools, finite: Bools | None, chosen: I64, overflow: str
) -> tuple[U32, Bools]:
    """Codes from the chosen magnitude codes (K + 1 is past max): the sign, the overflow
    policy, NaN and ±Inf inputs (`finite` is None when every input is finite), E8M0's NaN for
    zero and negatives; and where the rounding overflowed."""
    info = r.info
    K, V = r.K, r.K + 1
    all_finite = finite is None
    overflowed = chosen == V
    if finite is not None:
        overflowed &= finite

    codes = np.minimum(chosen, K)
    if info.signed:
        signed = neg if info.has_negative_zero else neg & (codes != 0)  # FNUZ: no -0
        codes[signed] |= r.sign_mask
    if overflow == "native" and overflowed.any():
        codes[overflowed] = np.where(neg, r.past_max_cast[1], r.past_max_cast[0])[overflowed]
    if not all_finite:
        inf = np.isinf(x)
        if overflow == "native":
            codes[inf] = np.where(neg, r.inf_cast[1], r.inf_cast[0])[inf]
        else:  # saturate: ±Inf clamps to ±max like finite values past max
            codes[inf] = np.where(neg, K | r.sign_mask, K)[inf]
        nan = np.isnan(x)
        codes[nan] = np.where(neg, r.nan_cast[1], r.nan_cast[0])[nan]
    if not info.signed:  # E8M0: zero and negatives are NaN, as in ml_dtypes
        codes[(neg | (x == 0)) & ~np.isnan(x)] = r.nan_cast[0]
    return codes.astype(np.uint32), overflowed


# --- one real, exactly ----------------------------------------------------------------------


@dataclass(frozen=True)
class Real:
    """A real number held exactly, e.g. the decimal ``464.0000000000000004`` that a query
    types (its nearest float64 is the e4m3fn tie 464, the number itself is past it).

    `exact` is the value (None for NaN and ±Inf); `approx` is its nearest float64, which also
    carries the sign (``-0`` is ``-0.0``) and stands for NaN and ±Inf. A finite value past
    float64's range has `approx` ±Inf, a tiny one ±0.0, so read `exact` for the value.
    """

    exact: Fraction | None
    approx: float

    @classmethod
    def of(cls, x: float | Fraction | Real) -> Real:
        """A float64, a fraction or a `Real` as a `Real`."""
        if isinstance(x, Real):
            return x
        if isinstance(x, Fraction):
            return cls(x, _nearest_float(x))
        f = float(x)
        return cls(Fraction(f) if math.isfinite(f) else None, f)

    @property
    def finite(self) -> bool:
        return self.exact is not None

    @property
    def negative(self) -> bool:
        """The sign bit: True for negatives, -0 and -Inf."""
        return math.copysign(1.0, self.approx) < 0

    @functools.cached_property
    def is_float64(self) -> bool:
        """The value is a float64 (or NaN, ±Inf): rounding `approx` is rounding the value."""
        return self.exact is None or (
            math.isfinite(self.approx) and Fraction(self.approx) == self.exact
        )

    def stand_in(self) -> float:
        """A float64 with this real's sign, zeroness and finiteness (for `_finish`'s masks)."""
        if self.exact is None or self.exact == 0 or 0 < abs(self.approx) < math.inf:
            return self.approx
        tiny_or_huge = math.ulp(0.0) if self.approx == 0 else sys.float_info.max
        return math.copysign(tiny_or_huge, self.approx)


def _nearest_float(q: Fraction) -> float:
    """q rounded to float64 (±Inf past its range), e.g. 1/3 -> 0.3333333333333333."""
    try:
        return q.numerator / q.denominator  # int / int is correctly rounded in CPython
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _exact_magnitude(r: Rounder, i: int) -> Fraction:
    return Fraction(float(r.magnitude(np.array([i]))[0]))


def _exact_lo(r: Rounder, m: Fraction) -> int:
    """`Rounder.lo_index` of an exact magnitude: the largest code with value <= m.

    Read off m's nearest float64, then moved by a step where that rounding crossed a value.
    """
    K = r.K
    if m > Fraction(r.virtual):
        return K + 1
    i = int(r.lo_index(np.array([float(m)]))[0])
    while i >= 0 and _exact_magnitude(r, i) > m:
        i -= 1
    while i <= K and _exact_magnitude(r, i + 1) <= m:
        i += 1
    return i


def round_real(
    r: Rounder,
    x: Real,
    rounding: str,
    overflow: str,
    rng: np.random.Generator | None,
) -> Rounded:
    """`round_codes` of one real, in exact rational arithmetic: the bracket, the midpoint and
    the stochastic odds are fractions, so ``464.0000000000000004`` overflows e4m3fn while 464
    ties to 448. On a float64 it gives what `round_codes` gives (tests compare the two)."""
    if x.exact is None:  # NaN, ±Inf: nothing to round
        return round_codes(r, np.array([x.approx]), rounding, overflow, rng)
    info = r.info
    K = r.K
    m, neg = abs(x.exact), x.negative
    raw = _exact_lo(r, m)
    below_min = raw < 0  # only E8M0 has no zero to fall back on
    lo = min(raw, K) if info.has_zero else min(max(raw, 0), K)
    lo_v, hi_v = _exact_magnitude(r, lo), _exact_magnitude(r, lo + 1)
    exact = lo_v == m and not below_min
    if rounding == "nearest_even":  # the same rule as round_codes, on fractions
        mid = (lo_v + hi_v) / 2
        tie_up = lo % 2 == 1 if info.mantissa_bits else True
        choose_hi = m > mid or (m == mid and tie_up)
    elif rounding in ("toward_zero", "up", "down"):
        choose_hi = {"toward_zero": False, "up": not neg, "down": neg}[rounding]
    else:  # stochastic: the same draw as round_codes, compared exactly
        generator = rng if rng is not None else np.random.default_rng(DEFAULT_SEED)
        u = Fraction(float(generator.random(1)[0]))
        choose_hi = u * (hi_v - lo_v) < m - lo_v
    chosen = 0 if below_min else lo + int(choose_hi and not exact)
    codes, overflowed = _finish(
        r,
        np.array([x.stand_in()]),
        np.array([neg]),
        None,
        np.array([chosen], dtype=np.int64),
        overflow,
    )
    one = np.array([True])
    return Rounded(codes, r.values(codes), np.array([lo]), one & exact, one & below_min, overflowed)


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(DEFAULT_SEED if rng is None else rng)


def round_array(
    name: str,
    x: npt.ArrayLike,
    rounding: str = "nearest_even",
    overflow: str = "native",
    rng: np.random.Generator | int | None = None,
) -> tuple[U32, F64]:
    """Round every element of `x` (as float64) to the format once; returns (codes, values).

    For example ``round_array("float4_e2m1fn", [0.25, 0.75, 5.0, 7.0])`` gives codes
    ``[0, 2, 6, 7]`` and values ``[0, 1, 4, 6]`` (ties to even; 7 saturates). `rng` seeds
    stochastic rounding (a Generator or an int; None means seed 0).
    """
    check_modes(rounding, overflow)
    r = rounder(canonical_name(name))
    arr = np.asarray(x, dtype=np.float64)
    rounded = round_codes(r, arr.reshape(-1), rounding, overflow, _generator(rng))
    return rounded.codes.reshape(arr.shape), rounded.values.reshape(arr.shape)
