"""Bits to value: take one code apart, with its formula evaluated step by step.

`decode` returns the fields, class, value and exact decimal of a code, the formula as steps
whose parts name the field they come from (so a page colours them and prints the same text
the API states), and the codes just above and below it in value order (what the explorer's
steppers walk and the "gap to the next value" it shows).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
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
    fields_of,
    value_table,
)
from app.core.numerics.rounding import rounder

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
    return sign + fraction_decimal(abs(Fraction(x)))


def fraction_decimal(q: Fraction) -> str:
    """Exact decimal of a non-negative rational whose denominator is 2^a·5^b (every binary
    float and every decimal): n·(10^k / d) / 10^k with k = max(a, b), e.g. 3/8 -> "0.375"."""
    d = q.denominator
    twos = (d & -d).bit_length() - 1
    rest, fives = d >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    assert rest == 1, "only denominators 2^a·5^b have finite decimal expansions"
    k = max(twos, fives)
    if k == 0:
        return str(q.numerator)
    digits = str(q.numerator * (10**k // d)).rjust(k + 1, "0")
    return f"{digits[:-k]}.{digits[-k:]}"


def hex_code(code: int, bits: int) -> str:
    """A code in hex with one digit per 4 bits, e.g. ``hex_code(57, 8) == "0x39"``."""
    return f"0x{code:0{(bits + 3) // 4}x}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def pow2_text(k: int) -> str:
    """2^k as text with a superscript exponent, e.g. ``pow2_text(-9) == "2⁻⁹"``."""
    return "2" + str(k).translate(_SUPERSCRIPT)


def approx_text(x: float, digits: int = 10) -> str:
    """A long value to `digits` significant digits, e.g. 1.0000001192092896 -> "1.000000119"."""
    text = f"{x:.{digits}g}".replace("e+", "e").replace("-", "−")
    return text.replace("e0", "e").replace("e−0", "e−")


# --- formula steps --------------------------------------------------------------------------

FieldName = Literal["sign", "exponent", "mantissa"]


@dataclass(frozen=True)
class Part:
    """A piece of a formula line; `field` names the bit field it shows (None: plain text)."""

    text: str
    field: FieldName | None = None


@dataclass(frozen=True)
class Step:
    """One line of a formula: its parts, an optional note above it, and whether it is the
    result (the last line)."""

    parts: tuple[Part, ...]
    note: str | None = None
    result: bool = False

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts)


def _nan_reason(info: FormatInfo) -> str:
    if info.name.endswith("fnuz"):
        return "sign 1 with every other bit 0 is the single NaN (FNUZ: no -0, no Inf)"
    if info.name.endswith("fnu"):
        return "all ones is the single NaN (E8M0 has no sign, zero or Inf)"
    if info.name.endswith("fn"):
        return "exponent and mantissa all ones: NaN (FN formats have no Inf)"
    return "exponent field all ones, mantissa not 0: NaN"


def _P(text: str, field: FieldName | None = None) -> Part:
    return Part(text, field)


def _finite_steps(
    info: FormatInfo, sign: int | None, exponent: int, mantissa: int, value: float, cls: int
) -> list[Step]:
    """(−1)^s × 2^(e − bias) × 1.m, evaluated: symbols, raw fields, powers, the value."""
    bias, M = info.bias, info.mantissa_bits
    mbits = format(mantissa, f"0{M}b") if M else ""
    signed = sign is not None
    sign_sym = [_P("(−1)^"), _P("s", "sign"), _P(" × ")] if signed else []
    sign_num = [_P("(−1)^"), _P(str(sign), "sign"), _P(" × ")] if signed else []
    sign_word = [_P("−1 × " if sign else "+1 × ", "sign")] if signed else []
    steps: list[Step] = []
    if M == 0:  # E8M0: a pure power of two, no sign and no mantissa (OCP MX v1.0 §5.4)
        note = "E8M0 stores only an exponent: the value is a power of two."
        steps.append(Step((_P("2^("), _P("e", "exponent"), _P(f" − {bias})")), note))
        steps.append(Step((_P("= 2^("), _P(str(exponent), "exponent"), _P(f" − {bias})"))))
    elif cls == SUBNORMAL:
        note = "Exponent field 0: a subnormal. No hidden 1, and the exponent is fixed at 1 − bias."
        tail = [_P("₂")]
        steps.append(
            Step((*sign_sym, _P(f"2^(1 − {bias}) × 0."), _P("m", "mantissa"), *tail), note)
        )
        steps.append(
            Step((_P("= "), *sign_num, _P(f"2^(1 − {bias}) × 0."), _P(mbits, "mantissa"), *tail))
        )
    else:
        note = "Normal number: a hidden leading 1 before the mantissa bits."
        power = [_P(f" − {bias}) × 1.")]
        steps.append(
            Step(
                (*sign_sym, _P("2^("), _P("e", "exponent"), *power, _P("m", "mantissa"), _P("₂")),
                note,
            )
        )
        raw = (_P("2^("), _P(str(exponent), "exponent"), *power, _P(mbits, "mantissa"), _P("₂"))
        steps.append(Step((_P("= "), *sign_num, *raw)))
    k = (exponent if cls == NORMAL else 1) - bias
    lead = 1 if cls == NORMAL else 0
    significand = fraction_decimal(Fraction(lead) + Fraction(mantissa, 1 << M))
    scaled = [_P(" × "), _P(significand, "mantissa")] if M else []
    steps.append(Step((_P("= "), *sign_word, _P(pow2_text(k), "exponent"), *scaled)))
    if M and k != 0 and -20 <= k <= 20:
        power_decimal = exact_decimal(2.0**k)
        steps.append(Step((_P("= "), *sign_word, _P(power_decimal, "exponent"), *scaled)))
    # long expansions live in `exact`; the formula ends on a readable number
    exact = exact_decimal(value).replace("-", "−")
    last = (_P("= "), _P(exact)) if len(exact) <= 24 else (_P("≈ "), _P(approx_text(value)))
    steps.append(Step(last, result=True))
    return steps


def formula_steps(
    info: FormatInfo, sign: int | None, exponent: int, mantissa: int, value: float, cls: int
) -> tuple[Step, ...]:
    """The value formula of one code, line by line, e.g. e4m3fn 0x7E (448):
    ``(−1)^s × 2^(e − 7) × 1.m₂``, ``= (−1)^0 × 2^(15 − 7) × 1.110₂``, ``= +1 × 2⁸ × 1.75``,
    ``= +1 × 256 × 1.75``, ``= 448``."""
    if cls in (NORMAL, SUBNORMAL):
        return tuple(_finite_steps(info, sign, exponent, mantissa, value, cls))
    sign_num = (_P("(−1)^"), _P(str(sign), "sign"), _P(" × ")) if sign is not None else ()
    if cls == ZERO:
        note = "Exponent and mantissa all zero: zero (its sign bit still gives +0 or −0)."
        return (
            Step((*sign_num, _P("0")), note),
            Step((_P("= "), _P("−0" if sign else "0")), result=True),
        )
    if cls == INF:
        note = "Exponent field all ones and mantissa 0: infinity (IEEE 754 convention)."
        return (
            Step((*sign_num, _P("∞")), note),
            Step((_P("= "), _P("−∞" if sign else "+∞")), result=True),
        )
    return (Step((_P("NaN"),), _nan_reason(info), result=True),)


# --- neighbours in value order ----------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    code: int
    value: float


@functools.cache
def _value_order(name: str) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Finite codes sorted by value (−0 before +0) and each code's rank in that order (−1 for
    NaN and ±Inf). Formats of at most value_table_bits bits only."""
    table = value_table(name)
    finite = np.flatnonzero(np.isfinite(table.values)).astype(np.uint32)
    values = table.values[finite]
    order = finite[np.lexsort((~np.signbit(values), values))]
    rank = np.full(table.codes.size, -1, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return order, rank


def _ieee_step(info: FormatInfo, code: int, up: bool) -> int | None:
    """IEEE 754 nextUp / nextDown on the bit pattern (float32): magnitudes grow with the code."""
    sign = 1 << (info.bits - 1)
    negative, magnitude = bool(code & sign), code & (sign - 1)
    if magnitude == 0:  # ±0: up from −0 is +0, down from +0 is −0, then the smallest subnormals
        if up:
            return 0 if negative else 1
        return sign | 1 if negative else sign
    away = up != negative  # moving away from zero
    nxt = magnitude + 1 if away else magnitude - 1
    if nxt > info.inf_codes[0]:
        return None
    return (sign | nxt) if negative else nxt


def _table_step(info: FormatInfo, code: int, up: bool) -> int | None:
    order, rank = _value_order(info.name)
    i = int(rank[code])
    if i < 0:  # ±Inf: back to ±max; NaN: nowhere
        value = rounder(info.name).value(code)
        if math.isinf(value) and (value > 0) != up:
            return int(order[-1] if value > 0 else order[0])
        return None
    j = i + 1 if up else i - 1
    if 0 <= j < order.size:
        return int(order[j])
    return (info.inf_codes[0] if up else info.inf_codes[1]) if info.has_inf else None


def step_code(name: str, code: int, up: bool) -> int | None:
    """The code of the next larger (up) or smaller representable value; None past the ends and
    from NaN. E.g. e4m3fn: up from +0 (0x00) is 0x01; down from +0 is −0 (0x80)."""
    info = FORMATS[canonical_name(name)]
    if info.bits <= limit("value_table_bits"):
        return _table_step(info, code, up)
    if math.isnan(rounder(info.name).value(code)):
        return None
    if code in info.inf_codes:
        if (code == info.inf_codes[0]) == up:
            return None
        return info.max_finite_code | (1 << (info.bits - 1) if up else 0)  # −Inf up: −max
    return _ieee_step(info, code, up)


def _neighbour(name: str, code: int | None) -> Neighbour | None:
    return None if code is None else Neighbour(code, rounder(name).value(code))


def _gap(name: str, value: float, up: Neighbour | None) -> float | None:
    """The spacing to the next larger value (−0 to +0 is skipped: same value)."""
    if up is not None and up.value == value and math.isfinite(value):
        up = _neighbour(name, step_code(name, up.code, True))
    if up is None or not math.isfinite(value) or not math.isfinite(up.value):
        return None
    return float(Fraction(up.value) - Fraction(value))


# --- decode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """One code taken apart, e.g. float8_e4m3fn code 0x39 = 0 0111 001: sign 0, exponent 7,
    mantissa 1, class "normal", value 1.125, exact "1.125", formula
    ``("(−1)^s × 2^(e − 7) × 1.m₂", "= (−1)^0 × 2^(7 − 7) × 1.001₂", "= +1 × 2⁰ × 1.125",
    "= 1.125")``, next_down 0x38 (1.0), next_up 0x3A (1.25), gap 0.125."""

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
    formula: tuple[str, ...]  # the text of each step
    steps: tuple[Step, ...]
    next_up: Neighbour | None  # the next larger representable value (None past the top, NaN)
    next_down: Neighbour | None  # the next smaller one
    gap: float | None  # distance to the next larger distinct value (one ULP above this one)


def _check_code(info: FormatInfo, code: int) -> None:
    if isinstance(code, bool) or not isinstance(code, int | np.integer):
        raise InvalidInput("code", f"must be an integer code, got {code!r}")
    if not info.min_code <= int(code) <= info.max_code:
        raise InvalidInput(
            "code",
            f"{code} is outside {info.name}'s codes: use an integer in "
            f"{info.min_code}..{info.max_code} ({info.bits} bits)",
        )


def class_of(info: FormatInfo, exponent: int, value: float) -> int:
    """The class index (`CLASS_NAMES`) of a value whose raw exponent field is `exponent`."""
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
    value = rounder(info.name).value(code)
    sign = (code >> (info.bits - 1)) & 1 if fields.sign_bits else None
    exponent = (code >> info.mantissa_bits) & ((1 << info.exponent_bits) - 1)
    mantissa = code & ((1 << info.mantissa_bits) - 1)
    cls = class_of(info, exponent, value)
    finite = cls in (NORMAL, SUBNORMAL)
    lead = 1 if cls == NORMAL else 0
    mbits = format(mantissa, f"0{info.mantissa_bits}b") if info.mantissa_bits else ""
    steps = formula_steps(info, sign, exponent, mantissa, value, cls)
    up = _neighbour(info.name, step_code(info.name, code, True))
    return Decoded(
        name=info.name,
        code=code,
        hex=hex_code(code, info.bits),
        bits=format(code, f"0{info.bits}b"),
        sign=sign,
        exponent=exponent,
        mantissa=mantissa,
        cls=CLASS_NAMES[cls],
        value=value,
        exact=exact_decimal(value),
        # a subnormal uses the smallest normal exponent 1 - bias with a leading 0
        exponent_unbiased=(exponent if cls == NORMAL else 1) - info.bias if finite else None,
        significand=(
            fraction_decimal(Fraction(lead) + Fraction(mantissa, 1 << info.mantissa_bits))
            if finite
            else None
        ),
        significand_bits=(f"{lead}.{mbits}" if mbits else f"{lead}") if finite else None,
        is_subnormal=cls == SUBNORMAL,
        formula=tuple(s.text for s in steps),
        steps=steps,
        next_up=up,
        next_down=_neighbour(info.name, step_code(info.name, code, False)),
        gap=_gap(info.name, value, up),
    )
