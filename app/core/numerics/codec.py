"""Bits to value and value to bits: decode a code, encode a real, parse query strings.

`decode` takes a code apart into sign, exponent and mantissa with the value's exact decimal;
`encode` rounds one float64 with the single rounding of `app.core.numerics.rounding` (a
one-element `round_array`) and explains the result: its neighbours, the interval of inputs
that land on it, and where ml_dtypes' own cast (which rounds through float32) differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from app.core.errors import InvalidInput
from app.core.numerics.formats import (
    CLASS_NAMES,
    FORMATS,
    INF,
    NAN,
    NORMAL,
    SUBNORMAL,
    ZERO,
    FormatInfo,
    canonical_name,
    dtype_of,
    fields_of,
)
from app.core.numerics.rounding import (
    DEFAULT_SEED,
    OVERFLOWS,
    ROUNDINGS,
    _check_modes,
    _round,
    _Rounded,
    _Rounder,
    _rounder,
    round_array,
)

# round_array, ROUNDINGS and OVERFLOWS live in rounding.py; they stay importable from here.
__all__ = [
    "OVERFLOWS",
    "ROUNDINGS",
    "Decoded",
    "Encoded",
    "Neighbour",
    "class_names",
    "decode",
    "encode",
    "exact_decimal",
    "parse_code",
    "parse_value",
    "round_array",
]


# --- exact decimals -------------------------------------------------------------------------


def exact_decimal(x: float) -> str:
    """The exact decimal expansion of a binary float (every one is finite).

    For example ``exact_decimal(2**-9) == "0.001953125"``, ``exact_decimal(-0.0) == "-0"``,
    ``exact_decimal(448.0) == "448"``; non-finite values give "NaN", "Inf", "-Inf".
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    return sign + _fraction_decimal(abs(Fraction(x)))


def _fraction_decimal(q: Fraction) -> str:
    """Exact decimal of a non-negative dyadic rational n / 2^k: n·5^k / 10^k."""
    k = q.denominator.bit_length() - 1
    assert q.denominator == 1 << k, "only dyadic rationals have finite binary expansions"
    if k == 0:
        return str(q.numerator)
    digits = str(q.numerator * 5**k).rjust(k + 1, "0")
    return f"{digits[:-k]}.{digits[-k:]}"


# --- decode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """One code taken apart, e.g. float8_e4m3fn code 0x39 = 0 0111 001: sign 0, exponent 7,
    mantissa 1, class "normal", value 1.125, exact "1.125", formula
    ``("(-1)^0 × 2^(7 - 7) × 1.001₂", "= +1 × 2^0 × 1.125", "= 1.125")``."""

    name: str
    code: int
    hex: str
    bits: str  # e.g. "00111001", sign first
    sign: int | None  # None: the format has no sign bit (float8_e8m0fnu)
    exponent: int  # raw exponent field
    mantissa: int  # raw mantissa field
    cls: str  # zero, subnormal, normal, inf, nan
    value: float
    exact: str  # exact decimal of value; "NaN", "Inf", "-Inf"
    exponent_unbiased: int | None  # power of two applied (None for zero, Inf, NaN)
    significand: str | None  # exact decimal of 1.m or 0.m (None for zero, Inf, NaN)
    significand_bits: str | None  # e.g. "1.001"
    is_subnormal: bool
    formula: tuple[str, ...]


def _hex(code: int, bits: int) -> str:
    return f"0x{code:0{(bits + 3) // 4}x}"


def _check_code(info: FormatInfo, code: int) -> None:
    if isinstance(code, bool) or not isinstance(code, int | np.integer):
        raise InvalidInput("code", f"must be an integer code, got {code!r}")
    if not info.min_code <= int(code) <= info.max_code:
        raise InvalidInput(
            "code",
            f"{code} is outside {info.name}'s codes: use an integer in "
            f"{info.min_code}..{info.max_code} ({info.bits} bits)",
        )


def _class_of(info: FormatInfo, exponent: int, value: float) -> int:
    if math.isnan(value):
        return NAN
    if math.isinf(value):
        return INF
    if value == 0:
        return ZERO
    return SUBNORMAL if exponent == 0 and info.mantissa_bits > 0 else NORMAL


def decode(name: str, code: int) -> Decoded:
    """Take a code apart into its fields, class, value and exact decimal.

    For example ``decode("float8_e4m3fn", 1).exact == "0.001953125"`` (2^-9).
    """
    info = FORMATS[canonical_name(name)]
    _check_code(info, code)
    code = int(code)
    fields = fields_of(info.name)
    value = _rounder(info.name).value(code)
    sign = (code >> (info.bits - 1)) & 1 if fields.sign_bits else None
    exponent = (code >> info.mantissa_bits) & ((1 << info.exponent_bits) - 1)
    mantissa = code & ((1 << info.mantissa_bits) - 1)
    cls = _class_of(info, exponent, value)
    bit_string = format(code, f"0{info.bits}b")

    unbiased: int | None = None
    significand: str | None = None
    significand_bits: str | None = None
    mbits = format(mantissa, f"0{info.mantissa_bits}b") if info.mantissa_bits else ""
    sign_text = "" if sign is None else f"(-1)^{sign} × "
    sign_word = "" if sign is None else ("-1 × " if sign else "+1 × ")
    formula: tuple[str, ...]
    if cls in (NORMAL, SUBNORMAL):
        lead = 1 if cls == NORMAL else 0
        # A subnormal uses the smallest normal exponent 1 - bias with a leading 0.
        field = exponent if cls == NORMAL else 1
        unbiased = field - info.bias
        significand_bits = f"{lead}.{mbits}" if mbits else f"{lead}"
        sig = Fraction(lead) + Fraction(mantissa, 1 << info.mantissa_bits)
        significand = _fraction_decimal(sig)
        formula = (
            f"{sign_text}2^({field} - {info.bias}) × {significand_bits}₂",
            f"= {sign_word}2^{unbiased} × {significand}",
            f"= {exact_decimal(value)}",
        )
    elif cls == ZERO:
        formula = (f"{sign_text}0", f"= {exact_decimal(value)}")
    elif cls == INF:
        formula = (
            "exponent field all ones, mantissa 0: infinity",
            f"= {exact_decimal(value)}",
        )
    else:
        formula = (_nan_reason(info), "= NaN")
    return Decoded(
        name=info.name,
        code=code,
        hex=_hex(code, info.bits),
        bits=bit_string,
        sign=sign,
        exponent=exponent,
        mantissa=mantissa,
        cls=CLASS_NAMES[cls],
        value=value,
        exact=exact_decimal(value),
        exponent_unbiased=unbiased,
        significand=significand,
        significand_bits=significand_bits,
        is_subnormal=cls == SUBNORMAL,
        formula=formula,
    )


def _nan_reason(info: FormatInfo) -> str:
    if info.name.endswith("fnuz"):
        return "sign 1 with every other bit 0 is the single NaN (FNUZ: no -0, no Inf)"
    if info.name.endswith("fnu"):
        return "all ones is the single NaN (E8M0 has no sign, zero or Inf)"
    if info.name.endswith("fn"):
        return "exponent and mantissa all ones: NaN (FN formats have no Inf)"
    return "exponent field all ones, mantissa not 0: NaN"


# --- encode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    code: int
    value: float


@dataclass(frozen=True)
class Encoded:
    """A real rounded into a format, e.g. ``encode("float8_e4m3fn", 464.0)``: code 126,
    value 448.0, below 448 (code 126), above None (448 is the largest finite value and the
    format has no Inf), interval (432, 464) closed at both ends (ties go to 448's even
    mantissa), note "464 is past max 448 but exactly half-way to the next step 480: ties
    to even keep max, whose last mantissa bit is 0: rounds to 448"."""

    name: str
    input: float
    rounding: str
    overflow: str
    seed: int | None  # the seed used (stochastic only), so the URL reproduces the draw
    code: int
    hex: str
    bits: str
    value: float
    exact_value: str  # exact decimal of value
    cls: str
    abs_error: float | None  # |value - input|, None when either is not finite
    rel_error: float | None  # abs_error / |input|, None when input is 0 or not finite
    below: Neighbour | None  # largest representable value strictly below input
    above: Neighbour | None  # smallest representable value strictly above input
    exact: bool  # input is representable
    overflowed: bool  # the rounding went past max (the policy then gave NaN, Inf or ±max)
    ml_dtypes_code: int | None  # what ml_dtypes' own cast of the float64 gives (RNE/native)
    note: str | None
    # Every input that this rounding mode and overflow policy can send to `value`: (low, high)
    # with whether each end is included; None when value is NaN or ±Inf.
    interval: tuple[float, float] | None
    interval_closed: tuple[bool, bool] | None


def _magnitude_interval(
    r: _Rounder, i: int, rounding: str, saturating: bool
) -> tuple[float, float, bool, bool]:
    """Magnitudes that reach magnitude code i: (low, high, low_closed, high_closed).

    For example nearest_even, e4m3fn, i = 56 (1.0): (0.96875, 1.0625, True, True): both
    midpoints tie to 1.0's even mantissa.
    """
    info = r.info
    K = r.K
    t = float(r.magnitude(np.array([i]))[0])
    prev = float(r.magnitude(np.array([i - 1]))[0]) if i > 0 else 0.0
    nxt = float(r.magnitude(np.array([i + 1]))[0])
    top = saturating and i == K  # everything past max lands on ±max
    if rounding == "nearest_even":
        even = i % 2 == 0
        tie_up = info.mantissa_bits == 0  # E8M0 ties go up
        low = (prev + t) / 2 if i > 0 else 0.0
        low_closed = (tie_up or even) if i > 0 else info.has_zero
        high = math.inf if top else (t + nxt) / 2
        high_closed = False if top else (not tie_up and even)
        return low, high, low_closed, high_closed
    if rounding == "toward_zero":
        if i == 0 and not info.has_zero:  # E8M0: everything below 2^-127 lands on it too
            return 0.0, nxt, False, False
        return t, (math.inf if i == K else nxt), True, False
    if rounding == "away":
        if i == 0:
            return 0.0, t, info.has_zero, True
        return prev, (math.inf if top else t), False, not top
    # stochastic: any magnitude strictly between the two neighbours (or t itself)
    return (prev if i > 0 else 0.0), (math.inf if top else nxt), i == 0 and info.has_zero, False


def _interval(
    r: _Rounder, code: int, value: float, rounding: str, overflow: str
) -> tuple[tuple[float, float], tuple[bool, bool]] | None:
    """Signed interval of inputs that round to `code` (see `Encoded.interval`)."""
    info = r.info
    if not math.isfinite(value):
        return None
    saturating = overflow == "saturate" or info.overflow == "saturate"
    i = code & ~r.sign_mask
    negative = bool(code & r.sign_mask) and info.signed
    if value == 0:  # both zeros: the interval straddles 0
        first = float(r.magnitude(np.array([1]))[0])
        if rounding == "nearest_even":
            return (-first / 2, first / 2), (True, True)
        if rounding == "up":
            return (-first, 0.0), (False, True)
        if rounding == "down":
            return (0.0, first), (True, False)
        return (-first, first), (False, False)
    if rounding == "up":
        mode = "toward_zero" if negative else "away"
    elif rounding == "down":
        mode = "away" if negative else "toward_zero"
    else:
        mode = rounding
    low, high, low_closed, high_closed = _magnitude_interval(r, i, mode, saturating)
    if negative:
        return (-high, -low), (high_closed, low_closed)
    return (low, high), (low_closed, high_closed)


def _signed_neighbour(r: _Rounder, idx: int, negative: bool) -> Neighbour | None:
    """The representable value with magnitude code `idx` and the given sign."""
    info = r.info
    if idx > r.K:
        if not info.has_inf:
            return None
        idx_code = info.inf_codes[1] if negative else info.inf_codes[0]
        return Neighbour(idx_code, -math.inf if negative else math.inf)
    code = idx | (r.sign_mask if negative else 0)
    if idx == 0 and negative and not info.has_negative_zero:
        code = 0
    return Neighbour(code, r.value(code))


def _neighbours(
    r: _Rounder, x: float, lo: int, exact: bool, below_min: bool
) -> tuple[Neighbour | None, Neighbour | None]:
    """Strict neighbours: the largest representable value < x and the smallest > x."""
    if not math.isfinite(x):
        return None, None
    if not r.info.signed:  # E8M0: positive magnitudes only
        if x <= 0 or below_min:
            return None, _signed_neighbour(r, 0, False)
        down, up = (lo - 1, lo + 1) if exact else (lo, lo + 1)
        return (None if down < 0 else _signed_neighbour(r, down, False)), (
            None if up > r.K else _signed_neighbour(r, up, False)
        )
    toward_zero, away = (lo - 1, lo + 1) if exact else (lo, lo + 1)
    negative = math.copysign(1.0, x) < 0
    if toward_zero < 0:  # x is ±0: its neighbours are ∓ the smallest subnormal
        return _signed_neighbour(r, 1, True), _signed_neighbour(r, 1, False)
    if negative:
        return _signed_neighbour(r, away, True), _signed_neighbour(r, toward_zero, True)
    return _signed_neighbour(r, toward_zero, False), _signed_neighbour(r, away, False)


def _ml_dtypes_code(info: FormatInfo, x: float) -> int:
    uint = np.uint8 if info.bits <= 8 else np.uint16 if info.bits <= 16 else np.uint32
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array([x], dtype=np.float64).astype(dtype_of(info.name))
    return int(out.view(uint)[0])


def _ratio(a: Fraction, b: Fraction) -> float:
    """a / b as a float, inf when it is past float64's range (a tiny subnormal input)."""
    try:
        return float(a / b)
    except OverflowError:
        return math.inf


def _fmt(x: float) -> str:
    """Shortest round-trip text, e.g. 448.0 -> "448", 0.1 -> "0.1"."""
    if not math.isfinite(x):
        return exact_decimal(x)
    mantissa, exponent = math.frexp(abs(x))
    if mantissa == 0.5 and abs(exponent - 1) >= 20:  # e8m0-scale powers of two: 2^127
        return f"{'-' if x < 0 else ''}2^{exponent - 1}"
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def _notes(
    r: _Rounder, x: float, rounded: _Rounded, code: int, value: float, rounding: str, overflow: str
) -> list[str]:
    info = r.info
    notes: list[str] = []
    if math.isnan(x):
        if not info.has_nan:
            notes.append(
                f"{info.name} has no NaN: ml_dtypes casts NaN to {exact_decimal(value)} "
                f"(code {_hex(code, info.bits)}) and bitmesh does the same"
            )
        return notes
    if not info.signed and (x <= 0 or math.copysign(1.0, x) < 0):
        notes.append(
            f"{info.name} has no zero and no sign: ml_dtypes casts zero and negatives to NaN"
        )
        return notes
    if math.isinf(x):
        if overflow == "saturate":
            notes.append(f"overflow=saturate: {exact_decimal(x)} clamps to {_fmt(value)}")
        elif not info.has_inf:
            target = "NaN" if info.overflow == "nan" else f"{_fmt(value)} (saturates)"
            notes.append(f"{info.name} has no Inf: ml_dtypes casts {exact_decimal(x)} to {target}")
        return notes
    if bool(rounded.below_min[0]):
        notes.append(
            f"{_fmt(x)} is below {info.name}'s smallest value 2^{info.exponent_min} (no zero, "
            f"no subnormals): it becomes 2^{info.exponent_min}"
        )
    magnitude = abs(x)
    if bool(rounded.overflowed[0]):
        if overflow == "saturate":
            what = f"overflow=saturate clamps to {_fmt(value)}"
        elif info.overflow == "nan":
            what = "ml_dtypes gives NaN"
        elif info.overflow == "inf":
            what = f"it overflows to {exact_decimal(value)}"
        else:
            what = f"{info.name} saturates to {_fmt(value)}"
        notes.append(f"{_fmt(x)} rounds past max {_fmt(info.max)}: {what}")
    elif magnitude > info.max:
        # IEEE 754 §4.3.1: the half-way point between max and the next step up is a tie; it
        # reaches this branch only when max's mantissa is even (an odd max would overflow).
        half = math.ldexp(1.0, info.exponent_max - info.mantissa_bits - 1)
        if rounding != "nearest_even":
            why = f"rounding {rounding}"
        elif magnitude == info.max + half:
            why = (
                f"exactly half-way to the next step {_fmt(info.max + 2 * half)}: ties to even "
                "keep max, whose last mantissa bit is 0"
            )
        else:
            why = "within half a step"
        notes.append(f"{_fmt(x)} is past max {_fmt(info.max)} but {why}: rounds to {_fmt(value)}")
    if x != 0 and value == 0:
        notes.append(f"underflow: {_fmt(x)} rounds to zero")
    return notes


def encode(
    name: str,
    value: float,
    rounding: str = "nearest_even",
    overflow: str = "native",
    seed: int | None = None,
) -> Encoded:
    """Round one real (a float64) into a format with a single rounding.

    For example ``encode("float4_e2m1fn", 0.75).value == 1.0`` (a tie, to the even mantissa)
    and ``encode("float8_e4m3fn", 465.0).cls == "nan"`` (past the overflow threshold 464).
    """
    _check_modes(rounding, overflow)
    r = _rounder(canonical_name(name))
    info = r.info
    x = float(value)
    used_seed = (DEFAULT_SEED if seed is None else int(seed)) if rounding == "stochastic" else None
    rng = np.random.default_rng(used_seed) if used_seed is not None else None
    rounded = _round(r, np.array([x], dtype=np.float64), rounding, overflow, rng)
    code = int(rounded.codes[0])
    out = float(rounded.values[0])
    lo, exact = int(rounded.lo[0]), bool(rounded.exact[0])
    below, above = _neighbours(r, x, lo, exact, bool(rounded.below_min[0]))
    if math.isfinite(x) and math.isfinite(out):
        error = abs(Fraction(out) - Fraction(x))
        abs_error: float | None = float(error)
        rel_error = _ratio(error, abs(Fraction(x))) if x else None
    else:
        abs_error = rel_error = None

    notes = _notes(r, x, rounded, code, out, rounding, overflow)
    ml_code: int | None = None
    if rounding == "nearest_even" and overflow == "native":
        ml_code = _ml_dtypes_code(info, x)
        if ml_code != code:
            ml_value = r.value(ml_code)
            if float(np.float32(x)) != x:
                why = "it rounds through float32 first (double rounding)"
            else:  # e8m0 from a float32 subnormal in (2^-127, 2^-126): ml_dtypes rounds up
                why = "it rounds float32 subnormal inputs up; bitmesh rounds to nearest"
            notes.append(
                f"ml_dtypes' own cast gives {_fmt(ml_value)} (code "
                f"{_hex(ml_code, info.bits)}): {why}"
            )
    exponent_mask = (1 << info.exponent_bits) - 1
    span = _interval(r, code, out, rounding, overflow)
    representable = math.isfinite(x) and exact and not bool(rounded.below_min[0])
    if not info.signed and (x <= 0 or math.copysign(1.0, x) < 0):
        representable = False
    return Encoded(
        name=info.name,
        input=x,
        rounding=rounding,
        overflow=overflow,
        seed=used_seed,
        code=code,
        hex=_hex(code, info.bits),
        bits=format(code, f"0{info.bits}b"),
        value=out,
        exact_value=exact_decimal(out),
        cls=CLASS_NAMES[_class_of(info, (code >> info.mantissa_bits) & exponent_mask, out)],
        abs_error=abs_error,
        rel_error=rel_error,
        below=below,
        above=above,
        exact=representable,
        overflowed=bool(rounded.overflowed[0]),
        ml_dtypes_code=ml_code,
        note="; ".join(notes) if notes else None,
        interval=None if span is None else span[0],
        interval_closed=None if span is None else span[1],
    )


# --- parsing query strings -----------------------------------------------------------------


def parse_value(text: str) -> float:
    """A real from a query string: decimals, hex floats, "nan", "inf", "-inf".

    For example ``parse_value("0x1.8p-3") == 0.1875`` and ``parse_value("-inf") == -math.inf``.
    Decimals are rounded to float64 first (the one rounding before the format's).
    """
    s = text.strip()
    try:
        if s.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(s)
        return float(s)
    except (ValueError, OverflowError):
        raise InvalidInput(
            "value",
            f"{text!r} is not a number: use a decimal like 0.1 or 1e-3, a hex float like "
            "0x1.8p-3, or nan, inf, -inf",
        ) from None


def parse_code(text: str) -> int:
    """A code from a query string: decimal, hex ``0x7f`` or binary ``0b01111111``."""
    s = text.strip().replace("_", "")
    try:
        if s.lower().startswith("0x"):
            return int(s[2:], 16)
        if s.lower().startswith("0b"):
            return int(s[2:], 2)
        return int(s, 10)
    except ValueError:
        raise InvalidInput(
            "code", f"{text!r} is not a code: use a decimal (57), hex (0x39) or binary (0b111001)"
        ) from None


def class_names() -> tuple[str, ...]:
    """The value classes, e.g. ("zero", "subnormal", "normal", "inf", "nan")."""
    return CLASS_NAMES
